"""Abuse without a key is not free (issue 11 §5), against the real server (uvicorn) with raw
sockets: a client without a key is answered before it sends its body, a keyed client whose body
stalls gets 408 and loses its connection, and a keyless flood leaves a keyed client's latency
within twice its quiet value."""

from __future__ import annotations

import asyncio
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest

from tests.load.harness import ROOT, Server, cli

BODY_TIMEOUT = 1.0


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    arrived: float  # time.monotonic() when it was read whole
    closed: bool  # the server closed the connection after it

    def error_code(self) -> str:
        code: str = orjson.loads(self.body)["errors"][0]["extensions"]["code"]
        return code


async def read_answer(reader: asyncio.StreamReader, timeout: float) -> Answer:
    """One HTTP/1.1 response with a Content-Length body, then whether the connection ended."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = await asyncio.wait_for(reader.readexactly(int(headers["content-length"])), timeout)
    arrived = time.monotonic()
    try:
        closed = await asyncio.wait_for(reader.read(1), 2.0) == b""
    except TimeoutError:
        closed = False
    return Answer(int(status_line.split()[1]), headers, body, arrived, closed)


def request_head(port: int, length: int, token: str | None) -> bytes:
    lines = [
        "POST /graphql HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Content-Type: application/json",
        f"Content-Length: {length}",
    ]
    if token is not None:
        lines.append(f"Authorization: Bearer {token}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@dataclass
class Running:
    server: Server
    token: str


@pytest.fixture
async def slow_body_server(load_sqlite_template: Path, tmp_path: Path) -> AsyncIterator[Running]:
    """The server on a fresh SQLite file with an access log, a key, and a 1 s body timeout."""
    path = tmp_path / "abuse.sqlite3"
    shutil.copy(load_sqlite_template, path)
    url = f"sqlite://{path}"
    token = cli(url, "keys", "create", "--role", "viewer", "--name", "abuse-test").strip()
    env = {"LOG_LEVEL": "INFO", "BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT)}
    server = Server(url, tmp_path / "server.log", env)
    await server.start()
    try:
        yield Running(server, token)
    finally:
        server.stop()


def access_line(server: Server, request_id: str) -> dict[str, object]:
    for line in server.log().splitlines():
        if request_id in line and '"server.access"' in line:
            entry: dict[str, object] = orjson.loads(line)
            if entry.get("request_id") == request_id:
                return entry
    raise AssertionError(f"no access line for {request_id}:\n{server.log()[-3000:]}")


async def test_a_stalled_body_is_408_and_its_connection_is_closed(
    slow_body_server: Running,
) -> None:
    server, token = slow_body_server.server, slow_body_server.token
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        started = time.monotonic()
        # The headers and a third of the body, then nothing.
        writer.write(request_head(server.port, 300, token) + b'{"query": "{ __typename')
        await writer.drain()
        answer = await read_answer(reader, timeout=BODY_TIMEOUT + 10)
        waited = answer.arrived - started
    finally:
        writer.close()
    assert answer.status == 408, answer
    assert answer.error_code() == "REQUEST_TIMEOUT"
    assert BODY_TIMEOUT * 0.9 <= waited < BODY_TIMEOUT + 5, waited
    assert answer.closed, "the server kept the connection of a stalled body"
    line = access_line(server, answer.headers["x-request-id"])
    assert (line["status"], line["outcome"], line["key"]) == (408, "rejected", "abuse-test")


@pytest.mark.parametrize("token", [None, "ri_bogus"], ids=["no-key", "bogus-key"])
async def test_without_a_valid_key_the_answer_comes_before_the_body(
    slow_body_server: Running, token: str | None
) -> None:
    server = slow_body_server.server
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        started = time.monotonic()
        # A body announced, none of it sent: the 401 must not wait for it.
        writer.write(request_head(server.port, 2000, token))
        await writer.drain()
        answer = await read_answer(reader, timeout=BODY_TIMEOUT + 10)
        waited = answer.arrived - started
    finally:
        writer.close()
    assert answer.status == 401, answer
    assert answer.error_code() == "UNAUTHENTICATED"
    assert waited < BODY_TIMEOUT, waited
    assert not answer.closed  # a small body may follow: the connection stays for reuse
    line = access_line(server, answer.headers["x-request-id"])
    assert (line["status"], line["outcome"], line["key"]) == (401, "rejected", None)


async def test_without_a_key_a_large_body_that_stalls_loses_its_connection(
    slow_body_server: Running,
) -> None:
    """What uvicorn buffered of it would stay as long as the connection: after a second to
    arrive (and be dropped), the answer comes and the connection goes."""
    server = slow_body_server.server
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        started = time.monotonic()
        writer.write(request_head(server.port, 200_000, None) + b"x" * 100_000)
        await writer.drain()
        answer = await read_answer(reader, timeout=BODY_TIMEOUT + 10)
        waited = answer.arrived - started
    finally:
        writer.close()
    assert answer.status == 401, answer
    assert 0.9 <= waited < 5, waited
    assert answer.closed


async def test_a_keyed_body_in_pieces_within_the_time_is_served(
    slow_body_server: Running,
) -> None:
    server, token = slow_body_server.server, slow_body_server.token
    body = b'{"query": "{ __typename }"}'
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(request_head(server.port, len(body), token))
        for piece in (body[:5], body[5:15], body[15:]):
            writer.write(piece)
            await writer.drain()
            await asyncio.sleep(BODY_TIMEOUT / 5)
        answer = await read_answer(reader, timeout=BODY_TIMEOUT + 10)
    finally:
        writer.close()
    assert answer.status == 200, answer
    assert orjson.loads(answer.body)["data"] == {"__typename": "Query"}


# -- a keyless flood beside a keyed client -------------------------------------------------------

# The report's flood: 2,900 requests in 3 s, without a key or with a bogus one.
FLOOD_RATE = 1000.0
FLOOD_CONNECTIONS = 16
ROUNDS = 5
PHASE_SECONDS = 1.5
# A dashboard's page of the inventory: about 10 ms quiet here, like the report's client (12 ms).
DASHBOARD = """query Dashboard {
  recipients(first: 50) { totalCount edges { node {
    id name slug status country kind role services subprocessors { slug }
    disclosures { id legalBasis retention dataCategories { key } purposes { key }
      transfers { country mechanism } }
  } } }
}"""


async def keyed_latencies(http: httpx.AsyncClient, seconds: float) -> list[float]:
    """Sequential dashboard queries for `seconds`: each one's time, in seconds."""
    times = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        started = time.perf_counter()
        response = await http.post("/graphql", json={"query": DASHBOARD})
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text
        assert "errors" not in response.json(), response.text
    return times


async def test_a_keyless_flood_leaves_a_keyed_client_within_twice_its_quiet_latency(
    load_database: str, tmp_path: Path
) -> None:
    """Quiet and flooded phases alternate, and each flooded phase is compared with the quiet
    one just before it, so that whatever else this shared machine is doing weighs on both
    alike; the verdict is the median of those ratios. The flood runs in its own process, paced
    to the report's rate and at a lower priority: it stands for other machines, and its own CPU
    is not the server's to lose."""
    cli(load_database, "load-fixtures")
    token = cli(load_database, "keys", "create", "--role", "viewer", "--name", "dashboard")
    # Production's logging: every refused request writes its access line.
    server = Server(load_database, tmp_path / "server.log", {"LOG_LEVEL": "INFO"})
    await server.start()
    quiet: list[float] = []
    flooded: list[float] = []
    ratios: list[float] = []
    counts: dict[str, int] = {}
    flood_seconds = 0.0
    nice = ["nice", "-n", "10"] if shutil.which("nice") else []
    try:
        headers = {"Authorization": f"Bearer {token.strip()}"}
        async with httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=30) as http:
            await keyed_latencies(http, 1.0)  # warm-up: connection, caches, the key
            for _ in range(ROUNDS):
                calm = await keyed_latencies(http, PHASE_SECONDS)
                flooder = subprocess.Popen(
                    [
                        *nice,
                        sys.executable,
                        "-m",
                        "tests.load.flood",
                        str(server.port),
                        str(FLOOD_CONNECTIONS),
                        str(FLOOD_RATE),
                    ],
                    cwd=ROOT,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
                try:
                    await asyncio.sleep(0.5)  # the flood under way
                    stormy = await keyed_latencies(http, PHASE_SECONDS)
                finally:
                    out, _ = await asyncio.to_thread(flooder.communicate, "", 60)
                assert flooder.returncode == 0, out
                report = orjson.loads(out)
                flood_seconds += report["seconds"]
                for status, n in report["counts"].items():
                    counts[status] = counts.get(status, 0) + n
                quiet += calm
                flooded += stormy
                ratios.append(statistics.median(stormy) / statistics.median(calm))
    finally:
        server.stop()
    ratio = statistics.median(ratios)
    answered = sum(counts.values())
    summary = (
        f"keyed median quiet {statistics.median(quiet) * 1000:.2f} ms ({len(quiet)} requests), "
        f"flooded {statistics.median(flooded) * 1000:.2f} ms ({len(flooded)}); flooded/quiet by "
        f"round {', '.join(f'{r:.2f}' for r in ratios)}, median {ratio:.2f}; flood "
        f"{answered / flood_seconds:.0f} requests/s, answered {counts}"
    )
    print(summary)
    assert ratio <= 2, summary
    # A real flood (its process, at a lower priority, falls short of its pace only when the
    # machine is very busy), and one refused almost entirely without work.
    assert answered / flood_seconds >= FLOOD_RATE / 3, summary
    assert counts.get("429", 0) >= 0.9 * answered, summary
    assert set(counts) <= {"401", "429"}, summary
    assert not server.log_problems(), server.log_problems()


SLOW_BODY = 240 * 1024  # sent of each body, then nothing


def resident_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


async def test_slow_keyless_bodies_hold_no_memory(slow_body_server: Running) -> None:
    """The report's 1,000 slow connections held 263 MB: each body was buffered before the key
    was looked at. Now each is answered at once (401, then 429 once the address has spent its
    budget) and its connection closed, with what uvicorn had buffered of the body."""
    server = slow_body_server.server
    assert server.process is not None
    connections = 200
    before = resident_bytes(server.process.pid)
    opened = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(connections)]
    try:
        for _, writer in opened:
            writer.write(request_head(server.port, 256 * 1024 - 1, None) + b"x" * SLOW_BODY)
        answers = [await read_head(reader) for reader, _ in opened]
        closed = [await closed_by_server(reader) for reader, _ in opened]
        await asyncio.sleep(0.5)
        during = resident_bytes(server.process.pid)
    finally:
        for _, writer in opened:
            writer.close()
    assert answers.count(401) >= 20 and set(answers) == {401, 429}, answers
    assert all(closed), closed.count(False)
    print(f"server memory: {before / 2**20:.1f} MB, {during / 2**20:.1f} MB with 200 slow bodies")
    # Buffered, the bodies would take 47 MB; allow for what the allocator keeps of the reads.
    assert during - before < connections * SLOW_BODY / 2, (before, during)


async def closed_by_server(reader: asyncio.StreamReader) -> bool:
    try:
        while await asyncio.wait_for(reader.read(65536), 5):
            pass
    except ConnectionResetError:
        pass
    except TimeoutError:
        return False
    return True


async def read_head(reader: asyncio.StreamReader) -> int:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    return int(head.split(b" ", 2)[1])
