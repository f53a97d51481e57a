"""Child process for ``events_stream``: export events once and report the peak RSS growth (Linux).

Run in a fresh interpreter per measurement so that each peak (``ru_maxrss``) belongs to one export
only. Prints one JSON line: ``count``, ``seconds``, ``rss_base``, ``rss_peak``, ``rss_delta`` (bytes).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise LookupError(field)


def current_rss() -> int:
    return _status_kb("VmRSS")


def peak_rss() -> int:
    """This process image's high-water mark. Not ``ru_maxrss``: that one survives exec, so a child
    started by a big parent reports the parent's peak."""
    return _status_kb("VmHWM")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--from", dest="from_", required=True)
    parser.add_argument("--to", required=True)
    parser.add_argument("--mode", choices=("iter", "list"), required=True)
    args = parser.parse_args()

    from airflow_provider_wix.client import ApiKeyAuth, ExternalCalendarsClient
    from benchmarks.common import API_KEY, SITE_ID

    client = ExternalCalendarsClient(ApiKeyAuth(API_KEY, site_id=SITE_ID), args.url)
    base = current_rss()
    started = time.perf_counter()
    if args.mode == "iter":
        # Page by page to storage, encoded like ListEventsOperator's JSON Lines writer.
        count = 0
        with tempfile.TemporaryFile("w", encoding="utf-8") as out:
            for event in client.iter_events(args.from_, args.to, page_size=1000):
                out.write(json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n")
                count += 1
    else:
        events = client.list_events(args.from_, args.to, page_size=1000)
        count = len(events)
    seconds = time.perf_counter() - started
    peak = peak_rss()
    print(
        json.dumps(
            {"count": count, "seconds": seconds, "rss_base": base, "rss_peak": peak, "rss_delta": max(peak - base, 0)}
        )
    )


if __name__ == "__main__":
    main()
