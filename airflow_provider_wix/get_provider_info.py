"""Provider metadata that Airflow reads through the ``apache_airflow_provider`` entry point.

Kept free of imports (beyond the package version) because Airflow loads it in every process,
including the API server, to build the connection form without importing the hook.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_wix import __version__

INTEGRATION_NAME = "Wix Bookings External Calendars"


def _nullable_string(label: str, description: str, **schema: Any) -> dict[str, Any]:
    return {"label": label, "description": description, "schema": {"type": ["string", "null"], **schema}}


def get_provider_info() -> dict[str, Any]:
    """Return the provider description validated by Airflow's ``provider_info.schema.json``."""
    return {
        "package-name": "airflow-provider-wix",
        "name": "Wix",
        "description": (
            "Wix Bookings External Calendars v2: connect staff members' Google, Microsoft and Apple "
            "calendars to Wix schedules by OAuth, configure syncing and export the imported events."
        ),
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": INTEGRATION_NAME,
                "external-doc-url": (
                    "https://dev.wix.com/docs/api-reference/business-solutions/bookings/calendar/"
                    "external-calendar-v2/introduction"
                ),
                "tags": ["service"],
            }
        ],
        "hooks": [{"integration-name": INTEGRATION_NAME, "python-modules": ["airflow_provider_wix.hooks.wix"]}],
        "operators": [
            {
                "integration-name": INTEGRATION_NAME,
                "python-modules": [
                    "airflow_provider_wix.operators.external_calendars",
                    "airflow_provider_wix.operators.staff_members",
                ],
            }
        ],
        "sensors": [
            {
                "integration-name": INTEGRATION_NAME,
                "python-modules": ["airflow_provider_wix.sensors.external_calendars"],
            }
        ],
        "triggers": [
            {
                "integration-name": INTEGRATION_NAME,
                "python-modules": ["airflow_provider_wix.triggers.external_calendars"],
            }
        ],
        "extra-links": ["airflow_provider_wix.links.external_calendars.WixAuthorizeCalendarLink"],
        "plugins": [
            {
                "name": "wix_oauth_callback",
                "plugin-class": "airflow_provider_wix.plugins.callback.WixOAuthCallbackPlugin",
            },
            {
                "name": "wix_calendars_dashboard",
                "plugin-class": "airflow_provider_wix.plugins.dashboard.WixDashboardPlugin",
            },
        ],
        "config": {
            "wix": {
                "description": (
                    "Defaults of the Wix provider's sensors (a poke_interval argument overrides them) and the "
                    "settings of its dashboard."
                ),
                "options": {
                    "oauth_callback_poll_interval": {
                        "description": (
                            "Seconds between the OAuth callback sensor's safety polls. The callback wakes the "
                            "deferred sensor at once, so keep this long: 1,000 waiting sensors polling every "
                            "600 s cost the triggerer about 5 % of a core (measured: 23-30 ms per poll)."
                        ),
                        "version_added": "0.1.0",
                        "type": "float",
                        "example": "600",
                        "default": "600",
                    },
                    "oauth_batch_check_interval": {
                        "description": (
                            "Seconds between the batch OAuth callback sensor's reads of its batch's answer list "
                            "(one Variable read per batch, whatever its number of owners)."
                        ),
                        "version_added": "0.1.0",
                        "type": "float",
                        "example": "10",
                        "default": "10",
                    },
                    "sync_status_poll_interval": {
                        "description": "Seconds between Get Connection polls while waiting for SYNCED.",
                        "version_added": "0.1.0",
                        "type": "float",
                        "example": "10",
                        "default": "10",
                    },
                    "dashboard_wix_conn_id": {
                        "description": "The Wix connection the Wix calendars dashboard lists connections with.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "wix_default",
                        "default": "wix_default",
                    },
                    "dashboard_onboarding_dag_id": {
                        "description": (
                            "The DAG the dashboard's Re-onboard button triggers; connections onboarded outside "
                            "Airflow are shown to the users who may read it."
                        ),
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "wix_calendar_onboarding",
                        "default": "wix_calendar_onboarding",
                    },
                },
            }
        },
        "connection-types": [
            {
                "connection-type": "wix",
                "hook-class-name": "airflow_provider_wix.hooks.wix.WixHook",
                "hook-name": "Wix",
                "ui-field-behaviour": {
                    "hidden-fields": ["port", "login", "schema"],
                    "relabeling": {"password": "API key", "host": "API base URL"},
                    "placeholders": {
                        "host": "https://www.wixapis.com",
                        "password": "Wix API key (auth type api_key)",
                    },
                },
                "conn-fields": {
                    "auth_type": {
                        "label": "Auth type",
                        "description": (
                            "api_key: the API key in the password field plus a site id; "
                            "oauth_app: a Wix app's client id, client secret and instance id."
                        ),
                        "schema": {"type": ["string", "null"], "enum": ["api_key", "oauth_app", None]},
                    },
                    "site_id": _nullable_string(
                        "Site ID", "Sent as wix-site-id with an API key (External Calendars is site-level)."
                    ),
                    "account_id": _nullable_string(
                        "Account ID", "Sent as wix-account-id with an API key instead of a site id."
                    ),
                    "client_id": _nullable_string("App client ID", "The Wix app ID (auth type oauth_app)."),
                    "client_secret": _nullable_string(
                        "App client secret", "The Wix app secret (auth type oauth_app).", format="password"
                    ),
                    "instance_id": _nullable_string(
                        "App instance ID", "The app instance installed on the site (auth type oauth_app)."
                    ),
                    "callback_base_url": _nullable_string(
                        "Callback base URL",
                        "Public base URL of the Airflow API server for the OAuth redirect; "
                        "defaults to base_url in the api section of the Airflow configuration.",
                        format="url",
                    ),
                },
            }
        ],
    }
