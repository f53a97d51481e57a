"""The example DAGs load cleanly, fast and offline, and their trigger forms validate input."""

from __future__ import annotations

import copy
import socket
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import EXAMPLE_DAGS

EXAMPLE_DAG_IDS = {"wix_calendar_onboarding", "wix_bulk_onboarding", "wix_calendar_events_sync"}


@pytest.fixture(scope="module")
def dagbag():
    from airflow_provider_wix.version_compat import dag_bag

    return dag_bag(str(EXAMPLE_DAGS))


def test_all_example_dags_load_without_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == EXAMPLE_DAG_IDS
    for stat in dagbag.dagbag_stats:
        print(f"parsed {stat.file} in {stat.duration.total_seconds() * 1000:.0f} ms ({stat.task_num} tasks)")


@pytest.mark.parametrize("dag_id", sorted(EXAMPLE_DAG_IDS))
def test_every_example_dag_is_documented_tagged_and_retried(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    assert dag.doc_md and len(dag.doc_md) > 300
    assert {"wix", "example"} <= set(dag.tags)
    assert dag.default_args["retries"] >= 1


def test_parsing_makes_no_network_calls(monkeypatch):
    """DAG files are parsed often, by every component: nothing at module level may reach out."""
    from airflow_provider_wix.version_compat import dag_bag

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access while parsing: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    bag = dag_bag(str(EXAMPLE_DAGS))
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == EXAMPLE_DAG_IDS


def test_cold_parse_time_in_a_fresh_interpreter():
    """Measured, not asserted: what a dag-processor pays per file, imports included."""
    script = textwrap.dedent(
        f"""
        import time
        start = time.perf_counter()
        from airflow_provider_wix.version_compat import dag_bag
        airflow_loaded = time.perf_counter()
        bag = dag_bag({str(EXAMPLE_DAGS)!r})
        assert not bag.import_errors, bag.import_errors
        print(f"airflow import {{(airflow_loaded - start) * 1000:.0f}} ms")
        for stat in bag.dagbag_stats:
            print(f"{{stat.file}} {{stat.duration.total_seconds() * 1000:.0f}} ms")
        """
    )
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True).stdout
    print(out)
    assert all(name in out for name in ("wix_calendar_onboarding.py", "wix_bulk_onboarding.py"))


def validated(dag, conf):
    """Resolve the trigger form's params with ``conf`` the way a triggered run does."""
    params = copy.deepcopy(dag.params)
    params.update(conf)
    return params.validate()


@pytest.mark.parametrize(
    ("conf", "valid"),
    [
        ({"schedule_id": "89e20858-bfa1-462b-b813-074fb1e4d62f"}, True),
        ({"schedule_id": "89e20858-bfa1-462b-b813-074fb1e4d62f", "provider": "Microsoft"}, True),
        # A malformed id passes the form and fails resolve_schedule with a sentence (test_onboarding_dag).
        ({"schedule_id": "not-a-guid"}, True),
        # A person instead of a schedule; "neither" passes the form and fails in resolve_schedule,
        # since a form cannot require one of two fields (see test_staff_discovery_dags).
        ({"staff_member": "maria.garcia@example.com"}, True),
        ({"schedule_id": "89e20858-bfa1-462b-b813-074fb1e4d62f", "import_calendars": None}, True),
        ({"schedule_id": "89e20858-bfa1-462b-b813-074fb1e4d62f", "apple_credentials_conn_id": None}, True),
        ({"schedule_id": "89e20858-bfa1-462b-b813-074fb1e4d62f", "provider": "Yahoo"}, False),
        ({"schedule_id": "89e20858-bfa1-462b-b813-074fb1e4d62f", "export": "somewhere"}, False),
        ({"schedule_id": "89e20858-bfa1-462b-b813-074fb1e4d62f", "days_ahead": 0}, False),
        ({"schedule_id": "89e20858-bfa1-462b-b813-074fb1e4d62f", "import_calendars": "Work"}, False),
    ],
)
def test_onboarding_trigger_form_validates_the_params(dagbag, conf, valid):
    from airflow_provider_wix.version_compat import ParamValidationError

    dag = dagbag.dags["wix_calendar_onboarding"]
    if valid:
        resolved = validated(dag, conf)
        assert all(resolved[name] == value for name, value in conf.items())
    else:
        with pytest.raises(ParamValidationError):
            validated(dag, conf)


def test_onboarding_form_marks_only_what_every_run_needs_as_required(dagbag):
    """Airflow's form stars every field whose type does not allow null; optional ones must allow it."""
    params = dagbag.dags["wix_calendar_onboarding"].params
    optional = {"import_calendars", "apple_credentials_conn_id"}
    for name in optional:
        assert "null" in params.get_param(name).schema["type"], name
    assert "pattern" not in params.get_param("schedule_id").schema  # no raw regex shown to people
    assert "List Providers" not in (params.get_param("provider").description or "")
    assert "where to find it" in (params.get_param("schedule_id").description or "").lower()


@pytest.mark.parametrize(("hours", "valid"), [(0.002, True), (72, True), (0, False), (200, False)])
def test_bulk_owner_wait_is_bounded_by_the_link_lifetime(dagbag, hours, valid):
    from airflow_provider_wix.version_compat import ParamValidationError

    dag = dagbag.dags["wix_bulk_onboarding"]
    if valid:
        assert validated(dag, {"owner_wait_hours": hours})["owner_wait_hours"] == hours
    else:
        with pytest.raises(ParamValidationError):
            validated(dag, {"owner_wait_hours": hours})
