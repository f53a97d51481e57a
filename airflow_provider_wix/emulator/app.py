"""HTTP for the emulator: the nine Wix routes, ``/oauth2/token``, the consent page and ``/_emulator/``.

Routes only parse requests and render answers; what they mean is in ``state.py``. One ASGI
middleware does what Wix's edge does to every API call: a request id header, the request log,
fault injection and rate limiting.

Admin API (no auth, not logged, never faulted)::

    GET    /_emulator/health                       {"status": "ok"}
    POST   /_emulator/reset                        body {"config": {<EmulatorConfig fields>}} (optional)
    GET    /_emulator/state                        providers, schedules, connections, calendars, flows
    GET    /_emulator/requests?route=&since=       the request log (secrets redacted)
    DELETE /_emulator/requests
    GET    /_emulator/faults
    POST   /_emulator/faults                       {"rules": [...], "specs": ["503@0.1"], "append", "clear",
                                                    "rate_limit"}
    DELETE /_emulator/faults                       clears rules and the rate limit
    POST   /_emulator/schedules                    {"id"?, "ownerId"?, "ownerName"?, "business"?}
                                                   or {"schedules": [...]}
    POST   /_emulator/schedules/{id}/owner         {"ownerId", "ownerName"?}: disconnects its connections
    POST   /_emulator/connections                  {"providerId", "scheduleId", "status"?, "errorReason"?, ...}
    POST   /_emulator/connections/{id}/status      {"status", "errorReason"?}
    POST   /_emulator/connections/{id}/sync        SYNCED now
    GET    /_emulator/oauth/flows?all=true         pending consent flows with their consent_url
    POST   /_emulator/oauth/flows/{id}/decision    {"decision": "allow|deny|unsupported|internal"}
    POST   /_emulator/providers/{id}/failure       {"failing": true}: partialFailure / failedProviderIds
    POST   /_emulator/time                         {"advance": seconds}: expire tokens, finish syncs
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Router

from airflow_provider_wix.emulator.errors import (
    FieldViolation,
    WixError,
    not_found,
    rate_limited,
    validation_error,
)
from airflow_provider_wix.emulator.events import parse_rfc3339_ms
from airflow_provider_wix.emulator.faults import ROUTE_NAMES, FaultRule, parse_fault_spec
from airflow_provider_wix.emulator.state import (
    EMAIL_RE,
    EmulatorConfig,
    EmulatorState,
    EventQuery,
    is_guid,
)

__all__ = ["create_app"]

log = logging.getLogger(__name__)

PREFIX = "/bookings/v2/external-calendars"
MAX_PAGE_SIZE = 1000
MAX_FILTER_IDS = 100
REQUEST_ID_HEADER = "x-wix-request-id"
_SECRET_HEADERS = {"authorization", "proxy-authorization", "cookie", "x-api-key"}
_SECRET_KEYS = {"password", "client_secret", "access_token", "refresh_token", "token", "secret", "api_key"}
_LOGGED_BODY_LIMIT = 8192

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


# ---------------------------------------------------------------------- rendering helpers


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def _error(exc: WixError) -> Response:
    return _json(exc.body(), exc.status, exc.headers or None)


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


# ---------------------------------------------------------------------- request parsing


def _bool(value: str | None, name: str, violations: list[FieldViolation]) -> bool | None:
    if value is None or value == "":
        return None
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    violations.append(FieldViolation(name, "must be true or false", "FORMAT", {"expected": "BOOLEAN"}))
    return None


def _guid_list(values: list[str], name: str, violations: list[FieldViolation]) -> tuple[str, ...]:
    if len(values) > MAX_FILTER_IDS:
        violations.append(
            FieldViolation(name, f"must have at most {MAX_FILTER_IDS} items", "MAX_SIZE", {"max": MAX_FILTER_IDS})
        )
    for n, value in enumerate(values):
        if not is_guid(value):
            violations.append(FieldViolation(f"{name}[{n}]", "must be a valid GUID", "FORMAT", {"expected": "GUID"}))
    return tuple(values)


def _require_guid(body: dict[str, Any], name: str, violations: list[FieldViolation]) -> str:
    value = body.get(name)
    if value is None or value == "":
        violations.append(FieldViolation(name, "is required", "REQUIRED_FIELD"))
        return ""
    if not is_guid(value):
        violations.append(FieldViolation(name, "must be a valid GUID", "FORMAT", {"expected": "GUID"}))
        return ""
    return str(value)


def _require_string(body: dict[str, Any], name: str, violations: list[FieldViolation]) -> str:
    value = body.get(name)
    if value is None or value == "":
        violations.append(FieldViolation(name, "is required", "REQUIRED_FIELD"))
        return ""
    if not isinstance(value, str):
        violations.append(FieldViolation(name, "must be a string", "FORMAT"))
        return ""
    return value


def _is_web_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise WixError(400, "INVALID_ARGUMENT: the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise WixError(400, "INVALID_ARGUMENT: the request body must be a JSON object")
    return data


def _raise_violations(violations: list[FieldViolation]) -> None:
    if violations:
        raise validation_error(*violations)


def _limit(value: str | None, violations: list[FieldViolation]) -> int | None:
    if value is None or value == "":
        return None
    try:
        limit = int(value)
    except ValueError:
        violations.append(FieldViolation("cursorPaging.limit", "must be an integer", "FORMAT", {"expected": "INTEGER"}))
        return None
    if limit > MAX_PAGE_SIZE:
        violations.append(
            FieldViolation(
                "cursorPaging.limit", f"must be at most {MAX_PAGE_SIZE}", "MAX", {"threshold": MAX_PAGE_SIZE}
            )
        )
    elif limit < 0:
        violations.append(FieldViolation("cursorPaging.limit", "must be at least 0", "MIN", {"threshold": 0}))
    return limit or None  # 0 means "the default"


def _time(value: str | None, name: str, violations: list[FieldViolation]) -> int:
    if value is None or value == "":
        violations.append(FieldViolation(name, "is required", "REQUIRED_FIELD"))
        return 0
    try:
        return parse_rfc3339_ms(value)
    except ValueError:
        violations.append(FieldViolation(name, "must be an RFC 3339 date-time", "FORMAT", {"expected": "DATE_TIME"}))
        return 0


# ---------------------------------------------------------------------- the edge middleware


class _EdgeMiddleware:
    """Request id on every answer; for Wix routes also the request log, faults and the rate limit."""

    def __init__(self, app: ASGIApp, state: EmulatorState, router: Router) -> None:
        self.app = app
        self.state = state
        self.router = router

    def _route_name(self, scope: Scope) -> str | None:
        for route in self.router.routes:
            match, _ = route.matches(scope)
            if match == Match.FULL:
                return getattr(route, "name", None)
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = str(uuid.uuid4())
        scope.setdefault("state", {})["wix_request_id"] = request_id
        path: str = scope["path"]

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (REQUEST_ID_HEADER.encode(), request_id.encode())]
            await send(message)

        if path.startswith(("/_emulator/", "/oauth/consent/")) or path == "/_emulator":
            await self.app(scope, receive, send_with_id)
            return
        await self._wix_call(scope, receive, send_with_id, request_id)

    async def _wix_call(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        state = self.state
        started = time.monotonic()
        route = self._route_name(scope)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        raw_body = b""
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            raw_body += message.get("body", b"")
            more = message.get("more_body", False)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": raw_body, "more_body": False}
            return await receive()

        outcome: dict[str, Any] = {"status": None, "fault": None}

        def record() -> None:
            state.record_request(
                {
                    "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                    "timestamp": time.time(),
                    "method": scope["method"],
                    "path": scope["path"],
                    "query": scope.get("query_string", b"").decode("latin-1"),
                    "route": route,
                    "headers": {k: ("[REDACTED]" if k in _SECRET_HEADERS else v) for k, v in headers.items()},
                    "body": _logged_body(raw_body, headers.get("content-type", "")),
                    "status": outcome["status"],
                    "fault": outcome["fault"],
                    "request_id": request_id,
                    "duration_ms": round((time.monotonic() - started) * 1000, 3),
                }
            )

        async def respond(response: Response) -> None:
            outcome["status"] = response.status_code
            await response(scope, replay, send)

        terminal = None
        if route in ROUTE_NAMES:
            for action in state.fault_injector.decide(route):
                if action.kind == "latency":
                    outcome["fault"] = "latency"
                    await asyncio.sleep(action.latency)
                else:
                    terminal = action
        try:
            if terminal is not None and terminal.kind == "drop":
                outcome["fault"] = "drop"
                await self._drop(receive)
                return
            if route in ROUTE_NAMES and route != "oauth2_token":
                credential = headers.get("authorization", "").strip()
                if credential[:7].lower() == "bearer ":
                    credential = credential[7:].strip()
                key = credential or f"anonymous:{(scope.get('client') or ('?',))[0]}"
                wait = state.rate_limiter.check(key, state.now())
                if wait is not None:
                    outcome["fault"] = outcome["fault"] or "rate_limit"
                    await respond(_error(rate_limited(wait)))
                    return
            if terminal is not None and terminal.kind.isdigit():
                outcome["fault"] = terminal.kind
                status = int(terminal.kind)
                if status == 429:
                    retry_after = terminal.retry_after
                    text = str(int(retry_after)) if float(retry_after).is_integer() else str(retry_after)
                    await respond(_json(rate_limited(1).body(), 429, {"Retry-After": text}))
                else:
                    await respond(_json({"message": "", "details": {}}, status))
                return
            if terminal is not None:  # truncate / malformed: the call happens, its answer is broken
                outcome["fault"] = terminal.kind
                await self._broken_body(scope, replay, send, terminal.kind, outcome)
                return
            await self._call_app(scope, replay, send, outcome)
        finally:
            record()

    async def _call_app(self, scope: Scope, receive: Receive, send: Send, outcome: dict[str, Any]) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                outcome["status"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("Emulator route failed")
            if started:
                raise
            outcome["status"] = 500
            await _json({"message": "", "details": {}}, 500)(scope, receive, send)

    async def _broken_body(
        self, scope: Scope, receive: Receive, send: Send, kind: str, outcome: dict[str, Any]
    ) -> None:
        start: Message = {}
        chunks: list[bytes] = []

        async def buffer(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = dict(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self._call_app(scope, receive, buffer, outcome)
        body = b"".join(chunks)
        broken = body[: max(1, len(body) // 2)] if kind == "truncate" else b'{"message": <html>Bad Gateway</h'
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(broken)).encode()))
        await send({"type": "http.response.start", "status": start.get("status", 200), "headers": headers})
        await send({"type": "http.response.body", "body": broken, "more_body": False})

    @staticmethod
    async def _drop(receive: Receive) -> None:
        """Close the client's connection without a byte of answer (a reset, as seen by the client)."""
        cycle = getattr(receive, "__self__", None)
        transport = getattr(cycle, "transport", None)
        if transport is None:  # not uvicorn: an exception is the closest a plain ASGI app gets
            raise ConnectionAbortedError("emulator fault: dropped connection")
        transport.abort()
        for _ in range(3):  # let uvicorn notice the lost connection before the app returns
            await asyncio.sleep(0)


# ---------------------------------------------------------------------- the app


def _consent_page(title: str, body: str, status: int = 200) -> HTMLResponse:
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, sans-serif; background: #f4f5f7; margin: 0; }}
main {{ max-width: 30rem; margin: 4rem auto; background: #fff; padding: 2rem; border-radius: 8px;
       box-shadow: 0 1px 4px rgba(0,0,0,.15); }}
h1 {{ font-size: 1.3rem; }} dt {{ font-weight: 600; margin-top: .5rem; }} dd {{ margin: 0; word-break: break-all; }}
.buttons {{ display: flex; gap: 1rem; margin-top: 1.5rem; }}
button {{ font-size: 1rem; padding: .6rem 1.4rem; border-radius: 4px; border: 1px solid #888; cursor: pointer; }}
button.allow {{ background: #116dff; color: #fff; border-color: #116dff; }}
details {{ margin-top: 2rem; color: #555; }} details form {{ display: inline; }}
</style></head>
<body><main>{body}</main></body></html>"""
    return HTMLResponse(page, status_code=status)


def _decision_form(flow_id: str, decision: str, label: str, css: str = "") -> str:
    return (
        f'<form method="post" action="/oauth/consent/{html.escape(flow_id)}">'
        f'<input type="hidden" name="decision" value="{decision}">'
        f'<button type="submit" name="action" value="{decision}" class="{css}">{label}</button></form>'
    )


def create_app(state: EmulatorState) -> FastAPI:
    """The emulator's ASGI app over ``state`` (routes only; the state holds the behaviour)."""
    app = FastAPI(
        title="Wix External Calendars v2 emulator",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        redirect_slashes=False,
    )
    app.router.redirect_slashes = False
    app.add_middleware(_EdgeMiddleware, state=state, router=app.router)

    @app.exception_handler(WixError)
    async def wix_error(request: Request, exc: WixError) -> Response:
        return _error(exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code in (404, 405):  # Wix's gateway answers 404 for any unknown method + path
            return _error(not_found(f"No route for {request.method} {request.url.path}"))
        return _error(WixError(exc.status_code, str(exc.detail)))

    @app.exception_handler(RequestValidationError)
    async def request_invalid(request: Request, exc: RequestValidationError) -> Response:
        return _error(WixError(400, "INVALID_ARGUMENT: bad request"))

    def auth(request: Request) -> None:
        h = request.headers
        state.authenticate(h.get("authorization"), h.get("wix-site-id"), h.get("wix-account-id"))

    # ------------------------------------------------------------------ OAuth token

    @app.post("/oauth2/token", name="oauth2_token")
    async def oauth2_token(request: Request) -> Response:
        if "x-www-form-urlencoded" in request.headers.get("content-type", ""):
            body: dict[str, Any] = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        else:
            body = await _json_body(request)
        return _json(state.issue_token(body))

    # ------------------------------------------------------------------ the nine methods

    @app.get(f"{PREFIX}/providers", name="list_providers")
    async def list_providers(request: Request) -> Response:
        auth(request)
        return _json(state.list_providers())

    @app.get(f"{PREFIX}/connections", name="list_connections")
    async def list_connections(request: Request) -> Response:
        auth(request)
        violations: list[FieldViolation] = []
        schedule_ids = _guid_list(request.query_params.getlist("scheduleIds"), "scheduleIds", violations)
        partial = _bool(request.query_params.get("partialFailure"), "partialFailure", violations)
        _raise_violations(violations)
        return _json(state.list_connections(schedule_ids, bool(partial)))

    @app.post(f"{PREFIX}/connections:connectByOAuth", name="connect_by_oauth")
    async def connect_by_oauth(request: Request) -> Response:
        auth(request)
        body = await _json_body(request)
        violations: list[FieldViolation] = []
        provider_id = _require_guid(body, "providerId", violations)
        schedule_id = _require_guid(body, "scheduleId", violations)
        redirect_url = _require_string(body, "redirectUrl", violations)
        if redirect_url and not _is_web_url(redirect_url):
            violations.append(FieldViolation("redirectUrl", "must be a valid URL", "FORMAT", {"expected": "WEB_URL"}))
        _raise_violations(violations)
        base_url = str(request.base_url).rstrip("/")
        return _json(state.connect_by_oauth(provider_id, schedule_id, redirect_url, base_url))

    @app.post(f"{PREFIX}/connections:connectByCredentials", name="connect_by_credentials")
    async def connect_by_credentials(request: Request) -> Response:
        auth(request)
        body = await _json_body(request)
        violations: list[FieldViolation] = []
        provider_id = _require_guid(body, "providerId", violations)
        schedule_id = _require_guid(body, "scheduleId", violations)
        email = _require_string(body, "email", violations)
        if email and not EMAIL_RE.match(email):
            violations.append(FieldViolation("email", "must be a valid email", "FORMAT", {"expected": "EMAIL"}))
        password = _require_string(body, "password", violations)
        _raise_violations(violations)
        return _json(state.connect_by_credentials(provider_id, schedule_id, email, password))

    @app.get(PREFIX + "/connections/{connection_id}", name="get_connection")
    async def get_connection(request: Request, connection_id: str) -> Response:
        auth(request)
        return _json(state.get_connection(connection_id))

    @app.get(PREFIX + "/connections/{connection_id}/calendars", name="list_calendars")
    async def list_calendars(request: Request, connection_id: str) -> Response:
        auth(request)
        return _json(state.list_calendars(connection_id))

    @app.patch(PREFIX + "/connections/{connection_id}/sync-config", name="update_sync_config")
    async def update_sync_config(request: Request, connection_id: str) -> Response:
        auth(request)
        body = await _json_body(request)
        return _json(state.update_sync_config(connection_id, body.get("syncConfig"), body.get("fieldMask")))

    @app.post(PREFIX + "/connections/{connection_id}/disconnect", name="disconnect")
    async def disconnect(request: Request, connection_id: str) -> Response:
        auth(request)
        await _json_body(request)  # optional; the SDK repeats connectionId in it
        return _json(state.disconnect(connection_id))

    @app.get(f"{PREFIX}/events", name="list_events")
    async def list_events(request: Request) -> Response:
        auth(request)
        params = request.query_params
        violations: list[FieldViolation] = []
        limit = _limit(params.get("cursorPaging.limit"), violations)
        cursor = params.get("cursorPaging.cursor") or None
        query: EventQuery | None = None
        if cursor is None:
            from_ms = _time(params.get("from"), "from", violations)
            to_ms = _time(params.get("to"), "to", violations)
            if from_ms and to_ms and from_ms >= to_ms:
                violations.append(FieldViolation("to", "must be after from", "CUSTOM"))
            schedule_ids = _guid_list(params.getlist("scheduleIds"), "scheduleIds", violations)
            user_ids = _guid_list(params.getlist("userIds"), "userIds", violations)
            all_day = _bool(params.get("allDay"), "allDay", violations)
            partial = _bool(params.get("partialFailure"), "partialFailure", violations)
            fieldsets = params.getlist("fieldsets")
            for n, value in enumerate(fieldsets):
                if value not in ("NO_PI", "OWN_PI"):
                    violations.append(
                        FieldViolation(
                            f"fieldsets[{n}]", "must be NO_PI or OWN_PI", "INVALID_ENUM_VALUE", {"value": value}
                        )
                    )
            _raise_violations(violations)
            query = EventQuery(from_ms, to_ms, schedule_ids, user_ids, all_day, "OWN_PI" in fieldsets, bool(partial))
        _raise_violations(violations)
        body = state.list_events_page_json(query, cursor=cursor, limit=limit)
        return Response(body, media_type="application/json")

    # ------------------------------------------------------------------ consent page

    @app.get("/oauth/consent/{flow_id}", name="oauth_consent")
    async def consent_page(request: Request, flow_id: str) -> Response:
        decision = request.query_params.get("decision")
        try:
            if decision:
                location = state.decide_oauth(flow_id, decision, email=request.query_params.get("email"))
                return RedirectResponse(location, status_code=302)
            info = state.describe_flow(flow_id)
        except WixError as exc:
            return _consent_page("Consent", f"<h1>{html.escape(exc.message)}</h1>", exc.status)
        flow = info["flow"]
        provider = html.escape(info["provider_name"])
        owner = html.escape(info["owner_name"]) + (" (business schedule)" if info["business"] else "")
        target = urlsplit(flow.redirect_url).netloc
        body = f"""<h1>Connect {provider} to Wix Bookings</h1>
<p>Wix Bookings wants to access your <strong>{provider}</strong> account to sync its events with a
Wix schedule.</p>
<dl><dt>Schedule</dt><dd id="schedule-id">{html.escape(flow.schedule_id)}</dd>
<dt>Schedule owner</dt><dd id="schedule-owner">{owner}</dd>
<dt>Returns to</dt><dd>{html.escape(target)}</dd></dl>
<div class="buttons">{_decision_form(flow.id, "allow", "Allow", "allow")}{_decision_form(flow.id, "deny", "Deny")}</div>
<details><summary>Emulator: simulate a failure</summary>
<p>{_decision_form(flow.id, "unsupported", "Unsupported account")}
{_decision_form(flow.id, "internal", "Provider error")}</p></details>"""
        return _consent_page(f"Connect {info['provider_name']}", body)

    @app.post("/oauth/consent/{flow_id}", name="oauth_consent_decision")
    async def consent_decision(request: Request, flow_id: str) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
        decision = form.get("decision") or request.query_params.get("decision") or ""
        try:
            location = state.decide_oauth(flow_id, decision, email=form.get("email") or None)
        except WixError as exc:
            return _consent_page("Consent", f"<h1>{html.escape(exc.message)}</h1>", exc.status)
        return RedirectResponse(location, status_code=303)

    # ------------------------------------------------------------------ admin API

    admin = "/_emulator"

    def admin_error(message: str, status: int = 400) -> Response:
        return _json({"error": message}, status)

    async def admin_body(request: Request) -> dict[str, Any]:
        try:
            return await _json_body(request)
        except WixError as exc:
            raise _AdminError(exc.message) from None

    @app.exception_handler(ValueError)
    async def value_error(request: Request, exc: ValueError) -> Response:
        if request.url.path.startswith(admin):  # a bad seed value, e.g. an unknown status
            return admin_error(str(exc))
        log.error("Emulator route failed", exc_info=exc)
        return _json({"message": "", "details": {}}, 500)

    @app.get(f"{admin}/health", name="admin_health")
    async def health() -> Response:
        return _json({"status": "ok"})

    @app.post(f"{admin}/reset", name="admin_reset")
    async def reset(request: Request) -> Response:
        body = await admin_body(request)
        overrides = body.get("config") or {}
        if not isinstance(overrides, dict):
            return admin_error("config must be an object")
        names = {f.name for f in dataclasses.fields(EmulatorConfig)}
        unknown = set(overrides) - names
        if unknown:
            return admin_error(f"unknown config fields: {', '.join(sorted(unknown))}")
        config = dataclasses.replace(state.config, **overrides) if overrides else None
        state.reset(config)
        return _json({"status": "reset"})

    @app.get(f"{admin}/state", name="admin_state")
    async def snapshot() -> Response:
        return _json(state.snapshot())

    @app.get(f"{admin}/requests", name="admin_requests")
    async def requests_log(request: Request) -> Response:
        entries = state.request_log()
        route = request.query_params.get("route")
        if route:
            entries = [e for e in entries if e["route"] == route]
        since = request.query_params.get("since")
        if since:
            entries = [e for e in entries if e["seq"] > int(since)]
        return _json({"requests": entries})

    @app.delete(f"{admin}/requests", name="admin_clear_requests")
    async def clear_requests() -> Response:
        state.clear_request_log()
        return _json({"status": "cleared"})

    def faults_json() -> dict[str, Any]:
        return {
            "rules": [r.to_json() for r in state.fault_injector.rules()],
            "rate_limit": state.rate_limiter.per_minute,
        }

    @app.get(f"{admin}/faults", name="admin_faults")
    async def get_faults() -> Response:
        return _json(faults_json())

    @app.post(f"{admin}/faults", name="admin_set_faults")
    async def set_faults(request: Request) -> Response:
        """Body: ``rules`` (objects) and/or ``specs`` (strings), ``append``, ``clear``, ``rate_limit``."""
        body = await admin_body(request)
        rules = [FaultRule.from_json(r) for r in body.get("rules") or []]
        rules += [parse_fault_spec(s) for s in body.get("specs") or []]
        if body.get("clear"):
            state.clear_faults()
        if rules or not body.get("append"):
            state.set_faults(rules, replace=not body.get("append"))
        if body.get("rate_limit") is not None:
            state.set_rate_limit(int(body["rate_limit"]))
        return _json(faults_json())

    @app.delete(f"{admin}/faults", name="admin_clear_faults")
    async def clear_faults() -> Response:
        state.clear_faults()
        state.set_rate_limit(0)
        return _json(faults_json())

    @app.post(f"{admin}/schedules", name="admin_add_schedules")
    async def add_schedules(request: Request) -> Response:
        """Body: one schedule or ``{"schedules": [...]}``, each ``{id?, ownerId?, ownerName?, business?}``."""
        body = await admin_body(request)
        items = body.get("schedules", [body])
        created = [
            state.add_schedule(
                item.get("id"), item.get("ownerId"), item.get("ownerName"), business=bool(item.get("business"))
            ).to_json()
            for item in items
        ]
        return _json({"schedules": created})

    @app.post(admin + "/schedules/{schedule_id}/owner", name="admin_change_owner")
    async def change_owner(request: Request, schedule_id: str) -> Response:
        body = await admin_body(request)
        disconnected = state.change_schedule_owner(schedule_id, str(body.get("ownerId")), body.get("ownerName"))
        return _json({"schedule": state.schedule(schedule_id).to_json(), "disconnected": disconnected})

    @app.post(f"{admin}/connections", name="admin_create_connection")
    async def create_connection(request: Request) -> Response:
        """Seed a connection: ``providerId``, ``scheduleId`` and optional ``status``, ``errorReason``,
        ``syncConfig``, ``externalAccountEmail``, ``eventsPerDay``, ``allDayEveryDays``, ``syncing``."""
        body = await admin_body(request)
        if "providerId" not in body or "scheduleId" not in body:
            return admin_error("providerId and scheduleId are required")
        conn = state.create_connection(
            body["providerId"],
            body["scheduleId"],
            status=body.get("status", "SYNCED"),
            error_reason=body.get("errorReason"),
            sync_config=body.get("syncConfig"),
            external_account_email=body.get("externalAccountEmail"),
            events_per_day=body.get("eventsPerDay"),
            all_day_every_days=body.get("allDayEveryDays"),
            syncing=bool(body.get("syncing", False)),
        )
        return _json({"connection": conn})

    @app.post(admin + "/connections/{connection_id}/status", name="admin_connection_status")
    async def connection_status(request: Request, connection_id: str) -> Response:
        body = await admin_body(request)
        if "status" not in body:
            return admin_error("status is required")
        return _json(
            {"connection": state.set_connection_status(connection_id, body["status"], body.get("errorReason"))}
        )

    @app.post(admin + "/connections/{connection_id}/sync", name="admin_connection_sync")
    async def connection_sync(connection_id: str) -> Response:
        return _json({"connection": state.complete_sync(connection_id)})

    @app.get(f"{admin}/oauth/flows", name="admin_oauth_flows")
    async def oauth_flows(request: Request) -> Response:
        include_all = (request.query_params.get("all") or "").lower() == "true"
        return _json({"flows": state.oauth_flows(include_decided=include_all)})

    @app.post(admin + "/oauth/flows/{flow_id}/decision", name="admin_oauth_decision")
    async def oauth_decision(request: Request, flow_id: str) -> Response:
        """Decide a flow without the page; answers the redirect ``location`` the browser would get."""
        body = await admin_body(request)
        location = state.decide_oauth(flow_id, str(body.get("decision", "allow")), email=body.get("email"))
        flows = {f["id"]: f for f in state.oauth_flows(include_decided=True)}
        return _json({"location": location, "connection_id": flows[flow_id]["connection_id"]})

    @app.post(admin + "/providers/{provider_id}/failure", name="admin_provider_failure")
    async def provider_failure(request: Request, provider_id: str) -> Response:
        body = await admin_body(request)
        state.set_provider_failing(provider_id, bool(body.get("failing", True)))
        return _json({"failing_provider_ids": state.snapshot()["failing_provider_ids"]})

    @app.post(f"{admin}/time", name="admin_time")
    async def advance_time(request: Request) -> Response:
        body = await admin_body(request)
        state.advance_time(float(body.get("advance", 0)))
        return _json({"time_offset": state.snapshot()["time_offset"]})

    @app.exception_handler(_AdminError)
    async def admin_failed(request: Request, exc: _AdminError) -> Response:
        return admin_error(str(exc))

    return app


class _AdminError(Exception):
    """A bad admin request (answered 400 with ``{"error": ...}``)."""
