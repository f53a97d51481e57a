"""Bookings Staff Members v1: the three Wix methods, and the admin routes that shape the staff.

Wix API (authenticated, logged, faultable like the calendar routes; behaviour in ``staff.py``)::

    POST /bookings/v1/staff-members/query          {"query": {filter, sort, cursorPaging}, "fields": [...]}
    GET  /bookings/v1/staff-members/{id}?fields=   {"staffMember": {...}}
    GET  /bookings/v1/staff-member-settings        {"staffMemberSettings": {...}}

The admin routes that add, change and delete staff are with the others in ``admin.py``.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from airflow_provider_wix.emulator.deps import State, wix_auth
from airflow_provider_wix.emulator.errors import FieldViolation, validation_error
from airflow_provider_wix.emulator.model import is_guid
from airflow_provider_wix.emulator.wire import json_body, json_response

__all__ = ["PREFIX", "router"]

PREFIX = "/bookings/v1"

router = APIRouter(prefix=PREFIX, dependencies=[Depends(wix_auth)])


@router.post("/staff-members/query", name="query_staff_members")
async def query_staff_members(request: Request, state: State) -> Response:
    return json_response(state.staff.query(await json_body(request)))


@router.get("/staff-members/{staff_member_id}", name="get_staff_member")
async def get_staff_member(request: Request, staff_member_id: str, state: State) -> Response:
    if not is_guid(staff_member_id):
        raise validation_error(FieldViolation("staffMemberId", "must be a GUID"))
    # The SDK repeats the id as ?staffMemberId=...; tolerated, as Wix does.
    return json_response(state.staff.get(staff_member_id, request.query_params.getlist("fields")))


@router.get("/staff-member-settings", name="get_staff_member_settings")
async def get_staff_member_settings(state: State) -> Response:
    return json_response(state.staff.settings())
