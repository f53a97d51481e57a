"""Test DAG for the secrets and state audit: every secret the provider handles, in one run.

App OAuth (client secret, minted tokens) for the onboarding, an API key for the event export, an
Apple app-specific password for Connect By Credentials, and an OAuth state whose flow id reaches the
sensor through a rendered template field. The sensor retries once, so a Wix ``internal`` error
exercises the path that sends the redirect URL (with the state) to Wix again.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag

from airflow_provider_wix.operators.external_calendars import (
    ConnectByCredentialsOperator,
    ConnectByOAuthOperator,
    ListEventsOperator,
    UpdateSyncConfigOperator,
)
from airflow_provider_wix.sensors.external_calendars import WixConnectionStatusSensor, WixOAuthCallbackSensor

#: Connections the audit defines: app OAuth (the default) and an API key.
APP_CONN_ID = "wix_default"
API_KEY_CONN_ID = "wix_audit_api_key"
APPLE_CONN_ID = "wix_audit_apple"


@dag(
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["test"],
    params={
        "schedule_id": Param("", type="string"),
        "apple_schedule_id": Param("", type="string"),
        "from_": Param("", type="string"),
        "to": Param("", type="string"),
        "poll": Param(2, type="number"),
    },
)
def wix_secrets_audit() -> None:
    connect = ConnectByOAuthOperator(
        task_id="connect", schedule_id="{{ params.schedule_id }}", provider="MICROSOFT", wix_conn_id=APP_CONN_ID
    )
    wait = WixOAuthCallbackSensor(
        task_id="wait_for_owner",
        flow_id="{{ ti.xcom_pull(task_ids='connect', key='flow_id') }}",
        deferrable=True,
        poke_interval=2,
        timeout=240,
        retries=1,
        retry_delay=0,
        wix_conn_id=APP_CONN_ID,
    )
    configure = UpdateSyncConfigOperator(
        task_id="update_sync_config",
        connection_id=wait.output,
        import_from="primary",
        export_to="dedicated",
        provider="MICROSOFT",
        wix_conn_id=APP_CONN_ID,
    )
    synced = WixConnectionStatusSensor(
        task_id="wait_synced",
        connection_id=wait.output,
        deferrable=True,
        poke_interval=1,
        timeout=120,
        wix_conn_id=APP_CONN_ID,
    )
    events = ListEventsOperator(
        task_id="list_events",
        from_="{{ params.from_ }}",
        to="{{ params.to }}",
        schedule_ids=["{{ params.schedule_id }}"],
        wix_conn_id=API_KEY_CONN_ID,
    )
    ConnectByCredentialsOperator(
        task_id="connect_apple",
        schedule_id="{{ params.apple_schedule_id }}",
        credentials_conn_id=APPLE_CONN_ID,
        provider="apple",
        wix_conn_id=API_KEY_CONN_ID,
    )
    connect >> wait >> configure >> synced >> events


wix_secrets_audit()
