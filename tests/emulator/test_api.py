"""The nine External Calendars methods over HTTP: routes, answers and every documented error."""

from __future__ import annotations

import uuid

import pytest

from airflow_provider_wix.emulator import (
    APPLE_PROVIDER_ID,
    BUSINESS_SCHEDULE_ID,
    GOOGLE_PROVIDER_ID,
    MICROSOFT_PROVIDER_ID,
)
from airflow_provider_wix.emulator.state import Provider
from tests.emulator.conftest import API, WixHttp, app_error, example, violations


def staff(wix: WixHttp, n: int = 0) -> str:
    return wix.emulator.state.staff_schedules()[n].id


def seed(wix: WixHttp, provider: str = APPLE_PROVIDER_ID, n: int = 0, **kwargs: object) -> dict:
    return wix.emulator.state.create_connection(provider, staff(wix, n), **kwargs)  # type: ignore[arg-type]


def credentials_body(wix: WixHttp, **overrides: str) -> dict[str, str]:
    cfg = wix.emulator.config
    body = {
        "providerId": APPLE_PROVIDER_ID,
        "scheduleId": staff(wix),
        "email": cfg.credentials_email,
        "password": cfg.credentials_password,
    }
    body.update(overrides)
    return body


# ---------------------------------------------------------------------- routes in general


def test_list_providers_matches_the_documented_providers(wix: WixHttp) -> None:
    response = wix.get(f"{API}/providers")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == example("list-providers.response.json")


def test_every_answer_carries_a_distinct_request_id(wix: WixHttp) -> None:
    answers = [
        wix.get(f"{API}/providers"),
        wix.get(f"{API}/providers", auth=False),
        wix.get(f"{API}/connections/nope"),
        wix.get("/no/such/route"),
        wix.admin("GET", "/health"),
        wix.post("/oauth2/token", json={}),
    ]
    ids = [a.headers.get("x-wix-request-id") for a in answers]
    assert all(ids), ids
    assert len(set(ids)) == len(ids)
    assert [a.status_code for a in answers] == [200, 401, 404, 404, 200, 400]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/bookings/v2/external-calendar/providers"),
        ("GET", "/bookings/v2/external-calendar/connections/abc"),
        ("POST", "/bookings/v2/external-calendar/list-connections"),
        ("POST", "/bookings/v2/external-calendar/connect-by-oauth"),
        ("POST", "/bookings/v2/external-calendar/connect-by-credentials"),
        ("GET", "/bookings/v2/external-calendar/connections/abc/calendars"),
        ("POST", "/bookings/v2/external-calendar/connections/abc/sync-config"),
        ("POST", "/bookings/v2/external-calendar/connections/abc/disconnect"),
        ("POST", "/bookings/v2/external-calendar/list-events"),
        ("GET", f"{API}/providers/"),
        ("DELETE", f"{API}/providers"),
        ("POST", f"{API}/connections/abc/sync-config"),
        ("GET", f"{API}/connections:connectByOAuth"),
        ("GET", "/bookings/v1/externalCalendar/providers"),
        ("GET", "/docs"),
        ("GET", "/openapi.json"),
        ("GET", "/"),
    ],
)
def test_unknown_routes_answer_404_in_the_wix_error_format(wix: WixHttp, method: str, path: str) -> None:
    response = wix.request(method, path, json={})
    assert response.status_code == 404
    assert app_error(response)["code"] == "NOT_FOUND"
    assert response.headers["x-wix-request-id"]


# ---------------------------------------------------------------------- Get / List Connections


def test_get_connection_returns_the_connection(wix: WixHttp) -> None:
    conn = seed(wix)
    response = wix.get(f"{API}/connections/{conn['id']}")
    assert response.status_code == 200
    got = response.json()["connection"]
    assert got == conn
    assert got["status"] == "SYNCED"
    assert got["userId"] == wix.emulator.state.staff_schedules()[0].owner_id
    assert len(got["id"]) >= 100 and got["id"].isalnum()


def test_get_unknown_connection_is_404(wix: WixHttp) -> None:
    response = wix.get(f"{API}/connections/doesNotExist")
    assert response.status_code == 404
    assert app_error(response)["code"] == "NOT_FOUND"


def test_business_schedule_connection_has_no_user_id(wix: WixHttp) -> None:
    conn = wix.emulator.state.create_connection(GOOGLE_PROVIDER_ID, BUSINESS_SCHEDULE_ID)
    assert "userId" not in wix.get(f"{API}/connections/{conn['id']}").json()["connection"]


def test_list_connections_all_and_filtered_by_repeated_schedule_ids(wix: WixHttp) -> None:
    a = seed(wix, APPLE_PROVIDER_ID, 0)
    b = seed(wix, GOOGLE_PROVIDER_ID, 1)
    c = seed(wix, MICROSOFT_PROVIDER_ID, 2, status="DISCONNECTED")
    everything = wix.get(f"{API}/connections").json()
    assert [x["id"] for x in everything["connections"]] == [a["id"], b["id"], c["id"]]
    assert "failedProviderIds" not in everything
    response = wix.get(f"{API}/connections", params=[("scheduleIds", staff(wix, 0)), ("scheduleIds", staff(wix, 2))])
    assert [x["id"] for x in response.json()["connections"]] == [a["id"], c["id"]]
    assert wix.get(f"{API}/connections", params={"scheduleIds": staff(wix, 3)}).json() == {"connections": []}


def test_list_connections_validates_its_query(wix: WixHttp) -> None:
    response = wix.get(f"{API}/connections", params=[("scheduleIds", "not-a-guid"), ("partialFailure", "maybe")])
    fields = {v["field"]: v for v in violations(response)}
    assert fields["scheduleIds[0]"]["violatedRule"] == "FORMAT"
    assert fields["partialFailure"]["violatedRule"] == "FORMAT"


def test_list_connections_partial_failure(wix: WixHttp) -> None:
    apple = seed(wix, APPLE_PROVIDER_ID, 0)
    seed(wix, GOOGLE_PROVIDER_ID, 1)
    wix.emulator.state.set_provider_failing(GOOGLE_PROVIDER_ID)
    failed = wix.get(f"{API}/connections")
    assert failed.status_code == 500
    assert failed.json() == example("error.system.response.json")
    partial = wix.get(f"{API}/connections", params={"partialFailure": "true"}).json()
    assert [c["id"] for c in partial["connections"]] == [apple["id"]]
    assert partial["failedProviderIds"] == [GOOGLE_PROVIDER_ID]


# ---------------------------------------------------------------------- Connect By OAuth


def test_connect_by_oauth_returns_a_consent_url_and_creates_nothing_yet(wix: WixHttp) -> None:
    body = {"providerId": GOOGLE_PROVIDER_ID, "scheduleId": staff(wix), "redirectUrl": "https://app.example.com/cb"}
    response = wix.post(f"{API}/connections:connectByOAuth", json=body)
    assert response.status_code == 200
    assert set(response.json()) == {"oauthUrl"}
    assert response.json()["oauthUrl"].startswith(f"{wix.url}/oauth/consent/")
    assert wix.emulator.state.connections() == []
    assert len(wix.emulator.state.pending_oauth_flows()) == 1


def test_connect_by_oauth_for_a_credentials_provider_is_428(wix: WixHttp) -> None:
    body = {"providerId": APPLE_PROVIDER_ID, "scheduleId": staff(wix), "redirectUrl": "https://app.example.com/cb"}
    response = wix.post(f"{API}/connections:connectByOAuth", json=body)
    assert response.status_code == 428
    assert app_error(response)["code"] == "NOT_SUPPORTED_BY_PROVIDER"


def test_connect_by_oauth_validation(wix: WixHttp) -> None:
    response = wix.post(f"{API}/connections:connectByOAuth", json={})
    assert {v["field"]: v["violatedRule"] for v in violations(response)} == {
        "providerId": "REQUIRED_FIELD",
        "scheduleId": "REQUIRED_FIELD",
        "redirectUrl": "REQUIRED_FIELD",
    }
    bad = {"providerId": GOOGLE_PROVIDER_ID, "scheduleId": "89e20858", "redirectUrl": "not a url"}
    response = wix.post(f"{API}/connections:connectByOAuth", json=bad)
    found = {v["field"]: v for v in violations(response)}
    assert found["scheduleId"] == {
        "field": "scheduleId",
        "description": "must be a valid GUID",
        "violatedRule": "FORMAT",
        "data": {"expected": "GUID"},
    }
    assert found["redirectUrl"]["data"] == {"expected": "WEB_URL"}
    assert response.json()["message"] == 'INVALID_ARGUMENT: "scheduleId" must be a valid GUID'


def test_connect_by_oauth_unknown_provider_or_schedule_is_404(wix: WixHttp) -> None:
    unknown = str(uuid.uuid4())
    for provider, schedule in ((unknown, staff(wix)), (GOOGLE_PROVIDER_ID, unknown)):
        body = {"providerId": provider, "scheduleId": schedule, "redirectUrl": "https://x.example/cb"}
        response = wix.post(f"{API}/connections:connectByOAuth", json=body)
        assert response.status_code == 404
        assert app_error(response)["code"] == "NOT_FOUND"


def test_bad_json_body_is_400(wix: WixHttp) -> None:
    response = wix.post(
        f"{API}/connections:connectByOAuth", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert app_error(response)["code"] == "INVALID_ARGUMENT"


# ---------------------------------------------------------------------- Connect By Credentials


def test_connect_by_credentials_connects_apple(wix: WixHttp) -> None:
    response = wix.post(f"{API}/connections:connectByCredentials", json=credentials_body(wix))
    assert response.status_code == 200
    conn = response.json()["connection"]
    assert conn["status"] == "CONNECTED"
    assert conn["providerId"] == APPLE_PROVIDER_ID
    assert conn["calendarType"] == "I_CAL"
    assert conn["externalAccountEmail"] == wix.emulator.config.credentials_email
    assert "syncConfig" not in conn  # nothing is imported until Update Sync Config
    # Syncing then finishes in the background (sync_delay 0: by the next read).
    assert wix.get(f"{API}/connections/{conn['id']}").json()["connection"]["status"] == "SYNCED"


@pytest.mark.parametrize("field", ["email", "password"])
def test_connect_by_credentials_bad_credentials_is_401(wix: WixHttp, field: str) -> None:
    wrong = {"email": "someone.else@example.com", "password": "wrong"}[field]
    response = wix.post(f"{API}/connections:connectByCredentials", json=credentials_body(wix, **{field: wrong}))
    assert response.status_code == 401
    assert response.json() == example("error.connect-by-credentials-bad-credentials.response.json")
    assert wix.emulator.state.connections() == []


def test_connect_by_credentials_for_an_oauth_provider_is_428(wix: WixHttp) -> None:
    body = credentials_body(wix, providerId=GOOGLE_PROVIDER_ID)
    response = wix.post(f"{API}/connections:connectByCredentials", json=body)
    assert response.status_code == 428
    assert app_error(response)["code"] == "NOT_SUPPORTED_BY_PROVIDER"


@pytest.mark.wix_emulator(premium=False)
def test_connect_by_credentials_without_premium_is_403(wix: WixHttp) -> None:
    response = wix.post(f"{API}/connections:connectByCredentials", json=credentials_body(wix))
    assert response.status_code == 403
    assert app_error(response)["code"] == "PREMIUM_FEATURE_NOT_ENABLED"


def test_connect_by_credentials_validation(wix: WixHttp) -> None:
    response = wix.post(
        f"{API}/connections:connectByCredentials", json=credentials_body(wix, email="nope", password="")
    )
    assert {v["field"]: v["violatedRule"] for v in violations(response)} == {
        "email": "FORMAT",
        "password": "REQUIRED_FIELD",
    }


def test_reconnecting_replaces_the_active_connection(wix: WixHttp) -> None:
    first = wix.post(f"{API}/connections:connectByCredentials", json=credentials_body(wix)).json()["connection"]
    second = wix.post(f"{API}/connections:connectByCredentials", json=credentials_body(wix)).json()["connection"]
    assert first["id"] != second["id"]
    assert wix.get(f"{API}/connections/{first['id']}").json()["connection"]["status"] == "DISCONNECTED"


# ---------------------------------------------------------------------- List Calendars


def test_list_calendars(wix: WixHttp) -> None:
    conn = seed(wix, APPLE_PROVIDER_ID)
    response = wix.get(f"{API}/connections/{conn['id']}/calendars")
    assert response.status_code == 200
    calendars = response.json()["calendars"]
    assert [c["name"] for c in calendars] == ["Home", "Work", "Birthdays"]
    for cal in calendars:
        assert set(cal) == {"id", "name"}
        assert len(cal["id"]) == 25 and cal["id"].isalnum() and cal["id"].islower()


@pytest.mark.parametrize(("status", "reason"), [("DISCONNECTED", None), ("ERROR", "TOKEN_REVOKED")])
def test_list_calendars_of_a_broken_connection_is_428(wix: WixHttp, status: str, reason: str | None) -> None:
    conn = seed(wix, status=status, error_reason=reason)
    response = wix.get(f"{API}/connections/{conn['id']}/calendars")
    assert response.status_code == 428
    assert app_error(response)["code"] == "CONNECTION_NOT_CONNECTED"


@pytest.mark.wix_emulator(premium=False)
def test_list_calendars_without_premium_is_403(wix: WixHttp) -> None:
    conn = seed(wix)
    response = wix.get(f"{API}/connections/{conn['id']}/calendars")
    assert response.status_code == 403
    assert app_error(response)["code"] == "PREMIUM_FEATURE_NOT_ENABLED"


def test_list_calendars_for_a_provider_without_import_is_428(wix: WixHttp) -> None:
    export_only = Provider(
        str(uuid.uuid4()), "Export Only", "OTHER", ("OAUTH",), True, "NOT_SUPPORTED", "NOT_SUPPORTED"
    )
    wix.emulator.state.add_provider(export_only)
    conn = wix.emulator.state.create_connection(export_only.id, staff(wix), sync_config={})
    response = wix.get(f"{API}/connections/{conn['id']}/calendars")
    assert response.status_code == 428
    assert app_error(response)["code"] == "NOT_SUPPORTED_BY_PROVIDER"
    assert len(wix.get(f"{API}/providers").json()["providers"]) == 4


def test_list_calendars_unknown_connection_is_404(wix: WixHttp) -> None:
    assert wix.get(f"{API}/connections/nope/calendars").status_code == 404


# ---------------------------------------------------------------------- Update Sync Config


def apple_with_example_calendars(wix: WixHttp) -> tuple[dict, list[str]]:
    conn = seed(wix, APPLE_PROVIDER_ID)
    ids = [c["id"] for c in wix.emulator.state.calendars(conn["id"])]
    return conn, ids


def test_update_sync_config_replaces_the_config_and_restarts_syncing(wix: WixHttp) -> None:
    conn, ids = apple_with_example_calendars(wix)
    wanted = sorted(ids[:2], reverse=True)
    body = {
        "syncConfig": {
            "listEventFromCalendars": {"enabled": True, "calendars": {"calendars": [{"id": i} for i in wanted]}},
            "syncToCalendar": {"enabled": True, "dedicatedCalendar": {}},
        }
    }
    response = wix.patch(f"{API}/connections/{conn['id']}/sync-config", json=body)
    assert response.status_code == 200
    got = response.json()["connection"]
    assert got["status"] == "SYNC_IN_PROGRESS"
    assert got["syncConfig"] == {
        "listEventFromCalendars": {"enabled": True, "calendars": {"calendars": [{"id": i} for i in sorted(wanted)]}},
        "syncToCalendar": {"enabled": True, "dedicatedCalendar": {}},
    }
    # Without fieldMask the whole config is replaced.
    only_export = {"syncConfig": {"syncToCalendar": {"enabled": False, "dedicatedCalendar": {}}}}
    got = wix.patch(f"{API}/connections/{conn['id']}/sync-config", json=only_export).json()["connection"]
    assert got["syncConfig"] == {"syncToCalendar": {"enabled": False, "dedicatedCalendar": {}}}
    assert wix.get(f"{API}/connections/{conn['id']}").json()["connection"]["status"] == "SYNCED"


def test_update_sync_config_with_field_mask_updates_only_those_parts(wix: WixHttp) -> None:
    conn, _ = apple_with_example_calendars(wix)
    body = {
        "syncConfig": {"syncToCalendar": {"enabled": True, "dedicatedCalendar": {}}},
        "fieldMask": {"paths": ["syncConfig.syncToCalendar"]},
    }
    got = wix.patch(f"{API}/connections/{conn['id']}/sync-config", json=body).json()["connection"]
    assert got["syncConfig"] == {
        "listEventFromCalendars": {"enabled": True, "primaryCalendar": {}},
        "syncToCalendar": {"enabled": True, "dedicatedCalendar": {}},
    }
    response = wix.patch(f"{API}/connections/{conn['id']}/sync-config", json={**body, "fieldMask": "syncConfig.nope"})
    assert violations(response)[0]["field"] == "fieldMask"


@pytest.mark.parametrize(
    ("provider", "sync_config"),
    [
        (GOOGLE_PROVIDER_ID, {"listEventFromCalendars": {"enabled": True, "primaryCalendar": {}}}),
        (MICROSOFT_PROVIDER_ID, {"syncToCalendar": {"enabled": True, "primaryCalendar": {}}}),
    ],
)
def test_update_sync_config_beyond_provider_features_is_428(wix: WixHttp, provider: str, sync_config: dict) -> None:
    conn = seed(wix, provider)
    response = wix.patch(f"{API}/connections/{conn['id']}/sync-config", json={"syncConfig": sync_config})
    assert response.status_code == 428
    assert app_error(response)["code"] == "NOT_SUPPORTED_BY_PROVIDER"


def test_update_sync_config_specific_calendars_need_a_provider_that_has_them(wix: WixHttp) -> None:
    primary_only = Provider(
        str(uuid.uuid4()), "Primary Only", "OTHER", ("OAUTH",), True, "PRIMARY_CALENDAR_ONLY", "NOT_SUPPORTED"
    )
    wix.emulator.state.add_provider(primary_only)
    conn = wix.emulator.state.create_connection(primary_only.id, staff(wix))
    cal = wix.emulator.state.calendars(conn["id"])[0]["id"]
    for sync_config in (
        {"listEventFromCalendars": {"enabled": True, "calendars": {"calendars": [{"id": cal}]}}},
        {"syncToCalendar": {"enabled": True, "dedicatedCalendar": {}}},
    ):
        response = wix.patch(f"{API}/connections/{conn['id']}/sync-config", json={"syncConfig": sync_config})
        assert response.status_code == 428, sync_config
        assert app_error(response)["code"] == "NOT_SUPPORTED_BY_PROVIDER"
    ok = {"listEventFromCalendars": {"enabled": True, "primaryCalendar": {}}}
    assert wix.patch(f"{API}/connections/{conn['id']}/sync-config", json={"syncConfig": ok}).status_code == 200


@pytest.mark.parametrize(
    ("sync_config", "field", "rule"),
    [
        (None, "syncConfig", "REQUIRED_FIELD"),
        (
            {"listEventFromCalendars": {"enabled": True, "primaryCalendar": {}, "calendars": {"calendars": []}}},
            "syncConfig.listEventFromCalendars",
            "ONE_OF_ALIGNMENT",
        ),
        ({"listEventFromCalendars": {"enabled": True}}, "syncConfig.listEventFromCalendars", "REQUIRED_ONE_OF_FIELD"),
        (
            {"listEventFromCalendars": {"enabled": "yes", "primaryCalendar": {}}},
            "syncConfig.listEventFromCalendars.enabled",
            "FORMAT",
        ),
        (
            {"listEventFromCalendars": {"enabled": True, "calendars": {"calendars": [{"id": "unknown"}]}}},
            "syncConfig.listEventFromCalendars.calendars.calendars[0].id",
            "CUSTOM",
        ),
    ],
)
def test_update_sync_config_validation(wix: WixHttp, sync_config: dict | None, field: str, rule: str) -> None:
    conn = seed(wix, APPLE_PROVIDER_ID)
    response = wix.patch(f"{API}/connections/{conn['id']}/sync-config", json={"syncConfig": sync_config})
    assert [(v["field"], v["violatedRule"]) for v in violations(response)] == [(field, rule)]


def test_update_sync_config_of_a_disconnected_connection_is_428(wix: WixHttp) -> None:
    conn = seed(wix, APPLE_PROVIDER_ID, status="DISCONNECTED")
    body = {"syncConfig": {"listEventFromCalendars": {"enabled": True, "primaryCalendar": {}}}}
    response = wix.patch(f"{API}/connections/{conn['id']}/sync-config", json=body)
    assert response.status_code == 428
    assert app_error(response)["code"] == "CONNECTION_NOT_CONNECTED"
    assert wix.patch(f"{API}/connections/nope/sync-config", json=body).status_code == 404


# ---------------------------------------------------------------------- Disconnect


def test_disconnect_then_disconnect_again(wix: WixHttp) -> None:
    conn = seed(wix, APPLE_PROVIDER_ID)
    first = wix.post(f"{API}/connections/{conn['id']}/disconnect")
    assert first.status_code == 200
    assert first.json()["connection"]["status"] == "DISCONNECTED"
    assert first.json()["connection"]["syncConfig"] == conn["syncConfig"]
    second = wix.post(f"{API}/connections/{conn['id']}/disconnect", json={"connectionId": conn["id"]})
    assert second.status_code == 428
    assert second.json() == example("error.disconnect-already-disconnected.response.json")
    assert wix.post(f"{API}/connections/nope/disconnect").status_code == 404


def test_disconnect_stops_the_events(wix: WixHttp) -> None:
    conn = seed(wix, GOOGLE_PROVIDER_ID)
    params = {"from": "2026-10-05T00:00:00Z", "to": "2026-10-12T00:00:00Z"}
    assert wix.get(f"{API}/events", params=params).json()["events"]
    wix.post(f"{API}/connections/{conn['id']}/disconnect")
    assert wix.get(f"{API}/events", params=params).json()["events"] == []


def test_schedule_owner_change_disconnects(wix: WixHttp) -> None:
    conn = seed(wix, GOOGLE_PROVIDER_ID)
    response = wix.admin(
        "POST", f"/schedules/{staff(wix)}/owner", json={"ownerId": str(uuid.uuid4()), "ownerName": "New Owner"}
    )
    assert response.json()["disconnected"] == [conn["id"]]
    assert wix.get(f"{API}/connections/{conn['id']}").json()["connection"]["status"] == "DISCONNECTED"


# ---------------------------------------------------------------------- sync progress


@pytest.mark.wix_emulator(sync_delay=10)
def test_status_moves_connected_sync_in_progress_synced_over_sync_delay(wix: WixHttp) -> None:
    response = wix.post(f"{API}/connections:connectByCredentials", json=credentials_body(wix))
    conn_id = response.json()["connection"]["id"]

    def status() -> str:
        return wix.get(f"{API}/connections/{conn_id}").json()["connection"]["status"]

    assert status() == "CONNECTED"
    wix.emulator.state.advance_time(6)
    assert status() == "SYNC_IN_PROGRESS"
    wix.emulator.state.advance_time(5)
    assert status() == "SYNCED"


@pytest.mark.wix_emulator(sync_delay=3600)
def test_sync_can_be_completed_on_demand(wix: WixHttp) -> None:
    conn = wix.post(f"{API}/connections:connectByCredentials", json=credentials_body(wix)).json()["connection"]
    assert wix.admin("POST", f"/connections/{conn['id']}/sync").json()["connection"]["status"] == "SYNCED"
    assert wix.get(f"{API}/connections/{conn['id']}").json()["connection"]["status"] == "SYNCED"


def test_error_status_shows_its_reason(wix: WixHttp) -> None:
    conn = seed(wix)
    wix.admin("POST", f"/connections/{conn['id']}/status", json={"status": "ERROR", "errorReason": "TOKEN_REVOKED"})
    got = wix.get(f"{API}/connections/{conn['id']}").json()["connection"]
    assert (got["status"], got["errorReason"]) == ("ERROR", "TOKEN_REVOKED")
