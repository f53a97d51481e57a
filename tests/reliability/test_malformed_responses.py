"""Malformed response bodies become the client's typed error, from every one of the nine methods.

A local HTTP server answers with the hostile body; the error must be ``WixServerError`` with code
``MALFORMED_RESPONSE``, naming the client method and what was wrong, never an ``AttributeError``,
``TypeError`` or ``RecursionError``. The triggers turn such errors into an event the sensor reports.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_wix.client import ApiKeyAuth, ExternalCalendarsClient, WixServerError, build_sync_config
from airflow_provider_wix.triggers.external_calendars import WixConnectionStatusTrigger, WixOAuthCallbackTrigger
from tests.client.wix_client_support import (
    API_KEY,
    CONNECTION_ID,
    CREDENTIALS_PASSWORD,
    FAST_RETRY,
    PROVIDER_ID,
    SCHEDULE_ID,
    SITE_ID,
    Reply,
    ScriptedServer,
)

PREFIX = "/bookings/v2/external-calendars"
FROM, TO = "2026-10-05T00:00:00Z", "2026-10-12T00:00:00Z"

# method -> (HTTP verb, path, call)
METHODS: dict[str, tuple[str, str, Callable[[ExternalCalendarsClient], Any]]] = {
    "list_providers": ("GET", f"{PREFIX}/providers", lambda c: c.list_providers()),
    "get_connection": ("GET", f"{PREFIX}/connections/{CONNECTION_ID}", lambda c: c.get_connection(CONNECTION_ID)),
    "list_connections": ("GET", f"{PREFIX}/connections", lambda c: c.list_connections([SCHEDULE_ID])),
    "connect_by_oauth": (
        "POST",
        f"{PREFIX}/connections:connectByOAuth",
        lambda c: c.connect_by_oauth(PROVIDER_ID, SCHEDULE_ID, "https://airflow.example.com/cb"),
    ),
    "connect_by_credentials": (
        "POST",
        f"{PREFIX}/connections:connectByCredentials",
        lambda c: c.connect_by_credentials(PROVIDER_ID, SCHEDULE_ID, "jane@example.com", CREDENTIALS_PASSWORD),
    ),
    "list_calendars": (
        "GET",
        f"{PREFIX}/connections/{CONNECTION_ID}/calendars",
        lambda c: c.list_calendars(CONNECTION_ID),
    ),
    "update_sync_config": (
        "PATCH",
        f"{PREFIX}/connections/{CONNECTION_ID}/sync-config",
        lambda c: c.update_sync_config(CONNECTION_ID, build_sync_config("primary", None)),
    ),
    "disconnect": ("POST", f"{PREFIX}/connections/{CONNECTION_ID}/disconnect", lambda c: c.disconnect(CONNECTION_ID)),
    "list_events": ("GET", f"{PREFIX}/events", lambda c: c.list_events(FROM, TO)),
}

UNDECODABLE = {
    "nested-100000-deep": (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    "nested-object-100000-deep": (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "nested too deeply"),
    "html": (b"<html><body>Bad gateway</body></html>", "not valid JSON"),
    "truncated": (b'{"events": [{"scheduleId": "89e2', "not valid JSON"),
    "empty": (b"", "empty"),
    "array": (b"[]", "an array, not an object"),
    "null": (b"null", "null, not an object"),
    "string": (b'"ok"', "a string, not an object"),
}


def _client(server: ScriptedServer) -> ExternalCalendarsClient:
    return ExternalCalendarsClient(ApiKeyAuth(API_KEY, site_id=SITE_ID), server.url, retry=FAST_RETRY, timeout=(2, 10))


def _expect_malformed(server: ScriptedServer, method: str, reply: Reply) -> WixServerError:
    verb, path, call = METHODS[method]
    server.on(verb, path, default=reply)
    with _client(server) as client, pytest.raises(WixServerError) as raised:
        call(client)
    error = raised.value
    assert error.code == "MALFORMED_RESPONSE"
    assert error.method == method
    assert str(error).startswith(f"Wix {method} failed:")
    return error


@pytest.mark.parametrize("body", UNDECODABLE, ids=list(UNDECODABLE))
@pytest.mark.parametrize("method", METHODS)
def test_undecodable_bodies_become_typed_errors(scripted, method, body):
    content, problem = UNDECODABLE[body]
    error = _expect_malformed(scripted, method, Reply(200, body=content))
    assert problem in str(error)
    assert CREDENTIALS_PASSWORD not in str(error)


@pytest.mark.parametrize("method", METHODS)
def test_a_deeply_nested_error_body_is_still_a_typed_error(scripted, method):
    """A non-2xx body deep enough to break the error parser: the status decides the error class."""
    verb, path, call = METHODS[method]
    scripted.on(verb, path, default=Reply(400, body=b"[" * 100_000 + b"]" * 100_000))
    with _client(scripted) as client, pytest.raises(Exception) as raised:
        call(client)
    assert type(raised.value).__name__ == "WixValidationError"
    assert f"Wix {method} failed: HTTP 400" in str(raised.value)


WRONG_TYPES: list[tuple[str, Any, str]] = [
    ("list_events", {"events": [], "pagingMetadata": "x"}, "pagingMetadata is a string, not an object"),
    ("list_events", {"events": [], "pagingMetadata": {"cursors": []}}, "pagingMetadata.cursors is an array"),
    ("list_events", {"events": [], "pagingMetadata": {"hasNext": "yes"}}, "pagingMetadata.hasNext is a string"),
    ("list_events", {"events": [], "pagingMetadata": {"cursors": {"next": 7}}}, "cursors.next is a number"),
    ("list_events", {"events": {}}, "'events' is an object, not an array"),
    ("list_events", {"events": [1]}, "events[0] is a number, not an object"),
    ("list_events", {"events": [], "failedProviderIds": "p"}, "failedProviderIds is a string, not an array"),
    ("list_events", {"events": [], "pagingMetadata": {"hasNext": True}}, "hasNext true but no cursors.next"),
    ("list_providers", {"providers": "GOOGLE"}, "'providers' is a string, not an array"),
    ("list_providers", {"providers": [{"features": []}]}, "providers[0].features is an array, not an object"),
    (
        "list_providers",
        {"providers": [{"id": "p", "features": {"connectMethods": "OAUTH"}}]},
        "providers[0].features.connectMethods is a string, not an array of strings",
    ),
    ("list_providers", {"providers": [{"id": 1}]}, "providers[0].id is a number, not a string"),
    ("list_connections", {"connections": [{"id": {"x": 1}}]}, "connections[0].id is an object, not a string"),
    ("list_connections", {"connections": [None]}, "connections[0] is null, not an object"),
    ("get_connection", {"connection": "x"}, "connection is a string, not an object"),
    ("get_connection", {"connection": {"status": 3}}, "connection.status is a number, not a string"),
    ("get_connection", {}, "has no 'connection' object"),
    ("connect_by_oauth", {"oauthUrl": 5}, "oauthUrl is a number, not an http(s) URL"),
    ("connect_by_oauth", {"oauthUrl": "javascript:alert(1)"}, "oauthUrl is a string, not an http(s) URL"),
    ("connect_by_oauth", {}, "has no oauthUrl"),
    ("connect_by_credentials", {"connection": None}, "has no 'connection' object"),
    ("list_calendars", {"calendars": [{"id": ["a"]}]}, "calendars[0].id is an array, not a string"),
    ("update_sync_config", {"connection": []}, "connection is an array, not an object"),
    ("disconnect", {"connection": {"id": 3}}, "connection.id is a number, not a string"),
]


@pytest.mark.parametrize(("method", "body", "problem"), WRONG_TYPES, ids=[f"{m}-{p}" for m, _, p in WRONG_TYPES])
def test_wrong_types_become_typed_errors(scripted, method, body, problem):
    error = _expect_malformed(scripted, method, Reply(200, json=body))
    assert problem in str(error)


def test_a_page_with_bad_paging_is_not_handed_out(scripted):
    """The page whose paging is broken is refused whole: a writer never stores a partial export."""
    scripted.on("GET", f"{PREFIX}/events", default=Reply(200, json={"events": [{}], "pagingMetadata": "x"}))
    with _client(scripted) as client:
        pages = client.iter_event_pages(FROM, TO)
        with pytest.raises(WixServerError, match="pagingMetadata is a string"):
            next(pages)


def _conn(monkeypatch: pytest.MonkeyPatch, server: ScriptedServer) -> None:
    conn = {"conn_type": "wix", "host": server.url, "password": API_KEY, "extra": {"site_id": SITE_ID}}
    monkeypatch.setenv("AIRFLOW_CONN_WIX_SCRIPTED", json.dumps(conn))


def _first_event(trigger: Any) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("the trigger ended without an event")

    return asyncio.run(asyncio.wait_for(run(), timeout=30))


def test_detect_via_api_reports_a_wix_error_instead_of_dying(scripted, monkeypatch):
    _conn(monkeypatch, scripted)
    scripted.on("GET", f"{PREFIX}/connections", default=Reply(200, json={"connections": "x"}))
    trigger = WixOAuthCallbackTrigger(
        state_digest=None, poll_interval=0.1, wix_conn_id="wix_scripted", detect_via_api=True, schedule_id=SCHEDULE_ID
    )
    event = _first_event(trigger)
    assert event["status"] == "error"
    assert "detect_via_api failed in the triggerer: Wix list_connections failed" in event["message"]
    assert "'connections' is a string" in event["message"]


@pytest.mark.parametrize("trigger_kind", ["oauth", "status"])
def test_triggers_report_a_missing_connection(monkeypatch, trigger_kind):
    monkeypatch.delenv("AIRFLOW_CONN_WIX_NOWHERE", raising=False)
    trigger: Any
    if trigger_kind == "oauth":
        trigger = WixOAuthCallbackTrigger(
            state_digest=None,
            poll_interval=0.1,
            wix_conn_id="wix_nowhere",
            detect_via_api=True,
            schedule_id=SCHEDULE_ID,
        )
    else:
        trigger = WixConnectionStatusTrigger(connection_id=CONNECTION_ID, wix_conn_id="wix_nowhere", poll_interval=0.1)
    event = _first_event(trigger)
    assert event["status"] == "error"
    assert "wix_nowhere" in event["message"]


def test_status_trigger_reports_a_malformed_connection(scripted, monkeypatch):
    _conn(monkeypatch, scripted)
    scripted.on("GET", f"{PREFIX}/connections/{CONNECTION_ID}", default=Reply(200, json={"connection": "x"}))
    event = _first_event(WixConnectionStatusTrigger(connection_id=CONNECTION_ID, wix_conn_id="wix_scripted"))
    assert event["status"] == "error"
    assert "Wix get_connection failed" in event["message"]
