"""Fault injection and rate limiting: the transient failures a Wix client has to survive.

A :class:`FaultRule` applies to one route (or ``*``) either with a probability (optionally at most
``times`` times) or as a fixed ``sequence`` consumed one matching request at a time (``ok`` lets a
request through). Draws come from one seeded RNG, so a run is reproducible request by request.

Spec strings (CLI ``--fault`` and the admin API's ``specs``)::

    [ROUTE=]KIND[:PARAM][@PROBABILITY][xTIMES]      e.g. 503@0.1  list_events=429:2x3  latency:0.3
    [ROUTE=]KIND[:PARAM],KIND[:PARAM],...            e.g. get_connection=500,502,ok

KIND is 429 (PARAM = Retry-After seconds), 500, 502, 503, 504, latency (PARAM = seconds),
drop (close the connection without an answer), truncate (a cut JSON body) or malformed (not JSON).
"""

from __future__ import annotations

import random
import re
import threading
from collections import deque
from dataclasses import dataclass
from enum import Enum
from typing import Any

from airflow_provider_wix.emulator.wix_api import ROUTE_NAMES

__all__ = [
    "FaultAction",
    "FaultInjector",
    "FaultKind",
    "FaultRule",
    "RateLimiter",
    "parse_fault_spec",
]


class FaultKind(str, Enum):
    """What a fault does to a request; the value is its name in specs, rules and the request log."""

    TOO_MANY_REQUESTS = "429"
    INTERNAL = "500"
    BAD_GATEWAY = "502"
    UNAVAILABLE = "503"
    GATEWAY_TIMEOUT = "504"
    LATENCY = "latency"  # wait, then let the request through
    DROP = "drop"  # close the connection without an answer
    TRUNCATE = "truncate"  # the call happens; its answer body is cut in half
    MALFORMED = "malformed"  # the call happens; its answer body is not JSON

    def __str__(self) -> str:
        return self.value

    @property
    def status(self) -> int | None:
        """The HTTP status a status fault answers with (``None`` for the other kinds)."""
        return int(self.value) if self.value.isdigit() else None

    @property
    def breaks_body(self) -> bool:
        """The call reaches the route, but its answer arrives broken."""
        return self in (FaultKind.TRUNCATE, FaultKind.MALFORMED)


_NAMES = ", ".join(k.value for k in FaultKind)
_OK = "ok"  # a sequence step that lets the request through
_KIND = "|".join([*(k.value for k in FaultKind), _OK])
_SINGLE = re.compile(
    rf"^(?P<kind>{_KIND})(?::(?P<param>[0-9]+(?:\.[0-9]+)?))?(?:@(?P<prob>[0-9.]+))?(?:x(?P<times>[0-9]+))?$"
)
_STEP = re.compile(rf"^(?P<kind>{_KIND})(?::(?P<param>[0-9]+(?:\.[0-9]+)?))?$")


@dataclass(frozen=True)
class FaultAction:
    """What to do to one request: a status answer, a drop, a broken body, or added latency."""

    kind: FaultKind
    retry_after: float = 1.0
    latency: float = 0.0


def _fault_kind(text: str) -> FaultKind:
    try:
        return FaultKind(text)
    except ValueError:
        raise ValueError(f"unknown fault kind {text!r}; use one of {_NAMES}") from None


@dataclass
class FaultRule:
    """One fault: ``kind`` with ``probability`` (at most ``times`` firings), or a fixed ``sequence``."""

    kind: FaultKind | str = FaultKind.INTERNAL
    route: str = "*"
    probability: float = 1.0
    times: int | None = None
    sequence: list[str] | None = None
    retry_after: float = 1.0
    latency: float = 0.5
    fired: int = 0
    seen: int = 0

    def __post_init__(self) -> None:
        if self.route != "*" and self.route not in ROUTE_NAMES:
            raise ValueError(f"unknown route {self.route!r}; use '*' or one of {', '.join(ROUTE_NAMES)}")
        if self.sequence is not None:
            if not self.sequence:
                raise ValueError("a fault sequence needs at least one step")
            for step in self.sequence:
                match = _STEP.match(step)
                if not match:
                    raise ValueError(f"bad fault step {step!r}; use {_OK} or one of {_NAMES}")
        self.kind = _fault_kind(str(self.kind))
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        if self.times is not None and self.times < 0:
            raise ValueError("times must be >= 0")
        if self.retry_after < 0 or self.latency < 0:
            raise ValueError("retry_after and latency must be >= 0")

    @property
    def exhausted(self) -> bool:
        if self.sequence is not None:
            return self.seen >= len(self.sequence)
        return self.times is not None and self.fired >= self.times

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "sequence" if self.sequence is not None else FaultKind(self.kind).value,
            "route": self.route,
            "probability": self.probability,
            "times": self.times,
            "sequence": list(self.sequence) if self.sequence is not None else None,
            "retry_after": self.retry_after,
            "latency": self.latency,
            "fired": self.fired,
            "exhausted": self.exhausted,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FaultRule:
        """A rule from the admin API's JSON (the keys of ``to_json``; unknown keys are an error)."""
        allowed = {"kind", "route", "probability", "times", "sequence", "retry_after", "latency"}
        unknown = set(data) - allowed - {"fired", "exhausted"}
        if unknown:
            raise ValueError(f"unknown fault rule keys: {', '.join(sorted(unknown))}")
        rule = {k: v for k, v in data.items() if k in allowed and v is not None}
        if rule.get("kind") == "sequence":
            rule.pop("kind")
        if "sequence" in rule:
            rule["sequence"] = [str(s) for s in rule["sequence"]]
        if "kind" in rule:
            rule["kind"] = str(rule["kind"])
        return cls(**rule)

    def next_action(self, rng: random.Random) -> FaultAction | None:
        """This rule's action for one more matching request (``None``: let it through); counts it."""
        self.seen += 1
        if self.sequence is not None:
            step = _STEP.match(self.sequence[self.seen - 1])
            assert step is not None  # validated in __post_init__
            if step["kind"] == _OK:
                return None
            return self._action(FaultKind(step["kind"]), step["param"])
        if self.probability < 1.0 and rng.random() >= self.probability:
            return None
        return self._action(FaultKind(self.kind), None)

    def _action(self, kind: FaultKind, param: str | None) -> FaultAction:
        self.fired += 1
        if kind is FaultKind.LATENCY:
            return FaultAction(kind, latency=_number(param, self.latency))
        if kind is FaultKind.TOO_MANY_REQUESTS:
            return FaultAction(kind, retry_after=_number(param, self.retry_after))
        return FaultAction(kind)


def _number(text: str | None, default: float) -> float:
    return float(text) if text else default


def parse_fault_spec(spec: str) -> FaultRule:
    """Parse ``[ROUTE=]KIND[:PARAM][@PROB][xTIMES]`` or ``[ROUTE=]STEP,STEP,...`` (see module doc)."""
    text = spec.strip()
    route = "*"
    if "=" in text:
        route, text = (part.strip() for part in text.split("=", 1))
    if "," in text:
        return FaultRule(route=route, sequence=[s.strip() for s in text.split(",") if s.strip()])
    match = _SINGLE.match(text)
    if not match or match["kind"] == _OK:
        raise ValueError(f"bad fault spec {spec!r}")
    kind, param = FaultKind(match["kind"]), match["param"]
    return FaultRule(
        kind=kind,
        route=route,
        probability=_number(match["prob"], 1.0),
        times=int(match["times"]) if match["times"] else None,
        retry_after=_number(param, 1.0) if kind is FaultKind.TOO_MANY_REQUESTS else 1.0,
        latency=_number(param, 0.5) if kind is FaultKind.LATENCY else 0.5,
    )


class FaultInjector:
    """The active rules and the seeded RNG; thread-safe."""

    def __init__(self, seed: int) -> None:
        self._lock = threading.Lock()
        self.reset(seed)

    def reset(self, seed: int, rules: list[FaultRule] | None = None) -> None:
        with self._lock:
            self._rng = random.Random(seed)
            self._rules = list(rules or [])

    def add(self, rules: list[FaultRule], *, replace: bool = False) -> None:
        with self._lock:
            if replace:
                self._rules = []
            self._rules.extend(rules)

    def clear(self) -> None:
        with self._lock:
            self._rules = []

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def decide(self, route: str) -> list[FaultAction]:
        """Actions for one request to ``route``: latencies, then at most one terminal action last."""
        actions: list[FaultAction] = []
        with self._lock:
            for rule in self._rules:
                if rule.exhausted or rule.route not in ("*", route):
                    continue
                action = rule.next_action(self._rng)
                if action is None:
                    continue
                actions.append(action)
                if action.kind is not FaultKind.LATENCY:
                    break  # one terminal action per request
        return actions


class RateLimiter:
    """At most ``per_minute`` requests per credential in any sliding 60 s window (0 = off)."""

    def __init__(self, per_minute: int = 0) -> None:
        self._lock = threading.Lock()
        self.reset(per_minute)

    def reset(self, per_minute: int) -> None:
        with self._lock:
            self.per_minute = per_minute
            self._windows: dict[str, deque[float]] = {}

    def check(self, key: str, now: float) -> int | None:
        """``None`` if the request may pass (it is counted), else whole seconds to wait (Retry-After)."""
        with self._lock:
            limit = self.per_minute
            if limit <= 0:
                return None
            window = self._windows.setdefault(key, deque())
            while window and window[0] <= now - 60.0:
                window.popleft()
            if len(window) >= limit:
                return max(1, int(window[0] + 60.0 - now + 0.999))
            window.append(now)
            return None
