"""Dashboard fixtures: Airflow's API-server app with users in each role, flow records and connections."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from airflow_provider_wix.callback.state import FLOW_KEY_PREFIX, FlowRecord, flow_key, new_state_token, state_digest
from airflow_provider_wix.client.models import OAuthCallbackError
from tests.callback.conftest import write_variable

AUTH_MANAGER = "tests.dashboard.team_auth_manager.TeamAuthManager"
#: username -> role (SimpleAuthManager roles); the password of each test user is its name.
USERS = {"admin": "admin", "op": "op", "editor": "user", "viewer": "viewer", "team_a_editor": "user"}


@pytest.fixture(scope="session")
def dashboard_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Configure the users (SimpleAuthManager with a per-DAG rule) for every API server in this session."""
    import json
    import os

    passwords = tmp_path_factory.mktemp("auth") / "passwords.json"
    passwords.write_text(json.dumps({name: name for name in USERS}))
    env = {
        "AIRFLOW__CORE__AUTH_MANAGER": AUTH_MANAGER,
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{u}:{r}" for u, r in USERS.items()),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
    }
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    yield env
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def token_for(username: str) -> str:
    """A JWT for a test user, as ``POST /auth/token`` would issue it."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    return get_auth_manager().generate_jwt(SimpleAuthManagerUser(username=username, role=USERS[username]))


def flow_seeder(write: Callable[[str, str], None]) -> Callable[..., str]:
    """A function that stores a flow record as ConnectByOAuthOperator (and then the callback) would,
    through ``write(key, value)``, and returns its flow id."""

    def _seed(
        schedule_id: str,
        provider_id: str,
        *,
        dag_id: str = "wix_calendar_onboarding",
        run_id: str = "manual__2026-12-01T10:00:00+00:00",
        task_id: str = "connect_by_oauth",
        map_index: int = -1,
        age: timedelta = timedelta(minutes=5),
        ttl: timedelta = timedelta(days=7),
        connection_id: str | None = None,
        error: OAuthCallbackError | None = None,
    ) -> str:
        record = FlowRecord.issue(
            dag_id=dag_id,
            run_id=run_id,
            task_id=task_id,
            map_index=map_index,
            schedule_id=schedule_id,
            provider_id=provider_id,
            ttl=ttl,
            now=datetime.now(timezone.utc) - age,
        )
        if connection_id or error:
            record = record.completed(connection_id=connection_id, error=error)
        flow_id = state_digest(new_state_token())
        write(flow_key(flow_id), record.to_json())
        return flow_id

    return _seed


@pytest.fixture
def seed_flow(airflow_db: Any) -> Iterator[Callable[..., str]]:
    """Store flow records in the test process's metadata database (see :func:`flow_seeder`).

    The database is shared with earlier tests, whose flows (a cancelled one is kept until expiry) would
    show up as extra rows: the seeded site starts and ends without any.
    """
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session
    from sqlalchemy import delete

    def clear() -> None:
        with create_session() as session:
            session.execute(delete(Variable).where(Variable.key.startswith(FLOW_KEY_PREFIX)))

    clear()
    yield flow_seeder(write_variable)
    clear()
