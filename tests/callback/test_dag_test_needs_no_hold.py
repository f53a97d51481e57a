"""Under ``dag.test()`` the provider's triggers do not hold an early event.

There the trigger runs inline after the task returned and no executor reports a worker's exit, so the
resume-too-soon race of ``callback.wake`` cannot happen; holding would only add the trigger's 60 s
fallback wait to every local test run of a DAG whose owner answers at once.
"""

from __future__ import annotations

from airflow_provider_wix.version_compat import runs_in_dag_test
from tests.conftest import run_dag, xcom_value


def test_a_task_run_by_dag_test_knows_it_and_other_code_does_not(airflow_db):
    run = run_dag("wix_runs_in_dag_test")

    assert run.state == "success"
    assert xcom_value(run, "where") is True
    assert runs_in_dag_test() is False
