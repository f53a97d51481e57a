"""Run Airflow the way production does, as separate native processes, for end-to-end tests.

API server, scheduler, dag-processor, triggerer and a Celery worker, on PostgreSQL (metadata) and
Redis (Celery broker): the topology of ``docker-compose.yaml`` without Docker. Used by the slow
end-to-end tests and by the benchmarks.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import requests

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

T = TypeVar("T")

PG_ADMIN_DSN = os.environ.get("WIX_E2E_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("WIX_E2E_REDIS_URL", "redis://127.0.0.1:6379/7")

COMPONENT_COMMANDS = {
    "api-server": ["api-server", "--host", "127.0.0.1"],
    "scheduler": ["scheduler"],
    "dag-processor": ["dag-processor"],
    "triggerer": ["triggerer"],
    "celery-worker": ["celery", "worker"],
}


def die_with_parent_hook() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child get SIGTERM when the thread that started it dies.

    Components run in their own session (so a stop can signal the whole group), which also shields
    them from the terminal's Ctrl-C; a test process killed outright would otherwise leave a Celery
    worker or a scheduler running against the next run's Redis. ``prctl`` is looked up here, in the
    parent, so the child only makes the call. Start components from a thread that outlives them (the
    main thread): ``PR_SET_PDEATHSIG`` follows the starting thread. ``None`` off Linux.
    """
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl
    pr_set_pdeathsig = 1

    def die_with_parent() -> None:
        prctl(pr_set_pdeathsig, signal.SIGTERM)

    return die_with_parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Callable[[], T | None], timeout: float, what: str, interval: float = 0.2) -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"Timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database holding Airflow's migrated schema; dropped afterwards.

    Each is a copy of a template migrated once per Airflow version and set of migrations (about
    0.1 s instead of 8 s or more for ``airflow db migrate`` on every topology).
    """
    import psycopg2

    name = f"wix_e2e_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(PG_ADMIN_DSN)
    admin.autocommit = True
    try:
        template = _migrated_template(admin)
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        yield _database_url(name)
    finally:
        with admin.cursor() as cur:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


def _database_url(name: str) -> str:
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg2://", 1)
    return f"{base}/{name}"


def _migrated_template(admin: Any) -> str:
    """The template database for this Airflow: built under an advisory lock by the first caller."""
    import hashlib
    import importlib.metadata
    import importlib.util

    spec = importlib.util.find_spec("airflow")
    assert spec is not None and spec.submodule_search_locations, "Airflow is not installed"
    versions = Path(next(iter(spec.submodule_search_locations))) / "migrations" / "versions"
    migrations = sorted(path.name for path in versions.glob("*.py"))
    fingerprint = "\n".join([importlib.metadata.version("apache-airflow"), *migrations])
    template = f"wix_e2e_template_{hashlib.sha256(fingerprint.encode()).hexdigest()[:12]}"
    with admin.cursor() as cur:
        cur.execute("SELECT pg_advisory_lock(hashtext(%s))", (template,))
        try:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (template,))
            if cur.fetchone() is None:
                building = f"{template}_{uuid.uuid4().hex[:6]}"
                cur.execute(f'CREATE DATABASE "{building}"')
                try:
                    with tempfile.TemporaryDirectory(prefix="wix-e2e-migrate-") as home:
                        env = {**os.environ, "AIRFLOW_HOME": home}
                        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = _database_url(building)
                        env.pop("AIRFLOW__CORE__SQL_ALCHEMY_CONN", None)
                        subprocess.run(
                            [sys.executable, "-m", "airflow", "db", "migrate"],
                            env=env,
                            capture_output=True,
                            check=True,
                            timeout=300,
                        )
                except BaseException:
                    cur.execute(f'DROP DATABASE IF EXISTS "{building}"')
                    raise
                # Renamed only once complete: a template that exists is a migrated one.
                cur.execute(f'ALTER DATABASE "{building}" RENAME TO "{template}"')
        finally:
            cur.execute("SELECT pg_advisory_unlock(hashtext(%s))", (template,))
    return template


class AirflowTopology:
    """Separate Airflow component processes sharing one PostgreSQL database and one Redis broker."""

    def __init__(
        self,
        *,
        database_url: str,
        dags_folder: Path,
        extra_env: dict[str, str] | None = None,
        executor: str = "CeleryExecutor",
    ) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="wix-e2e-home-"))
        self.api_port = free_port()
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.env = {
            **os.environ,
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__EXECUTOR": executor,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database_url,
            "AIRFLOW__CELERY__BROKER_URL": REDIS_URL,
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + database_url.replace("+psycopg2", ""),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
            "AIRFLOW__API__BASE_URL": self.api_url,
            "AIRFLOW__API__PORT": str(self.api_port),
            "AIRFLOW__API_AUTH__JWT_SECRET": "wix-e2e-" + uuid.uuid4().hex * 3,
            "AIRFLOW__CORE__FERNET_KEY": "Xi4hHn2JqhIM0b0BFbnh1_u9nUyN4mBbn-ZiiDoO3_I=",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
            "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(
                [
                    {
                        "name": "dags-folder",
                        "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
                        "kwargs": {"path": str(dags_folder)},
                    }
                ]
            ),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__PARALLELISM": "8",
            "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "1",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "4",
            **(extra_env or {}),
        }
        # Never inherit the unit tests' isolated SQLite home.
        self.env.pop("AIRFLOW__CORE__SQL_ALCHEMY_CONN", None)

    # -- processes ---------------------------------------------------------------------------------

    def airflow(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "airflow", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )

    def start(self, *components: str) -> None:
        for name in components:
            log = open(self.home / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", "airflow", *COMPONENT_COMMANDS[name]],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent_hook(),
            )
        if "api-server" in components:
            wait_until(self._api_ready, 180, "the API server")  # minutes on a loaded 2-core machine

    def stop(self, *names: str, timeout: float = 30) -> None:
        """SIGTERM the components' process groups together, SIGKILL what is left after ``timeout``.

        Together, so a teardown waits for the slowest component, not for the sum of them all; a
        component is forgotten only once it is gone.
        """
        stopping = {name: self.processes[name] for name in names if name in self.processes}
        for process in stopping.values():
            if process.poll() is None:
                _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for name, process in stopping.items():
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait(10)
            del self.processes[name]

    def restart(self, name: str) -> None:
        self.stop(name)
        self.start(name)

    def close(self) -> None:
        """Stop every component; an interrupted or failing stop still leaves no process group behind."""
        try:
            self.stop(*self.processes)
        finally:
            for process in self.processes.values():
                _signal_group(process, signal.SIGKILL)
            self.processes.clear()
            shutil.rmtree(self.home, ignore_errors=True)

    def log_of(self, name: str) -> str:
        path = self.home / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def task_logs(self, dag_id: str) -> str:
        root = self.home / "logs" / f"dag_id={dag_id}"
        return "\n".join(p.read_text(errors="replace") for p in sorted(root.rglob("*.log"))) if root.exists() else ""

    # -- REST API ----------------------------------------------------------------------------------

    def _api_ready(self) -> bool:
        try:
            return requests.get(f"{self.api_url}/api/v2/version", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """One REST call; a GET that times out is asked again (an API server on a loaded 2-core machine
        sometimes takes longer than a minute to answer, which is not what these tests check)."""
        attempts = 3 if method == "GET" else 1
        for attempt in range(1, attempts + 1):
            try:
                response = requests.request(method, f"{self.api_url}/api/v2{path}", timeout=60, **kwargs)
                break
            except (requests.Timeout, requests.ConnectionError):
                if attempt == attempts:
                    raise
        response.raise_for_status()
        return response.json() if response.content else None

    def wait_for_dag(self, dag_id: str, timeout: float = 120) -> None:
        def parsed() -> bool:
            try:
                self.api("GET", f"/dags/{dag_id}")
                return True
            except requests.HTTPError:
                return False

        wait_until(parsed, timeout, f"DAG {dag_id} to be parsed", interval=1)

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        run = self.api("POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf or {}})
        return str(run["dag_run_id"])

    def task_instance(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> dict[str, Any]:
        suffix = f"/{map_index}" if map_index >= 0 else ""
        return dict(self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}{suffix}"))

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        entry = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}")
        return entry["value"]

    def run_state(self, dag_id: str, run_id: str) -> str:
        return str(self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"])

    def wait_for_task_state(
        self, dag_id: str, run_id: str, task_id: str, states: set[str], timeout: float = 120
    ) -> dict[str, Any]:
        def reached() -> dict[str, Any] | None:
            ti = self.task_instance(dag_id, run_id, task_id)
            if ti["state"] in {"failed", "upstream_failed"} and ti["state"] not in states:
                raise AssertionError(f"{task_id} ended {ti['state']}:\n{self.task_logs(dag_id)[-4000:]}")
            return ti if ti["state"] in states else None

        return wait_until(reached, timeout, f"{task_id} to reach {states}", interval=0.25)

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 180) -> str:
        return wait_until(
            lambda: (s := self.run_state(dag_id, run_id)) in {"success", "failed"} and s,
            timeout,
            f"run {run_id} to finish",
            interval=0.5,
        )


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    """Signal the component's whole process group (Celery's pool, the scheduler's children)."""
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(process.pid, signum)


ALL_COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer", "celery-worker")


@contextmanager
def production_topology(dags_folder: Path, dag_id: str, extra_env: dict[str, str]) -> Iterator[AirflowTopology]:
    """Every component on a fresh PostgreSQL database, started and with ``dag_id`` parsed; torn down after."""
    with postgres_database() as database_url:
        stack = AirflowTopology(database_url=database_url, dags_folder=dags_folder, extra_env=extra_env)
        try:
            stack.start(*ALL_COMPONENTS)
            stack.wait_for_dag(dag_id)
            yield stack
        finally:
            stack.close()
