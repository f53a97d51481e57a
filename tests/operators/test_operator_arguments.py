"""Operator construction and argument normalisation: static checks that fail at DAG parse time."""

from __future__ import annotations

import json

import pytest

from airflow_provider_wix.client.validation import MAX_PAGE_SIZE
from airflow_provider_wix.operators.external_calendars import (
    BatchUpdateSyncConfigOperator,
    ConnectByCredentialsOperator,
    DisconnectOperator,
    GetConnectionOperator,
    ListCalendarsOperator,
    ListConnectionsOperator,
    ListEventsOperator,
    ListProvidersOperator,
    UpdateSyncConfigOperator,
)
from airflow_provider_wix.utils.templated_arguments import as_optional_bool, as_str_list
from airflow_provider_wix.version_compat import AirflowFailException


@pytest.mark.parametrize(
    ("operator", "fields"),
    [
        (ListProvidersOperator, {"wix_conn_id"}),
        (GetConnectionOperator, {"connection_id", "wix_conn_id"}),
        (ListConnectionsOperator, {"schedule_ids", "statuses", "provider", "wix_conn_id"}),
        (
            ConnectByCredentialsOperator,
            {"schedule_id", "credentials_conn_id", "provider_id", "provider", "email", "wix_conn_id"},
        ),
        (ListCalendarsOperator, {"connection_id", "wix_conn_id"}),
        (
            UpdateSyncConfigOperator,
            {"connection_id", "sync_config", "import_from", "export_to", "provider", "wix_conn_id"},
        ),
        (DisconnectOperator, {"connection_id", "wix_conn_id"}),
        (
            ListEventsOperator,
            {"from_", "to", "schedule_ids", "user_ids", "all_day", "fieldsets", "output_path", "wix_conn_id"},
        ),
    ],
)
def test_template_fields(operator, fields):
    assert set(operator.template_fields) == fields
    assert "password" not in operator.template_fields


def test_credentials_password_cannot_be_an_argument():
    with pytest.raises(TypeError, match="password"):
        ConnectByCredentialsOperator(task_id="t", schedule_id="x", credentials_conn_id="c", password="hunter2")


def test_credentials_provider_and_provider_id_are_exclusive():
    with pytest.raises(ValueError, match="at most one"):
        ConnectByCredentialsOperator(
            task_id="t", schedule_id="x", credentials_conn_id="c", provider="apple", provider_id="y"
        )


def test_update_sync_config_needs_exactly_one_form():
    with pytest.raises(ValueError, match="not both"):
        UpdateSyncConfigOperator(
            task_id="t",
            connection_id="c",
            sync_config={"syncToCalendar": {"enabled": False}},
            export_to="primary",
        )
    with pytest.raises(ValueError, match="Pass sync_config"):
        UpdateSyncConfigOperator(task_id="t", connection_id="c")


def test_batch_sync_config_refuses_to_fail_the_batch_for_an_unsupported_provider():
    """It reports such a schedule skipped; a switched-off skip_if_unsupported is refused, not ignored."""
    with pytest.raises(ValueError, match="skip_if_unsupported cannot be switched off"):
        BatchUpdateSyncConfigOperator(task_id="t", outcomes={}, export_to="primary", skip_if_unsupported=False)
    batch = BatchUpdateSyncConfigOperator(task_id="t", outcomes={}, export_to="primary", skip_if_unsupported=True)
    assert batch.skip_if_unsupported is True


@pytest.mark.parametrize("page_size", [0, MAX_PAGE_SIZE + 1, True, 10.0])
def test_list_events_page_size_is_checked_at_parse_time(page_size):
    with pytest.raises(ValueError, match="page_size"):
        ListEventsOperator(task_id="t", page_size=page_size)


@pytest.mark.parametrize("page_size", [1, MAX_PAGE_SIZE])
def test_list_events_takes_every_page_size_the_client_takes(page_size):
    # The constructor checks the usual case itself (no client import at parse time): same range as the client.
    assert ListEventsOperator(task_id="t", page_size=page_size).page_size == page_size


@pytest.mark.parametrize("limit", [-1, 1.5, True])
def test_list_events_max_xcom_events_is_checked_at_parse_time(limit):
    with pytest.raises(ValueError, match="max_xcom_events"):
        ListEventsOperator(task_id="t", max_xcom_events=limit)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("None", None),
        ("", None),
        ("['a', 'b']", ["a", "b"]),
        ('["a", "b"]', ["a", "b"]),
        ("a, b", ["a", "b"]),
        ("a", ["a"]),
        ([], []),
        ("[]", []),
        (("a",), ["a"]),
    ],
)
def test_templated_lists_are_read_back(value, expected):
    assert as_str_list(value, "ids") == expected


def test_unreadable_templated_list_fails_without_retry():
    with pytest.raises(AirflowFailException, match="ids"):
        as_str_list("[not, valid", "ids")
    with pytest.raises(AirflowFailException, match="ids"):
        as_str_list({"a": 1}, "ids")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("None", None), (True, True), ("true", True), ("False", False), (False, False)],
)
def test_templated_booleans_are_read_back(value, expected):
    assert as_optional_bool(value, "all_day") is expected


def test_bad_templated_boolean_fails():
    with pytest.raises(AirflowFailException, match="all_day"):
        as_optional_bool("maybe", "all_day")


def _events(n: int, fail_after: int | None = None):
    for i in range(n):
        if fail_after is not None and i == fail_after:
            raise RuntimeError("Wix went away")
        yield {"scheduleId": "s", "start": f"2026-10-05T00:{i:02d}:00.000Z", "title": "Café"}


@pytest.mark.parametrize("kind", ["local", "object_storage"])
def test_json_lines_failure_keeps_the_previous_file_and_leaves_no_partial_file(tmp_path, kind):
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_wix.utils.json_lines import write_json_lines

    local = tmp_path / "out" / "events.jsonl"
    target = local if kind == "local" else ObjectStoragePath(local.as_uri())
    assert write_json_lines(target, ([e] for e in _events(3))) == 3  # creates the missing directory
    first = local.read_text(encoding="utf-8")
    assert [json.loads(line)["title"] for line in first.splitlines()] == ["Café"] * 3

    with pytest.raises(RuntimeError, match="went away"):
        write_json_lines(target, ([e] for e in _events(10, fail_after=5)))
    assert local.read_text(encoding="utf-8") == first
    assert [p.name for p in local.parent.iterdir()] == ["events.jsonl"]

    assert write_json_lines(target, [list(_events(2))]) == 2  # a re-run replaces, never appends
    assert len(local.read_text(encoding="utf-8").splitlines()) == 2


APPLE = {
    "id": "0a5d1f33-0b1a-4a7c-9c7e-3c1b0b3e6a11",
    "name": "Apple Calendar",
    "calendarType": "I_CAL",
    "features": {"connectMethods": ["CREDENTIALS"]},
}


def test_a_provider_object_is_checked_without_asking_wix():
    from airflow_provider_wix.operators.external_calendars import ConnectByOAuthOperator

    op = ConnectByOAuthOperator(task_id="connect", schedule_id="{{ params.s }}", provider=APPLE)
    with pytest.raises(AirflowFailException, match=r"cannot be connected by OAUTH \(it supports CREDENTIALS\)"):
        op.resolve_provider(APPLE, method="OAUTH")
    assert op.resolve_provider(APPLE, method="CREDENTIALS") is APPLE
    with pytest.raises(Exception, match=r"provider\['id'\]"):
        op.resolve_provider({**APPLE, "id": "not-a-guid"}, method="CREDENTIALS")
    assert "hook" not in op.__dict__  # no hook was built: nothing was sent
