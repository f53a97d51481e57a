"""What every Wix API client shares: the engine's lifecycle, payload unwrapping and cursor paging.

Each API (External Calendars, Staff Members) is its own client class on top of this, so that the
session, token, retries and the "follow ``cursors.next`` while ``hasNext``" rules exist once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_wix.client._http import DEFAULT_BASE_URL, DEFAULT_TIMEOUT, Call, HttpEngine, Timeout, json_type
from airflow_provider_wix.client.errors import WixServerError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import TracebackType
    from typing import Self

    import requests

    from airflow_provider_wix.client.auth import Auth
    from airflow_provider_wix.client.retry import RetryPolicy

__all__ = [
    "BOOLEAN",
    "OBJECT",
    "STRING",
    "STRINGS",
    "WixClientBase",
    "check_object",
    "cursor_pages",
    "list_field",
    "malformed",
    "object_field",
]

#: JSON types a field of a response may be required to have (see :func:`check_object`).
STRING, BOOLEAN, OBJECT, STRINGS = "a string", "a boolean", "an object", "an array of strings"
_IS: dict[str, Callable[[object], bool]] = {
    STRING: lambda v: isinstance(v, str),
    BOOLEAN: lambda v: isinstance(v, bool),
    OBJECT: lambda v: isinstance(v, dict),
    STRINGS: lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v),
}
#: Expected types of the fields a caller reads: a type above, or the ``Fields`` of a nested object.
Fields = Mapping[str, Any]


def malformed(method: str, what: str) -> WixServerError:
    """The error for a decoded response of the wrong shape; ``what`` says which field and how."""
    return WixServerError(
        f"Wix {method} failed: the response {what}. {WixServerError.default_hint}",
        code="MALFORMED_RESPONSE",
        method=method,
    )


def check_object(value: object, where: str, method: str, fields: Fields | None = None) -> dict[str, Any]:
    """``value`` if it is an object whose listed ``fields`` (when present) have their JSON type.

    Only the fields the provider reads are listed: one of another type would otherwise surface later
    as an ``AttributeError`` or, worse, a wrong comparison.
    """
    if not isinstance(value, dict):
        raise malformed(method, f"field {where} is {json_type(value)}, not an object")
    for name, expected in (fields or {}).items():
        item = value.get(name)
        if item is None:
            continue
        if isinstance(expected, str):
            if not _IS[expected](item):
                raise malformed(method, f"field {where}.{name} is {json_type(item)}, not {expected}")
        else:
            check_object(item, f"{where}.{name}", method, expected)
    return value


def list_field(payload: dict[str, Any], key: str, method: str, fields: Fields | None = None) -> list[Any]:
    """The list of objects under ``key``; Wix omits empty lists, so a missing key means empty."""
    value = payload.get(key, [])
    if not isinstance(value, list):
        raise malformed(method, f"field {key!r} is {json_type(value)}, not an array")
    for index, item in enumerate(value):
        check_object(item, f"{key}[{index}]", method, fields)
    return value


def object_field(payload: dict[str, Any], key: str, method: str, fields: Fields | None = None) -> dict[str, Any]:
    """The object under ``key`` (Wix wraps single entities, e.g. ``{"connection": {...}}``)."""
    value = payload.get(key)
    if value is None:
        raise malformed(method, f"has no {key!r} object")
    return check_object(value, key, method, fields)


def _paging(payload: dict[str, Any], method: str) -> tuple[bool, str | None]:
    """``(hasNext, cursors.next)`` of a page, a missing ``hasNext`` meaning "is there a cursor"."""
    paging = check_object(payload.get("pagingMetadata", {}), "pagingMetadata", method)
    cursors = check_object(paging.get("cursors", {}), "pagingMetadata.cursors", method)
    cursor = cursors.get("next")
    if cursor is not None and not isinstance(cursor, str):
        raise malformed(method, f"field pagingMetadata.cursors.next is {json_type(cursor)}, not a string")
    has_next = paging.get("hasNext")
    if has_next is not None and not isinstance(has_next, bool):
        raise malformed(method, f"field pagingMetadata.hasNext is {json_type(has_next)}, not a boolean")
    return (bool(cursor) if has_next is None else has_next), cursor


def cursor_pages(
    fetch: Callable[[str | None], dict[str, Any]], *, method: str, items_key: str
) -> Iterator[dict[str, Any]]:
    """Yield whole responses, following ``pagingMetadata.cursors.next`` while ``hasNext``.

    ``fetch(None)`` sends the first request, ``fetch(cursor)`` a follow-up one. A page whose items or
    paging block have the wrong shape is not handed out; a ``hasNext`` without a new cursor is an
    error rather than a silently truncated (or endless) listing.
    """
    cursor: str | None = None
    seen_cursors: set[str] = set()
    while True:
        payload = fetch(cursor)
        list_field(payload, items_key, method)
        has_next, cursor = _paging(payload, method)
        yield payload
        if not has_next:
            return
        if not cursor or cursor in seen_cursors:
            raise malformed(
                method,
                "has pagingMetadata.hasNext true but "
                + ("the next cursor repeats an earlier one" if cursor else "no cursors.next was sent")
                + f"; the {items_key} list would be incomplete",
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
