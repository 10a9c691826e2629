"""Tortoise's SQLite engine, with transactions that take the write lock when they begin.

Tortoise opens a transaction with a plain (deferred) BEGIN: it reads under a snapshot and asks
for the write lock only at its first write. When another process (a second server, or the
command line revoking a key) committed in between, SQLite cannot upgrade that snapshot and fails
at once with "database is locked", whatever the busy timeout, because waiting could not help.
BEGIN IMMEDIATE takes the write lock first, and waits for it up to the busy timeout. Inside one
process nothing changes: tortoise already runs one transaction at a time on its one connection.
"""

from __future__ import annotations

import sqlite3

from tortoise.backends.base.client import TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.exceptions import TransactionManagementError


class ImmediateTransactionWrapper(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


class ImmediateSqliteClient(SqliteClient):
    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(ImmediateTransactionWrapper(self), self._lock)


client_class = ImmediateSqliteClient
