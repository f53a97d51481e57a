"""Fixtures of the reliability checks: the scripted HTTP server of the client tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.client.wix_client_support import ScriptedServer


@pytest.fixture
def scripted() -> Iterator[ScriptedServer]:
    server = ScriptedServer().start()
    yield server
    server.stop()
