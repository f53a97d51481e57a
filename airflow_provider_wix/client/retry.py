"""Retry policy for transient Wix failures, driven by tenacity (already an Airflow dependency).

The wait before a retry is exponential with jitter (so many workers hitting a 429 together spread out)
but never shorter than the server's ``Retry-After``. The policy is bounded both in attempts and in total
seconds; a ``Retry-After`` that does not fit in the remaining budget ends the retries at once instead of
retrying early.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tenacity import RetryCallState

__all__ = ["RETRYABLE_STATUSES", "RetryPolicy", "parse_retry_after"]

RETRYABLE_STATUSES: frozenset[int] = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to retry transient failures (429, 5xx, connection errors, timeouts, malformed JSON).

    :param max_attempts: total sends of one request, the first included (1 disables retries).
    :param max_total_seconds: budget for one call, sends and waits included; no wait starts past it.
    :param base_wait: first backoff in seconds; doubles per attempt.
    :param max_wait: cap of the exponential backoff (a longer ``Retry-After`` still wins).
    :param statuses: HTTP statuses considered transient.
    """

    max_attempts: int = 5
    max_total_seconds: float = 120.0
    base_wait: float = 0.5
    max_wait: float = 30.0
    statuses: frozenset[int] = field(default=RETRYABLE_STATUSES)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("RetryPolicy.max_attempts must be at least 1")
        if self.max_total_seconds < 0 or self.base_wait < 0 or self.max_wait < 0:
            raise ValueError("RetryPolicy waits and budget must not be negative")

    @classmethod
    def disabled(cls) -> RetryPolicy:
        """Send every request once (useful in tests and when the caller retries itself)."""
        return cls(max_attempts=1)

    def backoff(self, attempt: int) -> float:
        """Jittered exponential wait after the ``attempt``-th send: uniform in [d/2, d], d capped."""
        ceiling = min(self.max_wait, self.base_wait * (2 ** max(attempt - 1, 0)))
        return random.uniform(ceiling / 2, ceiling)

    def wait(self, retry_state: RetryCallState) -> float:
        """tenacity ``wait`` callable: the backoff, stretched to the server's ``Retry-After``."""
        retry_after = _retry_after_of(retry_state)
        return max(self.backoff(retry_state.attempt_number), retry_after or 0.0)

    def stop(self, retry_state: RetryCallState) -> bool:
        """tenacity ``stop`` callable (tenacity >= 8.3 computes ``upcoming_sleep`` before calling it)."""
        if retry_state.attempt_number >= self.max_attempts:
            return True
        elapsed = retry_state.seconds_since_start or 0.0
        return elapsed + retry_state.upcoming_sleep > self.max_total_seconds


def _retry_after_of(retry_state: RetryCallState) -> float | None:
    outcome = retry_state.outcome
    if outcome is None or not outcome.failed:
        return None
    return getattr(outcome.exception(), "retry_after", None)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date); ``None`` if unusable."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        current = datetime.fromtimestamp(time.time() if now is None else now, tz=timezone.utc)
        seconds = (when - current).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)
