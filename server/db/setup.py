"""Bring a database up to date: apply the committed migrations, then install the taxonomy."""

from __future__ import annotations

from tortoise import Tortoise
from tortoise.migrations.api import migrate as migrate_api

from server.db.config import ensure_sqlite_folder, tortoise_config


async def migrate(database_url: str) -> dict[str, int]:
    ensure_sqlite_folder(database_url)
    config = tortoise_config(database_url)
    try:
        await migrate_api(config=config)
    finally:
        await Tortoise.close_connections()
    await Tortoise.init(config=config)
    try:
        from server.services.taxonomy import install_taxonomy

        return await install_taxonomy()
    finally:
        await Tortoise.close_connections()
