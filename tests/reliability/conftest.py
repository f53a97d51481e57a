"""Fixtures of the reliability checks: the scripted HTTP server of the client tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from tests.client.wix_client_support import ScriptedServer


@pytest.fixture
def scripted() -> Iterator[ScriptedServer]:
    server = ScriptedServer().start()
    yield server
    server.stop()


def issue_state(ttl: timedelta = timedelta(hours=1)) -> str:
    """Store a pending flow record as ConnectByOAuthOperator does; returns its state."""
    from airflow_provider_wix.callback.state import FlowRecord, flow_key, new_state_token, state_digest
    from tests.callback.conftest import PROVIDER_ID, SCHEDULE_ID, write_variable

    token = new_state_token()
    record = FlowRecord.issue(
        dag_id="reliability",
        run_id="manual__reliability",
        task_id="connect",
        map_index=-1,
        schedule_id=SCHEDULE_ID,
        provider_id=PROVIDER_ID,
        ttl=ttl,
    )
    write_variable(flow_key(state_digest(token)), record.to_json())
    return token


def forget_flows() -> None:
    """Delete every flow and waiter record the checks left behind."""
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session
    from sqlalchemy import delete

    with create_session() as session:
        session.execute(delete(Variable).where(Variable.key.startswith("wix_oauth_")))
