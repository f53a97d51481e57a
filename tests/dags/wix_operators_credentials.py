"""Test DAG: Connect By Credentials with the Apple ID and app-specific password from Airflow connections."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_wix.operators.external_calendars import (
    ConnectByCredentialsOperator,
    GetConnectionOperator,
)

with DAG(
    dag_id="wix_operators_credentials",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["test"],
    params={"schedule_id": Param(None, type=["null", "string"])},
):
    connect = ConnectByCredentialsOperator(
        task_id="connect",
        schedule_id="{{ params.schedule_id }}",
        credentials_conn_id="wix_test_apple",
        provider="apple",
    )
    # No provider given: the site's only provider that accepts credentials (Apple) is used.
    connect_wrong_password = ConnectByCredentialsOperator(
        task_id="connect_wrong_password",
        schedule_id="{{ params.schedule_id }}",
        credentials_conn_id="wix_test_apple_wrong",
    )
    get_connection = GetConnectionOperator(
        task_id="get_connection", connection_id="{{ ti.xcom_pull(task_ids='connect')['id'] }}"
    )

    connect >> get_connection
