"""``WixBaseOperator``: the base of the provider's operators, public so users can write their own.

Importing this module costs a DAG file nothing beyond Airflow's ``BaseOperator``: the hook, the client
and its dependencies load when a task runs, not each time the dag-processor parses the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

from airflow.sdk import BaseOperator

from airflow_provider_wix.hooks import DEFAULT_WIX_CONN_ID

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from airflow.sdk import Context

    from airflow_provider_wix.client.models import Provider
    from airflow_provider_wix.hooks.wix import WixHook

__all__ = ["WixBaseOperator", "WixHookMixin", "fail_fast_on_invalid_input"]


@contextmanager
def fail_fast_on_invalid_input() -> Iterator[None]:
    """Turn a ``WixInvalidRequestError`` into ``AirflowFailException``: no retry could make it pass.

    It is raised before any request, from the task's own arguments or settings (a malformed GUID or
    OAuth state, ``from_`` after ``to``, an unusable callback URL), and is the same on every try.
    """
    from airflow_provider_wix.client.errors import WixInvalidRequestError
    from airflow_provider_wix.version_compat import AirflowFailException

    try:
        yield
    except WixInvalidRequestError as exc:
        raise AirflowFailException(str(exc)) from exc


class WixHookMixin:
    """``self.hook``: a :class:`~airflow_provider_wix.hooks.wix.WixHook` for ``self.wix_conn_id``, built on
    first use; :meth:`close_hook` releases its HTTP session (the next use builds a new one)."""

    wix_conn_id: str

    @cached_property
    def hook(self) -> WixHook:
        from airflow_provider_wix.hooks.wix import WixHook

        return WixHook(wix_conn_id=self.wix_conn_id)

    def close_hook(self) -> None:
        if "hook" in self.__dict__:
            self.__dict__.pop("hook").close()


class WixBaseOperator(WixHookMixin, BaseOperator):
    """Base for an operator that calls Wix: subclass it and implement :meth:`execute_wix`.

    ``execute`` runs :meth:`execute_wix` with ``self.hook`` ready, closes the hook afterwards whatever
    happens, and turns a ``WixInvalidRequestError`` (a malformed GUID, ``from_`` after ``to``, a provider
    that cannot do what is asked: raised before any request and the same on every try) into
    ``AirflowFailException``, so such a task fails at once instead of retrying. Override
    :meth:`execute_wix`, not ``execute``, to keep both.

    :param wix_conn_id: The Airflow connection to Wix (templated).
    """

    template_fields: Sequence[str] = ("wix_conn_id",)
    ui_color = "#e0f0ff"

    def __init__(self, *, wix_conn_id: str = DEFAULT_WIX_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.wix_conn_id = wix_conn_id

    def execute(self, context: Context) -> Any:
        try:
            with fail_fast_on_invalid_input():
                return self.execute_wix(context)
        finally:
            self.close_hook()

    def execute_wix(self, context: Context) -> Any:
        """The task's work; its return value is the task's XCom ``return_value``."""
        raise NotImplementedError(f"{type(self).__name__} must implement execute_wix()")

    def resolve_provider(self, key: str | Mapping[str, Any], *, method: str | None = None) -> Provider:
        """A provider by id, calendar type or name, checked to offer the connect ``method`` if given.

        ``key`` may also be the provider object itself as List Providers returned it (e.g. an upstream
        XCom): nothing is asked then; its id is checked, and ``method`` when it carries ``features``.
        A provider that connects otherwise fails the task without retries and names the right operator.
        """
        from airflow_provider_wix.client.models import find_provider

        if isinstance(key, Mapping):
            from airflow_provider_wix.client.validation import validate_guid

            given = cast("Provider", key)
            if method is not None and "features" in given:
                _require_connect_method(given, method)
            validate_guid(str(given.get("id") or ""), "provider['id']")
            return given
        provider = find_provider(self.hook.list_providers(), key)
        if method is not None:
            _require_connect_method(provider, method, key)
        return provider


def _require_connect_method(provider: Provider, method: str, key: str | None = None) -> None:
    """Fail the task without retries (naming the right operator) unless ``provider`` connects by ``method``."""
    from airflow_provider_wix.version_compat import AirflowFailException

    methods = (provider.get("features") or {}).get("connectMethods") or []
    if method not in methods:
        other = "ConnectByCredentialsOperator" if method == "OAUTH" else "ConnectByOAuthOperator"
        raise AirflowFailException(
            f"{provider.get('name', key or provider.get('id'))} cannot be connected by {method} "
            f"(it supports {', '.join(methods) or 'no connect method'}); use {other} for it."
        )
