"""What an emulator run can be told: :class:`EmulatorConfig` (CLI flags, fixture markers, admin reset)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from airflow_provider_wix.emulator.faults import FaultRule, parse_fault_spec
from airflow_provider_wix.emulator.model import BUILTIN_PROVIDER_NAMES, is_guid

__all__ = ["EmulatorConfig"]


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
