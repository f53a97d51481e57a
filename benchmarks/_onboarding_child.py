"""Child process for ``token_mints``: one onboarding against the emulator, in an isolated Airflow home.

``--mode hooks``: the hook methods in the order the onboarding DAG calls them, through one ``WixHook``.
``--mode dag``: the example DAG ``wix_calendar_onboarding`` itself, with ``dag.test()`` (SQLite), the
Airflow API server app (for the OAuth callback plugin) in a thread and a simulated owner who allows.
The parent counts the requests in the emulator's log; this prints one JSON line about the run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

DUMMY_REDIRECT = "http://127.0.0.1:9/oauth/callback"


def onboard_with_hooks(emulator_url: str, schedule_id: str, provider_name: str) -> dict[str, Any]:
    from airflow_provider_wix.client.models import build_sync_config, find_provider
    from airflow_provider_wix.hooks.wix import WixHook

    hook = WixHook()
    calls: list[str] = []
    provider = find_provider(hook.list_providers(), provider_name)
    calls.append("list_providers")
    oauth_url = hook.connect_by_oauth(provider["id"], schedule_id, DUMMY_REDIRECT)
    calls.append("connect_by_oauth")
    # The owner allows; the browser would now go to the (dummy) redirect URL.
    location = requests.get(oauth_url, params={"decision": "allow"}, allow_redirects=False, timeout=30).headers[
        "Location"
    ]
    connection_id = parse_qs(urlsplit(location).query)["connectionId"][0]
    hook.get_calendar_connection(connection_id)
    calls.append("get_connection")
    hook.update_sync_config(connection_id, build_sync_config("primary", None))
    calls.append("update_sync_config")
    polls = 0
    while True:
        polls += 1
        calls.append("get_connection")
        if hook.get_calendar_connection(connection_id).get("status") == "SYNCED":
            break
        time.sleep(0.2)
    start = datetime.now(timezone.utc)
    events = hook.list_events(start, start + timedelta(days=7), schedule_ids=[schedule_id])
    calls.append("list_events")
    auth = hook.client.auth
    return {
        "calls": calls,
        "status_polls": polls,
        "events": len(events),
        "tokens_minted": getattr(auth, "tokens_minted", None),
    }


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def onboard_with_dag(emulator_url: str, schedule_id: str, provider_name: str, dags_folder: str) -> dict[str, Any]:
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)

    import uvicorn
    from airflow.api_fastapi.app import create_app

    from airflow_provider_wix.version_compat import dag_bag

    base = os.environ["AIRFLOW__API__BASE_URL"]
    address = urlsplit(base)
    server = uvicorn.Server(uvicorn.Config(create_app(), host=address.hostname, port=address.port, log_level="error"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(f"{base}/wix/health", timeout=1).ok:
                break
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the Airflow API server app did not start")
        time.sleep(0.1)

    stop = threading.Event()
    answered: list[str] = []

    def owner() -> None:  # presses Allow on each consent page; the browser follows the redirect to Airflow
        session = requests.Session()
        while not stop.wait(0.1):
            for flow in session.get(f"{emulator_url}/_emulator/oauth/flows", timeout=10).json()["flows"]:
                if flow["id"] not in answered:
                    answered.append(flow["id"])
                    session.get(flow["consent_url"], params={"decision": "allow"}, timeout=30)

    threading.Thread(target=owner, daemon=True).start()
    bag = dag_bag(os.path.join(dags_folder, "wix_calendar_onboarding.py"))
    dag = bag.dags["wix_calendar_onboarding"]
    started = time.monotonic()
    run = dag.test(run_conf={"schedule_id": schedule_id, "provider": provider_name, "days_ahead": 7})
    seconds = time.monotonic() - started
    stop.set()
    server.should_exit = True

    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        tis = session.scalars(
            select(TaskInstance).where(TaskInstance.dag_id == run.dag_id, TaskInstance.run_id == run.run_id)
        ).all()
        states = {ti.task_id: str(ti.state) for ti in tis}
    return {"state": str(run.state), "task_states": states, "seconds": seconds, "owner_answers": len(answered)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("hooks", "dag"), required=True)
    parser.add_argument("--emulator", required=True)
    parser.add_argument("--schedule", required=True)
    parser.add_argument("--provider", default="Microsoft")
    parser.add_argument("--dags-folder", default="")
    args = parser.parse_args()
    if args.mode == "hooks":
        out = onboard_with_hooks(args.emulator, args.schedule, args.provider)
    else:
        out = onboard_with_dag(args.emulator, args.schedule, args.provider, args.dags_folder)
    sys.stdout.flush()
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    main()
