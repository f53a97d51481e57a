"""Dashboard rows name the provider and the owner from the flow record (plain Python, no Airflow)."""

from __future__ import annotations

from datetime import timedelta

from airflow_provider_wix.callback.state import FlowRecord
from airflow_provider_wix.dashboard.rows import UNKNOWN_PROVIDER, FlowEntry, LazyNames, build_rows

SCHEDULE_ID = "89e20858-bfa1-462b-b813-074fb1e4d62f"
GOOGLE_ID = "43e3a8b3-b1f6-4d3c-9c47-1ed6cd0b0d34"


def _pending(**names: str) -> FlowEntry:
    record = FlowRecord.issue(
        dag_id="d",
        run_id="r",
        task_id="t",
        map_index=-1,
        schedule_id=SCHEDULE_ID,
        provider_id=GOOGLE_ID,
        ttl=timedelta(days=1),
        **names,
    )
    return FlowEntry(flow_id="0" * 64, record=record)


def test_a_named_record_needs_no_look_up():
    (row,) = build_rows([_pending(provider_name="Google", owner_name="Ada Lovelace")], [])
    assert (row.provider, row.owner) == ("Google", "Ada Lovelace")


def test_an_older_record_is_named_by_the_look_ups_where_given():
    (row,) = build_rows([_pending()], [])
    assert (row.provider, row.owner) == (UNKNOWN_PROVIDER, None)  # the dashboard then asks Wix (cached)
    (row,) = build_rows([_pending()], [], provider_names={GOOGLE_ID: "Google"}, owner_names={SCHEDULE_ID: "Ada"})
    assert (row.provider, row.owner) == ("Google", "Ada")


def test_wix_is_asked_for_names_only_when_a_row_lacks_them():
    fetched: list[str] = []

    def look_up(kind: str, names: dict[str, str]) -> LazyNames:
        return LazyNames(lambda: fetched.append(kind) or names)

    providers, owners = look_up("providers", {GOOGLE_ID: "Google"}), look_up("owners", {SCHEDULE_ID: "Ada"})
    (row,) = build_rows(
        [_pending(provider_name="Google", owner_name="Ada Lovelace")], [], provider_names=providers, owner_names=owners
    )
    assert (row.provider, row.owner, fetched) == ("Google", "Ada Lovelace", [])

    (row,) = build_rows([_pending()], [], provider_names=providers, owner_names=owners)
    assert (row.provider, row.owner) == ("Google", "Ada")
    assert sorted(fetched) == ["owners", "providers"]  # each fetched once, on the first row that needed it
