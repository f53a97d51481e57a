"""Child process for ``dag_parse``: parse DAG files the way Airflow 3's dag-processor does.

The dag-processor imports Airflow once, pre-imports the ``airflow.*`` modules a file names
(``[dag_processor] parsing_pre_import_modules``), then forks a fresh process for every parse of that
file. So each parse pays for every non-Airflow module the file pulls in (for a file importing the
provider, also timed alone: importing its provider modules in a fresh fork, after a parse of any DAG has
loaded what every parse loads, and in a bare fork). Here: import Airflow,
``gc.freeze()`` as the manager does, then per file pre-import its ``airflow.*`` modules and fork
``--reps`` children that each time one cold parse, as the processor's ``_parse_file`` does (the DagBag,
then each DAG serialized; the first child then also the warm re-parses), with sockets disabled.

With ``--importtime`` (run under ``python -X importtime``) each child only marks its section of
stderr, for the parent to read the import tree.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import json
import os
import shutil
import socket
import sys
import tempfile
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

MARK = "@@wix-bench"
# --list-modules: also report every module loaded after the parse (for tests comparing two files' parses).
LIST_ALL = "--list-modules" in sys.argv


def _guard_network(attempts: list[str]) -> None:
    """Record, and refuse, any network use during the parse."""

    def refuse(what: str) -> Any:
        def blocked(*args: Any, **kwargs: Any) -> Any:
            attempts.append(f"{what}{args[1:2] if what.startswith('socket.') else args[:1]}")
            raise OSError(f"network disabled while parsing ({what})")

        return blocked

    socket.socket.connect = refuse("socket.connect")  # type: ignore[method-assign]
    socket.socket.connect_ex = refuse("socket.connect_ex")  # type: ignore[method-assign]
    socket.create_connection = refuse("create_connection")
    socket.getaddrinfo = refuse("getaddrinfo")


def _serializer() -> Any:
    """What the dag-processor's parse serializes each DAG with (``DagSerialization`` since Airflow 3.2)."""
    from airflow.serialization import serialized_objects

    return getattr(serialized_objects, "DagSerialization", None) or serialized_objects.SerializedDAG


def _dag_bag_class() -> Any:
    """Airflow's DagBag from its home on this minor (the provider's version_compat is not imported here:
    its import is what is measured)."""
    try:
        from airflow.dag_processing.dagbag import DagBag  # Airflow 3.2+
    except ImportError:
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]  # Airflow 3.1
    return DagBag


def _parse_once(path: str) -> tuple[Any, float]:
    """One parse as ``airflow.dag_processing.processor._parse_file`` does it: the DagBag without plugin
    operator links, then every DAG serialized (what the processor sends back to its manager). Returns the
    bag and the CPU time of the DagBag alone."""
    started = time.process_time()
    bag = _dag_bag_class()(dag_folder=path, load_op_links=False)
    bag_cpu = time.process_time() - started
    serializer = _serializer()
    for dag in bag.dags.values():
        serializer.to_dict(dag)
    return bag, bag_cpu


def _parse(path: str, warm_reps: int) -> dict[str, Any]:
    attempts: list[str] = []
    _guard_network(attempts)
    before = set(sys.modules)
    started, cpu_started = time.perf_counter(), time.process_time()
    bag, bag_cpu = _parse_once(path)
    cold_cpu = time.process_time() - cpu_started
    cold = time.perf_counter() - started
    new = sorted(set(sys.modules) - before)
    warm = []
    for _ in range(warm_reps):
        started = time.perf_counter()
        _parse_once(path)
        warm.append(time.perf_counter() - started)
    return {
        "cold": cold,
        "cold_cpu": cold_cpu,  # what the parse costs the machine, without the waits for a core
        "dagbag_cpu": bag_cpu,  # the same without serializing
        "warm": warm,
        "dags": sorted(bag.dags),
        "import_errors": {str(k): str(v)[-500:] for k, v in bag.import_errors.items()},
        "new_modules": [m for m in new if not m.startswith("unusual_prefix_")],
        "loaded_modules": sorted(m for m in sys.modules if not m.startswith("unusual_prefix_")) if LIST_ALL else [],
        "network_attempts": attempts,
    }


def provider_modules(path: str) -> list[str]:
    """The provider modules a DAG file imports at module level (what each of its parses imports anew)."""
    import ast

    with open(path, encoding="utf-8") as source:
        tree = ast.parse(source.read())
    return [
        node.module
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "airflow_provider_wix"
    ]


# Any DAG: parsing and serializing it loads what every parse loads (the serializer alone imports Airflow's
# sensor and operator-link bases, among others), so none of that is the provider's cost.
ANY_DAG = """
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG("any_dag", schedule=None):
    EmptyOperator(task_id="any_task")
"""


def _import_provider(path: str, after: str | None) -> dict[str, Any]:
    """Time importing the file's provider modules alone, in a fresh fork, as its parse first does; with
    ``after`` (a DAG file), once that file's parse has loaded what every parse loads."""
    if after is not None:
        from airflow.utils.file import iter_airflow_imports

        for module in iter_airflow_imports(after):
            importlib.import_module(module)
        _parse_once(after)
    modules = provider_modules(path)  # reading the DAG file is not importing the provider
    before = set(sys.modules)
    started, cpu_started = time.perf_counter(), time.process_time()
    for module in modules:
        importlib.import_module(module)
    return {
        "import": time.perf_counter() - started,
        "import_cpu": time.process_time() - cpu_started,  # what the parse pays, without waiting for a core
        "modules": sorted(set(sys.modules) - before),
    }


def _in_fork(work: Callable[[], dict[str, Any]], mark: str | None = None) -> dict[str, Any]:
    """``work()`` in a fresh fork; with ``mark``, its ``-X importtime`` lines are marked on stderr."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_fd)
        try:
            if mark:
                os.write(2, f"{MARK} start {mark}\n".encode())
            out = work()
            if mark:
                os.write(2, f"{MARK} end {mark}\n".encode())
        except BaseException as exc:
            out = {"error": f"{type(exc).__name__}: {exc}"}
        with os.fdopen(write_fd, "w") as pipe:
            pipe.write(json.dumps(out))
        os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    return dict(json.loads(data))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--importtime", action="store_true")
    parser.add_argument("--list-modules", action="store_true")
    args = parser.parse_args()

    import airflow.sdk  # noqa: F401 - what the dag-processor already has loaded

    _dag_bag_class()  # loaded, as the dag-processor has it
    from airflow.utils.file import iter_airflow_imports

    gc.freeze()  # as DagFileProcessorManager.before_run does, "to prevent COW in forked process parsing"
    any_dag = os.path.join(tempfile.mkdtemp(prefix="wix-bench-any-dag-"), "any_dag.py")
    with open(any_dag, "w", encoding="utf-8") as out:
        out.write(ANY_DAG)
    results: dict[str, Any] = {}
    for path in args.files:
        for module in iter_airflow_imports(path):
            with contextlib.suppress(Exception):  # the processor logs and carries on
                importlib.import_module(module)
        if args.importtime:
            results[path] = _in_fork(lambda p=path: _parse(p, 0), mark=path)
            continue
        runs = [_in_fork(lambda p=path, w=5 if rep == 0 else 0: _parse(p, w)) for rep in range(args.reps)]
        first = runs[0]
        if "error" in first:
            results[path] = first
            continue
        results[path] = {
            **first,
            "cold_all": [r["cold"] for r in runs],
            "cold_cpu_all": [r["cold_cpu"] for r in runs],
            "dagbag_cpu_all": [r["dagbag_cpu"] for r in runs],
        }
        if provider_modules(path):
            # Cheap, and the noisiest number on a shared machine: three times the samples. Beyond what any
            # parse loads (the provider's cost), and in a bare fork (also loading some of Airflow's own).
            beyond = [_in_fork(lambda p=path: _import_provider(p, any_dag)) for _ in range(3 * args.reps)]
            bare = [_in_fork(lambda p=path: _import_provider(p, None)) for _ in range(3 * args.reps)]
            results[path]["provider_import_all"] = [i.get("import") for i in beyond]
            results[path]["provider_import_cpu_all"] = [i.get("import_cpu") for i in beyond]
            results[path]["provider_import_bare_cpu_all"] = [i.get("import_cpu") for i in bare]
    shutil.rmtree(os.path.dirname(any_dag), ignore_errors=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
