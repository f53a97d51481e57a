"""Many OAuth waits in one run, answered seconds after deferral: the wake-up race regression DAGs.

Each map index connects its own schedule. ``wait_for_owner`` is woken by the callback's push (or,
for a callback that lands while it is still running, by its trigger's first poll). No retries: a
spurious failure stays visible. One DAG per executor, so one Airflow (``[core] executor`` lists both)
serves both variants.

Three in four sensors' task processes take 3, 6 or 9 s to end after deferring, as a task process does
whose exit handlers flush telemetry or upload logs (Airflow lets it run ``[core] task_success_overtime``,
20 s, after the ``deferred`` commit): the executor's exit report then comes late, which is what makes
a resume soon after deferral dangerous. The rest end as fast as they can.
"""

from __future__ import annotations

import atexit
import time
from typing import Any

import pendulum
from airflow.sdk import dag, task

from airflow_provider_wix.operators.external_calendars import ConnectByOAuthOperator
from airflow_provider_wix.sensors.external_calendars import WixOAuthCallbackSensor

EXIT_DELAYS = (0, 3, 6, 9)  # seconds, by map index


class SlowExitOAuthCallbackSensor(WixOAuthCallbackSensor):
    """The provider's sensor, in a task process that lingers after deferring (the exit handler sleeps)."""

    def execute(self, context: Any) -> Any:
        map_index = getattr(context["ti"], "map_index", 0) or 0
        atexit.register(time.sleep, EXIT_DELAYS[map_index % len(EXIT_DELAYS)])
        return super().execute(context)


def wake_race_dag(executor: str) -> None:
    @dag(
        dag_id=f"wix_wake_race_{executor.removesuffix('Executor').lower()}",
        schedule=None,
        start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
        catchup=False,
        tags=["test", "reliability"],
        params={"schedule_ids": []},
        default_args={"retries": 0, "executor": executor},
        max_active_tasks=64,
    )
    def wix_wake_race() -> None:
        @task
        def schedules(**context: object) -> list[str]:
            return list(context["params"]["schedule_ids"])  # type: ignore[index]

        schedule_ids = schedules()
        connect = ConnectByOAuthOperator.partial(task_id="connect", provider="MICROSOFT").expand(
            schedule_id=schedule_ids
        )
        wait = SlowExitOAuthCallbackSensor.partial(
            task_id="wait_for_owner", connect_task_id="connect", deferrable=True
        ).expand(schedule_id=schedule_ids)
        connect >> wait

    wix_wake_race()


wake_race_dag("LocalExecutor")
wake_race_dag("CeleryExecutor")
