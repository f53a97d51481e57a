"""Helpers of the secrets and state audit: distinctive secrets, and where to look for them.

Every secret gets a value no other test uses, so a hit can only be a leak of this run. The scan is
a plain substring search over text gathered from every place a user or operator can read.
"""

from __future__ import annotations

import contextlib
import json
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy.engine import Engine

#: Emulator settings that make each credential distinctive (``@pytest.mark.wix_emulator(**...)``).
AUDIT_EMULATOR = {
    "api_key": "audit-APIKEY-7f3c91d2e8a4",
    "client_secret": "audit-CLIENTSECRET-4b8e2a6f1c0d",
    "credentials_email": "audit.owner@example.com",
    "credentials_password": "audit-APPLEPW-9d2c7e5a3b61",
    "sync_delay": 1,
}
#: Every access token the emulator mints starts with this (the rest is random).
MINTED_TOKEN_PREFIX = "OauthNG.JWS."


@dataclass
class Secrets:
    """Named secret values; ``hits`` says which of them occur in a text."""

    values: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, value: str) -> None:
        assert value, f"the audit needs a value for {name}"
        self.values[name] = value

    def hits(self, text: str) -> list[str]:
        return [name for name, value in self.values.items() if value in text]


def connection_env(emulator_url: str, config: Any) -> dict[str, str]:
    """The audit DAG's connections, as environment variables: app OAuth, an API key, Apple credentials."""
    app = {
        "conn_type": "wix",
        "host": emulator_url,
        "extra": {
            "auth_type": "oauth_app",
            "client_id": config.client_id,
            "client_secret": config.client_secret,
            "instance_id": config.instance_id,
        },
    }
    api_key = {
        "conn_type": "wix",
        "host": emulator_url,
        "password": config.api_key,
        "extra": {"auth_type": "api_key", "site_id": config.site_id},
    }
    apple = {"conn_type": "generic", "login": config.credentials_email, "password": config.credentials_password}
    return {
        "AIRFLOW_CONN_WIX_DEFAULT": json.dumps(app),
        "AIRFLOW_CONN_WIX_AUDIT_API_KEY": json.dumps(api_key),
        "AIRFLOW_CONN_WIX_AUDIT_APPLE": json.dumps(apple),
    }


def audit_conf(emulator_state: Any) -> dict[str, str]:
    """The audit DAG's run conf: one schedule onboarded by OAuth, another connected by Apple credentials."""
    from datetime import datetime, timedelta, timezone

    schedules = emulator_state.staff_schedules()
    start = datetime.now(timezone.utc).replace(microsecond=0)
    return {
        "schedule_id": schedules[0].id,
        "apple_schedule_id": schedules[1].id,
        "from_": start.isoformat(),
        "to": (start + timedelta(days=7)).isoformat(),
    }


#: How the owner answers the audit run: Wix fails internally first, so the retry re-sends the redirect URL.
OWNER_ANSWERS = ["internal", "allow"]


def handled_secrets(emulator: Any, schedule_id: str, flow_id: str) -> Secrets:
    """The run's secrets, once it is clear that the run really handled each of them.

    Finding none of them would prove nothing otherwise: both consent answers reached Wix, the
    connections exist, and the sensor's flow id is the digest of the state Wix was given.
    """
    from airflow_provider_wix.callback.state import state_digest

    assert [f["decision"] for f in emulator.state.oauth_flows(include_decided=True)] == OWNER_ANSWERS
    assert emulator.state.connections(), "the Apple and Microsoft connections exist"
    secrets = run_secrets(emulator.state, emulator.config, schedule_id)
    assert flow_id == state_digest(secrets.values["raw OAuth state"])
    return secrets


def run_secrets(emulator_state: Any, config: Any, schedule_id: str) -> Secrets:
    """The secrets of a finished audit run, read from the emulator (it is Wix: it knows them all)."""
    secrets = Secrets()
    secrets.add("API key", config.api_key)
    secrets.add("app client secret", config.client_secret)
    secrets.add("Apple password", config.credentials_password)
    tokens = list(emulator_state._tokens)  # the values themselves; the public view omits them
    assert tokens, "the run should have minted an app token"
    for n, token in enumerate(tokens):
        secrets.add(f"minted token {n}", token)
    secrets.add("minted token prefix", MINTED_TOKEN_PREFIX)
    flows = [f for f in emulator_state.oauth_flows(include_decided=True) if f["schedule_id"] == schedule_id]
    assert flows, "the run should have started an OAuth flow"
    states = {f["redirect_url"].rsplit("/", 1)[-1] for f in flows}
    assert len(states) == 1, "the retry re-uses the state"
    secrets.add("raw OAuth state", states.pop())
    return secrets


def database_text(engine: Engine, *, skip: Iterable[str] = ()) -> dict[str, str]:
    """Every row of every table of the metadata database as text, per table.

    Byte columns are decoded (and decompressed when zlib-compressed, as serialized DAGs may be), so
    nothing hides from the search in a binary column.
    """
    from sqlalchemy import MetaData, select

    metadata = MetaData()
    metadata.reflect(bind=engine)
    skipped = set(skip)
    dump: dict[str, str] = {}
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            if table.name in skipped:
                continue
            lines = [" | ".join(_as_text(v) for v in row) for row in connection.execute(select(table))]
            dump[table.name] = "\n".join(lines)
    return dump


def _as_text(value: Any) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        with contextlib.suppress(zlib.error):
            raw = zlib.decompress(raw)
        return raw.decode("utf-8", errors="replace")
    return str(value)


def redacted_callback_lines(lines: Iterable[str], flow_id: str) -> list[str]:
    """The access-log lines of the owner's callback; each must show the path redacted to the flow id's prefix."""
    callback_lines = [line for line in lines if "/wix/oauth/callback/" in line]
    assert callback_lines, "the callback should appear in the access log"
    assert all(f"/wix/oauth/callback/redacted-flow-{flow_id[:12]}" in line for line in callback_lines), callback_lines
    return callback_lines


def hits_by_place(secrets: Secrets, places: dict[str, str]) -> dict[str, list[str]]:
    """``{place: [secret names found there]}`` for every place with at least one hit."""
    return {place: found for place, text in places.items() if (found := secrets.hits(text))}
