"""The emulated site's storage, clock and lock, shared by Wix's behaviour and the seeding API.

:class:`Site` holds the objects and the few operations both sides need (look-ups that answer Wix's
404s, the sync clock, creating a connection). ``wix_behaviour.WixBehaviour`` adds what the API does,
``seeding.SeedingApi`` what tests and the admin API do; ``state.EmulatorState`` is both.
"""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any, cast

from airflow_provider_wix.emulator.config import EmulatorConfig
from airflow_provider_wix.emulator.errors import not_found
from airflow_provider_wix.emulator.events import CursorCodec
from airflow_provider_wix.emulator.faults import FaultInjector, RateLimiter
from airflow_provider_wix.emulator.model import (
    BUILTIN_PROVIDER_NAMES,
    BUILTIN_PROVIDERS,
    BUSINESS_SCHEDULE_ID,
    Calendar,
    OAuthFlow,
    Provider,
    Schedule,
    StoredConnection,
    Token,
    random_guid,
)
from airflow_provider_wix.emulator.staff import StaffDirectory

if TYPE_CHECKING:
    from airflow_provider_wix.emulator.state import EmulatorState

__all__ = ["OAUTH_DEFAULT_SYNC_CONFIG", "OWNER_NAMES", "Site"]

_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_CALENDAR_ID_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"
OWNER_NAMES = (
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
OAUTH_DEFAULT_SYNC_CONFIG: dict[str, Any] = {"listEventFromCalendars": {"enabled": True, "primaryCalendar": {}}}


class Site:
    """The whole emulated site's data. Thread-safe: the server thread and test code share one instance."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self._lock = threading.RLock()
        self._config = config or EmulatorConfig()
        self._cursors = CursorCodec(secrets.token_bytes(32))
        self.fault_injector = FaultInjector(self._config.seed)
        self.rate_limiter = RateLimiter()
        # Only ever instantiated as EmulatorState, whose seeding API the staff directory uses.
        self.staff = StaffDirectory(cast("EmulatorState", self), self._cursors)
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
            self._connections: dict[str, StoredConnection] = {}
            self._flows: dict[str, OAuthFlow] = {}
            self._tokens: dict[str, Token] = {}
            self._log: deque[dict[str, Any]] = deque(maxlen=cfg.request_log_limit)
            self._log_seq = 0
            self._conn_seq = 0
            rng = random.Random(f"{cfg.seed}:schedules")
            owner_rng = random.Random(f"{cfg.seed}:site-owner")
            self._add_schedule(Schedule(BUSINESS_SCHEDULE_ID, random_guid(owner_rng), "Site Owner", business=True))
            for n in range(cfg.schedules):
                name = OWNER_NAMES[n % len(OWNER_NAMES)]
                if n >= len(OWNER_NAMES):
                    name = f"{name} {n // len(OWNER_NAMES) + 1}"
                self._add_schedule(Schedule(random_guid(rng), random_guid(rng), name))
            self.fault_injector.reset(cfg.seed, cfg.fault_rules())
            self.rate_limiter.reset(cfg.rate_limit)
            self.staff.reset()

    def now(self) -> float:
        """Wall-clock time plus whatever ``advance_time`` added (token expiry, sync progress)."""
        return time.time() + self._time_offset

    # ------------------------------------------------------------------ reads both sides use

    def providers(self) -> list[dict[str, Any]]:
        with self._lock:
            return [p.to_json() for p in self._providers.values()]

    def connection(self, connection_id: str) -> dict[str, Any]:
        with self._lock:
            return self._advanced(self._connection(connection_id)).to_json()

    # ------------------------------------------------------------------ internals

    def _add_schedule(self, schedule: Schedule) -> None:
        self._schedules[schedule.id] = schedule

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

    def _connection(self, connection_id: str) -> StoredConnection:
        conn = self._connections.get(connection_id)
        if conn is None:
            raise not_found(f"Connection {connection_id} not found")
        return conn

    def _advanced(self, conn: StoredConnection) -> StoredConnection:
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

    def _disconnect(self, conn: StoredConnection) -> None:
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
    ) -> StoredConnection:
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
        conn = StoredConnection(
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
