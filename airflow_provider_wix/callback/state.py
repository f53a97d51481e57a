"""OAuth ``state`` tokens and the record kept for each onboarding flow.

The state is the only credential the anonymous OAuth redirect carries, so it is 256 random bits and
exists in clear only in the redirect URL sent to Wix. Everything the provider writes names the flow
by the state's SHA-256 digest, the *flow id* (XCom, Variable keys, trigger arguments, logs). The one
copy the provider keeps is the redirect URL inside the flow record, in a field whose name Airflow's
secrets masker redacts (``secret_redirect_url``): it is what the internal-error retry sends to Wix
again, and the record lives in an Airflow Variable, encrypted at rest with the Fernet key.
Everything here is plain Python so that the operator (worker), the trigger (triggerer) and the
plugin (API server) share one definition without importing each other.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Any

from airflow_provider_wix.client.errors import WixInvalidRequestError
from airflow_provider_wix.client.models import OAuthCallbackError

#: Prefix of the Airflow Variables that hold flow records; unique so nothing else collides with it.
FLOW_KEY_PREFIX = "wix_oauth_flow__"
#: Prefix of the Variables in which a waiting sensor registers its task instance id.
WAITER_KEY_PREFIX = "wix_oauth_waiter__"
#: Prefix of the Variables that name the flow a Connect task instance issued last (its flow id).
TASK_KEY_PREFIX = "wix_oauth_task__"
#: Prefix of the Variables in which the callback route lists the answers to a batch of flows, so one
#: trigger watching many flows reads one Variable per check instead of one per flow.
BATCH_KEY_PREFIX = "wix_oauth_batch__"

_TOKEN_BYTES = 32
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
_FLOW_ID_RE = re.compile(r"^[0-9a-f]{64}$")
# Wix connection ids are opaque alphanumeric strings of ~100-200 characters; accept a little more.
_CONNECTION_ID_RE = re.compile(r"^[A-Za-z0-9._~-]{1,512}$")


CALLBACK_ERROR_EXPLANATIONS = {
    OAuthCallbackError.REJECT: "The calendar owner declined the authorization request.",
    OAuthCallbackError.UNSUPPORTED: "The calendar provider does not support this type of account.",
    OAuthCallbackError.INTERNAL: "Wix failed to complete the connection (internal error). Try again.",
}


class FlowStatus(str, Enum):
    PENDING = "pending"
    COMPLETED = "completed"
    #: Withdrawn by an Airflow user (the dashboard's *Cancel*): the link no longer works.
    CANCELLED = "cancelled"


#: Where the plugin serves the OAuth redirect on the Airflow API server.
CALLBACK_PATH = "/wix/oauth/callback/"
#: Where a trigger asks the API server whether its deferred task may be resumed yet.
RESUMABLE_PATH = "/wix/tasks/{ti_id}/resumable"


class InvalidStateError(WixInvalidRequestError):
    """The state token is not one this provider could have issued (retrying cannot fix it)."""


class MissingCallbackUrlError(WixInvalidRequestError):
    """Neither the Wix connection nor Airflow's ``[api] base_url`` says where Airflow is reachable."""


def callback_redirect_url(base_url: str | None, state: str, *, wix_conn_id: str) -> str:
    """The redirect URL Wix sends the owner's browser to: the plugin route for this ``state``."""
    if not base_url:
        raise MissingCallbackUrlError(
            "No absolute callback URL for the OAuth redirect: set `callback_base_url` in the extra of "
            f"connection {wix_conn_id!r} or Airflow's [api] base_url to the public URL of the Airflow "
            "API server (e.g. https://airflow.example.com)."
        )
    return f"{base_url.rstrip('/')}{CALLBACK_PATH}{state}"


def new_state_token() -> str:
    """Return a fresh, unguessable, URL-safe state token (256 bits of randomness)."""
    return secrets.token_urlsafe(_TOKEN_BYTES)


def is_well_formed_token(token: str) -> bool:
    return bool(_TOKEN_RE.fullmatch(token))


def state_digest(token: str) -> str:
    """Return the SHA-256 hex digest under which a state is stored; refuses malformed tokens."""
    if not is_well_formed_token(token):
        raise InvalidStateError("The OAuth state token is malformed.")
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def is_flow_id(value: object) -> bool:
    """True for a flow id: the lowercase SHA-256 hex digest of a state, as ConnectByOAuthOperator pushes it."""
    return isinstance(value, str) and bool(_FLOW_ID_RE.fullmatch(value))


def redacted_callback_path(path: str) -> str:
    """The callback path as logs may show it: the state replaced by the first characters of its flow id.

    Whatever follows :data:`CALLBACK_PATH` is rewritten (also under a base path), well-formed or
    not, so neither a live state nor whatever a prober sends ends up in an access log; the flow id
    prefix still lets an operator match a log line to a flow record.
    """
    prefix, found, token = path.partition(CALLBACK_PATH)
    if not found:
        return path
    # URL-safe, so that access logs that quote the path (uvicorn's) show it as is.
    shown = f"redacted-flow-{state_digest(token)[:12]}" if is_well_formed_token(token) else "redacted"
    return f"{prefix}{CALLBACK_PATH}{shown}"


def is_valid_connection_id(value: str) -> bool:
    return bool(_CONNECTION_ID_RE.fullmatch(value))


def flow_key(digest: str) -> str:
    return f"{FLOW_KEY_PREFIX}{digest}"


def waiter_key(digest: str) -> str:
    return f"{WAITER_KEY_PREFIX}{digest}"


def task_key(dag_id: str, run_id: str, task_id: str, map_index: int, schedule_id: str | None = None) -> str:
    """The key under which a Connect task instance notes its flow id: one per task instance, all tries.

    A task that connects many schedules notes one flow per schedule (``schedule_id``).
    """
    parts: list[Any] = [dag_id, run_id, task_id, map_index]
    if schedule_id is not None:
        parts.append(schedule_id)
    identity = json.dumps(parts)
    return f"{TASK_KEY_PREFIX}{hashlib.sha256(identity.encode()).hexdigest()}"


def batch_key(dag_id: str, run_id: str, task_id: str, map_index: int) -> str:
    """The Variable listing the answers to the flows a batch Connect task instance issued."""
    identity = json.dumps([dag_id, run_id, task_id, map_index])
    return f"{BATCH_KEY_PREFIX}{hashlib.sha256(identity.encode()).hexdigest()}"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class FlowRecord:
    """What is known about one OAuth onboarding flow, stored as JSON in the Airflow Variable
    ``wix_oauth_flow__<flow id>`` (:func:`flow_key`); read it with :meth:`from_json`.

    Life cycle: issued ``pending`` by ConnectByOAuthOperator; ``completed`` by the callback route
    (exactly once: ``connection_id`` or ``error`` and ``completed_at``); put back to ``pending``
    with ``attempt`` + 1 by a sensor retry after a Wix ``internal`` error (:meth:`rearmed`); and
    ``consumed_at`` set by the sensor that acted on it (:meth:`consumed`), which also drops the
    secret. A consumed record is the non-secret outcome the route shows again when the owner reloads
    the page; every record is deleted once ``expires_at`` has passed.

    ``provider_name`` and ``owner_name`` are what the owner's landing page calls the calendar and
    the owner ("Google", "Ada Lovelace"), as the connect task knew them; the anonymous callback route
    shows them without asking Wix. A record of an older version has neither (``None``): the page then
    says "calendar" and "Thank you." without a name.

    ``secret_redirect_url`` (the redirect URL sent to Wix, which holds the raw state) is the only
    secret field: it never appears in ``repr``, event payloads or logs, and Airflow's Variable API
    shows it as ``***`` because its name contains "secret".
    """

    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    schedule_id: str
    provider_id: str
    issued_at: str
    expires_at: str
    status: FlowStatus = FlowStatus.PENDING
    connection_id: str | None = None
    error: OAuthCallbackError | None = None
    completed_at: str | None = None
    attempt: int = 1
    existing_connection_ids: list[str] | None = field(default=None)
    cancelled_by: str | None = None
    consumed_at: str | None = None
    provider_name: str | None = None
    owner_name: str | None = None
    secret_redirect_url: str | None = field(default=None, repr=False)

    @classmethod
    def issue(
        cls,
        *,
        dag_id: str,
        run_id: str,
        task_id: str,
        map_index: int,
        schedule_id: str,
        provider_id: str,
        ttl: timedelta,
        redirect_url: str | None = None,
        provider_name: str | None = None,
        owner_name: str | None = None,
        now: datetime | None = None,
    ) -> FlowRecord:
        now = now or utcnow()
        return cls(
            dag_id=dag_id,
            run_id=run_id,
            task_id=task_id,
            map_index=map_index,
            schedule_id=schedule_id,
            provider_id=provider_id,
            issued_at=now.isoformat(),
            expires_at=(now + ttl).isoformat(),
            provider_name=provider_name or None,
            owner_name=owner_name or None,
            secret_redirect_url=redirect_url,
        )

    @property
    def expires(self) -> datetime:
        return datetime.fromisoformat(self.expires_at)

    def is_expired(self, now: datetime | None = None) -> bool:
        return (now or utcnow()) >= self.expires

    @property
    def is_pending(self) -> bool:
        return self.status is FlowStatus.PENDING

    def completed(self, *, connection_id: str | None, error: OAuthCallbackError | None) -> FlowRecord:
        if (connection_id is None) == (error is None):
            raise ValueError("A callback carries exactly one of connectionId and error.")
        return replace(
            self,
            status=FlowStatus.COMPLETED,
            connection_id=connection_id,
            error=error,
            completed_at=utcnow().isoformat(),
        )

    def cancelled(self, *, by: str) -> FlowRecord:
        """Withdraw a pending link on behalf of the Airflow user ``by``; the sensor then fails."""
        if not self.is_pending:
            raise ValueError("Only a pending flow can be cancelled.")
        return replace(self, status=FlowStatus.CANCELLED, cancelled_by=by, completed_at=utcnow().isoformat())

    @property
    def is_consumed(self) -> bool:
        return self.consumed_at is not None

    def has_outcome(self, *, connection_id: str | None, error: OAuthCallbackError | None) -> bool:
        """True when this completed record holds exactly this answer (a reload of the same URL)."""
        return self.status is FlowStatus.COMPLETED and (self.connection_id, self.error) == (connection_id, error)

    def consumed(self) -> FlowRecord:
        """What is kept once a sensor has acted on the answer: the outcome, without the secret.

        It lets the route show the owner the same page on a reload until the state expires.
        """
        return replace(self, consumed_at=utcnow().isoformat(), secret_redirect_url=None, existing_connection_ids=None)

    def with_existing_connections(self, connection_ids: list[str]) -> FlowRecord:
        """Remember the schedule's connections before the flow, so a new one can be told apart."""
        return replace(self, existing_connection_ids=sorted(connection_ids))

    def rearmed(self) -> FlowRecord:
        """Let the owner use the same link again after Wix failed internally (a retry of the sensor)."""
        return replace(
            self,
            status=FlowStatus.PENDING,
            connection_id=None,
            error=None,
            completed_at=None,
            attempt=self.attempt + 1,
        )

    def to_json(self) -> str:
        data = asdict(self)
        data["status"] = self.status.value
        data["error"] = self.error.value if self.error else None
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, raw: str | dict[str, Any]) -> FlowRecord:
        data = json.loads(raw) if isinstance(raw, str) else dict(raw)
        known = {f for f in cls.__dataclass_fields__}
        data = {k: v for k, v in data.items() if k in known}
        data["status"] = FlowStatus(data.get("status", FlowStatus.PENDING.value))
        data["error"] = OAuthCallbackError(data["error"]) if data.get("error") else None
        return cls(**data)

    def event_payload(self, *, via: str) -> dict[str, Any]:
        """The JSON-serialisable payload handed to the sensor; ``via`` says what delivered it."""
        return {
            "status": "callback",
            "via": via,
            "connection_id": self.connection_id,
            "error": self.error.value if self.error else None,
            "attempt": self.attempt,
            "cancelled_by": self.cancelled_by,
        }
