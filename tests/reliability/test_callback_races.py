"""Concurrent callbacks over real HTTP to Airflow's API server: exactly one record per state.

50 owners answer their own links at the same instant while 20 answers race for one link; the route
must answer every request below 500, record each distinct state once, and let exactly one of the
20 win (the others refused), whatever the interleaving.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from tests.callback.conftest import read_flow
from tests.reliability.conftest import forget_flows, issue_state

DISTINCT = 50
ON_ONE = 20


@pytest.fixture
def states() -> Any:
    distinct = [issue_state() for _ in range(DISTINCT)]
    shared = issue_state()
    yield distinct, shared
    forget_flows()


def test_concurrent_callbacks_record_exactly_one_result_per_state(airflow_api_server, states):
    distinct, shared = states
    jobs = [(state, f"conn-{i}") for i, state in enumerate(distinct)]
    jobs += [(shared, f"shared-{i}") for i in range(ON_ONE)]
    start = threading.Barrier(len(jobs))

    def deliver(job: tuple[str, str]) -> tuple[str, str, int, dict[str, Any]]:
        state, connection_id = job
        start.wait()
        response = requests.get(
            f"{airflow_api_server}/wix/oauth/callback/{state}",
            params={"connectionId": connection_id},
            headers={"Accept": "application/json"},
            timeout=120,
        )
        return state, connection_id, response.status_code, response.json()

    with ThreadPoolExecutor(len(jobs)) as pool:
        results = list(pool.map(deliver, jobs))

    assert [r for r in results if r[2] >= 500] == []
    for state, connection_id, status, body in results[:DISTINCT]:
        assert (status, body.get("connectionId")) == (200, connection_id)
        record = read_flow(state)
        assert record is not None and record.connection_id == connection_id
    on_one = results[DISTINCT:]
    winners = [r for r in on_one if r[2] == 200]
    assert len(winners) == 1, [(r[1], r[2]) for r in on_one]
    assert all(400 <= r[2] < 500 for r in on_one if r is not winners[0])
    record = read_flow(shared)
    assert record is not None and record.connection_id == winners[0][1]
