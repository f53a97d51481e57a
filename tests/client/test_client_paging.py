"""List Events follows cursors lazily, page by page, with flat memory."""

from __future__ import annotations

import gc
import logging
import time
import tracemalloc

import pytest

from airflow_provider_wix.client import WixServerError
from tests.client.wix_client_support import SCHEDULE_ID, Reply

EVENTS = "/bookings/v2/external-calendars/events"
FROM, TO = "2026-10-05T00:00:00Z", "2026-10-12T00:00:00Z"


def event(n: int) -> dict:
    return {
        "scheduleId": SCHEDULE_ID,
        "calendarType": "GOOGLE",
        "start": f"2026-10-05T{n % 24:02d}:00:00.000Z",
        "end": f"2026-10-05T{n % 24:02d}:30:00.000Z",
        "scheduleOwnerId": "5d9a590c-2644-475d-881f-c246dcf3d2d4",
    }


def page(numbers: range, cursor: str | None) -> Reply:
    paging: dict = {"count": len(numbers), "hasNext": cursor is not None}
    if cursor:
        paging["cursors"] = {"next": cursor}
    return Reply(200, {"events": [event(n) for n in numbers], "pagingMetadata": paging})


def test_three_pages_in_order(scripted, client):
    scripted.on("GET", EVENTS, page(range(0, 2), "JWE.c1"), page(range(2, 4), "JWE.c2"), page(range(4, 5), None))

    events = client.list_events(FROM, TO, schedule_ids=[SCHEDULE_ID], page_size=2, fieldsets="OWN_PI")

    assert events == [event(n) for n in range(5)]
    first, second, third = (r.request_line for r in scripted.requests)
    assert first == (
        f"GET {EVENTS}?from=2026-10-05T00:00:00.000Z&to=2026-10-12T00:00:00.000Z"
        f"&scheduleIds={SCHEDULE_ID}&fieldsets=OWN_PI&cursorPaging.limit=2 HTTP/1.1"
    )
    # Follow-up pages carry the cursor (which encodes the query), as in the documented next-page example.
    assert second == f"GET {EVENTS}?cursorPaging.limit=2&cursorPaging.cursor=JWE.c1 HTTP/1.1"
    assert third == f"GET {EVENTS}?cursorPaging.limit=2&cursorPaging.cursor=JWE.c2 HTTP/1.1"


def test_partial_failure_flag_is_kept_on_every_page(scripted, client, caplog):
    failed = "f3cfdae7-2a33-496e-a6e9-1220720b1a13"
    first = page(range(0, 1), "c1")
    first.json["failedProviderIds"] = [failed]
    second = page(range(1, 2), None)
    second.json["failedProviderIds"] = [failed]
    scripted.on("GET", EVENTS, first, second)

    assert len(client.list_events(FROM, TO, partial_failure=True)) == 2

    assert all(("partialFailure", "true") in r.query for r in scripted.requests)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1  # once per failed provider, not once per page
    assert failed in warnings[0]


def test_iteration_is_lazy(scripted, client):
    scripted.on("GET", EVENTS, page(range(0, 2), "c1"), page(range(2, 4), "c2"), page(range(4, 6), None))

    events = client.iter_events(FROM, TO, page_size=2)
    assert scripted.requests == []  # nothing is fetched before the first next()
    assert next(events) == event(0)
    assert len(scripted.requests) == 1
    assert next(events) == event(1)
    assert len(scripted.requests) == 1
    assert next(events) == event(2)
    assert len(scripted.requests) == 2
    events.close()
    assert len(scripted.requests) == 2


def test_pages_are_yielded_whole(scripted, client):
    scripted.on("GET", EVENTS, page(range(0, 2), "c1"), page(range(2, 3), None))
    pages = list(client.iter_event_pages(FROM, TO, page_size=2))
    assert [len(p["events"]) for p in pages] == [2, 1]
    assert pages[0]["pagingMetadata"] == {"count": 2, "hasNext": True, "cursors": {"next": "c1"}}


def test_empty_result(scripted, client):
    scripted.on("GET", EVENTS, Reply(200, {"pagingMetadata": {"count": 0, "hasNext": False}}))
    assert client.list_events(FROM, TO) == []


def test_missing_has_next_follows_a_cursor(scripted, client):
    scripted.on(
        "GET",
        EVENTS,
        Reply(200, {"events": [event(0)], "pagingMetadata": {"cursors": {"next": "c1"}}}),
        Reply(200, {"events": [event(1)], "pagingMetadata": {}}),
    )
    assert len(client.list_events(FROM, TO)) == 2


@pytest.mark.parametrize(
    ("second_paging", "message"),
    [
        ({"hasNext": True}, "no cursors.next"),
        ({"hasNext": True, "cursors": {"next": "c1"}}, "repeats"),
    ],
)
def test_broken_paging_fails_instead_of_truncating_or_looping(scripted, client, second_paging, message):
    scripted.on(
        "GET",
        EVENTS,
        page(range(0, 1), "c1"),
        Reply(200, {"events": [event(1)], "pagingMetadata": second_paging}),
    )
    events = client.iter_events(FROM, TO)
    assert next(events) == event(0)
    assert next(events) == event(1)
    with pytest.raises(WixServerError, match=message):
        next(events)


def test_a_failing_page_is_retried_in_the_middle_of_the_stream(scripted, client):
    scripted.on("GET", EVENTS, page(range(0, 2), "c1"), Reply(503), page(range(2, 3), None))
    assert len(client.list_events(FROM, TO, page_size=2)) == 3
    assert scripted.requests[1].query == scripted.requests[2].query


def _serve_pages(scripted, total_pages: int, per_page: int) -> None:
    """Pages generated on demand from the cursor, so the server holds nothing either."""
    import json

    def reply(req) -> Reply:
        number = int(dict(req.query).get("cursorPaging.cursor", "0"))
        nxt = number + 1 if number + 1 < total_pages else None
        body = {
            "events": [event(i) for i in range(per_page)],
            "pagingMetadata": {"count": per_page, "hasNext": nxt is not None},
        }
        if nxt is not None:
            body["pagingMetadata"]["cursors"] = {"next": str(nxt)}
        return Reply(200, body=json.dumps(body).encode())

    scripted.on("GET", EVENTS, default=reply)


def _peak_while_streaming(client, pages: int) -> tuple[int, int]:
    gc.collect()
    tracemalloc.start()
    count = sum(1 for _ in client.iter_events(FROM, TO, page_size=1000))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return count, peak


def test_memory_stays_flat_across_many_pages(scripted, client, record_property):
    _serve_pages(scripted, total_pages=40, per_page=1000)
    # Warm up imports and pools, then compare 4 pages with 40 pages served by the same kind of server.
    started = time.monotonic()
    count_40, peak_40 = _peak_while_streaming(client, 40)
    seconds = time.monotonic() - started
    scripted.requests.clear()

    _serve_pages(scripted, total_pages=4, per_page=1000)
    count_4, peak_4 = _peak_while_streaming(client, 4)

    assert (count_40, count_4) == (40_000, 4_000)
    assert peak_40 < peak_4 * 1.5, (peak_4, peak_40)
    record_property("events_per_second", round(count_40 / seconds))
    record_property("peak_bytes_40_pages", peak_40)
