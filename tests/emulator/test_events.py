"""List Events: deterministic generation, overlap filter, filters, PI fieldsets, cursor paging, memory."""

from __future__ import annotations

import json
import sys
import time
import tracemalloc
from typing import Any

import psutil
import pytest

from airflow_provider_wix.emulator import APPLE_PROVIDER_ID, GOOGLE_PROVIDER_ID, MICROSOFT_PROVIDER_ID
from airflow_provider_wix.emulator.events import parse_rfc3339_ms
from airflow_provider_wix.emulator.state import ListEventsQuery
from tests.emulator.conftest import API, WixHttp, violations

WEEK = {"from": "2026-10-05T00:00:00.000Z", "to": "2026-10-12T00:00:00.000Z"}
PI_KEYS = {"title", "calendarName", "scheduleOwnerName"}


def ms(value: str) -> int:
    return parse_rfc3339_ms(value)


def list_events(wix: WixHttp, params: Any = None, **kwargs: Any) -> dict[str, Any]:
    response = wix.get(f"{API}/events", params=params, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def all_pages(wix: WixHttp, params: dict[str, Any], limit: int) -> tuple[list[dict[str, Any]], list[dict]]:
    """Every event of a query, following cursors; also the pages' pagingMetadata."""
    events: list[dict[str, Any]] = []
    metas = []
    page = list_events(wix, {**params, "cursorPaging.limit": limit})
    while True:
        events += page["events"]
        metas.append(page["pagingMetadata"])
        if not page["pagingMetadata"]["hasNext"]:
            return events, metas
        page = list_events(
            wix, {"cursorPaging.cursor": page["pagingMetadata"]["cursors"]["next"], "cursorPaging.limit": limit}
        )


@pytest.fixture
def site(wix: WixHttp) -> dict[str, Any]:
    """Three synced connections on three staff schedules (Google, Apple with two calendars, Microsoft)."""
    state = wix.emulator.state
    schedules = state.staff_schedules()
    google = state.create_connection(GOOGLE_PROVIDER_ID, schedules[0].id)
    apple = state.create_connection(APPLE_PROVIDER_ID, schedules[1].id, sync_config={})
    cal_ids = [c["id"] for c in state.calendars(apple["id"])][:2]
    body = {
        "syncConfig": {
            "listEventFromCalendars": {"enabled": True, "calendars": {"calendars": [{"id": i} for i in cal_ids]}}
        }
    }
    assert wix.patch(f"{API}/connections/{apple['id']}/sync-config", json=body).status_code == 200
    microsoft = state.create_connection(MICROSOFT_PROVIDER_ID, schedules[2].id)
    return {"schedules": schedules, "google": google, "apple": apple, "microsoft": microsoft}


def test_events_are_sorted_deterministic_and_the_same_as_the_state_generator(
    wix: WixHttp, site: dict[str, Any]
) -> None:
    page = list_events(wix, {**WEEK, "cursorPaging.limit": 1000, "fieldsets": "OWN_PI"})
    events = page["events"]
    assert len(events) > 50
    assert page["pagingMetadata"] == {"count": len(events), "hasNext": False}
    starts = [ms(e["start"]) for e in events]
    assert starts == sorted(starts)
    assert list_events(wix, {**WEEK, "cursorPaging.limit": 1000, "fieldsets": "OWN_PI"}) == page
    assert list(wix.emulator.state.events(WEEK["from"], WEEK["to"], fieldsets=["OWN_PI"])) == events
    assert {e["scheduleId"] for e in events} == {s.id for s in site["schedules"][:3]}
    assert {e["calendarType"] for e in events} == {"GOOGLE", "I_CAL", "MICROSOFT"}
    for event in events:
        assert event["start"].endswith("Z") and len(event["start"]) == len("2026-10-05T09:30:00.000Z")
        assert ms(event["end"]) > ms(event["start"])


@pytest.mark.parametrize("own_pi", [False, True])
def test_the_fast_json_renderer_equals_the_dict_renderer(wix: WixHttp, own_pi: bool) -> None:
    """The route renders JSON text directly; it must be exactly the JSON of the dict rendering."""
    state = wix.emulator.state
    odd = state.add_schedule(owner_name='Zoë "Q" O\'Brien \\ ünïcode')
    state.create_connection(GOOGLE_PROVIDER_ID, odd.id)
    state.create_connection(APPLE_PROVIDER_ID, state.staff_schedules()[0].id)
    query = ListEventsQuery(ms("2026-10-01T00:00:00Z"), ms("2026-11-01T00:00:00Z"), own_pi=own_pi)
    as_dicts = state.list_events_page(query, limit=1000)
    assert any(e.get("allDay") for e in as_dicts["events"]) and len(as_dicts["events"]) > 200
    assert json.loads(state.list_events_page_json(query, limit=1000)) == as_dicts
    small = state.list_events_page_json(query, limit=5)
    assert json.loads(small) == state.list_events_page(query, limit=5)
    assert b'"cursors":{"next":' in small


def test_events_differ_by_seed(wix: WixHttp) -> None:
    def generate(seed: int) -> list[dict[str, Any]]:
        wix.emulator.reset(type(wix.emulator.config)(seed=seed))
        schedule = wix.emulator.state.staff_schedules()[0]
        wix.emulator.state.create_connection(GOOGLE_PROVIDER_ID, schedule.id)
        return list(wix.emulator.state.events(WEEK["from"], WEEK["to"]))

    assert generate(1) == generate(1)
    assert generate(1) != generate(2)


def test_overlap_semantics(wix: WixHttp, site: dict[str, Any]) -> None:
    wide = list_events(wix, {"from": "2026-10-01T00:00:00Z", "to": "2026-10-20T00:00:00Z", "cursorPaging.limit": 1000})
    # Cut the window in the middle of an event: it must still be returned.
    middle = next(e for e in wide["events"] if ms(e["end"]) - ms(e["start"]) >= 30 * 60_000 and "allDay" not in e)
    cut = (ms(middle["start"]) + ms(middle["end"])) // 2
    window_from, window_to = cut, cut + 6 * 3600_000
    expected = [e for e in wide["events"] if ms(e["start"]) < window_to and ms(e["end"]) > window_from]
    narrow = list_events(
        wix,
        {
            "from": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(window_from // 1000)) + "Z",
            "to": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(window_to // 1000)) + "Z",
            "cursorPaging.limit": 1000,
        },
    )
    assert narrow["events"] == expected
    assert middle in narrow["events"]


def test_no_pi_by_default_and_own_pi_on_request(wix: WixHttp, site: dict[str, Any]) -> None:
    plain = list_events(wix, {**WEEK, "cursorPaging.limit": 1000})["events"]
    assert plain and all(not PI_KEYS & set(e) for e in plain)
    no_pi = list_events(wix, {**WEEK, "cursorPaging.limit": 1000, "fieldsets": "NO_PI"})["events"]
    assert no_pi == plain
    own = list_events(wix, {**WEEK, "cursorPaging.limit": 1000, "fieldsets": "OWN_PI"})["events"]
    assert all(set(e) >= PI_KEYS for e in own)
    assert [{k: v for k, v in e.items() if k not in PI_KEYS} for e in own] == plain
    names = {s.owner_id: s.owner_name for s in site["schedules"]}
    assert all(names[e["scheduleOwnerId"]] == e["scheduleOwnerName"] for e in own)


def test_all_day_events_and_the_all_day_filter(wix: WixHttp, site: dict[str, Any]) -> None:
    params = {"from": "2026-10-01T00:00:00Z", "to": "2026-11-01T00:00:00Z", "cursorPaging.limit": 1000}
    everything = list_events(wix, params)["events"]
    all_day = list_events(wix, {**params, "allDay": "true"})["events"]
    timed = list_events(wix, {**params, "allDay": "false"})["events"]
    assert all_day and timed
    assert all(e.get("allDay") is True for e in all_day)
    assert all("allDay" not in e for e in timed)  # false is omitted, as in the examples
    assert sorted(map(json.dumps, all_day + timed)) == sorted(map(json.dumps, everything))
    for event in all_day:
        assert event["start"].endswith("T00:00:00.000Z") and event["end"].endswith("T00:00:00.000Z")


def test_schedule_and_user_filters(wix: WixHttp, site: dict[str, Any]) -> None:
    schedules = site["schedules"]
    by_schedule = list_events(wix, [*WEEK.items(), ("scheduleIds", schedules[0].id), ("scheduleIds", schedules[2].id)])[
        "events"
    ]
    assert {e["scheduleId"] for e in by_schedule} == {schedules[0].id, schedules[2].id}
    by_user = list_events(wix, {**WEEK, "userIds": schedules[1].owner_id, "cursorPaging.limit": 1000})["events"]
    assert by_user and {e["scheduleOwnerId"] for e in by_user} == {schedules[1].owner_id}
    assert {e["scheduleId"] for e in by_user} == {schedules[1].id}
    assert list_events(wix, {**WEEK, "scheduleIds": schedules[4].id})["events"] == []


def test_only_synced_connections_with_import_enabled_have_events(wix: WixHttp) -> None:
    state = wix.emulator.state
    schedules = state.staff_schedules()
    state.create_connection(GOOGLE_PROVIDER_ID, schedules[0].id, status="CONNECTED")
    state.create_connection(GOOGLE_PROVIDER_ID, schedules[1].id, status="ERROR", error_reason="TOKEN_REVOKED")
    state.create_connection(APPLE_PROVIDER_ID, schedules[2].id, sync_config={})
    state.create_connection(
        MICROSOFT_PROVIDER_ID, schedules[3].id, sync_config={"listEventFromCalendars": {"enabled": False}}
    )
    assert list_events(wix, WEEK)["events"] == []
    synced = state.create_connection(GOOGLE_PROVIDER_ID, schedules[4].id)
    events = list_events(wix, {**WEEK, "cursorPaging.limit": 1000})["events"]
    assert events and {e["scheduleId"] for e in events} == {synced["scheduleId"]}


def test_specific_calendars_are_the_ones_imported(wix: WixHttp, site: dict[str, Any]) -> None:
    apple_names = {c["name"] for c in wix.emulator.state.calendars(site["apple"]["id"])[:2]}
    params = {**WEEK, "scheduleIds": site["apple"]["scheduleId"], "fieldsets": "OWN_PI", "cursorPaging.limit": 1000}
    names = {e["calendarName"] for e in list_events(wix, params)["events"]}
    assert names == apple_names


def test_paging_over_several_pages_equals_one_big_page(wix: WixHttp, site: dict[str, Any]) -> None:
    one = list_events(wix, {**WEEK, "cursorPaging.limit": 1000})["events"]
    paged, metas = all_pages(wix, WEEK, limit=7)
    assert len(metas) >= 3
    assert paged == one
    for meta in metas[:-1]:
        assert meta["hasNext"] is True and meta["count"] == 7
        assert set(meta) == {"count", "cursors", "hasNext"}
    assert metas[-1] == {"count": len(one) - 7 * (len(metas) - 1), "hasNext": False}


def test_cursor_carries_the_query_and_limit_can_change(wix: WixHttp, site: dict[str, Any]) -> None:
    params = {**WEEK, "scheduleIds": site["google"]["scheduleId"], "fieldsets": "OWN_PI", "cursorPaging.limit": 3}
    first = list_events(wix, params)
    cursor = first["pagingMetadata"]["cursors"]["next"]
    assert site["google"]["scheduleId"] not in cursor and "OWN_PI" not in cursor  # opaque
    second = list_events(wix, {"cursorPaging.cursor": cursor})  # no from/to, no filters
    assert len(second["events"]) == 3
    assert all(e["scheduleId"] == site["google"]["scheduleId"] and "title" in e for e in second["events"])
    bigger = list_events(wix, {"cursorPaging.cursor": cursor, "cursorPaging.limit": 5, **WEEK})
    assert bigger["events"][:3] == second["events"] and len(bigger["events"]) == 5


def test_tampered_cursor_is_400(wix: WixHttp, site: dict[str, Any]) -> None:
    cursor = list_events(wix, {**WEEK, "cursorPaging.limit": 2})["pagingMetadata"]["cursors"]["next"]
    for bad in (cursor[:-2] + "xx", "JWE.made.up", "garbage"):
        response = wix.get(f"{API}/events", params={"cursorPaging.cursor": bad})
        assert [v["field"] for v in violations(response)] == ["cursorPaging.cursor"]


def test_default_page_size(wix: WixHttp, site: dict[str, Any]) -> None:
    page = list_events(wix, {"from": "2026-10-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"})
    assert page["pagingMetadata"]["count"] == wix.emulator.config.default_page_size == 100


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {("from", "REQUIRED_FIELD"), ("to", "REQUIRED_FIELD")}),
        ({"from": "2026-10-05", "to": "yesterday"}, {("from", "FORMAT"), ("to", "FORMAT")}),
        ({"from": WEEK["to"], "to": WEEK["from"]}, {("to", "CUSTOM")}),
        ({**WEEK, "cursorPaging.limit": "1001"}, {("cursorPaging.limit", "MAX")}),
        ({**WEEK, "cursorPaging.limit": "ten"}, {("cursorPaging.limit", "FORMAT")}),
        ({**WEEK, "cursorPaging.limit": "-1"}, {("cursorPaging.limit", "MIN")}),
        ({**WEEK, "scheduleIds": "not-a-guid"}, {("scheduleIds[0]", "FORMAT")}),
        ({**WEEK, "userIds": "x"}, {("userIds[0]", "FORMAT")}),
        ({**WEEK, "scheduleIds": ["4e0579a5-491e-4e70-a872-d097eed6e520"] * 101}, {("scheduleIds", "MAX_SIZE")}),
        ({**WEEK, "fieldsets": "ALL"}, {("fieldsets[0]", "INVALID_ENUM_VALUE")}),
        ({**WEEK, "allDay": "sometimes"}, {("allDay", "FORMAT")}),
    ],
)
def test_list_events_validation(wix: WixHttp, params: dict[str, Any], expected: set[tuple[str, str]]) -> None:
    response = wix.get(f"{API}/events", params=params)
    assert {(v["field"], v["violatedRule"]) for v in violations(response)} == expected


def test_limit_1000_is_allowed_and_offsets_are_accepted(wix: WixHttp, site: dict[str, Any]) -> None:
    utc = list_events(wix, {**WEEK, "cursorPaging.limit": "1000"})
    shifted = list_events(
        wix, {"from": "2026-10-05T02:00:00+02:00", "to": "2026-10-12T02:00:00+02:00", "cursorPaging.limit": 1000}
    )
    assert shifted == utc


def test_partial_failure(wix: WixHttp, site: dict[str, Any]) -> None:
    wix.emulator.state.set_provider_failing(APPLE_PROVIDER_ID)
    failed = wix.get(f"{API}/events", params=WEEK)
    assert failed.status_code == 500
    assert failed.json() == {"message": "", "details": {}}
    page = list_events(wix, {**WEEK, "partialFailure": "true", "cursorPaging.limit": 1000})
    assert page["failedProviderIds"] == [APPLE_PROVIDER_ID]
    assert page["events"] and "I_CAL" not in {e["calendarType"] for e in page["events"]}


def test_a_million_events_page_by_page_with_bounded_server_memory(wix: WixHttp) -> None:
    """1,000,000+ events at 1000 per page: every page is generated on demand, so memory stays flat.

    The server runs in this process, so the process's RSS covers the generation path; holding
    the events would take well over 500 MB (measured below from one page), the test allows 64 MB.
    """
    schedule = wix.emulator.state.staff_schedules()[0]
    # One event a minute, no all-day events: 1440 a day, about 695 days for a million.
    wix.emulator.state.create_connection(GOOGLE_PROVIDER_ID, schedule.id, events_per_day=1440, all_day_every_days=0)
    params = {"from": "2024-01-01T00:00:00Z", "to": "2025-11-26T00:00:00Z"}
    process = psutil.Process()
    rss_before = process.memory_info().rss
    rss_peak = rss_before
    total = pages = 0
    last_start = ""
    page = list_events(wix, {**params, "cursorPaging.limit": 1000})
    one_page_bytes = _deep_size(page["events"])
    started = time.monotonic()
    while True:
        events = page["events"]
        total += len(events)
        pages += 1
        assert page["pagingMetadata"]["count"] == len(events)
        assert events[0]["start"] >= last_start  # sorted across page boundaries too
        last_start = events[-1]["start"]
        if pages % 50 == 0:
            rss_peak = max(rss_peak, process.memory_info().rss)
        if not page["pagingMetadata"]["hasNext"]:
            break
        assert len(events) == 1000
        page = list_events(
            wix, {"cursorPaging.cursor": page["pagingMetadata"]["cursors"]["next"], "cursorPaging.limit": 1000}
        )
    elapsed = time.monotonic() - started
    growth = rss_peak - rss_before
    holding_all = one_page_bytes * total / 1000
    print(
        f"\n{total} events in {pages} pages, {elapsed:.1f} s; RSS growth {growth / 1e6:.1f} MB; "
        f"holding them all would take ~{holding_all / 1e6:.0f} MB"
    )
    assert total >= 1_000_000
    assert pages == -(-total // 1000)
    assert holding_all > 500e6
    assert growth < 64e6


def test_generating_more_events_does_not_need_more_memory(wix: WixHttp) -> None:
    """tracemalloc peak while generating ~3,000 vs ~30,000 events: the same small amount."""
    schedule = wix.emulator.state.staff_schedules()[0]
    wix.emulator.state.create_connection(GOOGLE_PROVIDER_ID, schedule.id, events_per_day=1440)
    state = wix.emulator.state

    def peak(days: int) -> tuple[int, int]:
        tracemalloc.start()
        try:
            count = sum(
                1 for _ in state.events(ms("2025-01-01T00:00:00Z"), ms("2025-01-01T00:00:00Z") + days * 86_400_000)
            )
            return count, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small_count, small_peak = peak(2)
    big_count, big_peak = peak(20)
    assert small_count >= 2_800 and big_count >= 9 * small_count
    assert big_peak < 1_000_000
    assert big_peak < 2 * small_peak + 100_000


def _deep_size(value: Any) -> int:
    size = sys.getsizeof(value)
    if isinstance(value, dict):
        size += sum(_deep_size(k) + _deep_size(v) for k, v in value.items())
    elif isinstance(value, list):
        size += sum(_deep_size(v) for v in value)
    return size
