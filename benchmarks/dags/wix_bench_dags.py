"""DAGs for the slow benchmarks (``wake_latency``, ``triggerer_cost``); the topology's dags_folder.

Each pair differs only in the callback sensor's ``poke_interval``: 300 s (the product's default, so
only the callback's push can wake it quickly) and 5 s (what a polling design would use, e.g. Airflow
3.1-3.2's human-in-the-loop operators).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task

from airflow_provider_wix.operators.external_calendars import ConnectByOAuthOperator
from airflow_provider_wix.sensors.external_calendars import WixOAuthCallbackSensor

MICROSOFT_PROVIDER_ID = "a4989031-ec67-4939-b361-31d1e41e6aad"  # the emulator's (and Wix's) Microsoft provider
START = pendulum.datetime(2026, 1, 1, tz="UTC")


def onboarding_wait(dag_id: str, poke_interval: float) -> None:
    """Connect By OAuth, then wait (deferred) for the owner: the part of onboarding the callback wakes."""

    @dag(
        dag_id=dag_id,
        schedule=None,
        start_date=START,
        catchup=False,
        tags=["benchmark"],
        params={"schedule_id": Param("", type="string")},
    )
    def onboarding() -> None:
        connect = ConnectByOAuthOperator(
            task_id="connect", schedule_id="{{ params.schedule_id }}", provider_id=MICROSOFT_PROVIDER_ID
        )
        wait = WixOAuthCallbackSensor(
            task_id="wait_for_owner", connect_task_id="connect", deferrable=True, poke_interval=poke_interval
        )
        connect >> wait

    onboarding()


def waiting_sensors(dag_id: str, poke_interval: float) -> None:
    """K deferred callback sensors (one mapped task over the OAuth flow ids in the run's conf)."""

    @dag(
        dag_id=dag_id,
        schedule=None,
        start_date=START,
        catchup=False,
        tags=["benchmark"],
        params={"flow_ids": Param([], type="array")},
    )
    def waiting() -> None:
        @task
        def flow_ids(**context: object) -> list[str]:
            return list(context["params"]["flow_ids"])  # type: ignore[index]

        WixOAuthCallbackSensor.partial(
            task_id="wait", deferrable=True, poke_interval=poke_interval, verify_connection=False
        ).expand(flow_id=flow_ids())

    waiting()


onboarding_wait("wix_bench_wake_push", 300)
onboarding_wait("wix_bench_wake_poll", 5)
waiting_sensors("wix_bench_waiting_300", 300)
waiting_sensors("wix_bench_waiting_5", 5)
