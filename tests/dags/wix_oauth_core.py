"""The OAuth onboarding core in one DAG: the acceptance run of issue 4 under ``dag.test()``."""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag

from airflow_provider_wix.operators.external_calendars import (
    ConnectByOAuthOperator,
    ListConnectionsOperator,
    ListEventsOperator,
    UpdateSyncConfigOperator,
)
from airflow_provider_wix.sensors.external_calendars import WixConnectionStatusSensor, WixOAuthCallbackSensor


@dag(
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["test"],
    params={
        "schedule_id": Param("", type="string"),
        "provider": Param("MICROSOFT", type="string"),
        "from_": Param("", type="string"),
        "to": Param("", type="string"),
        "poll": Param(2, type="number"),
        "detect_via_api": Param(False, type="boolean"),
        "timeout": Param(120, type="number"),
    },
    render_template_as_native_obj=True,
)
def wix_oauth_core() -> None:
    connect = ConnectByOAuthOperator(
        task_id="connect",
        schedule_id="{{ params.schedule_id }}",
        provider="{{ params.provider }}",
        detect_via_api=True,
    )
    wait = WixOAuthCallbackSensor(
        task_id="wait_for_owner",
        connect_task_id="connect",
        deferrable=True,
        # dag.test() runs the trigger inline until it fires, so the safety poll decides the pace here.
        poke_interval=2,
        timeout=120,
        retries=1,
        retry_delay=0,
    )
    connections = ListConnectionsOperator(task_id="list_connections", schedule_ids=["{{ params.schedule_id }}"])
    configure = UpdateSyncConfigOperator(
        task_id="update_sync_config",
        connection_id=wait.output,
        import_from="primary",
        export_to="dedicated",
        provider="{{ params.provider }}",
    )
    synced = WixConnectionStatusSensor(
        task_id="wait_synced", connection_id=wait.output, deferrable=True, poke_interval=1, timeout=60
    )
    events = ListEventsOperator(
        task_id="list_events",
        from_="{{ params.from_ }}",
        to="{{ params.to }}",
        schedule_ids=["{{ params.schedule_id }}"],
    )
    connect >> wait >> connections >> configure >> synced >> events


wix_oauth_core()
