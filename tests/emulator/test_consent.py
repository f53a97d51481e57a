"""The OAuth consent flow: the page a browser can use, each outcome, and the scripted shortcut."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from airflow_provider_wix.emulator import BUSINESS_SCHEDULE_ID, GOOGLE_PROVIDER_ID, MICROSOFT_PROVIDER_ID
from tests.emulator.conftest import API, FormParser, WixHttp, press

REDIRECT = "https://airflow.example.com/wix/oauth/callback/st4te?keep=1&also=two"


def start_flow(
    wix: WixHttp, provider: str = GOOGLE_PROVIDER_ID, schedule: str | None = None, redirect: str = REDIRECT
) -> str:
    schedule = schedule or wix.emulator.state.staff_schedules()[0].id
    body = {"providerId": provider, "scheduleId": schedule, "redirectUrl": redirect}
    response = wix.post(f"{API}/connections:connectByOAuth", json=body)
    assert response.status_code == 200, response.text
    return response.json()["oauthUrl"]


def redirect_params(response: requests.Response, expected_status: int) -> dict[str, list[str]]:
    assert response.status_code == expected_status, response.text
    location = response.headers["location"]
    parts = urlsplit(location)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "airflow.example.com", "/wix/oauth/callback/st4te")
    params = parse_qs(parts.query)
    assert params["keep"] == ["1"] and params["also"] == ["two"]  # the redirect URL's own query survives
    return params


def test_consent_page_shows_provider_schedule_owner_and_two_real_buttons(wix: WixHttp) -> None:
    schedule = wix.emulator.state.staff_schedules()[1]
    url = start_flow(wix, MICROSOFT_PROVIDER_ID, schedule.id)
    page = requests.get(url, timeout=10)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["x-wix-request-id"]
    assert "Outlook or Office 365" in page.text
    assert schedule.id in page.text
    assert schedule.owner_name in page.text
    parser = FormParser()
    parser.feed(page.text)
    by_label = {b["label"]: form for form in parser.forms for b in form["buttons"]}
    for label, decision in (("Allow", "allow"), ("Deny", "deny")):
        form = by_label[label]
        assert form["method"] == "post"
        assert form["action"] == urlsplit(url).path
        assert form["fields"]["decision"] == decision


def test_allow_in_the_browser_creates_a_connection_and_redirects_with_its_id(wix: WixHttp) -> None:
    url = start_flow(wix)
    params = redirect_params(press(wix, url, "Allow"), 303)
    assert "error" not in params
    conn_id = params["connectionId"][0]
    conn = wix.get(f"{API}/connections/{conn_id}").json()["connection"]
    assert conn["providerId"] == GOOGLE_PROVIDER_ID
    assert conn["calendarType"] == "GOOGLE"
    assert conn["scheduleId"] == wix.emulator.state.staff_schedules()[0].id
    assert conn["syncConfig"] == {"listEventFromCalendars": {"enabled": True, "primaryCalendar": {}}}
    assert conn["externalAccountEmail"].endswith("@example.com")
    assert wix.emulator.state.pending_oauth_flows() == []


@pytest.mark.wix_emulator(sync_delay=30)
def test_allowed_connection_syncs_over_time(wix: WixHttp) -> None:
    conn_id = redirect_params(press(wix, start_flow(wix), "Allow"), 303)["connectionId"][0]
    statuses = [wix.get(f"{API}/connections/{conn_id}").json()["connection"]["status"]]
    for step in (16, 15):
        wix.emulator.state.advance_time(step)
        statuses.append(wix.get(f"{API}/connections/{conn_id}").json()["connection"]["status"])
    assert statuses == ["CONNECTED", "SYNC_IN_PROGRESS", "SYNCED"]


@pytest.mark.parametrize(
    ("label", "error"), [("Deny", "reject"), ("Unsupported account", "unsupported"), ("Provider error", "internal")]
)
def test_other_buttons_redirect_with_an_error(wix: WixHttp, label: str, error: str) -> None:
    params = redirect_params(press(wix, start_flow(wix), label), 303)
    assert params["error"] == [error]
    assert "connectionId" not in params
    assert wix.emulator.state.connections() == []


@pytest.mark.parametrize(
    ("decision", "key", "value"),
    [
        ("allow", "connectionId", None),
        ("deny", "error", "reject"),
        ("unsupported", "error", "unsupported"),
        ("internal", "error", "internal"),
    ],
)
def test_scripted_decision_by_query_parameter(wix: WixHttp, decision: str, key: str, value: str | None) -> None:
    url = start_flow(wix)
    params = redirect_params(requests.get(url, params={"decision": decision}, allow_redirects=False, timeout=10), 302)
    assert key in params
    if value:
        assert params[key] == [value]
    else:
        assert wix.get(f"{API}/connections/{params[key][0]}").status_code == 200


@pytest.mark.wix_emulator(oauth_outcome="unsupported")
def test_configured_outcome_turns_allow_into_an_error(wix: WixHttp) -> None:
    params = redirect_params(press(wix, start_flow(wix), "Allow"), 303)
    assert params["error"] == ["unsupported"]


def test_a_flow_is_single_use(wix: WixHttp) -> None:
    url = start_flow(wix)
    assert press(wix, url, "Allow").status_code == 303
    assert requests.get(url, timeout=10).status_code == 410
    again = requests.post(url, data={"decision": "allow"}, allow_redirects=False, timeout=10)
    assert again.status_code == 410
    scripted = requests.get(url, params={"decision": "deny"}, allow_redirects=False, timeout=10)
    assert scripted.status_code == 410
    assert len(wix.emulator.state.connections()) == 1


def test_unknown_flow_bad_decision_and_expired_flow(wix: WixHttp) -> None:
    assert requests.get(f"{wix.url}/oauth/consent/made-up", timeout=10).status_code == 404
    url = start_flow(wix)
    bad = requests.get(url, params={"decision": "maybe"}, allow_redirects=False, timeout=10)
    assert bad.status_code == 400
    wix.emulator.state.advance_time(wix.emulator.config.oauth_flow_ttl + 1)
    assert requests.get(url, timeout=10).status_code == 410


def test_flow_ids_are_unguessable(wix: WixHttp) -> None:
    ids = {urlsplit(start_flow(wix)).path.rsplit("/", 1)[1] for _ in range(5)}
    assert len(ids) == 5
    assert all(len(i) >= 32 for i in ids)


def test_redirect_without_query_and_with_fragment(wix: WixHttp) -> None:
    url = start_flow(wix, redirect="http://localhost:8080/done#top")
    response = requests.get(url, params={"decision": "deny"}, allow_redirects=False, timeout=10)
    assert response.headers["location"] == "http://localhost:8080/done?error=reject#top"


def test_business_schedule_connection_and_chosen_email(wix: WixHttp) -> None:
    url = start_flow(wix, schedule=BUSINESS_SCHEDULE_ID)
    assert "business schedule" in requests.get(url, timeout=10).text
    response = requests.get(
        url, params={"decision": "allow", "email": "studio@example.com"}, allow_redirects=False, timeout=10
    )
    conn_id = parse_qs(urlsplit(response.headers["location"]).query)["connectionId"][0]
    conn = wix.get(f"{API}/connections/{conn_id}").json()["connection"]
    assert conn["externalAccountEmail"] == "studio@example.com"
    assert "userId" not in conn


def test_admin_lists_pending_flows_and_decides_them(wix: WixHttp) -> None:
    url = start_flow(wix)
    flows = wix.admin("GET", "/oauth/flows").json()["flows"]
    assert [f["consent_url"] for f in flows] == [url]
    assert flows[0]["redirect_url"] == REDIRECT
    decided = wix.admin("POST", f"/oauth/flows/{flows[0]['id']}/decision", json={"decision": "allow"}).json()
    assert decided["location"].startswith(REDIRECT + "&connectionId=")
    assert decided["connection_id"] == parse_qs(urlsplit(decided["location"]).query)["connectionId"][0]
    assert wix.admin("GET", "/oauth/flows").json()["flows"] == []
    assert len(wix.admin("GET", "/oauth/flows", params={"all": "true"}).json()["flows"]) == 1


@pytest.mark.wix_emulator(public_url="http://localhost:9999/")
def test_public_url_is_used_for_consent_links(wix: WixHttp) -> None:
    assert start_flow(wix).startswith("http://localhost:9999/oauth/consent/")


def test_consent_requests_are_not_in_the_request_log(wix: WixHttp) -> None:
    press(wix, start_flow(wix), "Allow")
    assert [e["route"] for e in wix.emulator.state.request_log()] == ["connect_by_oauth"]
