"""The nine External Calendars v2 methods: parse the request, call the state, render the answer.

Every route needs Wix's authentication (:func:`~airflow_provider_wix.emulator.deps.wix_auth`, a
dependency of the router); what a call means is in ``wix_behaviour.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from airflow_provider_wix.emulator.deps import State, wix_auth
from airflow_provider_wix.emulator.errors import FieldViolation
from airflow_provider_wix.emulator.model import EMAIL_RE, ListEventsQuery
from airflow_provider_wix.emulator.wire import (
    guid_list,
    is_web_url,
    json_body,
    json_response,
    optional_bool,
    page_limit,
    raise_violations,
    require_guid,
    require_string,
    require_time,
)

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["PREFIX", "router"]

PREFIX = "/bookings/v2/external-calendars"
_FIELDSETS = ("NO_PI", "OWN_PI")

router = APIRouter(prefix=PREFIX, dependencies=[Depends(wix_auth)])


@router.get("/providers", name="list_providers")
async def list_providers(state: State) -> Response:
    return json_response(state.list_providers())


@router.get("/connections", name="list_connections")
async def list_connections(request: Request, state: State) -> Response:
    violations: list[FieldViolation] = []
    schedule_ids = guid_list(request.query_params.getlist("scheduleIds"), "scheduleIds", violations)
    partial = optional_bool(request.query_params.get("partialFailure"), "partialFailure", violations)
    raise_violations(violations)
    return json_response(state.list_connections(schedule_ids, bool(partial)))


@router.post("/connections:connectByOAuth", name="connect_by_oauth")
async def connect_by_oauth(request: Request, state: State) -> Response:
    provider_id, schedule_id, (redirect_url,) = await _connect_request(request, "redirectUrl")
    base_url = str(request.base_url).rstrip("/")
    return json_response(state.connect_by_oauth(provider_id, schedule_id, redirect_url, base_url))


@router.post("/connections:connectByCredentials", name="connect_by_credentials")
async def connect_by_credentials(request: Request, state: State) -> Response:
    provider_id, schedule_id, (email, password) = await _connect_request(request, "email", "password")
    return json_response(state.connect_by_credentials(provider_id, schedule_id, email, password))


#: Format checks of the Connect methods' string fields: is it valid, Wix's description, the expected format.
_CONNECT_FORMATS: dict[str, tuple[Callable[[str], bool], str, str]] = {
    "redirectUrl": (is_web_url, "must be a valid URL", "WEB_URL"),
    "email": (lambda value: bool(EMAIL_RE.match(value)), "must be a valid email", "EMAIL"),
}


async def _connect_request(request: Request, *fields: str) -> tuple[str, str, list[str]]:
    """The ``providerId`` and ``scheduleId`` GUIDs both Connect methods require, and their string ``fields``.

    Every field is checked before Wix answers 400 with all the violations at once.
    """
    body = await json_body(request)
    violations: list[FieldViolation] = []
    provider_id, schedule_id = (
        require_guid(body, "providerId", violations),
        require_guid(body, "scheduleId", violations),
    )
    values = []
    for name in fields:
        value = require_string(body, name, violations)
        if name in _CONNECT_FORMATS and value and not _CONNECT_FORMATS[name][0](value):
            _, message, expected = _CONNECT_FORMATS[name]
            violations.append(FieldViolation(name, message, "FORMAT", {"expected": expected}))
        values.append(value)
    raise_violations(violations)
    return provider_id, schedule_id, values


@router.get("/connections/{connection_id}", name="get_connection")
async def get_connection(connection_id: str, state: State) -> Response:
    return json_response(state.get_connection(connection_id))


@router.get("/connections/{connection_id}/calendars", name="list_calendars")
async def list_calendars(connection_id: str, state: State) -> Response:
    return json_response(state.list_calendars(connection_id))


@router.patch("/connections/{connection_id}/sync-config", name="update_sync_config")
async def update_sync_config(request: Request, connection_id: str, state: State) -> Response:
    body = await json_body(request)
    return json_response(state.update_sync_config(connection_id, body.get("syncConfig"), body.get("fieldMask")))


@router.post("/connections/{connection_id}/disconnect", name="disconnect")
async def disconnect(request: Request, connection_id: str, state: State) -> Response:
    await json_body(request)  # optional; the SDK repeats connectionId in it
    return json_response(state.disconnect(connection_id))


@router.get("/events", name="list_events")
async def list_events(request: Request, state: State) -> Response:
    params = request.query_params
    violations: list[FieldViolation] = []
    limit = page_limit(params.get("cursorPaging.limit"), violations)
    cursor = params.get("cursorPaging.cursor") or None
    query = None if cursor is not None else _event_query(request, violations)
    raise_violations(violations)
    body = state.list_events_page_json(query, cursor=cursor, limit=limit)
    return Response(body, media_type="application/json")


def _event_query(request: Request, violations: list[FieldViolation]) -> ListEventsQuery:
    """A first page's query from its parameters (later pages carry theirs in the cursor)."""
    params = request.query_params
    from_ms = require_time(params.get("from"), "from", violations)
    to_ms = require_time(params.get("to"), "to", violations)
    if from_ms and to_ms and from_ms >= to_ms:
        violations.append(FieldViolation("to", "must be after from", "CUSTOM"))
    schedule_ids = guid_list(params.getlist("scheduleIds"), "scheduleIds", violations)
    user_ids = guid_list(params.getlist("userIds"), "userIds", violations)
    all_day = optional_bool(params.get("allDay"), "allDay", violations)
    partial = optional_bool(params.get("partialFailure"), "partialFailure", violations)
    fieldsets = params.getlist("fieldsets")
    for n, value in enumerate(fieldsets):
        if value not in _FIELDSETS:
            violations.append(
                FieldViolation(f"fieldsets[{n}]", "must be NO_PI or OWN_PI", "INVALID_ENUM_VALUE", {"value": value})
            )
    return ListEventsQuery(from_ms, to_ms, schedule_ids, user_ids, all_day, "OWN_PI" in fieldsets, bool(partial))
