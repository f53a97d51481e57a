"""The onboarding core as the end-to-end tests run it on real Airflow processes.

``wix_conn_id`` picks the Wix connection, so one topology serves an API-key and an app-OAuth Wix.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from airflow_provider_wix.operators.external_calendars import ConnectByOAuthOperator
from airflow_provider_wix.sensors.external_calendars import WixConnectionStatusSensor, WixOAuthCallbackSensor


@dag(
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["test", "e2e"],
    params={"schedule_id": "", "provider": "MICROSOFT", "wix_conn_id": "wix_default"},
)
def wix_e2e_onboarding() -> None:
    wix_conn_id = "{{ params.wix_conn_id }}"
    connect = ConnectByOAuthOperator(
        task_id="connect",
        schedule_id="{{ params.schedule_id }}",
        provider="{{ params.provider }}",
        wix_conn_id=wix_conn_id,
    )
    wait = WixOAuthCallbackSensor(
        task_id="wait_for_owner", connect_task_id="connect", deferrable=True, wix_conn_id=wix_conn_id
    )
    synced = WixConnectionStatusSensor(
        task_id="wait_synced", connection_id=wait.output, deferrable=True, poke_interval=1, wix_conn_id=wix_conn_id
    )

    @task
    def count_events(connection: dict, params: dict | None = None) -> int:
        from datetime import datetime, timedelta, timezone

        from airflow_provider_wix.hooks.wix import WixHook

        hook = WixHook(wix_conn_id=(params or {})["wix_conn_id"])
        start = datetime.now(timezone.utc)
        return len(hook.list_events(start, start + timedelta(days=7), schedule_ids=[connection["scheduleId"]]))

    connect >> wait
    count_events(synced.output)


wix_e2e_onboarding()
