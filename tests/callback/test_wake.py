"""When a resume must wait for the scheduler: per executor and Airflow version (see callback.wake)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_wix.callback.wake import (
    PASSES_AFTER_EXIT,
    SETTLED_AFTER_SECONDS,
    TRIGGER_HOLD_SECONDS,
    WORKER_EXIT_SECONDS,
    exit_report_drained,
    resume_not_before,
    stale_exit_report_can_fail,
)


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
    # Airflow 3.3.2 ignores a stale success while the task is still scheduled (3.2.2+), and the Celery
    # executor stops reading the old Celery task once it sends the resumed one.
    assert stale_exit_report_can_fail(executor) is can_fail


def test_triggers_hold_an_early_event_only_where_a_stale_exit_report_can_fail():
    deferred_at = datetime(2026, 12, 1, tzinfo=timezone.utc)
    assert resume_not_before("CeleryExecutor", deferred_at) is None
    assert resume_not_before("LocalExecutor", deferred_at) == deferred_at + timedelta(seconds=TRIGGER_HOLD_SECONDS)


def test_the_safe_point_is_three_scheduling_passes_after_the_worker_had_time_to_exit():
    deferred = datetime(2026, 12, 1, 12, 0, 0, tzinfo=timezone.utc)
    exited = deferred + timedelta(seconds=WORKER_EXIT_SECONDS)
    passes: list[datetime] = []
    # No pass over the run since the worker may have exited: keep waiting.
    assert exit_report_drained(deferred, None, passes) is False
    assert exit_report_drained(deferred, exited - timedelta(seconds=0.1), passes) is False
    # Passes that began after the exit are counted once each, however often they are seen.
    first = exited + timedelta(seconds=0.3)
    assert exit_report_drained(deferred, first, passes) is False
    assert exit_report_drained(deferred, first, passes) is False
    assert exit_report_drained(deferred, first + timedelta(seconds=1), passes) is False
    # The third began, so the second (which read the exit report) has drained it: safe.
    assert exit_report_drained(deferred, first + timedelta(seconds=2), passes) is True
    assert len(passes) == PASSES_AFTER_EXIT
    # Long after the exit (a callback minutes later) one look is enough.
    assert exit_report_drained(deferred, exited + timedelta(seconds=SETTLED_AFTER_SECONDS), []) is True


def test_the_api_server_tells_a_trigger_whether_its_task_may_resume(airflow_api_server):
    import uuid

    import requests

    from airflow_provider_wix.callback.state import RESUMABLE_PATH

    unknown = requests.get(airflow_api_server + RESUMABLE_PATH.format(ti_id=uuid.uuid4()), timeout=30)
    assert unknown.status_code == 200
    assert unknown.json() == {"resumable": False}  # not deferred: nothing to hold
    assert requests.get(airflow_api_server + RESUMABLE_PATH.format(ti_id="x"), timeout=30).status_code == 404
