"""Property-based fuzzing of the OAuth callback route, through Airflow's own API-server app.

Hypothesis generates hostile requests: random, forged, expired, reused and oversized states, odd
percent-encodings, both or neither parameter, doubled parameters, script and HTML in every place,
other HTTP methods. Whatever arrives, the route must answer below 500, change no stored record
unless the request is a valid callback for a pending, unexpired state, and reflect nothing
unescaped. The three properties together send ``FUZZ_REQUESTS`` requests (10,000 by default).

Generating hostile text costs more than sending it, so each example draws a few states and a few
queries and sends every combination of them (``STATES * QUERIES`` requests per example), and the
stored records are compared once per example, not per request. The API server's expired-flow sweep
stays live: a record it deletes because it expired is not a change made by a request.
"""

from __future__ import annotations

import os
import string
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_wix.callback.state import (
    FLOW_KEY_PREFIX,
    FlowRecord,
    is_valid_connection_id,
    state_digest,
    utcnow,
)
from airflow_provider_wix.client.models import OAuthCallbackError
from tests.callback.conftest import read_flow
from tests.reliability.conftest import forget_flows, issue_state

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200), pytest.mark.usefixtures("airflow_db")]

#: Requests the fuzz sends in all (the three properties share them 6 : 3 : 1).
FUZZ_REQUESTS = int(os.environ.get("WIX_FUZZ_REQUESTS", "10000"))
ROUTE = "/wix/oauth/callback/"
CONNECTION_ID = "u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8dKLzdocJ2isAjIhKtJ0RlgLK"
#: Each example of the invalid-state property sends every state with every query.
STATES, QUERIES = 4, 4
#: Each example of the pending-state property sends this many refused queries on every pending state.
PENDING_QUERIES = 6
#: Valid callbacks per example of the control group.
VALID_PER_EXAMPLE = 10

#: Markup that must never come back unescaped; none of it is in the route's own pages.
PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg/onload=alert(1)>",
    "</title><iframe src=javascript:alert(1)>",
    "<a href='javascript:alert(1)'>x</a>",
    "{{7*7}}${7*7}<%= 7*7 %>",
    "<!--",
    "]]><![CDATA[<x>",
]
FORBIDDEN_IN_RESPONSES = ("<script", "<img", "<svg", "<iframe", "<a href", "onerror", "onload", "javascript:", "<!--")
#: Percent-escapes a browser or an attacker may send: NUL, invalid UTF-8, overlong "/", right-to-left
#: override, double encoding, an encoded slash and dot segments.
ODD_ESCAPES = ["%00", "%FF", "%C0%AF", "%E2%80%AE", "%253Cscript%253E", "%2F", "%2E%2E", "%0D%0A", "%", "%G1", "+"]
TOKEN_ALPHABET = string.ascii_letters + string.digits + "-_"
METHODS = ["GET"] * 8 + ["POST", "HEAD", "PUT", "OPTIONS"]
ACCEPTS = ["text/html", "application/json", "*/*", "", "application/json, text/html"]

counted = {"requests": 0, "5xx": 0, "records": 0, "reflections": 0}


@pytest.fixture(scope="module")
def api(airflow_db: Any) -> Iterator[Any]:
    """Airflow's whole API-server app (``create_app()``), plugins included, as tests/callback use it."""
    from airflow.api_fastapi.app import create_app
    from fastapi.testclient import TestClient

    with TestClient(create_app(), raise_server_exceptions=False) as client:
        yield client


# -- what is checked ----------------------------------------------------------------------------


def _flow_records() -> dict[str, tuple[Any, bool]]:
    """Every stored flow and waiter record: its stored bytes and whether they are encrypted."""
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(Variable.key, Variable._val, Variable.is_encrypted).where(Variable.key.startswith("wix_oauth_"))
        )
        return {key: (val, bool(encrypted)) for key, val, encrypted in rows}


def _swept(key: str, stored: tuple[Any, bool]) -> bool:
    """Whether the expired-flow sweep may have deleted this record: its flow had expired."""
    from airflow.models.variable import Variable

    if not key.startswith(FLOW_KEY_PREFIX):
        return True  # waiters go with their flow; the route never writes one
    variable = Variable(key=key)
    variable._val, variable.is_encrypted = stored
    try:
        return FlowRecord.from_json(variable.val).is_expired(utcnow())
    except (ValueError, TypeError, KeyError):
        return True  # the sweep deletes unreadable records too


def _record_changes(before: dict[str, tuple[Any, bool]], after: dict[str, tuple[Any, bool]]) -> list[str]:
    """Records a refused request may have written: new keys, changed values, deletions not by the sweep."""
    changes = [f"new record {key}" for key in after.keys() - before.keys()]
    changes += [f"changed record {key}" for key in after.keys() & before.keys() if after[key] != before[key]]
    changes += [f"deleted record {key}" for key in before.keys() - after.keys() if not _swept(key, before[key])]
    return changes


def _send(api: Any, method: str, path: str, query: str, accept: str, inputs: list[str]) -> Any:
    """Send one request and check its answer: below 500, nothing unescaped, no input reflected raw."""
    url = path + (f"?{query}" if query else "")
    response = api.request(method, url, headers={"Accept": accept})
    counted["requests"] += 1
    counted["5xx"] += response.status_code >= 500
    assert response.status_code < 500, (response.status_code, response.text[:500])
    text = response.text.lower()
    reflected = [f for f in FORBIDDEN_IN_RESPONSES if f in text]
    reflected += [v for v in inputs if any(c in v for c in "<>\"'") and len(v) >= 4 and v in response.text]
    counted["reflections"] += bool(reflected)
    assert not reflected, f"unescaped {reflected!r} in a {response.status_code} answer to {method} {url[:300]}"
    return response


def _assert_recorded_nothing(before: dict[str, tuple[Any, bool]]) -> None:
    changes = _record_changes(before, _flow_records())
    counted["records"] += len(changes)
    assert not changes, f"refused requests changed stored records: {changes[:5]}"


def _is_valid_outcome(query: str) -> bool:
    """Whether the route, parsing ``query`` as Starlette does, sees exactly one well-formed outcome."""
    pairs = parse_qsl(query, keep_blank_values=True)
    outcomes = [(k, v) for k, v in pairs if k in ("connectionId", "error")]
    if len(outcomes) != 1:
        return False
    key, value = outcomes[0]
    if key == "connectionId":
        return is_valid_connection_id(value)
    return value in {e.value for e in OAuthCallbackError}


# -- strategies ---------------------------------------------------------------------------------

hostile_text = st.one_of(
    st.sampled_from(PAYLOADS),
    st.text(min_size=0, max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20).map(lambda t: t + "<b>"),
    st.builds(lambda p, t: p + t, st.sampled_from(PAYLOADS), st.text(max_size=10)),
)


def _repeated(shortest: int, longest: int) -> st.SearchStrategy[str]:
    """Long token-like text, cheap to generate (a random prefix, then repetition)."""
    return st.builds(
        lambda head, size: (head * (size // len(head) + 1))[:size],
        st.text(alphabet=TOKEN_ALPHABET, min_size=1, max_size=16),
        st.integers(shortest, longest),
    )


@st.composite
def encoded(draw: st.DrawFn, text: st.SearchStrategy[str]) -> tuple[str, str]:
    """``(what is sent, what it means)``: text percent-encoded, with odd escapes mixed in."""
    value = draw(text)
    sent = quote(value, safe="")
    odd = draw(st.lists(st.sampled_from(ODD_ESCAPES), max_size=3))
    for escape in odd:
        at = draw(st.integers(0, len(sent)))
        sent = sent[:at] + escape + sent[at:]
    return sent, value


@st.composite
def hostile_query(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A query with none, one, both or doubled parameters, valid or hostile values; and its inputs."""
    keys = st.sampled_from(["connectionId", "error", "connectionid", "connectionId[]", "state", "x"]) | hostile_text
    values = st.one_of(
        st.just(CONNECTION_ID),
        st.sampled_from(["reject", "unsupported", "internal", "REJECT", ""]),
        hostile_text,
        _repeated(1000, 7_000),
    )
    pairs = draw(st.lists(st.tuples(encoded(keys), encoded(values)), max_size=4))
    query = "&".join(f"{k}={v}" for (k, _), (v, _) in pairs)
    if draw(st.booleans()):
        extra, _ = draw(encoded(st.text(max_size=8)))
        query += draw(st.sampled_from(["&", "&&", ";", "#frag", "&=", "&connectionId", "&error="])) + extra
    return query, [k for (_, k), _ in pairs] + [v for _, (_, v) in pairs]


@st.composite
def hostile_state(draw: st.DrawFn, known: dict[str, list[str]]) -> tuple[str, str]:
    """``(path segment, meaning)`` of a state that must not be accepted."""
    kind = draw(st.sampled_from(["forged", "random", "payload", "oversized", "near", "expired", "reused"]))
    if kind in ("expired", "reused"):
        token = draw(st.sampled_from(known[kind]))
        return token, token
    if kind == "forged":
        token = draw(st.text(alphabet=TOKEN_ALPHABET, min_size=43, max_size=43))
        return token, token
    if kind == "oversized":
        token = draw(_repeated(44, 30_000))  # with the query, under the 64 KiB URL limit of HTTP clients
        return token, token
    if kind == "near":  # a known pending state, one character off or with something appended
        base = draw(st.sampled_from(known["pending"]))
        at = draw(st.integers(0, len(base) - 1))
        token = base[:at] + draw(st.sampled_from("Aa0-_")) + base[at + 1 :] + draw(st.sampled_from(["", "=", ".", " "]))
        token = token if token != base else base + "A"
        return quote(token, safe=""), token
    return draw(encoded(hostile_text if kind == "payload" else st.text(min_size=1, max_size=200)))


FUZZ_SETTINGS = settings(
    database=None,
    deadline=None,
    derandomize=True,  # the same requests on every run: a failure reproduces
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)


def _examples(requests: int, per_example: int) -> int:
    """Examples needed to send at least ``requests`` requests."""
    return max(1, -(-requests // per_example))


@pytest.fixture(scope="module")
def known_states(api: Any) -> Iterator[dict[str, list[str]]]:
    """States the fuzz may use: pending ones (must stay pending), already used and expired ones."""
    known = {"reused": [issue_state(timedelta(hours=1)) for _ in range(5)]}
    for token in known["reused"]:
        assert api.get(f"{ROUTE}{token}", params={"connectionId": CONNECTION_ID}).status_code == 200
    known["expired"] = [issue_state(timedelta(seconds=-1)) for _ in range(5)]
    known["pending"] = [issue_state(timedelta(hours=1)) for _ in range(5)]
    yield known
    forget_flows()


# -- properties ---------------------------------------------------------------------------------


def test_the_record_check_sees_writes_but_not_the_sweep(api, known_states):
    """The check above can fail: a new, a changed or a deleted live record counts; a swept expired one does not."""
    pending = FLOW_KEY_PREFIX + state_digest(known_states["pending"][0])
    expired = FLOW_KEY_PREFIX + state_digest(issue_state(timedelta(seconds=-1)))
    before = _flow_records()
    assert pending in before and expired in before
    assert _record_changes(before, before) == []
    assert _record_changes(before, {k: v for k, v in before.items() if k != expired}) == []
    assert _record_changes(before, {k: v for k, v in before.items() if k != pending}) == [f"deleted record {pending}"]
    assert _record_changes(before, {**before, pending: ("x", False)}) == [f"changed record {pending}"]
    assert _record_changes(before, {**before, "wix_oauth_flow__new": ("x", False)}) == [
        "new record wix_oauth_flow__new"
    ]


def test_hostile_requests_on_invalid_states_record_nothing(api, known_states):
    """Unknown, forged, expired, used and malformed states: below 500, nothing stored, nothing reflected."""
    share = FUZZ_REQUESTS * 6 // 10

    @settings(FUZZ_SETTINGS, max_examples=_examples(share, STATES * QUERIES))
    @given(
        states=st.lists(hostile_state(known_states), min_size=STATES, max_size=STATES),
        queries=st.lists(hostile_query(), min_size=QUERIES, max_size=QUERIES),
        method=st.integers(0, len(METHODS) - 1),
        accept=st.integers(0, len(ACCEPTS) - 1),
    )
    def check(states: list[tuple[str, str]], queries: list[tuple[str, list[str]]], method: int, accept: int) -> None:
        before = _flow_records()
        for n, ((segment, state), (query, inputs)) in enumerate((s, q) for s in states for q in queries):
            # Every pairing of the batch with a different method and Accept header.
            verb, header = METHODS[(method + n) % len(METHODS)], ACCEPTS[(accept + n) % len(ACCEPTS)]
            _send(api, verb, ROUTE + segment, query, header, [state, *inputs])
        _assert_recorded_nothing(before)

    check()


def _refusable(query: tuple[str, list[str]]) -> tuple[str, list[str]]:
    """The query, made a refused one if an odd escape turned it into a well-formed callback."""
    if _is_valid_outcome(query[0]):
        query = (f"{query[0]}&error=reject&connectionId={CONNECTION_ID}", query[1])
    assert not _is_valid_outcome(query[0])
    return query


def test_hostile_parameters_on_a_pending_state_record_nothing(api, known_states):
    """A valid pending state with both, neither, doubled or malformed parameters is refused, unrecorded."""
    pending = known_states["pending"]
    share = FUZZ_REQUESTS * 3 // 10
    values = st.one_of(hostile_text, st.sampled_from(["", "REJECT", "cancel", CONNECTION_ID + "!"]))
    bad_queries = st.one_of(
        st.just(("", [])),
        st.builds(lambda c, e: (f"connectionId={c[0]}&error={e[0]}", [c[1], e[1]]), encoded(values), encoded(values)),
        st.builds(lambda c: (f"connectionId={c[0]}", [c[1]]), encoded(values)),
        st.builds(lambda e: (f"error={e[0]}", [e[1]]), encoded(values)),
        st.builds(lambda c: (f"connectionId={CONNECTION_ID}&connectionId={c[0]}", [c[1]]), encoded(values)),
        st.just(("error=reject&error=reject", [])),
        st.just((f"connectionId={'A' * 513}", [])),
    ).map(_refusable)

    @settings(FUZZ_SETTINGS, max_examples=_examples(share, PENDING_QUERIES * len(pending)))
    @given(
        queries=st.lists(bad_queries, min_size=PENDING_QUERIES, max_size=PENDING_QUERIES),
        accept=st.sampled_from(["text/html", "application/json"]),
    )
    def check(queries: list[tuple[str, list[str]]], accept: str) -> None:
        before = _flow_records()
        for query, inputs in queries:
            for state in pending:
                response = _send(api, "GET", ROUTE + state, query, accept, inputs)
                assert 400 <= response.status_code < 500, (response.status_code, query[:300])
        _assert_recorded_nothing(before)

    check()
    for state in pending:  # still usable by the owner
        record = read_flow(state)
        assert record is not None and record.is_pending


def test_valid_callbacks_are_recorded_exactly_as_sent(api, known_states):
    """The control group: well-formed callbacks on fresh states succeed and store what was sent."""
    share = FUZZ_REQUESTS - FUZZ_REQUESTS * 6 // 10 - FUZZ_REQUESTS * 3 // 10
    outcome = st.one_of(
        st.text(alphabet=string.ascii_letters + string.digits + "._~-", min_size=1, max_size=512).map(
            lambda c: ("connectionId", c)
        ),
        st.sampled_from([("error", "reject"), ("error", "unsupported"), ("error", "internal")]),
    )

    @settings(FUZZ_SETTINGS, max_examples=_examples(share, VALID_PER_EXAMPLE))
    @given(
        outcomes=st.lists(outcome, min_size=VALID_PER_EXAMPLE, max_size=VALID_PER_EXAMPLE),
        accept=st.sampled_from(["text/html", "application/json"]),
    )
    def check(outcomes: list[tuple[str, str]], accept: str) -> None:
        for key, value in outcomes:
            token = issue_state(timedelta(hours=1))
            response = _send(api, "GET", ROUTE + token, f"{key}={quote(value, safe='')}", accept, [])
            assert response.status_code == 200, response.text[:300]
            stored = read_flow(token)
            assert stored is not None and not stored.is_pending
            if key == "connectionId":
                assert stored.connection_id == value and stored.error is None
            else:
                assert stored.error is not None and stored.error.value == value and stored.connection_id is None

    check()


def test_the_fuzz_sent_enough_requests_and_no_5xx():
    """Runs last in this module: the figures docs/reliability.md quotes."""
    print(
        f"callback fuzz: {counted['requests']} requests, {counted['5xx']} answered 5xx, "
        f"{counted['records']} records changed by refused requests, {counted['reflections']} unescaped reflections"
    )
    assert counted["5xx"] == 0
    assert counted["records"] == 0
    assert counted["reflections"] == 0
    assert counted["requests"] >= FUZZ_REQUESTS
