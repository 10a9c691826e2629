"""Tortoise configuration built from a database URL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tortoise.backends.base.config_generator import expand_db_url

from server.settings import DEFAULT_DATABASE_TIMEOUT_MS, DEFAULT_DATABASE_URL

MODELS_MODULE = "server.db.models"
MIGRATIONS_MODULE = "server.db.migrations"


def normalise_url(url: str) -> str:
    """Accept postgresql:// as well as postgres://."""
    if url.startswith("postgresql://"):
        url = "postgres://" + url[len("postgresql://") :]
    return url


def ensure_sqlite_folder(url: str) -> None:
    """SQLite creates the file on first use, but not the folder it lives in: the default
    database's folder (`make run`'s data/) is made here. Any other folder must exist: a
    mistyped path is an error (server/db/preflight.py), not a new database somewhere else."""
    if normalise_url(url) == DEFAULT_DATABASE_URL:
        Path(sqlite_path(url)).parent.mkdir(parents=True, exist_ok=True)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite://")


def sqlite_path(url: str) -> str:
    """The file of a sqlite:// URL (`:memory:` for an in-memory database)."""
    return url[len("sqlite://") :].split("?", 1)[0]


def tortoise_config(
    url: str | None = None, timeout_ms: int = DEFAULT_DATABASE_TIMEOUT_MS, *, serving: bool = False
) -> dict[str, Any]:
    """`timeout_ms` bounds every wait for the database (DATABASE_TIMEOUT_MS): SQLite's write
    lock held by another process, and PostgreSQL's connection and lock waits. Past it the
    request fails with DatabaseUnavailable (503) instead of waiting on.

    `serving` (the server, and the key commands) opens only an existing SQLite file, so one
    moved away while the server runs is unavailable until it is back instead of replaced by an
    empty one; and bounds each PostgreSQL statement by `timeout_ms` too (asyncpg's
    command_timeout), so that a server that stopped answering mid-statement cannot hold a
    request. Migrations and fixture loads keep unbounded statements: they may be long."""
    url = normalise_url(url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
    connection: dict[str, Any]
    if is_sqlite(url):
        connection = {
            "engine": "server.db.sqlite_engine",
            "credentials": {
                "file_path": sqlite_path(url),
                "create": not serving,
                # First, so that the pragmas after it wait for a lock too.
                "busy_timeout": timeout_ms,
                "journal_mode": "WAL",
                "journal_size_limit": 16384,
                "foreign_keys": "ON",
                "synchronous": "NORMAL",
            },
        }
    else:
        connection = expand_db_url(url)
        connection["engine"] = "server.db.postgres_engine"
        credentials = connection["credentials"]
        credentials["timeout"] = timeout_ms / 1000  # asyncpg's connect timeout, in seconds
        credentials["server_settings"] = {"lock_timeout": str(timeout_ms)}
        if serving:
            credentials["command_timeout"] = timeout_ms / 1000
    return {
        "connections": {"default": connection},
        "apps": {
            "models": {
                "models": [MODELS_MODULE],
                "migrations": MIGRATIONS_MODULE,
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def __getattr__(name: str) -> Any:
    """TORTOISE_ORM, for tortoise's command line:
    python -m tortoise -c server.db.config.TORTOISE_ORM makemigrations
    Built when asked for, not on import: a bad DATABASE_URL must reach the start-up check
    (server/db/preflight.py) and its one-line message, not fail every import with a traceback."""
    if name == "TORTOISE_ORM":
        return tortoise_config()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
