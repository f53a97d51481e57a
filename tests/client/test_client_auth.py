"""API key headers, and the app OAuth token: minted once, cached, shared by threads, refreshed on 401."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from airflow_provider_wix.client import (
    ApiKeyAuth,
    OAuthAppAuth,
    WixAuthenticationError,
    WixInvalidRequestError,
    WixServerError,
)
from tests.client.wix_client_support import (
    ACCESS_TOKEN,
    API_KEY,
    CLIENT_ID,
    CLIENT_SECRET,
    INSTANCE_ID,
    SITE_ID,
    Reply,
    example,
    token_payload,
)

PROVIDERS = "/bookings/v2/external-calendars/providers"
TOKEN = "/oauth2/token"
OK = Reply(200, {"providers": []})
UNAUTHENTICATED = Reply(401, {"message": "token expired", "details": {}})


@pytest.fixture
def oauth():
    return OAuthAppAuth(CLIENT_ID, CLIENT_SECRET, INSTANCE_ID)


def test_api_key_needs_exactly_one_context_header():
    with pytest.raises(WixInvalidRequestError, match="exactly one of site_id"):
        ApiKeyAuth(API_KEY)
    with pytest.raises(WixInvalidRequestError, match="not both"):
        ApiKeyAuth(API_KEY, site_id=SITE_ID, account_id=SITE_ID)
    with pytest.raises(WixInvalidRequestError, match="API key is required"):
        ApiKeyAuth("", site_id=SITE_ID)
    assert API_KEY not in repr(ApiKeyAuth(API_KEY, site_id=SITE_ID))


def test_oauth_requires_all_app_credentials():
    with pytest.raises(WixInvalidRequestError, match="client_secret"):
        OAuthAppAuth(CLIENT_ID, "", INSTANCE_ID)
    assert CLIENT_SECRET not in repr(OAuthAppAuth(CLIENT_ID, CLIENT_SECRET, INSTANCE_ID))


def test_token_request_and_use(scripted, make_client, oauth):
    scripted.on("POST", TOKEN, Reply(200, example("oauth2-token.response")))
    scripted.on("GET", PROVIDERS, OK)

    make_client(oauth).list_providers()

    token_req, api_req = scripted.requests
    assert token_req.request_line == "POST /oauth2/token HTTP/1.1"
    assert token_req.headers["content-type"] == "application/json"
    assert "authorization" not in token_req.headers
    assert token_req.json == {
        "grant_type": "client_credentials",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "instance_id": INSTANCE_ID,
    }
    assert set(token_req.json) == set(example("oauth2-token.request"))
    # The raw token, as the official SDK sends it; the token is bound to the site, so no wix-site-id.
    assert api_req.headers["authorization"] == example("oauth2-token.response")["access_token"]
    assert "wix-site-id" not in api_req.headers


def test_one_token_for_many_calls(scripted, make_client, oauth):
    scripted.on("POST", TOKEN, Reply(200, token_payload()))
    scripted.on("GET", PROVIDERS, default=OK)
    client = make_client(oauth)

    for _ in range(20):
        client.list_providers()

    assert len(scripted.requests_to(TOKEN)) == 1
    assert len(scripted.requests_to(PROVIDERS)) == 20
    assert oauth.tokens_minted == 1


def test_one_token_for_many_threads(scripted, make_client, oauth):
    # A slow token endpoint widens the race window: every thread asks for a token at once.
    scripted.on("POST", TOKEN, Reply(200, token_payload(), delay=0.3), default=Reply(500))
    scripted.on("GET", PROVIDERS, default=OK)
    client = make_client(oauth)
    barrier = threading.Barrier(16)

    def call(_: int) -> list:
        barrier.wait()
        return client.list_providers()

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(call, range(16)))

    assert results == [[]] * 16
    assert len(scripted.requests_to(TOKEN)) == 1
    assert {r.headers["authorization"] for r in scripted.requests_to(PROVIDERS)} == {ACCESS_TOKEN}


def test_two_clients_sharing_one_auth_share_the_token(scripted, make_client, oauth):
    scripted.on("POST", TOKEN, Reply(200, token_payload()))
    scripted.on("GET", PROVIDERS, default=OK)
    make_client(oauth).list_providers()
    make_client(oauth).list_providers()
    assert len(scripted.requests_to(TOKEN)) == 1


def test_token_is_renewed_shortly_before_it_expires(scripted, make_client):
    now = [1000.0]
    auth = OAuthAppAuth(CLIENT_ID, CLIENT_SECRET, INSTANCE_ID, clock=lambda: now[0])
    scripted.on("POST", TOKEN, Reply(200, token_payload("t1", 14400)), Reply(200, token_payload("t2", 14400)))
    scripted.on("GET", PROVIDERS, default=OK)
    client = make_client(auth)

    client.list_providers()
    now[0] += 14400 - 301  # still outside the 5-minute margin
    client.list_providers()
    now[0] += 2  # inside the margin: renew before Wix would reject it
    client.list_providers()

    assert [r.headers["authorization"] for r in scripted.requests_to(PROVIDERS)] == ["t1", "t1", "t2"]


def test_refresh_once_on_401(scripted, make_client, oauth):
    scripted.on("POST", TOKEN, Reply(200, token_payload("old")), Reply(200, token_payload("new")))
    scripted.on("GET", PROVIDERS, OK, UNAUTHENTICATED, OK)
    client = make_client(oauth)

    client.list_providers()
    client.list_providers()  # 401 with the old token -> new token -> success

    assert [r.path for r in scripted.requests] == [TOKEN, PROVIDERS, PROVIDERS, TOKEN, PROVIDERS]
    assert [r.headers["authorization"] for r in scripted.requests_to(PROVIDERS)] == ["old", "old", "new"]


def test_401_after_a_fresh_token_fails_without_looping(scripted, make_client, oauth):
    scripted.on("POST", TOKEN, default=Reply(200, token_payload()))
    scripted.on("GET", PROVIDERS, default=UNAUTHENTICATED)

    with pytest.raises(WixAuthenticationError, match="even after a fresh one was minted"):
        make_client(oauth).list_providers()

    assert len(scripted.requests_to(PROVIDERS)) == 2
    assert len(scripted.requests_to(TOKEN)) == 2


def test_concurrent_401s_mint_a_single_new_token(scripted, make_client, oauth):
    scripted.on(
        "POST",
        TOKEN,
        Reply(200, token_payload("old")),
        Reply(200, token_payload("new"), delay=0.2),
        default=Reply(500),
    )
    client = make_client(oauth)
    scripted.on("GET", PROVIDERS, OK)
    client.list_providers()
    # From now on Wix rejects the old token: every thread sees a 401, yet only one new token is minted.
    scripted.on("GET", PROVIDERS, default=lambda req: OK if req.headers["authorization"] == "new" else UNAUTHENTICATED)
    barrier = threading.Barrier(8)

    def call(_: int) -> list:
        barrier.wait()
        return client.list_providers()

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(call, range(8))) == [[]] * 8
    assert len(scripted.requests_to(TOKEN)) == 2


def test_api_key_401_is_not_retried(scripted, client):
    scripted.on("GET", PROVIDERS, default=UNAUTHENTICATED)
    with pytest.raises(WixAuthenticationError, match="API key"):
        client.list_providers()
    assert len(scripted.requests) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_token_endpoint_rejection(scripted, make_client, oauth, status):
    scripted.on("POST", TOKEN, default=Reply(status, {"message": "invalid client", "details": {}}))

    with pytest.raises(WixAuthenticationError) as info:
        make_client(oauth).list_providers()

    assert "create_access_token" in str(info.value)
    assert "client id, client secret and instance id" in str(info.value)
    assert len(scripted.requests) == 1
    assert scripted.requests_to(PROVIDERS) == []


def test_token_endpoint_transient_failure_is_retried(scripted, make_client, oauth):
    scripted.on("POST", TOKEN, Reply(503), Reply(200, token_payload()))
    scripted.on("GET", PROVIDERS, OK)
    make_client(oauth).list_providers()
    assert len(scripted.requests_to(TOKEN)) == 2


def test_token_response_without_token(scripted, make_client, oauth):
    scripted.on("POST", TOKEN, Reply(200, {"token_type": "Bearer"}))
    with pytest.raises(WixServerError, match="no access_token"):
        make_client(oauth).list_providers()


def test_on_token_sees_every_new_token_before_use(scripted, make_client):
    seen: list[str] = []
    auth = OAuthAppAuth(CLIENT_ID, CLIENT_SECRET, INSTANCE_ID, on_token=seen.append)
    scripted.on("POST", TOKEN, Reply(200, token_payload("t1")), Reply(200, token_payload("t2")))
    scripted.on("GET", PROVIDERS, UNAUTHENTICATED, OK)
    make_client(auth).list_providers()
    assert seen == ["t1", "t2"]
