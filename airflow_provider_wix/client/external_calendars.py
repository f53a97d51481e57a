"""``ExternalCalendarsClient``: the nine External Calendars v2 methods over one HTTP session.

Each method validates its arguments, sends exactly the documented request and returns the inner payload
as Wix sends it (camelCase dicts), not the ``{"connection": ...}`` wrapper.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

from airflow_provider_wix.client._http import DEFAULT_BASE_URL, DEFAULT_TIMEOUT, Call, HttpEngine, Timeout
from airflow_provider_wix.client.errors import WixConnectionAlreadyDisconnectedError, WixServerError
from airflow_provider_wix.client.validation import (
    validate_connection_id,
    validate_email,
    validate_fieldsets,
    validate_guid,
    validate_guid_list,
    validate_http_url,
    validate_page_size,
    validate_password,
    validate_sync_config,
    validate_time_window,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from types import TracebackType

    import requests

    from airflow_provider_wix.client.auth import Auth
    from airflow_provider_wix.client.models import (
        Calendar,
        Connection,
        Event,
        EventPage,
        Provider,
        SyncConfig,
    )
    from airflow_provider_wix.client.retry import RetryPolicy

__all__ = ["ExternalCalendarsClient"]

log = logging.getLogger("airflow_provider_wix.client")

PREFIX = "/bookings/v2/external-calendars"

#: ``from_``/``to``: an aware datetime (pendulum works) or an RFC 3339 string with an offset.
TimeLike = datetime | str


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _list_of(payload: dict[str, Any], key: str, method: str) -> list[Any]:
    """The list under ``key``; Wix omits empty lists, so a missing key means empty."""
    value = payload.get(key, [])
    if not isinstance(value, list):
        raise WixServerError(
            f"Wix {method} failed: the response field {key!r} is not a list. {WixServerError.default_hint}",
            code="MALFORMED_RESPONSE",
            method=method,
        )
    return value


def _object_of(payload: dict[str, Any], key: str, method: str) -> dict[str, Any]:
    value = payload.get(key)
    if not isinstance(value, dict):
        raise WixServerError(
            f"Wix {method} failed: the response has no {key!r} object. {WixServerError.default_hint}",
            code="MALFORMED_RESPONSE",
            method=method,
        )
    return value


class ExternalCalendarsClient:
    """Client for Wix Bookings External Calendars v2 (``/bookings/v2/external-calendars``).

    :param auth: :class:`~airflow_provider_wix.client.auth.ApiKeyAuth` or
        :class:`~airflow_provider_wix.client.auth.OAuthAppAuth`.
    :param base_url: ``https://www.wixapis.com`` or a stand-in such as the bundled emulator.
    :param timeout: ``(connect, read)`` seconds applied to every request.
    :param retry: retry policy for transient failures; ``RetryPolicy()`` by default.
    :param session: a ``requests.Session`` to use (not closed by :meth:`close`); one is created otherwise.
    :param user_agent: ``User-Agent`` header value.

    Thread-safe for concurrent calls; use it as a context manager (or call :meth:`close`) to release
    the pooled connections.
    """

    def __init__(
        self,
        auth: Auth,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        user_agent: str | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        kwargs: dict[str, Any] = {} if sleep is None else {"sleep": sleep}
        self._engine = HttpEngine(
            auth, base_url, timeout=timeout, retry=retry, session=session, user_agent=user_agent, **kwargs
        )

    @property
    def auth(self) -> Auth:
        return self._engine.auth

    @property
    def base_url(self) -> str:
        return self._engine.base_url

    @property
    def session(self) -> requests.Session:
        return self._engine.session

    @property
    def retry(self) -> RetryPolicy:
        return self._engine.retry

    @property
    def timeout(self) -> Timeout:
        return self._engine.timeout

    def close(self) -> None:
        """Close the session if this client created it."""
        self._engine.close()

    def __enter__(self) -> ExternalCalendarsClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ExternalCalendarsClient(base_url={self.base_url!r}, auth={self.auth!r})"

    def _call(self, call: Call) -> dict[str, Any]:
        return self._engine.request(call)

    # -- providers and connections ------------------------------------------------------------------

    def list_providers(self) -> list[Provider]:
        """All calendar providers the site supports (Google, Microsoft, Apple and app-added ones)."""
        payload = self._call(Call("list_providers", "GET", f"{PREFIX}/providers"))
        return cast("list[Provider]", _list_of(payload, "providers", "list_providers"))

    def get_connection(self, connection_id: str) -> Connection:
        """One connection, e.g. to follow its ``status`` after an OAuth callback or a sync config update."""
        cid = validate_connection_id(connection_id)
        payload = self._call(Call("get_connection", "GET", f"{PREFIX}/connections/{quote(cid, safe='')}"))
        return cast("Connection", _object_of(payload, "connection", "get_connection"))

    def list_connections(
        self, schedule_ids: Iterable[str] | str | None = None, partial_failure: bool = False
    ) -> list[Connection]:
        """Connections, optionally only those of ``schedule_ids``.

        With ``partial_failure=True`` the call succeeds even when some providers could not be reached;
        their ids are logged as a warning (their connections are missing from the result).
        """
        params = [("scheduleIds", sid) for sid in validate_guid_list(schedule_ids, "schedule_ids")]
        if partial_failure:
            params.append(("partialFailure", "true"))
        payload = self._call(Call("list_connections", "GET", f"{PREFIX}/connections", params=params))
        self._warn_failed_providers("list_connections", payload)
        return cast("list[Connection]", _list_of(payload, "connections", "list_connections"))

    def connect_by_oauth(self, provider_id: str, schedule_id: str, redirect_url: str) -> str:
        """Start an OAuth connection; returns the ``oauthUrl`` to send the account owner to.

        Wix later redirects the owner's browser to ``redirect_url`` with ``?connectionId=...`` or
        ``?error=reject|unsupported|internal``. Nothing is created by this call, so it is retried freely.
        """
        body = {
            "providerId": validate_guid(provider_id, "provider_id"),
            "scheduleId": validate_guid(schedule_id, "schedule_id"),
            "redirectUrl": validate_http_url(redirect_url, "redirect_url"),
        }
        payload = self._call(Call("connect_by_oauth", "POST", f"{PREFIX}/connections:connectByOAuth", body=body))
        url = payload.get("oauthUrl")
        if not isinstance(url, str) or not url:
            raise WixServerError(
                "Wix connect_by_oauth failed: the response has no oauthUrl. " + WixServerError.default_hint,
                code="MALFORMED_RESPONSE",
                method="connect_by_oauth",
            )
        return url

    def connect_by_credentials(self, provider_id: str, schedule_id: str, email: str, password: str) -> Connection:
        """Connect a provider that takes an email and password (Apple) to a schedule.

        Creating: once a response may have been produced, it is never re-sent automatically.
        """
        body = {
            "providerId": validate_guid(provider_id, "provider_id"),
            "scheduleId": validate_guid(schedule_id, "schedule_id"),
            "email": validate_email(email),
            "password": validate_password(password),
        }
        payload = self._call(
            Call(
                "connect_by_credentials",
                "POST",
                f"{PREFIX}/connections:connectByCredentials",
                body=body,
                idempotent=False,
                secrets=(body["password"],),
            )
        )
        return cast("Connection", _object_of(payload, "connection", "connect_by_credentials"))

    def list_calendars(self, connection_id: str) -> list[Calendar]:
        """The calendars inside the connected external account; their ids go into a sync config."""
        cid = validate_connection_id(connection_id)
        payload = self._call(Call("list_calendars", "GET", f"{PREFIX}/connections/{quote(cid, safe='')}/calendars"))
        return cast("list[Calendar]", _list_of(payload, "calendars", "list_calendars"))

    def update_sync_config(self, connection_id: str, sync_config: SyncConfig | dict[str, Any]) -> Connection:
        """Replace what a connection imports and exports (build the config with ``build_sync_config``).

        Wix then re-syncs in the background: follow ``status`` with :meth:`get_connection`.
        """
        cid = validate_connection_id(connection_id)
        body = {"syncConfig": validate_sync_config(sync_config)}
        payload = self._call(
            Call(
                "update_sync_config",
                "PATCH",
                f"{PREFIX}/connections/{quote(cid, safe='')}/sync-config",
                body=body,
            )
        )
        return cast("Connection", _object_of(payload, "connection", "update_sync_config"))

    def disconnect(self, connection_id: str) -> Connection:
        """Disconnect; the returned connection has status ``DISCONNECTED``.

        If a retry (after a lost response) finds the connection already disconnected, the first attempt
        evidently succeeded, so the current connection is fetched and returned instead of failing.
        """
        cid = validate_connection_id(connection_id)
        try:
            payload = self._call(
                Call("disconnect", "POST", f"{PREFIX}/connections/{quote(cid, safe='')}/disconnect", body={})
            )
        except WixConnectionAlreadyDisconnectedError as exc:
            if exc.attempts <= 1:
                raise
            log.info("Wix disconnect: a retried request found the connection already disconnected; fetching it")
            return self.get_connection(cid)
        return cast("Connection", _object_of(payload, "connection", "disconnect"))

    # -- events -------------------------------------------------------------------------------------

    def iter_event_pages(
        self,
        from_: TimeLike,
        to: TimeLike,
        schedule_ids: Iterable[str] | str | None = None,
        user_ids: Iterable[str] | str | None = None,
        all_day: bool | None = None,
        fieldsets: Iterable[str] | str | None = None,
        page_size: int = 1000,
        partial_failure: bool = False,
    ) -> Iterator[EventPage]:
        """List Events page by page, following ``pagingMetadata.cursors.next`` while ``hasNext``.

        Arguments are validated now; pages are fetched lazily as the iterator is consumed, so memory
        holds one page at a time. Follow-up pages send only ``cursorPaging`` (the cursor carries the
        query) plus ``partialFailure`` when set.
        """
        start, end = validate_time_window(from_, to)
        params: list[tuple[str, str]] = [("from", start), ("to", end)]
        params += [("scheduleIds", s) for s in validate_guid_list(schedule_ids, "schedule_ids")]
        params += [("userIds", u) for u in validate_guid_list(user_ids, "user_ids")]
        if all_day is not None:
            params.append(("allDay", _flag(bool(all_day))))
        params += [("fieldsets", f) for f in validate_fieldsets(fieldsets)]
        limit = ("cursorPaging.limit", str(validate_page_size(page_size)))
        tail = [("partialFailure", "true")] if partial_failure else []
        return self._event_pages([*params, limit, *tail], limit, tail)

    def _event_pages(
        self, first: list[tuple[str, str]], limit: tuple[str, str], tail: list[tuple[str, str]]
    ) -> Iterator[EventPage]:
        params = first
        seen_cursors: set[str] = set()
        warned: set[str] = set()
        while True:
            payload = self._call(Call("list_events", "GET", f"{PREFIX}/events", params=params))
            _list_of(payload, "events", "list_events")
            self._warn_failed_providers("list_events", payload, already=warned)
            yield cast("EventPage", payload)
            paging = payload.get("pagingMetadata") or {}
            cursor = (paging.get("cursors") or {}).get("next")
            has_next = paging.get("hasNext")
            if has_next is None:
                has_next = bool(cursor)
            if not has_next:
                return
            if not isinstance(cursor, str) or not cursor or cursor in seen_cursors:
                raise WixServerError(
                    "Wix list_events failed: pagingMetadata.hasNext is true but "
                    + ("the next cursor repeats an earlier one" if cursor else "no cursors.next was sent")
                    + "; the event list would be incomplete. "
                    + WixServerError.default_hint,
                    code="MALFORMED_RESPONSE",
                    method="list_events",
                )
            seen_cursors.add(cursor)
            params = [limit, ("cursorPaging.cursor", cursor), *tail]

    def iter_events(
        self,
        from_: TimeLike,
        to: TimeLike,
        schedule_ids: Iterable[str] | str | None = None,
        user_ids: Iterable[str] | str | None = None,
        all_day: bool | None = None,
        fieldsets: Iterable[str] | str | None = None,
        page_size: int = 1000,
        partial_failure: bool = False,
    ) -> Iterator[Event]:
        """Events from all connected calendars between ``from_`` and ``to``, sorted by start, lazily.

        ``from_``/``to`` are timezone-aware datetimes or RFC 3339 strings; events overlapping the window
        are included. ``fieldsets=["OWN_PI"]`` adds titles and names (personal information).
        """
        pages = self.iter_event_pages(from_, to, schedule_ids, user_ids, all_day, fieldsets, page_size, partial_failure)
        return (event for page in pages for event in page.get("events", []))

    def list_events(
        self,
        from_: TimeLike,
        to: TimeLike,
        schedule_ids: Iterable[str] | str | None = None,
        user_ids: Iterable[str] | str | None = None,
        all_day: bool | None = None,
        fieldsets: Iterable[str] | str | None = None,
        page_size: int = 1000,
        partial_failure: bool = False,
    ) -> list[Event]:
        """All pages of :meth:`iter_events` in one list (prefer ``iter_events`` for large exports)."""
        return list(self.iter_events(from_, to, schedule_ids, user_ids, all_day, fieldsets, page_size, partial_failure))

    # -- helpers ------------------------------------------------------------------------------------

    @staticmethod
    def _warn_failed_providers(method: str, payload: dict[str, Any], already: set[str] | None = None) -> None:
        failed = payload.get("failedProviderIds") or []
        if not isinstance(failed, list):
            return
        new = [str(p) for p in failed if already is None or str(p) not in already]
        if new:
            if already is not None:
                already.update(new)
            log.warning(
                "Wix %s: partial failure, providers %s could not be read; their items are missing from the result",
                method,
                ", ".join(new),
            )
