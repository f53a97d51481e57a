"""Chromium (Debian's, through Playwright) in the Airflow UI: log in, open "Wix calendars" from the
navigation, see a row in each status, cancel a pending link; a Viewer sees the page but cannot."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_wix.callback.state import FlowStatus
from tests.conftest import API_SERVER_URL
from tests.dashboard.site import build_site
from tests.dashboard.test_dashboard_api import read_record


@pytest.fixture
def site(wix_conn: Any, seed_flow: Any, dashboard_auth: Any, airflow_api_server: str) -> Iterator[Any]:
    from airflow_provider_wix.dashboard.sources import clear_caches

    clear_caches()
    yield build_site(wix_conn, seed_flow)
    clear_caches()


def signed_in(browser: Any, username: str) -> Any:
    """A page of a fresh browser context, signed in to Airflow through its login form."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(f"{API_SERVER_URL}/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(username)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{API_SERVER_URL}/**")
    page.get_by_role("link", name="Wix calendars").wait_for()
    return page


def open_dashboard(page: Any) -> Any:
    """Click "Wix calendars" in the navigation; returns the frame the page is shown in."""
    page.get_by_role("link", name="Wix calendars").click()
    page.wait_for_url("**/plugin/wix-calendars")
    frame = page.frame_locator("iframe")
    frame.locator("table#rows tbody tr.row").first.wait_for()
    return frame


def test_editor_sees_every_status_and_cancels_a_pending_link(browser, site):
    page = signed_in(browser, "editor")
    try:
        frame = open_dashboard(page)
        for name, label in [
            ("pending", "Link pending"),
            ("SYNCED", "Synced"),
            ("SYNC_IN_PROGRESS", "Syncing"),
            ("CONNECTED", "Connected"),
            ("ERROR", "Error"),
            ("DISCONNECTED", "Disconnected"),
            ("declined", "Declined"),
            ("expired", "Link expired"),
            ("unsupported", "Unsupported account"),
        ]:
            row = frame.locator(f'tr[data-schedule="{site.schedules[name]}"]')
            assert row.locator(".badge").inner_text() == label, name
        assert frame.locator("#count-pending").inner_text() == "2"
        assert frame.locator("#count-attention").inner_text() == "5"

        pending = frame.locator(f'tr[data-schedule="{site.schedules["pending"]}"]')
        pending.get_by_role("button", name="Cancel").click()
        pending.get_by_role("button", name="Click again to confirm").click()
        # The confirmation question is shown in #message already: wait for the POST's answer to replace it.
        message = frame.locator("#message")
        message.filter(has_text=re.compile(r"^Cancelled:|failed:")).wait_for()
        assert message.inner_text().startswith("Cancelled:"), message.inner_text()
        cancelled = frame.locator(f'tr[data-schedule="{site.schedules["pending"]}"] .badge')
        cancelled.filter(has_text="Cancelled").wait_for()
        assert "cancelled by editor" in frame.locator(f'tr[data-schedule="{site.schedules["pending"]}"]').inner_text()

        # The row's links open the run in the Airflow UI around the page (not inside the frame).
        row = frame.locator(f'tr[data-schedule="{site.schedules["declined"]}"]')
        row.get_by_role("link", name="wix_calendar_onboarding").click()
        page.wait_for_url("**/dags/wix_calendar_onboarding/runs/**")
    finally:
        page.context.close()
    record = read_record(site.flows["pending"])
    assert (record.status, record.cancelled_by) == (FlowStatus.CANCELLED, "editor")


def test_a_viewer_sees_the_rows_but_cannot_cancel(browser, site):
    page = signed_in(browser, "viewer")
    try:
        frame = open_dashboard(page)
        pending = frame.locator(f'tr[data-schedule="{site.schedules["pending"]}"]')
        assert pending.locator(".badge").inner_text() == "Link pending"
        assert pending.get_by_role("button", name="Cancel").count() == 0
        assert frame.get_by_role("button", name="Re-onboard").count() == 0
        # Not even by calling the route directly with the viewer's session (and the page's CSRF token).
        token = frame.locator('meta[name="wix-csrf-token"]').get_attribute("content")
        response = page.request.post(
            f"{API_SERVER_URL}/wix-calendars/api/flows/{site.flows['pending']}/cancel",
            headers={"X-CSRF-Token": token or ""},
        )
        assert response.status == 403
    finally:
        page.context.close()
    assert read_record(site.flows["pending"]).status is FlowStatus.PENDING
