"""``python -m benchmarks.readme [RESULTS.json]``: rewrite README's benchmark table from measured results.

The table is never written by hand: each benchmark's rows come from the JSON that ``python -m
benchmarks`` writes, with the date and machine of the run that measured them. A run of some benchmarks
replaces only their rows; the others keep theirs (and their own dates). Quick runs (``--quick``) are
smoke tests with small sizes and never reach the README.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from benchmarks.common import REPO_ROOT, RESULTS_DIR

START, END = "<!-- benchmarks:start -->", "<!-- benchmarks:end -->"
HEADER = (
    "| Benchmark | What | This project | Peer (same run) | Ratio | Target | Verdict | Measured on |",
    "|---|---|---|---|---|---|---|---|",
)


def _cell(text: object) -> str:
    return str(text or "").replace("|", "\\|").replace("\n", " ").strip() or "—"


def rows_of(results: dict[str, Any]) -> dict[str, list[str]]:
    """Markdown table rows per benchmark in a results file (crashed benchmarks are left out)."""
    machine = results.get("machine", {})
    table: dict[str, list[str]] = {}
    for name, bench in results.get("benchmarks", {}).items():
        if bench.get("error"):
            continue
        # The load while this benchmark ran (at its start and end); older results: the run's end only.
        loads = bench.get("load") or [machine.get("load_average_1min")] * 2
        load = "" if loads[0] is None else f" (load {'-'.join(f'{x:g}' for x in dict.fromkeys(loads))})"
        when = f"{results['finished'][:10]}, {machine.get('cpus', '?')} CPUs{load}"
        when += f", Python {machine.get('python', '?')}"
        table[name] = [
            "| "
            + " | ".join(
                _cell(x) for x in (name, row["metric"], row["measured"], row["baseline"], row["ratio"], row["target"])
            )
            + f" | {_cell(row['verdict'])} | {when} |"
            for row in bench.get("rows", [])
        ]
    return table


def existing_rows(section: str) -> dict[str, list[str]]:
    """The rows already in the README's table, per benchmark (first column)."""
    table: dict[str, list[str]] = {}
    for line in section.splitlines():
        if line.startswith("| ") and line not in HEADER:
            name = line[2:].split(" |", 1)[0].strip()
            if name != "Benchmark":
                table.setdefault(name, []).append(line)
    return table


def render(readme: str, results: dict[str, Any]) -> str:
    match = re.search(re.escape(START) + r"(.*?)" + re.escape(END), readme, flags=re.S)
    if match is None:
        raise ValueError(f"README has no {START} ... {END} section for the benchmark table")
    table = existing_rows(match.group(1))
    table.update(rows_of(results))
    lines = [*HEADER, *(row for name in sorted(table) for row in table[name])]
    return readme[: match.start()] + START + "\n" + "\n".join(lines) + "\n" + END + readme[match.end() :]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.readme", description=__doc__)
    parser.add_argument("results", nargs="?", type=Path, default=RESULTS_DIR / "latest.json")
    parser.add_argument("--readme", type=Path, default=REPO_ROOT / "README.md")
    args = parser.parse_args(argv)
    results = json.loads(args.results.read_text())
    if results.get("quick"):
        print(f"{args.results} is a --quick run (small sizes): README left as it is", file=sys.stderr)
        return 0
    args.readme.write_text(render(args.readme.read_text(), results))
    print(f"README benchmark table updated from {args.results} ({', '.join(results['benchmarks'])})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
