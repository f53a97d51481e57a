"""A local stand-in for Wix Bookings External Calendars v2 and its OAuth consent page.

Same wire format as ``www.wixapis.com`` (written from the API description, not from ``client/``),
so users can test their own DAGs offline, the way ``moto`` serves AWS users::

    python -m airflow_provider_wix.emulator --port 8765

    from airflow_provider_wix.emulator import run_emulator
    with run_emulator() as wix:
        ...  # wix.url, wix.state, wix.config
"""

from __future__ import annotations

from airflow_provider_wix.emulator.app import create_app
from airflow_provider_wix.emulator.faults import FaultKind, FaultRule, parse_fault_spec
from airflow_provider_wix.emulator.server import RunningEmulator, run_emulator
from airflow_provider_wix.emulator.state import (
    APPLE_PROVIDER_ID,
    BUSINESS_SCHEDULE_ID,
    GOOGLE_PROVIDER_ID,
    MICROSOFT_PROVIDER_ID,
    EmulatorConfig,
    EmulatorState,
)

__all__ = [
    "APPLE_PROVIDER_ID",
    "BUSINESS_SCHEDULE_ID",
    "GOOGLE_PROVIDER_ID",
    "MICROSOFT_PROVIDER_ID",
    "EmulatorConfig",
    "EmulatorState",
    "FaultKind",
    "FaultRule",
    "RunningEmulator",
    "create_app",
    "parse_fault_spec",
    "run_emulator",
]
