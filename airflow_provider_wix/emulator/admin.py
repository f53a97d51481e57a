"""The emulator's admin API under ``/_emulator``: seed, inspect, inject faults, move the clock.

Kept apart from the Wix API as moto keeps ``moto_api`` apart from the services: no auth, not in the
request log, never faulted. Bad requests answer 400 ``{"error": "..."}``.

::

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
    POST   /_emulator/staff                        {"name", "email"?, "phone"?, "serviceProvider"?,
                                                    "usesDefaultWorkingHours"?, "emailPrivate"?}
                                                   or {"staff": [...]}; adds their events schedule too
    PATCH  /_emulator/staff/{id}                   any of the fields above
    DELETE /_emulator/staff/{id}                   gone from Query/Get Staff Member(s)
    POST   /_emulator/staff-settings               {"publiclyAccessible": bool}: staff e-mails public
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from airflow_provider_wix.emulator.config import EmulatorConfig
from airflow_provider_wix.emulator.deps import State
from airflow_provider_wix.emulator.errors import WixErrorReply
from airflow_provider_wix.emulator.faults import FaultRule, parse_fault_spec
from airflow_provider_wix.emulator.wire import json_body, json_response

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_provider_wix.emulator.state import EmulatorState

__all__ = ["ADMIN_PATH", "AdminError", "admin_error_response", "router"]

ADMIN_PATH = "/_emulator"

router = APIRouter(prefix=ADMIN_PATH)


class AdminError(Exception):
    """A bad admin request (answered 400 with ``{"error": ...}``)."""


def admin_error_response(message: str, status: int = 400) -> Response:
    return json_response({"error": message}, status)


async def _body(request: Request) -> dict[str, Any]:
    try:
        return await json_body(request)
    except WixErrorReply as exc:
        raise AdminError(exc.message) from None


@router.get("/health", name="admin_health")
async def health() -> Response:
    return json_response({"status": "ok"})


@router.post("/reset", name="admin_reset")
async def reset(request: Request, state: State) -> Response:
    body = await _body(request)
    overrides = body.get("config") or {}
    if not isinstance(overrides, dict):
        raise AdminError("config must be an object")
    names = {f.name for f in dataclasses.fields(EmulatorConfig)}
    unknown = set(overrides) - names
    if unknown:
        raise AdminError(f"unknown config fields: {', '.join(sorted(unknown))}")
    config = dataclasses.replace(state.config, **overrides) if overrides else None
    state.reset(config)
    return json_response({"status": "reset"})


@router.get("/state", name="admin_state")
async def snapshot(state: State) -> Response:
    return json_response(state.snapshot())


@router.get("/requests", name="admin_requests")
async def requests_log(request: Request, state: State) -> Response:
    entries = state.request_log()
    route = request.query_params.get("route")
    if route:
        entries = [e for e in entries if e["route"] == route]
    since = request.query_params.get("since")
    if since:
        entries = [e for e in entries if e["seq"] > int(since)]
    return json_response({"requests": entries})


@router.delete("/requests", name="admin_clear_requests")
async def clear_requests(state: State) -> Response:
    state.clear_request_log()
    return json_response({"status": "cleared"})


def _faults_json(state: EmulatorState) -> dict[str, Any]:
    return {
        "rules": [r.to_json() for r in state.fault_injector.rules()],
        "rate_limit": state.rate_limiter.per_minute,
    }


@router.get("/faults", name="admin_faults")
async def get_faults(state: State) -> Response:
    return json_response(_faults_json(state))


@router.post("/faults", name="admin_set_faults")
async def set_faults(request: Request, state: State) -> Response:
    """Body: ``rules`` (objects) and/or ``specs`` (strings), ``append``, ``clear``, ``rate_limit``."""
    body = await _body(request)
    rules = [FaultRule.from_json(r) for r in body.get("rules") or []]
    rules += [parse_fault_spec(s) for s in body.get("specs") or []]
    if body.get("clear"):
        state.clear_faults()
    if rules or not body.get("append"):
        state.set_faults(rules, replace=not body.get("append"))
    if body.get("rate_limit") is not None:
        state.set_rate_limit(int(body["rate_limit"]))
    return json_response(_faults_json(state))


@router.delete("/faults", name="admin_clear_faults")
async def clear_faults(state: State) -> Response:
    state.clear_faults()
    state.set_rate_limit(0)
    return json_response(_faults_json(state))


@router.post("/schedules", name="admin_add_schedules")
async def add_schedules(request: Request, state: State) -> Response:
    """Body: one schedule or ``{"schedules": [...]}``, each ``{id?, ownerId?, ownerName?, business?}``."""
    body = await _body(request)
    items = body.get("schedules", [body])
    created = [
        state.add_schedule(
            item.get("id"), item.get("ownerId"), item.get("ownerName"), business=bool(item.get("business"))
        ).to_json()
        for item in items
    ]
    return json_response({"schedules": created})


@router.post("/schedules/{schedule_id}/owner", name="admin_change_owner")
async def change_owner(request: Request, schedule_id: str, state: State) -> Response:
    body = await _body(request)
    disconnected = state.change_schedule_owner(schedule_id, str(body.get("ownerId")), body.get("ownerName"))
    return json_response({"schedule": state.schedule(schedule_id).to_json(), "disconnected": disconnected})


@router.post("/connections", name="admin_create_connection")
async def create_connection(request: Request, state: State) -> Response:
    """Seed a connection: ``providerId``, ``scheduleId`` and optional ``status``, ``errorReason``,
    ``syncConfig``, ``externalAccountEmail``, ``eventsPerDay``, ``allDayEveryDays``, ``syncing``."""
    body = await _body(request)
    if "providerId" not in body or "scheduleId" not in body:
        raise AdminError("providerId and scheduleId are required")
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
    return json_response({"connection": conn})


@router.post("/connections/{connection_id}/status", name="admin_connection_status")
async def connection_status(request: Request, connection_id: str, state: State) -> Response:
    body = await _body(request)
    if "status" not in body:
        raise AdminError("status is required")
    return json_response(
        {"connection": state.set_connection_status(connection_id, body["status"], body.get("errorReason"))}
    )


@router.post("/connections/{connection_id}/sync", name="admin_connection_sync")
async def connection_sync(connection_id: str, state: State) -> Response:
    return json_response({"connection": state.complete_sync(connection_id)})


@router.get("/oauth/flows", name="admin_oauth_flows")
async def oauth_flows(request: Request, state: State) -> Response:
    include_all = (request.query_params.get("all") or "").lower() == "true"
    return json_response({"flows": state.oauth_flows(include_decided=include_all)})


@router.post("/oauth/flows/{flow_id}/decision", name="admin_oauth_decision")
async def oauth_decision(request: Request, flow_id: str, state: State) -> Response:
    """Decide a flow without the page; answers the redirect ``location`` the browser would get."""
    body = await _body(request)
    location = state.decide_oauth(flow_id, str(body.get("decision", "allow")), email=body.get("email"))
    flows = {f["id"]: f for f in state.oauth_flows(include_decided=True)}
    return json_response({"location": location, "connection_id": flows[flow_id]["connection_id"]})


@router.post("/providers/{provider_id}/failure", name="admin_provider_failure")
async def provider_failure(request: Request, provider_id: str, state: State) -> Response:
    body = await _body(request)
    state.set_provider_failing(provider_id, bool(body.get("failing", True)))
    return json_response({"failing_provider_ids": state.snapshot()["failing_provider_ids"]})


@router.post("/time", name="admin_time")
async def advance_time(request: Request, state: State) -> Response:
    body = await _body(request)
    state.advance_time(float(body.get("advance", 0)))
    return json_response({"time_offset": state.snapshot()["time_offset"]})


# ---------------------------------------------------------------------- staff members (staff.py)


def _admin_answer(action: Callable[[], Any]) -> Response:
    """Admin conventions: ``{"error": ...}`` with the status (404 for an unknown staff member)."""
    try:
        return json_response(action())
    except WixErrorReply as exc:
        return admin_error_response(exc.message, exc.status)


@router.post("/staff", name="admin_add_staff")
async def add_staff(request: Request, state: State) -> Response:
    body = await _body(request)
    items = body.get("staff")
    if items is None:
        return _admin_answer(lambda: state.staff.add(body))
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise AdminError("staff must be a list of objects")
    return _admin_answer(lambda: {"staff": [state.staff.add(i) for i in items]})


@router.patch("/staff/{staff_member_id}", name="admin_change_staff")
async def change_staff(request: Request, staff_member_id: str, state: State) -> Response:
    body = await _body(request)
    return _admin_answer(lambda: state.staff.change(staff_member_id, body))


@router.delete("/staff/{staff_member_id}", name="admin_delete_staff")
async def delete_staff(staff_member_id: str, state: State) -> Response:
    def delete() -> dict[str, str]:
        state.staff.delete(staff_member_id)
        return {"deleted": staff_member_id}

    return _admin_answer(delete)


@router.post("/staff-settings", name="admin_staff_settings")
async def staff_settings(request: Request, state: State) -> Response:
    value = (await _body(request)).get("publiclyAccessible")
    if not isinstance(value, bool):
        raise AdminError("publiclyAccessible must be true or false")
    state.staff.set_publicly_accessible(value)
    return json_response(state.staff.settings())
