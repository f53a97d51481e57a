"""Many OAuth waits in one run, answered seconds after deferral: the wake-up race regression DAG.

Each map index connects its own schedule. ``wait_for_owner`` is woken by the callback's push (or,
for a callback that lands while it is still running, by its trigger's first poll). No retries: a
spurious failure stays visible.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from airflow_provider_wix.operators.external_calendars import ConnectByOAuthOperator
from airflow_provider_wix.sensors.external_calendars import WixOAuthCallbackSensor


@dag(
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["test", "reliability"],
    params={"schedule_ids": []},
    default_args={"retries": 0},
    max_active_tasks=64,
)
def wix_wake_race() -> None:
    @task
    def schedules(**context: object) -> list[str]:
        return list(context["params"]["schedule_ids"])  # type: ignore[index]

    schedule_ids = schedules()
    connect = ConnectByOAuthOperator.partial(task_id="connect", provider="MICROSOFT").expand(schedule_id=schedule_ids)
    wait = WixOAuthCallbackSensor.partial(task_id="wait_for_owner", connect_task_id="connect", deferrable=True).expand(
        schedule_id=schedule_ids
    )
    connect >> wait


wix_wake_race()
