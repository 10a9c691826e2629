"""SQLite transactions take the write lock when they begin (server/db/sqlite_engine.py), so a
write from another process waits for them instead of breaking their snapshot; and a transaction
that cannot get the lock in time gives back everything it took."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.transactions import in_transaction

from server.db import sql
from server.db.config import tortoise_config
from server.db.errors import DatabaseUnavailable, is_unavailable
from server.db.sqlite_engine import ImmediateTransactionWrapper


async def test_a_transaction_holds_the_write_lock_from_its_start(db: str) -> None:
    if not db.startswith("sqlite://"):
        pytest.skip("SQLite only")
    path = db[len("sqlite://") :]
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        async with in_transaction() as conn:
            await conn.execute_query("SELECT count(*) FROM recipient")
            # With a deferred BEGIN this other writer would get in first, and this transaction
            # would fail with "database is locked" at its first write.
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            await conn.execute_query("DELETE FROM recipient WHERE id = -1")
        other.execute("BEGIN IMMEDIATE")  # free again once it committed
        other.execute("ROLLBACK")
    finally:
        other.close()


# -- a database that does not answer (issue 11 §3) ---------------------------------------------

TIMEOUT_MS = 300


@pytest.fixture
async def quick_db(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[Path]:
    """A migrated SQLite file whose transactions wait TIMEOUT_MS for the write lock."""
    path = tmp_path / "inventory.sqlite3"
    shutil.copy(sqlite_template, path)
    EXECUTOR_CACHE.clear()
    await Tortoise.init(config=tortoise_config(f"sqlite://{path}", TIMEOUT_MS))
    try:
        yield path
    finally:
        await Tortoise.close_connections()


@contextlib.contextmanager
def write_lock(path: Path) -> Iterator[sqlite3.Connection]:
    """The write lock, held by another connection (as another process would hold it)."""
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        yield other
        if other.in_transaction:
            other.execute("ROLLBACK")
    finally:
        other.close()


def lock_is_free(path: Path) -> bool:
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


async def write(marker: str = "x") -> None:
    async with in_transaction() as conn:
        await conn.execute_query("DELETE FROM recipient WHERE slug = ?", [marker])


async def test_a_transaction_that_cannot_begin_gives_everything_back(quick_db: Path) -> None:
    """Tortoise kept its connection lock when BEGIN failed: every later query of the process
    waited for it forever."""
    client = Tortoise.get_connection("default")
    with write_lock(quick_db):
        started = time.monotonic()
        with pytest.raises(DatabaseUnavailable, match="write lock"):
            await write()
        assert TIMEOUT_MS / 1000 <= time.monotonic() - started < TIMEOUT_MS / 1000 + 1
        assert Tortoise.get_connection("default") is client  # no transaction left as current
    # Nothing is left held: a query, a transaction, and another process's write all go through.
    await asyncio.wait_for(client.execute_query("SELECT count(*) FROM recipient"), 1)
    await asyncio.wait_for(write(), 1)
    assert lock_is_free(quick_db)


async def test_reads_go_on_while_a_write_waits_for_the_lock(quick_db: Path) -> None:
    client = Tortoise.get_connection("default")
    with write_lock(quick_db):
        waiting = asyncio.create_task(write())
        await asyncio.sleep(0.05)
        started = time.monotonic()
        for _ in range(5):
            await client.execute_query("SELECT count(*) FROM recipient")
        assert time.monotonic() - started < 0.1
        assert not waiting.done()
        with pytest.raises(DatabaseUnavailable):
            await waiting


async def test_a_write_waiting_for_the_lock_gets_it_once_released(quick_db: Path) -> None:
    with write_lock(quick_db) as other:
        waiting = asyncio.create_task(write())
        await asyncio.sleep(0.1)
        other.execute("ROLLBACK")
        started = time.monotonic()
        await waiting
        assert time.monotonic() - started < 0.1


async def test_a_cancelled_wait_leaves_nothing_behind(quick_db: Path) -> None:
    """SIGTERM cancels what uvicorn's graceful shutdown waits for: the wait stops at once, and
    no transaction or lock of it survives."""
    with write_lock(quick_db):
        waiting = asyncio.create_task(write())
        await asyncio.sleep(0.05)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
    assert lock_is_free(quick_db)
    await asyncio.wait_for(write(), 1)
    assert lock_is_free(quick_db)


async def test_a_failed_commit_rolls_back_and_frees_the_connection(
    quick_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def failing_commit(self: ImmediateTransactionWrapper) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(ImmediateTransactionWrapper, "commit", failing_commit)
    with pytest.raises(sqlite3.OperationalError):
        async with in_transaction() as conn:
            await conn.execute_query("UPDATE recipient SET name = name")
    monkeypatch.undo()
    assert lock_is_free(quick_db)  # rolled back: the write lock is not kept
    await asyncio.wait_for(write(), 1)


async def test_a_file_that_cannot_be_opened_fails_fast_each_time_then_works(
    tmp_path: Path,
) -> None:
    """Tortoise's own client answered the first query on such a file with "unable to open
    database file" and let the second wait forever; the first request after the file can be
    opened works."""
    blocker = tmp_path / "data"
    blocker.write_text("a file where the folder should be")
    EXECUTOR_CACHE.clear()
    await Tortoise.init(config=tortoise_config(f"sqlite://{blocker}/inventory.sqlite3", 300))
    try:
        client = Tortoise.get_connection("default")
        for _ in range(3):
            with pytest.raises(Exception) as raised:
                await asyncio.wait_for(client.execute_query("SELECT 1"), 1)
            assert is_unavailable(raised.value), raised.value
            with pytest.raises(Exception) as raised:
                await asyncio.wait_for(write(), 1)
            assert is_unavailable(raised.value), raised.value
        blocker.unlink()
        blocker.mkdir()
        await asyncio.wait_for(client.execute_query("SELECT 1"), 1)
    finally:
        await Tortoise.close_connections()


async def test_a_write_that_may_be_skipped_is_skipped_at_once_while_another_process_writes(
    quick_db: Path,
) -> None:
    client = Tortoise.get_connection("default")

    def statement() -> tuple[sql.Statement, str]:
        st = sql.Statement(client)
        return st, f"UPDATE recipient SET name = name WHERE id = {st.param(-1)}"

    with write_lock(quick_db):
        started = time.monotonic()
        assert not await sql.write_unless_busy(client, *statement())
        assert time.monotonic() - started < 0.1
    assert await sql.write_unless_busy(client, *statement())
    assert lock_is_free(quick_db)
