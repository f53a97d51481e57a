"""The request engine shared by every Wix call: session, auth headers, retries and error mapping.

Kept apart from the API methods so that each method is only its path, verb, query and body.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import quote, urlencode

import requests
import urllib3.exceptions
from tenacity import RetryCallState, Retrying, retry_if_exception_type

from airflow_provider_wix import __version__
from airflow_provider_wix.client.errors import (
    WixApiError,
    WixAuthenticationError,
    WixServerError,
    WixTransportError,
    error_from_response,
    redact,
)
from airflow_provider_wix.client.retry import RetryPolicy, parse_retry_after
from airflow_provider_wix.client.validation import validate_base_url

if TYPE_CHECKING:
    from airflow_provider_wix.client.auth import Auth

log = logging.getLogger("airflow_provider_wix.client")

DEFAULT_BASE_URL = "https://www.wixapis.com"
DEFAULT_TIMEOUT: tuple[float, float] = (10.0, 60.0)

Timeout = float | tuple[float, float]
QueryParams = Sequence[tuple[str, str]]


#: Why a creating call that failed midway is not retried (Connect By Credentials).
NOT_RESENT = (
    "The request was not re-sent because Wix may already have acted on it; check with "
    "List Connections before trying again."
)


@dataclass(frozen=True)
class Call:
    """One logical Wix call. ``idempotent=False`` marks a creating POST that must not be re-sent
    once the server may have acted on it (only connect-phase failures and 429 are retried)."""

    name: str
    verb: str
    path: str
    params: QueryParams = ()
    body: Mapping[str, Any] | None = None
    idempotent: bool = True
    authenticated: bool = True
    secrets: tuple[str, ...] = ()
    #: Replaces the generic 403 advice (which names the External Calendars permission).
    permission_hint: str | None = None


class _Retryable(Exception):
    """Internal: a transient failure tenacity should retry; ``give_up`` builds the final error."""

    def __init__(self, describe: str, give_up: Callable[[str], WixApiError], retry_after: float | None = None):
        super().__init__(describe)
        self.describe = describe
        self.give_up = give_up
        self.retry_after = retry_after


def _never_left(exc: requests.exceptions.ConnectionError) -> bool:
    """True when the request provably never reached the server (refused, DNS, connect timeout)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, urllib3.exceptions.MaxRetryError):
        reason = reason.reason
    return isinstance(reason, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError))


_POOL_PREFIX = re.compile(r"^\w*Connection(?:Pool)?\(host=[^)]*\):\s*")


def _transport_detail(exc: requests.exceptions.RequestException) -> str:
    """urllib3's innermost reason without the pool boilerplate ("Max retries exceeded" with 0 retries)."""
    reason: object = exc.args[0] if exc.args else exc
    if isinstance(reason, urllib3.exceptions.MaxRetryError) and reason.reason is not None:
        reason = reason.reason
    return _POOL_PREFIX.sub("", str(reason))[:300]


def json_type(value: object) -> str:
    """The JSON name of a decoded value's type, for messages about a body of the wrong shape."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    for kind, name in ((dict, "an object"), (list, "an array"), (str, "a string"), ((int, float), "a number")):
        if isinstance(value, kind):
            return name
    return type(value).__name__


def decode_body(response: requests.Response) -> tuple[Any, str | None]:
    """``(decoded JSON, None)``, or ``(None, what is wrong)`` for a body that cannot be decoded.

    A body nested deeper than the interpreter's recursion limit makes the JSON decoder raise
    ``RecursionError``; like a truncated or non-JSON body, it is a malformed response, not a crash.
    """
    if not response.content.strip():
        return None, "empty"
    try:
        return response.json(), None
    except RecursionError:
        return None, "nested too deeply to decode"
    except ValueError:
        return None, "not valid JSON (cut off, or not JSON at all)"


def encode_query(params: QueryParams) -> str:
    """Repeated keys for lists, dotted names kept, ``:`` left readable as in Wix's examples."""
    return urlencode(list(params), safe=":", quote_via=quote)


def normalize_base_url(base_url: str | None) -> str:
    return validate_base_url(base_url or DEFAULT_BASE_URL, "The Wix API base URL", DEFAULT_BASE_URL)


class HttpEngine:
    """Sends :class:`Call` objects with one ``requests.Session``, retrying transient failures."""

    def __init__(
        self,
        auth: Auth,
        base_url: str | None = DEFAULT_BASE_URL,
        *,
        timeout: Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        user_agent: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.auth = auth
        self.base_url = normalize_base_url(base_url)
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._owns_session = session is None
        self.session = session or requests.Session()
        self.user_agent = user_agent or f"airflow-provider-wix/{__version__} python-requests/{requests.__version__}"
        self._sleep = sleep

    def close(self) -> None:
        if self._owns_session:
            self.session.close()

    # -- public entry points ------------------------------------------------------------------------

    def request(self, call: Call) -> dict[str, Any]:
        """Send ``call`` (with retries) and return the decoded JSON object of the 2xx response."""
        started = time.monotonic()
        retrying = Retrying(
            stop=self.retry.stop,
            wait=self.retry.wait,
            retry=retry_if_exception_type(_Retryable),
            reraise=True,
            sleep=self._sleep,
            before_sleep=lambda state: self._log_retry(call, state),
        )
        attempts = 0
        try:
            for attempt in retrying:
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    return self._attempt(call, attempts)
        except _Retryable as exc:
            elapsed = time.monotonic() - started
            note = f"Gave up after {attempts} attempt{'s' if attempts != 1 else ''} in {elapsed:.1f} s."
            if exc.retry_after is not None and attempts < self.retry.max_attempts:
                note += (
                    f" Wix asked to wait {exc.retry_after:.0f} s (Retry-After), beyond the retry budget "
                    f"of {self.retry.max_total_seconds:.0f} s."
                )
            error = exc.give_up(note)
            error.attempts = attempts
            raise error from exc.__cause__
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    def post_token(self, path: str, body: Mapping[str, Any], *, method: str) -> Mapping[str, Any]:
        """Token requests go through the same engine (retries, timeouts), without an Authorization header.

        A 4xx from the token endpoint means the app credentials are wrong: say so, rather than
        the generic advice for the status.
        """
        call = Call(
            name=method,
            verb="POST",
            path=path,
            body=body,
            authenticated=False,
        )
        try:
            return self.request(call)
        except WixApiError as exc:
            if exc.status is not None and 400 <= exc.status < 500 and exc.status != 429:
                raise WixAuthenticationError(
                    f"Wix {method} failed: POST {path} answered HTTP {exc.status} {exc.code}"
                    + (f": {exc.description}" if exc.description else "")
                    + ". Check the Wix app's client id, client secret and instance id (the app must be "
                    "installed on the site)." + (f" (Wix request id {exc.request_id})" if exc.request_id else ""),
                    status=exc.status,
                    code=exc.code,
                    description=exc.description,
                    request_id=exc.request_id,
                    method=method,
                    attempts=exc.attempts,
                ) from None
            raise

    # -- one attempt --------------------------------------------------------------------------------

    def _secrets(self, call: Call) -> tuple[str, ...]:
        return (*self.auth.secrets(), *call.secrets)

    def _attempt(self, call: Call, attempt: int) -> dict[str, Any]:
        response, sent = self._send(call)
        if response.status_code == 401 and call.authenticated:
            error = self._error(call, response, attempt)
            # One refresh per call: an expired OAuth token is replaced, a wrong key fails at once.
            if error.code != "BAD_CREDENTIALS" and self.auth.refresh_on_unauthorized(sent):
                log.info("Wix %s: HTTP 401, refreshing the access token and sending once more", call.name)
                response, sent = self._send(call)
        return self._handle(call, response, attempt)

    def _send(self, call: Call) -> tuple[requests.Response, dict[str, str]]:
        headers = {"Accept": "application/json", "User-Agent": self.user_agent}
        auth_headers = self.auth.headers(self.post_token) if call.authenticated else {}
        headers.update(auth_headers)
        url = self.base_url + call.path
        if call.params:
            url += "?" + encode_query(call.params)
        started = time.monotonic()
        try:
            response = self.session.request(
                call.verb,
                url,
                json=call.body,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.exceptions.RequestException as exc:
            raise self._transport_failure(call, exc) from exc
        log.debug(
            "Wix %s: %s %s -> HTTP %s in %.0f ms (request id %s)",
            call.name,
            call.verb,
            call.path,
            response.status_code,
            (time.monotonic() - started) * 1000,
            response.headers.get("x-wix-request-id", "-"),
        )
        return response, auth_headers

    def _transport_failure(self, call: Call, exc: requests.exceptions.RequestException) -> Exception:
        kind = type(exc).__name__
        detail = redact(_transport_detail(exc), self._secrets(call))

        def give_up(note: str = "") -> WixApiError:
            return WixTransportError(
                f"Wix {call.name} failed: {call.verb} {self.base_url}{call.path} got no usable response "
                f"({kind}: {detail}). {WixTransportError.default_hint}" + (f" {note}" if note else ""),
                code=kind,
                description=detail,
                method=call.name,
            )

        if isinstance(exc, requests.exceptions.SSLError):
            retryable = False  # certificate problems do not heal by retrying
        elif isinstance(exc, requests.exceptions.ConnectionError):
            retryable = call.idempotent or _never_left(exc)
        elif isinstance(exc, (requests.exceptions.Timeout, requests.exceptions.ChunkedEncodingError)):
            # A read timeout on a creating POST means Wix may have acted: do not send it again.
            retryable = call.idempotent
        else:
            retryable = False
        if retryable:
            return _Retryable(f"{kind} ({detail})", give_up)
        if not call.idempotent and not isinstance(exc, requests.exceptions.SSLError):
            return give_up(NOT_RESENT)
        return give_up()

    def _handle(self, call: Call, response: requests.Response, attempt: int) -> dict[str, Any]:
        status = response.status_code
        if 200 <= status < 300:
            data, problem = decode_body(response)
            if isinstance(data, dict):
                return data
            self._malformed(call, response, problem or f"{json_type(data)}, not an object")
        error = self._error(call, response, attempt)
        if 300 <= status < 400:
            error.message = (
                f"Wix {call.name} failed: HTTP {status} redirect to {response.headers.get('Location', '?')}. "
                "Check the API base URL (it must be the https URL, e.g. https://www.wixapis.com)."
            )
            error.args = (error.message,)
            raise error
        if status in self.retry.statuses and (call.idempotent or status == 429):
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            self._raise_retryable(f"HTTP {status} {error.code}", call, response, retry_after)
        if status >= 500 and not call.idempotent:
            error.message += " " + NOT_RESENT
            error.args = (error.message,)
        raise error

    def _raise_retryable(
        self, describe: str, call: Call, response: requests.Response, retry_after: float | None
    ) -> NoReturn:
        def give_up(note: str) -> WixApiError:
            return self._error(call, response, 0, note=note)

        raise _Retryable(describe, give_up, retry_after)

    def _malformed(self, call: Call, response: requests.Response, problem: str) -> NoReturn:
        request_id = response.headers.get("x-wix-request-id")

        def give_up(note: str = "") -> WixApiError:
            return WixServerError(
                f"Wix {call.name} failed: HTTP {response.status_code} with a body that is not a JSON object: "
                f"{problem} (content type {response.headers.get('Content-Type', '?')!r}). "
                f"{WixServerError.default_hint}"
                + (f" {note}" if note else "")
                + (f" (Wix request id {request_id})" if request_id else ""),
                status=response.status_code,
                code="MALFORMED_RESPONSE",
                request_id=request_id,
                method=call.name,
            )

        if call.idempotent:
            raise _Retryable(f"malformed body ({problem})", give_up)
        raise give_up(NOT_RESENT)

    def _error(self, call: Call, response: requests.Response, attempt: int, note: str = "") -> WixApiError:
        body, _ = decode_body(response)

        def build(body: Any) -> WixApiError:
            return error_from_response(
                method=call.name,
                status=response.status_code,
                body=body,
                request_id=response.headers.get("x-wix-request-id"),
                attempts=attempt,
                secrets=self._secrets(call),
                note=note,
                auth_hint=self.auth.unauthorized_hint if call.authenticated else None,
                permission_hint=call.permission_hint,
            )

        try:
            return build(body)
        except RecursionError:  # an error body just shallow enough to decode, too deep to read
            return build(None)

    def _log_retry(self, call: Call, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        describe = exc.describe if isinstance(exc, _Retryable) else type(exc).__name__
        log.warning(
            "Wix %s: %s; retrying in %.1f s (attempt %d of %d)",
            call.name,
            describe,
            state.upcoming_sleep,
            state.attempt_number + 1,
            self.retry.max_attempts,
        )
