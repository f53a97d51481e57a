"""Bad arguments fail locally with a precise message, before anything is sent."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

import pendulum
import pytest

from airflow_provider_wix.client import WixInvalidRequestError
from airflow_provider_wix.client.validation import (
    format_timestamp,
    parse_timestamp,
    validate_guid_list,
    validate_sync_config,
)
from tests.client.wix_client_support import CONNECTION_ID, PROVIDER_ID, SCHEDULE_ID

GOOD_URL = "https://airflow.example.com/wix/oauth/callback/state"
WINDOW = ("2026-10-05T00:00:00Z", "2026-10-12T00:00:00Z")

BAD_CALLS = [
    ("get_connection", ("",), "connection_id"),
    ("get_connection", ("has space",), "connection_id"),
    ("get_connection", (None,), "connection_id"),
    ("list_calendars", ("  ",), "connection_id"),
    ("disconnect", ("",), "connection_id"),
    ("list_connections", (["not-a-guid"],), "schedule_ids"),
    ("list_connections", ([str(uuid.uuid4()) for _ in range(101)],), "at most 100"),
    ("connect_by_oauth", ("google", SCHEDULE_ID, GOOD_URL), "provider_id must be a GUID"),
    ("connect_by_oauth", (PROVIDER_ID, "123", GOOD_URL), "schedule_id must be a GUID"),
    ("connect_by_oauth", (PROVIDER_ID, SCHEDULE_ID, "/wix/oauth/callback"), "absolute http"),
    ("connect_by_oauth", (PROVIDER_ID, SCHEDULE_ID, "ftp://x.example/cb"), "absolute http"),
    ("connect_by_oauth", (PROVIDER_ID, SCHEDULE_ID, "https:///nohost"), "absolute http"),
    ("connect_by_oauth", (PROVIDER_ID, SCHEDULE_ID, "https://x.example/a b"), "absolute http"),
    ("connect_by_credentials", (PROVIDER_ID, SCHEDULE_ID, "jane", "pw"), "email"),
    ("connect_by_credentials", (PROVIDER_ID, SCHEDULE_ID, "jane@example.com", ""), "password"),
    ("connect_by_credentials", ("x", SCHEDULE_ID, "jane@example.com", "pw"), "provider_id"),
    ("update_sync_config", (CONNECTION_ID, {}), "listEventFromCalendars"),
    ("update_sync_config", (CONNECTION_ID, "primary"), "mapping"),
    ("update_sync_config", (CONNECTION_ID, {"syncConfig": {}}), "wrapper"),
    (
        "update_sync_config",
        (CONNECTION_ID, {"listEventFromCalendars": {"enabled": True, "calendars": [{"id": "a"}]}}),
        "double nesting",
    ),
    (
        "update_sync_config",
        (
            CONNECTION_ID,
            {"syncToCalendar": {"enabled": True, "primaryCalendar": {}, "dedicatedCalendar": {}}},
        ),
        "only one of",
    ),
    ("update_sync_config", (CONNECTION_ID, {"syncToCalendar": {"enabled": True}}), "sets none of"),
    ("list_events", ("2026-10-12T00:00:00Z", "2026-10-05T00:00:00Z"), "earlier than"),
    ("list_events", ("2026-10-05T00:00:00Z", "2026-10-05T00:00:00.0004Z"), "earlier than"),
    ("list_events", (datetime(2026, 10, 5), WINDOW[1]), "timezone-aware"),
    ("list_events", ("2026-10-05T00:00:00", WINDOW[1]), "RFC 3339"),
    ("list_events", ("2026-10-05", WINDOW[1]), "RFC 3339"),
    ("list_events", (date(2026, 10, 5), WINDOW[1]), "not the date"),
    ("list_events", (1_760_000_000, WINDOW[1]), "datetime or RFC 3339"),
    ("list_events", ("2026-13-05T00:00:00Z", WINDOW[1]), "RFC 3339"),
]


@pytest.mark.parametrize(("method", "args", "message"), BAD_CALLS)
def test_invalid_arguments_fail_before_any_request(scripted, client, method, args, message):
    # list_events fails when called: nothing to iterate, no request.
    with pytest.raises(WixInvalidRequestError, match=message):
        getattr(client, method)(*args)
    assert scripted.requests == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"page_size": 0},
        {"page_size": 1001},
        {"page_size": True},
        {"page_size": "10"},
        {"user_ids": ["nope"]},
        {"schedule_ids": [str(uuid.uuid4()) for _ in range(101)]},
        {"fieldsets": ["ALL_PI"]},
    ],
)
def test_iter_events_validates_when_called_not_when_iterated(scripted, client, kwargs):
    with pytest.raises(WixInvalidRequestError):
        client.iter_events(*WINDOW, **kwargs)  # no next(): the generator is never started
    assert scripted.requests == []


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (pendulum.datetime(2026, 10, 5, 9, 30, tz="Europe/Berlin"), "2026-10-05T07:30:00.000Z"),
        (datetime(2026, 10, 5, 0, 0, 0, 999999, tzinfo=timezone.utc), "2026-10-05T00:00:00.999Z"),
        (datetime(2026, 10, 5, tzinfo=timezone(timedelta(hours=-5))), "2026-10-05T05:00:00.000Z"),
        ("2026-10-05T00:00:00Z", "2026-10-05T00:00:00.000Z"),
        ("2026-10-05t00:00:00.1z", "2026-10-05T00:00:00.100Z"),
        ("2026-10-05T00:00:00.123456789+02:00", "2026-10-04T22:00:00.123Z"),
        ("2026-10-05 00:00:00-01:30", "2026-10-05T01:30:00.000Z"),
    ],
)
def test_timestamps_go_on_the_wire_as_utc_milliseconds(value, wire):
    assert format_timestamp(parse_timestamp(value, "from_")) == wire


def test_guid_list_accepts_a_single_id_and_uuid_objects_and_drops_duplicates():
    u = uuid.UUID(SCHEDULE_ID)
    assert validate_guid_list(SCHEDULE_ID, "schedule_ids") == [SCHEDULE_ID]
    assert validate_guid_list([u, SCHEDULE_ID.upper()], "schedule_ids") == [SCHEDULE_ID, SCHEDULE_ID.upper()]
    assert validate_guid_list([SCHEDULE_ID, SCHEDULE_ID], "schedule_ids") == [SCHEDULE_ID]
    assert validate_guid_list(None, "schedule_ids") == []
    assert len(validate_guid_list([str(uuid.uuid4()) for _ in range(100)], "ids")) == 100


def test_sync_config_tolerates_disabled_sides_and_extra_side_fields():
    config = {
        "listEventFromCalendars": {"enabled": False},
        "syncToCalendar": {"enabled": True, "dedicatedCalendar": {}, "includeBufferTime": True},
    }
    assert validate_sync_config(config) == config
