"""Tiny runs of the benchmarks, so the scripts cannot rot between two ``make bench`` runs.

They assert what a benchmark reports about correctness (the right outcome per schedule, the Wix calls
against the minimum, no unexpected failures), never a speed: speed is what ``make bench`` reports.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys

import pytest

from benchmarks import readme
from tests.conftest import REPO_ROOT


def _bench(tmp_path, *args: str) -> dict:
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", *args, "--json", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    results = json.loads(out.read_text())
    for name in results["benchmarks"]:
        assert f"\n== {name}: " in proc.stdout  # its table
    assert re.search(r"^\d+ PASS, \d+ MISS; total \d+ s$", proc.stdout, re.MULTILINE), proc.stdout[-2000:]
    return results


def _rows(results: dict, name: str) -> dict[str, dict]:
    bench = results["benchmarks"][name]
    assert bench["error"] is None
    return {row["metric"]: row for row in bench["rows"]}


@pytest.mark.slow
def test_bulk_onboarding_benchmark_runs_and_every_owner_gets_the_right_outcome(tmp_path):
    results = _bench(tmp_path, "bulk_onboarding", "--schedules", "5", "--owner-wait", "60")
    rows = _rows(results, "bulk_onboarding")

    assert rows["schedules whose report line is right"]["measured"] == "5/5"
    assert rows["failed or retried task instances not chosen by an owner"]["verdict"] == "PASS"
    calls = rows["Wix calls made (429s not counted) vs the minimum"]
    assert calls["measured"] == calls["baseline"], calls["values"]
    # One chunk: one task instance of each onboard task, whatever the number of schedules.
    (ran,) = [n for n in results["benchmarks"]["bulk_onboarding"]["notes"] if n.startswith("task instances that ran")]
    for task_id in ("onboard.connect", "onboard.wait_for_owners", "onboard.configure_sync"):
        assert f"{task_id} 1x" in ran, ran


@pytest.mark.slow
def test_callback_route_benchmark_compares_with_airflows_health_check(tmp_path):
    rows = _rows(_bench(tmp_path, "callback_route", "--quick"), "callback_route")

    row = rows["callback route, requests/s"]
    assert row["values"]["callback"]["count"] > 0
    assert row["values"]["health"]["count"] > 0
    assert row["values"]["callback"]["bad"] == []  # every unknown state got its 404, nothing else


@pytest.mark.slow
def test_dashboard_benchmark_renders_every_seeded_row(tmp_path):
    # The child asserts that every seeded flow shows as a row: none may be swept as expired first.
    rows = _rows(_bench(tmp_path, "dashboard", "--quick"), "dashboard")

    assert rows["page view on Airflow's app (flows from SQLite, List Connections over HTTP, auth, HTML)"]["values"]


def test_dag_parse_benchmark_compares_each_example_dag_with_its_peers(tmp_path):
    bench = _bench(tmp_path, "dag_parse", "--quick")["benchmarks"]["dag_parse"]
    assert bench["error"] is None
    rows = bench["rows"]
    files = sorted(p.name for p in (REPO_ROOT / "dags").glob("*.py"))
    assert [r["metric"].split(" (")[0] for r in rows if not r["metric"].startswith(" ")] == files
    for metric in ("vs the EmptyOperator peer", "provider's import per parse (CPU)"):
        measured = [r for r in rows if r["metric"].strip() == metric]
        assert len(measured) == len(files) and all(r["verdict"] in ("PASS", "MISS") for r in measured)
    assert all(r["verdict"] == "PASS" for r in rows if r["metric"].strip() == "network use while parsing")


def _positive(value: object) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


def test_events_stream_benchmark_exports_the_same_events_through_every_variant(tmp_path):
    # Runs the emulator and three child processes, no Airflow: seconds.
    n = 2000
    rows = _rows(_bench(tmp_path, "events_stream", "--events", str(n)), "events_stream")

    bare = rows["bare requests loop (server-bound)"]
    assert _positive(bare["values"]["events_per_s"])
    compared = [
        "iter_events, events discarded",
        "bare loop -> json.dumps per event (naive)",
        "iter_events -> json.dumps per event (hook/client + stdlib)",
        "export_events vs the naive export",
        "export_events vs iter_events -> json.dumps per event",
    ]
    assert all(_positive(rows[m]["values"]["ratio"]) for m in compared), [rows[m] for m in compared]
    export = rows["export_events -> JSON Lines (client/hook; ListEventsOperator's path)"]
    assert export["verdict"] in ("PASS", "MISS")
    # Every variant exported the same events (the benchmark fails otherwise), at least the N asked for.
    memory = next(r for m, r in rows.items() if m.startswith("peak RSS growth, iter_events N="))
    assert memory["verdict"] in ("PASS", "MISS")
    for child in ("iter_n", "iter_n10"):
        assert memory["values"][child]["count"] >= n
        assert memory["values"][child]["rss_delta"] >= 0


@pytest.mark.slow
def test_token_mints_benchmark_counts_the_requests_of_each_scenario(tmp_path):
    # The last scenario runs the onboarding DAG with dag.test() and the API server app in a child process.
    rows = _rows(_bench(tmp_path, "token_mints", "--quick"), "token_mints")

    shared = rows["token mints, 300 calls / 8 threads"]
    assert shared["values"]["mints"] == 1 and shared["verdict"] == "PASS"
    short = next(r for m, r in rows.items() if m.startswith("token mints, token_ttl="))
    assert short["values"]["mints"] >= 2 and short["values"]["windows"] >= 2  # the TTL expired at least once
    assert short["verdict"] in ("PASS", "MISS")  # 0 early mints and 0 401s depend on timing: reported only
    expired = rows["token mints, all tokens expire server-side mid-run"]
    assert expired["values"]["mints"] == 2 and expired["values"]["resent"] == expired["values"]["http_401"]
    hooks = rows["one onboarding, hook methods (one WixHook)"]
    assert hooks["verdict"] == "PASS" and hooks["values"]["extra"] == {}
    dag = rows["one onboarding, wix_calendar_onboarding DAG"]
    assert dag["values"]["run"]["state"] == "success", dag["values"]["run"]
    # Exactly its minimum (issue 12): the owner's page asks Wix nothing, the trigger uses the tasks' token.
    assert dag["values"]["extra"] == {} and dag["verdict"] == "PASS", dag["values"]
    assert rows["  of which token mints"]["values"]["mints"] == 1


@pytest.mark.slow
def test_wake_latency_and_triggerer_cost_benchmarks_run_on_one_topology(tmp_path):
    # Both start from the same PostgreSQL + Celery topology (started once per run): one push and one
    # polled onboarding; batches of two waiting sensors over 2 s windows.
    results = _bench(tmp_path, "wake_latency", "triggerer_cost", "--runs", "1", "--sensors", "2", "--window", "2")

    wake = results["benchmarks"]["wake_latency"]
    assert wake["title"].startswith("callback -> sensor success, 1 + 1 onboardings")
    assert len(wake["details"]["runs"]["push"]) == len(wake["details"]["runs"]["poll"]) == 1
    # Each sensor woke the way its variant allows: by the callback's push, or (waiter deleted) by its poll.
    assert wake["details"]["via"] == {"push": 1, "poll": 1}
    rows = _rows(results, "wake_latency")
    assert all(r["verdict"] in ("PASS", "MISS") for r in rows.values())
    assert _positive(rows["push (poke_interval 300 s), p50"]["values"]["p50"])
    assert _positive(rows["speed-up of push over a 5 s poll (p50)"]["values"]["speedup"])

    cost = results["benchmarks"]["triggerer_cost"]
    rows = _rows(results, "triggerer_cost")
    for batch in ("warm_up", "poll_300", "poll_5"):
        assert cost["details"][batch]["deferral_s"] > 0 and cost["details"][batch]["cpu_s"] >= 0
    assert cost["details"]["poll_5"]["rss_deferred"] > 0
    steady = rows["1,000 sensors at 300 s, steady state"]
    assert steady["verdict"] in ("PASS", "MISS") and steady["values"]["cores"] >= 0
    per_trigger = [r for m, r in rows.items() if m.startswith("RSS per waiting trigger")]
    assert len(per_trigger) == 2 and all(r["verdict"] in ("PASS", "MISS") for r in per_trigger)


def _results(finished: str, **benchmarks: list[tuple[str, str]]) -> dict:
    return {
        "finished": finished,
        "quick": False,
        "machine": {"cpus": 2, "python": "3.11.7"},
        "benchmarks": {
            name: {
                "error": None,
                "rows": [
                    {"metric": m, "measured": v, "baseline": "b", "ratio": "1.00", "target": "t", "verdict": "PASS"}
                    for m, v in rows
                ],
            }
            for name, rows in benchmarks.items()
        },
    }


def test_readme_table_is_regenerated_from_results_keeping_benchmarks_not_rerun():
    page = f"# Title\n\nintro\n\n{readme.START}\nold text\n{readme.END}\n\nafter\n"

    first = readme.render(page, _results("2026-12-01T10:00:00+00:00", alpha=[("speed", "1 s")], beta=[("rate", "5/s")]))
    second = readme.render(first, _results("2026-12-02T10:00:00+00:00", alpha=[("speed", "2 s | fast")]))

    assert "old text" not in first
    assert second.startswith("# Title\n\nintro\n\n") and second.endswith("\n\nafter\n")
    table = second.split(readme.START)[1].split(readme.END)[0].strip().splitlines()
    assert table[:2] == list(readme.HEADER)
    assert table[2:] == [
        "| alpha | speed | 2 s \\| fast | b | 1.00 | t | PASS | 2026-12-02, 2 CPUs, Python 3.11.7 |",
        "| beta | rate | 5/s | b | 1.00 | t | PASS | 2026-12-01, 2 CPUs, Python 3.11.7 |",
    ]


def test_readme_gives_the_load_while_each_benchmark_ran():
    results = _results("2026-12-01T10:00:00+00:00", alpha=[("x", "1")], beta=[("y", "2")])
    results["machine"]["load_average_1min"] = 3.2  # at the end of the run
    results["benchmarks"]["alpha"]["load"] = [24.5, 6.5]

    rows = readme.rows_of(results)

    assert rows["alpha"][0].endswith("| 2026-12-01, 2 CPUs (load 24.5-6.5), Python 3.11.7 |")
    assert rows["beta"][0].endswith("| 2026-12-01, 2 CPUs (load 3.2), Python 3.11.7 |")


def test_readme_is_left_alone_by_quick_runs_and_needs_its_markers(tmp_path):
    results = tmp_path / "quick.json"
    results.write_text(json.dumps({**_results("2026-12-01T10:00:00+00:00", alpha=[("x", "1")]), "quick": True}))
    page = tmp_path / "README.md"
    page.write_text(f"{readme.START}\nkept\n{readme.END}\n")

    assert readme.main([str(results), "--readme", str(page)]) == 0
    assert "kept" in page.read_text()
    with pytest.raises(ValueError, match="benchmarks:start"):
        readme.render("no markers here", _results("2026-12-01T10:00:00+00:00"))
