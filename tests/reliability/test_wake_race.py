"""A wake-up that comes seconds after a sensor deferred must not fail it (Airflow's defer/resume race).

When a task defers, its worker process ends and the executor reports "success" for that try; if
the task is resumed and queued again before the scheduler has drained that stale report, Airflow
3.x fails the task ("finished with state success, but the task instance's state attribute is
queued"). The provider resumes tasks itself (the callback's push) and through its triggers, so it
must never resume a task instance before that safe point.

On the production topology (separate API server, scheduler, dag-processor, triggerer; PostgreSQL;
one scheduler running the Local and the Celery executor, a Celery worker on Redis), one run per
executor maps the OAuth wait over 53 schedules. 50 owners answer 0-2 s after their sensor is seen
deferred (the push path); 3 answer while the sensor is still running (its pre-defer check, or the
callback trigger's first poll). Three in four sensors' task processes linger 3-9 s after deferring
(see the DAG), so the exit report comes late. With ``retries=0``, not one task instance may fail or
be retried.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_provider_wix.emulator.server import run_emulator
from airflow_provider_wix.emulator.state import EmulatorConfig
from tests.conftest import wix_connection_json
from tests.e2e.topology import AirflowTopology, free_port, postgres_database

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

EXECUTORS = ("LocalExecutor", "CeleryExecutor")
DAGS = Path(__file__).parent / "dags"  # only these DAGs: nothing else runs or fails meanwhile
ANSWERED_AFTER_DEFERRAL = 50  # answered 0-2 s after the sensor is seen deferred
ANSWERED_WHILE_RUNNING = 3  # answered as soon as the sensor is seen running (before it defers)
SCHEDULES = ANSWERED_AFTER_DEFERRAL + ANSWERED_WHILE_RUNNING
MAX_DELAY = 2.0
RUN_DEADLINE = 420  # seconds per run; about 2-3 minutes on an idle 2-core machine


def _dag_id(executor: str) -> str:
    return f"wix_wake_race_{executor.removesuffix('Executor').lower()}"


@dataclass
class _Airflow:
    stack: AirflowTopology
    database_url: str
    emulator: Any
    started_in: float


@pytest.fixture(scope="module")
def airflow() -> Iterator[_Airflow]:
    """One Airflow for both variants: its scheduler runs both executors, each DAG names its own."""
    began = time.monotonic()
    with (
        run_emulator(EmulatorConfig(seed=29, schedules=SCHEDULES * len(EXECUTORS))) as emulator,
        postgres_database() as database_url,
    ):
        stack = AirflowTopology(
            database_url=database_url,
            dags_folder=DAGS,
            executor=",".join(EXECUTORS),
            extra_env={
                "AIRFLOW_CONN_WIX_DEFAULT": wix_connection_json(emulator),
                # A loaded CI machine answers slowly; a task failing on a timeout would hide the race.
                "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60",
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                # As many Celery slots as the Local executor has (parallelism): most sensors' processes
                # linger seconds after deferring, which would otherwise make the Celery run twice as long.
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": "8",
            },
        )
        try:
            stack.start("api-server", "scheduler", "dag-processor", "triggerer", "celery-worker")
            for executor in EXECUTORS:
                stack.wait_for_dag(_dag_id(executor))
            yield _Airflow(stack, database_url, emulator, time.monotonic() - began)
        finally:
            stack.close()


def _states(cursor: Any, dag_id: str, run_id: str) -> dict[tuple[str, int], tuple[str | None, int]]:
    cursor.execute(
        "SELECT task_id, map_index, state, try_number FROM task_instance WHERE dag_id = %s AND run_id = %s",
        (dag_id, run_id),
    )
    return {(task_id, map_index): (state, try_number) for task_id, map_index, state, try_number in cursor.fetchall()}


class Owners:
    """Answers each schedule's consent page at a chosen moment, as the owner's browser would."""

    def __init__(self, emulator: Any, schedule_ids: list[str]) -> None:
        self.emulator = emulator
        self.schedule_ids = schedule_ids
        self.pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="owner")
        self.answered: dict[int, float] = {}
        self.errors: list[str] = []
        self.lock = threading.Lock()

    def answer_at(self, map_index: int, when: float) -> None:
        self.pool.submit(self._answer, map_index, when)

    def _answer(self, map_index: int, when: float) -> None:
        schedule_id = self.schedule_ids[map_index]
        flow = next(f for f in self.emulator.state.pending_oauth_flows() if f["schedule_id"] == schedule_id)
        time.sleep(max(0.0, when - time.time()))
        page = requests.get(flow["consent_url"], params={"decision": "allow"}, timeout=60)
        with self.lock:
            self.answered[map_index] = time.time()
            if page.status_code != 200:
                self.errors.append(f"[{map_index}] callback answered HTTP {page.status_code}")


def _pct(values: list[float], percent: int) -> float:
    ordered = sorted(values) or [float("nan")]
    return round(ordered[round(percent / 100 * (len(ordered) - 1))], 2)


@dataclass
class _Watch:
    scheduled: dict[int, str] = field(default_factory=dict)  # map index -> how its owner answers
    seen_deferred: dict[int, float] = field(default_factory=dict)
    resumed: dict[int, float] = field(default_factory=dict)  # when the sensor was seen leaving "deferred"
    run_state: str = "running"


def _drive(cursor: Any, dag_id: str, run_id: str, owners: Owners, while_running: set[int], deadline: float) -> _Watch:
    """Answer each sensor's owner at its moment and watch the sensors until the run ends."""
    watch = _Watch()
    delays = random.Random(11)
    while watch.run_state not in ("success", "failed") and time.monotonic() < deadline:
        cursor.execute("SELECT state FROM dag_run WHERE dag_id = %s AND run_id = %s", (dag_id, run_id))
        watch.run_state = cursor.fetchone()[0]
        now = time.time()
        for (task_id, map_index), (state, _try) in _states(cursor, dag_id, run_id).items():
            if task_id != "wait_for_owner":
                continue
            if map_index in watch.scheduled:
                if map_index in owners.answered and state != "deferred":
                    watch.resumed.setdefault(map_index, now)
            elif map_index in while_running and state in ("running", "deferred"):
                watch.scheduled[map_index] = f"while {state}"
                owners.answer_at(map_index, now)
            elif map_index not in while_running and state == "deferred":
                watch.seen_deferred[map_index] = now
                watch.scheduled[map_index] = "after deferral"
                owners.answer_at(map_index, now + delays.uniform(0, MAX_DELAY))
        time.sleep(0.05)
    return watch


_EVENT = re.compile(
    r"^(?P<at>\S+) .*Received executor event with state success for task instance "
    r"TaskInstanceKey\(dag_id='(?P<dag>[^']+)', task_id='wait_for_owner'.*map_index=(?P<index>\d+)\)"
)


def _first_success_reports(scheduler_log: str, dag_id: str) -> dict[int, float]:
    """When the scheduler drained each sensor's first "success" report: the deferring worker's exit."""
    drained: dict[int, float] = {}
    for line in scheduler_log.splitlines():
        match = _EVENT.match(line)
        if match and match["dag"] == dag_id:
            try:
                at = datetime.fromisoformat(match["at"].replace("Z", "+00:00")).timestamp()
            except ValueError:
                continue
            drained.setdefault(int(match["index"]), at)
    return drained


@pytest.mark.parametrize("executor", EXECUTORS)
def test_wake_soon_after_deferral_never_fails_the_task(executor: str, airflow: _Airflow) -> None:
    import psycopg2

    began = time.monotonic()
    dag_id = _dag_id(executor)
    stack = airflow.stack
    first = EXECUTORS.index(executor) * SCHEDULES  # each run connects schedules of its own
    schedule_ids = [s.id for s in airflow.emulator.state.staff_schedules()][first : first + SCHEDULES]
    assert len(schedule_ids) == SCHEDULES
    while_running = set(random.Random(7).sample(range(SCHEDULES), ANSWERED_WHILE_RUNNING))
    pushes_before = stack.log_of("api-server").count("Woke task instance")
    db = psycopg2.connect(airflow.database_url.replace("postgresql+psycopg2://", "postgresql://"))
    db.autocommit = True
    owners = Owners(airflow.emulator, schedule_ids)
    load = _load_average()
    try:
        run_id = stack.trigger(dag_id, {"schedule_ids": schedule_ids})
        with db.cursor() as cursor:
            watch = _drive(cursor, dag_id, run_id, owners, while_running, deadline=time.monotonic() + RUN_DEADLINE)
            owners.pool.shutdown(wait=True)
            states = _states(cursor, dag_id, run_id)
            cursor.execute(
                "SELECT map_index, end_date FROM task_instance WHERE dag_id = %s AND run_id = %s AND task_id = %s",
                (dag_id, run_id, "wait_for_owner"),
            )
            ended = {index: end.timestamp() for index, end in cursor.fetchall() if end is not None}
    finally:
        owners.pool.shutdown(wait=False, cancel_futures=True)
        db.close()
    scheduler_log = stack.log_of("scheduler")
    pushes = stack.log_of("api-server").count("Woke task instance") - pushes_before

    not_ok = {f"{task}[{index}]": s for (task, index), s in states.items() if s != ("success", 1)}
    mismatches = sum(
        1
        for line in scheduler_log.splitlines()
        if "but the task instance's state attribute is" in line and dag_id in line
    )
    pushed = [i for i in watch.seen_deferred if i in owners.answered]
    after = [owners.answered[i] - watch.seen_deferred[i] for i in pushed]
    # Callback answered -> the sensor left "deferred" (the wake-up itself; the worker run comes after).
    resumed = [watch.resumed[i] - owners.answered[i] for i in pushed if i in watch.resumed]
    succeeded = [ended[i] - owners.answered[i] for i in pushed if i in ended]
    drained = _first_success_reports(scheduler_log, dag_id)
    exit_reports = [drained[i] - watch.seen_deferred[i] for i in pushed if i in drained]
    report = {
        "executor": executor,
        "run_state": watch.run_state,
        "task_instances": len(states),
        "answered_after_deferral": len(after),
        "answered_while_running": len(watch.scheduled) - len(pushed),
        "answer_delay_after_deferral_p50_max_s": [_pct(after, 50), _pct(after, 100)],
        "not_success_on_first_try": not_ok,
        "scheduler_state_mismatches": mismatches,
        "resumed_by_push": pushes,
        "callback_to_resumed_p50_p95_s": [_pct(resumed, 50), _pct(resumed, 95)],
        "callback_to_sensor_success_p50_p95_s": [_pct(succeeded, 50), _pct(succeeded, 95)],
        "deferred_to_exit_report_drained_p50_p95_max_s": [
            _pct(exit_reports, 50),
            _pct(exit_reports, 95),
            _pct(exit_reports, 100),
        ],
        "run_seconds": round(time.monotonic() - began),
        "airflow_start_seconds": round(airflow.started_in),
        "load_average_before_after": [load, _load_average()],
    }
    print("wake race:", json.dumps(report))
    assert not owners.errors, owners.errors
    assert len(after) >= ANSWERED_AFTER_DEFERRAL
    assert not_ok == {}, report
    assert mismatches == 0, report
    assert watch.run_state == "success"


def _load_average() -> float:
    import os

    return round(os.getloadavg()[0], 1)
