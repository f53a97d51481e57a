"""Fault soak: onboardings and a large event export against an emulator that keeps failing.

Seeded runs of the whole onboarding sequence (OAuth for one schedule, credentials for another,
sync config, wait for SYNCED, events) and an export of more than 50,000 events, with 5xx, 429 +
Retry-After, dropped connections, slow answers and cut-off or non-JSON bodies mixed in. Everything
must succeed with the events exactly those of a fault-free export, and the emulator's request log
must show that no creating call (Connect By Credentials) was sent again after Wix may have acted
on it. Runs at the client level (the layer that retries), as the operators call it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from airflow_provider_wix.client import (
    ApiKeyAuth,
    ExternalCalendarsClient,
    RetryPolicy,
    WixApiError,
    build_sync_config,
)
from airflow_provider_wix.emulator.model import APPLE_PROVIDER_ID, GOOGLE_PROVIDER_ID, MICROSOFT_PROVIDER_ID
from airflow_provider_wix.emulator.state import EmulatorConfig

pytestmark = pytest.mark.slow

ONBOARDING_SEEDS = range(10)
EXPORT_EVENTS = 50_000
IDEMPOTENT_ROUTES = (
    "list_providers",
    "get_connection",
    "list_connections",
    "connect_by_oauth",
    "list_calendars",
    "update_sync_config",
    "disconnect",
    "list_events",
)
#: Per idempotent route: 5xx, 429 with Retry-After, drops, slow answers, cut-off and non-JSON bodies.
MIXED = ("503@0.06", "500@0.03", "429:0.2@0.05", "drop@0.04", "latency:0.15@0.05", "truncate@0.04", "malformed@0.02")
#: Connect By Credentials creates: only faults after which Wix has provably not acted, plus ones the
#: client must not retry (503, drop), which the caller resolves by checking List Connections.
CREATING = ("429:0.2@0.2", "latency:0.15@0.2", "503@0.2", "drop@0.15")
RETRY = RetryPolicy(max_attempts=10, max_total_seconds=120, base_wait=0.05, max_wait=1.0)


def _faults() -> list[str]:
    rules = [f"{route}={spec}" for route in IDEMPOTENT_ROUTES for spec in MIXED]
    return rules + [f"connect_by_credentials={spec}" for spec in CREATING]


def _client(emulator: Any) -> ExternalCalendarsClient:
    auth = ApiKeyAuth(emulator.config.api_key, site_id=emulator.config.site_id)
    return ExternalCalendarsClient(auth, emulator.url, retry=RETRY, timeout=(5, 30))


def _event_keys(events: Iterator[dict[str, Any]]) -> list[str]:
    """Events have no id on the wire: the whole event, canonically encoded, is its identity."""
    return [json.dumps(event, sort_keys=True) for event in events]


def _connect_by_credentials(client: ExternalCalendarsClient, emulator: Any, schedule_id: str) -> dict[str, Any]:
    """What the docs ask of a caller: after a failure that was not re-sent, look before trying again."""
    for _ in range(20):
        try:
            return dict(
                client.connect_by_credentials(
                    APPLE_PROVIDER_ID,
                    schedule_id,
                    emulator.config.credentials_email,
                    emulator.config.credentials_password,
                )
            )
        except WixApiError:
            existing = [c for c in client.list_connections([schedule_id]) if c.get("providerId") == APPLE_PROVIDER_ID]
            if existing:
                return dict(existing[0])
    raise AssertionError("Connect By Credentials never got through")


def _onboard(client: ExternalCalendarsClient, emulator: Any) -> tuple[list[str], list[str]]:
    """OAuth for one schedule and credentials for another; returns their event keys, window of a week."""
    providers = {p["id"] for p in client.list_providers()}
    assert {GOOGLE_PROVIDER_ID, MICROSOFT_PROVIDER_ID, APPLE_PROVIDER_ID} <= providers
    first, second = (s.id for s in emulator.state.staff_schedules()[:2])

    client.connect_by_oauth(MICROSOFT_PROVIDER_ID, first, "https://airflow.example.com/wix/oauth/callback/s")
    flow = next(f for f in emulator.state.pending_oauth_flows() if f["schedule_id"] == first)
    redirect = emulator.state.decide_oauth(flow["id"], "allow")
    oauth_id = parse_qs(urlsplit(redirect).query)["connectionId"][0]
    assert [c["id"] for c in client.list_connections([first])] == [oauth_id]
    client.update_sync_config(oauth_id, build_sync_config("primary", "dedicated"))

    apple = _connect_by_credentials(client, emulator, second)
    calendars = client.list_calendars(apple["id"])
    client.update_sync_config(apple["id"], build_sync_config([calendars[0]["id"]], None))

    for connection_id in (oauth_id, apple["id"]):
        deadline = time.monotonic() + 60
        while client.get_connection(connection_id).get("status") != "SYNCED":
            assert time.monotonic() < deadline, f"{connection_id} never reached SYNCED"
            time.sleep(0.05)
    window = ("2026-10-05T00:00:00Z", "2026-10-12T00:00:00Z")
    return (
        _event_keys(client.iter_events(*window, schedule_ids=[first])),
        _event_keys(client.iter_events(*window, schedule_ids=[second])),
    )


def _unsafe_resends(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Connect By Credentials requests sent again although Wix may have acted on the previous one.

    Safe: after a 429 (Wix did nothing), or after the caller looked with List Connections.
    """
    unsafe: list[dict[str, Any]] = []
    last_creating: dict[str, dict[str, Any]] = {}
    looked: set[str] = set()
    for entry in log:
        body = entry.get("body") if isinstance(entry.get("body"), dict) else {}
        if entry["route"] == "list_connections":
            looked.update(parse_qs(entry["query"]).get("scheduleIds", []))
        if entry["route"] != "connect_by_credentials":
            continue
        schedule = str(body.get("scheduleId"))
        previous = last_creating.get(schedule)
        if previous is not None and previous["fault"] not in ("429", "rate_limit") and schedule not in looked:
            unsafe.append(entry)
        last_creating[schedule] = entry
        looked.discard(schedule)
    return unsafe


@pytest.mark.parametrize("seed", ONBOARDING_SEEDS)
def test_seeded_onboarding_survives_mixed_faults(wix_emulator, seed):
    wix_emulator.state.reset(EmulatorConfig(seed=seed))
    with _client(wix_emulator) as client:
        expected = _onboard(client, wix_emulator)
    clean_log = wix_emulator.state.request_log()
    assert all(entry["fault"] is None for entry in clean_log)

    wix_emulator.state.reset(EmulatorConfig(seed=seed, faults=_faults()))
    with _client(wix_emulator) as client:
        assert _onboard(client, wix_emulator) == expected
    log = wix_emulator.state.request_log()
    faults = [entry["fault"] for entry in log if entry["fault"]]
    print(f"seed {seed}: {len(log)} requests, {len(faults)} faults ({', '.join(sorted(set(faults)))})")
    assert faults, "the seed injected no fault"
    assert _unsafe_resends(log) == []
    created = [e for e in log if e["route"] == "connect_by_credentials" and e["status"] == 200]
    assert len(created) == 1


def test_large_export_is_exact_under_mixed_faults(wix_emulator):
    wix_emulator.state.reset(EmulatorConfig(seed=7, schedules=5, events_per_day=0))
    for schedule in wix_emulator.state.staff_schedules()[:5]:
        wix_emulator.state.create_connection(GOOGLE_PROVIDER_ID, schedule.id, events_per_day=1440, all_day_every_days=0)
    window = ("2026-10-05T00:00:00Z", "2026-10-12T00:00:00Z")
    with _client(wix_emulator) as client:
        expected = _event_keys(client.iter_events(*window, page_size=1000))
    assert len(expected) >= EXPORT_EVENTS

    wix_emulator.state.set_faults([f"list_events={spec}" for spec in MIXED])
    wix_emulator.state.clear_request_log()
    with _client(wix_emulator) as client:
        exported = _event_keys(client.iter_events(*window, page_size=1000))
    log = wix_emulator.state.request_log()
    faults = [entry["fault"] for entry in log if entry["fault"]]
    kinds = ", ".join(sorted(set(faults)))
    print(f"export: {len(exported)} events in {len(log)} requests, {len(faults)} faults ({kinds})")
    assert len(faults) >= 5
    assert exported == expected
