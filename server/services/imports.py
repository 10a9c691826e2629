"""Importing an inventory from a file, all or nothing (issue 15 §1).

One validation judges imports and mutations alike, inside one transaction, and every problem of
every row is reported at once; unless the run is dry and every row was valid, the transaction
commits with the audit events the use cases record, otherwise it rolls back and nothing is
written. A recipient is matched by slug; a disclosure row identical to one in effect is
unchanged; re-importing the same file changes nothing.

The file's new recipients are judged in batches by the checks registerRecipient, addDisclosure
and endDisclosure run (the same functions; those that read the database asked once per batch),
as if registered one after the other, and written in chunks of one statement per table: the
rows and audit events the use cases would have written (bench/imports.py measures both against
floors: issue 15 §5). Recipients already in the inventory go through the use cases themselves
(updateRecipient, addDisclosure, endDisclosure), each call in a savepoint, so a material change
to an APPROVED or ACTIVE one waits for a second key as it would from a mutation."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from server.db.bulk_inserts import Insert, InsertRefused, execute, fields_insert, reserve_ids
from server.db.disclosure_writes import NewDisclosure, disclosures_inserts
from server.db.models import (
    ChangeRequest,
    Disclosure,
    Establishment,
    Recipient,
    StatusChange,
)
from server.domain import access, imports, subprocessors, validation
from server.domain import change_requests as change_rules
from server.domain.access import Role
from server.domain.disclosure_terms import (
    DISCLOSURES_PER_RECIPIENT_MAX,
    DISCLOSURES_PER_REQUEST_MAX,
    check_disclosure,
    disclosure_count_error,
)
from server.domain.enums import (
    ProcessingRole,
    RecipientStatus,
    UserErrorCode,
)
from server.domain.errors import ErrorCollector, UserError, UserErrors
from server.domain.imports import (
    DisclosureEntry,
    ImportFormat,
    ImportPlan,
    ImportProblem,
    ImportReport,
    RecipientEntry,
    StoredDisclosure,
)
from server.domain.taxonomy import default_taxonomy
from server.services import (
    audit,
    change_requests,
    clock,
    disclosures,
    import_sources,
    recipient_changes,
    registration,
)
from server.services.commands import (
    AddDisclosure,
    EndDisclosure,
    RegisterRecipient,
    UpdateRecipient,
)
from server.services.disclosures import Exporter, exporters_for
from server.services.engagement import Engager, judge_engagement
from server.services.import_files import UnreadableFile, csv_table, xlsx_tables

# SQLite allows 32,766 variables in one statement: reads by slug or id go in chunks.
CHUNK = 500
# A batch hands the event loop back after judging this many recipients, and writes this many
# at a time (while it judges the next ones): preparing a chunk's rows holds the loop for about
# 0.1 s, and one chunk's rows are what it keeps in memory.
YIELD_EVERY = 100
WRITE_EVERY = 200


@dataclass
class ImportRequest:
    format: ImportFormat
    content: bytes
    dry_run: bool = False
    vendor_ids: list[int] | None = None
    default_country: str | None = None
    # When the caller's answer must be ready (time.monotonic()): an import that would commit
    # later rolls back instead, so that no caller is told of a timeout after its write.
    deadline: float | None = None


class _Undo(Exception):
    """Rolls the import's transaction back: a dry run, or a file with problems."""


def plan_file(request: ImportRequest) -> ImportPlan:
    """What the file asks for, with the problems and notes of reading its cells."""
    try:
        if request.format == ImportFormat.CSV:
            return imports.plan_csv(csv_table(request.content))
        if request.format == ImportFormat.XLSX:
            return imports.plan_workbook(xlsx_tables(request.content))
    except UnreadableFile as exc:
        return _refused(str(exc))
    if request.format == ImportFormat.FIDES_YAML:
        return import_sources.plan_fides(request.content, request.default_country)
    return import_sources.plan_gvl(request.content, request.vendor_ids, request.default_country)


# The most vendors one IAB GVL import may choose (a GVL lists about a thousand).
VENDOR_IDS_MAX = 5_000


def check_request(request: ImportRequest) -> None:
    """The request's own arguments, before the file: UserErrors naming the argument."""
    errors = ErrorCollector()
    if request.default_country is not None and (
        problem := validation.country_error(request.default_country)
    ):
        errors.add(["input", "defaultCountry"], problem)
    if request.vendor_ids is not None:
        if len(request.vendor_ids) > VENDOR_IDS_MAX:
            errors.add(["input", "vendorIds"], f"At most {VENDOR_IDS_MAX:,} vendor ids.")
        elif any(not 0 < v < 2**31 for v in request.vendor_ids):
            errors.add(["input", "vendorIds"], "A GVL vendor id is a positive number.")
    errors.raise_if_any()


def _refused(message: str) -> ImportPlan:
    plan = ImportPlan()
    plan.problems.append(ImportProblem(None, None, None, None, UserErrorCode.INVALID, message))
    return plan


async def import_inventory(
    request: ImportRequest, *, actor: str, role: Role | None
) -> ImportReport:
    """`role` is the importing key's (None for a trusted loader): which statuses the file may
    name (procurement: PROPOSED only; a file naming another is refused whole)."""
    check_request(request)
    # Reading a 20 MB workbook takes seconds of CPU: off the event loop, which keeps serving.
    plan = await asyncio.to_thread(plan_file, request)
    report = ImportReport(dry_run=request.dry_run)
    report.problems.extend(plan.problems)
    report.notes.extend(plan.notes)
    if role is not None:
        report.problems.extend(
            imports.forbidden_statuses(plan.recipients, access.INITIAL_STATUSES[role], role.value)
        )
    try:
        async with in_transaction() as conn:
            run = _Run(report, actor, role, request.deadline, conn)
            await run.apply(plan, dry_run=request.dry_run)
            if run.out_of_time():
                report.problems.append(
                    ImportProblem(
                        None,
                        None,
                        None,
                        None,
                        UserErrorCode.INVALID,
                        "The import takes longer than this request may: nothing was written. "
                        "Send the file to POST /imports (or python -m server import).",
                    )
                )
            if report.problems or request.dry_run:
                raise _Undo
            report.applied = True
    except _Undo:
        pass
    refusals = [p for p in report.problems if p.code == UserErrorCode.FORBIDDEN]
    if refusals:
        # As every FORBIDDEN answer: who tried what, and why it was refused.
        await audit.record_refusal(
            at=clock.now(),
            actor=actor,
            operation="importInventory",
            entity_type="Mutation",
            entity_id=0,
            recipient_id=None,
            reason=f"{len(refusals)} row(s): {refusals[0].message}",
        )
    if report.problems:
        report.created = report.updated = report.unchanged = 0
    report.problems.sort(key=imports.reading_order)
    report.notes.sort(key=imports.reading_order)
    return report


def _chunks(items: Sequence[str] | Sequence[int]) -> Iterable[list]:
    for start in range(0, len(items), CHUNK):
        yield list(items[start : start + CHUNK])


def _engagers_first(entries: list[RecipientEntry]) -> list[RecipientEntry]:
    """The file's recipients with each engager before the subprocessors it engages (a cycle is
    left to the use cases, which refuse it)."""
    by_slug = {e.slug: e for e in entries}
    placed: set[int] = set()
    visiting: set[int] = set()
    out: list[RecipientEntry] = []

    def place(entry: RecipientEntry) -> None:
        if id(entry) in placed or id(entry) in visiting:
            return
        visiting.add(id(entry))
        engager = by_slug.get(entry.engaged_by or "")
        if engager is not None:
            place(engager)
        visiting.discard(id(entry))
        placed.add(id(entry))
        out.append(entry)

    for entry in entries:
        place(entry)
    return out


@dataclass
class _Phase:
    """Recipients judged together: new ones (`batch`: judged in memory, written in bulk), or
    ones already in the inventory (each through the mutations' use cases)."""

    batch: bool
    entries: list[RecipientEntry]


def _phases(ordered: list[RecipientEntry], existing: dict[str, Recipient]) -> list[_Phase]:
    """The recipients in as few phases as the engagements between them allow, batches and use
    cases alternating: each recipient comes after the one that engages it (in an earlier phase,
    or earlier in its own), as the file's order with engagers first has it. A file of new
    recipients is one batch; a re-import, one phase of use cases."""
    by_slug = {e.slug: e for e in ordered}
    numbers: dict[int, int] = {}
    phases: dict[int, list[RecipientEntry]] = {}
    for entry in ordered:
        batch = not entry.usable or entry.slug not in existing
        engager = by_slug.get(entry.engaged_by or "")
        after = numbers.get(id(engager), 0) if engager is not None else 0
        # Batches take the even phases, use cases the odd ones.
        number = after if (after % 2 == 0) == batch else after + 1
        numbers[id(entry)] = number
        phases.setdefault(number, []).append(entry)
    return [_Phase(n % 2 == 0, phases[n]) for n in sorted(phases)]


class _Engagements:
    """What a batch's engagements are judged against (services/engagement.py): the stored
    recipients its rows name as engagers, with the chains above them, read once; and the
    batch's own recipients, each from the moment it is judged valid (a negative id until it is
    written), as the use cases would see them registered one after the other."""

    def __init__(self) -> None:
        self.named: dict[str, Engager] = {}
        self.above: dict[int, int | None] = {}

    @classmethod
    async def load(cls, conn: BaseDBAsyncClient, slugs: set[str]) -> _Engagements:
        view = cls()
        wanted = sorted(s for s in slugs if validation.slug_error(s) is None)
        found: list[tuple[int, str, str, str, int | None]] = []
        for chunk in _chunks(wanted):
            found.extend(
                await Recipient.filter(slug__in=chunk)
                .using_db(conn)
                .values_list("id", "slug", "name", "role", "engaged_by_id")  # type: ignore[arg-type]
            )
        for rid, slug, name, role, engaged_by_id in found:
            view.named[slug] = Engager(rid, name, ProcessingRole(role), engaged_by_id)
            view.above[rid] = engaged_by_id
        # The chains above them, a level a statement, as far as a walk may go.
        level = {e for e in view.above.values() if e is not None and e not in view.above}
        for _ in range(subprocessors.MAX_CHAIN_LINKS + 2):
            if not level:
                break
            rows: list[tuple[int, int | None]] = []
            for chunk in _chunks(sorted(level)):
                rows.extend(
                    await Recipient.filter(id__in=chunk)
                    .using_db(conn)
                    .values_list("id", "engaged_by_id")  # type: ignore[arg-type]
                )
            for rid, engaged_by_id in rows:
                view.above[rid] = engaged_by_id
            level = {e for _, e in rows if e is not None and e not in view.above}
        return view

    def register(self, slug: str, engager: Engager) -> None:
        self.named[slug] = engager
        self.above[engager.id] = engager.engaged_by_id

    async def by_slug(self, slug: str) -> Engager | None:
        return self.named.get(slug)

    async def engager_of(self, recipient_id: int) -> int | None:
        return self.above.get(recipient_id)

    async def levels_below(self, recipient_id: int) -> int:
        """Asked only of a recipient already registered: a batch registers new ones."""
        raise AssertionError("a batch judges new recipients only")


@dataclass
class _NewDisclosure:
    row: DisclosureEntry
    exporter: Exporter | None
    # Ended by its "Ends on" cell in the same import.
    ends: bool = False


@dataclass
class _Registered:
    """A new recipient judged valid: what its registration, and the use cases the per-row
    import ran after it, write."""

    command: RegisterRecipient
    judged: registration.Registration
    # A stored recipient's id, or the negative id of one of the batch (until written).
    engaged_by_id: int | None
    placeholder: int
    # Its registration's disclosures, then those added after it (over the per-request cap).
    first: list[_NewDisclosure]
    rest: list[_NewDisclosure]

    @property
    def version(self) -> int:
        """Each disclosure added after the registration, and each end, moved it on."""
        return 1 + len(self.rest) + sum(d.ends for d in (*self.first, *self.rest))


class _Run:
    """One import: the report it fills, and who imports."""

    def __init__(
        self,
        report: ImportReport,
        actor: str,
        role: Role | None,
        deadline: float | None,
        conn: BaseDBAsyncClient,
    ) -> None:
        self.report = report
        self.actor = actor
        self.role = role
        self.deadline = deadline
        self.conn = conn
        self.today = clock.today()
        self.taxonomy = default_taxonomy()
        # Places already reported by the reading of the cells: the use cases' errors there say
        # the same again.
        self.reported = {(p.sheet, p.row, p.column) for p in report.problems}
        # Slugs in the inventory or registered by this import (a Fides manifest may repeat one).
        self.taken: set[str] = set()
        # Recipients already in the inventory, with the version they had before the import.
        self.counted: list[tuple[int, int]] = []

    def _problem(
        self,
        sheet: str | None,
        row: int | None,
        column: str | None,
        value: str | None,
        error: UserError,
    ) -> None:
        if (sheet, row, column) in self.reported:
            return
        self.report.problems.append(
            ImportProblem(sheet, row, column, value, error.code, error.message)
        )

    def _recipient_error(self, entry: RecipientEntry, error: UserError) -> None:
        path = error.field or []
        api = path[1] if len(path) > 1 and path[0] == "input" else None
        if api in ("expectedVersion", "id"):
            api = None
        column = imports.column_for(api) if api else None
        self._problem(entry.sheet, entry.row, column, entry.cells.get(api or ""), error)

    def _disclosure_error(
        self, entry: DisclosureEntry, path: Sequence[str], error: UserError
    ) -> None:
        api = path[0] if path else None
        if api in ("id", "recipientId"):
            api = None
        column = imports.column_for(api) if api else None
        value = entry.cells.get(api or "")
        if api and len(path) > 1 and path[1].isdigit():
            # One item of a list cell (a category, a transfer): the item, not the whole cell.
            items = imports.split_list(value)
            index = int(path[1])
            value = items[index] if index < len(items) else value
        self._problem(entry.sheet, entry.row, column, value, error)

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() > self.deadline

    async def apply(self, plan: ImportPlan, *, dry_run: bool) -> None:
        slugs = sorted(
            {e.slug for e in plan.recipients if e.slug} | {d.slug for d in plan.other_disclosures}
        )
        existing: dict[str, Recipient] = {}
        for chunk in _chunks(slugs):
            for recipient in await Recipient.filter(slug__in=chunk).using_db(self.conn):
                existing[recipient.slug] = recipient
        self.taken = set(existing)
        stored = await self._stored([r.id for r in existing.values()])
        phases = _phases(_engagers_first(plan.recipients), existing)
        for number, phase in enumerate(phases):
            if self.out_of_time():
                return  # rolled back by the caller, with its problem
            if phase.batch:
                # A later phase's use cases read the recipients of this batch they name: those
                # are written even in a dry run, even when other rows have problems.
                named = {e.engaged_by for later in phases[number + 1 :] for e in later.entries}
                read_later = any(e.slug in named for e in phase.entries)
                batch = await _Batch.start(self, phase.entries, write=not dry_run or read_later)
                await batch.judge(read_later=read_later)
                continue
            for entry in phase.entries:
                if self.out_of_time():
                    return
                known = existing[entry.slug]
                await self._update(entry, known, stored.get(known.id, []))
        others: dict[str, list[DisclosureEntry]] = {}
        for disclosure in plan.other_disclosures:
            others.setdefault(disclosure.slug, []).append(disclosure)
        for slug, rows in others.items():
            owner = existing.get(slug)
            if owner is None:
                for row in rows:
                    self._problem(
                        row.sheet,
                        row.row,
                        imports.column_for("slug"),
                        slug,
                        UserError(
                            None,
                            f'No recipient with slug "{slug[:100]}" on the '
                            f"{imports.RECIPIENTS_SHEET} sheet or in the inventory.",
                            UserErrorCode.NOT_FOUND,
                        ),
                    )
                self._check_only(rows)
                continue
            await self._disclosures(owner.id, rows, stored.get(owner.id, []))
            self._count(owner.id, owner.version)
        await self._tally()

    async def _stored(self, recipient_ids: list[int]) -> dict[int, list[StoredDisclosure]]:
        """The disclosures of these recipients that a row may match: not ended before today."""
        out: dict[int, list[StoredDisclosure]] = {}
        if not recipient_ids:
            return out
        exporters = dict(await Establishment.all().using_db(self.conn).values_list("id", "slug"))
        for chunk in _chunks(recipient_ids):
            query = Disclosure.filter(recipient_id__in=chunk).using_db(self.conn)
            for row in await query.order_by("id"):
                out.setdefault(row.recipient_id, []).append(
                    StoredDisclosure(
                        id=row.id,
                        terms=_stored_terms(row),
                        effective_from=row.effective_from,
                        effective_to=row.effective_to,
                        exporter=exporters.get(row.exporter_id) if row.exporter_id else None,
                    )
                )
        return out

    def _check_only(self, rows: list[DisclosureEntry]) -> None:
        """A recipient whose own row could not be read: its disclosures still get the
        mutations' checks on their terms, so that the file's problems come at once."""
        for row in rows:
            terms = row.spec or row.draft
            if terms is None:
                continue
            errors = ErrorCollector()
            check_disclosure(errors, [], terms, self.taxonomy)
            for error in errors.errors:
                self._disclosure_error(row, error.field or [], error)

    async def _add(self, recipient_id: int, row: DisclosureEntry) -> None:
        assert row.spec is not None
        try:
            result = await disclosures.add_disclosure(
                AddDisclosure(recipient_id=recipient_id, disclosure=row.spec),
                actor=self.actor,
                role=self.role,
            )
        except UserErrors as exc:
            for error in exc.errors:
                self._disclosure_error(row, (error.field or [])[2:], error)
            return
        # An addition waiting for review (domain/change_requests.py) has nothing to end yet.
        if row.ends_on is not None and result.disclosure is not None:
            await self._end(row, result.disclosure.id)

    async def _end(self, row: DisclosureEntry, disclosure_id: int) -> None:
        assert row.ends_on is not None
        try:
            await disclosures.end_disclosure(
                EndDisclosure(disclosure_id=disclosure_id, effective_to=row.ends_on),
                actor=self.actor,
                role=self.role,
            )
        except UserErrors as exc:
            for error in exc.errors:
                self._disclosure_error(row, ["effectiveTo"], error)

    async def _update(
        self, entry: RecipientEntry, recipient: Recipient, stored: list[StoredDisclosure]
    ) -> None:
        version = recipient.version
        if entry.status is not None and entry.status != recipient.status:
            self.report.notes.append(
                imports.ImportNote(
                    entry.sheet,
                    entry.row,
                    imports.column_for("status"),
                    f"{entry.slug} is {recipient.status.value} and stays so: an import does not "
                    "move a recipient's status (changeRecipientStatus does, through review).",
                )
            )
        command = UpdateRecipient(recipient_id=recipient.id, expected_version=version)
        fields = {
            "name": entry.name,
            "legalName": entry.legal_name,
            "description": entry.description,
            "kind": entry.kind,
            "role": entry.role,
            "country": entry.country,
            "services": entry.services,
            "website": entry.website,
            "privacyPolicyUrl": entry.privacy_policy_url,
            "dpaSignedOn": entry.dpa_signed_on,
            "engagedBy": entry.engaged_by,
            "corporateGroup": entry.corporate_group,
            "internationalOrganisation": entry.international_organisation,
        }
        attributes = {
            "legalName": "legal_name",
            "privacyPolicyUrl": "privacy_policy_url",
            "dpaSignedOn": "dpa_signed_on",
            "engagedBy": "engaged_by",
            "corporateGroup": "corporate_group",
            "internationalOrganisation": "international_organisation",
        }
        for api, value in fields.items():
            if api in entry.given:
                setattr(command, attributes.get(api, api), value)
        if set(fields) & entry.given:
            try:
                await recipient_changes.update_recipient(command, actor=self.actor, role=self.role)
            except UserErrors as exc:
                for error in exc.errors:
                    self._recipient_error(entry, error)
        await self._disclosures(recipient.id, entry.disclosures, stored)
        self._count(recipient.id, version)

    async def _disclosures(
        self, recipient_id: int, rows: list[DisclosureEntry], stored: list[StoredDisclosure]
    ) -> None:
        """Each row of an existing recipient: unchanged when a disclosure with its terms is in
        effect (ended, when the row ends it), new otherwise; "Ends on" ends the matching one."""
        taken: set[int] = set()
        self._check_only([d for d in rows if d.spec is None])
        for row in rows:
            if row.spec is None:
                continue
            match = imports.matching_disclosure(row, stored, self.today, taken)
            if match is None:
                await self._add(recipient_id, row)
                continue
            taken.add(match.id)
            if row.ends_on is not None and match.effective_to != row.ends_on:
                await self._end(row, match.id)

    def _count(self, recipient_id: int, version: int) -> None:
        """A recipient already in the inventory, read at `version`: counted by _tally."""
        self.counted.append((recipient_id, version))

    async def _tally(self) -> None:
        """Each counted recipient: updated when any change moved its version on, else
        unchanged (their versions read in one statement per chunk)."""
        current: dict[int, int] = {}
        for chunk in _chunks([rid for rid, _ in self.counted]):
            query = Recipient.filter(id__in=chunk).using_db(self.conn)
            current.update(await query.values_list("id", "version"))  # type: ignore[arg-type]
        for rid, version in self.counted:
            if rid in current and current[rid] != version:
                self.report.updated += 1
            else:
                self.report.unchanged += 1


class _Batch:
    """New recipients judged together by the checks registerRecipient, addDisclosure and
    endDisclosure run (the domain's; those that read the database asked once for the whole
    batch), each in the file's order as if registered one after the other. When it writes, a
    chunk at a time in one statement per table, each chunk's rows inserted while the next is
    judged (the database works meanwhile, in SQLite's thread or PostgreSQL's process), one chunk
    in flight and in memory as rows at a time."""

    def __init__(
        self,
        run: _Run,
        entries: list[RecipientEntry],
        rows_of: dict[int, list[DisclosureEntry]],
        engagements: _Engagements,
    ) -> None:
        self.run = run
        self.entries = entries
        self.rows_of = rows_of
        self.engagements = engagements
        self.at = clock.now()
        self.exporters: dict[int, Exporter | None] = {}
        self.exporter_errors: dict[int, list[UserError]] = {}
        # Ids reserved for the rows it may write (as many as it could need), handed out in order.
        self.recipient_ids: Iterator[int] = iter(())
        self.review_ids: Iterator[int] = iter(())
        self.disclosure_ids: Iterator[int] = iter(())
        # The negative id each valid recipient has until written, with the id it gets then.
        self.real: dict[int, int] = {}
        # Whether it writes: an import, or a dry run whose later phases read the batch.
        self.writes = False
        self.pending: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, run: _Run, entries: list[RecipientEntry], *, write: bool) -> _Batch:
        """What the batch's judging reads from the database, read once; and, when it may
        write, ids for every row it could write."""
        rows_of = {
            id(e): [d for d in e.disclosures if d.spec is not None] for e in entries if e.usable
        }
        engaged = {e.engaged_by for e in entries if e.usable and e.engaged_by}
        batch = cls(run, entries, rows_of, await _Engagements.load(run.conn, engaged))
        await batch._exporters()
        batch.writes = write
        if write:
            usable = [e for e in entries if e.usable]
            batch.recipient_ids = iter(await reserve_ids(run.conn, Recipient, len(usable)))
            reviews = len(usable) if run.role is not None else 0
            batch.review_ids = iter(await reserve_ids(run.conn, ChangeRequest, reviews))
            disclosures = sum(len(rows_of[id(e)]) for e in usable)
            batch.disclosure_ids = iter(await reserve_ids(run.conn, Disclosure, disclosures))
        return batch

    async def _exporters(self) -> None:
        """Each disclosure row's exporter and the problems with the one it names, by the row's
        id(): the use cases' own exporters_for, once for the batch's subprocessors and once
        for the others."""
        for subprocessor in (False, True):
            rows = [
                d
                for e in self.entries
                if e.usable and (e.engaged_by is not None) == subprocessor
                for d in self.rows_of[id(e)]
            ]
            errors = ErrorCollector()
            found = await exporters_for(
                self.run.conn,
                errors,
                [[str(i)] for i in range(len(rows))],
                [d.spec for d in rows if d.spec is not None],
                subprocessor=subprocessor,
            )
            for row, exporter in zip(rows, found, strict=True):
                self.exporters[id(row)] = exporter
            for error in errors.errors:
                assert error.field is not None
                self.exporter_errors.setdefault(id(rows[int(error.field[0])]), []).append(error)

    async def judge(self, *, read_later: bool) -> None:
        """Judge every recipient, and write the valid ones while no row of the import has a
        problem (`read_later`: whatever the problems, a later phase reads them)."""
        run = self.run

        def sending() -> bool:
            return self.writes and (read_later or not run.report.problems)

        chunk: list[_Registered] = []
        try:
            for count, entry in enumerate(self.entries):
                if count % YIELD_EVERY == 0:
                    if run.out_of_time():
                        return
                    # Judging thousands of rows is work for the CPU alone: let other requests in.
                    await asyncio.sleep(0)
                if len(chunk) >= WRITE_EVERY:
                    if sending():
                        await self._send(chunk)
                    chunk = []
                new = await self._judge(entry)
                if new is not None:
                    chunk.append(new)
            if chunk and sending():
                await self._send(chunk)
        finally:
            await self._wait()

    def _command(self, entry: RecipientEntry, first: list[DisclosureEntry]) -> RegisterRecipient:
        assert entry.kind is not None and entry.role is not None and entry.country is not None
        status = entry.status or RecipientStatus.PROPOSED
        if self.run.role is not None and access.registration_error(self.run.role, status):
            # Already reported FORBIDDEN (the file is refused whole): the rest of the row is
            # still checked, as a proposal.
            status = RecipientStatus.PROPOSED
        return RegisterRecipient(
            name=entry.name or "",
            slug=entry.slug,
            legal_name=entry.legal_name,
            description=entry.description,
            kind=entry.kind,
            role=entry.role,
            country=entry.country,
            services=entry.services,
            website=entry.website,
            privacy_policy_url=entry.privacy_policy_url,
            dpa_signed_on=entry.dpa_signed_on,
            engaged_by=entry.engaged_by,
            status=status,
            status_since=entry.status_since,
            disclosures=[d.spec for d in first if d.spec is not None],
            corporate_group=entry.corporate_group,
            international_organisation=entry.international_organisation,
        )

    async def _judge(self, entry: RecipientEntry) -> _Registered | None:
        """registerRecipient's checks on one recipient and its first disclosures, then those of
        the use cases the per-row import ran after it; the recipient when it is valid."""
        run = self.run
        if not entry.usable:
            run._check_only(entry.disclosures)
            return None
        run._check_only([d for d in entry.disclosures if d.spec is None])
        rows = self.rows_of[id(entry)]
        first, rest = rows[:DISCLOSURES_PER_REQUEST_MAX], rows[DISCLOSURES_PER_REQUEST_MAX:]
        command = self._command(entry, first)
        judged = registration.judge_registration(
            command, role=run.role, taxonomy=run.taxonomy, at=self.at
        )
        errors, slug = judged.errors, judged.slug
        engaged_by_id = None
        if command.engaged_by is not None and not judged.refused:
            engaged_by_id = await judge_engagement(
                self.engagements, errors, command.engaged_by, role=command.role, recipient_id=None
            )
        if slug and validation.slug_error(slug) is None and slug in run.taken:
            errors.add(["input", "slug"], f'Slug "{slug}" is taken.', UserErrorCode.DUPLICATE)
        # What is wrong with the exporters its disclosures name (unheard of when refused).
        exporter_problems = [
            (row, error)
            for row in ([] if judged.refused else first)
            for error in self.exporter_errors.get(id(row), [])
        ]
        if errors or exporter_problems:
            for error in errors.errors:
                path = error.field or []
                if len(path) > 2 and path[1] == "disclosures" and path[2].isdigit():
                    run._disclosure_error(first[int(path[2])], path[3:], error)
                else:
                    run._recipient_error(entry, error)
            for row, error in exporter_problems:
                run._disclosure_error(row, ["exporter"], error)
            run._check_only(rest)
            return None
        run.taken.add(slug)
        run.report.created += 1
        new = _Registered(
            command,
            judged,
            engaged_by_id,
            placeholder=-1 - len(self.real),
            first=[_NewDisclosure(d, self.exporters[id(d)]) for d in first],
            rest=[],
        )
        self.real[new.placeholder] = 0  # counts it; its id once its chunk is built
        self.engagements.register(
            slug, Engager(new.placeholder, command.name.strip(), command.role, engaged_by_id)
        )
        self._judge_later_writes(new, rest)
        return new

    def _judge_later_writes(self, new: _Registered, rest: list[DisclosureEntry]) -> None:
        """What the per-row import did after a registration, judged by the same checks: each
        "Ends on" of its disclosures (endDisclosure), then each disclosure past the per-request
        cap (addDisclosure, then endDisclosure when it has an "Ends on")."""
        run = self.run
        registered_on = (new.judged.status_since or self.at).date()
        for disclosure in new.first:
            self._judge_end(disclosure)
        held = sum(not d.ends for d in new.first)
        for row in rest:
            assert row.spec is not None
            errors = ErrorCollector()
            check_disclosure(errors, [], row.spec, run.taxonomy)
            for error in self.exporter_errors.get(id(row), []):
                errors.add(["exporter"], error.message, error.code)
            if (
                run.role is not None
                and run.role is not Role.ADMIN
                and (
                    problem := access.before_registration_error(
                        run.role, row.spec.effective_from, registered_on
                    )
                )
            ):
                errors.add(["effectiveFrom"], problem, UserErrorCode.FORBIDDEN)
            if not errors and (
                problem := disclosure_count_error(
                    held + 1, DISCLOSURES_PER_RECIPIENT_MAX, "open at one recipient"
                )
            ):
                errors.add([], problem)
            if errors:
                for error in errors.errors:
                    run._disclosure_error(row, error.field or [], error)
                continue
            disclosure = _NewDisclosure(row, self.exporters[id(row)])
            new.rest.append(disclosure)
            self._judge_end(disclosure)
            held += 0 if disclosure.ends else 1

    def _judge_end(self, disclosure: _NewDisclosure) -> None:
        """endDisclosure's checks, for a disclosure this import records and its "Ends on"
        ends (the first that fails is the problem, as there)."""
        run = self.run
        row = disclosure.row
        if row.ends_on is None:
            return
        assert row.spec is not None
        problem = disclosures.end_day_error(row.ends_on, role=run.role, today=run.today)
        if problem is None and (
            text := validation.period_error(row.spec.effective_from or self.at.date(), row.ends_on)
        ):
            problem = UserError(["input", "effectiveTo"], text)
        if problem is not None:
            run._disclosure_error(row, ["effectiveTo"], problem)
        else:
            disclosure.ends = True

    async def _send(self, chunk: list[_Registered]) -> None:
        """Prepare the chunk's rows (while the one before is being inserted), then insert them
        once that one is done: the task that does only waits for the database."""
        inserts = self._inserts(chunk)
        await self._wait()
        self.pending = asyncio.create_task(self._insert(inserts))

    async def _wait(self) -> None:
        """Until the chunk in flight is written (its failure raised here)."""
        if self.pending is not None:
            pending, self.pending = self.pending, None
            await pending

    def _inserts(self, chunk: list[_Registered]) -> list[Insert]:
        """Everything these recipients' use cases would have written, ready to insert:
        recipients (engagers first), their first status moves, import reviews, disclosures with
        their parts, and the audit events in the order the use cases record them."""
        actor, at = self.run.actor, self.at
        rows = _Rows()
        events = rows.events
        for new in chunk:
            rid = self.real[new.placeholder] = next(self.recipient_ids)
            engaged_by_id = new.engaged_by_id
            if engaged_by_id is not None and engaged_by_id < 0:
                engaged_by_id = self.real[engaged_by_id]
            recipient = registration.recipient_fields(
                new.command, new.judged, actor=actor, engaged_by_id=engaged_by_id, recipient_id=rid
            )
            status = new.command.status
            rows.moves.append(registration.first_move(rid, status, new.judged, actor=actor))
            events.append(registration.registration_event(recipient, new.judged, actor=actor))
            written: list[tuple[_NewDisclosure, int]] = []
            for disclosure in new.first:
                written.append((disclosure, next(self.disclosure_ids)))
                events.append(self._added_event(disclosure, written[-1][1], rid))
            if self.run.role is not None and change_rules.skips_review(status):
                review = change_requests.import_review(
                    rid,
                    recipient["name"],
                    status,
                    actor=actor,
                    at=at,
                    change_id=next(self.review_ids),
                )
                rows.reviews.append(review)
                events.append(change_requests.opened_event(review, actor=actor))
            if status != RecipientStatus.PROPOSED:
                events.append(_import_event(rid, status, actor=actor, at=at))
            for disclosure, did in written:
                if disclosure.ends:
                    events.append(self._ended_event(disclosure, did, rid))
            for disclosure in new.rest:
                did = next(self.disclosure_ids)
                written.append((disclosure, did))
                events.append(self._added_event(disclosure, did, rid))
                if disclosure.ends:
                    events.append(self._ended_event(disclosure, did, rid))
            recipient["version"] = new.version
            rows.recipients.append(recipient)
            rows.disclosures.extend(
                NewDisclosure(
                    did,
                    rid,
                    d.row.spec,  # type: ignore[arg-type]
                    d.exporter.id if d.exporter else None,
                    d.row.ends_on if d.ends else None,
                )
                for d, did in written
            )
        conn = self.run.conn
        return [
            fields_insert(conn, Recipient, rows.recipients),
            fields_insert(conn, StatusChange, rows.moves),
            fields_insert(conn, ChangeRequest, rows.reviews),
            *disclosures_inserts(conn, rows.disclosures, at),
            audit.events_insert(conn, rows.events),
        ]

    async def _insert(self, inserts: list[Insert]) -> None:
        """The chunk's rows in one call (the recipients first): the database's thread inserts
        them all while the event loop judges and prepares the next chunk."""
        try:
            await execute(self.run.conn, inserts)
        except InsertRefused as refused:
            if refused.index != 0:
                raise
            # Another request registered one of these slugs since they were read.
            self.run.report.problems.append(
                ImportProblem(
                    None,
                    None,
                    None,
                    None,
                    UserErrorCode.DUPLICATE,
                    "A recipient with one of the file's slugs was registered meanwhile: nothing "
                    "was written. Import the file again.",
                )
            )
            raise _Undo from None

    def _added_event(
        self, disclosure: _NewDisclosure, disclosure_id: int, recipient_id: int
    ) -> audit.Event:
        """record_disclosure's event."""
        spec = disclosure.row.spec
        assert spec is not None
        return disclosures.added_event(
            spec,
            disclosure_id=disclosure_id,
            recipient_id=recipient_id,
            effective_from=spec.effective_from or self.at.date(),
            exporter=disclosure.exporter,
            at=self.at,
            actor=self.run.actor,
        )

    def _ended_event(
        self, disclosure: _NewDisclosure, disclosure_id: int, recipient_id: int
    ) -> audit.Event:
        """endDisclosure's event."""
        assert disclosure.row.ends_on is not None
        return disclosures.ended_event(
            disclosure_id=disclosure_id,
            recipient_id=recipient_id,
            effective_to=disclosure.row.ends_on,
            at=self.at,
            actor=self.run.actor,
        )


@dataclass
class _Rows:
    """A chunk of a batch, as rows to insert."""

    # Each by field, as the model's constructor takes them (bulk_inserts.fields_insert).
    recipients: list[dict[str, Any]] = field(default_factory=list)
    moves: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    disclosures: list[NewDisclosure] = field(default_factory=list)
    events: list[audit.Event] = field(default_factory=list)


def _import_event(
    recipient_id: int, status: RecipientStatus, *, actor: str, at: datetime
) -> audit.Event:
    """An import straight into a later status says so in the audit log."""
    return audit.Event(
        at,
        actor,
        "importInventory",
        "Recipient",
        recipient_id,
        recipient_id,
        {
            "status": [None, status.value],
            "note": [None, f"imported straight as {status.value}, not reviewed here"],
        },
    )


def _stored_terms(row: Disclosure) -> imports.Terms:
    transfers = orjson.loads(row.transfers_json) if row.transfers_json else []
    return imports.Terms(
        frozenset(row.categories_text.split(",") if row.categories_text else []),
        frozenset(row.subject_types_text.split(",") if row.subject_types_text else []),
        frozenset(row.purposes_text.split(",") if row.purposes_text else []),
        row.legal_basis.value,
        row.ground.value,
        row.retention,
        frozenset((t[0], t[1], t[2], t[3]) for t in transfers),
        row.frequency.value,
        row.special_category_condition.value if row.special_category_condition else None,
    )
