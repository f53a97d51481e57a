"""Secrets and state audit under ``dag.test()``: one run that handles every secret, then a search.

The run uses app OAuth (client secret, minted tokens), an API key, an Apple app-specific password
and an OAuth state, each with a distinctive value; the owner's browser is played over HTTP against
Airflow's real API-server app, and Wix first fails internally, so the retry path that re-sends the
redirect URL runs too. Then every place is searched: the task logs and the API server's access log
(the process output), every table of the metadata database (XCom, rendered template fields,
serialized DAGs, trigger arguments, task-instance state, the audit log, Variables as stored), and
the Variables API as a user with and without Variable access sees it. Expected: no hit anywhere.

The same audit on separate processes (API server, scheduler, triggerer, worker, their logs and the
REST API as a viewer) is ``tests/security/test_secrets_audit_topology.py``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from airflow_provider_wix.callback.state import FLOW_KEY_PREFIX
from tests.conftest import run_dag, task_states, xcom_value
from tests.security.audit import (
    AUDIT_EMULATOR,
    OWNER_ANSWERS,
    audit_conf,
    connection_env,
    database_text,
    handled_secrets,
    hits_by_place,
    redacted_callback_lines,
)

USERS = {"admin": "admin", "op": "op", "viewer": "viewer"}


@pytest.fixture
def rest_api(airflow_db: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Airflow's API-server app with users of each role; ``get(path, user)`` as that user."""
    from airflow.api_fastapi.app import create_app
    from fastapi.testclient import TestClient

    passwords = tmp_path / "passwords.json"
    passwords.write_text(json.dumps(USERS))
    monkeypatch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", ",".join(f"{u}:{u}" for u in USERS))
    monkeypatch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", str(passwords))

    class Api:
        def __init__(self, client: Any) -> None:
            self.client = client
            self.tokens: dict[str, str] = {}

        def get(self, path: str, user: str) -> Any:
            if user not in self.tokens:
                login = self.client.post("/auth/token", json={"username": user, "password": USERS[user]})
                assert login.status_code == 201, login.text
                self.tokens[user] = login.json()["access_token"]
            return self.client.get(path, headers={"Authorization": f"Bearer {self.tokens[user]}"})

    with TestClient(create_app()) as client:
        yield Api(client)


@pytest.fixture
def access_log() -> Any:
    """uvicorn's own access log of the test API server, switched on for this test."""
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    logger = logging.getLogger("uvicorn.access")
    handler, level = Collect(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield records
    logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.mark.wix_emulator(**AUDIT_EMULATOR)
def test_no_secret_and_no_raw_state_anywhere(
    airflow_api_server, wix_emulator, calendar_owner, rest_api, access_log, capfd, monkeypatch
):
    from airflow import settings

    for name, value in connection_env(wix_emulator.url, wix_emulator.config).items():
        monkeypatch.setenv(name, value)
    conf = audit_conf(wix_emulator.state)
    schedule_id = conf["schedule_id"]
    owner = calendar_owner.answer_in_background({schedule_id: OWNER_ANSWERS})
    dag_run = run_dag("wix_secrets_audit", conf)
    owner.join(5)

    # The run really handled each secret (otherwise finding none of them would prove nothing).
    assert set(task_states(dag_run).values()) == {"success"}, task_states(dag_run)
    flow_id = xcom_value(dag_run, "connect", key="flow_id")
    secrets = handled_secrets(wix_emulator, schedule_id, flow_id)

    out, err = capfd.readouterr()
    places = {"process output (task logs, API server access log)": out + err}
    places["uvicorn access log"] = "\n".join(access_log)
    redacted_callback_lines(access_log, flow_id)
    places.update({f"metadata DB table {t}": text for t, text in database_text(settings.engine).items()})
    variables = {user: rest_api.get("/api/v2/variables?limit=100", user) for user in USERS}
    assert variables["viewer"].status_code == 403
    for user in ("op", "admin"):
        assert variables[user].status_code == 200
        places[f"Variables API as {user}"] = variables[user].text
        flow = next(v for v in variables[user].json()["variables"] if v["key"] == FLOW_KEY_PREFIX + flow_id)
        assert json.loads(flow["value"])["schedule_id"] == schedule_id  # readable, but the secret is masked
    xcoms = rest_api.get(
        f"/api/v2/dags/wix_secrets_audit/dagRuns/{dag_run.run_id}/taskInstances/~/xcomEntries?limit=100", "viewer"
    )
    assert xcoms.status_code == 200
    places["XCom API as viewer"] = xcoms.text
    run_path = f"/api/v2/dags/wix_secrets_audit/dagRuns/{dag_run.run_id}/taskInstances"
    tis = rest_api.get(run_path, "viewer")
    assert tis.status_code == 200
    places["task instances API as viewer"] = tis.text
    # Rendered fields are read one task instance at a time: Airflow 3.1's list route does not load them
    # (it always answers rendered_fields {}), the single-instance route does on every minor.
    for task_id in task_states(dag_run):
        ti = rest_api.get(f"{run_path}/{task_id}", "viewer")
        assert ti.status_code == 200, ti.text
        places[f"task instance {task_id} API (rendered fields) as viewer"] = ti.text
    sensor_fields = json.loads(places["task instance wait_for_owner API (rendered fields) as viewer"])
    assert sensor_fields["rendered_fields"]["flow_id"] == flow_id, "the sensor's rendered flow_id is the digest"

    assert hits_by_place(secrets, places) == {}
    print(f"audit: {len(secrets.values)} secret values searched in {len(places)} places: 0 hits")
