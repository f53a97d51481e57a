"""Shared test set-up: an isolated Airflow home, the emulator fixture and ``dag.test()`` helpers.

Airflow reads its configuration when first imported, so the environment is set here, at import
time of the root conftest, before any test module imports Airflow.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
TEST_DAGS = REPO_ROOT / "tests" / "dags"
EXAMPLE_DAGS = REPO_ROOT / "dags"

_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="wix-airflow-home-"))


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Where the `airflow_api_server` fixture serves Airflow's API server (and so the OAuth callback).
API_SERVER_URL = f"http://127.0.0.1:{_free_port()}"
_LOCAL_BUNDLE = "airflow.dag_processing.bundles.local.LocalDagBundle"

AIRFLOW_TEST_ENV = {
    "AIRFLOW_HOME": str(_AIRFLOW_HOME),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__DAGS_FOLDER": str(TEST_DAGS),
    "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(
        [
            {"name": "dags-folder", "classpath": _LOCAL_BUNDLE, "kwargs": {"path": str(TEST_DAGS)}},
            {"name": "example-dags", "classpath": _LOCAL_BUNDLE, "kwargs": {"path": str(EXAMPLE_DAGS)}},
        ]
    ),
    # A fixed Fernet key so Variables (where OAuth flow records live) are stored encrypted, as in production.
    "AIRFLOW__CORE__FERNET_KEY": "Xi4hHn2JqhIM0b0BFbnh1_u9nUyN4mBbn-ZiiDoO3_I=",
    "AIRFLOW__API_AUTH__JWT_SECRET": "wix-provider-tests-" + "x" * 64,
    "AIRFLOW__API__BASE_URL": API_SERVER_URL,
    "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
}
os.environ.update(AIRFLOW_TEST_ENV)

# The emulator ships the `wix_emulator` fixture for users; the tests use the same one.
pytest_plugins = ["airflow_provider_wix.emulator.pytest_plugin"]


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated SQLite metadata database in the isolated Airflow home (about 3 s, once)."""
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        env=os.environ.copy(),
        capture_output=True,
    )
    return _AIRFLOW_HOME


def wix_connection_json(emulator: Any, **extra: Any) -> str:
    """The ``wix_default`` connection, as Airflow reads it from ``AIRFLOW_CONN_WIX_DEFAULT``."""
    return json.dumps(
        {
            "conn_type": "wix",
            "host": emulator.url,
            "password": emulator.config.api_key,
            "extra": {"auth_type": "api_key", "site_id": emulator.config.site_id, **extra},
        }
    )


@pytest.fixture
def wix_conn(wix_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Point the ``wix_default`` Airflow connection at a fresh emulator."""
    monkeypatch.setenv("AIRFLOW_CONN_WIX_DEFAULT", wix_connection_json(wix_emulator))
    return wix_emulator


def _one_in_process_execution_api() -> None:
    """On Airflow 3.1, let one in-process execution API serve every task ``dag.test()`` runs.

    3.1's ``dag.test()`` builds a new execution API app for each task, and the cadwyn it pins (5.4)
    generates every versioned route again for each one: about 7 s per task start under a profiler,
    which made the 3.1 cell several times slower than 3.3. The API is stateless (a real API server
    serves every task), so sharing it changes nothing the tests check. 3.2+ runs unpatched: its
    svcs lifespan hold is tested on the path Airflow takes.
    """
    import functools

    from airflow.sdk.execution_time import supervisor

    from airflow_provider_wix.version_compat import AIRFLOW_V_3_2_PLUS

    if not AIRFLOW_V_3_2_PLUS and not hasattr(supervisor.in_process_api_server, "cache_info"):
        supervisor.in_process_api_server = functools.cache(supervisor.in_process_api_server)


def run_dag(dag_id: str, conf: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """Run a DAG from the test or example bundles with ``dag.test()`` and return the DagRun."""
    from airflow_provider_wix.version_compat import dag_bag

    _one_in_process_execution_api()
    for folder in (TEST_DAGS, EXAMPLE_DAGS):
        bag = dag_bag(str(folder))
        if dag_id in bag.dags:
            return bag.dags[dag_id].test(run_conf=conf, **kwargs)
    raise LookupError(f"DAG {dag_id} not found in {TEST_DAGS} or {EXAMPLE_DAGS}")


def task_states(dag_run: Any) -> dict[str, str]:
    """``{task_id: state}`` (``task_id[map_index]`` for mapped tasks) of a finished run."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        tis = session.scalars(
            select(TaskInstance).where(TaskInstance.dag_id == dag_run.dag_id, TaskInstance.run_id == dag_run.run_id)
        ).all()
        return {(ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"): str(ti.state) for ti in tis}


def xcom_value(dag_run: Any, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
    """Read one XCom of a finished ``dag.test()`` run, deserialized as a downstream task would see it."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        row = session.scalars(
            select(XComModel).where(
                XComModel.dag_id == dag_run.dag_id,
                XComModel.run_id == dag_run.run_id,
                XComModel.task_id == task_id,
                XComModel.map_index == map_index,
                XComModel.key == key,
            )
        ).one_or_none()
        if row is None:
            raise LookupError(f"No XCom {key!r} for {task_id}[{map_index}]")
        return XComModel.deserialize_value(row)


@pytest.fixture(scope="session")
def airflow_api_server(airflow_db: Path) -> Iterator[str]:
    """Airflow's real API-server app (plugins mounted) served by uvicorn on ``[api] base_url``.

    The OAuth redirect reaches the callback plugin here over real HTTP, while ``dag.test()`` runs
    the tasks in the test process against the same metadata database.
    """
    import threading
    import time
    from urllib.parse import urlsplit

    import requests
    import uvicorn
    from airflow.api_fastapi.app import create_app

    address = urlsplit(API_SERVER_URL)
    config = uvicorn.Config(create_app(), host=address.hostname, port=address.port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="airflow-api-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(f"{API_SERVER_URL}/wix/health", timeout=1).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("The Airflow API server did not start")
        time.sleep(0.1)
    yield API_SERVER_URL
    server.should_exit = True
    thread.join(timeout=10)


class CalendarOwner:
    """Plays the calendar owner: answers the emulator's consent page over HTTP, as a browser would.

    Following the redirect delivers the callback to whatever ``redirectUrl`` the operator sent,
    i.e. to the Airflow API server's plugin route.
    """

    def __init__(self, emulator: Any) -> None:
        self.emulator = emulator

    def pending_flow(self, schedule_id: str | None = None, timeout: float = 60) -> dict[str, Any]:
        import time

        deadline = time.monotonic() + timeout
        while True:
            for flow in self.emulator.state.pending_oauth_flows():
                if schedule_id is None or flow["schedule_id"] == schedule_id:
                    return dict(flow)
            if time.monotonic() > deadline:
                raise TimeoutError(f"No pending OAuth flow for schedule {schedule_id}")
            time.sleep(0.1)

    def answer(
        self,
        decision: str = "allow",
        *,
        schedule_id: str | None = None,
        timeout: float = 60,
        follow_redirect: bool = True,
    ) -> Any:
        """Decide the next pending flow; returns the final response (the callback page).

        ``follow_redirect=False`` is a browser that never reaches Airflow (a lost callback).
        """
        import requests

        flow = self.pending_flow(schedule_id, timeout)
        return requests.get(
            flow["consent_url"], params={"decision": decision}, timeout=30, allow_redirects=follow_redirect
        )

    def answer_in_background(self, decisions: dict[str, str | list[str] | None], timeout: float = 120) -> Any:
        """Answer each schedule's flows as they appear, in order; ``None``: never answer.

        A list answers successive flows of one schedule (e.g. ``["internal", "allow"]`` for a
        retry that asks Wix for a new link). Returns the thread; its ``pages`` are the landing pages
        the owner saw, in order (``page.url`` is the callback URL, to reload).
        """
        import threading

        pages: list[Any] = []

        def run() -> None:
            for schedule_id, answers in decisions.items():
                for decision in [answers] if isinstance(answers, str) else answers or []:
                    pages.append(self.answer(decision, schedule_id=schedule_id, timeout=timeout))

        thread = threading.Thread(target=run, name="calendar-owner", daemon=True)
        thread.pages = pages  # type: ignore[attr-defined]
        thread.start()
        return thread


@pytest.fixture
def calendar_owner(wix_emulator: Any) -> CalendarOwner:
    return CalendarOwner(wix_emulator)


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (never a downloaded browser).

    Module-scoped on purpose: Playwright's sync API keeps an event loop running in this thread, and
    ``dag.test()`` in a later module runs triggers with ``asyncio.run()``, which refuses to nest.
    """
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is needed for the browser tests: apt-get install chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield chromium
        chromium.close()
