"""Child of the ``dashboard`` benchmark: a page view of the dashboard on Airflow's real app, timed.

Runs in its own process with a throw-away AIRFLOW_HOME (SQLite, a Fernet key so flow records are
encrypted as in production) and prints one JSON line with the timings.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone

# Links issued over the last ~6.7 days: within their 7-day lifetime, since the API server sweeps expired
# flow records when it starts (a spread past 7 days lost ~40 % of the rows before the first view).
SPREAD_HOURS = 160


def main(rows: int, repeats: int) -> None:
    import subprocess

    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)

    from airflow.api_fastapi.app import create_app, get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session
    from fastapi.testclient import TestClient

    from airflow_provider_wix.callback.state import FlowRecord, flow_key, new_state_token, state_digest
    from airflow_provider_wix.client.models import OAuthCallbackError
    from airflow_provider_wix.dashboard import sources

    now = datetime.now(timezone.utc)
    with create_session() as session:
        for i in range(rows):
            record = FlowRecord.issue(
                dag_id="wix_bulk_onboarding",
                run_id="scheduled__2026-12-01T00:00:00+00:00",
                task_id="onboard.connect",
                map_index=i,
                schedule_id=f"{i:08x}-0000-4000-8000-000000000000",
                provider_id="a4989031-ec67-4939-b361-31d1e41e6aad",
                ttl=timedelta(days=7),
                now=now - timedelta(hours=i % SPREAD_HOURS),
            )
            if i % 3 == 1:
                record = record.completed(connection_id=f"conn{i}", error=None)
            elif i % 3 == 2:
                record = record.completed(connection_id=None, error=OAuthCallbackError.REJECT)
            session.add(Variable(key=flow_key(state_digest(new_state_token())), val=record.to_json()))

    with TestClient(create_app()) as client:
        token = get_auth_manager().generate_jwt(SimpleAuthManagerUser(username="admin", role="admin"))
        client.cookies.set("_token", token)
        timings = []
        size = 0
        for _ in range(repeats):
            sources.clear_caches()  # every view pays for List Connections (here: the emulator)
            t0 = time.perf_counter()
            response = client.get("/wix-calendars/")
            timings.append(time.perf_counter() - t0)
            response.raise_for_status()
            size = len(response.content)
            assert response.text.count('class="row ') >= rows, "not every row was rendered"
    print(json.dumps({"median": statistics.median(timings), "max": max(timings), "bytes": size}))


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
