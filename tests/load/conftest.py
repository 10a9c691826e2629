"""A database for each load test: a fresh SQLite file, and the TEST_POSTGRES_URL database when
it is set, emptied before and after (the rest of the suite expects the inventory tables empty
and the taxonomy in place, as tests/conftest.py leaves them)."""

from __future__ import annotations

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


@pytest.fixture(params=BACKENDS)
async def load_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        url = f"sqlite://{tmp_path / 'load.sqlite3'}"
        cli(url, "migrate")
        yield url
        return
    assert POSTGRES_URL
    cli(POSTGRES_URL, "migrate")
    await empty_postgres(POSTGRES_URL)
    try:
        yield POSTGRES_URL
    finally:
        await empty_postgres(POSTGRES_URL)
