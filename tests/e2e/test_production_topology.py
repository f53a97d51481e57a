"""End to end on the production topology: separate API server, scheduler, dag-processor, triggerer
and Celery worker processes on PostgreSQL and Redis, with the owner's browser played over HTTP.

What is checked is what only real processes show: the callback reaches the plugin on the API
server, is recorded in PostgreSQL, and wakes the deferred sensor through the push (not the
ten-minute safety poll), also while the triggerer is down or after the API server restarted; and
that one Wix app token serves a whole onboarding across the worker, the triggerer and the API server.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_wix.emulator.server import run_emulator
from airflow_provider_wix.emulator.state import EmulatorConfig
from tests.conftest import TEST_DAGS, CalendarOwner, wix_connection_json
from tests.e2e.topology import AirflowTopology, production_topology

pytestmark = pytest.mark.slow

DAG_ID = "wix_e2e_onboarding"


@pytest.fixture(scope="module")
def emulator() -> Iterator[Any]:
    with run_emulator(EmulatorConfig(seed=7, sync_delay=2)) as running:
        yield running


@pytest.fixture(scope="module")
def app_emulator() -> Iterator[Any]:
    """A second Wix, reached as a Wix app (OAuth client credentials) through the ``wix_app`` connection.

    Syncing takes a while, so wait_synced defers and its trigger asks Wix (Get Connection) in the triggerer.
    """
    with run_emulator(EmulatorConfig(seed=8, sync_delay=45)) as running:  # schedules of its own
        yield running


@pytest.fixture(scope="module")
def topology(emulator: Any, app_emulator: Any) -> Iterator[AirflowTopology]:
    config = app_emulator.config
    app = wix_connection_json(
        app_emulator,
        auth_type="oauth_app",
        client_id=config.client_id,
        client_secret=config.client_secret,
        instance_id=config.instance_id,
    )
    env = {"AIRFLOW_CONN_WIX_DEFAULT": wix_connection_json(emulator), "AIRFLOW_CONN_WIX_APP": app}
    with production_topology(TEST_DAGS, DAG_ID, env) as stack:
        yield stack


def _onboard(topology: AirflowTopology, emulator: Any, schedule_index: int) -> tuple[str, str]:
    schedule_id = emulator.state.staff_schedules()[schedule_index].id
    run_id = topology.trigger(DAG_ID, {"schedule_id": schedule_id, "provider": "MICROSOFT"})
    topology.wait_for_task_state(DAG_ID, run_id, "wait_for_owner", {"deferred"}, timeout=180)
    return schedule_id, run_id


def _assert_onboarded(topology: AirflowTopology, emulator: Any, run_id: str, schedule_id: str) -> None:
    assert topology.wait_for_run(DAG_ID, run_id, timeout=180) == "success"
    connection_id = topology.xcom(DAG_ID, run_id, "wait_for_owner")
    assert emulator.state.connection(connection_id)["scheduleId"] == schedule_id
    assert topology.xcom(DAG_ID, run_id, "wait_synced")["status"] == "SYNCED"
    assert topology.xcom(DAG_ID, run_id, "count_events") > 0


def test_callback_wakes_the_deferred_sensor_by_push(topology, emulator):
    schedule_id, run_id = _onboard(topology, emulator, 0)
    page = CalendarOwner(emulator).answer("allow", schedule_id=schedule_id)
    assert page.status_code == 200
    assert "calendar is connected" in page.text
    _assert_onboarded(topology, emulator, run_id, schedule_id)
    # The sensor's safety poll is 10 minutes: the decision can only have come by push.
    logs = topology.task_logs(DAG_ID)
    assert "The owner's decision arrived (via push)" in logs
    # The trigger the push left behind ends quietly, not as if a user had killed the task.
    assert "Trigger cancelled by user action" not in logs


def test_push_works_while_the_triggerer_is_down(topology, emulator):
    schedule_id, run_id = _onboard(topology, emulator, 1)
    topology.stop("triggerer")
    try:
        assert CalendarOwner(emulator).answer("allow", schedule_id=schedule_id).status_code == 200
        ti = topology.wait_for_task_state(DAG_ID, run_id, "wait_for_owner", {"success"}, timeout=120)
        assert ti["state"] == "success"
    finally:
        topology.start("triggerer")  # the SYNCED wait downstream needs it again
    _assert_onboarded(topology, emulator, run_id, schedule_id)


def test_callback_after_api_server_restart_and_declined_owner(topology, emulator):
    schedule_id, run_id = _onboard(topology, emulator, 2)
    topology.restart("api-server")
    page = CalendarOwner(emulator).answer("deny", schedule_id=schedule_id)
    assert page.status_code == 200
    assert "declined" in page.text
    assert topology.wait_for_run(DAG_ID, run_id, timeout=120) == "failed"
    ti = topology.task_instance(DAG_ID, run_id, "wait_for_owner")
    assert ti["state"] == "failed"
    assert ti["try_number"] == 1  # a refusal is final: no retry
    assert "declined the authorization request" in topology.task_logs(DAG_ID)


def test_an_onboarding_mints_one_token_across_worker_triggerer_and_api_server(topology, app_emulator):
    """Issue 12: three tokens per onboarding before; the tasks and the triggerer share one through a
    Variable, and the owner's landing page on the API server asks Wix nothing."""
    schedule_id = app_emulator.state.staff_schedules()[0].id
    conf = {"schedule_id": schedule_id, "provider": "MICROSOFT", "wix_conn_id": "wix_app"}
    run_id = topology.trigger(DAG_ID, conf)
    topology.wait_for_task_state(DAG_ID, run_id, "wait_for_owner", {"deferred"}, timeout=180)
    page = CalendarOwner(app_emulator).answer("allow", schedule_id=schedule_id)
    assert page.status_code == 200 and "Your Microsoft calendar is connected" in page.text
    topology.wait_for_task_state(DAG_ID, run_id, "wait_synced", {"deferred"}, timeout=180)
    assert topology.wait_for_run(DAG_ID, run_id, timeout=240) == "success"

    routes = [e["route"] for e in app_emulator.state.request_log()]
    assert routes.count("oauth2_token") == 1, routes
    # The sensor's check after the callback, wait_synced's first check, then the trigger's polls.
    assert routes.count("get_connection") >= 3, routes
    assert "list_providers" in routes and "query_staff_members" not in routes
