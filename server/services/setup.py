"""Bring a database up to date: apply the committed migrations, then install the taxonomy."""

from __future__ import annotations

from tortoise import Tortoise

from server.db.config import tortoise_config
from server.db.setup import apply_migrations, migration_lock
from server.services.taxonomy import install_taxonomy


async def migrate(database_url: str) -> dict[str, int]:
    """Returns how many taxonomy terms of each kind were added. Under the migration lock: of
    several replicas that start together and each run it, one migrates and the others wait,
    then find nothing left to do (server/db/setup.py)."""
    async with migration_lock(database_url):
        await apply_migrations(database_url)
        await Tortoise.init(config=tortoise_config(database_url))
        try:
            return await install_taxonomy()
        finally:
            await Tortoise.close_connections()
