"""The README walkthrough in Chromium against a real Airflow: every screenshot in docs/img is made here.

Airflow runs as it does in production, as separate processes (API server, scheduler, dag-processor,
triggerer, Celery worker; PostgreSQL and Redis), with the example DAGs and the emulator as Wix. A person
triggers ``wix_calendar_onboarding`` from its form, finds the *Authorize calendar* link where
Airflow 3 shows it, and owners answer in their own browser; then the operator cancels a link on the
dashboard. Each step asserts what its picture must show, so a broken page fails here instead of
ending up in the README, and the words the provider logs are checked against the UI they describe.

The pictures go to a temporary folder: a test run leaves the checkout as it was. Set
``WIX_UPDATE_SCREENSHOTS=1`` to write them into docs/img instead (CONTRIBUTING.md, "Screenshots").
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pytest
import requests

from airflow_provider_wix.emulator.server import run_emulator
from airflow_provider_wix.emulator.state import EmulatorConfig
from tests.conftest import EXAMPLE_DAGS, REPO_ROOT, CalendarOwner, wix_connection_json
from tests.dashboard.conftest import flow_seeder
from tests.dashboard.site import build_site
from tests.dashboard.test_dashboard_browser import open_dashboard
from tests.e2e.topology import AirflowTopology, production_topology

pytestmark = pytest.mark.slow

DAG_ID = "wix_calendar_onboarding"
#: The README's pictures, rewritten only with WIX_UPDATE_SCREENSHOTS=1.
DOCS_IMG = REPO_ROOT / "docs" / "img"
PICTURES = (
    "trigger-form.png",
    "authorize-link.png",
    "consent-page.png",
    "landing-connected.png",
    "landing-declined.png",
    "successful-run.png",
    "dashboard.png",
)


def _fingerprint(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where the walkthrough's pictures go: pytest's temporary folder, or docs/img when asked for."""
    if os.environ.get("WIX_UPDATE_SCREENSHOTS") == "1":
        yield DOCS_IMG
        return
    before = _fingerprint(DOCS_IMG)
    yield tmp_path_factory.mktemp("screenshots")
    assert _fingerprint(DOCS_IMG) == before, "docs/img changed without WIX_UPDATE_SCREENSHOTS=1"


@pytest.fixture(scope="module")
def emulator() -> Iterator[Any]:
    with run_emulator(EmulatorConfig(seed=7, sync_delay=2)) as running:
        yield running


@pytest.fixture(scope="module")
def airflow(emulator: Any) -> Iterator[AirflowTopology]:
    """One Airflow for the module, as docker-compose.yaml runs it (Celery on Redis, PostgreSQL); every
    user is an admin (SimpleAuthManager's all-admins mode)."""
    env = {
        "AIRFLOW_CONN_WIX_DEFAULT": wix_connection_json(emulator),
        # The callback wakes the sensor; a short safety poll only keeps a lost push from stalling.
        "AIRFLOW__WIX__OAUTH_CALLBACK_POLL_INTERVAL": "3",
        "AIRFLOW__WIX__SYNC_STATUS_POLL_INTERVAL": "1",
        # The daily example DAGs stay paused: bulk onboarding would invite the whole staff.
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
    }
    with production_topology(EXAMPLE_DAGS, DAG_ID, env) as stack:
        stack.api("PATCH", f"/dags/{DAG_ID}", json={"is_paused": False})
        yield stack


def staff_of(emulator: Any, schedule_id: str) -> dict[str, Any]:
    return next(m for m in emulator.state.snapshot()["staff"] if m.get("scheduleId") == schedule_id)


def task_url(airflow: AirflowTopology, run_id: str, task_id: str) -> str:
    return f"{airflow.api_url}/dags/{DAG_ID}/runs/{quote(run_id)}/tasks/{task_id}"


def trigger_from_the_form(browser: Any, airflow: AirflowTopology, staff_member: str, shots: Path) -> str:
    """DAG page → Trigger: check what the form tells a person, take its picture, trigger; the run id."""
    page = browser.new_page(viewport={"width": 1400, "height": 1900})
    try:
        page.goto(f"{airflow.api_url}/dags/{DAG_ID}")
        page.get_by_role("button", name="Trigger").first.click()
        form = page.get_by_role("dialog")
        form.locator("#element_staff_member").fill(staff_member)

        def label(text: str) -> str:
            return str(form.locator("label", has_text=text).first.inner_text())

        # Airflow stars a required field; the optional ones (and the Apple-only one) are not starred.
        assert "*" in label("Calendar provider")
        for optional in ("Staff member", "Wix schedule id", "Calendars to import", "Apple credentials"):
            assert "*" not in label(optional), optional
        text = form.inner_text()
        assert "Google and Microsoft ask the owner to approve by a link" in text  # the provider, in words
        assert "Where to find it: the Wix calendars page of this Airflow" in text  # the schedule id hint
        page.wait_for_timeout(300)  # let the modal's opening animation settle
        form.screenshot(path=str(shots / "trigger-form.png"))

        form.get_by_role("button", name="Trigger").click()
        page.wait_for_url(f"**/dags/{DAG_ID}/runs/**")
        return unquote(page.url.split("/runs/", 1)[1].split("/", 1)[0])
    finally:
        page.close()


def find_the_authorize_link(browser: Any, airflow: AirflowTopology, run_id: str, shots: Path) -> str:
    """Where the connect task's log says the link is: its Details tab, under Extra Links."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        page.goto(task_url(airflow, run_id, "connect_by_oauth"))
        page.get_by_role("link", name="Details", exact=True).click()
        page.wait_for_url("**/tasks/connect_by_oauth/details")
        link = page.get_by_role("link", name="Authorize calendar")
        link.wait_for()
        assert page.get_by_role("heading", name="Extra Links").count() == 1
        page.wait_for_timeout(500)
        page.screenshot(path=str(shots / "authorize-link.png"))
        return str(link.get_attribute("href"))
    finally:
        page.close()


def owner_answers(browser: Any, airflow: AirflowTopology, consent_url: str, button: str, shot: Path) -> str:
    """The calendar owner in their own browser: consent page, button, Airflow's landing page, reload."""
    context = browser.new_context(viewport={"width": 900, "height": 700})
    page = context.new_page()
    try:
        page.goto(consent_url)
        page.get_by_role("button", name=button).wait_for()
        if button == "Allow":
            page.screenshot(path=str(shot.with_name("consent-page.png")))
        page.get_by_role("button", name=button).click()
        page.wait_for_url(f"{airflow.api_url}/wix/oauth/callback/**")
        landing = str(page.inner_text("body"))
        page.screenshot(path=str(shot))
        page.reload()  # a reload (or a restored tab) shows the same outcome, not "cannot be used"
        assert page.inner_text("body") == landing
        return landing
    finally:
        context.close()


def finished(airflow: AirflowTopology, run_id: str) -> str:
    """The run's final state; on a timeout, say where it stands instead of only that it took too long."""
    try:
        return airflow.wait_for_run(DAG_ID, run_id, timeout=300)
    except TimeoutError:
        raise AssertionError(where_it_stands(airflow, run_id)) from None


def where_it_stands(airflow: AirflowTopology, run_id: str) -> str:
    tis = airflow.api("GET", f"/dags/{DAG_ID}/dagRuns/{quote(run_id)}/taskInstances")["task_instances"]
    states = {ti["task_id"]: ti["state"] for ti in tis}
    paused = airflow.api("GET", f"/dags/{DAG_ID}")["is_paused"]
    return f"{run_id} (paused: {paused}) stands at {states}\n{airflow.task_logs(DAG_ID)[-3000:]}"


def wait_for_owner(airflow: AirflowTopology, run_id: str) -> None:
    try:
        airflow.wait_for_task_state(DAG_ID, run_id, "wait_for_callback", {"deferred"}, timeout=300)
    except TimeoutError:
        raise AssertionError(where_it_stands(airflow, run_id)) from None


def pending_consent_url(emulator: Any, schedule_id: str) -> str:
    return str(CalendarOwner(emulator).pending_flow(schedule_id, timeout=120)["consent_url"])


def write_variable_over_rest(airflow: AirflowTopology) -> Any:
    def write(key: str, value: str) -> None:
        airflow.api("POST", "/variables", json={"key": key, "value": value})

    return write


def test_walkthrough_in_the_airflow_ui(browser, airflow, emulator, screenshots):
    schedules = [s.id for s in emulator.state.staff_schedules()[:3]]
    ada = staff_of(emulator, schedules[0])
    # A site with a schedule in every other state, seeded first: the API server caches Wix's lists.
    site = build_site(emulator, flow_seeder(write_variable_over_rest(airflow)))

    # 1. The trigger form; 2. the link, where Airflow 3.3 shows it and where the log says it is.
    run_id = trigger_from_the_form(browser, airflow, ada["email"], screenshots)
    wait_for_owner(airflow, run_id)
    consent_url = find_the_authorize_link(browser, airflow, run_id, screenshots)
    assert consent_url == airflow.xcom(DAG_ID, run_id, "connect_by_oauth")
    logs = airflow.task_logs(DAG_ID)
    assert "open this task instance (Grid view: click this task), then its Details tab, under Extra Links" in logs
    assert (
        f"Waiting for {ada['name']} <{ada['email']}>, owner of schedule {schedules[0]}, to answer the "
        "authorization link issued by task connect_by_oauth"
    ) in logs
    assert f"Wix calendars dashboard: {airflow.api_url}/plugin/wix-calendars" in logs

    # 3. The owner allows; 4. another owner declines. Both pages survive a reload.
    landing = owner_answers(browser, airflow, consent_url, "Allow", screenshots / "landing-connected.png")
    assert "Your Google calendar is connected" in landing
    assert f"Thank you, {ada['name']}." in landing
    declined_run = airflow.trigger(DAG_ID, {"schedule_id": schedules[1], "provider": "Microsoft"})
    wait_for_owner(airflow, declined_run)
    landing = owner_answers(
        browser, airflow, pending_consent_url(emulator, schedules[1]), "Deny", screenshots / "landing-declined.png"
    )
    assert "You declined the connection" in landing
    # A run given a schedule id (no staff member) waits for "the owner" of that schedule.
    assert f"Waiting for the owner of schedule {schedules[1]} to answer" in airflow.task_logs(DAG_ID)
    assert finished(airflow, declined_run) == "failed"

    # 5. The successful run.
    assert finished(airflow, run_id) == "success"
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        page.goto(f"{airflow.api_url}/dags/{DAG_ID}/runs/{quote(run_id)}")
        page.get_by_role("heading", name=run_id).first.wait_for()
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(1000)
        assert "success" in page.inner_text("body").lower()
        page.screenshot(path=str(screenshots / "successful-run.png"))
    finally:
        page.close()

    # 6. The dashboard, with a link pending for a third owner, which the operator then cancels.
    cancelled_run = airflow.trigger(DAG_ID, {"schedule_id": schedules[2], "provider": "Microsoft"})
    wait_for_owner(airflow, cancelled_run)
    cancelled_consent_url = pending_consent_url(emulator, schedules[2])
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{airflow.api_url}/")
        frame = open_dashboard(page)

        def badge(schedule_id: str) -> str:
            return str(frame.locator(f'tr[data-schedule="{schedule_id}"] .badge').inner_text())

        assert badge(schedules[0]) in ("Connected", "Syncing", "Synced")
        assert badge(schedules[1]) == "Declined"
        assert badge(schedules[2]) == "Link pending"
        assert badge(site.schedules["ERROR"]) == "Error"
        assert badge(site.schedules["expired"]) == "Link expired"
        page.wait_for_timeout(500)
        page.screenshot(path=str(screenshots / "dashboard.png"))

        row = frame.locator(f'tr[data-schedule="{schedules[2]}"]')
        row.get_by_role("button", name="Cancel").click()
        row.get_by_role("button", name="Click again to confirm").click()
        frame.locator(f'tr[data-schedule="{schedules[2]}"] .badge').filter(has_text="Cancelled").wait_for()
        assert finished(airflow, cancelled_run) == "failed"

        # The sensor has acted on the cancel: the row is still there after a reload, until expiry.
        page.reload()
        frame = page.frame_locator("iframe")
        frame.locator(f'tr[data-schedule="{schedules[2]}"] .badge').filter(has_text="Cancelled").wait_for()
    finally:
        page.close()
    assert "cancelled by " in airflow.task_logs(DAG_ID)
    # The owner who opens the withdrawn link is told so, also after the sensor acted on the cancel.
    answer = requests.get(cancelled_consent_url, params={"decision": "allow"}, timeout=30)
    assert answer.status_code == 409, answer.text
    assert "withdrawn" in answer.text
    # Every picture the README shows was taken (as PNG files) in this run.
    assert all((screenshots / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for name in PICTURES)
