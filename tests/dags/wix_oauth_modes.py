"""The callback sensor in each of its modes, one small DAG per variant, for ``dag.test()`` runs."""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG

from airflow_provider_wix.operators.external_calendars import ConnectByOAuthOperator
from airflow_provider_wix.sensors.external_calendars import WixOAuthCallbackSensor

VARIANTS: dict[str, dict[str, Any]] = {
    "poke": {"mode": "poke", "deferrable": False, "poke_interval": 1, "timeout": 60},
    "reschedule": {"mode": "reschedule", "deferrable": False, "poke_interval": 1, "timeout": 60},
    "timeout": {"deferrable": True, "poke_interval": 1, "timeout": 3},
    "detect": {"deferrable": True, "poke_interval": 1, "timeout": 60, "detect_via_api": True},
}

for variant, sensor_args in VARIANTS.items():
    with DAG(
        dag_id=f"wix_oauth_{variant}",
        schedule=None,
        start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
        catchup=False,
        tags=["test"],
        params={"schedule_id": ""},
    ):
        connect = ConnectByOAuthOperator(
            task_id="connect",
            schedule_id="{{ params.schedule_id }}",
            provider="GOOGLE",
            detect_via_api=variant == "detect",
        )
        connect >> WixOAuthCallbackSensor(task_id="wait_for_owner", connect_task_id="connect", **sensor_args)

with DAG(
    dag_id="wix_oauth_apple",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["test"],
    params={"schedule_id": ""},
    default_args={"retries": 2},
):
    # Apple connects by credentials: the operator must refuse before calling Connect By OAuth.
    ConnectByOAuthOperator(task_id="connect", schedule_id="{{ params.schedule_id }}", provider="Apple")
