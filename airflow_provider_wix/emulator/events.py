"""Deterministic, lazily generated external-calendar events.

Every imported calendar of a connection is one or two *streams* (timed events, all-day events).
Event ``i`` of a stream starts somewhere inside slot ``i`` (``[i*slot, (i+1)*slot)``), so starts
grow with ``i`` and the first event of any time window is found by arithmetic, not by scanning.
Its offset, duration and title come from a hash of (seed, connection, calendar, i): the same query
always gives the same events, and nothing is stored. A page is a k-way merge of the streams from a
resume key, so a million-event query holds one page (plus one pending item per stream) in memory.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import json
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import islice
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

__all__ = [
    "DAY_MS",
    "CursorCodec",
    "EventJsonRenderer",
    "EventStream",
    "Item",
    "format_ms",
    "iter_merged",
    "parse_rfc3339_ms",
    "render_event",
    "stable_hash",
    "take_page",
]

DAY_MS = 86_400_000
_M64 = (1 << 64) - 1
_TIMED_STEP_MS = 15 * 60_000
_TIMED_MAX_STEPS = 12  # timed events last 15 min .. 3 h
_ALL_DAY_MAX_DAYS = 3

TIMED_TITLES = (
    "Dentist",
    "Team sync",
    "Lunch with Sam",
    "Gym",
    "School run",
    "Doctor",
    "Client call",
    "Yoga class",
    "Haircut",
    "Parent-teacher meeting",
    "Flight",
    "Car service",
    "Physio",
    "Coffee with Alex",
    "Budget review",
    "Piano lesson",
)
ALL_DAY_TITLES = ("Vacation", "Conference", "Day off", "Public holiday", "Training day", "Family visit")

# (start_ms, stream key, index, end_ms, hash, stream position): tuples compare on the first three.
Item = tuple[int, str, int, int, int, int]


def stable_hash(*parts: object) -> int:
    """A 64-bit hash that, unlike ``hash()``, is the same in every process."""
    digest = hashlib.blake2b("\x1f".join(str(p) for p in parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _mix(x: int) -> int:
    """splitmix64 finaliser: cheap, well-spread bits per event."""
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


_day_prefix_cache: dict[int, str] = {}
# Lookup tables: formatting is the hottest part of serving a page of events.
_HHMM = [f"{h:02d}:{m:02d}:" for h in range(24) for m in range(60)]
_SS = [f"{s:02d}." for s in range(60)]
_MMMZ = [f"{x:03d}Z" for x in range(1000)]


def format_ms(ms: int) -> str:
    """RFC 3339 UTC with millisecond precision, as Wix sends it: ``2026-10-05T09:30:00.000Z``."""
    day, rest = divmod(ms, DAY_MS)
    prefix = _day_prefix_cache.get(day)
    if prefix is None:
        prefix = time.strftime("%Y-%m-%dT", time.gmtime(day * 86_400))
        if len(_day_prefix_cache) > 4096:
            _day_prefix_cache.clear()
        _day_prefix_cache[day] = prefix
    minute, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return prefix + _HHMM[minute] + _SS[secs] + _MMMZ[millis]


def parse_rfc3339_ms(value: str) -> int:
    """Parse an RFC 3339 date-time (``Z`` or offset; a missing offset means UTC) to epoch ms.

    Raises ``ValueError`` for anything else, including a bare date.
    """
    text = value.strip()
    if "T" not in text and "t" not in text:
        raise ValueError("not a date-time")
    if text[-1] in "zZ":
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return round(parsed.timestamp() * 1000)


@dataclass(frozen=True)
class EventStream:
    """One calendar's timed or all-day events, with the fields every event of it shares."""

    key: str
    base: int
    all_day: bool
    slot_ms: int
    unit_ms: int
    max_duration_ms: int
    schedule_id: str
    calendar_type: str
    calendar_name: str
    owner_id: str
    owner_name: str
    provider_id: str

    @classmethod
    def timed(cls, *, events_per_day: float, **fields: Any) -> EventStream:
        slot = max(1, round(DAY_MS / events_per_day))
        unit = next(u for u in (_TIMED_STEP_MS, 300_000, 60_000, 1000, 1) if u <= slot)
        return cls(
            all_day=False,
            slot_ms=slot,
            unit_ms=unit,
            max_duration_ms=_TIMED_STEP_MS * _TIMED_MAX_STEPS,
            **fields,
        )

    @classmethod
    def all_day_every(cls, *, days: int, **fields: Any) -> EventStream:
        return cls(
            all_day=True,
            slot_ms=days * DAY_MS,
            unit_ms=DAY_MS,
            max_duration_ms=_ALL_DAY_MAX_DAYS * DAY_MS,
            **fields,
        )

    def event_at(self, i: int) -> tuple[int, int, int]:
        """``(start_ms, end_ms, hash)`` of event ``i``."""
        h = _mix((self.base + i) & _M64)
        start = i * self.slot_ms + (h % (self.slot_ms // self.unit_ms)) * self.unit_ms
        if self.all_day:
            days = 1 if (h >> 20) % 5 else 1 + (h >> 24) % _ALL_DAY_MAX_DAYS
            return start, start + days * DAY_MS, h
        return start, start + _TIMED_STEP_MS * (1 + (h >> 20) % _TIMED_MAX_STEPS), h

    def iter_items(self, position: int, from_ms: int, to_ms: int, after: tuple[int, str, int] | None) -> Iterator[Item]:
        """Events overlapping ``[from_ms, to_ms)`` (end > from, start < to), after ``after``, by start."""
        slot = self.slot_ms
        # Event i ends before (i + 1) * slot + max_duration, so earlier ones cannot reach from_ms.
        i = (from_ms - self.max_duration_ms) // slot - 1
        if after is not None:
            i = max(i, after[0] // slot - 1)  # event i starts before (i + 1) * slot
        key = self.key
        event_at = self.event_at
        while True:
            start, end, h = event_at(i)
            if start >= to_ms:
                return
            if end > from_ms and (after is None or (start, key, i) > after):
                yield (start, key, i, end, h, position)
            i += 1


def render_event(stream: EventStream, start: int, end: int, h: int, own_pi: bool) -> dict[str, Any]:
    """The wire form of one event; ``NO_PI`` leaves out title, calendarName and scheduleOwnerName."""
    event: dict[str, Any] = {"scheduleId": stream.schedule_id, "calendarType": stream.calendar_type}
    if own_pi:
        titles = ALL_DAY_TITLES if stream.all_day else TIMED_TITLES
        event["calendarName"] = stream.calendar_name
        event["title"] = titles[(h >> 40) % len(titles)]
    event["start"] = format_ms(start)
    event["end"] = format_ms(end)
    if stream.all_day:
        event["allDay"] = True
    event["scheduleOwnerId"] = stream.owner_id
    if own_pi:
        event["scheduleOwnerName"] = stream.owner_name
    return event


def _dumps(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


_TIMED_TITLES_JSON = tuple(_dumps(t) for t in TIMED_TITLES)
_ALL_DAY_TITLES_JSON = tuple(_dumps(t) for t in ALL_DAY_TITLES)


class EventJsonRenderer:
    """``render_event`` straight to JSON text, from per-stream fragments escaped once.

    Serving a million events is mostly rendering, and this is several times faster than building
    dicts and encoding them; a test checks it gives exactly ``render_event``'s JSON.
    """

    def __init__(self, streams: Sequence[EventStream], own_pi: bool) -> None:
        self.own_pi = own_pi
        self.fragments: list[tuple[str, str, tuple[str, ...]]] = []
        for stream in streams:
            head = f'{{"scheduleId":{_dumps(stream.schedule_id)},"calendarType":{_dumps(stream.calendar_type)}'
            tail = f',"scheduleOwnerId":{_dumps(stream.owner_id)}'
            if own_pi:
                head += f',"calendarName":{_dumps(stream.calendar_name)},"title":'
                tail += f',"scheduleOwnerName":{_dumps(stream.owner_name)}'
            tail += "}"
            all_day = ',"allDay":true' if stream.all_day else ""
            titles = _ALL_DAY_TITLES_JSON if stream.all_day else _TIMED_TITLES_JSON
            self.fragments.append((head, all_day + tail, titles))

    def render(self, item: Item) -> str:
        head, tail, titles = self.fragments[item[5]]
        times = f'"start":"{format_ms(item[0])}","end":"{format_ms(item[3])}"'
        if self.own_pi:
            return f"{head}{titles[(item[4] >> 40) % len(titles)]},{times}{tail}"
        return f"{head},{times}{tail}"


def iter_merged(
    streams: Sequence[EventStream], from_ms: int, to_ms: int, after: tuple[int, str, int] | None = None
) -> Iterator[Item]:
    """All streams merged by (start, stream key, index): a total order, so a cursor can resume it."""
    return heapq.merge(*(s.iter_items(n, from_ms, to_ms, after) for n, s in enumerate(streams)))


def take_page(
    streams: Sequence[EventStream],
    from_ms: int,
    to_ms: int,
    after: tuple[int, str, int] | None,
    limit: int,
) -> tuple[list[Item], bool]:
    """Up to ``limit`` items after ``after`` and whether more follow (one look-ahead item)."""
    items = list(islice(iter_merged(streams, from_ms, to_ms, after), limit + 1))
    return items[:limit], len(items) > limit


class CursorCodec:
    """Opaque, tamper-evident cursors: the query and the last key, base64url JSON plus an HMAC."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _sign(self, payload: bytes) -> str:
        mac = hmac.new(self._secret, payload, hashlib.sha256).digest()[:18]
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def encode(self, data: dict[str, Any]) -> str:
        payload = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
        body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        return f"{body}.{self._sign(payload)}"

    def decode(self, token: str) -> dict[str, Any]:
        """The cursor's data; ``ValueError`` if it is malformed or was not issued here."""
        body, sep, signature = token.partition(".")
        if not sep or not body:
            raise ValueError("malformed cursor")
        try:
            payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (ValueError, TypeError) as exc:
            raise ValueError("malformed cursor") from exc
        if not hmac.compare_digest(self._sign(payload), signature):
            raise ValueError("cursor was not issued by this server")
        data = json.loads(payload)
        if not isinstance(data, dict):
            raise ValueError("malformed cursor")
        return data
