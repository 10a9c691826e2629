"""What a backup carries, in what form, and when a restore is refused.

GDPR Art. 32(1)(c) asks for "the ability to restore the availability and access to personal
data in a timely manner in the event of a physical or technical incident", and Art. 5(2) and 30
for a record that can be shown with its past: so a backup carries every table of the inventory,
histories and audit log included, row for row with the same ids (GraphQL's global ids are made
of them), and a restore gives back an inventory whose every report at every past moment is the
same. What it never carries is a credential (Art. 32(1)(b)): keys come back with their names and
roles but not their token hashes, so no token issued before can open the restored inventory.

The tables are the models' (server/db/backup.py reads them), carried in foreign-key order unless
listed in EXCLUDED_TABLES with a reason, so a table added later is carried without a change
here. The format is JSON Lines, described in docs/backup.md: a header line, then for each table
a line naming its columns followed by one JSON array per row, then an end line with the row
counts, which tells a complete file from a cut one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

FORMAT = "recipient-inventory-backup"
# Raised when a backup written by this release could not be read the same way by an older one.
FORMAT_VERSION = 1

# Tables never carried, each with the reason. None today: every model holds the inventory, its
# history or its audit log. (The migration log, tortoise_migrations, is no model: the database
# restored into keeps its own, and schema_problem makes sure it is the same.)
EXCLUDED_TABLES: Mapping[str, str] = {}

# A restored key's token hash starts with this: a sha256 digest is 64 hex digits, so no token
# hashes to it, and the key cannot authenticate until `keys reissue` gives it a new token.
RESTORED_HASH_PREFIX = "restored:"
HEX_DIGITS = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class Withheld:
    """A column never carried: why, and what a restore writes in it instead, from the row's
    key."""

    reason: str
    restored: Callable[[Any], Any]


def restored_token_hash(key_id: Any) -> str:
    """What a restored key stores instead of its token's hash: unique (the column is), and
    never a sha256 hex digest, so no token authenticates as the key until one is reissued."""
    return f"{RESTORED_HASH_PREFIX}{key_id}"


# Columns never carried, by (table, column).
EXCLUDED_COLUMNS: Mapping[tuple[str, str], Withheld] = {
    ("api_key", "token_hash"): Withheld(
        reason=(
            "a token's hash is a credential (Art. 32(1)(b)): restored, every token issued for "
            "the old database, a leaked one included, would open the restored one; and a backup "
            "travels further than the database it came from"
        ),
        restored=restored_token_hash,
    ),
}

# Tables that `migrate` fills before any restore (the release's taxonomy): the restore merges
# their rows by key, the backup's terms winning for the keys it holds.
MERGED_TABLES: Mapping[str, str] = {
    "data_category": "the taxonomy migrate installs",
    "purpose": "the taxonomy migrate installs",
    "subject_type": "the taxonomy migrate installs",
}

# Rows a database may hold and still take a restore: its API keys (`make run` and
# ADMIN_TOKEN_FILE create one before anyone could restore) and the audit events about them,
# those whose (column, value) is KEY_EVENTS. They are kept, working, and numbered after the
# backup's rows so that the backup's own keep their ids.
KEY_TABLE = "api_key"
EVENTS_TABLE = "audit_event"
KEY_EVENTS = ("entity_type", "ApiKey")

# The audit event a restore adds, about the restore itself (no entity of its own, as an import).
RESTORE_ACTION = "restoreBackup"
RESTORE_ENTITY = "Backup"


class BackupRefused(Exception):
    """A backup that cannot be restored here, or a database that cannot take it: one line."""


class BackupDesignError(Exception):
    """The models cannot be carried as they are (a column of an unknown kind, a cycle, a
    carried table pointing at an excluded one): a developer's error, found by the tests."""


class ColumnKind(StrEnum):
    """How a column's value is written in a backup: the same JSON on every database."""

    INTEGER = "integer"  # a JSON number
    TEXT = "text"  # a JSON string
    BOOLEAN = "boolean"  # true or false
    DATE = "date"  # "YYYY-MM-DD"
    DATETIME = "datetime"  # ISO 8601 with its offset, always +00:00
    JSON = "json"  # the JSON value itself, not its text


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColumnKind
    references: str | None = None  # the table a foreign key points to


@dataclass(frozen=True)
class Table:
    name: str
    key: str  # the primary key's column
    columns: tuple[Column, ...]
    numbered: bool = False  # the database numbers its keys (a sequence on PostgreSQL)

    def self_references(self) -> tuple[int, ...]:
        """The positions of the columns that point at the table itself (a subprocessor's
        engaging recipient, a term's parent)."""
        return tuple(i for i, c in enumerate(self.columns) if c.references == self.name)

    def key_position(self) -> int:
        return [c.name for c in self.columns].index(self.key)

    def described(self) -> dict[str, Any]:
        """The line that opens the table's rows in a backup."""
        columns: list[dict[str, str]] = []
        for c in self.columns:
            column = {"name": c.name, "kind": c.kind.value}
            if c.references:
                column["references"] = c.references
            columns.append(column)
        return {"table": self.name, "key": self.key, "columns": columns}


def foreign_key_order(tables: Sequence[Table]) -> list[Table]:
    """Every table after the tables it points at, ties by name, so that a restore never
    writes a row before the row it references. A table may point at itself (the restore
    orders those rows); a longer cycle cannot be restored and is a design error."""
    by_name = {t.name: t for t in tables}
    needs: dict[str, set[str]] = {}
    for table in tables:
        needs[table.name] = set()
        for column in table.columns:
            target = column.references
            if target is None or target == table.name:
                continue
            if target not in by_name:
                raise BackupDesignError(
                    f"{table.name}.{column.name} points at {target}, which is not carried"
                )
            needs[table.name].add(target)
    ordered: list[Table] = []
    placed: set[str] = set()
    while len(ordered) < len(tables):
        ready = sorted(n for n in needs if n not in placed and needs[n] <= placed)
        if not ready:
            stuck = sorted(n for n in needs if n not in placed)
            raise BackupDesignError(f"the tables {', '.join(stuck)} point at each other")
        for name in ready:
            ordered.append(by_name[name])
            placed.add(name)
    return ordered


def carried_tables(tables: Sequence[Table]) -> list[Table]:
    """The tables a backup carries, in foreign-key order, without the excluded tables and
    columns. An exclusion that names nothing is a design error too: a rename would silently
    start carrying what was meant to stay out."""
    names = {t.name for t in tables}
    for table_name in EXCLUDED_TABLES:
        if table_name not in names:
            raise BackupDesignError(f"EXCLUDED_TABLES names {table_name}, which is no table")
    columns = {(t.name, c.name) for t in tables for c in t.columns}
    for pair in EXCLUDED_COLUMNS:
        if pair not in columns:
            raise BackupDesignError(f"EXCLUDED_COLUMNS names {'.'.join(pair)}, which is no column")
    kept = [
        Table(
            name=t.name,
            key=t.key,
            columns=tuple(c for c in t.columns if (t.name, c.name) not in EXCLUDED_COLUMNS),
            numbered=t.numbered,
        )
        for t in tables
        if t.name not in EXCLUDED_TABLES
    ]
    for table in kept:
        if table.key not in {c.name for c in table.columns}:
            raise BackupDesignError(f"{table.name}: its key {table.key} is excluded")
    return foreign_key_order(kept)


def restored_table(table: Table) -> tuple[Table, list[Withheld]]:
    """The table as a restore writes it: its carried columns in the backup's order, then its
    withheld ones, each filled by its `restored` from the row's key."""
    withheld = [
        (c, EXCLUDED_COLUMNS[(table.name, c.name)])
        for c in table.columns
        if (table.name, c.name) in EXCLUDED_COLUMNS
    ]
    carried = tuple(c for c in table.columns if (table.name, c.name) not in EXCLUDED_COLUMNS)
    written = Table(
        name=table.name,
        key=table.key,
        columns=carried + tuple(c for c, _ in withheld),
        numbered=table.numbered,
    )
    return written, [w for _, w in withheld]


def latest_migration(applied: Sequence[str]) -> str:
    """The schema a database is at: the last migration applied (their names start with their
    number)."""
    numbered = [name for name in applied if name[:4].isdigit()]
    if not numbered:
        raise BackupRefused("the database is not migrated; run `python -m server migrate` first")
    return max(numbered)


def header(*, schema: str, created_at: datetime, source: str, tables: Sequence[Table]) -> dict:
    """The first line of a backup: what it is, in which version of the format, at which schema
    (the last migration of the database it came from), and its tables in the order they come."""
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "schema": schema,
        "createdAt": created_at.astimezone(UTC).isoformat(),
        "source": source,
        "tables": [t.name for t in tables],
    }


@dataclass(frozen=True)
class Header:
    version: int
    schema: str
    created_at: str
    tables: tuple[str, ...]


NOT_A_BACKUP = "is not a backup of this service (its first line is not a backup header)"


def read_header(raw: object) -> Header:
    """The first line of a file, parsed: refused unless it is a backup this release reads."""
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise BackupRefused(NOT_A_BACKUP)
    version = raw.get("version")
    schema = raw.get("schema")
    tables = raw.get("tables")
    created_at = raw.get("createdAt")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise BackupRefused(f"{NOT_A_BACKUP}: its version is {version!r}")
    if version != FORMAT_VERSION:
        raise BackupRefused(
            f"is in backup format version {version}; this release reads version "
            f"{FORMAT_VERSION}: restore it with the release that wrote it"
        )
    if (
        not isinstance(schema, str)
        or not isinstance(created_at, str)
        or not isinstance(tables, list)
        or not all(isinstance(t, str) for t in tables)
    ):
        raise BackupRefused(f"{NOT_A_BACKUP}: its header lacks schema, createdAt or tables")
    return Header(version=version, schema=schema, created_at=created_at, tables=tuple(tables))


def schema_problem(backup: Header, here: str, tables: Sequence[Table]) -> str | None:
    """A backup is restored only at the schema it was written at: columns and meanings change
    between migrations, and a migration run over restored rows is the one way to move them."""
    if backup.schema != here:
        return (
            f"was written at schema {backup.schema}; this database is at {here}: restore it "
            f"into a database migrated by the release that wrote it, then upgrade and migrate"
        )
    names = tuple(t.name for t in tables)
    if backup.tables != names:
        return (
            f"carries the tables {', '.join(backup.tables)}; this release carries "
            f"{', '.join(names)}"
        )
    return None


def section_problem(raw: object, table: Table) -> str | None:
    """A table's opening line must describe the table as this release has it."""
    if raw != table.described():
        return f"the description of {table.name} differs from this database's"
    return None


# The tables a refusal names, at most: one line, however full the database.
NAMED_TABLES = 4


def counted_toward_inventory(table: Table) -> bool:
    """Whether rows of `table` make a database too full to restore into: the merged taxonomy
    and the keys do not (KEPT_ROWS; audit events count but for those about keys)."""
    return table.name not in MERGED_TABLES and table.name != KEY_TABLE


def inventory_problem(held: Mapping[str, int]) -> str | None:
    """A restore writes the backup's ids: into a database that holds an inventory already it
    would mix two, or collide. `held` counts the rows of each counted table; recipients and data
    subjects are named first."""
    first = ("recipient", "data_subject")
    found = [(t, held[t]) for t in first if held.get(t)]
    found += sorted((t, n) for t, n in held.items() if n and t not in first)
    if not found:
        return None
    listed = ", ".join(f"{table}: {n}" for table, n in found[:NAMED_TABLES])
    if len(found) > NAMED_TABLES:
        listed += f", and {len(found) - NAMED_TABLES} more tables"
    return (
        f"the database is not empty (rows in {listed}): a backup is restored only into an "
        "empty, migrated database (API keys alone do not count)"
    )


def count_problem(expected: object, restored: Mapping[str, int]) -> str | None:
    """The end line's counts against the rows read: a file cut short, or edited, is refused."""
    if not isinstance(expected, dict):
        return "its end line carries no row counts"
    if expected != restored:
        tables = sorted(set(expected) | set(restored))
        first = next(t for t in tables if expected.get(t) != restored.get(t))
        read = restored.get(first)
        said = f"{read} were read" if read is not None else "the file holds no rows of it"
        return f"its end line counts {expected.get(first)} rows of {first}, but {said}"
    return None


def is_token_digest(stored: str) -> bool:
    """Whether `stored` could be the hash of some token (64 lowercase hex digits)."""
    return len(stored) == 64 and set(stored) <= HEX_DIGITS


def restore_changes(
    backup: Header, restored_keys: Sequence[str], renamed: Mapping[str, str]
) -> dict[str, list[Any]]:
    """The restore's audit event: which backup, which keys came back without a token (each
    waits for `keys reissue`), and which keys of this database were renamed to make room."""
    changes: dict[str, list[Any]] = {
        "backupCreatedAt": [None, backup.created_at],
        "schema": [None, backup.schema],
        "keysWithoutToken": [None, sorted(restored_keys)],
    }
    if renamed:
        changes["keysRenamed"] = [sorted(renamed), [renamed[k] for k in sorted(renamed)]]
    return changes


def read_value(kind: ColumnKind, value: Any) -> Any:
    """A value of a backup's row as Python: int, str, bool, date, datetime (UTC) or a JSON
    value; None stays None (the database holds its NOT NULLs). Anything else is refused with
    ValueError: a backup is input like any other."""
    if value is None:
        return None
    if kind is ColumnKind.TEXT:
        if isinstance(value, str):
            return value
    elif kind is ColumnKind.INTEGER:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif kind is ColumnKind.BOOLEAN:
        if isinstance(value, bool):
            return value
    elif kind is ColumnKind.DATETIME:
        if isinstance(value, str):
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                raise ValueError(f"the moment {value!r} has no offset")
            return moment.astimezone(UTC)
    elif kind is ColumnKind.DATE:
        if isinstance(value, str) and len(value) == 10:
            return date.fromisoformat(value)
    else:
        return value
    raise ValueError(f"{value!r} is not of the kind {kind.value}")
