"""What every Wix API client shares: the engine's lifecycle, payload unwrapping and cursor paging.

Each API (External Calendars, Staff Members) is its own client class on top of this, so that the
session, token, retries and the "follow ``cursors.next`` while ``hasNext``" rules exist once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_wix.client._http import DEFAULT_BASE_URL, DEFAULT_TIMEOUT, Call, HttpEngine, Timeout
from airflow_provider_wix.client.errors import WixServerError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from types import TracebackType
    from typing import Self

    import requests

    from airflow_provider_wix.client.auth import Auth
    from airflow_provider_wix.client.retry import RetryPolicy

__all__ = ["WixClientBase", "cursor_pages", "list_field", "object_field"]


def list_field(payload: dict[str, Any], key: str, method: str) -> list[Any]:
    """The list under ``key``; Wix omits empty lists, so a missing key means empty."""
    value = payload.get(key, [])
    if not isinstance(value, list):
        raise WixServerError(
            f"Wix {method} failed: the response field {key!r} is not a list. {WixServerError.default_hint}",
            code="MALFORMED_RESPONSE",
            method=method,
        )
    return value


def object_field(payload: dict[str, Any], key: str, method: str) -> dict[str, Any]:
    """The object under ``key`` (Wix wraps single entities, e.g. ``{"connection": {...}}``)."""
    value = payload.get(key)
    if not isinstance(value, dict):
        raise WixServerError(
            f"Wix {method} failed: the response has no {key!r} object. {WixServerError.default_hint}",
            code="MALFORMED_RESPONSE",
            method=method,
        )
    return value


def cursor_pages(
    fetch: Callable[[str | None], dict[str, Any]], *, method: str, items_key: str
) -> Iterator[dict[str, Any]]:
    """Yield whole responses, following ``pagingMetadata.cursors.next`` while ``hasNext``.

    ``fetch(None)`` sends the first request, ``fetch(cursor)`` a follow-up one. A missing ``hasNext``
    falls back to "is there a next cursor"; a ``hasNext`` without a new cursor is an error rather than
    a silently truncated (or endless) listing.
    """
    cursor: str | None = None
    seen_cursors: set[str] = set()
    while True:
        payload = fetch(cursor)
        list_field(payload, items_key, method)
        yield payload
        paging = payload.get("pagingMetadata") or {}
        cursor = (paging.get("cursors") or {}).get("next")
        has_next = paging.get("hasNext")
        if has_next is None:
            has_next = bool(cursor)
        if not has_next:
            return
        if not isinstance(cursor, str) or not cursor or cursor in seen_cursors:
            raise WixServerError(
                f"Wix {method} failed: pagingMetadata.hasNext is true but "
                + ("the next cursor repeats an earlier one" if cursor else "no cursors.next was sent")
                + f"; the {items_key} list would be incomplete. "
                + WixServerError.default_hint,
                code="MALFORMED_RESPONSE",
                method=method,
            )
        seen_cursors.add(cursor)


class WixClientBase:
    """One HTTP engine (session, auth, retries) and its lifecycle.

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

    @classmethod
    def sharing(cls, other: WixClientBase) -> Self:
        """A client of another API over ``other``'s engine: same session, same token, same retries."""
        client = cls.__new__(cls)
        client._engine = other._engine
        return client

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
        """Close the session if this client (or the one it shares with) created it."""
        self._engine.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, auth={self.auth!r})"

    def _call(self, call: Call) -> dict[str, Any]:
        return self._engine.request(call)
