"""The example DAGs finding people through Query Staff Members (emulator over HTTP, ``dag.test()``).

``wix_calendar_onboarding`` resolves a staff member's e-mail or name from its trigger form;
``wix_bulk_onboarding`` onboards the site's staff with no list kept by hand.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from airflow_provider_wix.emulator.state import GOOGLE_PROVIDER_ID
from tests.conftest import run_dag, task_states, xcom_value

pytestmark = pytest.mark.usefixtures("short_polls")


def staff_by_name(emulator: Any) -> dict[str, dict[str, Any]]:
    return {m["name"]: m for m in emulator.state.snapshot()["staff"]}


# ---------------------------------------------------------------------- the onboarding form


@pytest.mark.parametrize("field", ["name", "email"])
def test_form_resolves_a_staff_member(wix_conn, calendar_owners, field):
    maria = staff_by_name(wix_conn)["Maria Garcia"]
    who = maria["email"].upper() if field == "email" else "  maria   garcia "
    with calendar_owners({maria["scheduleId"]: "allow"}) as owners:
        dag_run = run_dag("wix_calendar_onboarding", conf={"staff_member": who, "provider": "Google", "days_ahead": 1})

    assert dag_run.state == "success", task_states(dag_run)
    summary = xcom_value(dag_run, "summary")
    assert summary["schedule_id"] == maria["scheduleId"]
    assert summary["staff_member"] == "Maria Garcia <maria.garcia@example.com>"
    assert wix_conn.state.connection(summary["connection"]["id"])["scheduleId"] == maria["scheduleId"]
    # Her landing page names her and her calendar from the flow record: the one Query Staff Members
    # (the form) and the one List Providers (resolve_provider) are the run's; the page asked Wix nothing.
    (answer,) = owners.answered.values()
    assert "<h1>Your Google calendar is connected</h1>" in answer["page"]
    assert "Thank you, Maria Garcia." in answer["page"]
    routes = [e["route"] for e in wix_conn.state.request_log()]
    assert (routes.count("query_staff_members"), routes.count("list_providers")) == (1, 1)


@pytest.mark.parametrize(
    ("conf", "message"),
    [
        ({"staff_member": "Nobody Here"}, "No staff member has the name 'Nobody Here'"),
        ({"staff_member": "nobody@example.com"}, "No staff member has the e-mail"),
        ({"staff_member": "Jane Doe"}, "2 staff members have the name 'Jane Doe'"),
        ({}, "Fill in exactly one of"),
    ],
)
def test_form_errors_come_before_any_connect_by_oauth(wix_conn, conf, message, capfd):
    requests.post(
        f"{wix_conn.url}/_emulator/staff", json={"name": "Jane Doe", "email": "jane2@example.com"}, timeout=10
    )

    dag_run = run_dag("wix_calendar_onboarding", conf={"provider": "Google", **conf})

    states = task_states(dag_run)
    assert dag_run.state == "failed"
    assert states["resolve_schedule"] == "failed"
    assert states["connect_by_oauth"] == "upstream_failed"
    out, err = capfd.readouterr()
    assert message in out + err
    assert [e["route"] for e in wix_conn.state.request_log() if e["route"] == "connect_by_oauth"] == []
    assert wix_conn.state.oauth_flows(include_decided=True) == []


# ---------------------------------------------------------------------- the bulk pipeline


def connect_everyone(emulator: Any, *, except_names: tuple[str, ...] = ()) -> None:
    for member in emulator.state.snapshot()["staff"]:
        if member["serviceProvider"] and member["name"] not in except_names:
            emulator.state.create_connection(GOOGLE_PROVIDER_ID, member["scheduleId"], status="SYNCED")


def outcomes(report: dict[str, Any]) -> dict[str, str]:
    return {row["name"]: row["outcome"] for row in report["schedules"]}


def test_next_run_invites_a_new_hire_and_skips_connected_staff(wix_conn, calendar_owners):
    connect_everyone(wix_conn)
    people = staff_by_name(wix_conn)

    with calendar_owners() as owners:
        first = run_dag("wix_bulk_onboarding")
    assert first.state == "success", task_states(first)
    providers = {name for name, m in people.items() if m["serviceProvider"]}
    assert outcomes(xcom_value(first, "report")) == dict.fromkeys(providers, "skipped")
    assert owners.answered == {}

    # Someone is hired, someone leaves: nobody edits a list.
    hired = requests.post(
        f"{wix_conn.url}/_emulator/staff", json={"name": "Noa Peretz", "email": "noa@example.com"}, timeout=10
    ).json()
    gone = people["Wei Chen"]
    assert requests.delete(f"{wix_conn.url}/_emulator/staff/{gone['id']}", timeout=10).status_code == 200

    with calendar_owners() as owners:
        second = run_dag("wix_bulk_onboarding", conf={"owner_wait_hours": 0.01})
    assert second.state == "success", task_states(second)
    report = xcom_value(second, "report")
    assert outcomes(report) == {**dict.fromkeys(providers - {"Wei Chen"}, "skipped"), "Noa Peretz": "connected"}
    (noa,) = [row for row in report["schedules"] if row["name"] == "Noa Peretz"]
    assert noa["person"] == "Noa Peretz <noa@example.com>"
    assert owners.decisions_by_schedule() == {hired["scheduleId"]: "allow"}
    assert wix_conn.state.connection(noa["connection_id"])["scheduleId"] == hired["scheduleId"]


def test_staff_without_visible_email_are_invited_and_the_report_says_where_the_link_is(wix_conn, calendar_owners):
    connect_everyone(wix_conn, except_names=("John Smith",))  # the seeded staff member with a private e-mail

    with calendar_owners() as owners:
        dag_run = run_dag(
            "wix_bulk_onboarding", conf={"owner_wait_hours": 0.01, "staff": ["john smith", "Maria Garcia"]}
        )

    assert dag_run.state == "success", task_states(dag_run)
    report = xcom_value(dag_run, "report")
    assert outcomes(report) == {"John Smith": "connected", "Maria Garcia": "skipped"}
    (john,) = [row for row in report["schedules"] if row["name"] == "John Smith"]
    assert john["owner_email"] == "" and john["person"] == "John Smith"
    assert "pass it on by hand" in john["link"] and "onboard.connect, map index 0" in john["link"]
    assert len(owners.answered) == 1


def test_staff_param_naming_nobody_fails_before_any_invitation(wix_conn):
    dag_run = run_dag("wix_bulk_onboarding", conf={"staff": ["Jane Doe", "Nobody Here"]})

    states = task_states(dag_run)
    assert dag_run.state == "failed"
    assert states["load_schedules"] == "failed"
    assert wix_conn.state.oauth_flows(include_decided=True) == []
