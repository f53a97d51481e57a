"""Wake the deferred sensor waiting for an OAuth callback, instead of letting it wait for its next poll.

This runs inside the Airflow API server (the plugin route), after the callback has been recorded in
the same session. It is the provider's only use of Airflow's internal core APIs for resuming a task
(``handle_event_submit``, ``TaskInstance``); keeping them here means one place to adapt when Airflow
moves them. The push only makes the wake-up faster: if it fails, the record is still committed and
the sensor's trigger finds it on its next poll.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import TYPE_CHECKING

from airflow_provider_wix.callback.state import FlowRecord, waiter_key

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


def wake_waiter(session: Session, digest: str, record: FlowRecord) -> bool:
    """Resume the deferred sensor at once instead of waiting for its next poll (best effort)."""
    try:
        # Airflow-internal core APIs, same shape in Airflow 3.1, 3.2 and 3.3.
        from airflow.models.taskinstance import TaskInstance
        from airflow.models.trigger import handle_event_submit
        from airflow.models.variable import Variable
        from airflow.triggers.base import TriggerEvent
        from airflow.utils.state import TaskInstanceState
        from sqlalchemy import select

        raw = session.scalars(select(Variable).where(Variable.key == waiter_key(digest))).one_or_none()
        if raw is None:
            return False  # no sensor has registered yet; its pre-defer check will find the record
        ti_id = uuid.UUID(json.loads(raw.val)["ti_id"])
        with session.begin_nested():
            ti = session.get(TaskInstance, ti_id, with_for_update={"of": TaskInstance})
            if ti is None or ti.state != TaskInstanceState.DEFERRED:
                # Running tasks check the record themselves before deferring; never resume those.
                return False
            handle_event_submit(TriggerEvent(record.event_payload(via="push")), task_instance=ti, session=session)
        log.info("Woke task instance %s for OAuth flow of schedule %s", ti_id, record.schedule_id)
        return True
    except Exception:
        log.warning("Could not wake the waiting sensor; its trigger will pick the callback up", exc_info=True)
        return False
