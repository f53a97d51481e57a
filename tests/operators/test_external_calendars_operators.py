"""The External Calendars operators over real HTTP (the emulator) in real Airflow runs (``dag.test()``).

Three DAG runs cover the operators: ``wix_operators_tour`` (read, sync config, disconnect, events),
``wix_operators_credentials`` (Connect By Credentials and secrecy of the password) and
``wix_operators_bad_input`` (arguments refused before any request).
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pendulum
import pytest

from airflow_provider_wix.emulator.state import (
    APPLE_PROVIDER_ID,
    GOOGLE_PROVIDER_ID,
    MICROSOFT_PROVIDER_ID,
)
from tests.conftest import run_dag, task_states, wix_connection_json, xcom_value

pytestmark = pytest.mark.usefixtures("airflow_db")

# The tour runs with this logical date; its cron data-interval timetable gives the previous day.
TOUR_LOGICAL_DATE = pendulum.datetime(2026, 10, 6, tz="UTC")
TOUR_INTERVAL = (pendulum.datetime(2026, 10, 5, tz="UTC"), TOUR_LOGICAL_DATE)
TOUR_PAGE_SIZE = 4  # page_size of the export tasks in the DAG
EXPLICIT_WINDOW = ("2026-10-01T00:00:00Z", "2026-10-03T00:00:00Z")


def _xcoms(dag_run: Any) -> list[Any]:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(
            select(XComModel).where(XComModel.dag_id == dag_run.dag_id, XComModel.run_id == dag_run.run_id)
        ).all()
        return [(row.task_id, row.key, row.value) for row in rows]


def _rendered_fields(dag_run: Any) -> dict[str, Any]:
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(
            select(RenderedTaskInstanceFields).where(
                RenderedTaskInstanceFields.dag_id == dag_run.dag_id,
                RenderedTaskInstanceFields.run_id == dag_run.run_id,
            )
        ).all()
        return {row.task_id: row.rendered_fields for row in rows}


def _requests(log: list[dict[str, Any]], route: str) -> list[dict[str, Any]]:
    return [entry for entry in log if entry["route"] == route]


def _queries(log: list[dict[str, Any]], route: str) -> list[dict[str, list[str]]]:
    return [parse_qs(entry["query"]) for entry in _requests(log, route)]


def _read_json_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# ---------------------------------------------------------------------------------------------------
# The tour: one run, many operators. The emulator is shared by the session, so everything the
# assertions need is copied out right after the run.
# ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tour(wix_emulator_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    emulator = wix_emulator_server
    emulator.reset()
    state = emulator.state
    s_google, s_ms, s_ms_error, s_spare = (s.id for s in state.staff_schedules()[:4])
    google = state.create_connection(GOOGLE_PROVIDER_ID, s_google)
    ms = state.create_connection(MICROSOFT_PROVIDER_ID, s_ms, events_per_day=10)
    ms_error = state.create_connection(MICROSOFT_PROVIDER_ID, s_ms_error, status="ERROR", error_reason="TOKEN_REVOKED")
    spare = state.create_connection(APPLE_PROVIDER_ID, s_spare, sync_config={})  # imports nothing
    ms_calendars = state.calendars(ms["id"])
    import_ids = [ms_calendars[0]["id"], ms_calendars[1]["id"]]

    out_dir = tmp_path_factory.mktemp("tour")
    output = out_dir / "events.jsonl"
    output.write_text("stale line from an earlier run\n", encoding="utf-8")
    conf = {
        "google_connection_id": google["id"],
        "ms_connection_id": ms["id"],
        "spare_connection_id": spare["id"],
        "schedule_ids": [s_google, s_ms_error],
        "statuses": ["ERROR", "DISCONNECTED"],
        "provider": "microsoft",
        "calendar_ids": import_ids,
        "google_schedule_id": s_google,
        "from": EXPLICIT_WINDOW[0],
        "to": EXPLICIT_WINDOW[1],
        "output_path": str(output),
        "output_url": output.as_uri(),
    }
    before = {"ms": state.connection(ms["id"]), "ms_calendars": ms_calendars, "providers": state.providers()}
    state.clear_request_log()

    logs = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(logs):
        mp.setenv("AIRFLOW_CONN_WIX_DEFAULT", wix_connection_json(emulator))
        dag_run = run_dag("wix_operators_tour", conf=conf, logical_date=TOUR_LOGICAL_DATE)

    yield {
        "dag_run": dag_run,
        "logs": logs.getvalue(),
        "conf": conf,
        "ids": {"google": google["id"], "ms": ms["id"], "ms_error": ms_error["id"], "spare": spare["id"]},
        "before": before,
        "after": {c["id"]: c for c in state.connections()},
        "request_log": state.request_log(),
        "output": output,
        "expected_interval_events": list(state.events(*TOUR_INTERVAL)),
        "expected_window_events": list(
            state.events(*EXPLICIT_WINDOW, schedule_ids=[s_google], all_day=False, fieldsets=["OWN_PI"])
        ),
        "import_ids": import_ids,
    }
    emulator.reset()


def test_tour_task_states(tour):
    assert task_states(tour["dag_run"]) == {
        "list_providers": "success",
        "get_connection": "success",
        "list_connections": "success",
        "list_connections_filtered": "success",
        "list_calendars": "success",
        "update_ms": "success",
        "update_google_skip": "skipped",
        "update_google_fail": "failed",
        "update_google_unchecked": "skipped",
        "list_events": "success",
        "export_events": "success",
        "export_events_again": "success",
        "too_many_events": "failed",
        "disconnect": "success",
        "disconnect_again": "success",
        "disconnect_strict": "failed",
    }


def test_list_providers_returns_the_sites_providers(tour):
    assert xcom_value(tour["dag_run"], "list_providers") == tour["before"]["providers"]


def test_get_connection_returns_the_connection(tour):
    assert xcom_value(tour["dag_run"], "get_connection") == tour["before"]["ms"]


def test_list_connections_filters_by_templated_schedule_ids(tour):
    ids = tour["ids"]
    result = xcom_value(tour["dag_run"], "list_connections")
    assert result == [tour["after"][ids["google"]], tour["after"][ids["ms_error"]]]
    # list_connections_filtered sends no filter (statuses and providers are filtered locally)
    assert sorted(_queries(tour["request_log"], "list_connections"), key=len) == [
        {},
        {"scheduleIds": tour["conf"]["schedule_ids"]},
    ]


def test_list_connections_filters_by_status_and_provider_name(tour):
    result = xcom_value(tour["dag_run"], "list_connections_filtered")
    assert result == [tour["after"][tour["ids"]["ms_error"]]]
    assert result[0]["errorReason"] == "TOKEN_REVOKED"


def test_list_calendars_returns_the_accounts_calendars(tour):
    assert xcom_value(tour["dag_run"], "list_calendars") == tour["before"]["ms_calendars"]


def test_update_sync_config_applies_the_simple_arguments(tour):
    result = xcom_value(tour["dag_run"], "update_ms")
    stored = tour["after"][tour["ids"]["ms"]]
    assert result["id"] == stored["id"]
    assert result["syncConfig"] == stored["syncConfig"]
    assert stored["syncConfig"] == {
        "listEventFromCalendars": {
            "enabled": True,
            "calendars": {"calendars": [{"id": i} for i in sorted(tour["import_ids"])]},
        },
        "syncToCalendar": {"enabled": True, "dedicatedCalendar": {}},
    }


def test_update_sync_config_refuses_or_skips_google_without_sending_a_patch(tour):
    ids, log = tour["ids"], tour["request_log"]
    patches = [(e["path"], e["status"]) for e in log if e["method"] == "PATCH"]
    prefix = "/bookings/v2/external-calendars/connections"
    # Only update_ms and update_google_unchecked (check_provider_features=False) reach Wix.
    assert sorted(patches) == sorted(
        [(f"{prefix}/{ids['ms']}/sync-config", 200), (f"{prefix}/{ids['google']}/sync-config", 428)]
    )
    assert tour["after"][ids["google"]]["syncConfig"] == {
        "listEventFromCalendars": {"enabled": True, "primaryCalendar": {}}
    }
    # update_google_fail looked the provider up through Get Connection; the others did not.
    assert [e["path"] for e in _requests(log, "get_connection")].count(f"{prefix}/{ids['google']}") == 1
    logs = tour["logs"]
    assert "Skipping: Google Calendar does not allow changing the sync config" in logs
    assert "Sync config not applied: Google Calendar does not allow changing the sync config" in logs
    assert "skip_if_unsupported=True" in logs
    assert "Skipping: Wix update_sync_config failed: HTTP 428 NOT_SUPPORTED_BY_PROVIDER" in logs


def test_list_events_with_templated_window_returns_the_events(tour):
    result = xcom_value(tour["dag_run"], "list_events")
    assert result == tour["expected_window_events"]
    assert result and all("title" in e and e["allDay"] is False for e in result if "allDay" in e)
    first = next(q for q in _queries(tour["request_log"], "list_events") if q.get("fieldsets") == ["OWN_PI"])
    assert first["from"] == ["2026-10-01T00:00:00.000Z"]
    assert first["to"] == ["2026-10-03T00:00:00.000Z"]
    assert first["allDay"] == ["false"]
    assert first["scheduleIds"] == [tour["conf"]["google_schedule_id"]]


def test_list_events_writes_json_lines_over_several_pages(tour):
    expected = tour["expected_interval_events"]
    assert len(expected) > 2 * TOUR_PAGE_SIZE  # at least three pages
    output: Path = tour["output"]
    assert _read_json_lines(output) == expected  # the stale line is gone, nothing is doubled
    assert xcom_value(tour["dag_run"], "export_events") == {"count": len(expected), "path": str(output)}
    assert xcom_value(tour["dag_run"], "export_events_again") == {
        "count": len(expected),
        "path": output.as_uri(),
    }
    assert sorted(p.name for p in output.parent.iterdir()) == ["events.jsonl"]  # no temporary file left
    # Both exports read the run's data interval page by page.
    pages = [q for q in _queries(tour["request_log"], "list_events") if q["cursorPaging.limit"] == ["4"]]
    per_export = -(-len(expected) // TOUR_PAGE_SIZE)
    assert len(pages) == 2 * per_export >= 6
    first_pages = [q for q in pages if "from" in q]
    assert [(q["from"], q["to"]) for q in first_pages] == [
        (["2026-10-05T00:00:00.000Z"], ["2026-10-06T00:00:00.000Z"])
    ] * 2


def test_list_events_refuses_too_many_events_for_xcom(tour):
    with pytest.raises(LookupError):
        xcom_value(tour["dag_run"], "too_many_events")
    assert "More than 5 events in the window: too many to return through XCom" in tour["logs"]


def test_disconnect_twice_with_ignore_already_disconnected(tour):
    dag_run, spare = tour["dag_run"], tour["after"][tour["ids"]["spare"]]
    assert spare["status"] == "DISCONNECTED"
    assert xcom_value(dag_run, "disconnect") == spare
    assert xcom_value(dag_run, "disconnect_again") == spare
    assert "CONNECTION_ALREADY_DISCONNECTED" in tour["logs"]
    assert "Pass ignore_already_disconnected=True to accept this as done." in tour["logs"]
    disconnects = _requests(tour["request_log"], "disconnect")
    assert [e["status"] for e in disconnects] == [200, 428, 428]


# ---------------------------------------------------------------------------------------------------
# Connect By Credentials: the password comes from an Airflow connection and never shows anywhere.
# ---------------------------------------------------------------------------------------------------

APP_PASSWORD = "qzv-app-specific-7Hk2-pw"
WRONG_PASSWORD = "wrong-pw-Zt81-never-shown"


@pytest.mark.wix_emulator(credentials_email="jane.appleseed@icloud.example", credentials_password=APP_PASSWORD)
def test_connect_by_credentials_from_a_connection_keeps_the_password_secret(wix_conn, monkeypatch, capfd):
    email = wix_conn.config.credentials_email
    for conn_id, password in (("WIX_TEST_APPLE", APP_PASSWORD), ("WIX_TEST_APPLE_WRONG", WRONG_PASSWORD)):
        monkeypatch.setenv(
            f"AIRFLOW_CONN_{conn_id}",
            json.dumps({"conn_type": "generic", "login": email, "password": password}),
        )
    schedule_id = wix_conn.state.staff_schedules()[0].id

    dag_run = run_dag("wix_operators_credentials", conf={"schedule_id": schedule_id})
    out, err = capfd.readouterr()

    assert task_states(dag_run) == {
        "connect": "success",
        "connect_wrong_password": "failed",
        "get_connection": "success",
    }
    connected = xcom_value(dag_run, "connect")
    stored = wix_conn.state.connection(connected["id"])
    assert {k: connected[k] for k in ("id", "providerId", "scheduleId", "externalAccountEmail")} == {
        "id": stored["id"],
        "providerId": APPLE_PROVIDER_ID,
        "scheduleId": schedule_id,
        "externalAccountEmail": email,
    }
    assert connected["status"] == "CONNECTED"
    assert xcom_value(dag_run, "get_connection") == stored
    connects = _requests(wix_conn.state.request_log(), "connect_by_credentials")
    assert sorted(e["status"] for e in connects) == [200, 401]  # the wrong password is not retried
    assert "BAD_CREDENTIALS" in out
    assert "Check the login and password of connection 'wix_test_apple_wrong'" in out

    for secret in (APP_PASSWORD, WRONG_PASSWORD):
        assert secret not in out
        assert secret not in err
        assert all(secret not in json.dumps(value, default=str) for _, _, value in _xcoms(dag_run))
        assert secret not in json.dumps(_rendered_fields(dag_run), default=str)
    assert _rendered_fields(dag_run)["connect"]["credentials_conn_id"] == "wix_test_apple"


# ---------------------------------------------------------------------------------------------------
# Bad input: refused before any request reaches Wix.
# ---------------------------------------------------------------------------------------------------


def test_bad_input_fails_before_any_request(wix_conn, capfd):
    dag_run = run_dag("wix_operators_bad_input")
    out, _ = capfd.readouterr()

    states = task_states(dag_run)
    assert states and set(states.values()) == {"failed"}, states
    assert wix_conn.state.request_log() == []
    for message in (
        "each of schedule_ids must be a GUID like",
        "statuses has unknown value(s) ['BROKEN']",
        "connection_id must be a non-empty string without spaces",
        "from_ (2026-10-12T00:00:00.000Z) must be earlier than to (2026-10-05T00:00:00.000Z)",
        "from_ must be an RFC 3339 date-time with a timezone",
        "No time window: from_/to were not given and this run has no data interval",
        "schedule_id must be a GUID like",
        "double nesting calendars.calendars[]",
    ):
        assert message in out, message
