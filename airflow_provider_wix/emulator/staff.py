"""Bookings Staff Members v1 in the emulator: the site's people, each tied to one of its schedules.

Seeding (one staff member per staff schedule, named like the schedule's owner) and behaviour (Query
Staff Members with cursor paging, Get Staff Member, Get Staff Member Settings) live here; the HTTP
routes are in ``routes_staff_members.py``. The wire format follows Wix's generated SDK: ``id`` (never ``_id``),
``fields`` beside ``query``, follow-up pages sending only ``cursorPaging``.

What the seeded site shows, on purpose:

- every staff member has their own events schedule (``resource.eventsSchedule.id``, the id External
  Calendars connects); those at even positions use the business's default working hours and so share
  one working-hours schedule (``shared: true``), the others' working-hours schedule is their own;
- the fourth staff member (when there are four or more) is not a service provider, which v1 Query
  leaves out unless the filter names ``serviceProvider`` (Wix documents that default for Search/Count);
- the second staff member keeps their e-mail private: it is sent only while the site's staff setting
  ``contactInformation.publiclyAccessible`` is true.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_wix.emulator.errors import FieldViolation, not_found, validation_error
from airflow_provider_wix.emulator.model import BUSINESS_SCHEDULE_ID, random_guid

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from airflow_provider_wix.emulator.events import CursorCodec
    from airflow_provider_wix.emulator.state import EmulatorState

__all__ = ["StaffDirectory", "StaffMember"]

MAX_LIMIT = 100
DEFAULT_LIMIT = 100
MAX_FIELDS = 3
MAX_SORT = 10
KNOWN_FIELDS = (
    "RESOURCE_DETAILS",
    "ASSOCIATED_IDENTITY_STATUS",
    "ASSOCIATED_CONFERENCING_PROVIDERS",
    "ASSOCIATED_CONFERENCING_ACCOUNTS",
)
_ALL_OPERATORS = frozenset({"$eq", "$ne", "$in", "$nin", "$gt", "$gte", "$lt", "$lte", "$exists"})
_CONTACT_OPERATORS = frozenset({"$eq", "$ne", "$in", "$nin", "$exists"})
# Filterable fields with their operators; sortable ones are those allowing every operator.
FILTERS: dict[str, frozenset[str]] = {
    "id": _ALL_OPERATORS,
    "createdDate": _ALL_OPERATORS,
    "updatedDate": _ALL_OPERATORS,
    "resourceId": _ALL_OPERATORS,
    "serviceProvider": _ALL_OPERATORS,
    "description": _ALL_OPERATORS,
    "default": _CONTACT_OPERATORS,
    "email": _CONTACT_OPERATORS,
    "name": _CONTACT_OPERATORS,
    "phone": _CONTACT_OPERATORS,
}
SORTABLE = ("id", "createdDate", "updatedDate", "description", "resourceId", "serviceProvider")
NOT_SERVICE_PROVIDER_INDEX = 3
PRIVATE_EMAIL_INDEX = 1
_DATE_FIELDS = ("createdDate", "updatedDate")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")


def _iso(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _parse_iso_ms(value: object, where: str) -> int:
    if not isinstance(value, str) or not _ISO.match(value):
        raise validation_error(FieldViolation(where, "must be an ISO-8601 date-time string"))
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)


def _email_of(name: str) -> str:
    return ".".join(name.lower().split()) + "@example.com"


@dataclass
class StaffMember:
    """One staff member as the emulated site stores it."""

    id: str
    name: str
    email: str
    events_schedule_id: str
    resource_id: str
    created_ms: int
    updated_ms: int
    service_provider: bool = True
    uses_default_working_hours: bool = True
    email_private: bool = False
    phone: str = ""
    revision: int = 1

    def value(self, field: str) -> Any:
        """The value a filter or sort on the wire name ``field`` compares."""
        return {
            "id": self.id,
            "name": self.name,
            "email": self.email or None,
            "phone": self.phone or None,
            "resourceId": self.resource_id,
            "serviceProvider": self.service_provider,
            "createdDate": self.created_ms,
            "updatedDate": self.updated_ms,
            "description": None,
            "default": False,
        }[field]

    def to_wire(self, fields: list[str], *, contact_visible: bool, shared_hours_id: str) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "name": self.name}
        if self.email and contact_visible:
            out["email"] = self.email
        if self.phone and contact_visible:
            out["phone"] = self.phone
        out.update(
            {
                "resourceId": self.resource_id,
                "serviceProvider": self.service_provider,
                "default": False,
                "revision": str(self.revision),
                "createdDate": _iso(self.created_ms),
                "updatedDate": _iso(self.updated_ms),
            }
        )
        if "RESOURCE_DETAILS" in fields:
            hours = (
                {"id": shared_hours_id, "shared": True}
                if self.uses_default_working_hours
                else {"id": self.events_schedule_id}
            )
            out["resource"] = {
                "id": self.resource_id,
                "workingHoursSchedules": [hours],
                "eventsSchedule": {"id": self.events_schedule_id},
                "usesDefaultWorkingHours": self.uses_default_working_hours,
                "revision": "1",
            }
        return out

    def to_json(self) -> dict[str, Any]:
        """The admin view (``/_emulator/state``): everything, the private e-mail included."""
        return {
            "id": self.id,
            "name": self.name,
            "email": self.email,
            "emailPrivate": self.email_private,
            "scheduleId": self.events_schedule_id,
            "resourceId": self.resource_id,
            "serviceProvider": self.service_provider,
            "usesDefaultWorkingHours": self.uses_default_working_hours,
            "createdDate": _iso(self.created_ms),
            "updatedDate": _iso(self.updated_ms),
            "revision": str(self.revision),
        }


class StaffDirectory:
    """The site's staff members. Thread-safe; ``site`` supplies schedules, the clock and the seed."""

    def __init__(self, site: EmulatorState, cursors: CursorCodec) -> None:
        self._site = site
        self._cursors = cursors
        self._lock = threading.RLock()
        self._members: dict[str, StaffMember] = {}
        self.publicly_accessible = False

    # ------------------------------------------------------------------ seeding

    def reset(self) -> None:
        """One staff member per staff schedule, named like its owner (see the module docstring)."""
        with self._lock:
            self._members = {}
            self.publicly_accessible = False
            self._rng = random.Random(f"{self._site.config.seed}:staff")
            start = int(self._site.now() * 1000) - 86_400_000
            for n, schedule in enumerate(self._site.staff_schedules()):
                self._insert(
                    schedule.owner_name,
                    schedule.id,
                    created_ms=start + n * 1000,
                    service_provider=n != NOT_SERVICE_PROVIDER_INDEX,
                    uses_default_working_hours=n % 2 == 0,
                    email_private=n == PRIVATE_EMAIL_INDEX,
                )

    def _insert(self, name: str, schedule_id: str, *, created_ms: int | None = None, **extra: Any) -> StaffMember:
        ms = int(self._site.now() * 1000) if created_ms is None else created_ms
        email = extra.pop("email", None)
        member = StaffMember(
            id=random_guid(self._rng),
            name=name,
            email=_email_of(name) if email is None else email,
            events_schedule_id=schedule_id,
            resource_id=random_guid(self._rng),
            created_ms=ms,
            updated_ms=ms,
            **extra,
        )
        self._members[member.id] = member
        return member

    # ------------------------------------------------------------------ admin: add, change, delete

    def add(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """A new staff member (Wix creates their events schedule too, so a schedule is added here)."""
        name = str(data.get("name") or "").strip()
        if not 1 <= len(name) <= 40:
            raise ValueError("name must be 1 to 40 characters")
        unknown = set(data) - {"name", "email", "phone", "serviceProvider", "usesDefaultWorkingHours", "emailPrivate"}
        if unknown:
            raise ValueError(f"unknown staff fields: {', '.join(sorted(unknown))}")
        with self._lock:
            schedule = self._site.add_schedule(owner_name=name)
            member = self._insert(
                name,
                schedule.id,
                email=str(data["email"]).strip() if data.get("email") is not None else None,
                phone=str(data.get("phone") or ""),
                service_provider=bool(data.get("serviceProvider", True)),
                uses_default_working_hours=bool(data.get("usesDefaultWorkingHours", True)),
                email_private=bool(data.get("emailPrivate", False)),
            )
            return member.to_json()

    def change(self, staff_member_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Change name, e-mail, phone or flags; ``updatedDate`` and ``revision`` move like Wix's."""
        names = {
            "name": "name",
            "email": "email",
            "phone": "phone",
            "serviceProvider": "service_provider",
            "usesDefaultWorkingHours": "uses_default_working_hours",
            "emailPrivate": "email_private",
        }
        unknown = set(data) - set(names)
        if unknown:
            raise ValueError(f"unknown staff fields: {', '.join(sorted(unknown))}")
        with self._lock:
            member = self._member(staff_member_id)
            for key, value in data.items():
                setattr(member, names[key], value if isinstance(value, bool) else str(value or "").strip())
            member.updated_ms = max(int(self._site.now() * 1000), member.updated_ms + 1)
            member.revision += 1
            return member.to_json()

    def delete(self, staff_member_id: str) -> None:
        """Gone from every query and Get (Wix moves it to a trash bin, which the emulator does not serve)."""
        with self._lock:
            self._member(staff_member_id)
            del self._members[staff_member_id]

    def set_publicly_accessible(self, value: bool) -> None:
        with self._lock:
            self.publicly_accessible = bool(value)

    def _member(self, staff_member_id: str) -> StaffMember:
        member = self._members.get(staff_member_id)
        if member is None:
            raise not_found(f"Staff member {staff_member_id} not found")
        return member

    # ------------------------------------------------------------------ inspection

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [m.to_json() for m in self._members.values()]

    def name_for_schedule(self, schedule_id: str) -> str | None:
        """The staff member whose events schedule this is (the consent page shows who connects)."""
        with self._lock:
            return next((m.name for m in self._members.values() if m.events_schedule_id == schedule_id), None)

    # ------------------------------------------------------------------ the API

    def settings(self) -> dict[str, Any]:
        return {
            "staffMemberSettings": {
                "id": self._site.config.site_id,
                "revision": "1",
                "contactInformation": {"publiclyAccessible": self.publicly_accessible},
            }
        }

    def get(self, staff_member_id: str, fields: list[str]) -> dict[str, Any]:
        _check_fields(fields, "fields")
        with self._lock:
            return {"staffMember": self._wire(self._member(staff_member_id), fields)}

    def query(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Query Staff Members: ``{"query": CursorQuery, "fields": [...]}`` as the SDK sends it."""
        fields, query = _request_parts(body)
        limit = _limit(query)
        cursor = (query.get("cursorPaging") or {}).get("cursor")
        if cursor is not None:
            query_filter, sort, after = self._position(query, cursor)
        else:
            query_filter, sort, after = query.get("filter") or {}, query.get("sort") or [], None
        matches = _compile_filter(query_filter)
        order = _compile_sort(sort)
        with self._lock:
            rows = sorted((order(m), m) for m in self._members.values() if matches(m))
            if after is not None:
                last = _tuples(after)
                rows = [r for r in rows if r[0] > last]
            page = rows[:limit]
            has_next = len(rows) > limit
            staff = [self._wire(m, fields) for _, m in page]
        cursors: dict[str, Any] = {"next": None, "prev": None}
        if has_next:
            cursors["next"] = self._cursors.encode(
                {"kind": "staff", "filter": query_filter, "sort": sort, "after": list(page[-1][0])}
            )
        return {
            "staffMembers": staff,
            "pagingMetadata": {"count": len(staff), "cursors": cursors, "hasNext": has_next},
        }

    def _position(self, query: Mapping[str, Any], cursor: object) -> tuple[Any, Any, Any]:
        """Filter, sort and last sort key of a follow-up page, from the cursor alone."""
        if "filter" in query or "sort" in query:
            raise validation_error(
                FieldViolation("query", "a request with a cursor must not send filter or sort (the cursor has them)")
            )
        try:
            position = self._cursors.decode(str(cursor))
        except ValueError:
            raise validation_error(FieldViolation("query.cursorPaging.cursor", "invalid cursor")) from None
        if position.get("kind") != "staff":
            raise validation_error(FieldViolation("query.cursorPaging.cursor", "invalid cursor"))
        return position["filter"], position["sort"], position["after"]

    def _wire(self, member: StaffMember, fields: list[str]) -> dict[str, Any]:
        visible = self.publicly_accessible or not member.email_private
        return member.to_wire(fields, contact_visible=visible, shared_hours_id=self._shared_hours_id())

    def _shared_hours_id(self) -> str:
        return BUSINESS_SCHEDULE_ID


def _request_parts(body: Mapping[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """``fields`` and ``query`` of a request, rejecting what the SDK never sends (``query.fields``)."""
    unknown = set(body) - {"query", "fields"}
    if unknown:
        raise validation_error(
            *(FieldViolation(k, "is not a field of QueryStaffMembersRequest", "UNKNOWN") for k in sorted(unknown))
        )
    fields = body.get("fields", [])
    _check_fields(fields, "fields")
    query = body.get("query", {})
    if not isinstance(query, dict):
        raise validation_error(FieldViolation("query", "must be an object"))
    if "fields" in query:
        raise validation_error(
            FieldViolation("query.fields", "is not a field of CursorQuery; send fields beside query", "UNKNOWN")
        )
    unknown = set(query) - {"filter", "sort", "cursorPaging"}
    if unknown:
        raise validation_error(
            *(FieldViolation(f"query.{k}", "is not a field of CursorQuery", "UNKNOWN") for k in sorted(unknown))
        )
    return fields, query


def _limit(query: Mapping[str, Any]) -> int:
    paging = query.get("cursorPaging") or {}
    if not isinstance(paging, dict):
        raise validation_error(FieldViolation("query.cursorPaging", "must be an object"))
    limit = paging.get("limit", DEFAULT_LIMIT)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= MAX_LIMIT:
        raise validation_error(
            FieldViolation("query.cursorPaging.limit", f"must be at most {MAX_LIMIT}", "MAX", {"threshold": MAX_LIMIT})
        )
    return limit or DEFAULT_LIMIT


def _check_fields(fields: object, where: str) -> None:
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise validation_error(FieldViolation(where, "must be a list of RequestedFields values"))
    if len(fields) > MAX_FIELDS:
        raise validation_error(FieldViolation(where, f"must have at most {MAX_FIELDS} items", "MAX_SIZE"))
    for value in fields:
        if value not in KNOWN_FIELDS:
            raise validation_error(FieldViolation(where, f"unknown value {value!r}; use {', '.join(KNOWN_FIELDS)}"))


def _tuples(value: Any) -> Any:
    """A sort key back from its JSON form in a cursor (lists to tuples, at every depth)."""
    return tuple(_tuples(v) for v in value) if isinstance(value, (list, tuple)) else value


def _as_key(values: list[Any] | tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((v is None, v if v is not None else 0) for v in values)


def _compile_sort(sort: object) -> Callable[[StaffMember], tuple[Any, ...]]:
    if not isinstance(sort, list) or len(sort) > MAX_SORT:
        raise validation_error(FieldViolation("query.sort", f"must be a list of at most {MAX_SORT} items"))
    keys: list[tuple[str, bool]] = []
    for n, item in enumerate(sort):
        name = item.get("fieldName") if isinstance(item, dict) else None
        if name not in SORTABLE:
            raise validation_error(
                FieldViolation(
                    f"query.sort[{n}].fieldName", f"cannot sort by {name!r}; sortable: {', '.join(SORTABLE)}"
                )
            )
        order = item.get("order", "ASC")
        if order not in ("ASC", "DESC"):
            raise validation_error(FieldViolation(f"query.sort[{n}].order", "must be ASC or DESC"))
        keys.append((str(name), order == "DESC"))
    keys.append(("id", False))  # a total order, so that cursors never skip or repeat

    def key(member: StaffMember) -> tuple[Any, ...]:
        out: list[Any] = []
        for name, descending in keys:
            value = member.value(name)
            if descending and isinstance(value, (int, bool)):
                value = -int(value)
            elif descending and isinstance(value, str):
                value = tuple(-ord(c) for c in value)
            out.append(value)
        return tuple(out)

    return lambda member: _as_key(key(member))


def _compile_filter(query_filter: object) -> Callable[[StaffMember], bool]:
    """Wix's filter language for the fields and operators the staff API documents."""
    if not isinstance(query_filter, dict):
        raise validation_error(FieldViolation("query.filter", "must be an object"))
    checks: list[Callable[[StaffMember], bool]] = []
    for name, condition in query_filter.items():
        if name not in FILTERS:
            raise validation_error(FieldViolation(f"query.filter.{name}", "cannot filter on this field"))
        ops = (
            condition
            if isinstance(condition, dict) and any(k.startswith("$") for k in condition)
            else {"$eq": condition}
        )
        for op, operand in ops.items():
            if op not in FILTERS[name]:
                raise validation_error(
                    FieldViolation(
                        f"query.filter.{name}", f"{op} is not supported; use {', '.join(sorted(FILTERS[name]))}"
                    )
                )
            checks.append(_check(name, op, _operand(name, op, operand)))
    # v1 Query returns only service providers unless the caller filters on serviceProvider (inferred, as
    # Wix documents for the v1 Search and Count methods).
    if "serviceProvider" not in query_filter:
        checks.append(lambda m: m.service_provider)
    return lambda member: all(check(member) for check in checks)


def _operand(name: str, op: str, operand: Any) -> Any:
    where = f"query.filter.{name}.{op}"
    if op == "$exists":
        if not isinstance(operand, bool):
            raise validation_error(FieldViolation(where, "must be true or false"))
        return operand
    if op in ("$in", "$nin"):
        if not isinstance(operand, list):
            raise validation_error(FieldViolation(where, "must be a list"))
        return [_scalar(name, v, where) for v in operand]
    return _scalar(name, operand, where)


def _scalar(name: str, value: Any, where: str) -> Any:
    if name in _DATE_FIELDS:
        return _parse_iso_ms(value, where)
    if name == "serviceProvider" or name == "default":
        if not isinstance(value, bool):
            raise validation_error(FieldViolation(where, "must be true or false"))
        return value
    if not isinstance(value, str):
        raise validation_error(FieldViolation(where, "must be a string"))
    return value


def _check(name: str, op: str, operand: Any) -> Callable[[StaffMember], bool]:
    def check(member: StaffMember) -> bool:
        value = member.value(name)
        if op == "$exists":
            return (value is not None) == operand
        if op == "$eq":
            return bool(value == operand)
        if op == "$ne":
            return bool(value != operand)
        if op == "$in":
            return value in operand
        if op == "$nin":
            return value not in operand
        if value is None:
            return False
        return {
            "$gt": value > operand,
            "$gte": value >= operand,
            "$lt": value < operand,
            "$lte": value <= operand,
        }[op]

    return check
