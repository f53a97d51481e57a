"""``wix_calendar_onboarding`` end to end with ``dag.test()`` against the emulator.

The owner answers the consent link over HTTP and the callback reaches the Airflow API server's plugin,
as in production; only the scheduler is replaced by ``dag.test()``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_wix.emulator.state import APPLE_PROVIDER_ID
from tests.conftest import run_dag, task_states, xcom_value

pytestmark = pytest.mark.usefixtures("short_polls")


def expected_events(emulator: Any, summary: dict[str, Any], fieldsets: tuple[str, ...] = ()) -> list[dict]:
    """What List Events gives for the summary's schedule and window, straight from the emulator."""
    window = summary["window"]
    return list(
        emulator.state.events(window["from"], window["to"], schedule_ids=[summary["schedule_id"]], fieldsets=fieldsets)
    )


@pytest.mark.wix_emulator(sync_delay=1.5)
def test_microsoft_owner_allows_and_specific_calendars_sync(wix_conn, calendar_owners):
    schedule_id = wix_conn.state.staff_schedules()[0].id
    conf = {
        "schedule_id": schedule_id,
        "provider": "Microsoft",
        "import_calendars": ["Work", "calendar"],
        "export": "dedicated",
        "days_ahead": 10,
        "include_titles": True,
    }
    with calendar_owners({schedule_id: "allow"}) as owners:
        dag_run = run_dag("wix_calendar_onboarding", conf=conf)

    assert owners.decisions_by_schedule() == {schedule_id: "allow"}
    states = task_states(dag_run)
    assert dag_run.state == "success", states
    assert states["connect_by_credentials"] == "skipped"
    assert states["update_sync_config"] == "success"

    summary = xcom_value(dag_run, "summary")
    connection = wix_conn.state.connection(summary["connection"]["id"])
    assert connection["scheduleId"] == schedule_id
    assert summary["connection"]["status"] == connection["status"] == "SYNCED"
    calendars = {c["name"]: c["id"] for c in wix_conn.state.calendars(connection["id"])}
    imported = connection["syncConfig"]["listEventFromCalendars"]["calendars"]["calendars"]
    assert [c["id"] for c in imported] == sorted([calendars["Work"], calendars["Calendar"]])
    assert connection["syncConfig"]["syncToCalendar"] == {"enabled": True, "dedicatedCalendar": {}}
    assert summary["sync_config"]["applied"] is True

    events = expected_events(wix_conn, summary, fieldsets=("OWN_PI",))
    assert len(events) > 10
    assert summary["event_count"] == len(events)
    assert summary["events_sample"] == events[:5]
    assert xcom_value(dag_run, "list_events") == events
    assert {e["calendarName"] for e in events} == {"Work", "Calendar"}


def test_google_keeps_its_sync_config_and_the_update_is_skipped(wix_conn, calendar_owners):
    schedule_id = wix_conn.state.staff_schedules()[1].id
    with calendar_owners({schedule_id: "allow"}):
        dag_run = run_dag(
            "wix_calendar_onboarding",
            conf={"schedule_id": schedule_id, "provider": "Google", "export": "primary", "days_ahead": 3},
        )

    states = task_states(dag_run)
    assert dag_run.state == "success", states
    assert states["update_sync_config"] == "skipped"
    summary = xcom_value(dag_run, "summary")
    assert summary["provider"] == "Google Calendar"
    assert summary["sync_config"]["applied"] is False
    assert "does not allow changing the sync config" in summary["sync_config"]["note"]
    events = expected_events(wix_conn, summary)
    assert summary["event_count"] == len(events) > 0
    assert xcom_value(dag_run, "list_events") == events


def test_google_summary_says_the_config_applied_when_google_keeps_what_was_asked(wix_conn, calendar_owners, caplog):
    schedule_id = wix_conn.state.staff_schedules()[1].id
    with calendar_owners({schedule_id: "allow"}):
        dag_run = run_dag(
            "wix_calendar_onboarding",
            conf={"schedule_id": schedule_id, "provider": "Google", "export": "none", "days_ahead": 2},
        )
    assert dag_run.state == "success", task_states(dag_run)
    summary = xcom_value(dag_run, "summary")
    assert summary["sync_config"] == {"requested": summary["sync_config"]["requested"], "applied": True, "note": None}
    assert "Sync: imports busy times from the primary calendar; does not export Wix bookings." in caplog.text
    assert "not applied" not in caplog.text


def test_a_malformed_schedule_id_fails_with_a_sentence_before_any_request(wix_conn, capfd):
    wix_conn.state.clear_request_log()
    dag_run = run_dag("wix_calendar_onboarding", conf={"schedule_id": "1234", "provider": "Google"})
    assert task_states(dag_run)["resolve_schedule"] == "failed"
    out, err = capfd.readouterr()
    assert "The Wix schedule id must be a GUID like 89e20858-bfa1-462b-b813-074fb1e4d62f, got '1234'" in out + err
    assert wix_conn.state.request_log() == []


def test_apple_connects_with_credentials_from_an_airflow_connection(wix_conn, monkeypatch):
    schedule_id = wix_conn.state.staff_schedules()[2].id
    credentials = {
        "conn_type": "generic",
        "login": wix_conn.config.credentials_email,
        "password": wix_conn.config.credentials_password,
    }
    monkeypatch.setenv("AIRFLOW_CONN_APPLE_OWNER", json.dumps(credentials))
    dag_run = run_dag(
        "wix_calendar_onboarding",
        conf={
            "schedule_id": schedule_id,
            "provider": "Apple",
            "import_calendars": ["Home"],
            "apple_credentials_conn_id": "apple_owner",
        },
    )

    states = task_states(dag_run)
    assert dag_run.state == "success", states
    assert states["connect_by_oauth"] == states["wait_for_callback"] == "skipped"
    summary = xcom_value(dag_run, "summary")
    connection = wix_conn.state.connection(summary["connection"]["id"])
    assert connection["providerId"] == APPLE_PROVIDER_ID
    assert summary["event_count"] == len(expected_events(wix_conn, summary)) > 0


def test_owner_declining_fails_the_run_at_the_wait(wix_conn, calendar_owners):
    schedule_id = wix_conn.state.staff_schedules()[3].id
    with calendar_owners({schedule_id: "deny"}):
        dag_run = run_dag("wix_calendar_onboarding", conf={"schedule_id": schedule_id, "provider": "Microsoft"})

    states = task_states(dag_run)
    assert dag_run.state == "failed"
    assert states["wait_for_callback"] == "failed"
    assert states["summary"] == "upstream_failed"
    assert wix_conn.state.connections() == []
