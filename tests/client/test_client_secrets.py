"""No secret (API key, client secret, access token, external password) reaches a log line or an error.

The scenarios are failures on purpose, including a server that echoes the secrets back, with every
logger at DEBUG (urllib3 included), and everything checked: log records, stdout/stderr, ``str``/``repr``
of errors, their attributes and the full formatted traceback chain.
"""

from __future__ import annotations

import logging
import traceback

import pytest

from airflow_provider_wix.client import ApiKeyAuth, OAuthAppAuth, WixApiError, WixError
from tests.client.wix_client_support import (
    ACCESS_TOKEN,
    API_KEY,
    CLIENT_ID,
    CLIENT_SECRET,
    CREDENTIALS_PASSWORD,
    INSTANCE_ID,
    PROVIDER_ID,
    SCHEDULE_ID,
    SECRETS,
    SITE_ID,
    Reply,
    token_payload,
)

BASE = "/bookings/v2/external-calendars"
PROVIDERS = f"{BASE}/providers"
TOKEN = "/oauth2/token"
CREDENTIALS = f"{BASE}/connections:connectByCredentials"


def echo(*values: str, status: int = 400, code: str | None = None) -> Reply:
    """A hostile error body that repeats secrets in every text field Wix has."""
    text = "rejected " + " / ".join(values)
    details: dict = {"validationError": {"fieldViolations": [{"field": "password", "description": text}]}}
    if code:
        details = {"applicationError": {"code": code, "description": text, "data": {"echo": list(values)}}}
    return Reply(status, {"message": text, "details": details})


def everything_about(exc: BaseException) -> str:
    parts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    if isinstance(exc, WixApiError):
        parts += [exc.description, repr(exc.field_violations), repr(exc.data), str(exc.code)]
    return "\n".join(parts)


def run_api_key_failures(scripted, make_client) -> list[BaseException]:
    client = make_client(ApiKeyAuth(API_KEY, site_id=SITE_ID))
    scripted.on(
        "GET", PROVIDERS, echo(API_KEY, status=401), echo(API_KEY, status=500), default=echo(API_KEY, status=503)
    )
    scripted.on(
        "POST",
        CREDENTIALS,
        echo(CREDENTIALS_PASSWORD),
        echo(CREDENTIALS_PASSWORD, status=401, code="BAD_CREDENTIALS"),
        Reply(drop=True),
    )
    errors: list[BaseException] = []
    for call in (
        client.list_providers,
        client.list_providers,
        lambda: client.connect_by_credentials(PROVIDER_ID, SCHEDULE_ID, "jane@example.com", CREDENTIALS_PASSWORD),
        lambda: client.connect_by_credentials(PROVIDER_ID, SCHEDULE_ID, "jane@example.com", CREDENTIALS_PASSWORD),
        lambda: client.connect_by_credentials(PROVIDER_ID, SCHEDULE_ID, "jane@example.com", CREDENTIALS_PASSWORD),
        lambda: client.connect_by_credentials(PROVIDER_ID, SCHEDULE_ID, "not-an-email", CREDENTIALS_PASSWORD),
    ):
        with pytest.raises(WixError) as info:
            call()
        errors.append(info.value)
    return errors


def run_oauth_failures(scripted, make_client) -> list[BaseException]:
    errors: list[BaseException] = []
    scripted.on("POST", TOKEN, echo(CLIENT_SECRET, status=401))
    with pytest.raises(WixError) as info:
        make_client(OAuthAppAuth(CLIENT_ID, CLIENT_SECRET, INSTANCE_ID)).list_providers()
    errors.append(info.value)

    scripted.on("POST", TOKEN, default=Reply(200, token_payload(ACCESS_TOKEN)))
    scripted.on("GET", PROVIDERS, default=echo(ACCESS_TOKEN, CLIENT_SECRET, status=401))
    with pytest.raises(WixError) as info:
        make_client(OAuthAppAuth(CLIENT_ID, CLIENT_SECRET, INSTANCE_ID)).list_providers()
    errors.append(info.value)
    return errors


@pytest.mark.parametrize("scenario", [run_api_key_failures, run_oauth_failures])
def test_no_secret_in_logs_or_errors(scripted, make_client, caplog, capsys, scenario):
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("urllib3").setLevel(logging.DEBUG)
        errors = scenario(scripted, make_client)

    assert caplog.records, "the failures should have been logged"
    captured = capsys.readouterr()
    haystacks = {
        "log": "\n".join(f"{r.name} {r.getMessage()} {r.args}" for r in caplog.records),
        "stdout": captured.out,
        "stderr": captured.err,
        **{f"error {i}": everything_about(e) for i, e in enumerate(errors)},
    }
    for where, text in haystacks.items():
        for secret in SECRETS:
            assert secret not in text, f"a secret leaked into {where}"
    # The server really did echo them: the redaction, not luck, kept them out.
    assert any("***" in everything_about(e) for e in errors)


def test_reprs_hide_secrets(make_client):
    api = ApiKeyAuth(API_KEY, site_id=SITE_ID)
    app = OAuthAppAuth(CLIENT_ID, CLIENT_SECRET, INSTANCE_ID)
    for text in (repr(api), repr(app), repr(make_client(api)), repr(make_client(app))):
        for secret in SECRETS:
            assert secret not in text
