"""Secrets and state audit on the production topology: the same run as ``test_secrets_audit.py``,
with the API server, scheduler, dag-processor, triggerer and a Celery worker as separate processes
on PostgreSQL and Redis.

What only separate processes show is searched: every file in the log folder (task logs written by
the worker, the dag-processor's and scheduler's own logs), each component's stdout and stderr, the
API server's access-log lines, and every table of the PostgreSQL metadata database. Expected: none
of the distinctive secrets, and not the raw OAuth state, anywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import TEST_DAGS, CalendarOwner
from tests.e2e.topology import ALL_COMPONENTS, AirflowTopology, production_topology
from tests.security.audit import (
    AUDIT_EMULATOR,
    OWNER_ANSWERS,
    audit_conf,
    connection_env,
    database_text,
    handled_secrets,
    hits_by_place,
    redacted_callback_lines,
)

pytestmark = pytest.mark.slow

DAG_ID = "wix_secrets_audit"


@pytest.fixture(scope="module")
def audit_stack() -> Iterator[tuple[Any, AirflowTopology]]:
    from airflow_provider_wix.emulator.server import run_emulator
    from airflow_provider_wix.emulator.state import EmulatorConfig

    with (
        run_emulator(EmulatorConfig(seed=13, **AUDIT_EMULATOR)) as emulator,
        production_topology(TEST_DAGS, DAG_ID, connection_env(emulator.url, emulator.config)) as stack,
    ):
        yield emulator, stack


def test_no_secret_and_no_raw_state_in_any_log_or_table(audit_stack):
    from sqlalchemy import create_engine

    emulator, stack = audit_stack
    conf = audit_conf(emulator.state)
    schedule_id = conf["schedule_id"]
    owner = CalendarOwner(emulator).answer_in_background({schedule_id: OWNER_ANSWERS}, timeout=300)
    run_id = stack.trigger(DAG_ID, conf)
    assert stack.wait_for_run(DAG_ID, run_id, timeout=600) == "success", stack.task_logs(DAG_ID)[-4000:]
    owner.join(5)
    tis = stack.api("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances")["task_instances"]
    assert {ti["state"] for ti in tis} == {"success"}, tis
    flow_id = stack.xcom(DAG_ID, run_id, "connect", key="flow_id")
    secrets = handled_secrets(emulator, schedule_id, flow_id)

    log_files = sorted(p for p in (stack.home / "logs").rglob("*") if p.is_file())
    assert any(f"dag_id={DAG_ID}" in str(p) for p in log_files), "the worker wrote the run's task logs"
    places = {f"log file {p.relative_to(stack.home)}": p.read_text(errors="replace") for p in log_files}
    # What is searched is the run's own output: the connect task's log names the flow by its id.
    assert any(flow_id in text for place, text in places.items() if "task_id=connect" in place)
    places.update({f"{name} stdout and stderr": stack.log_of(name) for name in ALL_COMPONENTS})
    access = [line for line in stack.log_of("api-server").splitlines() if "request finished" in line]
    redacted_callback_lines(access, flow_id)
    places["API server access log"] = "\n".join(access)
    engine = create_engine(stack.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    try:
        tables = database_text(engine)
    finally:
        engine.dispose()
    assert flow_id in tables["variable"] or "wix_oauth_flow__" + flow_id in tables["variable"]
    places.update({f"metadata DB table {t}": text for t, text in tables.items()})

    assert hits_by_place(secrets, places) == {}
    print(
        f"topology audit: {len(secrets.values)} secret values searched in {len(places)} places "
        f"({len(log_files)} log files, {len(tables)} tables): 0 hits"
    )
