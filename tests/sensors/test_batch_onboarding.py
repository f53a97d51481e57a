"""Batch onboarding pieces under ``dag.test()``: BatchConnectByOAuthOperator, WixOAuthCallbackBatchSensor
(one trigger for many flows) and BatchUpdateSyncConfigOperator, against the emulator over HTTP and the
plugin on Airflow's real API server (``tests/dags/wix_oauth_batch.py``)."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_wix.callback.state import BATCH_KEY_PREFIX, FLOW_KEY_PREFIX, FlowRecord, batch_key
from airflow_provider_wix.emulator.state import MICROSOFT_PROVIDER_ID
from tests.conftest import run_dag, task_states, xcom_value
from tests.example_dags.conftest import CalendarOwners

DAG_ID = "wix_oauth_batch"


def _variables(prefix: str) -> dict[str, str]:
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        return {v.key: v.val for v in session.scalars(select(Variable).where(Variable.key.startswith(prefix)))}


def _schedules(wix_conn: Any, n: int) -> list[str]:
    return [s.id for s in wix_conn.state.staff_schedules()[:n]]


def _conf(schedule_ids: list[str], **overrides: Any) -> dict[str, Any]:
    entries = [
        {"schedule_id": s, "provider_id": MICROSOFT_PROVIDER_ID, "owner_name": f"Owner {s[:4]}"} for s in schedule_ids
    ]
    return {"schedules": entries, **overrides}


def test_one_trigger_waits_for_every_owner_of_the_batch_through_the_routes_answer_list(
    wix_conn, airflow_api_server, capfd
):
    from airflow_provider_wix.dashboard.sources import clear_caches, consent_link

    clear_caches()  # nothing cached: an owner's landing page that asked Wix would show in the request log
    allows, declines, silent, allows_too = _schedules(wix_conn, 4)
    with CalendarOwners(wix_conn.url, {declines: "deny", silent: "never"}):
        dag_run = run_dag(DAG_ID, _conf([allows, declines, silent, allows_too]))

    assert task_states(dag_run) == dict.fromkeys(["connect", "wait_for_owners", "configure_sync"], "success")
    # The wait has no safety poll in this DAG (3600 s): only the callback route's listing of each
    # answer in the batch's Variable can have ended it before its 20 s deadline with these outcomes.
    outcomes = xcom_value(dag_run, "wait_for_owners")
    assert {s: o["outcome"] for s, o in outcomes.items()} == {
        allows: "connected",
        declines: "declined",
        silent: "timed_out",
        allows_too: "connected",
    }
    for schedule_id in (allows, allows_too):
        connection = wix_conn.state.connection(outcomes[schedule_id]["connection_id"])
        assert connection["scheduleId"] == schedule_id
        assert connection["syncConfig"]["listEventFromCalendars"] == {"enabled": True, "primaryCalendar": {}}
    assert xcom_value(dag_run, "configure_sync") == {
        allows: {"status": "configured", "detail": "sync config applied"},
        allows_too: {"status": "configured", "detail": "sync config applied"},
    }
    out, err = capfd.readouterr()
    assert f"Waiting for 4 owner(s) (Owner {allows[:4]}, Owner {declines[:4]}" in out + err

    # Answered flows are kept without their secret (the owner's reload sees the same page); the
    # silent owner's link is withdrawn; the batch's answer list is gone with its wait.
    # (Records of earlier tests' runs are kept until they expire: look at this run's only.)
    found = [FlowRecord.from_json(v) for v in _variables(FLOW_KEY_PREFIX).values()]
    records = {r.schedule_id: r for r in found if r.run_id == dag_run.run_id}
    assert set(records) == {allows, declines, allows_too}
    assert all(r.is_consumed and r.secret_redirect_url is None for r in records.values())
    assert batch_key(DAG_ID, dag_run.run_id, "connect", -1) not in _variables(BATCH_KEY_PREFIX)
    # The dashboard shows each owner's own link of the batch.
    links = xcom_value(dag_run, "connect", key="oauth_urls")
    assert consent_link(records[allows]) == links[allows] != consent_link(records[declines]) == links[declines]
    # The raw states never reach XCom: only flow ids (digests) and the consent links.
    states = [f["redirect_url"].rsplit("/", 1)[1] for f in wix_conn.state.oauth_flows(include_decided=True)]
    for task_id in ("connect", "wait_for_owners", "configure_sync"):
        assert not any(state in repr(xcom_value(dag_run, task_id)) for state in states)

    # One List Connections checks both new connections; the configure task looks up each provider
    # (no provider objects were passed in this DAG) and updates each. The owners' landing pages ask
    # Wix nothing: the owner's name is in each flow record.
    calls = sorted(r["route"] for r in wix_conn.state.request_log())
    assert calls == sorted(
        ["connect_by_oauth"] * 4 + ["list_connections"] + ["get_connection", "list_providers", "update_sync_config"] * 2
    )
    assert all(r.owner_name == f"Owner {s[:4]}" for s, r in records.items())


def test_a_retried_batch_connect_invites_no_owner_twice(wix_conn, airflow_api_server):
    first, dies_at, last = _schedules(wix_conn, 3)
    with CalendarOwners(wix_conn.url, {}):
        dag_run = run_dag(DAG_ID, _conf([first, dies_at, last], die_at=dies_at))

    states = task_states(dag_run)
    assert states == dict.fromkeys(["connect", "wait_for_owners", "configure_sync"], "success"), states
    # The first try died after issuing the second owner's link; the retry issued only the third.
    flows = {f["schedule_id"]: f["status"] for f in xcom_value(dag_run, "connect")["flows"]}
    assert flows == {first: "already_invited", dies_at: "already_invited", last: "invited"}
    assert [r["route"] for r in wix_conn.state.request_log()].count("connect_by_oauth") == 3
    assert len(wix_conn.state.oauth_flows(include_decided=True)) == 3
    outcomes = xcom_value(dag_run, "wait_for_owners")
    assert {s: o["outcome"] for s, o in outcomes.items()} == dict.fromkeys([first, dies_at, last], "connected")


@pytest.mark.parametrize(
    "entries",
    [
        [{"schedule_id": "not-a-guid", "provider_id": MICROSOFT_PROVIDER_ID}],
        [{"schedule_id": "89e20858-bfa1-462b-b813-074fb1e4d62f"}],
        "not a list",
    ],
)
def test_bad_batch_input_fails_before_any_request(wix_conn, entries):
    dag_run = run_dag(DAG_ID, {"schedules": entries})

    assert task_states(dag_run)["connect"] == "failed"
    assert wix_conn.state.request_log() == []
    assert wix_conn.state.oauth_flows(include_decided=True) == []
