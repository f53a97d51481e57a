"""Hygiene of the OAuth flow records: abandoned flows do not pile up in the metadata database.

A flow is abandoned when nobody answers and no sensor withdraws it (the run was marked failed, the
DAG deleted): its record and waiter stay until the state expires. The API server's plugin purges
them on start and every ``PURGE_INTERVAL_SECONDS``, also when no callback ever arrives.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest

from airflow_provider_wix.callback.recording import purge_expired_flows
from airflow_provider_wix.callback.state import (
    FLOW_KEY_PREFIX,
    WAITER_KEY_PREFIX,
    FlowRecord,
    flow_key,
    new_state_token,
    state_digest,
    utcnow,
    waiter_key,
)

ABANDONED = 1_000
LIVE = 50


def _insert_flows(count: int, *, expired: bool, consumed: bool = False) -> list[str]:
    """``count`` flow records with waiters, written like the operator and the sensor do (encrypted)."""
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session

    issued = utcnow() - timedelta(days=8) if expired else utcnow()
    flow_ids = []
    with create_session() as session:
        for n in range(count):
            state = new_state_token()
            flow_id = state_digest(state)
            record = FlowRecord.issue(
                dag_id="wix_bulk_onboarding",
                run_id=f"scheduled__{n}",
                task_id="onboard.connect",
                map_index=n,
                schedule_id="89e20858-bfa1-462b-b813-074fb1e4d62f",
                provider_id="a4989031-ec67-4939-b361-31d1e41e6aad",
                ttl=timedelta(days=7),
                redirect_url=f"https://airflow.example.com/wix/oauth/callback/{state}",
                now=issued,
            )
            if consumed:
                record = record.completed(connection_id=f"conn{n}", error=None).consumed()
            session.add(Variable(key=flow_key(flow_id), val=record.to_json()))
            session.add(Variable(key=waiter_key(flow_id), val='{"ti_id": "00000000-0000-0000-0000-000000000000"}'))
            flow_ids.append(flow_id)
    return flow_ids


def _keys() -> set[str]:
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session
    from sqlalchemy import or_, select

    with create_session() as session:
        rows = session.scalars(
            select(Variable.key).where(
                or_(Variable.key.startswith(FLOW_KEY_PREFIX), Variable.key.startswith(WAITER_KEY_PREFIX))
            )
        )
        return set(rows)


@pytest.fixture
def clean_flows(airflow_db: Any) -> Any:
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session
    from sqlalchemy import delete

    def clean() -> None:
        with create_session() as session:
            session.execute(delete(Variable).where(Variable.key.startswith("wix_oauth_")))

    clean()
    yield
    clean()


def test_a_thousand_abandoned_flows_are_purged_after_expiry_and_live_ones_kept(clean_flows):
    abandoned = _insert_flows(ABANDONED - 100, expired=True)
    abandoned += _insert_flows(100, expired=True, consumed=True)  # outcomes kept for reloads, now expired
    live = _insert_flows(LIVE, expired=False)
    live += _insert_flows(LIVE, expired=False, consumed=True)
    assert len(_keys()) == 2 * (ABANDONED + 2 * LIVE)

    started = time.perf_counter()
    purged = purge_expired_flows()
    elapsed = time.perf_counter() - started

    assert purged == ABANDONED
    assert _keys() == {k for flow_id in live for k in (flow_key(flow_id), waiter_key(flow_id))}
    assert purge_expired_flows() == 0  # nothing left to do: the sweep is idempotent
    print(f"purged {purged} abandoned flows (and their waiters) in {elapsed:.2f} s")


def test_the_api_server_purges_on_start_without_any_callback(clean_flows, monkeypatch):
    """No owner ever answers: nothing calls the route, and the plugin still sweeps on start."""
    from airflow.api_fastapi.app import create_app
    from fastapi.testclient import TestClient

    from airflow_provider_wix.callback import recording

    # A fresh API-server process has not swept yet (this test process has, for earlier tests).
    monkeypatch.setattr(recording, "_last_purge", float("-inf"))

    abandoned = _insert_flows(20, expired=True)
    live = _insert_flows(3, expired=False)
    with TestClient(create_app()) as client:
        assert client.get("/wix/health").status_code == 200
        deadline = time.monotonic() + 30
        while _keys() & {flow_key(f) for f in abandoned} and time.monotonic() < deadline:
            time.sleep(0.2)
    assert _keys() == {k for flow_id in live for k in (flow_key(flow_id), waiter_key(flow_id))}
