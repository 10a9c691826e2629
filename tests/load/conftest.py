"""A database for each load test: a fresh SQLite file (a copy of one migrated for the session),
and the TEST_POSTGRES_URL database when it is set, emptied before and after (the rest of the
suite expects the inventory tables empty and the taxonomy in place, as tests/conftest.py leaves
them)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import BACKENDS, INVENTORY_TABLES, POSTGRES_URL
from tests.load.harness import cli


async def empty_postgres(url: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        await connection.execute(f"TRUNCATE {', '.join(INVENTORY_TABLES)} RESTART IDENTITY CASCADE")
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def load_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("load-template") / "load.sqlite3"
    cli(f"sqlite://{path}", "migrate")
    return path


@pytest.fixture(scope="session")
def load_postgres() -> str:
    assert POSTGRES_URL
    cli(POSTGRES_URL, "migrate")
    return POSTGRES_URL


@pytest.fixture(params=BACKENDS)
async def load_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "load.sqlite3"
        shutil.copy(request.getfixturevalue("load_sqlite_template"), path)
        yield f"sqlite://{path}"
        return
    url = request.getfixturevalue("load_postgres")
    await empty_postgres(url)
    try:
        yield url
    finally:
        await empty_postgres(url)
