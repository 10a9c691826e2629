"""Tortoise's SQLite engine, with transactions that take the write lock when they begin, wait for
it without stopping the rest of the process, and give back all they took when they cannot begin.

Tortoise opens a transaction with a plain (deferred) BEGIN: it reads under a snapshot and asks
for the write lock only at its first write. When another process (a second server, or the
command line revoking a key) committed in between, SQLite cannot upgrade that snapshot and fails
at once with "database is locked", whatever the busy timeout, because waiting could not help.
BEGIN IMMEDIATE takes the write lock first. Inside one process nothing changes: tortoise already
runs one transaction at a time on its one connection.

Tortoise's transaction context takes the process's connection lock (an asyncio.Lock) and then
begins. When BEGIN failed after the busy timeout, nothing gave that lock back, and every later
query of the process, /readyz's included, waited for it forever; SIGTERM waited for them (issue
11). Here a transaction that cannot begin, or whose commit fails, releases the lock, ends what it
opened on the connection and raises. While another process holds the write lock, BEGIN IMMEDIATE
is tried without waiting (busy timeout 0), and between tries the connection is free for the
process's other queries, so reads go on while a write waits, a waiting request gives up after
the busy timeout (DATABASE_TIMEOUT_MS) with DatabaseUnavailable, and a cancelled one at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from typing import Any

from tortoise.backends.base.client import ConnectionWrapper, TransactionalDBClient
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.connection import get_connections
from tortoise.exceptions import TransactionManagementError

from server.db.errors import DatabaseUnavailable

# Pauses between tries for the write lock, doubling from the first up to the last: SQLite's own
# busy handler sleeps 1, 2, 5, ... 25 ms between its tries too.
FIRST_PAUSE = 0.001
LONGEST_PAUSE = 0.025


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    return (getattr(exc, "sqlite_errorcode", 0) & 0xFF) == sqlite3.SQLITE_BUSY


class ImmediateTransactionWrapper(SqliteTransactionWrapper):
    async def try_begin(self, busy_timeout_ms: int) -> bool:
        """BEGIN IMMEDIATE without waiting: False while another connection has the write lock."""
        connection = self._connection
        if connection.in_transaction:
            # Opened by a request cancelled in the middle of its BEGIN: nobody will finish it.
            await connection.rollback()
        # One round trip when the lock is free; the script stops at a failed BEGIN, so the
        # failure puts the busy timeout back itself.
        try:
            await connection.executescript(
                "PRAGMA busy_timeout = 0; BEGIN IMMEDIATE; "
                f"PRAGMA busy_timeout = {busy_timeout_ms};"
            )
        except sqlite3.OperationalError as exc:
            await connection.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
            if _is_busy(exc):
                return False
            raise TransactionManagementError(exc) from exc
        except BaseException:
            await connection.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
            raise
        return True


class ImmediateTransactionContext(SqliteTransactionContext):
    """Waits up to `wait_ms` for the write lock (the busy timeout, or 0 for a write that may
    be skipped); `busy_timeout_ms` is the connection's, put back after each try."""

    def __init__(
        self, connection: Any, trxlock: asyncio.Lock, busy_timeout_ms: int, wait_ms: int
    ) -> None:
        super().__init__(connection, trxlock)
        self.busy_timeout_ms = busy_timeout_ms
        self.wait_ms = wait_ms

    async def __aenter__(self) -> TransactionalDBClient:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait_ms / 1000
        pause = FIRST_PAUSE
        while True:
            await self._trxlock.acquire()
            try:
                await self.ensure_connection()
                began = await self.connection.try_begin(self.busy_timeout_ms)
            except BaseException:
                await self._give_back()
                raise
            if began:
                break
            self._trxlock.release()
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise DatabaseUnavailable(
                    "another connection held the SQLite database's write lock for over "
                    f"{self.wait_ms} ms (DATABASE_TIMEOUT_MS)"
                )
            await asyncio.sleep(min(pause, remaining))
            pause = min(pause * 2, LONGEST_PAUSE)
        self.token = get_connections().set(self.connection_name, self.connection)
        return self.connection  # type: ignore[no-any-return]

    async def __aexit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        try:
            if not self.connection._finalized:
                if exc_type is None:
                    await self.connection.commit()
                else:
                    await self.connection.rollback()
        except BaseException:
            await self._give_back()
            raise
        else:
            self._trxlock.release()
        finally:
            get_connections().reset(self.token)

    async def _give_back(self) -> None:
        """End whatever this transaction opened on the connection, then free the connection."""
        try:
            if self.connection._connection is not None:
                with contextlib.suppress(Exception):
                    await self.connection._connection.rollback()
        finally:
            self._trxlock.release()


class ReleasingConnectionWrapper(ConnectionWrapper[Any]):
    """Tortoise's wrapper for one statement, which gives the connection lock back when the
    connection cannot be opened (tortoise kept it: the first query on a file it could not open
    failed, and every later one waited forever)."""

    async def __aenter__(self) -> Any:
        await self._lock.acquire()
        try:
            await self.ensure_connection()
        except BaseException:
            self._lock.release()
            raise
        return self.connection


class ImmediateSqliteClient(SqliteClient):
    @property
    def busy_timeout_ms(self) -> int:
        return int(self.pragmas.get("busy_timeout", 0))

    async def create_connection(self, with_db: bool) -> None:
        try:
            await super().create_connection(with_db)
        except BaseException:
            # A connection whose pragmas were not all applied (no busy timeout, say) would be
            # used as it is from now on: close it, and the next query connects afresh.
            connection, self._connection = self._connection, None
            if connection is not None:
                with contextlib.suppress(Exception):
                    await connection.close()
            raise

    def acquire_connection(self) -> ConnectionWrapper[Any]:
        return ReleasingConnectionWrapper(self._lock, self)

    def _in_transaction(self) -> ImmediateTransactionContext:
        return self.transaction(self.busy_timeout_ms)

    def transaction(self, wait_ms: int) -> ImmediateTransactionContext:
        """A transaction that waits at most `wait_ms` for another connection's write lock."""
        return ImmediateTransactionContext(
            ImmediateTransactionWrapper(self), self._lock, self.busy_timeout_ms, wait_ms
        )


client_class = ImmediateSqliteClient
