"""Where the dashboard's data comes from, read on the Airflow API server.

Flow records are Airflow Variables (read through the ORM, like the callback route); connections and
providers come from Wix through :class:`~airflow_provider_wix.hooks.wix.WixHook`, cached for a short
while so that a page view costs at most one List Connections call and many viewers share it. The
names of providers and owners come from the flow records; Wix's lists only fill in rows no record
names. All of it is blocking I/O: the routes call it from FastAPI's threadpool, never on the event
loop.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from airflow_provider_wix.callback.state import FLOW_KEY_PREFIX, FlowRecord, flow_key
from airflow_provider_wix.dashboard.rows import FlowEntry, provider_display_name

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_provider_wix.client.models import CalendarConnection
    from airflow_provider_wix.hooks.wix import WixHook

log = logging.getLogger(__name__)

#: How long Wix's answers are reused between page views (seconds).
CONNECTIONS_TTL = 30.0
PROVIDERS_TTL = 600.0

T = TypeVar("T")


def configured_wix_conn_id() -> str:
    """``[wix] dashboard_wix_conn_id``: the Wix connection the dashboard and the owner pages ask."""
    from airflow.configuration import conf

    return conf.get("wix", "dashboard_wix_conn_id", fallback=None) or "wix_default"


def configured_onboarding_dag_id() -> str:
    """``[wix] dashboard_onboarding_dag_id``: the DAG *Re-onboard* triggers."""
    from airflow.configuration import conf

    return conf.get("wix", "dashboard_onboarding_dag_id", fallback=None) or "wix_calendar_onboarding"


def read_flows() -> list[FlowEntry]:
    """Every flow record the provider keeps; records that cannot be read are skipped (and logged)."""
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session
    from sqlalchemy import select

    entries = []
    with create_session() as session:
        for row in session.scalars(select(Variable).where(Variable.key.startswith(FLOW_KEY_PREFIX))):
            try:
                record = FlowRecord.from_json(row.val)
            except (ValueError, TypeError, KeyError):
                log.warning("Skipping unreadable Wix flow record %s", row.key)
                continue
            entries.append(FlowEntry(flow_id=row.key[len(FLOW_KEY_PREFIX) :], record=record))
    return entries


def read_flow(flow_id: str) -> FlowRecord | None:
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        raw = session.scalars(select(Variable).where(Variable.key == flow_key(flow_id))).one_or_none()
        return FlowRecord.from_json(raw.val) if raw is not None else None


def consent_link(record: FlowRecord) -> str | None:
    """The consent URL handed out for this flow: the sensor's re-issued one, else the connect task's
    (a batch connect task keeps its links by schedule under ``oauth_urls``)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(
            select(XComModel).where(
                XComModel.dag_id == record.dag_id,
                XComModel.run_id == record.run_id,
                XComModel.map_index == record.map_index,
                XComModel.key.in_(["oauth_url", "return_value", "oauth_urls"]),
            )
        ).all()
        found = {(row.task_id, row.key): XComModel.deserialize_value(row) for row in rows}
    batch = found.get((record.task_id, "oauth_urls"))
    if isinstance(batch, dict):
        link = batch.get(record.schedule_id)
        return link if isinstance(link, str) else None
    reissued = [value for (task_id, key), value in found.items() if key == "oauth_url" and isinstance(value, str)]
    single = found.get((record.task_id, "return_value"))
    return reissued[0] if reissued else single if isinstance(single, str) else None


def run_conf(dag_id: str, run_id: str) -> dict[str, Any]:
    """The conf a DAG run was triggered with (its params), or ``{}``."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        conf = session.scalar(select(DagRun.conf).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
    return dict(conf or {})


@dataclass
class _Cached(Generic[T]):
    value: T
    error: str | None
    expires_at: float


class TTLCache(Generic[T]):
    """One value per key, refreshed at most every ``ttl`` seconds; concurrent callers share a fetch.

    A failure is remembered for ``error_ttl`` only, so a blip at Wix does not stick for long.
    """

    def __init__(self, ttl: float, error_ttl: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.error_ttl = error_ttl
        self.clock = clock
        self._entries: dict[str, _Cached[T]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: str, fetch: Callable[[], T], fallback: T) -> tuple[T, str | None]:
        """``(value, error)``: a failed fetch returns the last good value (or ``fallback``) and why."""
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            entry = self._entries.get(key)
            if entry is not None and self.clock() < entry.expires_at:
                return entry.value, entry.error
            try:
                entry = _Cached(fetch(), None, self.clock() + self.ttl)
            except Exception as exc:
                log.warning("Wix dashboard: fetching %s failed", key, exc_info=True)
                previous = entry.value if entry is not None else fallback
                entry = _Cached(previous, f"{type(exc).__name__}: {exc}", self.clock() + self.error_ttl)
            self._entries[key] = entry
            return entry.value, entry.error

    def clear(self) -> None:
        with self._guard:
            self._entries.clear()


_connections: TTLCache[list[CalendarConnection]] = TTLCache(CONNECTIONS_TTL)
_providers: TTLCache[dict[str, str]] = TTLCache(PROVIDERS_TTL)
_owners: TTLCache[dict[str, str]] = TTLCache(PROVIDERS_TTL)


def _hook(wix_conn_id: str) -> WixHook:
    """A person is waiting for the page: one quick retry at most, then show what Airflow knows."""
    from airflow_provider_wix.client.retry import RetryPolicy
    from airflow_provider_wix.hooks.wix import WixHook

    return WixHook(wix_conn_id=wix_conn_id, timeout=(5, 15), retry=RetryPolicy(max_attempts=2, max_total_seconds=5))


def wix_connections(wix_conn_id: str) -> tuple[list[CalendarConnection], str | None]:
    """All of the site's calendar connections (cached briefly), and the error if Wix failed."""

    def fetch() -> list[CalendarConnection]:
        hook = _hook(wix_conn_id)
        try:
            return hook.list_connections(partial_failure=True)
        finally:
            hook.close()

    return _connections.get(wix_conn_id, fetch, [])


def provider_names(wix_conn_id: str) -> dict[str, str]:
    """Provider id → a short name ("Google"), for dashboard rows neither a connection nor a flow record names.

    Only the dashboard (behind Airflow's login) asks; the owners' landing page reads the flow record.
    """

    def fetch() -> dict[str, str]:
        hook = _hook(wix_conn_id)
        try:
            return {str(p["id"]): provider_display_name(p) for p in hook.list_providers() if p.get("id")}
        finally:
            hook.close()

    names, _ = _providers.get(wix_conn_id, fetch, {})
    return names


def owner_names(wix_conn_id: str) -> dict[str, str]:
    """Schedule id → the staff member's name (Query Staff Members, cached); empty if Wix cannot say.

    For dashboard rows whose flow record names no owner (or that have no record); never for the owners' pages.
    """

    def fetch() -> dict[str, str]:
        hook = _hook(wix_conn_id)
        try:
            return {m.schedule_id: m.name for m in hook.iter_staff_members(service_providers=None) if m.schedule_id}
        finally:
            hook.close()

    names, _ = _owners.get(wix_conn_id, fetch, {})
    return names


def clear_caches() -> None:
    _connections.clear()
    _providers.clear()
    _owners.clear()
