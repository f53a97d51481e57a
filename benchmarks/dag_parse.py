"""dag_parse: parse time of each example DAG file against a trivial one-task DAG.

Shows the design's "DAG files parse fast" target: the dag-processor re-parses every file every
``min_file_process_interval`` in a freshly forked process, so what a file imports at module level is
paid on every parse. Timed like the dag-processor does it (see ``_parse_child``), best of 5 cold
parses per file, sockets disabled (any network use is reported); plus which modules each file pulls
in and the heaviest of them by ``python -X importtime``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.common import REPO_ROOT, Context, Result, Row, child_env, fmt_ratio, ratio, run_child, verdict

NAME = "dag_parse"
SLOW = False
TARGET = 1.5  # parse time / trivial DAG's
HEAVY_MS = 10.0

TRIVIAL_DAG = '''"""A trivial one-task DAG: the parse-time baseline."""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task


@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False)
def trivial_baseline() -> None:
    @task
    def hello() -> int:
        return 1

    hello()


trivial_baseline()
'''

_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def _import_sections(stderr: str) -> dict[str, list[tuple[int, int, str]]]:
    """``{file: [(cumulative_us, depth, module), ...]}`` from the marked ``-X importtime`` output."""
    sections: dict[str, list[tuple[int, int, str]]] = {}
    current: list[tuple[int, int, str]] | None = None
    for line in stderr.splitlines():
        if line.startswith("@@wix-bench start "):
            current = sections.setdefault(line.split(" ", 2)[2], [])
        elif line.startswith("@@wix-bench end "):
            current = None
        elif current is not None and (m := _LINE.match(line)):
            current.append((int(m.group(2)), len(m.group(3)), m.group(4)))
    return sections


@dataclass
class _Node:
    cum_ms: float
    depth: int
    module: str
    children: list[_Node] = field(default_factory=list)


def _tree(entries: list[tuple[int, int, str]]) -> list[_Node]:
    """Rebuild the import tree from ``-X importtime`` lines (children are printed before their parent)."""
    stack: list[_Node] = []
    for cum, depth, module in entries:
        node = _Node(cum / 1000, depth, module)
        while stack and stack[-1].depth > depth:
            node.children.insert(0, stack.pop())
        stack.append(node)
    return stack


def _attribute(entries: list[tuple[int, int, str]]) -> dict[str, Any]:
    """Split the parse's imports: the provider's modules, what the DAG file and the provider pull in
    from elsewhere (outermost import each), and what Airflow imports lazily on its own."""
    provider_ms = 0.0
    pulled_in: dict[str, float] = {}
    lazy_ms = 0.0

    def walk(node: _Node, context: str) -> None:
        nonlocal provider_ms, lazy_ms
        if node.module.startswith("unusual_prefix_"):  # the DAG file itself
            for child in node.children:
                walk(child, "dag")
        elif node.module.startswith("airflow_provider_wix"):
            if context != "provider":
                provider_ms += node.cum_ms
            for child in node.children:
                walk(child, "provider")
        elif context in ("dag", "provider"):
            pulled_in[node.module] = pulled_in.get(node.module, 0.0) + node.cum_ms
        else:
            lazy_ms += node.cum_ms

    for root in _tree(entries):
        walk(root, "root")
    total = provider_ms + sum(pulled_in.values()) + lazy_ms
    heavy = sorted(((m, ms) for m, ms in pulled_in.items() if ms >= HEAVY_MS), key=lambda x: -x[1])
    return {"total_ms": total, "provider_ms": provider_ms, "lazy_airflow_ms": lazy_ms, "heavy": heavy}


def run(ctx: Context) -> Result:
    result = Result(NAME, "DagBag on one file in a fresh fork (as the dag-processor), best of 5, vs a trivial DAG")
    dag_files = sorted((REPO_ROOT / "dags").glob("*.py"))
    if not dag_files:
        result.notes.append("dags/ has no DAG files yet: nothing to measure.")
        return result
    tmp = Path(tempfile.mkdtemp(prefix="wix-bench-parse-"))
    ctx.cleanups.append(lambda: shutil.rmtree(tmp, ignore_errors=True))
    trivial = tmp / "trivial_dag.py"
    trivial.write_text(TRIVIAL_DAG)
    files = [str(trivial), *map(str, dag_files)]
    env = child_env(AIRFLOW_HOME=str(tmp / "home"), AIRFLOW__CORE__LOAD_EXAMPLES="False")

    timing = run_child("benchmarks._parse_child", *files, env=env, timeout=600)
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "benchmarks._parse_child", "--importtime", *files],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    sections = _import_sections(proc.stderr)

    base = timing[str(trivial)]
    if "error" in base:
        raise RuntimeError(f"the trivial DAG failed to parse: {base['error']}")
    base_cold, base_warm = min(base["cold_all"]), min(base["warm"])
    result.add(
        Row(
            "trivial one-task DAG (baseline)",
            f"{base_cold * 1000:.1f} ms",
            values={"cold_ms": base_cold * 1000, "warm_ms": base_warm * 1000, "new_modules": len(base["new_modules"])},
        )
    )
    base_imports = _attribute(sections.get(str(trivial), []))
    details: dict[str, Any] = {"trivial": {**base, "imports": base_imports}}
    for path in dag_files:
        info = timing[str(path)]
        name = path.name
        if "error" in info or info.get("import_errors"):
            result.add(Row(f"{name}", "parse FAILED", verdict="MISS", values=info))
            result.notes.append(f"{name}: {info.get('error') or info.get('import_errors')}")
            continue
        cold, warm = min(info["cold_all"]), min(info["warm"])
        r_cold, r_warm = ratio(cold, base_cold), ratio(warm, base_warm)
        imports = _attribute(sections.get(str(path), []))
        heavy = imports["heavy"]
        provider_modules = [m for m in info["new_modules"] if m.startswith("airflow_provider_wix")]
        others = sorted(
            m for m in set(info["new_modules"]) - set(base["new_modules"]) if not m.startswith("airflow_provider_wix")
        )
        result.add(
            Row(
                f"{name} ({len(info['dags'])} DAG)",
                f"{cold * 1000:.1f} ms",
                f"{base_cold * 1000:.1f} ms",
                fmt_ratio(r_cold),
                f"<= {TARGET}x",
                verdict(r_cold <= TARGET),
                values={"cold_ms": cold * 1000, "ratio": r_cold, "cold_all_ms": [c * 1000 for c in info["cold_all"]]},
            )
        )
        result.add(
            Row(
                "  warm re-parse (modules cached)",
                f"{warm * 1000:.1f} ms",
                f"{base_warm * 1000:.1f} ms",
                fmt_ratio(r_warm),
                values={"warm_ms": warm * 1000, "ratio": r_warm},
            )
        )
        attempts = info["network_attempts"]
        result.add(
            Row(
                "  network use while parsing",
                str(len(attempts)),
                target="0",
                verdict=verdict(not attempts),
                values={"attempts": attempts},
            )
        )
        heavy_text = ", ".join(f"{m} {ms:.0f} ms" for m, ms in heavy[:6]) or "none"
        result.add(
            Row(
                "  imports in the parse (-X importtime)",
                f"{imports['total_ms']:.0f} ms",
                f"{base_imports['total_ms']:.0f} ms",
                fmt_ratio(ratio(imports["total_ms"], base_imports["total_ms"])),
                values={**imports, "provider_modules": provider_modules, "other_packages": others},
            )
        )
        result.add(
            Row(
                "    of which the provider's modules",
                f"{imports['provider_ms']:.0f} ms",
                values={"provider_ms": imports["provider_ms"]},
            )
        )
        result.notes.append(
            f"{name}: imports {len(info['new_modules'])} modules ({len(provider_modules)} of the provider; beyond "
            f"the trivial DAG's also {', '.join(others) or 'nothing else'}); heavy imports pulled in by the file "
            "or the provider "
            f"(>= {HEAVY_MS:.0f} ms): {heavy_text}; Airflow's own lazy imports {imports['lazy_airflow_ms']:.0f} ms."
        )
        details[name] = {**info, "imports": imports}
    result.notes.append(
        "Cold = a fresh fork after Airflow and the file's airflow.* modules are loaded, as the dag-processor "
        "parses; the provider's own modules are not pre-imported there (they are not airflow.*). Import times "
        "come from a separate run under -X importtime (inflated by it); a cold parse is roughly those imports "
        "plus building the DAG (the warm re-parse time)."
    )
    result.details = json.loads(json.dumps(details, default=str))
    return result
