"""Backup and restore (issue 16 §4): the fixtures, with a history written after them, backed up
and restored into an empty database give the same answers, through HTTP, at every moment asked
(past, now, as known at an earlier moment): whoReceives for every fixture subject, the
compliance gaps and every recipient's history, global ids included. Across databases too:
SQLite into PostgreSQL and back. A restored key cannot authenticate until reissued; a restore
refused leaves the database as it was."""

from __future__ import annotations

import asyncio
import base64
import shutil
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE

from server.app import create_app
from server.cli import main
from server.db import backup as store
from server.db.config import tortoise_config
from server.db.models import ApiKey, AuditEvent, DataSubject, Disclosure, Recipient
from server.db.preflight import committed_migrations
from server.domain import backup as backup_rules
from server.domain.access import Principal, Role
from server.domain.backup import BackupRefused
from server.services import clock, keys
from server.services.backup import restore_backup, write_backup
from server.services.fixtures import load_fixtures
from server.settings import Settings
from tests.api.test_who_receives import gid
from tests.conftest import gql, http_client, open_database
from tests.helpers import (
    CHANGE_STATUS,
    END_DISCLOSURE,
    RECORD_CONSENT,
    approve_change,
    register,
)
from tests.test_fixtures import FIXTURES, SUBJECTS

# Room for the whole answers below: the default limits are for clients, not for a comparison.
SETTINGS = Settings(
    max_query_cost=50_000_000,
    max_query_depth=15,
    max_tokens=20_000,
    max_answer_nodes=2_000_000,
    max_aliases=100,
)
PAST = ["2022-06-01T00:00:00+00:00", "2024-01-01T00:00:00+00:00", "2025-03-01T12:00:00+00:00"]

REASON = """
  disclosure { id } since legalBasis ground explanation
  dataCategories { key } purposes { key }
  transfers { country mechanism reference signedOn withinAdequacyScope }
  transferAssessments { country mechanism lawful explanation jurisdiction trigger fromCountry }
"""
WHO_RECEIVES = f"""
query Who($subject: SubjectRef!, $asOf: DateTime, $asKnownAt: DateTime) {{
  whoReceives(subject: $subject, asOf: $asOf, asKnownAt: $asKnownAt) {{
    asOf asKnownAt
    subject {{
      id externalRef country createdAt subjectType {{ key }} dataCategories {{ key }}
      consents {{ purpose {{ key }} granted recordedAt decidedAt explicit }}
      transferConsents {{ __typename }}
    }}
    recipients {{ recipient {{ id slug }} via {{ id slug }} reasons {{ {REASON} }} }}
    withheld {{ recipient {{ id }} disclosure {{ id }} reason explanation purposes {{ key }} }}
    pastRecipients {{
      recipient {{ id }} via {{ id }} disclosure {{ id }} periods {{ from to }}
      dataCategories {{ key }} purposes {{ key }} endedBecause explanation
    }}
    upcomingRecipients {{ recipient {{ id }} disclosure {{ id }} startsAt explanation }}
    possibleRecipients {{ recipient {{ id }} disclosure {{ id }} explanation }}
    events {{ id occurredAt reference note recordedAt disclosure {{ id }} recipient {{ id }} }}
  }}
}}
"""
GAPS = """
query Gaps($asOf: DateTime) {
  complianceGaps(asOf: $asOf) {
    kind recipient { id slug } disclosure { id } explanation
  }
}
"""
INVENTORY = """
query Inventory($after: String) {
  recipients(first: 100, after: $after, filter: {}) {
    pageInfo { hasNextPage endCursor }
    edges { node {
      id slug name legalName description kind role status country services website
      privacyPolicyUrl dpaSignedOn version createdAt updatedAt corporateGroup
      internationalOrganisation dpfCertifications { framework certifiedOn lapsedOn }
      engagedBy { id } subprocessors { id }
      history { at actor action changes }
      statusHistory { status effectiveAt recordedAt actor note }
      pendingChanges { id status authors summary changes createdAt decidedAt decidedBy note }
      disclosures(includeEnded: true) {
        id legalBasis ground retention effectiveFrom effectiveTo frequency
        specialCategoryCondition exporter { id slug } dataCategories { key }
        subjectTypes { key } purposes { key }
        transfers { country mechanism reference signedOn withinAdequacyScope }
      }
    } }
  }
  establishments { id slug name legalName country targets main version }
  pendingChanges { id status recipient { id } }
  dataCategories { key name description parent { key } }
  purposes { key name }
  subjectTypes { key name }
}
"""


def sqlite_copy(template: Path, folder: Path, name: str) -> str:
    path = folder / name
    shutil.copy(template, path)
    return f"sqlite://{path}"


@pytest.fixture
def databases(postgres_ready: str | None, sqlite_template: Path, tmp_path: Path) -> Any:
    """`databases(kind)`: the URL of an empty migrated database of that kind, a new SQLite
    file each time (PostgreSQL is the one TEST_POSTGRES_URL names, emptied when opened)."""
    made = iter(range(100))

    def make(kind: str) -> str:
        if kind == "postgres":
            if not postgres_ready:
                pytest.skip("TEST_POSTGRES_URL is not set")
            return postgres_ready
        return sqlite_copy(sqlite_template, tmp_path, f"inventory-{next(made)}.sqlite3")

    return make


@pytest.fixture
async def closing() -> AsyncIterator[None]:
    yield
    await Tortoise.close_connections()


async def number_from(table: str, start: int) -> None:
    """The next row of `table` takes an id after `start`: ids in a backup then differ from
    those a fresh load would give, so answers compared by global id show they were kept."""
    conn = Tortoise.get_connection("default")
    if conn.capabilities.dialect == "postgres":
        await conn.execute_query(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {start})")
        return
    changed, _ = await conn.execute_query(
        "UPDATE sqlite_sequence SET seq = ? WHERE name = ?", [start, table]
    )
    if not changed:
        await conn.execute_query(
            "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", [table, start]
        )


UPDATE_DISCLOSURE = """
mutation U($input: UpdateDisclosureInput!) {
  updateDisclosure(input: $input) {
    change { id status }
    userErrors { field code message }
  }
}
"""
UPDATE_RECIPIENT = """
mutation U($input: UpdateRecipientInput!) {
  updateRecipient(input: $input) {
    change { id status }
    userErrors { field code message }
  }
}
"""


async def approved(reviewer: httpx.AsyncClient, payload: dict[str, Any]) -> None:
    assert payload["userErrors"] == [], payload
    if payload["change"] is not None:
        await approve_change(reviewer, payload["change"]["id"])


async def history_written_after(admin: httpx.AsyncClient, reviewer: httpx.AsyncClient) -> None:
    """Changes recorded after the fixtures: a consent withdrawn, a disclosure corrected (its
    terms before kept in a row of their own) and one ended, both approved by a second key, a
    recipient suspended, and a change left waiting; so that answers as known at an earlier
    moment differ from now's, and the backup carries every kind of row."""
    body = await gql(
        admin,
        RECORD_CONSENT,
        {
            "input": {
                "subject": {"externalRef": "visitor-ie-sean"},
                "purpose": "marketing.communications.email",
                "granted": False,
            }
        },
    )
    assert body["data"]["recordConsent"]["userErrors"] == []
    kestrel = await (await Recipient.get(slug="kestrel-post")).disclosures.all().order_by("id")
    body = await gql(
        admin,
        UPDATE_DISCLOSURE,
        {
            "input": {
                "id": gid("Disclosure", kestrel[0].id),
                "expectedVersion": 1,
                "dataCategories": ["user.name", "user.contact.email", "user.contact.phone_number"],
            }
        },
    )
    await approved(reviewer, body["data"]["updateDisclosure"])
    crm = await (await Recipient.get(slug="bramblefield-crm")).disclosures.all().order_by("id")
    body = await gql(
        admin,
        END_DISCLOSURE,
        {"input": {"id": gid("Disclosure", crm[0].id), "effectiveTo": "2025-01-31"}},
    )
    await approved(reviewer, body["data"]["endDisclosure"])
    sentinel = await Recipient.get(slug="sentinel-finch")
    body = await gql(
        admin,
        CHANGE_STATUS,
        {"input": {"id": gid("Recipient", sentinel.id), "status": "SUSPENDED"}},
    )
    assert body["data"]["changeRecipientStatus"]["userErrors"] == [], body
    orbitly = await Recipient.get(slug="orbitly-analytics")
    body = await gql(
        admin,
        UPDATE_RECIPIENT,
        {"input": {"id": gid("Recipient", orbitly.id), "expectedVersion": orbitly.version,
                   "country": "IN"}},
    )  # fmt: skip
    payload = body["data"]["updateRecipient"]
    assert payload["userErrors"] == [] and payload["change"]["status"] == "PENDING", payload


async def answers(admin: httpx.AsyncClient, now: str, known_at: str) -> dict[str, Any]:
    """Everything compared before and after: every subject's report at each moment and as
    known at `known_at`, the gaps now and in the past, and the whole inventory with the
    recipients' histories."""
    found: dict[str, Any] = {}
    for ref in SUBJECTS:
        subject = {"externalRef": ref}
        asked = [(moment, now) for moment in (*PAST, now)] + [(now, known_at)]
        for as_of, as_known_at in asked:
            body = await gql(
                admin, WHO_RECEIVES, {"subject": subject, "asOf": as_of, "asKnownAt": as_known_at}
            )
            assert "errors" not in body, body
            found[f"{ref} at {as_of} known at {as_known_at}"] = body["data"]
    for as_of in (*PAST, now):
        body = await gql(admin, GAPS, {"asOf": as_of})
        assert "errors" not in body, body
        found[f"gaps at {as_of}"] = body["data"]
    pages: list[Any] = []
    after = None
    while True:
        body = await gql(admin, INVENTORY, {"after": after})
        assert "errors" not in body, body
        pages.append(body["data"])
        info = body["data"]["recipients"]["pageInfo"]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    found["inventory"] = pages
    return found


async def restored_from(backup: bytes, *, actor: str = "tests") -> Any:
    return await restore_backup(BytesIO(backup), actor=actor)


NUMBERED_FROM = {"recipient": 1000, "disclosure": 2000, "data_subject": 500, "audit_event": 3000}
BACKENDS = [
    ("sqlite", "sqlite"),
    ("postgres", "postgres"),
    ("sqlite", "postgres"),
    ("postgres", "sqlite"),
]


@pytest.mark.parametrize(("source", "target"), BACKENDS, ids=[f"{s}-to-{t}" for s, t in BACKENDS])
async def test_a_restored_backup_answers_as_the_original(
    databases: Any, closing: None, source: str, target: str
) -> None:
    source_url, target_url = databases(source), databases(target)
    await open_database(source_url)
    for table, start in NUMBERED_FROM.items():
        await number_from(table, start)
    loaded = await load_fixtures(FIXTURES)
    assert loaded.errors == [], loaded.summary()
    token = await keys.create_key("test-admin", Role.ADMIN, actor="tests")
    second = await keys.create_key("test-reviewer", Role.ADMIN, actor="tests")
    await keys.create_key("left-early", Role.VIEWER, actor="tests")
    await keys.revoke_key("left-early", actor="tests")
    known_at = clock.now().isoformat()
    app = create_app(SETTINGS, manage_database=False)
    async with http_client(app, token) as admin, http_client(app, second) as reviewer:
        await history_written_after(admin, reviewer)
        now = clock.now().isoformat()
        before = await answers(admin, now, known_at)
    # What was written after `known_at` shows in the answers compared, as it should.
    sean = "visitor-ie-sean at {} known at {}"
    assert before[sean.format(now, known_at)] != before[sean.format(now, now)]
    assert before[f"gaps at {PAST[0]}"] != before[f"gaps at {now}"]
    out = BytesIO()
    written = await write_backup(out.write)
    assert written.rows["recipient"] == 31 and written.rows["data_subject"] == len(SUBJECTS)
    # Rows that point at rows of their own table, and changes decided and waiting.
    assert await Disclosure.filter(corrected_into_id__not_isnull=True).count() == 1
    assert written.rows["change_request"] >= 3
    source_events = await AuditEvent.all().count()
    await Tortoise.close_connections()

    await open_database(target_url)
    # The database restored into has a key of its own already (make run's local admin).
    local = await keys.create_key("local-admin", Role.ADMIN, actor="cli")
    summary = await restored_from(out.getvalue())
    assert summary.rows == written.rows
    assert summary.keys_without_token == ["left-early", "test-admin", "test-reviewer"]
    app = create_app(SETTINGS, manage_database=False)
    async with http_client(app, local) as admin:
        after = await answers(admin, now, known_at)
    for asked, answer in before.items():
        assert after[asked] == answer, asked
    assert after == before

    # The backup's keys came back with their names and roles but no token.
    restored = {k.name: k for k in await ApiKey.all()}
    assert restored["test-admin"].role == Role.ADMIN and restored["test-admin"].revoked_at is None
    assert restored["left-early"].revoked_at is not None
    assert await keys.authenticate(token) is None
    async with http_client(create_app(SETTINGS, manage_database=False), token) as old:
        assert (
            await old.post("/graphql", json={"query": "{ purposes { key } }"})
        ).status_code == 401
    # The local key goes on working, numbered after the backup's.
    assert restored["local-admin"].id > restored["test-admin"].id
    assert (await keys.authenticate(local)) is not None
    # One audit event says what the restore did, and nothing else was added to the log.
    [event] = await AuditEvent.filter(action=backup_rules.RESTORE_ACTION)
    without = ["left-early", "test-admin", "test-reviewer"]
    assert orjson.loads(event.changes)["keysWithoutToken"] == [None, without]
    assert await AuditEvent.all().count() == source_events + 2  # local-admin's creation, restore
    # New rows take the ids after the restored ones (sequences reset on PostgreSQL).
    with pytest.raises(keys.KeyProblem, match="left-early was revoked"):
        await keys.reissue_key("left-early", actor="cli")
    key = await keys.reissue_key("test-admin", actor="cli")
    principal = await keys.authenticate(key)
    assert principal is not None and (principal.name, principal.role) == ("test-admin", Role.ADMIN)
    newest = await AuditEvent.all().order_by("-id").first()
    assert newest is not None and newest.action == "reissueApiKey" and newest.id > event.id
    assert min(await Recipient.all().values_list("id", flat=True)) == 1001
    async with http_client(create_app(SETTINGS, manage_database=False), key) as admin:
        added = await register(admin, name="After The Restore")
    assert int(base64.b64decode(added["id"]).split(b":")[1]) == 1032


async def test_a_restore_into_an_inventory_is_refused_and_writes_nothing(
    databases: Any, closing: None
) -> None:
    await open_database(databases("sqlite"))
    await load_fixtures(FIXTURES)
    out = BytesIO()
    await write_backup(out.write)
    events = await AuditEvent.all().count()
    with pytest.raises(BackupRefused, match=r"not empty \(rows in recipient: 31, data_subject: 6"):
        await restored_from(out.getvalue())
    assert await AuditEvent.all().count() == events
    assert await Recipient.all().count() == 31


async def a_backup(url: str) -> bytes:
    await open_database(url)
    await load_fixtures(FIXTURES)
    await keys.create_key("test-admin", Role.ADMIN, actor="tests")
    out = BytesIO()
    await write_backup(out.write)
    await Tortoise.close_connections()
    return out.getvalue()


def edited(backup: bytes, line: int, change: Any) -> bytes:
    lines = backup.split(b"\n")
    lines[line] = orjson.dumps(change(orjson.loads(lines[line])))
    return b"\n".join(lines)


def header_with(**fields: Any) -> Any:
    return lambda raw: {**raw, **fields}


def row_line(backup: bytes, table: str) -> int:
    """The number (from 0) of the first row of `table`."""
    lines = backup.split(b"\n")
    opening = next(
        i for i, line in enumerate(lines) if line.startswith(b'{"table":"' + table.encode())
    )
    return opening + 1


HEAD = max(committed_migrations())
REFUSALS: list[tuple[str, Any, str | None]] = [
    ("empty", lambda b: b"", "is empty"),
    ("not JSON", lambda b: b"SQLite format 3\x00\x01\x02", "is not a backup of this service"),
    ("JSON but not a backup", lambda b: b'{"recipients": []}\n', "is not a backup"),
    ("a newer format", lambda b: edited(b, 0, header_with(version=2)), "format version 2"),
    (
        "another schema",
        lambda b: edited(b, 0, header_with(schema="0009_transfer_regimes")),
        f"written at schema 0009_transfer_regimes; this database is at {HEAD}: restore it",
    ),
    ("cut short", lambda b: b[: b.rindex(b'\n{"end"')], "without its end line"),
    ("cut in a table", lambda b: b"\n".join(b.split(b"\n")[:200]), "without its end line"),
    (
        "a count edited",
        lambda b: b.replace(b'"recipient":31,', b'"recipient":30,'),
        "counts 30 rows of recipient, but 31 were read",
    ),
    (
        "a row of the wrong shape",
        lambda b: edited(b, row_line(b, "recipient"), lambda r: r[:3]),
        "recipient: not a row of 24 values",
    ),
    (
        "a value of the wrong kind",
        lambda b: edited(b, row_line(b, "recipient"), lambda r: ["one", *r[1:]]),
        "recipient: 'one' is not of the kind integer",
    ),
    (
        "a dangling reference",
        lambda b: edited(b, row_line(b, "disclosure"), lambda r: [*r[:-1], 999]),
        "the rows of disclosure up to line",
    ),
    ("a line after the end", lambda b: b + b"\n[1]\n", "comes after the end line"),
    ("blank lines after the end", lambda b: b + b"\n\n", None),
    (
        "the last table left out",
        lambda b: b.replace(b.split(b"\n")[-3] + b"\n", b""),
        "the end comes before the table transfer_consent",
    ),
]


@pytest.mark.parametrize(("case", "change", "message"), REFUSALS, ids=[r[0] for r in REFUSALS])
async def test_a_refused_restore_writes_nothing(
    databases: Any, closing: None, case: str, change: Any, message: str
) -> None:
    backup = change(await a_backup(databases("sqlite")))
    await open_database(databases("sqlite"))
    local = await keys.create_key("local-admin", Role.ADMIN, actor="cli")
    if message is None:  # not refused: the same backup, read whole
        assert (await restored_from(backup)).rows["recipient"] == 31
        return
    with pytest.raises(BackupRefused) as refused:
        await restored_from(backup)
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)
    assert await Recipient.all().count() == 0 and await DataSubject.all().count() == 0
    assert [k.name for k in await ApiKey.all()] == ["local-admin"]
    assert await keys.authenticate(local) is not None
    assert [e.action for e in await AuditEvent.all()] == ["createApiKey"]


async def test_every_model_is_carried_or_excluded_with_a_reason(db: str) -> None:
    """A table added later is carried without a change to the backup, or listed with the
    reason it is not: a model neither (or a column of a kind the backup cannot write) fails."""
    models = store.model_tables()
    carried = {t.name for t in backup_rules.carried_tables(models)}
    for table in models:
        reason = backup_rules.EXCLUDED_TABLES.get(table.name)
        assert table.name in carried or reason, table.name
        for column in table.columns:
            withheld = backup_rules.EXCLUDED_COLUMNS.get((table.name, column.name))
            assert table.name not in carried or withheld is None or withheld.reason
    assert carried == {t.name for t in models} - set(backup_rules.EXCLUDED_TABLES)
    # The backup of the fixtures holds a section for each, in foreign-key order.
    await load_fixtures(FIXTURES)
    out = BytesIO()
    await write_backup(out.write)
    sections = [
        orjson.loads(line)["table"]
        for line in out.getvalue().split(b"\n")
        if line.startswith(b'{"table"')
    ]
    assert set(sections) == carried
    seen: set[str] = set()
    for table in backup_rules.carried_tables(models):
        for column in table.columns:
            assert column.references in seen | {table.name, None}
        seen.add(table.name)
    assert b"token_hash" not in out.getvalue()


async def test_a_backup_holds_no_token_hash(db: str) -> None:
    token = await keys.create_key("test-admin", Role.ADMIN, actor="tests")
    out = BytesIO()
    await write_backup(out.write)
    assert keys.token_hash(token).encode() not in out.getvalue()
    [row] = [
        orjson.loads(line) for line in out.getvalue().split(b"\n") if line.startswith(b'[1,"test')
    ]
    assert row[:3] == [1, "test-admin", "admin"]


async def test_a_sqlite_backup_reads_one_snapshot_and_holds_no_writer_up(
    databases: Any, closing: None
) -> None:
    """While a backup reads (a deferred read transaction), another connection writes at once
    (no wait for a lock), and the backup does not see what it wrote."""
    url = databases("sqlite")
    await open_database(url)
    await load_fixtures(FIXTURES)
    other = sqlite3.connect(url[len("sqlite://") :], timeout=0)
    written_meanwhile = False
    chunks: list[bytes] = []

    def write(chunk: bytes) -> None:
        nonlocal written_meanwhile
        chunks.append(chunk)
        if not written_meanwhile and chunk.startswith(b'{"table":"recipient"'):
            with other:
                other.execute("DELETE FROM transfer")
            written_meanwhile = True

    try:
        summary = await write_backup(write)
    finally:
        other.close()
    assert written_meanwhile
    assert summary.rows["transfer"] == 47
    assert await store.count_rows(Tortoise.get_connection("default"), "transfer") == 0
    assert datetime.fromisoformat(orjson.loads(chunks[0])["createdAt"]).tzinfo == UTC


# The command line: python -m server export backup -o FILE, restore FILE, keys reissue NAME.


def run(url: str, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["--database-url", url, *args])
    out, err = capsys.readouterr()
    return code, out, err


def prepared(url: str, *, fixtures: bool) -> None:
    """An emptied database with a key (test-admin), and the fixtures if asked."""

    async def prepare() -> None:
        await open_database(url)
        try:
            if fixtures:
                await load_fixtures(FIXTURES)
            await keys.create_key("test-admin", Role.ADMIN, actor="tests")
        finally:
            await Tortoise.close_connections()

    asyncio.run(prepare())


def principal_of(url: str, token: str) -> Principal | None:
    async def read() -> Principal | None:
        EXECUTOR_CACHE.clear()
        await Tortoise.init(config=tortoise_config(url))
        try:
            return await keys.authenticate(token)
        finally:
            await Tortoise.close_connections()

    return asyncio.run(read())


@pytest.mark.parametrize("target", ["sqlite", "postgres"])
def test_backup_and_restore_from_the_command_line(
    databases: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str
) -> None:
    source, restored = databases("sqlite"), databases(target)
    prepared(source, fixtures=True)
    file = tmp_path / "inventory.backup.jsonl"
    code, _, err = run(source, "export", "backup", "-o", str(file), capsys=capsys)
    assert code == 0, err
    assert "Backed up 1" in err and "recipients: 31, data subjects: 6" in err
    assert [p.name for p in tmp_path.iterdir() if "backup" in p.name] == [file.name]
    assert file.stat().st_mode & 0o777 == 0o600
    prepared(restored, fixtures=False)
    code, out, err = run(restored, "restore", str(file), capsys=capsys)
    assert (code, err) == (0, ""), err
    assert "recipients: 31, data subjects: 6" in out
    assert "python -m server keys reissue NAME (test-admin)" in out
    assert "This database's key test-admin is now named test-admin-2" in out
    code, out, err = run(restored, "keys", "reissue", "test-admin", capsys=capsys)
    assert code == 0, err
    principal = principal_of(restored, out.strip())
    assert principal is not None and principal.name == "test-admin"
    code, _, err = run(restored, "keys", "reissue", "nobody", capsys=capsys)
    assert code == 1 and "No key named nobody." in err


def test_a_backup_goes_to_standard_output_without_a_file(
    databases: Any, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    url = databases("sqlite")
    prepared(url, fixtures=False)
    assert main(["--database-url", url, "export", "backup"]) == 0
    out, err = capsysbinary.readouterr()
    header = orjson.loads(out.split(b"\n", 1)[0])
    assert header["format"] == backup_rules.FORMAT
    assert header["version"] == backup_rules.FORMAT_VERSION
    assert out.rstrip().rsplit(b"\n", 1)[1].startswith(b'{"end":true')
    assert b"Backed up" in err


def cli_refusals(tmp_path: Path, backup: Path) -> list[tuple[list[str], str]]:
    newer = tmp_path / "newer.jsonl"
    newer.write_bytes(edited(backup.read_bytes(), 0, header_with(version=2)))
    text = tmp_path / "notes.txt"
    text.write_text("not a backup\n")
    return [
        (["restore", str(tmp_path / "missing.jsonl")], "missing.jsonl: No such file or directory"),
        (["restore", str(text)], "notes.txt: is not a backup of this service"),
        (["restore", str(newer)], "is in backup format version 2; this release reads version 1"),
        (
            ["restore", str(backup)],
            "the database is not empty (rows in recipient: 31, data_subject: 6",
        ),
        (["export", "backup", "-o", str(tmp_path / "no" / "b.jsonl")], "No such file or directory"),
        (["export", "backup", "--as-of", "2024-01-01"], "a backup holds every moment: no --as-of"),
        (["export", "backup", "--format", "csv"], "a backup is written as jsonl, not 'csv'"),
    ]


def test_refusals_are_one_line_and_exit_2(
    databases: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = databases("sqlite")
    prepared(url, fixtures=True)
    backup = tmp_path / "b.jsonl"
    assert run(url, "export", "backup", "-o", str(backup), capsys=capsys)[0] == 0
    for args, message in cli_refusals(tmp_path, backup):
        code, out, err = run(url, *args, capsys=capsys)
        assert code == 2, (args, err)
        assert message in err, (args, err)
        assert err.count("\n") == 1 and "Traceback" not in err and out == "", (args, err)


async def test_a_row_may_come_before_the_row_of_its_table_it_points_at(
    databases: Any, closing: None
) -> None:
    """A subprocessor's row before its engager's (the format allows it): written without its
    engager first, then given it once the table is complete."""
    backup = await a_backup(databases("sqlite"))
    lines = backup.split(b"\n")
    first = row_line(backup, "recipient")
    last = next(i for i in range(first, len(lines)) if not lines[i].startswith(b"["))
    lines[first:last] = reversed(lines[first:last])
    source = {orjson.loads(line)[0]: orjson.loads(line)[-1] for line in lines[first:last]}
    assert sum(engager is not None for engager in source.values()) >= 3
    await open_database(databases("sqlite"))
    await restored_from(b"\n".join(lines))
    restored = dict(await Recipient.all().values_list("id", "engaged_by_id"))
    assert restored == source
