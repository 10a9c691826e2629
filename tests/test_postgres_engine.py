"""PostgreSQL's engine (server/db/postgres_engine.py): a transaction that cannot begin gives its
connection back to the pool, and every wait for the server is bounded by DATABASE_TIMEOUT_MS."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
import pytest
from tortoise import Tortoise
from tortoise.backends.asyncpg.client import TransactionWrapper
from tortoise.transactions import in_transaction

from server.db import postgres_engine
from server.db.config import tortoise_config
from server.db.errors import DatabaseUnavailable, is_unavailable
from server.db.postgres_engine import ReleasingAsyncpgClient


def test_the_database_timeout_bounds_connecting_and_locks() -> None:
    connection = tortoise_config("postgresql://app@db.internal:5433/inventory", 2500)[
        "connections"
    ]["default"]
    assert connection["engine"] == "server.db.postgres_engine"
    credentials = connection["credentials"]
    assert (credentials["host"], credentials["port"], credentials["database"]) == (
        "db.internal",
        5433,
        "inventory",
    )
    assert credentials["timeout"] == 2.5
    assert credentials["server_settings"] == {"lock_timeout": "2500"}


async def test_a_transaction_that_cannot_begin_gives_its_connection_back(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tortoise kept the pooled connection when BEGIN failed: after as many failures as the pool
    has connections (5), every request waited for one forever."""
    if db.startswith("sqlite://"):
        pytest.skip("PostgreSQL only")
    client = Tortoise.get_connection("default")
    assert await client.execute_query_dict("SHOW lock_timeout") == [{"lock_timeout": "5s"}]

    async def lost(self: TransactionWrapper) -> None:
        raise asyncpg.ConnectionDoesNotExistError(
            "connection was closed in the middle of operation"
        )

    monkeypatch.setattr(TransactionWrapper, "begin", lost)
    for _ in range(8):
        with pytest.raises(asyncpg.ConnectionDoesNotExistError) as raised:
            async with in_transaction():
                pass
        assert is_unavailable(raised.value)
        assert Tortoise.get_connection("default") is client  # no transaction left as current
    monkeypatch.undo()
    await asyncio.wait_for(client.execute_query("SELECT 1"), 1)
    async with asyncio.timeout(1), in_transaction() as conn:
        await conn.execute_query("SELECT 1")


async def test_requests_queued_behind_a_failed_connect_fail_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the server unreachable (connections time out), tortoise's requests took turns at
    making the pool: the n-th waited n timeouts. Now those queued behind a failed attempt fail
    with it, and the next attempt comes RECONNECT_PAUSE later. Needs no PostgreSQL."""
    attempts: list[float] = []

    async def unreachable(self: ReleasingAsyncpgClient, **kwargs: Any) -> None:
        attempts.append(time.monotonic())
        await asyncio.sleep(0.3)
        raise TimeoutError

    monkeypatch.setattr(ReleasingAsyncpgClient, "create_pool", unreachable)
    await Tortoise.init(config=tortoise_config("postgres://postgres@192.0.2.1:5432/x", 300))
    try:
        client = Tortoise.get_connection("default")
        started = time.monotonic()
        outcomes = await asyncio.gather(
            *(client.execute_query("SELECT 1") for _ in range(5)), return_exceptions=True
        )
        assert time.monotonic() - started < 0.6
        assert all(isinstance(o, DatabaseUnavailable) for o in outcomes), outcomes
        assert len(attempts) == 1
        await asyncio.sleep(postgres_engine.RECONNECT_PAUSE)
        with pytest.raises(DatabaseUnavailable):
            await client.execute_query("SELECT 1")
        assert len(attempts) == 2
    finally:
        await Tortoise.close_connections()
