"""When the database cannot answer: which exceptions mean that, and one warning per interval.

A lock held too long by another process, a file that cannot be opened, a refused or lost
connection: none of these is a bug in the request, and the same request may well succeed a
moment later. The API answers them with 503 and Retry-After instead of an internal error, and
the log says so once per interval instead of once per request (with PostgreSQL down, one stack
trace per request made 680 of them in 8 s)."""

from __future__ import annotations

import logging
import re
import sqlite3
import time

import asyncpg
from asyncpg.exceptions import _base as asyncpg_base
from tortoise.exceptions import DBConnectionError

log = logging.getLogger("server.db")

# Seconds a client is asked to wait before it tries again.
RETRY_AFTER_SECONDS = 1
# At most one warning per this many seconds; the next one counts the repeats it left out.
WARNING_INTERVAL_SECONDS = 30.0

# What SQLite says when another process holds the lock past the busy timeout, or the file is
# out of reach.
_SQLITE_UNAVAILABLE = ("database is locked", "unable to open database")
# SQLite's primary result codes for a file it can no longer open, write (read-only, or moved
# away while open: SQLITE_READONLY_DBMOVED) or read.
SQLITE_OUT_OF_REACH = frozenset(
    {sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR}
)
_BROKEN_PROTOCOL = re.compile(r"another operation \(2\) is in progress|\"failed\" state")
_UNAVAILABLE_TYPES = (
    asyncpg.PostgresConnectionError,  # class 08: the connection failed or was lost
    asyncpg.CannotConnectNowError,  # the server is starting up or shutting down
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    asyncpg.LockNotAvailableError,  # lock_timeout passed
)


class DatabaseUnavailable(Exception):
    """The database did not answer in time, or could not be reached: try again later."""


def _unavailable_here(exc: BaseException) -> bool:
    if isinstance(exc, (DatabaseUnavailable, DBConnectionError, *_UNAVAILABLE_TYPES)):
        return True
    if isinstance(exc, sqlite3.OperationalError):
        message = str(exc).lower()
        return any(text in message for text in _SQLITE_UNAVAILABLE) or sqlite_out_of_reach(exc)
    if isinstance(exc, asyncpg_base.InterfaceError):
        return "closed" in str(exc)  # "connection is closed", "pool is closed"
    if isinstance(exc, asyncpg_base.InternalClientError):
        # An idle connection the server ended (pg_terminate_backend, a restart) before asyncpg
        # saw it close: its protocol is still consuming the server's error (state 2), or failed.
        return bool(_BROKEN_PROTOCOL.search(str(exc)))
    # A refused, reset or unreachable connection. Not a bare timeout: the engines turn their
    # own connection timeouts into DatabaseUnavailable, and other timeouts are not ours to judge.
    return isinstance(exc, OSError) and not isinstance(exc, TimeoutError)


def sqlite_out_of_reach(exc: sqlite3.Error) -> bool:
    return (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in SQLITE_OUT_OF_REACH


def is_unavailable(exc: BaseException | None) -> bool:
    """Whether `exc`, or an exception it was raised from or wraps (tortoise re-raises driver
    errors as its own OperationalError, TransactionManagementError or DBConnectionError, with
    the driver's error as argument, cause or context), means the database is unavailable."""
    pending: list[BaseException] = [exc] if exc is not None else []
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if _unavailable_here(current):
            return True
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
        pending.extend(a for a in current.args if isinstance(a, BaseException))
    return False


class OncePerInterval:
    """Logs a warning at most once per `interval` seconds; the next warning after a quiet spell
    says how many it left out."""

    def __init__(self, logger: logging.Logger, interval: float) -> None:
        self.logger = logger
        self.interval = interval
        self.next_at = float("-inf")
        self.suppressed = 0

    def warn(self, message: str, detail: object) -> bool:
        """True when this call logged."""
        now = time.monotonic()
        if now < self.next_at:
            self.suppressed += 1
            return False
        self.logger.warning(
            message,
            extra={
                "detail": str(detail)[:500],
                "suppressed": self.suppressed,
                "interval_s": self.interval,
            },
        )
        self.next_at = now + self.interval
        self.suppressed = 0
        return True


_warnings = OncePerInterval(log, WARNING_INTERVAL_SECONDS)


def note_unavailable(exc: BaseException | None) -> None:
    """Record that a request found the database unavailable: one warning per interval, no
    stack (the cause is outside the process; a stack per request only buries it)."""
    _warnings.warn("database unavailable", _describe(exc))


def _describe(exc: BaseException | None) -> str:
    parts: list[str] = []
    current = exc
    while current is not None and len(parts) < 4:
        kind = type(current)
        name = (
            kind.__qualname__
            if kind.__module__ == "builtins"
            else f"{kind.__module__}.{kind.__qualname__}"
        )
        text = f"{name}: {current}"
        if text not in parts:
            parts.append(text)
        current = current.__cause__ or current.__context__
    return " <- ".join(parts) or "no answer in time"
