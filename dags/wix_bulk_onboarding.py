"""Daily onboarding pipeline: invite every staff member whose calendar is not (or no longer) connected."""

from __future__ import annotations

import copy
import json
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pendulum
from airflow.sdk import BaseNotifier, Param, dag, task, task_group

from airflow_provider_wix.operators.external_calendars import (
    BatchConnectByOAuthOperator,
    BatchUpdateSyncConfigOperator,
)
from airflow_provider_wix.sensors.external_calendars import WixOAuthCallbackBatchSensor

# Names that moved into the Task SDK in Airflow 3.2; version_compat picks the right one for 3.1 too.
from airflow_provider_wix.version_compat import AirflowFailException, AirflowNotFoundException

if TYPE_CHECKING:
    from collections.abc import Mapping

    import jinja2
    from airflow.sdk import Context

    from airflow_provider_wix.client.models import CalendarConnection

#: The tasks of one ``onboard`` group (one chunk of schedules), by their ids in the DAG.
ONBOARD_TASKS = ["onboard.connect", "onboard.wait_for_owners", "onboard.configure_sync"]

log = logging.getLogger("wix_bulk_onboarding")

#: Airflow Variable with the schedules to onboard instead of the site's staff, when the run gives no
#: ``schedules_file``.
SCHEDULES_VARIABLE = "wix_onboarding_schedules"
# What the trigger form offers for staff discovered from Wix (see find_provider).
PROVIDERS = {"Google": "GOOGLE", "Microsoft": "MICROSOFT", "Apple": "I_CAL"}
# Connections that broke for good: only the owner can fix them, by connecting again.
REONBOARD_ERROR_REASONS = ("TOKEN_REVOKED", "EXTERNAL_CALENDAR_DELETED")
OUTCOMES = ("connected", "declined", "timed_out", "failed", "skipped")
#: Schedules per ``onboard`` chunk unless the run says otherwise (``chunk_size``).
DEFAULT_CHUNK_SIZE = 25

DOC_MD = f"""
# Bulk onboarding of external calendars (Wix Bookings)

Runs daily. `load_schedules` finds who to onboard: by default **the site's staff** (Query Staff
Members: every staff member who provides services, with their e-mail and the schedule External
Calendars connects), optionally narrowed by the `staff` param (e-mails or names) or by
`staff_changed_since`; they are invited to the `provider` param's calendar. A hire shows up on the
next run with nobody editing a list. To onboard a hand-kept list instead, give a JSON file in the
`schedules_file` param or set the Airflow Variable `{SCHEDULES_VARIABLE}`: a JSON list of
`{{"schedule_id", "owner_email", "provider", "name"?}}`. Then:

1. `assess_schedules` asks Wix (List Connections) which schedules already have a healthy connection
   (`CONNECTED`, `SYNC_IN_PROGRESS`, `SYNCED`; for staff of any provider, for a list of its
   provider): those are **skipped**. A connection that broke for good (`ERROR` with `TOKEN_REVOKED`
   or `EXTERNAL_CALENDAR_DELETED`, or `DISCONNECTED` after the schedule changed owner) needs the
   owner again, so it is **re-onboarded** (staff: with the provider they had connected).
2. `onboard` is mapped over **chunks** of up to `chunk_size` schedules (default {DEFAULT_CHUNK_SIZE}), three
   tasks per chunk whatever its size: `connect` issues each owner's own link (Connect By OAuth, paced
   by the client under Wix's rate limit; the link is e-mailed to the owner through the SMTP provider
   when the connection `smtp_conn_id` exists, otherwise it is written to the task log) →
   `wait_for_owners` (deferred, holding no worker slot: one trigger watches every link of the chunk
   until each owner has answered or `owner_wait_hours` have passed) → `configure_sync` (Update Sync
   Config for the chunk's connected owners; the reason is logged where the provider cannot). A retry
   of `connect` does not invite again an owner whose earlier link is still pending.
3. `report` runs whatever happened and returns one line per person (name and e-mail):
   `connected`, `declined`, `timed_out`, `failed` or `skipped`, with the reason. One owner declining
   or never answering does not affect the others.

Wix hides staff e-mails from callers without the `BOOKINGS.STAFF_MEMBER_READ_PI` permission unless
the site's staff contact information is public. Such staff are still invited: their link cannot be
e-mailed, so the report says so and where the link is (the log of their chunk's `onboard.connect`
task and the Wix calendars dashboard); pass it on by hand.

Only one run is active at a time (`max_active_runs=1`), so an owner who has not answered yet is not
invited twice; a run lasts at most `owner_wait_hours`, and the next daily run starts after it.
List Connections must answer for every provider: if one is down, the run fails rather than invite
owners whose calendars are in fact connected. A waiting owner costs no worker slot: the callback
route lists each answer in its chunk's answer Variable, which the chunk's trigger reads every 10
seconds (one read per chunk, not per owner); a lost listing is caught by a check of the flows every
`[wix] oauth_callback_poll_interval` seconds (default 600). Chunks keep the number of task executions
independent of the number of schedules, so a large run is bounded by Wix's rate limit, not by
Airflow starting a task per owner.
"""


class OwnerInvitation(BaseNotifier):
    """Send the owner their authorization link: by e-mail when the SMTP connection exists, else to the log.

    The choice is made when the link is sent, so parsing the DAG looks nothing up. The e-mail goes
    through the SMTP provider (``apache-airflow-providers-smtp``); its sender is the connection's
    ``from_email`` extra.
    """

    template_fields = ("to", "name", "smtp_conn_id")

    def __init__(self, *, to: str, name: str = "", smtp_conn_id: str = "smtp_default") -> None:
        super().__init__()
        self.to = to
        self.name = name
        self.smtp_conn_id = smtp_conn_id

    def __call__(self, *args: Any) -> None:
        # Rendering replaces the templates in place, and one instance serves every mapped schedule.
        super(OwnerInvitation, copy.copy(self)).__call__(*args)

    def notify(self, context: Context) -> None:
        from airflow.sdk import BaseHook

        # ConnectByOAuthOperator calls its notifiers with these two keys added to the task context.
        added: Mapping[str, Any] = context
        url = added["oauth_url"]
        schedule_id = added["wix_schedule_id"]
        who = self.name or f"the owner of schedule {schedule_id}"
        if not self.to:
            log.warning(
                "Wix shows no e-mail for %s, so the link cannot be e-mailed: pass it on by hand: %s",
                who,
                url,
            )
            return
        try:
            BaseHook.get_connection(self.smtp_conn_id)
        except AirflowNotFoundException:
            log.warning(
                "No SMTP connection %r, so the link is not e-mailed. Send it to %s (%s): %s",
                self.smtp_conn_id,
                who,
                self.to,
                url,
            )
            return
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        hours = context["params"]["owner_wait_hours"]
        SmtpNotifier(
            to=self.to,
            smtp_conn_id=self.smtp_conn_id,
            subject="Connect your calendar to Wix Bookings",
            html_content=(
                "<p>Hello,</p><p>To show your calendar's busy times in Wix Bookings, please open "
                f'<a href="{url}">this link</a> and allow access within {hours:g} hours. The link works '
                "once.</p>"
            ),
        ).notify(context)
        log.info("E-mailed the authorization link for %s to %s", who, self.to)


class WaitForOwners(WixOAuthCallbackBatchSensor):
    """The batch callback sensor with ``wait_hours`` templated, so the trigger form sets how long
    owners may take (the base sensor's ``timeout`` is fixed when the DAG file is parsed)."""

    template_fields = (*WixOAuthCallbackBatchSensor.template_fields, "wait_hours")

    def __init__(self, *, wait_hours: float | str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.wait_hours = wait_hours

    def render_template_fields(self, context: Context, jinja_env: jinja2.Environment | None = None) -> None:
        super().render_template_fields(context, jinja_env)
        self.timeout = float(self.wait_hours) * 3600  # rendered again on resume, so messages stay right


@dag(
    dag_id="wix_bulk_onboarding",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    doc_md=DOC_MD,
    tags=["wix", "external-calendars", "onboarding", "example"],
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1), "retry_exponential_backoff": True},
    params={
        "schedules_file": Param(
            None,
            type=["null", "string"],
            title="Schedules file",
            description=f"Path of a JSON file with the schedules to onboard instead of the site's staff: a "
            f'list of {{"schedule_id", "owner_email", "provider"}}. Empty: the Variable {SCHEDULES_VARIABLE} '
            "if it is set, else the staff members Wix lists.",
        ),
        "provider": Param(
            "Google",
            type="string",
            enum=list(PROVIDERS),
            title="Calendar provider for staff",
            description="The calendar staff members are invited to connect (a list file names its own).",
        ),
        "staff": Param(
            [],
            type="array",
            items={"type": "string"},
            title="Only these staff members",
            description="E-mails or names as shown in Wix Bookings (case does not matter). Empty: every "
            "staff member who provides services.",
        ),
        "staff_changed_since": Param(
            None,
            type=["null", "string"],
            format="date-time",
            title="Only staff added or changed since",
            description="Consider only staff members created or updated at or after this time.",
        ),
        "owner_wait_hours": Param(
            72,
            type="number",
            exclusiveMinimum=0,
            maximum=168,
            title="How long owners may take (hours)",
            description="Owners who have not answered by then are reported as timed out; at most 7 days, "
            "the lifetime of the link.",
        ),
        "chunk_size": Param(
            DEFAULT_CHUNK_SIZE,
            type="integer",
            minimum=1,
            maximum=100,
            title="Schedules per chunk",
            description="How many owners one onboard chunk (three tasks) invites, waits for and configures.",
        ),
        "import_events": Param(True, type="boolean", title="Import events into Wix"),
        "export": Param(
            "none",
            type="string",
            enum=["none", "primary", "dedicated"],
            title="Export Wix bookings",
            description="none, into the primary calendar, or into a dedicated calendar Wix creates.",
        ),
        "smtp_conn_id": Param(
            "smtp_default",
            type="string",
            title="SMTP connection",
            description="E-mail the links through this connection if it exists; otherwise they are logged.",
        ),
    },
)
def wix_bulk_onboarding() -> None:
    @task
    def load_schedules(**context: Any) -> list[dict[str, Any]]:
        """Who to onboard: the site's staff, or a list. A bad list entry or staff filter fails here,
        before anything is sent: it is a configuration error, not a Wix one."""
        from pathlib import Path

        from airflow.sdk import Variable

        params = context["params"]
        source = params["schedules_file"]
        if source:
            raw = json.loads(Path(source).expanduser().read_text(encoding="utf-8"))
        else:
            source = f"Variable {SCHEDULES_VARIABLE}"
            raw = Variable.get(SCHEDULES_VARIABLE, default=None, deserialize_json=True)
            if raw is None:
                return _staff_to_onboard(params)
        entries = raw.get("schedules", raw) if isinstance(raw, dict) else raw
        schedules, problems = _validated(entries)
        if problems:
            raise AirflowFailException(f"{source} has {len(problems)} problem(s): " + "; ".join(problems))
        log.info("%d schedule(s) to check, from %s", len(schedules), source)
        return schedules

    @task
    def assess_schedules(schedules: list[dict[str, Any]], **context: Any) -> list[dict[str, Any]]:
        """Decide per schedule: skip (healthy), onboard (new or broken), or report why it cannot be.

        Returns one ``onboard`` chunk per ``chunk_size`` schedules to onboard (their ids, provider ids
        and owners' names, and each schedule's provider object); the assessment of every schedule and
        the owners' e-mails and names go to XCom keys ``assessment``, ``owner_emails`` and ``owner_names``.
        """
        from airflow_provider_wix.hooks.wix import WixHook

        hook = WixHook()
        providers = hook.list_providers()
        connections = hook.list_connections_for_schedules([s["schedule_id"] for s in schedules])

        size = int(context["params"]["chunk_size"])
        assessment: list[dict[str, Any]] = []
        chunks: list[dict[str, Any]] = []
        for schedule in schedules:
            row = _assess(schedule, providers, connections)
            assessment.append(row)
            if row["decision"] == "onboard":
                row["chunk"] = _add_to_chunk(chunks, size, schedule, row.pop("provider_object"))
            log.info("%s (%s): %s, %s", _person(schedule), row.get("provider"), row["decision"], row["reason"])

        ti = context["ti"]
        ti.xcom_push(key="assessment", value=assessment)
        ti.xcom_push(key="owner_emails", value={s["schedule_id"]: s["owner_email"] for s in schedules})
        ti.xcom_push(key="owner_names", value={s["schedule_id"]: s.get("name", "") for s in schedules})
        log.info("%d schedule(s) to onboard in %d chunk(s)", sum(len(c["schedules"]) for c in chunks), len(chunks))
        return chunks

    @task_group(group_id="onboard")
    def onboard(schedules: list[dict[str, Any]], providers: dict[str, Any]) -> None:
        connect = BatchConnectByOAuthOperator(
            task_id="connect",
            schedules=schedules,
            notifier=OwnerInvitation(
                to="{{ ti.xcom_pull(task_ids='assess_schedules', key='owner_emails')[wix_schedule_id] }}",
                name="{{ ti.xcom_pull(task_ids='assess_schedules', key='owner_names')[wix_schedule_id] }}",
                smtp_conn_id="{{ params.smtp_conn_id }}",
            ),
        )
        wait = WaitForOwners(
            task_id="wait_for_owners",
            connect_task_id=connect.task_id,  # the chunk's flows, at the same map index
            wait_hours="{{ params.owner_wait_hours }}",
        )
        connect >> wait  # connect_task_id names where to read; the order must be stated
        BatchUpdateSyncConfigOperator(
            task_id="configure_sync",
            outcomes=wait.output,
            providers=providers,
            import_from="{{ 'primary' if params.import_events else None }}",
            export_to="{{ params.export }}",
        )

    @task(trigger_rule="all_done")
    def report(**context: Any) -> dict[str, Any]:
        """One line per schedule, whatever happened to the others; the run's result."""
        ti = context["ti"]
        assessment = ti.xcom_pull(task_ids="assess_schedules", key="assessment")
        if assessment is None:
            raise AirflowFailException("The schedules were not assessed; see load_schedules / assess_schedules.")
        states = ti.get_task_states(dag_id=ti.dag_id, run_ids=[ti.run_id], task_ids=ONBOARD_TASKS).get(ti.run_id, {})
        wait_hours = context["params"]["owner_wait_hours"]

        chunks: dict[int, dict[str, Any]] = {}
        rows = [_report_line(row, ti, states, wait_hours, chunks) for row in assessment]
        counts = {outcome: sum(r["outcome"] == outcome for r in rows) for outcome in OUTCOMES}
        log.info("Onboarding report: %s", ", ".join(f"{n} {o}" for o, n in counts.items()))
        return {"counts": counts, "schedules": rows}

    to_onboard = assess_schedules(load_schedules())
    onboard.expand_kwargs(to_onboard) >> report()


def _assess(schedule: dict[str, Any], providers: list[Any], connections: list[CalendarConnection]) -> dict[str, Any]:
    """One schedule's row of the assessment: ``skipped`` (healthy), ``onboard`` (new or broken) or ``failed``."""
    from airflow_provider_wix.client.errors import WixInvalidRequestError
    from airflow_provider_wix.client.models import find_provider
    from airflow_provider_wix.sensors.external_calendars import HEALTHY_STATUSES, explain_connection_problem

    row: dict[str, Any] = {**schedule, "decision": "failed", "reason": ""}
    try:
        provider = find_provider(providers, schedule["provider"])
    except WixInvalidRequestError as exc:
        row["reason"] = str(exc)
        return row
    # Staff count as connected with any provider; a list entry names the provider it wants.
    any_provider = schedule.get("source") == "staff"
    mine = [
        c
        for c in connections
        if c.get("scheduleId") == schedule["schedule_id"] and (any_provider or c.get("providerId") == provider["id"])
    ]
    healthy = next((c for c in mine if c.get("status") in HEALTHY_STATUSES), None)
    broken = [c for c in mine if _needs_owner_again(c)]
    stuck = [c for c in mine if c.get("status") == "ERROR" and not _needs_owner_again(c)]
    if any_provider and broken and healthy is None:
        # Re-invite to the calendar they had connected, not to the run's default provider.
        provider = next((p for p in providers if p.get("id") == broken[0].get("providerId")), provider)
    row["provider"] = provider.get("name", schedule["provider"])
    if healthy is not None:
        healthy_name = next((p.get("name") for p in providers if p.get("id") == healthy.get("providerId")), "the")
        row.update(decision="skipped", reason=f"healthy: {healthy_name} connection is {healthy.get('status')}")
        row["connection_id"] = healthy.get("id")
    elif "OAUTH" not in ((provider.get("features") or {}).get("connectMethods") or []):
        row["reason"] = (
            f"{row['provider']} connects with the owner's credentials, not by a link; "
            "onboard it with ConnectByCredentialsOperator"
        )
    elif stuck and not broken:
        row["reason"] = f"{explain_connection_problem(stuck[0])}; a new invitation would not fix it"
    else:
        row["decision"] = "onboard"
        row["reason"] = f"re-onboarding: {explain_connection_problem(broken[0])}" if broken else "not connected yet"
        row["provider_object"] = dict(provider)
    return row


def _add_to_chunk(chunks: list[dict[str, Any]], size: int, schedule: dict[str, Any], provider: dict[str, Any]) -> int:
    """Put a schedule to onboard in the last chunk (a new one when that is full); returns the chunk's index.

    The provider object rides along, so connect and configure_sync use it without asking Wix again,
    and the owner's landing page names it (and the owner, by the list's or staff name).
    """
    if not chunks or len(chunks[-1]["schedules"]) >= size:
        chunks.append({"schedules": [], "providers": {}})
    schedule_id = schedule["schedule_id"]
    chunks[-1]["schedules"].append(
        {"schedule_id": schedule_id, "provider": provider, "owner_name": schedule.get("name") or ""}
    )
    chunks[-1]["providers"][schedule_id] = provider
    return len(chunks) - 1


def _report_line(
    row: dict[str, Any], ti: Any, states: dict[str, Any], wait_hours: float, chunks: dict[int, dict[str, Any]]
) -> dict[str, Any]:
    """The report's line for one assessed schedule: its outcome, read from its chunk's onboard tasks."""
    line = {k: row.get(k) for k in ("schedule_id", "owner_email", "provider", "reason")}
    line.update(name=row.get("name", ""), person=_person(row))
    if row["decision"] != "onboard":
        line.update(outcome=row["decision"], detail=row["reason"], connection_id=row.get("connection_id"))
    else:
        index = row["chunk"]
        if index not in chunks:
            chunks[index] = _chunk_results(ti, states, index)
        chunk = chunks[index]
        schedule_id = row["schedule_id"]
        line.update(_onboarding_outcome(chunk, schedule_id, wait_hours))
        issued = chunk["flows"].get(schedule_id) or {}
        if not row.get("owner_email") and issued.get("status") == "invited":
            line["link"] = (
                f"Wix shows no e-mail for {line['person']}, so the link was not e-mailed: pass it on by hand. "
                f"It is in the log of task onboard.connect, map index {index}, and on the Wix calendars dashboard."
            )
    log.info("%-10s %s: %s", line["outcome"], line["person"], line["detail"])
    if line.get("link"):
        log.warning("%s", line["link"])
    return line


def _chunk_results(ti: Any, states: dict[str, Any], index: int) -> dict[str, Any]:
    """What one chunk's tasks ended in and returned (only XComs that exist are pulled: Airflow 3 logs
    every missing one as an ERROR line)."""

    def pull(task: str) -> Any:
        if states.get(f"onboard.{task}_{index}") != "success":
            return None
        return ti.xcom_pull(task_ids=f"onboard.{task}", map_indexes=index)

    issued = pull("connect") or {}
    return {
        "states": {t.removeprefix("onboard."): states.get(f"{t}_{index}") for t in ONBOARD_TASKS},
        "flows": {f["schedule_id"]: f for f in issued.get("flows", [])},
        "outcomes": pull("wait_for_owners") or {},
        "configured": pull("configure_sync") or {},
    }


def _staff_to_onboard(params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The site's service providers (optionally only ``params.staff`` or those changed since a time)."""
    from airflow_provider_wix.client.errors import WixInvalidRequestError
    from airflow_provider_wix.client.models import HIDDEN_EMAIL_REASON, StaffMember, find_staff_member
    from airflow_provider_wix.hooks.wix import WixHook

    try:
        staff = WixHook().query_staff_members(
            service_providers=True, changed_since=params.get("staff_changed_since") or None
        )
    except WixInvalidRequestError as exc:
        raise AirflowFailException(f"staff_changed_since: {exc}") from None
    wanted = [str(key) for key in params.get("staff") or [] if str(key).strip()]
    if wanted:
        chosen: list[StaffMember] = []
        problems: list[str] = []
        for key in wanted:
            try:
                member = find_staff_member(staff, key)
            except WixInvalidRequestError as exc:
                problems.append(str(exc))
                continue
            if member not in chosen:
                chosen.append(member)
        if problems:
            raise AirflowFailException(f"The staff param names {len(problems)} unclear staff: " + " | ".join(problems))
        staff = chosen
    entries: list[dict[str, Any]] = []
    for member in staff:
        if not member.schedule_id:
            log.warning("Wix sent no events schedule for %s: skipped", member.label)
            continue
        entries.append(
            {
                "schedule_id": member.schedule_id.lower(),
                "owner_email": member.email,
                "provider": PROVIDERS[params["provider"]],
                "name": member.name,
                "staff_member_id": member.id,
                "source": "staff",
            }
        )
    hidden = [e["name"] for e in entries if not e["owner_email"]]
    log.info("%d staff member(s) to check, from Query Staff Members", len(entries))
    if hidden:
        log.warning(
            "No visible e-mail for %s: their links will have to be passed on by hand. %s.",
            ", ".join(hidden),
            HIDDEN_EMAIL_REASON,
        )
    return entries


def _person(row: Mapping[str, Any]) -> str:
    """How a report names someone: ``Name <e-mail>``, else whichever is known, else the schedule."""
    name, email = row.get("name") or "", row.get("owner_email") or ""
    if name and email:
        return f"{name} <{email}>"
    return name or email or f"schedule {row.get('schedule_id')}"


def _validated(entries: object) -> tuple[list[dict[str, str]], list[str]]:
    """The entries with their fields normalised, and every problem found (not just the first)."""
    from airflow_provider_wix.client.errors import WixInvalidRequestError
    from airflow_provider_wix.client.validation import validate_email, validate_guid

    if not isinstance(entries, list):
        return [], [f"expected a JSON list of schedules, got {type(entries).__name__}"]
    schedules: list[dict[str, str]] = []
    problems: list[str] = []
    seen: set[str] = set()
    for n, entry in enumerate(entries):
        try:
            if not isinstance(entry, dict):
                raise WixInvalidRequestError("must be an object")
            schedule_id = validate_guid(entry.get("schedule_id"), "schedule_id").lower()
            owner_email = validate_email(entry.get("owner_email"))
            provider = str(entry.get("provider") or "").strip()
            if not provider:
                raise WixInvalidRequestError("provider is missing (Google, Microsoft or Apple)")
            if schedule_id in seen:
                raise WixInvalidRequestError(f"schedule {schedule_id} is listed twice")
        except WixInvalidRequestError as exc:
            problems.append(f"entry {n}: {exc}")
            continue
        seen.add(schedule_id)
        name = str(entry.get("name") or "").strip()
        schedules.append(
            {
                "schedule_id": schedule_id,
                "owner_email": owner_email,
                "provider": provider,
                "name": name,
                "source": "list",
            }
        )
    return schedules, problems


def _needs_owner_again(connection: Mapping[str, Any]) -> bool:
    """Broken in a way only the owner can repair, by connecting again."""
    status = connection.get("status")
    return status == "DISCONNECTED" or (status == "ERROR" and connection.get("errorReason") in REONBOARD_ERROR_REASONS)


def _onboarding_outcome(chunk: dict[str, Any], schedule_id: str, wait_hours: float) -> dict[str, Any]:
    """Turn one schedule's part of its chunk (task states, link, owner's answer, sync) into a report line."""
    states = chunk["states"]
    if states["connect"] != "success":
        return {"outcome": "failed", "detail": f"could not start the OAuth flow (connect: {states['connect']})"}
    issued = chunk["flows"].get(schedule_id) or {}
    if issued.get("status") == "failed":
        return {"outcome": "failed", "detail": f"could not start the OAuth flow: {issued.get('detail')}"}
    result = chunk["outcomes"].get(schedule_id) or {}
    outcome = result.get("outcome")
    if states["wait_for_owners"] != "success" or outcome is None:
        return {"outcome": "failed", "detail": f"waiting for the owner failed ({states['wait_for_owners']})"}
    if outcome == "declined":
        return {"outcome": "declined", "detail": "the owner declined the authorization request"}
    if outcome == "timed_out":
        return {"outcome": "timed_out", "detail": f"no answer within {wait_hours:g} h; the link was withdrawn"}
    if outcome == "unsupported":
        return {"outcome": "failed", "detail": "the calendar provider does not support this type of account"}
    if outcome == "cancelled":
        return {"outcome": "failed", "detail": "an Airflow user cancelled the link (Wix calendars dashboard)"}
    if outcome == "wix_error":
        return {"outcome": "failed", "detail": "Wix failed to complete the connection"}
    if outcome != "connected":
        return {"outcome": "failed", "detail": f"waiting for the owner failed: {result.get('detail')}"}
    connection_id = result.get("connection_id")
    configured = (chunk["configured"].get(schedule_id) or {}).get("status")
    if configured == "configured":
        detail = "connected; sync config applied"
    elif configured == "skipped":
        detail = "connected; the provider keeps its own sync config (see configure_sync's log)"
    else:
        why = (chunk["configured"].get(schedule_id) or {}).get("detail") or states["configure_sync"]
        return {
            "outcome": "failed",
            "detail": f"connected, but configuring sync failed ({why})",
            "connection_id": connection_id,
        }
    return {"outcome": "connected", "detail": detail, "connection_id": connection_id}


wix_bulk_onboarding()
