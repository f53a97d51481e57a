"""bulk_onboarding: ``wix_bulk_onboarding`` over N schedules under Wix's rate limit, on PostgreSQL + Celery.

Scheduled onboarding of a whole business is the provider's second use case. This runs the example DAG
(triggered by hand, its ``@daily`` schedule switched off in a copy) on the production topology
(API server, scheduler, dag-processor, triggerer, Celery worker; PostgreSQL + Redis) against an
emulator that enforces Wix's documented 200 requests per minute per credential. Owners answer in
bursts: 30 % within a minute of their link, 40 % together in waves a minute apart, 10 % decline,
20 % never answer (they time out after ``owner_wait_hours``).

Compared in the same run with (a) the rate-limit floor, the API calls the run needs divided by the
allowed rate, and (b) the same DAG shape with ``EmptyOperator`` in place of the provider's tasks on the
same topology: Airflow's own cost of scheduling that many task instances. The never-answering owners
add their wait W to the run, so the time compared is the run's duration minus W.
"""

from __future__ import annotations

import contextlib
import json
import math
import random
import shutil
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import requests

from benchmarks.common import (
    REPO_ROOT,
    Context,
    EmulatorProcess,
    Result,
    Row,
    api_key_connection,
    fmt_ratio,
    ratio,
    verdict,
)

NAME = "bulk_onboarding"
SLOW = True
DAG_ID, PEER_DAG_ID = "wix_bulk_onboarding", "wix_bench_bulk_empty"
RATE_LIMIT = 200  # requests per minute per credential (Wix's documented limit)
TARGET_TIME_RATIO = 1.5
# Who does what with their link, in this proportion (the order of the schedules is shuffled by a seed).
PLAN = (("fast", 0.3), ("wave", 0.4), ("deny", 0.1), ("never", 0.2))
EXPECTED_OUTCOME = {"fast": "connected", "wave": "connected", "deny": "declined", "never": "timed_out"}
# "wave" owners answer together, at the next whole wave at least one wave after their link; "fast" ones
# within one wave. A minute, or a quarter of the owners' wait when that is shorter (smoke runs).
WAVE_SECONDS = 60.0
COMPONENTS = ("scheduler", "triggerer", "celery-worker", "api-server", "dag-processor")


def owner_wait_seconds(schedules: int) -> float:
    """Long enough for every answering owner (links take longer to issue the more there are)."""
    return 300.0 + 1.2 * schedules


def plan_owners(schedule_ids: list[str], seed: int = 20261201) -> dict[str, str]:
    rng = random.Random(seed)
    ids = list(schedule_ids)
    rng.shuffle(ids)
    plan: dict[str, str] = {}
    start = 0
    for n, (behaviour, share) in enumerate(PLAN):
        count = len(ids) - start if n == len(PLAN) - 1 else round(share * len(ids))
        plan.update(dict.fromkeys(ids[start : start + count], behaviour))
        start += count
    return plan


def minimum_calls(schedules: int, connected: int, chunks_with_connected: int) -> int:
    """The Wix calls the run needs: List Providers, List Connections per 100 schedules, a link each,
    per chunk with a connected owner one List Connections (the wait's check of the new connections),
    and per connected owner Update Sync Config (Microsoft). The owners' landing pages cost none: they
    name the provider and the owner from the flow record."""
    return 1 + math.ceil(schedules / 100) + schedules + chunks_with_connected + connected


@dataclass
class Owners:
    """The calendar owners: a thread that answers each pending consent flow as the plan says."""

    emulator_url: str
    plan: dict[str, str]
    wave: float = WAVE_SECONDS
    started: float = field(default_factory=time.monotonic)
    seen: dict[str, float] = field(default_factory=dict)
    answered: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._rng = random.Random(7)
        self._due: dict[str, tuple[float, str, str]] = {}
        self._thread = threading.Thread(target=self._run, name="owners", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        session = requests.Session()
        while not self._stop.wait(0.5):
            now = time.monotonic()
            try:
                flows = session.get(f"{self.emulator_url}/_emulator/oauth/flows", timeout=10).json()["flows"]
            except requests.RequestException as exc:
                self.errors.append(repr(exc))
                continue
            for flow in flows:
                self._schedule(flow, now)
            for flow_id, (due, url, decision) in list(self._due.items()):
                if due <= now:
                    del self._due[flow_id]
                    page = session.get(url, params={"decision": decision}, timeout=60)
                    self.answered[flow_id] = decision
                    if page.status_code != 200:
                        self.errors.append(f"{decision} -> HTTP {page.status_code} at {page.url}")

    def _schedule(self, flow: dict[str, Any], now: float) -> None:
        if flow["id"] in self.seen:
            return
        self.seen[flow["id"]] = now
        behaviour = self.plan.get(flow["schedule_id"], "never")
        if behaviour in ("fast", "deny"):
            due = now + self._rng.uniform(1, self.wave)
        elif behaviour == "wave":
            since_start = now - self.started + self.wave
            due = self.started + math.ceil(since_start / self.wave) * self.wave
        else:
            return
        self._due[flow["id"]] = (due, flow["consent_url"], "deny" if behaviour == "deny" else "allow")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def _peer_dag_source() -> str:
    return '''"""wix_bulk_onboarding's shape with EmptyOperator in place of the provider's tasks (benchmark peer)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import Param, dag, task, task_group


@dag(
    dag_id="wix_bench_bulk_empty",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={
        "schedules_file": Param(None, type=["null", "string"]),
        "owner_wait_hours": Param(72, type="number"),
        "chunk_size": Param(25, type="integer"),
    },
)
def wix_bench_bulk_empty() -> None:
    @task
    def load_schedules(**context: Any) -> list[dict[str, str]]:
        return json.loads(Path(context["params"]["schedules_file"]).read_text())

    @task
    def assess_schedules(schedules: list[dict[str, str]], **context: Any) -> list[dict[str, Any]]:
        size = int(context["params"]["chunk_size"])
        return [{"schedules": schedules[i : i + size]} for i in range(0, len(schedules), size)]

    @task_group(group_id="onboard")
    def onboard(schedules: list[dict[str, str]]) -> None:
        EmptyOperator(task_id="connect") >> EmptyOperator(task_id="wait_for_owners") >> EmptyOperator(
            task_id="configure_sync"
        )

    @task(trigger_rule="all_done")
    def report() -> None:
        return None

    onboard.expand_kwargs(assess_schedules(load_schedules())) >> report()


wix_bench_bulk_empty()
'''


def _dags_folder() -> Path:
    """The example DAG as a user deploys it (its daily schedule off, so only our run runs) and the peer."""
    folder = Path(tempfile.mkdtemp(prefix="wix-bench-bulk-dags-"))
    source = (REPO_ROOT / "dags" / "wix_bulk_onboarding.py").read_text()
    manual = source.replace('schedule="@daily"', "schedule=None", 1)
    if manual == source:
        raise RuntimeError('dags/wix_bulk_onboarding.py no longer says schedule="@daily"; update the benchmark')
    (folder / "wix_bulk_onboarding.py").write_text(manual)
    (folder / "wix_bench_bulk_empty.py").write_text(_peer_dag_source())
    return folder


def _cpu(topology: Any) -> dict[str, float]:
    """CPU seconds used so far by each Airflow component's process tree."""
    usage: dict[str, float] = {}
    for name in COMPONENTS:
        process = topology.processes.get(name)
        if process is None:
            continue
        total = 0.0
        with contextlib.suppress(psutil.NoSuchProcess):
            root = psutil.Process(process.pid)
            for proc in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.NoSuchProcess):
                    times = proc.cpu_times()
                    total += times.user + times.system + times.children_user + times.children_system
        usage[name] = total
    return usage


def _xcom(sql: Any, run_id: str, task_id: str, key: str = "return_value") -> Any:
    """An XCom of the run, read from the metadata database (stored as JSON)."""
    ((value,),) = sql(
        "SELECT value FROM xcom WHERE dag_id=%s AND run_id=%s AND task_id=%s AND key=%s AND map_index=-1",
        DAG_ID,
        run_id,
        task_id,
        key,
    )
    return json.loads(value) if isinstance(value, str) else value


@dataclass
class Observed:
    seconds: float
    state: str
    cpu: dict[str, float]
    slot_seconds_waiting: float
    deferred_seconds: float


def _run_dag(topology: Any, sql: Any, dag_id: str, conf: dict[str, Any], timeout: float) -> tuple[str, Observed]:
    """Trigger, then sample once a second how many owner waits hold a worker slot until the run ends."""
    cpu_before = _cpu(topology)
    run_id = topology.trigger(dag_id, conf)
    running = deferred = 0.0
    deadline = time.monotonic() + timeout
    state, started, ended = "queued", None, None
    while time.monotonic() < deadline:
        tick = time.monotonic()
        counts = dict(
            sql(
                "SELECT state, count(*) FROM task_instance WHERE dag_id=%s AND run_id=%s "
                "AND task_id='onboard.wait_for_owners' GROUP BY state",
                dag_id,
                run_id,
            )
        )
        # Read from the database, not the REST API: the API server is busy enough with the run itself.
        ((state, started, ended),) = sql(
            "SELECT state, start_date, end_date FROM dag_run WHERE dag_id=%s AND run_id=%s", dag_id, run_id
        )
        if state in ("success", "failed"):
            break
        time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
        step = time.monotonic() - tick
        running += counts.get("running", 0) * step
        deferred += counts.get("deferred", 0) * step
    cpu_after = _cpu(topology)
    seconds = (ended - started).total_seconds() if ended and started else float("nan")
    cpu = {name: cpu_after[name] - cpu_before.get(name, 0.0) for name in cpu_after}
    return run_id, Observed(seconds, state, cpu, running, deferred)


def run(ctx: Context, *, name: str = NAME, schedules: int = 200) -> Result:
    from tests.e2e.topology import AirflowTopology, postgres_database

    n = ctx.schedules or (40 if ctx.quick else schedules)
    wait = ctx.owner_wait or owner_wait_seconds(n)
    result = Result(
        name,
        f"wix_bulk_onboarding, {n} schedules, Wix rate limit {RATE_LIMIT}/min, PostgreSQL + Celery topology",
    )
    exits = contextlib.ExitStack()
    try:
        folder = _dags_folder()
        exits.callback(shutil.rmtree, folder, True)
        emulator = exits.enter_context(
            EmulatorProcess("--seed", "11", "--schedules", str(n), "--rate-limit", str(RATE_LIMIT))
        )
        database_url = exits.enter_context(postgres_database())
        topology = AirflowTopology(
            database_url=database_url,
            dags_folder=folder,
            extra_env={"AIRFLOW_CONN_WIX_DEFAULT": api_key_connection(emulator.url)},
        )
        exits.callback(topology.close)
        topology.start("api-server", "scheduler", "dag-processor", "triggerer", "celery-worker")
        for dag_id in (DAG_ID, PEER_DAG_ID):
            topology.wait_for_dag(dag_id, timeout=180)

        def sql(query: str, *params: Any) -> list[tuple[Any, ...]]:
            import psycopg2

            dsn = database_url.replace("postgresql+psycopg2://", "postgresql://", 1)
            with contextlib.closing(psycopg2.connect(dsn)) as conn, conn.cursor() as cur:
                cur.execute(query, params)
                return list(cur.fetchall())

        schedule_ids = emulator.staff_schedule_ids()[:n]
        plan = plan_owners(schedule_ids)
        entries = [
            {"schedule_id": sid, "owner_email": f"owner{i}@example.com", "provider": "Microsoft"}
            for i, sid in enumerate(schedule_ids)
        ]
        schedules_file = folder / "schedules.json"
        schedules_file.write_text(json.dumps(entries))
        conf = {"schedules_file": str(schedules_file), "owner_wait_hours": wait / 3600}
        timeout = 1800 + 6 * n + wait

        _, peer = _run_dag(topology, sql, PEER_DAG_ID, conf, timeout)
        emulator.clear_log()
        owners = Owners(emulator.url, plan, wave=min(WAVE_SECONDS, wait / 4))
        try:
            run_id, mine = _run_dag(topology, sql, DAG_ID, {**conf, "import_events": True, "export": "none"}, timeout)
        finally:
            owners.close()

        report = _xcom(sql, run_id, "report")
        outcomes = {row["schedule_id"]: row["outcome"] for row in report["schedules"]}
        wrong = {
            sid: (outcomes.get(sid), EXPECTED_OUTCOME[b])
            for sid, b in plan.items()
            if outcomes.get(sid) != EXPECTED_OUTCOME[b]
        }
        retried = int(
            sql("SELECT count(*) FROM task_instance_history WHERE dag_id=%s AND run_id=%s", DAG_ID, run_id)[0][0]
        )
        failed = sql(
            "SELECT task_id, map_index, state FROM task_instance WHERE dag_id=%s AND run_id=%s "
            "AND state IN ('failed', 'up_for_retry', 'upstream_failed')",
            DAG_ID,
            run_id,
        )
        assessment = _xcom(sql, run_id, "assess_schedules", "assessment")
        # Declines and timeouts are outcomes per schedule: no task instance fails for them.
        unexpected = list(failed)
        calls = Counter(entry["route"] for entry in emulator.requests_log())
        refused = sum(1 for entry in emulator.requests_log() if entry["status"] == 429)
        made = sum(calls.values()) - refused
        connected = report["counts"]["connected"]
        chunk_of = {row["schedule_id"]: row.get("chunk") for row in assessment}
        chunks_with_connected = len(
            {chunk_of[row["schedule_id"]] for row in report["schedules"] if row["outcome"] == "connected"}
        )
        needed = minimum_calls(n, connected, chunks_with_connected)
        floor = needed / RATE_LIMIT * 60
        compared = mine.seconds - wait
        bound = max(floor, peer.seconds)
        time_ratio = ratio(compared, bound)

        result.add(
            Row(
                "run time minus the owners' wait W",
                f"{compared:.0f} s (run {mine.seconds:.0f} s, W {wait:.0f} s)",
                f"max(floor {floor:.0f} s, EmptyOperator {peer.seconds:.0f} s)",
                fmt_ratio(time_ratio),
                f"<= {TARGET_TIME_RATIO}x",
                verdict(time_ratio <= TARGET_TIME_RATIO),
                values={"run": mine.seconds, "wait": wait, "floor": floor, "peer": peer.seconds},
            )
        )
        result.add(
            Row(
                "Wix calls made (429s not counted) vs the minimum",
                f"{made}",
                f"{needed}",
                fmt_ratio(ratio(made, needed)),
                "1.00x",
                verdict(made == needed),
                values={"by_route": dict(calls), "refused_429": refused},
            )
        )
        result.add(
            Row(
                "failed or retried task instances not chosen by an owner",
                f"{len(unexpected)} failed, {retried} retried",
                target="0",
                verdict=verdict(not unexpected and retried == 0),
                values={"unexpected": unexpected, "retried": retried},
            )
        )
        result.add(
            Row(
                "schedules whose report line is right",
                f"{n - len(wrong)}/{n}",
                target=f"{n}/{n}",
                verdict=verdict(not wrong),
                values={"wrong": wrong, "counts": report["counts"]},
            )
        )
        result.add(
            Row(
                "worker-slot-seconds of the chunk waits (start-up to deferral, resume)",
                f"{mine.slot_seconds_waiting:.0f} slot-s",
                f"{mine.deferred_seconds:.0f} s deferred",
                fmt_ratio(ratio(mine.slot_seconds_waiting, mine.deferred_seconds)),
                "~0",
            )
        )
        result.add(
            Row(
                "scheduler / triggerer / Celery worker CPU",
                " / ".join(f"{mine.cpu.get(c, 0):.0f} s" for c in ("scheduler", "triggerer", "celery-worker")),
                " / ".join(f"{peer.cpu.get(c, 0):.0f} s" for c in ("scheduler", "triggerer", "celery-worker"))
                + " (EmptyOperator)",
                fmt_ratio(ratio(mine.cpu.get("scheduler", 0), peer.cpu.get("scheduler", 0))),
                values={"provider": mine.cpu, "peer": peer.cpu},
            )
        )
        # Where the time goes: how many task instances ran on a worker and how long each took there.
        per_task = sql(
            "SELECT task_id, count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY duration), sum(duration) "
            "FROM task_instance WHERE dag_id=%s AND run_id=%s AND start_date IS NOT NULL GROUP BY task_id "
            "ORDER BY task_id",
            DAG_ID,
            run_id,
        )
        result.notes.append(
            "task instances that ran, median / total duration as Airflow records it: "
            + "; ".join(f"{task} {n}x {median or 0:.1f} s / {total or 0:.0f} s" for task, n, median, total in per_task)
        )
        result.notes.append(
            f"owners: {Counter(plan.values())}; answered {len(owners.answered)}; 429 answers from the emulator: "
            f"{refused}; owner errors: {owners.errors[:3] or 'none'}"
        )
        result.notes.append(
            "worker slots held while waiting = sum over 1 s samples of chunk waits in state running "
            "(deferred waits hold none); CPU = process trees of each component, user + system"
        )
        result.details = {"calls": dict(calls), "report_counts": report["counts"], "peer_state": peer.state}
    finally:
        exits.close()
    return result
