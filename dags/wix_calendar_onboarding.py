"""Onboard one staff member's external calendar to a Wix schedule, triggered from the Airflow UI."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pendulum
from airflow.sdk import Param, dag, task

from airflow_provider_wix.operators.external_calendars import (
    ConnectByCredentialsOperator,
    ConnectByOAuthOperator,
    ListConnectionsOperator,
    ListEventsOperator,
    UpdateSyncConfigOperator,
)
from airflow_provider_wix.sensors.external_calendars import (
    WixConnectionStatusSensor,
    WixOAuthCallbackSensor,
)

# Names that moved into the Task SDK in Airflow 3.2; version_compat picks the right one for 3.1 too.
from airflow_provider_wix.version_compat import AirflowFailException

if TYPE_CHECKING:
    from collections.abc import Mapping

# What the trigger form offers, and the name List Providers is searched with (see find_provider).
PROVIDERS = {"Google": "GOOGLE", "Microsoft": "MICROSOFT", "Apple": "I_CAL"}

SAMPLE_EVENTS = 5

log = logging.getLogger("wix_calendar_onboarding")

DOC_MD = """
# Onboard an external calendar (Wix Bookings)

Connects **one** Wix schedule (a staff member's, or the business schedule) to the owner's Google,
Microsoft or Apple calendar, configures what is synced, waits until Wix has synced, and lists the
imported events. Trigger it from the UI: the form below the *Trigger* button is built from the params.
Name the person by their e-mail or name as shown in Wix Bookings (`staff_member`), or give the
schedule id itself (`schedule_id`, e.g. for the business schedule).

Tasks:

- `resolve_schedule`: the schedule to connect. A staff member's e-mail or name is looked up with
  Query Staff Members (their `resource.eventsSchedule.id`); no match or several matches fail here,
  before any link is created.

- `resolve_provider`: List Providers; the chosen provider's id and what it can do (`features`).
- `choose_connect_method`: Google and Microsoft connect by OAuth, Apple by credentials.
- `connect_by_oauth`: Connect By OAuth. The consent link is in the log and on the task's
  **Details tab → Extra Links → Authorize calendar**: send it to the calendar owner.
- `wait_for_callback`: deferred (no worker slot) until the owner answers. Wix redirects their browser
  to this Airflow's `/wix/oauth/callback/...`, which wakes the task at once.
- `connect_by_credentials`: Apple only; the Apple ID and app-specific password come from the Airflow
  connection named by `apple_credentials_conn_id`.
- `list_connections`: List Connections for the schedule, to check the new connection is there.
- `plan_sync_config`: the params as a sync config; for providers that import specific calendars,
  the calendar names are resolved with List Calendars.
- `update_sync_config`: Update Sync Config, **skipped** with the reason in its log where the provider
  cannot change it (Google).
- `wait_for_synced`: deferred until the connection is `SYNCED`; `ERROR` fails with the reason in
  words. Wix syncs in the background (minutes), and events listed earlier may be missing.
- `list_events`: List Events for the schedule over the next `days_ahead` days.
- `summary`: what happened, as the run's result (XCom `return_value`) and in its log.

The owner has 7 days to answer (the link's lifetime). Needs the `wix_default` connection; the OAuth
redirect goes to the Airflow API server (`callback_base_url` in its extra, else `[api] base_url`),
which the owner's browser must be able to reach. The sensors poll Wix every
`[wix] sync_status_poll_interval` seconds (default 10) for the sync, and check for a lost callback
every `[wix] oauth_callback_poll_interval` seconds (default 600; the callback itself wakes the wait).
"""


@dag(
    dag_id="wix_calendar_onboarding",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=16,
    doc_md=DOC_MD,
    tags=["wix", "external-calendars", "onboarding", "example"],
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30), "retry_exponential_backoff": True},
    params={
        "staff_member": Param(
            None,
            type=["null", "string"],
            title="Staff member (e-mail or name)",
            description="Whose calendar to connect, as shown in Wix Bookings; case does not matter. "
            "Leave empty to give the schedule id instead.",
        ),
        "schedule_id": Param(
            None,
            type=["null", "string"],
            title="Wix schedule id",
            description="Instead of a staff member: the schedule to connect, a GUID like "
            "89e20858-bfa1-462b-b813-074fb1e4d62f (the business schedule works too). Where to find it: the "
            "Wix calendars page of this Airflow lists the schedules onboarded so far; in Wix it is the "
            "staff member's events schedule id (Staff Members API, eventsSchedule.id).",
        ),
        "provider": Param(
            "Google",
            type="string",
            enum=list(PROVIDERS),
            values_display={
                "Google": "Google Calendar",
                "Microsoft": "Microsoft Outlook / Office 365",
                "Apple": "Apple iCloud Calendar",
            },
            title="Calendar provider",
            description="Where the staff member keeps their calendar. Google and Microsoft ask the owner to "
            "approve by a link; Apple uses an app-specific password stored in an Airflow connection.",
        ),
        "import_events": Param(
            True,
            type="boolean",
            title="Import events into Wix",
            description="Show the external calendar's events as busy time in Wix.",
        ),
        "import_calendars": Param(
            [],
            type=["array", "null"],
            items={"type": "string"},
            title="Calendars to import",
            description="Names or ids of the calendars to import from, for providers that allow specific "
            "calendars (Microsoft, Apple). Empty: the primary calendar. Google always imports its primary.",
        ),
        "export": Param(
            "none",
            type="string",
            enum=["none", "primary", "dedicated"],
            values_display={
                "none": "Don't export",
                "primary": "Into the owner's primary calendar (providers that allow it)",
                "dedicated": "Into a separate calendar Wix creates (Microsoft, Apple)",
            },
            title="Export Wix bookings",
            description="Copy Wix bookings into the owner's calendar. Google does not accept exports from "
            'Wix: choose "Don\'t export" for Google (otherwise the run skips it and says why). Microsoft and '
            "Apple export into a separate calendar Wix creates.",
        ),
        "days_ahead": Param(
            7,
            type="integer",
            minimum=1,
            maximum=60,
            title="Event window (days ahead)",
            description="List the imported events from now to this many days ahead.",
        ),
        "include_titles": Param(
            False,
            type="boolean",
            title="Include event titles",
            description="Ask for titles and calendar names too (Wix fieldset OWN_PI: personal information).",
        ),
        "apple_credentials_conn_id": Param(
            "wix_apple_credentials",
            type=["string", "null"],
            title="Apple credentials (Airflow connection id)",
            description="Apple only, ignored otherwise: an Airflow connection whose login is the Apple ID and "
            "whose password is an app-specific password (appleid.apple.com).",
        ),
    },
)
def wix_calendar_onboarding() -> None:
    @task(multiple_outputs=True, retries=0)
    def resolve_schedule(**context: Any) -> dict[str, str]:
        """The schedule to connect: given, or the named staff member's events schedule.

        Runs before anything is created, so a typo or an ambiguous name costs no link; no retries,
        since the answer would be the same.
        """
        return _schedule_to_connect(context["params"])

    target = resolve_schedule()

    @task(multiple_outputs=True)
    def resolve_provider(**context: Any) -> dict[str, Any]:
        """Resolve the provider once, so every later task uses its id and checks its ``features``."""
        from airflow_provider_wix.client.models import find_provider
        from airflow_provider_wix.hooks.wix import WixHook

        choice = context["params"]["provider"]
        provider = find_provider(WixHook().list_providers(), PROVIDERS[choice])
        methods = (provider.get("features") or {}).get("connectMethods") or []
        log.info("%s is %s (%s); it connects by %s", choice, provider.get("name"), provider["id"], methods)
        return {
            "provider_id": provider["id"],
            "provider": dict(provider),
            "connect_method": "OAUTH" if "OAUTH" in methods else "CREDENTIALS",
        }

    @task.branch
    def choose_connect_method(connect_method: str) -> str:
        return "connect_by_oauth" if connect_method == "OAUTH" else "connect_by_credentials"

    provider = resolve_provider()
    branch = choose_connect_method(provider["connect_method"])

    connect_by_oauth = ConnectByOAuthOperator(
        task_id="connect_by_oauth",
        schedule_id=target["schedule_id"],
        provider=provider["provider"],  # the object, not only its id: no second lookup, and its name
        owner_name=target["owner_name"],  # for the owner's landing page ("Thank you, Ada Lovelace.")
        retries=0,  # a retry would issue a second link; the owner may already hold the first
    )
    wait_for_callback = WixOAuthCallbackSensor(
        task_id="wait_for_callback",
        connect_task_id="connect_by_oauth",
        schedule_id=target["schedule_id"],
        owner_name=target["staff_member"],  # empty when the form gave a schedule id: the log says "the owner"
        deferrable=True,
        timeout=timedelta(days=7).total_seconds(),
    )
    connect_by_credentials = ConnectByCredentialsOperator(
        task_id="connect_by_credentials",
        schedule_id=target["schedule_id"],
        provider_id=provider["provider_id"],
        credentials_conn_id="{{ params.apple_credentials_conn_id or 'wix_apple_credentials' }}",
        retries=0,  # connecting is not idempotent
    )
    list_connections = ListConnectionsOperator(
        task_id="list_connections",
        schedule_ids=target["schedule_id"],
        trigger_rule="none_failed_min_one_success",  # one of the two connect paths was skipped
    )

    @task(multiple_outputs=True)
    def plan_sync_config(provider: dict[str, Any], connections: list[dict[str, Any]], **context: Any) -> dict[str, Any]:
        """Pick the new connection and turn the params into a sync config this provider accepts."""
        params = context["params"]
        ti = context["ti"]
        connection_id = ti.xcom_pull(task_ids="wait_for_callback") or (
            ti.xcom_pull(task_ids="connect_by_credentials") or {}
        ).get("id")
        connection = next((c for c in connections if c.get("id") == connection_id), None)
        if connection is None:
            raise RuntimeError(
                f"Connection {connection_id} is not among the schedule's connections "
                f"({[c.get('id') for c in connections]}); was it disconnected meanwhile?"
            )
        others = [c for c in connections if c.get("id") != connection_id and c.get("status") != "DISCONNECTED"]
        for other in others:
            log.warning(
                "The schedule also has connection %s (%s, %s); Wix recommends one external calendar per schedule.",
                other.get("id"),
                other.get("calendarType"),
                other.get("status"),
            )

        import_from: str | list[str] | None = None
        if params["import_events"]:
            import_from = _calendars_to_import(provider, connection["id"], params["import_calendars"] or [])
        export_to = None if params["export"] == "none" else params["export"]

        from airflow_provider_wix.client.models import build_sync_config

        start = context["dag_run"].run_after
        return {
            "connection_id": connection_id,
            "sync_config": dict(build_sync_config(import_from, export_to)),
            "window_from": start.isoformat(),
            "window_to": (start + timedelta(days=params["days_ahead"])).isoformat(),
        }

    plan = plan_sync_config(provider["provider"], list_connections.output)

    update_sync_config = UpdateSyncConfigOperator(
        task_id="update_sync_config",
        connection_id=plan["connection_id"],
        sync_config=plan["sync_config"],
        provider=provider["provider"],  # the provider resolve_provider already fetched: no second lookup
        skip_if_unsupported=True,  # Google cannot change its sync config: skip, with the reason logged
    )
    wait_for_synced = WixConnectionStatusSensor(
        task_id="wait_for_synced",
        connection_id=plan["connection_id"],
        deferrable=True,
        timeout=timedelta(hours=2).total_seconds(),
        trigger_rule="none_failed",  # also after a skipped update_sync_config
    )
    list_events = ListEventsOperator(
        task_id="list_events",
        from_=plan["window_from"],
        to=plan["window_to"],
        schedule_ids=target["schedule_id"],
        fieldsets="{{ 'OWN_PI' if params.include_titles else 'NO_PI' }}",
    )

    @task
    def summary(
        provider: dict[str, Any],
        plan: dict[str, Any],
        connection: dict[str, Any],
        events: list[dict[str, Any]],
        target: dict[str, str],
    ) -> dict[str, Any]:
        """The run's result in one place: what was connected, what syncs, and what was imported."""
        from airflow_provider_wix.client.models import describe_sync_config, same_sync_config, unsupported_sync_reason

        requested = plan["sync_config"]
        actual = connection.get("syncConfig")
        # Only a difference is worth a note: Google keeps its own config, which may be just what was asked.
        not_applied = None
        if not same_sync_config(requested, actual):
            not_applied = unsupported_sync_reason(provider, requested) or "Wix reports a different sync config"
        result = {
            "schedule_id": target["schedule_id"],
            "staff_member": target["staff_member"],
            "provider": provider.get("name"),
            "connection": {
                key: connection.get(key)
                for key in ("id", "status", "calendarType", "externalAccountEmail", "syncConfig")
            },
            "sync_config": {"requested": requested, "applied": not_applied is None, "note": not_applied},
            "window": {"from": plan["window_from"], "to": plan["window_to"]},
            "event_count": len(events),
            "events_sample": events[:SAMPLE_EVENTS],
        }
        who = f"Schedule {target['schedule_id']}"
        if target["staff_member"]:
            who = f"{target['staff_member']}'s schedule {target['schedule_id']}"
        lines = [
            f"{who} is connected to {provider.get('name')} "
            f"({connection.get('externalAccountEmail') or 'account unknown'}): connection "
            f"{connection.get('id')}, status {connection.get('status')}.",
            f"Sync: {describe_sync_config(actual)}."
            + (
                f" You asked for: {describe_sync_config(requested)}; not applied: {not_applied}." if not_applied else ""
            ),
            f"{len(events)} event(s) from {plan['window_from']} to {plan['window_to']}"
            + (", first ones:" if events else "."),
            *(f"  {e.get('start')} - {e.get('end')} {e.get('title', '')}".rstrip() for e in events[:SAMPLE_EVENTS]),
        ]
        log.info("\n".join(lines))
        return result

    result = summary(provider["provider"], plan, wait_for_synced.output, list_events.output, target)

    target >> provider  # one at a time: who first, then the provider (and a light metadata database)
    branch >> [connect_by_oauth, connect_by_credentials]
    connect_by_oauth >> wait_for_callback >> list_connections
    connect_by_credentials >> list_connections
    update_sync_config >> wait_for_synced >> list_events >> result


def _schedule_to_connect(params: Mapping[str, Any]) -> dict[str, str]:
    """``{"schedule_id", "staff_member", "owner_name"}`` from the form: the schedule id, or a staff member
    resolved by Query Staff Members (every staff member, service provider or not). ``staff_member`` is
    how logs and the summary name them (with the e-mail), ``owner_name`` how their landing page greets
    them; both are empty for a schedule id."""
    from airflow_provider_wix.client.errors import WixInvalidRequestError
    from airflow_provider_wix.client.models import find_staff_member
    from airflow_provider_wix.client.validation import validate_guid
    from airflow_provider_wix.hooks.wix import WixHook

    who = (params.get("staff_member") or "").strip()
    schedule_id = (params.get("schedule_id") or "").strip()
    if bool(who) == bool(schedule_id):
        raise AirflowFailException("Fill in exactly one of: staff member (e-mail or name), schedule id.")
    try:
        if schedule_id:  # checked here rather than by a regex in the form, so a typo gets a sentence
            schedule_id = validate_guid(schedule_id, "The Wix schedule id")
            return {"schedule_id": schedule_id, "staff_member": "", "owner_name": ""}
        member = find_staff_member(WixHook().query_staff_members(service_providers=None), who)
    except WixInvalidRequestError as exc:
        raise AirflowFailException(str(exc)) from None
    if not member.schedule_id:
        raise AirflowFailException(f"Wix sent no events schedule for {member.label}; use the schedule id.")
    if not member.service_provider:
        log.warning("%s does not provide services in Wix Bookings; connecting their schedule anyway", member.label)
    log.info("%r is %s; their schedule is %s", who, member.label, member.schedule_id)
    return {"schedule_id": member.schedule_id, "staff_member": member.label, "owner_name": member.name}


def _calendars_to_import(provider: dict[str, Any], connection_id: str, wanted: list[str]) -> str | list[str]:
    """``"primary"``, or the ids of the calendars named in ``wanted`` (List Calendars resolves names)."""
    from airflow_provider_wix.client.models import ListEventFromCalendars
    from airflow_provider_wix.hooks.wix import WixHook

    if not wanted:
        return "primary"
    capability = (provider.get("features") or {}).get("listEventFromCalendars")
    if capability != ListEventFromCalendars.SPECIFIC_CALENDARS:
        log.warning("%s imports only its primary calendar (%s); ignoring %s", provider.get("name"), capability, wanted)
        return "primary"
    calendars = WixHook().list_calendars(connection_id)
    by_key = {str(c.get(k, "")).casefold(): c["id"] for c in calendars for k in ("id", "name")}
    missing = [w for w in wanted if w.casefold() not in by_key]
    if missing:
        available = ", ".join(f"{c.get('name')} ({c.get('id')})" for c in calendars)
        raise AirflowFailException(f"No calendar named {missing} in the connected account; it has: {available}")
    return list(dict.fromkeys(by_key[w.casefold()] for w in wanted))


wix_calendar_onboarding()
