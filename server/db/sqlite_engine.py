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

Tortoise's one-statement wrapper kept the same lock when the connection could not be opened (a
read-only or missing folder): its first query raised "unable to open database file" and every
later one waited for the lock forever (aiosqlite alone raises each time). Here the lock is given
back, and a connection whose file went out of reach (moved away, made read-only, an I/O error)
is closed, so that the next query opens the file afresh and works as soon as it is back. The
server opens only an existing file (`create=False`): a file moved away is not replaced by an
empty one.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiosqlite
from tortoise.backends.base.client import ConnectionWrapper, TransactionalDBClient
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.connection import get_connections
from tortoise.exceptions import IntegrityError, OperationalError, TransactionManagementError

from server.db.errors import DatabaseUnavailable, sqlite_out_of_reach

# Pauses between tries for the write lock, doubling from the first up to the last: SQLite's own
# busy handler sleeps 1, 2, 5, ... 25 ms between its tries too.
FIRST_PAUSE = 0.001
LONGEST_PAUSE = 0.025
# How long the thread holding the GIL keeps it once the connection's thread asks for it (the
# process's switch interval, Python's default 5 ms). That thread asks after every statement it
# ran without the GIL: while the event loop computes (an import preparing its next rows), at
# 5 ms a statement the two took turns instead of working at once, and a bulk write took twice
# as long as alone.
SWITCH_INTERVAL_SECONDS = 0.0005


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    return (getattr(exc, "sqlite_errorcode", 0) & 0xFF) == sqlite3.SQLITE_BUSY


def out_of_reach(exc: BaseException | None) -> bool:
    """Whether `exc`, or the driver error tortoise wrapped in it, says the file cannot be used
    any more (as opposed to a lock, or a bad statement)."""
    seen = 0
    while exc is not None and seen < 4:
        if isinstance(exc, sqlite3.Error):
            return sqlite_out_of_reach(exc)
        wrapped = [a for a in exc.args if isinstance(a, BaseException)]
        exc = wrapped[0] if wrapped else exc.__cause__
        seen += 1
    return False


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
                # A write goes only into the file at the configured path: one moved or replaced
                # under the open connection (which would go on writing to the old one) fails.
                parent = self.connection._parent
                moved = parent.out_of_place() if parent.opened is not None else None
                if moved is not None:
                    await parent.close_quietly()
                    raise DatabaseUnavailable(f"the SQLite database is out of reach: {moved}")
                # The connection as it is now: it may have been closed and reopened while this
                # transaction waited for the lock.
                self.connection._connection = parent._connection
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
        except BaseException as exc:
            await self._give_back(exc)
            raise
        else:
            if out_of_reach(exc_val):
                await self.connection._parent.close_quietly()
            self._trxlock.release()
        finally:
            get_connections().reset(self.token)

    async def _give_back(self, exc: BaseException | None = None) -> None:
        """End whatever this transaction opened on the connection (closing it when its file is
        out of reach), then free the connection."""
        try:
            if self.connection._connection is not None:
                with contextlib.suppress(Exception):
                    await self.connection._connection.rollback()
            if out_of_reach(exc):
                await self.connection._parent.close_quietly()
        finally:
            self._trxlock.release()


async def run_in_one_call(
    transaction: SqliteTransactionWrapper, work: Callable[[sqlite3.Connection], None]
) -> None:
    """`work` on the transaction's sqlite3 connection, in one call of the connection's thread:
    a bulk write's statements run one after the other without waiting for the event loop to
    hand the thread the next (so that the thread inserts a chunk of rows while the loop
    prepares the next chunk). sqlite3's errors are raised as tortoise raises them."""
    async with transaction.acquire_connection() as connection:
        try:
            await connection._execute(work, connection._conn)
        except sqlite3.OperationalError as exc:
            raise OperationalError(exc) from exc
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(exc) from exc


class ReleasingConnectionWrapper(ConnectionWrapper[Any]):
    """Tortoise's wrapper for one statement, which gives the connection lock back when the
    connection cannot be opened (tortoise kept it: the first query on a file it could not open
    failed, and every later one waited forever)."""

    async def __aenter__(self) -> Any:
        await self._lock.acquire()
        # The connection as it is now, not as it was when this wrapper was made: it may have
        # been closed (its file out of reach) while this statement waited for the lock.
        self.connection = self.client._connection
        try:
            await self.ensure_connection()
        except BaseException:
            self._lock.release()
            raise
        return self.connection

    async def __aexit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        try:
            if out_of_reach(exc_val) and isinstance(self.client, ImmediateSqliteClient):
                await self.client.close_quietly()
        finally:
            self._lock.release()


class ImmediateSqliteClient(SqliteClient):
    def __init__(self, file_path: str, **kwargs: Any) -> None:
        self.create = bool(kwargs.pop("create", True))
        super().__init__(file_path, **kwargs)
        # The file the connection has open (device, inode): whether it is still at its path.
        self.opened: tuple[int, int] | None = None

    @property
    def busy_timeout_ms(self) -> int:
        return int(self.pragmas.get("busy_timeout", 0))

    @property
    def in_memory(self) -> bool:
        return self.filename == ":memory:" or self.filename.startswith("file::memory:")

    async def create_connection(self, with_db: bool) -> None:
        if self._connection:
            return
        try:
            if self.create or self.in_memory:
                target, uri = self.filename, False
            else:  # never create the file: it must exist
                target, uri = f"file:{quote(os.path.abspath(self.filename))}?mode=rw", True
            pending = aiosqlite.connect(target, isolation_level=None, uri=uri)
            # A statement stuck in SQLite (its busy handler) must not hold the process at exit:
            # SIGTERM stops the server within its graceful timeout whatever the database does.
            pending._thread.daemon = True
            sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_SECONDS))
            self._connection = await pending
            self._connection._conn.row_factory = sqlite3.Row
            for pragma, value in self.pragmas.items():
                cursor = await self._connection.execute(f"PRAGMA {pragma}={value}")
                await cursor.close()
            await self._post_connect()
            if not self.in_memory:
                found = os.stat(self.filename)
                self.opened = (found.st_dev, found.st_ino)
        except BaseException:
            # A connection whose pragmas were not all applied (no busy timeout, say) would be
            # used as it is from now on: close it, and the next query connects afresh.
            await self.close_quietly()
            raise

    async def close_quietly(self) -> None:
        """Close the connection, if any, whatever state it is in; the next query reopens."""
        connection, self._connection, self.opened = self._connection, None, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close()

    def out_of_place(self) -> str | None:
        """Why the database file cannot be used at its path any more (gone, replaced, not
        readable and writable, in a folder not writable), or None. The open connection would
        go on reading the old file, and fail only at a write."""
        if self.in_memory:
            return None
        path = Path(self.filename)
        try:
            found = path.stat()
        except OSError as exc:
            return f"{path}: {exc.strerror}"
        if self.opened is not None and (found.st_dev, found.st_ino) != self.opened:
            return f"{path} is not the file that was opened (moved or replaced)"
        if not os.access(path, os.R_OK | os.W_OK):
            return f"{path} is not readable and writable"
        if not os.access(path.parent, os.W_OK | os.X_OK):
            return f"the folder {path.parent} is not writable"
        return None

    async def check_ready(self) -> None:
        """For /readyz: the file is where it was opened and usable, and answers a read of its
        schema. When it is not, the connection is closed, so that requests too find out and
        reopen it once it is back."""
        problem = self.out_of_place()
        if problem is not None:
            async with self._lock:
                await self.close_quietly()
            raise DatabaseUnavailable(f"the SQLite database is out of reach: {problem}")
        await self.execute_query("SELECT count(*) FROM sqlite_master")

    def acquire_connection(self) -> ConnectionWrapper[Any]:
        return ReleasingConnectionWrapper(self._lock, self)

    @contextlib.asynccontextmanager
    async def read_snapshot(self) -> AsyncIterator[SqliteTransactionWrapper]:
        """A read transaction (a deferred BEGIN that is never upgraded): every read in it sees
        the file as it was at the first, while other connections go on writing (WAL). Unlike
        `transaction`, it never takes the write lock, so a long read (a backup) holds no
        writer up. It holds this process's connection for its duration, as a transaction does."""
        async with self.acquire_connection() as connection:
            reading = SqliteTransactionWrapper(self)
            await connection.execute("BEGIN")
            try:
                yield reading
            finally:
                with contextlib.suppress(Exception):
                    await connection.rollback()

    def _in_transaction(self) -> ImmediateTransactionContext:
        return self.transaction(self.busy_timeout_ms)

    def transaction(self, wait_ms: int) -> ImmediateTransactionContext:
        """A transaction that waits at most `wait_ms` for another connection's write lock."""
        return ImmediateTransactionContext(
            ImmediateTransactionWrapper(self), self._lock, self.busy_timeout_ms, wait_ms
        )


client_class = ImmediateSqliteClient
