"""The emulator's state: one object that is both Wix's behaviour and the seeding API over one site.

Where things are:

- ``model.py``: the site's objects (providers, schedules, connections, consent flows) and their wire form;
- ``config.py``: :class:`EmulatorConfig`;
- ``site.py``: storage, lock, clock and the look-ups both halves use;
- ``wix_behaviour.py``: what the Wix API does (auth, tokens, the nine methods, the consent decision);
- ``seeding.py``: what tests, the CLI and the admin API do to shape and inspect the site.

Tests seed and inspect the state directly while the server runs in another thread: every method
takes the lock.
"""

from __future__ import annotations

from airflow_provider_wix.emulator.config import EmulatorConfig
from airflow_provider_wix.emulator.model import (
    APPLE_PROVIDER_ID,
    BUSINESS_SCHEDULE_ID,
    GOOGLE_PROVIDER_ID,
    MICROSOFT_PROVIDER_ID,
    ListEventsQuery,
    Provider,
)
from airflow_provider_wix.emulator.seeding import SeedingApi
from airflow_provider_wix.emulator.wix_behaviour import WixBehaviour

# What users import from here besides EmulatorState; the site's other objects are in model.py.
__all__ = [
    "APPLE_PROVIDER_ID",
    "BUSINESS_SCHEDULE_ID",
    "GOOGLE_PROVIDER_ID",
    "MICROSOFT_PROVIDER_ID",
    "EmulatorConfig",
    "EmulatorState",
    "ListEventsQuery",
    "Provider",
]


class EmulatorState(WixBehaviour, SeedingApi):
    """The whole emulated site: what Wix does (:class:`WixBehaviour`) and how tests shape it (:class:`SeedingApi`)."""
