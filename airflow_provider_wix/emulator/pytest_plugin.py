"""pytest fixtures for testing DAGs and clients against the Wix emulator.

Enable with ``pytest_plugins = ["airflow_provider_wix.emulator.pytest_plugin"]`` in a root
``conftest.py``. One server runs per test session (it starts in well under a second); every test
that asks for ``wix_emulator`` gets it reset to a fresh site, so tests cannot see each other's state.

Per-test configuration: ``@pytest.mark.wix_emulator(token_ttl=1, sync_delay=2)``, or override the
``wix_emulator_config`` fixture.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import pytest

from airflow_provider_wix.emulator.server import RunningEmulator, run_emulator
from airflow_provider_wix.emulator.state import EmulatorConfig

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["wix_emulator", "wix_emulator_config", "wix_emulator_server"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "wix_emulator(**settings): EmulatorConfig fields for this test's wix_emulator")


@pytest.fixture(scope="session")
def wix_emulator_server() -> Iterator[RunningEmulator]:
    """The session's emulator server; use ``wix_emulator`` for a fresh site per test."""
    with run_emulator() as emulator:
        yield emulator


@pytest.fixture
def wix_emulator_config(request: pytest.FixtureRequest) -> EmulatorConfig:
    """The configuration for this test: defaults plus the ``wix_emulator`` marker's settings."""
    settings: dict[str, object] = {}
    for marker in reversed(list(request.node.iter_markers("wix_emulator"))):
        settings.update(marker.kwargs)
    return dataclasses.replace(EmulatorConfig(), **settings)  # type: ignore[arg-type]


@pytest.fixture
def wix_emulator(
    wix_emulator_server: RunningEmulator, wix_emulator_config: EmulatorConfig
) -> Iterator[RunningEmulator]:
    """A running emulator reset to a fresh site: ``.url``, ``.state``, ``.config``."""
    wix_emulator_server.state.reset(wix_emulator_config)
    yield wix_emulator_server
    wix_emulator_server.state.reset(EmulatorConfig())
