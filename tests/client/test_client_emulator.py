"""End to end against the bundled emulator: every method, both auth types, faults and paging.

The emulator is written from the API description, not from the client, so these tests catch a wire
format mistake that the scripted-server tests (which encode the client author's reading) could share.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from airflow_provider_wix.client import (
    ApiKeyAuth,
    ExternalCalendarsClient,
    OAuthAppAuth,
    RetryPolicy,
    WixAuthenticationError,
    WixBadCredentialsError,
    WixConnectionAlreadyDisconnectedError,
    WixConnectionNotConnectedError,
    WixNotFoundError,
    WixNotSupportedByProviderError,
    WixPremiumFeatureNotEnabledError,
    WixServerError,
    build_sync_config,
    ensure_sync_supported,
    find_provider,
)

pytest.importorskip("airflow_provider_wix.emulator.pytest_plugin")

FROM, TO = "2026-10-05T00:00:00Z", "2026-10-19T00:00:00Z"
REDIRECT = "https://airflow.example.com/wix/oauth/callback/state-123"
FAST = RetryPolicy(max_attempts=5, max_total_seconds=20, base_wait=0.01, max_wait=0.05)


@pytest.fixture
def wix(wix_emulator):
    cfg = wix_emulator.config
    with ExternalCalendarsClient(ApiKeyAuth(cfg.api_key, site_id=cfg.site_id), wix_emulator.url, retry=FAST) as c:
        yield c


@pytest.fixture
def app_auth(wix_emulator):
    cfg = wix_emulator.config
    return OAuthAppAuth(cfg.client_id, cfg.client_secret, cfg.instance_id)


def staff(wix_emulator, n: int = 0) -> str:
    return wix_emulator.state.staff_schedules()[n].id


def approve(oauth_url: str, decision: str = "allow") -> dict[str, list[str]]:
    """Click the consent page button; return the query Wix appends to the redirect URL."""
    response = requests.post(oauth_url, data={"decision": decision}, allow_redirects=False, timeout=10)
    assert response.status_code in (302, 303)
    location = response.headers["Location"]
    assert location.startswith(REDIRECT)
    return parse_qs(urlsplit(location).query)


def api_requests(wix_emulator, route: str | None = None) -> list[dict]:
    return [e for e in wix_emulator.state.request_log() if route is None or e["route"] == route]


def test_oauth_onboarding_end_to_end(wix_emulator, wix):
    providers = wix.list_providers()
    google = find_provider(providers, "google")
    schedule = staff(wix_emulator)

    oauth_url = wix.connect_by_oauth(google["id"], schedule, REDIRECT)
    (connection_id,) = approve(oauth_url)["connectionId"]

    connection = wix.get_connection(connection_id)
    assert connection["scheduleId"] == schedule
    assert connection["providerId"] == google["id"]
    assert connection["status"] in ("CONNECTED", "SYNC_IN_PROGRESS", "SYNCED")
    assert [c["id"] for c in wix.list_connections([schedule])] == [connection_id]

    events = wix.list_events(FROM, TO, schedule_ids=[schedule], fieldsets=["OWN_PI"])
    assert events
    assert all(e["scheduleId"] == schedule and "title" in e for e in events)
    assert [e["start"] for e in events] == sorted(e["start"] for e in events)

    assert wix.disconnect(connection_id)["status"] == "DISCONNECTED"
    with pytest.raises(WixConnectionAlreadyDisconnectedError):
        wix.disconnect(connection_id)
    # One request per step, nothing re-sent.
    assert [e["route"] for e in api_requests(wix_emulator)] == [
        "list_providers",
        "connect_by_oauth",
        "get_connection",
        "list_connections",
        "list_events",
        "disconnect",
        "disconnect",
    ]


def test_oauth_refusal_comes_back_as_error_parameter(wix_emulator, wix):
    google = find_provider(wix.list_providers(), "google")
    oauth_url = wix.connect_by_oauth(google["id"], staff(wix_emulator), REDIRECT)
    assert approve(oauth_url, "deny") == {"error": ["reject"]}


def test_credentials_sync_config_and_calendars(wix_emulator, wix):
    cfg = wix_emulator.config
    apple = find_provider(wix.list_providers(), "apple")
    schedule = staff(wix_emulator, 1)

    with pytest.raises(WixBadCredentialsError):
        wix.connect_by_credentials(apple["id"], schedule, cfg.credentials_email, "wrong-password")
    connection = wix.connect_by_credentials(apple["id"], schedule, cfg.credentials_email, cfg.credentials_password)
    assert connection["status"] == "CONNECTED"

    calendars = wix.list_calendars(connection["id"])
    assert len(calendars) >= 2
    sync_config = build_sync_config([c["id"] for c in calendars[:2]], "dedicated")
    ensure_sync_supported(apple, sync_config)
    updated = wix.update_sync_config(connection["id"], sync_config)
    assert {c["id"] for c in updated["syncConfig"]["listEventFromCalendars"]["calendars"]["calendars"]} == {
        c["id"] for c in calendars[:2]
    }
    assert updated["syncConfig"]["syncToCalendar"] == {"enabled": True, "dedicatedCalendar": {}}

    wix.disconnect(connection["id"])
    with pytest.raises(WixConnectionNotConnectedError):
        wix.list_calendars(connection["id"])


def test_provider_limits_are_enforced_by_wix(wix_emulator, wix):
    providers = wix.list_providers()
    google, apple = find_provider(providers, "google"), find_provider(providers, "apple")
    with pytest.raises(WixNotSupportedByProviderError):
        wix.connect_by_oauth(apple["id"], staff(wix_emulator), REDIRECT)
    connection = wix_emulator.state.create_connection(google["id"], staff(wix_emulator))
    with pytest.raises(WixNotSupportedByProviderError):
        wix.update_sync_config(connection["id"], build_sync_config("primary"))
    with pytest.raises(WixNotFoundError):
        wix.get_connection("no-such-connection")


@pytest.mark.wix_emulator(premium=False)
def test_premium_gate(wix_emulator, wix):
    cfg = wix_emulator.config
    apple = find_provider(wix.list_providers(), "apple")
    with pytest.raises(WixPremiumFeatureNotEnabledError):
        wix.connect_by_credentials(apple["id"], staff(wix_emulator), cfg.credentials_email, cfg.credentials_password)


def test_paging_across_many_pages_matches_one_big_page(wix_emulator, wix):
    for n in range(3):
        provider = find_provider(wix.list_providers(), "microsoft")
        wix_emulator.state.create_connection(provider["id"], staff(wix_emulator, n))
    everything = wix.list_events(FROM, TO, page_size=1000)
    assert len(everything) >= 30
    wix_emulator.state.clear_request_log()

    pages = list(wix.iter_event_pages(FROM, TO, page_size=7))

    assert len(pages) >= 3
    assert [e for p in pages for e in p["events"]] == everything
    assert len(api_requests(wix_emulator, "list_events")) == len(pages)


def test_partial_failure_is_reported(wix_emulator, wix, caplog):
    google = find_provider(wix.list_providers(), "google")
    microsoft = find_provider(wix.list_providers(), "microsoft")
    wix_emulator.state.create_connection(google["id"], staff(wix_emulator, 0))
    wix_emulator.state.create_connection(microsoft["id"], staff(wix_emulator, 1))
    wix_emulator.state.set_provider_failing(google["id"])

    with pytest.raises(WixServerError):
        wix.list_connections()
    connections = wix.list_connections(partial_failure=True)
    assert [c["providerId"] for c in connections] == [microsoft["id"]]
    assert any(google["id"] in r.getMessage() for r in caplog.records)
    events = wix.list_events(FROM, TO, partial_failure=True)
    assert events and {e["scheduleId"] for e in events} == {staff(wix_emulator, 1)}


def test_faults_are_retried_to_success(wix_emulator, wix):
    admin = requests.post(
        f"{wix_emulator.url}/_emulator/faults",
        json={"specs": ["list_providers=429:0.2,503,drop,malformed,ok"]},
        timeout=10,
    )
    assert admin.status_code == 200

    assert len(wix.list_providers()) == 3

    statuses = [e["status"] or e["fault"] for e in api_requests(wix_emulator, "list_providers")]
    assert len(statuses) == 5
    assert statuses[0] == 429
    assert statuses[-1] == 200


def test_persistent_faults_give_up(wix_emulator, wix):
    requests.post(f"{wix_emulator.url}/_emulator/faults", json={"specs": ["list_providers=503"]}, timeout=10)
    with pytest.raises(WixServerError, match="Gave up after 5 attempts"):
        wix.list_providers()
    assert len(api_requests(wix_emulator, "list_providers")) == 5


def test_app_oauth_token_is_minted_once_for_many_calls_and_threads(wix_emulator, app_auth):
    with ExternalCalendarsClient(app_auth, wix_emulator.url, retry=FAST) as client:
        barrier = threading.Barrier(8)

        def work(_: int) -> int:
            barrier.wait()
            return sum(len(client.list_providers()) for _ in range(5))

        with ThreadPoolExecutor(8) as pool:
            assert list(pool.map(work, range(8))) == [15] * 8
    assert len(wix_emulator.state.issued_tokens()) == 1
    assert len(api_requests(wix_emulator, "list_providers")) == 40


def test_app_oauth_token_refreshed_when_wix_expires_it(wix_emulator, app_auth):
    with ExternalCalendarsClient(app_auth, wix_emulator.url, retry=FAST) as client:
        client.list_providers()
        wix_emulator.state.advance_time(4 * 3600)  # Wix's clock: the token expired; ours has not noticed
        client.list_providers()
    assert len(wix_emulator.state.issued_tokens()) == 2
    assert [e["status"] for e in api_requests(wix_emulator, "list_providers")] == [200, 401, 200]


def test_wrong_credentials(wix_emulator):
    cfg = wix_emulator.config
    wrong_key = ApiKeyAuth("wrong-key", site_id=cfg.site_id)
    wrong_app = OAuthAppAuth(cfg.client_id, "wrong-secret", cfg.instance_id)
    for auth, message in ((wrong_key, "API key"), (wrong_app, "create_access_token")):
        client = ExternalCalendarsClient(auth, wix_emulator.url)
        with client, pytest.raises(WixAuthenticationError, match=message):
            client.list_providers()


def test_export_events_writes_every_event_page_by_page_as_json_lines(wix_emulator, wix, tmp_path):
    for n in range(3):
        provider = find_provider(wix.list_providers(), "microsoft")
        wix_emulator.state.create_connection(provider["id"], staff(wix_emulator, n))
    everything = wix.list_events(FROM, TO, page_size=1000)
    target = tmp_path / "out" / "events.jsonl"
    target.parent.mkdir()
    target.write_text("stale\n")
    wix_emulator.state.clear_request_log()

    count = wix.export_events(str(target), FROM, TO, page_size=7)

    lines = target.read_text().splitlines()
    assert count == len(lines) == len(everything) >= 30
    assert [json.loads(line) for line in lines] == everything
    assert len(api_requests(wix_emulator, "list_events")) == -(-len(everything) // 7)  # one request per page
    assert [p.name for p in target.parent.iterdir()] == ["events.jsonl"]  # no temporary file left behind


@pytest.mark.parametrize("empty", [{"schedule_ids": []}, {"user_ids": []}, {"schedule_ids": [], "user_ids": None}])
def test_an_empty_id_list_matches_no_event_and_sends_nothing(wix_emulator, wix, tmp_path, empty):
    """Wix reads a missing filter as "all": an empty list must not become an export of every calendar."""
    provider = find_provider(wix.list_providers(), "microsoft")
    wix_emulator.state.create_connection(provider["id"], staff(wix_emulator))
    assert wix.list_events(FROM, TO), "the site has events, so an empty answer means the filter held"
    before = len(api_requests(wix_emulator, "list_events"))

    assert wix.list_events(FROM, TO, **empty) == []
    assert list(wix.iter_events(FROM, TO, **empty)) == []
    assert list(wix.iter_event_pages(FROM, TO, **empty)) == []
    assert wix.export_events(str(tmp_path / "events.jsonl"), FROM, TO, **empty) == 0
    assert (tmp_path / "events.jsonl").read_text() == ""
    assert len(api_requests(wix_emulator, "list_events")) == before


def test_an_empty_schedule_list_matches_no_connection_and_sends_nothing(wix_emulator, wix):
    schedule = staff(wix_emulator)
    cfg = wix_emulator.config
    wix.connect_by_credentials(
        find_provider(wix.list_providers(), "apple")["id"], schedule, cfg.credentials_email, cfg.credentials_password
    )
    assert wix.list_connections(), "None is no filter: every connection"
    before = len(api_requests(wix_emulator, "list_connections"))
    assert wix.list_connections([]) == []
    assert wix.list_connections(iter(())) == []
    assert len(api_requests(wix_emulator, "list_connections")) == before
