"""Shared pieces: result rows and tables, the emulator as a subprocess, small statistics helpers."""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"

# Emulator defaults (EmulatorConfig) the benchmarks authenticate with.
API_KEY = "emulator-api-key"
SITE_ID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
CLIENT_ID = "e7c1a9d2-3b4f-4c5a-8d6e-0f1a2b3c4d5e"
CLIENT_SECRET = "emulator-client-secret"
INSTANCE_ID = "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
GOOGLE_PROVIDER_ID = "f3cfdae7-2a33-496e-a6e9-1220720b1a13"
MICROSOFT_PROVIDER_ID = "a4989031-ec67-4939-b361-31d1e41e6aad"
PREFIX = "/bookings/v2/external-calendars"


# ---------------------------------------------------------------------------------------------- run context


@dataclass
class Context:
    """Options of one ``python -m benchmarks`` run, and state shared between benchmarks (the topology)."""

    quick: bool = False
    events: int | None = None
    runs: int | None = None
    sensors: int | None = None
    window: float | None = None
    schedules: int | None = None
    owner_wait: float | None = None
    shared: dict[str, Any] = field(default_factory=dict)
    cleanups: list[Any] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------- results


@dataclass
class Row:
    """One line of a benchmark table: a measured value, what it is compared with, and the verdict."""

    metric: str
    measured: str
    baseline: str = ""
    ratio: str = ""
    target: str = ""
    verdict: str = ""  # PASS, MISS or "" (informative)
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class Result:
    name: str
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None
    # The machine's 1-minute load average when the benchmark started and ended (other work inflates times).
    load: tuple[float, float] | None = None

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        return row

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def verdict(ok: bool | None) -> str:
    if ok is None:
        return ""
    return "PASS" if ok else "MISS"


def fmt_ratio(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    if value >= 100:
        return f"{value:.0f}x"
    return f"{value:.2f}x" if value >= 10 else f"{value:.2f}"


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def fmt_num(value: float, unit: str = "", digits: int = 0) -> str:
    text = f"{value:,.{digits}f}"
    return f"{text} {unit}".rstrip()


def fmt_bytes(n: float) -> str:
    sign = "-" if n < 0 else ""
    n = abs(n)
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{sign}{n:,.0f} {unit}" if unit == "B" else f"{sign}{n:,.1f} {unit}"
        n /= 1024
    return f"{sign}{n:.1f} GB"  # pragma: no cover


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100) of a small sample."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def print_table(result: Result) -> None:
    headers = ("metric", "measured", "baseline", "ratio", "target", "verdict")
    rows = [(r.metric, r.measured, r.baseline, r.ratio, r.target, r.verdict) for r in result.rows]
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(headers)]
    print(f"\n== {result.name}: {result.title}  ({result.seconds:.0f} s)")
    if result.error:
        print(f"   CRASHED: {result.error}")
    if rows:
        line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
        print("   " + line)
        print("   " + "  ".join("-" * w for w in widths))
        for row in rows:
            print("   " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    for note in result.notes:
        print(f"   * {note}")
    sys.stdout.flush()


# ---------------------------------------------------------------------------------------------- emulator


class EmulatorProcess:
    """``python -m airflow_provider_wix.emulator`` in its own process (so it never shares our GIL)."""

    def __init__(self, *args: str) -> None:
        from tests.e2e.topology import die_with_parent_hook

        self._log = tempfile.NamedTemporaryFile(prefix="wix-bench-emulator-", suffix=".log", delete=False)  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "airflow_provider_wix.emulator", "--port", "0", *args],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
            preexec_fn=die_with_parent_hook(),  # a benchmark killed outright leaves no emulator behind
        )
        self.url = self._wait_for_url()
        self.session = requests.Session()

    def _wait_for_url(self, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        path = Path(self._log.name)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the emulator exited: {path.read_text(errors='replace')[-2000:]}")
            for line in path.read_text(errors="replace").splitlines():
                if line.startswith("Wix emulator listening on "):
                    url = line.split(" on ", 1)[1].strip()
                    if requests.get(f"{url}/_emulator/health", timeout=2).ok:
                        return url
            time.sleep(0.05)
        raise RuntimeError("the emulator did not start")

    # -- admin API --------------------------------------------------------------------------------

    def admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.session.request(method, f"{self.url}/_emulator{path}", json=body, timeout=60)
        response.raise_for_status()
        return response.json()

    def reset(self, **config: Any) -> None:
        self.admin("POST", "/reset", {"config": config})

    def requests_log(self, route: str | None = None) -> list[dict[str, Any]]:
        suffix = f"?route={route}" if route else ""
        return list(self.admin("GET", f"/requests{suffix}")["requests"])

    def clear_log(self) -> None:
        self.admin("DELETE", "/requests")

    def staff_schedule_ids(self) -> list[str]:
        return [s["id"] for s in self.admin("GET", "/state")["schedules"] if s["type"] == "STAFF"]

    def add_connection(self, schedule_id: str, provider_id: str = MICROSOFT_PROVIDER_ID, **extra: Any) -> dict:
        body = {"providerId": provider_id, "scheduleId": schedule_id, **extra}
        return dict(self.admin("POST", "/connections", body)["connection"])

    def cpu_seconds(self) -> float:
        """CPU time the emulator process has used so far (user + system)."""
        with open(f"/proc/{self.process.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def pending_flows(self) -> list[dict[str, Any]]:
        return list(self.admin("GET", "/oauth/flows")["flows"])

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._log.close()
        Path(self._log.name).unlink(missing_ok=True)

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def api_key_connection(url: str) -> str:
    """``AIRFLOW_CONN_WIX_DEFAULT`` for the emulator with its API key."""
    return json.dumps(
        {"conn_type": "wix", "host": url, "password": API_KEY, "extra": {"auth_type": "api_key", "site_id": SITE_ID}}
    )


def oauth_app_connection(url: str) -> str:
    """``AIRFLOW_CONN_WIX_DEFAULT`` for the emulator as a Wix app (client-credentials tokens)."""
    return json.dumps(
        {
            "conn_type": "wix",
            "host": url,
            "extra": {
                "auth_type": "oauth_app",
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "instance_id": INSTANCE_ID,
            },
        }
    )


def child_env(**extra: str) -> dict[str, str]:
    """Environment for helper child processes: the repo importable, no inherited Airflow home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH", "")]))
    env.update(extra)
    return env


def run_child(module: str, *args: str, env: dict[str, str] | None = None, timeout: float = 600) -> dict[str, Any]:
    """Run ``python -m module args`` and return the last JSON object line it prints (logs may surround it)."""
    proc = subprocess.run(
        [sys.executable, "-m", module, *args],
        env=env or child_env(),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    for line in reversed(proc.stdout.splitlines()) if proc.returncode == 0 else ():
        if line.startswith("{"):
            try:
                return dict(json.loads(line))
            except ValueError:
                continue
    raise RuntimeError(f"{module} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}\n{proc.stdout[-1000:]}")
