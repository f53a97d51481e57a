"""Run the emulator with uvicorn in a background thread, on a free port, for tests and scripts."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING

import uvicorn

from airflow_provider_wix.emulator.app import create_app
from airflow_provider_wix.emulator.state import EmulatorConfig, EmulatorState

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["RunningEmulator", "run_emulator"]

_STARTUP_TIMEOUT = 15.0


@dataclass
class RunningEmulator:
    """A started emulator: its base ``url`` (no trailing slash) and the live ``state``."""

    url: str
    state: EmulatorState
    host: str
    port: int

    @property
    def config(self) -> EmulatorConfig:
        return self.state.config

    def reset(self, config: EmulatorConfig | None = None) -> None:
        """A fresh site, optionally with another configuration, without restarting the server."""
        self.state.reset(config)


def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


@contextlib.contextmanager
def run_emulator(
    config: EmulatorConfig | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    state: EmulatorState | None = None,
) -> Iterator[RunningEmulator]:
    """Serve an emulator until the block ends. Yields once it answers its health route.

    ``port=0`` picks a free port (the socket is bound here, so there is no race for it).
    """
    state = state or EmulatorState(config)
    sock = _bind(host, port)
    bound_port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(state),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="wix-emulator", daemon=True)
    thread.start()
    running = RunningEmulator(f"http://{_url_host(host)}:{bound_port}", state, host, bound_port)
    try:
        _wait_ready(server, thread, running.url)
        yield running
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout=5)
        sock.close()


def _wait_ready(server: uvicorn.Server, thread: threading.Thread, url: str) -> None:
    deadline = time.monotonic() + _STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if not thread.is_alive():
            raise RuntimeError("the emulator server thread stopped during start-up")
        if server.started:
            try:
                with urllib.request.urlopen(f"{url}/_emulator/health", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except OSError:
                pass
        time.sleep(0.01)
    raise RuntimeError(f"the emulator at {url} did not become ready in {_STARTUP_TIMEOUT:.0f} s")
