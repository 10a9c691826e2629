"""Writing many rows of a table in a few statements: an import's thousands of recipients,
disclosures and audit events in a few round trips instead of one each. Each value is bound as
tortoise binds it for the same column, so that the ORM reads these rows back exactly as it reads
its own; ids are reserved ahead where other rows of the same write refer to them.

On PostgreSQL, one executemany of the one-row statement (asyncpg sends the rows in one
pipeline). On SQLite, one statement a table: the rows as one JSON array, bound as one text
value, which SQLite reads row by row (json_each). sqlite3 binds each value holding the GIL and
runs a statement without it; the database's thread runs a bulk write while the event loop
prepares the next rows, and a value bound at a time, four and a half million for the import
benchmark, kept the loop waiting for the GIL about a second in all."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

import orjson
from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.sqlite.client import SqliteTransactionWrapper
from tortoise.exceptions import IntegrityError
from tortoise.models import Model

from server.db.sql import sqlite_value
from server.db.sqlite_engine import run_in_one_call

M = TypeVar("M", bound=Model)


def _is_postgres(conn: BaseDBAsyncClient) -> bool:
    return conn.capabilities.dialect == "postgres"


async def reserve_ids(conn: BaseDBAsyncClient, model: type[Model], count: int) -> list[int]:
    """`count` ids of `model`'s table that no other row has or will get, in increasing order.
    `conn` is a transaction: on SQLite, which holds the write lock from its BEGIN IMMEDIATE to
    its end, the ids after the highest ever given (AUTOINCREMENT reuses none) stay free until
    it commits; PostgreSQL draws them from the table's sequence."""
    if count <= 0:
        return []
    table = model._meta.db_table
    if _is_postgres(conn):
        _, rows = await conn.execute_query(
            "SELECT nextval(pg_get_serial_sequence($1, 'id')) FROM generate_series(1, $2)",
            [table, count],
        )
        return sorted(int(row[0]) for row in rows)  # type: ignore[index]
    _, rows = await conn.execute_query(
        f'SELECT max(coalesce((SELECT max(id) FROM "{table}"), 0), '
        "coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?), 0))",
        [table],
    )
    first = int(rows[0][0]) + 1  # type: ignore[index]
    return list(range(first, first + count))


def _binder(field: fields.Field[Any], postgres: bool) -> Callable[[Any], Any] | None:
    """How a value of this field is bound, where the driver would not take it as it is (a
    member of a StrEnum is a str, its value, to both drivers)."""
    if isinstance(field, fields.data.CharEnumFieldInstance) and not issubclass(
        field.enum_type, str
    ):
        return _enum_value
    if not postgres and isinstance(field, fields.DatetimeField | fields.DateField):
        # A write's rows share a few moments (when it was recorded) and days: each converted
        # once.
        return functools.lru_cache(maxsize=4096)(sqlite_value)
    return None


def _enum_value(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


@dataclass(frozen=True)
class Insert:
    """One table's rows ready to insert: each statement with the values it binds (the rows'
    values in order, as the driver binds them), run in one executemany each. Preparing one is
    Python's work; running it is the database's, which a caller can let go on while it
    prepares the next."""

    statements: list[tuple[str, list[Any]]]
    rows: int


def rows_insert(
    conn: BaseDBAsyncClient,
    model: type[Model],
    field_names: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> Insert:
    """`rows` (values in the order of `field_names`, a foreign key by its `<name>_id`) for
    `model`'s table."""
    meta = model._meta
    postgres = _is_postgres(conn)
    columns = [meta.fields_db_projection[name] for name in field_names]
    binders = [(i, _binder(meta.fields_map[name], postgres)) for i, name in enumerate(field_names)]
    bound = [(i, binder) for i, binder in binders if binder is not None]
    names = ", ".join(f'"{column}"' for column in columns)
    head = f'INSERT INTO "{meta.db_table}" ({names}) '
    if postgres:
        # The drivers take any sequence as a row; tortoise's signature says lists.
        values: list[Any] = list(rows)
        if bound:
            converted: list[Any] = []
            for row in rows:
                items = list(row)
                for i, binder in bound:
                    items[i] = binder(items[i])
                converted.append(items)
            values = converted
        marks = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
        statements = [(f"{head}VALUES ({marks})", values)] if values else []
        return Insert(statements, len(values))
    # One statement of the rows as one JSON array bound as one value: sqlite3 binds values
    # holding the GIL, a few microseconds each, while SQLite reads the array without it (see
    # the module's docstring). Each row an array, its values in column order.
    picks = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(columns)))
    if bound and rows:
        by_column = list(zip(*rows, strict=True))
        for i, binder in bound:
            by_column[i] = tuple(map(binder, by_column[i]))
        rows = list(zip(*by_column, strict=True))
    statement = f"{head}SELECT {picks} FROM json_each(?) ORDER BY key"
    return Insert([(statement, [[orjson.dumps(rows).decode()]])] if rows else [], len(rows))


def models_insert(conn: BaseDBAsyncClient, model: type[M], instances: Sequence[M]) -> Insert:
    """Model instances not yet saved, each field's value as tortoise's save binds it (its
    to_db_value); the primary key when they have one set (a reserved id)."""
    meta = model._meta
    names = [
        name
        for name in meta.fields_db_projection
        if not (meta.fields_map[name].pk and instances and getattr(instances[0], name) is None)
    ]
    named = [(name, meta.fields_map[name]) for name in names]
    rows = [
        [field.to_db_value(getattr(instance, name), instance) for name, field in named]
        for instance in instances
    ]
    return rows_insert(conn, model, names, rows)


def fields_insert(
    conn: BaseDBAsyncClient, model: type[Model], rows: Sequence[Mapping[str, Any]]
) -> Insert:
    """Rows given by field name, as the model's constructor takes them, all with the same
    fields: what models_insert writes of the instances they make, without making them (an
    import writes thousands). Each value as the field converts it for the database (its
    to_db_value), a field the rows leave out as its default; the primary key when they give it
    (a reserved id)."""
    meta = model._meta
    given = rows[0].keys() if rows else set()
    named = [
        (name, meta.fields_map[name])
        for name in meta.fields_db_projection
        if name in given or not meta.fields_map[name].pk
    ]
    defaults = [(i, field) for i, (name, field) in enumerate(named) if name not in given]
    values = []
    for row in rows:
        items = [field.to_db_value(row.get(name), model) for name, field in named]
        for i, field in defaults:
            default = field.default() if callable(field.default) else field.default
            items[i] = field.to_db_value(default, model)
        values.append(items)
    return rows_insert(conn, model, [name for name, _ in named], values)


class InsertRefused(IntegrityError):
    """A constraint refused a row of one of `execute`'s inserts: `index` is that insert's place
    among them (an import tells a slug registered meanwhile, among its recipients, from a bug)."""

    def __init__(self, cause: IntegrityError, index: int) -> None:
        super().__init__(*cause.args)
        self.index = index


async def execute(conn: BaseDBAsyncClient, inserts: Sequence[Insert]) -> None:
    """Each insert's statements, in order (in a transaction on SQLite, all in one call of the
    database's thread, which goes on while the event loop prepares what comes next)."""
    statements = [
        (index, sql, values)
        for index, insert in enumerate(inserts)
        for sql, values in insert.statements
    ]
    reached = 0
    try:
        if isinstance(conn, SqliteTransactionWrapper):

            def run_all(connection: sqlite3.Connection) -> None:
                nonlocal reached
                for index, sql, values in statements:
                    reached = index
                    connection.executemany(sql, values)

            await run_in_one_call(conn, run_all)
            return
        for index, sql, values in statements:
            reached = index
            await conn.execute_many(sql, values)
    except IntegrityError as exc:
        raise InsertRefused(exc, reached) from exc


async def insert_rows(
    conn: BaseDBAsyncClient,
    model: type[Model],
    field_names: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> None:
    """Insert `rows` into `model`'s table (see rows_insert)."""
    await execute(conn, [rows_insert(conn, model, field_names, rows)])
