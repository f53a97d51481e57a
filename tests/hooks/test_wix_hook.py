"""WixHook: Airflow connection -> client, every hook method over HTTP, test_connection, masking."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from airflow.sdk import BaseHook, Connection
from airflow.sdk.log import redact

from airflow_provider_wix.client import (
    ApiKeyAuth,
    ExternalCalendarsClient,
    OAuthAppAuth,
    RetryPolicy,
    WixConnectionNotConnectedError,
    WixInvalidRequestError,
    build_sync_config,
    find_provider,
)
from airflow_provider_wix.hooks.wix import WixHook
from tests.conftest import wix_connection_json

pytest.importorskip("airflow_provider_wix.emulator.pytest_plugin")

FROM, TO = "2026-10-05T00:00:00Z", "2026-10-19T00:00:00Z"
REDIRECT = "https://airflow.example.com/wix/oauth/callback/state-1"


def set_conn(monkeypatch, conn_id: str = "wix_default", **fields) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "wix", **fields}))


def app_conn(emulator, **extra) -> dict:
    cfg = emulator.config
    return {
        "host": emulator.url,
        "extra": {
            "auth_type": "oauth_app",
            "client_id": cfg.client_id,
            "client_secret": cfg.client_secret,
            "instance_id": cfg.instance_id,
            **extra,
        },
    }


def test_hook_attributes():
    assert WixHook.conn_name_attr == "wix_conn_id"
    assert WixHook.default_conn_name == "wix_default"
    assert WixHook.conn_type == "wix"
    assert WixHook.hook_name == "Wix"
    assert WixHook().wix_conn_id == "wix_default"


def test_connection_from_env_json(wix_conn):
    hook = WixHook()
    client = hook.get_conn()
    assert isinstance(client, ExternalCalendarsClient)
    assert client is hook.get_conn() is hook.client  # built once: one session, one token cache
    assert client.base_url == wix_conn.url
    assert isinstance(client.auth, ApiKeyAuth)
    assert client.auth.site_id == wix_conn.config.site_id
    assert [p["calendarType"] for p in hook.list_providers()] == ["GOOGLE", "I_CAL", "MICROSOFT"]


def test_every_method_against_the_emulator(wix_conn, tmp_path):
    hook = WixHook(retry=RetryPolicy(max_attempts=2))
    state, cfg = wix_conn.state, wix_conn.config
    schedules = [s.id for s in state.staff_schedules()]
    providers = hook.list_providers()
    google, apple, microsoft = (find_provider(providers, k) for k in ("google", "apple", "microsoft"))

    oauth_url = hook.connect_by_oauth(microsoft["id"], schedules[0], REDIRECT)
    decision = requests.post(oauth_url, data={"decision": "allow"}, allow_redirects=False, timeout=10)
    (connection_id,) = parse_qs(urlsplit(decision.headers["Location"]).query)["connectionId"]

    connection = hook.get_calendar_connection(connection_id)
    assert connection["id"] == connection_id
    assert connection["providerId"] == microsoft["id"]
    calendars = hook.list_calendars(connection_id)
    updated = hook.update_sync_config(connection_id, build_sync_config([calendars[0]["id"]], "dedicated"))
    assert updated["syncConfig"]["listEventFromCalendars"]["calendars"]["calendars"] == [{"id": calendars[0]["id"]}]

    apple_connection = hook.connect_by_credentials(
        apple["id"], schedules[1], cfg.credentials_email, cfg.credentials_password
    )
    assert apple_connection["status"] == "CONNECTED"
    assert {c["id"] for c in hook.list_connections()} == {connection_id, apple_connection["id"]}
    assert [c["id"] for c in hook.list_connections(schedule_ids=[schedules[1]], partial_failure=True)] == [
        apple_connection["id"]
    ]

    state.complete_sync(connection_id)
    events = hook.list_events(FROM, TO, schedule_ids=[schedules[0]], page_size=5)
    lazily = hook.iter_events(FROM, TO, schedule_ids=[schedules[0]], page_size=5)
    assert not isinstance(lazily, list)
    assert list(lazily) == events
    assert sum(len(p["events"]) for p in hook.iter_event_pages(FROM, TO, [schedules[0]], page_size=5)) == len(events)
    # The fast path for an export of one's own (ListEventsOperator's): JSON Lines, page by page.
    assert len(events) > 5  # several pages
    target = tmp_path / "events.jsonl"
    assert hook.export_events(str(target), FROM, TO, schedule_ids=[schedules[0]], page_size=5) == len(events)
    assert [json.loads(line) for line in target.read_text().splitlines()] == events

    assert hook.disconnect(connection_id)["status"] == "DISCONNECTED"
    with pytest.raises(WixConnectionNotConnectedError):
        hook.list_calendars(connection_id)
    assert google["features"]["updateSyncConfig"] is False


def test_prefixed_extras_and_other_conn_id(wix_emulator, monkeypatch):
    cfg = wix_emulator.config
    set_conn(
        monkeypatch,
        "my_wix",
        host=wix_emulator.url,
        password=cfg.api_key,
        extra={"extra__wix__auth_type": "api_key", "extra__wix__site_id": cfg.site_id},
    )
    hook = WixHook("my_wix")
    assert hook.client.auth.site_id == cfg.site_id
    assert len(hook.list_providers()) == 3


def test_uri_connection_with_bare_host(wix_emulator, monkeypatch):
    cfg = wix_emulator.config
    host, port = urlsplit(wix_emulator.url).hostname, urlsplit(wix_emulator.url).port
    monkeypatch.setenv("AIRFLOW_CONN_WIX_DEFAULT", f"wix://:{cfg.api_key}@{host}:{port}/http?site_id={cfg.site_id}")
    hook = WixHook()
    assert hook.client.base_url == wix_emulator.url
    assert len(hook.list_providers()) == 3


def test_empty_host_means_wix(monkeypatch):
    set_conn(monkeypatch, password="k", extra={"site_id": "s"})
    assert WixHook().client.base_url == "https://www.wixapis.com"


def test_oauth_app_connection_masks_minted_tokens(wix_emulator, monkeypatch):
    set_conn(monkeypatch, **app_conn(wix_emulator))
    hook = WixHook()
    assert isinstance(hook.client.auth, OAuthAppAuth)
    for _ in range(3):
        hook.list_providers()
    assert len(wix_emulator.state.issued_tokens()) == 1

    (token,) = hook.client.auth.secrets()[1:]
    assert redact(f"token is {token}") == "token is ***"
    assert redact(f"secret is {wix_emulator.config.client_secret}") == "secret is ***"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"extra": {"site_id": "s"}}, "password field must hold the Wix API key"),
        ({"password": "k", "extra": {}}, "exactly one of site_id"),
        ({"password": "k", "extra": {"site_id": "s", "account_id": "a"}}, "not both"),
        ({"extra": {"auth_type": "oauth_app", "client_id": "c", "instance_id": "i"}}, "client_secret"),
        ({"password": "k", "extra": {"auth_type": "jwt"}}, "auth_type must be one of api_key, oauth_app"),
    ],
)
def test_incomplete_connections_fail_clearly(monkeypatch, fields, message):
    set_conn(monkeypatch, **fields)
    with pytest.raises(WixInvalidRequestError, match=message) as info:
        WixHook().get_conn()
    assert "'wix_default'" in str(info.value)
    ok, reason = WixHook().test_connection()
    assert not ok
    assert message.split(" (")[0].split(",")[0] in reason


def test_test_connection_success(wix_conn):
    ok, message = WixHook().test_connection()
    assert ok
    assert message == (
        f"Connected to Wix at {wix_conn.url}: 3 calendar providers available "
        "(Google Calendar, Apple Calendar, Outlook or Office 365)"
    )
    assert [e["route"] for e in wix_conn.state.request_log()] == ["list_providers"]


def test_test_connection_wrong_key(wix_emulator, monkeypatch):
    secret = "wrong-key-that-must-not-be-echoed"
    set_conn(monkeypatch, host=wix_emulator.url, password=secret, extra={"site_id": wix_emulator.config.site_id})
    ok, message = WixHook().test_connection()
    assert not ok
    assert "HTTP 401 UNAUTHENTICATED" in message
    assert "API key" in message
    assert secret not in message


def test_test_connection_wrong_app_secret(wix_emulator, monkeypatch):
    conn = app_conn(wix_emulator)
    conn["extra"]["client_secret"] = "wrong-app-secret-value"
    set_conn(monkeypatch, **conn)
    ok, message = WixHook().test_connection()
    assert not ok
    assert "create_access_token" in message
    assert "wrong-app-secret-value" not in message


def test_test_connection_unreachable_is_quick(monkeypatch):
    import socket
    import time

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    set_conn(monkeypatch, host=f"http://127.0.0.1:{port}", password="k", extra={"site_id": "s"})
    started = time.monotonic()
    ok, message = WixHook().test_connection()
    assert not ok
    assert "got no usable response" in message
    assert time.monotonic() - started < 5


def test_test_connection_missing_connection(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_WIX_MISSING", raising=False)
    ok, message = WixHook("wix_missing").test_connection()
    assert not ok
    assert "wix_missing" in message


def test_callback_base_url(monkeypatch):
    set_conn(monkeypatch, password="k", extra={"site_id": "s", "callback_base_url": "https://airflow.example.com/"})
    assert WixHook().callback_base_url == "https://airflow.example.com"

    set_conn(monkeypatch, password="k", extra={"site_id": "s"})
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "http://airflow.internal:8080")
    assert WixHook().callback_base_url == "http://airflow.internal:8080"

    # Set but malformed: refused, never replaced by [api] base_url (tests/reliability has the cases).
    set_conn(monkeypatch, password="k", extra={"site_id": "s", "extra__wix__callback_base_url": "not a url"})
    with pytest.raises(WixInvalidRequestError, match="'not a url'"):
        _ = WixHook().callback_base_url


def test_client_from_connection_objects():
    conn = Connection(
        conn_id="x",
        conn_type="wix",
        host="https://wix.example.test",
        password="k",
        extra=json.dumps({"site_id": "s"}),
    )
    client = WixHook.client_from_connection(conn, timeout=(1, 2), retry=RetryPolicy.disabled())
    assert (client.base_url, client.timeout, client.retry.max_attempts) == ("https://wix.example.test", (1, 2), 1)


def test_client_from_async_connection_lookup(wix_conn):
    """The trigger path: ``await BaseHook.aget_connection`` then a client, no hook instance needed."""

    async def in_trigger() -> int:
        conn = await BaseHook.aget_connection("wix_default")
        with WixHook.client_from_connection(conn) as client:
            return len(await asyncio.to_thread(client.list_providers))

    assert asyncio.run(in_trigger()) == 3


def test_hook_close_releases_the_client(wix_conn):
    hook = WixHook()
    first = hook.client
    hook.close()
    assert hook.client is not first
    hook.close()
    hook.close()  # idempotent


def test_wix_connection_json_helper_matches_hook(wix_emulator, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_WIX_DEFAULT", wix_connection_json(wix_emulator))
    assert WixHook().test_connection()[0]


def test_shared_clients_serve_many_triggers_with_one_session_and_one_token(wix_emulator, monkeypatch):
    set_conn(monkeypatch, **app_conn(wix_emulator))

    async def trigger_poll() -> int:
        conn = await BaseHook.aget_connection("wix_default")
        client = WixHook.client_from_connection(conn, shared=True)
        return len(await asyncio.to_thread(client.list_providers))

    async def many() -> list[int]:
        return await asyncio.gather(*(trigger_poll() for _ in range(20)))

    assert asyncio.run(many()) == [3] * 20
    assert len(wix_emulator.state.issued_tokens()) == 1

    conn = BaseHook.get_connection("wix_default")
    shared = WixHook.client_from_connection(conn, shared=True)
    assert WixHook.client_from_connection(conn, shared=True) is shared
    assert WixHook.client_from_connection(conn) is not shared
    assert WixHook.client_from_connection(conn, shared=True, retry=RetryPolicy.disabled()) is not shared
    shared.close()  # a caller closing it does not break the others
    assert len(WixHook.client_from_connection(conn, shared=True).list_providers()) == 3

    set_conn(monkeypatch, **app_conn(wix_emulator, instance_id="11111111-2222-4333-8444-555555555555"))
    other = WixHook.client_from_connection(BaseHook.get_connection("wix_default"), shared=True)
    assert other is not shared


def test_no_secret_in_hook_logs_or_results(wix_emulator, monkeypatch, caplog, capsys):
    import logging

    cfg = wix_emulator.config
    set_conn(monkeypatch, **app_conn(wix_emulator))
    admin = requests.post(f"{wix_emulator.url}/_emulator/faults", json={"specs": ["list_providers=503,ok"]}, timeout=10)
    assert admin.status_code == 200
    with caplog.at_level(logging.DEBUG):
        hook = WixHook(retry=RetryPolicy(max_attempts=3, base_wait=0.01, max_wait=0.02))
        hook.list_providers()  # 503 -> retry -> ok
        wix_emulator.state.advance_time(5 * 3600)
        hook.list_providers()  # 401 (expired at Wix) -> new token -> ok
        assert len(wix_emulator.state.issued_tokens()) == 2
        held = hook.client.auth.secrets()  # the client secret and both minted tokens
        ok, message = hook.test_connection()
        set_conn(monkeypatch, host=wix_emulator.url, password=cfg.api_key + "-wrong", extra={"site_id": cfg.site_id})
        bad_ok, bad_message = WixHook().test_connection()
    assert ok
    assert not bad_ok
    captured = capsys.readouterr()
    text = "\n".join([r.getMessage() for r in caplog.records] + [message, bad_message, captured.out, captured.err])
    assert "retrying" in text
    assert len(held) == 3
    for secret in (*held, cfg.api_key):
        assert secret not in text
