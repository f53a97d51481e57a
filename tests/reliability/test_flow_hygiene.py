"""Hygiene of the OAuth flow records: abandoned flows do not pile up in the metadata database.

A flow is abandoned when nobody answers and no sensor withdraws it (the run was marked failed, the
DAG deleted): its record and waiter stay until the state expires. The API server's plugin purges
them on start and every ``PURGE_INTERVAL_SECONDS``, also when no callback ever arrives.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import pytest

from airflow_provider_wix.callback.recording import purge_expired_flows
from airflow_provider_wix.callback.state import (
    FLOW_KEY_PREFIX,
    TASK_KEY_PREFIX,
    WAITER_KEY_PREFIX,
    FlowRecord,
    flow_key,
    new_state_token,
    state_digest,
    task_key,
    utcnow,
    waiter_key,
)
from tests.callback.conftest import write_variable

ABANDONED = 1_000
LIVE = 50


def _insert_flows(count: int, *, expired: bool, consumed: bool = False) -> list[str]:
    """``count`` flow records with waiters, written like the operator and the sensor do (encrypted)."""
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session

    issued = utcnow() - timedelta(days=8) if expired else utcnow()
    flow_ids = []
    with create_session() as session:
        for n in range(count):
            state = new_state_token()
            flow_id = state_digest(state)
            record = FlowRecord.issue(
                dag_id="wix_bulk_onboarding",
                run_id=f"scheduled__{n}",
                task_id="onboard.connect",
                map_index=n,
                schedule_id="89e20858-bfa1-462b-b813-074fb1e4d62f",
                provider_id="a4989031-ec67-4939-b361-31d1e41e6aad",
                ttl=timedelta(days=7),
                redirect_url=f"https://airflow.example.com/wix/oauth/callback/{state}",
                now=issued,
            )
            if consumed:
                record = record.completed(connection_id=f"conn{n}", error=None).consumed()
            session.add(Variable(key=flow_key(flow_id), val=record.to_json()))
            session.add(Variable(key=waiter_key(flow_id), val='{"ti_id": "00000000-0000-0000-0000-000000000000"}'))
            session.add(Variable(key=_task_key(flow_id), val=flow_id))
            flow_ids.append(flow_id)
    return flow_ids


def _task_key(flow_id: str) -> str:
    """The Connect task's note of its flow (one task instance per flow here)."""
    return task_key("wix_bulk_onboarding", f"scheduled__{flow_id}", "onboard.connect", 0)


def _flow_keys(flow_ids: list[str]) -> set[str]:
    """Every key a flow has: its record, its waiter and its Connect task's note."""
    return {k for flow_id in flow_ids for k in (flow_key(flow_id), waiter_key(flow_id), _task_key(flow_id))}


def _keys() -> set[str]:
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session
    from sqlalchemy import or_, select

    with create_session() as session:
        rows = session.scalars(
            select(Variable.key).where(
                or_(*(Variable.key.startswith(p) for p in (FLOW_KEY_PREFIX, WAITER_KEY_PREFIX, TASK_KEY_PREFIX)))
            )
        )
        return set(rows)


@pytest.fixture
def clean_flows(airflow_db: Any) -> Any:
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session
    from sqlalchemy import delete

    def clean() -> None:
        with create_session() as session:
            session.execute(delete(Variable).where(Variable.key.startswith("wix_oauth_")))

    clean()
    yield
    clean()


def test_a_thousand_abandoned_flows_are_purged_after_expiry_and_live_ones_kept(clean_flows):
    """With their waiters and their Connect tasks' notes; a note whose flow is gone goes too."""
    abandoned = _insert_flows(ABANDONED - 100, expired=True)
    abandoned += _insert_flows(100, expired=True, consumed=True)  # outcomes kept for reloads, now expired
    live = _insert_flows(LIVE, expired=False)
    live += _insert_flows(LIVE, expired=False, consumed=True)
    write_variable(task_key("deleted_dag", "manual__1", "connect", -1), "0" * 64)  # its flow was deleted by hand
    assert len(_keys()) == 3 * (ABANDONED + 2 * LIVE) + 1

    started = time.perf_counter()
    purged = purge_expired_flows()
    elapsed = time.perf_counter() - started

    assert purged == ABANDONED
    assert _keys() == _flow_keys(live)
    assert purge_expired_flows() == 0  # nothing left to do: the sweep is idempotent
    print(f"purged {purged} abandoned flows (and their waiters) in {elapsed:.2f} s")


def test_the_api_server_purges_on_start_without_any_callback(clean_flows, monkeypatch):
    """No owner ever answers: nothing calls the route, and the plugin still sweeps on start."""
    from airflow.api_fastapi.app import create_app
    from fastapi.testclient import TestClient

    from airflow_provider_wix.callback import recording

    # A fresh API-server process has not swept yet (this test process has, for earlier tests).
    monkeypatch.setattr(recording, "_last_purge", float("-inf"))

    abandoned = _insert_flows(20, expired=True)
    live = _insert_flows(3, expired=False)
    with TestClient(create_app()) as client:
        assert client.get("/wix/health").status_code == 200
        deadline = time.monotonic() + 30
        while _keys() & {flow_key(f) for f in abandoned} and time.monotonic() < deadline:
            time.sleep(0.2)
    assert _keys() == _flow_keys(live)


# -- a cleared and re-run Connect task, on the production topology --------------------------------

E2E_DAG_ID = "wix_e2e_onboarding"


@pytest.fixture(scope="module")
def rerun_stack() -> Any:
    """The emulator and every Airflow component as separate processes (PostgreSQL, Celery, Redis)."""
    from airflow_provider_wix.emulator.server import run_emulator
    from airflow_provider_wix.emulator.state import EmulatorConfig
    from tests.conftest import TEST_DAGS, wix_connection_json
    from tests.e2e.topology import production_topology

    with (
        run_emulator(EmulatorConfig(seed=11, sync_delay=1)) as emulator,
        production_topology(
            TEST_DAGS, E2E_DAG_ID, {"AIRFLOW_CONN_WIX_DEFAULT": wix_connection_json(emulator)}
        ) as stack,
    ):
        yield emulator, stack


def _consent_url_of(emulator: Any, flow_id: str) -> str:
    """The consent page Wix made for the flow whose redirect URL carries the state of ``flow_id``."""
    (flow,) = [
        f
        for f in emulator.state.oauth_flows(include_decided=True)
        if state_digest(f["redirect_url"].rsplit("/", 1)[-1]) == flow_id
    ]
    return str(flow["consent_url"])


@pytest.mark.slow
def test_a_cleared_and_rerun_connect_task_starts_a_fresh_flow(rerun_stack):
    """Clearing the run's Connect task (and its downstream) issues a new state and flow; the old
    link answers "withdrawn" and wakes nothing; the re-run's sensor waits on, and ends with, the new one."""
    import requests

    emulator, stack = rerun_stack
    schedule_id = emulator.state.staff_schedules()[0].id
    run_id = stack.trigger(E2E_DAG_ID, {"schedule_id": schedule_id, "provider": "MICROSOFT"})
    stack.wait_for_task_state(E2E_DAG_ID, run_id, "wait_for_owner", {"deferred"}, timeout=240)
    old_flow = stack.xcom(E2E_DAG_ID, run_id, "connect", key="flow_id")

    stack.api(
        "POST",
        f"/dags/{E2E_DAG_ID}/clearTaskInstances",
        json={
            "dry_run": False,
            "dag_run_id": run_id,
            "task_ids": ["connect"],
            "include_downstream": True,
            "only_failed": False,
        },
    )

    def new_flow() -> str | None:
        if stack.task_instance(E2E_DAG_ID, run_id, "wait_for_owner")["state"] != "deferred":
            return None
        try:
            flow = stack.xcom(E2E_DAG_ID, run_id, "connect", key="flow_id")
        except requests.HTTPError:  # cleared, not pushed again yet
            return None
        return str(flow) if flow != old_flow else None

    from tests.e2e.topology import wait_until

    fresh_flow = wait_until(new_flow, 240, "the re-run's sensor to defer on a new flow", interval=0.5)
    old_record = json.loads(stack.api("GET", f"/variables/{flow_key(old_flow)}")["value"])
    assert old_record["status"] == "cancelled"
    assert json.loads(stack.api("GET", f"/variables/{flow_key(fresh_flow)}")["value"])["status"] == "pending"

    # The owner opens the old link (e.g. from the first e-mail): refused, and nothing is woken.
    old_page = requests.get(_consent_url_of(emulator, old_flow), params={"decision": "deny"}, timeout=30)
    assert old_page.status_code == 409 and "withdrawn" in old_page.text, (old_page.status_code, old_page.text[:500])
    assert json.loads(stack.api("GET", f"/variables/{flow_key(fresh_flow)}")["value"])["status"] == "pending"
    assert stack.task_instance(E2E_DAG_ID, run_id, "wait_for_owner")["state"] == "deferred"

    # The new link: the re-run's sensor resumes with it, and the run completes.
    page = requests.get(_consent_url_of(emulator, fresh_flow), params={"decision": "allow"}, timeout=30)
    assert page.status_code == 200 and "is connected" in page.text
    assert stack.wait_for_run(E2E_DAG_ID, run_id, timeout=240) == "success"
    connection_id = stack.xcom(E2E_DAG_ID, run_id, "wait_for_owner")
    assert emulator.state.connection(connection_id)["scheduleId"] == schedule_id
    # Issue 8, defect 6, after a real sensor in a Celery worker consumed the answer: a reload shows the same page.
    reload = requests.get(page.url, timeout=30)
    assert (reload.status_code, reload.text) == (200, page.text)
