"""Airflow names whose home differs between minors are imported through ``version_compat`` only.

A direct ``from airflow.sdk import conf`` works on the Airflow the suite usually runs (3.3) and fails
only on 3.1, where the name lives in Airflow core: this static check catches it on every minor.
"""

from __future__ import annotations

import ast
from pathlib import Path

from airflow_provider_wix.version_compat import TASK_SDK_NAMES

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [
    path
    for folder in ("airflow_provider_wix", "dags", "demo")
    for path in sorted((ROOT / folder).rglob("*.py"))
    if path.name != "version_compat.py"
]


def _direct_imports(path: Path) -> list[str]:
    """``module.name`` for every import of a version-dependent name from its 3.2+ home (absent on 3.1).

    Its older home (Airflow core) still exists on every minor: the API-server code may use it.
    """
    homes = {newer for newer, _ in TASK_SDK_NAMES.values()}
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module in homes:
            found += [f"{node.module}.{alias.name}" for alias in node.names if alias.name in TASK_SDK_NAMES]
    return found


def test_version_dependent_names_come_from_version_compat():
    offenders = {str(path.relative_to(ROOT)): names for path in SOURCES if (names := _direct_imports(path))}
    assert not offenders, f"import these from airflow_provider_wix.version_compat instead: {offenders}"
