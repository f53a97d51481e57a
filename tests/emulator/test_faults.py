"""Fault injection (every kind, per route and global, sequences, seeded probabilities) and the rate limit."""

from __future__ import annotations

import time

import pytest
import requests

from airflow_provider_wix.emulator import FaultRule, parse_fault_spec
from tests.emulator.conftest import API, WixHttp, example

PROVIDERS = f"{API}/providers"


def statuses(wix: WixHttp, n: int, path: str = PROVIDERS) -> list[int]:
    return [wix.get(path).status_code for _ in range(n)]


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_status_faults(wix: WixHttp, status: int) -> None:
    wix.emulator.state.set_faults([FaultRule(kind=str(status), route="list_providers", times=1, retry_after=7)])
    response = wix.get(PROVIDERS)
    assert response.status_code == status
    assert response.headers["x-wix-request-id"]
    if status == 429:
        assert response.headers["retry-after"] == "7"
        assert response.json()["details"]["applicationError"]["code"] == "RESOURCE_EXHAUSTED"
    else:
        assert response.json() == example("error.system.response.json")
        assert "retry-after" not in response.headers
    assert wix.get(PROVIDERS).status_code == 200  # times=1: only once


def test_latency_fault(wix: WixHttp) -> None:
    wix.emulator.state.set_faults(["list_providers=latency:0.3"])
    started = time.monotonic()
    response = wix.get(PROVIDERS)
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    assert wix.get(f"{API}/connections").status_code == 200
    assert time.monotonic() - started < 0.25  # other routes are not slowed


def test_latency_exceeding_the_client_timeout(wix: WixHttp) -> None:
    wix.emulator.state.set_faults(["latency:0.5x1"])
    with pytest.raises(requests.exceptions.ReadTimeout):
        wix.get(PROVIDERS, timeout=0.1)


def test_dropped_connection_is_a_connection_error_for_the_client(wix: WixHttp) -> None:
    wix.emulator.state.set_faults(["list_providers=dropx1"])
    with pytest.raises(requests.exceptions.ConnectionError):
        wix.get(PROVIDERS)
    assert wix.get(PROVIDERS).status_code == 200  # the server is fine afterwards
    log = wix.emulator.state.request_log()
    assert [(e["status"], e["fault"]) for e in log] == [(None, "drop"), (200, None)]


def test_truncated_and_malformed_bodies(wix: WixHttp) -> None:
    wix.emulator.state.set_faults(["list_providers=truncate,malformed"])
    for _ in range(2):
        response = wix.get(PROVIDERS)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        with pytest.raises(requests.exceptions.JSONDecodeError):
            response.json()
    truncated, malformed = wix.emulator.state.request_log()
    assert (truncated["fault"], malformed["fault"]) == ("truncate", "malformed")
    assert wix.get(PROVIDERS).json() == example("list-providers.response.json")


def test_truncated_mutating_call_still_happens(wix: WixHttp) -> None:
    """A broken answer does not mean the call failed: the client cannot know (so it must be careful)."""
    cfg = wix.emulator.config
    body = {
        "providerId": "6687b1c3-82f2-4947-a68f-9b2355f49c2d",
        "scheduleId": wix.emulator.state.staff_schedules()[0].id,
        "email": cfg.credentials_email,
        "password": cfg.credentials_password,
    }
    wix.emulator.state.set_faults(["connect_by_credentials=truncatex1"])
    response = wix.post(f"{API}/connections:connectByCredentials", json=body)
    with pytest.raises(requests.exceptions.JSONDecodeError):
        response.json()
    assert len(wix.emulator.state.connections()) == 1


def test_fixed_sequence(wix: WixHttp) -> None:
    wix.emulator.state.set_faults(["list_providers=429:2,500,ok,502,503,504"])
    assert statuses(wix, 8) == [429, 500, 200, 502, 503, 504, 200, 200]


def test_global_rule_hits_every_wix_route_but_not_admin_or_consent(wix: WixHttp) -> None:
    wix.emulator.state.set_faults(["503"])
    assert wix.get(PROVIDERS).status_code == 503
    assert wix.get(f"{API}/events").status_code == 503
    assert wix.post("/oauth2/token", json={}).status_code == 503
    assert wix.admin("GET", "/health").status_code == 200
    assert wix.admin("GET", "/state").status_code == 200


def test_seeded_probability_is_reproducible(wix: WixHttp) -> None:
    def run() -> list[int]:
        wix.emulator.reset(type(wix.emulator.config)(seed=42, faults=["list_providers=500@0.5"]))
        return statuses(wix, 40)

    first = run()
    assert first == run()
    assert 5 < first.count(500) < 35
    assert first.count(200) + first.count(500) == 40


def test_probability_with_a_cap(wix: WixHttp) -> None:
    wix.emulator.state.set_faults([FaultRule(kind="502", probability=1.0, times=3)])
    assert statuses(wix, 5) == [502, 502, 502, 200, 200]


def test_faults_at_run_time_through_the_admin_api(wix: WixHttp) -> None:
    response = wix.admin(
        "POST",
        "/faults",
        json={"rules": [{"kind": "504", "route": "list_providers", "times": 1}], "specs": ["get_connection=500"]},
    )
    assert response.status_code == 200
    assert [r["kind"] for r in response.json()["rules"]] == ["504", "500"]
    assert wix.get(PROVIDERS).status_code == 504
    assert wix.get(f"{API}/connections/x").status_code == 500
    appended = wix.admin("POST", "/faults", json={"specs": ["list_events=429"], "append": True}).json()
    assert len(appended["rules"]) == 3
    assert wix.admin("DELETE", "/faults").json()["rules"] == []
    assert wix.get(f"{API}/connections/x").status_code == 404
    assert wix.admin("POST", "/faults", json={"specs": ["nonsense=500"]}).status_code == 400
    assert wix.admin("POST", "/faults", json={"rules": [{"kind": "418"}]}).status_code == 400


def test_rate_limit_per_credential(wix: WixHttp) -> None:
    wix.admin("POST", "/faults", json={"rate_limit": 3})
    assert statuses(wix, 4) == [200, 200, 200, 429]
    limited = wix.get(PROVIDERS)
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    # Another credential has its own budget.
    cfg = wix.emulator.config
    token = wix.post(
        "/oauth2/token",
        auth=False,
        json={
            "grant_type": "client_credentials",
            "client_id": cfg.client_id,
            "client_secret": cfg.client_secret,
            "instance_id": cfg.instance_id,
        },
    ).json()["access_token"]
    assert wix.get(PROVIDERS, auth=False, headers={"Authorization": token}).status_code == 200
    # The window slides: a minute later the key may call again.
    wix.emulator.state.advance_time(61)
    assert wix.get(PROVIDERS).status_code == 200
    assert [e["fault"] for e in wix.emulator.state.request_log()].count("rate_limit") == 2


@pytest.mark.wix_emulator(rate_limit=2, faults=["list_events=500x1"])
def test_faults_and_rate_limit_from_the_configuration(wix: WixHttp) -> None:
    assert wix.get(f"{API}/events").status_code == 500
    assert statuses(wix, 2) == [200, 429]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("503", {"kind": "503", "route": "*", "probability": 1.0, "times": None}),
        (
            "list_events=429:2.5@0.25x3",
            {"kind": "429", "route": "list_events", "probability": 0.25, "times": 3, "retry_after": 2.5},
        ),
        ("latency:0.2", {"kind": "latency", "latency": 0.2}),
        ("get_connection=500,ok,drop", {"kind": "sequence", "sequence": ["500", "ok", "drop"]}),
    ],
)
def test_fault_spec_parsing(spec: str, expected: dict) -> None:
    rule = parse_fault_spec(spec).to_json()
    assert {k: rule[k] for k in expected} == expected


@pytest.mark.parametrize("spec", ["teapot", "list_evnts=500", "500@2", "500,bogus", "=", "latency:abc"])
def test_bad_fault_specs_are_rejected(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_fault_spec(spec)
