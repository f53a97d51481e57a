"""Test DAG: one run through the read, sync-config, disconnect and event operators.

Inputs come from ``dag_run.conf`` (see ``tests/operators/test_external_calendars_operators.py``). The DAG
has a data-interval timetable so that the export tasks use the run's data interval as their window.
List arguments are templated as text on purpose (``"{{ params.x }}"`` renders a list's repr), which the
operators must read back as lists.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_wix.operators.external_calendars import (
    DisconnectOperator,
    GetConnectionOperator,
    ListCalendarsOperator,
    ListConnectionsOperator,
    ListEventsOperator,
    ListProvidersOperator,
    UpdateSyncConfigOperator,
)

with DAG(
    dag_id="wix_operators_tour",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    # Only ever run by dag.test(); paused where a scheduler parses tests/dags (the production-topology
    # tests), so its daily schedule cannot start a run there that calls (and disconnects in) their emulator.
    is_paused_upon_creation=True,
    tags=["test"],
    params={
        "google_connection_id": Param(None, type=["null", "string"]),
        "ms_connection_id": Param(None, type=["null", "string"]),
        "spare_connection_id": Param(None, type=["null", "string"]),
        "schedule_ids": Param(None, type=["null", "array"]),
        "statuses": Param(None, type=["null", "array"]),
        "provider": Param(None, type=["null", "string"]),
        "calendar_ids": Param(None, type=["null", "array"]),
        "google_schedule_id": Param(None, type=["null", "string"]),
        "from": Param(None, type=["null", "string"]),
        "to": Param(None, type=["null", "string"]),
        "output_path": Param(None, type=["null", "string"]),
        "output_url": Param(None, type=["null", "string"]),
    },
):
    list_providers = ListProvidersOperator(task_id="list_providers")
    get_connection = GetConnectionOperator(task_id="get_connection", connection_id="{{ params.ms_connection_id }}")
    list_connections = ListConnectionsOperator(task_id="list_connections", schedule_ids="{{ params.schedule_ids }}")
    list_connections_filtered = ListConnectionsOperator(
        task_id="list_connections_filtered",
        statuses="{{ params.statuses }}",
        provider="{{ params.provider }}",
    )
    list_calendars = ListCalendarsOperator(task_id="list_calendars", connection_id="{{ params.ms_connection_id }}")
    update_ms = UpdateSyncConfigOperator(
        task_id="update_ms",
        connection_id="{{ params.ms_connection_id }}",
        import_from="{{ params.calendar_ids }}",
        export_to="dedicated",
    )
    update_google_skip = UpdateSyncConfigOperator(
        task_id="update_google_skip",
        connection_id="{{ params.google_connection_id }}",
        import_from="primary",
        provider="google",  # known provider: no Get Connection needed for the check
        skip_if_unsupported=True,
    )
    update_google_unchecked = UpdateSyncConfigOperator(
        task_id="update_google_unchecked",
        connection_id="{{ params.google_connection_id }}",
        import_from="primary",
        check_provider_features=False,  # Wix answers 428 NOT_SUPPORTED_BY_PROVIDER instead
        skip_if_unsupported=True,
    )
    update_google_fail = UpdateSyncConfigOperator(
        task_id="update_google_fail",
        connection_id="{{ params.google_connection_id }}",
        sync_config={"listEventFromCalendars": {"enabled": True, "primaryCalendar": {}}},
    )
    list_events = ListEventsOperator(
        task_id="list_events",
        from_="{{ params['from'] }}",
        to="{{ params.to }}",
        schedule_ids="{{ params.google_schedule_id }}",
        all_day="false",
        fieldsets=["OWN_PI"],
    )
    export_events = ListEventsOperator(task_id="export_events", output_path="{{ params.output_path }}", page_size=4)
    export_events_again = ListEventsOperator(
        task_id="export_events_again", output_path="{{ params.output_url }}", page_size=4
    )
    too_many_events = ListEventsOperator(task_id="too_many_events", max_xcom_events=5)
    disconnect = DisconnectOperator(task_id="disconnect", connection_id="{{ params.spare_connection_id }}")
    disconnect_again = DisconnectOperator(
        task_id="disconnect_again",
        connection_id="{{ params.spare_connection_id }}",
        ignore_already_disconnected=True,
    )
    disconnect_strict = DisconnectOperator(
        task_id="disconnect_strict", connection_id="{{ params.spare_connection_id }}"
    )

    [get_connection, list_calendars] >> update_ms >> [list_events, export_events, too_many_events]
    export_events >> export_events_again
    disconnect >> disconnect_again >> disconnect_strict
