"""Transient faults are retried with backoff and Retry-After; creating calls are never re-sent blindly."""

from __future__ import annotations

import logging
import socket
import time
from email.utils import formatdate

import pytest

from airflow_provider_wix.client import (
    ApiKeyAuth,
    ExternalCalendarsClient,
    RetryPolicy,
    WixRateLimitError,
    WixServerError,
    WixTransportError,
)
from airflow_provider_wix.client.retry import parse_retry_after
from tests.client.wix_client_support import (
    API_KEY,
    CONNECTION_ID,
    FAST_RETRY,
    PROVIDER_ID,
    SCHEDULE_ID,
    SITE_ID,
    Reply,
    example,
)

BASE = "/bookings/v2/external-calendars"
PROVIDERS = f"{BASE}/providers"
CREDENTIALS = f"{BASE}/connections:connectByCredentials"
CREDENTIAL_ARGS = (PROVIDER_ID, SCHEDULE_ID, "jane.doe@example.com", "pw-123456")
OK = Reply(200, {"providers": []})


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def fast(make_client, sleeps):
    """A client whose backoff sleeps are recorded instead of slept."""
    return make_client(sleep=sleeps.append)


def test_429_with_retry_after_seconds_then_success(scripted, make_client, caplog):
    scripted.on("GET", PROVIDERS, Reply(429, {"message": "", "details": {}}, headers={"Retry-After": "1"}), OK)
    client = make_client()  # real sleeping: the server's Retry-After is honoured on the clock

    started = time.monotonic()
    assert client.list_providers() == []
    elapsed = time.monotonic() - started

    assert len(scripted.requests) == 2
    assert 1.0 <= elapsed < 3.0
    retry_logs = [r.getMessage() for r in caplog.records if "retrying in" in r.getMessage()]
    assert retry_logs == [retry_logs[0]]
    assert "list_providers: HTTP 429 RESOURCE_EXHAUSTED; retrying in 1.0 s (attempt 2 of 4)" in retry_logs[0]


def test_retry_after_http_date_is_honoured(scripted, fast, sleeps):
    when = formatdate(time.time() + 5, usegmt=True)
    scripted.on("GET", PROVIDERS, Reply(429, headers={"Retry-After": when}), OK)

    fast.list_providers()

    assert len(sleeps) == 1
    assert 3.0 <= sleeps[0] <= 5.0  # an HTTP date has whole-second precision


def test_retry_after_beyond_the_budget_gives_up_at_once(scripted, make_client, sleeps):
    client = make_client(retry=RetryPolicy(max_attempts=5, max_total_seconds=10), sleep=sleeps.append)
    scripted.on("GET", PROVIDERS, default=Reply(429, headers={"Retry-After": "3600"}))

    with pytest.raises(WixRateLimitError) as info:
        client.list_providers()

    assert sleeps == []
    assert len(scripted.requests) == 1
    assert "Retry-After" in str(info.value)
    assert "200 requests per minute" in str(info.value)


@pytest.mark.parametrize(
    "fault",
    [
        Reply(503, {"message": "", "details": {}}),
        Reply(500, example("error.system.response")),
        Reply(502, body=b"bad gateway", headers={"Content-Type": "text/plain"}),
        Reply(504),
        Reply(drop=True),
        Reply(200, body=b'{"providers": [', headers={"Content-Type": "application/json"}),
        Reply(200, body=b"<html>maintenance</html>", headers={"Content-Type": "text/html"}),
    ],
    ids=["503", "500", "502", "504", "dropped", "truncated-json", "html"],
)
def test_transient_faults_then_success(scripted, fast, sleeps, fault):
    scripted.on("GET", PROVIDERS, fault, fault, OK)

    assert fast.list_providers() == []

    assert len(scripted.requests) == 3
    assert len(sleeps) == 2
    assert all(0 < s <= 0.05 for s in sleeps)


def test_backoff_grows_exponentially_with_jitter():
    policy = RetryPolicy(base_wait=1, max_wait=8)
    for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (4, 8), (5, 8), (9, 8)]:
        waits = [policy.backoff(attempt) for _ in range(200)]
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert len(set(waits)) > 100  # jittered


@pytest.mark.parametrize(
    ("fault", "error", "code"),
    [
        (Reply(503), WixServerError, "UNAVAILABLE"),
        (Reply(429), WixRateLimitError, "RESOURCE_EXHAUSTED"),
        (Reply(drop=True), WixTransportError, "ConnectionError"),
        (Reply(200, body=b"not json"), WixServerError, "MALFORMED_RESPONSE"),
    ],
    ids=["503", "429", "dropped", "malformed"],
)
def test_persistent_faults_give_up_with_a_clear_error(scripted, fast, sleeps, fault, error, code):
    scripted.on("GET", PROVIDERS, default=fault)

    with pytest.raises(error) as info:
        fast.list_providers()

    assert len(scripted.requests) == 4
    assert len(sleeps) == 3
    assert info.value.attempts == 4
    assert info.value.code == code
    message = str(info.value)
    assert message.startswith("Wix list_providers failed")
    assert "Gave up after 4 attempts" in message


def test_total_time_budget_bounds_the_retries(scripted, make_client):
    client = make_client(retry=RetryPolicy(max_attempts=50, max_total_seconds=0.6, base_wait=0.2, max_wait=0.2))
    scripted.on("GET", PROVIDERS, default=Reply(503))

    started = time.monotonic()
    with pytest.raises(WixServerError):
        client.list_providers()

    assert time.monotonic() - started < 1.0
    assert 2 <= len(scripted.requests) <= 6


def test_read_timeout_on_a_get_is_retried(scripted, make_client, sleeps):
    client = make_client(timeout=(1, 0.3), sleep=sleeps.append)
    scripted.on("GET", PROVIDERS, Reply(200, {"providers": []}, delay=1.0), OK)

    assert client.list_providers() == []
    assert len(scripted.requests) == 2


def test_disabled_retries_send_once(scripted, make_client):
    client = make_client(retry=RetryPolicy.disabled())
    scripted.on("GET", PROVIDERS, default=Reply(503))
    with pytest.raises(WixServerError, match="Gave up after 1 attempt "):
        client.list_providers()
    assert len(scripted.requests) == 1


# -- creating POST (connect by credentials) ----------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [Reply(503), Reply(500), Reply(drop=True), Reply(200, body=b"{oops")],
    ids=["503", "500", "dropped-after-send", "malformed"],
)
def test_connect_by_credentials_is_not_resent_after_the_server_got_it(scripted, fast, fault):
    scripted.on("POST", CREDENTIALS, fault, default=Reply(200, example("connect-by-credentials.response")))

    with pytest.raises((WixServerError, WixTransportError)) as info:
        fast.connect_by_credentials(*CREDENTIAL_ARGS)

    assert len(scripted.requests) == 1
    assert "not re-sent" in str(info.value)
    assert "List Connections" in str(info.value)


def test_connect_by_credentials_read_timeout_is_not_resent(scripted, make_client):
    client = make_client(timeout=(1, 0.3))
    scripted.on("POST", CREDENTIALS, Reply(200, example("connect-by-credentials.response"), delay=1.0))

    with pytest.raises(WixTransportError, match="ReadTimeout") as info:
        client.connect_by_credentials(*CREDENTIAL_ARGS)

    assert len(scripted.requests) == 1
    assert info.value.attempts == 1


def test_connect_by_credentials_retries_a_429(scripted, fast):
    scripted.on("POST", CREDENTIALS, Reply(429), Reply(200, example("connect-by-credentials.response")))

    connection = fast.connect_by_credentials(*CREDENTIAL_ARGS)

    assert connection["status"] == "CONNECTED"
    assert len(scripted.requests) == 2


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_connect_phase_failures_are_retried_even_for_creating_calls(sleeps):

    url = f"http://127.0.0.1:{_closed_port()}"
    with (
        ExternalCalendarsClient(
            ApiKeyAuth(API_KEY, site_id=SITE_ID), url, retry=FAST_RETRY, sleep=sleeps.append
        ) as client,
        pytest.raises(WixTransportError) as info,
    ):
        client.connect_by_credentials(*CREDENTIAL_ARGS)
    assert info.value.attempts == 4
    assert len(sleeps) == 3
    assert "Check network access" in str(info.value)


def test_other_posts_are_retried(scripted, fast):
    disconnect = f"{BASE}/connections/{CONNECTION_ID}/disconnect"
    scripted.on("POST", disconnect, Reply(503), Reply(200, example("disconnect.response")))
    assert fast.disconnect(CONNECTION_ID)["status"] == "DISCONNECTED"
    assert len(scripted.requests) == 2


def test_disconnect_retry_that_finds_it_already_disconnected_returns_the_connection(scripted, fast, caplog):
    """The first response was lost after Wix acted: the retry's 428 means success, not failure."""
    disconnect = f"{BASE}/connections/{CONNECTION_ID}/disconnect"
    already = {"message": "", "details": {"applicationError": {"code": "CONNECTION_ALREADY_DISCONNECTED"}}}
    scripted.on("POST", disconnect, Reply(drop=True), Reply(428, already))
    scripted.on("GET", f"{BASE}/connections/{CONNECTION_ID}", Reply(200, example("disconnect.response")))

    with caplog.at_level(logging.INFO):
        connection = fast.disconnect(CONNECTION_ID)

    assert connection["status"] == "DISCONNECTED"
    assert [r.method for r in scripted.requests] == ["POST", "POST", "GET"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("2", 2.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("soon", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # in the past
    ],
)
def test_parse_retry_after(header, expected):
    assert parse_retry_after(header) == expected


def test_parse_retry_after_future_date():
    now = 1_800_000_000.0
    assert parse_retry_after(formatdate(now + 30, usegmt=True), now=now) == 30.0
