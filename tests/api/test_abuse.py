"""Abuse without a key is not free (issue 11 §5), through the ASGI app: the key is checked
before the body is read, a body that does not arrive in time is refused with 408, and every
refusal is GraphQL-shaped with a request id and an access log line. tests/load/test_abuse.py
does the same against the real server, with sockets."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from typing import Any

import httpx
import pytest
from starlette.types import Message

from server.app import create_app
from server.domain.access import Role
from server.services import keys
from server.settings import Settings

QUERY = b'{"query": "{ __typename }"}'


@dataclasses.dataclass
class Exchange:
    """One request sent straight to the ASGI app, and what it answered."""

    status: int
    headers: dict[str, str]
    body: dict[str, Any]
    reads: int  # how many times the app asked for the body


async def call(
    app: Any,
    *,
    token: str | None = None,
    chunks: list[bytes] | None = None,
    stall: bool = False,
    content_length: int | None = None,
    chunked: bool = False,
    address: str = "10.1.2.3",
) -> Exchange:
    """POST /graphql with the body in `chunks`; `stall` leaves it unfinished for ever (a
    client that sends part of a body and then nothing)."""
    chunks = [QUERY] if chunks is None else chunks
    headers = [(b"content-type", b"application/json")]
    if token is not None:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    if content_length is not None:
        headers.append((b"content-length", str(content_length).encode()))
    if chunked:
        headers.append((b"transfer-encoding", b"chunked"))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": (address, 40000),
        "server": ("127.0.0.1", 8000),
    }
    reads = 0
    pending = list(chunks)

    async def receive() -> Message:
        nonlocal reads
        reads += 1
        if pending:
            chunk = pending.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(pending) or stall}
        await asyncio.Event().wait()  # never
        raise AssertionError("unreachable")

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await asyncio.wait_for(app(scope, receive, send), timeout=30)
    start = sent[0]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return Exchange(
        status=start["status"],
        headers={k.decode().lower(): v.decode() for k, v in start["headers"]},
        body=json.loads(body),
        reads=reads,
    )


def assert_refusal(exchange: Exchange, status: int, code: str) -> None:
    assert exchange.status == status, exchange
    assert exchange.headers.get("x-request-id"), exchange.headers
    assert exchange.headers["content-type"].startswith("application/"), exchange.headers
    [error] = exchange.body["errors"]
    assert error["message"] and error["extensions"]["code"] == code, exchange.body
    assert "data" not in exchange.body


def access_line(caplog: pytest.LogCaptureFixture, exchange: Exchange) -> dict[str, Any]:
    request_id = exchange.headers["x-request-id"]
    lines = [
        r.__dict__
        for r in caplog.records
        if r.name == "server.access" and r.__dict__["request_id"] == request_id
    ]
    assert len(lines) == 1, lines
    return lines[0]


@pytest.fixture
def access_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="server.access")
    return caplog


# -- the key before the body ---------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "ri_bogus-0000000000000000000000000000000000"])
async def test_the_key_is_checked_before_the_body_is_read(
    db: str, access_log: pytest.LogCaptureFixture, token: str | None
) -> None:
    app = create_app(Settings(), manage_database=False)
    # Part of a body, and then nothing: a 401 at once, without reading any of it.
    exchange = await call(app, token=token, chunks=[b'{"query": '], stall=True, content_length=300)
    assert_refusal(exchange, 401, "UNAUTHENTICATED")
    assert exchange.reads == 0
    assert "connection" not in exchange.headers  # a small body may wait with its connection
    line = access_line(access_log, exchange)
    assert (line["status"], line["outcome"], line["key"]) == (401, "rejected", None)


async def test_a_large_body_refused_unread_is_dropped_not_kept(db: str) -> None:
    """uvicorn would keep what it buffered of an unread body as long as the connection lives:
    a refused request's large body is read and dropped, or its connection closed."""
    app = create_app(Settings(), manage_database=False)
    arriving = await call(app, chunks=[b"x" * 20_000] * 10, content_length=200_000)
    assert_refusal(arriving, 401, "UNAUTHENTICATED")
    assert arriving.reads == 10 and "connection" not in arriving.headers
    started = asyncio.get_running_loop().time()
    stalled = await call(app, chunks=[b"x" * 20_000], stall=True, content_length=200_000)
    assert 0.9 <= asyncio.get_running_loop().time() - started < 5  # one second to arrive
    assert_refusal(stalled, 401, "UNAUTHENTICATED")
    assert stalled.headers["connection"] == "close"
    endless = await call(app, chunks=[b"x" * 100_000] * 4, stall=True, chunked=True)
    assert endless.reads == 3 and endless.headers["connection"] == "close"


async def test_a_keyed_request_reads_its_body(db: str) -> None:
    token = await keys.create_key("reader", Role.VIEWER, actor="tests")
    app = create_app(Settings(), manage_database=False)
    exchange = await call(app, token=token, chunks=[QUERY[:10], QUERY[10:]])
    assert exchange.status == 200, exchange
    assert exchange.body["data"] == {"__typename": "Query"}


# -- a body in time, or 408 ------------------------------------------------------------------------


async def test_a_body_that_does_not_arrive_in_time_is_408(
    db: str, access_log: pytest.LogCaptureFixture
) -> None:
    token = await keys.create_key("slow", Role.VIEWER, actor="tests")
    app = create_app(Settings(body_timeout_seconds=0.3), manage_database=False)
    started = asyncio.get_running_loop().time()
    exchange = await call(app, token=token, chunks=[b'{"query": '], stall=True)
    assert asyncio.get_running_loop().time() - started < 5
    assert_refusal(exchange, 408, "REQUEST_TIMEOUT")
    assert "0.3 s" in exchange.body["errors"][0]["message"]
    # The rest of the body will never be read: the connection goes.
    assert exchange.headers["connection"] == "close"
    line = access_line(access_log, exchange)
    assert (line["status"], line["outcome"], line["key"]) == (408, "rejected", "slow")


async def test_a_body_over_the_limit_is_413_with_a_code(
    db: str, access_log: pytest.LogCaptureFixture
) -> None:
    token = await keys.create_key("big", Role.VIEWER, actor="tests")
    app = create_app(Settings(max_body_bytes=1024), manage_database=False)
    declared = await call(app, token=token, chunks=[b"x" * 2000], content_length=2000)
    assert_refusal(declared, 413, "PAYLOAD_TOO_LARGE")
    assert declared.reads == 0 and declared.headers["connection"] == "close"
    streamed = await call(app, token=token, chunks=[b"x" * 600, b"x" * 600], stall=True)
    assert_refusal(streamed, 413, "PAYLOAD_TOO_LARGE")
    assert streamed.reads == 2
    for exchange in (declared, streamed):
        line = access_line(access_log, exchange)
        assert (line["status"], line["outcome"]) == (413, "rejected")


# -- a budget for requests without a valid key -----------------------------------------------------

BOGUS = "ri_bogus-0000000000000000000000000000000000"


@dataclasses.dataclass
class Lookups:
    """How many tokens the middleware hashed and how many keys it looked up in the database."""

    hashes: int = 0
    queries: int = 0


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> Lookups:
    counted = Lookups()
    token_hash, authenticate = keys.token_hash, keys.authenticate

    def counting_hash(token: str) -> str:
        counted.hashes += 1
        return token_hash(token)

    async def counting_authenticate(token: str, digest: str | None = None) -> Any:
        counted.queries += 1
        return await authenticate(token, digest)

    monkeypatch.setattr(keys, "token_hash", counting_hash)
    monkeypatch.setattr(keys, "authenticate", counting_authenticate)
    return counted


def limited(burst: int = 3) -> Any:
    """The app with an anonymous budget of `burst` requests and one more a minute."""
    settings = Settings(anonymous_rate_limit=1 / 60, anonymous_rate_limit_burst=burst)
    return create_app(settings, manage_database=False)


async def test_keyless_requests_are_refused_429_once_the_budget_is_spent(
    db: str, access_log: pytest.LogCaptureFixture, lookups: Lookups
) -> None:
    app = limited(burst=3)
    answers = [await call(app) for _ in range(3)]
    assert [a.status for a in answers] == [401] * 3
    refused = await call(app)
    assert_refusal(refused, 429, "RATE_LIMITED")
    assert refused.headers["retry-after"] in ("59", "60")
    assert refused.body["errors"][0]["extensions"]["retryAfter"] in (59, 60)
    assert refused.reads == 0
    line = access_line(access_log, refused)
    assert (line["status"], line["outcome"], line["key"]) == (429, "rate_limited", None)
    # No key, nothing to hash or look up, refused or not.
    assert (lookups.hashes, lookups.queries) == (0, 0)


async def test_bogus_keys_spend_the_same_budget_and_then_cost_no_lookup(
    db: str, lookups: Lookups
) -> None:
    app = limited(burst=3)
    statuses = [(await call(app, token=f"{BOGUS}{i}")).status for i in range(3)]
    assert statuses == [401] * 3 and lookups.queries == 3
    for i in range(20):
        assert_refusal(await call(app, token=f"{BOGUS}x{i}"), 429, "RATE_LIMITED")
    assert (await call(app)).status == 429  # keyless too: one budget per address
    assert lookups.queries == 3  # not one more database lookup
    # A token longer than any key is never hashed, and pays all the same.
    assert (await call(limited(burst=1), token="ri_" + "x" * 500)).status == 401
    assert lookups.hashes == 23


async def test_each_address_has_its_own_anonymous_budget(db: str) -> None:
    app = limited(burst=1)
    assert (await call(app, address="10.0.0.1")).status == 401
    assert (await call(app, address="10.0.0.1")).status == 429
    assert (await call(app, address="10.0.0.2")).status == 401


async def test_valid_keys_do_not_spend_the_anonymous_budget(db: str) -> None:
    app = limited(burst=2)
    tokens = [await keys.create_key(f"team-{i}", Role.VIEWER, actor="tests") for i in range(5)]
    for _ in range(4):
        for token in tokens:
            assert (await call(app, token=token)).status == 200
    assert [(await call(app)).status for _ in range(3)] == [401, 401, 429]


async def test_a_key_that_worked_still_works_while_its_address_is_refused(
    db: str, lookups: Lookups
) -> None:
    """Clients behind one NAT: a flooder spends the address's budget, a keyed client goes on.
    Its key is still looked up on every request, so a revocation counts at once."""
    app = limited(burst=2)
    token = await keys.create_key("behind-nat", Role.VIEWER, actor="tests")
    assert (await call(app, token=token)).status == 200
    for i in range(10):
        await call(app, token=f"{BOGUS}{i}")
    assert (await call(app, token=BOGUS)).status == 429
    queries = lookups.queries
    for _ in range(5):
        assert (await call(app, token=token)).status == 200
    assert lookups.queries == queries + 5
    # A key not seen from here lately waits like the flooder: it is not told from a bogus one.
    newcomer = await keys.create_key("newcomer", Role.VIEWER, actor="tests")
    assert (await call(app, token=newcomer)).status == 429
    await keys.revoke_key("behind-nat", actor="tests")
    assert (await call(app, token=token)).status == 401
    assert (await call(app, token=token)).status == 429  # no longer recent: it pays, and cannot


async def test_clients_sharing_a_new_key_wait_for_one_lookup(db: str) -> None:
    """After a restart no key is recent: twenty requests with one key at once, from one address
    with a budget of one, make one lookup and are all served."""
    app = limited(burst=1)
    token = await keys.create_key("fleet", Role.VIEWER, actor="tests")
    answers = await asyncio.gather(*(call(app, token=token) for _ in range(20)))
    assert [a.status for a in answers] == [200] * 20
    assert (await call(app)).status == 401  # the budget was given back


async def test_health_checks_and_the_query_console_need_no_budget(db: str) -> None:
    app = limited(burst=1)
    assert (await call(app)).status == 401
    assert (await call(app)).status == 429
    transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        for _ in range(5):
            assert (await http.get("/healthz")).status_code == 200
            assert (await http.get("/readyz")).status_code == 200
            page = await http.get("/graphql", headers={"accept": "text/html"})
            assert page.status_code == 200
            assert (await http.get("/console/console.js")).status_code == 200
        assert (await http.post("/graphql", json={"query": "{ __typename }"})).status_code == 429


async def test_the_anonymous_limit_can_be_turned_off(db: str, lookups: Lookups) -> None:
    app = create_app(Settings(anonymous_rate_limit=None), manage_database=False)
    for i in range(40):
        assert (await call(app, token=f"{BOGUS}{i}")).status == 401
    assert lookups.queries == 40
