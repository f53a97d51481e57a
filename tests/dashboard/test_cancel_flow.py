"""Cancelling a pending flow (the dashboard's action) fails the waiting sensor and retires the link."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from tests.conftest import run_dag, task_states, xcom_value


def cancel_when_pending(schedule_id: str, by: str, result: dict[str, Any]) -> threading.Thread:
    """Wait for the schedule's pending flow, then cancel it as the dashboard's route does."""
    from airflow_provider_wix.callback.recording import cancel_flow
    from airflow_provider_wix.dashboard.sources import read_flows

    def run() -> None:
        deadline = time.monotonic() + 300  # a loaded machine can take minutes to reach the sensor
        while time.monotonic() < deadline:
            pending = [e for e in read_flows() if e.record.schedule_id == schedule_id and e.record.is_pending]
            if pending:
                time.sleep(1)  # let the sensor defer first, so the cancel wakes it
                result["flow_id"] = pending[0].flow_id
                result["outcome"] = cancel_flow(pending[0].flow_id, by=by)
                return
            time.sleep(0.2)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_cancelled_flow_fails_its_sensor_with_the_users_name(airflow_api_server, wix_conn, capfd):
    import requests

    from airflow_provider_wix.dashboard.sources import read_flows

    schedule_id = wix_conn.state.staff_schedules()[0].id
    start = datetime.now(timezone.utc).replace(microsecond=0)
    conf = {
        "schedule_id": schedule_id,
        "from_": start.isoformat(),
        "to": (start + timedelta(days=1)).isoformat(),
    }
    result: dict[str, Any] = {}
    canceller = cancel_when_pending(schedule_id, "alice", result)
    dag_run = run_dag("wix_oauth_core", conf)
    canceller.join(5)

    assert "outcome" in result
    states = task_states(dag_run)
    assert states["wait_for_owner"] == "failed"
    assert states["list_connections"] == "upstream_failed"
    out, err = capfd.readouterr()
    assert f"Onboarding of schedule {schedule_id} cancelled by alice" in out + err
    assert xcom_value(dag_run, "wait_for_owner", key="outcome") == "cancelled"

    # The sensor keeps the cancelled record (its non-secret outcome) until expiry, as it does for an
    # answer: the dashboard still shows the row, and the owner who opens the link afterwards is told
    # it was withdrawn, not that it is unknown.
    # (Only this run's flow: earlier tests' answered flows of the same schedule are kept until expiry too.)
    kept = [e.record for e in read_flows() if e.flow_id == result["flow_id"]]
    assert [(r.status.value, r.cancelled_by, r.is_consumed) for r in kept] == [("cancelled", "alice", True)]
    assert kept[0].secret_redirect_url is None
    flow = wix_conn.state.pending_oauth_flows()[0]
    page = requests.get(flow["consent_url"], params={"decision": "allow"}, timeout=30)
    assert page.status_code == 409, page.text
    assert "withdrawn" in page.text
