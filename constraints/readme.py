"""``python constraints/readme.py [RESULTS]``: rewrite README's tested-matrix table from ``make test-compat``.

The table is never written by hand. ``make test-compat`` keeps one line per cell in
``.compat/results.txt`` (``airflow:python | date | Airflow X | Python Y | pytest summary | wall time``);
each cell found there replaces that cell in the README's table, cells not run keep what the table
said (with their own dates). Rows are the supported Pythons, columns the supported Airflow minors,
both read from the Makefile.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- compat-matrix:start -->", "<!-- compat-matrix:end -->"
NOT_RUN = "\u2013"  # an en dash: a cell not in the matrix


def _make_list(name: str) -> list[str]:
    match = re.search(rf"^{name}\s*:=\s*(.+)$", (ROOT / "Makefile").read_text(), flags=re.M)
    if match is None:
        raise ValueError(f"Makefile has no {name}")
    return match.group(1).split()


def cell_text(line: str) -> tuple[tuple[str, str], str]:
    """``((python, airflow minor), text)`` for one results line."""
    key, date, airflow, python, summary, timing = (part.strip() for part in line.split(" | "))
    minor, _, py = key.partition(":")
    outcome = re.sub(r",? \d+ warnings?", "", summary.split(" in ", 1)[0])
    green = "passed" in outcome and not re.search(r"failed|error|interrupted", outcome)
    verdict = "green" if green else "**not green**"
    wall = re.match(r"cell (\d+) s \(venv (\d+) s\)(?:, load (\S+))?", timing)
    when = date
    if wall:
        minutes, seconds = divmod(int(wall.group(1)), 60)
        when += f", {minutes} min {seconds:02d} s incl. venv {wall.group(2)} s"
        if wall.group(3):
            when += f", load {wall.group(3)}"
    patch = airflow.removeprefix("Airflow ")
    return (py, minor), f"{verdict}: {outcome} ({patch}, Python {python.removeprefix('Python ')}; {when})"


def existing_cells(section: str, minors: list[str]) -> dict[tuple[str, str], str]:
    cells = {}
    for line in section.splitlines():
        parts = [part.strip() for part in line.strip().strip("|").split("|")]
        if len(parts) == len(minors) + 1 and re.fullmatch(r"3\.\d+", parts[0]):
            for minor, text in zip(minors, parts[1:], strict=True):
                if text != NOT_RUN:
                    cells[(parts[0], minor)] = text
    return cells


def render(readme: str, results: list[str]) -> str:
    pythons, minors = _make_list("SUPPORTED_PYTHONS"), _make_list("AIRFLOW_MINORS")
    match = re.search(re.escape(START) + r"(.*?)" + re.escape(END), readme, flags=re.S)
    if match is None:
        raise ValueError(f"README has no {START} ... {END} section for the tested matrix")
    cells = existing_cells(match.group(1), minors)
    cells.update(cell_text(line) for line in results if line.strip())
    lines = [
        "| Python | " + " | ".join(f"Airflow {minor}" for minor in minors) + " |",
        "|---" * (len(minors) + 1) + "|",
        *(f"| {py} | " + " | ".join(cells.get((py, minor), NOT_RUN) for minor in minors) + " |" for py in pythons),
    ]
    return readme[: match.start()] + START + "\n" + "\n".join(lines) + "\n" + END + readme[match.end() :]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("results", nargs="?", type=Path, default=ROOT / ".compat" / "results.txt")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = parser.parse_args(argv)
    if not args.results.exists():
        print(f"{args.results} does not exist: run make test-compat first", file=sys.stderr)
        return 1
    readme = args.readme.read_text()
    updated = render(readme, args.results.read_text().splitlines())
    if updated != readme:
        args.readme.write_text(updated)
    print(f"{args.readme.name}: tested matrix from {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
