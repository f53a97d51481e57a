"""Operators for the Wix Bookings External Calendars v2 API."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, cast

from airflow_provider_wix.hooks import DEFAULT_WIX_CONN_ID
from airflow_provider_wix.links.external_calendars import WixAuthorizeCalendarLink
from airflow_provider_wix.operators.base import WixBaseOperator
from airflow_provider_wix.utils.templated_arguments import (
    as_optional_bool,
    as_optional_text,
    as_str_list,
    is_none_text,
    parse_literal,
)
from airflow_provider_wix.version_compat import AirflowFailException, AirflowSkipException

if TYPE_CHECKING:
    from airflow.sdk import BaseNotifier, Context, ObjectStoragePath

    from airflow_provider_wix.client.models import (
        Calendar,
        CalendarConnection,
        Event,
        ExportTo,
        ImportFrom,
        Provider,
    )
    from airflow_provider_wix.client.queries import EventQuery
    from airflow_provider_wix.hooks.wix import WixHook


class _OAuthLinkOperator(WixBaseOperator):
    """What issuing an owner's OAuth link takes, shared by the single and the batch Connect operators."""

    def __init__(
        self,
        *,
        notifier: BaseNotifier | Sequence[BaseNotifier] | None = None,
        state_ttl: timedelta = timedelta(days=7),
        detect_via_api: bool = False,
        wix_conn_id: str = DEFAULT_WIX_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(wix_conn_id=wix_conn_id, **kwargs)
        if notifier is None:
            self.notifiers: list[BaseNotifier] = []
        elif isinstance(notifier, Sequence):
            self.notifiers = list(notifier)
        else:
            self.notifiers = [notifier]
        # Checked here: a notifier that cannot be called would fail only after Wix issued the link.
        for item in self.notifiers:
            if not callable(item):
                raise ValueError(f"notifier must be a notifier such as SmtpNotifier(...), got {type(item).__name__}")
        if not isinstance(state_ttl, timedelta) or state_ttl <= timedelta(0):
            raise ValueError(f"state_ttl must be a positive timedelta, got {state_ttl!r}")
        self.state_ttl = state_ttl
        self.detect_via_api = detect_via_api

    def _check_callback_url(self, hook: WixHook) -> None:
        """Fail before any request when Airflow's callback route has no absolute URL."""
        from airflow_provider_wix.callback.state import callback_redirect_url

        callback_redirect_url(hook.callback_base_url, "", wix_conn_id=self.wix_conn_id)  # raises if there is none

    def _issue_link(
        self,
        hook: WixHook,
        ti: Any,
        schedule_id: str,
        provider_id: str,
        names: Mapping[str, str | None],
        *,
        redirect_url: str | None = None,
        batch: str | None = None,
    ) -> tuple[str | None, str]:
        """Issue one owner's link: a fresh state and its flow record, then Connect By OAuth.

        Returns ``(flow_id, oauth_url)``. ``names`` (``provider_name``, ``owner_name``) go into the flow
        record for the owner's landing page. The flow record is saved before Wix is asked, so an owner
        who answers at once finds it; it is deleted again if Wix fails (the link was never handed
        out). ``batch`` names the batch whose answer list the callback route updates (one flow of
        a :class:`BatchConnectByOAuthOperator`), instead of a waiting task to resume.
        """
        from airflow.sdk.log import mask_secret

        from airflow_provider_wix.callback.state import callback_redirect_url, new_state_token, state_digest
        from airflow_provider_wix.callback.store import discard_flow

        flow_id: str | None = None
        if redirect_url is None:
            state = new_state_token()
            mask_secret(state)  # no log line of this task may show it, should Wix echo it in the oauthUrl
            redirect_url = callback_redirect_url(hook.callback_base_url, state, wix_conn_id=self.wix_conn_id)
            flow_id = state_digest(state)
            self._save_flow(hook, ti, flow_id, redirect_url, schedule_id, provider_id, names, batch=batch)
        try:
            oauth_url = hook.connect_by_oauth(provider_id, schedule_id, redirect_url)
        except BaseException:
            if flow_id is not None:
                discard_flow(flow_id)  # the link was never handed out: leave nothing behind
            raise
        if flow_id is not None:
            self.log.info("Issued OAuth flow %s for schedule %s", flow_id, schedule_id)
        self.log.info("Open this URL to authorize the calendar for schedule %s: %s", schedule_id, oauth_url)
        return flow_id, oauth_url

    def _save_flow(
        self,
        hook: WixHook,
        ti: Any,
        flow_id: str,
        redirect_url: str,
        schedule_id: str,
        provider_id: str,
        names: Mapping[str, str | None],
        *,
        batch: str | None = None,
    ) -> None:
        """Store the flow record, with the redirect URL (the state) in its masked secret field."""
        from airflow_provider_wix.callback.state import FlowRecord
        from airflow_provider_wix.callback.store import register_batch_waiter, replace_task_flow, save_flow

        record = FlowRecord.issue(
            dag_id=ti.dag_id,
            run_id=ti.run_id,
            task_id=ti.task_id,
            map_index=ti.map_index,
            schedule_id=schedule_id,
            provider_id=provider_id,
            ttl=self.state_ttl,
            redirect_url=redirect_url,
            provider_name=names["provider_name"],
            owner_name=names["owner_name"],
        )
        if self.detect_via_api:
            existing = hook.list_connections(schedule_ids=[schedule_id])
            record = record.with_existing_connections([c["id"] for c in existing if c.get("id")])
        save_flow(flow_id, record)
        if batch is not None:
            register_batch_waiter(flow_id, batch)
        if previous := replace_task_flow(ti, flow_id, schedule_id if batch is not None else None):
            self.log.info("Withdrew OAuth flow %s of an earlier try of this task: its link no longer works", previous)

    def _log_where_the_link_is(self) -> None:
        from airflow_provider_wix.dashboard import dashboard_url

        self.log.info(
            "The same link is the 'Authorize calendar' button in the Airflow UI: open this task instance "
            "(Grid view: click this task), then its Details tab, under Extra Links. The Wix calendars "
            "dashboard lists every pending link: %s",
            dashboard_url(),
        )

    def _notify(self, context: Context, oauth_url: str, schedule_id: str) -> None:
        if not self.notifiers:
            return
        notify_context: dict[str, Any] = {**context, "oauth_url": oauth_url, "wix_schedule_id": schedule_id}
        for notifier in self.notifiers:
            # Rendering overwrites a notifier's template fields in place: render a copy, so each
            # run (and each mapped instance) e-mails its own owner.
            copy.copy(notifier)(notify_context)


class ConnectByOAuthOperator(_OAuthLinkOperator):
    """Start the OAuth connection of a schedule to an external calendar and hand over the ``oauthUrl``.

    Connecting by OAuth needs the calendar owner to approve at the provider, so this task only
    starts the flow: it issues a single-use ``state``, asks Wix for the consent URL with the redirect
    pointing at this Airflow's callback route, and returns the ``oauthUrl`` (XCom ``return_value``).
    The XCom key ``flow_id`` names the flow for a :class:`WixOAuthCallbackSensor`, which waits for
    the owner's decision: it is the SHA-256 digest of the state, never the state itself, because the
    state is the only credential of the anonymous callback and XCom is readable by every user who
    may read the DAG. The raw state exists only in the redirect URL sent to Wix (and, masked and
    Fernet-encrypted, in the flow record).

    :param schedule_id: The Wix schedule to connect (templated).
    :param provider_id: The provider's id from List Providers (templated).
    :param provider: Instead of ``provider_id``: a calendar type or name such as ``"GOOGLE"``,
        ``"MICROSOFT"`` or ``"Google Calendar"``, resolved through List Providers, or the provider
        object itself as List Providers returned it (e.g. an upstream task's XCom: no call) (templated).
    :param owner_name: The calendar owner's name, for the page the owner lands on after answering
        ("Thank you, Ada Lovelace."); empty: no name (templated). With ``provider`` given (not only an
        id), that page also names the calendar ("Your Google calendar is connected"). Both are kept in
        the flow record, so the callback route shows them without asking Wix.
    :param redirect_url: Send the owner somewhere else than Airflow's callback route. No state is
        issued then, so the sensor needs ``detect_via_api=True``.
    :param notifier: Notifier(s) called with the ``oauth_url`` (and ``wix_schedule_id``) added to
        their template context, e.g. an ``SmtpNotifier`` that e-mails the owner the link.
    :param state_ttl: How long the link may be used.
    :param detect_via_api: Also record the schedule's existing connections, so that a sensor with
        ``detect_via_api=True`` can tell the new connection apart.
    :param wix_conn_id: The Airflow connection to Wix (templated).
    """

    template_fields: Sequence[str] = (
        "schedule_id",
        "provider_id",
        "provider",
        "owner_name",
        "redirect_url",
        "wix_conn_id",
    )
    operator_extra_links = (WixAuthorizeCalendarLink(),)

    def __init__(
        self,
        *,
        schedule_id: str,
        provider_id: str | None = None,
        provider: str | Mapping[str, Any] | None = None,
        owner_name: str | None = None,
        redirect_url: str | None = None,
        notifier: BaseNotifier | Sequence[BaseNotifier] | None = None,
        state_ttl: timedelta = timedelta(days=7),
        detect_via_api: bool = False,
        wix_conn_id: str = DEFAULT_WIX_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            notifier=notifier, state_ttl=state_ttl, detect_via_api=detect_via_api, wix_conn_id=wix_conn_id, **kwargs
        )
        if (provider_id is None) == (provider is None):
            raise ValueError("Pass exactly one of provider_id and provider.")
        self.schedule_id = schedule_id
        self.provider_id = provider_id
        self.provider = provider
        self.owner_name = owner_name
        self.redirect_url = redirect_url

    def execute_wix(self, context: Context) -> str:
        from airflow_provider_wix.client.models import ConnectMethod
        from airflow_provider_wix.client.validation import validate_guid, validate_http_url

        schedule_id = validate_guid(self.schedule_id, "schedule_id")
        hook = self.hook
        # Everything local is checked before the first request: a misconfigured callback URL must
        # fail here, not after Wix was asked for a consent link.
        redirect_url = None if self.redirect_url is None else validate_http_url(self.redirect_url, "redirect_url")
        if redirect_url is None:
            self._check_callback_url(hook)
        # Fails (no retries) for a provider that connects otherwise, e.g. Apple by credentials.
        provider: Provider | None = None
        if self.provider is not None:  # an object looked up upstream costs no call
            provider = self.resolve_provider(
                self.provider if isinstance(self.provider, Mapping) else str(self.provider),
                method=ConnectMethod.OAUTH.value,
            )
            provider_id = str(provider["id"])
        else:
            provider_id = validate_guid(str(self.provider_id), "provider_id")

        names = _landing_page_names(provider, self.owner_name)
        flow_id, oauth_url = self._issue_link(
            hook, context["ti"], schedule_id, provider_id, names, redirect_url=redirect_url
        )
        context["ti"].xcom_push(key="flow_id", value=flow_id)
        self._log_where_the_link_is()
        self._notify(context, oauth_url, schedule_id)
        return oauth_url


class BatchConnectByOAuthOperator(_OAuthLinkOperator):
    """Issue the OAuth links of many schedules in one task, each exactly as :class:`ConnectByOAuthOperator` does.

    Bulk onboarding pays a worker task execution per task instance; one per schedule made the task
    executions, not Wix's rate limit, the bound of a large run. This task issues every link of its
    batch through the client's rate limiting and retries: each schedule gets its own state, flow
    record, notification and log line. The callback route lists each answer in the batch's answer
    Variable (XCom ``return_value["batch"]``), which one :class:`WixOAuthCallbackBatchSensor` watches.

    Idempotent per schedule: a retry (or a clear) of this task instance does not invite again an
    owner whose link from an earlier try is pending or answered; it reports them as ``already_invited``
    (a try that died between issuing a link and notifying its owner leaves that link in its log only).
    One schedule that Wix refuses does not stop the others: it is reported ``failed`` with the reason;
    a notifier that fails for one owner is logged, and the link is in the task log.

    Returns ``{"batch": <answer list key>, "flows": [{"schedule_id", "flow_id", "status", "detail"}]}``
    (``status``: ``invited``, ``already_invited`` or ``failed``) and pushes the links under the XCom key
    ``oauth_urls`` (schedule id -> link) for the Wix calendars dashboard.

    :param schedules: The schedules to connect: dicts with ``schedule_id``, ``provider`` (the provider
        object as List Providers returned it: no call, and the owner's landing page names it) or
        ``provider_id``, and optionally ``owner_name`` (for the landing page and the logs), e.g. a
        mapped XCom (templated). Every entry is checked
        before the first request.
    :param notifier: Notifier(s) called once per link, with ``oauth_url`` and ``wix_schedule_id`` added
        to their template context (as for :class:`ConnectByOAuthOperator`).
    :param state_ttl: How long each link may be used.
    :param wix_conn_id: The Airflow connection to Wix (templated).
    """

    template_fields: Sequence[str] = ("schedules", "wix_conn_id")

    def __init__(
        self,
        *,
        schedules: Sequence[Mapping[str, Any]] | str,
        notifier: BaseNotifier | Sequence[BaseNotifier] | None = None,
        state_ttl: timedelta = timedelta(days=7),
        wix_conn_id: str = DEFAULT_WIX_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(notifier=notifier, state_ttl=state_ttl, wix_conn_id=wix_conn_id, **kwargs)
        self.schedules = schedules

    def execute_wix(self, context: Context) -> dict[str, Any]:
        from airflow_provider_wix.callback.state import batch_key
        from airflow_provider_wix.callback.store import load_flow, noted_flow, open_batch
        from airflow_provider_wix.client.errors import WixError

        entries = self._entries()
        hook = self.hook
        self._check_callback_url(hook)
        ti = context["ti"]
        batch = batch_key(ti.dag_id, ti.run_id, ti.task_id, ti.map_index if ti.map_index is not None else -1)
        open_batch(batch, keep=True)
        flows: list[dict[str, Any]] = []
        urls: dict[str, str] = {}
        for schedule_id, provider, owner_name in entries:
            earlier = noted_flow(ti, schedule_id)
            record = load_flow(earlier) if earlier else None
            if earlier and record is not None and not record.is_expired():
                # Pending, or already answered during the earlier try: the wait reads its answer.
                self.log.info(
                    "Schedule %s: an earlier try issued its link (flow %s); not inviting again",
                    schedule_id,
                    earlier,
                )
                flows.append(
                    {
                        "schedule_id": schedule_id,
                        "owner_name": owner_name,
                        "flow_id": earlier,
                        "status": "already_invited",
                    }
                )
                continue
            try:
                names = _landing_page_names(provider if isinstance(provider, Mapping) else None, owner_name)
                provider_id = str(provider["id"]) if isinstance(provider, Mapping) else provider
                flow_id, oauth_url = self._issue_link(hook, ti, schedule_id, provider_id, names, batch=batch)
            except WixError as exc:  # already retried by the client; the other owners still get theirs
                self.log.warning("Schedule %s: Wix did not issue a link: %s", schedule_id, exc)
                flows.append(
                    {"schedule_id": schedule_id, "owner_name": owner_name, "flow_id": None, "status": "failed"}
                    | {"detail": str(exc)}
                )
                continue
            urls[schedule_id] = oauth_url
            flow = {"schedule_id": schedule_id, "owner_name": owner_name, "flow_id": flow_id, "status": "invited"}
            try:
                self._notify(context, oauth_url, schedule_id)
            except Exception as exc:  # e.g. the mail server refused one address: the others still get theirs
                self.log.warning(
                    "Schedule %s: the notifier failed (%s); the link is in the line above", schedule_id, exc
                )
                flow["detail"] = f"the notifier failed ({exc}); the link is in the log of this task"
            flows.append(flow)
        ti.xcom_push(key="oauth_urls", value=urls)
        self._log_where_the_links_are(len(urls))
        return {"batch": batch, "flows": flows}

    def _entries(self) -> list[tuple[str, Provider | str, str]]:
        """``(schedule_id, provider object or id, owner_name)`` of every entry; all problems before any request."""
        from airflow_provider_wix.client.errors import WixInvalidRequestError
        from airflow_provider_wix.client.models import ConnectMethod
        from airflow_provider_wix.client.validation import validate_guid

        raw: Any = self.schedules
        if isinstance(raw, str):
            raw = parse_literal(raw, "schedules")
        if not isinstance(raw, Sequence) or isinstance(raw, str):
            raise WixInvalidRequestError(f"schedules must be a list of dicts, got {type(raw).__name__}")
        entries: list[tuple[str, Provider | str, str]] = []
        problems: list[str] = []
        seen: set[str] = set()
        for n, entry in enumerate(raw):
            try:
                if not isinstance(entry, Mapping):
                    raise WixInvalidRequestError("must be a dict with schedule_id and provider (or provider_id)")
                schedule_id = validate_guid(entry.get("schedule_id"), "schedule_id")
                provider: Provider | str
                if isinstance(entry.get("provider"), Mapping):  # no call: looked up upstream
                    provider = self.resolve_provider(entry["provider"], method=ConnectMethod.OAUTH.value)
                else:
                    provider = validate_guid(entry.get("provider_id"), "provider_id")
                if schedule_id.lower() in seen:
                    raise WixInvalidRequestError(f"schedule {schedule_id} is listed twice")
            except WixInvalidRequestError as exc:
                problems.append(f"entry {n}: {exc}")
                continue
            seen.add(schedule_id.lower())
            entries.append((schedule_id, provider, str(entry.get("owner_name") or "").strip()))
        if problems:
            raise WixInvalidRequestError(f"schedules has {len(problems)} problem(s): " + "; ".join(problems))
        return entries

    def _log_where_the_links_are(self, issued: int) -> None:
        from airflow_provider_wix.dashboard import dashboard_url

        self.log.info(
            "Issued %d link(s); each is in a line above. The Wix calendars dashboard lists every pending link: %s",
            issued,
            dashboard_url(),
        )


# ---------------------------------------------------------------------------------------------------
# Operators for the rest of the API
# ---------------------------------------------------------------------------------------------------

#: Default ceiling on the events ``ListEventsOperator`` returns through XCom (kept in the metadata DB).
DEFAULT_MAX_XCOM_EVENTS = 5_000


class ListProvidersOperator(WixBaseOperator):
    """List the calendar providers the site offers, to pick a provider id and see what each can do.

    Returns the providers (XCom ``return_value``) with their ``features``: ``connectMethods``,
    ``updateSyncConfig``, ``listEventFromCalendars`` and ``syncToCalendar``.

    :param wix_conn_id: The Airflow connection to Wix (templated).
    """

    def execute_wix(self, context: Context) -> list[Provider]:
        providers = self.hook.list_providers()
        self.log.info("Wix offers %d calendar provider(s): %s", len(providers), _names(providers))
        return providers


class GetConnectionOperator(WixBaseOperator):
    """Fetch one external calendar connection, e.g. to read its ``status`` and ``syncConfig``.

    Returns the connection (XCom ``return_value``).

    :param connection_id: The Wix connection id, e.g. from the OAuth callback sensor (templated).
    :param wix_conn_id: The Airflow connection to Wix (templated).
    """

    template_fields: Sequence[str] = ("connection_id", "wix_conn_id")

    def __init__(self, *, connection_id: str, wix_conn_id: str = DEFAULT_WIX_CONN_ID, **kwargs: Any) -> None:
        super().__init__(wix_conn_id=wix_conn_id, **kwargs)
        self.connection_id = connection_id

    def execute_wix(self, context: Context) -> CalendarConnection:
        from airflow_provider_wix.client.validation import validate_connection_id

        connection = self.hook.get_calendar_connection(validate_connection_id(self.connection_id))
        self.log.info(
            "Connection %s (schedule %s) is %s",
            connection.get("id"),
            connection.get("scheduleId"),
            connection.get("status"),
        )
        return connection


class ListConnectionsOperator(WixBaseOperator):
    """List external calendar connections, e.g. to find the schedules that need (re-)onboarding.

    Wix filters by schedule; the status and provider filters are applied here so that a pipeline can
    ask for, say, the connections in ``ERROR``. Returns the matching connections (XCom
    ``return_value``).

    :param schedule_ids: Only these schedules (at most 100 GUIDs); ``None`` for all. An empty list
        matches nothing and sends no request, so an upstream task returning no schedules cannot turn
        into "all connections" (templated).
    :param statuses: Keep only connections in these statuses, e.g. ``["ERROR", "DISCONNECTED"]``
        (templated).
    :param provider: Keep only connections of this provider: its id, or a calendar type or name such
        as ``"GOOGLE"`` or ``"Apple Calendar"`` (resolved through List Providers) (templated).
    :param partial_failure: Succeed even when some providers cannot be reached (their ids are logged).
    :param wix_conn_id: The Airflow connection to Wix (templated).
    """

    template_fields: Sequence[str] = ("schedule_ids", "statuses", "provider", "wix_conn_id")

    def __init__(
        self,
        *,
        schedule_ids: str | Sequence[str] | None = None,
        statuses: str | Sequence[str] | None = None,
        provider: str | None = None,
        partial_failure: bool = False,
        wix_conn_id: str = DEFAULT_WIX_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(wix_conn_id=wix_conn_id, **kwargs)
        self.schedule_ids = schedule_ids
        self.statuses = statuses
        self.provider = provider
        self.partial_failure = partial_failure

    def execute_wix(self, context: Context) -> list[CalendarConnection]:
        from airflow_provider_wix.client.models import ConnectionStatus
        from airflow_provider_wix.client.validation import is_guid, validate_guid_list

        schedule_ids = as_str_list(self.schedule_ids, "schedule_ids")
        if schedule_ids is not None:
            schedule_ids = validate_guid_list(schedule_ids, "schedule_ids")
        wanted_statuses: set[str] | None = None
        statuses = as_str_list(self.statuses, "statuses")
        if statuses is not None:
            wanted_statuses = {s.upper() for s in statuses}
            unknown = wanted_statuses - {s.value for s in ConnectionStatus}
            if unknown:
                raise AirflowFailException(
                    f"statuses has unknown value(s) {sorted(unknown)}; "
                    f"use {', '.join(s.value for s in ConnectionStatus)}"
                )
        if schedule_ids == []:
            self.log.info("schedule_ids is empty: no connections to list")
            return []

        provider_key = as_optional_text(self.provider)
        provider_id: str | None = None
        if provider_key is not None:
            provider_id = provider_key if is_guid(provider_key) else self.resolve_provider(provider_key)["id"]

        connections = self.hook.list_connections(schedule_ids=schedule_ids, partial_failure=self.partial_failure)
        result = [
            c
            for c in connections
            if (wanted_statuses is None or str(c.get("status", "")).upper() in wanted_statuses)
            and (provider_id is None or str(c.get("providerId", "")).lower() == provider_id.lower())
        ]
        self.log.info("%d of %d connection(s) match", len(result), len(connections))
        return result


class ConnectByCredentialsOperator(WixBaseOperator):
    """Connect a schedule to a provider that signs in with an email and password (Apple iCloud).

    The password is read from an Airflow connection at run time, never from an operator argument, so
    it cannot end up in the DAG file, a rendered template field or an XCom; it is masked in the logs.
    For Apple, store the Apple ID as the connection's login and an app-specific password
    (appleid.apple.com) as its password. Connecting is not idempotent, so a task retry after a lost
    response may find the schedule already connected. Returns the new connection (status
    ``CONNECTED``; XCom ``return_value``); Wix then syncs in the background.

    :param schedule_id: The Wix schedule to connect (templated).
    :param credentials_conn_id: Airflow connection whose login is the account email and whose password
        is the account (app-specific) password (templated).
    :param provider_id: The provider's id from List Providers (templated).
    :param provider: Instead of ``provider_id``: a calendar type or name such as ``"I_CAL"`` or
        ``"Apple"``, resolved through List Providers and checked to accept credentials (templated).
        With neither, the site's only provider that accepts credentials is used.
    :param email: Use this account email instead of the connection's login (templated).
    :param wix_conn_id: The Airflow connection to Wix (templated).
    """

    template_fields: Sequence[str] = (
        "schedule_id",
        "credentials_conn_id",
        "provider_id",
        "provider",
        "email",
        "wix_conn_id",
    )

    def __init__(
        self,
        *,
        schedule_id: str,
        credentials_conn_id: str,
        provider_id: str | None = None,
        provider: str | None = None,
        email: str | None = None,
        wix_conn_id: str = DEFAULT_WIX_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(wix_conn_id=wix_conn_id, **kwargs)
        if provider_id is not None and provider is not None:
            raise ValueError("Pass at most one of provider_id and provider.")
        self.schedule_id = schedule_id
        self.credentials_conn_id = credentials_conn_id
        self.provider_id = provider_id
        self.provider = provider
        self.email = email

    def execute_wix(self, context: Context) -> CalendarConnection:
        from airflow.sdk import BaseHook
        from airflow.sdk.log import mask_secret

        from airflow_provider_wix.client.errors import WixBadCredentialsError, WixNotSupportedByProviderError
        from airflow_provider_wix.client.models import ConnectMethod
        from airflow_provider_wix.client.validation import validate_email, validate_guid

        schedule_id = validate_guid(self.schedule_id, "schedule_id")
        provider_id = as_optional_text(self.provider_id)
        if provider_id is not None:
            provider_id = validate_guid(provider_id, "provider_id")

        credentials = BaseHook.get_connection(self.credentials_conn_id)
        password = credentials.password or ""
        if password:
            mask_secret(password)
        email = as_optional_text(self.email) or (credentials.login or "").strip()
        if email:
            mask_secret(email)
        if not email:
            raise AirflowFailException(
                f"No account email: set the login of connection {self.credentials_conn_id!r} (or pass email=)."
            )
        if not password:
            raise AirflowFailException(
                f"Connection {self.credentials_conn_id!r} has no password; store the account's "
                "(app-specific) password in its password field."
            )
        validate_email(email)

        method = ConnectMethod.CREDENTIALS.value
        if provider_id is None:
            provider_key = as_optional_text(self.provider)
            if provider_key is not None:
                provider_id = self.resolve_provider(provider_key, method=method)["id"]
            else:
                provider_id = self._only_credentials_provider()["id"]

        try:
            connection = self.hook.connect_by_credentials(provider_id, schedule_id, email, password)
        except (WixBadCredentialsError, WixNotSupportedByProviderError) as exc:
            # Retrying cannot help, and repeated sign-in failures may get the account locked.
            raise AirflowFailException(
                f"{exc} Check the login and password of connection {self.credentials_conn_id!r} "
                "(for Apple: the Apple ID and an app-specific password) and the provider."
            ) from exc
        self.log.info(
            "Connected schedule %s by credentials: connection %s is %s",
            schedule_id,
            connection.get("id"),
            connection.get("status"),
        )
        return connection

    def _only_credentials_provider(self) -> Provider:
        from airflow_provider_wix.client.models import ConnectMethod

        providers = self.hook.list_providers()
        matches = [
            p
            for p in providers
            if ConnectMethod.CREDENTIALS.value in ((p.get("features") or {}).get("connectMethods") or [])
        ]
        if len(matches) != 1:
            raise AirflowFailException(
                f"{len(matches)} providers accept credentials ({_names(matches) or 'none'}); "
                "pass provider= or provider_id=."
            )
        return matches[0]


class ListCalendarsOperator(WixBaseOperator):
    """List the calendars inside a connected external account, to choose which ones to import from.

    Returns the calendars (``id`` and ``name``; XCom ``return_value``), whose ids go into
    ``UpdateSyncConfigOperator(import_from=[...])``.

    :param connection_id: The Wix connection id (templated).
    :param wix_conn_id: The Airflow connection to Wix (templated).
    """

    template_fields: Sequence[str] = ("connection_id", "wix_conn_id")

    def __init__(self, *, connection_id: str, wix_conn_id: str = DEFAULT_WIX_CONN_ID, **kwargs: Any) -> None:
        super().__init__(wix_conn_id=wix_conn_id, **kwargs)
        self.connection_id = connection_id

    def execute_wix(self, context: Context) -> list[Calendar]:
        from airflow_provider_wix.client.validation import validate_connection_id

        calendars = self.hook.list_calendars(validate_connection_id(self.connection_id))
        self.log.info("The connection holds %d calendar(s): %s", len(calendars), _names(calendars))
        return calendars


class _SyncConfigOperator(WixBaseOperator):
    """What applying a sync config takes, shared by the single and the batch Update Sync Config operators."""

    template_fields_renderers = {"sync_config": "json"}

    def __init__(
        self,
        *,
        sync_config: dict[str, Any] | str | None = None,
        import_from: str | Sequence[str] | None = None,
        export_to: str | None = None,
        check_provider_features: bool = True,
        skip_if_unsupported: bool = False,
        wix_conn_id: str = DEFAULT_WIX_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(wix_conn_id=wix_conn_id, **kwargs)
        if sync_config is not None and (import_from is not None or export_to is not None):
            raise ValueError("Pass either sync_config or import_from/export_to, not both.")
        if sync_config is None and import_from is None and export_to is None:
            raise ValueError(
                "Pass sync_config, or import_from and/or export_to (a side that is not given is turned off)."
            )
        self.sync_config = sync_config
        self.import_from = import_from
        self.export_to = export_to
        self.check_provider_features = check_provider_features
        self.skip_if_unsupported = skip_if_unsupported

    def _apply(
        self, connection_id: str, sync_config: dict[str, Any], provider: str | Mapping[str, Any] | None
    ) -> CalendarConnection:
        """Check the provider's features, then send the config; :meth:`_refuse` when it cannot apply."""
        from airflow_provider_wix.client.errors import WixNotSupportedByProviderError

        if self.check_provider_features:
            reason = self._unsupported_reason(connection_id, sync_config, provider)
            if reason:
                self._refuse(reason)
        try:
            connection = self.hook.update_sync_config(connection_id, sync_config)
        except WixNotSupportedByProviderError as exc:
            self._refuse(str(exc), exc)
        self.log.info(
            "Updated the sync config of connection %s: %s; Wix now re-syncs in the background (status %s)",
            connection_id,
            connection.get("syncConfig"),
            connection.get("status"),
        )
        return connection

    def _sync_config(self) -> dict[str, Any]:
        from airflow_provider_wix.client.models import build_sync_config
        from airflow_provider_wix.client.validation import validate_sync_config

        if self.sync_config is not None:
            raw: object = self.sync_config
            if isinstance(raw, str):
                raw = parse_literal(raw, "sync_config")
            return validate_sync_config(raw)
        import_from: ImportFrom
        text = self.import_from.strip() if isinstance(self.import_from, str) else None
        if text is not None and not text.startswith(("[", "(")) and "," not in text:
            # "primary" or a rendered None; build_sync_config explains anything else
            import_from = cast("ImportFrom", as_optional_text(text))
        else:
            import_from = as_str_list(self.import_from, "import_from")
        export_to = cast("ExportTo", as_optional_text(self.export_to))
        return validate_sync_config(build_sync_config(import_from, export_to))

    def _unsupported_reason(
        self, connection_id: str, sync_config: dict[str, Any], given: str | Mapping[str, Any] | None
    ) -> str | None:
        from airflow_provider_wix.client.models import unsupported_sync_reason

        if isinstance(given, Mapping) and "features" in given:
            # A provider already looked up upstream (e.g. an XCom from List Providers): no call needed.
            return unsupported_sync_reason(cast("Provider", given), sync_config)
        provider_key = as_optional_text(given)
        if provider_key is not None:
            provider = self.resolve_provider(provider_key)
        else:
            connection = self.hook.get_calendar_connection(connection_id)
            provider_id = str(connection.get("providerId") or "")
            found = [p for p in self.hook.list_providers() if str(p.get("id", "")).lower() == provider_id.lower()]
            if not found:
                self.log.warning(
                    "Provider %r of connection %s is not in List Providers; sending the config unchecked",
                    provider_id,
                    connection_id,
                )
                return None
            provider = found[0]
        return unsupported_sync_reason(provider, sync_config)

    def _refuse(self, reason: str, cause: BaseException | None = None) -> NoReturn:
        if self.skip_if_unsupported:
            self.log.warning("Skipping: %s", reason)
            raise AirflowSkipException(f"Sync config not applied: {reason}") from cause
        raise AirflowFailException(
            f"Sync config not applied: {reason}. Pass skip_if_unsupported=True to skip instead of failing."
        ) from cause


class UpdateSyncConfigOperator(_SyncConfigOperator):
    """Choose what a connection imports into Wix and exports to the external calendar.

    Providers differ (Google imports only its primary calendar and cannot change the sync config at
    all), so the request is first checked against the provider's ``features``: when the provider cannot
    do it, the task fails with the reason, or is skipped with the reason logged if
    ``skip_if_unsupported`` is set, before anything is sent. Wix replaces the whole sync config, so
    with the simple arguments a side that is not given is turned off. Wix re-syncs in the background
    afterwards. Returns the updated connection (XCom ``return_value``).

    :param connection_id: The Wix connection id (templated).
    :param sync_config: A raw ``syncConfig`` (``listEventFromCalendars`` / ``syncToCalendar``), instead
        of ``import_from`` / ``export_to`` (templated).
    :param import_from: ``"primary"`` for the primary calendar, or a list of calendar ids from List
        Calendars; ``None`` turns importing off (templated).
    :param export_to: ``"primary"`` or ``"dedicated"`` (a calendar Wix creates); ``None`` turns exporting
        off (templated).
    :param provider: The connection's provider if known: its id, calendar type or name (one List
        Providers call instead of Get Connection + List Providers), or the provider object itself as
        List Providers returns it, e.g. an upstream XCom (no call at all) (templated).
    :param check_provider_features: Check the provider's ``features`` before sending; turn off to let
        Wix decide.
    :param skip_if_unsupported: Skip the task (with the reason logged) instead of failing when the
        provider cannot apply the config, e.g. to run one DAG over Google and Microsoft schedules.
    :param wix_conn_id: The Airflow connection to Wix (templated).
    """

    template_fields: Sequence[str] = (
        "connection_id",
        "sync_config",
        "import_from",
        "export_to",
        "provider",
        "wix_conn_id",
    )

    def __init__(
        self,
        *,
        connection_id: str,
        provider: str | Mapping[str, Any] | None = None,
        skip_if_unsupported: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(skip_if_unsupported=skip_if_unsupported, **kwargs)
        self.connection_id = connection_id
        self.provider = provider

    def execute_wix(self, context: Context) -> CalendarConnection:
        from airflow_provider_wix.client.validation import validate_connection_id

        connection_id = validate_connection_id(self.connection_id)
        return self._apply(connection_id, self._sync_config(), self.provider)


class BatchUpdateSyncConfigOperator(_SyncConfigOperator):
    """Apply one sync config to the connections of a batch of owners, each as :class:`UpdateSyncConfigOperator` would.

    Fed by :class:`WixOAuthCallbackBatchSensor`'s outcomes, so a batch of schedules costs one task
    execution; only the ``connected`` ones are configured. One schedule whose provider cannot apply
    the config is reported ``skipped`` and one Wix refuses ``failed``, with the reason, without
    stopping the others. Idempotent per schedule: a retry first reads the connections (one List
    Connections per 100) and sends nothing for those whose sync config is already the one wanted.

    Returns ``{schedule_id: {"status": "configured" | "skipped" | "failed", "detail"}}``.

    :param outcomes: The batch sensor's result, ``{schedule_id: {"outcome", "connection_id", ...}}``
        (templated).
    :param providers: Each schedule's provider object as List Providers returns it (its ``features``
        are checked without a call), ``{schedule_id: provider}`` (templated); a schedule without one
        has its provider looked up.
    :param sync_config: As for :class:`UpdateSyncConfigOperator`, as are ``import_from``, ``export_to``
        and ``check_provider_features`` (``skip_if_unsupported`` is always on: ``False`` is refused).
    :param wix_conn_id: The Airflow connection to Wix (templated).
    """

    template_fields: Sequence[str] = ("outcomes", "providers", "sync_config", "import_from", "export_to", "wix_conn_id")

    def __init__(
        self,
        *,
        outcomes: Mapping[str, Mapping[str, Any]] | str,
        providers: Mapping[str, Mapping[str, Any]] | str | None = None,
        **kwargs: Any,
    ) -> None:
        # A schedule whose provider cannot apply the config is reported "skipped" and the others go on:
        # asking to fail the task instead would fail the whole batch for one owner, so it is refused here.
        if kwargs.pop("skip_if_unsupported", True) is not True:
            raise ValueError(
                f"{type(self).__name__} reports each schedule whose provider cannot apply the sync config as "
                "'skipped' and goes on with the others; skip_if_unsupported cannot be switched off. "
                "Use UpdateSyncConfigOperator per connection to fail instead."
            )
        super().__init__(skip_if_unsupported=True, **kwargs)
        self.outcomes = outcomes
        self.providers = providers

    def execute_wix(self, context: Context) -> dict[str, dict[str, str]]:
        from airflow_provider_wix.client.errors import WixError
        from airflow_provider_wix.client.validation import validate_connection_id

        outcomes = self._mapping(self.outcomes, "outcomes")
        providers = self._mapping(self.providers, "providers")
        sync_config = self._sync_config()
        todo = {
            schedule_id: validate_connection_id(str(outcome.get("connection_id")))
            for schedule_id, outcome in outcomes.items()
            if isinstance(outcome, Mapping) and outcome.get("outcome") == "connected"
        }
        results: dict[str, dict[str, str]] = {}
        if int(getattr(context["ti"], "try_number", 1) or 1) > 1:
            for schedule_id in self._already_applied(todo, sync_config):
                results[schedule_id] = {"status": "configured", "detail": "sync config applied (by an earlier try)"}
        for schedule_id, connection_id in todo.items():
            if schedule_id in results:
                continue
            try:
                self._apply(connection_id, sync_config, providers.get(schedule_id))
            except AirflowSkipException as exc:
                results[schedule_id] = {"status": "skipped", "detail": str(exc)}
            except (AirflowFailException, WixError) as exc:
                self.log.warning("Schedule %s: %s", schedule_id, exc)
                results[schedule_id] = {"status": "failed", "detail": str(exc)}
            else:
                results[schedule_id] = {"status": "configured", "detail": "sync config applied"}
        return results

    @staticmethod
    def _mapping(value: Any, name: str) -> dict[str, Any]:
        from airflow_provider_wix.client.errors import WixInvalidRequestError

        if value is None or is_none_text(value):
            return {}
        if isinstance(value, str):
            value = parse_literal(value, name)
        if not isinstance(value, Mapping):
            raise WixInvalidRequestError(f"{name} must be a dict keyed by schedule id, got {type(value).__name__}")
        return dict(value)

    def _already_applied(self, todo: Mapping[str, str], sync_config: Mapping[str, Any]) -> list[str]:
        """Schedules whose connection already has ``sync_config`` (an earlier try sent it)."""
        schedule_of = {connection_id: schedule_id for schedule_id, connection_id in todo.items()}
        return [
            schedule_of[str(connection["id"])]
            for connection in self.hook.list_connections_for_schedules(list(todo))
            if str(connection.get("id")) in schedule_of and connection.get("syncConfig") == sync_config
        ]


class DisconnectOperator(WixBaseOperator):
    """Disconnect a schedule from its external calendar (Wix removes the events it had exported).

    Returns the connection, now ``DISCONNECTED`` (XCom ``return_value``).

    :param connection_id: The Wix connection id (templated).
    :param ignore_already_disconnected: Succeed, returning the connection as it is, when it was already
        disconnected, so clean-up DAGs can be re-run.
    :param wix_conn_id: The Airflow connection to Wix (templated).
    """

    template_fields: Sequence[str] = ("connection_id", "wix_conn_id")

    def __init__(
        self,
        *,
        connection_id: str,
        ignore_already_disconnected: bool = False,
        wix_conn_id: str = DEFAULT_WIX_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(wix_conn_id=wix_conn_id, **kwargs)
        self.connection_id = connection_id
        self.ignore_already_disconnected = ignore_already_disconnected

    def execute_wix(self, context: Context) -> CalendarConnection:
        from airflow_provider_wix.client.errors import WixConnectionAlreadyDisconnectedError
        from airflow_provider_wix.client.validation import validate_connection_id

        connection_id = validate_connection_id(self.connection_id)
        try:
            connection = self.hook.disconnect(connection_id)
        except WixConnectionAlreadyDisconnectedError as exc:
            if not self.ignore_already_disconnected:
                raise AirflowFailException(
                    f"{exc} Pass ignore_already_disconnected=True to accept this as done."
                ) from exc
            self.log.info("Connection %s was already disconnected; nothing to do", connection_id)
            return self.hook.get_calendar_connection(connection_id)
        self.log.info("Disconnected connection %s (status %s)", connection_id, connection.get("status"))
        return connection


class ListEventsOperator(WixBaseOperator):
    """Export the events of the connected external calendars for a time window.

    By default the window is the run's data interval, so a scheduled DAG exports each interval once.
    With ``output_path`` the events are streamed page by page (memory stays flat whatever their number)
    as JSON Lines, one event per line, into a temporary sibling file that then replaces the target: a
    re-run overwrites the same file and a failure leaves no partial file. The task returns
    ``{"count": n, "path": "..."}``. Without ``output_path`` the events themselves are returned through
    XCom, which lives in the metadata database, so more than ``max_xcom_events`` fail the task.

    :param from_: Window start, an aware datetime or RFC 3339 text; default ``data_interval_start``
        (templated).
    :param to: Window end (exclusive); default ``data_interval_end`` (templated).
    :param schedule_ids: Only these schedules (at most 100); an empty list matches nothing (templated).
    :param user_ids: Only schedules owned by these Wix users (at most 100) (templated).
    :param all_day: ``True`` only all-day events, ``False`` only timed events, ``None`` both (templated).
    :param fieldsets: ``["OWN_PI"]`` to include titles and names (personal information); default
        ``NO_PI`` (templated).
    :param output_path: Local path, ``file://``/``s3://``/... URL or :class:`~airflow.sdk.ObjectStoragePath`
        of the JSON Lines file to write (templated).
    :param output_conn_id: Airflow connection for the object store when ``output_path`` is a URL text.
    :param page_size: Events per request (1-1000).
    :param partial_failure: Succeed even when some providers cannot be read; their events are missing
        and their ids are logged as a warning.
    :param max_xcom_events: The most events returned through XCom when there is no ``output_path``.
    :param wix_conn_id: The Airflow connection to Wix (templated).
    """

    template_fields: Sequence[str] = (
        "from_",
        "to",
        "schedule_ids",
        "user_ids",
        "all_day",
        "fieldsets",
        "output_path",
        "wix_conn_id",
    )

    def __init__(
        self,
        *,
        from_: str | datetime | None = None,
        to: str | datetime | None = None,
        schedule_ids: str | Sequence[str] | None = None,
        user_ids: str | Sequence[str] | None = None,
        all_day: bool | str | None = None,
        fieldsets: str | Sequence[str] | None = None,
        output_path: str | os.PathLike[str] | ObjectStoragePath | None = None,
        output_conn_id: str | None = None,
        page_size: int = 1000,
        partial_failure: bool = False,
        max_xcom_events: int = DEFAULT_MAX_XCOM_EVENTS,
        wix_conn_id: str = DEFAULT_WIX_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(wix_conn_id=wix_conn_id, **kwargs)
        if isinstance(max_xcom_events, bool) or not isinstance(max_xcom_events, int) or max_xcom_events < 0:
            raise ValueError(f"max_xcom_events must be a non-negative integer, got {max_xcom_events!r}")
        self.from_ = from_
        self.to = to
        self.schedule_ids = schedule_ids
        self.user_ids = user_ids
        self.all_day = all_day
        self.fieldsets = fieldsets
        self.output_path = output_path
        self.output_conn_id = output_conn_id
        # A usable page size passes without importing the client's checks while the DAG is parsed; anything
        # else gets the client's error (the range is the client's MAX_PAGE_SIZE).
        if type(page_size) is not int or not 1 <= page_size <= 1000:
            from airflow_provider_wix.client.validation import validate_page_size

            validate_page_size(page_size)
        self.page_size = page_size
        self.partial_failure = partial_failure
        self.max_xcom_events = max_xcom_events

    def execute_wix(self, context: Context) -> list[Event] | dict[str, Any]:
        query = self._query(context)
        output = self._output_path()
        if query.matches_nothing:  # a rendered empty list selects nothing (the client would send no filter)
            self.log.info("schedule_ids or user_ids is an empty list: no events to list")
            if output is None:
                return []
            from airflow_provider_wix.utils.json_lines import write_json_lines

            write_json_lines(output, ())  # an empty file, so what reads it downstream finds one
            return {"count": 0, "path": str(output)}
        self.log.info("Listing events from %s to %s", query.from_, query.to)
        if output is None:
            return self._collect(self.hook.iter_events(query))
        # Wix serves the next page while this one is encoded and written.
        count = self.hook.export_events(output, query)
        self.log.info("Wrote %d event(s) to %s", count, output)
        return {"count": count, "path": str(output)}

    def _query(self, context: Context) -> EventQuery:
        """The rendered arguments as one validated query (fails before any request)."""
        from airflow_provider_wix.client.queries import EventQuery

        return EventQuery(
            *self._window(context),
            schedule_ids=as_str_list(self.schedule_ids, "schedule_ids"),
            user_ids=as_str_list(self.user_ids, "user_ids"),
            all_day=as_optional_bool(self.all_day, "all_day"),
            fieldsets=as_str_list(self.fieldsets, "fieldsets"),
            page_size=self.page_size,
            partial_failure=self.partial_failure,
        )

    def _window(self, context: Context) -> tuple[Any, Any]:
        from_ = None if is_none_text(self.from_) else self.from_
        to = None if is_none_text(self.to) else self.to
        if from_ is not None and to is not None:
            return from_, to
        start = context.get("data_interval_start")
        end = context.get("data_interval_end")
        if start is None or end is None or start == end:
            raise AirflowFailException(
                "No time window: from_/to were not given and this run has no data interval "
                + (f"(it is empty: {start} to {end}; " if start is not None else "(")
                + "manual runs and schedules without data intervals, such as plain cron strings, "
                "have none). Pass from_ and to, e.g. from_='{{ params.from }}', or schedule the DAG "
                "with a data-interval timetable such as CronDataIntervalTimetable."
            )
        return (start if from_ is None else from_), (end if to is None else to)

    def _output_path(self) -> Path | ObjectStoragePath | None:
        from airflow.sdk import ObjectStoragePath

        value = self.output_path
        if value is None or isinstance(value, ObjectStoragePath):
            return value
        text = os.fspath(value).strip()
        if is_none_text(text):
            return None
        if "://" in text:
            return ObjectStoragePath(text, conn_id=self.output_conn_id)
        return Path(text).expanduser().absolute()

    def _collect(self, events: Iterator[Event]) -> list[Event]:
        result: list[Event] = []
        for event in events:
            if len(result) >= self.max_xcom_events:
                close = getattr(events, "close", None)
                if close is not None:
                    close()
                raise AirflowFailException(
                    f"More than {self.max_xcom_events} events in the window: too many to return through "
                    "XCom, which is stored in the Airflow metadata database. Set output_path to write them "
                    "to a file or object storage, narrow the window or filters, or raise max_xcom_events."
                )
            result.append(event)
        self.log.info("Listed %d event(s)", len(result))
        return result


def _names(items: Iterable[Mapping[str, Any]]) -> str:
    return ", ".join(str(i.get("name") or i.get("id") or "?") for i in items)


def _landing_page_names(provider: Provider | None, owner_name: str | None) -> dict[str, str | None]:
    """What the owner's landing page calls the calendar and the owner (never a secret: names only)."""
    from airflow_provider_wix.dashboard.rows import provider_display_name

    return {
        "provider_name": provider_display_name(provider) if provider is not None else None,
        "owner_name": as_optional_text(owner_name),
    }
