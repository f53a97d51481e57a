"""``EventQuery``: the arguments of List Events, validated once and passed along as one value.

The client, the hook and ``ListEventsOperator`` all take the same eight arguments; they are written here
only, checked when the query is built (a malformed id or a naive datetime fails before any request), and
turned into the wire parameters in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow_provider_wix.client.validation import (
    validate_fieldsets,
    validate_guid_list,
    validate_page_size,
    validate_time_window,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["EventQuery", "TimeLike"]

#: ``from_``/``to``: an aware datetime (pendulum works) or an RFC 3339 string with an offset.
TimeLike = datetime | str

Params = list[tuple[str, str]]


def _ids(values: Iterable[str] | str | None, name: str) -> tuple[str, ...] | None:
    """``None`` stays ``None`` (no filter); anything else becomes a tuple of checked GUIDs."""
    return None if values is None else tuple(validate_guid_list(values, name))


@dataclass(frozen=True)
class EventQuery:
    """One List Events query: a time window, optional filters and how to page.

    ``from_``/``to`` are timezone-aware datetimes or RFC 3339 strings; events overlapping the window are
    included. After construction they hold the UTC wire text, and the id lists hold tuples of GUIDs
    (``None`` = no filter). ``fieldsets=["OWN_PI"]`` adds titles and names (personal information).
    Raises ``WixInvalidRequestError`` for anything Wix would reject.
    """

    from_: TimeLike
    to: TimeLike
    schedule_ids: Iterable[str] | str | None = None
    user_ids: Iterable[str] | str | None = None
    all_day: bool | None = None
    fieldsets: Iterable[str] | str | None = None
    page_size: int = 1000
    partial_failure: bool = False
    _params: Params = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        start, end = validate_time_window(self.from_, self.to)
        schedule_ids = _ids(self.schedule_ids, "schedule_ids")
        user_ids = _ids(self.user_ids, "user_ids")
        fieldsets = tuple(validate_fieldsets(self.fieldsets))
        page_size = validate_page_size(self.page_size)
        all_day = None if self.all_day is None else bool(self.all_day)
        for name, value in (
            ("from_", start),
            ("to", end),
            ("schedule_ids", schedule_ids),
            ("user_ids", user_ids),
            ("all_day", all_day),
            ("fieldsets", fieldsets),
            ("page_size", page_size),
            ("partial_failure", bool(self.partial_failure)),
        ):
            object.__setattr__(self, name, value)
        params: Params = [("from", start), ("to", end)]
        params += [("scheduleIds", s) for s in schedule_ids or ()]
        params += [("userIds", u) for u in user_ids or ()]
        if all_day is not None:
            params.append(("allDay", "true" if all_day else "false"))
        params += [("fieldsets", f) for f in fieldsets]
        object.__setattr__(self, "_params", params)

    @classmethod
    def of(cls, *args: Any, **kwargs: Any) -> EventQuery:
        """An ``EventQuery`` given as the only argument, or one built from ``EventQuery``'s arguments.

        Lets the client and hook methods take either ``(query)`` or ``(from_, to, schedule_ids=..., ...)``.
        """
        if len(args) == 1 and not kwargs and isinstance(args[0], EventQuery):
            return args[0]
        return cls(*args, **kwargs)

    @property
    def matches_nothing(self) -> bool:
        """An empty id list was given: e.g. an upstream task found no schedules, so no events match."""
        return self.schedule_ids == () or self.user_ids == ()

    def first_page_params(self) -> Params:
        """The first request's query: the window, the filters and the page size."""
        return [*self._params, self.page_size_param(), *self.tail_params()]

    def page_size_param(self) -> tuple[str, str]:
        return ("cursorPaging.limit", str(self.page_size))

    def tail_params(self) -> Params:
        """What every page repeats after the cursor (the cursor itself carries the rest of the query)."""
        return [("partialFailure", "true")] if self.partial_failure else []
