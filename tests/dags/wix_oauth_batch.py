"""The batch onboarding pieces (connect, wait, configure a batch of schedules) for ``dag.test()`` runs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG, BaseNotifier

from airflow_provider_wix.operators.external_calendars import (
    BatchConnectByOAuthOperator,
    BatchUpdateSyncConfigOperator,
)
from airflow_provider_wix.sensors.external_calendars import WixOAuthCallbackBatchSensor


class DieOnce(BaseNotifier):
    """Kills the first try of the task at the owner ``params.die_at`` (a worker lost mid-batch)."""

    def notify(self, context: Any) -> None:
        if context["wix_schedule_id"] == context["params"]["die_at"] and context["ti"].try_number == 1:
            raise SystemExit(1)


with DAG(
    dag_id="wix_oauth_batch",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["test"],
    render_template_as_native_obj=True,
    params={"schedules": [], "providers": {}, "die_at": "", "wait_seconds": 60},
    default_args={"retries": 1, "retry_delay": timedelta(0)},
):
    connect = BatchConnectByOAuthOperator(task_id="connect", schedules="{{ params.schedules }}", notifier=DieOnce())
    # No safety poll during the test: only the callback route's listing can end the wait early.
    wait = WixOAuthCallbackBatchSensor(
        task_id="wait_for_owners", connect_task_id="connect", poke_interval=3600, check_interval=0.5, timeout=20
    )
    connect >> wait
    BatchUpdateSyncConfigOperator(
        task_id="configure_sync", outcomes=wait.output, providers="{{ params.providers }}", import_from="primary"
    )
