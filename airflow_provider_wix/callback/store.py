"""Read and write flow records from tasks and triggers, through Airflow Variables.

Variables live in Airflow's metadata database and are reachable from every component whatever the
executor: workers and the triggerer reach them through the Task SDK (Execution API), the API server
through the ORM (see :mod:`airflow_provider_wix.callback.recording`). Nothing is kept in process memory
or in a local file, so a callback survives restarts of any component.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from asgiref.sync import sync_to_async

from airflow_provider_wix.callback.state import FlowRecord, flow_key, task_key, waiter_key

log = logging.getLogger(__name__)


def _variable() -> Any:
    # Imported lazily so that importing this module (e.g. from a DAG file) stays cheap.
    from airflow.sdk import Variable

    return Variable


def save_flow(digest: str, record: FlowRecord) -> None:
    _variable().set(flow_key(digest), record.to_json(), description="Wix OAuth onboarding flow")


def load_flow(digest: str) -> FlowRecord | None:
    raw = _variable().get(flow_key(digest), default=None)
    return FlowRecord.from_json(raw) if raw else None


async def aload_flow(digest: str) -> FlowRecord | None:
    """Async variant for triggers: the Variable lookup runs off the event loop."""
    return await sync_to_async(load_flow)(digest)


def register_waiter(digest: str, ti_id: str) -> None:
    """Tell the callback route which task instance to wake when the callback arrives."""
    _variable().set(waiter_key(digest), json.dumps({"ti_id": ti_id}), description="Wix OAuth waiting sensor")


def open_batch(batch: str, *, keep: bool = False) -> None:
    """Create a batch's answer list (empty), so the callback route only ever updates an existing row.

    ``keep``: leave a list that exists (a retry of the batch's Connect task keeps earlier answers).
    """
    if keep and _variable().get(batch, default=None) is not None:
        return
    _variable().set(batch, "{}", description="Wix OAuth answers of a batch of flows")


def register_batch_waiter(digest: str, batch: str) -> None:
    """Tell the callback route to list this flow's answer in ``batch`` (no task is resumed per answer)."""
    _variable().set(waiter_key(digest), json.dumps({"batch": batch}), description="Wix OAuth waiting batch")


def batch_answers(batch: str) -> dict[str, dict[str, Any]] | None:
    """The answers listed so far: flow id -> the non-secret event payload of its record; ``None``
    when the list does not exist (its records must then be read one by one)."""
    raw = _variable().get(batch, default=None)
    return dict(json.loads(raw)) if raw is not None else None


async def abatch_answers(batch: str) -> dict[str, dict[str, Any]] | None:
    """Async variant for triggers: one Variable read, whatever the number of flows in the batch."""
    return await sync_to_async(batch_answers)(batch)


def close_batch(batch: str) -> None:
    _delete(batch)


def consume_flow(digest: str, record: FlowRecord) -> None:
    """Mark the answer as acted on: keep its non-secret outcome until expiry, drop the waiter.

    The owner who reloads the success or decline page then sees the same page; the expired-flow
    purge deletes the record later.
    """
    save_flow(digest, record.consumed())
    _delete(waiter_key(digest))


def noted_flow(ti: Any, schedule_id: str | None = None) -> str | None:
    """The flow id Connect task instance ``ti`` noted last (for ``schedule_id``, in a batch), if any."""
    value = _variable().get(task_key(ti.dag_id, ti.run_id, ti.task_id, ti.map_index, schedule_id), default=None)
    return str(value) if value else None


def replace_task_flow(ti: Any, digest: str, schedule_id: str | None = None) -> str | None:
    """Note ``digest`` as the flow of Connect task instance ``ti``; withdraw the one it issued before.

    A cleared and re-run (or retried) Connect task issues a fresh state. The link of its previous
    try must not stay usable: nobody waits for it any more (the new sensor waits on the new flow), so
    a pending previous flow is withdrawn and its link answers "withdrawn, ask for a new one". A
    previous flow that was already answered keeps its outcome for reloads. Returns the previous
    flow id, if any. A batch Connect task notes one flow per ``schedule_id``.
    """
    key = task_key(ti.dag_id, ti.run_id, ti.task_id, ti.map_index, schedule_id)
    previous = _variable().get(key, default=None)
    _variable().set(key, digest, description="Wix OAuth flow of a Connect task instance")
    if not previous or previous == digest:
        return None
    record = load_flow(previous)
    if record is not None and record.is_pending:
        # Not a compare-and-swap (the Task SDK has none): an answer arriving in this instant is
        # overwritten, and the owner is asked again through the new link, which is safe. Kept like
        # any acted-on flow: the outcome ("withdrawn") until expiry, without the secret.
        consume_flow(previous, record.cancelled(by=f"a new try of {ti.task_id}"))
    return str(previous)


def discard_flow(digest: str) -> None:
    """Delete the flow record and its waiter (a link never handed out, or withdrawn); missing keys are fine."""
    for key in (flow_key(digest), waiter_key(digest)):
        _delete(key)


def _delete(key: str) -> None:
    try:
        _variable().delete(key)
    except Exception:  # a record that is already gone is the desired end state
        log.debug("Variable %s was already gone", key, exc_info=True)
