"""The sensors read their poll intervals from the ``[wix]`` options and close the hooks they open."""

from __future__ import annotations

import gc
import warnings

import pytest

from airflow_provider_wix.emulator import GOOGLE_PROVIDER_ID
from airflow_provider_wix.sensors.external_calendars import WixConnectionStatusSensor, WixOAuthCallbackSensor


def _status_sensor(**kwargs):
    return WixConnectionStatusSensor(task_id="wait_synced", connection_id="c-1", **kwargs)


def _callback_sensor(**kwargs):
    return WixOAuthCallbackSensor(task_id="wait_for_owner", connect_task_id="connect", **kwargs)


def test_poll_intervals_default_to_the_declared_wix_options(monkeypatch):
    from airflow_provider_wix.get_provider_info import get_provider_info

    options = get_provider_info()["config"]["wix"]["options"]
    monkeypatch.delenv("AIRFLOW__WIX__OAUTH_CALLBACK_POLL_INTERVAL", raising=False)
    monkeypatch.delenv("AIRFLOW__WIX__SYNC_STATUS_POLL_INTERVAL", raising=False)
    assert _callback_sensor().poke_interval == float(options["oauth_callback_poll_interval"]["default"])
    assert _status_sensor().poke_interval == float(options["sync_status_poll_interval"]["default"])


def test_poll_intervals_follow_the_configuration_and_the_argument_wins(monkeypatch):
    monkeypatch.setenv("AIRFLOW__WIX__OAUTH_CALLBACK_POLL_INTERVAL", "900")
    monkeypatch.setenv("AIRFLOW__WIX__SYNC_STATUS_POLL_INTERVAL", "42")
    assert _callback_sensor().poke_interval == 900
    assert _status_sensor().poke_interval == 42
    assert _status_sensor(poke_interval=3).poke_interval == 3


@pytest.mark.parametrize("sensor_kind", ["status", "callback"])
def test_pokes_close_the_hooks_they_open(wix_conn, sensor_kind):
    schedule_id = wix_conn.state.staff_schedules()[0].id
    if sensor_kind == "status":
        connection = wix_conn.state.create_connection(GOOGLE_PROVIDER_ID, schedule_id, status="SYNC_IN_PROGRESS")
        sensor = WixConnectionStatusSensor(task_id="wait_synced", connection_id=connection["id"])
    else:  # watches List Connections, where only a disconnected (so not a new) connection shows
        wix_conn.state.create_connection(GOOGLE_PROVIDER_ID, schedule_id, status="DISCONNECTED")
        sensor = WixOAuthCallbackSensor(task_id="wait_for_owner", schedule_id=schedule_id, detect_via_api=True)
    hook = sensor.hook  # the hook the pokes use; open one pooled connection on it first
    hook.list_providers()
    pools = hook.client.session.get_adapter(wix_conn.url).poolmanager.pools
    assert len(pools) == 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        results = [sensor.poke({}) for _ in range(3)]
        gc.collect()
    assert results == [False] * 3
    assert len([e for e in wix_conn.state.request_log() if e["route"] != "list_providers"]) == 3  # each poke asked
    assert len(pools) == 0  # closed by the first poke, and each poke after it closed its own
    assert "hook" not in sensor.__dict__
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
