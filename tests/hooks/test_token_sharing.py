"""One Wix app token per expiry window for a whole run, not one per task process."""

from __future__ import annotations

import json
import threading
import time

from airflow_provider_wix.client import ExternalCalendarsClient, OAuthAppAuth
from tests.conftest import run_dag, task_states


class MemoryTokenStore:
    def __init__(self) -> None:
        self.value: tuple[str, float] | None = None
        self.saves = 0

    def load(self) -> tuple[str, float] | None:
        return self.value

    def save(self, token: str, expires_at: float) -> None:
        self.value = (token, expires_at)
        self.saves += 1

    def discard(self, token: str) -> None:
        if self.value and self.value[0] == token:
            self.value = None


def _auth(emulator, store):
    config = emulator.config
    return OAuthAppAuth(config.client_id, config.client_secret, config.instance_id, token_store=store)


def test_clients_sharing_a_store_mint_one_token(wix_emulator):
    store = MemoryTokenStore()
    first = ExternalCalendarsClient(_auth(wix_emulator, store), wix_emulator.url)
    second = ExternalCalendarsClient(_auth(wix_emulator, store), wix_emulator.url)
    first.list_providers()
    second.list_providers()
    assert len(wix_emulator.state.issued_tokens()) == 1
    assert store.saves == 1
    assert store.value is not None
    assert store.value[1] > time.time()


def test_a_token_rejected_by_wix_is_replaced_in_the_store(wix_emulator):
    store = MemoryTokenStore()
    store.value = ("revoked-or-unknown-token", time.time() + 3600)
    client = ExternalCalendarsClient(_auth(wix_emulator, store), wix_emulator.url)
    assert client.list_providers()
    assert len(wix_emulator.state.issued_tokens()) == 1
    assert store.value is not None
    assert store.value[0] != "revoked-or-unknown-token"


def test_expired_stored_token_is_not_used(wix_emulator):
    store = MemoryTokenStore()
    store.value = ("stale", time.time() - 1)
    ExternalCalendarsClient(_auth(wix_emulator, store), wix_emulator.url).list_providers()
    assert len(wix_emulator.state.issued_tokens()) == 1
    assert store.value is not None
    assert store.value[0] != "stale"


def _app_connection(emulator) -> str:
    config = emulator.config
    return json.dumps(
        {
            "conn_type": "wix",
            "host": emulator.url,
            "extra": {
                "auth_type": "oauth_app",
                "client_id": config.client_id,
                "client_secret": config.client_secret,
                "instance_id": config.instance_id,
            },
        }
    )


def test_tasks_of_a_run_share_one_app_token(airflow_db, wix_emulator, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_WIX_DEFAULT", _app_connection(wix_emulator))
    dag_run = run_dag("wix_token_sharing")
    assert set(task_states(dag_run).values()) == {"success"}
    token_requests = [r for r in wix_emulator.state.request_log() if r["path"] == "/oauth2/token"]
    assert len(token_requests) == 1


def test_a_trigger_uses_the_token_the_tasks_share(airflow_db, wix_emulator, monkeypatch):
    """Issue 12: the trigger's client minted a token of its own (two per onboarding). It now adopts
    the tasks' token from the same Variable, read over the Task SDK as the triggerer supports it."""
    from airflow_provider_wix.emulator.state import MICROSOFT_PROVIDER_ID
    from airflow_provider_wix.hooks import wix

    monkeypatch.setattr(wix, "_SHARED_CLIENTS", {})  # no client (and token) left from an earlier test
    monkeypatch.setenv("AIRFLOW_CONN_WIX_DEFAULT", _app_connection(wix_emulator))
    state = wix_emulator.state
    connection = state.create_connection(MICROSOFT_PROVIDER_ID, state.staff_schedules()[0].id, status="CONNECTED")
    checked = threading.Event()

    def synced_after_the_tasks_check() -> None:
        # The sensor's check in the task sees CONNECTED and defers; then the trigger's checks find SYNCED.
        while not checked.wait(0.05):
            if any(e["route"] == "get_connection" for e in state.request_log()):
                state.set_connection_status(connection["id"], "SYNCED")
                return

    syncer = threading.Thread(target=synced_after_the_tasks_check, daemon=True)
    syncer.start()
    try:
        dag_run = run_dag("wix_token_sharing_with_a_trigger", conf={"connection_id": connection["id"]})
    finally:
        checked.set()
        syncer.join()

    assert set(task_states(dag_run).values()) == {"success"}
    routes = [r["route"] for r in state.request_log()]
    assert routes.count("get_connection") >= 2  # the task's check, then the trigger's
    assert routes.count("oauth2_token") == 1
