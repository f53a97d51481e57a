"""Helpers for the emulator's own tests: a plain ``requests`` client, never the project's client."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

if TYPE_CHECKING:
    from airflow_provider_wix.emulator import RunningEmulator

EXAMPLES = Path(__file__).resolve().parent.parent / "data" / "wix-examples"
API = "/bookings/v2/external-calendars"


def example(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text())


class WixHttp:
    """Raw HTTP against the emulator with the API-key headers (or none / others when asked)."""

    def __init__(self, emulator: RunningEmulator) -> None:
        self.emulator = emulator
        self.url = emulator.url
        self.session = requests.Session()
        self.auth_headers = {"Authorization": emulator.config.api_key, "wix-site-id": emulator.config.site_id}

    def request(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, auth: bool = True, **kwargs: Any
    ) -> requests.Response:
        sent = dict(self.auth_headers) if auth else {}
        sent.update(headers or {})
        kwargs.setdefault("timeout", 10)
        kwargs.setdefault("allow_redirects", False)
        return self.session.request(method, self.url + path, headers=sent, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def admin(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.request(method, "/_emulator" + path, auth=False, **kwargs)


@pytest.fixture
def wix(wix_emulator: RunningEmulator) -> WixHttp:
    return WixHttp(wix_emulator)


def app_error(response: requests.Response) -> dict[str, Any]:
    """The ``applicationError`` of an error answer (asserting the Wix error body shape)."""
    body = response.json()
    assert set(body) == {"message", "details"}, body
    error = body["details"]["applicationError"]
    assert set(error) == {"code", "description", "data"}, error
    return error


def violations(response: requests.Response) -> list[dict[str, Any]]:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["message"].startswith("INVALID_ARGUMENT: ")
    return body["details"]["validationError"]["fieldViolations"]


class FormParser(HTMLParser):
    """The forms on a page, as a browser sees them: action, method, fields and button labels."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._in_button = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action"), "method": a.get("method"), "fields": {}, "buttons": []})
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1]["fields"][a["name"]] = a.get("value") or ""
        elif tag == "button" and self.forms:
            self._in_button = True
            self.forms[-1]["buttons"].append({"name": a.get("name"), "value": a.get("value"), "label": ""})

    def handle_endtag(self, tag: str) -> None:
        if tag == "button":
            self._in_button = False

    def handle_data(self, data: str) -> None:
        if self._in_button:
            self.forms[-1]["buttons"][-1]["label"] += data.strip()


def press(wix: WixHttp, consent_url: str, label: str) -> requests.Response:
    """Load the consent page and submit the form whose button reads ``label``, like a browser."""
    page = requests.get(consent_url, timeout=10)
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    parser = FormParser()
    parser.feed(page.text)
    for form in parser.forms:
        for button in form["buttons"]:
            if button["label"] == label:
                assert form["method"] == "post"
                data = dict(form["fields"])
                if button["name"]:
                    data[button["name"]] = button["value"]
                return requests.post(
                    requests.compat.urljoin(consent_url, form["action"]),
                    data=data,
                    allow_redirects=False,
                    timeout=10,
                )
    raise AssertionError(f"no button {label!r} on the consent page: {parser.forms}")
