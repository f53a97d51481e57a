"""callback_route: how fast the OAuth callback route answers, beside Airflow's own health endpoint.

The callback route runs inside Airflow's API server (the provider's plugin), so it must never be what
slows the API server down. Both endpoints are hit by the same 20 concurrent clients, in alternating
rounds, on one API server process (PostgreSQL metadata database): the callback with well-formed states
that match no flow (the route looks the digest up in the database and answers 404, the work of a real
callback short of the write), the peer ``GET /api/v2/monitor/health`` (Airflow reads its own job
heartbeats from the same database).
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
import uuid
from typing import Any

import requests

from benchmarks.common import Context, Result, Row, fmt_ratio, percentile, ratio, verdict

NAME = "callback_route"
SLOW = True
CONCURRENCY = 20
TARGET_RATIO = 1.0  # the callback answers at least as many requests per second as the health check


def _load(url_for: Any, seconds: float, expect: int) -> dict[str, Any]:
    """``CONCURRENCY`` threads, each with its own session, for ``seconds``: throughput and latencies."""
    latencies: list[float] = []
    unexpected: list[int] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client() -> None:
        session = requests.Session()
        mine: list[float] = []
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            response = session.get(url_for(), timeout=30)
            mine.append(time.perf_counter() - started)
            if response.status_code != expect:
                with lock:
                    unexpected.append(response.status_code)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(CONCURRENCY)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"count": len(latencies), "seconds": time.monotonic() - began, "latencies": latencies, "bad": unexpected}


def _merge(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    latencies = [x for r in rounds for x in r["latencies"]]
    count, seconds = sum(r["count"] for r in rounds), sum(r["seconds"] for r in rounds)
    return {
        "rate": count / seconds if seconds else float("nan"),
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "count": count,
        "bad": [b for r in rounds for b in r["bad"]],
    }


def run(ctx: Context) -> Result:
    from tests.e2e.topology import AirflowTopology, postgres_database

    seconds, rounds = (2.0, 1) if ctx.quick else (8.0, 3)
    result = Result(NAME, f"requests/s at {CONCURRENCY} concurrent clients, one API server (PostgreSQL)")
    with contextlib.ExitStack() as exits:
        database_url = exits.enter_context(postgres_database())
        topology = AirflowTopology(database_url=database_url, dags_folder=_empty_folder(exits))
        exits.callback(topology.close)
        topology.start("api-server")
        base = topology.api_url
        connection_id = str(uuid.uuid4())

        def callback_url() -> str:
            return f"{base}/wix/oauth/callback/{secrets.token_urlsafe(32)}?connectionId={connection_id}"

        def health_url() -> str:
            return f"{base}/api/v2/monitor/health"

        _load(health_url, 1.0, 200)  # warm both up before measuring
        _load(callback_url, 1.0, 404)
        health_rounds, callback_rounds = [], []
        for _ in range(rounds):
            health_rounds.append(_load(health_url, seconds, 200))
            callback_rounds.append(_load(callback_url, seconds, 404))
    health, callback = _merge(health_rounds), _merge(callback_rounds)
    speed = ratio(callback["rate"], health["rate"])
    result.add(
        Row(
            "callback route, requests/s",
            f"{callback['rate']:.0f}/s",
            f"{health['rate']:.0f}/s (/api/v2/monitor/health)",
            fmt_ratio(speed),
            f">= {TARGET_RATIO:.1f}x",
            verdict(speed >= TARGET_RATIO and not callback["bad"]),
            values={"callback": callback, "health": health},
        )
    )
    result.add(
        Row(
            "latency p50 / p99",
            f"{callback['p50'] * 1000:.0f} / {callback['p99'] * 1000:.0f} ms",
            f"{health['p50'] * 1000:.0f} / {health['p99'] * 1000:.0f} ms",
            fmt_ratio(ratio(callback["p99"], health["p99"])),
        )
    )
    result.notes.append(
        f"{rounds} alternating rounds of {seconds:g} s each; {callback['count']} callbacks, {health['count']} health "
        f"checks; unexpected status codes: callback {sorted(set(callback['bad'])) or 'none'}, "
        f"health {sorted(set(health['bad'])) or 'none'}"
    )
    return result


def _empty_folder(exits: contextlib.ExitStack) -> Any:
    import tempfile
    from pathlib import Path

    folder = exits.enter_context(tempfile.TemporaryDirectory(prefix="wix-bench-nodags-"))
    return Path(folder)
