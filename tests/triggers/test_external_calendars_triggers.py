"""Triggers: serialize() round trips and run() under asyncio.

Outside a task or the triggerer, the Task SDK reads Variables from ``AIRFLOW_VAR_*`` environment
variables, so flow records are provided that way here.
"""

from __future__ import annotations

import asyncio
import importlib
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from airflow_provider_wix.callback.state import FlowRecord, flow_key, new_state_token, state_digest
from airflow_provider_wix.client.models import OAuthCallbackError
from airflow_provider_wix.triggers.external_calendars import (
    WixConnectionStatusTrigger,
    WixOAuthCallbackBatchTrigger,
    WixOAuthCallbackTrigger,
)

SCHEDULE_ID = "89e20858-bfa1-462b-b813-074fb1e4d62f"


def _round_trip(trigger: Any) -> Any:
    classpath, kwargs = trigger.serialize()
    module, name = classpath.rsplit(".", 1)
    rebuilt = getattr(importlib.import_module(module), name)(**kwargs)
    assert rebuilt.serialize() == (classpath, kwargs)
    return rebuilt


def _first_event(trigger: Any, timeout: float = 10) -> dict[str, Any]:
    async def first() -> dict[str, Any]:
        agen = trigger.run()
        try:
            event = await asyncio.wait_for(agen.__anext__(), timeout)
        finally:
            await agen.aclose()
        return event.payload

    return asyncio.run(first())


def _record(**changes: Any) -> FlowRecord:
    return FlowRecord.issue(
        dag_id="d",
        run_id="r",
        task_id="t",
        map_index=-1,
        schedule_id=SCHEDULE_ID,
        provider_id="a4989031-ec67-4939-b361-31d1e41e6aad",
        ttl=timedelta(hours=1),
    )


def _publish(monkeypatch: pytest.MonkeyPatch, token: str, record: FlowRecord | None) -> None:
    name = "AIRFLOW_VAR_" + flow_key(state_digest(token)).upper()
    if record is None:
        monkeypatch.delenv(name, raising=False)
    else:
        monkeypatch.setenv(name, record.to_json())


def test_callback_trigger_serializes_to_an_importable_classpath():
    trigger = WixOAuthCallbackTrigger(
        state_digest="ab" * 32,
        poll_interval=300,
        deadline="2030-01-01T00:00:00+00:00",
        wix_conn_id="wix_x",
        detect_via_api=True,
        schedule_id=SCHEDULE_ID,
        existing_connection_ids=["c1"],
    )
    rebuilt = _round_trip(trigger)
    assert rebuilt.existing_connection_ids == ["c1"]
    assert trigger.serialize()[0] == "airflow_provider_wix.triggers.external_calendars.WixOAuthCallbackTrigger"


def test_status_trigger_round_trip():
    not_before = "2026-12-01T12:00:15+00:00"
    worker = {"host": "boot/4026531836", "pid": 4242, "started": 123456}  # read by the API server (callback.wake)
    rebuilt = _round_trip(
        WixConnectionStatusTrigger(
            connection_id="abc", poll_interval=5, resume_not_before=not_before, deferring_worker=worker
        )
    )
    assert rebuilt.resume_not_before == not_before
    assert rebuilt.deferring_worker == worker
    assert rebuilt.target_statuses == ["SYNCED"]
    assert rebuilt.failure_statuses == ["ERROR", "DISCONNECTED"]


def test_callback_trigger_fires_on_first_poll_when_already_recorded(monkeypatch):
    token = new_state_token()
    _publish(monkeypatch, token, _record().completed(connection_id="conn1", error=None))
    payload = _first_event(WixOAuthCallbackTrigger(state_digest=state_digest(token), poll_interval=3600))
    assert payload["status"] == "callback"
    assert payload["connection_id"] == "conn1"
    assert payload["polls"] == 1


def test_callback_trigger_picks_up_a_record_written_while_waiting(monkeypatch):
    token = new_state_token()
    _publish(monkeypatch, token, _record())

    async def scenario() -> dict[str, Any]:
        trigger = WixOAuthCallbackTrigger(state_digest=state_digest(token), poll_interval=0.05)
        agen = trigger.run()
        task = asyncio.ensure_future(agen.__anext__())
        await asyncio.sleep(0.2)
        assert not task.done()
        _publish(monkeypatch, token, _record().completed(connection_id=None, error=OAuthCallbackError.REJECT))
        event = await asyncio.wait_for(task, 5)
        await agen.aclose()
        return event.payload

    payload = asyncio.run(scenario())
    assert payload["error"] == "reject"
    assert payload["polls"] > 1


def test_callback_trigger_reports_timeout_at_deadline(monkeypatch):
    token = new_state_token()
    _publish(monkeypatch, token, _record())
    deadline = (datetime.now(timezone.utc) + timedelta(seconds=0.3)).isoformat()
    payload = _first_event(
        WixOAuthCallbackTrigger(state_digest=state_digest(token), poll_interval=3600, deadline=deadline)
    )
    assert payload["status"] == "timeout"


def test_callback_trigger_reports_a_vanished_record(monkeypatch):
    token = new_state_token()
    _publish(monkeypatch, token, None)
    payload = _first_event(WixOAuthCallbackTrigger(state_digest=state_digest(token), poll_interval=3600))
    assert payload["status"] == "error"
    assert "gone" in payload["message"]


def test_a_subclass_defined_elsewhere_serializes_the_provider_classpath():
    """The triggerer imports the serialized classpath: it must be the provider's module, not the caller's."""

    class Tuned(WixConnectionStatusTrigger):
        pass

    classpath, _ = Tuned(connection_id="abc").serialize()
    assert classpath == "airflow_provider_wix.triggers.external_calendars.WixConnectionStatusTrigger"
    module, name = classpath.rsplit(".", 1)
    assert getattr(importlib.import_module(module), name) is WixConnectionStatusTrigger


def test_callback_trigger_holds_an_early_event_until_resume_not_before(monkeypatch):
    token = new_state_token()
    _publish(monkeypatch, token, _record().completed(connection_id="conn1", error=None))
    not_before = datetime.now(timezone.utc) + timedelta(seconds=0.8)
    trigger = _round_trip(
        WixOAuthCallbackTrigger(
            state_digest=state_digest(token), poll_interval=3600, resume_not_before=not_before.isoformat()
        )
    )
    payload = _first_event(trigger)
    assert datetime.now(timezone.utc) >= not_before
    assert payload["polls"] == 1  # found at once, sent only once the task can be resumed safely


def test_callback_trigger_asks_the_api_server_instead_of_waiting_out_the_hold(monkeypatch, airflow_api_server):
    import uuid

    from airflow_provider_wix.callback.state import RESUMABLE_PATH

    token = new_state_token()
    _publish(monkeypatch, token, _record().completed(connection_id="conn1", error=None))
    in_a_minute = (datetime.now(timezone.utc) + timedelta(seconds=60)).isoformat()
    trigger = WixOAuthCallbackTrigger(
        state_digest=state_digest(token),
        poll_interval=3600,
        resume_not_before=in_a_minute,
        resume_check_url=airflow_api_server + RESUMABLE_PATH.format(ti_id=uuid.uuid4()),
    )
    assert _first_event(trigger, timeout=20)["connection_id"] == "conn1"  # answered "not deferred": no wait


async def _cancel_while_waiting(trigger: WixOAuthCallbackTrigger, before_cancel: Any) -> list[Any]:
    """Run the trigger as the triggerer does, cancel it mid-wait (as for an orphaned trigger), collect events."""
    events: list[Any] = []

    async def consume() -> None:
        async for event in trigger.run():
            events.append(event.payload)

    task = asyncio.ensure_future(consume())
    await asyncio.sleep(0.2)
    before_cancel()
    task.cancel("__airflow_user_action__")
    try:
        await task
    except asyncio.CancelledError:
        events.append("cancelled")
    return events


def test_callback_trigger_ends_normally_when_cancelled_after_a_pushed_answer(monkeypatch):
    """The push resumes the task; the orphaned trigger is cancelled; it must not look like a user's kill."""
    token = new_state_token()
    _publish(monkeypatch, token, _record())
    trigger = WixOAuthCallbackTrigger(state_digest=state_digest(token), poll_interval=3600)
    answered = _record().completed(connection_id="conn1", error=None)
    events = asyncio.run(_cancel_while_waiting(trigger, lambda: _publish(monkeypatch, token, answered)))
    assert events == [{**answered.event_payload(via="push")}]


def test_callback_trigger_cancelled_while_still_pending_is_a_real_cancellation(monkeypatch):
    token = new_state_token()
    _publish(monkeypatch, token, _record())
    trigger = WixOAuthCallbackTrigger(state_digest=state_digest(token), poll_interval=3600)
    assert asyncio.run(_cancel_while_waiting(trigger, lambda: None)) == ["cancelled"]


def test_wix_calls_run_where_task_sdk_calls_reach_the_triggerers_own_loop():
    """A trigger's Wix call may read or write the shared token's Variable. Airflow 3.1's trigger runner
    answers such a Task SDK call with ``async_to_sync(asend)``: from a thread of ``_in_thread`` that
    runs on the triggerer's loop, which owns the supervisor channel; from a bare ``asyncio.to_thread``
    thread it would run on a loop of its own and race the runner's reads of that channel."""
    from asgiref.sync import async_to_sync

    from airflow_provider_wix.triggers.external_calendars import _in_thread

    async def loop_answering() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    def task_sdk_call() -> asyncio.AbstractEventLoop:
        return async_to_sync(loop_answering)()

    async def answered_on_own_loop(run_in_thread: Any) -> bool:
        return await run_in_thread(task_sdk_call) is asyncio.get_running_loop()

    # One asyncio.run each: a fresh default executor, so no thread marked by the other is reused.
    assert asyncio.run(answered_on_own_loop(_in_thread)) is True
    assert asyncio.run(answered_on_own_loop(asyncio.to_thread)) is False


# -- the batch trigger: one trigger for many flows ---------------------------------------------------

BATCH = "wix_oauth_batch__test"


def _batch_trigger(flow_ids: list[str], *, deadline_in: float = 60, poll_interval: float = 3600) -> Any:
    deadline = (datetime.now(timezone.utc) + timedelta(seconds=deadline_in)).isoformat()
    return _round_trip(
        WixOAuthCallbackBatchTrigger(
            flow_ids=flow_ids, batch=BATCH, check_interval=0.05, poll_interval=poll_interval, deadline=deadline
        )
    )


def _list_answers(monkeypatch: pytest.MonkeyPatch, answers: dict[str, Any] | None) -> None:
    import json

    name = "AIRFLOW_VAR_" + BATCH.upper()
    if answers is None:
        monkeypatch.delenv(name, raising=False)
    else:
        monkeypatch.setenv(name, json.dumps(answers))


def test_batch_trigger_ends_when_the_answer_list_holds_every_flow(monkeypatch):
    tokens = [new_state_token() for _ in range(3)]
    flow_ids = [state_digest(t) for t in tokens]
    for token in tokens:  # still pending in their records: only the list can end the wait
        _publish(monkeypatch, token, _record())
    answers = {
        flow_ids[0]: _record().completed(connection_id="c1", error=None).event_payload(via="batch"),
        flow_ids[1]: _record()
        .completed(connection_id=None, error=OAuthCallbackError.REJECT)
        .event_payload(via="batch"),
    }
    _list_answers(monkeypatch, answers)

    event = _first_event(_batch_trigger(flow_ids, deadline_in=1.5))

    # The third owner never answered: the deadline ends the wait with that flow pending.
    assert event["status"] == "done"
    assert event["answers"] == answers
    assert event["pending"] == [flow_ids[2]]

    _list_answers(monkeypatch, {**answers, flow_ids[2]: answers[flow_ids[0]]})
    event = _first_event(_batch_trigger(flow_ids))
    assert (event["pending"], event["checks"]) == ([], 1)


def test_batch_trigger_reads_the_records_when_the_list_is_missing(monkeypatch):
    token, silent = new_state_token(), new_state_token()
    _publish(monkeypatch, token, _record().completed(connection_id="c1", error=None))
    _publish(monkeypatch, silent, _record())
    _list_answers(monkeypatch, None)

    event = _first_event(_batch_trigger([state_digest(token), state_digest(silent)], deadline_in=0.5))

    assert event["answers"] == {state_digest(token): {**_record().event_payload(via="poll"), "connection_id": "c1"}}
    assert event["pending"] == [state_digest(silent)]


def test_batch_trigger_safety_poll_catches_an_answer_missing_from_the_list(monkeypatch):
    token = new_state_token()
    _publish(monkeypatch, token, _record().completed(connection_id=None, error=OAuthCallbackError.REJECT))
    _list_answers(monkeypatch, {})

    event = _first_event(_batch_trigger([state_digest(token)], poll_interval=0.2))

    assert event["answers"][state_digest(token)]["error"] == "reject"
    assert event["pending"] == [] and event["checks"] > 1
