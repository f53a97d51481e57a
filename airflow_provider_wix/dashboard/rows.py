"""One dashboard row per schedule, merged from the provider's flow records and Wix's connections.

A pending link is what a person is waiting on, so it wins; otherwise a live connection is the truth
about the schedule; otherwise the latest flow says how the last onboarding ended. Plain Python (the
sensors' words for a broken connection aside), so the benchmark builds rows without an API server.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import TYPE_CHECKING, Any

from airflow_provider_wix.callback.state import FlowStatus
from airflow_provider_wix.client.models import OAuthCallbackError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

    from airflow_provider_wix.callback.state import FlowRecord
    from airflow_provider_wix.client.models import CalendarConnection

#: How calendar types read in the table.
CALENDAR_TYPE_NAMES = {"GOOGLE": "Google", "MICROSOFT": "Microsoft", "I_CAL": "Apple", "APPLE": "Apple"}
#: A row's provider when neither Wix's connection nor the flow record names it.
UNKNOWN_PROVIDER = "unknown provider"


def provider_display_name(provider: Mapping[str, Any]) -> str:
    """A provider as pages name it: "Google" by its calendar type, else its name, else its id."""
    return CALENDAR_TYPE_NAMES.get(str(provider.get("calendarType")), str(provider.get("name") or provider.get("id")))


class LazyNames(Mapping[str, str]):
    """A name lookup fetched on its first use: a page whose flow records name everyone asks Wix nothing."""

    def __init__(self, fetch: Callable[[], Mapping[str, str]]) -> None:
        self._fetch = fetch
        self._names: Mapping[str, str] | None = None

    def _loaded(self) -> Mapping[str, str]:
        if self._names is None:
            self._names = self._fetch()
        return self._names

    def __getitem__(self, key: str) -> str:
        return self._loaded()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())


class RowStatus(str, Enum):
    PENDING = "pending"
    CONNECTED = "CONNECTED"
    SYNC_IN_PROGRESS = "SYNC_IN_PROGRESS"
    SYNCED = "SYNCED"
    ERROR = "ERROR"
    DISCONNECTED = "DISCONNECTED"
    DECLINED = "declined"
    EXPIRED = "expired"
    UNSUPPORTED = "unsupported"
    WIX_ERROR = "wix_error"
    CANCELLED = "cancelled"


STATUS_LABELS = {
    RowStatus.PENDING: "Link pending",
    RowStatus.CONNECTED: "Connected",
    RowStatus.SYNC_IN_PROGRESS: "Syncing",
    RowStatus.SYNCED: "Synced",
    RowStatus.ERROR: "Error",
    RowStatus.DISCONNECTED: "Disconnected",
    RowStatus.DECLINED: "Declined",
    RowStatus.EXPIRED: "Link expired",
    RowStatus.UNSUPPORTED: "Unsupported account",
    RowStatus.WIX_ERROR: "Wix failed",
    RowStatus.CANCELLED: "Cancelled",
}

HEALTHY = frozenset({RowStatus.CONNECTED, RowStatus.SYNC_IN_PROGRESS, RowStatus.SYNCED})
NEEDS_ATTENTION = frozenset(
    {
        RowStatus.ERROR,
        RowStatus.DISCONNECTED,
        RowStatus.DECLINED,
        RowStatus.EXPIRED,
        RowStatus.UNSUPPORTED,
        RowStatus.WIX_ERROR,
    }
)


@dataclass(frozen=True)
class FlowEntry:
    """A flow record and the id the dashboard's actions address it by (its state digest)."""

    flow_id: str
    record: FlowRecord


@dataclass(frozen=True)
class DashboardRow:
    schedule_id: str
    owner: str | None
    provider: str
    status: RowStatus
    detail: str
    dag_id: str | None
    run_id: str | None
    task_id: str | None
    map_index: int
    flow_id: str | None
    connection_id: str | None
    last_change: datetime | None
    expires_at: datetime | None

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def is_pending(self) -> bool:
        return self.status is RowStatus.PENDING

    @property
    def group(self) -> str:
        if self.status is RowStatus.PENDING:
            return "pending"
        if self.status in HEALTHY:
            return "connected"
        if self.status in NEEDS_ATTENTION:
            return "attention"
        return "closed"

    def as_json(self) -> dict[str, Any]:
        return {
            "scheduleId": self.schedule_id,
            "owner": self.owner,
            "provider": self.provider,
            "status": self.status.value,
            "label": self.label,
            "detail": self.detail,
            "dagId": self.dag_id,
            "runId": self.run_id,
            "taskId": self.task_id,
            "mapIndex": self.map_index,
            "flowId": self.flow_id,
            "connectionId": self.connection_id,
            "lastChange": self.last_change.isoformat() if self.last_change else None,
            "expiresAt": self.expires_at.isoformat() if self.expires_at else None,
        }


def describe_age(delta: timedelta) -> str:
    """``"3 min"``, ``"5 h"``, ``"2 d"``: how long ago, or how long still, at a glance."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _flow_status(record: FlowRecord, now: datetime) -> tuple[RowStatus, str]:
    if record.status is FlowStatus.CANCELLED:
        return RowStatus.CANCELLED, f"cancelled by {record.cancelled_by or 'an Airflow user'}"
    if record.is_pending:
        if record.is_expired(now):
            return RowStatus.EXPIRED, "the owner did not answer before the link expired; onboard again"
        issued = _parse_time(record.issued_at) or now
        return (
            RowStatus.PENDING,
            f"sent {describe_age(now - issued)} ago, valid {describe_age(record.expires - now)} more",
        )
    if record.error is OAuthCallbackError.REJECT:
        return RowStatus.DECLINED, "the owner declined the authorization request"
    if record.error is OAuthCallbackError.UNSUPPORTED:
        return RowStatus.UNSUPPORTED, "the provider does not support this type of account"
    if record.error is OAuthCallbackError.INTERNAL:
        return RowStatus.WIX_ERROR, "Wix failed to complete the connection; the sensor retries with a new link"
    return RowStatus.CONNECTED, "the owner approved; Wix is setting the connection up"


def _connection_status(connection: CalendarConnection) -> tuple[RowStatus, str]:
    raw = str(connection.get("status") or "")
    try:
        status = RowStatus(raw)
    except ValueError:
        return RowStatus.ERROR, f"unknown connection status {raw!r}"
    if status in (RowStatus.ERROR, RowStatus.DISCONNECTED):
        from airflow_provider_wix.sensors.external_calendars import explain_connection_problem

        return status, explain_connection_problem(connection)
    words = {
        RowStatus.CONNECTED: "connected; Wix starts syncing shortly",
        RowStatus.SYNC_IN_PROGRESS: "Wix is syncing the calendar",
        RowStatus.SYNCED: "busy times are in sync",
    }
    detail = words.get(status, raw)
    email = connection.get("externalAccountEmail")
    return status, f"{detail} ({email})" if email else detail


def build_rows(
    flows: Iterable[FlowEntry],
    connections: Iterable[CalendarConnection],
    *,
    provider_names: Mapping[str, str] | None = None,
    owner_names: Mapping[str, str] | None = None,
    default_dag_id: str | None = None,
    now: datetime | None = None,
) -> list[DashboardRow]:
    """Merge flows and connections into one row per schedule, the rows needing a look first.

    ``default_dag_id`` is the DAG a connection with no flow record is attributed to (for permissions
    and for the re-onboard action).
    """
    now = now or datetime.now(timezone.utc)
    # ``is None``, not ``or``: a LazyNames must not be fetched just to test whether it is empty.
    provider_names = {} if provider_names is None else provider_names
    owner_names = {} if owner_names is None else owner_names

    latest_flow: dict[str, FlowEntry] = {}
    for flow in flows:
        current = latest_flow.get(flow.record.schedule_id)
        if current is None or flow.record.issued_at > current.record.issued_at:
            latest_flow[flow.record.schedule_id] = flow

    live: dict[str, CalendarConnection] = {}
    gone: dict[str, CalendarConnection] = {}
    for listed in connections:
        schedule_id = listed.get("scheduleId")
        if not schedule_id:
            continue
        bucket = gone if listed.get("status") == "DISCONNECTED" else live
        bucket.setdefault(schedule_id, listed)

    rows = []
    for schedule_id in latest_flow.keys() | live.keys() | gone.keys():
        entry = latest_flow.get(schedule_id)
        record = entry.record if entry else None
        connection = live.get(schedule_id) or gone.get(schedule_id)
        if record is not None and ((record.is_pending and not record.is_expired(now)) or connection is None):
            status, detail = _flow_status(record, now)
        elif connection is not None and (schedule_id in live or record is None):
            status, detail = _connection_status(connection)
        else:
            assert record is not None
            status, detail = _flow_status(record, now)
        provider = _provider_label(record, connection, provider_names)
        last_change = None
        if record is not None:
            last_change = _parse_time(record.completed_at) or _parse_time(record.issued_at)
        rows.append(
            DashboardRow(
                schedule_id=schedule_id,
                owner=(record.owner_name if record else None) or owner_names.get(schedule_id),
                provider=provider,
                status=status,
                detail=detail,
                dag_id=record.dag_id if record else default_dag_id,
                run_id=record.run_id if record else None,
                task_id=record.task_id if record else None,
                map_index=record.map_index if record else -1,
                flow_id=entry.flow_id if entry and status is RowStatus.PENDING else None,
                connection_id=(connection or {}).get("id") or (record.connection_id if record else None),
                last_change=last_change,
                expires_at=record.expires if record and status is RowStatus.PENDING else None,
            )
        )
    order = {"attention": 0, "pending": 1, "connected": 2, "closed": 3}
    epoch = datetime.min.replace(tzinfo=timezone.utc)
    rows.sort(key=lambda r: (order[r.group], -(r.last_change or epoch).timestamp(), r.schedule_id))
    return rows


def _provider_label(record: FlowRecord | None, connection: CalendarConnection | None, names: Mapping[str, str]) -> str:
    if connection is not None and connection.get("calendarType"):
        kind = str(connection["calendarType"])
        return CALENDAR_TYPE_NAMES.get(kind, kind.title())
    if record is not None and record.provider_name:
        return record.provider_name
    provider_id = (record.provider_id if record else None) or (connection or {}).get("providerId")
    return names.get(provider_id or "", UNKNOWN_PROVIDER)


def count_rows(rows: Sequence[DashboardRow]) -> dict[str, int]:
    """The numbers at the top: pending links, healthy connections, rows needing a look."""
    groups = Counter(row.group for row in rows)
    return {
        "pending": groups["pending"],
        "connected": groups["connected"],
        "attention": groups["attention"],
        "total": len(rows),
    }


def onboardings_per_day(
    flows: Iterable[FlowEntry], *, days: int = 14, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Links sent and calendars connected per UTC day over the last ``days`` days, oldest first."""
    now = now or datetime.now(timezone.utc)
    first = (now - timedelta(days=days - 1)).date()
    sent: Counter[Any] = Counter()
    connected: Counter[Any] = Counter()
    for entry in flows:
        issued = _parse_time(entry.record.issued_at)
        if issued is not None and issued.date() >= first:
            sent[issued.date()] += 1
        done = _parse_time(entry.record.completed_at)
        if entry.record.connection_id and done is not None and done.date() >= first:
            connected[done.date()] += 1
    return [
        {"day": day.isoformat(), "sent": sent[day], "connected": connected[day]}
        for day in (first + timedelta(days=i) for i in range(days))
    ]
