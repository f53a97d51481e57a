"""One task that reports whether it runs in-process under ``dag.test()`` (tests/callback)."""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task


@dag(dag_id="wix_runs_in_dag_test", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"))
def wix_runs_in_dag_test() -> None:
    @task
    def where() -> bool:
        from airflow_provider_wix.version_compat import runs_in_dag_test

        return runs_in_dag_test()

    where()


wix_runs_in_dag_test()
