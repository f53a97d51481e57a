"""``make demo``: the onboarding DAG end to end on a local Airflow, against the Wix emulator.

Starts the emulator and Airflow's components (API server, scheduler, DAG processor, triggerer; SQLite,
LocalExecutor) as separate processes under ``.demo/``, triggers ``wix_calendar_onboarding`` through the
REST API as a person clicking *Trigger* would, plays the calendar owner who presses *Allow* on the
consent page, follows the run, and prints what happened. Every process is stopped on exit, on Ctrl-C
and on SIGTERM; a demo that was killed outright is cleaned up by the next one.

``--interactive`` leaves the answering to a person (the consent link is printed) and keeps Airflow
running until Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import requests

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from airflow_provider_wix.client.models import Event

REPO = Path(__file__).resolve().parent.parent
DAG_ID = "wix_calendar_onboarding"
USERNAME = PASSWORD = "admin"
# Seconds Wix (the emulator) takes to sync a connection: long enough to watch CONNECTED ->
# SYNC_IN_PROGRESS -> SYNCED go by, short enough for a demo (real Wix takes minutes).
SYNC_DELAY = 4.0
RUN_TIMEOUT = 300.0
# Seconds one call to Airflow's REST API may take (a loaded laptop can take tens of seconds).
API_TIMEOUT = 60.0
TERMINAL = {"success", "failed"}
FINISHED_TI = {"success", "failed", "skipped", "upstream_failed", "removed"}
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
EMULATOR_API_KEY = "emulator-api-key"


class DemoError(Exception):
    """Something the person running the demo should read; the demo stops with exit code 1."""


# ---------------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------------

_START = time.monotonic()
_BOLD = "\033[1m" if sys.stdout.isatty() else ""
_RESET = "\033[0m" if sys.stdout.isatty() else ""


def say(message: str) -> None:
    print(f"[{time.monotonic() - _START:6.1f}s] {message}", flush=True)


def heading(title: str) -> None:
    print(f"\n{_BOLD}{title}{_RESET}\n{'-' * len(title)}", flush=True)


# ---------------------------------------------------------------------------------------------------
# Processes: each in its own process group, recorded so that a later demo can stop leftovers
# ---------------------------------------------------------------------------------------------------


@dataclass
class Processes:
    """The demo's child processes; each leads its own process group so its children stop with it."""

    home: Path
    running: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _logs: list[IO[bytes]] = field(default_factory=list)

    @property
    def registry(self) -> Path:
        return self.home / "processes.json"

    def start(self, name: str, command: Sequence[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = open(self.log_path(name), "ab")  # noqa: SIM115 - closed in stop_all()
        self._logs.append(log)
        process = subprocess.Popen(
            list(command),
            env=env,
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: Ctrl-C in the terminal reaches only this script
        )
        self.running[name] = process
        self._record()
        return process

    def log_path(self, name: str) -> Path:
        return self.home / "logs" / f"{name}.log"

    def check(self) -> None:
        """Fail fast, with the end of its log, when a component dies."""
        for name, process in self.running.items():
            code = process.poll()
            if code is not None:
                raise DemoError(f"{name} stopped unexpectedly (exit code {code}). End of its log:\n{self.tail(name)}")

    def tail(self, name: str, lines: int = 25) -> str:
        try:
            text = self.log_path(name).read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join("    " + line for line in text[-lines:])

    def stop_all(self, grace: float = 5.0) -> None:
        """SIGTERM every process group, newest first, then SIGKILL what is left after ``grace`` seconds.

        The triggerer takes ~11 s to exit on SIGTERM; nothing here needs a slow, graceful stop, as the
        next demo starts from a fresh ``AIRFLOW_HOME``.
        """
        if not self.running:
            return
        say("Stopping the emulator and Airflow ...")
        for process in reversed(list(self.running.values())):
            _signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in self.running.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
        for process in self.running.values():
            _signal_group(process.pid, signal.SIGKILL)  # stragglers, including grandchildren
            process.wait()
        self.running.clear()
        for log in self._logs:
            log.close()
        self.registry.unlink(missing_ok=True)
        say("Stopped.")

    def _record(self) -> None:
        import psutil

        entries = []
        for name, process in self.running.items():
            try:
                entries.append({"name": name, "pid": process.pid, "created": psutil.Process(process.pid).create_time()})
            except psutil.Error:
                continue
        self.registry.write_text(json.dumps(entries))

    def stop_leftovers(self, grace: float = 15.0) -> None:
        """Stop the process groups of a demo that was killed before it could clean up."""
        import psutil

        try:
            entries = json.loads(self.registry.read_text())
        except (OSError, ValueError):
            return
        leftovers = []
        for entry in entries:
            with contextlib.suppress(psutil.Error):
                process = psutil.Process(entry["pid"])
                if process.create_time() == entry["created"]:  # not a new process that reused the pid
                    leftovers.append(process)
        if leftovers:
            say(f"Stopping {len(leftovers)} process(es) left running by an earlier demo")
            for process in leftovers:
                _signal_group(process.pid, signal.SIGTERM)
            psutil.wait_procs(leftovers, timeout=grace)
            for process in leftovers:
                _signal_group(process.pid, signal.SIGKILL)
        self.registry.unlink(missing_ok=True)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _minutes(timestamp: str) -> str:
    """``2026-11-28T19:22:43.98+00:00`` -> ``2026-11-28 19:22 UTC``."""
    return f"{timestamp[:10]} {timestamp[11:16]} UTC"


def _port(preferred: int) -> int:
    """``preferred`` if it is free on 127.0.0.1, else any free port."""
    for port in (preferred, 0):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise DemoError("No free TCP port on 127.0.0.1")


# ---------------------------------------------------------------------------------------------------
# The demo
# ---------------------------------------------------------------------------------------------------


@dataclass
class Demo:
    home: Path
    interactive: bool
    timeout: float
    decision: str = "allow"
    processes: Processes = field(init=False)
    http: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.processes = Processes(self.home)
        self.airflow_home = self.home / "airflow"
        self.emulator_url = ""
        self.api_url = ""
        self.emulator_config: dict[str, Any] = {}

    # -- setting up ---------------------------------------------------------------------------------

    def prepare(self) -> None:
        """A fresh ``AIRFLOW_HOME`` every time, so a second demo behaves exactly like the first."""
        self.home.mkdir(parents=True, exist_ok=True)
        self.processes.stop_leftovers()
        shutil.rmtree(self.airflow_home, ignore_errors=True)
        shutil.rmtree(self.home / "logs", ignore_errors=True)
        (self.home / "logs").mkdir(parents=True)
        self.airflow_home.mkdir(parents=True)
        # SimpleAuthManager reads the known password from here instead of generating one.
        (self.airflow_home / "passwords.json").write_text(json.dumps({USERNAME: PASSWORD}))

    def environment(self, api_port: int) -> dict[str, str]:
        from cryptography.fernet import Fernet

        # Nothing from the caller's own Airflow set-up (AIRFLOW_HOME, AIRFLOW_CONFIG, AIRFLOW__*, ...) leaks in.
        env = {k: v for k, v in os.environ.items() if not k.lstrip("_").startswith("AIRFLOW")}
        env.update(
            {
                "AIRFLOW_HOME": str(self.airflow_home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                # LocalExecutor forks one worker per parallelism slot (32 by default): keep it small.
                "AIRFLOW__CORE__PARALLELISM": "4",
                "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
                "AIRFLOW__CORE__AUTH_MANAGER": (
                    "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
                ),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USERNAME}:admin",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.airflow_home / "passwords.json"),
                "AIRFLOW__API_AUTH__JWT_SECRET": "airflow-provider-wix-demo-" + "0123456789abcdef" * 4,
                "AIRFLOW__API__BASE_URL": self.api_url,
                "AIRFLOW__API__PORT": str(api_port),
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
                # The sync has no callback, so the example DAG polls it; poll often against a fast emulator.
                "AIRFLOW__WIX__SYNC_STATUS_POLL_INTERVAL": "2",
                "PYTHONUNBUFFERED": "1",
                "NO_COLOR": "1",
            }
        )
        return env

    def start(self) -> None:
        emulator_port = _port(8765)
        api_port = _port(8080)
        self.emulator_url = f"http://127.0.0.1:{emulator_port}"
        self.api_url = f"http://127.0.0.1:{api_port}"
        env = self.environment(api_port)
        airflow = str(Path(sys.executable).with_name("airflow"))

        say(f"Starting the Wix emulator on {self.emulator_url} (sync takes {SYNC_DELAY:g} s)")
        self.processes.start(
            "emulator",
            [
                sys.executable,
                "-m",
                "airflow_provider_wix.emulator",
                "--port",
                str(emulator_port),
                "--sync-delay",
                str(SYNC_DELAY),
                "--api-key",
                EMULATOR_API_KEY,
            ],
            env,
        )
        say(f"Creating Airflow's metadata database (SQLite) in {self.airflow_home}")
        with open(self.processes.log_path("db-migrate"), "wb") as log:
            migrate = subprocess.run(
                [airflow, "db", "migrate"], env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, check=False
            )
        if migrate.returncode:
            raise DemoError(f"airflow db migrate failed:\n{self.processes.tail('db-migrate')}")

        say(f"Starting Airflow: {', '.join(COMPONENTS)} (LocalExecutor)")
        for component in COMPONENTS:
            command = [airflow, component]
            if component == "api-server":
                command += ["--host", "127.0.0.1", "--port", str(api_port)]
            self.processes.start(component, command, env)

        self.wait(lambda: self._get_ok(f"{self.emulator_url}/_emulator/health"), 30, "the emulator")
        self.emulator_config = self.http.get(f"{self.emulator_url}/_emulator/state", timeout=5).json()["config"]
        self.wait(self._airflow_healthy, 120, "Airflow's components to report healthy")
        say(f"Airflow is up at {self.api_url}")

    def _get_ok(self, url: str) -> bool:
        try:
            return self.http.get(url, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def _airflow_healthy(self) -> bool:
        try:
            health = self.http.get(f"{self.api_url}/api/v2/monitor/health", timeout=3).json()
        except (requests.RequestException, ValueError):
            return False
        parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
        return all((health.get(part) or {}).get("status") == "healthy" for part in parts)

    def wait(self, predicate: Callable[[], Any], timeout: float, what: str, every: float = 0.25) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            self.processes.check()
            result = predicate()
            if result:
                return result
            if time.monotonic() > deadline:
                raise DemoError(f"Timed out after {timeout:g} s waiting for {what}")
            time.sleep(every)

    # -- Airflow's REST API -----------------------------------------------------------------------

    def login(self) -> None:
        response = self.http.post(
            f"{self.api_url}/auth/token", json={"username": USERNAME, "password": PASSWORD}, timeout=API_TIMEOUT
        )
        response.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        # Generous: SQLite serialises writers, so the API server can wait on a task's commit under load.
        response = self.http.request(method, f"{self.api_url}/api/v2{path}", timeout=API_TIMEOUT, **kwargs)
        if response.status_code >= 400:
            raise DemoError(f"{method} /api/v2{path} answered {response.status_code}: {response.text[:500]}")
        return response.json() if response.content else None

    def create_wix_connection(self) -> None:
        """The ``wix_default`` connection, pointing at the emulator (visible under Admin > Connections)."""
        body = {
            "connection_id": "wix_default",
            "conn_type": "wix",
            "description": "The local Wix emulator started by make demo",
            "host": self.emulator_url,
            "password": EMULATOR_API_KEY,
            "extra": json.dumps({"auth_type": "api_key", "site_id": self.emulator_config["site_id"]}),
        }
        existing = self.http.get(f"{self.api_url}/api/v2/connections/wix_default", timeout=10)
        if existing.status_code == 200:
            self.api("PATCH", "/connections/wix_default", json=body)
        else:
            self.api("POST", "/connections", json=body)
        say(f"Created the Airflow connection wix_default -> {self.emulator_url}")

    def wait_for_dag(self) -> None:
        def parsed() -> bool:
            errors = self.api("GET", "/importErrors").get("import_errors", [])
            if errors:
                details = "\n".join(f"{e['filename']}:\n{e['stack_trace']}" for e in errors)
                raise DemoError(f"The DAG files have import errors:\n{details}")
            return self.http.get(f"{self.api_url}/api/v2/dags/{DAG_ID}", timeout=10).status_code == 200

        self.wait(parsed, 120, f"the DAG processor to parse {DAG_ID}", every=0.5)
        self.api("PATCH", f"/dags/{DAG_ID}", json={"is_paused": False})
        say(f"{DAG_ID} is parsed and unpaused")

    # -- the run ------------------------------------------------------------------------------------

    def pick_staff_member(self) -> dict[str, Any]:
        """The person to onboard: the first bookable staff member, named by e-mail as a user would."""
        staff = self.http.get(f"{self.emulator_url}/_emulator/state", timeout=5).json()["staff"]
        bookable = [m for m in staff if m.get("serviceProvider") and m.get("email") and not m.get("emailPrivate")]
        if not bookable:
            raise DemoError("The emulator has no staff member with a visible e-mail")
        return bookable[0]

    def trigger(self, member: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        conf = {
            "staff_member": member["email"],
            "provider": "Microsoft",
            "import_events": True,
            "import_calendars": ["Calendar", "Work"],
            "export": "dedicated",
            "days_ahead": 7,
            "include_titles": True,
        }
        run = self.api("POST", f"/dags/{DAG_ID}/dagRuns", json={"logical_date": None, "conf": conf})
        say(
            f"Triggered {DAG_ID} (run {run['dag_run_id']}) for {member['name']} <{member['email']}>; "
            f"Query Staff Members gives their schedule {member['scheduleId']}"
        )
        say(f"  conf: {json.dumps(conf)}")
        return run["dag_run_id"], conf

    def xcom(self, run_id: str, task_id: str, key: str = "return_value") -> Any:
        response = self.http.get(
            f"{self.api_url}/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}",
            timeout=API_TIMEOUT,
        )
        return response.json().get("value") if response.status_code == 200 else None

    def follow(self, run_id: str, schedule_id: str) -> tuple[str, dict[str, str]]:
        """Print every task and connection status change until the run ends; answer the consent page."""
        deadline = time.monotonic() + self.timeout
        states: dict[str, str] = {}
        connection_status: str | None = None
        answered = False
        last_change = time.monotonic()
        while True:
            self.processes.check()
            tis = self.api("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances")["task_instances"]
            for ti in sorted(tis, key=lambda t: (t.get("start_date") or "9", t["task_id"])):
                state = ti.get("state") or "none"
                if states.get(ti["task_id"]) != state:
                    states[ti["task_id"]] = state
                    last_change = time.monotonic()
                    if state != "none":
                        say(f"  task {ti['task_id']:<24} {state}")
            status = self._wix_status(schedule_id)
            if status and status != connection_status:
                say(f"  Wix: the connection is {status}")
                connection_status = status
                last_change = time.monotonic()
            if not answered and states.get("connect_by_oauth") == "success":
                answered = self._owner(run_id)
            run_state = self.api("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}")["state"]
            if run_state in TERMINAL:
                return run_state, states
            if time.monotonic() > deadline:
                raise DemoError(f"The run did not finish within {self.timeout:g} s (task states: {states})")
            if time.monotonic() - last_change > 15:
                waiting = [t for t, s in states.items() if s not in FINISHED_TI and s != "none"]
                say(f"  ... still waiting ({', '.join(f'{t}: {states[t]}' for t in waiting) or 'scheduling'})")
                last_change = time.monotonic()
            time.sleep(0.5)

    def _wix_status(self, schedule_id: str) -> str | None:
        try:
            connections = self.http.get(f"{self.emulator_url}/_emulator/state", timeout=5).json()["connections"]
        except (requests.RequestException, ValueError):
            return None
        live = [c for c in connections if c["scheduleId"] == schedule_id and c["status"] != "DISCONNECTED"]
        return live[-1]["status"] if live else None

    def _owner(self, run_id: str) -> bool:
        """Play the calendar owner (or, with --interactive, ask a person to)."""
        oauth_url = self.xcom(run_id, "connect_by_oauth")
        if not oauth_url:
            return False
        if self.interactive:
            heading("Your turn: authorize the calendar")
            print(f"Open this link in a browser and press Allow (or Deny):\n\n    {oauth_url}\n", flush=True)
            return True
        say(f"  The owner opens the consent page: {oauth_url}")
        response = self.http.get(oauth_url, params={"decision": self.decision}, timeout=30)
        where = response.url.split("?")[0].replace(self.api_url, "Airflow ")[:90]
        say(
            f"  The owner pressed {self.decision.title()}; Wix redirected the browser to {where} "
            f"-> HTTP {response.status_code}"
        )
        if response.status_code != 200:
            raise DemoError(f"The OAuth callback answered {response.status_code}: {response.text[:300]}")
        return True

    # -- the summary --------------------------------------------------------------------------------

    def emulator_events(self, schedule_id: str, window: dict[str, str], own_pi: bool) -> list[Event]:
        """What Wix itself lists for the same schedule and window, read with the provider's plain client."""
        from airflow_provider_wix.client import ApiKeyAuth, ExternalCalendarsClient

        auth = ApiKeyAuth(EMULATOR_API_KEY, site_id=self.emulator_config["site_id"])
        with ExternalCalendarsClient(auth, self.emulator_url) as wix:
            return wix.list_events(
                window["from"], window["to"], schedule_ids=[schedule_id], fieldsets=["OWN_PI"] if own_pi else None
            )

    def report(self, run_id: str, run_state: str, states: dict[str, str], conf: dict[str, Any]) -> bool:
        heading(f"Run {run_id}: {run_state.upper()}")
        tis = self.api("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances")["task_instances"]
        for ti in sorted(tis, key=lambda t: (t.get("start_date") or t.get("end_date") or "9", t["task_id"])):
            took = f"{ti['duration']:5.1f} s" if ti.get("duration") is not None else ""
            print(f"  {ti['task_id']:<24} {ti.get('state') or 'none':<16} {took}")
        summary = self.xcom(run_id, "summary") if run_state == "success" else None
        result: dict[str, Any] = {
            "run_id": run_id,
            "state": run_state,
            "task_states": states,
            "summary": summary,
            "emulator": {"url": self.emulator_url, **self.emulator_config},
        }
        matches = False
        if summary:
            connection = summary["connection"]
            heading("Connection")
            print(f"  provider           {summary['provider']}")
            print(f"  connection id      {connection['id'][:24]}... (status {connection['status']})")
            print(f"  external account   {connection.get('externalAccountEmail')}")
            print(f"  sync config        {json.dumps(connection.get('syncConfig'))}")
            if summary["sync_config"]["note"]:
                print(f"  note               {summary['sync_config']['note']}")
            wix_events = self.emulator_events(summary["schedule_id"], summary["window"], conf["include_titles"])
            matches = (
                wix_events[: len(summary["events_sample"])] == summary["events_sample"]
                and len(wix_events) == summary["event_count"]
            )
            result["emulator"]["event_count"] = len(wix_events)
            window = " to ".join(_minutes(summary["window"][end]) for end in ("from", "to"))
            heading(f"Events: {summary['event_count']} from {window}")
            for event in summary["events_sample"]:
                when = "all day" if event.get("allDay") else f"{event['start'][11:16]}-{event['end'][11:16]}"
                print(
                    f"  {event['start'][:10]}  {when:<11}  {event.get('title', '')}  ({event.get('calendarName', '')})"
                )
            verdict = "matches" if matches else "DOES NOT MATCH"
            print(f"\n  Wix (the emulator) lists {len(wix_events)} events for this schedule and window: {verdict}.")
        else:
            for task_id in (t for t, s in states.items() if s == "failed"):
                heading(f"Why {task_id} failed (end of its log)")
                print(self.task_log_tail(run_id, task_id))
        result["matches_emulator"] = matches
        (self.home / "summary.json").write_text(json.dumps(result, indent=2))

        heading("Open Airflow")
        print(f"  UI        {self.api_url}   (login {USERNAME} / {PASSWORD})")
        print(f"  this run  {self.api_url}/dags/{DAG_ID}/runs/{run_id}")
        print(f"  logs      {self.home / 'logs'} (components), {self.airflow_home / 'logs'} (tasks)")
        print(f"  summary   {self.home / 'summary.json'}")
        return run_state == "success" and matches

    def print_ui_access(self) -> None:
        """Where to look, before anything happens: a person can watch the run from its first task."""
        heading("Airflow is up")
        print(f"  UI              {self.api_url}   (login {USERNAME} / {PASSWORD})")
        print(f"  Wix calendars   {self.api_url}/plugin/wix-calendars   (every onboarding, in the UI's menu)")
        print(f"  the DAG         {self.api_url}/dags/{DAG_ID}", flush=True)

    def task_log_tail(self, run_id: str, task_id: str, lines: int = 12) -> str:
        """The last messages of a task's latest attempt, read from its log file (JSON lines)."""
        folder = self.airflow_home / "logs" / f"dag_id={DAG_ID}" / f"run_id={run_id}" / f"task_id={task_id}"
        attempts = sorted(folder.glob("attempt=*.log"))
        if not attempts:
            return f"  (no log file under {folder})"
        messages = []
        for line in attempts[-1].read_text(errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                messages.append(line)
                continue
            if record.get("level") in ("warning", "error", "critical") or record.get("logger") != "task":
                messages.append(f"{record.get('level', ''):<8} {record.get('event', '')}")
            for error in record.get("error_detail") or []:
                messages.append(f"{'':<8} {error.get('exc_type')}: {error.get('exc_value')}")
        return "\n".join(f"  {m}" for m in messages[-lines:]) + f"\n  (full log: {attempts[-1]})"

    # -- everything ---------------------------------------------------------------------------------

    def run(self) -> int:
        heading("airflow-provider-wix demo: onboard a calendar to Wix Bookings")
        self.prepare()
        self.start()
        self.login()
        self.create_wix_connection()
        self.wait_for_dag()
        self.print_ui_access()
        member = self.pick_staff_member()
        run_id, conf = self.trigger(member)
        say(f"  This demo's own run is {run_id}: {self.api_url}/dags/{DAG_ID}/runs/{run_id}")
        run_state, states = self.follow(run_id, member["scheduleId"])
        ok = self.report(run_id, run_state, states, conf)
        say(f"Demo {'finished' if ok else 'FAILED'} in {time.monotonic() - _START:.0f} s")
        if self.interactive:
            print("\nAirflow and the emulator keep running; press Ctrl-C to stop them.", flush=True)
            while True:
                self.processes.check()
                time.sleep(1)
        return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactive", action="store_true", help="a person answers the consent page")
    parser.add_argument("--home", type=Path, default=REPO / ".demo", help="working folder (default .demo/)")
    parser.add_argument("--timeout", type=float, default=RUN_TIMEOUT, help="seconds to wait for the run")
    parser.add_argument(
        "--decision",
        choices=("allow", "deny"),
        default="allow",
        help="what the simulated owner presses on the consent page (deny: see a declined onboarding fail)",
    )
    args = parser.parse_args(argv)
    if args.interactive and args.timeout == RUN_TIMEOUT:
        args.timeout = 3600.0  # a person may take a while to click

    demo = Demo(args.home.resolve(), args.interactive, args.timeout, args.decision)

    def on_sigterm(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored
    try:
        return demo.run()
    except KeyboardInterrupt:
        print("\nInterrupted.", flush=True)
        return 130
    except DemoError as exc:
        print(f"\nThe demo failed: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        try:
            demo.processes.stop_all()
        except KeyboardInterrupt:  # a second Ctrl-C: stop without waiting
            for process in demo.processes.running.values():
                _signal_group(process.pid, signal.SIGKILL)


if __name__ == "__main__":
    sys.exit(main())
