"""Fixtures for the client tests: a scripted local HTTP server and clients pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from airflow_provider_wix.client import ApiKeyAuth, ExternalCalendarsClient
from tests.client.wix_client_support import API_KEY, FAST_RETRY, SITE_ID, ScriptedServer


@pytest.fixture
def scripted() -> Iterator[ScriptedServer]:
    server = ScriptedServer().start()
    yield server
    server.stop()


@pytest.fixture
def make_client(scripted: ScriptedServer) -> Iterator[Callable[..., ExternalCalendarsClient]]:
    made: list[ExternalCalendarsClient] = []

    def factory(auth: Any = None, **kwargs: Any) -> ExternalCalendarsClient:
        kwargs.setdefault("retry", FAST_RETRY)
        kwargs.setdefault("timeout", (2, 5))
        client = ExternalCalendarsClient(auth or ApiKeyAuth(API_KEY, site_id=SITE_ID), scripted.url, **kwargs)
        made.append(client)
        return client

    yield factory
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., ExternalCalendarsClient]) -> ExternalCalendarsClient:
    return make_client()
