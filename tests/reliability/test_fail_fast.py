"""Settings and arguments that retrying cannot fix fail the task at once, before any request.

The DAG ``wix_fail_fast`` runs under ``dag.test()`` against the emulator; its tasks have retries, so
a retryable failure would show as a second try, and the emulator's request log shows anything sent.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from airflow.sdk import Connection

from airflow_provider_wix.client import WixInvalidRequestError
from airflow_provider_wix.hooks.wix import WixHook
from tests.conftest import run_dag, wix_connection_json
from tests.dags.wix_fail_fast import BAD_CALLBACK_URLS, TOO_MANY_CALENDARS

pytestmark = pytest.mark.usefixtures("airflow_db")


def _tries(dag_run: Any) -> dict[str, tuple[str, int]]:
    """``{task_id: (state, try_number)}`` of a finished run."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        tis = session.scalars(
            select(TaskInstance).where(TaskInstance.dag_id == dag_run.dag_id, TaskInstance.run_id == dag_run.run_id)
        ).all()
        return {ti.task_id: (str(ti.state), ti.try_number) for ti in tis}


def test_unusable_settings_fail_at_once_without_a_request(wix_emulator, monkeypatch, capfd):
    for name, url in BAD_CALLBACK_URLS.items():
        monkeypatch.setenv(
            f"AIRFLOW_CONN_WIX_CB_{name.upper()}", wix_connection_json(wix_emulator, callback_base_url=url)
        )
    monkeypatch.setenv("AIRFLOW_CONN_WIX_CB_NONE", wix_connection_json(wix_emulator))
    monkeypatch.setenv("AIRFLOW_CONN_WIX_DEFAULT", wix_connection_json(wix_emulator))
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "")

    dag_run = run_dag("wix_fail_fast")
    out, _ = capfd.readouterr()

    tries = _tries(dag_run)
    assert tries and set(tries.values()) == {("failed", 1)}, tries
    assert wix_emulator.state.request_log() == []
    for url in BAD_CALLBACK_URLS.values():
        assert "callback_base_url in the extra of Airflow connection" in out
        assert f"got {url!r}" in out, url
    assert "did you mean 'https://airflow.example.com'?" in out
    assert "the scheme 'htps' is not http or https" in out
    assert "it has a query" in out
    assert "set `callback_base_url` in the extra of connection 'wix_cb_none' or Airflow's [api] base_url" in out
    assert "flow_id must be the flow id ConnectByOAuthOperator pushes" in out
    assert "not-a-flow-id" not in out
    assert f"import_from lists {TOO_MANY_CALENDARS} calendars; a sync config imports from at most 100" in out


def _hook(monkeypatch: pytest.MonkeyPatch, api_base_url: str = "", **extra: str) -> WixHook:
    conn = {"conn_type": "wix", "password": "k", "extra": {"site_id": "s", **extra}}
    monkeypatch.setenv("AIRFLOW_CONN_WIX_DEFAULT", json.dumps(conn))
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", api_base_url)
    return WixHook()


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("airflow.example.com", "no scheme"),
        ("airflow.example.com:8443", "no scheme"),
        ("htps://airflow.example.com", "not http or https"),
        ("https://airflow.example.com/base?x=1#frag", "has a query"),
        ("https://airflow.example.com/base#frag", "has a fragment"),
        ("https://airflow.example.com?", "has a query"),
        ("https:///no-host", "no host"),
        ("https://airflow.example.com:99999", "not a valid URL"),
        ("https://airflow.example.com/a b", "spaces"),
    ],
)
def test_malformed_callback_base_url_is_refused_not_replaced(monkeypatch, value, problem):
    hook = _hook(monkeypatch, "https://internal.example.com", callback_base_url=value)
    with pytest.raises(WixInvalidRequestError, match="callback_base_url in the extra") as raised:
        _ = hook.callback_base_url
    assert repr(value) in str(raised.value)
    assert problem in str(raised.value)
    assert "internal.example.com" not in str(raised.value)


def test_credentials_in_the_callback_url_are_refused_and_not_quoted(monkeypatch):
    hook = _hook(monkeypatch, callback_base_url="https://admin:hunter2@airflow.example.com")
    with pytest.raises(WixInvalidRequestError, match="credentials") as raised:
        _ = hook.callback_base_url
    assert "hunter2" not in str(raised.value)
    assert "https://***@airflow.example.com" in str(raised.value)


def test_malformed_api_base_url_is_named_when_it_is_the_fallback(monkeypatch):
    hook = _hook(monkeypatch, "/relative")
    with pytest.raises(WixInvalidRequestError, match=r"\[api\] base_url .* got '/relative'"):
        _ = hook.callback_base_url


def test_neither_set_gives_none(monkeypatch):
    assert _hook(monkeypatch).callback_base_url is None


@pytest.mark.parametrize(
    ("configured", "expected", "warned"),
    [
        ("https://airflow.example.com/", "https://airflow.example.com", False),
        ("https://airflow.example.com/prefix/", "https://airflow.example.com/prefix", False),
        ("http://localhost:8080", "http://localhost:8080", False),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080", False),
        ("http://[::1]:8080", "http://[::1]:8080", False),
        ("http://airflow.example.com", "http://airflow.example.com", True),
        ("http://10.0.0.5:8080", "http://10.0.0.5:8080", True),
    ],
)
def test_good_urls_pass_and_plain_http_elsewhere_warns(monkeypatch, caplog, configured, expected, warned):
    hook = _hook(monkeypatch, callback_base_url=configured)
    with caplog.at_level(logging.WARNING):
        assert hook.callback_base_url == expected
    assert ("travels unencrypted" in caplog.text) is warned


def test_api_base_url_is_used_when_the_extra_is_absent(monkeypatch, caplog):
    hook = _hook(monkeypatch, "http://airflow.internal:8080")
    with caplog.at_level(logging.WARNING):
        assert hook.callback_base_url == "http://airflow.internal:8080"
    assert "[api] base_url" in caplog.text and "travels unencrypted" in caplog.text


def test_the_same_rule_guards_the_wix_api_base_url():
    conn = Connection(
        conn_id="x", conn_type="wix", host="https://www.wixapis.com?x=1", password="k", extra='{"site_id": "s"}'
    )
    with pytest.raises(WixInvalidRequestError, match=r"The Wix API base URL .* has a query"):
        WixHook.client_from_connection(conn)


@pytest.mark.parametrize("statuses", [["DONE"], ["SYNCED", "synced"], [], "FINISHED"])
def test_connection_status_sensor_refuses_unknown_statuses_at_parse_time(statuses):
    from airflow_provider_wix.sensors.external_calendars import WixConnectionStatusSensor

    with pytest.raises(ValueError, match="target_statuses must be one or more of UNDEFINED, CONNECTED"):
        WixConnectionStatusSensor(task_id="t", connection_id="c", target_statuses=statuses)


def test_connection_status_sensor_takes_one_status_as_text():
    from airflow_provider_wix.sensors.external_calendars import WixConnectionStatusSensor

    sensor = WixConnectionStatusSensor(task_id="t", connection_id="c", target_statuses="CONNECTED")
    assert sensor.target_statuses == ("CONNECTED",)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"notifier": "ops@example.com"}, "notifier must be a notifier"),
        ({"state_ttl": 3600}, "state_ttl must be a positive timedelta"),
        ({"state_ttl": timedelta(0)}, "state_ttl must be a positive timedelta"),
    ],
)
def test_connect_by_oauth_refuses_unusable_arguments_at_parse_time(kwargs, message):
    from airflow_provider_wix.operators.external_calendars import ConnectByOAuthOperator

    with pytest.raises(ValueError, match=message):
        ConnectByOAuthOperator(task_id="t", schedule_id="s", provider="GOOGLE", **kwargs)


def test_raw_sync_config_with_too_many_calendars_is_refused():
    from airflow_provider_wix.client.validation import validate_sync_config

    config = {"listEventFromCalendars": {"enabled": True, "calendars": {"calendars": [{"id": "c"}] * 101}}}
    with pytest.raises(WixInvalidRequestError, match=r"calendars\.calendars lists 101 calendars"):
        validate_sync_config(config)


def test_the_sensor_knows_every_connection_status():
    from airflow_provider_wix.client.models import ConnectionStatus
    from airflow_provider_wix.sensors.external_calendars import CONNECTION_STATUSES

    assert set(CONNECTION_STATUSES) == {s.value for s in ConnectionStatus}
