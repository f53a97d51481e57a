"""Peers of an example DAG for ``dag_parse``: the same file with the provider's operators and sensors
replaced by ``EmptyOperator`` (Airflow's own cost), or by ``HttpOperator``/``HttpSensor`` (what a DAG
talking to Wix through the HTTP provider would pay).

The rewrite is mechanical, so the peers keep the DAG's shape, ``@task`` functions, mapping and
dependencies: each provider class the file imports at module level becomes a thin stand-in class that
passes on only the arguments its Airflow base accepts. Imports inside task bodies are left alone
(they run at execution, not at parse).
"""

from __future__ import annotations

import ast
import inspect

PROVIDER_PACKAGE = "airflow_provider_wix"

# What each peer imports and its stand-ins' extra arguments, per kind of provider class.
PEERS: dict[str, dict[str, tuple[str, str, str]]] = {
    "empty": {
        "operator": ("airflow.providers.standard.operators.empty", "EmptyOperator", ""),
        "sensor": ("airflow.providers.standard.operators.empty", "EmptyOperator", ""),
    },
    "http": {
        "operator": ("airflow.providers.http.operators.http", "HttpOperator", 'endpoint="/wix"'),
        "sensor": ("airflow.providers.http.sensors.http", "HttpSensor", 'endpoint="/wix"'),
    },
}

# A stand-in keeps the provider class's name and argument names (``partial()`` checks them) and passes on
# to its Airflow base only what that base accepts.
_STAND_IN = """
class {name}({base}):
    def __init__(self, *, task_id, {own}**kwargs):
        super().__init__(task_id=task_id, {extra}**{{k: v for k, v in kwargs.items() if k in {accepts}}})
"""


def accepted_arguments(module: str, name: str) -> frozenset[str]:
    """Every keyword the class's ``__init__`` chain accepts (``BaseOperator``'s included)."""
    import importlib

    cls = getattr(importlib.import_module(module), name)
    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is not None:
            names |= {
                p.name
                for p in inspect.signature(init).parameters.values()
                if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name not in ("self", "task_id")
            }
    return frozenset(names)


COMPAT_MODULE = f"{PROVIDER_PACKAGE}.version_compat"


def _provider_imports(tree: ast.Module) -> tuple[list[ast.ImportFrom], dict[str, str]]:
    """The module-level ``from airflow_provider_wix... import`` nodes, and ``{name: module}`` they bind."""
    nodes = [
        node
        for node in tree.body
        if isinstance(node, ast.ImportFrom)
        and (node.module or "").split(".")[0] == PROVIDER_PACKAGE
        # Airflow's own names, re-exported for older minors: a peer DAG for those minors needs them too.
        and node.module != COMPAT_MODULE
    ]
    names = {alias.asname or alias.name: str(node.module) for node in nodes for alias in node.names}
    return nodes, names


def _stand_ins(kind: str, names: dict[str, str]) -> list[str]:
    lines: list[str] = []
    for role in ("operator", "sensor"):
        module, base, extra = PEERS[kind][role]
        role_names = {n: m for n, m in names.items() if n.endswith("Sensor") == (role == "sensor")}
        if not role_names:
            continue
        base_accepts = accepted_arguments(module, base)
        accepts_var = f"_PEER_{role.upper()}_ACCEPTS"
        lines.append(f"from {module} import {base}")
        lines.append(f"{accepts_var} = {{{', '.join(map(repr, sorted(base_accepts)))}}}")
        for name, provider_module in role_names.items():
            own = sorted(accepted_arguments(provider_module, name) - base_accepts)
            lines.append(
                _STAND_IN.format(
                    name=name,
                    base=base,
                    own="".join(f"{p}=None, " for p in own),
                    extra=f"{extra}, " if extra else "",
                    accepts=accepts_var,
                )
            )
    return lines


def peer_source(source: str, kind: str) -> str:
    """``source`` with the provider's module-level imports replaced by ``kind`` stand-ins (see ``PEERS``)."""
    tree = ast.parse(source)
    nodes, names = _provider_imports(tree)
    if not names:
        raise ValueError("the file imports nothing from the provider at module level")
    unknown = [n for n in names if not n.endswith(("Operator", "Sensor"))]
    if unknown:
        raise ValueError(f"cannot stand in for {', '.join(unknown)}: only operator and sensor classes")
    first = tree.body.index(nodes[0])
    body = [node for node in tree.body if node not in nodes]
    tree.body = [*body[:first], *ast.parse("\n".join(_stand_ins(kind, names))).body, *body[first:]]
    return ast.unparse(tree) + "\n"
