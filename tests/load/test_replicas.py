"""Issue 14, "Several replicas": real `python -m server serve` processes side by side on one
database, as a load balancer would have them.

- Two replicas given one REDIS_URL share the per-key rate limit: one key's requests, sent to
  each in turn, get the limit, not twice it (TEST_REDIS_URL: .ci/run sets the machine's).
- With that Redis down they still answer every request, and each logs one warning.
- Two replicas on one PostgreSQL database under the mixed load of test_no_lost_writes.py: no
  5xx, no lost or doubled acknowledged write (skipped without TEST_POSTGRES_URL; two servers on
  one SQLite file have their own test there).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.conftest import POSTGRES_URL
from tests.load.harness import Server, cli, free_port
from tests.load.test_no_lost_writes import TWO_SERVER_SECONDS, new_load, report
from tests.load.verify import verify

pytestmark = pytest.mark.load

REDIS_URL = os.environ.get("TEST_REDIS_URL")
# 5 requests in any 30 s (10/m with a burst of 5: server/ratelimit.py:window_for).
LIMITED = {"RATE_LIMIT": "10/m", "RATE_LIMIT_BURST": "5"}
BURST = 5
TYPENAME = "{ __typename }"


async def replicas(url: str, tmp_path: Path, env: dict[str, str], count: int = 2) -> list[Server]:
    servers = [Server(url, tmp_path / f"replica-{i}.log", env) for i in range(1, count + 1)]
    await asyncio.gather(*(server.start() for server in servers))
    return servers


async def alternate(servers: list[Server], token: str, requests: int) -> list[int]:
    """One key's requests, each to the next replica in turn; their statuses."""
    statuses = []
    headers = {"Authorization": f"Bearer {token}"}
    clients = [httpx.AsyncClient(base_url=s.base_url, timeout=10, headers=headers) for s in servers]
    try:
        for i in range(requests):
            response = await clients[i % len(clients)].post("/graphql", json={"query": TYPENAME})
            assert response.status_code < 500, response.text
            statuses.append(response.status_code)
    finally:
        for client in clients:
            await client.aclose()
    return statuses


@pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set")
async def test_two_replicas_share_one_rate_limit(load_database: str, tmp_path: Path) -> None:
    assert REDIS_URL
    # A key name of this run's own: the machine's Redis outlives the test database.
    token = cli(load_database, "keys", "create", "--role", "viewer", "--name", unique()).strip()
    servers = await replicas(load_database, tmp_path, {**LIMITED, "REDIS_URL": REDIS_URL})
    try:
        statuses = await alternate(servers, token, 3 * BURST)
    finally:
        for server in servers:
            server.stop()
    assert statuses == [200] * BURST + [429] * (2 * BURST), statuses
    assert [p for server in servers for p in server.log_problems()] == []


async def test_replicas_whose_redis_is_down_still_answer(
    load_database: str, tmp_path: Path
) -> None:
    """Nothing listens at REDIS_URL: every request is answered (the limit fails open), and each
    replica's log has one warning however many requests came."""
    token = cli(load_database, "keys", "create", "--role", "viewer", "--name", unique()).strip()
    redis_url = f"redis://127.0.0.1:{free_port()}/0"
    servers = await replicas(load_database, tmp_path, {**LIMITED, "REDIS_URL": redis_url})
    try:
        started = time.monotonic()
        statuses = await alternate(servers, token, 40)
        elapsed = time.monotonic() - started
    finally:
        for server in servers:
            server.stop()
    assert statuses == [200] * 40
    assert elapsed < 20
    for server in servers:
        warnings = [line for line in server.log().splitlines() if "did not answer" in line]
        assert len(warnings) == 1, server.log()[-2000:]
        assert "server.ratelimit" in warnings[0]
        assert server.log_problems() == []


@pytest.mark.skipif(not POSTGRES_URL, reason="TEST_POSTGRES_URL is not set")
@pytest.mark.parametrize("load_database", ["postgres"], indirect=True)
async def test_two_replicas_under_load_on_one_postgres(load_database: str, tmp_path: Path) -> None:
    """Half the clients on each replica, each replica with its own pool of connections."""
    url = load_database
    load = new_load(url)
    servers = await replicas(url, tmp_path, {})
    try:
        await load.setup(servers[0].base_url)
        started = time.monotonic()
        await load.run(servers, TWO_SERVER_SECONDS, seed=14)
        elapsed = time.monotonic() - started
    finally:
        for server in servers:
            server.stop()
    problems, recovered = await verify(load, url)
    figures = load.summary(elapsed)
    report("two replicas", url, figures)

    assert load.failures == [], f"{load.failure_count} bad answers: {load.failures}"
    assert [p for server in servers for p in server.log_problems()] == []
    assert problems == [], f"{len(problems)} problems: {problems[:20]}"
    assert recovered == 0
    assert all(op.outcome != "pending" for op in load.ops)
    # The replicas raced each other: writes that won, and losers told so.
    assert figures["stale_version"], figures
    ok = figures["ok_by_kind"]
    assert isinstance(ok, dict) and all(ok.values()), figures


def unique() -> str:
    return f"replica-{uuid.uuid4().hex[:10]}"
