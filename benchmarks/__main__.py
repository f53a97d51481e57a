"""``python -m benchmarks [NAME ...] [--quick]``: measure, print side-by-side tables, write JSON.

Reports, never asserts: the exit status is 0 unless a benchmark crashed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.common import RESULTS_DIR, Context, Result, print_table

BENCHMARKS = (
    "events_stream",
    "token_mints",
    "dag_parse",
    "dashboard",
    "wake_latency",
    "triggerer_cost",
    "callback_route",
    "bulk_onboarding",
    "bulk_onboarding_1000",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Performance benchmarks of airflow-provider-wix, each against a baseline measured in the "
        "same run. Slow ones (wake_latency, triggerer_cost, callback_route, bulk_onboarding) start a full "
        "Airflow topology on PostgreSQL + Celery; --quick skips them unless named. bulk_onboarding_1000 "
        "(about 90 minutes) runs only when named.",
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"benchmarks to run (default all): {BENCHMARKS}")
    parser.add_argument("--quick", action="store_true", help="smaller sizes; skip the slow benchmarks")
    parser.add_argument("--events", type=int, help="events_stream: N events (default 1,000,000; quick 200,000)")
    parser.add_argument("--runs", type=int, help="wake_latency: onboarding runs per variant (default 5)")
    parser.add_argument("--sensors", type=int, help="triggerer_cost: waiting sensors K (default 100)")
    parser.add_argument("--window", type=float, help="triggerer_cost: CPU measurement window, s (default 60)")
    parser.add_argument("--schedules", type=int, help="bulk_onboarding: schedules (default 200; quick 40)")
    parser.add_argument(
        "--owner-wait", type=float, help="bulk_onboarding: seconds owners may take (default 300 + 1.2 N)"
    )
    parser.add_argument("--json", type=Path, default=RESULTS_DIR / "latest.json", help="where to write the results")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    # Never touch the user's Airflow home: whatever imports Airflow here gets a throw-away one.
    home = tempfile.mkdtemp(prefix="wix-bench-airflow-home-")
    os.environ["AIRFLOW_HOME"] = home
    modules = {name: importlib.import_module(f"benchmarks.{name}") for name in BENCHMARKS}
    names = list(args.names) or [
        n for n in BENCHMARKS if not (args.quick and modules[n].SLOW) and not getattr(modules[n], "ON_REQUEST", False)
    ]
    skipped = [n for n in BENCHMARKS if n not in names]
    ctx = Context(
        quick=args.quick,
        events=args.events,
        runs=args.runs,
        sensors=args.sensors,
        window=args.window,
        schedules=args.schedules,
        owner_wait=args.owner_wait,
    )
    ctx.cleanups.append(lambda: shutil.rmtree(home, ignore_errors=True))

    print(
        f"airflow-provider-wix benchmarks: {', '.join(names)}"
        + (f" (skipped: {', '.join(skipped)})" if skipped else "")
        + f" on {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    started = time.monotonic()
    results: list[Result] = []
    crashed = False
    try:
        for name in names:
            t0, load_before = time.monotonic(), os.getloadavg()[0]
            try:
                result = modules[name].run(ctx)
            except Exception as exc:  # report and go on with the next benchmark
                crashed = True
                traceback.print_exc()
                result = Result(name, "crashed", error=f"{type(exc).__name__}: {exc}")
            result.seconds = time.monotonic() - t0
            result.load = (round(load_before, 1), round(os.getloadavg()[0], 1))
            results.append(result)
            print_table(result)
            # After each benchmark: an interrupted run still leaves what it measured.
            _write(args, results, skipped, time.monotonic() - started, complete=False)
    finally:
        for cleanup in reversed(ctx.cleanups):
            try:
                cleanup()
            except Exception:
                traceback.print_exc()

    total = time.monotonic() - started
    verdicts = [r.verdict for res in results for r in res.rows if r.verdict]
    print(
        f"\n{verdicts.count('PASS')} PASS, {verdicts.count('MISS')} MISS"
        + (", some benchmarks CRASHED" if crashed else "")
        + f"; total {total:.0f} s"
    )
    _write(args, results, skipped, total, complete=True)
    print(f"results written to {args.json}")
    return 1 if crashed else 0


def _write(args: argparse.Namespace, results: list[Result], skipped: list[str], seconds: float, complete: bool) -> None:
    args.json.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "complete": complete,  # False: the run stopped before its last benchmark (these are the ones it ran)
        "quick": args.quick,
        "seconds": round(seconds, 1),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            # Other work on the machine inflates times (ratios much less): the table says how busy it was.
            "load_average_1min": round(os.getloadavg()[0], 1),
        },
        "skipped": skipped,
        "benchmarks": {r.name: r.to_json() for r in results},
    }
    args.json.write_text(json.dumps(payload, indent=2, default=str) + "\n")


if __name__ == "__main__":
    sys.exit(main())
