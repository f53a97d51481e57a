"""The Wix API's route table: the routers a Wix client calls, and the route names faults can target.

A new Wix API (say, Staff Members) is one more router module whose ``router`` is added to
:data:`WIX_API_ROUTERS`; its route names then become fault targets and request-log ``route`` values.
The consent pages and the admin API are not Wix API calls: no request log, no faults, no rate limit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_wix.emulator import routes_external_calendars, routes_oauth2, routes_staff_members
from airflow_provider_wix.emulator.deps import wix_auth

if TYPE_CHECKING:
    from fastapi import APIRouter

__all__ = ["AUTHENTICATED_ROUTE_NAMES", "ROUTE_NAMES", "WIX_API_ROUTERS"]

WIX_API_ROUTERS: tuple[APIRouter, ...] = (
    routes_oauth2.router,
    routes_external_calendars.router,
    routes_staff_members.router,
)


def _names(routers: tuple[APIRouter, ...]) -> tuple[str, ...]:
    return tuple(getattr(route, "name", "") for router in routers for route in router.routes)


# Names of the Wix API routes (FastAPI route names): what fault rules target.
ROUTE_NAMES = _names(WIX_API_ROUTERS)
# Routes behind Wix's authentication: what the per-credential rate limit counts.
AUTHENTICATED_ROUTE_NAMES = frozenset(
    _names(tuple(r for r in WIX_API_ROUTERS if any(d.dependency is wix_auth for d in r.dependencies)))
)
