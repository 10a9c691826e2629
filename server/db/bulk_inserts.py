"""Writing many rows of a table in a few statements: an import's thousands of recipients,
disclosures and audit events in a few round trips instead of one each. Each value is bound as
tortoise binds it for the same column, so that the ORM reads these rows back exactly as it reads
its own; ids are reserved ahead where other rows of the same write refer to them.

On PostgreSQL, one executemany of the one-row statement (asyncpg sends the rows in one
pipeline). On SQLite, statements of many rows each (a VALUES list as long as SQLite's limit on
bound values allows), in one executemany: sqlite3 binds a statement's values holding the GIL,
and runs it without, so that a statement per row makes the database's thread wait for the GIL
once a row while the event loop prepares the next rows, and a statement of thousands of rows
lets both work at once (the import benchmark's rows alone go in about 0.8 of the time)."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.sqlite.client import SqliteTransactionWrapper
from tortoise.models import Model

from server.db.sql import sqlite_value
from server.db.sqlite_engine import execute_in_one_call

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


# The most values SQLite binds in one statement (SQLITE_MAX_VARIABLE_NUMBER since 3.32).
SQLITE_VALUES_MAX = 32_766


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
    head = f'INSERT INTO "{meta.db_table}" ({names}) VALUES '
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
        statements = [(f"{head}({marks})", values)] if values else []
        return Insert(statements, len(values))
    width = len(columns)
    row_marks = f"({', '.join('?' * width)})"
    statements = []
    start = 0
    for size in _statement_rows(len(rows), max(1, SQLITE_VALUES_MAX // width)):
        part = rows[start : start + size]
        start += size
        flat = list(itertools.chain.from_iterable(part))
        # A column's values converted together: every width-th value from its first.
        for i, binder in bound:
            flat[i::width] = map(binder, flat[i::width])
        if statements and len(statements[-1][1][0]) == len(flat):
            statements[-1][1].append(flat)
        else:
            statements.append((head + ", ".join(itertools.repeat(row_marks, size)), [flat]))
    return Insert(statements, len(rows))


def _statement_rows(count: int, most: int) -> list[int]:
    """How many rows each statement of `count` rows takes: `most` each, the rest in powers of
    two, largest first. sqlite3 keeps the last 128 statements it prepared, each taking about
    100 bytes a value: a table's statements are of a few sizes, each prepared once for a whole
    import (a statement for each chunk's rest took 170 MB more at the import benchmark's peak)."""
    sizes = [most] * (count // most)
    rest = count % most
    while rest:
        size = 1 << (rest.bit_length() - 1)
        sizes.append(size)
        rest -= size
    return sizes


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


async def execute(conn: BaseDBAsyncClient, inserts: Sequence[Insert]) -> None:
    """Each insert's statements, in order (in a transaction on SQLite, all in one call of the
    database's thread)."""
    statements = [statement for insert in inserts for statement in insert.statements]
    if isinstance(conn, SqliteTransactionWrapper):
        await execute_in_one_call(conn, statements)
        return
    for sql, values in statements:
        await conn.execute_many(sql, values)


async def insert_rows(
    conn: BaseDBAsyncClient,
    model: type[Model],
    field_names: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> None:
    """Insert `rows` into `model`'s table (see rows_insert)."""
    await execute(conn, [rows_insert(conn, model, field_names, rows)])
