"""The onboarding core as the end-to-end tests run it on real Airflow processes."""

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
    params={"schedule_id": "", "provider": "MICROSOFT"},
)
def wix_e2e_onboarding() -> None:
    connect = ConnectByOAuthOperator(
        task_id="connect", schedule_id="{{ params.schedule_id }}", provider="{{ params.provider }}"
    )
    wait = WixOAuthCallbackSensor(task_id="wait_for_owner", connect_task_id="connect", deferrable=True)
    synced = WixConnectionStatusSensor(
        task_id="wait_synced", connection_id=wait.output, deferrable=True, poke_interval=1
    )

    @task
    def count_events(connection: dict) -> int:
        from datetime import datetime, timedelta, timezone

        from airflow_provider_wix.hooks.wix import WixHook

        start = datetime.now(timezone.utc)
        return len(WixHook().list_events(start, start + timedelta(days=7), schedule_ids=[connection["scheduleId"]]))

    connect >> wait
    count_events(synced.output)


wix_e2e_onboarding()
