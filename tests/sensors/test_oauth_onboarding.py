"""The OAuth onboarding core under ``dag.test()``: the owner's browser is played over HTTP, the
redirect lands on the plugin of Airflow's real API-server app, and the deferred sensor resumes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests

from airflow_provider_wix.callback.state import state_digest
from tests.conftest import API_SERVER_URL, run_dag, task_states, xcom_value

DAG_ID = "wix_oauth_core"


def _conf(schedule_id: str, **overrides: object) -> dict[str, object]:
    start = datetime.now(timezone.utc).replace(microsecond=0)
    return {
        "schedule_id": schedule_id,
        "provider": "MICROSOFT",
        "from_": start.isoformat(),
        "to": (start + timedelta(days=7)).isoformat(),
        **overrides,
    }


@pytest.mark.wix_emulator(sync_delay=1)
def test_connect_wait_configure_and_list_events(airflow_api_server, wix_conn, calendar_owner):
    emulator = wix_conn
    schedule_id = emulator.state.staff_schedules()[0].id
    conf = _conf(schedule_id)
    owner = calendar_owner.answer_in_background({schedule_id: "allow"})

    dag_run = run_dag(DAG_ID, conf)
    owner.join(5)

    assert task_states(dag_run) == dict.fromkeys(
        ["connect", "wait_for_owner", "list_connections", "update_sync_config", "wait_synced", "list_events"],
        "success",
    )
    oauth_url = xcom_value(dag_run, "connect")
    assert oauth_url.startswith(emulator.url)
    # Wix (the emulator) got the redirect URL with the state; XCom names the flow by its digest only.
    (flow,) = emulator.state.oauth_flows(include_decided=True)
    prefix, _, state = flow["redirect_url"].rpartition("/")
    assert prefix == f"{API_SERVER_URL}/wix/oauth/callback"
    assert xcom_value(dag_run, "connect", key="flow_id") == state_digest(state)
    for key in ("oauth_state", "redirect_url"):
        with pytest.raises(LookupError):
            xcom_value(dag_run, "connect", key=key)

    connection_id = xcom_value(dag_run, "wait_for_owner")
    connection = emulator.state.connection(connection_id)
    assert connection["scheduleId"] == schedule_id
    assert xcom_value(dag_run, "wait_for_owner", key="connection")["id"] == connection_id
    assert xcom_value(dag_run, "wait_for_owner", key="outcome") == "connected"
    assert [c["id"] for c in xcom_value(dag_run, "list_connections")] == [connection_id]
    assert connection["syncConfig"] == {
        "listEventFromCalendars": {"enabled": True, "primaryCalendar": {}},
        "syncToCalendar": {"enabled": True, "dedicatedCalendar": {}},
    }
    assert xcom_value(dag_run, "wait_synced")["status"] == "SYNCED"

    expected = list(emulator.state.events(conf["from_"], conf["to"], schedule_ids=[schedule_id]))
    assert expected, "the emulator should generate events for a week"
    assert xcom_value(dag_run, "list_events") == expected

    # Issue 8, defect 6: the sensor consumed the answer; the owner reloading the page still sees it.
    (page,) = owner.pages
    assert page.status_code == 200 and "is connected" in page.text
    reload = requests.get(page.url, timeout=30)
    assert (reload.status_code, reload.text) == (200, page.text)


@pytest.mark.parametrize(
    ("decision", "failed_message", "outcome"),
    [
        ("deny", "declined the authorization request", "declined"),
        ("unsupported", "does not support this type of account", "unsupported"),
    ],
)
def test_declined_or_unsupported_fails_without_retry(
    airflow_api_server, wix_conn, calendar_owner, capfd, decision, failed_message, outcome
):
    schedule_id = wix_conn.state.staff_schedules()[1].id
    owner = calendar_owner.answer_in_background({schedule_id: decision})
    dag_run = run_dag(DAG_ID, _conf(schedule_id))
    owner.join(5)
    states = task_states(dag_run)
    assert states["connect"] == "success"
    assert states["wait_for_owner"] == "failed"
    assert states["list_connections"] == "upstream_failed"
    out, err = capfd.readouterr()
    assert failed_message in out + err
    assert xcom_value(dag_run, "wait_for_owner", key="outcome") == outcome
    assert not wix_conn.state.connections()


@pytest.mark.wix_emulator(sync_delay=0)
def test_internal_error_is_retried_with_a_new_link(airflow_api_server, wix_conn, calendar_owner):
    schedule_id = wix_conn.state.staff_schedules()[2].id
    owner = calendar_owner.answer_in_background({schedule_id: ["internal", "allow"]})
    dag_run = run_dag(DAG_ID, _conf(schedule_id))
    owner.join(5)
    assert task_states(dag_run)["list_events"] == "success"
    flows = wix_conn.state.oauth_flows(include_decided=True)
    assert [f["decision"] for f in flows] == ["internal", "allow"]
    # The retry asked Wix for a new consent link on the same state (same redirect URL).
    assert flows[0]["redirect_url"] == flows[1]["redirect_url"]
    assert xcom_value(dag_run, "wait_for_owner", key="oauth_url") == flows[1]["consent_url"]
    assert wix_conn.state.connection(xcom_value(dag_run, "wait_for_owner"))["scheduleId"] == schedule_id


@pytest.mark.wix_emulator(sync_delay=0)
def test_an_answer_to_the_new_link_before_wix_responds_is_accepted(
    airflow_api_server, wix_conn, calendar_owner, monkeypatch
):
    """The owner answers the re-issued link before Wix's response reaches the retrying sensor.

    Wix creates the consent flow before it answers Connect By OAuth, so a quick owner can follow the
    new link at once. The emulator is made to play that owner inside the call: the redirect reaches
    Airflow while the sensor still waits for Wix. The answer used to be refused (409, the record was
    still "internal") and the sensor waited until its timeout.
    """
    import requests

    schedule_id = wix_conn.state.staff_schedules()[2].id
    state = wix_conn.state
    connect = state.connect_by_oauth
    callbacks: list[int] = []

    def connect_and_answer_at_once(*args: Any, **kwargs: Any) -> dict[str, Any]:
        answer = connect(*args, **kwargs)
        if len(state.oauth_flows(include_decided=True)) == 2:  # the retry's new link
            flow_id = answer["oauthUrl"].rsplit("/", 1)[-1]
            callbacks.append(requests.get(state.decide_oauth(flow_id, "allow"), timeout=30).status_code)
        return answer

    monkeypatch.setattr(state, "connect_by_oauth", connect_and_answer_at_once)
    owner = calendar_owner.answer_in_background({schedule_id: ["internal"]})
    dag_run = run_dag(DAG_ID, _conf(schedule_id))
    owner.join(5)
    assert callbacks == [200]
    assert task_states(dag_run)["list_events"] == "success"
    assert wix_conn.state.connection(xcom_value(dag_run, "wait_for_owner"))["scheduleId"] == schedule_id
