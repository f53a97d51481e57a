"""The admin API under /_emulator/ and the request log (with secrets redacted)."""

from __future__ import annotations

import json
import uuid

from airflow_provider_wix.emulator import APPLE_PROVIDER_ID, BUSINESS_SCHEDULE_ID, GOOGLE_PROVIDER_ID
from tests.emulator.conftest import API, WixHttp


def test_health(wix: WixHttp) -> None:
    response = wix.admin("GET", "/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_request_log_records_calls_with_secrets_redacted(wix: WixHttp) -> None:
    cfg = wix.emulator.config
    token_body = {
        "grant_type": "client_credentials",
        "client_id": cfg.client_id,
        "client_secret": cfg.client_secret,
        "instance_id": cfg.instance_id,
    }
    token = wix.post("/oauth2/token", auth=False, json=token_body).json()["access_token"]
    wix.get(f"{API}/connections", params=[("scheduleIds", BUSINESS_SCHEDULE_ID), ("partialFailure", "true")])
    wix.post(
        f"{API}/connections:connectByCredentials",
        auth=False,
        headers={"Authorization": f"Bearer {token}"},
        json={
            "providerId": APPLE_PROVIDER_ID,
            "scheduleId": wix.emulator.state.staff_schedules()[0].id,
            "email": cfg.credentials_email,
            "password": cfg.credentials_password,
        },
    )
    wix.post("/oauth2/token", auth=False, data={**token_body, "client_secret": "form-secret"})
    entries = wix.admin("GET", "/requests").json()["requests"]
    assert [(e["method"], e["path"], e["route"], e["status"]) for e in entries] == [
        ("POST", "/oauth2/token", "oauth2_token", 200),
        ("GET", f"{API}/connections", "list_connections", 200),
        ("POST", f"{API}/connections:connectByCredentials", "connect_by_credentials", 200),
        ("POST", "/oauth2/token", "oauth2_token", 401),  # a wrong secret, logged redacted all the same
    ]
    assert entries[1]["query"] == f"scheduleIds={BUSINESS_SCHEDULE_ID}&partialFailure=true"
    assert entries[1]["headers"]["authorization"] == "[REDACTED]"
    assert entries[1]["headers"]["wix-site-id"] == cfg.site_id
    assert entries[0]["body"]["client_secret"] == "[REDACTED]"
    assert entries[0]["body"]["client_id"] == cfg.client_id
    assert entries[2]["body"]["password"] == "[REDACTED]"
    assert entries[2]["body"]["email"] == cfg.credentials_email
    assert entries[3]["body"]["client_secret"] == "[REDACTED]"
    for entry in entries:
        assert entry["request_id"] and entry["time"] and entry["duration_ms"] >= 0
    everything = json.dumps(entries)
    for secret in (cfg.api_key, cfg.client_secret, cfg.credentials_password, token, "form-secret"):
        assert secret not in everything
    # The in-process view is the same.
    assert wix.emulator.state.request_log() == entries


def test_request_log_filters_and_clear(wix: WixHttp) -> None:
    wix.get(f"{API}/providers")
    wix.get(f"{API}/connections")
    wix.get("/bookings/v2/external-calendar/providers")
    entries = wix.admin("GET", "/requests").json()["requests"]
    assert [e["route"] for e in entries] == ["list_providers", "list_connections", None]
    assert entries[2]["status"] == 404
    only = wix.admin("GET", "/requests", params={"route": "list_connections"}).json()["requests"]
    assert [e["path"] for e in only] == [f"{API}/connections"]
    since = wix.admin("GET", "/requests", params={"since": entries[0]["seq"]}).json()["requests"]
    assert len(since) == 2
    assert wix.admin("DELETE", "/requests").status_code == 200
    assert wix.admin("GET", "/requests").json()["requests"] == []


def test_state_shows_providers_schedules_and_connections(wix: WixHttp) -> None:
    conn = wix.emulator.state.create_connection(GOOGLE_PROVIDER_ID, BUSINESS_SCHEDULE_ID)
    state = wix.admin("GET", "/state").json()
    assert [p["name"] for p in state["providers"]] == ["Google Calendar", "Apple Calendar", "Outlook or Office 365"]
    assert len(state["schedules"]) == 1 + wix.emulator.config.schedules
    assert state["schedules"][0] == {
        "id": BUSINESS_SCHEDULE_ID,
        "ownerId": state["schedules"][0]["ownerId"],
        "ownerName": "Site Owner",
        "type": "BUSINESS",
    }
    assert state["connections"] == [conn]
    assert [c["name"] for c in state["calendars"][conn["id"]]] == ["Primary", "Birthdays", "Holidays"]
    assert cfg_has_no_secrets(state["config"], wix)


def cfg_has_no_secrets(config: dict, wix: WixHttp) -> bool:
    values = json.dumps(config)
    return wix.emulator.config.api_key not in values and wix.emulator.config.client_secret not in values


def test_schedules_are_deterministic_per_seed(wix: WixHttp) -> None:
    first = [s.id for s in wix.emulator.state.schedules()]
    wix.admin("POST", "/reset")
    assert [s.id for s in wix.emulator.state.schedules()] == first
    wix.admin("POST", "/reset", json={"config": {"seed": 7, "schedules": 2}})
    other = [s.id for s in wix.emulator.state.schedules()]
    assert len(other) == 3 and other[0] == BUSINESS_SCHEDULE_ID and other[1:] != first[1:3]
    assert wix.admin("POST", "/reset", json={"config": {"nope": 1}}).status_code == 400


def test_reset_clears_everything(wix: WixHttp) -> None:
    wix.emulator.state.create_connection(GOOGLE_PROVIDER_ID, BUSINESS_SCHEDULE_ID)
    wix.emulator.state.set_faults(["500"])
    assert wix.get(f"{API}/providers").status_code == 500
    assert wix.admin("POST", "/reset").json() == {"status": "reset"}
    assert wix.get(f"{API}/connections").json() == {"connections": []}
    assert len(wix.admin("GET", "/requests").json()["requests"]) == 1


def test_offered_providers_are_configurable(wix: WixHttp) -> None:
    wix.admin("POST", "/reset", json={"config": {"providers": ["apple"]}})
    assert [p["name"] for p in wix.get(f"{API}/providers").json()["providers"]] == ["Apple Calendar"]
    body = {"providerId": GOOGLE_PROVIDER_ID, "scheduleId": BUSINESS_SCHEDULE_ID, "redirectUrl": "https://x.example"}
    assert wix.post(f"{API}/connections:connectByOAuth", json=body).status_code == 404
    assert wix.admin("POST", "/reset", json={"config": {"providers": ["yahoo"]}}).status_code == 400


def test_seed_schedules(wix: WixHttp) -> None:
    given = {"id": "89e20858-bfa1-462b-b813-074fb1e4d62f", "ownerId": str(uuid.uuid4()), "ownerName": "Jane Doe"}
    response = wix.admin("POST", "/schedules", json={"schedules": [given, {}]})
    assert response.status_code == 200
    created = response.json()["schedules"]
    assert created[0] == {**given, "type": "STAFF"}
    assert len(created[1]["id"]) == 36
    assert wix.admin("POST", "/schedules", json=given).status_code == 400  # already exists
    assert wix.admin("POST", "/schedules", json={"id": "bad"}).status_code == 400


def test_seed_connection_status_and_sync(wix: WixHttp) -> None:
    schedule = wix.emulator.state.staff_schedules()[0].id
    created = wix.admin(
        "POST",
        "/connections",
        json={
            "providerId": APPLE_PROVIDER_ID,
            "scheduleId": schedule,
            "status": "CONNECTED",
            "externalAccountEmail": "x@example.com",
            "eventsPerDay": 10,
        },
    )
    assert created.status_code == 200
    conn = created.json()["connection"]
    assert (conn["status"], conn["externalAccountEmail"]) == ("CONNECTED", "x@example.com")
    # A seeded connection stays where it was put.
    assert wix.get(f"{API}/connections/{conn['id']}").json()["connection"]["status"] == "CONNECTED"
    errored = wix.admin(
        "POST",
        f"/connections/{conn['id']}/status",
        json={"status": "ERROR", "errorReason": "EXTERNAL_CALENDAR_DELETED"},
    ).json()["connection"]
    assert errored["errorReason"] == "EXTERNAL_CALENDAR_DELETED"
    assert wix.admin("POST", f"/connections/{conn['id']}/sync").json()["connection"]["status"] == "SYNCED"
    assert "errorReason" not in wix.get(f"{API}/connections/{conn['id']}").json()["connection"]
    assert wix.admin("POST", f"/connections/{conn['id']}/status", json={"status": "BROKEN"}).status_code == 400
    assert wix.admin("POST", "/connections/nope/sync").status_code == 404
    assert wix.admin("POST", "/connections", json={"providerId": APPLE_PROVIDER_ID}).status_code == 400


def test_provider_failure_and_time_endpoints(wix: WixHttp) -> None:
    response = wix.admin("POST", f"/providers/{GOOGLE_PROVIDER_ID}/failure", json={"failing": True})
    assert response.json() == {"failing_provider_ids": [GOOGLE_PROVIDER_ID]}
    wix.admin("POST", f"/providers/{GOOGLE_PROVIDER_ID}/failure", json={"failing": False})
    assert wix.admin("GET", "/state").json()["failing_provider_ids"] == []
    assert wix.admin("POST", "/time", json={"advance": 30}).json() == {"time_offset": 30.0}


def test_admin_routes_are_not_logged_and_not_authenticated(wix: WixHttp) -> None:
    wix.admin("GET", "/state")
    wix.admin("GET", "/faults")
    assert wix.emulator.state.request_log() == []


def test_a_call_is_in_the_request_log_before_its_answer_arrives() -> None:
    """A client that has its answer finds the call logged (no race with the server thread).

    Driven through the app's ASGI interface so the check runs at the exact moment the last byte of
    the answer is handed to the server: over HTTP the race shows only now and then.
    """
    import asyncio
    from typing import Any

    from airflow_provider_wix.emulator import EmulatorState, create_app

    state = EmulatorState()
    app = create_app(state)
    headers = [(b"authorization", state.config.api_key.encode()), (b"wix-site-id", state.config.site_id.encode())]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": f"{API}/providers",
        "raw_path": f"{API}/providers".encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    logged_when_answered: list[int] = []
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])
        elif not message.get("more_body", False):
            logged_when_answered.append(len(state.request_log()))

    asyncio.run(app(scope, receive, send))

    assert statuses == [200]
    assert logged_when_answered == [1]
    assert [(e["route"], e["status"]) for e in state.request_log()] == [("list_providers", 200)]
