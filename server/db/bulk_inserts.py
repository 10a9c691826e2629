"""Writing many rows of a table in one statement (executemany): an import's thousands of
recipients, disclosures and audit events in a few round trips instead of one each. Each value is
bound as tortoise binds it for the same column, so that the ORM reads these rows back exactly as
it reads its own; ids are reserved ahead where other rows of the same write refer to them."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any

from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

from server.db.sql import sqlite_value


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
    if not postgres and isinstance(field, fields.DatetimeField):
        # A write's rows share a few moments (when it was recorded): each converted once.
        return functools.lru_cache(maxsize=64)(sqlite_value)
    if not postgres and isinstance(field, fields.DateField):
        return sqlite_value
    return None


def _enum_value(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


async def insert_rows(
    conn: BaseDBAsyncClient,
    model: type[Model],
    field_names: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> None:
    """Insert `rows` (values in the order of `field_names`, a foreign key by its `<name>_id`)
    into `model`'s table in one executemany."""
    if not rows:
        return
    meta = model._meta
    postgres = _is_postgres(conn)
    columns = [meta.fields_db_projection[name] for name in field_names]
    binders = [(i, _binder(meta.fields_map[name], postgres)) for i, name in enumerate(field_names)]
    bound = [(i, binder) for i, binder in binders if binder is not None]
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
    marks = ", ".join(f"${i}" if postgres else "?" for i in range(1, len(columns) + 1))
    names = ", ".join(f'"{column}"' for column in columns)
    await conn.execute_many(f'INSERT INTO "{meta.db_table}" ({names}) VALUES ({marks})', values)
