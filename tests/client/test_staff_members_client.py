"""``StaffMembersClient`` on the wire: the request shapes Wix's SDK sends, paging, the model, errors."""

from __future__ import annotations

import pytest

from airflow_provider_wix.client import (
    HIDDEN_EMAIL_REASON,
    ApiKeyAuth,
    ExternalCalendarsClient,
    StaffMember,
    StaffMembersClient,
    WixInvalidRequestError,
    WixNotFoundError,
    WixPermissionError,
    WixServerError,
    find_staff_member,
)
from tests.client.wix_client_support import API_KEY, FAST_RETRY, SITE_ID, Reply

QUERY = "/bookings/v1/staff-members/query"
STAFF_ID = "0954bbb2-88cd-445c-9827-44253eb8b039"

# The constructed example of the Staff Members notes: Dana on default hours, Avi on custom hours, no e-mail.
DANA = {
    "id": STAFF_ID,
    "name": "Dana Levi",
    "email": "dana@example.com",
    "resourceId": "e0936563-7fd8-4e08-9db0-a327b2cb653e",
    "serviceProvider": True,
    "default": False,
    "revision": "3",
    "createdDate": "2025-01-10T13:22:32.784Z",
    "updatedDate": "2025-02-01T14:16:11.948Z",
    "resource": {
        "id": "e0936563-7fd8-4e08-9db0-a327b2cb653e",
        "workingHoursSchedules": [{"id": "77ee564a-80d5-4b2a-9c1e-3f6a8d2e5b10", "shared": True}],
        "eventsSchedule": {"id": "a3c0f7d2-6e41-4f8b-b2d9-1c5e7a9f0b34"},
        "usesDefaultWorkingHours": True,
        "revision": "2",
    },
}
AVI = {
    "id": "1b7e2c44-5a9d-4e31-8f06-c2d4a6b8e901",
    "name": "Avi Cohen",
    "resourceId": "9d2f6a1c-3b48-4e7d-a0c5-8e1b2f4d6a70",
    "serviceProvider": True,
    "revision": "5",
    "resource": {
        "id": "9d2f6a1c-3b48-4e7d-a0c5-8e1b2f4d6a70",
        "workingHoursSchedules": [{"id": "c81e4b7a-2f93-4d06-a5e1-6b0c9d3f7e28"}],
        "eventsSchedule": {"id": "c81e4b7a-2f93-4d06-a5e1-6b0c9d3f7e28"},
        "usesDefaultWorkingHours": False,
    },
}


def page(members: list[dict], cursor: str | None) -> Reply:
    return Reply(
        200,
        {
            "staffMembers": members,
            "pagingMetadata": {
                "count": len(members),
                "cursors": {"next": cursor, "prev": None},
                "hasNext": bool(cursor),
            },
        },
    )


@pytest.fixture
def staff_client(scripted):
    with StaffMembersClient(ApiKeyAuth(API_KEY, site_id=SITE_ID), scripted.url, retry=FAST_RETRY) as client:
        yield client


def test_query_sends_fields_beside_query_on_every_page_and_only_the_cursor_later(scripted, staff_client):
    scripted.on("POST", QUERY, page([DANA], "c1"), page([AVI], None))

    staff = staff_client.query_staff_members(page_size=1)

    assert [m.name for m in staff] == ["Dana Levi", "Avi Cohen"]
    first, second = (r.json for r in scripted.requests)
    assert first == {
        "query": {
            "filter": {"serviceProvider": True},
            "sort": [{"fieldName": "createdDate", "order": "ASC"}],
            "cursorPaging": {"limit": 1},
        },
        "fields": ["RESOURCE_DETAILS"],
    }
    assert second == {"query": {"cursorPaging": {"limit": 1, "cursor": "c1"}}, "fields": ["RESOURCE_DETAILS"]}
    assert scripted.requests[0].headers["authorization"] == API_KEY
    assert scripted.requests[0].headers["wix-site-id"] == SITE_ID


@pytest.mark.parametrize(
    ("service_providers", "sent"),
    [(True, True), (False, False), (None, {"$in": [True, False]})],
)
def test_service_provider_filter_is_always_explicit(scripted, staff_client, service_providers, sent):
    scripted.on("POST", QUERY, page([], None))
    staff_client.query_staff_members(service_providers=service_providers)
    assert scripted.requests[0].json["query"]["filter"] == {"serviceProvider": sent}


def test_changed_since_filters_and_sorts_on_updated_date(scripted, staff_client):
    scripted.on("POST", QUERY, page([], None))
    staff_client.query_staff_members(
        changed_since="2025-01-01T02:00:00+02:00", emails=["dana@example.com"], names="Dana Levi", page_size=100
    )
    query = scripted.requests[0].json["query"]
    assert query == {
        "filter": {
            "serviceProvider": True,
            "email": {"$in": ["dana@example.com"]},
            "name": {"$in": ["Dana Levi"]},
            "updatedDate": {"$gte": "2025-01-01T00:00:00.000Z"},
        },
        "sort": [{"fieldName": "updatedDate", "order": "ASC"}],
        "cursorPaging": {"limit": 100},
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"page_size": 101}, "from 1 to 100"),
        ({"page_size": 0}, "from 1 to 100"),
        ({"emails": ["not-an-email"]}, "email"),
        ({"names": [""]}, "names"),
        ({"names": ["x" * 41]}, "at most 40"),
        ({"changed_since": "2025-01-01T00:00:00"}, "timezone"),
        ({"staff_member_ids": ["nope"]}, "GUID"),
    ],
)
def test_bad_arguments_fail_before_anything_is_sent(scripted, staff_client, kwargs, message):
    with pytest.raises(WixInvalidRequestError, match=message):
        staff_client.query_staff_members(**kwargs)
    with pytest.raises(WixInvalidRequestError):
        staff_client.get_staff_member("not-a-guid")
    assert scripted.requests == []


def test_get_staff_member_asks_for_resource_details(scripted, staff_client):
    scripted.on("GET", f"/bookings/v1/staff-members/{STAFF_ID}", Reply(200, {"staffMember": DANA}))
    member = staff_client.get_staff_member(STAFF_ID)
    assert member.schedule_id == "a3c0f7d2-6e41-4f8b-b2d9-1c5e7a9f0b34"
    assert scripted.requests[0].query == [("fields", "RESOURCE_DETAILS")]


def test_unknown_staff_member_is_not_found(scripted, staff_client):
    body = {"message": "not found", "details": {"applicationError": {"code": "NOT_FOUND", "description": "gone"}}}
    scripted.on("GET", f"/bookings/v1/staff-members/{STAFF_ID}", Reply(404, body))
    with pytest.raises(WixNotFoundError):
        staff_client.get_staff_member(STAFF_ID)


def test_missing_permission_names_the_staff_permission(scripted, staff_client):
    scripted.on("POST", QUERY, Reply(403, {"message": "denied", "details": {}}))
    with pytest.raises(WixPermissionError) as caught:
        staff_client.query_staff_members()
    assert "BOOKINGS.STAFF_MEMBER_READ" in str(caught.value)
    assert "Manage External Calendars" not in str(caught.value)
    assert API_KEY not in str(caught.value)


def test_settings_say_whether_emails_are_public(scripted, staff_client):
    settings = {"staffMemberSettings": {"id": SITE_ID, "contactInformation": {"publiclyAccessible": False}}}
    scripted.on("GET", "/bookings/v1/staff-member-settings", Reply(200, settings), Reply(200, settings))
    assert staff_client.get_staff_member_settings()["contactInformation"] == {"publiclyAccessible": False}
    assert staff_client.emails_publicly_accessible() is False


def test_a_repeated_cursor_fails_instead_of_looping(scripted, staff_client):
    scripted.on("POST", QUERY, page([DANA], "c1"), page([AVI], "c1"))
    with pytest.raises(WixServerError, match="repeats"):
        staff_client.query_staff_members()


def test_pages_are_fetched_lazily(scripted, staff_client):
    scripted.on("POST", QUERY, page([DANA], "c1"), page([AVI], None))
    members = staff_client.iter_staff_members()
    assert next(members).name == "Dana Levi"
    assert len(scripted.requests) == 1


def test_sharing_uses_the_calendar_clients_session(scripted):
    with ExternalCalendarsClient(ApiKeyAuth(API_KEY, site_id=SITE_ID), scripted.url) as calendars:
        staff = StaffMembersClient.sharing(calendars)
        assert staff.session is calendars.session
        assert staff.base_url == calendars.base_url
        assert repr(staff).startswith("StaffMembersClient(")


def test_model_reads_the_events_schedule_not_the_working_hours_one():
    dana, avi = StaffMember.from_wire(DANA), StaffMember.from_wire(AVI)
    assert dana.schedule_id == "a3c0f7d2-6e41-4f8b-b2d9-1c5e7a9f0b34"
    assert dana.working_hours_schedule_id == "77ee564a-80d5-4b2a-9c1e-3f6a8d2e5b10"
    assert dana.email == "dana@example.com" and dana.email_hidden_reason == ""
    assert avi.email == "" and avi.email_hidden_reason == HIDDEN_EMAIL_REASON
    assert "BOOKINGS.STAFF_MEMBER_READ_PI" in avi.email_hidden_reason
    assert "privacy" in avi.email_hidden_reason
    assert avi.label == "Avi Cohen" and dana.label == "Dana Levi <dana@example.com>"
    # Missing key, null and "" all mean "not set"; no resource means no schedule id.
    bare = StaffMember.from_wire({"id": STAFF_ID, "name": "X", "email": None})
    assert (bare.email, bare.schedule_id, bare.service_provider) == ("", "", True)
    assert StaffMember.from_dict(dana.to_dict()) == dana
    assert dana.to_dict()["email_hidden_reason"] == ""


def test_find_staff_member_by_email_or_name():
    staff = [StaffMember.from_wire(DANA), StaffMember.from_wire(AVI), StaffMember.from_wire({**AVI, "id": "x"})]
    assert find_staff_member(staff, "  DANA@example.com ").name == "Dana Levi"
    assert find_staff_member(staff[:2], "avi  cohen").id == AVI["id"]
    with pytest.raises(WixInvalidRequestError, match="2 staff members have the name 'Avi Cohen'"):
        find_staff_member(staff, "Avi Cohen")
    with pytest.raises(
        WixInvalidRequestError, match=r"No staff member has the e-mail 'avi@example\.com'.*try the name"
    ):
        find_staff_member(staff, "avi@example.com")
    with pytest.raises(WixInvalidRequestError, match="No staff member has the name 'Nobody'"):
        find_staff_member(staff, "Nobody")
