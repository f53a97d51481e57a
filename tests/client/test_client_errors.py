"""Every documented Wix error becomes the matching exception with an actionable message."""

from __future__ import annotations

import pickle

import pytest

from airflow_provider_wix.client import errors as E
from tests.client.wix_client_support import CONNECTION_ID, PROVIDER_ID, SCHEDULE_ID, Reply, example

BASE = "/bookings/v2/external-calendars"


def app_error(code: str, description: str = "") -> dict:
    return {
        "message": description,
        "details": {"applicationError": {"code": code, "description": description}},
    }


CALLS = {
    "connect_by_oauth": (
        "POST",
        f"{BASE}/connections:connectByOAuth",
        (PROVIDER_ID, SCHEDULE_ID, "https://airflow.example/wix/oauth/callback/abc"),
    ),
    "connect_by_credentials": (
        "POST",
        f"{BASE}/connections:connectByCredentials",
        (PROVIDER_ID, SCHEDULE_ID, "jane.doe@example.com", "pw-123456"),
    ),
    "list_calendars": ("GET", f"{BASE}/connections/{CONNECTION_ID}/calendars", (CONNECTION_ID,)),
    "update_sync_config": (
        "PATCH",
        f"{BASE}/connections/{CONNECTION_ID}/sync-config",
        (CONNECTION_ID, {"listEventFromCalendars": {"enabled": True, "primaryCalendar": {}}}),
    ),
    "disconnect": ("POST", f"{BASE}/connections/{CONNECTION_ID}/disconnect", (CONNECTION_ID,)),
    "get_connection": ("GET", f"{BASE}/connections/{CONNECTION_ID}", (CONNECTION_ID,)),
    "list_providers": ("GET", f"{BASE}/providers", ()),
}

# The application error codes of section 3 of the API notes, per method.
DOCUMENTED = [
    ("connect_by_oauth", 428, "NOT_SUPPORTED_BY_PROVIDER", E.WixNotSupportedByProviderError),
    ("connect_by_credentials", 401, "BAD_CREDENTIALS", E.WixBadCredentialsError),
    ("connect_by_credentials", 403, "PREMIUM_FEATURE_NOT_ENABLED", E.WixPremiumFeatureNotEnabledError),
    ("connect_by_credentials", 428, "NOT_SUPPORTED_BY_PROVIDER", E.WixNotSupportedByProviderError),
    ("list_calendars", 403, "PREMIUM_FEATURE_NOT_ENABLED", E.WixPremiumFeatureNotEnabledError),
    ("list_calendars", 428, "CONNECTION_NOT_CONNECTED", E.WixConnectionNotConnectedError),
    ("list_calendars", 428, "NOT_SUPPORTED_BY_PROVIDER", E.WixNotSupportedByProviderError),
    ("update_sync_config", 428, "NOT_SUPPORTED_BY_PROVIDER", E.WixNotSupportedByProviderError),
    ("disconnect", 428, "CONNECTION_ALREADY_DISCONNECTED", E.WixConnectionAlreadyDisconnectedError),
]


@pytest.mark.parametrize(("method", "status", "code", "exc_type"), DOCUMENTED)
def test_documented_application_errors(scripted, client, method, status, code, exc_type):
    verb, path, args = CALLS[method]
    scripted.on(
        verb,
        path,
        Reply(status, app_error(code, "Invented description"), headers={"x-wix-request-id": "req-1"}),
    )

    with pytest.raises(exc_type) as info:
        getattr(client, method)(*args)

    err = info.value
    assert (err.status, err.code, err.description, err.request_id, err.method) == (
        status,
        code,
        "Invented description",
        "req-1",
        method,
    )
    message = str(err)
    assert f"Wix {method} failed" in message
    assert code in message
    assert "req-1" in message
    assert exc_type.default_hint in message
    assert len(scripted.requests) == 1  # not retried, and a BAD_CREDENTIALS 401 does not trigger a refresh


def test_class_hierarchy():
    assert issubclass(E.WixPremiumFeatureNotEnabledError, E.WixPermissionError)
    for cls in (
        E.WixNotSupportedByProviderError,
        E.WixConnectionNotConnectedError,
        E.WixConnectionAlreadyDisconnectedError,
    ):
        assert issubclass(cls, E.WixPreconditionError)
    assert issubclass(E.WixInvalidRequestError, ValueError)
    assert issubclass(E.WixInvalidRequestError, E.WixError)
    assert issubclass(E.WixApiError, E.WixError)


def test_example_error_bodies(scripted, client):
    scripted.on(
        "POST",
        f"{BASE}/connections:connectByCredentials",
        Reply(401, example("error.connect-by-credentials-bad-credentials.response")),
    )
    scripted.on(
        "POST",
        f"{BASE}/connections/{CONNECTION_ID}/disconnect",
        Reply(428, example("error.disconnect-already-disconnected.response")),
    )
    with pytest.raises(E.WixBadCredentialsError, match="app-specific password"):
        client.connect_by_credentials(*CALLS["connect_by_credentials"][2])
    with pytest.raises(E.WixConnectionAlreadyDisconnectedError, match="already disconnected"):
        client.disconnect(CONNECTION_ID)


def test_validation_error_lists_field_violations(scripted, client):
    scripted.on("GET", f"{BASE}/providers", Reply(400, example("error.validation.response")))

    with pytest.raises(E.WixValidationError) as info:
        client.list_providers()

    err = info.value
    assert err.code == "INVALID_ARGUMENT"
    assert err.field_violations == example("error.validation.response")["details"]["validationError"]["fieldViolations"]
    assert "scheduleId: must be a valid GUID (FORMAT)" in str(err)


@pytest.mark.parametrize(
    ("status", "code", "exc_type"),
    [
        (401, "UNAUTHENTICATED", E.WixAuthenticationError),
        (403, "PERMISSION_DENIED", E.WixPermissionError),
        (404, "NOT_FOUND", E.WixNotFoundError),
        (409, "ALREADY_EXISTS", E.WixConflictError),
        (428, "FAILED_PRECONDITION", E.WixPreconditionError),
        (501, "UNIMPLEMENTED", E.WixServerError),
        (418, "HTTP_418", E.WixApiError),
    ],
)
def test_standard_errors_without_details_get_a_code_from_the_status(scripted, client, status, code, exc_type):
    scripted.on("GET", f"{BASE}/connections/{CONNECTION_ID}", Reply(status, {"message": "", "details": {}}))

    with pytest.raises(exc_type) as info:
        client.get_connection(CONNECTION_ID)

    assert type(info.value) is exc_type
    assert info.value.code == code
    assert info.value.status == status
    assert len(scripted.requests) == 1


def test_non_json_error_body(scripted, client):
    scripted.on(
        "GET",
        f"{BASE}/providers",
        Reply(404, body=b"<html>not here</html>", headers={"Content-Type": "text/html"}),
    )
    with pytest.raises(E.WixNotFoundError, match="NOT_FOUND"):
        client.list_providers()


def test_system_error_after_retries(scripted, client):
    scripted.on("GET", f"{BASE}/providers", default=Reply(500, example("error.system.response")))
    with pytest.raises(E.WixServerError) as info:
        client.list_providers()
    assert info.value.code == "INTERNAL"
    assert info.value.attempts == 4
    assert "Gave up after 4 attempts" in str(info.value)


def test_redirect_is_reported_with_the_base_url_hint(scripted, client):
    scripted.on("GET", f"{BASE}/providers", Reply(301, headers={"Location": "https://elsewhere.example/"}))
    with pytest.raises(E.WixApiError, match="Check the API base URL"):
        client.list_providers()


def test_errors_survive_pickling(scripted, client):
    scripted.on(
        "GET",
        f"{BASE}/connections/{CONNECTION_ID}/calendars",
        Reply(428, app_error("CONNECTION_NOT_CONNECTED")),
    )
    with pytest.raises(E.WixConnectionNotConnectedError) as info:
        client.list_calendars(CONNECTION_ID)
    copy = pickle.loads(pickle.dumps(info.value))
    assert type(copy) is E.WixConnectionNotConnectedError
    assert (copy.status, copy.code, copy.method, str(copy)) == (
        428,
        "CONNECTION_NOT_CONNECTED",
        "list_calendars",
        str(info.value),
    )
