"""Exceptions raised by the Wix client.

Every failed Wix call becomes a :class:`WixApiError` subclass chosen first by the Wix application error
code (``NOT_SUPPORTED_BY_PROVIDER`` ...) and then by the HTTP status, so callers can catch exactly the
case they can act on. Messages name the client method, the Wix code and the next step; they are built
from the response only (never from request headers or bodies) so that no credential can leak into them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "WixApiError",
    "WixAuthenticationError",
    "WixBadCredentialsError",
    "WixConflictError",
    "WixConnectionAlreadyDisconnectedError",
    "WixConnectionNotConnectedError",
    "WixError",
    "WixInvalidRequestError",
    "WixNotFoundError",
    "WixNotSupportedByProviderError",
    "WixPermissionError",
    "WixPreconditionError",
    "WixPremiumFeatureNotEnabledError",
    "WixRateLimitError",
    "WixServerError",
    "WixTransportError",
    "WixValidationError",
    "error_from_response",
    "redact",
]

REDACTED = "***"

# Canonical code for a status when the body carries none (Wix "About errors" wording).
STATUS_CODES: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    428: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "BAD_GATEWAY",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret value in ``text``; a last line of defence for server-echoed input."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def _redact_value(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, Mapping):
        return {k: _redact_value(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_value(v, secrets) for v in value]
    return value


class WixError(Exception):
    """Root of everything this client raises."""


class WixInvalidRequestError(WixError, ValueError):
    """An argument failed local validation; raised before any request was sent."""


class WixApiError(WixError):
    """A Wix call failed.

    :ivar status: HTTP status (``None`` when no response was received).
    :ivar code: Wix application error code, or one derived from the status.
    :ivar description: Wix's description of the error (may be empty, e.g. for 5xx).
    :ivar request_id: the ``x-wix-request-id`` response header, to quote to Wix support.
    :ivar field_violations: ``details.validationError.fieldViolations`` for 400s.
    :ivar method: the client method that failed, e.g. ``list_events``.
    :ivar attempts: how many times the request was sent.
    """

    default_hint = "Check the request and try again."

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        description: str = "",
        request_id: str | None = None,
        field_violations: list[dict[str, Any]] | None = None,
        method: str = "",
        attempts: int = 1,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.description = description
        self.request_id = request_id
        self.field_violations = field_violations or []
        self.method = method
        self.attempts = attempts
        self.data = dict(data or {})

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only attributes would be lost by the default Exception pickling (XCom, triggers).
        return (_rebuild, (type(self), self.message, self.__dict__))


def _rebuild(cls: type[WixApiError], message: str, state: dict[str, Any]) -> WixApiError:
    err = cls(message)
    err.__dict__.update(state)
    return err


class WixValidationError(WixApiError):
    """400: Wix rejected a parameter; see ``field_violations``."""

    default_hint = "Fix the fields Wix rejected."


class WixAuthenticationError(WixApiError):
    """401: the API key, site id or app credentials were not accepted."""

    default_hint = (
        "Check the API key (the Airflow connection password) and the site id, or the Wix app's "
        "client id, client secret and instance id."
    )


class WixBadCredentialsError(WixApiError):
    """BAD_CREDENTIALS: the external calendar account rejected the email/password (Connect By Credentials)."""

    default_hint = (
        "Ask the account owner for the right email and password; for an Apple ID with two-factor "
        "authentication use an app-specific password."
    )


class WixPermissionError(WixApiError):
    """403: authenticated, but not allowed to do this."""

    default_hint = (
        "Give the API key or app the 'Manage External Calendars' permission, and make sure the "
        "schedule belongs to the calling user or the caller may manage all calendars."
    )


class WixPremiumFeatureNotEnabledError(WixPermissionError):
    """403 PREMIUM_FEATURE_NOT_ENABLED: the site's plan does not include external calendars."""

    default_hint = "Upgrade the Wix site to a premium plan that includes external calendar sync."


class WixNotFoundError(WixApiError):
    """404: the connection (or other resource) does not exist."""

    default_hint = (
        "Check the id; connection ids come from List Connections or the OAuth callback, and a "
        "'/bookings/v2/external-calendar/' path (no 's') does not exist."
    )


class WixConflictError(WixApiError):
    """409: the resource already exists or changed meanwhile."""

    default_hint = "Fetch the current state and decide whether to retry."


class WixPreconditionError(WixApiError):
    """428: the request is well-formed but the connection or provider is not in a state that allows it."""

    default_hint = "Check the connection's status with Get Connection and the provider's features."


class WixNotSupportedByProviderError(WixPreconditionError):
    """428 NOT_SUPPORTED_BY_PROVIDER: the provider cannot do this (e.g. Google and Update Sync Config)."""

    default_hint = (
        "Check the provider's features in List Providers (connectMethods, updateSyncConfig, "
        "listEventFromCalendars, syncToCalendar) and use another connect method, sync option or provider."
    )


class WixConnectionNotConnectedError(WixPreconditionError):
    """428 CONNECTION_NOT_CONNECTED: the connection is disconnected or in error."""

    default_hint = "Check the connection with Get Connection; reconnect the calendar if it was disconnected."


class WixConnectionAlreadyDisconnectedError(WixPreconditionError):
    """428 CONNECTION_ALREADY_DISCONNECTED: nothing left to disconnect."""

    default_hint = "Nothing to do: the connection is already disconnected."


class WixRateLimitError(WixApiError):
    """429 that persisted through the retries."""

    default_hint = (
        "Wix allows about 200 requests per minute per app instance; slow down or spread the work, then retry later."
    )


class WixServerError(WixApiError):
    """5xx (or a malformed response) that persisted through the retries."""

    default_hint = "This is a problem on Wix's side; retry later and quote the request id to Wix support."


class WixTransportError(WixApiError):
    """No usable response: connection refused or reset, DNS failure, or a timeout, after the retries."""

    default_hint = "Check network access to the Wix API base URL and retry later."


_BY_CODE: dict[str, type[WixApiError]] = {
    "BAD_CREDENTIALS": WixBadCredentialsError,
    "PREMIUM_FEATURE_NOT_ENABLED": WixPremiumFeatureNotEnabledError,
    "NOT_SUPPORTED_BY_PROVIDER": WixNotSupportedByProviderError,
    "CONNECTION_NOT_CONNECTED": WixConnectionNotConnectedError,
    "CONNECTION_ALREADY_DISCONNECTED": WixConnectionAlreadyDisconnectedError,
}

_BY_STATUS: dict[int, type[WixApiError]] = {
    400: WixValidationError,
    401: WixAuthenticationError,
    403: WixPermissionError,
    404: WixNotFoundError,
    409: WixConflictError,
    428: WixPreconditionError,
    429: WixRateLimitError,
}


def error_class_for(status: int, code: str | None) -> type[WixApiError]:
    """Pick the most specific exception class: application code first, then status."""
    if code and code in _BY_CODE:
        return _BY_CODE[code]
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return WixServerError
    return WixApiError


def _describe_violations(violations: list[dict[str, Any]]) -> str:
    parts = []
    for violation in violations:
        field = violation.get("field") or "?"
        rule = violation.get("violatedRule")
        text = violation.get("description") or ""
        parts.append(f"{field}: {text}" + (f" ({rule})" if rule else ""))
    return "; ".join(parts)


def error_from_response(
    *,
    method: str,
    status: int,
    body: Any,
    request_id: str | None,
    attempts: int = 1,
    secrets: Iterable[str] = (),
    note: str = "",
    auth_hint: str | None = None,
    permission_hint: str | None = None,
) -> WixApiError:
    """Build the exception for a non-2xx Wix response from its standard error body.

    ``body`` is the decoded JSON (or ``None`` when it was not JSON). Tolerates every documented shape:
    ``details.applicationError``, ``details.validationError`` and the empty system-error body.
    ``auth_hint`` replaces the generic advice of a 401, since only the caller knows which credential
    was used; ``permission_hint`` likewise replaces a plain 403's advice with the permission the
    called API needs.
    """
    details: Mapping[str, Any] = {}
    message = ""
    if isinstance(body, Mapping):
        raw_details = body.get("details")
        details = raw_details if isinstance(raw_details, Mapping) else {}
        message = str(body.get("message") or "")
    app_error = details.get("applicationError")
    validation = details.get("validationError")
    code: str | None = None
    description = ""
    data: Mapping[str, Any] = {}
    violations: list[dict[str, Any]] = []
    if isinstance(validation, Mapping):
        raw = validation.get("fieldViolations")
        violations = [v for v in raw if isinstance(v, dict)] if isinstance(raw, list) else []
        description = _describe_violations(violations) or message
    if isinstance(app_error, Mapping):
        code = str(app_error.get("code") or "") or None
        description = description or str(app_error.get("description") or "")
        raw_data = app_error.get("data")
        data = raw_data if isinstance(raw_data, Mapping) else {}
    code = code or STATUS_CODES.get(status) or f"HTTP_{status}"
    secrets = tuple(secrets)
    # Wix may echo input back (e.g. a rejected field's value): scrub everything kept on the error.
    violations = _redact_value(violations, secrets)
    data = _redact_value(data, secrets)
    description = redact(description or message, secrets)
    cls = error_class_for(status, code)
    text = f"Wix {method} failed: HTTP {status} {code}"
    if description:
        text += f": {description}"
    hint = cls.default_hint
    if auth_hint and cls is WixAuthenticationError:
        hint = auth_hint
    elif permission_hint and cls is WixPermissionError:
        hint = permission_hint
    text += f". {hint}"
    if note:
        text += f" {note}"
    if request_id:
        text += f" (Wix request id {request_id})"
    return cls(
        redact(text, secrets),
        status=status,
        code=code,
        description=description,
        request_id=request_id,
        field_violations=violations,
        method=method,
        attempts=attempts,
        data=data,
    )
