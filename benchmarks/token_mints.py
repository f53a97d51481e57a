"""token_mints: requests the provider makes, counted in the emulator's request log.

Shows the design's "Requests" target: one access token per expiry window however many threads share
a client, and an onboarding that makes exactly the calls the API needs (no repeated look-ups, no
re-sent calls without a fault). The baseline is the minimum the API requires for the same work.
"""

from __future__ import annotations

import itertools
import json
import logging
import shutil
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.common import (
    CLIENT_ID,
    CLIENT_SECRET,
    INSTANCE_ID,
    REPO_ROOT,
    Context,
    EmulatorProcess,
    Result,
    Row,
    child_env,
    fmt_ratio,
    oauth_app_connection,
    ratio,
    run_child,
    verdict,
)

NAME = "token_mints"
SLOW = False
THREADS = 8
SHORT_TTL = 2  # seconds (the emulator's token lifetime for the expiry scenario)

# What one onboarding needs from the API (the "Requests" target): a token, List Providers, Connect By
# OAuth, Get Connection after the callback, Update Sync Config, Get Connection until SYNCED (once, as
# the emulator syncs at once here) and one page of List Events.
MINIMUM = {
    "oauth2_token": 1,
    "list_providers": 1,
    "connect_by_oauth": 1,
    "get_connection": 2,
    "update_sync_config": 1,
    "list_events": 1,
}
# The example DAG needs one call more: its list_connections task (List Connections for the schedule)
# checks that the new connection is the schedule's, warns when the schedule has another one (Wix
# advises one external calendar per schedule) and serves the Apple (credentials) branch too. The
# owner's landing page costs none (it names provider and owner from the flow record), and the
# trigger that waits for SYNCED uses the tasks' shared app token: one mint for the whole run.
DAG_MINIMUM = {**MINIMUM, "list_connections": 1}


def _hammer(client: Any, calls: int, *, pace: float = 0.0) -> list[float]:
    """``calls`` List Providers calls over ``THREADS`` threads released together; returns start times."""
    barrier = threading.Barrier(THREADS)
    starts: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(share: int) -> None:
        try:
            barrier.wait()
            for _ in range(share):
                with lock:
                    starts.append(time.time())
                client.list_providers()
                if pace:
                    time.sleep(pace)
        except BaseException as exc:
            errors.append(exc)

    shares = [calls // THREADS + (1 if i < calls % THREADS else 0) for i in range(THREADS)]
    threads = [threading.Thread(target=worker, args=(s,)) for s in shares]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return starts


def _windows(times: list[float], lifetime: float) -> int:
    """Expiry windows the calls cross: a new window starts at the first call after the token's lifetime."""
    count, expires = 0, float("-inf")
    for t in sorted(times):
        if t >= expires:
            count += 1
            expires = t + lifetime
    return count


def _by_route(log: list[dict[str, Any]]) -> Counter[str]:
    return Counter(str(e["route"]) for e in log)


def _extras(counts: Counter[str], minimum: dict[str, int] = MINIMUM) -> dict[str, int]:
    routes = set(counts) | set(minimum)
    return {r: counts.get(r, 0) - minimum.get(r, 0) for r in sorted(routes) if counts.get(r, 0) != minimum.get(r, 0)}


def _describe(extras: dict[str, int]) -> str:
    return ", ".join(f"{r} {n:+d}" for r, n in extras.items()) or "none"


def run(ctx: Context) -> Result:
    from airflow_provider_wix.client import ExternalCalendarsClient, OAuthAppAuth

    calls = 300
    result = Result(NAME, f"{calls} calls over {THREADS} threads with OAuthAppAuth; one onboarding's requests")
    with EmulatorProcess("--sync-delay", "0") as emu:
        # 1. Many threads, one client, one long-lived token.
        emu.clear_log()
        auth = OAuthAppAuth(CLIENT_ID, CLIENT_SECRET, INSTANCE_ID)
        with ExternalCalendarsClient(auth, emu.url) as client:
            _hammer(client, calls)
        counts = _by_route(emu.requests_log())
        mints = counts["oauth2_token"]
        result.add(
            Row(
                f"token mints, {calls} calls / {THREADS} threads",
                str(mints),
                "1 (minimum)",
                fmt_ratio(ratio(mints, 1)),
                "1",
                verdict(mints == 1),
                values={"mints": mints, "client_counter": auth.tokens_minted, "requests": dict(counts)},
            )
        )

        # 2. A short token lifetime: one mint per expiry window, never a 401.
        emu.reset(token_ttl=SHORT_TTL, sync_delay=0)
        emu.clear_log()
        duration = 4.0 if ctx.quick else 6.0
        auth = OAuthAppAuth(CLIENT_ID, CLIENT_SECRET, INSTANCE_ID)
        with ExternalCalendarsClient(auth, emu.url) as client:
            _hammer(client, calls, pace=duration * THREADS / calls)
        log = emu.requests_log()
        mint_times = sorted(e["timestamp"] for e in log if e["route"] == "oauth2_token")
        api_times = [e["timestamp"] for e in log if e["route"] != "oauth2_token"]
        lifetime = SHORT_TTL - min(300.0, SHORT_TTL / 10)  # the client's refresh margin
        windows = _windows(api_times, lifetime)
        gaps = [b - a for a, b in itertools.pairwise(mint_times)]
        early = sum(1 for g in gaps if g < 0.9 * lifetime)
        unauthorized = sum(1 for e in log if e["status"] == 401)
        ok = abs(len(mint_times) - windows) <= 1 and early == 0 and unauthorized == 0
        result.add(
            Row(
                f"token mints, token_ttl={SHORT_TTL} s over {duration:.0f} s",
                str(len(mint_times)),
                f"{windows} windows",
                fmt_ratio(ratio(len(mint_times), windows)),
                "= windows, 0 early, 0 401",
                verdict(ok),
                values={
                    "mints": len(mint_times),
                    "windows": windows,
                    "early_mints": early,
                    "http_401": unauthorized,
                    "min_gap_s": min(gaps) if gaps else None,
                },
            )
        )
        result.notes.append(
            f"short TTL: {early} mint(s) earlier than the token's lifetime, {unauthorized} HTTP 401; "
            f"shortest gap between mints {min(gaps) if gaps else float('nan'):.2f} s (lifetime {lifetime:.1f} s)."
        )

        # 3. The server expires every token mid-run (e.g. revoked): a burst of 401s must mint once.
        emu.reset(token_ttl=14400, sync_delay=0)
        emu.clear_log()
        auth = OAuthAppAuth(CLIENT_ID, CLIENT_SECRET, INSTANCE_ID)
        client_log = logging.getLogger("airflow_provider_wix.client")
        level = client_log.level
        client_log.setLevel(logging.WARNING)  # one "refreshing the access token" line per 401 otherwise
        try:
            with ExternalCalendarsClient(auth, emu.url) as client:
                _hammer(client, calls // 2)
                emu.admin("POST", "/time", {"advance": 10 * 14400})
                _hammer(client, calls - calls // 2)
        finally:
            client_log.setLevel(level)
        log = emu.requests_log()
        counts = _by_route(log)
        unauthorized = sum(1 for e in log if e["status"] == 401)
        resent = counts["list_providers"] - calls
        result.add(
            Row(
                "token mints, all tokens expire server-side mid-run",
                str(counts["oauth2_token"]),
                "2 (minimum)",
                fmt_ratio(ratio(counts["oauth2_token"], 2)),
                "2; re-sends = 401s",
                verdict(counts["oauth2_token"] == 2 and resent == unauthorized),
                values={"mints": counts["oauth2_token"], "http_401": unauthorized, "resent": resent},
            )
        )
        result.notes.append(
            f"server-side expiry: {unauthorized} call(s) got 401 (in flight at once), each re-sent once "
            f"({resent} re-sends)."
        )

        # 4. One onboarding through the hook methods, in the DAG's order, with one WixHook.
        schedule_id = emu.staff_schedule_ids()[0]
        home = Path(tempfile.mkdtemp(prefix="wix-bench-home-"))
        ctx.cleanups.append(lambda: shutil.rmtree(home, ignore_errors=True))
        env = child_env(
            AIRFLOW_HOME=str(home),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW_CONN_WIX_DEFAULT=oauth_app_connection(emu.url),
        )
        emu.reset(token_ttl=14400, sync_delay=0)
        emu.clear_log()
        hooks = run_child(
            "benchmarks._onboarding_child",
            "--mode",
            "hooks",
            "--emulator",
            emu.url,
            "--schedule",
            schedule_id,
            "--provider",
            "MICROSOFT",
            env=env,
        )
        counts = _by_route(emu.requests_log())
        total, minimum = sum(counts.values()), sum(MINIMUM.values())
        extras = _extras(counts)
        result.add(
            Row(
                "one onboarding, hook methods (one WixHook)",
                f"{total} requests",
                f"{minimum} minimum",
                fmt_ratio(ratio(total, minimum)),
                "= minimum",
                verdict(not extras),
                values={"requests": dict(counts), "extra": extras, "child": hooks},
            )
        )
        result.notes.append(f"hook methods: extra vs minimum: {_describe(extras)}.")

        # 5. The example onboarding DAG itself (dag.test(): every task builds its own hook, as in production).
        dags = REPO_ROOT / "dags" / "wix_calendar_onboarding.py"
        if not dags.exists():
            result.notes.append("dags/wix_calendar_onboarding.py is missing: the DAG's requests were not counted.")
        else:
            emu.reset(token_ttl=14400, sync_delay=0)
            emu.clear_log()
            api_port = _free_port()
            env_dag = {
                **env,
                "AIRFLOW_HOME": str(home / "dag"),
                "AIRFLOW__CORE__DAGS_FOLDER": str(dags.parent),
                "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(
                    [
                        {
                            "name": "dags-folder",
                            "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
                            "kwargs": {"path": str(dags.parent)},
                        }
                    ]
                ),
                "AIRFLOW__CORE__FERNET_KEY": "Xi4hHn2JqhIM0b0BFbnh1_u9nUyN4mBbn-ZiiDoO3_I=",
                "AIRFLOW__API_AUTH__JWT_SECRET": "wix-bench-" + "x" * 64,
                "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
                # dag.test() runs triggers inline, where the callback's push cannot reach them: poll fast.
                "AIRFLOW__WIX__OAUTH_CALLBACK_POLL_INTERVAL": "0.5",
                "AIRFLOW__WIX__SYNC_STATUS_POLL_INTERVAL": "0.5",
            }
            dag_run = run_child(
                "benchmarks._onboarding_child",
                "--mode",
                "dag",
                "--emulator",
                emu.url,
                "--schedule",
                schedule_id,
                "--provider",
                "Microsoft",
                "--dags-folder",
                str(dags.parent),
                env=env_dag,
            )
            counts = _by_route(emu.requests_log())
            total, dag_minimum = sum(counts.values()), sum(DAG_MINIMUM.values())
            extras = _extras(counts, DAG_MINIMUM)
            ok_run = dag_run.get("state") == "success"
            result.add(
                Row(
                    "one onboarding, wix_calendar_onboarding DAG",
                    f"{total} requests",
                    f"{dag_minimum} minimum",
                    fmt_ratio(ratio(total, dag_minimum)),
                    "= minimum",
                    verdict(ok_run and not extras),
                    values={"requests": dict(counts), "extra": extras, "run": dag_run},
                )
            )
            result.add(
                Row(
                    "  of which token mints",
                    str(counts["oauth2_token"]),
                    "1 (minimum)",
                    fmt_ratio(ratio(counts["oauth2_token"], 1)),
                    "1 per expiry window",
                    verdict(counts["oauth2_token"] == 1),
                    values={"mints": counts["oauth2_token"]},
                )
            )
            result.notes.append(
                f"DAG run {dag_run.get('state')} in {dag_run.get('seconds', 0):.0f} s; extra vs minimum: "
                f"{_describe(extras)}."
            )
    return result


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
