"""The import's batches (issue 15 §5): new recipients judged in memory by the mutations' own
checks and written in one statement per table, with exactly what the use cases one by one
would write (rows, versions, audit events in their order); recipients already in the
inventory through the use cases, in phases that keep every engager before what it engages."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date, timedelta
from typing import Any

import orjson
import pytest
from tortoise import Tortoise
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.db.bulk_inserts import InsertRefused, execute, models_insert, reserve_ids
from server.db.disclosure_writes import NewDisclosure, insert_disclosure, insert_disclosures
from server.db.models import (
    AuditEvent,
    ChangeRequest,
    Disclosure,
    DisclosureAudience,
    DisclosureCategory,
    DisclosurePurpose,
    DisclosureSubjectType,
    Recipient,
    StatusChange,
    Transfer,
)
from server.domain import imports, subprocessors
from server.domain.access import Role
from server.domain.disclosure_terms import DisclosureSpec, TransferSpec
from server.domain.enums import (
    DisclosureFrequency,
    DisclosureGround,
    LegalBasis,
    SpecialCategoryCondition,
    TransferMechanism,
)
from server.domain.imports import ImportFormat, ImportReport, RecipientEntry
from server.services import audit, clock
from server.services.imports import ImportRequest, _phases, import_inventory
from tests.conftest import QueryCounter

COLUMNS = [*imports.RECIPIENT_COLUMNS, *imports.DISCLOSURE_COLUMNS]
TERMS = {
    "dataCategories": "user.contact.email; user.name",
    "subjectTypes": "customer",
    "purposes": "essential.service",
    "legalBasis": "Contract",
    "ground": "Service provision",
}


def csv_of(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.header for c in COLUMNS])
    for row in rows:
        writer.writerow([row.get(c.api, "") for c in COLUMNS])
    return out.getvalue().encode()


def vendor(n: int, **cells: str) -> dict[str, str]:
    return {
        "slug": f"vendor-{n:04d}",
        "name": f"Vendor {n:04d}",
        "kind": "Service provider",
        "role": "Processor",
        "country": "US",
        **cells,
    }


async def run(
    content: bytes, *, dry_run: bool = False, role: Role | None = Role.ADMIN
) -> ImportReport:
    request = ImportRequest(ImportFormat.CSV, content, dry_run=dry_run)
    return await import_inventory(request, actor="importer", role=role)


def two_thousand_rows() -> list[dict[str, str]]:
    """200 processors with ten disclosures each: every fourth ACTIVE (an import review and an
    importInventory event each), every tenth disclosure of every fifth vendor ending later."""
    later = (clock.today() + timedelta(days=90)).isoformat()
    rows = []
    for n in range(200):
        status = "Active" if n % 4 == 0 else ""
        for d in range(10):
            ends = later if n % 5 == 0 and d == 9 else ""
            rows.append(
                vendor(n, status=status)
                | TERMS
                | {"retention": f"P{d + 1}D", "effectiveTo": ends, "transfers": "IN=SCC"}
            )
    return rows


async def test_two_thousand_rows_then_again_then_edited(db: str) -> None:
    rows = two_thousand_rows()
    dry = await run(csv_of(rows), dry_run=True)
    assert (dry.problems, dry.created, dry.applied) == ([], 200, False)
    assert await Recipient.all().count() == 0 and await AuditEvent.all().count() == 0

    report = await run(csv_of(rows))
    assert (report.problems, report.applied) == ([], True)
    assert (report.created, report.updated, report.unchanged) == (200, 0, 0)
    actions = Counter(await AuditEvent.all().values_list("action", flat=True))
    assert actions == {
        "registerRecipient": 200,
        "addDisclosure": 2000,
        "openChange": 50,
        "importInventory": 50,
        "endDisclosure": 40,
    }
    assert await Disclosure.all().count() == 2000
    assert await Disclosure.filter(effective_to__not_isnull=True).count() == 40
    assert await DisclosureAudience.all().count() == 4000
    assert await Transfer.all().count() == 2000
    assert await ChangeRequest.all().count() == 50
    assert await StatusChange.all().count() == 200
    # registerRecipient made version 1; each end moved it on, as endDisclosure does.
    versions = dict(await Recipient.all().values_list("slug", "version"))
    assert versions["vendor-0000"] == 2 and versions["vendor-0001"] == 1

    again = await run(csv_of(rows))
    assert (again.created, again.updated, again.unchanged, again.problems) == (0, 0, 200, [])
    assert await AuditEvent.all().count() == sum(actions.values())

    edited = [row | {"retention": "P1Y"} if row["slug"] == "vendor-0007" else row for row in rows]
    third = await run(csv_of(edited))
    assert (third.created, third.updated, third.unchanged) == (0, 1, 199)


async def test_one_recipients_events_in_the_order_the_use_cases_record_them(db: str) -> None:
    """Past the per-request cap, the rest go as addDisclosure would add them, each moving the
    version on; an "Ends on" ends its disclosure after it is recorded."""
    later = (clock.today() + timedelta(days=30)).isoformat()
    rows = [
        vendor(1, status="Approved")
        | TERMS
        | {"retention": f"P{d + 1}D", "effectiveTo": later if d in (0, 52) else ""}
        for d in range(53)
    ]
    report = await run(csv_of(rows))
    assert (report.problems, report.created) == ([], 1)
    recipient = await Recipient.get(slug="vendor-0001")
    assert recipient.version == 1 + 3 + 2  # three added after the registration, two ended
    disclosure_ids = (
        await Disclosure.filter(recipient_id=recipient.id)
        .order_by("id")
        .values_list("id", flat=True)
    )
    events = await AuditEvent.filter(recipient_id=recipient.id).order_by("id")
    assert [(e.action, e.entity_id) for e in events] == [
        ("registerRecipient", recipient.id),
        *[("addDisclosure", i) for i in disclosure_ids[:50]],
        ("openChange", (await ChangeRequest.get(recipient_id=recipient.id)).id),
        ("importInventory", recipient.id),
        ("endDisclosure", disclosure_ids[0]),
        ("addDisclosure", disclosure_ids[50]),
        ("addDisclosure", disclosure_ids[51]),
        ("addDisclosure", disclosure_ids[52]),
        ("endDisclosure", disclosure_ids[52]),
    ]
    assert orjson.loads(events[-1].changes) == {"effectiveTo": [None, later]}


async def test_statements_do_not_grow_with_the_file(db: str, sql_counter: QueryCounter) -> None:
    """A batch reads and writes in one statement per table whatever its size."""
    counts = []
    for first, size in ((0, 10), (100, 100)):
        rows = [vendor(n) | TERMS | {"engagedBy": ""} for n in range(first, first + size)]
        sql_counter.statements.clear()
        report = await run(csv_of(rows))
        assert (report.created, report.problems) == (size, [])
        counts.append(len(sql_counter.statements))
    assert counts[0] == counts[1], counts


async def test_engagements_across_new_and_stored_recipients(db: str) -> None:
    """A new subprocessor engaged by a stored processor whose role the file changes, a stored
    subprocessor moved to a new processor: each is judged after the recipient it names is as
    the file makes it, in the dry run as in the import."""
    first = [
        vendor(1) | TERMS,
        vendor(2) | TERMS,
        vendor(3, role="Subprocessor", engagedBy="vendor-0001") | TERMS,
    ]
    assert (await run(csv_of(first))).created == 3
    second = [
        vendor(2, role="Controller") | TERMS,  # cannot engage any longer
        vendor(3, role="Subprocessor", engagedBy="vendor-0010") | TERMS,  # moved to a new one
        vendor(10) | TERMS,
        vendor(11, role="Subprocessor", engagedBy="vendor-0002") | TERMS,
        vendor(12, role="Subprocessor", engagedBy="vendor-0003") | TERMS,
    ]
    dry = await run(csv_of(second), dry_run=True)
    applied = await run(csv_of(second))
    assert dry.problems == applied.problems
    (problem,) = applied.problems
    assert (problem.row, problem.column, problem.value) == (5, "Engaged by", "vendor-0002")
    assert await Recipient.all().count() == 3

    second.pop(3)
    dry = await run(csv_of(second), dry_run=True)
    assert (dry.problems, dry.created, dry.updated) == ([], 2, 2)
    assert await Recipient.all().count() == 3
    applied = await run(csv_of(second))
    assert (applied.problems, applied.created, applied.updated) == ([], 2, 2)
    engagers = {
        slug: engager
        for slug, engager in await Recipient.all().values_list("slug", "engaged_by__slug")
    }
    assert engagers["vendor-0003"] == "vendor-0010" and engagers["vendor-0012"] == "vendor-0003"


async def test_a_chain_of_new_subprocessors_is_held_to_its_length(db: str) -> None:
    """Each judged as if the ones above it were registered: the first one too deep is refused,
    and the one below it then names an engager that does not exist."""
    top = subprocessors.MAX_CHAIN_LINKS + 2
    # Vendor 0 is the processor the controller engaged; vendor n is engaged by vendor n - 1,
    # n links below it. Listed deepest first: the import places each engager first.
    rows = [vendor(0) | TERMS] + [
        vendor(n, role="Subprocessor", engagedBy=f"vendor-{n - 1:04d}") | TERMS
        for n in range(top, 0, -1)
    ]
    report = await run(csv_of(rows))
    found = {(p.row, p.column, p.code.value) for p in report.problems}
    # Vendor n is on row top + 3 - n.
    assert found == {(4, "Engaged by", "INVALID"), (3, "Engaged by", "NOT_FOUND")}
    assert f"{top - 1} links below" in next(p.message for p in report.problems if p.row == 4)
    assert await Recipient.all().count() == 0
    cycle = [
        vendor(1, role="Subprocessor", engagedBy="vendor-0002") | TERMS,
        vendor(2, role="Subprocessor", engagedBy="vendor-0001") | TERMS,
    ]
    report = await run(csv_of(cycle))
    assert {p.column for p in report.problems} == {"Engaged by"}


def entry(slug: str, engaged_by: str | None = None) -> RecipientEntry:
    return RecipientEntry(None, None, slug, {}, set(), engaged_by=engaged_by)


@pytest.mark.parametrize(
    ("entries", "stored", "phases"),
    [
        ([entry("a"), entry("b", "a")], set(), [(True, ["a", "b"])]),
        ([entry("a"), entry("b", "a")], {"a", "b"}, [(False, ["a", "b"])]),
        ([entry("a"), entry("n")], {"a"}, [(True, ["n"]), (False, ["a"])]),
        # A stored recipient engaged by a new one, which a new one engages in turn.
        (
            [entry("n"), entry("s", "n"), entry("m", "s")],
            {"s"},
            [(True, ["n"]), (False, ["s"]), (True, ["m"])],
        ),
    ],
)
def test_phases(
    entries: list[RecipientEntry], stored: set[str], phases: list[tuple[bool, list[str]]]
) -> None:
    existing: dict[str, Any] = {slug: object() for slug in stored}
    found = _phases(entries, existing)
    assert [(p.batch, [e.slug for e in p.entries]) for p in found] == phases


async def test_bulk_rows_read_back_as_the_orm_writes_them(db: str) -> None:
    """insert_disclosures and audit.record_all write what insert_disclosure and
    audit.record_event write, value for value, on either database."""
    recipient = await Recipient.create(
        slug="acme", name="Acme", sort_name="acme", kind="SERVICE_PROVIDER", role="PROCESSOR",
        status="PROPOSED", country="US", registered_by="t", created_at=clock.now(),
        updated_at=clock.now(),
    )  # fmt: skip
    spec = DisclosureSpec(
        data_categories=["user.health_and_medical", "user.name", "user.name"],
        subject_types=["customer", "employee"],
        purposes=["essential.service", "marketing"],
        legal_basis=LegalBasis.CONSENT,
        ground=DisclosureGround.USER_PERMISSION,
        retention=" P30D ",
        transfers=[
            TransferSpec(
                "US", TransferMechanism.STANDARD_CONTRACTUAL_CLAUSES, "ref", date(2024, 1, 2), True
            ),
            TransferSpec("IN", TransferMechanism.BINDING_CORPORATE_RULES),
        ],
        effective_from=date(2023, 5, 6),
        frequency=DisclosureFrequency.ON_REQUEST,
        special_category_condition=SpecialCategoryCondition.EXPLICIT_CONSENT,
    )  # fmt: skip
    at = clock.now()
    ends = date(2030, 1, 1)
    event = audit.Event(at, "t", "addDisclosure", "Disclosure", 7, recipient.id, {"a": [None, 1]})
    async with in_transaction() as conn:
        one = await insert_disclosure(conn, recipient.id, spec, at)
        await (
            Disclosure.filter(id=one.id)
            .using_db(conn)
            .update(effective_to=ends, ended_recorded_at=at)
        )
        (many_id,) = await reserve_ids(conn, Disclosure, 1)
        await insert_disclosures(conn, [NewDisclosure(many_id, recipient.id, spec, None, ends)], at)
        await audit.record_event(conn, event)
        await audit.record_all(conn, [event])
    rows = await Disclosure.filter(recipient_id=recipient.id).order_by("id").values()
    assert len(rows) == 2
    assert {**rows[0], "id": 0} == {**rows[1], "id": 0}
    for model, columns in (
        (DisclosureCategory, ("category_id",)),
        (DisclosureSubjectType, ("subject_type_id",)),
        (DisclosureAudience, ("subject_type_id", "category_id")),
        (DisclosurePurpose, ("purpose_id", "position")),
        (Transfer, ("country", "mechanism", "reference", "signed_on", "within_adequacy_scope")),
    ):
        written = [
            sorted(await model.filter(disclosure_id=i).values_list(*columns))
            for i in (one.id, many_id)
        ]
        assert written[0] == written[1] and written[0], model
    events = await AuditEvent.all().order_by("id").values()
    assert {**events[0], "id": 0} == {**events[1], "id": 0}
    # Read through the ORM's own conversions, and as raw text on SQLite alike.
    conn = Tortoise.get_connection("default")
    _, raw = await conn.execute_query(
        "SELECT created_at, ended_recorded_at, effective_from FROM disclosure ORDER BY id"
    )
    first, second = (tuple(row) for row in raw)
    assert first == second


async def test_a_bulk_insert_that_breaks_a_constraint_raises_tortoises_error(db: str) -> None:
    """The import tells a slug registered meanwhile by tortoise's IntegrityError from the bulk
    insert of its recipients, on either database; and the rows before it in the same call are
    rolled back with the transaction."""
    at = clock.now()

    def row(slug: str) -> Recipient:
        return Recipient(
            slug=slug, name=slug, sort_name=slug, kind="SERVICE_PROVIDER", role="PROCESSOR",
            status="PROPOSED", country="US", registered_by="t", created_at=at, updated_at=at,
        )  # fmt: skip

    async with in_transaction() as conn:
        await execute(conn, [models_insert(conn, Recipient, [row("acme")])])
    with pytest.raises(IntegrityError) as refused:
        async with in_transaction() as conn:
            await execute(
                conn,
                [
                    models_insert(conn, Recipient, [row("first")]),
                    models_insert(conn, Recipient, [row("second"), row("acme")]),
                ],
            )
    # Which of the inserts was refused: an import tells its recipients' from the rest.
    assert isinstance(refused.value, InsertRefused) and refused.value.index == 1
    assert await Recipient.filter(slug="acme").count() == 1
    assert not await Recipient.filter(slug__in=["first", "second"]).exists()


async def test_bulk_rows_hold_exactly_what_the_orm_writes_whatever_the_values(db: str) -> None:
    """On SQLite a bulk insert's rows go as one JSON text that SQLite reads: each value lands as
    the ORM's own insert binds it (text with quotes, backslashes, control characters and any
    script, a flag, nothing, a day, a moment, a JSON column), with the same storage class."""
    at = clock.now()
    texts = [
        'a "quote", a \\ backslash, a \\u0041 escape',
        "a line\nbreak, a\ttab",
        "名前 — ünïcödé 🙂",
        "",
        "  spaced  ",
    ]

    def row(number: int, text: str, flag: bool) -> Recipient:
        return Recipient(
            slug=f"r{number}", name=text or "x", sort_name=text, legal_name=text or None,
            kind="SERVICE_PROVIDER", role="PROCESSOR", status="ACTIVE", country="US",
            services=[text, "b"], website=None, dpa_signed_on=date(2024, 2, 29),
            dpf_certified=flag, international_organisation=not flag, registered_by=text,
            version=number, created_at=at, updated_at=at,
        )  # fmt: skip

    rows = [row(i, text, i % 2 == 0) for i, text in enumerate(texts)]
    bulk = [row(i + 100, text, i % 2 == 0) for i, text in enumerate(texts)]
    async with in_transaction() as conn:
        for one in rows:
            await one.save(using_db=conn)
        await execute(conn, [models_insert(conn, Recipient, bulk)])
    conn = Tortoise.get_connection("default")
    columns = [c for c in Recipient._meta.fields_db_projection.values() if c not in ("id", "slug")]
    quoted = [f'"{c}"' for c in columns]
    if db.startswith("sqlite"):
        quoted += [f"typeof({c})" for c in quoted]
    _, found = await conn.execute_query(f"SELECT {', '.join(quoted)} FROM recipient ORDER BY id")
    found = [tuple(r) for r in found]
    orm, bulk_written = found[: len(texts)], found[len(texts) :]
    # The versions differ by 100, as given; every other value and its storage class alike.
    version = columns.index("version")
    assert [r[:version] + r[version + 1 :] for r in orm] == [
        r[:version] + r[version + 1 :] for r in bulk_written
    ]
    assert [r[version] + 100 for r in orm] == [r[version] for r in bulk_written]
    # And read back through the ORM, the texts as given.
    read = await Recipient.filter(slug__in=[r.slug for r in bulk]).order_by("id")
    assert [(r.registered_by, r.services) for r in read] == [(t, [t, "b"]) for t in texts]
