"""Plain Python clients for Wix Bookings External Calendars v2 and Staff Members (no Airflow import here).

>>> from airflow_provider_wix.client import ApiKeyAuth, ExternalCalendarsClient
>>> with ExternalCalendarsClient(ApiKeyAuth("<key>", site_id="<site id>")) as wix:  # doctest: +SKIP
...     providers = wix.list_providers()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_wix.client._http import (
        DEFAULT_BASE_URL,
        DEFAULT_TIMEOUT,
    )
    from airflow_provider_wix.client.auth import (
        ApiKeyAuth,
        Auth,
        OAuthAppAuth,
        TokenStore,
    )
    from airflow_provider_wix.client.errors import (
        WixApiError,
        WixAuthenticationError,
        WixBadCredentialsError,
        WixConflictError,
        WixConnectionAlreadyDisconnectedError,
        WixConnectionNotConnectedError,
        WixError,
        WixInvalidRequestError,
        WixNotFoundError,
        WixNotSupportedByProviderError,
        WixPermissionError,
        WixPreconditionError,
        WixPremiumFeatureNotEnabledError,
        WixRateLimitError,
        WixServerError,
        WixTransportError,
        WixValidationError,
    )
    from airflow_provider_wix.client.external_calendars import ExternalCalendarsClient
    from airflow_provider_wix.client.models import (
        BUSINESS_SCHEDULE_ID,
        HIDDEN_EMAIL_REASON,
        Calendar,
        CalendarConnection,
        CalendarType,
        ConnectionStatus,
        ConnectMethod,
        ErrorReason,
        Event,
        EventPage,
        Fieldset,
        ListEventFromCalendars,
        OAuthCallbackError,
        PagingMetadata,
        Provider,
        ProviderFeatures,
        StaffMember,
        StaffMemberSettings,
        SyncConfig,
        SyncToCalendar,
        build_sync_config,
        ensure_sync_supported,
        find_provider,
        find_staff_member,
        find_staff_members,
        unsupported_sync_reason,
    )
    from airflow_provider_wix.client.queries import EventQuery
    from airflow_provider_wix.client.retry import RetryPolicy
    from airflow_provider_wix.client.staff_members import StaffMembersClient

# Every name loads its module on first use, the cheap modules searched first: an operator's constructor
# that validates one argument, or a DAG file that names a type, must not pay for the models, auth and retry
# modules, let alone requests and tenacity (which only ``_http`` and the clients import).
_MODULES = ("errors", "models", "auth", "retry", "queries", "_http", "external_calendars", "staff_members")


def __getattr__(name: str) -> Any:
    if name in __all__:
        import importlib

        for module in _MODULES:
            found = getattr(importlib.import_module(f"{__name__}.{module}"), name, _MISSING)
            if found is not _MISSING:
                globals()[name] = found
                return found
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_MISSING = object()

__all__ = [
    "BUSINESS_SCHEDULE_ID",
    "DEFAULT_BASE_URL",
    "DEFAULT_TIMEOUT",
    "HIDDEN_EMAIL_REASON",
    "ApiKeyAuth",
    "Auth",
    "Calendar",
    "CalendarConnection",
    "CalendarType",
    "ConnectMethod",
    "ConnectionStatus",
    "ErrorReason",
    "Event",
    "EventPage",
    "EventQuery",
    "ExternalCalendarsClient",
    "Fieldset",
    "ListEventFromCalendars",
    "OAuthAppAuth",
    "OAuthCallbackError",
    "PagingMetadata",
    "Provider",
    "ProviderFeatures",
    "RetryPolicy",
    "StaffMember",
    "StaffMemberSettings",
    "StaffMembersClient",
    "SyncConfig",
    "SyncToCalendar",
    "TokenStore",
    "WixApiError",
    "WixAuthenticationError",
    "WixBadCredentialsError",
    "WixConflictError",
    "WixConnectionAlreadyDisconnectedError",
    "WixConnectionNotConnectedError",
    "WixError",
    "WixInvalidRequestError",
    "WixNotFoundError",
    "WixNotSupportedByProviderError",
    "WixPermissionError",
    "WixPreconditionError",
    "WixPremiumFeatureNotEnabledError",
    "WixRateLimitError",
    "WixServerError",
    "WixTransportError",
    "WixValidationError",
    "build_sync_config",
    "ensure_sync_supported",
    "find_provider",
    "find_staff_member",
    "find_staff_members",
    "unsupported_sync_reason",
]
