"""Local checks of call arguments, run before any request is sent.

Catching a malformed id or a naive datetime here gives the DAG author a precise message at once, instead
of a retried round trip ending in a terse 400 (or, worse, a silently wrong time window).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_wix.client.errors import WixInvalidRequestError

__all__ = [
    "MAX_FILTER_IDS",
    "MAX_PAGE_SIZE",
    "MAX_STAFF_PAGE_SIZE",
    "MAX_SYNC_CALENDARS",
    "base_url_problem",
    "check_calendar_count",
    "format_timestamp",
    "is_guid",
    "parse_timestamp",
    "validate_base_url",
    "validate_connection_id",
    "validate_email",
    "validate_fieldsets",
    "validate_guid",
    "validate_guid_list",
    "validate_http_url",
    "validate_page_size",
    "validate_password",
    "validate_sync_config",
    "validate_text_list",
    "validate_time_window",
]

MAX_PAGE_SIZE = 1000
#: Query Staff Members returns at most this many per page.
MAX_STAFF_PAGE_SIZE = 100
MAX_FILTER_IDS = 100
#: Calendar ids one sync config may import from. Wix documents no maximum; 100 is the limit Wix sets
#: on every other id list of this API and far above the calendars one person's account holds.
MAX_SYNC_CALENDARS = 100

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_RFC3339 = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[Tt ](?P<time>\d{2}:\d{2}:\d{2})(?:\.(?P<frac>\d{1,9}))?"
    r"(?P<tz>[Zz]|[+-]\d{2}:\d{2})$"
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def validate_guid(value: object, name: str) -> str:
    """Return ``value`` as a GUID string; Wix ids for providers, schedules and users are GUIDs."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if not isinstance(value, str) or not _GUID.match(value.strip()):
        raise WixInvalidRequestError(f"{name} must be a GUID like 89e20858-bfa1-462b-b813-074fb1e4d62f, got {value!r}")
    return value.strip()


def is_guid(value: object) -> bool:
    """Whether ``value`` is a GUID (an id rather than, say, a provider's name)."""
    return isinstance(value, uuid.UUID) or (isinstance(value, str) and bool(_GUID.match(value.strip())))


def validate_guid_list(
    values: Iterable[object] | str | None, name: str, *, limit: int | None = MAX_FILTER_IDS
) -> list[str]:
    """Validate an optional list of GUIDs (a single string counts as one id), dropping duplicates.

    ``limit``: at most that many ids, as one request's filter takes (``None``: any number).
    """
    if values is None:
        return []
    items: Iterable[object] = [values] if isinstance(values, (str, uuid.UUID)) else values
    if isinstance(items, Mapping) or not isinstance(items, Iterable):
        raise WixInvalidRequestError(f"{name} must be a list of GUIDs, got {type(values).__name__}")
    ids = list(dict.fromkeys(validate_guid(v, f"each of {name}") for v in items))
    if limit is not None and len(ids) > limit:
        raise WixInvalidRequestError(f"{name} accepts at most {limit} ids per call, got {len(ids)}; split the call")
    return ids


def validate_connection_id(value: object) -> str:
    """Connection ids are opaque (not GUIDs); only require a non-empty single-line string."""
    if not isinstance(value, str) or not value.strip() or any(c.isspace() for c in value.strip()):
        raise WixInvalidRequestError(
            f"connection_id must be a non-empty string without spaces (from List Connections or the "
            f"OAuth callback), got {value!r}"
        )
    return value.strip()


def validate_http_url(value: object, name: str) -> str:
    """Require an absolute http(s) URL with a host, as Wix's WEB_URL format does."""
    text = value.strip() if isinstance(value, str) else ""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in text):
        raise WixInvalidRequestError(f"{name} must be an absolute http(s) URL with a host, got {value!r}")
    return text


def base_url_problem(text: str) -> str | None:
    """Why ``text`` cannot be a base URL that paths are appended to, or ``None`` when it can.

    A base URL must be absolute http(s) with a host and nothing after the path: a query or fragment
    would end up in the middle of every URL built on it, and credentials would be sent to everyone.
    """
    if not text:
        return "it is empty"
    if any(c.isspace() or not c.isprintable() for c in text):
        return "it contains spaces or control characters"
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number from 0 to 65535
    except ValueError as exc:
        return f"it is not a valid URL ({exc})"
    if "://" not in text:
        return f"it has no scheme; did you mean 'https://{text}'?"
    if parts.scheme.lower() not in ("http", "https"):
        return f"the scheme {parts.scheme!r} is not http or https"
    if not parts.hostname:
        return "it has no host"
    if "@" in parts.netloc:
        return "it contains credentials (user@host)"
    if "?" in text:
        return "it has a query ('?...'), which would break the URLs built on it"
    if "#" in text:
        return "it has a fragment ('#...'), which would break the URLs built on it"
    return None


def validate_base_url(value: object, name: str, example: str) -> str:
    """Return ``value`` without its trailing ``/`` if :func:`base_url_problem` finds nothing wrong.

    The message quotes the bad value (credentials in it are masked) so that the setting is easy to find.
    """
    text = value.strip() if isinstance(value, str) else ""
    problem = base_url_problem(text) if isinstance(value, str) else f"it is a {type(value).__name__}"
    if problem:
        shown = re.sub(r"(?<=://)[^/@]*@", "***@", value) if isinstance(value, str) else value
        raise WixInvalidRequestError(
            f"{name} must be an absolute http(s) URL without query or fragment, such as {example}; "
            f"got {shown!r}: {problem}"
        )
    return text.rstrip("/")


def validate_email(value: object) -> str:
    if not isinstance(value, str) or not _EMAIL.match(value.strip()):
        # The address is not secret, but keep it short in case a password was pasted by mistake.
        raise WixInvalidRequestError("email must be an email address like jane.doe@example.com")
    return value.strip()


def validate_password(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise WixInvalidRequestError("password must be a non-empty string")
    return value


def parse_timestamp(value: object, name: str) -> datetime:
    """Accept an aware ``datetime`` (pendulum included) or an RFC 3339 string with an offset."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise WixInvalidRequestError(
                f"{name} must be timezone-aware; got the naive datetime {value.isoformat()}. "
                "Use pendulum.datetime(..., tz='UTC') or datetime(..., tzinfo=timezone.utc)"
            )
        return value
    if isinstance(value, date):
        raise WixInvalidRequestError(f"{name} must be a timezone-aware date-time, not the date {value}")
    if isinstance(value, str):
        match = _RFC3339.match(value.strip())
        if match:
            frac = (match["frac"] or "0")[:6].ljust(6, "0")
            tz = "+00:00" if match["tz"] in ("Z", "z") else match["tz"]
            try:
                return datetime.fromisoformat(f"{match['date']}T{match['time']}.{frac}{tz}")
            except ValueError:
                pass
        raise WixInvalidRequestError(
            f"{name} must be an RFC 3339 date-time with a timezone like 2026-10-05T00:00:00Z, got {value!r}"
        )
    raise WixInvalidRequestError(f"{name} must be a datetime or RFC 3339 string, got {type(value).__name__}")


def format_timestamp(value: datetime) -> str:
    """Wire format used in Wix's examples: UTC, millisecond precision, ``Z`` suffix."""
    utc = value.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def validate_time_window(from_: object, to: object) -> tuple[str, str]:
    """Return ``(from, to)`` in wire format after checking both are aware and ``from`` < ``to``."""
    start = parse_timestamp(from_, "from_")
    end = parse_timestamp(to, "to")
    start_text, end_text = format_timestamp(start), format_timestamp(end)
    # Compare at the precision sent on the wire (equal text = equal instant on the wire).
    if not start_text < end_text:
        raise WixInvalidRequestError(f"from_ ({start_text}) must be earlier than to ({end_text})")
    return start_text, end_text


def validate_page_size(value: object, maximum: int = MAX_PAGE_SIZE) -> int:
    """Page sizes differ per method: List Events takes up to 1000, Query Staff Members up to 100."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise WixInvalidRequestError(f"page_size must be an integer from 1 to {maximum}, got {value!r}")
    return value


def validate_text_list(values: Iterable[object] | str | None, name: str, max_length: int) -> list[str]:
    """An optional list of non-empty, single-line strings (a single string counts as one), deduplicated."""
    if values is None:
        return []
    items: Iterable[object] = [values] if isinstance(values, str) else values
    if isinstance(items, Mapping) or not isinstance(items, Iterable):
        raise WixInvalidRequestError(f"{name} must be a list of strings, got {type(values).__name__}")
    result: list[str] = []
    for item in items:
        text = item.strip() if isinstance(item, str) else ""
        if not text or len(text) > max_length or "\n" in text:
            raise WixInvalidRequestError(
                f"each of {name} must be a non-empty single-line string of at most {max_length} characters, "
                f"got {item!r}"
            )
        result.append(text)
    return list(dict.fromkeys(result))


def validate_fieldsets(values: Iterable[object] | str | None) -> list[str]:
    if values is None:
        return []
    from airflow_provider_wix.client.models import Fieldset

    items: Iterable[object] = [values] if isinstance(values, str) else values
    allowed = [f.value for f in Fieldset]
    result: list[str] = []
    for item in items:
        text = str(item.value if isinstance(item, Fieldset) else item).strip().upper()
        if text not in allowed:
            raise WixInvalidRequestError(f"fieldsets accepts {' / '.join(allowed)}, got {item!r}")
        result.append(text)
    return list(dict.fromkeys(result))


def validate_sync_config(value: object) -> dict[str, Any]:
    """Check the documented shape (``calendars.calendars[]`` nesting, one mode per side).

    Hand-written configs most often get the double nesting wrong, which Wix would reject (or ignore);
    :func:`~airflow_provider_wix.client.models.build_sync_config` always produces the right shape.
    """
    if not isinstance(value, Mapping):
        raise WixInvalidRequestError("sync_config must be a mapping; build one with build_sync_config()")
    known = {"listEventFromCalendars", "syncToCalendar"}
    if "syncConfig" in value:
        raise WixInvalidRequestError("pass the sync config itself, not the {'syncConfig': ...} request wrapper")
    if not known & value.keys():
        raise WixInvalidRequestError(
            "sync_config needs listEventFromCalendars and/or syncToCalendar; build one with build_sync_config()"
        )
    unknown = set(value.keys()) - known
    if unknown:
        raise WixInvalidRequestError(f"sync_config has unknown keys {sorted(unknown)}; expected {sorted(known)}")
    _check_side(value.get("listEventFromCalendars"), "listEventFromCalendars", {"primaryCalendar", "calendars"})
    _check_side(value.get("syncToCalendar"), "syncToCalendar", {"primaryCalendar", "dedicatedCalendar"})
    listing = value.get("listEventFromCalendars")
    if isinstance(listing, Mapping) and "calendars" in listing:
        outer = listing["calendars"]
        inner = outer.get("calendars") if isinstance(outer, Mapping) else None
        if not isinstance(inner, list) or not all(
            isinstance(c, Mapping) and isinstance(c.get("id"), str) and c["id"].strip() for c in inner
        ):
            raise WixInvalidRequestError(
                "listEventFromCalendars.calendars must be {'calendars': [{'id': ...}, ...]} (note the "
                "double nesting calendars.calendars[])"
            )
        check_calendar_count(len(inner), "sync_config.listEventFromCalendars.calendars.calendars")
    return dict(value)


def check_calendar_count(count: int, name: str) -> None:
    """Refuse more calendars than :data:`MAX_SYNC_CALENDARS` before anything is sent."""
    if count > MAX_SYNC_CALENDARS:
        raise WixInvalidRequestError(
            f"{name} lists {count} calendars; a sync config imports from at most {MAX_SYNC_CALENDARS}. "
            "Pick the calendars with List Calendars, or use 'primary'"
        )


def _check_side(side: object, name: str, modes: set[str]) -> None:
    if side is None:
        return
    if not isinstance(side, Mapping):
        raise WixInvalidRequestError(f"sync_config.{name} must be a mapping")
    chosen = modes & side.keys()
    if len(chosen) > 1:
        raise WixInvalidRequestError(f"sync_config.{name} must set only one of {sorted(modes)}")
    if side.get("enabled") and not chosen:
        raise WixInvalidRequestError(f"sync_config.{name} is enabled but sets none of {sorted(modes)}")
