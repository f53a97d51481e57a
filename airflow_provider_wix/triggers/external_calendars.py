"""Triggers that wait, in the triggerer, for a Wix onboarding to progress.

They hold no worker slot and do no blocking I/O on the event loop: Variable reads and Wix calls go
through ``sync_to_async`` (a thread whose Task SDK calls Airflow routes back over the triggerer's
supervisor channel). The OAuth callback normally wakes the task
directly (see :mod:`airflow_provider_wix.callback.wake`), so the callback trigger's poll is only a
rare safety net; its first check runs at once, which closes the race with a callback that arrived
while the task was deferring.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_wix.hooks import DEFAULT_WIX_CONN_ID

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Sequence

    from airflow_provider_wix.client import ExternalCalendarsClient

# Fixed classpaths: a subclass defined elsewhere must not make the triggerer import a different class.
_OAUTH_CALLBACK_CLASSPATH = "airflow_provider_wix.triggers.external_calendars.WixOAuthCallbackTrigger"
_CONNECTION_STATUS_CLASSPATH = "airflow_provider_wix.triggers.external_calendars.WixConnectionStatusTrigger"
_OAUTH_BATCH_CLASSPATH = "airflow_provider_wix.triggers.external_calendars.WixOAuthCallbackBatchTrigger"

T = TypeVar("T")


async def _client_for(wix_conn_id: str) -> ExternalCalendarsClient:
    """The triggerer's client for the Airflow connection, fetched with the async (non-blocking) API.

    Shared per connection within the triggerer process: a thousand waiting triggers then hold one
    HTTP session. With Wix app OAuth it also shares the tasks' access token (the Variable of
    :class:`~airflow_provider_wix.hooks.wix.VariableTokenStore`): the triggerer adopts the token a task
    minted, or leaves the one it minted for the tasks, so a run mints one per expiry window in all.
    Call it through :func:`_in_thread`, which is what makes those Variable calls safe here.
    """
    from airflow.sdk import BaseHook

    from airflow_provider_wix.hooks.wix import WixHook, token_store_for

    connection = await BaseHook.aget_connection(wix_conn_id)
    return WixHook.client_from_connection(connection, shared=True, token_store=token_store_for(connection))


async def _in_thread(func: Callable[..., T], *args: Any) -> T:
    """Run a blocking Wix call off the event loop, in a thread from which Task SDK calls are safe.

    The call may read or write the shared token's Variable. From a bare thread (``asyncio.to_thread``)
    Airflow 3.1's trigger runner would answer that on a new event loop, racing the runner's own reads
    of its supervisor channel; ``sync_to_async`` marks the thread so that the Task SDK's
    ``async_to_sync`` runs the request on the triggerer's loop. ``thread_sensitive=False``: triggers
    do not queue behind each other's Wix calls in one thread.
    """
    from asgiref.sync import sync_to_async

    return await sync_to_async(func, thread_sensitive=False)(*args)


def _describe_failure(what: str, err: Exception) -> str:
    """The trigger event's message: a Wix error says enough itself, anything else gets its type."""
    from airflow_provider_wix.client.errors import WixError

    detail = str(err) if isinstance(err, WixError) else f"{type(err).__name__}: {err}"
    return f"{what} failed in the triggerer: {detail}"


def _seconds_until(deadline: str | None) -> float | None:
    if deadline is None:
        return None
    return (datetime.fromisoformat(deadline) - datetime.now(timezone.utc)).total_seconds()


class _ResumingTrigger(BaseTrigger):
    """A trigger whose one event resumes the task, but never before the task's safe point.

    An event ready seconds after deferring (the owner answered while the task was deferring, or the
    first poll already sees the status) would otherwise race Airflow's handling of the deferring
    worker's exit and fail the task; see :mod:`airflow_provider_wix.callback.wake`. The trigger
    asks the API server at ``resume_check_url`` when it may send the event (one request, which the
    API server holds up to 20 s while it watches the worker and the scheduler; asked again at most
    until :data:`MAX_ASK_SECONDS`). If that cannot be reached it waits until ``resume_not_before``.
    Both are ``None`` where no wait is needed. ``deferring_worker`` (the process that will report the
    deferring try's exit) is only carried for the API server, which reads it from the trigger row.
    """

    def __init__(
        self,
        *,
        resume_not_before: str | None = None,
        resume_check_url: str | None = None,
        deferring_worker: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.resume_not_before = resume_not_before
        self.resume_check_url = resume_check_url
        self.deferring_worker = deferring_worker

    def _resume_guard_kwargs(self) -> dict[str, Any]:
        return {
            "resume_not_before": self.resume_not_before,
            "resume_check_url": self.resume_check_url,
            "deferring_worker": self.deferring_worker,
        }

    async def run(self) -> AsyncIterator[TriggerEvent]:
        async for event in self._events():
            await self._until_resumable()
            yield event
            return

    def _events(self) -> AsyncIterator[TriggerEvent]:
        raise NotImplementedError

    async def _until_resumable(self) -> None:
        if self.resume_not_before is None:
            return
        if self.resume_check_url:
            give_up = time.monotonic() + MAX_ASK_SECONDS
            try:
                while await asyncio.to_thread(_ask_resumable, self.resume_check_url) is None:
                    # The API server held the request and the scheduler has not caught up yet.
                    if time.monotonic() > give_up:
                        self.log.warning("No safe point for resuming the task after %.0f s; resuming", MAX_ASK_SECONDS)
                        return
                return
            except Exception as err:  # unreachable API server: fall back to waiting
                self.log.warning("Could not ask whether the task may resume (%s); waiting instead", err)
        remaining = _seconds_until(self.resume_not_before)
        if remaining is not None and remaining > 0:
            await asyncio.sleep(remaining)


#: How long a trigger keeps asking the API server for the safe point (each request is held up to 20 s
#: there); the scheduler is then stuck, and after that long any exit report is long drained.
MAX_ASK_SECONDS = 600.0


def _ask_resumable(url: str) -> bool | None:
    import requests

    response = requests.get(url, timeout=45)
    response.raise_for_status()
    verdict = response.json()["resumable"]
    return None if verdict is None else bool(verdict)


class WixOAuthCallbackTrigger(_ResumingTrigger):
    """Fire when the OAuth callback for a state has been recorded (or a new connection appears).

    :param state_digest: Digest of the OAuth state whose flow record to watch; ``None`` watches
        only the API (``detect_via_api``).
    :param poll_interval: Seconds between checks. The callback pushes the wake-up, so keep this long.
    :param deadline: ISO timestamp after which a ``timeout`` event is sent, so the sensor can name
        the pending link in its error.
    :param detect_via_api: Also poll List Connections for a new connection of ``schedule_id``.
    :param existing_connection_ids: Connections of the schedule before the flow started.
    :param resume_not_before: With ``resume_check_url``, holds an event ready right after deferral
        until the task can be resumed safely (see :class:`_ResumingTrigger`).
    """

    def __init__(
        self,
        *,
        state_digest: str | None,
        poll_interval: float,
        deadline: str | None = None,
        wix_conn_id: str = DEFAULT_WIX_CONN_ID,
        detect_via_api: bool = False,
        schedule_id: str | None = None,
        existing_connection_ids: Sequence[str] = (),
        resume_not_before: str | None = None,
        resume_check_url: str | None = None,
        deferring_worker: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            resume_not_before=resume_not_before,
            resume_check_url=resume_check_url,
            deferring_worker=deferring_worker,
        )
        self.state_digest = state_digest
        self.poll_interval = poll_interval
        self.deadline = deadline
        self.wix_conn_id = wix_conn_id
        self.detect_via_api = detect_via_api
        self.schedule_id = schedule_id
        self.existing_connection_ids = list(existing_connection_ids)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            _OAUTH_CALLBACK_CLASSPATH,
            {
                "state_digest": self.state_digest,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "wix_conn_id": self.wix_conn_id,
                "detect_via_api": self.detect_via_api,
                "schedule_id": self.schedule_id,
                "existing_connection_ids": self.existing_connection_ids,
                **self._resume_guard_kwargs(),
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            async for event in super().run():
                yield event
                return
        except asyncio.CancelledError:
            # The callback route resumes the task itself (push), which leaves this trigger without a
            # task instance; the triggerer then cancels it exactly as if a user had marked the task,
            # logging "Trigger cancelled by user action, invoking on_kill". When the answer is in
            # the record, this wait simply ended: say so and finish instead of being killed.
            answer = await self._answer_after_cancel()
            if answer is None:
                raise
            yield answer

    async def _answer_after_cancel(self) -> TriggerEvent | None:
        from airflow_provider_wix.callback.store import aload_flow

        if self.state_digest is None:
            return None
        try:
            record = await asyncio.wait_for(aload_flow(self.state_digest), timeout=5)
        except Exception:
            return None
        if record is None or record.is_pending:
            return None
        self.log.info("The owner's answer reached the task directly (pushed by the callback); this wait is over")
        return TriggerEvent(record.event_payload(via="push"))

    async def _events(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_wix.callback.store import aload_flow

        client: ExternalCalendarsClient | None = None
        polls = 0
        while True:
            polls += 1
            if self.state_digest is not None:
                record = await aload_flow(self.state_digest)
                if record is None:
                    yield TriggerEvent(
                        {
                            "status": "error",
                            "message": "The OAuth flow record is gone (expired or cleaned up).",
                        }
                    )
                    return
                if not record.is_pending:
                    yield TriggerEvent({**record.event_payload(via="poll"), "polls": polls})
                    return
            if self.detect_via_api:
                try:
                    client = client or await _client_for(self.wix_conn_id)
                    new_id = await _in_thread(self._find_new_connection, client)
                except Exception as err:  # already retried by the client: report, let task retries decide
                    yield TriggerEvent({"status": "error", "message": _describe_failure("detect_via_api", err)})
                    return
                if new_id is not None:
                    yield TriggerEvent({"status": "detected", "via": "api", "connection_id": new_id, "polls": polls})
                    return
            remaining = _seconds_until(self.deadline)
            if remaining is not None and remaining <= 0:
                yield TriggerEvent({"status": "timeout", "polls": polls})
                return
            await asyncio.sleep(self.poll_interval if remaining is None else min(self.poll_interval, remaining))

    def _find_new_connection(self, client: ExternalCalendarsClient) -> str | None:
        assert self.schedule_id is not None
        return find_new_connection(client, self.schedule_id, self.existing_connection_ids)


class WixOAuthCallbackBatchTrigger(_ResumingTrigger):
    """Fire once every flow of a batch is answered, or at the deadline: one trigger for many owners.

    The callback route lists each answer in the batch's answer Variable (``batch``), so a check
    costs one Variable read whatever the number of flows; the flow records themselves are read only
    by the rare safety poll (every ``poll_interval``), which catches an answer whose listing failed,
    and at once when the list is missing (e.g. removed after an earlier try of the wait).

    The event is ``{"status": "done", "answers": {flow id: payload}, "pending": [flow ids],
    "checks": n}``: the owners who answered and those who had not by the deadline.

    :param flow_ids: The flows to watch (their state digests).
    :param batch: The batch's answer Variable (``callback.state.batch_key``).
    :param check_interval: Seconds between reads of the answer Variable.
    :param poll_interval: Seconds between safety reads of the pending flow records.
    :param deadline: ISO timestamp after which the event is sent with the unanswered flows pending.
    """

    def __init__(
        self,
        *,
        flow_ids: Sequence[str],
        batch: str,
        check_interval: float,
        poll_interval: float,
        deadline: str,
        resume_not_before: str | None = None,
        resume_check_url: str | None = None,
        deferring_worker: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            resume_not_before=resume_not_before,
            resume_check_url=resume_check_url,
            deferring_worker=deferring_worker,
        )
        self.flow_ids = list(flow_ids)
        self.batch = batch
        self.check_interval = check_interval
        self.poll_interval = poll_interval
        self.deadline = deadline

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            _OAUTH_BATCH_CLASSPATH,
            {
                "flow_ids": self.flow_ids,
                "batch": self.batch,
                "check_interval": self.check_interval,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                **self._resume_guard_kwargs(),
            },
        )

    async def _events(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_wix.callback.store import abatch_answers

        pending = set(self.flow_ids)
        answers: dict[str, dict[str, Any]] = {}
        checks = 0
        next_poll = time.monotonic() + self.poll_interval
        while True:
            checks += 1
            listed = await abatch_answers(self.batch)
            if listed is None or time.monotonic() >= next_poll:
                listed = {**(listed or {}), **await self._read_records(pending)}
                next_poll = time.monotonic() + self.poll_interval
            for flow_id in pending.intersection(listed):
                answers[flow_id] = listed[flow_id]
            pending.difference_update(answers)
            remaining = _seconds_until(self.deadline)
            if not pending or (remaining is not None and remaining <= 0):
                yield TriggerEvent({"status": "done", "answers": answers, "pending": sorted(pending), "checks": checks})
                return
            await asyncio.sleep(self.check_interval if remaining is None else min(self.check_interval, remaining))

    async def _read_records(self, flow_ids: set[str]) -> dict[str, dict[str, Any]]:
        """The answers in the flow records themselves (one Variable read each); a missing record is an answer too."""
        from airflow_provider_wix.callback.store import aload_flow

        found: dict[str, dict[str, Any]] = {}
        for flow_id in sorted(flow_ids):
            record = await aload_flow(flow_id)
            if record is None:
                found[flow_id] = {"status": "gone"}
            elif not record.is_pending:
                found[flow_id] = record.event_payload(via="poll")
        return found


def find_new_connection(client: ExternalCalendarsClient, schedule_id: str, existing: Sequence[str]) -> str | None:
    """Return the id of a connection of ``schedule_id`` that is not in ``existing``, if any."""
    known = set(existing)
    for connection in client.list_connections(schedule_ids=[schedule_id]):
        connection_id = connection.get("id")
        if connection_id and connection_id not in known and connection.get("status") != "DISCONNECTED":
            return connection_id
    return None


class WixConnectionStatusTrigger(_ResumingTrigger):
    """Fire when a connection reaches one of ``target_statuses`` or a failure status.

    Wix syncs in the background after connecting and after Update Sync Config, so the onboarding
    waits for ``SYNCED`` before reading events; ``ERROR`` and ``DISCONNECTED`` end the wait at once.
    """

    def __init__(
        self,
        *,
        connection_id: str,
        target_statuses: Sequence[str] = ("SYNCED",),
        failure_statuses: Sequence[str] = ("ERROR", "DISCONNECTED"),
        poll_interval: float = 30.0,
        wix_conn_id: str = DEFAULT_WIX_CONN_ID,
        resume_not_before: str | None = None,
        resume_check_url: str | None = None,
        deferring_worker: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            resume_not_before=resume_not_before,
            resume_check_url=resume_check_url,
            deferring_worker=deferring_worker,
        )
        self.connection_id = connection_id
        self.target_statuses = list(target_statuses)
        self.failure_statuses = list(failure_statuses)
        self.poll_interval = poll_interval
        self.wix_conn_id = wix_conn_id

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            _CONNECTION_STATUS_CLASSPATH,
            {
                "connection_id": self.connection_id,
                "target_statuses": self.target_statuses,
                "failure_statuses": self.failure_statuses,
                "poll_interval": self.poll_interval,
                "wix_conn_id": self.wix_conn_id,
                **self._resume_guard_kwargs(),
            },
        )

    async def _events(self) -> AsyncIterator[TriggerEvent]:
        client: ExternalCalendarsClient | None = None
        while True:
            try:
                client = client or await _client_for(self.wix_conn_id)
                connection = await _in_thread(client.get_connection, self.connection_id)
            except Exception as err:  # already retried by the client: report, let task retries decide
                yield TriggerEvent({"status": "error", "message": _describe_failure("get_connection", err)})
                return
            status = connection.get("status")
            if status in self.target_statuses or status in self.failure_statuses:
                yield TriggerEvent({"status": "done", "connection": dict(connection)})
                return
            await asyncio.sleep(self.poll_interval)
