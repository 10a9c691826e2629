"""SQLite transactions take the write lock when they begin (server/db/sqlite_engine.py), so a
write from another process waits for them instead of breaking their snapshot."""

from __future__ import annotations

import sqlite3

import pytest
from tortoise.transactions import in_transaction


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
