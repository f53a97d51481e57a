"""Authentication as Wix does it: API key + wix-site-id, or client-credentials access tokens."""

from __future__ import annotations

import time

import pytest
import requests

from tests.emulator.conftest import API, WixHttp, app_error, example, violations


def token_body(wix: WixHttp, **overrides: str) -> dict[str, str]:
    cfg = wix.emulator.config
    body = {
        "grant_type": "client_credentials",
        "client_id": cfg.client_id,
        "client_secret": cfg.client_secret,
        "instance_id": cfg.instance_id,
    }
    body.update(overrides)
    return body


def get_token(wix: WixHttp) -> dict:
    response = wix.post("/oauth2/token", auth=False, json=token_body(wix))
    assert response.status_code == 200, response.text
    return response.json()


def providers_with(wix: WixHttp, headers: dict[str, str]) -> requests.Response:
    return wix.get(f"{API}/providers", auth=False, headers=headers)


def test_api_key_with_site_id_is_accepted_raw_and_as_bearer(wix: WixHttp) -> None:
    cfg = wix.emulator.config
    assert providers_with(wix, {"Authorization": cfg.api_key, "wix-site-id": cfg.site_id}).status_code == 200
    bearer = {"Authorization": f"Bearer {cfg.api_key}", "wix-site-id": cfg.site_id}
    assert providers_with(wix, bearer).status_code == 200


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": ""}, 401),
        ({"Authorization": "not-the-key", "wix-site-id": "{site}"}, 401),
        ({"Authorization": "{key}"}, 403),
        ({"Authorization": "{key}", "wix-account-id": "{site}"}, 403),
        ({"Authorization": "{key}", "wix-site-id": "11111111-2222-4333-8444-555555555555"}, 403),
    ],
)
def test_bad_credentials_get_401_or_403(wix: WixHttp, headers: dict[str, str], status: int) -> None:
    cfg = wix.emulator.config
    sent = {k: v.format(key=cfg.api_key, site=cfg.site_id) for k, v in headers.items()}
    response = providers_with(wix, sent)
    assert response.status_code == status
    assert app_error(response)["code"] == {401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED"}[status]


def test_every_wix_route_requires_auth(wix: WixHttp) -> None:
    calls = [
        ("GET", f"{API}/providers"),
        ("GET", f"{API}/connections"),
        ("GET", f"{API}/connections/x"),
        ("POST", f"{API}/connections:connectByOAuth"),
        ("POST", f"{API}/connections:connectByCredentials"),
        ("GET", f"{API}/connections/x/calendars"),
        ("PATCH", f"{API}/connections/x/sync-config"),
        ("POST", f"{API}/connections/x/disconnect"),
        ("GET", f"{API}/events"),
    ]
    for method, path in calls:
        assert wix.request(method, path, auth=False, json={}).status_code == 401, path


def test_token_endpoint_issues_working_tokens(wix: WixHttp) -> None:
    token = get_token(wix)
    assert set(token) == set(example("oauth2-token.response.json"))
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 14400
    # No wix-site-id needed: the token is bound to the app instance. Raw and Bearer both work.
    assert providers_with(wix, {"Authorization": token["access_token"]}).status_code == 200
    assert providers_with(wix, {"Authorization": f"Bearer {token['access_token']}"}).status_code == 200
    assert len(wix.emulator.state.issued_tokens()) == 1


def test_token_endpoint_accepts_a_form_body(wix: WixHttp) -> None:
    response = wix.post("/oauth2/token", auth=False, data=token_body(wix))
    assert response.status_code == 200
    assert providers_with(wix, {"Authorization": response.json()["access_token"]}).status_code == 200


def test_token_endpoint_errors(wix: WixHttp) -> None:
    bad_secret = wix.post("/oauth2/token", auth=False, json=token_body(wix, client_secret="wrong"))
    assert bad_secret.status_code == 401
    assert app_error(bad_secret)["code"] == "UNAUTHENTICATED"
    bad_client = wix.post("/oauth2/token", auth=False, json=token_body(wix, client_id="someone-else"))
    assert bad_client.status_code == 401
    wrong_instance = wix.post(
        "/oauth2/token", auth=False, json=token_body(wix, instance_id="11111111-2222-4333-8444-555555555555")
    )
    assert wrong_instance.status_code == 403
    grant = wix.post("/oauth2/token", auth=False, json=token_body(wix, grant_type="authorization_code"))
    assert [(v["field"], v["violatedRule"]) for v in violations(grant)] == [("grant_type", "INVALID_ENUM_VALUE")]
    empty = wix.post("/oauth2/token", auth=False, json={})
    assert {v["field"] for v in violations(empty)} == {"grant_type", "client_id", "client_secret", "instance_id"}
    assert wix.emulator.state.issued_tokens() == []


def test_unknown_token_is_401(wix: WixHttp) -> None:
    response = providers_with(wix, {"Authorization": "OauthNG.JWS.made-up"})
    assert response.status_code == 401


@pytest.mark.wix_emulator(token_ttl=60)
def test_token_expires_after_its_ttl(wix: WixHttp) -> None:
    token = get_token(wix)
    assert token["expires_in"] == 60
    headers = {"Authorization": token["access_token"]}
    wix.emulator.state.advance_time(59)
    assert providers_with(wix, headers).status_code == 200
    wix.emulator.state.advance_time(2)
    expired = providers_with(wix, headers)
    assert expired.status_code == 401
    assert "expired" in expired.json()["message"]
    # A new token works again.
    assert providers_with(wix, {"Authorization": get_token(wix)["access_token"]}).status_code == 200


@pytest.mark.wix_emulator(token_ttl=1)
def test_token_expires_in_real_time(wix: WixHttp) -> None:
    headers = {"Authorization": get_token(wix)["access_token"]}
    assert providers_with(wix, headers).status_code == 200
    time.sleep(1.05)
    assert providers_with(wix, headers).status_code == 401


@pytest.mark.wix_emulator(
    api_key="my-key",
    site_id="89e20858-bfa1-462b-b813-074fb1e4d62f",
    client_id="0c1a9a6e-5d3b-4f8e-9a51-6f2d1e7b3c40",
    client_secret="7b2e4f90-1c3d-4e5f-8a6b-9c0d1e2f3a4b",
    instance_id="3f6c2d1e-8b7a-4c5d-9e0f-1a2b3c4d5e6f",
)
def test_credentials_are_configurable(wix: WixHttp) -> None:
    assert providers_with(wix, {"Authorization": "my-key", "wix-site-id": wix.emulator.config.site_id}).ok
    old_key = {"Authorization": "emulator-api-key", "wix-site-id": wix.emulator.config.site_id}
    assert providers_with(wix, old_key).status_code == 401
    response = wix.post("/oauth2/token", auth=False, json=example("oauth2-token.request.json"))
    assert response.status_code == 200
