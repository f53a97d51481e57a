"""A real browser (Debian's Chromium driven by Playwright) through the whole consent round trip:
the emulator's consent page, the Allow/Deny button, the redirect to the plugin on Airflow's API
server, and the page the calendar owner ends on."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_wix.callback.state import CALLBACK_PATH, FlowStatus
from airflow_provider_wix.emulator import MICROSOFT_PROVIDER_ID
from tests.callback.conftest import consume_flow_record, read_flow
from tests.conftest import API_SERVER_URL


def _oauth_url(emulator: Any, state: str, schedule_id: str) -> str:
    from airflow_provider_wix.hooks.wix import WixHook

    return WixHook().connect_by_oauth(MICROSOFT_PROVIDER_ID, schedule_id, f"{API_SERVER_URL}{CALLBACK_PATH}{state}")


@pytest.mark.parametrize(
    ("button", "heading"),
    [("Allow", "Your Microsoft calendar is connected"), ("Deny", "You declined the connection")],
)
def test_owner_clicks_through_consent_in_a_browser(
    browser, airflow_api_server, wix_conn, issue_flow, tmp_path, button, heading
):
    owner = wix_conn.state.staff_schedules()[0]
    schedule_id = owner.id
    # As ConnectByOAuthOperator records them: the page names the provider and the owner from the record.
    state = issue_flow(schedule_id=schedule_id, owner_name=owner.owner_name)
    page = browser.new_page()
    try:
        page.goto(_oauth_url(wix_conn, state, schedule_id))
        assert "Outlook" in page.content()  # the provider's name on the consent page
        page.get_by_role("button", name=button).click()
        page.wait_for_url(f"{API_SERVER_URL}{CALLBACK_PATH}*")
        assert page.get_by_role("heading").inner_text().startswith(heading)
        if button == "Allow":  # the owner is greeted by the name the flow record carries
            assert f"Thank you, {owner.owner_name}." in page.content()
        landed = page.inner_text("body")
        recorded = read_flow(state)
        # The owner reloads, before and after the sensor consumed the answer: the same page, nothing recorded twice.
        page.reload()
        assert page.inner_text("body") == landed
        assert read_flow(state) == recorded
        consume_flow_record(state)
        page.reload()
        assert page.inner_text("body") == landed
        page.screenshot(path=str(tmp_path / f"reloaded-{button.lower()}.png"))
    finally:
        page.close()
    record = read_flow(state)
    assert record is not None
    assert record.status is FlowStatus.COMPLETED
    if button == "Allow":
        assert wix_conn.state.connection(record.connection_id)["scheduleId"] == schedule_id
    else:
        assert record.error is not None
        assert record.error.value == "reject"
