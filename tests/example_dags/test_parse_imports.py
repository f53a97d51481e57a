"""What parsing an example DAG imports, measured as the dag-processor parses (a fresh fork after the file's
``airflow.*`` imports): only what the provider's constructors need, so that the list cannot grow back.

Run through the ``dag_parse`` benchmark's own child, next to the file's EmptyOperator peer (the same DAG
without the provider), so "beyond Airflow's own cost" means the same thing here and in ``make bench``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from airflow_provider_wix.version_compat import AIRFLOW_V_3_2_PLUS
from benchmarks._parse_peers import peer_source
from tests.conftest import EXAMPLE_DAGS, REPO_ROOT

OPERATOR_MODULES = {
    "airflow_provider_wix.hooks",  # the default connection id only
    "airflow_provider_wix.links",
    "airflow_provider_wix.links.external_calendars",
    "airflow_provider_wix.operators",
    "airflow_provider_wix.operators.base",
    "airflow_provider_wix.operators.external_calendars",
    "airflow_provider_wix.utils",
    "airflow_provider_wix.utils.templated_arguments",
    "airflow_provider_wix.version_compat",  # Airflow's own names where minors differ; imports nothing heavy
}
SENSOR_MODULES = {"airflow_provider_wix.sensors", "airflow_provider_wix.sensors.external_calendars"}
# Airflow 3.1's parse runs provider discovery, which reads the provider info; 3.2+ has done it before the fork.
DISCOVERY = set() if AIRFLOW_V_3_2_PLUS else {"airflow_provider_wix", "airflow_provider_wix.get_provider_info"}
PROVIDER_MODULES = {
    "wix_bulk_onboarding.py": OPERATOR_MODULES | SENSOR_MODULES | DISCOVERY,
    "wix_calendar_events_sync.py": OPERATOR_MODULES | DISCOVERY,
    "wix_calendar_onboarding.py": OPERATOR_MODULES | SENSOR_MODULES | DISCOVERY,
}
# Nothing of Airflow's own beyond what the peer's parse loads: the sensor and operator-link bases the
# provider's classes need are loaded by serializing any DAG, which every parse does.
AIRFLOW_BEYOND_THE_PEER: set[str] = set()


def _parse(tmp_path, files: list[str]) -> dict:
    env = {"AIRFLOW_HOME": str(tmp_path / "home"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks._parse_child", "--reps", "1", "--list-modules", *files],
        cwd=REPO_ROOT,
        env={**env, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def parsed(tmp_path_factory) -> dict[str, tuple[set[str], set[str]]]:
    """``{file name: (modules its parse imports, modules loaded once its EmptyOperator peer is parsed)}``."""
    tmp = tmp_path_factory.mktemp("parse")
    dags = sorted(EXAMPLE_DAGS.glob("*.py"))
    peers = []
    for path in dags:
        peer = tmp / path.name
        peer.write_text(peer_source(path.read_text(encoding="utf-8"), "empty"), encoding="utf-8")
        peers.append(peer)
    ours = _parse(tmp, [str(p) for p in dags])
    theirs = _parse(tmp, [str(p) for p in peers])
    result = {}
    for path, peer in zip(dags, peers, strict=True):
        mine, other = ours[str(path)], theirs[str(peer)]
        assert "error" not in mine and not mine["import_errors"], mine
        assert "error" not in other and not other["import_errors"], other
        result[path.name] = (set(mine["new_modules"]), set(other["loaded_modules"]))
    return result


def test_every_example_dag_is_checked(parsed):
    assert set(parsed) == set(PROVIDER_MODULES)


@pytest.mark.parametrize("name", sorted(PROVIDER_MODULES))
def test_a_parse_imports_only_what_the_constructors_need(parsed, name):
    mine, peer = parsed[name]
    assert {m for m in mine if m.startswith("airflow_provider_wix")} == PROVIDER_MODULES[name]
    beyond_the_peer = {m for m in mine - peer if not m.startswith("airflow_provider_wix")}
    assert beyond_the_peer == AIRFLOW_BEYOND_THE_PEER, sorted(beyond_the_peer)
    assert not any(m.split(".")[0] in ("requests", "urllib3", "tenacity", "msgspec") for m in mine)
