"""The emulated site's objects as Wix describes them: providers, schedules, connections, flows.

Plain data with their wire form (``to_json``); what Wix *does* with them is in ``wix_behaviour.py``,
how tests shape them is in ``seeding.py``.
"""

from __future__ import annotations

import copy
import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import random

__all__ = [
    "APPLE_PROVIDER_ID",
    "BUILTIN_PROVIDERS",
    "BUILTIN_PROVIDER_NAMES",
    "BUSINESS_SCHEDULE_ID",
    "CONNECTION_STATUSES",
    "EMAIL_RE",
    "ERROR_REASONS",
    "GOOGLE_PROVIDER_ID",
    "MICROSOFT_PROVIDER_ID",
    "OAUTH_DECISIONS",
    "Calendar",
    "ListEventsQuery",
    "OAuthFlow",
    "Principal",
    "Provider",
    "Schedule",
    "StoredConnection",
    "Token",
    "is_guid",
    "random_guid",
]

GOOGLE_PROVIDER_ID = "f3cfdae7-2a33-496e-a6e9-1220720b1a13"
APPLE_PROVIDER_ID = "6687b1c3-82f2-4947-a68f-9b2355f49c2d"
MICROSOFT_PROVIDER_ID = "a4989031-ec67-4939-b361-31d1e41e6aad"
BUSINESS_SCHEDULE_ID = "4e0579a5-491e-4e70-a872-d097eed6e520"

CONNECTION_STATUSES = ("UNDEFINED", "CONNECTED", "SYNC_IN_PROGRESS", "SYNCED", "DISCONNECTED", "ERROR")
ERROR_REASONS = (
    "UNDEFINED",
    "TOKEN_REVOKED",
    "EXTERNAL_CALENDAR_CREATION_FAILED",
    "EXTERNAL_CALENDAR_DELETED",
)
# What a consent decision can be; "deny" reaches the redirect URL as error=reject.
OAUTH_DECISIONS = ("allow", "deny", "unsupported", "internal")

BUILTIN_PROVIDER_NAMES = {
    "google": GOOGLE_PROVIDER_ID,
    "apple": APPLE_PROVIDER_ID,
    "microsoft": MICROSOFT_PROVIDER_ID,
}

GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def is_guid(value: object) -> bool:
    return isinstance(value, str) and bool(GUID_RE.match(value))


def random_guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


@dataclass(frozen=True)
class Provider:
    """A calendar provider and what it can do (``features``)."""

    id: str
    name: str
    calendar_type: str
    connect_methods: tuple[str, ...]
    update_sync_config: bool
    list_event_from_calendars: str
    sync_to_calendar: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "calendarType": self.calendar_type,
            "features": {
                "connectMethods": list(self.connect_methods),
                "updateSyncConfig": self.update_sync_config,
                "listEventFromCalendars": self.list_event_from_calendars,
                "syncToCalendar": self.sync_to_calendar,
            },
        }


BUILTIN_PROVIDERS = (
    Provider(
        GOOGLE_PROVIDER_ID,
        "Google Calendar",
        "GOOGLE",
        ("OAUTH",),
        False,
        "PRIMARY_CALENDAR_ONLY",
        "NOT_SUPPORTED",
    ),
    Provider(
        APPLE_PROVIDER_ID,
        "Apple Calendar",
        "I_CAL",
        ("CREDENTIALS",),
        True,
        "SPECIFIC_CALENDARS",
        "DEDICATED_CALENDAR",
    ),
    Provider(
        MICROSOFT_PROVIDER_ID,
        "Outlook or Office 365",
        "MICROSOFT",
        ("OAUTH",),
        True,
        "SPECIFIC_CALENDARS",
        "DEDICATED_CALENDAR",
    ),
)


@dataclass
class Schedule:
    """A Wix schedule (staff member's or the business's) and the Wix user who owns it."""

    id: str
    owner_id: str
    owner_name: str
    business: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ownerId": self.owner_id,
            "ownerName": self.owner_name,
            "type": "BUSINESS" if self.business else "STAFF",
        }


@dataclass(frozen=True)
class Calendar:
    """A calendar inside the connected external account."""

    id: str
    name: str
    primary: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name}


@dataclass
class StoredConnection:
    """The emulator's stored Wix connection: a schedule's link to an external account, plus the emulator's
    generation knobs (not an Airflow connection, nor the client's ``CalendarConnection`` payload)."""

    id: str
    provider_id: str
    calendar_type: str
    schedule_id: str
    user_id: str | None
    app_id: str
    external_account_email: str | None
    status: str
    calendars: list[Calendar]
    error_reason: str | None = None
    sync_config: dict[str, Any] | None = None
    events_per_day: float | None = None
    all_day_every_days: int | None = None
    # Set while a sync is running; the status advances from it on reads.
    sync_started_at: float | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "providerId": self.provider_id,
            "calendarType": self.calendar_type,
            "scheduleId": self.schedule_id,
        }
        if self.user_id:
            out["userId"] = self.user_id
        out["appId"] = self.app_id
        if self.external_account_email:
            out["externalAccountEmail"] = self.external_account_email
        out["status"] = self.status
        if self.status == "ERROR" and self.error_reason:
            out["errorReason"] = self.error_reason
        if self.sync_config:
            out["syncConfig"] = copy.deepcopy(self.sync_config)
        return out


@dataclass
class OAuthFlow:
    """One Connect By OAuth call waiting for the account owner's decision on the consent page."""

    id: str
    provider_id: str
    schedule_id: str
    redirect_url: str
    consent_url: str
    created_at: float
    expires_at: float
    status: str = "PENDING"  # PENDING -> DECIDED
    decision: str | None = None
    location: str | None = None
    connection_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "consent_url": self.consent_url,
            "provider_id": self.provider_id,
            "schedule_id": self.schedule_id,
            "redirect_url": self.redirect_url,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "status": self.status,
            "decision": self.decision,
            "location": self.location,
            "connection_id": self.connection_id,
        }


@dataclass(frozen=True)
class Principal:
    """Who made a request: ``api_key`` or ``token``; ``key`` identifies it for the rate limiter."""

    kind: str
    key: str


@dataclass(frozen=True)
class ListEventsQuery:
    """A List Events query as the emulator reads it, normalised (what a cursor carries)."""

    from_ms: int
    to_ms: int
    schedule_ids: tuple[str, ...] = ()
    user_ids: tuple[str, ...] = ()
    all_day: bool | None = None
    own_pi: bool = False
    partial_failure: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "f": self.from_ms,
            "t": self.to_ms,
            "s": list(self.schedule_ids),
            "u": list(self.user_ids),
            "a": self.all_day,
            "p": self.own_pi,
            "pf": self.partial_failure,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ListEventsQuery:
        return cls(
            from_ms=int(data["f"]),
            to_ms=int(data["t"]),
            schedule_ids=tuple(data["s"]),
            user_ids=tuple(data["u"]),
            all_day=data["a"],
            own_pi=bool(data["p"]),
            partial_failure=bool(data["pf"]),
        )


@dataclass
class Token:
    """An access token ``POST /oauth2/token`` issued."""

    token: str
    client_id: str
    instance_id: str
    issued_at: float
    expires_at: float
