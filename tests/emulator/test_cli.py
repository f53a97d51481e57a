"""``python -m airflow_provider_wix.emulator`` and the pytest plugin, as users run them."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

from airflow_provider_wix.emulator.__main__ import build_parser, config_from_args

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_cli_starts_prints_credentials_answers_and_stops_cleanly(stop_signal: int) -> None:
    port = free_port()
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_wix.emulator", "--port", str(port), "--seed", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=REPO,
    )
    try:
        assert proc.stdout is not None
        banner: list[str] = []
        while not banner or not banner[-1].startswith(
            '  export AIRFLOW_CONN_WIX_DEFAULT=\'{"conn_type": "wix", "host"'
        ):
            line = proc.stdout.readline()
            assert line, "".join(banner)
            banner.append(line.rstrip("\n"))
        text = "\n".join(banner)
        url = f"http://127.0.0.1:{port}"
        assert banner[0] == f"Wix emulator listening on {url}"
        api_key = re.search(r"API key:\s+(\S+)", text)
        site_id = re.search(r"wix-site-id: ([0-9a-f-]{36})", text)
        assert api_key and site_id, text
        assert "curl -s -H 'Authorization: " in text
        conn = json.loads(banner[-1].split("=", 1)[1].strip("'"))
        assert conn == {
            "conn_type": "wix",
            "host": url,
            "password": api_key[1],
            "extra": {"auth_type": "api_key", "site_id": site_id[1]},
        }
        request = urllib.request.Request(
            f"{url}/bookings/v2/external-calendars/providers",
            headers={"Authorization": api_key[1], "wix-site-id": site_id[1]},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
            assert len(json.load(response)["providers"]) == 3
        # How fast it starts is not asserted here (no timed assertions in tests): on a loaded machine it
        # takes seconds. It is printed for whoever runs the test alone.
        print(f"\nCLI ready and answering after {time.monotonic() - started:.2f} s")
        proc.send_signal(stop_signal)
        out, _ = proc.communicate(timeout=10)
        assert proc.returncode == 0, out
        assert "Wix emulator stopped" in out
        assert "Traceback" not in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cli_options_become_the_configuration() -> None:
    args = build_parser().parse_args(
        [
            "--seed", "9", "--api-key", "k", "--token-ttl", "5", "--schedules", "2", "--events-per-day", "24",
            "--sync-delay", "1.5", "--fault", "list_events=503@0.1", "--fault", "429:2x1", "--rate-limit", "200",
            "--oauth-outcome", "internal", "--no-premium", "--public-url", "http://localhost:8765",
            "--providers", "google,Microsoft",
        ]
    )  # fmt: skip
    config = config_from_args(args)
    assert (config.seed, config.api_key, config.token_ttl, config.schedules) == (9, "k", 5, 2)
    assert (config.events_per_day, config.sync_delay, config.rate_limit) == (24, 1.5, 200)
    assert (config.oauth_outcome, config.premium, config.public_url) == ("internal", False, "http://localhost:8765")
    assert [r.to_json()["kind"] for r in config.fault_rules()] == ["503", "429"]
    assert config.providers == ("google", "microsoft")


def test_cli_rejects_a_bad_fault_spec() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "airflow_provider_wix.emulator", "--port", "0", "--fault", "teapot"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=REPO,
    )
    assert result.returncode == 2
    assert "bad fault spec" in result.stderr


def test_pytest_plugin_works_in_a_users_project(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["airflow_provider_wix.emulator.pytest_plugin"]\n')
    (tmp_path / "test_user.py").write_text(
        textwrap.dedent(
            """
            import pytest
            import requests

            def providers(wix_emulator):
                return requests.get(
                    wix_emulator.url + "/bookings/v2/external-calendars/providers",
                    headers={"Authorization": wix_emulator.config.api_key, "wix-site-id": wix_emulator.config.site_id},
                )

            def test_one(wix_emulator):
                assert providers(wix_emulator).status_code == 200
                wix_emulator.state.set_faults(["500"])

            def test_two_is_fresh(wix_emulator):
                assert providers(wix_emulator).status_code == 200
                assert len(wix_emulator.state.request_log()) == 1

            @pytest.mark.wix_emulator(token_ttl=7, schedules=1)
            def test_marker(wix_emulator):
                assert wix_emulator.config.token_ttl == 7
                assert len(wix_emulator.state.schedules()) == 2
            """
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--strict-markers"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_the_emulator_imports_no_airflow_and_none_of_the_provider_code() -> None:
    """Written from the API description: a wire-format mistake cannot hide in both client and emulator."""
    code = textwrap.dedent(
        """
        import sys
        import airflow_provider_wix.emulator
        import airflow_provider_wix.emulator.__main__
        import airflow_provider_wix.emulator.pytest_plugin
        forbidden = ("airflow", "airflow_provider_wix.client", "airflow_provider_wix.hooks",
                     "airflow_provider_wix.operators", "airflow_provider_wix.sensors",
                     "airflow_provider_wix.triggers", "airflow_provider_wix.callback", "airflow_provider_wix.plugins")
        loaded = sorted(m for m in sys.modules if any(m == f or m.startswith(f + ".") for f in forbidden))
        print(loaded)
        sys.exit(1 if loaded else 0)
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
