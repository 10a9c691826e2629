"""The committed migrations describe the models exactly: a model change without its migration
fails here, not in production."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tortoise import Tortoise
from tortoise.cli.cli import tortoise_cli_context
from tortoise.migrations.api import migrate as migrate_api
from tortoise.migrations.autodetector import MigrationAutodetector

from server.db.config import tortoise_config


async def test_models_need_no_new_migration(tmp_path: Path) -> None:
    config = tortoise_config(f"sqlite://{tmp_path / 'autodetect.sqlite3'}")
    async with tortoise_cli_context(config) as ctx:
        autodetector = MigrationAutodetector(ctx.apps, config["apps"])
        writers = await autodetector.changes()
    assert [w.name for w in writers] == [], (
        "models changed without a migration: run "
        "`python -m tortoise -c server.db.config.TORTOISE_ORM makemigrations -n <what>`"
    )


async def _apply(url: str, target: str | None) -> None:
    try:
        await migrate_api(config=tortoise_config(url), target=target)
    finally:
        await Tortoise.close_connections()


@pytest.fixture(params=["sqlite", "postgres"])
async def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database with no tables at all, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path / 'migrations.sqlite3'}"
        return
    base = os.environ.get("TEST_POSTGRES_URL")
    if not base:
        pytest.skip("TEST_POSTGRES_URL is not set")
    import asyncpg

    admin_url = base.replace("postgres://", "postgresql://", 1)
    name = f"migrations_{os.getpid()}"
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name}")
        await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()
    yield base.rsplit("/", 1)[0] + f"/{name}"
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await conn.close()


async def test_audience_index_is_backfilled_from_the_link_tables(empty_database: str) -> None:
    """Disclosures recorded before 0005 get their audience rows from the link tables."""
    await _apply(empty_database, "models.0004_api_keys")
    await Tortoise.init(config=tortoise_config(empty_database))
    try:
        conn = Tortoise.get_connection("default")
        for statement in (
            "INSERT INTO data_category (key, name, sensitive, parent_id) VALUES "
            "('user', 'User', FALSE, NULL), ('user.contact', 'Contact', FALSE, 'user'), "
            "('user.name', 'Name', FALSE, 'user')",
            "INSERT INTO subject_type (key, name) VALUES ('customer', 'Customer'), "
            "('employee', 'Employee')",
            "INSERT INTO recipient (id, slug, name, sort_name, search_text, kind, role, status, "
            "country, services, dpf_certified, registered_by, version, created_at, updated_at) "
            "VALUES (1, 'acme', 'Acme', 'acme', 'acme', 'SERVICE_PROVIDER', 'PROCESSOR', "
            "'ACTIVE', 'US', '[]', FALSE, 'tests', 1, '2026-01-01T00:00:00+00:00', "
            "'2026-01-01T00:00:00+00:00')",
            "INSERT INTO disclosure (id, recipient_id, legal_basis, ground, effective_from, "
            "created_at) VALUES (7, 1, 'CONTRACT', 'SERVICE_PROVISION', '2026-01-01', "
            "'2026-01-01T00:00:00+00:00')",
            "INSERT INTO disclosure_category (disclosure_id, category_id) VALUES "
            "(7, 'user.contact'), (7, 'user.name')",
            "INSERT INTO disclosure_subject_type (disclosure_id, subject_type_id) VALUES "
            "(7, 'customer'), (7, 'employee')",
        ):
            await conn.execute_script(statement)
    finally:
        await Tortoise.close_connections()
    await _apply(empty_database, None)
    await Tortoise.init(config=tortoise_config(empty_database))
    try:
        conn = Tortoise.get_connection("default")
        rows = await conn.execute_query_dict(
            "SELECT disclosure_id, subject_type_id, category_id FROM disclosure_audience"
        )
    finally:
        await Tortoise.close_connections()
    assert sorted((r["disclosure_id"], r["subject_type_id"], r["category_id"]) for r in rows) == [
        (7, "customer", "user.contact"),
        (7, "customer", "user.name"),
        (7, "employee", "user.contact"),
        (7, "employee", "user.name"),
    ]
