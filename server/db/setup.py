"""Bring a database's schema up to date: apply the committed migrations, one process at a time."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import time
from collections.abc import AsyncIterator

from tortoise import Tortoise
from tortoise.migrations.api import migrate as migrate_api

from server.db.config import ensure_sqlite_folder, is_sqlite, normalise_url, tortoise_config

log = logging.getLogger("server.migrate")

# The PostgreSQL advisory lock every `migrate` holds while it works: a fixed number, the first
# eight bytes of "rinv-mig" read as a signed 64-bit integer, so that no other application on the
# same database is likely to use it by chance. Session-level: released when the holder ends its
# session, a killed process included.
MIGRATION_LOCK_KEY = int.from_bytes(b"rinv-mig", "big", signed=True)
# How long a `migrate` waits for another one to finish before giving up, in seconds: far longer
# than any of our migrations takes, short enough that a wedged one is noticed.
MIGRATION_LOCK_WAIT_SECONDS = 300.0
# Beside a SQLite file, like its -journal and -wal: the file `migrate` locks (flock) while it
# works. SQLite's own locks are POSIX locks on the database file, which a second descriptor of
# that file in the same process would release on close: so a file of its own.
SQLITE_LOCK_SUFFIX = "-migrate-lock"
WAITING = "another migrate is running on this database: waiting for it to finish"


class MigrationLockTimeout(RuntimeError):
    """Another `migrate` held the migration lock for longer than we wait."""


async def apply_migrations(database_url: str) -> None:
    """Apply every committed migration not yet applied, creating a SQLite file's folder first;
    leaves no connection open."""
    ensure_sqlite_folder(database_url)
    try:
        await migrate_api(config=tortoise_config(database_url))
    finally:
        await Tortoise.close_connections()


@contextlib.asynccontextmanager
async def migration_lock(
    database_url: str, wait_seconds: float = MIGRATION_LOCK_WAIT_SECONDS
) -> AsyncIterator[None]:
    """Held around everything `migrate` does, so that replicas started together migrate one
    after the other and the later ones find nothing to do: on PostgreSQL a session-level
    advisory lock (MIGRATION_LOCK_KEY), on SQLite an exclusive flock on the file's
    SQLITE_LOCK_SUFFIX sibling. An in-memory SQLite database is one process's own: no lock."""
    url = normalise_url(database_url)
    if is_sqlite(url):
        path = url[len("sqlite://") :].split("?", 1)[0]
        if path == ":memory:" or path.startswith(":memory:"):
            yield
            return
        ensure_sqlite_folder(url)
        async with _file_lock(path + SQLITE_LOCK_SUFFIX, wait_seconds):
            yield
        return
    async with _advisory_lock(url, wait_seconds):
        yield


@contextlib.asynccontextmanager
async def _advisory_lock(url: str, wait_seconds: float) -> AsyncIterator[None]:
    import asyncpg

    connection = await asyncpg.connect(
        url.replace("postgres://", "postgresql://", 1), timeout=min(wait_seconds, 10.0)
    )
    try:
        if not await connection.fetchval("SELECT pg_try_advisory_lock($1)", MIGRATION_LOCK_KEY):
            log.info(WAITING)
            # lock_timeout bounds the wait for an advisory lock as for any other.
            await connection.execute(f"SET lock_timeout = {int(wait_seconds * 1000)}")
            try:
                await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
            except asyncpg.LockNotAvailableError:
                raise MigrationLockTimeout(_waited(wait_seconds)) from None
        try:
            yield
        finally:
            await connection.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
    finally:
        await connection.close()


@contextlib.asynccontextmanager
async def _file_lock(path: str, wait_seconds: float) -> AsyncIterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait_seconds
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise MigrationLockTimeout(_waited(wait_seconds)) from None
                if not told:
                    log.info(WAITING)
                    told = True
                await asyncio.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _waited(seconds: float) -> str:
    return (
        f"Another migrate held the migration lock for over {seconds:g} s; is one stuck? "
        "It is released when that process ends."
    )
