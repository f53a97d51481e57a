"""``wix_calendar_events_sync`` with ``dag.test()``: the files it writes, and that re-runs rewrite the same."""

from __future__ import annotations

import json
from pathlib import Path

import pendulum
import pytest

from airflow_provider_wix.emulator.state import GOOGLE_PROVIDER_ID, MICROSOFT_PROVIDER_ID
from tests.conftest import run_dag, task_states, xcom_value

pytestmark = pytest.mark.usefixtures("airflow_db")

LOGICAL_DATE = pendulum.datetime(2026, 11, 2, tz="UTC")


def partition_files(partition: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(partition.iterdir())}


def test_exports_the_synced_schedules_and_a_rerun_gives_identical_files(wix_conn, tmp_path):
    state = wix_conn.state
    google, microsoft, revoked, syncing = (s.id for s in state.staff_schedules()[:4])
    state.create_connection(GOOGLE_PROVIDER_ID, google, status="SYNCED")
    state.create_connection(MICROSOFT_PROVIDER_ID, microsoft, status="SYNCED", all_day_every_days=1)
    state.create_connection(MICROSOFT_PROVIDER_ID, revoked, status="ERROR", error_reason="TOKEN_REVOKED")
    state.create_connection(GOOGLE_PROVIDER_ID, syncing, status="SYNC_IN_PROGRESS")
    conf = {"base_path": tmp_path.as_uri()}

    first = run_dag("wix_calendar_events_sync", conf=conf, logical_date=LOGICAL_DATE)

    assert first.state == "success", task_states(first)
    result = xcom_value(first, "commit_partition")
    start, end = result["interval"]["start"], result["interval"]["end"]
    assert pendulum.parse(end) - pendulum.parse(start) == pendulum.duration(days=1)
    partition = tmp_path / f"date={pendulum.parse(start):%Y-%m-%d}"
    assert result["partition"].endswith(partition.name)
    expected = list(state.events(start, end, schedule_ids=[google, microsoft]))
    assert {e["scheduleId"] for e in expected} == {google, microsoft}
    lines = (partition / "part-00000.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == expected
    manifest = json.loads((partition / "_manifest.json").read_text())
    assert manifest["files"] == [{"file": "part-00000.jsonl", "count": len(expected)}]
    assert manifest["event_count"] == result["event_count"] == len(expected)
    before = partition_files(partition)
    assert sorted(before) == ["_manifest.json", "part-00000.jsonl"]

    (partition / "part-00007.jsonl").write_text('{"left": "by an earlier run"}\n')
    written = (partition / "part-00000.jsonl").stat().st_mtime_ns
    second = run_dag("wix_calendar_events_sync", conf=conf, logical_date=LOGICAL_DATE)

    assert second.state == "success", task_states(second)
    assert xcom_value(second, "commit_partition") == result
    assert task_states(second)["export_events[0]"] == "success"
    assert (partition / "part-00000.jsonl").stat().st_mtime_ns > written  # rewritten, not left alone
    assert partition_files(partition) == before
    assert [p.name for p in tmp_path.iterdir()] == [partition.name]


def test_nothing_connected_writes_an_empty_manifest(wix_conn, tmp_path):
    dag_run = run_dag("wix_calendar_events_sync", conf={"base_path": str(tmp_path)}, logical_date=LOGICAL_DATE)

    states = task_states(dag_run)
    assert dag_run.state == "success", states
    assert states["export_events"] == "skipped"
    (partition,) = tmp_path.iterdir()
    assert json.loads((partition / "_manifest.json").read_text())["files"] == []
