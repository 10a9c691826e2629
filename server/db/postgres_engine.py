"""Tortoise's asyncpg engine, with transactions that give their connection back to the pool when
they cannot begin, and connection failures reported as DatabaseUnavailable.

Tortoise's pooled transaction context takes a connection from the pool and then begins; when
BEGIN failed (the connection was lost in between), the connection was never given back, and
after as many failures as the pool holds (5) every request waited for a connection forever: the
wedge SQLite had (server/db/sqlite_engine.py), one pool slot at a time. A connection that cannot
be made within the database timeout raises DatabaseUnavailable instead of a bare TimeoutError.
"""

from __future__ import annotations

import contextlib
from typing import Any

from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
from tortoise.backends.base.client import (
    PoolConnectionWrapper,
    TransactionalDBClient,
    TransactionContextPooled,
)
from tortoise.connection import get_connections

from server.db.errors import DatabaseUnavailable


def _unreachable(client: Any, exc: BaseException) -> DatabaseUnavailable:
    return DatabaseUnavailable(
        f"cannot connect to PostgreSQL at {client.host}:{client.port}: {exc}"
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


class ReleasingAsyncpgClient(AsyncpgDBClient):
    def acquire_connection(self) -> Any:
        return ReportingPoolConnectionWrapper(self, self._pool_init_lock)

    def _in_transaction(self) -> ReleasingTransactionContext:
        return ReleasingTransactionContext(TransactionWrapper(self), self._pool_init_lock)


client_class = ReleasingAsyncpgClient
