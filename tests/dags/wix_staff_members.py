"""ListStaffMembersOperator in a real run: everyone, a name filter, and a bad argument."""

from __future__ import annotations

import pendulum
from airflow.sdk import dag

from airflow_provider_wix.operators.staff_members import ListStaffMembersOperator


@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False, default_args={"retries": 0})
def wix_staff_members() -> None:
    ListStaffMembersOperator(task_id="service_providers", page_size=2)
    ListStaffMembersOperator(task_id="everyone", service_providers="None")
    ListStaffMembersOperator(task_id="by_name", names="{{ params.names }}", params={"names": ["John Smith"]})
    ListStaffMembersOperator(task_id="bad_time", changed_since="yesterday")


wix_staff_members()
