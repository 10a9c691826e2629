"""Issue 14 §1, "recover": the database goes away under a running server and comes back, and
the server answers 503 SERVICE_UNAVAILABLE with Retry-After meanwhile (never a 500, never a
hang), then 200 again without a restart; SIGTERM stops it within GRACEFUL_TIMEOUT_SECONDS
whatever the database is doing.

PostgreSQL is not stopped (others use it): the server reaches it through a TCP proxy the test
runs, which it takes down (listener closed, every connection cut) and brings back. SQLite's file
is moved away and back: the server's open connection would go on reading the moved file, and
fails at the first write (SQLITE_READONLY_DBMOVED); /readyz finds the file gone at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import POSTGRES_URL
from tests.load.harness import Server
from tests.load.test_database_unavailable import (
    READ,
    Proxy,
    admin_key,
    assert_no_stack_or_error,
    assert_ok,
    assert_unavailable,
    log_entries,
    through,
    upsert,
    write_lock,
)

pytestmark = pytest.mark.load

TIMEOUT_MS = 1000
SETTINGS = {"DATABASE_TIMEOUT_MS": str(TIMEOUT_MS), "LOG_LEVEL": "INFO"}


async def stop(server: Server) -> None:
    """SIGTERM and wait, without blocking the test's event loop (where the proxy runs)."""
    if server.process is None or server.process.poll() is not None:
        return
    server.process.terminate()
    deadline = time.monotonic() + 15
    while server.process.poll() is None and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    server.stop()  # SIGKILL if it is still there


async def until(check: object, seconds: float) -> None:
    """Waits for `check()` (an async callable returning bool) to be true, at most `seconds`."""
    deadline = time.monotonic() + seconds
    while not await check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"not within {seconds} s"
        await asyncio.sleep(0.1)


def access_outcomes(server: Server) -> list[tuple[int, str]]:
    return [
        (e["status"], e["outcome"]) for e in log_entries(server) if e["logger"] == "server.access"
    ]


@pytest.mark.skipif(not POSTGRES_URL, reason="needs TEST_POSTGRES_URL")
@pytest.mark.parametrize("load_database", ["postgres"], indirect=True)
async def test_postgres_down_mid_run_is_503_then_the_server_recovers(
    load_database: str, tmp_path: Path
) -> None:
    parts = urlsplit(load_database)
    proxy = Proxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.up()
    url = through(proxy, load_database)
    token = admin_key(load_database)  # a blocking command: not through the test's own proxy
    server = Server(url, tmp_path / "server.log", env=SETTINGS)
    await server.start()
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as http:
            assert_ok(await http.post("/graphql", json={"query": READ}, timeout=5), "recipients")
            assert_ok((await upsert(http, "before"))[0], "upsertDataSubject")
            for round_ in range(2):  # down and back twice: recovering leaves nothing behind
                await proxy.down()
                started = time.monotonic()
                for n in range(5):
                    assert_unavailable(await http.post("/graphql", json={"query": READ}, timeout=5))
                    response, _ = await upsert(http, f"down-{round_}-{n}", timeout=5)
                    assert_unavailable(response)
                    ready = await http.get("/readyz", timeout=5)
                    assert ready.status_code == 503, ready.text
                    assert (await http.get("/healthz", timeout=5)).status_code == 200
                assert time.monotonic() - started < 10
                await proxy.up()

                async def recovered() -> bool:
                    return (await http.get("/readyz", timeout=5)).status_code == 200

                await until(recovered, 5)
                read = await http.post("/graphql", json={"query": READ}, timeout=5)
                assert_ok(read, "recipients")
                response, _ = await upsert(http, f"back-{round_}", timeout=5)
                assert_ok(response, "upsertDataSubject")
    finally:
        await stop(server)
        if proxy.listener is not None:
            await proxy.down()
    assert_no_stack_or_error(server)
    outcomes = access_outcomes(server)
    assert {status for status, _ in outcomes} == {200, 503}, outcomes
    assert all(outcome == "unavailable" for status, outcome in outcomes if status == 503)


@pytest.mark.skipif(not POSTGRES_URL, reason="needs TEST_POSTGRES_URL")
@pytest.mark.parametrize("load_database", ["postgres"], indirect=True)
async def test_postgres_that_stops_answering_is_503_within_the_timeout_then_recovers(
    load_database: str, tmp_path: Path
) -> None:
    """The connections stay open but nothing comes back (a network partition, a frozen host):
    each statement gives up after DATABASE_TIMEOUT_MS with a 503. It hung for good, and a
    statement timeout surfaced as a bare TimeoutError, a 500 INTERNAL."""
    parts = urlsplit(load_database)
    proxy = Proxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.up()
    url = through(proxy, load_database)
    token = admin_key(load_database)
    server = Server(url, tmp_path / "server.log", env=SETTINGS)
    await server.start()
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as http:
            assert_ok((await upsert(http, "before"))[0], "upsertDataSubject")
            proxy.frozen = proxy.black_hole = True
            for n in range(3):
                started = time.monotonic()
                read = await http.post("/graphql", json={"query": READ}, timeout=10)
                assert_unavailable(read)
                response, _ = await upsert(http, f"frozen-{n}", timeout=10)
                assert_unavailable(response)
                assert time.monotonic() - started < 4 * TIMEOUT_MS / 1000 + 2
                assert (await http.get("/readyz", timeout=5)).status_code == 503
            proxy.frozen = proxy.black_hole = False
            await proxy.down()  # what was held open while frozen is cut
            await proxy.up()

            async def recovered() -> bool:
                return (await http.get("/readyz", timeout=5)).status_code == 200

            await until(recovered, 5)
            assert_ok(await http.post("/graphql", json={"query": READ}, timeout=5), "recipients")
            assert_ok((await upsert(http, "after"))[0], "upsertDataSubject")
    finally:
        await stop(server)
        if proxy.listener is not None:
            await proxy.down()
    assert_no_stack_or_error(server)
    outcomes = access_outcomes(server)
    assert {status for status, _ in outcomes} == {200, 503}, outcomes


@pytest.mark.parametrize("load_database", ["sqlite"], indirect=True)
async def test_sqlite_file_moved_away_mid_run_is_503_then_the_server_recovers(
    load_database: str, tmp_path: Path
) -> None:
    url = load_database
    path = Path(url[len("sqlite://") :])
    away = path.with_name("elsewhere.sqlite3")
    token = admin_key(url)
    server = Server(url, tmp_path / "server.log", env=SETTINGS)
    await server.start()
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as http:
            assert_ok((await upsert(http, "before"))[0], "upsertDataSubject")
            for round_ in range(2):
                path.rename(away)
                # A write finds the file moved (the connection still has the old one open),
                # and so does the probe; reads then find no file to open.
                assert_unavailable((await upsert(http, f"moved-{round_}", timeout=5))[0])
                assert (await http.get("/readyz", timeout=5)).status_code == 503
                assert_unavailable(await http.post("/graphql", json={"query": READ}, timeout=5))
                assert (await http.get("/healthz", timeout=5)).status_code == 200
                assert not path.exists()  # not replaced by an empty database
                away.rename(path)
                assert (await http.get("/readyz", timeout=5)).status_code == 200
                assert_ok(
                    await http.post("/graphql", json={"query": READ}, timeout=5), "recipients"
                )
                assert_ok((await upsert(http, f"back-{round_}"))[0], "upsertDataSubject")
            # Moved away before any write: the probe says so, and takes requests with it.
            path.rename(away)
            ready = await http.get("/readyz", timeout=5)
            assert ready.status_code == 503 and ready.headers["retry-after"] == "1"
            assert_unavailable(await http.post("/graphql", json={"query": READ}, timeout=5))
            away.rename(path)
            assert (await http.get("/readyz", timeout=5)).status_code == 200
            assert_ok((await upsert(http, "last"))[0], "upsertDataSubject")
    finally:
        server.stop()
    assert_no_stack_or_error(server)
    outcomes = access_outcomes(server)
    assert all(outcome == "unavailable" for status, outcome in outcomes if status == 503)
    assert {status for status, _ in outcomes} == {200, 503}, outcomes


async def sigterm_while_waiting(server: Server, http: httpx.AsyncClient) -> float:
    """Sends a request that waits on the database, then SIGTERM: seconds until the process
    ended."""
    assert server.process is not None
    waiting = asyncio.create_task(upsert(http, "hanging", timeout=30))
    await asyncio.sleep(0.5)
    assert not waiting.done()
    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    while server.process.poll() is None and time.monotonic() - started < 20:
        await asyncio.sleep(0.05)
    stopped_after = time.monotonic() - started
    with contextlib.suppress(httpx.TransportError):
        await waiting
    return stopped_after


GRACEFUL = 1.0
# Each wait on the database far longer than the graceful timeout.
HANGING = {"DATABASE_TIMEOUT_MS": "30000", "GRACEFUL_TIMEOUT_SECONDS": str(GRACEFUL)}


@pytest.mark.parametrize("load_database", ["sqlite"], indirect=True)
async def test_sigterm_stops_the_server_within_the_graceful_timeout_on_a_locked_sqlite(
    load_database: str, tmp_path: Path
) -> None:
    url = load_database
    token = admin_key(url)
    server = Server(url, tmp_path / "server.log", env=HANGING)
    await server.start()
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as http:
            with write_lock(url):
                stopped_after = await sigterm_while_waiting(server, http)
    finally:
        server.stop()
    assert stopped_after < GRACEFUL + 2, stopped_after


@pytest.mark.skipif(not POSTGRES_URL, reason="needs TEST_POSTGRES_URL")
@pytest.mark.parametrize("load_database", ["postgres"], indirect=True)
async def test_sigterm_stops_the_server_within_the_graceful_timeout_on_a_hanging_postgres(
    load_database: str, tmp_path: Path
) -> None:
    """PostgreSQL accepts the connections and never answers: the request waits on (its
    connect timeout is 30 s), and SIGTERM still ends the process within the graceful timeout."""
    parts = urlsplit(load_database)
    proxy = Proxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.up()
    url = through(proxy, load_database)
    token = admin_key(load_database)  # a blocking command: not through the test's own proxy
    server = Server(url, tmp_path / "server.log", env=HANGING)
    await server.start()
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as http:
            assert_ok((await upsert(http, "before"))[0], "upsertDataSubject")
            await proxy.down()
            proxy.black_hole = True
            await proxy.up()
            stopped_after = await sigterm_while_waiting(server, http)
    finally:
        await stop(server)
        await proxy.down()
    assert stopped_after < GRACEFUL + 2, stopped_after
