"""Back the inventory up into a file, and restore one into an empty database (issue 16 §4).

What is carried and why, and when a restore is refused, are server/domain/backup.py's rules;
the format is described in docs/backup.md. A backup streams: one page of rows is in memory at a
time, whatever the size of the inventory. A restore is one transaction: refused, or cut short by
a bad line, it leaves the database as it was.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError, OperationalError
from tortoise.transactions import in_transaction

from server.db import backup as store
from server.db.errors import is_unavailable
from server.domain import backup as backup_rules
from server.domain.backup import BackupRefused, Header, Table
from server.services import audit, clock, keys

# Rows written by one statement on restore.
ROWS_PER_WRITE = 2_000
# A row a line, its JSON objects with their keys sorted: PostgreSQL's jsonb keeps no order, so
# without it the same inventory would be written differently by the two databases.
ROW_LINE = orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE


@dataclass
class BackupSummary:
    schema: str
    rows: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        return (
            f"Backed up {sum(self.rows.values())} rows of {len(self.rows)} tables at schema "
            f"{self.schema} (recipients: {self.rows.get('recipient', 0)}, data subjects: "
            f"{self.rows.get('data_subject', 0)}; keys without their token hashes)."
        )


@dataclass
class RestoreSummary:
    backup: Header
    rows: dict[str, int] = field(default_factory=dict)
    keys_without_token: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)

    def lines(self) -> list[str]:
        said = [
            f"Restored {sum(self.rows.values())} rows of {len(self.rows)} tables from the "
            f"backup of {self.backup.created_at} (recipients: {self.rows.get('recipient', 0)}, "
            f"data subjects: {self.rows.get('data_subject', 0)})."
        ]
        if self.keys_without_token:
            said.append(
                f"{len(self.keys_without_token)} key(s) came back without a token and cannot "
                "authenticate until one is reissued: python -m server keys reissue NAME "
                f"({', '.join(self.keys_without_token)})."
            )
        for before, after in sorted(self.renamed.items()):
            said.append(
                f"This database's key {before} is now named {after}: the backup holds a key "
                "of that name."
            )
        return said


def carried() -> list[Table]:
    """The tables a backup carries, in the order they come (tortoise initialised)."""
    return backup_rules.carried_tables(store.model_tables())


async def write_backup(write: Callable[[bytes], Any]) -> BackupSummary:
    """Write the whole inventory to `write`, a line at a time, from one snapshot."""
    tables = carried()
    async with store.snapshot() as conn:
        schema = backup_rules.latest_migration(await store.applied_migrations(conn))
        summary = BackupSummary(schema=schema)
        opening = backup_rules.header(
            schema=schema, created_at=clock.now(), source=store.dialect(conn), tables=tables
        )
        write(orjson.dumps(opening) + b"\n")
        for table in tables:
            write(orjson.dumps(table.described()) + b"\n")
            count = 0
            async for page in store.read_pages(conn, table):
                write(_lines_of(page))
                count += len(page)
            summary.rows[table.name] = count
        write(orjson.dumps({"end": True, "rows": summary.rows}) + b"\n")
    return summary


def _lines_of(page: list[list[Any]]) -> bytes:
    """A page of rows as JSON lines. Each row goes into the page's buffer as soon as it is
    dumped: joining a list of them cost several times the dumping (each row's bytes kept
    alive at once)."""
    lines = io.BytesIO()
    put = lines.write
    for row in page:
        put(orjson.dumps(row, option=ROW_LINE))
    return lines.getvalue()


def _numbered(lines: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    for number, line in enumerate(lines, start=1):
        yield number, line.rstrip(b"\r\n")


def _parsed(line: bytes, number: int) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        raise BackupRefused(f"line {number} is not JSON") from None


def read_opening(lines: Iterator[tuple[int, bytes]]) -> Header:
    """The backup's header, from its first line: refused unless this release reads it."""
    first = next(lines, None)
    if first is None or not first[1].strip():
        raise BackupRefused(f"is empty; {backup_rules.NOT_A_BACKUP}")
    try:
        raw = orjson.loads(first[1])
    except orjson.JSONDecodeError:
        raise BackupRefused(backup_rules.NOT_A_BACKUP) from None
    return backup_rules.read_header(raw)


async def restore_backup(lines: Iterable[bytes], *, actor: str) -> RestoreSummary:
    """Restore a backup's lines into this database, which must hold no inventory (its keys
    may stay: they keep working, renumbered after the backup's, renamed where the backup holds
    a key of the same name). One transaction, ending with one audit event about the restore.
    Raises BackupRefused, with nothing written, for any file or database it cannot take."""
    numbered = _numbered(lines)
    backup = read_opening(numbered)
    full = {t.name: t for t in store.model_tables()}
    tables = backup_rules.carried_tables(list(full.values()))
    summary = RestoreSummary(backup=backup)
    async with in_transaction() as conn:
        here = backup_rules.latest_migration(await store.applied_migrations(conn))
        if problem := backup_rules.schema_problem(backup, here, tables):
            raise BackupRefused(problem)
        held: dict[str, int] = {}
        for table in tables:
            if backup_rules.counted_toward_inventory(table):
                events = table.name == backup_rules.EVENTS_TABLE
                unless = backup_rules.KEY_EVENTS if events else None
                held[table.name] = await store.count_rows(conn, table.name, unless)
        if problem := backup_rules.inventory_problem(held):
            raise BackupRefused(problem)
        # This database's keys whole, token hashes included: they go on working.
        key_table, events_table = full[backup_rules.KEY_TABLE], full[backup_rules.EVENTS_TABLE]
        kept_keys = await _take(conn, key_table, None)
        kept_events = await _take(conn, events_table, backup_rules.KEY_EVENTS)
        await _restore_rows(conn, numbered, tables, full, summary)
        name_at = [c.name for c in key_table.columns].index("name")
        summary.keys_without_token = await _names(conn, key_table, name_at)
        await _keep(conn, key_table, events_table, kept_keys, kept_events, summary)
        # Before the restore's own event, which takes the next id.
        await store.reset_numbering(conn, tables)
        await audit.record(
            connection=conn,
            at=clock.now(),
            actor=actor,
            action=backup_rules.RESTORE_ACTION,
            entity_type=backup_rules.RESTORE_ENTITY,
            entity_id=0,
            recipient_id=None,
            changes=backup_rules.restore_changes(
                backup, summary.keys_without_token, summary.renamed
            ),
        )
    return summary


async def _take(
    conn: BaseDBAsyncClient, table: Table, where: tuple[str, str] | None
) -> list[list[Any]]:
    """Read and delete rows this database keeps through a restore, as a backup's rows would
    read (so they go back in by the same path)."""
    taken: list[list[Any]] = []
    async for page in store.read_pages(conn, table, where):
        taken += [_as_read(table, orjson.loads(orjson.dumps(row))) for row in page]
    await store.delete_rows(conn, table, where)
    return taken


async def _names(conn: BaseDBAsyncClient, table: Table, name_at: int) -> list[str]:
    names: list[str] = []
    async for page in store.read_pages(conn, table):
        names += [str(row[name_at]) for row in page]
    return sorted(names)


def _as_read(table: Table, raw: Any) -> list[Any]:
    """A backup's row as Python values in the table's column order; ValueError if it is not."""
    if not isinstance(raw, list) or len(raw) != len(table.columns):
        raise ValueError(f"not a row of {len(table.columns)} values")
    return [backup_rules.read_value(c.kind, v) for c, v in zip(table.columns, raw, strict=True)]


def _refused_write(table: Table, number: int, exc: Exception) -> BackupRefused:
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return BackupRefused(f"the rows of {table.name} up to line {number} were refused: {first}")


class _TableWriter:
    """One table's rows on their way in: in batches, each row with a key of its own table not
    yet written (a subprocessor before the recipient engaging it) first written without it, then
    set once the table is complete."""

    def __init__(
        self, conn: BaseDBAsyncClient, table: Table, model_table: Table, known: set[Any]
    ) -> None:
        self.conn = conn
        self.table = table
        # The columns written: the carried ones, then the withheld ones the restore fills.
        self.written, self.withheld = backup_rules.restored_table(model_table)
        self.merge = table.name in backup_rules.MERGED_TABLES
        self.self_references = table.self_references()
        self.key_at = table.key_position()
        self.known = known
        self.later: dict[int, list[tuple[Any, Any]]] = {p: [] for p in self.self_references}
        self.batch: list[list[Any]] = []
        self.count = 0

    async def add(self, row: list[Any], number: int) -> None:
        for position in self.self_references:
            target = row[position]
            if target is not None and target not in self.known:
                self.later[position].append((row[self.key_at], target))
                row[position] = None
        if self.self_references:
            self.known.add(row[self.key_at])
        row += [withheld.restored(row[self.key_at]) for withheld in self.withheld]
        self.batch.append(row)
        self.count += 1
        if len(self.batch) >= ROWS_PER_WRITE:
            await self.flush(number)

    async def flush(self, number: int) -> None:
        try:
            await store.insert_rows(self.conn, self.written, self.batch, merge=self.merge)
        except (IntegrityError, OperationalError) as exc:
            if is_unavailable(exc):
                raise
            raise _refused_write(self.table, number, exc) from None
        self.batch = []

    async def finish(self, number: int) -> None:
        await self.flush(number)
        for position, pairs in self.later.items():
            try:
                await store.set_column(self.conn, self.written, self.table.columns[position], pairs)
            except (IntegrityError, OperationalError) as exc:
                if is_unavailable(exc):
                    raise
                raise _refused_write(self.table, number, exc) from None


async def _restore_rows(
    conn: BaseDBAsyncClient,
    lines: Iterator[tuple[int, bytes]],
    tables: list[Table],
    full: dict[str, Table],
    summary: RestoreSummary,
) -> None:
    """Every table's rows, in the order of `tables`, then the end line and nothing after it."""
    waiting = iter(tables)
    writer: _TableWriter | None = None
    number = 1
    for number, line in lines:
        if line.startswith(b"["):
            if writer is None:
                raise BackupRefused(f"line {number}: a row before any table")
            try:
                row = _as_read(writer.table, _parsed(line, number))
            except ValueError as exc:
                raise BackupRefused(f"line {number}: {writer.table.name}: {exc}") from None
            await writer.add(row, number)
            continue
        if not line.startswith(b"{"):
            raise BackupRefused(f"line {number} is neither a row nor a table's opening line")
        raw = _parsed(line, number)
        if writer is not None:
            await writer.finish(number)
            summary.rows[writer.table.name] = writer.count
            writer = None
        if isinstance(raw, dict) and raw.get("end") is True:
            if (missing := next(waiting, None)) is not None:
                raise BackupRefused(f"line {number}: the end comes before the table {missing.name}")
            if problem := backup_rules.count_problem(raw.get("rows"), summary.rows):
                raise BackupRefused(problem)
            for after, extra in lines:
                if extra.strip():
                    raise BackupRefused(f"line {after} comes after the end line")
            return
        table = next(waiting, None)
        if table is None:
            raise BackupRefused(f"line {number} opens a table after the last one")
        if problem := backup_rules.section_problem(raw, table):
            raise BackupRefused(f"line {number}: {problem}")
        known = await store.keys_of(conn, table) if table.self_references() else set()
        writer = _TableWriter(conn, table, full[table.name], known)
    raise BackupRefused(
        f"ends at line {number} without its end line: the file was cut short; nothing was restored"
    )


async def _keep(
    conn: BaseDBAsyncClient,
    key_table: Table,
    events_table: Table,
    kept_keys: list[list[Any]],
    kept_events: list[list[Any]],
    summary: RestoreSummary,
) -> None:
    """Put this database's own keys back after the backup's, numbered after them, each under
    its name unless the backup holds that name; their audit events with them."""
    if not kept_keys:
        return
    columns = [c.name for c in key_table.columns]
    id_at, name_at = key_table.key_position(), columns.index("name")
    next_id = await store.largest_key(conn, key_table)
    new_ids: dict[int, int] = {}
    taken = list(summary.keys_without_token)
    for row in kept_keys:
        next_id += 1
        new_ids[row[id_at]] = next_id
        row[id_at] = next_id
        name = keys.unused_name(row[name_at], taken)
        if name != row[name_at]:
            summary.renamed[row[name_at]] = name
            row[name_at] = name
        taken.append(name)
    await store.insert_rows(conn, key_table, kept_keys)
    event_columns = [c.name for c in events_table.columns]
    event_id_at, entity_at = events_table.key_position(), event_columns.index("entity_id")
    next_event = await store.largest_key(conn, events_table)
    for row in kept_events:
        next_event += 1
        row[event_id_at] = next_event
        row[entity_at] = new_ids.get(row[entity_at], row[entity_at])
    await store.insert_rows(conn, events_table, kept_events)
