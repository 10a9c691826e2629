"""Which exceptions mean "the database is unavailable" (a 503 to retry, not a bug), and the
warning logged for them once per interval (server/db/errors.py)."""

from __future__ import annotations

import logging
import sqlite3

import asyncpg
import pytest
from asyncpg.exceptions import _base as asyncpg_base
from tortoise.exceptions import (
    DBConnectionError,
    IntegrityError,
    OperationalError,
    TransactionManagementError,
)

from server.db import errors
from server.db.errors import DatabaseUnavailable, OncePerInterval, is_unavailable


def raised_from(outer: type[Exception], inner: BaseException) -> Exception:
    """`outer(inner)` raised while handling `inner`, as tortoise's translate_exceptions does."""
    try:
        try:
            raise inner
        except BaseException as exc:
            raise outer(exc)  # noqa: B904 - tortoise raises without `from`
    except Exception as wrapped:
        return wrapped


@pytest.mark.parametrize(
    "exc",
    [
        DatabaseUnavailable("write lock held"),
        sqlite3.OperationalError("database is locked"),
        sqlite3.OperationalError("unable to open database file"),
        raised_from(OperationalError, sqlite3.OperationalError("database is locked")),
        raised_from(TransactionManagementError, sqlite3.OperationalError("database is locked")),
        TransactionManagementError(sqlite3.OperationalError("database is locked")),
        DBConnectionError("Can't establish connection to database inventory"),
        ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 1)"),
        OSError("Multiple exceptions: [Errno 111] Connect call failed ('::1', 1, 0, 0)"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.LockNotAvailableError("canceling statement due to lock timeout"),
        asyncpg_base.InterfaceError("connection is closed"),
        asyncpg_base.InternalClientError(
            "cannot switch to state 12; another operation (2) is in progress"
        ),
        raised_from(RuntimeError, ConnectionResetError("reset by peer")),
    ],
    ids=repr,
)
def test_unavailable(exc: BaseException) -> None:
    assert is_unavailable(exc)


@pytest.mark.parametrize(
    "exc",
    [
        None,
        RuntimeError("boom"),
        sqlite3.OperationalError("no such table: recipient"),
        raised_from(OperationalError, sqlite3.OperationalError("near 'x': syntax error")),
        IntegrityError("UNIQUE constraint failed: recipient.slug"),
        TransactionManagementError("Transaction already finalised"),
        asyncpg.UniqueViolationError("duplicate key value"),
        asyncpg_base.InterfaceError("cannot perform operation: another operation is in progress"),
        # A timeout is not the database's unless an engine says so (it raises
        # DatabaseUnavailable for its own connection timeouts).
        TimeoutError(),
        RecursionError(),
    ],
    ids=repr,
)
def test_not_unavailable(exc: BaseException | None) -> None:
    assert not is_unavailable(exc)


def test_a_cycle_of_causes_ends() -> None:
    first = RuntimeError("first")
    second = RuntimeError("second")
    first.__context__ = second
    second.__context__ = first
    assert not is_unavailable(first)


def test_one_warning_per_interval_then_the_count_of_those_left_out(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(errors.time, "monotonic", lambda: now[0])
    logger = logging.getLogger("tests.once")
    once = OncePerInterval(logger, 30.0)
    with caplog.at_level(logging.WARNING, logger="tests.once"):
        assert once.warn("database unavailable", "refused")
        for _ in range(679):
            now[0] += 0.01
            assert not once.warn("database unavailable", "refused")
        now[0] = 1030.0
        assert once.warn("database unavailable", "refused again")
    records = [r for r in caplog.records if r.name == "tests.once"]
    assert [(r.levelname, r.getMessage()) for r in records] == [
        ("WARNING", "database unavailable"),
        ("WARNING", "database unavailable"),
    ]
    assert [(r.detail, r.suppressed) for r in records] == [  # type: ignore[attr-defined]
        ("refused", 0),
        ("refused again", 679),
    ]
    assert all(r.exc_info is None for r in records)


def test_the_warning_names_the_cause_without_a_stack(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(errors, "_warnings", OncePerInterval(errors.log, 30.0))
    with caplog.at_level(logging.WARNING, logger="server.db"):
        errors.note_unavailable(
            raised_from(OperationalError, sqlite3.OperationalError("database is locked"))
        )
    [record] = [r for r in caplog.records if r.name == "server.db"]
    assert record.detail == (  # type: ignore[attr-defined]
        "tortoise.exceptions.OperationalError: database is locked"
        " <- sqlite3.OperationalError: database is locked"
    )
    assert record.exc_info is None
