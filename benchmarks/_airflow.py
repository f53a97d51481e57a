"""The production-shaped Airflow the slow benchmarks share: tests/e2e/topology.py on PostgreSQL + Celery.

API server, scheduler, dag-processor, triggerer and a Celery worker as separate processes, the
emulator in another, ``benchmarks/dags`` as the dags folder. Started once per ``python -m benchmarks``
run and torn down at its end.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from dataclasses import dataclass
from typing import Any

import psutil
import requests

from benchmarks.common import BENCH_DIR, Context, EmulatorProcess, api_key_connection

BENCH_DAGS = ("wix_bench_wake_push", "wix_bench_wake_poll", "wix_bench_waiting_300", "wix_bench_waiting_5")
WAITER_KEY_PREFIX = "wix_oauth_waiter__"
FLOW_KEY_PREFIX = "wix_oauth_flow__"


def state_digest(state: str) -> str:
    return hashlib.sha256(state.encode("ascii")).hexdigest()


@dataclass
class Stack:
    topology: Any  # tests.e2e.topology.AirflowTopology
    emulator: EmulatorProcess
    database_url: str
    startup_seconds: float

    # -- metadata database (direct reads: counts the REST API does not offer) -----------------------

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        import psycopg2

        dsn = self.database_url.replace("postgresql+psycopg2://", "postgresql://", 1)
        with contextlib.closing(psycopg2.connect(dsn)) as conn, conn.cursor() as cur:
            cur.execute(query, params)
            return list(cur.fetchall())

    def count(self, query: str, *params: Any) -> int:
        return int(self.sql(query, *params)[0][0])

    # -- REST API helpers ------------------------------------------------------------------------------

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.topology.api(method, path, **kwargs)

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str) -> Any:
        import json

        value = self.topology.xcom(dag_id, run_id, task_id, key)
        if isinstance(value, str) and value[:1] in ('"', "{", "["):
            with contextlib.suppress(ValueError):
                return json.loads(value)
        return value

    def delete_variable(self, key: str) -> int:
        response = requests.delete(f"{self.topology.api_url}/api/v2/variables/{key}", timeout=30)
        return response.status_code

    # -- the triggerer's processes ---------------------------------------------------------------------

    def triggerer_processes(self) -> list[psutil.Process]:
        root = psutil.Process(self.topology.processes["triggerer"].pid)
        return [root, *root.children(recursive=True)]

    def triggerer_usage(self) -> tuple[float, int, dict[int, float]]:
        """(CPU seconds, RSS bytes) of the triggerer's process tree, and CPU seconds per pid."""
        cpu, rss = self.triggerer_by_pid()
        return sum(cpu.values()), sum(rss.values()), cpu

    def triggerer_by_pid(self) -> tuple[dict[int, float], dict[int, int]]:
        """CPU seconds and RSS bytes of each process of the triggerer (the root is the supervisor)."""
        cpu: dict[int, float] = {}
        rss: dict[int, int] = {}
        for proc in self.triggerer_processes():
            with contextlib.suppress(psutil.NoSuchProcess):
                times = proc.cpu_times()
                cpu[proc.pid] = times.user + times.system
                rss[proc.pid] = proc.memory_info().rss
        return cpu, rss


def get_stack(ctx: Context) -> Stack:
    """Start (once per run) the emulator and the Airflow topology; torn down by the runner at exit."""
    if "stack" in ctx.shared:
        return ctx.shared["stack"]  # type: ignore[no-any-return]
    from tests.e2e.topology import production_topology

    started = time.monotonic()
    exits = contextlib.ExitStack()
    ctx.cleanups.append(exits.close)
    emulator = exits.enter_context(EmulatorProcess("--seed", "11"))
    topology = exits.enter_context(
        production_topology(
            BENCH_DIR / "dags", BENCH_DAGS[0], {"AIRFLOW_CONN_WIX_DEFAULT": api_key_connection(emulator.url)}
        )
    )
    for dag_id in BENCH_DAGS[1:]:
        topology.wait_for_dag(dag_id, timeout=180)
    database_url = topology.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    stack = Stack(topology, emulator, database_url, time.monotonic() - started)
    ctx.shared["stack"] = stack
    return stack
