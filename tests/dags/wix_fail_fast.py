"""Test DAG: settings and arguments that retrying cannot fix; every task must fail at once, unsent.

Each task has ``retries=2``: a task that fails with a retryable error shows up as retried. The
``wix_cb_*`` connections (set by the test) hold one malformed ``callback_base_url`` each.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG

from airflow_provider_wix.operators.external_calendars import ConnectByOAuthOperator, UpdateSyncConfigOperator
from airflow_provider_wix.sensors.external_calendars import WixOAuthCallbackSensor

SCHEDULE_ID = "89e20858-bfa1-462b-b813-074fb1e4d62f"
#: Connection id suffix -> the malformed callback_base_url the test stores in it.
BAD_CALLBACK_URLS = {
    "no_scheme": "airflow.example.com",
    "host_port": "airflow.example.com:8443",
    "typo_scheme": "htps://airflow.example.com",
    "query_fragment": "https://airflow.example.com/base?x=1#frag",
}
#: More calendars than any sync config may import from.
TOO_MANY_CALENDARS = 20_000

with DAG(
    dag_id="wix_fail_fast",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    default_args={"retries": 2, "retry_delay": timedelta(0)},
    tags=["test"],
):
    for name in BAD_CALLBACK_URLS:
        # provider= needs List Providers: the callback URL must be refused before that request.
        ConnectByOAuthOperator(
            task_id=f"connect_callback_{name}", schedule_id=SCHEDULE_ID, provider="GOOGLE", wix_conn_id=f"wix_cb_{name}"
        )
    ConnectByOAuthOperator(
        task_id="connect_no_callback_url", schedule_id=SCHEDULE_ID, provider="GOOGLE", wix_conn_id="wix_cb_none"
    )
    WixOAuthCallbackSensor(task_id="wait_malformed_state", flow_id="not-a-flow-id", poke_interval=1, timeout=5)
    UpdateSyncConfigOperator(
        task_id="update_too_many_calendars",
        connection_id="abc123",
        import_from=",".join(f"calendar-{i}" for i in range(TOO_MANY_CALENDARS)),
        provider="MICROSOFT",
    )
