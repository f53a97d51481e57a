"""Wix error bodies, built in one place so every route answers errors in the documented wire format.

Application errors: ``{"message", "details": {"applicationError": {"code", "description", "data"}}}``;
validation errors: ``{"message", "details": {"validationError": {"fieldViolations": [...]}}}``;
system (5xx) errors: ``{"message": "", "details": {}}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "FieldViolation",
    "WixErrorReply",
    "application_error",
    "not_found",
    "permission_denied",
    "rate_limited",
    "system_error",
    "unauthenticated",
    "validation_error",
]

# The canonical code Wix uses for a status when no custom application code applies.
# Deliberately a copy of what client/errors.py also knows: the emulator is written from Wix's API
# description, never from the client it tests, so a client mistake cannot hide in a shared table.
CANONICAL_CODES: dict[int, str] = {
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


@dataclass(frozen=True)
class FieldViolation:
    """One entry of ``details.validationError.fieldViolations``."""

    field: str
    description: str
    violated_rule: str = "FORMAT"
    data: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "field": self.field,
            "description": self.description,
            "violatedRule": self.violated_rule,
        }
        if self.data:
            out["data"] = dict(self.data)
        return out


@dataclass(eq=False)  # exceptions must stay hashable
class WixErrorReply(Exception):
    """An error answer the emulator sends: the state raises it, the HTTP layer renders ``body()`` with
    ``status``. (The client's ``WixError`` is what a caller gets from such an answer; they share no code.)"""

    status: int
    message: str
    code: str | None = None
    description: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    violations: list[FieldViolation] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(f"{self.status} {self.code or ''} {self.message}".strip())

    def body(self) -> dict[str, Any]:
        if self.violations:
            return {
                "message": self.message,
                "details": {"validationError": {"fieldViolations": [v.to_json() for v in self.violations]}},
            }
        if self.status >= 500:
            return {"message": "", "details": {}}
        return {
            "message": self.message,
            "details": {
                "applicationError": {
                    "code": self.code or CANONICAL_CODES.get(self.status, "UNKNOWN"),
                    "description": self.description or self.message,
                    "data": dict(self.data),
                }
            },
        }


def application_error(status: int, code: str, description: str) -> WixErrorReply:
    """A documented application error, e.g. 428 ``NOT_SUPPORTED_BY_PROVIDER``."""
    return WixErrorReply(status, description, code=code, description=description)


def validation_error(*violations: FieldViolation) -> WixErrorReply:
    """A 400 with field violations; the message names the first one, like Wix does."""
    first = violations[0]
    return WixErrorReply(400, f'INVALID_ARGUMENT: "{first.field}" {first.description}', violations=list(violations))


def not_found(message: str) -> WixErrorReply:
    return WixErrorReply(404, message)


def unauthenticated(message: str) -> WixErrorReply:
    return WixErrorReply(401, message)


def permission_denied(message: str) -> WixErrorReply:
    return WixErrorReply(403, message)


def rate_limited(retry_after: int) -> WixErrorReply:
    return WixErrorReply(429, "Too many requests", headers={"Retry-After": str(retry_after)})


def system_error(status: int = 500) -> WixErrorReply:
    return WixErrorReply(status, "")
