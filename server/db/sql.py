"""Hand-written SQL for the hot read paths, in the two dialects we run on.

Tortoise's query builder cost 1.3-2.2x raw SQL on these paths when measured; the few queries
behind a subject's report are written once here, with parameters always bound, never formatted in.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any, cast

import orjson
from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient

from server.db.errors import DatabaseUnavailable
from server.db.sqlite_engine import ImmediateSqliteClient


class Statement:
    """Builds one statement's text and its bound values for the connection's dialect."""

    def __init__(self, connection: BaseDBAsyncClient) -> None:
        self.postgres = connection.capabilities.dialect == "postgres"
        self.values: list[Any] = []

    def param(self, value: Any) -> str:
        if not self.postgres:
            value = sqlite_value(value)
        self.values.append(value)
        return f"${len(self.values)}" if self.postgres else "?"

    def is_in(self, column: str, items: Sequence[Any]) -> str:
        """`column` is one of `items`, bound as one parameter whatever their number."""
        if not items:
            return "1 = 0"
        if self.postgres:
            return f"{column} = ANY({self.param(list(items))})"
        as_json = orjson.dumps(list(items)).decode()
        return f"{column} IN (SELECT value FROM json_each({self.param(as_json)}))"


class NotRead:
    """What a row holds for a column its read left out (a page reads only the columns the
    fields it shows read). No field may show it: used as a value it fails loudly, as text,
    number, date or enum a GraphQL error, and it is neither true nor false."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_READ"

    def __bool__(self) -> bool:
        raise LookupError("a column this read left out")


NOT_READ: Any = NotRead()


def sqlite_datetime(moment: datetime) -> str:
    """The text tortoise stores in SQLite, so that comparisons order correctly."""
    return str(moment.astimezone(UTC))


def sqlite_value(value: Any) -> Any:
    """A value bound as SQLite holds it where tortoise writes it: a moment as tortoise's text, a
    day in ISO 8601; anything else as it is."""
    if isinstance(value, datetime):
        return sqlite_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def to_date(value: Any) -> date | None:
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    return date.fromisoformat(value)


def to_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def connection() -> BaseDBAsyncClient:
    return Tortoise.get_connection("default")


async def write_unless_busy(conn: BaseDBAsyncClient, statement: Statement, text: str) -> bool:
    """Run a write that may be skipped (bookkeeping) at once, or not at all while another
    process holds SQLite's write lock: False then. Outside a transaction, SQLite's own busy
    handler would wait for the lock holding the process's one connection, and every request of
    the process with it. PostgreSQL writes it as any statement."""
    if not isinstance(conn, ImmediateSqliteClient):
        await conn.execute_query(text, statement.values)
        return True
    try:
        async with conn.transaction(wait_ms=0) as transaction:
            await transaction.execute_query(text, statement.values)
    except DatabaseUnavailable:
        return False
    return True


async def fetch(
    conn: BaseDBAsyncClient, statement: Statement, text: str
) -> Iterable[Sequence[Any]]:
    _, rows = await conn.execute_query(text, statement.values)
    # Tortoise types these rows as dicts; they are the driver's own (sqlite3.Row,
    # asyncpg.Record), read by position here.
    return cast(Iterable[Sequence[Any]], rows)


# A read converts this many rows between turns of the event loop (see in_turns).
ROWS_PER_TURN = 2048


async def in_turns(rows: Iterable[Sequence[Any]]) -> AsyncIterator[Sequence[Sequence[Any]]]:
    """The rows in chunks of ROWS_PER_TURN, handing the event loop back between chunks: a large
    read (a whole category's disclosures, tens of thousands of rows) does not hold every other
    request up while it is converted. A read of fewer rows is one chunk, with no pause."""
    listed = rows if isinstance(rows, list) else list(rows)
    if len(listed) <= ROWS_PER_TURN:
        yield listed
        return
    for start in range(0, len(listed), ROWS_PER_TURN):
        if start:
            await asyncio.sleep(0)
        yield listed[start : start + ROWS_PER_TURN]
