"""The inventory's tables as a backup sees them, read from the tortoise models, and their rows:
read page by page from one snapshot, and written back with their ids. What is carried and why is
server/domain/backup.py's; here only how each database stores it.

Rows are read with hand-written SQL (server/db/sql.py), not through the models: building a model
object per row cost several times the read itself, and a backup reads every row there is.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import date, datetime
from typing import Any

import orjson
from tortoise import Tortoise, fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from server.db import sql
from server.db.preflight import MIGRATIONS_APP, MIGRATIONS_TABLE
from server.db.sqlite_engine import ImmediateSqliteClient
from server.domain.backup import BackupDesignError, Column, ColumnKind, Table

# Each field class of the models, by how its values are carried; a subclass before its base.
# A field of any other class stops the backup (BackupDesignError) until it is given a kind here.
FIELD_KINDS: tuple[tuple[type[fields.Field[Any]], ColumnKind], ...] = (
    (fields.BooleanField, ColumnKind.BOOLEAN),
    (fields.DatetimeField, ColumnKind.DATETIME),
    (fields.DateField, ColumnKind.DATE),
    (fields.JSONField, ColumnKind.JSON),
    (fields.IntField, ColumnKind.INTEGER),  # SmallIntField and BigIntField too
    (fields.CharField, ColumnKind.TEXT),  # CharEnumField too
    (fields.TextField, ColumnKind.TEXT),
)
# Rows read by one statement: a page of the largest table is a few megabytes.
PAGE_ROWS = 10_000
MODELS_APP = "models"


def _kind(table: str, column: str, field: fields.Field[Any]) -> ColumnKind:
    for field_class, kind in FIELD_KINDS:
        if isinstance(field, field_class):
            return kind
    raise BackupDesignError(
        f"{table}.{column} is a {type(field).__name__}, which a backup cannot carry yet: give "
        "its class a kind in server/db/backup.py FIELD_KINDS, or exclude it with a reason in "
        "server/domain/backup.py"
    )


def model_tables() -> list[Table]:
    """Every model's table with its columns, as tortoise declares them (tortoise initialised)."""
    tables: list[Table] = []
    for model in Tortoise.apps[MODELS_APP].values():
        meta = model._meta
        if meta.m2m_fields:
            raise BackupDesignError(
                f"{meta.db_table} has an implicit many-to-many table, which is no model: "
                "declare the link as a model (as server/db/models.py does)"
            )
        references: dict[str, str] = {}
        for name in (*meta.fk_fields, *meta.o2o_fields):
            relation = meta.fields_map[name]
            references[relation.source_field] = relation.related_model._meta.db_table  # type: ignore[attr-defined]
        columns = tuple(
            Column(
                name=column,
                kind=_kind(meta.db_table, column, meta.fields_map[name]),
                references=references.get(name),
            )
            for name, column in meta.fields_db_projection.items()
        )
        key = meta.pk
        tables.append(
            Table(
                name=meta.db_table,
                key=meta.db_pk_column,
                columns=columns,
                numbered=isinstance(key, fields.IntField) and bool(key.generated),
            )
        )
    return tables


def _quoted(name: str) -> str:
    return f'"{name}"'


def dialect(conn: BaseDBAsyncClient) -> str:
    return "postgres" if conn.capabilities.dialect == "postgres" else "sqlite"


@contextlib.asynccontextmanager
async def snapshot() -> AsyncIterator[BaseDBAsyncClient]:
    """One view of every table for a whole backup, taken without holding writers up: a
    read-only REPEATABLE READ transaction on PostgreSQL, a deferred read transaction on SQLite
    (server/db/sqlite_engine.py). A row written meanwhile is in the backup whole or not at all,
    and never points at a row the backup lacks."""
    conn = sql.connection()
    if isinstance(conn, ImmediateSqliteClient):
        async with conn.read_snapshot() as reading:
            yield reading
        return
    async with in_transaction() as reading:
        await reading.execute_script("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield reading


async def applied_migrations(conn: BaseDBAsyncClient) -> list[str]:
    st = sql.Statement(conn)
    rows = await sql.fetch(
        conn,
        st,
        f"SELECT name FROM {MIGRATIONS_TABLE} WHERE app = {st.param(MIGRATIONS_APP)}",
    )
    return [str(row[0]) for row in rows]


def _sqlite_moment(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _readers(table: Table, postgres: bool) -> list[tuple[int, Callable[[Any], Any]]]:
    """The columns whose stored value is not yet the backup's, with what converts it: JSON
    is kept as text by both databases, and SQLite keeps moments as text and booleans as 0 and 1.
    Dates SQLite keeps as "YYYY-MM-DD" already; PostgreSQL's dates and moments orjson writes
    as the backup does."""
    converting: list[tuple[int, Callable[[Any], Any]]] = []
    for position, column in enumerate(table.columns):
        if column.kind is ColumnKind.JSON:
            converting.append((position, orjson.loads))
        elif not postgres and column.kind is ColumnKind.DATETIME:
            converting.append((position, _sqlite_moment))
        elif not postgres and column.kind is ColumnKind.BOOLEAN:
            converting.append((position, bool))
    return converting


def _convert(rows: Sequence[list[Any]], converting: list[tuple[int, Callable[[Any], Any]]]) -> None:
    """Convert, in place, the values at the positions `converting` names; None stays None."""
    if not converting:
        return
    for values in rows:
        for position, convert in converting:
            value = values[position]
            if value is not None:
                values[position] = convert(value)


def select_all(table: Table) -> str:
    """The statement that reads a table's carried columns, without order or page."""
    listed = ", ".join(_quoted(c.name) for c in table.columns)
    return f"SELECT {listed} FROM {_quoted(table.name)}"


async def read_pages(
    conn: BaseDBAsyncClient,
    table: Table,
    where: tuple[str, str] | None = None,
    page_rows: int = PAGE_ROWS,
) -> AsyncIterator[list[list[Any]]]:
    """The table's rows in key order, a page at a time (by key, so each page is an index range
    whatever the size of the table), each row a list of the backup's values: JSON values,
    datetimes and dates as orjson writes them. `where` is (column, value): only those rows."""
    converting = _readers(table, conn.capabilities.dialect == "postgres")
    key = table.key_position()
    last: Any = None
    while True:
        st = sql.Statement(conn)
        conditions = []
        if where is not None:
            conditions.append(f"{_quoted(where[0])} = {st.param(where[1])}")
        if last is not None:
            conditions.append(f"{_quoted(table.key)} > {st.param(last)}")
        text = select_all(table)
        if conditions:
            text += " WHERE " + " AND ".join(conditions)
        text += f" ORDER BY {_quoted(table.key)} LIMIT {int(page_rows)}"
        rows = list(await sql.fetch(conn, st, text))
        if not rows:
            return
        last = rows[-1][key]
        page = [list(row) for row in rows]
        _convert(page, converting)
        yield page
        if len(rows) < page_rows:
            return


async def count_rows(
    conn: BaseDBAsyncClient, table: str, unless: tuple[str, str] | None = None
) -> int:
    """The table's rows, but those whose `unless` column holds its value."""
    st = sql.Statement(conn)
    text = f"SELECT count(*) FROM {_quoted(table)}"
    if unless is not None:
        text += f" WHERE {_quoted(unless[0])} <> {st.param(unless[1])}"
    rows = list(await sql.fetch(conn, st, text))
    return int(rows[0][0])


async def keys_of(conn: BaseDBAsyncClient, table: Table) -> set[Any]:
    st = sql.Statement(conn)
    rows = await sql.fetch(conn, st, f"SELECT {_quoted(table.key)} FROM {_quoted(table.name)}")
    return {row[0] for row in rows}


async def largest_key(conn: BaseDBAsyncClient, table: Table) -> int:
    st = sql.Statement(conn)
    text = f"SELECT max({_quoted(table.key)}) FROM {_quoted(table.name)}"
    rows = list(await sql.fetch(conn, st, text))
    return int(rows[0][0] or 0)


async def delete_rows(conn: BaseDBAsyncClient, table: Table, where: tuple[str, str] | None) -> None:
    st = sql.Statement(conn)
    text = f"DELETE FROM {_quoted(table.name)}"
    if where is not None:
        text += f" WHERE {_quoted(where[0])} = {st.param(where[1])}"
    await conn.execute_query(text, st.values)


def _sqlite_param(kind: ColumnKind) -> Callable[[Any], Any] | None:
    if kind is ColumnKind.DATETIME:
        return sql.sqlite_datetime
    if kind is ColumnKind.DATE:
        return date.isoformat
    if kind is ColumnKind.JSON:
        return _json_text
    return None


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def _writers(table: Table, postgres: bool) -> list[tuple[int, Callable[[Any], Any]]]:
    converting: list[tuple[int, Callable[[Any], Any]]] = []
    for position, column in enumerate(table.columns):
        convert = (
            (_json_text if column.kind is ColumnKind.JSON else None)
            if postgres
            else _sqlite_param(column.kind)
        )
        if convert is not None:
            converting.append((position, convert))
    return converting


def _marks(conn: BaseDBAsyncClient, count: int) -> str:
    if conn.capabilities.dialect == "postgres":
        return ", ".join(f"${i}" for i in range(1, count + 1))
    return ", ".join("?" for _ in range(count))


async def insert_rows(
    conn: BaseDBAsyncClient, table: Table, rows: Sequence[list[Any]], merge: bool = False
) -> None:
    """Write rows as they are, ids included. `rows` hold Python values (int, str, bool, date,
    aware datetime, JSON values) in the table's column order. With `merge`, a row whose key is
    there already replaces it."""
    if not rows:
        return
    _convert(rows, _writers(table, conn.capabilities.dialect == "postgres"))
    listed = ", ".join(_quoted(c.name) for c in table.columns)
    text = (
        f"INSERT INTO {_quoted(table.name)} ({listed}) VALUES ({_marks(conn, len(table.columns))})"
    )
    if merge:
        updates = ", ".join(
            f"{_quoted(c.name)} = excluded.{_quoted(c.name)}"
            for c in table.columns
            if c.name != table.key
        )
        text += f" ON CONFLICT ({_quoted(table.key)}) DO UPDATE SET {updates}"
    await conn.execute_many(text, [list(values) for values in rows])


async def set_column(
    conn: BaseDBAsyncClient, table: Table, column: Column, pairs: Sequence[tuple[Any, Any]]
) -> None:
    """Set one column of rows given by key: (key, value) pairs."""
    if not pairs:
        return
    postgres = conn.capabilities.dialect == "postgres"
    marks = ("$1", "$2") if postgres else ("?", "?")
    text = (
        f"UPDATE {_quoted(table.name)} SET {_quoted(column.name)} = {marks[0]} "
        f"WHERE {_quoted(table.key)} = {marks[1]}"
    )
    await conn.execute_many(text, [[value, key] for key, value in pairs])


async def reset_numbering(conn: BaseDBAsyncClient, tables: Sequence[Table]) -> None:
    """After rows written with their ids, the next id of each numbered table follows the
    largest: PostgreSQL's sequences are set; SQLite numbers from the largest id by itself."""
    if conn.capabilities.dialect != "postgres":
        return
    for table in tables:
        if not table.numbered:
            continue
        key, name = _quoted(table.key), _quoted(table.name)
        st = sql.Statement(conn)
        await sql.fetch(
            conn,
            st,
            f"SELECT setval(pg_get_serial_sequence({st.param(table.name)}, "
            f"{st.param(table.key)}), COALESCE(max({key}), 0) + 1, false) FROM {name}",
        )
