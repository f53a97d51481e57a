"""Typed shapes of the External Calendars v2 payloads, plus small helpers built on them.

The client returns Wix's External Calendars JSON as plain dicts (camelCase, exactly as sent); these
TypedDicts only describe them for type checkers. Every field is optional because Wix omits unset
fields. Enum values are plain strings on the wire, so the enums subclass ``str`` and compare equal to
the raw values. Staff members are the exception to plain dicts: their useful facts sit at different
depths (``resource.eventsSchedule.id``), so :class:`StaffMember` reads them once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any, Literal, TypedDict

from airflow_provider_wix.client.errors import WixInvalidRequestError

__all__ = [
    "BUSINESS_SCHEDULE_ID",
    "HIDDEN_EMAIL_REASON",
    "Calendar",
    "CalendarConnection",
    "CalendarRef",
    "CalendarType",
    "ConnectMethod",
    "ConnectionStatus",
    "ErrorReason",
    "Event",
    "EventPage",
    "Fieldset",
    "ListEventFromCalendars",
    "ListEventFromCalendarsConfig",
    "OAuthCallbackError",
    "PagingMetadata",
    "Provider",
    "ProviderFeatures",
    "StaffMember",
    "StaffMemberSettings",
    "SyncConfig",
    "SyncToCalendar",
    "SyncToCalendarConfig",
    "build_sync_config",
    "ensure_sync_supported",
    "find_provider",
    "find_staff_member",
    "find_staff_members",
    "unsupported_sync_reason",
]

#: External id of a site's business schedule, the one for company-wide sync.
BUSINESS_SCHEDULE_ID = "4e0579a5-491e-4e70-a872-d097eed6e520"


class _StrEnum(str, Enum):
    def __str__(self) -> str:
        return str(self.value)


class CalendarType(_StrEnum):
    UNDEFINED = "UNDEFINED"
    GOOGLE = "GOOGLE"
    I_CAL = "I_CAL"
    OUTLOOK = "OUTLOOK"  # deprecated by Wix, use MICROSOFT
    OFFICE_365 = "OFFICE_365"  # deprecated by Wix, use MICROSOFT
    MICROSOFT = "MICROSOFT"
    OTHER = "OTHER"


class ConnectMethod(_StrEnum):
    UNDEFINED = "UNDEFINED"
    OAUTH = "OAUTH"
    CREDENTIALS = "CREDENTIALS"


class ListEventFromCalendars(_StrEnum):
    """Provider capability for importing events into Wix."""

    UNDEFINED = "UNDEFINED"
    NOT_SUPPORTED = "NOT_SUPPORTED"
    PRIMARY_CALENDAR_ONLY = "PRIMARY_CALENDAR_ONLY"
    SPECIFIC_CALENDARS = "SPECIFIC_CALENDARS"


class SyncToCalendar(_StrEnum):
    """Provider capability for exporting Wix events."""

    UNDEFINED = "UNDEFINED"
    NOT_SUPPORTED = "NOT_SUPPORTED"
    PRIMARY_CALENDAR_ONLY = "PRIMARY_CALENDAR_ONLY"
    SPECIFIC_CALENDAR = "SPECIFIC_CALENDAR"
    DEDICATED_CALENDAR = "DEDICATED_CALENDAR"


class ConnectionStatus(_StrEnum):
    UNDEFINED = "UNDEFINED"
    CONNECTED = "CONNECTED"
    SYNC_IN_PROGRESS = "SYNC_IN_PROGRESS"
    SYNCED = "SYNCED"
    DISCONNECTED = "DISCONNECTED"
    ERROR = "ERROR"


class ErrorReason(_StrEnum):
    UNDEFINED = "UNDEFINED"
    TOKEN_REVOKED = "TOKEN_REVOKED"
    EXTERNAL_CALENDAR_CREATION_FAILED = "EXTERNAL_CALENDAR_CREATION_FAILED"
    EXTERNAL_CALENDAR_DELETED = "EXTERNAL_CALENDAR_DELETED"


class Fieldset(_StrEnum):
    """List Events fieldsets: ``NO_PI`` (default) omits calendarName, title and scheduleOwnerName."""

    NO_PI = "NO_PI"
    OWN_PI = "OWN_PI"


class OAuthCallbackError(_StrEnum):
    """Values of the ``error`` query parameter Wix appends to the OAuth redirect URL."""

    REJECT = "reject"
    UNSUPPORTED = "unsupported"
    INTERNAL = "internal"


class ProviderFeatures(TypedDict, total=False):
    connectMethods: list[str]
    updateSyncConfig: bool
    listEventFromCalendars: str
    syncToCalendar: str


class Provider(TypedDict, total=False):
    id: str
    name: str
    calendarType: str
    features: ProviderFeatures
    appDefId: str


class CalendarRef(TypedDict, total=False):
    id: str
    name: str


class CalendarList(TypedDict, total=False):
    calendars: list[CalendarRef]


class ListEventFromCalendarsConfig(TypedDict, total=False):
    """Import side of a sync config: ``enabled`` plus one of ``primaryCalendar`` / ``calendars``."""

    enabled: bool
    primaryCalendar: dict[str, Any]
    calendars: CalendarList


class SyncToCalendarConfig(TypedDict, total=False):
    """Export side of a sync config: ``enabled`` plus one of ``primaryCalendar`` / ``dedicatedCalendar``."""

    enabled: bool
    primaryCalendar: dict[str, Any]
    dedicatedCalendar: dict[str, Any]


class SyncConfig(TypedDict, total=False):
    listEventFromCalendars: ListEventFromCalendarsConfig
    syncToCalendar: SyncToCalendarConfig


class CalendarConnection(TypedDict, total=False):
    """A schedule's connection to an external calendar (Wix's ``Connection``; not an Airflow connection)."""

    id: str
    providerId: str
    calendarType: str
    scheduleId: str
    userId: str
    appId: str
    externalAccountEmail: str
    status: str
    errorReason: str
    syncConfig: SyncConfig
    syncToErrorReason: str


class Calendar(TypedDict, total=False):
    id: str
    name: str


class Event(TypedDict, total=False):
    scheduleId: str
    calendarType: str
    calendarName: str
    title: str
    start: str
    end: str
    allDay: bool
    scheduleOwnerId: str
    scheduleOwnerName: str


class Cursors(TypedDict, total=False):
    next: str


class PagingMetadata(TypedDict, total=False):
    count: int
    cursors: Cursors
    hasNext: bool


class EventPage(TypedDict, total=False):
    """One List Events response: a page of events and how to get the next one."""

    events: list[Event]
    pagingMetadata: PagingMetadata
    failedProviderIds: list[str]


# ---------------------------------------------------------------------------------------------------
# Sync config builders and capability checks
# ---------------------------------------------------------------------------------------------------

ImportFrom = Literal["primary"] | Sequence[str] | None
ExportTo = Literal["primary", "dedicated"] | None


def build_sync_config(import_from: ImportFrom = None, export_to: ExportTo = None) -> SyncConfig:
    """Build the Update Sync Config body's ``syncConfig``.

    ``import_from``: ``"primary"`` for the provider's primary calendar, a list of calendar ids (from
    List Calendars) for those calendars, ``None`` to turn importing off. ``export_to``: ``"primary"``,
    ``"dedicated"`` (a calendar Wix creates) or ``None`` to turn exporting off. Both sides are always
    sent because Wix appears to replace the whole sync config.
    """
    listing: ListEventFromCalendarsConfig
    if import_from is None:
        listing = {"enabled": False}
    elif isinstance(import_from, str):
        if import_from.strip().lower() != "primary":
            raise WixInvalidRequestError(
                f"import_from must be 'primary', a list of calendar ids or None, not {import_from!r}"
            )
        listing = {"enabled": True, "primaryCalendar": {}}
    else:
        ids = _dedupe(str(i).strip() for i in import_from)
        if not ids or any(not i for i in ids):
            raise WixInvalidRequestError(
                "import_from needs at least one non-empty calendar id (see List Calendars), or use 'primary' / None"
            )
        from airflow_provider_wix.client.validation import check_calendar_count

        check_calendar_count(len(ids), "import_from")
        listing = {"enabled": True, "calendars": {"calendars": [{"id": i} for i in ids]}}

    export: SyncToCalendarConfig
    target = export_to.strip().lower() if isinstance(export_to, str) else export_to
    if target is None:
        export = {"enabled": False}
    elif target == "primary":
        export = {"enabled": True, "primaryCalendar": {}}
    elif target == "dedicated":
        export = {"enabled": True, "dedicatedCalendar": {}}
    else:
        raise WixInvalidRequestError(f"export_to must be 'primary', 'dedicated' or None, not {export_to!r}")
    return {"listEventFromCalendars": listing, "syncToCalendar": export}


def _dedupe(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _provider_label(provider: Mapping[str, Any]) -> str:
    return str(provider.get("name") or provider.get("calendarType") or provider.get("id") or "this provider")


def unsupported_sync_reason(
    provider: Mapping[str, Any], sync_config: Mapping[str, Any], *, updating: bool = True
) -> str | None:
    """Say why ``provider`` cannot apply ``sync_config``, or return ``None`` when it can.

    Only what the provider's ``features`` explicitly exclude is reported (``NOT_SUPPORTED``,
    ``..._ONLY``, ``updateSyncConfig: false``); unknown or ``UNDEFINED`` capabilities pass, and Wix
    has the final word. ``updating=False`` skips the ``updateSyncConfig`` check.
    """
    name = _provider_label(provider)
    features = provider.get("features") or {}
    if updating and features.get("updateSyncConfig") is False:
        return (
            f"{name} does not allow changing the sync config (features.updateSyncConfig is false); "
            "its connections keep the provider's default sync settings"
        )
    listing = sync_config.get("listEventFromCalendars") or {}
    import_cap = features.get("listEventFromCalendars")
    if listing.get("enabled"):
        if import_cap == ListEventFromCalendars.NOT_SUPPORTED:
            return f"{name} cannot import events into Wix (features.listEventFromCalendars is NOT_SUPPORTED)"
        if "calendars" in listing and import_cap == ListEventFromCalendars.PRIMARY_CALENDAR_ONLY:
            return (
                f"{name} imports only from the primary calendar (features.listEventFromCalendars is "
                "PRIMARY_CALENDAR_ONLY); use import_from='primary'"
            )
    export = sync_config.get("syncToCalendar") or {}
    export_cap = features.get("syncToCalendar")
    if export.get("enabled"):
        if export_cap == SyncToCalendar.NOT_SUPPORTED:
            return f"{name} cannot export Wix events (features.syncToCalendar is NOT_SUPPORTED); use export_to=None"
        if "dedicatedCalendar" in export and export_cap == SyncToCalendar.PRIMARY_CALENDAR_ONLY:
            return (
                f"{name} exports only to the primary calendar (features.syncToCalendar is "
                "PRIMARY_CALENDAR_ONLY); use export_to='primary'"
            )
    return None


def ensure_sync_supported(
    provider: Mapping[str, Any], sync_config: Mapping[str, Any], *, updating: bool = True
) -> None:
    """Raise :class:`WixInvalidRequestError` with the reason when ``unsupported_sync_reason`` finds one."""
    reason = unsupported_sync_reason(provider, sync_config, updating=updating)
    if reason:
        raise WixInvalidRequestError(reason)


_ALIASES: dict[str, set[str]] = {
    "GOOGLE": {"google", "gmail", "google calendar"},
    "MICROSOFT": {"microsoft", "outlook", "office365", "office 365", "o365"},
    "I_CAL": {"apple", "icloud", "ical", "apple calendar"},
}
# Wix deprecated OUTLOOK and OFFICE_365 in favour of MICROSOFT; older sites may still report them.
_TYPE_FAMILY: dict[str, set[str]] = {
    "MICROSOFT": {"MICROSOFT", "OUTLOOK", "OFFICE_365"},
    "OUTLOOK": {"MICROSOFT", "OUTLOOK", "OFFICE_365"},
    "OFFICE_365": {"MICROSOFT", "OUTLOOK", "OFFICE_365"},
}


def find_provider(providers: Iterable[Provider], key: str) -> Provider:
    """Resolve a provider by id, ``calendarType`` (``GOOGLE``), name or a common alias (``google``).

    Lets DAG authors write ``provider="google"`` instead of a GUID that differs between environments.
    Raises :class:`WixInvalidRequestError` listing the available providers when nothing (or more than
    one provider) matches.
    """
    candidates = list(providers)
    wanted = str(key).strip().casefold()
    if not wanted:
        raise WixInvalidRequestError(f"A provider id, type or name is required; {_available(candidates)}")

    def types_for(word: str) -> set[str]:
        found = {t for t, names in _ALIASES.items() if word in names}
        if word.upper() in CalendarType.__members__:
            found.add(word.upper())
        return set().union(*(_TYPE_FAMILY.get(t, {t}) for t in found)) if found else set()

    wanted_types = types_for(wanted)

    def field(provider: Provider, name: str) -> str:
        return str(provider.get(name, "")).casefold()

    # From the most to the least precise; the first rule that matches decides.
    rules: list[Callable[[Provider], bool]] = [
        lambda p: field(p, "id") == wanted,
        lambda p: field(p, "name") == wanted,
        lambda p: field(p, "calendarType").upper() in wanted_types,
        lambda p: wanted in field(p, "name"),
    ]
    for rule in rules:
        matches = [p for p in candidates if rule(p)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise WixInvalidRequestError(
                f"Provider {key!r} is ambiguous: it matches {', '.join(_describe(p) for p in matches)}; "
                "use the provider id"
            )
    raise WixInvalidRequestError(f"No Wix calendar provider matches {key!r}; {_available(candidates)}")


def _describe(provider: Mapping[str, Any]) -> str:
    return f"{provider.get('name', '?')} ({provider.get('calendarType', '?')}, id {provider.get('id', '?')})"


def _available(providers: Sequence[Mapping[str, Any]]) -> str:
    if not providers:
        return "the site offers no providers"
    return "available: " + "; ".join(_describe(p) for p in providers)


# ---------------------------------------------------------------------------------------------------
# Staff members (Bookings Staff Members v1)
# ---------------------------------------------------------------------------------------------------

#: Why Wix may send a staff member without an e-mail; shown wherever a missing address matters.
HIDDEN_EMAIL_REASON = (
    "Wix sent no e-mail for this staff member: either none is set, or the site's staff privacy setting "
    "(Staff Member Settings, contact information not publicly accessible) hides it from callers without "
    "the BOOKINGS.STAFF_MEMBER_READ_PI permission"
)


class StaffMemberSettings(TypedDict, total=False):
    """Get Staff Member Settings: ``contactInformation.publiclyAccessible`` decides e-mail visibility."""

    id: str
    revision: str
    contactInformation: dict[str, Any]


def _text(value: object) -> str:
    """Wix's nullable string wrappers: a missing key, ``null`` and ``""`` all mean "not set"."""
    return value.strip() if isinstance(value, str) else ""


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True)
class StaffMember:
    """A Wix Bookings staff member, reduced to what onboarding needs.

    ``schedule_id`` is ``resource.eventsSchedule.id``: the schedule External Calendars connects
    (``workingHoursSchedules`` is the shared business schedule for staff on default hours, so it is
    not used). It is empty when the query was sent without ``RESOURCE_DETAILS``.
    ``email`` is empty when Wix hides it (see :data:`HIDDEN_EMAIL_REASON`).
    """

    id: str
    name: str
    email: str = ""
    schedule_id: str = ""
    resource_id: str = ""
    service_provider: bool = True
    uses_default_working_hours: bool | None = None
    working_hours_schedule_id: str = ""
    phone: str = ""
    created_date: str = ""
    updated_date: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_wire(cls, payload: Mapping[str, Any]) -> StaffMember:
        """Read one ``StaffMember`` object as Wix sends it (``id``, camelCase, nullable wrappers)."""
        resource = _mapping(payload.get("resource"))
        events = _mapping(resource.get("eventsSchedule"))
        hours = resource.get("workingHoursSchedules")
        first_hours = _mapping(hours[0] if isinstance(hours, list) and hours else None)
        default_hours = resource.get("usesDefaultWorkingHours")
        return cls(
            id=_text(payload.get("id")),
            name=_text(payload.get("name")),
            email=_text(payload.get("email")),
            schedule_id=_text(events.get("id")),
            resource_id=_text(payload.get("resourceId")) or _text(resource.get("id")),
            service_provider=payload.get("serviceProvider") is not False,
            uses_default_working_hours=default_hours if isinstance(default_hours, bool) else None,
            working_hours_schedule_id=_text(first_hours.get("id")),
            phone=_text(payload.get("phone")),
            created_date=_text(payload.get("createdDate")),
            updated_date=_text(payload.get("updatedDate")),
            raw=dict(payload),
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StaffMember:
        """Rebuild from :meth:`to_dict` (e.g. after an XCom round trip)."""
        known = {f for f in cls.__dataclass_fields__ if f != "raw"}
        return cls(**{k: v for k, v in data.items() if k in known})

    @property
    def email_hidden_reason(self) -> str:
        """Empty when the e-mail is known; otherwise why it is missing, in words."""
        return "" if self.email else HIDDEN_EMAIL_REASON

    @property
    def label(self) -> str:
        """How reports name the person: ``Dana Levi <dana@example.com>`` or the name alone."""
        name = self.name or f"staff member {self.id}"
        return f"{name} <{self.email}>" if self.email else name

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (XCom) form; ``email_hidden_reason`` included so readers need no client import."""
        data = asdict(self)
        del data["raw"]
        data["email_hidden_reason"] = self.email_hidden_reason
        return data


def find_staff_members(staff: Iterable[StaffMember], key: str) -> list[StaffMember]:
    """Staff whose e-mail or name equals ``key``, ignoring case and surrounding or repeated spaces.

    A key with ``@`` is compared with e-mails, anything else with names; the caller decides what zero
    or several matches mean (an error for a trigger form, "not on the site" for a bulk filter).
    """
    wanted = " ".join(str(key).split()).casefold()
    if not wanted:
        return []
    attribute = "email" if "@" in wanted else "name"
    return [m for m in staff if " ".join(getattr(m, attribute).split()).casefold() == wanted]


def find_staff_member(staff: Iterable[StaffMember], key: str) -> StaffMember:
    """The one staff member with this e-mail or name; :class:`WixInvalidRequestError` for none or several.

    The message lists what was found, so a person picking from a form knows what to type instead.
    """
    candidates = list(staff)
    matches = find_staff_members(candidates, key)
    if len(matches) == 1:
        return matches[0]
    kind = "e-mail" if "@" in str(key) else "name"
    if matches:
        raise WixInvalidRequestError(
            f"{len(matches)} staff members have the {kind} {key!r} ({', '.join(m.label for m in matches)}); "
            "use their e-mail or schedule id instead"
        )
    hint = ""
    if kind == "e-mail" and any(not m.email for m in candidates):
        hint = f" Some staff have no visible e-mail ({HIDDEN_EMAIL_REASON}); try the name."
    shown = ", ".join(m.label for m in candidates[:20]) + (" ..." if len(candidates) > 20 else "")
    raise WixInvalidRequestError(
        f"No staff member has the {kind} {key!r}; the site lists {len(candidates)}: {shown or 'nobody'}.{hint}"
    )


def _sync_shape(config: Mapping[str, Any] | None) -> tuple[str | tuple[str, ...] | None, str | None]:
    """What a sync config means, ignoring how it is spelled: (import source, export target)."""
    config = config or {}
    listing = config.get("listEventFromCalendars") or {}
    source: str | tuple[str, ...] | None = None
    if listing.get("enabled"):
        calendars = (listing.get("calendars") or {}).get("calendars")
        source = tuple(sorted(str(c.get("id")) for c in calendars)) if calendars else "primary"
    export = config.get("syncToCalendar") or {}
    target = None
    if export.get("enabled"):
        target = "dedicated" if "dedicatedCalendar" in export else "primary"
    return source, target


def same_sync_config(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    """True when two sync configs import from and export to the same places (a missing side is off)."""
    return _sync_shape(a) == _sync_shape(b)


def describe_sync_config(config: Mapping[str, Any] | None) -> str:
    """A sync config in words, e.g. "imports busy times from the primary calendar; no export"."""
    source, target = _sync_shape(config)
    if source is None:
        imports = "imports nothing into Wix"
    elif source == "primary":
        imports = "imports busy times from the primary calendar"
    else:
        imports = f"imports busy times from {len(source)} chosen calendar(s) ({', '.join(source)})"
    exports = {
        None: "does not export Wix bookings",
        "primary": "exports Wix bookings into the primary calendar",
        "dedicated": "exports Wix bookings into a separate calendar Wix created",
    }[target]
    return f"{imports}; {exports}"
