"""mypy plugin: a call of a ``@task`` function is typed as Airflow builds the DAG, not as the task runs.

Calling a TaskFlow task at DAG-definition time returns an ``XComArg`` and accepts ``XComArg``s for any
parameter; the values are resolved only when the task runs. Airflow's stubs cannot say that (``Task``
keeps the function's parameter types and returns a bare ``XComArg``), so every DAG that passes one
task's output to another would need ignores. This plugin makes such a call, and an operator's
``.output``, ``Any`` at DAG-definition time; the task functions' bodies stay fully checked.
Airflow type-checks its own example DAGs with a plugin of the same idea.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mypy.plugin import Plugin
from mypy.types import AnyType, CallableType, TypeOfAny

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy.plugin import AttributeContext, MethodSigContext
    from mypy.types import FunctionLike, Type

_TASK_CALLS = frozenset(
    {
        "airflow.sdk.bases.decorator.Task.__call__",
        "airflow.sdk.bases.decorator._TaskDecorator.__call__",
    }
)
_OUTPUTS = frozenset({"airflow.sdk.bases.operator.BaseOperator.output"})


def _any() -> AnyType:
    return AnyType(TypeOfAny.special_form)


def _dag_time_signature(ctx: MethodSigContext) -> FunctionLike:
    signature = ctx.default_signature
    if not isinstance(signature, CallableType):
        return signature
    return signature.copy_modified(arg_types=[_any() for _ in signature.arg_types], ret_type=_any())


def _dag_time_output(ctx: AttributeContext) -> Type:
    return _any()


class TaskFlowPlugin(Plugin):
    def get_method_signature_hook(self, fullname: str) -> Callable[[MethodSigContext], FunctionLike] | None:
        return _dag_time_signature if fullname in _TASK_CALLS else None

    def get_attribute_hook(self, fullname: str) -> Callable[[AttributeContext], Type] | None:
        return _dag_time_output if fullname in _OUTPUTS else None


def plugin(version: str) -> type[Plugin]:
    return TaskFlowPlugin
