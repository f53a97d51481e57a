"""Airflow plugin: the "Wix calendars" dashboard, a page in the Airflow UI's navigation.

Unlike the OAuth callback (:mod:`airflow_provider_wix.plugins.callback`), everything here is behind
Airflow's login: Airflow does not authenticate plugin apps, so every route resolves the user itself
(the UI's session cookie or a Bearer token) and asks the configured auth manager. A user sees the
onboardings of the DAGs they may read, copies a consent link if they may read that DAG's XComs,
cancels a flow if they may edit its DAG, and re-onboards if they may trigger the onboarding DAG
(the browser then calls Airflow's own REST API, which checks again). Requests that change state and
ride on the ambient cookie must carry a CSRF token bound to that session.

Handlers are plain ``def``: FastAPI runs them in its threadpool, so the metadata-database reads and
the (cached) Wix call never block the API server's event loop.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any

from airflow.plugins_manager import AirflowPlugin
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from airflow_provider_wix.dashboard import UI_ROUTE
from airflow_provider_wix.dashboard.render import STATIC

if TYPE_CHECKING:
    from airflow.api_fastapi.auth.managers.base_auth_manager import BaseAuthManager
    from airflow.api_fastapi.auth.managers.models.base_user import BaseUser

    from airflow_provider_wix.dashboard.render import Permissions
    from airflow_provider_wix.dashboard.rows import DashboardRow, FlowEntry

URL_PREFIX = "/wix-calendars"
CSRF_HEADER = "X-CSRF-Token"

_FLOW_ID = re.compile(r"^[0-9a-f]{64}$")
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    # Shown inside the Airflow UI (an iframe of the same origin), nowhere else.
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
        "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
    ),
}


async def _user(request: Request) -> BaseUser:
    """The Bearer header's user, else the UI's session cookie's (Airflow's ``get_user``); 401 without either."""
    from airflow_provider_wix.version_compat import request_user

    return await request_user(request)


UserDep = Annotated[Any, Depends(_user)]

app = FastAPI(
    title="Wix calendars dashboard",
    description="Onboardings of Wix staff calendars, for airflow-provider-wix.",
    docs_url=None,
    redoc_url=None,
    openapi_url=None,
)
app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")


@app.exception_handler(HTTPException)
async def _login_or_error(request: Request, exc: HTTPException) -> Response:
    """A person without a session is sent to Airflow's login, and comes back to the dashboard."""
    if exc.status_code == 401 and _wants_html(request):
        from airflow_provider_wix.version_compat import login_url

        login = login_url(_auth_manager(), next_url=f"{_airflow_root(request)}/plugin/{UI_ROUTE}")
        return RedirectResponse(login, status_code=303, headers={"Cache-Control": "no-store"})
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers={"Cache-Control": "no-store"})


# -- pages ---------------------------------------------------------------------------------------


@app.get("/", response_class=HTMLResponse)
def dashboard(request: Request, user: UserDep) -> Response:
    from airflow_provider_wix.dashboard.render import PageContext, render_page
    from airflow_provider_wix.dashboard.rows import count_rows, onboardings_per_day

    _require_view(user)
    flows, rows, wix_error = _visible(user)
    page = PageContext(
        user=user.get_name(),
        prefix=_prefix(request),
        airflow_root=_airflow_root(request),
        csrf_token=_csrf_token(request),
        onboarding_dag_id=_dag_id(),
        permissions=_permissions(user, rows),
        wix_error=wix_error,
    )
    html = render_page(rows, count_rows(rows), onboardings_per_day(flows), page)
    return HTMLResponse(html, headers=_PAGE_HEADERS)


@app.get("/api/rows")
def rows_json(user: UserDep) -> Response:
    from airflow_provider_wix.dashboard.rows import count_rows

    _require_view(user)
    _, rows, wix_error = _visible(user)
    return _json({"counts": count_rows(rows), "rows": [row.as_json() for row in rows], "wixError": wix_error})


@app.get("/api/flows/{flow_id}/link")
def consent_link(flow_id: str, user: UserDep) -> Response:
    """The pending consent URL, for users who may read the issuing DAG's XComs (where it lives anyway)."""
    from airflow_provider_wix.dashboard.sources import consent_link as read_link

    _require_view(user)
    record = _pending_flow(flow_id)
    if not _may(user, record.dag_id, method="GET", xcom=True):
        raise HTTPException(403, "You may not read this DAG's XComs, where the consent link is kept.")
    url = read_link(record)
    if not url:
        raise HTTPException(404, "The task that issued this flow has no consent link in its XComs.")
    return _json({"url": url, "scheduleId": record.schedule_id})


@app.post("/api/flows/{flow_id}/cancel")
def cancel(flow_id: str, request: Request, user: UserDep) -> Response:
    """Withdraw a pending link; the waiting sensor fails with "cancelled by <user>"."""
    from airflow_provider_wix.callback.recording import CallbackRefused, cancel_flow

    _require_view(user)
    _check_csrf(request)
    record = _pending_flow(flow_id)
    if not _may(user, record.dag_id, method="PUT"):
        raise HTTPException(403, f"You may not edit DAG {record.dag_id}, which issued this link.")
    try:
        outcome = cancel_flow(flow_id, by=user.get_name())
    except CallbackRefused as refused:
        raise HTTPException(refused.http_status, refused.reason) from None
    return _json(
        {
            "status": "cancelled",
            "detail": f"the link of schedule {record.schedule_id} no longer works",
            "wokeTask": outcome.woke_task,
        }
    )


@app.get("/api/schedules/{schedule_id}/onboarding-conf")
def onboarding_conf(schedule_id: str, user: UserDep) -> Response:
    """The DAG and conf that re-onboard a schedule with the params it was last onboarded with."""
    from airflow_provider_wix.client.errors import WixInvalidRequestError
    from airflow_provider_wix.client.validation import validate_guid

    _require_view(user)
    try:
        schedule_id = validate_guid(schedule_id, "schedule_id")
    except WixInvalidRequestError as exc:
        raise HTTPException(400, str(exc)) from None
    dag_id = _dag_id()
    if not _may(user, dag_id, method="POST", run=True):
        raise HTTPException(403, f"You may not trigger DAG {dag_id}.")
    _, rows, _ = _visible(user)
    row = next((r for r in rows if r.schedule_id == schedule_id), None)
    if row is None:
        raise HTTPException(404, "No onboarding of this schedule is visible to you.")
    return _json({"dagId": dag_id, "conf": _conf_for(row, dag_id)})


# -- helpers -------------------------------------------------------------------------------------


def _conf_for(row: DashboardRow, dag_id: str) -> dict[str, Any]:
    from airflow_provider_wix.dashboard.sources import run_conf

    conf: dict[str, Any] = {}
    if row.dag_id == dag_id and row.run_id:
        conf = run_conf(dag_id, row.run_id)
    conf["schedule_id"] = row.schedule_id
    if "provider" not in conf and row.provider in ("Google", "Microsoft", "Apple"):
        conf["provider"] = row.provider
    return conf


def _visible(user: BaseUser) -> tuple[list[FlowEntry], list[DashboardRow], str | None]:
    """The flows and rows of DAGs the user may read, and why Wix could not be asked (if so)."""
    from airflow_provider_wix.dashboard import sources
    from airflow_provider_wix.dashboard.rows import LazyNames, build_rows

    conn_id = sources.configured_wix_conn_id()
    flows = sources.read_flows()
    connections, wix_error = sources.wix_connections(conn_id)
    # Flow records name the provider and the owner; Wix's (cached) lists are asked only for a row they
    # do not name, e.g. a connection made outside Airflow or a record of an older version.
    rows = build_rows(
        flows,
        connections,
        provider_names=LazyNames(lambda: sources.provider_names(conn_id)),
        owner_names=LazyNames(lambda: sources.owner_names(conn_id)),
        default_dag_id=_dag_id(),
    )
    readable = _auth_manager().filter_authorized_dag_ids(
        dag_ids={r.dag_id for r in rows if r.dag_id}, user=user, method="GET"
    )
    flows = [e for e in flows if e.record.dag_id in readable]
    return flows, [r for r in rows if r.dag_id in readable], wix_error


def _permissions(user: BaseUser, rows: list[DashboardRow]) -> Permissions:
    from airflow_provider_wix.dashboard.render import Permissions

    dag_ids = {r.dag_id for r in rows if r.dag_id and r.flow_id}
    return Permissions(
        editable_dags=frozenset(_auth_manager().filter_authorized_dag_ids(dag_ids=dag_ids, user=user, method="PUT")),
        link_dags=frozenset(d for d in dag_ids if _may(user, d, method="GET", xcom=True)),
        can_trigger=_may(user, _dag_id(), method="POST", run=True),
    )


def _may(user: BaseUser, dag_id: str, *, method: str, xcom: bool = False, run: bool = False) -> bool:
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails

    entity = DagAccessEntity.XCOM if xcom else DagAccessEntity.RUN if run else None
    return _auth_manager().is_authorized_dag(
        method=method,  # type: ignore[arg-type]
        access_entity=entity,
        details=DagDetails(id=dag_id),
        user=user,
    )


def _require_view(user: BaseUser) -> None:
    from airflow.api_fastapi.auth.managers.models.resource_details import AccessView

    if not _auth_manager().is_authorized_view(access_view=AccessView.PLUGINS, user=user):
        raise HTTPException(403, "You may not view plugin pages.")


def _pending_flow(flow_id: str) -> Any:
    from airflow_provider_wix.dashboard.sources import read_flow

    record = read_flow(flow_id) if _FLOW_ID.fullmatch(flow_id) else None
    if record is None:
        raise HTTPException(404, "No such onboarding flow (it may have finished or expired).")
    if not record.is_pending or record.is_expired():
        raise HTTPException(409, "This onboarding flow is no longer pending.")
    return record


def _dag_id() -> str:
    from airflow_provider_wix.dashboard.sources import configured_onboarding_dag_id

    return configured_onboarding_dag_id()


def _auth_manager() -> BaseAuthManager:
    from airflow.api_fastapi.app import get_auth_manager

    return get_auth_manager()


@cache
def _csrf_key() -> bytes:
    from airflow.configuration import conf

    secret = conf.get("api_auth", "jwt_secret", fallback="") or ""
    # Without a configured secret, tokens are valid for this process only (reload the page after a restart).
    return hashlib.sha256(b"wix-dashboard-csrf\0" + secret.encode()).digest() if secret else secrets.token_bytes(32)


def _csrf_token(request: Request) -> str:
    """A token bound to this browser session (the JWT cookie): a forged cross-site request lacks it."""
    from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN

    session = request.cookies.get(COOKIE_NAME_JWT_TOKEN, "")
    return hmac.new(_csrf_key(), session.encode(), hashlib.sha256).hexdigest()


def _check_csrf(request: Request) -> None:
    """Cookie-authenticated state changes need the page's token; a Bearer token is not ambient."""
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent or not hmac.compare_digest(sent, _csrf_token(request)):
        raise HTTPException(403, "Missing or wrong CSRF token; reload the dashboard and try again.")


def _prefix(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/") or URL_PREFIX


def _airflow_root(request: Request) -> str:
    return _prefix(request).removesuffix(URL_PREFIX)


def _wants_html(request: Request) -> bool:
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


def _json(payload: dict[str, Any]) -> JSONResponse:
    return JSONResponse(payload, headers={"Cache-Control": "no-store"})


class WixDashboardPlugin(AirflowPlugin):
    """Adds "Wix calendars" to the UI's navigation; registered through the ``airflow.plugins`` entry point."""

    name = "wix_calendars_dashboard"
    fastapi_apps = [{"app": app, "url_prefix": URL_PREFIX, "name": "Wix calendars dashboard"}]
    external_views = [
        {
            "name": "Wix calendars",
            "href": f"{URL_PREFIX}/",
            "destination": "nav",
            "url_route": UI_ROUTE,
            "icon": f"{URL_PREFIX}/static/calendar.svg",
            "nav_top_level": True,
        }
    ]
