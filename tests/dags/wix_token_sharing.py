"""Several tasks of one run, each in its own task process, calling Wix with app OAuth; in the second
DAG a deferred sensor's trigger calls Wix too."""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task

from airflow_provider_wix.sensors.external_calendars import WixConnectionStatusSensor

START = pendulum.datetime(2026, 1, 1, tz="UTC")


@task
def call_wix(step: int) -> int:
    from airflow_provider_wix.hooks.wix import WixHook

    return len(WixHook().list_providers())


@dag(schedule=None, start_date=START, catchup=False, tags=["test"])
def wix_token_sharing() -> None:
    previous = None
    for step in range(3):
        current = call_wix.override(task_id=f"call_{step}")(step)
        if previous is not None:
            previous >> current
        previous = current


@dag(schedule=None, start_date=START, catchup=False, tags=["test"], params={"connection_id": Param("", type="string")})
def wix_token_sharing_with_a_trigger() -> None:
    call_wix.override(task_id="call")(0) >> WixConnectionStatusSensor(
        task_id="wait_synced",
        connection_id="{{ params.connection_id }}",
        deferrable=True,
        poke_interval=0.2,
        timeout=120,
    )


wix_token_sharing()
wix_token_sharing_with_a_trigger()
