"""Bring a database's schema up to date: apply the committed migrations."""

from __future__ import annotations

from tortoise import Tortoise
from tortoise.migrations.api import migrate as migrate_api

from server.db.config import ensure_sqlite_folder, tortoise_config


async def apply_migrations(database_url: str) -> None:
    """Apply every committed migration not yet applied, creating a SQLite file's folder first;
    leaves no connection open."""
    ensure_sqlite_folder(database_url)
    try:
        await migrate_api(config=tortoise_config(database_url))
    finally:
        await Tortoise.close_connections()
