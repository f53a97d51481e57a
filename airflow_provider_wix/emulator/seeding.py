"""How tests, the CLI and the admin API shape and inspect the emulated site (not Wix's behaviour).

The counterpart of moto's backend-seeding calls: add schedules and providers, put connections in any
status, change the clock, install faults, read the request log and a snapshot of everything.
"""

from __future__ import annotations

import copy
import dataclasses
import random
from typing import TYPE_CHECKING, Any

from airflow_provider_wix.emulator.faults import FaultRule, parse_fault_spec
from airflow_provider_wix.emulator.model import (
    CONNECTION_STATUSES,
    ERROR_REASONS,
    Provider,
    Schedule,
    is_guid,
    random_guid,
)
from airflow_provider_wix.emulator.site import OAUTH_DEFAULT_SYNC_CONFIG, OWNER_NAMES, Site

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["SeedingApi"]


class SeedingApi(Site):
    """The seeding and inspection half of :class:`~airflow_provider_wix.emulator.state.EmulatorState`."""

    def advance_time(self, seconds: float) -> None:
        """Move the emulator's clock forward: expire tokens and finish syncs without sleeping."""
        with self._lock:
            self._time_offset += seconds

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
                schedule_id or random_guid(rng),
                owner_id or random_guid(rng),
                owner_name or OWNER_NAMES[len(self._schedules) % len(OWNER_NAMES)],
                business,
            )
            for value in (schedule.id, schedule.owner_id):
                if not is_guid(value):
                    raise ValueError(f"{value!r} is not a GUID")
            if schedule.id in self._schedules:
                raise ValueError(f"schedule {schedule.id} already exists")
            self._add_schedule(schedule)
            return dataclasses.replace(schedule)

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
                sync_config=copy.deepcopy(OAUTH_DEFAULT_SYNC_CONFIG) if sync_config is None else sync_config,
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
                "staff": self.staff.snapshot(),
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

    def oauth_flows(self, *, include_decided: bool = False) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_json() for f in self._flows.values() if include_decided or f.status == "PENDING"]

    def pending_oauth_flows(self) -> list[dict[str, Any]]:
        """Flows waiting for a decision, with their ``consent_url`` (what the owner would open)."""
        return self.oauth_flows()
