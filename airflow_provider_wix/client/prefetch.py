"""Fetch the next item of an iterator in a background thread while the caller handles this one.

Exporting events alternates between waiting for Wix to serve a page and encoding/writing it; the
two overlap when the next page is already being fetched. At most ``depth`` items wait in the
queue, so memory stays bounded by a few pages however many there are.
"""

from __future__ import annotations

import queue
import threading
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from collections.abc import Iterator

T = TypeVar("T")

_DONE = object()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetch(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """Yield ``items`` in order, producing up to ``depth`` of them ahead in a daemon thread.

    An exception raised by ``items`` is re-raised here, in the consumer, at its place in the
    sequence. Closing the returned generator early stops the producer after its current item.
    """
    if depth < 1:
        raise ValueError("depth must be at least 1")
    return _Prefetcher(items, depth).consume()


class _Prefetcher(Generic[T]):
    """The producer thread and the bounded queue between it and the consumer."""

    def __init__(self, items: Iterator[T], depth: int) -> None:
        self.items = items
        self.buffer: queue.Queue[object] = queue.Queue(maxsize=depth)
        self.stop = threading.Event()

    def put(self, value: object) -> bool:
        """Queue ``value`` unless the consumer went away first (then ``False``)."""
        while not self.stop.is_set():
            try:
                self.buffer.put(value, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce(self) -> None:
        try:
            for item in self.items:
                if not self.put(item):
                    return
            self.put(_DONE)
        except BaseException as error:  # handed to the consumer, which re-raises it
            self.put(_Failure(error))

    def consume(self) -> Iterator[T]:
        producer = threading.Thread(target=self.produce, name="wix-prefetch", daemon=True)
        producer.start()
        try:
            while True:
                value = self.buffer.get()
                if value is _DONE:
                    return
                if isinstance(value, _Failure):
                    raise value.error
                yield value  # type: ignore[misc]
        finally:
            self.stop.set()
            producer.join(timeout=5)
