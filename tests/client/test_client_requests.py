"""Every method sends exactly the documented request and returns the inner payload."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pendulum
import pytest
import requests

from airflow_provider_wix import __version__
from airflow_provider_wix.client import ApiKeyAuth, ExternalCalendarsClient, build_sync_config
from tests.client.wix_client_support import (
    API_KEY,
    CONNECTION_ID,
    PROVIDER_ID,
    SCHEDULE_ID,
    SCHEDULE_ID_2,
    SITE_ID,
    USER_ID,
    Reply,
    example,
)

BASE = "/bookings/v2/external-calendars"
GOOGLE_ID = "f3cfdae7-2a33-496e-a6e9-1220720b1a13"


def assert_api_key_headers(recorded, *, body: bool) -> None:
    headers = recorded.headers
    assert headers["authorization"] == API_KEY  # raw key, no scheme
    assert headers["wix-site-id"] == SITE_ID
    assert "wix-account-id" not in headers
    assert headers["accept"] == "application/json"
    assert headers["user-agent"].startswith(f"airflow-provider-wix/{__version__}")
    if body:
        assert headers["content-type"] == "application/json"
    else:
        assert "content-type" not in headers
        assert recorded.body == b""


def test_list_providers(scripted, client):
    scripted.on("GET", f"{BASE}/providers", Reply(200, example("list-providers.response")))

    providers = client.list_providers()

    assert providers == example("list-providers.response")["providers"]
    (req,) = scripted.requests
    assert req.request_line == f"GET {BASE}/providers HTTP/1.1"
    assert_api_key_headers(req, body=False)


def test_list_providers_empty_body_means_no_providers(scripted, client):
    scripted.on("GET", f"{BASE}/providers", Reply(200, {}))
    assert client.list_providers() == []


def test_get_connection(scripted, client):
    scripted.on("GET", f"{BASE}/connections/{CONNECTION_ID}", Reply(200, example("get-connection.response")))

    connection = client.get_connection(CONNECTION_ID)

    assert connection == example("get-connection.response")["connection"]
    (req,) = scripted.requests
    assert req.request_line == f"GET {BASE}/connections/{CONNECTION_ID} HTTP/1.1"
    assert_api_key_headers(req, body=False)


def test_get_connection_quotes_the_id_into_one_path_segment(scripted, client):
    scripted.on("GET", f"{BASE}/connections/a%2Fb", Reply(200, example("get-connection.response")))
    client.get_connection("a/b")
    assert scripted.requests[0].request_line == f"GET {BASE}/connections/a%2Fb HTTP/1.1"


def test_list_connections_without_filters(scripted, client):
    scripted.on("GET", f"{BASE}/connections", Reply(200, example("list-connections.response")))

    connections = client.list_connections()

    assert connections == example("list-connections.response")["connections"]
    (req,) = scripted.requests
    assert req.request_line == f"GET {BASE}/connections HTTP/1.1"
    assert_api_key_headers(req, body=False)


def test_list_connections_with_schedule_ids_and_partial_failure(scripted, client, caplog):
    scripted.on("GET", f"{BASE}/connections", Reply(200, example("list-connections.partial-failure.response")))

    connections = client.list_connections([SCHEDULE_ID], partial_failure=True)

    assert connections == example("list-connections.partial-failure.response")["connections"]
    (req,) = scripted.requests
    # The documented example query string, byte for byte.
    assert req.request_line == (f"GET {BASE}/connections?scheduleIds={SCHEDULE_ID}&partialFailure=true HTTP/1.1")
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert GOOGLE_ID in warnings[0].getMessage()
    assert "list_connections" in warnings[0].getMessage()


def test_list_connections_repeats_schedule_ids(scripted, client):
    scripted.on("GET", f"{BASE}/connections", Reply(200, {"connections": []}))
    client.list_connections([SCHEDULE_ID, SCHEDULE_ID_2, SCHEDULE_ID])
    assert scripted.requests[0].query == [("scheduleIds", SCHEDULE_ID), ("scheduleIds", SCHEDULE_ID_2)]


def test_list_connections_for_schedules_sends_one_request_per_100_ids(scripted, client):
    import uuid

    ids = [str(uuid.uuid4()) for _ in range(201)]
    scripted.on("GET", f"{BASE}/connections", default=Reply(200, {"connections": [{"id": "c1", "scheduleId": ids[0]}]}))

    connections = client.list_connections_for_schedules([*ids, ids[0]])  # a repeated id is sent once

    assert [req.query for req in scripted.requests] == [
        [("scheduleIds", sid) for sid in ids[start : start + 100]] for start in (0, 100, 200)
    ]
    assert connections == [{"id": "c1", "scheduleId": ids[0]}] * 3


def test_list_connections_for_no_schedules_sends_nothing(scripted, client):
    assert client.list_connections_for_schedules([]) == []
    assert scripted.requests == []


def test_connect_by_oauth(scripted, client):
    request = example("connect-by-oauth.request")
    scripted.on("POST", f"{BASE}/connections:connectByOAuth", Reply(200, example("connect-by-oauth.response")))

    url = client.connect_by_oauth(request["providerId"], request["scheduleId"], request["redirectUrl"])

    assert url == example("connect-by-oauth.response")["oauthUrl"]
    (req,) = scripted.requests
    assert req.request_line == f"POST {BASE}/connections:connectByOAuth HTTP/1.1"
    assert_api_key_headers(req, body=True)
    assert req.json == request


def test_connect_by_credentials(scripted, client):
    request = example("connect-by-credentials.request")
    scripted.on(
        "POST",
        f"{BASE}/connections:connectByCredentials",
        Reply(200, example("connect-by-credentials.response")),
    )

    connection = client.connect_by_credentials(
        request["providerId"], request["scheduleId"], request["email"], request["password"]
    )

    assert connection == example("connect-by-credentials.response")["connection"]
    (req,) = scripted.requests
    assert req.request_line == f"POST {BASE}/connections:connectByCredentials HTTP/1.1"
    assert_api_key_headers(req, body=True)
    assert req.json == request


def test_list_calendars(scripted, client):
    path = f"{BASE}/connections/{CONNECTION_ID}/calendars"
    scripted.on("GET", path, Reply(200, example("list-calendars.response")))

    calendars = client.list_calendars(CONNECTION_ID)

    assert calendars == example("list-calendars.response")["calendars"]
    (req,) = scripted.requests
    assert req.request_line == f"GET {path} HTTP/1.1"
    assert_api_key_headers(req, body=False)


def test_update_sync_config(scripted, client):
    path = f"{BASE}/connections/{CONNECTION_ID}/sync-config"
    scripted.on("PATCH", path, Reply(200, example("update-sync-config.response")))
    sync_config = build_sync_config(["x4hh5344tfjgvq4k7bn7xj8b7", "g4zdmen2khvdgaj8gxbenyjqw"], "dedicated")

    connection = client.update_sync_config(CONNECTION_ID, sync_config)

    assert connection == example("update-sync-config.response")["connection"]
    (req,) = scripted.requests
    assert req.request_line == f"PATCH {path} HTTP/1.1"
    assert_api_key_headers(req, body=True)
    assert req.json == example("update-sync-config.request")  # no fieldMask, no connectionId


def test_disconnect(scripted, client):
    path = f"{BASE}/connections/{CONNECTION_ID}/disconnect"
    scripted.on("POST", path, Reply(200, example("disconnect.response")))

    connection = client.disconnect(CONNECTION_ID)

    assert connection["status"] == "DISCONNECTED"
    assert connection == example("disconnect.response")["connection"]
    (req,) = scripted.requests
    assert req.request_line == f"POST {path} HTTP/1.1"
    assert_api_key_headers(req, body=True)
    assert req.json == example("disconnect.request")


def test_list_events_first_page_matches_documented_query(scripted, client):
    scripted.on("GET", f"{BASE}/events", Reply(200, example("list-events.own-pi.response")))

    events = client.list_events(
        pendulum.datetime(2026, 10, 5, tz="UTC"),
        "2026-10-12T00:00:00Z",
        schedule_ids=[SCHEDULE_ID, SCHEDULE_ID_2],
        page_size=2,
    )

    assert events == example("list-events.own-pi.response")["events"]
    (req,) = scripted.requests
    assert req.request_line == (
        f"GET {BASE}/events?from=2026-10-05T00:00:00.000Z&to=2026-10-12T00:00:00.000Z"
        f"&scheduleIds={SCHEDULE_ID}&scheduleIds={SCHEDULE_ID_2}&cursorPaging.limit=2 HTTP/1.1"
    )
    assert_api_key_headers(req, body=False)


def test_list_events_all_filters(scripted, client):
    scripted.on("GET", f"{BASE}/events", Reply(200, example("list-events.own-pi.response")))
    berlin = timezone(timedelta(hours=2))

    client.list_events(
        datetime(2026, 10, 5, 2, 0, 0, 123456, tzinfo=berlin),
        "2026-10-12T02:00:00.5+02:00",
        user_ids=USER_ID,
        all_day=False,
        fieldsets=["own_pi"],
        partial_failure=True,
    )

    (req,) = scripted.requests
    assert req.query == [
        ("from", "2026-10-05T00:00:00.123Z"),
        ("to", "2026-10-12T00:00:00.500Z"),
        ("userIds", USER_ID),
        ("allDay", "false"),
        ("fieldsets", "OWN_PI"),
        ("cursorPaging.limit", "1000"),
        ("partialFailure", "true"),
    ]


def test_account_id_header_instead_of_site_id(scripted, make_client):
    scripted.on("GET", f"{BASE}/providers", Reply(200, {"providers": []}))
    client = make_client(ApiKeyAuth(API_KEY, account_id=SITE_ID))
    client.list_providers()
    headers = scripted.requests[0].headers
    assert headers["wix-account-id"] == SITE_ID
    assert "wix-site-id" not in headers


def test_one_session_reuses_one_connection(scripted, client):
    scripted.on("GET", f"{BASE}/providers", default=Reply(200, {"providers": []}))
    for _ in range(5):
        client.list_providers()
    assert len(scripted.requests) == 5
    assert scripted.connections == 1


class CountingSession(requests.Session):
    closed = 0

    def close(self) -> None:
        self.closed += 1
        super().close()


def test_context_manager_closes_only_its_own_session(scripted):
    owned = ExternalCalendarsClient(ApiKeyAuth(API_KEY, site_id=SITE_ID), scripted.url)
    owned._engine.session = owned_session = CountingSession()
    with owned as same:
        assert same is owned
    assert owned_session.closed == 1

    shared = CountingSession()
    with ExternalCalendarsClient(ApiKeyAuth(API_KEY, site_id=SITE_ID), scripted.url, session=shared) as c:
        assert c.session is shared
    assert shared.closed == 0


@pytest.mark.parametrize(
    ("method", "args", "path", "reply"),
    [
        ("get_connection", (CONNECTION_ID,), f"{BASE}/connections/{CONNECTION_ID}", {}),
        ("connect_by_oauth", (PROVIDER_ID, SCHEDULE_ID, "https://x.example/cb"), None, {}),
    ],
)
def test_missing_payload_is_a_server_error(scripted, client, method, args, path, reply):
    from airflow_provider_wix.client import WixServerError

    scripted.on("GET", f"{BASE}/connections/{CONNECTION_ID}", Reply(200, reply))
    scripted.on("POST", f"{BASE}/connections:connectByOAuth", Reply(200, reply))
    with pytest.raises(WixServerError, match=method):
        getattr(client, method)(*args)
