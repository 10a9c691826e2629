"""Issue 14, "Migrations run once however many replicas start together": three
`python -m server migrate` started at once on one fresh database all succeed, each migration is
recorded once and the taxonomy is not doubled. Without the migration lock (server/db/setup.py)
two of the three failed with "relation already exists"."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from server.db.setup import MigrationLockTimeout, migration_lock
from server.domain.taxonomy import default_taxonomy

ROOT = Path(__file__).resolve().parents[1]
MIGRATIONS = sorted(
    p.stem for p in (ROOT / "server/db/migrations").glob("[0-9]*.py") if p.stem[:4].isdigit()
)
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")


def _sibling_database(url: str, suffix: str) -> str:
    """TEST_POSTGRES_URL with its database name suffixed: a database of this test's own."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path + suffix))


async def _postgres(url: str, *statements: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database with no tables at all."""
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path / 'once.sqlite3'}"
        return
    if not POSTGRES_URL:
        pytest.skip("TEST_POSTGRES_URL is not set")
    suffix = f"_migrate_once_{os.getpid()}"
    name = urlsplit(POSTGRES_URL).path.lstrip("/") + suffix
    await _postgres(POSTGRES_URL, f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}")
    try:
        yield _sibling_database(POSTGRES_URL, suffix)
    finally:
        await _postgres(POSTGRES_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _start_migrate(url: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return subprocess.Popen(
        [sys.executable, "-m", "server", "--database-url", url, "migrate"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def _rows(url: str, query: str) -> list[tuple[object, ...]]:
    if url.startswith("sqlite://"):
        import sqlite3

        with sqlite3.connect(url[len("sqlite://") :]) as connection:
            return [tuple(row) for row in connection.execute(query)]
    import asyncpg

    connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        return [tuple(row) for row in await connection.fetch(query)]
    finally:
        await connection.close()


async def test_three_migrates_at_once_migrate_once(fresh_database: str) -> None:
    url = fresh_database
    running = [_start_migrate(url) for _ in range(3)]
    outputs = []
    for process in running:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, f"migrate exited {process.returncode}:\n{out}\n{err}"
        outputs.append(out)

    applied = await _rows(url, "SELECT name FROM tortoise_migrations ORDER BY name")
    assert [name for (name,) in applied] == MIGRATIONS
    taxonomy = default_taxonomy()
    for table, expected in (
        ("data_category", len(taxonomy.categories)),
        ("purpose", len(taxonomy.purposes)),
        ("subject_type", len(taxonomy.subject_types)),
    ):
        [(count, distinct)] = await _rows(url, f"SELECT count(*), count(DISTINCT key) FROM {table}")
        assert (count, distinct) == (expected, expected), table
    # One of them installed the taxonomy; the two that waited found nothing to add.
    added = [out for out in outputs if f"dataCategories {len(taxonomy.categories)}" in out]
    nothing = [out for out in outputs if "dataCategories 0, purposes 0, subjectTypes 0" in out]
    assert (len(added), len(nothing)) == (1, 2), outputs


async def test_migrate_waits_while_another_holds_the_lock(fresh_database: str) -> None:
    """The lock really is what orders them: a migrate started while this test holds it does
    nothing until it is released, then finishes."""
    url = fresh_database
    async with migration_lock(url):
        process = _start_migrate(url)
        await asyncio.sleep(3.0)  # a migrate on its own takes about a second here
        assert process.poll() is None, process.communicate()
        assert await _tables(url) == [], "migrated while another held the lock"
    out, err = await asyncio.to_thread(process.communicate, timeout=120)
    assert process.returncode == 0, f"{out}\n{err}"
    assert "waiting for it to finish" in err
    assert "tortoise_migrations" in await _tables(url)


async def _tables(url: str) -> list[str]:
    if url.startswith("sqlite://"):
        if not Path(url[len("sqlite://") :]).exists():
            return []
        query = "SELECT name FROM sqlite_master WHERE type = 'table'"
    else:
        query = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    return [str(name) for (name,) in await _rows(url, query)]


async def test_a_migrate_waiting_too_long_says_why(fresh_database: str) -> None:
    async with migration_lock(fresh_database):
        started = time.monotonic()
        with pytest.raises(MigrationLockTimeout, match=r"held the migration lock for over 0.5 s"):
            async with migration_lock(fresh_database, wait_seconds=0.5):
                pytest.fail("took a lock another holds")
        assert time.monotonic() - started < 5
    # Released: the next one takes it at once.
    async with migration_lock(fresh_database, wait_seconds=0.5):
        pass


async def test_an_in_memory_database_needs_no_lock() -> None:
    """One process's own database: nested holds do not wait (a file's would time out)."""
    url = "sqlite://:memory:"
    async with migration_lock(url), migration_lock(url, wait_seconds=0.1):
        pass
