"""Tortoise configuration built from a database URL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from server.settings import DEFAULT_DATABASE_TIMEOUT_MS, DEFAULT_DATABASE_URL

MODELS_MODULE = "server.db.models"
MIGRATIONS_MODULE = "server.db.migrations"


def normalise_url(url: str) -> str:
    """Accept postgresql:// as well as postgres://."""
    if url.startswith("postgresql://"):
        url = "postgres://" + url[len("postgresql://") :]
    return url


def ensure_sqlite_folder(url: str) -> None:
    """SQLite creates the file on first use, but not the folder it lives in."""
    if url.startswith("sqlite://") and not url.startswith("sqlite://:memory:"):
        path = url[len("sqlite://") :].split("?", 1)[0]
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite://")


def tortoise_config(
    url: str | None = None, timeout_ms: int = DEFAULT_DATABASE_TIMEOUT_MS
) -> dict[str, Any]:
    """`timeout_ms` bounds the wait for SQLite's write lock held by another process
    (DATABASE_TIMEOUT_MS): past it the transaction fails with DatabaseUnavailable."""
    url = normalise_url(url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
    connection: dict[str, Any] | str
    if is_sqlite(url):
        path = url[len("sqlite://") :].split("?", 1)[0]
        connection = {
            "engine": "server.db.sqlite_engine",
            "credentials": {
                "file_path": path,
                # First, so that the pragmas after it wait for a lock too.
                "busy_timeout": timeout_ms,
                "journal_mode": "WAL",
                "journal_size_limit": 16384,
                "foreign_keys": "ON",
                "synchronous": "NORMAL",
            },
        }
    else:
        connection = url
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


# For tortoise's command line:
# python -m tortoise -c server.db.config.TORTOISE_ORM makemigrations
TORTOISE_ORM = tortoise_config()
