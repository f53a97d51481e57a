"""Sensors for the Wix External Calendars onboarding: the owner's OAuth decision and the sync."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_provider_wix.hooks import DEFAULT_WIX_CONN_ID
from airflow_provider_wix.operators.base import WixHookMixin, fail_fast_on_invalid_input
from airflow_provider_wix.version_compat import (
    AirflowException,
    AirflowFailException,
    AirflowSensorTimeout,
    conf,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    from airflow.sdk import Context

    from airflow_provider_wix.callback.state import FlowRecord

#: Statuses of a connection that is usable right after the owner approved.
HEALTHY_STATUSES = ("CONNECTED", "SYNC_IN_PROGRESS", "SYNCED")
#: Every connection status Wix has (the client's ``ConnectionStatus``, which a DAG parse does not import).
CONNECTION_STATUSES = ("UNDEFINED", "CONNECTED", "SYNC_IN_PROGRESS", "SYNCED", "DISCONNECTED", "ERROR")

ERROR_REASON_EXPLANATIONS = {
    "TOKEN_REVOKED": "the owner revoked Wix's access to the external calendar; connect it again",
    "EXTERNAL_CALENDAR_CREATION_FAILED": "Wix could not create the dedicated calendar at the provider",
    "EXTERNAL_CALENDAR_DELETED": "the external calendar was deleted at the provider; connect it again",
    "UNDEFINED": "Wix gave no reason",
}

#: XCom ``outcome`` of the callback sensor, so a report can tell a decline from a timeout.
OUTCOME_CONNECTED = "connected"
OUTCOME_DECLINED = "declined"
OUTCOME_UNSUPPORTED = "unsupported"
OUTCOME_WIX_ERROR = "wix_error"
OUTCOME_TIMED_OUT = "timed_out"
OUTCOME_FAILED = "failed"
OUTCOME_CANCELLED = "cancelled"
_OUTCOME_OF_ERROR = {"reject": OUTCOME_DECLINED, "unsupported": OUTCOME_UNSUPPORTED, "internal": OUTCOME_WIX_ERROR}

#: Defaults of the ``[wix]`` options (declared in the provider info) the sensors read.
DEFAULT_OAUTH_CALLBACK_POLL_INTERVAL = 600.0
DEFAULT_SYNC_STATUS_POLL_INTERVAL = 10.0
DEFAULT_OAUTH_BATCH_CHECK_INTERVAL = 10.0


def _wix_option(name: str, fallback: float) -> float:
    return conf.getfloat("wix", name, fallback=fallback)


_NO_EVENT = "The trigger sent no event."

# Deferral timeouts are a backstop: the trigger reports the timeout itself, with a useful message.
_DEFER_TIMEOUT_MARGIN = timedelta(minutes=5)


def _resume_guard(sensor: BaseSensorOperator, context: Context) -> dict[str, Any]:
    """Trigger arguments that keep its event from resuming the task too early (``callback.wake``).

    Computed in the task process just before it defers: ``deferring_worker`` names the process that
    will report this try's exit, which the API server watches to find the safe point.
    """
    from airflow_provider_wix.callback.state import RESUMABLE_PATH
    from airflow_provider_wix.callback.wake import deferring_worker, resume_not_before
    from airflow_provider_wix.version_compat import runs_in_dag_test

    moment = None if runs_in_dag_test() else resume_not_before(sensor.executor)
    if moment is None:
        return {"resume_not_before": None, "resume_check_url": None, "deferring_worker": None}
    # The triggerer reaches the API server where workers do: the Execution API's address.
    api = conf.get("core", "execution_api_server_url", fallback="").rstrip("/").removesuffix("/execution")
    ti_id = str(context["ti"].id)
    url = api + RESUMABLE_PATH.format(ti_id=ti_id) if api else None
    return {
        "resume_not_before": moment.isoformat(),
        "resume_check_url": url,
        "deferring_worker": deferring_worker(ti_id),
    }


def explain_connection_problem(connection: Mapping[str, Any]) -> str:
    """Say in words why a connection in ``ERROR`` or ``DISCONNECTED`` cannot be used."""
    status = connection.get("status")
    if status == "DISCONNECTED":
        return "the connection was disconnected (for example, the schedule changed owner)"
    reason = str(connection.get("errorReason") or "UNDEFINED")
    return f"sync failed: {ERROR_REASON_EXPLANATIONS.get(reason, reason)} ({reason})"


def connection_problem(connection: Mapping[str, Any] | None, connection_id: str, schedule_id: str | None) -> str | None:
    """Why the connection an owner's answer names cannot be accepted for ``schedule_id`` (``None``: it can).

    The callback's ``connectionId`` comes through the owner's browser, so it must be a healthy
    connection of the schedule being onboarded. ``connection`` is ``None`` when Wix did not list it
    among the schedule's connections.
    """
    if connection is None:
        return f"Connection {connection_id} is not a connection of schedule {schedule_id}"
    owner = str(connection.get("scheduleId") or "")
    if schedule_id and owner.lower() != schedule_id.lower():
        return f"Connection {connection_id} belongs to schedule {owner or 'none'}, not to {schedule_id}; refusing it"
    if connection.get("status") not in HEALTHY_STATUSES:
        return f"Connection {connection_id} is {connection.get('status')}: {explain_connection_problem(connection)}"
    return None


class WixOAuthCallbackSensor(WixHookMixin, BaseSensorOperator):
    """Wait for the calendar owner's decision on a :class:`ConnectByOAuthOperator` link.

    The callback route records the decision in Airflow's metadata database and wakes this task
    directly when it is deferred, so ``poke_interval`` is only the safety-net poll (default 10
    minutes, ``[wix] oauth_callback_poll_interval``: a thousand waiting owners then cost the triggerer
    about 5 % of a core; each poll is a Variable read served by the triggerer's supervisor, measured
    at 23-30 ms of CPU).

    Returns the new ``connectionId`` (XCom ``return_value``) and pushes the connection under the key
    ``connection``; the key ``outcome`` says how the wait ended (``connected``, ``declined``,
    ``unsupported``, ``wix_error``, ``timed_out`` or ``failed``), so a report can tell them apart.
    A declined (``reject``) or unsupported account fails without retries; a Wix ``internal`` error
    is retryable, and the retry asks Wix for a new link on the same state.

    The sensor finds its flow by the flow id (the SHA-256 digest of the state) that the connect task
    pushed under the XCom key ``flow_id``; it never sees the raw state except, masked, when a retry
    asks Wix for a new link on the same redirect URL.

    :param connect_task_id: Task id of the ConnectByOAuthOperator whose flow to wait for.
    :param flow_id: The flow id itself, instead of ``connect_task_id``, e.g.
        ``connect.output["flow_id"]`` (templated).
    :param schedule_id: The schedule being connected (templated); defaults to the flow's.
    :param owner_name: Who owns the schedule, e.g. the staff member's name (templated); only for the
        waiting log, which names the owner the Airflow user should chase. The sensor never asks Wix
        for it: a bulk run would pay one Query Staff Members per owner.
    :param verify_connection: Check with Get Connection that the connection exists for the schedule
        and is healthy before succeeding.
    :param detect_via_api: Also watch List Connections for the new connection, for deployments whose
        API server the owner's browser cannot reach.
    :param deferrable: Wait in the triggerer without holding a worker slot.
    :param wix_conn_id: The Airflow connection to Wix (templated).
    :param poke_interval: Seconds between safety polls; default ``[wix] oauth_callback_poll_interval`` (600).
    """

    template_fields: Sequence[str] = ("flow_id", "schedule_id", "owner_name", "wix_conn_id")
    ui_color = "#fff4d6"

    def __init__(
        self,
        *,
        connect_task_id: str | None = None,
        flow_id: str | None = None,
        schedule_id: str | None = None,
        owner_name: str | None = None,
        verify_connection: bool = True,
        detect_via_api: bool = False,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        wix_conn_id: str = DEFAULT_WIX_CONN_ID,
        poke_interval: float | None = None,
        timeout: float = timedelta(days=7).total_seconds(),
        **kwargs: Any,
    ) -> None:
        if "oauth_state" in kwargs:
            raise TypeError(
                "WixOAuthCallbackSensor no longer takes oauth_state: pass flow_id (the connect task's XCom "
                "'flow_id', e.g. connect.output['flow_id']) or connect_task_id. The raw state is a "
                "credential and stays out of XCom and rendered fields."
            )
        if poke_interval is None:
            poke_interval = _wix_option("oauth_callback_poll_interval", DEFAULT_OAUTH_CALLBACK_POLL_INTERVAL)
        super().__init__(poke_interval=poke_interval, timeout=timeout, **kwargs)
        if connect_task_id is None and flow_id is None and not detect_via_api:
            raise ValueError("Pass connect_task_id or flow_id (or detect_via_api=True with schedule_id).")
        self.connect_task_id = connect_task_id
        self.flow_id = flow_id
        self.schedule_id = schedule_id
        self.owner_name = owner_name
        self.verify_connection = verify_connection
        self.detect_via_api = detect_via_api
        self.deferrable = deferrable
        self.wix_conn_id = wix_conn_id

    # -- the flow this sensor waits for -----------------------------------------------------------

    def _flow_id(self, context: Context) -> str | None:
        """The flow to wait for: ``flow_id`` or the connect task's XCom; refuses anything malformed."""
        from airflow_provider_wix.callback.state import is_flow_id

        if self.flow_id:
            value: Any = self.flow_id
        elif self.connect_task_id is not None:
            value = self._pull(context, self.connect_task_id, "flow_id")
        else:
            return None
        if value is None:
            return None
        if not is_flow_id(value):
            raise AirflowFailException(
                "flow_id must be the flow id ConnectByOAuthOperator pushes under the XCom key 'flow_id' "
                "(64 lowercase hex characters, the SHA-256 digest of the state)."
            )
        return str(value)

    @staticmethod
    def _pull(context: Context, task_id: str, key: str) -> Any:
        """Pull from ``task_id`` at this task's own map index (a mapped connect/wait pair)."""
        ti = context["ti"]
        map_index = getattr(ti, "map_index", -1)
        if map_index is not None and map_index >= 0:
            return ti.xcom_pull(task_ids=task_id, key=key, map_indexes=map_index)
        return ti.xcom_pull(task_ids=task_id, key=key)

    def _oauth_url(self, context: Context, record: FlowRecord | None) -> str | None:
        """The link the owner should use: a re-issued one (after a Wix failure) or the original.

        Only an XCom that exists is pulled: Airflow 3 logs every missing one as an ERROR line.
        """
        if record is not None and record.attempt > 1:
            value = self._pull(context, context["ti"].task_id, "oauth_url")
        elif self.connect_task_id is not None:
            value = self._pull(context, self.connect_task_id, "return_value")
        else:
            value = None
        return value if isinstance(value, str) else None

    def _load(self, context: Context) -> tuple[str | None, FlowRecord | None]:
        """Return ``(digest, record)``; fail clearly when the state is unknown or already gone."""
        from airflow_provider_wix.callback.store import load_flow
        from airflow_provider_wix.client.models import OAuthCallbackError

        digest = self._flow_id(context)
        if digest is None:
            if not (self.detect_via_api and self.schedule_id):
                raise AirflowException(
                    f"No OAuth flow to wait for: task {self.connect_task_id!r} pushed none (was it given "
                    "an explicit redirect_url?). Pass detect_via_api=True and schedule_id to watch the API."
                )
            return None, None
        record = load_flow(digest)
        if record is None:
            raise AirflowFailException(
                f"The OAuth flow {digest} is unknown or was cleaned up (expired, or withdrawn after a timeout). "
                "Run the connect task again to issue a new authorization link."
            )
        if record.error is OAuthCallbackError.INTERNAL and not record.is_consumed:
            try_number = int(getattr(context["ti"], "try_number", 1) or 1)
            if try_number > record.attempt:
                record = self._reopen(context, digest, record)
        return digest, record

    def _reopen(self, context: Context, digest: str, record: FlowRecord) -> FlowRecord:
        """After Wix failed internally, a retry asks Wix for a new consent link on the same state.

        The redirect URL (with the state) comes from the flow record's secret field; it is masked
        before use so that no log line of this task can show it.
        """
        from airflow.sdk.log import mask_secret

        from airflow_provider_wix.callback.store import save_flow

        redirect_url = record.secret_redirect_url
        if not redirect_url:
            raise AirflowFailException(
                f"The OAuth flow {digest} keeps no redirect URL to re-open (issued by an older provider "
                "version). Run the connect task again to issue a new authorization link."
            )
        mask_secret(redirect_url)
        mask_secret(redirect_url.rsplit("/", 1)[-1])
        hook = self.hook
        # Re-arm before asking Wix: the owner may answer the new link before Wix's response gets here,
        # and the route only accepts an answer for a pending record. If Wix fails, put the "internal"
        # outcome back, so the next retry tries again.
        rearmed = record.rearmed()
        save_flow(digest, rearmed)
        try:
            oauth_url = hook.connect_by_oauth(record.provider_id, record.schedule_id, redirect_url)
        except BaseException:
            save_flow(digest, record)
            raise
        record = rearmed
        context["ti"].xcom_push(key="oauth_url", value=oauth_url)
        self.log.info(
            "Wix failed to connect the calendar last time. Open this URL to authorize schedule %s again: %s",
            record.schedule_id,
            oauth_url,
        )
        return record

    def _schedule(self, record: FlowRecord | None) -> str | None:
        return self.schedule_id or (record.schedule_id if record else None)

    # -- poke / reschedule modes -------------------------------------------------------------------

    def poke(self, context: Context) -> bool | PokeReturnValue:
        from airflow_provider_wix.callback.state import utcnow

        try:
            digest, record = self._load(context)
            result = self._decided(context, digest, record)
        finally:
            self.close_hook()
        if result is False:
            self._log_waiting(record, record.expires if record else utcnow() + timedelta(seconds=self.timeout))
        return result

    def _decided(self, context: Context, digest: str | None, record: FlowRecord | None) -> bool | PokeReturnValue:
        """Finish if the owner's decision is recorded (or a new connection shows up in the API)."""
        if record is not None and not record.is_pending:
            return PokeReturnValue(True, self._finish(context, digest, record, record.event_payload(via="check")))
        if self.detect_via_api:
            new_id = self._detect(record)
            if new_id is not None:
                event = {"status": "detected", "via": "api", "connection_id": new_id}
                return PokeReturnValue(True, self._finish(context, digest, record, event))
        return False

    def _detect(self, record: FlowRecord | None) -> str | None:
        schedule_id = self._schedule(record)
        if schedule_id is None:
            raise AirflowException("detect_via_api needs the schedule_id.")
        existing = (record.existing_connection_ids if record else None) or []
        from airflow_provider_wix.triggers.external_calendars import find_new_connection

        return find_new_connection(self.hook.client, schedule_id, existing)

    def _log_waiting(self, record: FlowRecord | None, until: datetime) -> None:
        """Tell the Airflow user what this task waits for, from whom, until when, and where to follow it."""
        from airflow_provider_wix.dashboard import dashboard_url

        schedule_id = self._schedule(record) or "(unknown)"
        owner = (self.owner_name or "").strip()
        link_task = record.task_id if record else self.connect_task_id
        self.log.info(
            "Waiting for %s to answer the authorization link issued by task %s; "
            "the wait ends at %s UTC%s. Follow all onboardings on the Wix calendars dashboard: %s",
            f"{owner}, owner of schedule {schedule_id}," if owner else f"the owner of schedule {schedule_id}",
            link_task or "(none: watching List Connections)",
            until.strftime("%Y-%m-%d %H:%M"),
            f" (the link is valid until {record.expires.strftime('%Y-%m-%d %H:%M')} UTC)" if record else "",
            dashboard_url(),
        )

    def execute(self, context: Context) -> Any:
        with fail_fast_on_invalid_input():
            if not self.deferrable:
                try:
                    return super().execute(context)
                except AirflowSensorTimeout as timeout:
                    from airflow_provider_wix.callback.store import load_flow

                    self._push_outcome(context, OUTCOME_TIMED_OUT)
                    digest = self._flow_id(context)
                    record = load_flow(digest) if digest else None
                    raise AirflowSensorTimeout(self._timeout_message(context, record)) from timeout
            try:
                return self._execute_deferrable(context)
            finally:
                self.close_hook()

    # -- deferrable mode ---------------------------------------------------------------------------

    def _execute_deferrable(self, context: Context) -> Any:
        from airflow_provider_wix.callback.state import utcnow
        from airflow_provider_wix.callback.store import load_flow, register_waiter
        from airflow_provider_wix.triggers.external_calendars import WixOAuthCallbackTrigger

        digest, record = self._load(context)
        if digest is not None:
            # Register first, then check: a callback that lands in between is either seen by the
            # re-read below or by the trigger's first poll, which runs after the task is DEFERRED.
            register_waiter(digest, str(context["ti"].id))
            record = load_flow(digest) or record
        result = self._decided(context, digest, record)
        if isinstance(result, PokeReturnValue) and result.is_done:
            return result.xcom_value
        deadline = utcnow() + timedelta(seconds=self.timeout)
        if record is not None:
            deadline = min(deadline, record.expires)
        self._log_waiting(record, deadline)
        self.defer(
            trigger=WixOAuthCallbackTrigger(
                state_digest=digest,
                poll_interval=self.poke_interval,
                deadline=deadline.isoformat(),
                wix_conn_id=self.wix_conn_id,
                detect_via_api=self.detect_via_api,
                schedule_id=self._schedule(record),
                existing_connection_ids=(record.existing_connection_ids or []) if record else [],
                **_resume_guard(self, context),
            ),
            method_name="execute_complete",
            timeout=deadline - utcnow() + _DEFER_TIMEOUT_MARGIN,
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> str:
        with fail_fast_on_invalid_input():
            return self._complete(context, event)

    def _complete(self, context: Context, event: dict[str, Any] | None) -> str:
        from airflow_provider_wix.callback.store import discard_flow, load_flow

        event = event or {"status": "error", "message": _NO_EVENT}
        digest = self._flow_id(context)
        if event.get("status") == "timeout":
            message = self._timeout_message(context, load_flow(digest) if digest else None)
            if digest:
                discard_flow(digest)
            self._push_outcome(context, OUTCOME_TIMED_OUT)
            raise AirflowSensorTimeout(message)
        if event.get("status") == "error":
            self._push_outcome(context, OUTCOME_FAILED)
            raise AirflowException(str(event.get("message")))
        record = load_flow(digest) if digest else None
        try:
            return self._finish(context, digest, record, event)
        finally:
            self.close_hook()

    # -- shared ending -----------------------------------------------------------------------------

    def _finish(self, context: Context, digest: str | None, record: FlowRecord | None, event: dict[str, Any]) -> str:
        """Turn the owner's decision into the task's result; consume the flow record."""
        from airflow_provider_wix.callback.state import CALLBACK_ERROR_EXPLANATIONS
        from airflow_provider_wix.client.models import OAuthCallbackError

        schedule_id = self._schedule(record)
        if event.get("cancelled_by"):
            # Kept like an answer (without the secret) until expiry: the owner's link then says
            # "withdrawn" and the dashboard keeps the cancelled row, instead of "unknown link".
            self._consume(digest, record)
            self._push_outcome(context, OUTCOME_CANCELLED)
            raise AirflowFailException(
                f"Onboarding of schedule {schedule_id} cancelled by {event['cancelled_by']}; "
                "the authorization link no longer works."
            )
        self.log.info("The owner's decision arrived (via %s)", event.get("via", "unknown"))
        error = event.get("error")
        if error:
            outcome = OAuthCallbackError(error)
            message = f"Schedule {schedule_id}: {CALLBACK_ERROR_EXPLANATIONS[outcome]} (error={outcome.value})"
            self._push_outcome(context, _OUTCOME_OF_ERROR[outcome.value])
            if outcome is OAuthCallbackError.INTERNAL:
                raise AirflowException(message)  # retryable: the retry re-opens the same link
            self._consume(digest, record)
            raise AirflowFailException(message)

        connection_id = str(event["connection_id"])
        connection: dict[str, Any] = {"id": connection_id}
        if self.verify_connection:
            connection = dict(self.hook.get_calendar_connection(connection_id))
            if problem := connection_problem(connection, connection_id, schedule_id):
                self._push_outcome(context, OUTCOME_FAILED)
                raise AirflowFailException(f"{problem}.")
        self._consume(digest, record)
        context["ti"].xcom_push(key="connection", value=connection)
        self._push_outcome(context, OUTCOME_CONNECTED)
        self.log.info("Schedule %s is connected: connection %s", schedule_id, connection_id)
        return connection_id

    @staticmethod
    def _consume(digest: str | None, record: FlowRecord | None) -> None:
        """Keep the answer's non-secret outcome for the owner's page; drop the secret and the waiter."""
        from airflow_provider_wix.callback.store import consume_flow, discard_flow

        if digest is None:
            return
        if record is None:
            discard_flow(digest)  # already purged: only the waiter can be left
        else:
            consume_flow(digest, record)

    @staticmethod
    def _push_outcome(context: Context, outcome: str) -> None:
        context["ti"].xcom_push(key="outcome", value=outcome)

    def _timeout_message(self, context: Context, record: FlowRecord | None) -> str:
        hours = self.timeout / 3600
        link = self._oauth_url(context, record)
        pending = f"The authorization link is still pending: {link}" if link else "No answer arrived."
        return f"The calendar owner did not answer within {hours:g} h. {pending}"


class WixConnectionStatusSensor(WixHookMixin, BaseSensorOperator):
    """Wait until a connection reaches a status (default ``SYNCED``); fail at once on ``ERROR``.

    Wix syncs in the background after a connection is made and after Update Sync Config; events
    listed before ``SYNCED`` may be missing, so onboarding waits here before listing events.

    :param connection_id: The Wix connection id (templated).
    :param target_statuses: Statuses that end the wait successfully.
    :param deferrable: Wait in the triggerer without holding a worker slot.
    :param wix_conn_id: The Airflow connection to Wix (templated).
    :param poke_interval: Seconds between Get Connection calls; default ``[wix] sync_status_poll_interval`` (10).
    """

    template_fields: Sequence[str] = ("connection_id", "wix_conn_id")
    ui_color = "#fff4d6"
    _FAILURE_STATUSES = ("ERROR", "DISCONNECTED")

    def __init__(
        self,
        *,
        connection_id: str,
        target_statuses: Sequence[str] = ("SYNCED",),
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        wix_conn_id: str = DEFAULT_WIX_CONN_ID,
        poke_interval: float | None = None,
        **kwargs: Any,
    ) -> None:
        if poke_interval is None:
            poke_interval = _wix_option("sync_status_poll_interval", DEFAULT_SYNC_STATUS_POLL_INTERVAL)

        super().__init__(poke_interval=poke_interval, **kwargs)
        self.connection_id = connection_id
        # Checked here: an unknown status would never be reached, and the sensor would wait until timeout.
        statuses = (target_statuses,) if isinstance(target_statuses, str) else tuple(target_statuses)
        known = CONNECTION_STATUSES
        unknown = [s for s in statuses if str(s) not in known]
        if unknown or not statuses:
            raise ValueError(
                f"target_statuses must be one or more of {', '.join(known)}; got {list(statuses)!r}"
                + (f" ({', '.join(map(repr, unknown))} unknown)" if unknown else "")
            )
        self.target_statuses = tuple(str(s) for s in statuses)
        self.deferrable = deferrable
        self.wix_conn_id = wix_conn_id

    def poke(self, context: Context) -> bool | PokeReturnValue:
        try:
            connection = dict(self.hook.get_calendar_connection(self.connection_id))
        finally:
            self.close_hook()
        return self._evaluate(connection)

    def _evaluate(self, connection: dict[str, Any]) -> bool | PokeReturnValue:
        status = connection.get("status")
        if status in self.target_statuses:
            self.log.info("Connection %s is %s", self.connection_id, status)
            return PokeReturnValue(True, connection)
        if status in self._FAILURE_STATUSES:
            raise AirflowFailException(
                f"Connection {self.connection_id} is {status}: {explain_connection_problem(connection)}."
            )
        self.log.info("Connection %s is %s; waiting for %s", self.connection_id, status, self.target_statuses)
        return False

    def execute(self, context: Context) -> Any:
        with fail_fast_on_invalid_input():
            return self._execute(context)

    def _execute(self, context: Context) -> Any:
        from airflow_provider_wix.triggers.external_calendars import WixConnectionStatusTrigger

        if not self.deferrable:
            return super().execute(context)
        result = self.poke(context)
        if isinstance(result, PokeReturnValue) and result.is_done:
            return result.xcom_value
        self.defer(
            trigger=WixConnectionStatusTrigger(
                connection_id=self.connection_id,
                target_statuses=self.target_statuses,
                failure_statuses=self._FAILURE_STATUSES,
                poll_interval=self.poke_interval,
                wix_conn_id=self.wix_conn_id,
                **_resume_guard(self, context),
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout),
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        if not event or event.get("status") != "done":
            raise AirflowException(str((event or {}).get("message", _NO_EVENT)))
        result = self._evaluate(dict(event["connection"]))
        if isinstance(result, PokeReturnValue):
            return result.xcom_value
        raise AirflowException(f"Unexpected status in trigger event: {event['connection'].get('status')}")


class WixOAuthCallbackBatchSensor(WixHookMixin, BaseSensorOperator):
    """Wait, in one deferred task, for the owners of a :class:`BatchConnectByOAuthOperator`'s links.

    One trigger watches every flow of the batch (:class:`WixOAuthCallbackBatchTrigger`) and ends
    when each owner has answered or at the deadline, so a batch costs two worker executions (the
    start up to the deferral, and the resume) whatever its size, and no worker slot while waiting.
    One owner declining or never answering does not fail the others: the task succeeds and returns
    one outcome per schedule, ``{schedule_id: {"outcome", "detail", "connection_id"?}}``, where
    ``outcome`` is that of :class:`WixOAuthCallbackSensor` (``connected``, ``declined``,
    ``unsupported``, ``wix_error``, ``cancelled``, ``timed_out`` or ``failed``), plus ``not_invited``
    for a schedule whose link Wix did not issue. New connections are checked with one List
    Connections per 100 schedules (they must belong to their schedule and be healthy). Answered flows
    are consumed (their secret dropped) and unanswered ones withdrawn, as the single sensor does; a
    Wix ``internal`` error is reported, not retried.

    :param connect_task_id: Task id of the BatchConnectByOAuthOperator (same map index).
    :param verify_connection: Check the new connections with List Connections before reporting them.
    :param check_interval: Seconds between reads of the batch's answer list (one Variable read); default
        ``[wix] oauth_batch_check_interval`` (10).
    :param poke_interval: Seconds between safety reads of the pending flow records; default
        ``[wix] oauth_callback_poll_interval`` (600).
    :param timeout: Seconds the owners may take.
    :param wix_conn_id: The Airflow connection to Wix (templated).
    """

    template_fields: Sequence[str] = ("wix_conn_id",)
    ui_color = "#fff4d6"

    def __init__(
        self,
        *,
        connect_task_id: str,
        verify_connection: bool = True,
        check_interval: float | None = None,
        wix_conn_id: str = DEFAULT_WIX_CONN_ID,
        poke_interval: float | None = None,
        timeout: float = timedelta(days=7).total_seconds(),
        **kwargs: Any,
    ) -> None:
        if check_interval is None:
            check_interval = _wix_option("oauth_batch_check_interval", DEFAULT_OAUTH_BATCH_CHECK_INTERVAL)
        if poke_interval is None:
            poke_interval = _wix_option("oauth_callback_poll_interval", DEFAULT_OAUTH_CALLBACK_POLL_INTERVAL)
        super().__init__(poke_interval=poke_interval, timeout=timeout, **kwargs)
        if check_interval <= 0:
            raise ValueError(f"check_interval must be positive, got {check_interval!r}")
        self.connect_task_id = connect_task_id
        self.verify_connection = verify_connection
        self.check_interval = check_interval
        self.wix_conn_id = wix_conn_id

    def poke(self, context: Context) -> bool:
        raise NotImplementedError("WixOAuthCallbackBatchSensor only waits deferred")

    def _issued(self, context: Context) -> dict[str, Any]:
        value = WixOAuthCallbackSensor._pull(context, self.connect_task_id, "return_value")
        if not isinstance(value, dict) or "flows" not in value:
            raise AirflowFailException(
                f"Task {self.connect_task_id!r} returned no batch of flows; it must be a BatchConnectByOAuthOperator."
            )
        return value

    def execute(self, context: Context) -> Any:
        from airflow_provider_wix.callback.state import is_flow_id, utcnow
        from airflow_provider_wix.dashboard import dashboard_url
        from airflow_provider_wix.triggers.external_calendars import WixOAuthCallbackBatchTrigger

        issued = self._issued(context)
        flow_ids = [f["flow_id"] for f in issued["flows"] if f.get("flow_id")]
        if not all(is_flow_id(f) for f in flow_ids):
            raise AirflowFailException("The batch names a malformed flow id.")
        if not flow_ids:
            return self._complete(context, issued, {"status": "done", "answers": {}, "pending": []})
        deadline = utcnow() + timedelta(seconds=self.timeout)
        owners = [
            f.get("owner_name") or f"the owner of schedule {f['schedule_id']}"
            for f in issued["flows"]
            if f.get("flow_id")
        ]
        self.log.info(
            "Waiting for %d owner(s) (%s) to answer the authorization links issued by task %s; the wait "
            "ends at %s UTC. Follow all onboardings on the Wix calendars dashboard: %s",
            len(flow_ids),
            ", ".join(owners),
            self.connect_task_id,
            deadline.strftime("%Y-%m-%d %H:%M"),
            dashboard_url(),
        )
        self.defer(
            trigger=WixOAuthCallbackBatchTrigger(
                flow_ids=flow_ids,
                batch=str(issued["batch"]),
                check_interval=self.check_interval,
                poll_interval=self.poke_interval,
                deadline=deadline.isoformat(),
                **_resume_guard(self, context),
            ),
            method_name="execute_complete",
            timeout=deadline - utcnow() + _DEFER_TIMEOUT_MARGIN,
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        with fail_fast_on_invalid_input():
            try:
                return self._complete(context, self._issued(context), event)
            finally:
                self.close_hook()

    def _complete(self, context: Context, issued: Mapping[str, Any], event: dict[str, Any] | None) -> dict[str, Any]:
        from airflow_provider_wix.callback.store import close_batch, consume_flow, discard_flow, load_flow

        if not event or event.get("status") != "done":
            raise AirflowException(str((event or {}).get("message", _NO_EVENT)))
        answers: dict[str, dict[str, Any]] = event.get("answers") or {}
        pending = set(event.get("pending") or [])
        hours = self.timeout / 3600
        results: dict[str, dict[str, Any]] = {}
        connected: dict[str, str] = {}  # schedule id -> connection id, still to check
        for flow in issued["flows"]:
            schedule_id, flow_id = flow["schedule_id"], flow.get("flow_id")
            if not flow_id:
                results[schedule_id] = {"outcome": "not_invited", "detail": flow.get("detail") or "no link issued"}
            elif flow_id in answers or flow_id in pending:
                record = load_flow(flow_id)
                if flow_id in pending and (record is None or record.is_pending):
                    discard_flow(flow_id)  # the link stops working: nobody acts on a late answer
                    results[schedule_id] = {
                        "outcome": OUTCOME_TIMED_OUT,
                        "detail": f"no answer within {hours:g} h; the link was withdrawn",
                    }
                    continue
                # An answer that arrived after the trigger's last check is still an answer.
                payload = answers.get(flow_id) or (record.event_payload(via="check") if record else {"status": "gone"})
                outcome = self._answer(payload)
                if outcome.get("connection_id") and outcome["outcome"] == OUTCOME_CONNECTED:
                    connected[schedule_id] = outcome["connection_id"]
                results[schedule_id] = outcome
                if record is None:
                    discard_flow(flow_id)
                elif not record.is_consumed:
                    consume_flow(flow_id, record)
            else:
                results[schedule_id] = {"outcome": OUTCOME_FAILED, "detail": "the wait ended without its answer"}
        if connected and self.verify_connection:
            for schedule_id, problem in self._verify(connected).items():
                results[schedule_id] = {"outcome": OUTCOME_FAILED, "detail": problem}
        close_batch(str(issued["batch"]))
        for schedule_id, result in results.items():
            self.log.info("%-10s schedule %s: %s", result["outcome"], schedule_id, result["detail"])
        return results

    @staticmethod
    def _answer(payload: Mapping[str, Any]) -> dict[str, Any]:
        """One owner's answer as an outcome with its reason."""
        from airflow_provider_wix.callback.state import CALLBACK_ERROR_EXPLANATIONS
        from airflow_provider_wix.client.models import OAuthCallbackError

        if payload.get("status") == "gone":
            return {"outcome": OUTCOME_FAILED, "detail": "the flow record is gone (expired or cleaned up)"}
        if payload.get("cancelled_by"):
            return {"outcome": OUTCOME_CANCELLED, "detail": f"cancelled by {payload['cancelled_by']}"}
        if payload.get("error"):
            error = OAuthCallbackError(payload["error"])
            return {"outcome": _OUTCOME_OF_ERROR[error.value], "detail": CALLBACK_ERROR_EXPLANATIONS[error]}
        return {
            "outcome": OUTCOME_CONNECTED,
            "detail": "the owner allowed access",
            "connection_id": str(payload["connection_id"]),
        }

    def _verify(self, connected: Mapping[str, str]) -> dict[str, str]:
        """Problems of the new connections (schedule id -> why), with one List Connections per 100."""
        listed = {str(c["id"]): c for c in self.hook.list_connections_for_schedules(list(connected)) if c.get("id")}
        problems = {
            schedule_id: connection_problem(listed.get(connection_id), connection_id, schedule_id)
            for schedule_id, connection_id in connected.items()
        }
        return {schedule_id: problem for schedule_id, problem in problems.items() if problem}
