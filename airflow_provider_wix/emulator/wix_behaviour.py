"""What Wix does on each call: auth, tokens, the nine External Calendars v2 methods, the consent flow.

Every method raises :class:`~airflow_provider_wix.emulator.errors.WixError` for what Wix answers with
an error; the routers only turn HTTP into calls of these methods and their results into HTTP.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from airflow_provider_wix.emulator.errors import (
    FieldViolation,
    WixErrorReply,
    application_error,
    permission_denied,
    system_error,
    unauthenticated,
    validation_error,
)
from airflow_provider_wix.emulator.events import (
    EventJsonRenderer,
    EventStream,
    Item,
    iter_merged,
    parse_rfc3339_ms,
    render_event,
    stable_hash,
    take_page,
)
from airflow_provider_wix.emulator.model import (
    OAUTH_DECISIONS,
    ListEventsQuery,
    OAuthFlow,
    Principal,
    Schedule,
    StoredConnection,
    Token,
)
from airflow_provider_wix.emulator.site import OAUTH_DEFAULT_SYNC_CONFIG, Site
from airflow_provider_wix.emulator.sync_config import field_mask_paths, validate_sync_config

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

__all__ = ["WixBehaviour", "append_query"]

# How a consent decision reaches the redirect URL: "deny" arrives as error=reject.
_OAUTH_ERRORS = {"deny": "reject", "unsupported": "unsupported", "internal": "internal"}


def append_query(url: str, params: dict[str, str]) -> str:
    """``url`` with ``params`` added to its query; its path, existing query and fragment are kept."""
    parts = urlsplit(url)
    extra = urlencode(params)
    return urlunsplit(parts._replace(query=f"{parts.query}&{extra}" if parts.query else extra))


def _to_ms(value: datetime | str | int) -> int:
    if isinstance(value, datetime):
        return parse_rfc3339_ms(value.isoformat())
    if isinstance(value, str):
        return parse_rfc3339_ms(value)
    return int(value)


class WixBehaviour(Site):
    """The Wix half of :class:`~airflow_provider_wix.emulator.state.EmulatorState`: the API's rules."""

    # ------------------------------------------------------------------ auth

    def authenticate(self, authorization: str | None, site_id: str | None, account_id: str | None) -> Principal:
        """Check a request's credentials like Wix: an API key with ``wix-site-id``, or an access token."""
        credential = (authorization or "").strip()
        if credential[:7].lower() == "bearer ":
            credential = credential[7:].strip()
        if not credential:
            raise unauthenticated("Missing Authorization header")
        with self._lock:
            cfg = self._config
            if secrets.compare_digest(credential, cfg.api_key):
                if not site_id:
                    detail = " (wix-account-id is for account-level APIs)" if account_id else ""
                    raise permission_denied(
                        "This is a site-level API: calls with an API key need a wix-site-id header" + detail
                    )
                if site_id.strip() != cfg.site_id:
                    raise permission_denied(f"The API key has no access to site {site_id.strip()}")
                return Principal("api_key", credential)
            token = self._tokens.get(credential)
            if token is None:
                raise unauthenticated("Invalid API key or access token")
            if self.now() >= token.expires_at:
                raise unauthenticated("Access token expired")
            return Principal("token", credential)

    def issue_token(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /oauth2/token`` with ``grant_type=client_credentials``."""
        violations = [
            FieldViolation(name, "is required", "REQUIRED_FIELD")
            for name in ("grant_type", "client_id", "client_secret", "instance_id")
            if not isinstance(body.get(name), str) or not body.get(name)
        ]
        if violations:
            raise validation_error(*violations)
        if body["grant_type"] != "client_credentials":
            raise validation_error(FieldViolation("grant_type", "must be client_credentials", "INVALID_ENUM_VALUE"))
        with self._lock:
            cfg = self._config
            if body["client_id"] != cfg.client_id or not secrets.compare_digest(
                str(body["client_secret"]), cfg.client_secret
            ):
                raise unauthenticated("Invalid client credentials")
            if body["instance_id"] != cfg.instance_id:
                raise permission_denied("The app is not installed on this instance")
            now = self.now()
            token = Token(
                "OauthNG.JWS." + secrets.token_urlsafe(48),
                cfg.client_id,
                cfg.instance_id,
                now,
                now + cfg.token_ttl,
            )
            self._tokens[token.token] = token
            return {"access_token": token.token, "token_type": "Bearer", "expires_in": int(cfg.token_ttl)}

    # ------------------------------------------------------------------ the nine Wix methods

    def list_providers(self) -> dict[str, Any]:
        return {"providers": self.providers()}

    def get_connection(self, connection_id: str) -> dict[str, Any]:
        return {"connection": self.connection(connection_id)}

    def list_connections(self, schedule_ids: Sequence[str] = (), partial_failure: bool = False) -> dict[str, Any]:
        with self._lock:
            wanted = set(schedule_ids)
            conns = [c for c in self._connections.values() if not wanted or c.schedule_id in wanted]
            failed = sorted({c.provider_id for c in conns if c.provider_id in self._failing_providers})
            if failed and not partial_failure:
                raise system_error(500)
            out: dict[str, Any] = {
                "connections": [
                    self._advanced(c).to_json() for c in conns if c.provider_id not in self._failing_providers
                ]
            }
            if failed:
                out["failedProviderIds"] = failed
            return out

    def connect_by_oauth(self, provider_id: str, schedule_id: str, redirect_url: str, base_url: str) -> dict[str, Any]:
        """Start a consent flow; the connection only exists once the owner allows it."""
        with self._lock:
            provider = self._provider(provider_id)
            self._schedule(schedule_id)
            if "OAUTH" not in provider.connect_methods:
                raise application_error(
                    428,
                    "NOT_SUPPORTED_BY_PROVIDER",
                    f"{provider.name} does not support connecting by OAuth; use Connect By Credentials",
                )
            flow_id = secrets.token_urlsafe(24)
            base = (self._config.public_url or base_url).rstrip("/")
            now = self.now()
            flow = OAuthFlow(
                id=flow_id,
                provider_id=provider_id,
                schedule_id=schedule_id,
                redirect_url=redirect_url,
                consent_url=f"{base}/oauth/consent/{flow_id}",
                created_at=now,
                expires_at=now + self._config.oauth_flow_ttl,
            )
            self._flows[flow_id] = flow
            return {"oauthUrl": flow.consent_url}

    def connect_by_credentials(self, provider_id: str, schedule_id: str, email: str, password: str) -> dict[str, Any]:
        with self._lock:
            cfg = self._config
            provider = self._provider(provider_id)
            schedule = self._schedule(schedule_id)
            if not cfg.premium:
                raise self._premium_error()
            if "CREDENTIALS" not in provider.connect_methods:
                raise application_error(
                    428,
                    "NOT_SUPPORTED_BY_PROVIDER",
                    f"{provider.name} does not support connecting with credentials; use Connect By OAuth",
                )
            if email.lower() != cfg.credentials_email.lower() or not secrets.compare_digest(
                password, cfg.credentials_password
            ):
                raise application_error(401, "BAD_CREDENTIALS", "Bad credentials")
            conn = self._new_connection(provider, schedule, email=email, sync_config=None, status="CONNECTED")
            return {"connection": conn.to_json()}

    def list_calendars(self, connection_id: str) -> dict[str, Any]:
        with self._lock:
            conn = self._advanced(self._connection(connection_id))
            if not self._config.premium:
                raise self._premium_error()
            if conn.status in ("DISCONNECTED", "ERROR", "UNDEFINED"):
                raise application_error(
                    428, "CONNECTION_NOT_CONNECTED", f"Connection is not connected (status {conn.status})"
                )
            provider = self._provider(conn.provider_id)
            if provider.list_event_from_calendars == "NOT_SUPPORTED":
                raise application_error(
                    428, "NOT_SUPPORTED_BY_PROVIDER", f"{provider.name} does not support listing calendars"
                )
            return {"calendars": [c.to_json() for c in conn.calendars]}

    def update_sync_config(self, connection_id: str, sync_config: Any, field_mask: Any = None) -> dict[str, Any]:
        """Replace the sync config (or only the ``fieldMask`` parts) after checking provider features."""
        with self._lock:
            conn = self._advanced(self._connection(connection_id))
            provider = self._provider(conn.provider_id)
            if not provider.update_sync_config:
                raise application_error(
                    428,
                    "NOT_SUPPORTED_BY_PROVIDER",
                    f"{provider.name} does not support updating the sync config",
                )
            if conn.status == "DISCONNECTED":
                raise application_error(428, "CONNECTION_NOT_CONNECTED", "Connection is disconnected")
            new = validate_sync_config(conn, provider, sync_config)
            paths = field_mask_paths(field_mask)
            if paths is None:
                merged = new
            else:
                merged = copy.deepcopy(conn.sync_config or {})
                for key in paths:
                    if key in new:
                        merged[key] = new[key]
                    else:
                        merged.pop(key, None)
            conn.sync_config = merged or None
            if conn.status in ("CONNECTED", "SYNC_IN_PROGRESS", "SYNCED"):
                conn.status = "SYNC_IN_PROGRESS"
                conn.sync_started_at = self.now()
            return {"connection": conn.to_json()}

    def disconnect(self, connection_id: str) -> dict[str, Any]:
        with self._lock:
            conn = self._advanced(self._connection(connection_id))
            if conn.status == "DISCONNECTED":
                raise application_error(428, "CONNECTION_ALREADY_DISCONNECTED", "Connection is already disconnected")
            self._disconnect(conn)
            return {"connection": conn.to_json()}

    def list_events_page(
        self, query: ListEventsQuery | None = None, *, cursor: str | None = None, limit: int | None = None
    ) -> dict[str, Any]:
        """One page of List Events. With ``cursor`` the query comes from it; ``limit`` may change."""
        query, streams, items, tail = self._events_page(query, cursor, limit)
        events = [render_event(streams[it[5]], it[0], it[3], it[4], query.own_pi) for it in items]
        return {"events": events, **tail}

    def list_events_page_json(
        self, query: ListEventsQuery | None = None, *, cursor: str | None = None, limit: int | None = None
    ) -> bytes:
        """``list_events_page`` encoded as the response body (rendered without building dicts)."""
        query, streams, items, tail = self._events_page(query, cursor, limit)
        renderer = EventJsonRenderer(streams, query.own_pi)
        events = ",".join([renderer.render(it) for it in items])
        rest = json.dumps(tail, separators=(",", ":"), ensure_ascii=False)
        return f'{{"events":[{events}],{rest[1:]}'.encode()

    def _events_page(
        self, query: ListEventsQuery | None, cursor: str | None, limit: int | None
    ) -> tuple[ListEventsQuery, list[EventStream], list[Item], dict[str, Any]]:
        """The streams and items of one page, and the response fields after ``events``."""
        after: tuple[int, str, int] | None = None
        if cursor:
            try:
                data = self._cursors.decode(cursor)
                query = ListEventsQuery.from_json(data["q"])
                key = data["k"]
                after = (int(key[0]), str(key[1]), int(key[2]))
                if limit is None:
                    limit = int(data["l"])
            except (ValueError, KeyError, TypeError, IndexError) as exc:
                raise validation_error(
                    FieldViolation("cursorPaging.cursor", "is not a valid cursor", "FORMAT")
                ) from exc
        if query is None:
            raise validation_error(FieldViolation("from", "is required", "REQUIRED_FIELD"))
        if limit is None:
            limit = self._config.default_page_size
        streams, failed = self._event_streams(query)
        items, has_next = take_page(streams, query.from_ms, query.to_ms, after, limit)
        paging: dict[str, Any] = {"count": len(items)}
        if has_next:
            last = items[-1]
            paging["cursors"] = {
                "next": self._cursors.encode({"q": query.to_json(), "k": [last[0], last[1], last[2]], "l": limit})
            }
        paging["hasNext"] = has_next
        tail: dict[str, Any] = {"pagingMetadata": paging}
        if failed:
            tail["failedProviderIds"] = failed
        return query, streams, items, tail

    def events(
        self,
        from_: datetime | str | int,
        to: datetime | str | int,
        *,
        schedule_ids: Sequence[str] = (),
        user_ids: Sequence[str] = (),
        all_day: bool | None = None,
        fieldsets: Sequence[str] = (),
        partial_failure: bool = True,
    ) -> Iterator[dict[str, Any]]:
        """Every event List Events would return for this query, lazily, in the same order.

        ``from_``/``to`` are datetimes, RFC 3339 strings or epoch milliseconds.
        """
        query = ListEventsQuery(
            _to_ms(from_),
            _to_ms(to),
            tuple(schedule_ids),
            tuple(user_ids),
            all_day,
            "OWN_PI" in fieldsets,
            partial_failure,
        )
        streams, _ = self._event_streams(query)
        for it in iter_merged(streams, query.from_ms, query.to_ms):
            yield render_event(streams[it[5]], it[0], it[3], it[4], query.own_pi)

    # ------------------------------------------------------------------ OAuth consent

    def oauth_flow(self, flow_id: str) -> OAuthFlow:
        """A flow by id; 404 if unknown, 410 if decided or expired."""
        with self._lock:
            flow = self._flows.get(flow_id)
            if flow is None:
                raise WixErrorReply(404, "This consent link is unknown")
            if flow.status != "PENDING":
                raise WixErrorReply(410, "This consent link has already been used")
            if self.now() >= flow.expires_at:
                raise WixErrorReply(410, "This consent link has expired")
            return dataclasses.replace(flow)

    def describe_flow(self, flow_id: str) -> dict[str, Any]:
        """What the consent page shows: provider, schedule and owner, where the browser returns."""
        with self._lock:
            flow = self.oauth_flow(flow_id)
            provider = self._providers.get(flow.provider_id)
            schedule = self._schedules.get(flow.schedule_id)
            return {
                "flow": flow,
                "provider_name": provider.name if provider else flow.provider_id,
                "owner_name": schedule.owner_name if schedule else "",
                "staff_name": self.staff.name_for_schedule(flow.schedule_id),
                "business": bool(schedule and schedule.business),
            }

    def decide_oauth(self, flow_id: str, decision: str, *, email: str | None = None) -> str:
        """The owner's decision; returns the URL the browser is redirected to. Single use."""
        if decision not in OAUTH_DECISIONS:
            raise WixErrorReply(400, f"decision must be one of {', '.join(OAUTH_DECISIONS)}")
        with self._lock:
            flow = self._flows.get(flow_id)
            self.oauth_flow(flow_id)  # 404 / 410
            assert flow is not None
            outcome = decision
            if decision == "allow" and self._config.oauth_outcome != "allow":
                outcome = self._config.oauth_outcome
            if outcome == "allow":
                provider = self._provider(flow.provider_id)
                schedule = self._schedule(flow.schedule_id)
                conn = self._new_connection(
                    provider,
                    schedule,
                    email=email,
                    sync_config=copy.deepcopy(OAUTH_DEFAULT_SYNC_CONFIG),
                    status="CONNECTED",
                )
                flow.connection_id = conn.id
                location = append_query(flow.redirect_url, {"connectionId": conn.id})
            else:
                location = append_query(flow.redirect_url, {"error": _OAUTH_ERRORS[outcome]})
            flow.status = "DECIDED"
            flow.decision = outcome
            flow.location = location
            return location

    def _premium_error(self) -> WixErrorReply:
        return application_error(
            403, "PREMIUM_FEATURE_NOT_ENABLED", "External calendars need a Wix Premium plan on this site"
        )

    def _event_streams(self, query: ListEventsQuery) -> tuple[list[EventStream], list[str]]:
        """The streams a query reads (SYNCED connections with import on), and providers that failed."""
        with self._lock:
            streams: list[EventStream] = []
            failed: set[str] = set()
            fetched = 0
            for conn, schedule in self._queried_connections(query):
                if conn.provider_id in self._failing_providers:
                    failed.add(conn.provider_id)
                    continue
                fetched += 1
                streams.extend(self._connection_streams(conn, schedule, query.all_day))
            # partialFailure succeeds only if at least one connection's events were fetched.
            if failed and (not query.partial_failure or fetched == 0):
                raise system_error(500)
            return streams, sorted(failed)

    def _queried_connections(self, query: ListEventsQuery) -> Iterator[tuple[StoredConnection, Schedule]]:
        """SYNCED connections importing events whose schedule (and owner) the query's filters select."""
        schedule_filter = set(query.schedule_ids)
        user_filter = set(query.user_ids)
        for conn in self._connections.values():
            self._advanced(conn)
            if conn.status != "SYNCED" or not _imports(conn).get("enabled"):
                continue
            schedule = self._schedules.get(conn.schedule_id)
            if schedule is None:
                continue
            if schedule_filter and conn.schedule_id not in schedule_filter:
                continue
            if user_filter and schedule.owner_id not in user_filter:
                continue
            yield conn, schedule

    def _connection_streams(
        self, conn: StoredConnection, schedule: Schedule, all_day: bool | None
    ) -> list[EventStream]:
        """A connection's imported calendars as event streams (timed, all-day or both, per ``all_day``)."""
        cfg = self._config
        imports = _imports(conn)
        if "calendars" in imports:
            wanted = {c["id"] for c in imports["calendars"]["calendars"]}
            calendars = [c for c in conn.calendars if c.id in wanted]
        else:
            calendars = [c for c in conn.calendars if c.primary]
        per_day = cfg.events_per_day if conn.events_per_day is None else conn.events_per_day
        every = cfg.all_day_every_days if conn.all_day_every_days is None else conn.all_day_every_days
        streams: list[EventStream] = []
        for cal in calendars:
            fields = {
                "schedule_id": conn.schedule_id,
                "calendar_type": conn.calendar_type,
                "calendar_name": cal.name,
                "owner_id": schedule.owner_id,
                "owner_name": schedule.owner_name,
                "provider_id": conn.provider_id,
            }
            if per_day > 0 and all_day is not True:
                ids = _stream_ids(cfg.seed, conn, cal.id, "timed")
                streams.append(EventStream.timed(events_per_day=per_day, **ids, **fields))
            if every > 0 and all_day is not False:
                ids = _stream_ids(cfg.seed, conn, cal.id, "all-day")
                streams.append(EventStream.all_day_every(days=every, **ids, **fields))
        return streams


def _stream_ids(seed: int, conn: StoredConnection, calendar_id: str, kind: str) -> dict[str, Any]:
    """A stream's resume-key id (stable across seeds) and its hash base (the seed's events)."""
    return {
        "key": f"{stable_hash(conn.id, calendar_id, kind):016x}",
        "base": stable_hash(seed, conn.id, calendar_id, kind),
    }


def _imports(conn: StoredConnection) -> dict[str, Any]:
    """The connection's ``listEventFromCalendars`` part (empty when it has none)."""
    return (conn.sync_config or {}).get("listEventFromCalendars") or {}
