"""ListStaffMembersOperator over real HTTP (the emulator) in a real Airflow run (``dag.test()``)."""

from __future__ import annotations

import pytest

from tests.conftest import run_dag, task_states, xcom_value

pytestmark = pytest.mark.usefixtures("airflow_db")


def test_list_staff_members_operator(wix_conn):
    state = wix_conn.state
    dag_run = run_dag("wix_staff_members")

    states = task_states(dag_run)
    assert states == {"service_providers": "success", "everyone": "success", "by_name": "success", "bad_time": "failed"}
    everyone = xcom_value(dag_run, "everyone")
    providers = xcom_value(dag_run, "service_providers")
    assert len(everyone) == len(state.staff_schedules())
    assert len(providers) == len(everyone) - 1 and all(m["service_provider"] for m in providers)
    assert {m["schedule_id"] for m in everyone} == {s.id for s in state.staff_schedules()}
    hidden = [m for m in everyone if not m["email"]]
    assert len(hidden) == 1 and "BOOKINGS.STAFF_MEMBER_READ_PI" in hidden[0]["email_hidden_reason"]
    (john,) = xcom_value(dag_run, "by_name")
    assert john["name"] == "John Smith"
    # The bad time never reached Wix.
    bodies = [e["body"] for e in state.request_log() if e["route"] == "query_staff_members"]
    assert all("yesterday" not in str(b) for b in bodies)
