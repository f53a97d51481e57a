"""WixOAuthCallbackSensor in poke and reschedule modes, its timeout, and detection via the API."""

from __future__ import annotations

import threading

import pytest

from airflow_provider_wix.emulator import GOOGLE_PROVIDER_ID
from tests.conftest import run_dag, task_states, xcom_value


@pytest.mark.parametrize("variant", ["poke", "reschedule"])
def test_sensor_modes_receive_the_callback(airflow_api_server, wix_conn, calendar_owner, variant):
    schedule_id = wix_conn.state.staff_schedules()[0].id
    owner = calendar_owner.answer_in_background({schedule_id: "allow"})
    dag_run = run_dag(f"wix_oauth_{variant}", {"schedule_id": schedule_id})
    owner.join(5)
    assert task_states(dag_run) == {"connect": "success", "wait_for_owner": "success"}
    connection_id = xcom_value(dag_run, "wait_for_owner")
    assert wix_conn.state.connection(connection_id)["scheduleId"] == schedule_id
    assert xcom_value(dag_run, "wait_for_owner", key="connection")["status"] in {"CONNECTED", "SYNCED"}


def test_timeout_names_the_pending_link_and_discards_the_flow(airflow_api_server, wix_conn, capfd):
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session
    from sqlalchemy import select

    schedule_id = wix_conn.state.staff_schedules()[1].id
    dag_run = run_dag("wix_oauth_timeout", {"schedule_id": schedule_id})
    assert task_states(dag_run) == {"connect": "success", "wait_for_owner": "failed"}
    oauth_url = xcom_value(dag_run, "connect")
    out, err = capfd.readouterr()
    assert "did not answer within" in out + err
    assert f"The authorization link is still pending: {oauth_url}" in out + err
    assert xcom_value(dag_run, "wait_for_owner", key="outcome") == "timed_out"
    flow_id = xcom_value(dag_run, "connect", key="flow_id")
    with create_session() as session:
        keys = session.scalars(select(Variable.key).where(Variable.key.endswith(flow_id))).all()
    assert keys == []  # the link was withdrawn: record and waiter are gone


def test_detect_via_api_finds_the_new_connection_when_the_callback_is_lost(
    airflow_api_server, wix_conn, calendar_owner
):
    schedule_id = wix_conn.state.staff_schedules()[2].id
    older = wix_conn.state.create_connection(GOOGLE_PROVIDER_ID, schedule_id, status="SYNCED")
    answered = threading.Event()

    def owner() -> None:
        page = calendar_owner.answer("allow", schedule_id=schedule_id, follow_redirect=False)
        assert page.status_code in (302, 303)  # the browser never reaches Airflow
        answered.set()

    thread = threading.Thread(target=owner, daemon=True)
    thread.start()
    dag_run = run_dag("wix_oauth_detect", {"schedule_id": schedule_id})
    thread.join(5)
    assert answered.is_set()
    assert task_states(dag_run) == {"connect": "success", "wait_for_owner": "success"}
    connection_id = xcom_value(dag_run, "wait_for_owner")
    assert connection_id != older["id"]
    assert wix_conn.state.connection(connection_id)["scheduleId"] == schedule_id


def test_a_provider_without_oauth_is_refused_before_connect_by_oauth(wix_conn, airflow_db, capfd):
    schedule_id = wix_conn.state.staff_schedules()[0].id
    dag_run = run_dag("wix_oauth_apple", {"schedule_id": schedule_id})
    assert task_states(dag_run) == {"connect": "failed"}  # no retry despite retries=2
    out, err = capfd.readouterr()
    assert "cannot be connected by OAUTH (it supports CREDENTIALS); use ConnectByCredentialsOperator" in out + err
    paths = [entry["path"] for entry in wix_conn.state.request_log()]
    assert paths == ["/bookings/v2/external-calendars/providers"]
