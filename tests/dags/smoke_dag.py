from __future__ import annotations

import pendulum
from airflow.sdk import dag, task


@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1), catchup=False, tags=["test"])
def smoke_dag() -> None:
    @task
    def hello() -> dict[str, int]:
        return {"x": 1}

    hello()


smoke_dag()
