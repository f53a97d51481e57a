"""The dashboard's routes on Airflow's real API-server app: login, permissions, CSRF, rows, actions."""

from __future__ import annotations

import re
from typing import Any

import pytest

from airflow_provider_wix.callback.state import FlowStatus, flow_key
from tests.dashboard.conftest import token_for
from tests.dashboard.site import build_site

PAGE = "/wix-calendars/"
ROWS = "/wix-calendars/api/rows"


@pytest.fixture(scope="module")
def api(airflow_db: Any, dashboard_auth: Any) -> Any:
    from airflow.api_fastapi.app import create_app
    from fastapi.testclient import TestClient

    with TestClient(create_app()) as client:
        yield client


@pytest.fixture
def site(wix_conn: Any, seed_flow: Any) -> Any:
    from airflow_provider_wix.dashboard.sources import clear_caches

    clear_caches()
    yield build_site(wix_conn, seed_flow)
    clear_caches()


def bearer(username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(username)}"}


def login(api: Any, username: str) -> str:
    """Sign in like the UI does (session cookie); returns the page's CSRF token."""
    api.cookies.clear()
    api.cookies.set("_token", token_for(username))
    page = api.get(PAGE)
    assert page.status_code == 200, page.text
    match = re.search(r'name="wix-csrf-token" content="([0-9a-f]+)"', page.text)
    assert match
    return match.group(1)


def read_record(flow_id: str) -> Any:
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session
    from sqlalchemy import select

    from airflow_provider_wix.callback.state import FlowRecord

    with create_session() as session:
        row = session.scalars(select(Variable).where(Variable.key == flow_key(flow_id))).one()
        return FlowRecord.from_json(row.val)


# -- who may see what -----------------------------------------------------------------------------


def test_the_plugin_adds_wix_calendars_to_the_ui_navigation(api):
    plugins = api.get("/api/v2/plugins", headers=bearer("admin")).json()["plugins"]
    views = [view for plugin in plugins for view in plugin["external_views"]]
    view = next(v for v in views if v["name"] == "Wix calendars")
    assert view["destination"] == "nav"
    assert view["url_route"] == "wix-calendars"
    assert view["href"] == PAGE


def test_anonymous_browser_is_sent_to_login_and_back(api):
    api.cookies.clear()
    response = api.get(PAGE, headers={"Accept": "text/html"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/auth/login")
    assert "next=%2Fplugin%2Fwix-calendars" in response.headers["location"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", PAGE),
        ("get", ROWS),
        ("get", "/wix-calendars/api/flows/" + "0" * 64 + "/link"),
        ("post", "/wix-calendars/api/flows/" + "0" * 64 + "/cancel"),
        ("get", "/wix-calendars/api/schedules/89e20858-bfa1-462b-b813-074fb1e4d62f/onboarding-conf"),
    ],
)
def test_every_route_refuses_anonymous_requests(api, method, path):
    api.cookies.clear()
    response = getattr(api, method)(path, headers={"Accept": "application/json"})
    assert response.status_code == 401


def test_a_forged_token_is_refused(api):
    api.cookies.clear()
    assert api.get(ROWS, headers={"Authorization": "Bearer not-a-jwt"}).status_code in (401, 403)


def test_rows_show_every_status_with_counts(api, site):
    body = api.get(ROWS, headers=bearer("viewer")).json()
    status = {row["scheduleId"]: row["status"] for row in body["rows"]}
    expected = {
        "SYNCED": "SYNCED",
        "SYNC_IN_PROGRESS": "SYNC_IN_PROGRESS",
        "CONNECTED": "CONNECTED",
        "ERROR": "ERROR",
        "DISCONNECTED": "DISCONNECTED",
        "pending": "pending",
        "expired": "expired",
        "declined": "declined",
        "unsupported": "unsupported",
        "team_a": "pending",
    }
    assert {name: status.get(site.schedules[name]) for name in expected} == expected
    assert body["counts"] == {"pending": 2, "connected": 3, "attention": 5, "total": 10}
    assert body["wixError"] is None
    rows = {row["scheduleId"]: row for row in body["rows"]}
    error = rows[site.schedules["ERROR"]]
    assert "revoked" in error["detail"] and "TOKEN_REVOKED" in error["detail"]
    pending = rows[site.schedules["pending"]]
    assert pending["provider"] == "Microsoft"
    assert pending["detail"].startswith("sent 3 h ago, valid 6 d more")
    assert (pending["dagId"], pending["taskId"]) == ("wix_calendar_onboarding", "connect_by_oauth")
    assert pending["flowId"] == site.flows["pending"]


def test_a_user_sees_only_the_onboardings_of_dags_they_may_read(api, site):
    body = api.get(ROWS, headers=bearer("team_a_editor")).json()
    assert [row["scheduleId"] for row in body["rows"]] == [site.schedules["team_a"]]
    assert body["counts"]["total"] == 1


def test_the_page_lists_the_rows_and_offers_actions_by_permission(api, site):
    login(api, "editor")
    page = api.get(PAGE).text
    for name in ("SYNCED", "ERROR", "declined", "pending"):
        assert site.schedules[name] in page
    assert "<svg" in page and "links sent" in page
    assert 'data-action="cancel"' in page and 'data-action="copy"' in page and 'data-action="reonboard"' in page
    login(api, "viewer")
    page = api.get(PAGE).text
    assert site.schedules["pending"] in page
    assert 'data-action="cancel"' not in page and 'data-action="reonboard"' not in page
    assert 'data-action="copy"' in page  # viewers read XComs in Airflow, where the link is anyway


def test_the_page_may_be_framed_only_by_airflow_itself(api, site):
    login(api, "viewer")
    response = api.get(PAGE)
    assert "frame-ancestors 'self'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    assert api.get("/wix-calendars/static/dashboard.js").status_code == 200


# -- actions --------------------------------------------------------------------------------------


def test_copy_link_returns_the_consent_url_from_xcom(api, site, monkeypatch):
    from airflow_provider_wix.dashboard import sources

    monkeypatch.setattr(sources, "consent_link", lambda record: f"https://consent.example/{record.schedule_id}")
    flow_id = site.flows["pending"]
    response = api.get(f"/wix-calendars/api/flows/{flow_id}/link", headers=bearer("viewer"))
    assert response.status_code == 200
    assert response.json()["url"] == f"https://consent.example/{site.schedules['pending']}"
    other_team = api.get(f"/wix-calendars/api/flows/{flow_id}/link", headers=bearer("team_a_editor"))
    assert other_team.status_code == 403


def test_copy_link_of_an_unknown_or_finished_flow(api, site):
    assert api.get("/wix-calendars/api/flows/" + "a" * 64 + "/link", headers=bearer("admin")).status_code == 404
    assert api.get("/wix-calendars/api/flows/not-a-flow/link", headers=bearer("admin")).status_code == 404
    declined = site.flows["declined"]
    assert api.get(f"/wix-calendars/api/flows/{declined}/link", headers=bearer("admin")).status_code == 409


def test_cancel_needs_edit_permission_on_the_dag(api, site):
    flow_id = site.flows["pending"]
    for user in ("viewer", "team_a_editor"):
        response = api.post(f"/wix-calendars/api/flows/{flow_id}/cancel", headers=bearer(user))
        assert response.status_code == 403, user
    assert read_record(flow_id).status is FlowStatus.PENDING


def test_cancel_with_the_session_cookie_needs_the_csrf_token(api, site):
    flow_id = site.flows["pending"]
    token = login(api, "editor")
    assert api.post(f"/wix-calendars/api/flows/{flow_id}/cancel").status_code == 403
    assert api.post(f"/wix-calendars/api/flows/{flow_id}/cancel", headers={"X-CSRF-Token": "0" * 64}).status_code == 403
    assert read_record(flow_id).status is FlowStatus.PENDING
    # A token from another session does not work either.
    other = login(api, "admin")
    api.cookies.set("_token", token_for("editor"))
    assert other != token
    response = api.post(f"/wix-calendars/api/flows/{flow_id}/cancel", headers={"X-CSRF-Token": other})
    assert response.status_code == 403

    token = login(api, "editor")
    response = api.post(f"/wix-calendars/api/flows/{flow_id}/cancel", headers={"X-CSRF-Token": token})
    assert response.status_code == 200, response.text
    record = read_record(flow_id)
    assert record.status is FlowStatus.CANCELLED
    assert record.cancelled_by == "editor"
    # Once cancelled, it cannot be cancelled again, and the owner's link no longer works.
    again = api.post(f"/wix-calendars/api/flows/{flow_id}/cancel", headers={"X-CSRF-Token": token})
    assert again.status_code == 409
    rows = api.get(ROWS).json()["rows"]
    row = next(r for r in rows if r["scheduleId"] == site.schedules["pending"])
    assert (row["status"], row["detail"]) == ("cancelled", "cancelled by editor")


def test_reonboard_conf_repeats_the_schedules_last_params(api, site):
    from airflow_provider_wix.dashboard import sources

    path = f"/wix-calendars/api/schedules/{site.schedules['ERROR']}/onboarding-conf"
    assert api.get(path, headers=bearer("viewer")).status_code == 403
    response = api.get(path, headers=bearer("editor"))
    assert response.status_code == 200
    assert response.json() == {
        "dagId": "wix_calendar_onboarding",
        "conf": {"schedule_id": site.schedules["ERROR"], "provider": "Google"},
    }
    assert sources is not None
    bad = api.get("/wix-calendars/api/schedules/nope/onboarding-conf", headers=bearer("editor"))
    assert bad.status_code == 400
    unknown = api.get(
        "/wix-calendars/api/schedules/00000000-0000-4000-8000-000000000000/onboarding-conf", headers=bearer("editor")
    )
    assert unknown.status_code == 404


def test_one_list_connections_call_serves_many_page_views(api, site, wix_conn):
    wix_conn.state.clear_request_log()
    for _ in range(3):
        assert api.get(ROWS, headers=bearer("viewer")).status_code == 200
    calls = [e for e in wix_conn.state.request_log() if e.get("route") == "list_connections"]
    assert len(calls) == 1


def test_wix_down_still_shows_what_airflow_knows(api, site, wix_conn):
    from airflow_provider_wix.dashboard.sources import clear_caches

    clear_caches()
    wix_conn.state.set_faults(["list_connections=500"])
    body = api.get(ROWS, headers=bearer("viewer")).json()
    assert body["wixError"]
    assert site.schedules["pending"] in {row["scheduleId"] for row in body["rows"]}
