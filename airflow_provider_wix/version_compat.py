"""Every difference between the Airflow minors this provider supports, in one place.

Written for Airflow 3.1 onward (``make test-compat`` runs the newest patch of 3.1, 3.2 and 3.3;
pyproject.toml claims a minor once its cell is green; README, "Supported versions"). Each name
below says from which release the newer path applies; older releases take the fallback next to it.
Code elsewhere imports these names instead of testing versions itself, so dropping a minor means
deleting its fallbacks here.

Kept cheap to import (it is imported by DAG files): only ``airflow`` itself and, per version, the
module the name comes from.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow import __version__ as _AIRFLOW_VERSION
from packaging.version import Version

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from typing_extensions import TypeIs


def _base_version_tuple() -> tuple[int, int, int]:
    version = Version(Version(_AIRFLOW_VERSION).base_version)
    return version.major, version.minor, version.micro


AIRFLOW_VERSION = _base_version_tuple()
#: The oldest minor these fallbacks are written for.
MIN_AIRFLOW_VERSION = (3, 1, 0)
AIRFLOW_V_3_2_PLUS = AIRFLOW_VERSION >= (3, 2, 0)
AIRFLOW_V_3_3_PLUS = AIRFLOW_VERSION >= (3, 3, 0)

# -- Task SDK names ---------------------------------------------------------------------------------
#: name -> (module on 3.2+, module on 3.1). 3.2 added the configuration, the task exceptions and the
#: data-interval timetables to the Task SDK; 3.1 has them in Airflow core only, and its task runner
#: catches the core exception classes. Resolved on first use (``from version_compat import conf``).
TASK_SDK_NAMES: dict[str, tuple[str, str]] = {
    "conf": ("airflow.sdk", "airflow.configuration"),
    "CronDataIntervalTimetable": ("airflow.sdk", "airflow.timetables.interval"),
    "AirflowException": ("airflow.sdk.exceptions", "airflow.exceptions"),
    "AirflowFailException": ("airflow.sdk.exceptions", "airflow.exceptions"),
    "AirflowNotFoundException": ("airflow.sdk.exceptions", "airflow.exceptions"),
    "AirflowSensorTimeout": ("airflow.sdk.exceptions", "airflow.exceptions"),
    "AirflowSkipException": ("airflow.sdk.exceptions", "airflow.exceptions"),
    "ParamValidationError": ("airflow.sdk.exceptions", "airflow.exceptions"),
}

if TYPE_CHECKING:
    from airflow.sdk import CronDataIntervalTimetable, conf
    from airflow.sdk.exceptions import (
        AirflowException,
        AirflowFailException,
        AirflowNotFoundException,
        AirflowSensorTimeout,
        AirflowSkipException,
        ParamValidationError,
    )


def __getattr__(name: str) -> Any:
    try:
        newer, older = TASK_SDK_NAMES[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(newer if AIRFLOW_V_3_2_PLUS else older), name)
    globals()[name] = value
    return value


__all__ = [
    "AIRFLOW_VERSION",
    "AIRFLOW_V_3_2_PLUS",
    "AIRFLOW_V_3_3_PLUS",
    "DECLARATIVE_CONNECTION_FORM",
    "MIN_AIRFLOW_VERSION",
    "STALE_SUCCESS_OF_RESUMED_TASK_IGNORED",
    "AirflowException",
    "AirflowFailException",
    "AirflowNotFoundException",
    "AirflowSensorTimeout",
    "AirflowSkipException",
    "CronDataIntervalTimetable",
    "ParamValidationError",
    "conf",
    "dag_bag",
    "get_handle_event_submit",
    "hook_info",
    "is_local_path",
    "legacy_connection_form_widgets",
    "legacy_ui_field_behaviour",
    "login_url",
    "request_user",
]

# -- Connection form --------------------------------------------------------------------------------
#: 3.2+: the connection form comes from ``conn-fields`` / ``ui-field-behaviour`` in the provider info
#: (read without importing the hook). 3.1 only knows the hook's ``get_connection_form_widgets()`` /
#: ``get_ui_field_behaviour()``, which 3.2+ deprecates; the hook defines them on 3.1 only, built from
#: the same provider-info entry (:func:`legacy_connection_form_widgets`).
DECLARATIVE_CONNECTION_FORM = AIRFLOW_V_3_2_PLUS


def legacy_connection_form_widgets(conn_fields: Mapping[str, Any]) -> dict[str, Any]:
    """wtforms widgets for Airflow < 3.2, from the provider info's ``conn-fields`` (one definition)."""
    from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget, BS3TextFieldWidget
    from flask_babel import lazy_gettext
    from wtforms import PasswordField, StringField
    from wtforms.validators import Optional, any_of

    widgets: dict[str, Any] = {}
    for name, field in conn_fields.items():
        schema = field.get("schema", {})
        validators: list[Any] = [Optional()]
        if schema.get("enum"):
            validators.append(any_of([value for value in schema["enum"] if value is not None]))
        if schema.get("format") == "password":
            widget: Any = PasswordField(
                lazy_gettext(field["label"]),
                widget=BS3PasswordFieldWidget(),
                description=field.get("description", ""),
            )
        else:
            widget = StringField(
                lazy_gettext(field["label"]),
                widget=BS3TextFieldWidget(),
                validators=validators,
                description=field.get("description", ""),
            )
        widgets[name] = widget
    return widgets


def legacy_ui_field_behaviour(behaviour: Mapping[str, Any]) -> dict[str, Any]:
    """``get_ui_field_behaviour()`` for Airflow < 3.2: the provider info's keys in snake case."""
    return {key.replace("-", "_"): value for key, value in behaviour.items()}


# -- The defer/resume race (callback/wake.py) --------------------------------------------------------
#: 3.2.2+: the scheduler ignores a stale executor "success" for a ``scheduled`` task instance that has a
#: ``next_method`` (apache/airflow #66431), so a resumed deferred task cannot be failed by the report of
#: the worker that exited on ``defer()`` while it is still ``scheduled``; ``queued`` and ``running``
#: stay exposed on the Local executor through 3.3.2 (#67287's fix #68741 is not in a release yet,
#: #72716 is open). Before 3.2.2 every executor needs the hold; from 3.2.2 the Celery executor does not.
#: Same on 3.1-3.3, and relied on by the hold: the Local executor's worker process runs the supervisor
#: that forks the task, is titled ``airflow worker -- LocalExecutor: <ti id>`` while it runs the try,
#: and puts the exit report on its result queue before it takes another title; each scheduler loop
#: commits the scheduling pass (``last_scheduling_decision``) before the executor heartbeat reads that
#: queue, and drains what it read in the same loop (``_run_scheduler_loop``).
STALE_SUCCESS_OF_RESUMED_TASK_IGNORED = AIRFLOW_VERSION >= (3, 2, 2)


# -- Auth manager -----------------------------------------------------------------------------------
def login_url(auth_manager: Any, next_url: str) -> str:
    """The auth manager's login URL, returning to ``next_url`` after login.

    3.3+: ``get_url_login(next_url=...)`` adds ``?next=``. 3.1's and 3.2's ``SimpleAuthManager`` ignore
    ``next_url`` although their login page honours ``next``; there the parameter is added here (only
    when the URL has none, so an auth manager that already handles it is left alone).
    """
    from urllib.parse import parse_qs, urlencode, urlsplit

    url = str(auth_manager.get_url_login(next_url=next_url))
    if AIRFLOW_V_3_3_PLUS or "next" in parse_qs(urlsplit(url).query):
        return url
    return f"{url}{'&' if urlsplit(url).query else '?'}{urlencode({'next': next_url})}"


async def request_user(request: Any) -> Any:
    """The user a plugin route's request authenticates as; an explicit Bearer token wins over the cookie.

    That is Airflow 3.3+'s ``get_user``. 3.1's and 3.2's return first the user their JWT-refresh
    middleware took from the UI's session cookie, so a request carrying both was served as the cookie's
    user; there the token is resolved here. Without a Bearer token all use the cookie (401 without either).
    """
    from airflow.api_fastapi.core_api.security import bearer_scheme, get_user, resolve_user_from_token

    credentials = await bearer_scheme(request)
    if not AIRFLOW_V_3_3_PLUS and credentials is not None and credentials.scheme.lower() == "bearer":
        return await resolve_user_from_token(credentials.credentials)
    return await get_user(request, None, credentials)


# -- Object storage --------------------------------------------------------------------------------
def is_local_path(path: object) -> TypeIs[Path]:
    """A plain local ``pathlib.Path``, not an ``ObjectStoragePath``.

    Up to Airflow 3.1 (universal_pathlib 0.2) ``ObjectStoragePath`` subclasses ``pathlib.Path``, so
    ``isinstance(path, Path)`` is true for ``file://`` and ``s3://`` URLs as well; from 3.2
    (universal_pathlib 0.3) it does not.
    """
    from airflow.sdk import ObjectStoragePath

    return isinstance(path, Path) and not isinstance(path, ObjectStoragePath)


# -- Hook discovery (tests and diagnostics) ---------------------------------------------------------
def hook_info(conn_type: str) -> Any:
    """Airflow's ``HookInfo`` for a connection type, as task processes see it.

    3.2+ resolves hooks for tasks through the Task SDK's ``ProvidersManagerTaskRuntime``; 3.1 through
    core's ``ProvidersManager``.
    """
    if AIRFLOW_V_3_2_PLUS:
        from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

        return ProvidersManagerTaskRuntime().hooks[conn_type]
    from airflow.providers_manager import ProvidersManager

    return ProvidersManager().hooks[conn_type]


def dag_bag(dag_folder: str, **kwargs: Any) -> Any:
    """A ``DagBag`` (moved from ``airflow.models.dagbag`` to ``airflow.dag_processing.dagbag`` in 3.2)."""
    if AIRFLOW_V_3_2_PLUS:
        from airflow.dag_processing.dagbag import DagBag
    else:
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]
    return DagBag(dag_folder=dag_folder, **kwargs)


# -- Waking a deferred task from the API server ------------------------------------------------------
def get_handle_event_submit() -> Callable[..., None] | None:
    """Airflow's internal ``handle_event_submit`` (3.1+; same signature through 3.3), or ``None``.

    It resumes a deferred task instance with a trigger event at once. It is internal API: when an
    Airflow release moves or drops it, this returns ``None`` and the callback route only records the
    callback, which the sensor's trigger then finds on its next safety poll (slower, never lost).
    """
    try:
        from airflow.models.trigger import handle_event_submit
    except ImportError:
        return None
    return handle_event_submit


def runs_in_dag_test() -> bool:
    """Whether this task runs in-process under ``dag.test()`` (Task SDK internals, checked on 3.3).

    There the trigger runs inline once the task has returned and no executor reports a worker's exit,
    so nothing can race a resume (``callback.wake``) and a trigger need not hold an early event.
    ``dag.test()`` runs a task with ``task_runner.SUPERVISOR_COMMS`` set to ``InProcessSupervisorComms``;
    where that cannot be told, the answer is ``False``, the safe side (the trigger holds).
    """
    try:
        from airflow.sdk.execution_time import task_runner
    except ImportError:
        return False
    return type(getattr(task_runner, "SUPERVISOR_COMMS", None)).__name__ == "InProcessSupervisorComms"
