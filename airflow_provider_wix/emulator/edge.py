"""What Wix's edge does to requests, one small ASGI middleware per concern.

From the outside in (``install_edge`` adds them in this order)::

    RequestIdMiddleware          every answer gets an ``x-wix-request-id``
    WixCallMiddleware            Wix API calls only: route name, the whole body read once (and replayed)
    RequestLogMiddleware         ... logged with the answer's status and any fault (secrets redacted)
    ConnectionFaultMiddleware    ... injected latency; a dropped connection
    RateLimitMiddleware          ... the per-credential limit (429) on authenticated routes
    ResponseFaultMiddleware      ... status faults (429, 5xx) and broken bodies (truncated, not JSON)
    SystemErrorMiddleware        ... a route that crashes answers Wix's empty 500

Network faults come before the rate limiter and server faults after it, as at Wix's gateway: a
request answered 503 by a fault still counts against the limit. The consent pages and the admin API
only get the request id.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.routing import Match

from airflow_provider_wix.emulator.admin import ADMIN_PATH
from airflow_provider_wix.emulator.consent import CONSENT_PATH
from airflow_provider_wix.emulator.errors import rate_limited
from airflow_provider_wix.emulator.faults import FaultAction, FaultKind
from airflow_provider_wix.emulator.wire import error_response, json_response, system_error_response
from airflow_provider_wix.emulator.wix_api import AUTHENTICATED_ROUTE_NAMES, ROUTE_NAMES

if TYPE_CHECKING:
    from fastapi import FastAPI
    from starlette.routing import Router

    from airflow_provider_wix.emulator.state import EmulatorState

__all__ = ["REQUEST_ID_HEADER", "install_edge", "redact"]

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "x-wix-request-id"
_SECRET_HEADERS = {"authorization", "proxy-authorization", "cookie", "x-api-key"}
_SECRET_KEYS = {"password", "client_secret", "access_token", "refresh_token", "token", "secret", "api_key"}
_LOGGED_BODY_LIMIT = 8192
_CALL = "wix_call"  # the scope["state"] key of a Wix API call's WixCall

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def redact(value: Any) -> Any:
    """A copy of a JSON value with secret-looking keys' values replaced."""
    if isinstance(value, dict):
        return {k: ("[REDACTED]" if k.lower() in _SECRET_KEYS else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def _logged_body(raw: bytes, content_type: str) -> Any:
    if not raw:
        return None
    text = raw[:_LOGGED_BODY_LIMIT].decode("utf-8", "replace")
    if "x-www-form-urlencoded" in content_type:
        return redact(dict(parse_qsl(text, keep_blank_values=True)))
    try:
        return redact(json.loads(raw))
    except ValueError:
        return text


@dataclass
class WixCall:
    """One Wix API call as the edge middlewares see it; they pass it along in ``scope["state"]``."""

    route: str | None  # the matched route's name (None: no route, answered 404)
    headers: dict[str, str]  # lower-case names
    raw_body: bytes
    started: float
    # uvicorn's own receive: what a dropped connection aborts (inner middlewares see a replay).
    client_receive: Receive
    fault: str | None = None
    terminal: FaultAction | None = field(default=None, repr=False)


def _call(scope: Scope) -> WixCall | None:
    call: WixCall | None = scope.get("state", {}).get(_CALL)
    return call


class _WixCallOnly:
    """Base of the middlewares that act on Wix API calls only; other requests pass straight through."""

    def __init__(self, app: ASGIApp, state: EmulatorState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        call = _call(scope) if scope["type"] == "http" else None
        if call is None:
            await self.app(scope, receive, send)
        else:
            await self.handle(call, scope, receive, send)

    async def handle(self, call: WixCall, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class RequestIdMiddleware:
    """A fresh request id on every answer (``x-wix-request-id``) and in ``scope["state"]``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = str(uuid.uuid4())
        scope.setdefault("state", {})["wix_request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (REQUEST_ID_HEADER.encode(), request_id.encode())]
            await send(message)

        await self.app(scope, receive, send_with_id)


class WixCallMiddleware:
    """Marks a Wix API call (anything but the consent pages and the admin API): its route and whole body."""

    def __init__(self, app: ASGIApp, router: Router) -> None:
        self.app = app
        self.router = router

    def _route_name(self, scope: Scope) -> str | None:
        for route in self.router.routes:
            match, _ = route.matches(scope)
            if match == Match.FULL:
                return getattr(route, "name", None)
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path == ADMIN_PATH or path.startswith((f"{ADMIN_PATH}/", f"{CONSENT_PATH}/")):
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        route = self._route_name(scope)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        raw_body = await _read_body(receive)
        scope.setdefault("state", {})[_CALL] = WixCall(route, headers, raw_body, started, receive)
        await self.app(scope, _replay(raw_body, receive), send)


async def _read_body(receive: Receive) -> bytes:
    body = b""
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        body += message.get("body", b"")
        more = message.get("more_body", False)
    return body


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the buffered body over once, then waits on the client (for a disconnect)."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class RequestLogMiddleware(_WixCallOnly):
    """Every Wix API call in the state's request log, whatever happened to it (secrets redacted).

    The entry is recorded before the answer's last byte leaves, so a client that has its answer
    finds the call in the log (tests count requests right after making them).
    """

    async def handle(self, call: WixCall, scope: Scope, receive: Receive, send: Send) -> None:
        status: int | None = None
        recorded = False

        def record() -> None:
            nonlocal recorded
            if not recorded:
                recorded = True
                self.state.record_request(self._entry(call, scope, status))

        async def send_tracking(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start" and status is None:
                status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                record()
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        finally:
            record()  # no answer at all: a dropped connection, or a route that failed mid-answer

    @staticmethod
    def _entry(call: WixCall, scope: Scope, status: int | None) -> dict[str, Any]:
        return {
            "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            "timestamp": time.time(),
            "method": scope["method"],
            "path": scope["path"],
            "query": scope.get("query_string", b"").decode("latin-1"),
            "route": call.route,
            "headers": {k: ("[REDACTED]" if k in _SECRET_HEADERS else v) for k, v in call.headers.items()},
            "body": _logged_body(call.raw_body, call.headers.get("content-type", "")),
            "status": status,
            "fault": call.fault,
            "request_id": scope["state"].get("wix_request_id"),
            "duration_ms": round((time.monotonic() - call.started) * 1000, 3),
        }


class ConnectionFaultMiddleware(_WixCallOnly):
    """Draws the call's faults once: applies latency and drops here, leaves the terminal one for later."""

    async def handle(self, call: WixCall, scope: Scope, receive: Receive, send: Send) -> None:
        if call.route in ROUTE_NAMES:
            for action in self.state.fault_injector.decide(call.route):
                if action.kind is FaultKind.LATENCY:
                    call.fault = FaultKind.LATENCY.value
                    await asyncio.sleep(action.latency)
                else:
                    call.terminal = action
        if call.terminal is not None and call.terminal.kind is FaultKind.DROP:
            call.fault = FaultKind.DROP.value
            await _drop(call.client_receive)
            return
        await self.app(scope, receive, send)


async def _drop(receive: Receive) -> None:
    """Close the client's connection without a byte of answer (a reset, as seen by the client)."""
    cycle = getattr(receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:  # not uvicorn: an exception is the closest a plain ASGI app gets
        raise ConnectionAbortedError("emulator fault: dropped connection")
    transport.abort()
    for _ in range(3):  # let uvicorn notice the lost connection before the app returns
        await asyncio.sleep(0)


class RateLimitMiddleware(_WixCallOnly):
    """At most ``rate_limit`` calls a minute per credential (the client's address without one): 429."""

    async def handle(self, call: WixCall, scope: Scope, receive: Receive, send: Send) -> None:
        if call.route in AUTHENTICATED_ROUTE_NAMES:
            credential = call.headers.get("authorization", "").strip()
            if credential[:7].lower() == "bearer ":
                credential = credential[7:].strip()
            key = credential or f"anonymous:{(scope.get('client') or ('?',))[0]}"
            wait = self.state.rate_limiter.check(key, self.state.now())
            if wait is not None:
                call.fault = call.fault or "rate_limit"
                await error_response(rate_limited(wait))(scope, receive, send)
                return
        await self.app(scope, receive, send)


class ResponseFaultMiddleware(_WixCallOnly):
    """The call's terminal fault: a status answer instead of the route's, or the route's answer broken."""

    async def handle(self, call: WixCall, scope: Scope, receive: Receive, send: Send) -> None:
        action = call.terminal
        if action is None:
            await self.app(scope, receive, send)
            return
        call.fault = action.kind.value
        status = action.kind.status
        if status == 429:
            retry_after = action.retry_after
            text = str(int(retry_after)) if float(retry_after).is_integer() else str(retry_after)
            await json_response(rate_limited(1).body(), 429, {"Retry-After": text})(scope, receive, send)
        elif status is not None:
            await system_error_response(status)(scope, receive, send)
        else:  # truncate / malformed: the call happens, its answer is broken
            await self._broken_body(scope, receive, send, action.kind)

    async def _broken_body(self, scope: Scope, receive: Receive, send: Send, kind: FaultKind) -> None:
        start: Message = {}
        chunks: list[bytes] = []

        async def buffer(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = dict(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, buffer)
        body = b"".join(chunks)
        broken = body[: max(1, len(body) // 2)] if kind is FaultKind.TRUNCATE else b'{"message": <html>Bad Gateway</h'
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(broken)).encode()))
        await send({"type": "http.response.start", "status": start.get("status", 200), "headers": headers})
        await send({"type": "http.response.body", "body": broken, "more_body": False})


class SystemErrorMiddleware(_WixCallOnly):
    """A Wix API route that crashes answers Wix's empty 500 (logged here), unless it already answered."""

    async def handle(self, call: WixCall, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception:
            log.exception("Emulator route failed")
            if started:
                raise
            await system_error_response(500)(scope, receive, send)


def install_edge(app: FastAPI, state: EmulatorState) -> None:
    """Add the edge middlewares to ``app`` (each ``add_middleware`` wraps the ones before it)."""
    app.add_middleware(SystemErrorMiddleware, state=state)
    app.add_middleware(ResponseFaultMiddleware, state=state)
    app.add_middleware(RateLimitMiddleware, state=state)
    app.add_middleware(ConnectionFaultMiddleware, state=state)
    app.add_middleware(RequestLogMiddleware, state=state)
    app.add_middleware(WixCallMiddleware, router=app.router)
    app.add_middleware(RequestIdMiddleware)
