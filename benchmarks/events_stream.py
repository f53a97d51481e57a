"""events_stream: exporting N events from the emulator, against what the server can serve.

Shows whether ``iter_events`` streams at close to the server's speed and with flat memory, as the
design asks ("a million events ... page by page to storage, at close to the speed the server can
serve them"). The baseline is the least a client can do: a bare ``requests.Session`` loop that
follows the cursors and JSON-parses each page. The emulator runs in its own process.

Throughput: the window is cut into time slices and every variant exports every slice in turn, so
load from other processes hits all variants alike; client CPU per event is reported beside it, as it
is what explains the ratios. Memory: peak RSS growth of an export in a fresh child process, for
``iter_events`` at N and N/10 (flat means ~1) and ``list_events`` at N/10 (grows with N).
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import requests

from benchmarks.common import (
    API_KEY,
    PREFIX,
    SITE_ID,
    Context,
    EmulatorProcess,
    Result,
    Row,
    fmt_bytes,
    fmt_num,
    fmt_ratio,
    ratio,
    run_child,
    verdict,
)

NAME = "events_stream"
SLOW = False
EVENTS_PER_DAY = 2000
PAGE_SIZE = 1000
SLICES = 10  # the window is exported in slices, each by every variant in turn
START = datetime(2026, 1, 1, tzinfo=timezone.utc)
THROUGHPUT_TARGET = 0.8  # client / bare loop
FLAT_TARGET = 1.5  # peak RSS growth at N / at N/10


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def bare_loop(url: str, from_: str, to: str) -> int:
    """The baseline: one session, follow ``cursors.next``, ``json()`` each page, nothing else."""
    session = requests.Session()
    headers = {"Authorization": API_KEY, "wix-site-id": SITE_ID}
    params: dict[str, str] = {"from": from_, "to": to, "cursorPaging.limit": str(PAGE_SIZE)}
    count = 0
    while True:
        response = session.get(f"{url}{PREFIX}/events", params=params, headers=headers, timeout=60)
        response.raise_for_status()
        page = response.json()
        count += len(page["events"])
        paging = page["pagingMetadata"]
        if not paging.get("hasNext"):
            return count
        params = {"cursorPaging.limit": str(PAGE_SIZE), "cursorPaging.cursor": paging["cursors"]["next"]}


def bare_pages(url: str, from_: str, to: str) -> Iterable[dict[str, Any]]:
    session = requests.Session()
    headers = {"Authorization": API_KEY, "wix-site-id": SITE_ID}
    params: dict[str, str] = {"from": from_, "to": to, "cursorPaging.limit": str(PAGE_SIZE)}
    while True:
        page = session.get(f"{url}{PREFIX}/events", params=params, headers=headers, timeout=60).json()
        yield from page["events"]
        paging = page["pagingMetadata"]
        if not paging.get("hasNext"):
            return
        params = {"cursorPaging.limit": str(PAGE_SIZE), "cursorPaging.cursor": paging["cursors"]["next"]}


def naive_jsonl(target: Path, events: Iterable[Mapping[str, Any]]) -> int:
    """The obvious hand-written export: ``json.dumps`` per event, one write per line (a reference)."""
    count = 0
    with open(target, "w", encoding="utf-8", newline="\n") as out:
        for event in events:
            out.write(json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n")
            count += 1
    return count


def run(ctx: Context) -> Result:
    from airflow_provider_wix.client import ApiKeyAuth, ExternalCalendarsClient

    n = ctx.events or (200_000 if ctx.quick else 1_000_000)
    result = Result(NAME, f"export N={n:,} events, emulator in a subprocess, pages of {PAGE_SIZE}")
    days = max(1, round(n / EVENTS_PER_DAY))
    from_, to = _iso(START), _iso(START + timedelta(days=days))
    to_tenth = _iso(START + timedelta(days=max(1, days // 10)))

    with EmulatorProcess("--events-per-day", str(EVENTS_PER_DAY), "--all-day-every", "0") as emu:
        emu.add_connection(emu.staff_schedule_ids()[0])  # SYNCED, imports its primary calendar
        client = ExternalCalendarsClient(ApiKeyAuth(API_KEY, site_id=SITE_ID), emu.url)
        tmp = Path(tempfile.mkdtemp(prefix="wix-bench-events-"))
        target = tmp / "events.jsonl"

        variants: dict[str, Callable[[str, str], int]] = {
            "bare": lambda f, t: bare_loop(emu.url, f, t),
            "bare_jsonl": lambda f, t: naive_jsonl(target, bare_pages(emu.url, f, t)),
            "iter": lambda f, t: sum(1 for _ in client.iter_events(f, t, page_size=PAGE_SIZE)),
            # What a user's own export through the client or hook with the standard library looks like.
            "iter_jsonl": lambda f, t: naive_jsonl(target, client.iter_events(f, t, page_size=PAGE_SIZE)),
            "export": lambda f, t: client.export_events(target, f, t, page_size=PAGE_SIZE),
        }
        # Warm both sides up (every variant once: a one-time import must not count as throughput), then
        # export the window slice by slice, every variant on every slice in an order rotated per slice:
        # load from other processes on the machine hits all variants alike.
        for warm_up in variants.values():
            warm_up(from_, _iso(START + timedelta(hours=2)))
        seconds = dict.fromkeys(variants, 0.0)
        cpu = dict.fromkeys(variants, 0.0)
        server_cpu = dict.fromkeys(variants, 0.0)
        counts = dict.fromkeys(variants, 0)
        order = list(variants)
        step = days / SLICES
        for i in range(SLICES):
            f, t = _iso(START + timedelta(days=i * step)), _iso(START + timedelta(days=(i + 1) * step))
            for key in order[i % len(order) :] + order[: i % len(order)]:
                started, cpu0, srv0 = time.perf_counter(), time.process_time(), emu.cpu_seconds()
                counts[key] += variants[key](f, t)
                seconds[key] += time.perf_counter() - started
                cpu[key] += time.process_time() - cpu0
                server_cpu[key] += emu.cpu_seconds() - srv0
        target.unlink(missing_ok=True)
        if len(set(counts.values())) != 1:
            raise AssertionError(f"the variants saw different event counts: {counts}")
        count = counts["bare"]
        rate = {k: count / v for k, v in seconds.items()}
        us = {k: v / count * 1e6 for k, v in cpu.items()}
        srv_us = {k: v / count * 1e6 for k, v in server_cpu.items()}

        # Memory, each in a fresh child process: iter at N, iter at N/10, list at N/10.
        mem_iter_n = run_child(
            "benchmarks._events_child", "--url", emu.url, "--from", from_, "--to", to, "--mode", "iter"
        )
        mem_iter_10 = run_child(
            "benchmarks._events_child", "--url", emu.url, "--from", from_, "--to", to_tenth, "--mode", "iter"
        )
        mem_list_10 = run_child(
            "benchmarks._events_child", "--url", emu.url, "--from", from_, "--to", to_tenth, "--mode", "list"
        )
        client.close()
        tmp.rmdir()

    base = rate["bare"]

    def measured(key: str) -> str:
        return f"{fmt_num(rate[key], 'ev/s')}, {us[key]:.1f} us CPU/ev"

    result.add(Row("bare requests loop (server-bound)", measured("bare"), values={"events_per_s": base}))
    labels = {
        "iter": ("iter_events, events discarded", None),
        "bare_jsonl": ("bare loop -> json.dumps per event (naive)", None),
        "iter_jsonl": ("iter_events -> json.dumps per event (hook/client + stdlib)", None),
        "export": ("export_events -> JSON Lines (client/hook; ListEventsOperator's path)", THROUGHPUT_TARGET),
    }
    for key, (label, target) in labels.items():
        r = ratio(rate[key], base)
        result.add(
            Row(
                label,
                measured(key),
                fmt_num(base, "ev/s"),
                fmt_ratio(r),
                f">= {target}" if target else "",
                verdict(r >= target) if target else "",
                values={"events_per_s": rate[key], "ratio": r, "client_cpu_us_per_event": us[key]},
            )
        )
    for label, key in (
        ("export_events vs the naive export", "bare_jsonl"),
        ("export_events vs iter_events -> json.dumps per event", "iter_jsonl"),
    ):
        same = ratio(rate["export"], rate[key])
        result.add(
            Row(
                label,
                fmt_num(rate["export"], "ev/s"),
                fmt_num(rate[key], "ev/s"),
                fmt_ratio(same),
                values={"ratio": same},
            )
        )
    flat = ratio(mem_iter_n["rss_delta"], mem_iter_10["rss_delta"])
    result.add(
        Row(
            f"peak RSS growth, iter_events N={mem_iter_n['count']:,}",
            fmt_bytes(mem_iter_n["rss_delta"]),
            f"{fmt_bytes(mem_iter_10['rss_delta'])} @N/10",
            fmt_ratio(flat),
            f"<= {FLAT_TARGET} (flat)",
            verdict(flat <= FLAT_TARGET),
            values={"iter_n": mem_iter_n, "iter_n10": mem_iter_10, "ratio": flat, "target": FLAT_TARGET},
        )
    )
    grows = ratio(mem_list_10["rss_delta"], mem_iter_10["rss_delta"])
    result.add(
        Row(
            f"peak RSS growth, list_events N/10={mem_list_10['count']:,}",
            fmt_bytes(mem_list_10["rss_delta"]),
            f"{fmt_bytes(mem_iter_10['rss_delta'])} iter",
            fmt_ratio(grows),
            "grows (reference)",
            values={"list_n10": mem_list_10, "ratio_vs_iter": grows},
        )
    )
    per_event = mem_list_10["rss_delta"] / max(mem_list_10["count"], 1)
    result.notes.append(
        f"{count:,} events per variant, in {SLICES} time slices each exported by every variant in turn "
        "(order rotated per slice). "
        f"list_events holds ~{per_event:,.0f} B/event, i.e. ~{fmt_bytes(per_event * count)} at N."
    )
    result.notes.append(
        f"server CPU {srv_us['bare']:.1f} us/ev; client CPU per event above (all threads of this process). "
        "export_events (what ListEventsOperator uses) fetches the next page in a thread while it encodes and "
        "writes this one (client/prefetch.py) and encodes a page in one msgspec call; the naive export waits "
        "for each page and calls json.dumps per event."
    )
    result.details = {
        "events": count,
        "days": days,
        "seconds": seconds,
        "events_per_s": rate,
        "client_cpu_us_per_event": us,
        "server_cpu_us_per_event": srv_us,
    }
    return result
