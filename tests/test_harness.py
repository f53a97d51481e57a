from __future__ import annotations

from tests.conftest import run_dag, task_states, xcom_value


def test_dag_test_harness_runs_a_dag_and_reads_xcom(airflow_db):
    dr = run_dag("smoke_dag")
    assert str(dr.state) == "success"
    assert task_states(dr) == {"hello": "success"}
    assert xcom_value(dr, "hello") == {"x": 1}
