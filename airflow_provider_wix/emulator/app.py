"""The emulator's ASGI app: the Wix API routers, the consent pages and the admin API behind Wix's edge.

Assembly only, as in FastAPI's "bigger applications" layout:

- ``wix_api.py``: the Wix API's route table (``routes_oauth2.py``, ``routes_external_calendars.py``);
- ``consent.py``: the OAuth consent page; ``admin.py``: ``/_emulator/...`` (seeding, faults, the log);
- ``edge.py``: request id, request log, faults and rate limit, one middleware each;
- the state (``state.py``) holds what every call means.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from airflow_provider_wix.emulator import admin, consent
from airflow_provider_wix.emulator.edge import install_edge
from airflow_provider_wix.emulator.errors import WixErrorReply, not_found
from airflow_provider_wix.emulator.wire import error_response, system_error_response
from airflow_provider_wix.emulator.wix_api import WIX_API_ROUTERS

if TYPE_CHECKING:
    from fastapi.responses import Response

    from airflow_provider_wix.emulator.state import EmulatorState

__all__ = ["create_app"]

log = logging.getLogger(__name__)


async def _wix_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, WixErrorReply)
    return error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code in (404, 405):  # Wix's gateway answers 404 for any unknown method + path
        return error_response(not_found(f"No route for {request.method} {request.url.path}"))
    return error_response(WixErrorReply(exc.status_code, str(exc.detail)))


async def _request_invalid(request: Request, exc: Exception) -> Response:
    return error_response(WixErrorReply(400, "INVALID_ARGUMENT: bad request"))


async def _value_error(request: Request, exc: Exception) -> Response:
    if request.url.path.startswith(admin.ADMIN_PATH):  # a bad seed value, e.g. an unknown status
        return admin.admin_error_response(str(exc))
    log.error("Emulator route failed", exc_info=exc)
    return system_error_response(500)


async def _admin_error(request: Request, exc: Exception) -> Response:
    return admin.admin_error_response(str(exc))


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
    app.state.emulator = state
    for router in (*WIX_API_ROUTERS, consent.router, admin.router):
        app.include_router(router)
    app.add_exception_handler(WixErrorReply, _wix_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(ValueError, _value_error)
    app.add_exception_handler(admin.AdminError, _admin_error)
    install_edge(app, state)
    return app
