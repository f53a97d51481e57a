"""The OAuth onboarding core, built once for two DAGs: connect -> wait for the owner -> configure ->
wait until SYNCED -> list events.

``wix_oauth_core`` is the acceptance run of issue 4 under ``dag.test()``. ``wix_secrets_audit`` is
the same chain handling every secret the provider knows, for the secrets and state audit: app OAuth
(client secret, minted tokens) for the onboarding, an API key for the event export, an Apple
app-specific password for Connect By Credentials, and an OAuth state whose flow id reaches the
sensor through a rendered template field. Both sensors retry once, so a Wix ``internal`` error
exercises the path that sends the redirect URL (with the state) to Wix again.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG, Param, chain

from airflow_provider_wix.operators.external_calendars import (
    ConnectByCredentialsOperator,
    ConnectByOAuthOperator,
    ListConnectionsOperator,
    ListEventsOperator,
    UpdateSyncConfigOperator,
)
from airflow_provider_wix.sensors.external_calendars import WixConnectionStatusSensor, WixOAuthCallbackSensor

#: The audit's connections: app OAuth (the default), an API key and Apple credentials.
APP_CONN_ID = "wix_default"
API_KEY_CONN_ID = "wix_audit_api_key"
APPLE_CONN_ID = "wix_audit_apple"

START = pendulum.datetime(2026, 1, 1, tz="UTC")
WINDOW = {"from_": Param("", type="string"), "to": Param("", type="string"), "poll": Param(2, type="number")}


def onboarding_chain(
    *,
    provider: str,
    wait: dict[str, Any],
    between: list[Any] | None = None,
    synced_timeout: int,
    events_conn_id: str = APP_CONN_ID,
    detect_via_api: bool = False,
) -> tuple[ConnectByOAuthOperator, ListEventsOperator]:
    """connect >> wait_for_owner >> [between] >> update_sync_config >> wait_synced >> list_events."""
    connect = ConnectByOAuthOperator(
        task_id="connect", schedule_id="{{ params.schedule_id }}", provider=provider, detect_via_api=detect_via_api
    )
    owner = WixOAuthCallbackSensor(
        task_id="wait_for_owner", deferrable=True, poke_interval=2, retries=1, retry_delay=0, **wait
    )
    configure = UpdateSyncConfigOperator(
        task_id="update_sync_config",
        connection_id=owner.output,
        import_from="primary",
        export_to="dedicated",
        provider=provider,
    )
    synced = WixConnectionStatusSensor(
        task_id="wait_synced", connection_id=owner.output, deferrable=True, poke_interval=1, timeout=synced_timeout
    )
    events = ListEventsOperator(
        task_id="list_events",
        from_="{{ params.from_ }}",
        to="{{ params.to }}",
        schedule_ids=["{{ params.schedule_id }}"],
        wix_conn_id=events_conn_id,
    )
    chain(connect, owner, *(between or []), configure, synced, events)
    return connect, events


def _test_dag(dag_id: str, params: dict[str, Any], **kwargs: Any) -> DAG:
    return DAG(dag_id=dag_id, schedule=None, start_date=START, catchup=False, tags=["test"], params=params, **kwargs)


with _test_dag(
    "wix_oauth_core",
    {
        "schedule_id": Param("", type="string"),
        "provider": Param("MICROSOFT", type="string"),
        **WINDOW,
        "detect_via_api": Param(False, type="boolean"),
        "timeout": Param(120, type="number"),
    },
    render_template_as_native_obj=True,
):
    connections = ListConnectionsOperator(task_id="list_connections", schedule_ids=["{{ params.schedule_id }}"])
    onboarding_chain(
        provider="{{ params.provider }}",
        # dag.test() runs the trigger inline until it fires, so the safety poll decides the pace here.
        wait={"connect_task_id": "connect", "timeout": 120},
        between=[connections],
        synced_timeout=60,
        detect_via_api=True,
    )

with _test_dag(
    "wix_secrets_audit",
    {"schedule_id": Param("", type="string"), "apple_schedule_id": Param("", type="string"), **WINDOW},
):
    onboarding_chain(
        provider="MICROSOFT",
        # The flow id as a rendered template field: the audit checks that it is the digest only.
        wait={"flow_id": "{{ ti.xcom_pull(task_ids='connect', key='flow_id') }}", "timeout": 240},
        synced_timeout=120,
        events_conn_id=API_KEY_CONN_ID,
    )
    ConnectByCredentialsOperator(
        task_id="connect_apple",
        schedule_id="{{ params.apple_schedule_id }}",
        credentials_conn_id=APPLE_CONN_ID,
        provider="apple",
        wix_conn_id=API_KEY_CONN_ID,
    )
