"""The client is plain Python: no Airflow import, typed, and its heavy dependencies load lazily."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import airflow_provider_wix.client as client_package

CLIENT_DIR = Path(client_package.__file__).parent


def run_python(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    return result.stdout.strip()


def test_no_airflow_import_in_the_client_sources():
    for source in CLIENT_DIR.glob("*.py"):
        for line in source.read_text().splitlines():
            stripped = line.strip()
            assert not stripped.startswith(("import airflow", "from airflow ", "from airflow.")), (source, line)


def test_using_the_client_does_not_load_airflow():
    loaded = run_python(
        "import sys\n"
        "from airflow_provider_wix.client import ApiKeyAuth, ExternalCalendarsClient, build_sync_config\n"
        "ExternalCalendarsClient(ApiKeyAuth('k', site_id='s'), 'http://127.0.0.1:9').close()\n"
        "print(sorted(m for m in sys.modules if m == 'airflow' or m.startswith('airflow.')))"
    )
    assert loaded == "[]"


def test_exporting_events_to_a_local_file_does_not_load_airflow(wix_emulator, tmp_path):
    """``export_events`` is the fast path for an export of one's own: on a plain client it must not pay
    for importing Airflow (about 2 s of CPU on its first call) to tell a local path from object storage."""
    from airflow_provider_wix.emulator import MICROSOFT_PROVIDER_ID

    cfg, state = wix_emulator.config, wix_emulator.state
    state.create_connection(MICROSOFT_PROVIDER_ID, state.staff_schedules()[0].id)
    target = tmp_path / "events.jsonl"
    auth = f"ApiKeyAuth({cfg.api_key!r}, site_id={cfg.site_id!r})"
    out = run_python(
        "import sys\n"
        "from airflow_provider_wix.client import ApiKeyAuth, ExternalCalendarsClient\n"
        f"with ExternalCalendarsClient({auth}, {wix_emulator.url!r}) as c:\n"
        f"    count = c.export_events({str(target)!r}, '2026-10-05T00:00:00Z', '2026-10-19T00:00:00Z')\n"
        "print(count, sorted(m for m in sys.modules if m == 'airflow' or m.startswith('airflow.')))"
    )
    count, loaded = out.split(" ", 1)
    assert int(count) == len(target.read_text().splitlines()) > 0
    assert loaded == "[]"


def test_importing_the_hook_does_not_load_requests():
    """DAG files import operators, which import the hook: parsing must not pay for requests/urllib3."""
    loaded = run_python(
        "import sys\n"
        "from airflow.sdk import BaseOperator\n"
        "import airflow_provider_wix.hooks.wix\n"
        "print(sorted(m for m in ('requests', 'urllib3') if m in sys.modules))"
    )
    assert loaded == "[]"


def test_public_names_resolve():
    for name in client_package.__all__:
        assert getattr(client_package, name) is not None
    assert (CLIENT_DIR.parent / "py.typed").exists()
