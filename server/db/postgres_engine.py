"""Tortoise's asyncpg engine, with transactions that give their connection back to the pool when
they cannot begin, and connection failures reported as DatabaseUnavailable.

Tortoise's pooled transaction context takes a connection from the pool and then begins; when
BEGIN failed (the connection was lost in between), the connection was never given back, and
after as many failures as the pool holds (5) every request waited for a connection forever: the
wedge SQLite had (server/db/sqlite_engine.py), one pool slot at a time. A connection that cannot
be made within the database timeout, or a statement that gets no answer within it (the server's
command_timeout: a database that stopped answering), raises DatabaseUnavailable instead of a bare
TimeoutError, which was answered 500 INTERNAL.

Tortoise makes the pool on first use, one task at a time (its pool lock). With the server
unreachable, each request waiting for that lock tried again in turn, so with connections that
time out the n-th request waited n timeouts. For RECONNECT_PAUSE after a failed attempt,
requests fail at once with that attempt's error instead.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
from tortoise.backends.base.client import (
    PoolConnectionWrapper,
    TransactionalDBClient,
    TransactionContextPooled,
)
from tortoise.connection import get_connections

from server.db.errors import DatabaseUnavailable

# Seconds after a failed attempt to make the pool during which no new attempt is made.
RECONNECT_PAUSE = 0.5


def _unreachable(client: Any, exc: BaseException) -> DatabaseUnavailable:
    return DatabaseUnavailable(
        f"cannot connect to PostgreSQL at {client.host}:{client.port}: {exc}"
    )


def _no_answer(client: Any) -> DatabaseUnavailable:
    """A statement past asyncpg's command_timeout (the database timeout, when serving)."""
    return DatabaseUnavailable(
        f"PostgreSQL at {client.host}:{client.port} did not answer a statement in time"
    )


class ReleasingTransactionContext(TransactionContextPooled):
    async def __aenter__(self) -> TransactionalDBClient:
        try:
            return await super().__aenter__()
        except TimeoutError as exc:
            await self._give_back()
            raise _unreachable(self.client._parent, exc) from exc
        except BaseException:
            await self._give_back()
            raise

    async def __aexit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        """A statement that got no answer in time leaves the connection in an unknown state:
        it is ended instead of rolled back (a rollback would wait as long again), and the
        request fails as the database being unavailable, not as a bare TimeoutError (500)."""
        timed_out = isinstance(exc_val, TimeoutError)
        if timed_out and self.client._connection is not None:
            self.client._connection.terminate()
        try:
            await super().__aexit__(exc_type, exc_val, exc_tb)
        except Exception as exc:
            if timed_out or isinstance(exc, TimeoutError):
                raise _no_answer(self.client._parent) from exc
            raise
        if timed_out:
            raise _no_answer(self.client._parent) from exc_val

    async def _give_back(self) -> None:
        """What tortoise's __aenter__ took before it failed: the connection and the context
        variable naming this transaction."""
        connection, self.client._connection = self.client._connection, None
        pool = self.client._parent._pool
        if connection is not None and pool is not None:
            with contextlib.suppress(Exception):
                await pool.release(connection)
        token = getattr(self, "token", None)
        if token is not None:
            get_connections().reset(token)


class ReportingPoolConnectionWrapper(PoolConnectionWrapper[Any]):
    """Tortoise's wrapper for one statement, with a connection timeout reported as the database
    being unavailable."""

    async def __aenter__(self) -> Any:
        try:
            return await super().__aenter__()
        except TimeoutError as exc:
            raise _unreachable(self.client, exc) from exc

    async def __aexit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        """A statement that got no answer in time: its connection is ended before it goes back
        to the pool (resetting it would wait as long again), and the request fails as the
        database being unavailable."""
        if isinstance(exc_val, TimeoutError):
            if self.connection is not None:
                self.connection.terminate()
            await super().__aexit__(exc_type, exc_val, exc_tb)
            raise _no_answer(self.client) from exc_val
        await super().__aexit__(exc_type, exc_val, exc_tb)


class ReleasingAsyncpgClient(AsyncpgDBClient):
    _failed_at = float("-inf")
    _failure: BaseException | None = None

    async def create_connection(self, with_db: bool) -> None:
        since = time.monotonic() - self._failed_at
        if self._failure is not None and since < RECONNECT_PAUSE:
            raise DatabaseUnavailable(
                f"PostgreSQL at {self.host}:{self.port} did not answer {since:.1f} s ago "
                f"({self._failure}); not trying again for {RECONNECT_PAUSE} s"
            ) from self._failure
        try:
            await super().create_connection(with_db)
        except OSError as exc:  # TimeoutError included
            self._failed_at, self._failure = time.monotonic(), exc
            if isinstance(exc, TimeoutError):
                raise _unreachable(self, exc) from exc
            raise
        self._failure = None

    def acquire_connection(self) -> Any:
        return ReportingPoolConnectionWrapper(self, self._pool_init_lock)

    async def check_ready(self) -> None:
        """For /readyz: a round trip on a pooled connection (made afresh if need be)."""
        await self.execute_query("SELECT 1")

    def _in_transaction(self) -> ReleasingTransactionContext:
        return ReleasingTransactionContext(TransactionWrapper(self), self._pool_init_lock)


client_class = ReleasingAsyncpgClient
