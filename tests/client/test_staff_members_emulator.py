"""``StaffMembersClient`` against the bundled emulator over HTTP: paging, hidden e-mails, deletions."""

from __future__ import annotations

import pytest

from airflow_provider_wix.client import (
    ApiKeyAuth,
    ExternalCalendarsClient,
    RetryPolicy,
    StaffMembersClient,
    WixNotFoundError,
)

pytest.importorskip("airflow_provider_wix.emulator.pytest_plugin")

FAST = RetryPolicy(max_attempts=5, max_total_seconds=20, base_wait=0.01, max_wait=0.05)


@pytest.fixture
def staff(wix_emulator):
    cfg = wix_emulator.config
    with StaffMembersClient(ApiKeyAuth(cfg.api_key, site_id=cfg.site_id), wix_emulator.url, retry=FAST) as client:
        yield client


@pytest.mark.wix_emulator(schedules=260)
def test_pages_through_more_than_250_staff_lazily(wix_emulator, staff):
    members = staff.query_staff_members(service_providers=None)

    assert len(members) == 260
    assert len({m.id for m in members}) == 260
    assert {m.schedule_id for m in members} == {s.id for s in wix_emulator.state.staff_schedules()}
    assert [m.created_date for m in members] == sorted(m.created_date for m in members)
    bodies = [e["body"] for e in wix_emulator.state.request_log() if e["route"] == "query_staff_members"]
    assert len(bodies) == 3  # 100 + 100 + 60
    assert all(b["fields"] == ["RESOURCE_DETAILS"] for b in bodies)
    assert [set(b["query"]) for b in bodies] == [{"filter", "sort", "cursorPaging"}, {"cursorPaging"}, {"cursorPaging"}]
    # Service providers only (the default) leave out the one who provides no services.
    assert len(staff.query_staff_members()) == 259


def test_hidden_email_and_the_setting_that_shows_it(wix_emulator, staff):
    hidden = [m for m in staff.query_staff_members() if not m.email]
    assert len(hidden) == 1
    assert "privacy setting" in hidden[0].email_hidden_reason
    assert staff.emails_publicly_accessible() is False

    wix_emulator.state.staff.set_publicly_accessible(True)
    assert staff.emails_publicly_accessible() is True
    assert all(m.email for m in staff.query_staff_members())


def test_deleted_staff_member_disappears(wix_emulator, staff):
    before = staff.query_staff_members()
    gone = before[0]
    assert staff.get_staff_member(gone.id) == gone
    wix_emulator.state.staff.delete(gone.id)

    after = staff.query_staff_members()
    assert [m.id for m in after] == [m.id for m in before[1:]]
    with pytest.raises(WixNotFoundError):
        staff.get_staff_member(gone.id)


def test_changed_since_sees_new_and_changed_staff_only(wix_emulator, staff):
    first = staff.query_staff_members()
    cutoff = max(m.updated_date for m in first)
    assert staff.query_staff_members(changed_since=cutoff) == [max(first, key=lambda m: m.updated_date)]
    added = wix_emulator.state.staff.add({"name": "Noa Peretz", "email": "noa@example.com"})
    wix_emulator.state.advance_time(1)
    changed = wix_emulator.state.staff.change(first[0].id, {"name": "Jane Doe-Smith"})

    recent = staff.query_staff_members(changed_since=added["createdDate"])

    assert [m.name for m in recent] == ["Noa Peretz", "Jane Doe-Smith"]  # sorted by updatedDate
    assert recent[1].updated_date == changed["updatedDate"]
    assert [m.email for m in staff.query_staff_members(emails="noa@example.com")] == ["noa@example.com"]


def test_shares_the_calendar_clients_session_and_matches_its_schedules(wix_emulator):
    cfg = wix_emulator.config
    with ExternalCalendarsClient(ApiKeyAuth(cfg.api_key, site_id=cfg.site_id), wix_emulator.url) as calendars:
        staff = StaffMembersClient.sharing(calendars)
        member = staff.query_staff_members()[0]
        google = next(p for p in calendars.list_providers() if p["calendarType"] == "GOOGLE")
        assert calendars.connect_by_oauth(google["id"], member.schedule_id, "https://example.com/cb").startswith("http")
