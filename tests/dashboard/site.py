"""A Wix site with one schedule in every state the dashboard shows, for the API and browser tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from airflow_provider_wix.client.models import OAuthCallbackError
from airflow_provider_wix.emulator.state import GOOGLE_PROVIDER_ID, MICROSOFT_PROVIDER_ID


@dataclass
class Site:
    """Schedule ids by the status their row should show, and the flow ids of the pending links."""

    schedules: dict[str, str] = field(default_factory=dict)
    flows: dict[str, str] = field(default_factory=dict)


def build_site(emulator: Any, seed_flow: Callable[..., str]) -> Site:
    state = emulator.state
    site = Site()

    def schedule(status: str) -> str:
        schedule_id = state.add_schedule().id
        site.schedules[status] = schedule_id
        return schedule_id

    for status, reason in [
        ("SYNCED", None),
        ("SYNC_IN_PROGRESS", None),
        ("CONNECTED", None),
        ("ERROR", "TOKEN_REVOKED"),
        ("DISCONNECTED", None),
    ]:
        state.create_connection(GOOGLE_PROVIDER_ID, schedule(status), status=status, error_reason=reason)
    site.flows["pending"] = seed_flow(schedule("pending"), MICROSOFT_PROVIDER_ID, age=timedelta(hours=3))
    site.flows["expired"] = seed_flow(
        schedule("expired"), GOOGLE_PROVIDER_ID, age=timedelta(days=8), ttl=timedelta(days=7)
    )
    site.flows["declined"] = seed_flow(schedule("declined"), GOOGLE_PROVIDER_ID, error=OAuthCallbackError.REJECT)
    site.flows["unsupported"] = seed_flow(
        schedule("unsupported"), MICROSOFT_PROVIDER_ID, error=OAuthCallbackError.UNSUPPORTED
    )
    site.flows["team_a"] = seed_flow(
        schedule("team_a"), GOOGLE_PROVIDER_ID, dag_id="team_a_onboarding", run_id="manual__team_a"
    )
    return site
