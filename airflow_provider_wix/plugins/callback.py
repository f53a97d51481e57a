"""Airflow plugin: the OAuth redirect endpoint, mounted at ``/wix`` on the Airflow API server.

Wix sends the account owner's browser to ``{callback_base_url}/wix/oauth/callback/{state}`` with
``connectionId`` or ``error`` appended. That browser is anonymous, so these routes are deliberately
not behind the Airflow login: the single-use, unguessable ``state`` is the only credential, and a
request without a known, unexpired, unused state records nothing.

The module stays import-light (it is loaded by every Airflow component); database work is imported
inside the handler.
"""

from __future__ import annotations

import asyncio
import html
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING, Any

from airflow.plugins_manager import AirflowPlugin
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from airflow_provider_wix import __version__
from airflow_provider_wix.callback.state import (
    CALLBACK_PATH,
    RESUMABLE_PATH,
    is_valid_connection_id,
    redacted_callback_path,
)
from airflow_provider_wix.callback.wording import OwnerPage, outcome_page, refused_page
from airflow_provider_wix.client.models import OAuthCallbackError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from starlette.types import ASGIApp, Receive, Scope, Send

    from airflow_provider_wix.callback.state import FlowRecord

URL_PREFIX = "/wix"
_ROUTE = CALLBACK_PATH.removeprefix(URL_PREFIX)

_SECURITY_HEADERS = {
    # The state sits in the URL: keep it out of caches and out of any Referer header.
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
}


@asynccontextmanager
async def _sweep_expired_flows(_: FastAPI) -> AsyncIterator[None]:
    """Purge expired flow records when the API server starts and then periodically.

    Abandoned flows (nobody answers, no sensor withdraws them) would otherwise stay until a callback
    happens to trigger the sweep. Airflow enters the lifespan of every mounted plugin app.
    """
    from airflow_provider_wix.callback.recording import PURGE_INTERVAL_SECONDS, purge_expired_flows_if_due

    async def sweep() -> None:
        while True:
            await asyncio.to_thread(purge_expired_flows_if_due)
            await asyncio.sleep(PURGE_INTERVAL_SECONDS)

    task = asyncio.create_task(sweep())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


app = FastAPI(
    title="Wix OAuth callback",
    description="Receives the Wix External Calendars OAuth redirect for airflow-provider-wix.",
    docs_url=None,
    redoc_url=None,
    openapi_url=None,
    lifespan=_sweep_expired_flows,
)


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok", "plugin": "wix_oauth_callback", "version": __version__}


@app.get(RESUMABLE_PATH.removeprefix(URL_PREFIX).format(ti_id="{ti_id}"))
async def resumable(ti_id: str) -> Response:
    """Answer a trigger asking whether its deferred task can be resumed yet (see ``callback.wake``).

    Holds the answer up to 20 s while the scheduler catches up. Reveals only whether the task
    instance with this (unguessable) id is deferred and past its safe point; changes nothing.
    """
    import uuid

    from airflow_provider_wix.callback.wake import await_safe_point

    try:
        task_instance_id = uuid.UUID(ti_id)
    except ValueError:
        return JSONResponse({"resumable": False}, status_code=404, headers=_SECURITY_HEADERS)
    verdict = await await_safe_point(task_instance_id, max_hold=20)
    return JSONResponse({"resumable": verdict}, headers=_SECURITY_HEADERS)


@app.get(_ROUTE + "{state}")
def oauth_callback(state: str, request: Request) -> Response:
    """Record the outcome of the owner's consent for ``state``; see the module docstring."""
    from airflow_provider_wix.callback.recording import CallbackRefused, record_callback

    wants_json = _wants_json(request)
    try:
        connection_id, error = _parse_outcome(request)
        outcome = record_callback(state, connection_id=connection_id, error=error)
    except CallbackRefused as refused:
        refusal = {"status": "refused", "reason": refused.reason}
        return _render(wants_json, refused.http_status, refusal, refused_page(refused.reason))
    record = outcome.record
    payload: dict[str, Any]
    if record.error is None:
        payload = {"status": "connected", "scheduleId": record.schedule_id, "connectionId": record.connection_id}
    else:
        payload = {"status": "error", "scheduleId": record.schedule_id, "error": record.error.value}
    if wants_json:
        return _render(wants_json, 200, payload, None)
    return _render(wants_json, 200, payload, _outcome_page(record))


def _outcome_page(record: FlowRecord) -> OwnerPage:
    """Name the provider and the owner as the connect task recorded them; without them, the page does without.

    Never asks Wix: this route is anonymous, and a Wix call here would cost the API server a token
    and count against the site's rate limit for every owner who answers.
    """
    return outcome_page(record, provider=record.provider_name, owner=record.owner_name)


def _parse_outcome(request: Request) -> tuple[str | None, OAuthCallbackError | None]:
    from airflow_provider_wix.callback.recording import CallbackRefused

    connection_ids = request.query_params.getlist("connectionId")
    errors = request.query_params.getlist("error")
    if len(connection_ids) + len(errors) != 1:
        raise CallbackRefused(400, "Expected exactly one connectionId or error parameter.")
    if connection_ids:
        if not is_valid_connection_id(connection_ids[0]):
            raise CallbackRefused(400, "The connectionId parameter is malformed.")
        return connection_ids[0], None
    try:
        return None, OAuthCallbackError(errors[0])
    except ValueError:
        raise CallbackRefused(400, "The error parameter has an unknown value.") from None


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _render(wants_json: bool, status: int, payload: dict[str, Any], page: OwnerPage | None) -> Response:
    if wants_json or page is None:
        return JSONResponse(payload, status_code=status, headers=_SECURITY_HEADERS)
    body = "".join(f"<p>{html.escape(paragraph)}</p>" for paragraph in page.paragraphs)
    document = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(page.title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;"
        "color:#1d1d1f;line-height:1.5}h1{font-size:1.4rem}</style></head><body>"
        f"<h1>{html.escape(page.title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(document, status_code=status, headers=_SECURITY_HEADERS)


class RedactCallbackStateMiddleware:
    """Keep the state out of the API server's access log: log the callback path without it.

    Airflow's access log (``HttpAccessLogMiddleware``, outermost) and uvicorn's own access log, if
    enabled, print ``scope["path"]`` of the scope object they handed down. For a callback request
    this root middleware rewrites that object's path to :func:`redacted_callback_path` and passes
    the application a copy that keeps the real path, so the route still reads the state.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if CALLBACK_PATH not in path:
            await self.app(scope, receive, send)
            return
        inner = dict(scope)
        shown = redacted_callback_path(path)
        scope["path"] = shown
        scope["raw_path"] = shown.encode()
        await self.app(inner, receive, send)


class WixOAuthCallbackPlugin(AirflowPlugin):
    """Mounts the callback app and the access-log redaction; registered through the ``airflow.plugins``
    entry point."""

    name = "wix_oauth_callback"
    fastapi_apps = [{"app": app, "url_prefix": URL_PREFIX, "name": "Wix OAuth callback"}]
    fastapi_root_middlewares = [
        {"middleware": RedactCallbackStateMiddleware, "args": [], "kwargs": {}, "name": "Wix OAuth state redaction"}
    ]
