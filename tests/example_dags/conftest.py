"""Fixtures for running the example DAGs against the emulator: calendar owners who answer OAuth links."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

#: What an owner does with the consent link: press Allow or Deny, or never open it.
DECISIONS = ("allow", "deny", "never")


@dataclass
class CalendarOwners:
    """Plays the account owners while a DAG runs: answers each pending OAuth flow of the emulator.

    A background thread polls the emulator's pending flows and, like a browser, opens each consent
    link with ``?decision=...``; ``requests`` follows the redirect to the Airflow callback route, so
    the callback travels over real HTTP, as in production.
    """

    emulator_url: str
    decisions: Mapping[str, str]
    default: str = "allow"
    poll_interval: float = 0.05
    answered: dict[str, dict[str, Any]] = field(default_factory=dict)
    ignored: set[str] = field(default_factory=set)
    errors: list[BaseException] = field(default_factory=list)

    def __post_init__(self) -> None:
        unknown = {*self.decisions.values(), self.default} - set(DECISIONS)
        if unknown:
            raise ValueError(f"unknown decision(s) {unknown}; use {DECISIONS}")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="calendar-owners", daemon=True)

    def _run(self) -> None:
        session = requests.Session()
        while not self._stop.wait(self.poll_interval):
            try:
                try:
                    flows = session.get(f"{self.emulator_url}/_emulator/oauth/flows", timeout=30).json()["flows"]
                except requests.Timeout:
                    # Reading the list changes nothing, so a slow answer (a loaded machine; it cost a
                    # whole compat cell once, the owner gone and the sensor waiting) is read again.
                    continue
                for flow in flows:
                    self._answer(session, flow)
            except Exception as exc:  # reported by __exit__, so a broken owner fails the test loudly
                self.errors.append(exc)
                return

    def _answer(self, session: requests.Session, flow: dict[str, Any]) -> None:
        if flow["id"] in self.answered or flow["id"] in self.ignored:
            return
        decision = self.decisions.get(flow["schedule_id"], self.default)
        if decision == "never":
            self.ignored.add(flow["id"])
            return
        response = session.get(flow["consent_url"], params={"decision": decision}, timeout=30)
        self.answered[flow["id"]] = {
            "schedule_id": flow["schedule_id"],
            "decision": decision,
            "status_code": response.status_code,
            "callback_url": response.url,
            "page": response.text,  # the page the owner lands on
        }

    def __enter__(self) -> CalendarOwners:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        if self.errors:
            raise AssertionError(f"The simulated calendar owner failed: {self.errors[0]!r}") from self.errors[0]

    def decisions_by_schedule(self) -> dict[str, str]:
        """``{schedule_id: decision}`` of the links that were answered."""
        return {a["schedule_id"]: a["decision"] for a in self.answered.values()}


@pytest.fixture
def calendar_owners(wix_conn: Any, airflow_api_server: str) -> Callable[..., CalendarOwners]:
    """``with calendar_owners({schedule_id: "allow" | "deny" | "never"}, default="allow"): run_dag(...)``."""

    def make(decisions: Mapping[str, str] | None = None, default: str = "allow") -> CalendarOwners:
        return CalendarOwners(wix_conn.url, dict(decisions or {}), default)

    return make


@pytest.fixture
def short_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Poll quickly: ``dag.test()`` runs triggers inline, so the callback's push cannot wake them."""
    monkeypatch.setenv("AIRFLOW__WIX__OAUTH_CALLBACK_POLL_INTERVAL", "0.5")
    monkeypatch.setenv("AIRFLOW__WIX__SYNC_STATUS_POLL_INTERVAL", "0.5")
    monkeypatch.setenv("AIRFLOW__WIX__OAUTH_BATCH_CHECK_INTERVAL", "0.5")
