"""An auth manager with per-DAG rules, for testing that the dashboard asks it row by row.

Airflow's SimpleAuthManager grants by role only; this one adds a rule like a real deployment's:
users whose name starts with ``team_a`` may only touch DAGs whose id starts with ``team_a``.
"""

from __future__ import annotations

from typing import Any

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager


class TeamAuthManager(SimpleAuthManager):
    def is_authorized_dag(self, *, method: Any, user: Any, access_entity: Any = None, details: Any = None) -> bool:
        if user.username.startswith("team_a") and not (details and (details.id or "").startswith("team_a")):
            return False
        return super().is_authorized_dag(method=method, user=user, access_entity=access_entity, details=details)
