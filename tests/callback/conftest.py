from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from airflow_provider_wix.callback.state import FlowRecord, flow_key, new_state_token, state_digest

SCHEDULE_ID = "89e20858-bfa1-462b-b813-074fb1e4d62f"
PROVIDER_ID = "a4989031-ec67-4939-b361-31d1e41e6aad"


def write_variable(key: str, value: str) -> None:
    """Write a Variable through the ORM, as the API server does (SDK writes need a running task)."""
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session
    from sqlalchemy import delete

    with create_session() as session:
        session.execute(delete(Variable).where(Variable.key == key))
        session.add(Variable(key=key, val=value))


def read_flow(token: str) -> FlowRecord | None:
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        row = session.scalars(select(Variable).where(Variable.key == flow_key(state_digest(token)))).one_or_none()
        return FlowRecord.from_json(row.val) if row else None


def raw_flow_value(token: str) -> str:
    """The stored (encrypted) value of a flow record: it changes on every write."""
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        return str(session.scalars(select(Variable._val).where(Variable.key == flow_key(state_digest(token)))).one())


def consume_flow_record(token: str) -> None:
    """What the sensor does once it acted on the answer (``store.consume_flow``), through the ORM."""
    record = read_flow(token)
    assert record is not None
    write_variable(flow_key(state_digest(token)), record.consumed().to_json())


@pytest.fixture
def issue_flow(airflow_db: Any) -> Iterator[Callable[..., str]]:
    """Issue a pending flow record the way ConnectByOAuthOperator does; returns the state token."""
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session
    from sqlalchemy import delete

    def _issue(ttl: timedelta = timedelta(hours=1), **overrides: Any) -> str:
        token = new_state_token()
        fields: dict[str, Any] = {
            "dag_id": "onboarding",
            "run_id": "manual__1",
            "task_id": "connect",
            "map_index": -1,
            "schedule_id": SCHEDULE_ID,
            "provider_id": PROVIDER_ID,
            "provider_name": "Microsoft",  # what the operator records from the provider object
            "ttl": ttl,
            **overrides,
        }
        write_variable(flow_key(state_digest(token)), FlowRecord.issue(**fields).to_json())
        return token

    yield _issue
    with create_session() as session:
        session.execute(delete(Variable).where(Variable.key.startswith("wix_oauth_")))
