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
    exchange = await call(app, token=token, chunks=[b'{"query": '], stall=True, content_length=9999)
    assert_refusal(exchange, 401, "UNAUTHENTICATED")
    assert exchange.reads == 0
    line = access_line(access_log, exchange)
    assert (line["status"], line["outcome"], line["key"]) == (401, "rejected", None)


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
