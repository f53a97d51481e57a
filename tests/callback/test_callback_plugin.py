"""The OAuth callback route, mounted on Airflow's own API-server app as in production."""

from __future__ import annotations

import dataclasses
import json
import threading
from datetime import timedelta
from typing import Any

import pytest

from airflow_provider_wix.callback.recording import CallbackRefused, purge_expired_flows, record_callback
from airflow_provider_wix.callback.state import FlowStatus, flow_key, new_state_token, state_digest, utcnow, waiter_key
from airflow_provider_wix.client.models import OAuthCallbackError
from tests.callback.conftest import SCHEDULE_ID, consume_flow_record, raw_flow_value, read_flow, write_variable

CONNECTION_ID = "u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8dKLzdocJ2isAjIhKtJ0RlgLK"


@pytest.fixture(scope="module")
def api(airflow_db: Any) -> Any:
    """A test client for the whole Airflow API server (``create_app()``), plugins included."""
    from airflow.api_fastapi.app import create_app
    from fastapi.testclient import TestClient

    with TestClient(create_app()) as client:
        yield client


def test_plugin_is_mounted_without_airflow_login(api):
    health = api.get("/wix/health")
    assert health.status_code == 200
    assert health.json()["plugin"] == "wix_oauth_callback"
    # The core API next to it does require a login; the callback must not.
    assert api.get("/api/v2/dags").status_code in (401, 403)


def test_success_records_connection_and_renders_page(api, wix_conn, issue_flow):
    state = issue_flow()
    response = api.get(f"/wix/oauth/callback/{state}", params={"connectionId": CONNECTION_ID})
    assert response.status_code == 200
    assert "Your Microsoft calendar is connected" in response.text
    assert "appear in Wix within minutes" in response.text
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    record = read_flow(state)
    assert record is not None
    assert record.status is FlowStatus.COMPLETED
    assert record.connection_id == CONNECTION_ID
    assert record.error is None


def test_json_clients_get_json(api, issue_flow):
    state = issue_flow()
    response = api.get(
        f"/wix/oauth/callback/{state}",
        params={"connectionId": CONNECTION_ID},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200
    assert response.json() == {
        "status": "connected",
        "scheduleId": SCHEDULE_ID,
        "connectionId": CONNECTION_ID,
    }


@pytest.mark.parametrize(
    ("names", "heading", "thanks"),
    [
        # What ConnectByOAuthOperator records when it knows the provider object and the owner's name.
        (
            {"provider_name": "Microsoft", "owner_name": "Ada Lovelace"},
            "Your Microsoft calendar is connected",
            "Thank you, Ada Lovelace.",
        ),
        # A record an older version saved, without those fields: still a page, in neutral words.
        (None, "Your calendar is connected", "Thank you. Wix"),
    ],
    ids=["named", "older-record"],
)
def test_the_owner_page_asks_wix_nothing(api, wix_conn, issue_flow, names, heading, thanks):
    """Issue 12: the anonymous route named provider and owner through Wix look-ups (List Providers,
    Query Staff Members, and a token for the API server): extra calls against the site's rate limit
    for every owner who answers. The names come from the flow record now; Wix is not asked at all."""
    from airflow_provider_wix.dashboard.sources import clear_caches

    clear_caches()  # nothing cached: a route that looked names up would have to ask Wix now
    state = issue_flow(**(names or {}))
    if names is None:
        record = read_flow(state)
        assert record is not None
        older = {k: v for k, v in json.loads(record.to_json()).items() if k not in ("provider_name", "owner_name")}
        write_variable(flow_key(state_digest(state)), json.dumps(older))
    wix_conn.state.clear_request_log()

    page = api.get(f"/wix/oauth/callback/{state}", params={"connectionId": CONNECTION_ID})
    reload = api.get(f"/wix/oauth/callback/{state}", params={"connectionId": CONNECTION_ID})

    assert [e["route"] for e in wix_conn.state.request_log()] == []
    assert page.status_code == 200 and reload.text == page.text
    assert f"<h1>{heading}</h1>" in page.text
    assert thanks in page.text


@pytest.mark.parametrize(
    ("error", "words"),
    [
        ("reject", "You chose not to share your Microsoft calendar with Wix"),
        ("unsupported", "Microsoft does not allow this type of account"),
        ("internal", "will send you a new one"),
    ],
)
def test_error_outcomes_are_recorded_and_explained(api, wix_conn, issue_flow, error, words):
    state = issue_flow()
    response = api.get(f"/wix/oauth/callback/{state}", params={"error": error})
    assert response.status_code == 200
    assert words in response.text
    record = read_flow(state)
    assert record is not None
    assert record.error is OAuthCallbackError(error)
    assert record.connection_id is None


@pytest.mark.parametrize(
    "query",
    [
        "",
        "connectionId=a&error=reject",
        "connectionId=a&connectionId=b",
        "error=reject&error=reject",
        "error=nope",
        "connectionId=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    ],
)
def test_bad_queries_are_refused_and_record_nothing(api, issue_flow, query):
    state = issue_flow()
    response = api.get(f"/wix/oauth/callback/{state}?{query}")
    assert response.status_code == 400
    assert "<script>" not in response.text
    record = read_flow(state)
    assert record is not None
    assert record.status is FlowStatus.PENDING


def test_unknown_and_malformed_states_are_refused(api, issue_flow):
    issue_flow()
    unknown = api.get(f"/wix/oauth/callback/{new_state_token()}", params={"connectionId": CONNECTION_ID})
    assert unknown.status_code == 404
    malformed = api.get("/wix/oauth/callback/<b>forged</b>", params={"connectionId": CONNECTION_ID})
    assert malformed.status_code in (400, 404)
    assert "<b>" not in malformed.text


def test_reused_state_is_refused_and_first_result_kept(api, issue_flow):
    state = issue_flow()
    assert api.get(f"/wix/oauth/callback/{state}", params={"connectionId": CONNECTION_ID}).status_code == 200
    again = api.get(f"/wix/oauth/callback/{state}", params={"error": "reject"})
    assert again.status_code == 409
    record = read_flow(state)
    assert record is not None and record.connection_id == CONNECTION_ID and record.error is None


def test_expired_state_is_refused_and_not_recorded(api, issue_flow):
    state = issue_flow(ttl=timedelta(seconds=-1))
    response = api.get(f"/wix/oauth/callback/{state}", params={"connectionId": CONNECTION_ID})
    assert response.status_code == 410
    record = read_flow(state)
    assert record is not None and record.status is FlowStatus.PENDING


def test_concurrent_callbacks_record_exactly_one_result(issue_flow):
    state = issue_flow()
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def deliver(i: int) -> None:
        barrier.wait()
        try:
            record_callback(state, connection_id=f"conn{i}", error=None)
            outcomes.append(f"conn{i}")
        except CallbackRefused as refused:
            outcomes.append(str(refused.http_status))

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [o for o in outcomes if o.startswith("conn")]
    assert len(winners) == 1, outcomes
    assert sorted(o for o in outcomes if not o.startswith("conn")) == ["409"] * 7
    record = read_flow(state)
    assert record is not None and record.connection_id == winners[0]


def test_waiter_that_is_not_deferred_is_not_woken(issue_flow):
    import uuid

    from airflow_provider_wix.callback.state import state_digest

    state = issue_flow()
    write_variable(waiter_key(state_digest(state)), f'{{"ti_id": "{uuid.uuid4()}"}}')
    outcome = record_callback(state, connection_id=CONNECTION_ID, error=None)
    assert outcome.woke_task is False
    assert outcome.record.connection_id == CONNECTION_ID


def test_expired_flows_are_purged_with_their_waiters(issue_flow):
    from airflow_provider_wix.callback.state import state_digest

    expired = issue_flow(ttl=timedelta(seconds=-1))
    live = issue_flow()
    write_variable(waiter_key(state_digest(expired)), '{"ti_id": "x"}')
    assert purge_expired_flows() == 1
    assert read_flow(expired) is None
    assert read_flow(live) is not None


@pytest.mark.parametrize(
    ("query", "title"),
    [
        ({"connectionId": CONNECTION_ID}, "is connected"),
        ({"error": "reject"}, "You declined the connection"),
    ],
)
def test_reloading_the_outcome_page_shows_it_again_and_records_nothing(api, issue_flow, query, title):
    """Issue 8, defect 6: a reload (or a restored tab) used to say "This link cannot be used"."""
    state = issue_flow()
    url = f"/wix/oauth/callback/{state}"
    first = api.get(url, params=query)
    assert first.status_code == 200 and title in first.text
    stored, record = raw_flow_value(state), read_flow(state)

    reload = api.get(url, params=query)
    assert (reload.status_code, reload.text) == (200, first.text)
    assert reload.headers["content-security-policy"] == first.headers["content-security-policy"]
    assert raw_flow_value(state) == stored  # nothing was written: the record stays exactly-once
    assert read_flow(state) == record

    # Once the sensor has consumed the answer, only the non-secret outcome is kept, and it still answers.
    consume_flow_record(state)
    consumed = read_flow(state)
    assert consumed is not None and consumed.is_consumed and consumed.secret_redirect_url is None
    after = api.get(url, params=query)
    assert (after.status_code, after.text) == (200, first.text)
    as_json = api.get(url, params=query, headers={"Accept": "application/json"})
    assert as_json.status_code == 200 and as_json.json()["scheduleId"] == SCHEDULE_ID
    assert read_flow(state) == consumed


def test_a_different_answer_on_a_used_link_is_still_refused_after_consumption(api, issue_flow):
    state = issue_flow()
    assert api.get(f"/wix/oauth/callback/{state}", params={"connectionId": CONNECTION_ID}).status_code == 200
    consume_flow_record(state)
    for query in ({"error": "reject"}, {"connectionId": CONNECTION_ID + "x"}):
        assert api.get(f"/wix/oauth/callback/{state}", params=query).status_code == 409
    record = read_flow(state)
    assert record is not None and record.connection_id == CONNECTION_ID


def test_a_reload_after_the_link_expired_says_so(api, issue_flow):
    state = issue_flow(ttl=timedelta(seconds=2))
    assert api.get(f"/wix/oauth/callback/{state}", params={"error": "reject"}).status_code == 200
    record = read_flow(state)
    assert record is not None
    write_variable(
        flow_key(state_digest(state)),
        dataclasses.replace(record, expires_at=(utcnow() - timedelta(seconds=1)).isoformat()).to_json(),
    )
    assert api.get(f"/wix/oauth/callback/{state}", params={"error": "reject"}).status_code == 410
