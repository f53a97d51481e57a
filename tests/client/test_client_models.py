"""Sync-config builders produce the documented JSON; capability checks and provider lookup."""

from __future__ import annotations

import pytest

from airflow_provider_wix.client import (
    CalendarType,
    ConnectionStatus,
    OAuthCallbackError,
    WixInvalidRequestError,
    build_sync_config,
    ensure_sync_supported,
    find_provider,
    unsupported_sync_reason,
)
from tests.client.wix_client_support import example

PROVIDERS = example("list-providers.response")["providers"]
GOOGLE, APPLE, MICROSOFT = PROVIDERS


def test_builder_matches_the_documented_update_request():
    config = build_sync_config(["x4hh5344tfjgvq4k7bn7xj8b7", "g4zdmen2khvdgaj8gxbenyjqw"], "dedicated")
    assert {"syncConfig": config} == example("update-sync-config.request")


@pytest.mark.parametrize(
    ("import_from", "export_to", "expected"),
    [
        (
            "primary",
            None,
            {"listEventFromCalendars": {"enabled": True, "primaryCalendar": {}}, "syncToCalendar": {"enabled": False}},
        ),
        (
            None,
            "primary",
            {"listEventFromCalendars": {"enabled": False}, "syncToCalendar": {"enabled": True, "primaryCalendar": {}}},
        ),
        (
            ("a", "b", "a"),
            "DEDICATED",
            {
                "listEventFromCalendars": {"enabled": True, "calendars": {"calendars": [{"id": "a"}, {"id": "b"}]}},
                "syncToCalendar": {"enabled": True, "dedicatedCalendar": {}},
            },
        ),
        (None, None, {"listEventFromCalendars": {"enabled": False}, "syncToCalendar": {"enabled": False}}),
    ],
)
def test_builder_shapes(import_from, export_to, expected):
    assert build_sync_config(import_from, export_to) == expected


@pytest.mark.parametrize(
    ("import_from", "export_to"),
    [("work", None), ([], None), ([""], None), (None, "specific"), (None, "Work calendar")],
)
def test_builder_rejects_unknown_modes(import_from, export_to):
    with pytest.raises(WixInvalidRequestError):
        build_sync_config(import_from, export_to)


@pytest.mark.parametrize(
    ("provider", "config", "reason"),
    [
        (GOOGLE, build_sync_config("primary"), "does not allow changing the sync config"),
        (MICROSOFT, build_sync_config(["a"], "dedicated"), None),
        (APPLE, build_sync_config("primary", "dedicated"), None),
        (APPLE, build_sync_config("primary", "primary"), None),  # DEDICATED_CALENDAR does not say "only"
        (
            {"name": "Acme", "features": {"listEventFromCalendars": "NOT_SUPPORTED"}},
            build_sync_config("primary"),
            "cannot import",
        ),
        (
            {"name": "Acme", "features": {"listEventFromCalendars": "PRIMARY_CALENDAR_ONLY"}},
            build_sync_config(["a"]),
            "only from the primary calendar",
        ),
        (
            {"name": "Acme", "features": {"syncToCalendar": "NOT_SUPPORTED"}},
            build_sync_config(None, "primary"),
            "cannot export",
        ),
        (
            {"name": "Acme", "features": {"syncToCalendar": "PRIMARY_CALENDAR_ONLY"}},
            build_sync_config(None, "dedicated"),
            "only to the primary calendar",
        ),
        ({"name": "Acme", "features": {"syncToCalendar": "NOT_SUPPORTED"}}, build_sync_config("primary"), None),
        ({"name": "Unknown"}, build_sync_config(["a"], "dedicated"), None),
    ],
)
def test_unsupported_sync_reason(provider, config, reason):
    found = unsupported_sync_reason(provider, config)
    if reason is None:
        assert found is None
    else:
        assert reason in found
        assert provider["name"] in found
        with pytest.raises(WixInvalidRequestError, match=reason):
            ensure_sync_supported(provider, config)


def test_google_default_sync_is_fine_when_not_updating():
    assert unsupported_sync_reason(GOOGLE, build_sync_config("primary"), updating=False) is None
    assert "only from the primary" in unsupported_sync_reason(GOOGLE, build_sync_config(["a"]), updating=False)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("google", GOOGLE),
        ("GOOGLE", GOOGLE),
        ("Google Calendar", GOOGLE),
        (GOOGLE["id"].upper(), GOOGLE),
        ("apple", APPLE),
        ("I_CAL", APPLE),
        ("icloud", APPLE),
        ("microsoft", MICROSOFT),
        ("outlook", MICROSOFT),
        ("Office 365", MICROSOFT),
        ("outlook or office 365", MICROSOFT),
        ("  Apple Calendar ", APPLE),
    ],
)
def test_find_provider(key, expected):
    assert find_provider(PROVIDERS, key) is expected


def test_find_provider_matches_deprecated_microsoft_types():
    legacy = {"id": "x", "name": "Outlook", "calendarType": "OFFICE_365"}
    assert find_provider([GOOGLE, legacy], "microsoft") is legacy


def test_find_provider_unknown_lists_the_available_ones():
    with pytest.raises(WixInvalidRequestError) as info:
        find_provider(PROVIDERS, "yahoo")
    message = str(info.value)
    assert "yahoo" in message
    for provider in PROVIDERS:
        assert provider["name"] in message
        assert provider["id"] in message


def test_find_provider_ambiguous():
    twins = [{"id": "1", "name": "Acme Calendar"}, {"id": "2", "name": "Acme Calendar Pro"}]
    with pytest.raises(WixInvalidRequestError, match="ambiguous"):
        find_provider(twins, "acme")
    assert find_provider(twins, "acme calendar")["id"] == "1"  # an exact name wins


def test_enums_compare_with_wire_strings():
    assert CalendarType.GOOGLE == "GOOGLE"
    assert str(ConnectionStatus.SYNCED) == "SYNCED"
    assert {e.value for e in OAuthCallbackError} == {"reject", "unsupported", "internal"}
    assert example("get-connection.response")["connection"]["status"] == ConnectionStatus.CONNECTED
