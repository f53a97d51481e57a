"""``wix_bulk_onboarding`` with ``dag.test()``: owners who allow, decline and never answer, side by side."""

from __future__ import annotations

import email
import json
import socketserver
import threading

import pytest

from airflow_provider_wix.emulator.state import (
    APPLE_PROVIDER_ID,
    BUSINESS_SCHEDULE_ID,
    GOOGLE_PROVIDER_ID,
    MICROSOFT_PROVIDER_ID,
)
from tests.conftest import run_dag, task_states, xcom_value

ONBOARD_TASKS = ["onboard.connect", "onboard.wait_for_owners", "onboard.configure_sync"]

pytestmark = pytest.mark.usefixtures("short_polls")


@pytest.mark.slow
def test_each_owner_gets_their_own_outcome(wix_conn, calendar_owners, tmp_path, capfd):
    from airflow_provider_wix.dashboard.sources import clear_caches

    clear_caches()  # nothing cached: an owner's landing page that asked Wix would show in the request log
    state = wix_conn.state
    allows, declines, silent, healthy, revoked = (s.id for s in state.staff_schedules()[:5])
    state.create_connection(GOOGLE_PROVIDER_ID, healthy, status="SYNCED")
    broken = state.create_connection(MICROSOFT_PROVIDER_ID, revoked, status="ERROR", error_reason="TOKEN_REVOKED")
    state.create_connection(APPLE_PROVIDER_ID, BUSINESS_SCHEDULE_ID, status="DISCONNECTED")
    entries = [
        {"schedule_id": allows, "owner_email": "ana@example.com", "provider": "Google"},
        {"schedule_id": declines, "owner_email": "ben@example.com", "provider": "Microsoft"},
        {"schedule_id": silent, "owner_email": "cy@example.com", "provider": "Microsoft", "name": "Cy Lee"},
        {"schedule_id": healthy, "owner_email": "dee@example.com", "provider": "Google"},
        {"schedule_id": revoked, "owner_email": "eve@example.com", "provider": "Microsoft"},
        {"schedule_id": BUSINESS_SCHEDULE_ID, "owner_email": "owner@example.com", "provider": "Apple"},
    ]
    schedules_file = tmp_path / "schedules.json"
    schedules_file.write_text(json.dumps(entries))

    with calendar_owners({declines: "deny", silent: "never"}) as owners:
        dag_run = run_dag(
            "wix_bulk_onboarding",
            conf={
                "schedules_file": str(schedules_file),
                "owner_wait_hours": 0.002,
                "export": "dedicated",
                "chunk_size": 3,  # two chunks: [ana, ben, cy] and [eve]
            },
        )

    states = task_states(dag_run)
    assert dag_run.state == "success", states
    out, err = capfd.readouterr()
    # Nothing pulls a missing XCom (Airflow 3 logs each as an ERROR line, which a healthy run must not have).
    assert "No answer arrived" not in out + err
    assert "XCom not found" not in out + err
    # Each chunk's wait names whom it waits for (the list's names), via which task, and the dashboard.
    assert (
        f"Waiting for 3 owner(s) (the owner of schedule {allows}, the owner of schedule {declines}, Cy Lee) "
        "to answer the authorization links issued by task onboard.connect; the wait ends at "
    ) in out + err
    assert "Follow all onboardings on the Wix calendars dashboard: http" in out + err
    report = xcom_value(dag_run, "report")
    outcomes = {row["schedule_id"]: row["outcome"] for row in report["schedules"]}
    assert outcomes == {
        allows: "connected",
        declines: "declined",
        silent: "timed_out",
        healthy: "skipped",
        revoked: "connected",
        BUSINESS_SCHEDULE_ID: "failed",
    }
    assert report["counts"] == {"connected": 2, "declined": 1, "timed_out": 1, "failed": 1, "skipped": 1}
    rows = {row["schedule_id"]: row for row in report["schedules"]}
    assert rows[revoked]["reason"].startswith("re-onboarding:")
    assert "TOKEN_REVOKED" in rows[revoked]["reason"]
    assert "ConnectByCredentialsOperator" in rows[BUSINESS_SCHEDULE_ID]["detail"]
    assert "provider keeps its own sync config" in rows[allows]["detail"]  # Google cannot update
    assert rows[revoked]["detail"] == "connected; sync config applied"

    # Only the schedules that needed an owner got a link, and only the silent one is left unanswered.
    flows = state.oauth_flows(include_decided=True)
    assert sorted(f["schedule_id"] for f in flows) == sorted([allows, declines, silent, revoked])
    assert owners.decisions_by_schedule() == {allows: "allow", declines: "deny", revoked: "allow"}

    # Wix now has what the report says: a new connection replaced the revoked one.
    assert state.connection(broken["id"])["status"] == "DISCONNECTED"
    new = state.connection(rows[revoked]["connection_id"])
    assert new["scheduleId"] == revoked
    assert new["syncConfig"]["syncToCalendar"] == {"enabled": True, "dedicatedCalendar": {}}
    assert state.connection(rows[allows]["connection_id"])["scheduleId"] == allows
    assert [c["scheduleId"] for c in state.connections() if c["status"] != "DISCONNECTED"].count(declines) == 0

    # Exactly the calls the API needs: one List Providers and one List Connections for the whole run,
    # Connect By OAuth per link, one List Connections per chunk with a connected owner (the wait's check
    # of the new connections) and Update Sync Config where the provider allows it (Microsoft; Google
    # keeps its own). No look-up is repeated.
    # The owners' landing pages name the provider (and the owner, where the list names one) from the
    # flow record, which the chunk's connect task wrote: the anonymous callback route asks Wix nothing.
    wix_calls = [r["route"] for r in state.request_log()]
    assert sorted(wix_calls) == sorted(
        ["list_providers", "list_connections"]
        + ["connect_by_oauth"] * 4
        + ["list_connections"] * 2
        + ["update_sync_config"]
    )
    pages = {a["schedule_id"]: a["page"] for a in owners.answered.values()}
    assert "<h1>Your Google calendar is connected</h1>" in pages[allows]
    assert "<h1>You declined the connection</h1>" in pages[declines]
    assert "not to share your Microsoft calendar" in pages[declines]

    # Three task instances per chunk, whatever its size; a decline or a timeout fails none of them.
    group_states = {k: v for k, v in states.items() if k.startswith("onboard.")}
    assert sorted(group_states) == sorted(f"{t}[{i}]" for t in ONBOARD_TASKS for i in (0, 1))
    assert set(group_states.values()) == {"success"}


def test_nothing_to_onboard_reads_the_variable_and_reports_skips(wix_conn, calendar_owners, monkeypatch):
    healthy = wix_conn.state.staff_schedules()[0].id
    wix_conn.state.create_connection(MICROSOFT_PROVIDER_ID, healthy, status="SYNC_IN_PROGRESS", syncing=True)
    entries = [{"schedule_id": healthy, "owner_email": "ana@example.com", "provider": "microsoft"}]
    monkeypatch.setenv("AIRFLOW_VAR_WIX_ONBOARDING_SCHEDULES", json.dumps(entries))

    with calendar_owners() as owners:
        dag_run = run_dag("wix_bulk_onboarding")

    assert dag_run.state == "success", task_states(dag_run)
    report = xcom_value(dag_run, "report")
    assert [(r["schedule_id"], r["outcome"]) for r in report["schedules"]] == [(healthy, "skipped")]
    assert owners.answered == {}
    assert wix_conn.state.oauth_flows(include_decided=True) == []


def test_a_bad_schedules_list_fails_before_any_invitation(wix_conn, tmp_path):
    schedules_file = tmp_path / "schedules.json"
    schedules_file.write_text(json.dumps([{"schedule_id": "not-a-guid", "owner_email": "x", "provider": ""}]))

    dag_run = run_dag("wix_bulk_onboarding", conf={"schedules_file": str(schedules_file)})

    states = task_states(dag_run)
    assert dag_run.state == "failed"
    assert states["load_schedules"] == "failed"
    assert states["report"] == "failed"
    assert wix_conn.state.oauth_flows(include_decided=True) == []


class SmtpSink(socketserver.ThreadingTCPServer):
    """Just enough of an SMTP server to receive what the SMTP provider sends."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self) -> None:
        self.messages: list[dict[str, object]] = []
        super().__init__(("127.0.0.1", 0), _SmtpSession)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return self.server_address[1]


class _SmtpSession(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        self.wfile.write(b"220 sink\r\n")
        message: dict[str, object] = {"to": []}
        while line := self.rfile.readline():
            command = line.decode().strip()
            verb = command[:4].upper()
            if verb == "DATA":
                self.wfile.write(b"354 go on\r\n")
                message["data"] = b"".join(iter(self.rfile.readline, b".\r\n")).decode()
                self.server.messages.append(message)  # type: ignore[attr-defined]
                message = {"to": []}
            elif verb == "RCPT":
                message["to"].append(command.split(":", 1)[1].strip(" <>"))  # type: ignore[union-attr]
            elif verb == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            self.wfile.write(b"250 ok\r\n")


def test_links_are_emailed_through_the_smtp_provider_when_a_connection_exists(monkeypatch):
    from airflow_provider_wix.version_compat import dag_bag
    from tests.conftest import EXAMPLE_DAGS

    dag = dag_bag(str(EXAMPLE_DAGS / "wix_bulk_onboarding.py")).dags["wix_bulk_onboarding"]
    (invitation,) = dag.get_task("onboard.connect").notifiers
    schedule_id = "89e20858-bfa1-462b-b813-074fb1e4d62f"
    url = "https://www.wix.com/oauth/consent/abc"

    class RunningTask:
        """The part of the task instance the invitation's template uses."""

        def xcom_pull(self, task_ids, key):
            assert task_ids == "assess_schedules"
            if key == "owner_names":
                return {schedule_id: "Ana Silva", "other": "Ben Ode"}
            assert key == "owner_emails"
            return {schedule_id: "ana@example.com", "other": "ben@example.com"}

    sink = SmtpSink()
    smtp = {
        "conn_type": "smtp",
        "host": "127.0.0.1",
        "port": sink.port,
        "extra": {"disable_tls": True, "disable_ssl": True, "from_email": "calendars@example.com"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps(smtp))
    try:
        context = {
            "oauth_url": url,
            "wix_schedule_id": schedule_id,
            "params": {"smtp_conn_id": "smtp_default", "owner_wait_hours": 48},
            "ti": RunningTask(),
        }
        invitation(context)
        invitation(context)  # the same instance serves every mapped schedule: its templates stay templates
    finally:
        sink.shutdown()
        sink.server_close()

    assert [m["to"] for m in sink.messages] == [["ana@example.com"], ["ana@example.com"]]
    mail = email.message_from_string(str(sink.messages[0]["data"]))
    assert mail["Subject"] == "Connect your calendar to Wix Bookings"
    assert mail["From"] == "calendars@example.com"
    (html,) = [p.get_payload(decode=True).decode() for p in mail.walk() if p.get_content_type() == "text/html"]
    assert f'<a href="{url}">' in html
    assert "within 48 hours" in html
    assert "{{" in invitation.to
