"""Issue 11 §3, "The database never wedges", against real server processes.

Another process holds SQLite's write lock past the database timeout: a mutation gets 503
SERVICE_UNAVAILABLE with Retry-After (it got INTERNAL, and from then on every request of that
server hung, /readyz's too, and SIGTERM could not stop it). Reads go on while the lock is held,
and once it is released the next query and mutation answer at once, on one server and on two
sharing the file. SIGTERM stops a server whose request waits on the lock. With PostgreSQL
unreachable, every request is a 503 and the log says so once, not with a stack per request;
with PostgreSQL up, a lock held past the timeout and killed connections are survived the same way.

The servers run with DATABASE_TIMEOUT_MS=1000, so each wait lasts a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import orjson
import pytest

from tests.conftest import POSTGRES_URL
from tests.load.harness import Server, cli, free_port

pytestmark = pytest.mark.load

TIMEOUT_MS = 1000
SETTINGS = {"DATABASE_TIMEOUT_MS": str(TIMEOUT_MS), "LOG_LEVEL": "INFO"}
UPSERT = """mutation Upsert($ref: String!) {
  upsertDataSubject(input: {externalRef: $ref, subjectType: "platform_user", country: "DE",
                            dataCategories: ["user.contact.email"]}) {
    dataSubject { externalRef } userErrors { code message }
  }
}"""
READ = "query Read { recipients(first: 5) { totalCount } }"


@contextlib.contextmanager
def write_lock(database_url: str) -> Iterator[None]:
    """SQLite's write lock, held by this (the test's) process on its own connection."""
    other = sqlite3.connect(database_url[len("sqlite://") :], isolation_level=None, timeout=5)
    try:
        other.execute("BEGIN EXCLUSIVE")
        yield
        other.execute("ROLLBACK")
    finally:
        other.close()


def admin_key(database_url: str, name: str = "wedge-admin") -> str:
    return cli(database_url, "keys", "create", "--role", "admin", "--name", name).strip()


async def upsert(
    http: httpx.AsyncClient, ref: str, timeout: float = 10.0
) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await http.post(
        "/graphql", json={"query": UPSERT, "variables": {"ref": ref}}, timeout=timeout
    )
    return response, time.monotonic() - started


def assert_ok(response: httpx.Response, field: str) -> None:
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    payload = body["data"][field]
    assert payload is None or payload.get("userErrors", []) == [], body


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "1"
    body = response.json()
    [error] = body["errors"]
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE", body
    assert error["extensions"]["retryAfter"] == 1
    assert "try again" in error["message"]
    for leak in ("Traceback", "sqlite3", "asyncpg", "locked", "OperationalError"):
        assert leak not in response.text, response.text


def log_entries(server: Server) -> list[dict[str, Any]]:
    entries = []
    for line in server.log().splitlines():
        with contextlib.suppress(orjson.JSONDecodeError):
            entry = orjson.loads(line)
            if isinstance(entry, dict):
                entries.append(entry)
    return entries


def unavailable_warnings(server: Server) -> list[dict[str, Any]]:
    return [e for e in log_entries(server) if e.get("message") == "database unavailable"]


def assert_no_stack_or_error(server: Server) -> None:
    assert "Traceback" not in server.log(), server.log()[-3000:]
    assert [e for e in log_entries(server) if e["level"] in ("ERROR", "CRITICAL")] == []


async def assert_answers_at_once(http: httpx.AsyncClient, ref: str) -> None:
    """A query and a mutation, each answered normally within a second."""
    read = await http.post("/graphql", json={"query": READ}, timeout=1.0)
    assert_ok(read, "recipients")
    response, _ = await upsert(http, ref, timeout=1.0)
    assert_ok(response, "upsertDataSubject")


@pytest.mark.parametrize("load_database", ["sqlite"], indirect=True)
async def test_a_lock_past_the_timeout_is_a_503_and_the_server_recovers(
    load_database: str, tmp_path: Path
) -> None:
    url = load_database
    token = admin_key(url)
    server = Server(url, tmp_path / "server.log", env=SETTINGS)
    await server.start()
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as http:
            await assert_answers_at_once(http, "before")
            with write_lock(url):
                response, waited = await upsert(http, "locked-1")
                assert_unavailable(response)
                assert TIMEOUT_MS / 1000 * 0.9 <= waited < TIMEOUT_MS / 1000 + 2, waited
                # While a write waits for the lock, the same process goes on reading.
                waiting = asyncio.create_task(upsert(http, "locked-2"))
                await asyncio.sleep(0.2)
                started = time.monotonic()
                read = await http.post("/graphql", json={"query": READ}, timeout=5)
                assert_ok(read, "recipients")
                ready = await http.get("/readyz", timeout=5)
                assert ready.status_code == 200, ready.text
                assert time.monotonic() - started < 0.5
                assert not waiting.done()
                assert_unavailable((await waiting)[0])
            await assert_answers_at_once(http, "after")
            # Released while a write waits: the write gets through as soon as it is free.
            with write_lock(url):
                waiting = asyncio.create_task(upsert(http, "released-while-waiting"))
                await asyncio.sleep(0.3)
            response, waited = await waiting
            assert_ok(response, "upsertDataSubject")
            assert waited < TIMEOUT_MS / 1000
    finally:
        server.stop()
    # Two 503s, one warning with the cause; no stack, no ERROR line.
    [warning] = unavailable_warnings(server)
    assert "write lock" in warning["detail"]
    assert_no_stack_or_error(server)
    access = [e for e in log_entries(server) if e["logger"] == "server.access"]
    assert [e["status"] for e in access if e["outcome"] == "unavailable"] == [503, 503]


@pytest.mark.parametrize("load_database", ["sqlite"], indirect=True)
async def test_two_servers_on_one_file_recover_from_a_lock_and_do_not_wedge_each_other(
    load_database: str, tmp_path: Path
) -> None:
    url = load_database
    token = admin_key(url)
    servers = [Server(url, tmp_path / f"server-{i}.log", env=SETTINGS) for i in (1, 2)]
    await asyncio.gather(*(server.start() for server in servers))
    headers = {"Authorization": f"Bearer {token}"}
    try:
        clients = [httpx.AsyncClient(base_url=s.base_url, headers=headers) for s in servers]
        with write_lock(url):
            answers = await asyncio.gather(
                *(upsert(http, f"l{i}") for i, http in enumerate(clients))
            )
            for response, _ in answers:
                assert_unavailable(response)
        for i, http in enumerate(clients):
            await assert_answers_at_once(http, f"after-{i}")
        # Then both write at once, many times over: each waits its turn for the other's lock.
        answers = await asyncio.gather(
            *(upsert(http, f"race-{n}-{i}") for n in range(15) for i, http in enumerate(clients))
        )
        for response, _ in answers:
            assert_ok(response, "upsertDataSubject")
        for http in clients:
            await http.aclose()
    finally:
        for server in servers:
            server.stop()
    for server in servers:
        assert len(unavailable_warnings(server)) == 1
        assert_no_stack_or_error(server)


@pytest.mark.parametrize("load_database", ["sqlite"], indirect=True)
async def test_sigterm_stops_a_server_whose_request_waits_on_the_database(
    load_database: str, tmp_path: Path
) -> None:
    """Before the fix, the first timeout left the connection locked: the next request waited
    for ever, and uvicorn's graceful shutdown with it. Now the request waiting at SIGTERM still
    gets its 503, and the process ends."""
    url = load_database
    token = admin_key(url)
    server = Server(url, tmp_path / "server.log", env=SETTINGS)
    await server.start()
    assert server.process is not None
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as http:
            with write_lock(url):
                assert_unavailable((await upsert(http, "first"))[0])
                waiting = asyncio.create_task(upsert(http, "second"))
                await asyncio.sleep(0.3)
                started = time.monotonic()
                server.process.send_signal(signal.SIGTERM)
                response, _ = await waiting
                assert_unavailable(response)
                while server.process.poll() is None and time.monotonic() - started < 10:
                    await asyncio.sleep(0.05)
                stopped_after = time.monotonic() - started
    finally:
        server.stop()
    assert server.process.returncode is not None
    assert stopped_after < TIMEOUT_MS / 1000 + 3, stopped_after
    assert_no_stack_or_error(server)


@pytest.mark.skipif(not POSTGRES_URL, reason="needs TEST_POSTGRES_URL")
@pytest.mark.parametrize("load_database", ["postgres"], indirect=True)
async def test_postgres_unreachable_is_a_503_and_one_warning(
    load_database: str, tmp_path: Path
) -> None:
    """PostgreSQL stops listening once the server is up (the server refuses to start without
    it: tests/test_startup.py): every request, /readyz too, is a quick 503, and the log has one
    warning for them all (it had a stack trace per request: 680 in 8 s)."""
    parts = urlsplit(load_database)
    proxy = Proxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.up()
    url = through(proxy, load_database)
    # The key cannot be looked up, so each request also spends the address's anonymous budget
    # (20 at once): off here, where what is measured is the database's answer.
    server = Server(url, tmp_path / "server.log", env=SETTINGS | {"ANONYMOUS_RATE_LIMIT": "off"})
    await server.start()
    await proxy.down()
    headers = {"Authorization": "Bearer ri_" + "x" * 43}
    try:
        async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as http:
            started = time.monotonic()
            ready = await http.get("/readyz", timeout=5)
            assert ready.status_code == 503
            assert ready.headers["retry-after"] == "1"
            for n in range(30):
                response = await http.post(
                    "/graphql", json={"query": READ, "variables": {}}, timeout=5
                )
                assert_unavailable(response)
                assert response.json()["errors"][0]["extensions"]["requestId"]
                if n % 10 == 0:
                    assert_unavailable((await upsert(http, f"down-{n}", timeout=5))[0])
            assert time.monotonic() - started < 10
    finally:
        server.stop()  # nothing goes through the proxy any more: blocking is harmless
    [warning] = unavailable_warnings(server)
    assert "Connect call failed" in warning["detail"] or "refused" in warning["detail"].lower()
    assert_no_stack_or_error(server)


class Proxy:
    """A TCP proxy on a loopback port in front of `target`: `down()` closes its listener and cuts
    every connection through it (the database stopped), `up()` listens again on the same port
    (the database is back). With `black_hole`, it accepts connections and never answers (a
    database that hangs)."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.listener: asyncio.Server | None = None
        self.links: set[asyncio.StreamWriter] = set()
        self.black_hole = False  # new connections are accepted and never answered
        self.frozen = False  # what the open connections carry is dropped

    async def up(self) -> None:
        self.listener = await asyncio.start_server(self._link, "127.0.0.1", self.port)

    async def down(self) -> None:
        assert self.listener is not None
        self.listener.close()
        for writer in list(self.links):
            writer.transport.abort()
        self.links.clear()
        await self.listener.wait_closed()
        self.listener = None

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.links.add(writer)
        if self.black_hole:
            return  # held open, never answered, until down()
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.links.add(upstream_writer)
        await asyncio.gather(
            self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer)
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while chunk := await reader.read(65536):
                if not self.frozen:
                    writer.write(chunk)
                    await writer.drain()
        writer.transport.abort()
        self.links.discard(writer)


def through(proxy: Proxy, url: str) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.username}@" if parts.username else ""
    if parts.password:
        netloc = f"{parts.username}:{parts.password}@"
    return parts._replace(netloc=f"{netloc}127.0.0.1:{proxy.port}").geturl()


def _pg_dsn(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


@pytest.mark.skipif(not POSTGRES_URL, reason="needs TEST_POSTGRES_URL")
@pytest.mark.parametrize("load_database", ["postgres"], indirect=True)
async def test_postgres_lock_past_the_timeout_and_lost_connections_are_survived(
    load_database: str, tmp_path: Path
) -> None:
    """PostgreSQL's counterpart of SQLite's held write lock: a table lock held past the
    timeout (lock_timeout) is a 503, and the next request works once it is released; then every
    connection of the server is killed, and it reconnects."""
    url = load_database
    token = admin_key(url)
    server = Server(url, tmp_path / "server.log", env=SETTINGS)
    await server.start()
    headers = {"Authorization": f"Bearer {token}"}
    other = await asyncpg.connect(_pg_dsn(url))
    try:
        async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as http:
            await assert_answers_at_once(http, "before")
            async with other.transaction():
                await other.execute("LOCK TABLE data_subject IN ACCESS EXCLUSIVE MODE")
                # More waits than the pool has connections: each gives its connection back.
                answers = await asyncio.gather(*(upsert(http, f"locked-{i}") for i in range(7)))
                for response, waited in answers:
                    assert_unavailable(response)
                    assert waited < TIMEOUT_MS / 1000 + 3
            await assert_answers_at_once(http, "after-lock")
            database = await other.fetchval("SELECT current_database()")
            killed = await other.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()",
                database,
            )
            assert killed >= 1
            # A request on a killed connection may be told to retry; within a second it works.
            deadline = time.monotonic() + 1.0
            while True:
                response, _ = await upsert(http, f"after-kill-{time.monotonic()}", timeout=1.0)
                if response.status_code == 200 or time.monotonic() > deadline:
                    break
                assert_unavailable(response)
                await asyncio.sleep(0.05)
            assert_ok(response, "upsertDataSubject")
            await assert_answers_at_once(http, "after-kill")
    finally:
        await other.close()
        server.stop()
    assert len(unavailable_warnings(server)) >= 1
    assert_no_stack_or_error(server)
