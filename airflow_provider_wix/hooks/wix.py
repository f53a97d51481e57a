"""``WixHook``: turns an Airflow connection of type ``wix`` into Wix API clients (calendars, staff).

All Wix logic (requests, retries, errors, validation) lives in :mod:`airflow_provider_wix.client`; the
hook only reads the connection, registers minted tokens with Airflow's secret masker and exposes the
clients' methods (Wix's Get Connection as ``get_calendar_connection``), or the clients themselves.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import threading
from contextlib import suppress
from functools import cached_property
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar, cast
from urllib.parse import urlsplit

from airflow.sdk import BaseHook
from airflow.sdk.log import mask_secret

from airflow_provider_wix.client import (
    ApiKeyAuth,
    Auth,
    OAuthAppAuth,
    RetryPolicy,
    WixError,
    WixInvalidRequestError,
)
from airflow_provider_wix.client.errors import redact
from airflow_provider_wix.hooks import DEFAULT_WIX_CONN_ID
from airflow_provider_wix.version_compat import (
    DECLARATIVE_CONNECTION_FORM,
    legacy_connection_form_widgets,
    legacy_ui_field_behaviour,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from airflow_provider_wix.client import ExternalCalendarsClient, StaffMembersClient, TokenStore
    from airflow_provider_wix.client._http import Timeout

__all__ = ["VariableTokenStore", "WixHook"]

log = logging.getLogger(__name__)

AUTH_TYPES = ("api_key", "oauth_app")
# test_connection should answer within seconds in the UI, not after a full retry budget.
TEST_CONNECTION_RETRY = RetryPolicy(max_attempts=2, max_total_seconds=10.0)
TEST_CONNECTION_TIMEOUT: tuple[float, float] = (5.0, 15.0)
CALLBACK_URL_EXAMPLE = "https://airflow.example.com"


def _extra(extras: Mapping[str, Any], name: str) -> str | None:
    """An extra by its plain name (the 3.2+ form writes these) or the legacy ``extra__wix__`` prefix."""
    for key in (name, f"extra__wix__{name}"):
        value = extras.get(key)
        if value is not None and str(value).strip():
            return str(value).strip()
    return None


def _is_loopback(host: str) -> bool:
    """True for names and addresses that only reach this machine (a browser on it, in a demo)."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _base_url(conn: Any) -> str:
    """``host`` as a URL; a bare host name (e.g. from a ``wix://`` URI) gets ``https`` and the port."""
    host = (getattr(conn, "host", None) or "").strip()
    if not host:
        from airflow_provider_wix.client._http import DEFAULT_BASE_URL

        return DEFAULT_BASE_URL
    if "://" in host:
        return host
    schema = (getattr(conn, "schema", None) or "").strip().lower()
    scheme = schema if schema in ("http", "https") else "https"
    port = getattr(conn, "port", None)
    return f"{scheme}://{host}" + (f":{port}" if port else "")


def _mask_token(token: str) -> None:
    mask_secret(token, "wix_access_token")


class VariableTokenStore:
    """Share a Wix app token between task processes through an Airflow Variable.

    Every task runs in its own process, so without this each task of an onboarding mints its own
    token. The Variable's key contains ``token``, so Airflow masks its value in the UI and logs; it
    is encrypted at rest when a Fernet key is set. Any failure falls back to minting locally.
    """

    def __init__(self, key: str) -> None:
        self.key = key

    def load(self) -> tuple[str, float] | None:
        from airflow.sdk import Variable

        try:
            raw = Variable.get(self.key, default=None)
            if not raw:
                return None
            data = json.loads(raw)
            return str(data["access_token"]), float(data["expires_at"])
        except Exception:
            log.debug("No shared Wix access token available in Variable %s", self.key, exc_info=True)
            return None

    def save(self, token: str, expires_at: float) -> None:
        from airflow.sdk import Variable

        try:
            Variable.set(
                self.key,
                json.dumps({"access_token": token, "expires_at": expires_at}),
                description="Wix app access token shared by airflow-provider-wix tasks (expires by itself)",
            )
        except Exception:
            log.debug("Could not share the Wix access token through Variable %s", self.key, exc_info=True)

    def discard(self, token: str) -> None:
        stored = self.load()
        if stored is not None and stored[0] == token:
            from airflow.sdk import Variable

            with suppress(Exception):
                Variable.delete(self.key)


def _connection_type_info() -> dict[str, Any]:
    """The ``wix`` entry of the provider info: the one definition of the connection form."""
    from airflow_provider_wix.get_provider_info import get_provider_info

    return next(item for item in get_provider_info()["connection-types"] if item["connection-type"] == "wix")


def _in_task_process() -> bool:
    """True inside a task (worker or dag.test()), where Variables are reachable through the SDK."""
    from airflow.sdk.execution_time import task_runner

    return hasattr(task_runner, "SUPERVISOR_COMMS")


def token_store_for(conn: Any) -> VariableTokenStore | None:
    """Where the processes of a Task SDK deployment (tasks, the triggerer) share a Wix app token.

    ``None`` outside them (e.g. the API server) or for an API key. In the triggerer, call the client
    through ``asgiref.sync.sync_to_async`` (not a bare thread), so the store's Variable reads and writes
    travel over the triggerer's supervisor channel the way Airflow supports.
    """
    extras: Mapping[str, Any] = getattr(conn, "extra_dejson", None) or {}
    if (_extra(extras, "auth_type") or "api_key").lower() != "oauth_app" or not _in_task_process():
        return None
    identity = f"{_base_url(conn)}|{_extra(extras, 'client_id')}|{_extra(extras, 'instance_id')}"
    return VariableTokenStore(f"wix_access_token__{hashlib.sha256(identity.encode()).hexdigest()[:24]}")


# Clients shared process-wide (``shared=True``), e.g. by every Wix trigger in a triggerer: one session
# and one app token for all of them instead of one each.
_SHARED_CLIENTS: dict[tuple[Any, ...], ExternalCalendarsClient] = {}
_SHARED_LOCK = threading.Lock()


def _fingerprint(conn: Any, timeout: Timeout | None, retry: RetryPolicy | None) -> tuple[Any, ...]:
    """Everything that makes two clients interchangeable; secrets only as digests."""
    extras: Mapping[str, Any] = getattr(conn, "extra_dejson", None) or {}

    def digest(value: str | None) -> str:
        return hashlib.sha256((value or "").encode()).hexdigest()

    return (
        _base_url(conn),
        (_extra(extras, "auth_type") or "api_key").lower(),
        digest(getattr(conn, "password", None)),
        digest(_extra(extras, "client_secret")),
        *(_extra(extras, name) for name in ("site_id", "account_id", "client_id", "instance_id")),
        timeout,
        retry,
    )


_P = ParamSpec("_P")
_R = TypeVar("_R")

if TYPE_CHECKING:
    _Calendars = ExternalCalendarsClient
    _Staff = StaffMembersClient
else:

    class _MethodNames:
        """At run time ``_Calendars.list_providers`` is only the name: importing the hook must not load
        the clients' HTTP stack (requests, tenacity), which every DAG-file parse would pay for."""

        def __getattr__(self, name: str) -> str:
            return name

    _Calendars = _Staff = _MethodNames()


def _client_method(client: str, method: Callable[Concatenate[Any, _P], _R]) -> Callable[Concatenate[WixHook, _P], _R]:
    """A hook method that is the client's ``method`` (same arguments, same result) called on ``hook.<client>``."""
    name = method if isinstance(method, str) else method.__name__

    def call(hook: WixHook, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        return cast("_R", getattr(getattr(hook, client), name)(*args, **kwargs))

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"Wix's call, as the client's ``{name}`` makes it, on :attr:`WixHook.{client}`."
    return call


class WixHook(BaseHook):
    """Talk to Wix Bookings External Calendars v2 with the credentials of an Airflow connection.

    Connection fields: ``host`` = API base URL (empty: ``https://www.wixapis.com``), ``password`` = API
    key; extras ``auth_type`` (``api_key`` | ``oauth_app``), ``site_id`` / ``account_id``, ``client_id`` /
    ``client_secret`` / ``instance_id`` and ``callback_base_url``.

    :param wix_conn_id: the Airflow connection id.
    :param timeout: ``(connect, read)`` seconds per request (client default ``(10, 60)``).
    :param retry: retry policy for transient Wix failures (client default otherwise).
    """

    conn_name_attr = "wix_conn_id"
    default_conn_name = DEFAULT_WIX_CONN_ID
    conn_type = "wix"
    hook_name = "Wix"

    if not DECLARATIVE_CONNECTION_FORM:
        # Airflow < 3.2 builds the connection form from these; 3.2+ reads the provider info instead.
        @classmethod
        def get_connection_form_widgets(cls) -> dict[str, Any]:
            return legacy_connection_form_widgets(_connection_type_info()["conn-fields"])

        @classmethod
        def get_ui_field_behaviour(cls) -> dict[str, Any]:
            return legacy_ui_field_behaviour(_connection_type_info()["ui-field-behaviour"])

    def __init__(
        self,
        wix_conn_id: str = default_conn_name,
        *,
        timeout: Timeout | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__()
        self.wix_conn_id = wix_conn_id
        self.timeout = timeout
        self.retry = retry

    # -- building the client ------------------------------------------------------------------------

    @cached_property
    def airflow_connection(self) -> Any:
        """The Airflow connection ``wix_conn_id`` (not a Wix calendar connection), looked up once per hook."""
        return self.get_connection(self.wix_conn_id)

    @classmethod
    def auth_from_connection(cls, conn: Any, token_store: TokenStore | None = None) -> Auth:
        """The auth strategy described by the connection; raises ``WixInvalidRequestError`` if incomplete."""
        extras: Mapping[str, Any] = getattr(conn, "extra_dejson", None) or {}
        conn_id = getattr(conn, "conn_id", None) or "?"
        auth_type = (_extra(extras, "auth_type") or "api_key").lower()
        try:
            if auth_type == "api_key":
                if not (conn.password or "").strip():
                    raise WixInvalidRequestError("the password field must hold the Wix API key (auth_type api_key)")
                return ApiKeyAuth(
                    conn.password,
                    site_id=_extra(extras, "site_id"),
                    account_id=_extra(extras, "account_id"),
                )
            if auth_type == "oauth_app":
                client_secret = _extra(extras, "client_secret") or ""
                if client_secret:
                    mask_secret(client_secret, "client_secret")
                return OAuthAppAuth(
                    _extra(extras, "client_id") or "",
                    client_secret,
                    _extra(extras, "instance_id") or "",
                    on_token=_mask_token,
                    token_store=token_store,
                )
        except WixInvalidRequestError as exc:
            raise WixInvalidRequestError(f"Airflow connection {conn_id!r} (type wix): {exc}") from None
        raise WixInvalidRequestError(
            f"Airflow connection {conn_id!r} (type wix): extra auth_type must be one of "
            f"{', '.join(AUTH_TYPES)}, got {auth_type!r}"
        )

    @classmethod
    def client_from_connection(
        cls,
        conn: Any,
        *,
        timeout: Timeout | None = None,
        retry: RetryPolicy | None = None,
        shared: bool = False,
        token_store: TokenStore | None = None,
    ) -> ExternalCalendarsClient:
        """A client for an Airflow connection object.

        Usable without a hook instance, e.g. in a trigger with ``await BaseHook.aget_connection(...)``.
        ``shared=True`` returns one long-lived client per distinct connection in this process (its
        session is never closed, ``close()`` on it is harmless), so many triggers polling through the
        same connection share pooled sockets and a single app token. ``token_store`` (see
        :func:`token_store_for`) also shares that token with other processes, e.g. the tasks.
        """
        from airflow_provider_wix.client import DEFAULT_TIMEOUT

        if shared:
            key = (*_fingerprint(conn, timeout, retry), getattr(token_store, "key", None))
            with _SHARED_LOCK:
                client = _SHARED_CLIENTS.get(key)
                if client is None:
                    import requests

                    session = requests.Session()
                    client = cls._build(conn, timeout or DEFAULT_TIMEOUT, retry, session, token_store)
                    _SHARED_CLIENTS[key] = client
                return client
        return cls._build(conn, timeout or DEFAULT_TIMEOUT, retry, token_store=token_store)

    @classmethod
    def _build(
        cls,
        conn: Any,
        timeout: Timeout,
        retry: RetryPolicy | None,
        session: Any = None,
        token_store: TokenStore | None = None,
    ) -> ExternalCalendarsClient:
        from airflow_provider_wix.client import ExternalCalendarsClient

        auth = cls.auth_from_connection(conn, token_store)
        return ExternalCalendarsClient(auth, _base_url(conn), timeout=timeout, retry=retry, session=session)

    @cached_property
    def client(self) -> ExternalCalendarsClient:
        """The client, built on first use and reused (one HTTP session, one cached token) afterwards."""
        conn = self.airflow_connection
        # In a task, share the app token with the run's other tasks: one token per expiry window.
        return self.client_from_connection(
            conn, timeout=self.timeout, retry=self.retry, token_store=token_store_for(conn)
        )

    @cached_property
    def staff_client(self) -> StaffMembersClient:
        """Staff Members calls over the same session and token as :attr:`client`."""
        from airflow_provider_wix.client import StaffMembersClient

        return StaffMembersClient.sharing(self.client)

    def get_conn(self) -> ExternalCalendarsClient:
        return self.client

    def close(self) -> None:
        """Release the client's pooled connections, if a client was built."""
        self.__dict__.pop("staff_client", None)
        if "client" in self.__dict__:
            self.client.close()
            del self.__dict__["client"]

    @property
    def callback_base_url(self) -> str | None:
        """Public base URL of the Airflow API server for OAuth redirects, or ``None`` when not set.

        ``extra.callback_base_url``, else Airflow's ``[api] base_url``. A value that is set but is not
        an absolute http(s) URL without query or fragment raises ``WixInvalidRequestError`` quoting
        it, rather than falling back to another URL the owner's browser may not reach. Plain http to
        a host other than this machine gets a warning: the state in the URL is the callback's only
        credential.
        """
        from airflow_provider_wix.client.validation import validate_base_url

        extras: Mapping[str, Any] = getattr(self.airflow_connection, "extra_dejson", None) or {}
        configured = _extra(extras, "callback_base_url")
        if configured is not None:
            source = f"callback_base_url in the extra of Airflow connection {self.wix_conn_id!r}"
        else:
            from airflow_provider_wix.version_compat import conf

            configured = (conf.get("api", "base_url", fallback=None) or "").strip() or None
            if configured is None:
                return None
            source = (
                f"Airflow's [api] base_url (used because connection {self.wix_conn_id!r} sets no callback_base_url)"
            )
        url = validate_base_url(configured, source, CALLBACK_URL_EXAMPLE)
        host = urlsplit(url).hostname or ""
        if url.lower().startswith("http://") and not _is_loopback(host):
            log.warning(
                "The OAuth callback URL %s (from %s) is plain http to %s: the state in it, the only "
                "credential of the callback, travels unencrypted. Serve the Airflow API server over https.",
                url,
                source,
                host,
            )
        return url

    # -- the API calls: each is the client's own method, called on this hook's client -------------------

    list_providers = _client_method("client", _Calendars.list_providers)
    # Wix's Get Connection: ``get_connection`` is Airflow's own lookup of Airflow connections.
    get_calendar_connection = _client_method("client", _Calendars.get_connection)
    list_connections = _client_method("client", _Calendars.list_connections)
    list_connections_for_schedules = _client_method("client", _Calendars.list_connections_for_schedules)
    connect_by_oauth = _client_method("client", _Calendars.connect_by_oauth)
    connect_by_credentials = _client_method("client", _Calendars.connect_by_credentials)
    list_calendars = _client_method("client", _Calendars.list_calendars)
    update_sync_config = _client_method("client", _Calendars.update_sync_config)
    disconnect = _client_method("client", _Calendars.disconnect)
    # Each takes an EventQuery or its arguments (from_, to, schedule_ids=None, ...).
    iter_event_pages = _client_method("client", _Calendars.iter_event_pages)
    iter_events = _client_method("client", _Calendars.iter_events)
    export_events = _client_method("client", _Calendars.export_events)
    list_events = _client_method("client", _Calendars.list_events)

    iter_staff_members = _client_method("staff_client", _Staff.iter_staff_members)
    query_staff_members = _client_method("staff_client", _Staff.query_staff_members)
    get_staff_member = _client_method("staff_client", _Staff.get_staff_member)
    get_staff_member_settings = _client_method("staff_client", _Staff.get_staff_member_settings)

    # -- Airflow UI / CLI -----------------------------------------------------------------------------

    def test_connection(self) -> tuple[bool, str]:
        """Call List Providers with the connection's credentials; never echoes a secret."""
        secrets: tuple[str, ...] = ()
        try:
            conn = self.airflow_connection
            extras: Mapping[str, Any] = getattr(conn, "extra_dejson", None) or {}
            secrets = tuple(s for s in (conn.password, _extra(extras, "client_secret")) if s)
            with self.client_from_connection(
                conn,
                timeout=self.timeout or TEST_CONNECTION_TIMEOUT,
                retry=self.retry or TEST_CONNECTION_RETRY,
            ) as client:
                providers = client.list_providers()
                names = ", ".join(str(p.get("name") or p.get("calendarType") or p.get("id")) for p in providers)
                return True, (
                    f"Connected to Wix at {client.base_url}: {len(providers)} calendar provider"
                    f"{'' if len(providers) == 1 else 's'} available" + (f" ({names})" if names else "")
                )
        except WixError as exc:
            return False, redact(str(exc), secrets)
        except Exception as exc:
            return False, redact(f"{type(exc).__name__}: {exc}", secrets)
