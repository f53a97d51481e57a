from __future__ import annotations

import threading
import time

import pytest

from airflow_provider_wix.client.prefetch import prefetch


def test_items_arrive_in_order():
    assert list(prefetch(iter(range(50)))) == list(range(50))


def test_an_error_is_raised_in_the_consumer_at_its_place():
    def pages():
        yield 1
        yield 2
        raise RuntimeError("page 3 failed")

    items = prefetch(pages())
    assert [next(items), next(items)] == [1, 2]
    with pytest.raises(RuntimeError, match="page 3 failed"):
        next(items)


def test_read_ahead_is_bounded_and_overlaps_the_consumer():
    produced: list[int] = []
    lock = threading.Lock()

    def pages():
        for i in range(10):
            with lock:
                produced.append(i)
            yield i

    items = prefetch(pages(), depth=1)
    assert next(items) == 0
    time.sleep(0.3)  # the producer runs ahead while the consumer "works" on item 0 ...
    with lock:
        ahead = len(produced)
    # ... by one queued item plus the one it is blocked trying to queue, never more.
    assert 2 <= ahead <= 3
    assert list(items) == list(range(1, 10))


def test_closing_early_stops_the_producer():
    produced = []

    def pages():
        for i in range(1000):
            produced.append(i)
            yield i

    items = prefetch(pages())
    assert next(items) == 0
    items.close()
    count = len(produced)
    time.sleep(0.3)
    assert len(produced) == count < 10
