"""Wake the deferred sensor waiting for an OAuth callback, instead of letting it wait for its next poll.

This runs inside the Airflow API server (the plugin routes). It is the provider's only use of
Airflow's internal core APIs for resuming a task (``handle_event_submit``, ``TaskInstance``,
``Trigger``, ``DagRun``); keeping them here means one place to adapt when Airflow moves them. The
push only makes the wake-up faster: if it fails or is given up, the record is still there and the
sensor's trigger finds it on its next poll.

**The defer/resume race.** When a task defers, its worker exits and the executor reports "success"
for that try. If the task is resumed and queued again before the scheduler has drained that stale
report, the scheduler takes it for an externally killed task and fails it ("finished with state
success, but the task instance's state attribute is queued"; apache/airflow #66374, #67287, #71580,
#72716). So nothing in this provider resumes a task instance before the *safe point*: the scheduler
has drained the deferring worker's exit report. Each loop of the scheduler (Airflow 3.1-3.3) runs,
in order: the scheduling pass over the running DAG runs (``DagRun.update_state`` stamps
``last_scheduling_decision``), the executor heartbeat (which reads the workers' exit reports), then
``process_executor_events`` (which drains them). Nothing records the worker's exit or the drain
itself, so the safe point is read from those stamps: three passes over the run that began after the
worker had time to exit (:data:`WORKER_EXIT_SECONDS`) mean that the second of them read the report
and drained it before the third began, even when a loaded worker exits late within the first loop.
Passes slow down with load, so the wait stretches exactly when the exit reports are late.

The callback route holds its push until then, in one background thread per API-server process
(:func:`wake_waiter`).
Triggers cannot read the database: the sensor gives them the URL of :func:`await_safe_point` on the
API server (``/wix/tasks/<ti id>/resumable``) and, for when that cannot be reached, a time
(:func:`resume_not_before`) before which they keep an early event to themselves.

Where Airflow's own code already makes the stale report harmless, there is nothing to wait for:
from Airflow 3.2.2 a stale success for a ``scheduled`` task with ``next_method`` is ignored (#66431),
and the Celery executor forgets the old Celery task as soon as it sends the resumed one, so the
stale report can only be read while the task is still ``scheduled``. The Local executor reads every
report from its result queue and does not track the resumed workload, so it needs the hold.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

from airflow_provider_wix.callback.state import FlowRecord, waiter_key
from airflow_provider_wix.version_compat import get_handle_event_submit

log = logging.getLogger(__name__)

#: Time a worker may take to report its exit after the task instance became ``deferred`` (measured:
#: p95 1.6 s, max 5.9 s on 2 cores at a load average of 40; the third pass covers the tail).
WORKER_EXIT_SECONDS = 2.0
#: Scheduling passes that must begin after ``WORKER_EXIT_SECONDS`` (see the module docstring).
PASSES_AFTER_EXIT = 3
#: One pass this long after the exit proves the drain on its own (a callback minutes after deferral).
SETTLED_AFTER_SECONDS = 30.0
#: A held wake-up stops waiting for the scheduler after this long; the trigger's own poll then resumes.
MAX_HOLD_SECONDS = 600.0
#: How long a trigger that cannot reach the API server holds an event ready right after deferral.
TRIGGER_HOLD_SECONDS = 30.0
_POLL_SECONDS = 0.25


def stale_exit_report_can_fail(executor: str | None) -> bool:
    """Whether a resume before the safe point can fail a task on this executor and Airflow version."""
    from airflow_provider_wix.version_compat import STALE_SUCCESS_OF_RESUMED_TASK_IGNORED, conf

    # Airflow < 3.2.2 fails even a ``scheduled`` task on a stale success, whatever the executor.
    if not STALE_SUCCESS_OF_RESUMED_TASK_IGNORED:
        return True
    name = executor or conf.get("core", "executor", fallback="").split(",")[0]
    return not name.strip().rsplit(".", 1)[-1].endswith("CeleryExecutor")


def resume_not_before(executor: str | None, deferred_at: datetime | None = None) -> datetime | None:
    """Until when a trigger that cannot ask :func:`await_safe_point` holds an early event (``None``: no hold)."""
    if not stale_exit_report_can_fail(executor):
        return None
    start = deferred_at or datetime.now(timezone.utc)
    return start + timedelta(seconds=TRIGGER_HOLD_SECONDS)


def wake_waiter(digest: str, record: FlowRecord) -> bool:
    """Resume the deferred sensor now if that is safe; otherwise as soon as it is, in the background.

    Returns whether the task was resumed before returning. A held wake-up runs in a daemon thread
    so the owner's page does not wait for the scheduler; if this process stops meanwhile, the
    trigger's poll still finds the record.
    """
    try:
        if get_handle_event_submit() is None:
            return False  # this Airflow has no push path: the trigger's safety poll finds the record
        from airflow.models.variable import Variable
        from airflow.utils.session import create_session
        from sqlalchemy import select

        with create_session() as session:
            raw = session.scalars(select(Variable).where(Variable.key == waiter_key(digest))).one_or_none()
            if raw is None:
                return False  # no sensor has registered yet; its pre-defer check will find the record
            ti_id = uuid.UUID(json.loads(raw.val)["ti_id"])
        verdict = _safe_point(ti_id, [])
        if verdict is True:
            return _resume(ti_id, record)
        if verdict is None:
            _held_wakes.hold(ti_id, record)
        return False
    except Exception:
        log.warning("Could not wake the waiting sensor; its trigger will pick the callback up", exc_info=True)
        return False


class _HeldWakes:
    """The wake-ups waiting for their safe point, resumed by one background thread per process.

    One query per look covers all of them, so a burst of early callbacks costs the API server a
    query every :data:`_POLL_SECONDS`, not one per callback.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[uuid.UUID, tuple[FlowRecord, list[datetime], float]] = {}
        self._thread: threading.Thread | None = None

    def hold(self, ti_id: uuid.UUID, record: FlowRecord) -> None:
        with self._lock:
            self._pending[ti_id] = (record, [], time.monotonic() + MAX_HOLD_SECONDS)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="wix-held-wakes", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(_POLL_SECONDS)
            with self._lock:
                if not self._pending:
                    self._thread = None
                    return
                pending = dict(self._pending)
            try:
                verdicts = _safe_points({ti_id: passes for ti_id, (_, passes, _) in pending.items()})
            except Exception:
                log.warning("Could not check the held wake-ups; trying again", exc_info=True)
                continue
            for ti_id, (record, _, give_up) in pending.items():
                verdict = verdicts[ti_id]
                if verdict is None and time.monotonic() < give_up:
                    continue
                with self._lock:
                    self._pending.pop(ti_id, None)
                if verdict:
                    try:
                        _resume(ti_id, record)
                    except Exception:
                        log.warning("Could not wake task instance %s; its trigger will", ti_id, exc_info=True)


_held_wakes = _HeldWakes()


def _resume(ti_id: uuid.UUID, record: FlowRecord) -> bool:
    # Airflow-internal core APIs, same shape in Airflow 3.1, 3.2 and 3.3 (see version_compat).
    from airflow.models.taskinstance import TaskInstance
    from airflow.triggers.base import TriggerEvent
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState

    with create_session() as session:
        ti = session.get(TaskInstance, ti_id, with_for_update={"of": TaskInstance})
        if ti is None or ti.state != TaskInstanceState.DEFERRED:
            # Running tasks check the record themselves before deferring; never resume those.
            return False
        handle_event_submit = get_handle_event_submit()
        if handle_event_submit is None:
            return False
        handle_event_submit(TriggerEvent(record.event_payload(via="push")), task_instance=ti, session=session)
    log.info("Woke task instance %s for OAuth flow of schedule %s", ti_id, record.schedule_id)
    return True


async def await_safe_point(ti_id: uuid.UUID, max_hold: float) -> bool | None:
    """Wait until resuming the deferred task instance cannot race its worker's exit report.

    ``True``: safe now. ``False``: the task is not deferred (any more), so there is nothing to
    resume. ``None``: the scheduler made no progress within ``max_hold`` seconds; ask again later.
    """
    give_up = time.monotonic() + max_hold
    passes: list[datetime] = []
    while True:
        verdict = await asyncio.to_thread(_safe_point, ti_id, passes)
        if verdict is not None:
            return verdict
        if time.monotonic() > give_up:
            return None
        await asyncio.sleep(_POLL_SECONDS)


def _safe_point(ti_id: uuid.UUID, passes: list[datetime]) -> bool | None:
    """One look at a task instance and its run; see :func:`_safe_points`."""
    return _safe_points({ti_id: passes})[ti_id]


def _safe_points(passes_by_ti: dict[uuid.UUID, list[datetime]]) -> dict[uuid.UUID, bool | None]:
    """One look at task instances and their runs: ``True`` safe, ``False`` not deferred, ``None`` wait.

    Each list collects, across looks, the scheduling passes seen after that task's worker exit.
    """
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.trigger import Trigger
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(
                TaskInstance.id,
                TaskInstance.state,
                TaskInstance.executor,
                Trigger.created_date,
                DagRun.last_scheduling_decision,
            )
            .join(Trigger, Trigger.id == TaskInstance.trigger_id, isouter=True)
            .join(DagRun, (DagRun.dag_id == TaskInstance.dag_id) & (DagRun.run_id == TaskInstance.run_id))
            .where(TaskInstance.id.in_(list(passes_by_ti)))
        ).all()
    verdicts: dict[uuid.UUID, bool | None] = dict.fromkeys(passes_by_ti, False)
    for row in rows:
        ti_id = uuid.UUID(str(row.id))
        if row.state != TaskInstanceState.DEFERRED or row.created_date is None:
            continue
        drained = not stale_exit_report_can_fail(row.executor) or exit_report_drained(
            row.created_date, row.last_scheduling_decision, passes_by_ti[ti_id]
        )
        verdicts[ti_id] = True if drained else None
    return verdicts


def exit_report_drained(deferred_at: datetime, last_pass: datetime | None, passes: list[datetime]) -> bool:
    """Whether the scheduler has drained the deferring worker's exit report, judged by its passes.

    ``last_pass`` is the run's ``last_scheduling_decision`` now (deferral and stamps on the
    database's clock); ``passes`` collects, across calls, the distinct stamps seen after the exit.
    """
    exited_by = deferred_at + timedelta(seconds=WORKER_EXIT_SECONDS)
    if last_pass is None or last_pass <= exited_by:
        return False
    if last_pass - exited_by >= timedelta(seconds=SETTLED_AFTER_SECONDS):
        return True
    if not passes or last_pass > passes[-1]:
        passes.append(last_pass)
    return len(passes) >= PASSES_AFTER_EXIT
