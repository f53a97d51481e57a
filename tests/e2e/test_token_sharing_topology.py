"""One Wix app token for a whole onboarding on the production topology: the task processes (Celery
worker) and the triggerer share it through an Airflow Variable, and the owner's landing page on the
API server asks Wix nothing (issue 12: three tokens per onboarding before)."""

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
    # Syncing takes a while, so wait_synced defers and its trigger asks Wix (Get Connection) in the triggerer.
    with run_emulator(EmulatorConfig(seed=7, sync_delay=45)) as running:
        yield running


@pytest.fixture(scope="module")
def topology(emulator: Any) -> Iterator[AirflowTopology]:
    config = emulator.config
    app = wix_connection_json(
        emulator,
        auth_type="oauth_app",
        client_id=config.client_id,
        client_secret=config.client_secret,
        instance_id=config.instance_id,
    )
    with production_topology(TEST_DAGS, DAG_ID, {"AIRFLOW_CONN_WIX_DEFAULT": app}) as stack:
        yield stack


def test_an_onboarding_mints_one_token_across_worker_triggerer_and_api_server(topology, emulator):
    schedule_id = emulator.state.staff_schedules()[0].id
    run_id = topology.trigger(DAG_ID, {"schedule_id": schedule_id, "provider": "MICROSOFT"})
    topology.wait_for_task_state(DAG_ID, run_id, "wait_for_owner", {"deferred"}, timeout=180)
    page = CalendarOwner(emulator).answer("allow", schedule_id=schedule_id)
    assert page.status_code == 200 and "Your Microsoft calendar is connected" in page.text
    topology.wait_for_task_state(DAG_ID, run_id, "wait_synced", {"deferred"}, timeout=180)
    assert topology.wait_for_run(DAG_ID, run_id, timeout=240) == "success"

    routes = [e["route"] for e in emulator.state.request_log()]
    assert routes.count("oauth2_token") == 1, routes
    # The sensor's check after the callback, wait_synced's first check, then the trigger's polls.
    assert routes.count("get_connection") >= 3, routes
    assert "list_providers" in routes and "query_staff_members" not in routes
