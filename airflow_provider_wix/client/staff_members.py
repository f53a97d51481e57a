"""``StaffMembersClient``: Wix Bookings Staff Members v1, to find people and their schedules.

External Calendars connects a *schedule*; people know *names and e-mails*. Query Staff Members maps
one to the other: ``resource.eventsSchedule.id`` (sent only with ``fields: ["RESOURCE_DETAILS"]``) is
the ``scheduleId`` that Connect By OAuth and List Connections use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict, cast
from urllib.parse import quote

from airflow_provider_wix.client._base import WixClientBase, cursor_pages, list_field, object_field
from airflow_provider_wix.client._http import Call
from airflow_provider_wix.client.models import StaffMember, StaffMemberSettings
from airflow_provider_wix.client.validation import (
    MAX_STAFF_PAGE_SIZE,
    format_timestamp,
    parse_timestamp,
    validate_email,
    validate_guid,
    validate_guid_list,
    validate_page_size,
    validate_text_list,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from datetime import datetime
    from typing import Unpack

__all__ = ["MAX_STAFF_PAGE_SIZE", "STAFF_PERMISSION_HINT", "StaffMembersClient", "StaffQuery"]

PREFIX = "/bookings/v1/staff-members"
SETTINGS_PATH = "/bookings/v1/staff-member-settings"
MAX_NAME_LENGTH = 40
#: ``RESOURCE_DETAILS`` adds ``resource``, and with it the events schedule id.
RESOURCE_DETAILS = "RESOURCE_DETAILS"

STAFF_PERMISSION_HINT = (
    "Staff discovery needs the BOOKINGS.STAFF_MEMBER_READ permission: give the API key or app a Bookings "
    "scope such as 'Read Bookings - Public Data' or 'Manage Bookings' (and make sure Wix Bookings is "
    "installed on the site)."
)


class StaffQuery(TypedDict, total=False):
    """Keyword arguments of Query Staff Members; see :meth:`StaffMembersClient.iter_staff_member_pages`."""

    service_providers: bool | None
    emails: Iterable[str] | str | None
    names: Iterable[str] | str | None
    staff_member_ids: Iterable[str] | str | None
    changed_since: datetime | str | None
    page_size: int


class StaffMembersClient(WixClientBase):
    """Client for Query Staff Members, Get Staff Member and Get Staff Member Settings.

    Constructor arguments and lifecycle: see :class:`~airflow_provider_wix.client._base.WixClientBase`;
    ``StaffMembersClient.sharing(calendars_client)`` reuses another client's session and token.
    """

    def iter_staff_member_pages(
        self,
        *,
        service_providers: bool | None = True,
        emails: Iterable[str] | str | None = None,
        names: Iterable[str] | str | None = None,
        staff_member_ids: Iterable[str] | str | None = None,
        changed_since: datetime | str | None = None,
        page_size: int = MAX_STAFF_PAGE_SIZE,
    ) -> Iterator[dict[str, Any]]:
        """Query Staff Members page by page (whole responses), lazily.

        ``service_providers``: ``True`` only bookable staff, ``False`` only staff who provide no
        services, ``None`` everybody. It is always sent as a filter because Wix documents a hidden
        "service providers only" default for the v1 Search and Count methods and is silent about Query.
        ``emails`` / ``names``: exact matches (Wix compares them as stored). ``changed_since``: created
        or updated at or after this aware datetime or RFC 3339 string (deletions are not visible).
        The sort is sent explicitly (Wix's docs disagree on the default): ``updatedDate`` ascending
        with ``changed_since``, ``createdDate`` ascending otherwise. Follow-up pages send only the
        cursor and limit; ``fields`` sits beside ``query`` on every page.
        """
        query_filter: dict[str, Any] = {
            "serviceProvider": {"$in": [True, False]} if service_providers is None else bool(service_providers)
        }
        wanted_emails = [validate_email(e) for e in validate_text_list(emails, "emails", 320)]
        if emails is not None:
            query_filter["email"] = {"$in": wanted_emails}
        if names is not None:
            query_filter["name"] = {"$in": validate_text_list(names, "names", MAX_NAME_LENGTH)}
        if staff_member_ids is not None:
            query_filter["id"] = {"$in": validate_guid_list(staff_member_ids, "staff_member_ids")}
        sort_field = "createdDate"
        if changed_since is not None:
            query_filter["updatedDate"] = {"$gte": format_timestamp(parse_timestamp(changed_since, "changed_since"))}
            sort_field = "updatedDate"
        limit = validate_page_size(page_size, MAX_STAFF_PAGE_SIZE)
        first = {
            "filter": query_filter,
            "sort": [{"fieldName": sort_field, "order": "ASC"}],
            "cursorPaging": {"limit": limit},
        }

        def fetch(cursor: str | None) -> dict[str, Any]:
            query = first if cursor is None else {"cursorPaging": {"limit": limit, "cursor": cursor}}
            body = {"query": query, "fields": [RESOURCE_DETAILS]}
            return self._call(
                Call(
                    "query_staff_members",
                    "POST",
                    f"{PREFIX}/query",
                    body=body,
                    permission_hint=STAFF_PERMISSION_HINT,
                )
            )

        return cursor_pages(fetch, method="query_staff_members", items_key="staffMembers")

    def iter_staff_members(self, **query: Unpack[StaffQuery]) -> Iterator[StaffMember]:
        """Staff members one by one, fetched a page at a time (arguments: :meth:`iter_staff_member_pages`)."""
        return (
            StaffMember.from_wire(item)
            for page in self.iter_staff_member_pages(**query)
            for item in list_field(page, "staffMembers", "query_staff_members")
            if isinstance(item, dict)
        )

    def query_staff_members(self, **query: Unpack[StaffQuery]) -> list[StaffMember]:
        """All matching staff members in one list (arguments: :meth:`iter_staff_member_pages`)."""
        return list(self.iter_staff_members(**query))

    def get_staff_member(self, staff_member_id: str) -> StaffMember:
        """One staff member with ``RESOURCE_DETAILS``; a deleted or unknown id raises ``WixNotFoundError``."""
        sid = validate_guid(staff_member_id, "staff_member_id")
        payload = self._call(
            Call(
                "get_staff_member",
                "GET",
                f"{PREFIX}/{quote(sid, safe='')}",
                params=[("fields", RESOURCE_DETAILS)],
                permission_hint=STAFF_PERMISSION_HINT,
            )
        )
        return StaffMember.from_wire(object_field(payload, "staffMember", "get_staff_member"))

    def get_staff_member_settings(self) -> StaffMemberSettings:
        """The site's staff settings; ``contactInformation.publiclyAccessible`` decides e-mail visibility."""
        payload = self._call(
            Call(
                "get_staff_member_settings",
                "GET",
                SETTINGS_PATH,
                permission_hint=(
                    "Reading the staff settings needs the STAFF_MEMBERS_SETTINGS.READ permission "
                    "(scope 'Manage Bookings')."
                ),
            )
        )
        return cast("StaffMemberSettings", object_field(payload, "staffMemberSettings", "get_staff_member_settings"))

    def emails_publicly_accessible(self) -> bool:
        """``True`` when the site shows staff e-mails to every caller (``publiclyAccessible``)."""
        settings = self.get_staff_member_settings()
        return (settings.get("contactInformation") or {}).get("publiclyAccessible") is True
