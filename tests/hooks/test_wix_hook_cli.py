"""The real ``airflow`` CLI in a fresh AIRFLOW_HOME: the provider is listed and ``connections test`` works."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
pytest.importorskip("airflow_provider_wix.emulator.pytest_plugin")

AIRFLOW = str(Path(sys.executable).with_name("airflow"))


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("airflow-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_CONN_", "AIRFLOW__"))}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__TEST_CONNECTION="Enabled",
        AIRFLOW__CORE__DAGS_FOLDER=str(home / "dags"),
    )
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    return env


def airflow(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([AIRFLOW, *args], env=env, capture_output=True, text=True, timeout=120)


def test_providers_get_lists_the_provider_and_connection_type(airflow_env):
    result = airflow(airflow_env, "providers", "get", "airflow-provider-wix", "--full", "-o", "json")
    assert result.returncode == 0, result.stderr
    (info,) = json.loads(result.stdout) if result.stdout.lstrip().startswith("[") else [json.loads(result.stdout)]
    assert info["package-name"] == "airflow-provider-wix"
    assert info["connection-types"][0]["connection-type"] == "wix"

    hooks = airflow(airflow_env, "providers", "hooks", "-o", "json")
    assert hooks.returncode == 0, hooks.stderr
    (wix,) = [h for h in json.loads(hooks.stdout) if h["connection_type"] == "wix"]
    assert wix["class"] == "airflow_provider_wix.hooks.wix.WixHook"


def test_connections_test_against_the_emulator(airflow_env, wix_emulator):
    cfg = wix_emulator.config

    def conn(key: str) -> dict[str, str]:
        value = {"conn_type": "wix", "host": wix_emulator.url, "password": key, "extra": {"site_id": cfg.site_id}}
        return {**airflow_env, "AIRFLOW_CONN_WIX_DEFAULT": json.dumps(value)}

    good = airflow(conn(cfg.api_key), "connections", "test", "wix_default")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "Connection success!" in good.stdout
    assert [e["route"] for e in wix_emulator.state.request_log()] == ["list_providers"]

    wrong_key = "wrong-key-must-not-be-printed"
    bad = airflow(conn(wrong_key), "connections", "test", "wix_default")
    output = bad.stdout + bad.stderr
    assert bad.returncode != 0
    assert "Connection failed!" in output
    assert "HTTP 401 UNAUTHENTICATED" in output
    assert "API key" in output
    assert wrong_key not in output
    assert cfg.api_key not in output
