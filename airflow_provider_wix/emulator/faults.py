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
from typing import Any

__all__ = [
    "FAULT_KINDS",
    "ROUTE_NAMES",
    "FaultAction",
    "FaultInjector",
    "FaultRule",
    "RateLimiter",
    "parse_fault_spec",
]

STATUS_KINDS = ("429", "500", "502", "503", "504")
FAULT_KINDS = (*STATUS_KINDS, "latency", "drop", "truncate", "malformed")
# Names of the routes faults can target (the FastAPI route names in app.py).
ROUTE_NAMES = (
    "list_providers",
    "get_connection",
    "list_connections",
    "connect_by_oauth",
    "connect_by_credentials",
    "list_calendars",
    "update_sync_config",
    "disconnect",
    "list_events",
    "oauth2_token",
)

_KIND = "|".join((*FAULT_KINDS, "ok"))
_SINGLE = re.compile(
    rf"^(?P<kind>{_KIND})(?::(?P<param>[0-9]+(?:\.[0-9]+)?))?(?:@(?P<prob>[0-9.]+))?(?:x(?P<times>[0-9]+))?$"
)
_STEP = re.compile(rf"^(?P<kind>{_KIND})(?::(?P<param>[0-9]+(?:\.[0-9]+)?))?$")


@dataclass(frozen=True)
class FaultAction:
    """What to do to one request: a status answer, a drop, a broken body, or added latency."""

    kind: str
    retry_after: float = 1.0
    latency: float = 0.0


@dataclass
class FaultRule:
    """One fault: ``kind`` with ``probability`` (at most ``times`` firings), or a fixed ``sequence``."""

    kind: str = "500"
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
                if not match or (match["kind"] != "ok" and match["kind"] not in FAULT_KINDS):
                    raise ValueError(f"bad fault step {step!r}; use ok or one of {', '.join(FAULT_KINDS)}")
        elif self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; use one of {', '.join(FAULT_KINDS)}")
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
            "kind": "sequence" if self.sequence is not None else self.kind,
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
    if not match:
        raise ValueError(f"bad fault spec {spec!r}")
    kind, param = match["kind"], match["param"]
    return FaultRule(
        kind=kind,
        route=route,
        probability=_number(match["prob"], 1.0),
        times=int(match["times"]) if match["times"] else None,
        retry_after=_number(param, 1.0) if kind == "429" else 1.0,
        latency=_number(param, 0.5) if kind == "latency" else 0.5,
    )


def _action(kind: str, param: str | None, rule: FaultRule) -> FaultAction | None:
    if kind == "ok":
        return None
    if kind == "latency":
        return FaultAction("latency", latency=_number(param, rule.latency))
    if kind == "429":
        return FaultAction("429", retry_after=_number(param, rule.retry_after))
    return FaultAction(kind)


class FaultInjector:
    """The active rules and the seeded RNG; thread-safe."""

    def __init__(self, seed: int, rules: list[FaultRule] | None = None) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._rules: list[FaultRule] = list(rules or [])

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
                if rule.exhausted or (rule.route != "*" and rule.route != route):
                    continue
                if rule.sequence is not None:
                    step = _STEP.match(rule.sequence[rule.seen])
                    assert step is not None  # validated in __post_init__
                    rule.seen += 1
                    action = _action(step["kind"], step["param"], rule)
                else:
                    rule.seen += 1
                    if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                        continue
                    action = _action(rule.kind, None, rule)
                if action is None:
                    continue
                rule.fired += 1
                actions.append(action)
                if action.kind != "latency":
                    break  # one terminal action per request
        return actions


class RateLimiter:
    """At most ``per_minute`` requests per credential in any sliding 60 s window (0 = off)."""

    def __init__(self, per_minute: int = 0) -> None:
        self.per_minute = per_minute
        self._windows: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def reset(self, per_minute: int) -> None:
        with self._lock:
            self.per_minute = per_minute
            self._windows.clear()

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
