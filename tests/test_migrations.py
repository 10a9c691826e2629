"""The committed migrations describe the models exactly: a model change without its migration
fails here, not in production."""

from __future__ import annotations

from pathlib import Path

from tortoise.cli.cli import tortoise_cli_context
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
