"""Wix's wire format on the HTTP side: JSON answers, JSON bodies, and the field checks routes share.

Field checks collect :class:`FieldViolation`s so one 400 names every bad field, as Wix does.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from fastapi.responses import Response

from airflow_provider_wix.emulator.errors import FieldViolation, WixErrorReply, validation_error
from airflow_provider_wix.emulator.events import parse_rfc3339_ms
from airflow_provider_wix.emulator.model import is_guid

if TYPE_CHECKING:
    from fastapi import Request

__all__ = [
    "MAX_FILTER_IDS",
    "MAX_PAGE_SIZE",
    "error_response",
    "guid_list",
    "is_web_url",
    "json_body",
    "json_response",
    "optional_bool",
    "page_limit",
    "raise_violations",
    "require_guid",
    "require_string",
    "require_time",
    "system_error_response",
]

MAX_PAGE_SIZE = 1000
MAX_FILTER_IDS = 100


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def error_response(exc: WixErrorReply) -> Response:
    return json_response(exc.body(), exc.status, exc.headers or None)


def system_error_response(status: int = 500) -> Response:
    """A 5xx as Wix's gateway sends it: no message, no details."""
    return json_response({"message": "", "details": {}}, status)


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object (``{}`` for an empty body); 400 if it is not one."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise WixErrorReply(400, "INVALID_ARGUMENT: the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise WixErrorReply(400, "INVALID_ARGUMENT: the request body must be a JSON object")
    return data


def raise_violations(violations: list[FieldViolation]) -> None:
    if violations:
        raise validation_error(*violations)


def optional_bool(value: str | None, name: str, violations: list[FieldViolation]) -> bool | None:
    if value is None or value == "":
        return None
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    violations.append(FieldViolation(name, "must be true or false", "FORMAT", {"expected": "BOOLEAN"}))
    return None


def guid_list(values: list[str], name: str, violations: list[FieldViolation]) -> tuple[str, ...]:
    if len(values) > MAX_FILTER_IDS:
        violations.append(
            FieldViolation(name, f"must have at most {MAX_FILTER_IDS} items", "MAX_SIZE", {"max": MAX_FILTER_IDS})
        )
    for n, value in enumerate(values):
        if not is_guid(value):
            violations.append(FieldViolation(f"{name}[{n}]", "must be a valid GUID", "FORMAT", {"expected": "GUID"}))
    return tuple(values)


def _required(body: dict[str, Any], name: str, violations: list[FieldViolation]) -> Any:
    """The field's value, or ``None`` with a REQUIRED_FIELD violation when it is missing or empty."""
    value = body.get(name)
    if value is None or value == "":
        violations.append(FieldViolation(name, "is required", "REQUIRED_FIELD"))
        return None
    return value


def require_guid(body: dict[str, Any], name: str, violations: list[FieldViolation]) -> str:
    value = _required(body, name, violations)
    if value is None:
        return ""
    if not is_guid(value):
        violations.append(FieldViolation(name, "must be a valid GUID", "FORMAT", {"expected": "GUID"}))
        return ""
    return str(value)


def require_string(body: dict[str, Any], name: str, violations: list[FieldViolation]) -> str:
    value = _required(body, name, violations)
    if value is None:
        return ""
    if not isinstance(value, str):
        violations.append(FieldViolation(name, "must be a string", "FORMAT"))
        return ""
    return value


def is_web_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def page_limit(value: str | None, violations: list[FieldViolation]) -> int | None:
    """``cursorPaging.limit``: ``None`` for absent or 0 (the default page size)."""
    if value is None or value == "":
        return None
    try:
        limit = int(value)
    except ValueError:
        violations.append(FieldViolation("cursorPaging.limit", "must be an integer", "FORMAT", {"expected": "INTEGER"}))
        return None
    if limit > MAX_PAGE_SIZE:
        violations.append(
            FieldViolation(
                "cursorPaging.limit", f"must be at most {MAX_PAGE_SIZE}", "MAX", {"threshold": MAX_PAGE_SIZE}
            )
        )
    elif limit < 0:
        violations.append(FieldViolation("cursorPaging.limit", "must be at least 0", "MIN", {"threshold": 0}))
    return limit or None  # 0 means "the default"


def require_time(value: str | None, name: str, violations: list[FieldViolation]) -> int:
    """An RFC 3339 query parameter as epoch milliseconds."""
    if value is None or value == "":
        violations.append(FieldViolation(name, "is required", "REQUIRED_FIELD"))
        return 0
    try:
        return parse_rfc3339_ms(value)
    except ValueError:
        violations.append(FieldViolation(name, "must be an RFC 3339 date-time", "FORMAT", {"expected": "DATE_TIME"}))
        return 0
