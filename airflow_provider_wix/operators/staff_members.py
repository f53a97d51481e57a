"""Operators for the Wix Bookings Staff Members API: who works here, and which schedule is theirs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_wix.hooks import DEFAULT_WIX_CONN_ID
from airflow_provider_wix.operators.base import WixBaseOperator
from airflow_provider_wix.utils.templated_arguments import as_optional_bool, as_optional_text, as_str_list

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.sdk import Context


class ListStaffMembersOperator(WixBaseOperator):
    """List the site's staff members with the schedule each one connects external calendars to.

    Returns one dict per staff member (XCom ``return_value``): ``id``, ``name``, ``email`` (empty when
    Wix hides it; ``email_hidden_reason`` says why), ``schedule_id`` (``resource.eventsSchedule.id``,
    what Connect By OAuth takes), ``service_provider``, ``created_date``, ``updated_date`` and a few
    more (see :class:`~airflow_provider_wix.client.models.StaffMember`).

    :param service_providers: ``True`` (default) only staff who can be booked, ``False`` only staff
        who provide no services, ``None`` everybody (templated).
    :param emails: Only these e-mails, exact as stored in Wix (templated).
    :param names: Only these names, exact as stored in Wix (templated).
    :param changed_since: Only staff created or updated at or after this RFC 3339 time, e.g.
        ``"{{ data_interval_start }}"`` (templated).
    :param page_size: Staff members per Query Staff Members request (1..100).
    :param wix_conn_id: The Airflow connection to Wix (templated).
    """

    template_fields: Sequence[str] = ("service_providers", "emails", "names", "changed_since", "wix_conn_id")

    def __init__(
        self,
        *,
        service_providers: bool | str | None = True,
        emails: str | Sequence[str] | None = None,
        names: str | Sequence[str] | None = None,
        changed_since: str | None = None,
        page_size: int = 100,
        wix_conn_id: str = DEFAULT_WIX_CONN_ID,
        **kwargs: Any,
    ) -> None:
        from airflow_provider_wix.client.validation import MAX_STAFF_PAGE_SIZE, validate_page_size

        super().__init__(wix_conn_id=wix_conn_id, **kwargs)
        self.service_providers = service_providers
        self.emails = emails
        self.names = names
        self.changed_since = changed_since
        self.page_size = validate_page_size(page_size, MAX_STAFF_PAGE_SIZE)

    def execute_wix(self, context: Context) -> list[dict[str, Any]]:
        service_providers = as_optional_bool(self.service_providers, "service_providers")
        emails = as_str_list(self.emails, "emails")
        names = as_str_list(self.names, "names")
        if emails == [] or names == []:
            self.log.info("An empty e-mail or name list matches nobody: no staff to list")
            return []
        staff = self.hook.query_staff_members(
            service_providers=service_providers,
            emails=emails,
            names=names,
            changed_since=as_optional_text(self.changed_since),
            page_size=self.page_size,
        )
        hidden = [m for m in staff if not m.email]
        self.log.info("Wix lists %d staff member(s): %s", len(staff), ", ".join(m.label for m in staff) or "nobody")
        if hidden:
            self.log.warning(
                "%d staff member(s) without a visible e-mail (%s). %s.",
                len(hidden),
                ", ".join(m.label for m in hidden),
                hidden[0].email_hidden_reason,
            )
        without_schedule = [m.label for m in staff if not m.schedule_id]
        if without_schedule:
            self.log.warning(
                "Wix sent no resource.eventsSchedule.id for %s; they cannot be connected to a calendar",
                ", ".join(without_schedule),
            )
        return [m.to_dict() for m in staff]
