"""The "Wix calendars" dashboard: every schedule's onboarding in one table inside the Airflow UI.

``rows`` turns flow records and Wix connections into table rows (plain Python, no Airflow import),
``sources`` reads them on the API server, ``render`` draws the page; the routes live in
:mod:`airflow_provider_wix.plugins.dashboard`.
"""

from __future__ import annotations

#: Where the Airflow UI shows the dashboard (the plugin's ``external_views`` ``url_route``).
UI_ROUTE = "wix-calendars"


def dashboard_url() -> str:
    """The dashboard's address in the Airflow UI, absolute when ``[api] base_url`` is set."""
    from airflow_provider_wix.version_compat import conf

    base = (conf.get("api", "base_url", fallback="") or "").rstrip("/")
    return f"{base}/plugin/{UI_ROUTE}"
