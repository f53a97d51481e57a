"""The emulator's Staff Members routes, checked with raw HTTP against the recorded wire format.

The requests below are the ones Wix's generated SDK sends (``fields`` beside ``query``, an empty
first ``filter``, follow-up pages with only ``cursorPaging``, Get repeating the id as
``staffMemberId``); the answers must use ``id`` (never ``_id``) at every depth.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.emulator.conftest import violations

QUERY = "/bookings/v1/staff-members/query"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def keys_everywhere(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_everywhere(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_everywhere(v)}
    return set()


def query(wix, body: dict) -> Any:
    return wix.post(QUERY, json=body)


def test_the_sdks_requests_page_through_all_service_providers(wix, wix_emulator):
    # Exactly what @wix/auto_sdk_bookings_staff-members sent: find() then next().
    first = query(wix, {"fields": ["RESOURCE_DETAILS"], "query": {"filter": {}, "cursorPaging": {"limit": 3}}})
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["pagingMetadata"]["count"] == 3 and body["pagingMetadata"]["hasNext"] is True
    cursor = body["pagingMetadata"]["cursors"]["next"]
    second = query(wix, {"fields": ["RESOURCE_DETAILS"], "query": {"cursorPaging": {"cursor": cursor, "limit": 3}}})
    assert second.status_code == 200, second.text
    last = second.json()
    assert last["pagingMetadata"]["hasNext"] is False and last["pagingMetadata"]["cursors"]["next"] is None
    members = body["staffMembers"] + last["staffMembers"]
    # The fourth seeded staff member provides no services: v1 Query leaves them out by default.
    assert len(members) == len(wix_emulator.state.staff_schedules()) - 1
    assert all(m["serviceProvider"] for m in members)
    assert "_id" not in keys_everywhere(members)
    for member in members:
        assert GUID.match(member["id"]) and member["resourceId"] == member["resource"]["id"]
        assert GUID.match(member["resource"]["eventsSchedule"]["id"])
        assert member["revision"].isdigit()  # int64 as a string
    schedules = {s.id for s in wix_emulator.state.staff_schedules()}
    assert {m["resource"]["eventsSchedule"]["id"] for m in members} <= schedules


def test_resource_and_shared_working_hours_only_with_resource_details(wix, wix_emulator):
    everyone = {"serviceProvider": {"$in": [True, False]}}
    plain = query(wix, {"query": {"filter": everyone}}).json()["staffMembers"]
    assert plain and all("resource" not in m for m in plain)
    assert all("resourceId" in m for m in plain)  # always returned
    detailed = query(wix, {"query": {"filter": everyone}, "fields": ["RESOURCE_DETAILS"]}).json()["staffMembers"]
    assert len(detailed) == len(wix_emulator.state.staff_schedules())
    default_hours = [m["resource"] for m in detailed if m["resource"]["usesDefaultWorkingHours"]]
    custom_hours = [m["resource"] for m in detailed if not m["resource"]["usesDefaultWorkingHours"]]
    assert len(default_hours) >= 2 and custom_hours
    # Staff on default hours share one working-hours schedule, which is not their events schedule.
    assert len({r["workingHoursSchedules"][0]["id"] for r in default_hours}) == 1
    assert all(r["workingHoursSchedules"][0]["shared"] is True for r in default_hours)
    assert all(r["workingHoursSchedules"][0]["id"] != r["eventsSchedule"]["id"] for r in default_hours)
    assert all(r["workingHoursSchedules"] == [{"id": r["eventsSchedule"]["id"]}] for r in custom_hours)
    others = query(wix, {"query": {"filter": {"serviceProvider": False}}}).json()["staffMembers"]
    assert [m["serviceProvider"] for m in others] == [False]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"query": {"fields": ["RESOURCE_DETAILS"]}}, "query.fields"),  # the REST doc's cURL placement
        ({"query": {"cursorPaging": {"limit": 101}}}, "query.cursorPaging.limit"),
        ({"query": {"paging": {"limit": 10}}}, "query.paging"),  # no offset paging in this API
        ({"query": {"sort": [{"fieldName": "name", "order": "ASC"}]}}, "query.sort[0].fieldName"),
        ({"query": {"filter": {"name": {"$gt": "A"}}}}, "query.filter.name"),
        ({"query": {}, "fields": ["EVERYTHING"]}, "fields"),
        ({"query": {}, "fields": ["RESOURCE_DETAILS"] * 4}, "fields"),
        ({"query": {"filter": {"updatedDate": {"$gte": "yesterday"}}}}, "query.filter.updatedDate.$gte"),
    ],
)
def test_malformed_queries_are_rejected(wix, body, field):
    response = query(wix, body)
    assert response.status_code == 400, response.text
    assert field in [v["field"] for v in violations(response)]


def test_a_cursor_request_must_not_repeat_filter_or_sort(wix):
    first = query(wix, {"query": {"cursorPaging": {"limit": 1}}}).json()
    cursor = first["pagingMetadata"]["cursors"]["next"]
    again = query(wix, {"query": {"filter": {}, "cursorPaging": {"cursor": cursor, "limit": 1}}})
    assert again.status_code == 400
    forged = query(wix, {"query": {"cursorPaging": {"cursor": cursor[:-2] + "xx"}}})
    assert forged.status_code == 400


def test_filters_and_sorts_on_dates(wix):
    everyone = query(wix, {"query": {"sort": [{"fieldName": "createdDate", "order": "DESC"}]}}).json()
    dates = [m["createdDate"] for m in everyone["staffMembers"]]
    assert dates == sorted(dates, reverse=True)
    newest = dates[0]
    since = query(wix, {"query": {"filter": {"createdDate": {"$gte": newest}}}}).json()["staffMembers"]
    assert [m["createdDate"] for m in since] == [newest]


def test_get_staff_member_tolerates_the_sdks_duplicate_id_and_404s_when_deleted(wix, wix_emulator):
    member = query(wix, {"query": {"cursorPaging": {"limit": 1}}}).json()["staffMembers"][0]
    sid = member["id"]
    got = wix.get(f"/bookings/v1/staff-members/{sid}?staffMemberId={sid}&fields=RESOURCE_DETAILS")
    assert got.status_code == 200, got.text
    assert set(got.json()) == {"staffMember"}
    assert got.json()["staffMember"]["resource"]["eventsSchedule"]["id"]
    assert "resource" not in wix.get(f"/bookings/v1/staff-members/{sid}?staffMemberId={sid}").json()["staffMember"]
    assert wix.get("/bookings/v1/staff-members/not-a-guid").status_code == 400

    assert wix.admin("DELETE", f"/staff/{sid}").status_code == 200
    assert wix.get(f"/bookings/v1/staff-members/{sid}").status_code == 404
    remaining = query(wix, {"query": {"filter": {"serviceProvider": {"$in": [True, False]}}}}).json()["staffMembers"]
    assert sid not in [m["id"] for m in remaining]
    assert sid not in [m["id"] for m in wix_emulator.state.snapshot()["staff"]]


def test_private_email_is_hidden_until_the_setting_makes_it_public(wix):
    def email_of_second() -> dict:
        staff = query(wix, {"query": {"sort": [{"fieldName": "createdDate", "order": "ASC"}]}}).json()
        return staff["staffMembers"][1]

    settings = wix.get("/bookings/v1/staff-member-settings").json()
    assert settings["staffMemberSettings"]["contactInformation"] == {"publiclyAccessible": False}
    hidden = email_of_second()
    assert "email" not in hidden and hidden["name"]
    assert wix.admin("POST", "/staff-settings", json={"publiclyAccessible": True}).status_code == 200
    assert email_of_second()["email"].endswith("@example.com")


def test_admin_adds_changes_and_deletes_staff(wix, wix_emulator):
    added = wix.admin("POST", "/staff", json={"name": "Noa Peretz", "email": "noa@example.com"}).json()
    assert added["scheduleId"] in {s.id for s in wix_emulator.state.staff_schedules()}
    found = query(wix, {"query": {"filter": {"email": "noa@example.com"}}, "fields": ["RESOURCE_DETAILS"]}).json()
    (noa,) = found["staffMembers"]
    assert noa["resource"]["eventsSchedule"]["id"] == added["scheduleId"]

    changed = wix.admin("PATCH", f"/staff/{noa['id']}", json={"name": "Noa Levi"}).json()
    assert changed["name"] == "Noa Levi" and changed["revision"] == "2"
    since = query(wix, {"query": {"filter": {"updatedDate": {"$gte": changed["updatedDate"]}}}}).json()
    assert [m["name"] for m in since["staffMembers"]] == ["Noa Levi"]

    many = wix.admin("POST", "/staff", json={"staff": [{"name": f"Temp {n}"} for n in range(3)]}).json()
    assert len(many["staff"]) == 3
    assert wix.admin("POST", "/staff", json={"name": ""}).status_code == 400
    assert wix.admin("PATCH", f"/staff/{noa['id']}", json={"colour": "red"}).status_code == 400
    assert wix.admin("DELETE", f"/staff/{noa['id']}").status_code == 200
    assert wix.admin("DELETE", f"/staff/{noa['id']}").status_code == 404
    names = [m["name"] for m in wix.admin("GET", "/state").json()["staff"]]
    assert "Noa Levi" not in names and "Temp 2" in names


def test_staff_routes_need_credentials_and_are_logged(wix, wix_emulator):
    assert wix.post(QUERY, json={"query": {}}, auth=False).status_code == 401
    assert wix.get("/bookings/v1/staff-member-settings", auth=False).status_code == 401
    routes = [e["route"] for e in wix_emulator.state.request_log()]
    assert routes == ["query_staff_members", "get_staff_member_settings"]


def test_consent_page_names_the_staff_member(wix, wix_emulator):
    member = query(wix, {"query": {}, "fields": ["RESOURCE_DETAILS"]}).json()["staffMembers"][0]
    body = {
        "providerId": "f3cfdae7-2a33-496e-a6e9-1220720b1a13",
        "scheduleId": member["resource"]["eventsSchedule"]["id"],
        "redirectUrl": "https://airflow.example.com/cb",
    }
    oauth_url = wix.post("/bookings/v2/external-calendars/connections:connectByOAuth", json=body).json()["oauthUrl"]
    page = wix.session.get(oauth_url, timeout=10).text
    assert f'<dd id="staff-member">{member["name"]}</dd>' in page
