"""Every example payload in tests/data/wix-examples/ against what the emulator answers: same shape.

Same keys and value types at every level; lists by the set of their elements' shapes (each shape in
the example appears in the answer and vice versa); strings also by kind (GUID, RFC 3339 time, other).
The example request bodies are sent as they are wherever the ids they name can exist here.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from airflow_provider_wix.emulator import BUSINESS_SCHEDULE_ID, GOOGLE_PROVIDER_ID, EmulatorConfig
from tests.emulator.conftest import API, EXAMPLES, WixHttp, example

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
APPLE_SCHEDULE = "89e20858-bfa1-462b-b813-074fb1e4d62f"
APPLE_OWNER = "dabe9c44-6f70-4c12-9c23-370407b76ded"
WEEK = {"from": "2026-10-05T00:00:00.000Z", "to": "2026-10-12T00:00:00.000Z"}


def shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted({json.dumps(shape(v), sort_keys=True) for v in value})
    if isinstance(value, str):
        return "guid" if GUID.match(value) else "time" if TIME.match(value) else "str"
    return type(value).__name__


def assert_same_shape(actual: Any, expected: Any, path: str = "$") -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: {type(actual).__name__} instead of an object"
        missing, extra = set(expected) - set(actual), set(actual) - set(expected)
        assert not missing and not extra, f"{path}: missing keys {sorted(missing)}, extra keys {sorted(extra)}"
        for key in expected:
            assert_same_shape(actual[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and actual, f"{path}: {actual!r} instead of a non-empty list"
        assert shape(actual) == shape(expected), f"{path}: element shapes {shape(actual)} != {shape(expected)}"
    else:
        assert shape(actual) == shape(expected), f"{path}: {actual!r} ({shape(actual)}) vs {expected!r}"


def test_the_shape_check_can_fail() -> None:
    good = example("get-connection.response.json")
    assert_same_shape(json.loads(json.dumps(good)), good)
    broken = json.loads(json.dumps(good))
    del broken["connection"]["syncConfig"]["syncToCalendar"]
    with pytest.raises(AssertionError, match="missing keys"):
        assert_same_shape(broken, good)
    broken = json.loads(json.dumps(good))
    broken["connection"]["scheduleId"] = "not-a-guid"
    with pytest.raises(AssertionError):
        assert_same_shape(broken, good)
    with pytest.raises(AssertionError):
        assert_same_shape({"events": [{"allDay": "true"}]}, {"events": [{"allDay": True}]})


@pytest.fixture
def answers(wix_emulator: Any) -> dict[str, Any]:
    """Walk the documented flows with the example requests and keep every answer by example name."""
    creds = example("connect-by-credentials.request.json")
    wix_emulator.reset(EmulatorConfig(credentials_email=creds["email"], credentials_password=creds["password"]))
    wix = WixHttp(wix_emulator)
    state = wix_emulator.state
    state.add_schedule(APPLE_SCHEDULE, APPLE_OWNER, "Jane Doe")
    got: dict[str, Any] = {"list-providers.response.json": wix.get(f"{API}/providers").json()}

    response = wix.post(f"{API}/connections:connectByCredentials", json=creds)
    got["connect-by-credentials.response.json"] = response.json()
    apple_id = response.json()["connection"]["id"]
    got["list-calendars.response.json"] = wix.get(f"{API}/connections/{apple_id}/calendars").json()

    # The example names two calendars of its own account; use this account's first two instead.
    update = example("update-sync-config.request.json")
    ids = [c["id"] for c in got["list-calendars.response.json"]["calendars"]][:2]
    update["syncConfig"]["listEventFromCalendars"]["calendars"]["calendars"] = [{"id": i} for i in reversed(ids)]
    got["update-sync-config.response.json"] = wix.patch(f"{API}/connections/{apple_id}/sync-config", json=update).json()
    got["get-connection.response.json"] = wix.get(f"{API}/connections/{apple_id}").json()

    # Google on the business schedule (the example's Google connection has no userId).
    oauth = {**example("connect-by-oauth.request.json"), "scheduleId": BUSINESS_SCHEDULE_ID}
    got["connect-by-oauth.response.json"] = wix.post(f"{API}/connections:connectByOAuth", json=oauth).json()
    consent = got["connect-by-oauth.response.json"]["oauthUrl"]
    assert wix.session.get(consent, params={"decision": "allow"}, allow_redirects=False).status_code == 302

    got["list-connections.response.json"] = wix.get(f"{API}/connections").json()
    got["list-events.response.json"] = wix.get(
        f"{API}/events", params={**WEEK, "allDay": "false", "cursorPaging.limit": 2}
    ).json()
    got["list-events.own-pi.response.json"] = wix.get(
        f"{API}/events",
        params={**WEEK, "scheduleIds": APPLE_SCHEDULE, "fieldsets": "OWN_PI", "cursorPaging.limit": 1000},
    ).json()
    state.set_provider_failing(GOOGLE_PROVIDER_ID)
    got["list-connections.partial-failure.response.json"] = wix.get(
        f"{API}/connections", params={"partialFailure": "true"}
    ).json()
    state.set_provider_failing(GOOGLE_PROVIDER_ID, False)

    got["disconnect.response.json"] = wix.post(
        f"{API}/connections/{apple_id}/disconnect", json=example("disconnect.request.json")
    ).json()
    got["error.disconnect-already-disconnected.response.json"] = wix.post(
        f"{API}/connections/{apple_id}/disconnect"
    ).json()
    got["error.connect-by-credentials-bad-credentials.response.json"] = wix.post(
        f"{API}/connections:connectByCredentials", json={**creds, "password": "wrong"}
    ).json()
    got["error.validation.response.json"] = wix.post(
        f"{API}/connections:connectByCredentials", json={**creds, "scheduleId": "89e20858"}
    ).json()
    token_request = {
        "grant_type": "client_credentials",
        "client_id": wix_emulator.config.client_id,
        "client_secret": wix_emulator.config.client_secret,
        "instance_id": wix_emulator.config.instance_id,
    }
    assert set(token_request) == set(example("oauth2-token.request.json"))
    got["oauth2-token.response.json"] = wix.post("/oauth2/token", auth=False, json=token_request).json()
    state.set_faults(["list_providers=500x1"])
    got["error.system.response.json"] = wix.get(f"{API}/providers").json()
    return got


RESPONSE_EXAMPLES = sorted(p.name for p in EXAMPLES.glob("*.response.json"))


def test_every_response_example_is_covered(answers: dict[str, Any]) -> None:
    assert sorted(answers) == RESPONSE_EXAMPLES


@pytest.mark.parametrize("name", RESPONSE_EXAMPLES)
def test_answer_has_the_shape_of_the_example(answers: dict[str, Any], name: str) -> None:
    assert_same_shape(answers[name], example(name))


def test_error_examples_match_exactly(answers: dict[str, Any]) -> None:
    """The codes, texts and data of these errors are the examples' own (they are invented but fixed)."""
    for name in (
        "error.system.response.json",
        "error.disconnect-already-disconnected.response.json",
        "error.connect-by-credentials-bad-credentials.response.json",
        "error.validation.response.json",
    ):
        assert answers[name] == example(name), name
