"""``make demo`` end to end: the script, its processes and its summary, checked against Wix's own answer."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from airflow_provider_wix.emulator.state import MICROSOFT_PROVIDER_ID, EmulatorConfig, EmulatorState
from tests.conftest import REPO_ROOT


@pytest.mark.slow
def test_make_demo_onboards_a_calendar_and_reports_what_wix_holds(tmp_path):
    home = tmp_path / "demo"
    start = time.monotonic()
    demo = subprocess.run(
        [sys.executable, "demo/run_demo.py", "--home", str(home)],
        cwd=REPO_ROOT,  # the test's own AIRFLOW_* settings are in the environment: the demo must ignore them
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    elapsed = time.monotonic() - start
    print(f"demo wall time: {elapsed:.1f} s")
    assert demo.returncode == 0, demo.stdout[-4000:] + demo.stderr[-4000:]
    assert "matches." in demo.stdout
    assert "login admin / admin" in demo.stdout
    # Where to look comes first, before the demo's own run starts, and that run is named.
    assert demo.stdout.index("Airflow is up") < demo.stdout.index("Triggered wix_calendar_onboarding")
    assert "This demo's own run is " in demo.stdout
    assert not (home / "processes.json").exists()  # every process it started was stopped

    result = json.loads((home / "summary.json").read_text())
    assert result["state"] == "success"
    assert result["matches_emulator"] is True
    assert set(result["task_states"].values()) <= {"success", "skipped"}
    assert result["task_states"]["connect_by_credentials"] == "skipped"
    summary = result["summary"]
    # The demo names a person; the DAG found their schedule with Query Staff Members.
    assert summary["staff_member"].endswith("@example.com>")
    connection = summary["connection"]
    assert connection["status"] == "SYNCED"
    assert connection["syncConfig"]["syncToCalendar"] == {"enabled": True, "dedicatedCalendar": {}}

    # The emulator is deterministic: the same site, connected the same way, holds the same events. Rebuild
    # it here and check the demo's numbers against it, independently of the demo's own check.
    emulated = result["emulator"]
    state = EmulatorState(
        EmulatorConfig(
            seed=emulated["seed"],
            events_per_day=emulated["events_per_day"],
            all_day_every_days=emulated["all_day_every_days"],
        )
    )
    replay = state.create_connection(
        MICROSOFT_PROVIDER_ID, summary["schedule_id"], sync_config=connection["syncConfig"]
    )
    assert replay["id"] == connection["id"]
    events = list(
        state.events(
            summary["window"]["from"],
            summary["window"]["to"],
            schedule_ids=[summary["schedule_id"]],
            fieldsets=["OWN_PI"],
        )
    )
    assert summary["event_count"] == emulated["event_count"] == len(events) > 0
    assert summary["events_sample"] == events[: len(summary["events_sample"])]
    names = {c["name"] for c in state.calendars(replay["id"])}
    assert {e["calendarName"] for e in events} <= names
