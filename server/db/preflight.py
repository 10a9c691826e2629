"""The database checked before a command uses it, so that a bad DATABASE_URL stops the command at
once with one line saying what is wrong, instead of a traceback, a hang, or a new empty database
at a mistyped path.

Checked: the scheme; for SQLite, that the folder exists (only the default `data/` folder is
created), that it and the file are readable and writable (SQLite writes its journal next to the
file, so a migrated database in a read-only folder is as unusable as a missing one), and that the
file is a SQLite database; for PostgreSQL, that the server answers within a short timeout and
accepts writes. Commands other than `migrate` also need every migration applied."""

from __future__ import annotations

import asyncio
import os
import pkgutil
import socket
import sqlite3
import stat
from enum import Enum
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

from server.db import migrations
from server.db.config import is_sqlite, normalise_url, sqlite_path
from server.settings import DEFAULT_DATABASE_URL

# The whole check, connecting included, ends within this many seconds (commands must fail
# within 10 s).
PREFLIGHT_SECONDS = 8.0
# Connecting to PostgreSQL waits at most this long, or the database timeout if shorter.
CONNECT_SECONDS = 5.0
MIGRATIONS_TABLE = "tortoise_migrations"
MIGRATIONS_APP = "models"
MIGRATE_HINT = "run `python -m server migrate` first"


class Need(Enum):
    """What a command needs of its database."""

    WRITABLE = "writable"  # migrate: it may be empty, or not exist yet (SQLite)
    MIGRATED = "migrated"  # everything else: writable, and every migration applied


class DatabaseProblem(Exception):
    """The database named by DATABASE_URL cannot be used; the message is one line saying why."""


def shown_url(url: str) -> str:
    """The URL as a message may show it: without a password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    user = parts.username or ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))


def committed_migrations() -> set[str]:
    return {m.name for m in pkgutil.iter_modules(migrations.__path__) if m.name[:4].isdigit()}


def check_database(url: str, need: Need, timeout_ms: int) -> None:
    """Raises DatabaseProblem naming DATABASE_URL and the cause; returns when the database can
    be used as `need` says. Never waits longer than PREFLIGHT_SECONDS."""
    url = normalise_url(url)
    try:
        if is_sqlite(url):
            _check_sqlite(url, need, timeout_ms)
        elif url.startswith("postgres://"):
            asyncio.run(_check_postgres(url, need, timeout_ms))
        else:
            scheme = url.split("://", 1)[0] if "://" in url else ""
            what = f"its scheme {scheme}:// is not supported" if scheme else "it is not a URL"
            raise DatabaseProblem(f"{what}; use sqlite://PATH or postgres://USER@HOST:PORT/NAME")
    except DatabaseProblem as problem:
        raise DatabaseProblem(f"DATABASE_URL {shown_url(url)}: {problem}") from None


def _check_sqlite(url: str, need: Need, timeout_ms: int) -> None:
    path = sqlite_path(url)
    if path == ":memory:":
        return
    file = Path(path)
    folder = file.parent
    if not folder.exists() and url == DEFAULT_DATABASE_URL:
        folder.mkdir(parents=True, exist_ok=True)  # `make run`'s data/, and only that one
    if not folder.is_dir():
        raise DatabaseProblem(
            f"the folder {folder} does not exist; create it, or correct the path"
            if not folder.exists()
            else f"{folder} is not a folder"
        )
    if not os.access(folder, os.R_OK | os.W_OK | os.X_OK):
        raise DatabaseProblem(
            f"the folder {folder} is not writable by this process (SQLite writes its journal "
            "next to the database)"
        )
    if not file.exists():
        if need is Need.MIGRATED:
            raise DatabaseProblem(f"{file} does not exist; {MIGRATE_HINT}")
        return  # migrate creates it
    mode = file.stat().st_mode
    if not stat.S_ISREG(mode):
        raise DatabaseProblem(f"{file} is not a file")
    if not os.access(file, os.R_OK | os.W_OK):
        raise DatabaseProblem(f"{file} is not readable and writable by this process")
    uri = f"file:{quote(str(file.resolve()))}?mode=rw"
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=min(timeout_ms, 5000) / 1000)
    except sqlite3.Error as exc:
        raise DatabaseProblem(f"SQLite cannot open {file}: {exc}") from None
    try:
        connection.execute("PRAGMA schema_version").fetchone()
        if need is Need.MIGRATED:
            try:
                rows = connection.execute(
                    f"SELECT name FROM {MIGRATIONS_TABLE} WHERE app = ?", (MIGRATIONS_APP,)
                ).fetchall()
            except sqlite3.OperationalError as exc:
                if "no such table" not in str(exc):
                    raise
                rows = []
            _check_migrated({name for (name,) in rows})
    except sqlite3.DatabaseError as exc:
        raise DatabaseProblem(f"SQLite cannot use {file}: {exc}") from None
    finally:
        connection.close()


def _check_migrated(applied: set[str]) -> None:
    missing = sorted(committed_migrations() - applied)
    if not applied:
        raise DatabaseProblem(f"the database is not migrated; {MIGRATE_HINT}")
    if missing:
        raise DatabaseProblem(
            f"{len(missing)} migration(s) not applied (first: {missing[0]}); {MIGRATE_HINT}"
        )


async def _check_postgres(url: str, need: Need, timeout_ms: int) -> None:
    parts = urlsplit(url)
    where = f"{parts.hostname or 'localhost'}:{parts.port or 5432}"
    connect_seconds = min(CONNECT_SECONDS, timeout_ms / 1000)
    dsn = "postgresql://" + url[len("postgres://") :]
    try:
        async with asyncio.timeout(PREFLIGHT_SECONDS):
            connection = await asyncpg.connect(dsn, timeout=connect_seconds)
            try:
                if await connection.fetchval("SELECT pg_is_in_recovery()"):
                    raise DatabaseProblem(
                        f"PostgreSQL at {where} is a read-only standby; point it at the primary"
                    )
                if need is Need.MIGRATED:
                    exists = await connection.fetchval(
                        "SELECT to_regclass($1) IS NOT NULL", MIGRATIONS_TABLE
                    )
                    rows = []
                    if exists:
                        rows = await connection.fetch(
                            f"SELECT name FROM {MIGRATIONS_TABLE} WHERE app = $1", MIGRATIONS_APP
                        )
                    _check_migrated({row["name"] for row in rows})
            finally:
                await connection.close(timeout=1)
    except TimeoutError:
        raise DatabaseProblem(
            f"PostgreSQL at {where} did not answer within {connect_seconds:g} s"
        ) from None
    except socket.gaierror as exc:
        raise DatabaseProblem(f"cannot resolve the host {parts.hostname}: {exc.strerror}") from None
    except OSError as exc:
        raise DatabaseProblem(
            f"cannot connect to PostgreSQL at {where}: {exc.strerror or exc}"
        ) from None
    except asyncpg.InvalidCatalogNameError as exc:
        raise DatabaseProblem(f"PostgreSQL at {where}: {exc}; create it first") from None
    except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise DatabaseProblem(f"PostgreSQL at {where} refused: {exc}") from None
