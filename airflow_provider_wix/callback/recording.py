"""Record an OAuth callback in the metadata database and wake the sensor waiting for it.

This runs inside the Airflow API server (the plugin route) and touches Airflow's ORM
(``Variable``, ``create_session``); waking the task is :mod:`airflow_provider_wix.callback.wake`.
If waking the task fails for any reason, the record is still committed and the sensor's trigger
finds it on its next poll: the push only makes the wake-up faster, it is never needed for correctness.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_wix.callback.state import (
    FLOW_KEY_PREFIX,
    TASK_KEY_PREFIX,
    FlowRecord,
    FlowStatus,
    InvalidStateError,
    OAuthCallbackError,
    flow_key,
    state_digest,
    utcnow,
    waiter_key,
)
from airflow_provider_wix.callback.wake import wake_waiter

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger(__name__)

#: How often one API-server process sweeps expired flow records.
PURGE_INTERVAL_SECONDS = 600.0
#: Flows per DELETE statement of the sweep (their flow and waiter keys, or as many task notes).
_PURGE_BATCH = 250


_ALREADY_USED = "This authorization link has already been used."


class CallbackRefused(Exception):
    """The callback cannot be accepted; nothing was recorded."""

    def __init__(self, http_status: int, reason: str) -> None:
        super().__init__(reason)
        self.http_status = http_status
        self.reason = reason


@dataclass(frozen=True)
class CallbackOutcome:
    record: FlowRecord
    woke_task: bool
    #: True when this request repeated the answer already recorded (a reload): nothing was written.
    repeated: bool = False


def record_callback(token: str, *, connection_id: str | None, error: OAuthCallbackError | None) -> CallbackOutcome:
    """Store the callback for a known, unexpired, unused state exactly once, then wake the waiter.

    The same answer again (the owner reloads the page, or the browser restores the tab) is not an
    error: it returns the recorded outcome with ``repeated=True`` and writes nothing, for as long as
    the record lives (until the state expires, also after the sensor consumed it).
    """
    try:
        digest = state_digest(token)
    except InvalidStateError as err:
        raise CallbackRefused(400, str(err)) from None
    outcome = _complete_flow(
        digest,
        lambda record: record.completed(connection_id=connection_id, error=error),
        repeats=lambda record: record.has_outcome(connection_id=connection_id, error=error),
    )
    purge_expired_flows_if_due()
    return outcome


def cancel_flow(digest: str, *, by: str) -> CallbackOutcome:
    """Withdraw a pending link for the Airflow user ``by`` and wake its sensor, which then fails."""
    return _complete_flow(digest, lambda record: record.cancelled(by=by))


def _complete_flow(
    digest: str,
    complete: Callable[[FlowRecord], FlowRecord],
    repeats: Callable[[FlowRecord], bool] = lambda record: False,
) -> CallbackOutcome:
    """Move a pending, unexpired flow to its final state exactly once, then wake the waiting sensor.

    A request that ``repeats`` the recorded outcome of a completed flow gets that outcome back, and
    nothing is written.
    """
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        row = session.scalars(select(Variable).where(Variable.key == flow_key(digest)).with_for_update()).one_or_none()
        if row is None:
            raise CallbackRefused(404, "This authorization link is unknown or has already been cleaned up.")
        record = FlowRecord.from_json(row.val)
        if record.status is FlowStatus.CANCELLED:
            raise CallbackRefused(409, "This authorization link was withdrawn; ask for a new one.")
        if record.is_expired():
            raise CallbackRefused(410, "This authorization link has expired.")
        if not record.is_pending:
            if repeats(record):
                return CallbackOutcome(record=record, woke_task=False, repeated=True)
            raise CallbackRefused(409, _ALREADY_USED)

        completed = complete(record)
        if not _swap_value(session, row, completed.to_json()):  # of two concurrent callbacks, one wins
            raise CallbackRefused(409, _ALREADY_USED)
    # Committed first: the wake-up may wait for the scheduler, and the trigger's poll needs the record.
    woke = wake_waiter(digest, completed)
    return CallbackOutcome(record=completed, woke_task=woke)


def _swap_value(session: Any, row: Any, value: str) -> bool:
    """Replace a Variable row's value only if it still holds what ``row`` read (compare-and-swap).

    Exactly one of two concurrent writers wins, on databases that ignore ``FOR UPDATE`` (SQLite) as
    well as on those that honour it; the value is encrypted as ``Variable`` itself would store it.
    """
    from airflow.models.variable import Variable
    from sqlalchemy import update

    encoded = Variable(key=row.key, val=value)
    swapped = session.execute(
        update(Variable)
        .where(Variable.id == row.id, Variable._val == row._val)
        .values(_val=encoded._val, is_encrypted=encoded.is_encrypted)
        .execution_options(synchronize_session=False)
    )
    return getattr(swapped, "rowcount", 0) == 1


def list_batch_answer(session: Any, batch: str, digest: str, record: FlowRecord) -> None:
    """Add the answer to its batch's list, which the batch's one trigger reads instead of every record.

    Owners of one batch answer concurrently: a lost compare-and-swap reads the list again. The list
    holds only the non-secret event payload. Called by :func:`~airflow_provider_wix.callback.wake.wake_waiter`
    when the flow's waiter is a batch.
    """
    from airflow.models.variable import Variable
    from sqlalchemy import select

    for _ in range(_BATCH_LIST_ATTEMPTS):
        row = session.scalars(select(Variable).where(Variable.key == batch).with_for_update()).one_or_none()
        if row is None:
            return  # the batch's wait is over (or never opened): its records are read directly
        answers = json.loads(row.val or "{}")
        answers[digest] = record.event_payload(via="batch")
        swapped = _swap_value(session, row, json.dumps(answers, sort_keys=True))
        session.commit()
        if swapped:
            log.info("Listed the answer for schedule %s in its batch", record.schedule_id)
            return
    log.warning("Could not list the answer for schedule %s in its batch; its trigger's poll will", record.schedule_id)


#: Compare-and-swap attempts when concurrent answers of one batch collide.
_BATCH_LIST_ATTEMPTS = 20


_purge_lock = threading.Lock()
_last_purge = float("-inf")


def purge_expired_flows_if_due() -> None:
    """Sweep expired flow records at most every ``PURGE_INTERVAL_SECONDS`` per process; never raises.

    Called by the callback route and by the plugin's background sweep (see
    :mod:`airflow_provider_wix.plugins.callback`), so records go away even when no owner calls back.
    """
    global _last_purge
    now = time.monotonic()
    if now - _last_purge < PURGE_INTERVAL_SECONDS or not _purge_lock.acquire(blocking=False):
        return
    try:
        _last_purge = now
        purged = purge_expired_flows()
        if purged:
            log.info("Purged %d expired Wix OAuth flow records", purged)
    except Exception:
        log.warning("Purging expired Wix OAuth flow records failed", exc_info=True)
    finally:
        _purge_lock.release()


def purge_expired_flows(grace_seconds: float = 0.0) -> int:
    """Delete flow (and waiter) records whose state expired; abandoned flows do not pile up.

    A Connect task's note of its last flow (``TASK_KEY_PREFIX``) goes once that flow is gone.
    Returns the number of flows deleted.
    """
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session
    from sqlalchemy import delete, select

    now = utcnow()
    expired: list[str] = []
    with create_session() as session:
        # Task notes first: a note is written after its flow, so every note read here has its flow below.
        notes = session.scalars(select(Variable).where(Variable.key.startswith(TASK_KEY_PREFIX))).all()
        rows = session.scalars(select(Variable).where(Variable.key.startswith(FLOW_KEY_PREFIX))).all()
        for row in rows:
            record = _parse(row.val)
            if record is not None and (now - record.expires).total_seconds() <= grace_seconds:
                continue
            expired.append(row.key[len(FLOW_KEY_PREFIX) :])
        live = {row.key[len(FLOW_KEY_PREFIX) :] for row in rows}.difference(expired)
        keys = [k for d in expired for k in (flow_key(d), waiter_key(d))]
        keys += [note.key for note in notes if note.val not in live]
        for start in range(0, len(keys), 2 * _PURGE_BATCH):
            batch = keys[start : start + 2 * _PURGE_BATCH]
            session.execute(
                delete(Variable).where(Variable.key.in_(batch)).execution_options(synchronize_session=False)
            )
    return len(expired)


def _parse(raw: Any) -> FlowRecord | None:
    try:
        return FlowRecord.from_json(raw)
    except (ValueError, TypeError, KeyError):
        return None
