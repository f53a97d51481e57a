"""Several tasks of one run, each in its own task process, calling Wix with app OAuth."""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task


@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False, tags=["test"])
def wix_token_sharing() -> None:
    @task
    def call_wix(step: int) -> int:
        from airflow_provider_wix.hooks.wix import WixHook

        return len(WixHook().list_providers())

    previous = None
    for step in range(3):
        current = call_wix.override(task_id=f"call_{step}")(step)
        if previous is not None:
            previous >> current
        previous = current


wix_token_sharing()
