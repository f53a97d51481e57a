"""Test DAG: every task has an argument that can never work; none may send a request to Wix.

``schedule=None``: a manual run has an empty data interval, so ``list_events_no_window`` has no window.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_wix.operators.external_calendars import (
    ConnectByCredentialsOperator,
    DisconnectOperator,
    GetConnectionOperator,
    ListConnectionsOperator,
    ListEventsOperator,
    UpdateSyncConfigOperator,
)

with DAG(
    dag_id="wix_operators_bad_input",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["test"],
):
    ListConnectionsOperator(task_id="list_connections_bad_guid", schedule_ids=["not-a-guid"])
    ListConnectionsOperator(task_id="list_connections_bad_status", statuses="SYNCED,BROKEN")
    GetConnectionOperator(task_id="get_connection_bad_id", connection_id="has a space")
    ListEventsOperator(task_id="list_events_backwards", from_="2026-10-12T00:00:00Z", to="2026-10-05T00:00:00Z")
    ListEventsOperator(task_id="list_events_naive_time", from_="2026-10-05 00:00:00", to="2026-10-12T00:00:00Z")
    ListEventsOperator(task_id="list_events_no_window")
    ConnectByCredentialsOperator(
        task_id="connect_bad_schedule", schedule_id="not-a-guid", credentials_conn_id="wix_test_apple"
    )
    UpdateSyncConfigOperator(
        task_id="update_bad_nesting",
        connection_id="abc123",
        sync_config={"listEventFromCalendars": {"enabled": True, "calendars": [{"id": "x"}]}},
    )
    DisconnectOperator(task_id="disconnect_empty_id", connection_id="")
