"""The rules of a backup in plain Python (server/domain/backup.py; GDPR Art. 32(1)(c), 5(2)):
tables in foreign-key order, what is never carried, the header and schema checks, the refusal
of a database that holds an inventory, the end line's counts, a restored key's hash that no
token matches, and the reading of each kind of value."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from typing import Any

import pytest

from server.domain import backup as backup_rules
from server.domain.backup import (
    BackupDesignError,
    BackupRefused,
    Column,
    ColumnKind,
    Header,
    Table,
)

INT, TEXT = ColumnKind.INTEGER, ColumnKind.TEXT


def table(name: str, *references: str, key: str = "id") -> Table:
    """A table with an id and a column pointing at each of `references`."""
    columns = [Column(key, INT if key == "id" else TEXT)]
    columns += [Column(f"{target}_id", INT, references=target) for target in references]
    return Table(name=name, key=key, columns=tuple(columns), numbered=key == "id")


# (tables as name -> what each points at, the order expected, or the error's fragment)
ORDERS: list[tuple[dict[str, tuple[str, ...]], list[str] | str]] = [
    ({"a": (), "b": ()}, ["a", "b"]),  # ties by name
    ({"b": (), "a": ()}, ["a", "b"]),
    ({"disclosure": ("recipient",), "recipient": ()}, ["recipient", "disclosure"]),
    ({"recipient": ("recipient",)}, ["recipient"]),  # a table may point at itself
    (
        {"link": ("disclosure", "term"), "disclosure": ("recipient",), "recipient": (), "term": ()},
        ["recipient", "term", "disclosure", "link"],
    ),
    ({"a": ("b",), "b": ("a",)}, "the tables a, b point at each other"),
    ({"a": ("gone",)}, "a.gone_id points at gone, which is not carried"),
]


@pytest.mark.parametrize(("shape", "expected"), ORDERS)
def test_foreign_key_order(shape: dict[str, tuple[str, ...]], expected: list[str] | str) -> None:
    tables = [table(name, *targets) for name, targets in shape.items()]
    if isinstance(expected, str):
        with pytest.raises(BackupDesignError, match=expected):
            backup_rules.foreign_key_order(tables)
    else:
        assert [t.name for t in backup_rules.foreign_key_order(tables)] == expected


def api_key_table() -> Table:
    return Table(
        name="api_key",
        key="id",
        columns=(
            Column("id", INT),
            Column("name", TEXT),
            Column("token_hash", TEXT),
            Column("role", TEXT),
        ),
        numbered=True,
    )


def test_a_token_hash_is_never_carried_and_a_restore_fills_it() -> None:
    [carried] = backup_rules.carried_tables([api_key_table()])
    assert [c.name for c in carried.columns] == ["id", "name", "role"]
    written, withheld = backup_rules.restored_table(api_key_table())
    assert [c.name for c in written.columns] == ["id", "name", "role", "token_hash"]
    assert [w.restored(7) for w in withheld] == ["restored:7"]
    assert all(w.reason for w in backup_rules.EXCLUDED_COLUMNS.values())


# (the exclusions patched in, the tables, the error's fragment)
DESIGN_ERRORS: list[tuple[str, Any, list[Table], str]] = [
    ("EXCLUDED_TABLES", {"gone": "no reason"}, [table("a")], "names gone, which is no table"),
    ("EXCLUDED_COLUMNS", {("a", "b"): None}, [table("a")], "names a.b, which is no column"),
    ("EXCLUDED_TABLES", {"a": "why"}, [table("a"), table("b", "a")], "b.a_id points at a"),
]


@pytest.mark.parametrize(("name", "excluded", "tables", "message"), DESIGN_ERRORS)
def test_an_exclusion_must_name_something_and_leave_nothing_dangling(
    monkeypatch: pytest.MonkeyPatch, name: str, excluded: Any, tables: list[Table], message: str
) -> None:
    monkeypatch.setattr(backup_rules, name, excluded)
    if name == "EXCLUDED_TABLES":
        monkeypatch.setattr(backup_rules, "EXCLUDED_COLUMNS", {})
    with pytest.raises(BackupDesignError, match=message):
        backup_rules.carried_tables(tables)


def test_a_table_points_at_itself_where_it_does() -> None:
    recipient = table("recipient", "recipient", "establishment")
    assert recipient.self_references() == (1,)
    assert table("disclosure", "recipient").self_references() == ()


GOOD = {
    "format": backup_rules.FORMAT,
    "version": 1,
    "schema": "0010_change_requests",
    "createdAt": "2025-01-01T00:00:00+00:00",
    "source": "sqlite",
    "tables": ["recipient"],
}
# (the first line, parsed; None when read, else a fragment of the refusal)
HEADERS: list[tuple[Any, str | None]] = [
    (GOOD, None),
    ({**GOOD, "source": "postgres"}, None),
    ([], "is not a backup of this service"),
    ({"format": "fides"}, "is not a backup of this service"),
    ({**GOOD, "version": "1"}, "its version is '1'"),
    ({**GOOD, "version": True}, "its version is True"),
    ({**GOOD, "version": 0}, "its version is 0"),
    ({**GOOD, "version": 2}, "is in backup format version 2; this release reads version 1"),
    ({**GOOD, "schema": None}, "lacks schema, createdAt or tables"),
    ({**GOOD, "tables": "recipient"}, "lacks schema, createdAt or tables"),
    ({**GOOD, "tables": [1]}, "lacks schema, createdAt or tables"),
]


@pytest.mark.parametrize(("raw", "refusal"), HEADERS)
def test_read_header(raw: Any, refusal: str | None) -> None:
    if refusal is None:
        read = backup_rules.read_header(raw)
        assert (read.version, read.schema, read.tables) == (1, GOOD["schema"], ("recipient",))
    else:
        with pytest.raises(BackupRefused, match=refusal):
            backup_rules.read_header(raw)


def test_a_header_says_what_a_reader_needs() -> None:
    moment = datetime(2025, 1, 1, 13, 0, tzinfo=UTC)
    written = backup_rules.header(
        schema="0010_x", created_at=moment, source="sqlite", tables=[table("a"), table("b")]
    )
    assert written == {**GOOD, "schema": "0010_x", "createdAt": "2025-01-01T13:00:00+00:00",
                       "tables": ["a", "b"]}  # fmt: skip
    assert backup_rules.read_header(written).tables == ("a", "b")


HERE = "0010_change_requests"
# (the backup's schema and tables, the problem's fragment or None)
SCHEMAS: list[tuple[str, tuple[str, ...], str | None]] = [
    (HERE, ("a", "b"), None),
    ("0009_transfer_regimes", ("a", "b"), "written at schema 0009_transfer_regimes; this database"),
    ("0011_later", ("a", "b"), "then upgrade and migrate"),
    (HERE, ("b", "a"), "carries the tables b, a; this release carries a, b"),
    (HERE, ("a",), "carries the tables a; this release carries a, b"),
]


@pytest.mark.parametrize(("schema", "tables", "problem"), SCHEMAS)
def test_a_backup_is_restored_only_at_its_schema(
    schema: str, tables: tuple[str, ...], problem: str | None
) -> None:
    backup = Header(version=1, schema=schema, created_at="", tables=tables)
    found = backup_rules.schema_problem(backup, HERE, [table("a"), table("b")])
    assert found == problem if problem is None else problem in (found or "")


@pytest.mark.parametrize(
    ("applied", "latest"),
    [
        (["0001_initial", "0010_change_requests", "0002_data_subjects"], "0010_change_requests"),
        (["0009_a", "notes"], "0009_a"),
    ],
)
def test_the_schema_is_the_last_migration(applied: list[str], latest: str) -> None:
    assert backup_rules.latest_migration(applied) == latest


def test_an_unmigrated_database_has_no_schema() -> None:
    with pytest.raises(BackupRefused, match="not migrated"):
        backup_rules.latest_migration([])


# (rows held per counted table, the problem's fragment or None)
HELD: list[tuple[dict[str, int], str | None]] = [
    ({}, None),
    ({"recipient": 0, "data_subject": 0, "audit_event": 0}, None),
    ({"recipient": 31}, "not empty (rows in recipient: 31)"),
    ({"data_subject": 6}, "not empty (rows in data_subject: 6)"),
    ({"establishment": 2, "data_subject": 6, "recipient": 1},
     "(rows in recipient: 1, data_subject: 6, establishment: 2)"),
    ({"audit_event": 1}, "(rows in audit_event: 1)"),
    ({"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "recipient": 6},
     "(rows in recipient: 6, a: 1, b: 2, c: 3, and 2 more tables)"),
]  # fmt: skip


@pytest.mark.parametrize(("held", "problem"), HELD)
def test_a_restore_needs_a_database_without_an_inventory(
    held: dict[str, int], problem: str | None
) -> None:
    found = backup_rules.inventory_problem(held)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found
        assert "API keys alone do not count" in found


@pytest.mark.parametrize(
    ("name", "counted"),
    [("recipient", True), ("audit_event", True), ("establishment", True), ("api_key", False),
     ("data_category", False), ("purpose", False), ("subject_type", False)],
)  # fmt: skip
def test_keys_and_the_taxonomy_do_not_count(name: str, counted: bool) -> None:
    assert backup_rules.counted_toward_inventory(table(name)) is counted


# (the end line's counts, the rows read, the problem's fragment or None)
COUNTS: list[tuple[Any, dict[str, int], str | None]] = [
    ({"a": 2, "b": 0}, {"a": 2, "b": 0}, None),
    ({"a": 2, "b": 0}, {"a": 2}, "counts 0 rows of b, but the file holds no rows of it"),
    ({"a": 3}, {"a": 2}, "counts 3 rows of a, but 2 were read"),
    ({"a": 2}, {"a": 2, "b": 1}, "counts None rows of b, but 1 were read"),
    ([2], {"a": 2}, "carries no row counts"),
    (None, {}, "carries no row counts"),
]


@pytest.mark.parametrize(("expected", "restored", "problem"), COUNTS)
def test_the_end_line_counts_every_table(
    expected: Any, restored: dict[str, int], problem: str | None
) -> None:
    found = backup_rules.count_problem(expected, restored)
    assert found == problem if problem is None else problem in (found or "")


@pytest.mark.parametrize("key_id", [1, 42, 10**12])
def test_no_token_hashes_to_a_restored_key(key_id: int) -> None:
    stored = backup_rules.restored_token_hash(key_id)
    assert not backup_rules.is_token_digest(stored)
    assert stored != backup_rules.restored_token_hash(key_id + 1)  # the column is unique
    assert len(stored) <= 64  # it fits the column


def test_a_token_hash_is_a_digest() -> None:
    assert backup_rules.is_token_digest(hashlib.sha256(b"ri_anything").hexdigest())


# (kind, the backup's value, the Python value or ValueError)
VALUES: list[tuple[ColumnKind, Any, Any]] = [
    (ColumnKind.INTEGER, 3, 3),
    (ColumnKind.INTEGER, None, None),
    (ColumnKind.INTEGER, True, ValueError),
    (ColumnKind.INTEGER, "3", ValueError),
    (ColumnKind.INTEGER, 3.0, ValueError),
    (ColumnKind.TEXT, "x", "x"),
    (ColumnKind.TEXT, 1, ValueError),
    (ColumnKind.BOOLEAN, False, False),
    (ColumnKind.BOOLEAN, 0, ValueError),
    (ColumnKind.DATE, "2024-02-29", date(2024, 2, 29)),
    (ColumnKind.DATE, "2024-02-30", ValueError),
    (ColumnKind.DATE, "2024-02-29T00:00:00+00:00", ValueError),
    (ColumnKind.DATETIME, "2024-01-01T10:00:00+00:00", datetime(2024, 1, 1, 10, tzinfo=UTC)),
    (ColumnKind.DATETIME, "2024-01-01T12:00:00.5+02:00",
     datetime(2024, 1, 1, 10, 0, 0, 500000, tzinfo=UTC)),
    (ColumnKind.DATETIME, "2024-01-01 10:00:00+00:00", datetime(2024, 1, 1, 10, tzinfo=UTC)),
    (ColumnKind.DATETIME, "2024-01-01T10:00:00", ValueError),  # a moment has its offset
    (ColumnKind.DATETIME, "yesterday", ValueError),
    (ColumnKind.DATETIME, 1704103200, ValueError),
    (ColumnKind.JSON, ["a", {"b": None}], ["a", {"b": None}]),
    (ColumnKind.JSON, "text", "text"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "value", "expected"), VALUES)
def test_read_value(kind: ColumnKind, value: Any, expected: Any) -> None:
    if expected is ValueError:
        with pytest.raises(ValueError):
            backup_rules.read_value(kind, value)
    else:
        read = backup_rules.read_value(kind, value)
        assert read == expected and type(read) is type(expected)


def test_a_table_opens_with_its_description() -> None:
    recipient = table("recipient", "recipient")
    described = recipient.described()
    assert described == {
        "table": "recipient",
        "key": "id",
        "columns": [
            {"name": "id", "kind": "integer"},
            {"name": "recipient_id", "kind": "integer", "references": "recipient"},
        ],
    }
    assert backup_rules.section_problem(described, recipient) is None
    other = {**described, "columns": described["columns"][:1]}
    assert backup_rules.section_problem(other, recipient) == (
        "the description of recipient differs from this database's"
    )


def test_the_restore_event_names_the_keys_without_a_token() -> None:
    backup = Header(version=1, schema=HERE, created_at="2025-01-01T00:00:00+00:00", tables=())
    assert backup_rules.restore_changes(backup, ["b", "a"], {}) == {
        "backupCreatedAt": [None, "2025-01-01T00:00:00+00:00"],
        "schema": [None, HERE],
        "keysWithoutToken": [None, ["a", "b"]],
    }
    renamed = backup_rules.restore_changes(backup, ["a"], {"a": "a-2"})
    assert renamed["keysRenamed"] == [["a"], ["a-2"]]
