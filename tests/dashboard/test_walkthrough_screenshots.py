"""The README walkthrough, taken in Chromium: every screenshot in docs/img is made here.

A real onboarding run of ``wix_calendar_onboarding`` (``dag.test()``) against the emulator, with the
calendar owner played by a browser that clicks through the consent page; then the Airflow UI as an
operator sees it. Each step asserts what the picture must show, so a broken page fails the test
instead of ending up in the README.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from tests.conftest import API_SERVER_URL, CHROMIUM, run_dag, task_states
from tests.dashboard.site import build_site
from tests.dashboard.test_dashboard_browser import SCREENSHOTS, open_dashboard, signed_in

pytestmark = pytest.mark.slow

BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


class OwnerInABrowser(threading.Thread):
    """The calendar owner: opens the consent link in their own Chromium, presses a button, reads the page."""

    def __init__(self, emulator: Any, schedule_id: str, button: str, shot: str) -> None:
        super().__init__(daemon=True)
        self.emulator, self.schedule_id, self.button, self.shot = emulator, schedule_id, button, shot
        self.landing_text = ""
        self.error: BaseException | None = None

    def run(self) -> None:
        from playwright.sync_api import sync_playwright

        try:
            flow = self._pending_flow()
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
                page = browser.new_page(viewport={"width": 900, "height": 700})
                page.goto(flow["consent_url"])
                page.get_by_role("button", name=self.button).wait_for()
                if self.button == "Allow":
                    page.screenshot(path=str(SCREENSHOTS / "consent-page.png"))
                page.get_by_role("button", name=self.button).click()
                page.wait_for_url(f"{API_SERVER_URL}/wix/oauth/callback/**")
                self.landing_text = page.inner_text("body")
                page.screenshot(path=str(SCREENSHOTS / self.shot))
                browser.close()
        except BaseException as exc:  # reported by the test
            self.error = exc

    def _pending_flow(self) -> dict[str, Any]:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            for flow in self.emulator.state.pending_oauth_flows():
                if flow["schedule_id"] == self.schedule_id:
                    return dict(flow)
            time.sleep(0.2)
        raise TimeoutError(f"no consent link for {self.schedule_id}")


def onboard(emulator: Any, schedule_id: str, button: str, shot: str, **conf: Any) -> tuple[Any, OwnerInABrowser]:
    owner = OwnerInABrowser(emulator, schedule_id, button, shot)
    owner.start()
    dag_run = run_dag("wix_calendar_onboarding", {"schedule_id": schedule_id, **conf})
    owner.join(60)
    if owner.error:
        raise owner.error
    return dag_run, owner


def test_walkthrough(airflow_api_server, wix_conn, seed_flow, dashboard_auth, monkeypatch):
    """The runs first, the operator's browser after: Playwright's sync API keeps an event loop in this
    thread, and ``dag.test()`` runs triggers with ``asyncio.run()``."""
    from playwright.sync_api import sync_playwright

    from airflow_provider_wix.dashboard.sources import clear_caches

    monkeypatch.setenv("AIRFLOW__WIX__OAUTH_CALLBACK_POLL_INTERVAL", "0.5")
    monkeypatch.setenv("AIRFLOW__WIX__SYNC_STATUS_POLL_INTERVAL", "0.5")
    clear_caches()
    schedules = wix_conn.state.staff_schedules()
    owner_name = schedules[0].owner_name

    # 1. The owner allows: consent page, then the landing page on Airflow's callback route.
    dag_run, owner = onboard(
        wix_conn, schedules[0].id, "Allow", "landing-connected.png", provider="Microsoft", export="dedicated"
    )
    assert dag_run.state == "success", task_states(dag_run)
    assert "Your Microsoft calendar is connected" in owner.landing_text
    assert f"Thank you, {owner_name}." in owner.landing_text

    # 2. Another owner declines.
    declined, owner = onboard(wix_conn, schedules[1].id, "Deny", "landing-declined.png", provider="Google")
    assert declined.state == "failed"
    assert "You declined the connection" in owner.landing_text

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            operator_sees(browser, wix_conn, seed_flow, dag_run, schedules)
        finally:
            browser.close()


def operator_sees(browser: Any, wix_conn: Any, seed_flow: Any, dag_run: Any, schedules: list[Any]) -> None:
    from airflow_provider_wix.dashboard.sources import clear_caches

    page = signed_in(browser, "admin")
    try:
        # 3. The successful run in the Airflow UI.
        run_url = f"{API_SERVER_URL}/dags/wix_calendar_onboarding/runs/{dag_run.run_id}"
        page.goto(run_url)
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(3000)
        page.screenshot(path=str(SCREENSHOTS / "successful-run.png"))
        assert "success" in page.inner_text("body").lower()

        # 4. The dashboard: the two real onboardings plus a site with a schedule in every other state.
        build_site(wix_conn, seed_flow)
        clear_caches()
        frame = open_dashboard(page)
        assert frame.locator(f'tr[data-schedule="{schedules[0].id}"] .badge').inner_text() in ("Synced", "Syncing")
        page.wait_for_timeout(500)
        page.screenshot(path=str(SCREENSHOTS / "dashboard.png"))
    finally:
        page.context.close()
