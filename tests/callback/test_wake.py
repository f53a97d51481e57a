"""When a resume must wait for the scheduler, and how the safe point is observed (see callback.wake)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_wix.callback.wake import (
    PASSES_AFTER_WORKER_LEFT,
    SETTLED_AFTER_SECONDS,
    _Progress,
    _verdict,
    resume_not_before,
    stale_exit_report_can_fail,
    worker_left,
)
from airflow_provider_wix.version_compat import STALE_SUCCESS_OF_RESUMED_TASK_IGNORED


@pytest.mark.parametrize(
    ("executor", "can_fail"),
    [
        ("LocalExecutor", True),
        ("CeleryExecutor", False),
        ("airflow.providers.celery.executors.celery_executor.CeleryExecutor", False),
        ("KubernetesExecutor", True),
        ("my_alias", True),
    ],
)
def test_a_stale_exit_report_can_fail_a_resumed_task_except_on_celery(executor, can_fail):
    # Airflow 3.2.2+ ignores a stale success while the task is still scheduled, and the Celery executor
    # stops reading the old Celery task once it sends the resumed one; before 3.2.2 every executor can.
    assert stale_exit_report_can_fail(executor) is (can_fail or not STALE_SUCCESS_OF_RESUMED_TASK_IGNORED)


def test_triggers_that_cannot_ask_hold_an_early_event_only_where_a_stale_exit_report_can_fail():
    deferred_at = datetime(2026, 12, 1, tzinfo=timezone.utc)
    held = deferred_at + timedelta(seconds=SETTLED_AFTER_SECONDS)
    assert resume_not_before("CeleryExecutor", deferred_at) == (None if STALE_SUCCESS_OF_RESUMED_TASK_IGNORED else held)
    assert resume_not_before("LocalExecutor", deferred_at) == held


# A stand-in for the Local executor's worker: it titles itself as the worker does while it runs a try,
# forks the "task", which records its parent as the sensor does before deferring, then goes idle on
# request, the moment after which the real worker has put its exit report on the result queue.
_WORKER = textwrap.dedent(
    """
    import json, os, sys
    from setproctitle import setproctitle
    from airflow_provider_wix.callback.wake import deferring_worker

    ti_id = sys.argv[1]
    setproctitle(f"airflow worker -- LocalExecutor: {ti_id}")
    reader, writer = os.pipe()
    if os.fork() == 0:
        os.write(writer, json.dumps(deferring_worker(ti_id)).encode())
        os._exit(0)
    os.wait()
    print(os.read(reader, 4096).decode(), flush=True)
    sys.stdin.readline()
    setproctitle("airflow worker -- LocalExecutor: <idle>")
    print("idle", flush=True)
    sys.stdin.readline()
    """
)


def _worker(ti_id: uuid.UUID) -> tuple[subprocess.Popen[str], dict | None]:
    # Python 3.12+ warns about fork() in a threaded process, and Airflow's logging prints it on stdout.
    command = [sys.executable, "-W", "ignore::DeprecationWarning", "-c", _WORKER, str(ti_id)]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    return process, json.loads(process.stdout.readline())


def test_the_deferring_worker_is_seen_leaving_the_try_once_its_title_no_longer_names_it():
    ti_id = uuid.uuid4()
    process, worker = _worker(ti_id)
    try:
        assert worker is not None and worker["pid"] == process.pid
        assert worker_left(worker, ti_id) is False  # still running this try: its exit report may come
        assert worker_left(worker, uuid.uuid4()) is True  # a title naming another try
        process.stdin.write("\n")
        process.stdin.flush()
        assert process.stdout.readline().strip() == "idle"
        assert worker_left(worker, ti_id) is True  # idle: the report is on the result queue
    finally:
        process.stdin.write("\n")
        process.stdin.close()
        process.wait(30)
    assert worker_left(worker, ti_id) is True  # gone
    assert worker_left({**worker, "host": "another-machine/1"}, ti_id) is None  # cannot tell from here


def test_no_worker_is_recorded_where_the_parent_does_not_run_the_try():
    from airflow_provider_wix.callback.wake import deferring_worker

    assert deferring_worker(str(uuid.uuid4())) is None  # pytest's parent does not name this try


def _progress(worker: dict | None) -> _Progress:
    entry = _Progress(give_up=0)
    entry.restart(1, worker)
    return entry


def test_the_safe_point_is_two_passes_that_began_after_the_worker_was_seen_leaving(monkeypatch):
    import airflow_provider_wix.callback.wake as wake

    ti_id = uuid.uuid4()
    deferred = datetime(2026, 12, 1, 12, 0, 0, tzinfo=timezone.utc)
    entry = _progress({"pid": 1})
    seen_leaving = {"now": False}
    monkeypatch.setattr(wake, "worker_left", lambda worker, ti: seen_leaving["now"])
    passes = [deferred + timedelta(seconds=s) for s in (0.5, 1.5, 2.5, 3.5, 4.5)]
    # The worker still runs the try: however many passes go by, keep waiting.
    assert _verdict(entry, ti_id, deferred, passes[0]) is None
    assert _verdict(entry, ti_id, deferred, passes[1]) is None
    # Seen leaving after this look's read: its stamp does not count.
    seen_leaving["now"] = True
    assert _verdict(entry, ti_id, deferred, passes[1]) is None
    assert entry.left and entry.stamps == []
    # Read after that: A; then B's loop read the report and C's began after B drained it.
    assert _verdict(entry, ti_id, deferred, passes[1]) is None
    assert _verdict(entry, ti_id, deferred, passes[1]) is None  # the same pass, seen again
    assert _verdict(entry, ti_id, deferred, passes[2]) is None
    assert _verdict(entry, ti_id, deferred, passes[3]) is True
    assert len(entry.stamps) == PASSES_AFTER_WORKER_LEFT + 1


def test_a_callback_long_after_deferral_resumes_at_once_once_the_worker_is_gone(monkeypatch):
    import airflow_provider_wix.callback.wake as wake

    ti_id = uuid.uuid4()
    deferred = datetime(2026, 12, 1, 12, 0, 0, tzinfo=timezone.utc)
    later = deferred + timedelta(seconds=SETTLED_AFTER_SECONDS + 1)
    monkeypatch.setattr(wake, "worker_left", lambda worker, ti: True)
    assert _verdict(_progress({"pid": 1}), ti_id, deferred, later) is True
    monkeypatch.setattr(wake, "worker_left", lambda worker, ti: False)
    assert _verdict(_progress({"pid": 1}), ti_id, deferred, later) is None  # a worker still in the try


def test_where_the_worker_cannot_be_observed_the_bound_after_deferral_applies():
    ti_id = uuid.uuid4()
    deferred = datetime(2026, 12, 1, 12, 0, 0, tzinfo=timezone.utc)
    entry = _progress(None)
    for seconds in (1, 2, 3, 10, SETTLED_AFTER_SECONDS - 1):
        assert _verdict(entry, ti_id, deferred, deferred + timedelta(seconds=seconds)) is None
    assert _verdict(entry, ti_id, deferred, deferred + timedelta(seconds=SETTLED_AFTER_SECONDS)) is True


def test_the_api_server_tells_a_trigger_whether_its_task_may_resume(airflow_api_server):
    import requests

    from airflow_provider_wix.callback.state import RESUMABLE_PATH

    unknown = requests.get(airflow_api_server + RESUMABLE_PATH.format(ti_id=uuid.uuid4()), timeout=30)
    assert unknown.status_code == 200
    assert unknown.json() == {"resumable": False}  # not deferred: nothing to hold
    assert requests.get(airflow_api_server + RESUMABLE_PATH.format(ti_id="x"), timeout=30).status_code == 404


def test_a_worker_hidden_by_proc_is_not_taken_for_gone():
    import os

    from airflow_provider_wix.callback.wake import _gone

    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(30)
    assert _gone(process.pid) is True  # no such process: its exit report was queued before it ended
    assert _gone(os.getpid()) is None  # alive: only /proc hiding it (hidepid) explains a missing entry
