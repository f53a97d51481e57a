"""Wake the deferred sensor waiting for an OAuth callback, instead of letting it wait for its next poll.

This runs inside the Airflow API server (the plugin routes). It is the provider's only use of
Airflow's internal core APIs for resuming a task (``handle_event_submit``, ``TaskInstance``,
``Trigger``, ``DagRun``); keeping them here means one place to adapt when Airflow moves them. The
push only makes the wake-up faster: if it fails or is given up, the record is still there and the
sensor's trigger finds it on its next poll.

**The defer/resume race.** When a task defers, the executor later reports "success" for the worker
that ran that try. If the task is resumed and queued (or running) again before the scheduler has
drained that stale report, the scheduler takes it for an externally killed task and fails it
("finished with state success, but the task instance's state attribute is queued"; apache/airflow
#66374, #67287, #71580, #72716). So nothing in this provider resumes a task instance before the
*safe point*: the scheduler has drained the deferring worker's exit report.

**Why a time after deferral is not a safe point.** The Local executor's worker runs the task's
supervisor itself (``BaseExecutor.run_workload`` -> ``supervise_task``) and puts the exit report on
its result queue only when that returns: after the task process has exited (it may run for up to
``[core] task_success_overtime`` after the ``deferred`` commit), its sockets are drained and the
logs uploaded (``ActivitySubprocess.wait``). That is usually under a second, but has no bound a
timer could rely on on a loaded machine. Nothing in the database records the report or its drain
(``process_executor_events`` writes nothing for a ``deferred`` task instance).

**The safe point, as observed.** Each scheduler loop (Airflow 3.1-3.3, ``_run_scheduler_loop``)
does, in order: the scheduling pass over the running DAG runs, committed with the run's
``last_scheduling_decision`` stamp; the critical section that queues ``scheduled`` task instances;
the executor heartbeat, whose ``sync`` reads *every* report in the result queue; then
``process_executor_events``, which drains them. So:

1. The deferring worker has left this try: the sensor records its parent process (the Local
   executor's worker, which forked it) when it defers, and that process's title names the task
   instance exactly while it runs the try (``airflow worker -- LocalExecutor: <ti id>``). Once the
   title no longer names it (or the process is gone), the exit report is in the result queue.
2. After that observation the run's stamp is read (A), then changes twice (B, C): B's loop
   committed after the observation, so its ``sync`` read the report, and C's loop began after B's
   ``process_executor_events`` had drained it, with the task still ``deferred``.

Only then is the task resumed. Where the worker cannot be observed from the API server (another
host or PID namespace, or no worker title), the fallback is a bound instead of a proof: one pass
that began :data:`SETTLED_AFTER_SECONDS` after deferral. A callback that long after deferral (with
the worker seen gone) resumes at once.

The callback route holds its push until then, in one background thread per API-server process that
looks at every held task instance with one query (:class:`_SafePointWatch`). Triggers cannot read
the database: they ask the API server (``/wix/tasks/<ti id>/resumable``, answered by the same
watch) and, when it cannot be reached, wait until :func:`resume_not_before`.

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
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_wix.callback.state import FlowRecord, waiter_key
from airflow_provider_wix.version_compat import get_handle_event_submit

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)

#: Scheduling passes over the run that must *begin* after the worker was seen leaving the try: the
#: first one's executor heartbeat reads the exit report, the second begins after the first drained it.
PASSES_AFTER_WORKER_LEFT = 2
#: Where the worker cannot be observed: one pass this long after deferral is taken as the safe point.
#: It outlasts ``[core] task_success_overtime`` (20 s), after which the supervisor kills a task
#: process that lingers after deferring, with room for a slow scheduler loop. Also the time after
#: which a callback resumes at once once the worker is seen gone.
SETTLED_AFTER_SECONDS = 60.0
#: A held wake-up stops waiting for the scheduler after this long; the trigger's own poll then resumes.
MAX_HOLD_SECONDS = 600.0
_LOOK_SECONDS = 0.25


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
    return start + timedelta(seconds=SETTLED_AFTER_SECONDS)


# -- the deferring worker ----------------------------------------------------------------------------


def deferring_worker(ti_id: str) -> dict[str, Any] | None:
    """In the task process, just before ``defer()``: the process that will report this try's exit.

    The Local executor's worker runs the supervisor, which forks the task, so it is this process's
    parent, and its title names the task instance while it runs this try. ``None`` where that is not
    so (another executor, no ``/proc``): the safe point then falls back to :data:`SETTLED_AFTER_SECONDS`.
    """
    pid = os.getppid()
    try:
        if ti_id.encode() not in _cmdline(pid):
            return None
        return {"host": _host_identity(), "pid": pid, "started": _start_ticks(pid)}
    except OSError:
        return None


def worker_left(worker: Mapping[str, Any], ti_id: uuid.UUID) -> bool | None:
    """Whether the deferring worker has left the try (its exit report is queued); ``None``: cannot tell here."""
    try:
        if worker.get("host") != _host_identity():
            return None  # another machine or PID namespace: its process ids mean nothing here
        pid = int(worker["pid"])
    except (OSError, KeyError, TypeError, ValueError):
        return None
    try:
        if _start_ticks(pid) != worker.get("started"):
            return True  # that worker is gone (the id now names another process)
        return str(ti_id).encode() not in _cmdline(pid)
    except FileNotFoundError:
        return _gone(pid)
    except (OSError, IndexError, ValueError):
        return None


def _gone(pid: int) -> bool | None:
    """``True`` if no process has this id; ``None`` if one exists that ``/proc`` hides (``hidepid``)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return None  # another user's process, hidden from this one
    return None  # alive yet without a /proc entry here: cannot tell


@cache
def _host_identity() -> str:
    """This boot of this machine, and this PID namespace: where process ids are comparable."""
    boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    return f"{boot}/{os.stat('/proc/self/ns/pid').st_ino}"


def _cmdline(pid: int) -> bytes:
    return Path(f"/proc/{pid}/cmdline").read_bytes()


def _start_ticks(pid: int) -> int:
    """The process's start time (``/proc/<pid>/stat`` field 22), to tell a reused process id."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[19])


# -- waking ----------------------------------------------------------------------------------------


def wake_waiter(digest: str, record: FlowRecord) -> bool:
    """Resume the deferred sensor now if that is safe; otherwise as soon as it is, in the background.

    Returns whether the task was resumed before returning. A held wake-up runs in a daemon thread
    so the owner's page does not wait for the scheduler; if this process stops meanwhile, the
    trigger's poll still finds the record.
    """
    try:
        from airflow.models.variable import Variable
        from airflow.utils.session import create_session
        from sqlalchemy import select

        with create_session() as session:
            raw = session.scalars(select(Variable).where(Variable.key == waiter_key(digest))).one_or_none()
            if raw is None:
                return False  # no sensor has registered yet; its pre-defer check will find the record
            waiter = json.loads(raw.val)
            if "batch" in waiter:  # a batch's trigger reads the list: no task is resumed per answer
                from airflow_provider_wix.callback.recording import list_batch_answer

                list_batch_answer(session, str(waiter["batch"]), digest, record)
                return False
            if get_handle_event_submit() is None:
                return False  # this Airflow has no push path: the trigger's safety poll finds the record
            ti_id = uuid.UUID(waiter["ti_id"])
        verdict = _watch.look_now(ti_id)
        if verdict is True:
            return _resume(ti_id, record)
        if verdict is None:
            _watch.wait(ti_id, lambda safe: _resume_held(ti_id, record, safe))
        return False
    except Exception:
        log.warning("Could not wake the waiting sensor; its trigger will pick the callback up", exc_info=True)
        return False


def _resume_held(ti_id: uuid.UUID, record: FlowRecord, safe: bool | None) -> None:
    if not safe:
        return  # not deferred any more, or the scheduler made no progress: the trigger's poll resumes it
    try:
        _resume(ti_id, record)
    except Exception:
        log.warning("Could not wake task instance %s; its trigger will", ti_id, exc_info=True)


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
    resume. ``None``: not yet within ``max_hold`` seconds; ask again.
    """
    verdict = await asyncio.to_thread(_watch.look_now, ti_id)
    if verdict is not None:
        return verdict
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[bool | None] = loop.create_future()

    def settle(safe: bool | None) -> None:
        if not answer.done():
            answer.set_result(safe)

    def deliver(safe: bool | None) -> None:
        loop.call_soon_threadsafe(settle, safe)

    _watch.wait(ti_id, deliver)
    try:
        return await asyncio.wait_for(answer, max_hold)
    except asyncio.TimeoutError:
        return None
    finally:
        _watch.forget(ti_id, deliver)


# -- the safe point --------------------------------------------------------------------------------

_UNKNOWN: Any = object()


@dataclass
class _Progress:
    """What the looks at one deferred task instance have established so far."""

    give_up: float
    trigger_id: int | None = None
    worker: dict[str, Any] | None = _UNKNOWN  # from the trigger's arguments; None: not observable
    left: bool = False  # the worker was seen leaving the try (its exit report is queued)
    stamps: list[datetime] = field(default_factory=list)  # distinct passes read after that
    listeners: list[Callable[[bool | None], None]] = field(default_factory=list)

    def restart(self, trigger_id: int | None, worker: dict[str, Any] | None) -> None:
        """A (new) deferral: what earlier looks saw belongs to another worker run."""
        self.trigger_id, self.worker, self.left, self.stamps = trigger_id, worker, False, []


class _SafePointWatch:
    """Every task instance a wake-up or a trigger waits on, looked at together by one thread.

    One query per look covers all of them, so a burst of early callbacks costs the API server a
    query every :data:`_LOOK_SECONDS`, not one per callback or per trigger request.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()  # guards _entries and _thread
        self._look_lock = threading.Lock()  # one look at a time: looks update the progress
        self._entries: dict[uuid.UUID, _Progress] = {}
        self._thread: threading.Thread | None = None

    def _entry(self, ti_id: uuid.UUID) -> _Progress:
        """The task instance's progress (created if new); call with ``_lock`` held."""
        return self._entries.setdefault(ti_id, _Progress(give_up=time.monotonic() + MAX_HOLD_SECONDS))

    def look_now(self, ti_id: uuid.UUID) -> bool | None:
        """One look at once (a late callback need not wait for the thread)."""
        with self._lock:
            entry = self._entry(ti_id)
        with self._look_lock:
            verdict = _look({ti_id: entry})[ti_id]
        if verdict is not None:
            self._settle(ti_id, verdict)
        return verdict

    def wait(self, ti_id: uuid.UUID, listener: Callable[[bool | None], None]) -> None:
        """Call ``listener`` with the verdict once it is known (``None`` if given up)."""
        with self._lock:  # one step: the thread may be clearing the entries as it stops
            self._entry(ti_id).listeners.append(listener)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="wix-safe-point", daemon=True)
                self._thread.start()

    def forget(self, ti_id: uuid.UUID, listener: Callable[[bool | None], None]) -> None:
        with self._lock:
            entry = self._entries.get(ti_id)
            if entry is not None and listener in entry.listeners:
                entry.listeners.remove(listener)

    def _settle(self, ti_id: uuid.UUID, verdict: bool | None) -> None:
        with self._lock:
            entry = self._entries.pop(ti_id, None)
        for listener in entry.listeners if entry else []:
            listener(verdict)

    def _run(self) -> None:
        while True:
            time.sleep(_LOOK_SECONDS)
            with self._lock:
                if not any(entry.listeners for entry in self._entries.values()):
                    self._entries.clear()
                    self._thread = None
                    return
                entries = dict(self._entries)
            try:
                with self._look_lock:
                    verdicts = _look(entries)
            except Exception:
                log.warning("Could not look at the held wake-ups; trying again", exc_info=True)
                continue
            now = time.monotonic()
            for ti_id, verdict in verdicts.items():
                if verdict is not None or now > entries[ti_id].give_up:
                    self._settle(ti_id, verdict)


_watch = _SafePointWatch()


def _look(entries: Mapping[uuid.UUID, _Progress]) -> dict[uuid.UUID, bool | None]:
    """One look at task instances and their runs: ``True`` safe, ``False`` not deferred, ``None`` wait.

    Workers already known are observed *before* the query, so that the stamps it reads count as
    passes after their exit reports were queued (see the module docstring).
    """
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.trigger import Trigger
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState
    from sqlalchemy import select

    for ti_id, entry in entries.items():
        if isinstance(entry.worker, dict) and not entry.left and worker_left(entry.worker, ti_id):
            entry.left = True
    with create_session() as session:
        rows = session.execute(
            select(
                TaskInstance.id,
                TaskInstance.state,
                TaskInstance.executor,
                Trigger,
                DagRun.last_scheduling_decision,
            )
            .join(Trigger, Trigger.id == TaskInstance.trigger_id, isouter=True)
            .join(DagRun, (DagRun.dag_id == TaskInstance.dag_id) & (DagRun.run_id == TaskInstance.run_id))
            .where(TaskInstance.id.in_(list(entries)))
        ).all()
        verdicts: dict[uuid.UUID, bool | None] = dict.fromkeys(entries, False)
        for row in rows:
            ti_id = uuid.UUID(str(row.id))
            if row.state != TaskInstanceState.DEFERRED or row.Trigger is None:
                continue
            if not stale_exit_report_can_fail(row.executor):
                verdicts[ti_id] = True
                continue
            entry = entries[ti_id]
            if entry.trigger_id != row.Trigger.id:
                entry.restart(row.Trigger.id, _worker_of(row.Trigger))
            verdicts[ti_id] = _verdict(entry, ti_id, row.Trigger.created_date, row.last_scheduling_decision)
    return verdicts


def _worker_of(trigger: Any) -> dict[str, Any] | None:
    try:
        worker = trigger.kwargs.get("deferring_worker")
    except Exception:
        return None
    return worker if isinstance(worker, dict) else None


def _verdict(entry: _Progress, ti_id: uuid.UUID, deferred_at: datetime, stamp: datetime | None) -> bool | None:
    """Safe (``True``) or not yet (``None``), given this look's stamp of the run (read after observing)."""
    settled = stamp is not None and stamp - deferred_at >= timedelta(seconds=SETTLED_AFTER_SECONDS)
    if entry.worker is None:
        return True if settled else None  # cannot observe the worker from here: the bound
    if entry.left:
        if stamp is not None and (not entry.stamps or stamp != entry.stamps[-1]):
            entry.stamps.append(stamp)
        return True if settled or len(entry.stamps) > PASSES_AFTER_WORKER_LEFT else None
    seen = worker_left(entry.worker, ti_id)  # after the query: its stamps count from the next look
    if seen is None:
        entry.worker = None  # no longer observable from here (e.g. /proc became unreadable)
        return True if settled else None
    entry.left = seen
    return True if seen and settled else None
