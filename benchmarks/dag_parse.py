"""dag_parse: each example DAG's parse against the same DAG without the provider, as the dag-processor pays it.

The dag-processor imports a file's ``airflow.*`` imports once, ``gc.freeze()``s and forks a process per
parse, so what a file pulls in beyond Airflow is paid on every parse, every ``min_file_process_interval``
(see ``_parse_child``; a parse is the DagBag plus serializing its DAGs, as the processor's ``_parse_file``).
Per example DAG, side by side, best of 9 cold parses each in CPU time (three rounds, the groups taking
turns), sockets disabled:

- the file itself vs its EmptyOperator peer: the same file with the provider's operators and sensors
  replaced by ``EmptyOperator`` (its ``@task`` functions kept; see ``_parse_peers``): target <= 1.2x;
- the same against its HttpOperator/HttpSensor peer (a DAG calling Wix through the HTTP provider);
- the provider's import cost per parse: importing the file's provider modules in a fresh fork, beyond
  what a parse of any DAG loads anyway: <= 10 ms.

Plus which modules each parse pulls in and the heaviest of them by ``python -X importtime``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks._parse_peers import PEERS, peer_source
from benchmarks.common import REPO_ROOT, Context, Result, Row, child_env, fmt_ratio, ratio, run_child, verdict

NAME = "dag_parse"
SLOW = False
TARGET = 1.2  # parse time / the EmptyOperator peer's
TARGET_IMPORT_MS = 10.0  # the provider's modules, imported per parse
ROUNDS = 3  # each group's child runs once per round, the groups in turn
REPS = 3  # cold parses per file and child: best of ROUNDS x REPS
HEAVY_MS = 10.0
PEER_TITLES = {"empty": "EmptyOperator peer", "http": "HttpOperator/HttpSensor peer"}

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


def _write_peers(dag_files: list[Path], tmp: Path) -> dict[str, dict[str, str]]:
    """``{kind: {dag file: peer file}}`` for each peer kind whose operators are installed."""
    import importlib.util

    peers: dict[str, dict[str, str]] = {}
    for kind, roles in PEERS.items():
        if any(importlib.util.find_spec(module.rsplit(".", 1)[0]) is None for module, _, _ in roles.values()):
            continue
        folder = tmp / kind
        folder.mkdir()
        peers[kind] = {}
        for path in dag_files:
            target = folder / path.name
            target.write_text(peer_source(path.read_text(encoding="utf-8"), kind), encoding="utf-8")
            peers[kind][str(path)] = str(target)
    return peers


def _cold_ms(info: dict[str, Any]) -> float | None:
    """The parse's CPU time (best of the cold parses): on a shared machine the wall time also counts the
    waits for a core, which the parse does not cause (the wall times stay in the details)."""
    if "error" in info or info.get("import_errors"):
        return None
    return min(info["cold_cpu_all"]) * 1000


def _compile_provider() -> None:
    """Write the provider's bytecode, as installing its wheel does (pip compiles it), so that a parse
    imports it as a deployment does: with ``PYTHONDONTWRITEBYTECODE`` set (as on this machine) and no
    ``__pycache__``, every parse would compile the provider's source again, which no deployment pays."""
    import compileall

    compileall.compile_dir(str(REPO_ROOT / "airflow_provider_wix"), quiet=2)


def _peer_rows(
    result: Result, cold: float, mine: dict[str, Any], peers: dict[str, dict[str, Any]], path: str
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for kind, timing in peers.items():
        info = timing.get(path, {})
        peer_cold = _cold_ms(info)
        if peer_cold is None:
            result.notes.append(
                f"{Path(path).name} {PEER_TITLES[kind]}: {info.get('error') or info.get('import_errors')}"
            )
            continue
        r = ratio(cold, peer_cold)
        gated = kind == "empty"
        result.add(
            Row(
                f"  vs the {PEER_TITLES[kind]}",
                f"{cold:.1f} ms",
                f"{peer_cold:.1f} ms",
                fmt_ratio(r),
                f"<= {TARGET}x" if gated else "",
                verdict(r <= TARGET) if gated else "",
                values={"cold_ms": cold, "peer_cold_ms": peer_cold, "ratio": r},
            )
        )
        values[kind] = {"peer_cold_ms": peer_cold, "ratio": r}
        if gated:  # the same without the serialization both pay alike: the provider's share, undiluted
            bag, peer_bag = (min(i["dagbag_cpu_all"]) * 1000 for i in (mine, info))
            result.add(
                Row(
                    "    the DagBag alone, without serializing",
                    f"{bag:.1f} ms",
                    f"{peer_bag:.1f} ms",
                    fmt_ratio(ratio(bag, peer_bag)),
                    values={"dagbag_ms": bag, "peer_dagbag_ms": peer_bag},
                )
            )
    return values


def _provider_row(result: Result, info: dict[str, Any]) -> float:
    """The provider's import per parse, in CPU time (on a shared machine the wall time also counts the
    waits for a core, which the parse does not cause): what importing it adds to a parse of any DAG,
    whose serialization alone loads some of Airflow's modules the provider's also need (the sensor and
    operator-link bases). The same in a bare fork, which also pays for those, is shown beside it."""
    import_ms = min(info["provider_import_cpu_all"]) * 1000
    wall_ms = min(info["provider_import_all"]) * 1000
    bare_ms = min(info["provider_import_bare_cpu_all"]) * 1000
    result.add(
        Row(
            "  provider's import per parse (CPU)",
            f"{import_ms:.1f} ms",
            target=f"<= {TARGET_IMPORT_MS:.0f} ms",
            verdict=verdict(import_ms <= TARGET_IMPORT_MS),
            values={"import_cpu_ms": import_ms, "import_wall_ms": wall_ms, "import_bare_cpu_ms": bare_ms},
        )
    )
    result.add(Row("    the same, wall clock", f"{wall_ms:.1f} ms", values={"import_wall_ms": wall_ms}))
    result.add(Row("    the same, in a bare fork (CPU)", f"{bare_ms:.1f} ms", values={"import_bare_cpu_ms": bare_ms}))
    return import_ms


def _merge(into: dict[str, Any], more: dict[str, Any]) -> None:
    """Add one round's samples (the ``*_all`` lists) per file to the earlier rounds'."""
    for path, info in more.items():
        if path not in into or "error" in into[path]:
            into[path] = info
        elif "error" not in info:
            for key, samples in info.items():
                if key.endswith("_all"):
                    into[path][key] = into[path][key] + samples


def _timings(files: list[str], env: dict[str, str], reps: int, *flags: str) -> dict[str, Any]:
    return run_child("benchmarks._parse_child", "--reps", str(reps), *flags, *files, env=env, timeout=900)


def run(ctx: Context) -> Result:
    result = Result(
        NAME, "each example DAG's parse (fresh fork, as the dag-processor) vs the same DAG without the provider"
    )
    dag_files = sorted((REPO_ROOT / "dags").glob("*.py"))
    if not dag_files:
        result.notes.append("dags/ has no DAG files yet: nothing to measure.")
        return result
    _compile_provider()
    tmp = Path(tempfile.mkdtemp(prefix="wix-bench-parse-"))
    ctx.cleanups.append(lambda: shutil.rmtree(tmp, ignore_errors=True))
    peer_files = _write_peers(dag_files, tmp)
    env = child_env(AIRFLOW_HOME=str(tmp / "home"), AIRFLOW__CORE__LOAD_EXAMPLES="False")
    files = [str(p) for p in dag_files]

    # One child per group: the modules one group pre-imports must not make another's parses cheaper. The
    # groups take turns, round after round, so that a busy spell on a shared machine hits them alike.
    rounds, reps = (1, 2) if ctx.quick else (ROUNDS, REPS)
    timing: dict[str, Any] = {}
    peer_timing: dict[str, dict[str, Any]] = {kind: {} for kind in peer_files}
    for _ in range(rounds):
        _merge(timing, _timings(files, env, reps))
        for kind, peers in peer_files.items():
            _merge(peer_timing[kind], _timings(list(peers.values()), env, reps, "--list-modules"))
    peers_by_dag = {
        kind: {dag: peer_timing[kind][peer] for dag, peer in peers.items()} for kind, peers in peer_files.items()
    }
    for kind in PEERS:
        if kind not in peer_files:
            result.notes.append(f"The {PEER_TITLES[kind]} is not measured: its provider package is not installed.")
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "benchmarks._parse_child", "--importtime", *files],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    sections = _import_sections(proc.stderr)

    details: dict[str, Any] = {}
    for path in dag_files:
        info = timing[str(path)]
        name = path.name
        cold = _cold_ms(info)
        if cold is None:
            result.add(Row(f"{name}", "parse FAILED", verdict="MISS", values=info))
            result.notes.append(f"{name}: {info.get('error') or info.get('import_errors')}")
            continue
        wall = min(info["cold_all"]) * 1000
        result.add(
            Row(f"{name} ({len(info['dags'])} DAG), CPU", f"{cold:.1f} ms", values={"cold_ms": cold, "wall_ms": wall})
        )
        compared = _peer_rows(result, cold, info, peers_by_dag, str(path))
        import_ms = _provider_row(result, info)
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
        imports = _attribute(sections.get(str(path), []))
        provider_modules = [m for m in info["new_modules"] if m.startswith("airflow_provider_wix")]
        peer_loaded = set(peers_by_dag.get("empty", {}).get(str(path), {}).get("loaded_modules", []))
        beyond = sorted(m for m in set(info["new_modules"]) - peer_loaded if not m.startswith("airflow_provider_wix"))
        heavy_text = ", ".join(f"{m} {ms:.0f} ms" for m, ms in imports["heavy"][:6]) or "none"
        result.notes.append(
            f"{name}: its parse imports {len(provider_modules)} provider module(s) ({', '.join(provider_modules)}); "
            f"beyond its EmptyOperator peer's parse also {', '.join(beyond) or 'nothing'}; heavy imports "
            f"(>= {HEAVY_MS:.0f} ms under -X importtime): {heavy_text}."
        )
        details[name] = {
            **info,
            "cold_ms": cold,
            "provider_import_ms": import_ms,
            "peers": compared,
            "imports": imports,
        }
    result.notes.append(
        "Cold = a fresh fork after Airflow and the file's airflow.* modules are loaded, parsing as the "
        "dag-processor's _parse_file does (the DagBag, then each DAG serialized), in CPU time; the provider's "
        "modules are not pre-imported there (they are not airflow.*) and are imported from their bytecode, as "
        "from an installed wheel. Peers: the same file rewritten mechanically (benchmarks/_parse_peers.py), "
        "each group parsed in its own child process."
    )
    load = os.getloadavg()
    result.notes.append(
        f"Load average at the end: {load[0]:.1f} (1 min) on {os.cpu_count()} CPUs; times scale with it, the "
        "ratios much less, and the import's CPU time least."
    )
    result.details = json.loads(json.dumps(details, default=str))
    return result
