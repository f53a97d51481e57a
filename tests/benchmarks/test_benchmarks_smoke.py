"""Tiny runs of the benchmarks, so the scripts cannot rot between two ``make bench`` runs.

They assert what a benchmark reports about correctness (the right outcome per schedule, the Wix calls
against the minimum, no unexpected failures), never a speed: speed is what ``make bench`` reports.
"""

from __future__ import annotations

import json
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
    return json.loads(out.read_text())


def _rows(results: dict, name: str) -> dict[str, dict]:
    bench = results["benchmarks"][name]
    assert bench["error"] is None
    return {row["metric"]: row for row in bench["rows"]}


@pytest.mark.slow
def test_bulk_onboarding_benchmark_runs_and_every_owner_gets_the_right_outcome(tmp_path):
    rows = _rows(_bench(tmp_path, "bulk_onboarding", "--schedules", "5", "--owner-wait", "60"), "bulk_onboarding")

    assert rows["schedules whose report line is right"]["measured"] == "5/5"
    assert rows["failed or retried task instances not chosen by an owner"]["verdict"] == "PASS"
    calls = rows["Wix calls made (429s not counted) vs the minimum"]
    assert calls["measured"] == calls["baseline"], calls["values"]


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
