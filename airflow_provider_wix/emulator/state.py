"""The emulator's model: configuration, providers, schedules, connections, OAuth flows and tokens.

Everything the Wix API does lives here as plain methods that raise :class:`WixError`; ``app.py``
only turns HTTP into calls of these methods and results into HTTP. Tests can therefore seed and
inspect the state directly while the server runs in another thread: every method takes the lock.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import random
import re
import secrets
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from airflow_provider_wix.emulator.errors import (
    FieldViolation,
    WixError,
    application_error,
    not_found,
    permission_denied,
    system_error,
    unauthenticated,
    validation_error,
)
from airflow_provider_wix.emulator.events import (
    CursorCodec,
    EventJsonRenderer,
    EventStream,
    Item,
    iter_merged,
    parse_rfc3339_ms,
    render_event,
    stable_hash,
    take_page,
)
from airflow_provider_wix.emulator.faults import FaultInjector, FaultRule, RateLimiter, parse_fault_spec

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

__all__ = [
    "APPLE_PROVIDER_ID",
    "BUSINESS_SCHEDULE_ID",
    "CONNECTION_STATUSES",
    "ERROR_REASONS",
    "GOOGLE_PROVIDER_ID",
    "MICROSOFT_PROVIDER_ID",
    "OAUTH_DECISIONS",
    "Calendar",
    "Connection",
    "EmulatorConfig",
    "EmulatorState",
    "EventQuery",
    "OAuthFlow",
    "Principal",
    "Provider",
    "Schedule",
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
_OAUTH_ERRORS = {"deny": "reject", "unsupported": "unsupported", "internal": "internal"}

BUILTIN_PROVIDER_NAMES = {
    "google": GOOGLE_PROVIDER_ID,
    "apple": APPLE_PROVIDER_ID,
    "microsoft": MICROSOFT_PROVIDER_ID,
}

GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_CALENDAR_ID_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"
_OWNER_NAMES = (
    "Jane Doe",
    "John Smith",
    "Maria Garcia",
    "Wei Chen",
    "Aisha Khan",
    "Lucas Martin",
    "Sofia Rossi",
    "Noah Cohen",
    "Emma Wilson",
    "Kenji Sato",
)
# Calendars inside each provider's external account; the first is the primary one.
_ACCOUNT_CALENDARS = {
    "GOOGLE": ("Primary", "Birthdays", "Holidays"),
    "MICROSOFT": ("Calendar", "Work", "Birthdays"),
    "I_CAL": ("Home", "Work", "Birthdays"),
}
_DEFAULT_CALENDARS = ("Primary", "Work", "Home")
# The Allow decision imports from the primary calendar and leaves export off.
_OAUTH_DEFAULT_SYNC_CONFIG: dict[str, Any] = {"listEventFromCalendars": {"enabled": True, "primaryCalendar": {}}}
_SYNC_KEYS = ("listEventFromCalendars", "syncToCalendar")


def is_guid(value: object) -> bool:
    return isinstance(value, str) and bool(GUID_RE.match(value))


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def append_query(url: str, params: dict[str, str]) -> str:
    """``url`` with ``params`` added to its query; its path, existing query and fragment are kept."""
    parts = urlsplit(url)
    extra = urlencode(params)
    return urlunsplit(parts._replace(query=f"{parts.query}&{extra}" if parts.query else extra))


@dataclass
class EmulatorConfig:
    """Everything an emulator run can be told; the defaults give a ready, reproducible site."""

    seed: int = 0
    api_key: str = "emulator-api-key"
    site_id: str = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
    # App credentials for POST /oauth2/token (client_credentials).
    client_id: str = "e7c1a9d2-3b4f-4c5a-8d6e-0f1a2b3c4d5e"
    client_secret: str = "emulator-client-secret"
    instance_id: str = "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
    token_ttl: int = 14400
    # Staff schedules generated from the seed; the business schedule is always added on top.
    schedules: int = 5
    # Timed events per day in each imported calendar; plus one all-day event every N days (0 = none).
    events_per_day: float = 4.0
    all_day_every_days: int = 7
    # Seconds a new or re-configured connection takes to reach SYNCED (0 = on the next read).
    sync_delay: float = 0.0
    # The one email/password pair Connect By Credentials (Apple) accepts.
    credentials_email: str = "owner@example.com"
    credentials_password: str = "emulator-app-password"
    # What the consent page's Allow button does: allow, or fail with unsupported / internal.
    oauth_outcome: str = "allow"
    oauth_flow_ttl: float = 3600.0
    # Requests per minute per credential before 429 (0 = no limit; Wix documents 200).
    rate_limit: int = 0
    faults: list[FaultRule | str] = field(default_factory=list)
    # False: Connect By Credentials and List Calendars answer 403 PREMIUM_FEATURE_NOT_ENABLED.
    premium: bool = True
    # Base URL for the consent links when clients reach the emulator by another name than browsers.
    public_url: str | None = None
    # cursorPaging.limit when a List Events request has none (Wix does not document its default).
    default_page_size: int = 100
    request_log_limit: int = 100_000
    # Built-in providers the site offers (List Providers), by short name.
    providers: tuple[str, ...] = ("google", "apple", "microsoft")

    def __post_init__(self) -> None:
        unknown = set(self.providers) - set(BUILTIN_PROVIDER_NAMES)
        if unknown:
            raise ValueError(f"unknown providers {sorted(unknown)}; use {', '.join(BUILTIN_PROVIDER_NAMES)}")
        if self.oauth_outcome not in ("allow", "unsupported", "internal"):
            raise ValueError("oauth_outcome must be allow, unsupported or internal")
        if self.token_ttl <= 0:
            raise ValueError("token_ttl must be positive")
        if self.schedules < 0 or self.events_per_day < 0 or self.all_day_every_days < 0:
            raise ValueError("schedules, events_per_day and all_day_every_days must be >= 0")
        if self.sync_delay < 0 or self.rate_limit < 0:
            raise ValueError("sync_delay and rate_limit must be >= 0")
        for value in (self.site_id, self.client_id, self.instance_id):
            if not is_guid(value):
                raise ValueError(f"{value!r} is not a GUID")

    def fault_rules(self) -> list[FaultRule]:
        """Fresh copies of the configured faults (specs parsed, counters at zero)."""
        rules: list[FaultRule] = []
        for item in self.faults:
            rule = parse_fault_spec(item) if isinstance(item, str) else item
            rules.append(dataclasses.replace(rule, fired=0, seen=0))
        return rules


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
class Connection:
    """A schedule's link to an external account, plus the emulator's generation knobs."""

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
class EventQuery:
    """A List Events query in normalised form (what a cursor carries)."""

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
    def from_json(cls, data: dict[str, Any]) -> EventQuery:
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
class _Token:
    token: str
    client_id: str
    instance_id: str
    issued_at: float
    expires_at: float


def _to_ms(value: datetime | str | int) -> int:
    if isinstance(value, datetime):
        return parse_rfc3339_ms(value.isoformat())
    if isinstance(value, str):
        return parse_rfc3339_ms(value)
    return int(value)


class EmulatorState:
    """The whole emulated site. Thread-safe: the server thread and test code share one instance."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self._lock = threading.RLock()
        self._config = config or EmulatorConfig()
        self._cursors = CursorCodec(secrets.token_bytes(32))
        self.fault_injector = FaultInjector(self._config.seed)
        self.rate_limiter = RateLimiter()
        self.reset(config)

    # ------------------------------------------------------------------ lifecycle and clock

    @property
    def config(self) -> EmulatorConfig:
        return self._config

    def reset(self, config: EmulatorConfig | None = None) -> None:
        """Back to a fresh site (optionally with a new configuration): same seed, same schedules."""
        with self._lock:
            if config is not None:
                self._config = config
            cfg = self._config
            self._time_offset = 0.0
            wanted = {BUILTIN_PROVIDER_NAMES[name] for name in cfg.providers}
            self._providers: dict[str, Provider] = {p.id: p for p in BUILTIN_PROVIDERS if p.id in wanted}
            self._failing_providers: set[str] = set()
            self._schedules: dict[str, Schedule] = {}
            self._connections: dict[str, Connection] = {}
            self._flows: dict[str, OAuthFlow] = {}
            self._tokens: dict[str, _Token] = {}
            self._log: deque[dict[str, Any]] = deque(maxlen=cfg.request_log_limit)
            self._log_seq = 0
            self._conn_seq = 0
            rng = random.Random(f"{cfg.seed}:schedules")
            owner_rng = random.Random(f"{cfg.seed}:site-owner")
            self._add_schedule(Schedule(BUSINESS_SCHEDULE_ID, _guid(owner_rng), "Site Owner", business=True))
            for n in range(cfg.schedules):
                name = _OWNER_NAMES[n % len(_OWNER_NAMES)]
                if n >= len(_OWNER_NAMES):
                    name = f"{name} {n // len(_OWNER_NAMES) + 1}"
                self._add_schedule(Schedule(_guid(rng), _guid(rng), name))
            self.fault_injector.reset(cfg.seed, cfg.fault_rules())
            self.rate_limiter.reset(cfg.rate_limit)

    def now(self) -> float:
        """Wall-clock time plus whatever ``advance_time`` added (token expiry, sync progress)."""
        return time.time() + self._time_offset

    def advance_time(self, seconds: float) -> None:
        """Move the emulator's clock forward: expire tokens and finish syncs without sleeping."""
        with self._lock:
            self._time_offset += seconds

    # ------------------------------------------------------------------ seeding and inspection

    def providers(self) -> list[dict[str, Any]]:
        with self._lock:
            return [p.to_json() for p in self._providers.values()]

    def add_provider(self, provider: Provider) -> None:
        """Add (or replace) a provider, e.g. one installed by a calendar-integration app."""
        with self._lock:
            self._providers[provider.id] = provider

    def set_provider_failing(self, provider_id: str, failing: bool = True) -> None:
        """Make the provider's connections fail to load (List Connections/Events ``partialFailure``)."""
        with self._lock:
            self._provider(provider_id)
            if failing:
                self._failing_providers.add(provider_id)
            else:
                self._failing_providers.discard(provider_id)

    def schedules(self) -> list[Schedule]:
        with self._lock:
            return [dataclasses.replace(s) for s in self._schedules.values()]

    def schedule(self, schedule_id: str) -> Schedule:
        with self._lock:
            return dataclasses.replace(self._schedule(schedule_id))

    @property
    def business_schedule(self) -> Schedule:
        return self.schedule(BUSINESS_SCHEDULE_ID)

    def staff_schedules(self) -> list[Schedule]:
        return [s for s in self.schedules() if not s.business]

    def add_schedule(
        self,
        schedule_id: str | None = None,
        owner_id: str | None = None,
        owner_name: str | None = None,
        *,
        business: bool = False,
    ) -> Schedule:
        """Seed a schedule (random GUIDs for what is not given); an existing id is an error."""
        with self._lock:
            rng = random.Random(f"{self._config.seed}:added:{len(self._schedules)}:{schedule_id}")
            schedule = Schedule(
                schedule_id or _guid(rng),
                owner_id or _guid(rng),
                owner_name or _OWNER_NAMES[len(self._schedules) % len(_OWNER_NAMES)],
                business,
            )
            for value in (schedule.id, schedule.owner_id):
                if not is_guid(value):
                    raise ValueError(f"{value!r} is not a GUID")
            if schedule.id in self._schedules:
                raise ValueError(f"schedule {schedule.id} already exists")
            self._add_schedule(schedule)
            return dataclasses.replace(schedule)

    def _add_schedule(self, schedule: Schedule) -> None:
        self._schedules[schedule.id] = schedule

    def change_schedule_owner(self, schedule_id: str, owner_id: str, owner_name: str | None = None) -> list[str]:
        """A new owner: Wix disconnects the schedule's connections. Returns the ids disconnected."""
        if not is_guid(owner_id):
            raise ValueError(f"{owner_id!r} is not a GUID")
        with self._lock:
            schedule = self._schedule(schedule_id)
            schedule.owner_id = owner_id
            if owner_name:
                schedule.owner_name = owner_name
            disconnected = []
            for conn in self._connections.values():
                if conn.schedule_id == schedule_id and conn.status != "DISCONNECTED":
                    self._disconnect(conn)
                    disconnected.append(conn.id)
            return disconnected

    def connections(self) -> list[dict[str, Any]]:
        """Every connection in its wire form (statuses advanced to now)."""
        with self._lock:
            return [self._advanced(c).to_json() for c in self._connections.values()]

    def connection(self, connection_id: str) -> dict[str, Any]:
        with self._lock:
            return self._advanced(self._connection(connection_id)).to_json()

    def calendars(self, connection_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [c.to_json() for c in self._connection(connection_id).calendars]

    def create_connection(
        self,
        provider_id: str,
        schedule_id: str,
        *,
        status: str = "SYNCED",
        error_reason: str | None = None,
        sync_config: dict[str, Any] | None = None,
        external_account_email: str | None = None,
        events_per_day: float | None = None,
        all_day_every_days: int | None = None,
        syncing: bool = False,
    ) -> dict[str, Any]:
        """Seed a connection in any status, skipping OAuth. It stays in ``status`` unless ``syncing``.

        ``sync_config`` defaults to importing from the primary calendar (``{}`` for none).
        """
        self._check_status(status, error_reason)
        with self._lock:
            provider = self._provider(provider_id)
            schedule = self._schedule(schedule_id)
            conn = self._new_connection(
                provider,
                schedule,
                email=external_account_email,
                sync_config=copy.deepcopy(_OAUTH_DEFAULT_SYNC_CONFIG) if sync_config is None else sync_config,
                status=status,
            )
            conn.error_reason = error_reason
            conn.events_per_day = events_per_day
            conn.all_day_every_days = all_day_every_days
            if not syncing:
                conn.sync_started_at = None
            return conn.to_json()

    def set_connection_status(self, connection_id: str, status: str, error_reason: str | None = None) -> dict[str, Any]:
        """Put a connection in a status (e.g. ERROR + TOKEN_REVOKED); stops any running sync."""
        self._check_status(status, error_reason)
        with self._lock:
            conn = self._connection(connection_id)
            conn.status = status
            conn.error_reason = error_reason if status == "ERROR" else None
            conn.sync_started_at = None
            return conn.to_json()

    def complete_sync(self, connection_id: str) -> dict[str, Any]:
        """Finish the connection's sync now: status SYNCED."""
        return self.set_connection_status(connection_id, "SYNCED")

    @staticmethod
    def _check_status(status: str, error_reason: str | None) -> None:
        if status not in CONNECTION_STATUSES:
            raise ValueError(f"unknown status {status!r}; use one of {', '.join(CONNECTION_STATUSES)}")
        if error_reason is not None and error_reason not in ERROR_REASONS:
            raise ValueError(f"unknown error reason {error_reason!r}; use one of {', '.join(ERROR_REASONS)}")

    def snapshot(self) -> dict[str, Any]:
        """What ``GET /_emulator/state`` shows: config (minus secrets' values), site objects, counters."""
        with self._lock:
            cfg = self._config
            return {
                "config": {
                    "seed": cfg.seed,
                    "site_id": cfg.site_id,
                    "client_id": cfg.client_id,
                    "instance_id": cfg.instance_id,
                    "token_ttl": cfg.token_ttl,
                    "sync_delay": cfg.sync_delay,
                    "events_per_day": cfg.events_per_day,
                    "all_day_every_days": cfg.all_day_every_days,
                    "oauth_outcome": cfg.oauth_outcome,
                    "rate_limit": self.rate_limiter.per_minute,
                    "premium": cfg.premium,
                },
                "providers": [p.to_json() for p in self._providers.values()],
                "failing_provider_ids": sorted(self._failing_providers),
                "schedules": [s.to_json() for s in self._schedules.values()],
                "connections": [self._advanced(c).to_json() for c in self._connections.values()],
                "calendars": {c.id: [cal.to_json() for cal in c.calendars] for c in self._connections.values()},
                "oauth_flows": [f.to_json() for f in self._flows.values()],
                "tokens_issued": len(self._tokens),
                "faults": [r.to_json() for r in self.fault_injector.rules()],
                "time_offset": self._time_offset,
            }

    # ------------------------------------------------------------------ faults, rate limit, request log

    def set_faults(self, rules: Sequence[FaultRule | str], *, replace: bool = True) -> None:
        """Install fault rules (objects or spec strings); ``replace=False`` appends."""
        parsed = [parse_fault_spec(r) if isinstance(r, str) else r for r in rules]
        self.fault_injector.add(parsed, replace=replace)

    def clear_faults(self) -> None:
        self.fault_injector.clear()

    def set_rate_limit(self, per_minute: int) -> None:
        self.rate_limiter.reset(per_minute)

    def record_request(self, entry: dict[str, Any]) -> None:
        """Append an (already redacted) request to the log; the middleware calls it."""
        with self._lock:
            self._log_seq += 1
            self._log.append({"seq": self._log_seq, **entry})

    def request_log(self) -> list[dict[str, Any]]:
        """Copies of the logged Wix API requests, oldest first (admin and consent pages excluded)."""
        with self._lock:
            return [copy.deepcopy(e) for e in self._log]

    def clear_request_log(self) -> None:
        with self._lock:
            self._log.clear()

    # ------------------------------------------------------------------ auth

    def authenticate(self, authorization: str | None, site_id: str | None, account_id: str | None) -> Principal:
        """Check a request's credentials like Wix: an API key with ``wix-site-id``, or an access token."""
        credential = (authorization or "").strip()
        if credential[:7].lower() == "bearer ":
            credential = credential[7:].strip()
        if not credential:
            raise unauthenticated("Missing Authorization header")
        with self._lock:
            cfg = self._config
            if secrets.compare_digest(credential, cfg.api_key):
                if not site_id:
                    detail = " (wix-account-id is for account-level APIs)" if account_id else ""
                    raise permission_denied(
                        "This is a site-level API: calls with an API key need a wix-site-id header" + detail
                    )
                if site_id.strip() != cfg.site_id:
                    raise permission_denied(f"The API key has no access to site {site_id.strip()}")
                return Principal("api_key", credential)
            token = self._tokens.get(credential)
            if token is None:
                raise unauthenticated("Invalid API key or access token")
            if self.now() >= token.expires_at:
                raise unauthenticated("Access token expired")
            return Principal("token", credential)

    def issue_token(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /oauth2/token`` with ``grant_type=client_credentials``."""
        violations = [
            FieldViolation(name, "is required", "REQUIRED_FIELD")
            for name in ("grant_type", "client_id", "client_secret", "instance_id")
            if not isinstance(body.get(name), str) or not body.get(name)
        ]
        if violations:
            raise validation_error(*violations)
        if body["grant_type"] != "client_credentials":
            raise validation_error(FieldViolation("grant_type", "must be client_credentials", "INVALID_ENUM_VALUE"))
        with self._lock:
            cfg = self._config
            if body["client_id"] != cfg.client_id or not secrets.compare_digest(
                str(body["client_secret"]), cfg.client_secret
            ):
                raise unauthenticated("Invalid client credentials")
            if body["instance_id"] != cfg.instance_id:
                raise permission_denied("The app is not installed on this instance")
            now = self.now()
            token = _Token(
                "OauthNG.JWS." + secrets.token_urlsafe(48),
                cfg.client_id,
                cfg.instance_id,
                now,
                now + cfg.token_ttl,
            )
            self._tokens[token.token] = token
            return {"access_token": token.token, "token_type": "Bearer", "expires_in": int(cfg.token_ttl)}

    def issued_tokens(self) -> list[dict[str, Any]]:
        """Tokens issued so far (for tests counting token requests), without the token values."""
        with self._lock:
            return [
                {
                    "client_id": t.client_id,
                    "instance_id": t.instance_id,
                    "issued_at": t.issued_at,
                    "expires_at": t.expires_at,
                }
                for t in self._tokens.values()
            ]

    # ------------------------------------------------------------------ the nine Wix methods

    def list_providers(self) -> dict[str, Any]:
        return {"providers": self.providers()}

    def get_connection(self, connection_id: str) -> dict[str, Any]:
        return {"connection": self.connection(connection_id)}

    def list_connections(self, schedule_ids: Sequence[str] = (), partial_failure: bool = False) -> dict[str, Any]:
        with self._lock:
            wanted = set(schedule_ids)
            conns = [c for c in self._connections.values() if not wanted or c.schedule_id in wanted]
            failed = sorted({c.provider_id for c in conns if c.provider_id in self._failing_providers})
            if failed and not partial_failure:
                raise system_error(500)
            out: dict[str, Any] = {
                "connections": [
                    self._advanced(c).to_json() for c in conns if c.provider_id not in self._failing_providers
                ]
            }
            if failed:
                out["failedProviderIds"] = failed
            return out

    def connect_by_oauth(self, provider_id: str, schedule_id: str, redirect_url: str, base_url: str) -> dict[str, Any]:
        """Start a consent flow; the connection only exists once the owner allows it."""
        with self._lock:
            provider = self._provider(provider_id)
            self._schedule(schedule_id)
            if "OAUTH" not in provider.connect_methods:
                raise application_error(
                    428,
                    "NOT_SUPPORTED_BY_PROVIDER",
                    f"{provider.name} does not support connecting by OAuth; use Connect By Credentials",
                )
            flow_id = secrets.token_urlsafe(24)
            base = (self._config.public_url or base_url).rstrip("/")
            now = self.now()
            flow = OAuthFlow(
                id=flow_id,
                provider_id=provider_id,
                schedule_id=schedule_id,
                redirect_url=redirect_url,
                consent_url=f"{base}/oauth/consent/{flow_id}",
                created_at=now,
                expires_at=now + self._config.oauth_flow_ttl,
            )
            self._flows[flow_id] = flow
            return {"oauthUrl": flow.consent_url}

    def connect_by_credentials(self, provider_id: str, schedule_id: str, email: str, password: str) -> dict[str, Any]:
        with self._lock:
            cfg = self._config
            provider = self._provider(provider_id)
            schedule = self._schedule(schedule_id)
            if not cfg.premium:
                raise self._premium_error()
            if "CREDENTIALS" not in provider.connect_methods:
                raise application_error(
                    428,
                    "NOT_SUPPORTED_BY_PROVIDER",
                    f"{provider.name} does not support connecting with credentials; use Connect By OAuth",
                )
            if email.lower() != cfg.credentials_email.lower() or not secrets.compare_digest(
                password, cfg.credentials_password
            ):
                raise application_error(401, "BAD_CREDENTIALS", "Bad credentials")
            conn = self._new_connection(provider, schedule, email=email, sync_config=None, status="CONNECTED")
            return {"connection": conn.to_json()}

    def list_calendars(self, connection_id: str) -> dict[str, Any]:
        with self._lock:
            conn = self._advanced(self._connection(connection_id))
            if not self._config.premium:
                raise self._premium_error()
            if conn.status in ("DISCONNECTED", "ERROR", "UNDEFINED"):
                raise application_error(
                    428, "CONNECTION_NOT_CONNECTED", f"Connection is not connected (status {conn.status})"
                )
            provider = self._provider(conn.provider_id)
            if provider.list_event_from_calendars == "NOT_SUPPORTED":
                raise application_error(
                    428, "NOT_SUPPORTED_BY_PROVIDER", f"{provider.name} does not support listing calendars"
                )
            return {"calendars": [c.to_json() for c in conn.calendars]}

    def update_sync_config(self, connection_id: str, sync_config: Any, field_mask: Any = None) -> dict[str, Any]:
        """Replace the sync config (or only the ``fieldMask`` parts) after checking provider features."""
        with self._lock:
            conn = self._advanced(self._connection(connection_id))
            provider = self._provider(conn.provider_id)
            if not provider.update_sync_config:
                raise application_error(
                    428,
                    "NOT_SUPPORTED_BY_PROVIDER",
                    f"{provider.name} does not support updating the sync config",
                )
            if conn.status == "DISCONNECTED":
                raise application_error(428, "CONNECTION_NOT_CONNECTED", "Connection is disconnected")
            new = self._validate_sync_config(conn, provider, sync_config)
            paths = self._field_mask_paths(field_mask)
            if paths is None:
                merged = new
            else:
                merged = copy.deepcopy(conn.sync_config or {})
                for key in paths:
                    if key in new:
                        merged[key] = new[key]
                    else:
                        merged.pop(key, None)
            conn.sync_config = merged or None
            if conn.status in ("CONNECTED", "SYNC_IN_PROGRESS", "SYNCED"):
                conn.status = "SYNC_IN_PROGRESS"
                conn.sync_started_at = self.now()
            return {"connection": conn.to_json()}

    def disconnect(self, connection_id: str) -> dict[str, Any]:
        with self._lock:
            conn = self._advanced(self._connection(connection_id))
            if conn.status == "DISCONNECTED":
                raise application_error(428, "CONNECTION_ALREADY_DISCONNECTED", "Connection is already disconnected")
            self._disconnect(conn)
            return {"connection": conn.to_json()}

    def list_events_page(
        self, query: EventQuery | None = None, *, cursor: str | None = None, limit: int | None = None
    ) -> dict[str, Any]:
        """One page of List Events. With ``cursor`` the query comes from it; ``limit`` may change."""
        query, streams, items, tail = self._events_page(query, cursor, limit)
        events = [render_event(streams[it[5]], it[0], it[3], it[4], query.own_pi) for it in items]
        return {"events": events, **tail}

    def list_events_page_json(
        self, query: EventQuery | None = None, *, cursor: str | None = None, limit: int | None = None
    ) -> bytes:
        """``list_events_page`` encoded as the response body (rendered without building dicts)."""
        query, streams, items, tail = self._events_page(query, cursor, limit)
        renderer = EventJsonRenderer(streams, query.own_pi)
        events = ",".join([renderer.render(it) for it in items])
        rest = json.dumps(tail, separators=(",", ":"), ensure_ascii=False)
        return f'{{"events":[{events}],{rest[1:]}'.encode()

    def _events_page(
        self, query: EventQuery | None, cursor: str | None, limit: int | None
    ) -> tuple[EventQuery, list[EventStream], list[Item], dict[str, Any]]:
        """The streams and items of one page, and the response fields after ``events``."""
        after: tuple[int, str, int] | None = None
        if cursor:
            try:
                data = self._cursors.decode(cursor)
                query = EventQuery.from_json(data["q"])
                key = data["k"]
                after = (int(key[0]), str(key[1]), int(key[2]))
                if limit is None:
                    limit = int(data["l"])
            except (ValueError, KeyError, TypeError, IndexError) as exc:
                raise validation_error(
                    FieldViolation("cursorPaging.cursor", "is not a valid cursor", "FORMAT")
                ) from exc
        if query is None:
            raise validation_error(FieldViolation("from", "is required", "REQUIRED_FIELD"))
        if limit is None:
            limit = self._config.default_page_size
        streams, failed = self._event_streams(query)
        items, has_next = take_page(streams, query.from_ms, query.to_ms, after, limit)
        paging: dict[str, Any] = {"count": len(items)}
        if has_next:
            last = items[-1]
            paging["cursors"] = {
                "next": self._cursors.encode({"q": query.to_json(), "k": [last[0], last[1], last[2]], "l": limit})
            }
        paging["hasNext"] = has_next
        tail: dict[str, Any] = {"pagingMetadata": paging}
        if failed:
            tail["failedProviderIds"] = failed
        return query, streams, items, tail

    def events(
        self,
        from_: datetime | str | int,
        to: datetime | str | int,
        *,
        schedule_ids: Sequence[str] = (),
        user_ids: Sequence[str] = (),
        all_day: bool | None = None,
        fieldsets: Sequence[str] = (),
        partial_failure: bool = True,
    ) -> Iterator[dict[str, Any]]:
        """Every event List Events would return for this query, lazily, in the same order.

        ``from_``/``to`` are datetimes, RFC 3339 strings or epoch milliseconds.
        """
        query = EventQuery(
            _to_ms(from_),
            _to_ms(to),
            tuple(schedule_ids),
            tuple(user_ids),
            all_day,
            "OWN_PI" in fieldsets,
            partial_failure,
        )
        streams, _ = self._event_streams(query)
        for it in iter_merged(streams, query.from_ms, query.to_ms):
            yield render_event(streams[it[5]], it[0], it[3], it[4], query.own_pi)

    # ------------------------------------------------------------------ OAuth consent

    def oauth_flow(self, flow_id: str) -> OAuthFlow:
        """A flow by id; 404 if unknown, 410 if decided or expired."""
        with self._lock:
            flow = self._flows.get(flow_id)
            if flow is None:
                raise WixError(404, "This consent link is unknown")
            if flow.status != "PENDING":
                raise WixError(410, "This consent link has already been used")
            if self.now() >= flow.expires_at:
                raise WixError(410, "This consent link has expired")
            return dataclasses.replace(flow)

    def oauth_flows(self, *, include_decided: bool = False) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_json() for f in self._flows.values() if include_decided or f.status == "PENDING"]

    def pending_oauth_flows(self) -> list[dict[str, Any]]:
        """Flows waiting for a decision, with their ``consent_url`` (what the owner would open)."""
        return self.oauth_flows()

    def describe_flow(self, flow_id: str) -> dict[str, Any]:
        """What the consent page shows: provider, schedule and owner, where the browser returns."""
        with self._lock:
            flow = self.oauth_flow(flow_id)
            provider = self._providers.get(flow.provider_id)
            schedule = self._schedules.get(flow.schedule_id)
            return {
                "flow": flow,
                "provider_name": provider.name if provider else flow.provider_id,
                "owner_name": schedule.owner_name if schedule else "",
                "business": bool(schedule and schedule.business),
            }

    def decide_oauth(self, flow_id: str, decision: str, *, email: str | None = None) -> str:
        """The owner's decision; returns the URL the browser is redirected to. Single use."""
        if decision not in OAUTH_DECISIONS:
            raise WixError(400, f"decision must be one of {', '.join(OAUTH_DECISIONS)}")
        with self._lock:
            flow = self._flows.get(flow_id)
            self.oauth_flow(flow_id)  # 404 / 410
            assert flow is not None
            outcome = decision
            if decision == "allow" and self._config.oauth_outcome != "allow":
                outcome = self._config.oauth_outcome
            if outcome == "allow":
                provider = self._provider(flow.provider_id)
                schedule = self._schedule(flow.schedule_id)
                conn = self._new_connection(
                    provider,
                    schedule,
                    email=email,
                    sync_config=copy.deepcopy(_OAUTH_DEFAULT_SYNC_CONFIG),
                    status="CONNECTED",
                )
                flow.connection_id = conn.id
                location = append_query(flow.redirect_url, {"connectionId": conn.id})
            else:
                location = append_query(flow.redirect_url, {"error": _OAUTH_ERRORS[outcome]})
            flow.status = "DECIDED"
            flow.decision = outcome
            flow.location = location
            return location

    # ------------------------------------------------------------------ internals

    def _provider(self, provider_id: str) -> Provider:
        provider = self._providers.get(provider_id)
        if provider is None:
            raise not_found(f"Provider {provider_id} not found")
        return provider

    def _schedule(self, schedule_id: str) -> Schedule:
        schedule = self._schedules.get(schedule_id)
        if schedule is None:
            raise not_found(f"Schedule {schedule_id} not found")
        return schedule

    def _connection(self, connection_id: str) -> Connection:
        conn = self._connections.get(connection_id)
        if conn is None:
            raise not_found(f"Connection {connection_id} not found")
        return conn

    def _premium_error(self) -> WixError:
        return application_error(
            403, "PREMIUM_FEATURE_NOT_ENABLED", "External calendars need a Wix Premium plan on this site"
        )

    def _advanced(self, conn: Connection) -> Connection:
        """Move a syncing connection along CONNECTED -> SYNC_IN_PROGRESS -> SYNCED by elapsed time."""
        if conn.sync_started_at is None or conn.status not in ("CONNECTED", "SYNC_IN_PROGRESS"):
            return conn
        elapsed = self.now() - conn.sync_started_at
        delay = self._config.sync_delay
        if elapsed >= delay:
            conn.status = "SYNCED"
            conn.sync_started_at = None
        elif conn.status == "CONNECTED" and elapsed >= delay / 2:
            conn.status = "SYNC_IN_PROGRESS"
        return conn

    def _disconnect(self, conn: Connection) -> None:
        conn.status = "DISCONNECTED"
        conn.error_reason = None
        conn.sync_started_at = None

    def _new_connection(
        self,
        provider: Provider,
        schedule: Schedule,
        *,
        email: str | None,
        sync_config: dict[str, Any] | None,
        status: str,
    ) -> Connection:
        """Create a connection; an active one for the same schedule and provider is replaced."""
        for old in self._connections.values():
            if old.schedule_id == schedule.id and old.provider_id == provider.id and old.status != "DISCONNECTED":
                self._disconnect(old)
        self._conn_seq += 1
        rng = random.Random(f"{self._config.seed}:connection:{self._conn_seq}")
        conn_id = "".join(rng.choices(_ALNUM, k=120))
        names = _ACCOUNT_CALENDARS.get(provider.calendar_type, _DEFAULT_CALENDARS)
        calendars = [
            Calendar(
                "".join(random.Random(f"{conn_id}:{name}").choices(_CALENDAR_ID_CHARS, k=25)),
                name,
                primary=n == 0,
            )
            for n, name in enumerate(names)
        ]
        if email is None:
            email = schedule.owner_name.lower().replace(" ", ".") + "@example.com"
        conn = Connection(
            id=conn_id,
            provider_id=provider.id,
            calendar_type=provider.calendar_type,
            schedule_id=schedule.id,
            user_id=None if schedule.business else schedule.owner_id,
            app_id=self._config.client_id,
            external_account_email=email,
            status=status,
            calendars=calendars,
            sync_config=sync_config or None,
            sync_started_at=self.now(),
        )
        self._connections[conn.id] = conn
        return conn

    @staticmethod
    def _field_mask_paths(field_mask: Any) -> list[str] | None:
        if field_mask is None:
            return None
        if isinstance(field_mask, dict):
            field_mask = field_mask.get("paths", [])
        if isinstance(field_mask, str):
            field_mask = [p for p in field_mask.split(",") if p.strip()]
        if not isinstance(field_mask, list) or not all(isinstance(p, str) for p in field_mask):
            raise validation_error(FieldViolation("fieldMask", "must be a list of field paths", "FORMAT"))
        paths = []
        for raw in field_mask:
            path = raw.strip().removeprefix("syncConfig.").split(".")[0]
            if path not in _SYNC_KEYS:
                raise validation_error(
                    FieldViolation("fieldMask", f"unknown path {raw.strip()!r}", "FORMAT", {"path": raw})
                )
            paths.append(path)
        return paths

    def _validate_sync_config(self, conn: Connection, provider: Provider, cfg: Any) -> dict[str, Any]:
        """Check a ConnectionSyncConfig's shape (400) and the provider's features (428)."""
        if not isinstance(cfg, dict):
            raise validation_error(FieldViolation("syncConfig", "is required", "REQUIRED_FIELD"))
        unsupported = f"{provider.name} does not support this sync config"
        out: dict[str, Any] = {}
        for key, modes in (
            ("listEventFromCalendars", ("primaryCalendar", "calendars")),
            ("syncToCalendar", ("primaryCalendar", "dedicatedCalendar")),
        ):
            part = cfg.get(key)
            if part is None:
                continue
            where = f"syncConfig.{key}"
            if not isinstance(part, dict):
                raise validation_error(FieldViolation(where, "must be an object", "FORMAT"))
            enabled = part.get("enabled", False)
            if not isinstance(enabled, bool):
                raise validation_error(FieldViolation(f"{where}.enabled", "must be a boolean", "FORMAT"))
            chosen = [m for m in modes if part.get(m) is not None]
            if len(chosen) > 1:
                raise validation_error(
                    FieldViolation(where, f"set only one of {' or '.join(modes)}", "ONE_OF_ALIGNMENT")
                )
            if enabled and not chosen:
                raise validation_error(
                    FieldViolation(where, f"one of {' or '.join(modes)} is required", "REQUIRED_ONE_OF_FIELD")
                )
            normalised: dict[str, Any] = {"enabled": enabled}
            mode = chosen[0] if chosen else None
            if mode == "calendars":
                normalised["calendars"] = {"calendars": self._validate_calendar_list(conn, part["calendars"], where)}
            elif mode is not None:
                if not isinstance(part[mode], dict):
                    raise validation_error(FieldViolation(f"{where}.{mode}", "must be an object", "FORMAT"))
                normalised[mode] = {}
            feature = (
                provider.list_event_from_calendars if key == "listEventFromCalendars" else provider.sync_to_calendar
            )
            allowed_modes = {
                "NOT_SUPPORTED": set(),
                "UNDEFINED": set(),
                "PRIMARY_CALENDAR_ONLY": {"primaryCalendar"},
                "SPECIFIC_CALENDARS": {"primaryCalendar", "calendars"},
                "SPECIFIC_CALENDAR": {"primaryCalendar", "dedicatedCalendar"},
                "DEDICATED_CALENDAR": {"dedicatedCalendar"},
            }.get(feature, set())
            if mode is not None and mode not in allowed_modes:
                raise application_error(
                    428, "NOT_SUPPORTED_BY_PROVIDER", f"{unsupported}: {key} supports {feature} only"
                )
            out[key] = normalised
        return out

    @staticmethod
    def _validate_calendar_list(conn: Connection, value: Any, where: str) -> list[dict[str, Any]]:
        field_name = f"{where}.calendars.calendars"
        items = value.get("calendars") if isinstance(value, dict) else None
        if not isinstance(items, list) or not items:
            raise validation_error(FieldViolation(field_name, "must be a non-empty list of calendars", "FORMAT"))
        known = {c.id for c in conn.calendars}
        result = []
        for n, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                raise validation_error(FieldViolation(f"{field_name}[{n}].id", "is required", "REQUIRED_FIELD"))
            if item["id"] not in known:
                raise validation_error(
                    FieldViolation(f"{field_name}[{n}].id", "is not a calendar of this connection", "CUSTOM")
                )
            entry = {"id": item["id"]}
            if isinstance(item.get("name"), str):
                entry["name"] = item["name"]
            result.append(entry)
        unique = {e["id"]: e for e in result}
        return [unique[k] for k in sorted(unique)]

    def _event_streams(self, query: EventQuery) -> tuple[list[EventStream], list[str]]:
        """The streams a query reads (SYNCED connections with import on), and providers that failed."""
        with self._lock:
            cfg = self._config
            schedule_filter = set(query.schedule_ids)
            user_filter = set(query.user_ids)
            streams: list[EventStream] = []
            failed: set[str] = set()
            fetched = 0
            for conn in self._connections.values():
                self._advanced(conn)
                imports = (conn.sync_config or {}).get("listEventFromCalendars") or {}
                if conn.status != "SYNCED" or not imports.get("enabled"):
                    continue
                schedule = self._schedules.get(conn.schedule_id)
                if schedule is None:
                    continue
                if schedule_filter and conn.schedule_id not in schedule_filter:
                    continue
                if user_filter and schedule.owner_id not in user_filter:
                    continue
                if conn.provider_id in self._failing_providers:
                    failed.add(conn.provider_id)
                    continue
                fetched += 1
                if "calendars" in imports:
                    wanted = {c["id"] for c in imports["calendars"]["calendars"]}
                    calendars = [c for c in conn.calendars if c.id in wanted]
                else:
                    calendars = [c for c in conn.calendars if c.primary]
                per_day = cfg.events_per_day if conn.events_per_day is None else conn.events_per_day
                every = cfg.all_day_every_days if conn.all_day_every_days is None else conn.all_day_every_days
                for cal in calendars:
                    common = {
                        "schedule_id": conn.schedule_id,
                        "calendar_type": conn.calendar_type,
                        "calendar_name": cal.name,
                        "owner_id": schedule.owner_id,
                        "owner_name": schedule.owner_name,
                        "provider_id": conn.provider_id,
                    }
                    if per_day > 0 and query.all_day is not True:
                        streams.append(
                            EventStream.timed(
                                events_per_day=per_day,
                                key=f"{stable_hash(conn.id, cal.id, 'timed'):016x}",
                                base=stable_hash(cfg.seed, conn.id, cal.id, "timed"),
                                **common,
                            )
                        )
                    if every > 0 and query.all_day is not False:
                        streams.append(
                            EventStream.all_day_every(
                                days=every,
                                key=f"{stable_hash(conn.id, cal.id, 'all-day'):016x}",
                                base=stable_hash(cfg.seed, conn.id, cal.id, "all-day"),
                                **common,
                            )
                        )
            # partialFailure succeeds only if at least one connection's events were fetched.
            if failed and (not query.partial_failure or fetched == 0):
                raise system_error(500)
            return streams, sorted(failed)
