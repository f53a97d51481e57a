"""README's tested matrix is generated from ``make test-compat``'s results, never written by hand."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("compat_readme", ROOT / "constraints" / "readme.py")
assert _spec and _spec.loader
readme = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(readme)

NOT_RUN = readme.NOT_RUN
EMPTY = f"intro\n{readme.START}\n{readme.END}\nrest\n"
GREEN = "3.1:3.10 | 2026-12-01 | Airflow 3.1.8 | Python 3.10.13 | 880 passed, 2 skipped, 3 warnings in 600.1s (0:10:00) | cell 900 s (venv 300 s), load 12.3"  # noqa: E501
RED = "3.3:3.13 | 2026-12-02 | Airflow 3.3.2 | Python 3.13.0 | 2 failed, 878 passed in 500.1s | cell 700 s (venv 250 s), load 9"  # noqa: E501


def _row(text: str, python: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(f"| {python} |"))


def test_a_cell_shows_its_counts_versions_date_and_time():
    text = readme.render(EMPTY, [GREEN])
    assert text.startswith("intro\n") and text.endswith("rest\n")
    assert _row(text, "3.10") == (
        "| 3.10 | green: 880 passed, 2 skipped (3.1.8, Python 3.10.13; 2026-12-01, 15 min 00 s incl. venv 300 s,"
        f" load 12.3) | {NOT_RUN} | {NOT_RUN} |"
    )
    assert _row(text, "3.13") == f"| 3.13 | {NOT_RUN} | {NOT_RUN} | {NOT_RUN} |"


def test_a_failing_cell_is_marked_and_cells_not_rerun_keep_their_last_result():
    first = readme.render(EMPTY, [GREEN])
    second = readme.render(first, [RED])
    assert "green: 880 passed" in _row(second, "3.10")
    assert "**not green**: 2 failed, 878 passed" in _row(second, "3.13")


def test_the_readme_has_the_generated_table():
    text = (ROOT / "README.md").read_text()
    assert readme.START in text and readme.END in text
    assert readme.render(text, []) == text  # re-rendering without new results changes nothing
