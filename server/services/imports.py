"""Importing an inventory from a file, all or nothing (issue 15 §1).

Every recipient of the file goes through the mutations' own use cases (registerRecipient,
updateRecipient, addDisclosure, endDisclosure) inside one transaction, each call in a savepoint
of its own, so that the same validation judges every row and every problem of every row is
reported at once. Then, unless the run is dry and every row was valid, the transaction commits
with the use cases' audit events; otherwise it rolls back and nothing is written. A recipient is
matched by slug; a disclosure row identical to one in effect is unchanged; re-importing the same
file changes nothing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import orjson
from tortoise.transactions import in_transaction

from server.db.models import Disclosure, Establishment, Recipient
from server.domain import access, imports, validation
from server.domain.access import Role
from server.domain.disclosure_terms import DISCLOSURES_PER_REQUEST_MAX, check_disclosure
from server.domain.enums import RecipientStatus, UserErrorCode
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
from server.services.import_files import UnreadableFile, csv_table, xlsx_tables

# SQLite allows 32,766 variables in one statement: reads by slug or id go in chunks.
CHUNK = 500


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
    run = _Run(report, actor, role, request.deadline)
    try:
        async with in_transaction():
            await run.apply(plan)
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


class _Run:
    """One import: the report it fills, and who imports."""

    def __init__(
        self, report: ImportReport, actor: str, role: Role | None, deadline: float | None
    ) -> None:
        self.report = report
        self.actor = actor
        self.role = role
        self.deadline = deadline
        self.today = clock.today()
        # Places already reported by the reading of the cells: the use cases' errors there say
        # the same again.
        self.reported = {(p.sheet, p.row, p.column) for p in report.problems}

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

    async def apply(self, plan: ImportPlan) -> None:
        slugs = sorted(
            {e.slug for e in plan.recipients if e.slug} | {d.slug for d in plan.other_disclosures}
        )
        existing: dict[str, Recipient] = {}
        for chunk in _chunks(slugs):
            for recipient in await Recipient.filter(slug__in=chunk):
                existing[recipient.slug] = recipient
        stored = await self._stored([r.id for r in existing.values()])
        for entry in _engagers_first(plan.recipients):
            if self.out_of_time():
                return  # rolled back by the caller, with its problem
            if not entry.usable:
                self._check_only(entry.disclosures)
                continue
            known = existing.get(entry.slug)
            if known is None:
                await self._create(entry)
            else:
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
            await self._count(owner.id, owner.version)

    async def _stored(self, recipient_ids: list[int]) -> dict[int, list[StoredDisclosure]]:
        """The disclosures of these recipients that a row may match: not ended before today."""
        out: dict[int, list[StoredDisclosure]] = {}
        if not recipient_ids:
            return out
        exporters = dict(await Establishment.all().values_list("id", "slug"))
        for chunk in _chunks(recipient_ids):
            for row in await Disclosure.filter(recipient_id__in=chunk).order_by("id"):
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
        taxonomy = default_taxonomy()
        for row in rows:
            terms = row.spec or row.draft
            if terms is None:
                continue
            errors = ErrorCollector()
            check_disclosure(errors, [], terms, taxonomy)
            for error in errors.errors:
                self._disclosure_error(row, error.field or [], error)

    async def _create(self, entry: RecipientEntry) -> None:
        assert entry.kind is not None and entry.role is not None and entry.country is not None
        self._check_only([d for d in entry.disclosures if d.spec is None])
        rows = [d for d in entry.disclosures if d.spec is not None]
        first, rest = rows[:DISCLOSURES_PER_REQUEST_MAX], rows[DISCLOSURES_PER_REQUEST_MAX:]
        status = entry.status or RecipientStatus.PROPOSED
        if self.role is not None and access.registration_error(self.role, status):
            # Already reported FORBIDDEN (the file is refused whole): the rest of the row is
            # still checked, as a proposal.
            status = RecipientStatus.PROPOSED
        command = RegisterRecipient(
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
        try:
            result = await registration.register_recipient(
                command, actor=self.actor, role=self.role
            )
        except UserErrors as exc:
            for error in exc.errors:
                path = error.field or []
                if len(path) > 2 and path[1] == "disclosures" and path[2].isdigit():
                    self._disclosure_error(first[int(path[2])], path[3:], error)
                else:
                    self._recipient_error(entry, error)
            self._check_only(rest)
            return
        recipient_id = result.recipient.id
        self.report.created += 1
        if status != RecipientStatus.PROPOSED:
            async with in_transaction() as conn:
                await audit.record(
                    connection=conn,
                    at=clock.now(),
                    actor=self.actor,
                    action="importInventory",
                    entity_type="Recipient",
                    entity_id=recipient_id,
                    recipient_id=recipient_id,
                    changes={
                        "status": [None, status.value],
                        "note": [None, f"imported straight as {status.value}, not reviewed here"],
                    },
                )
        written = await Disclosure.filter(recipient_id=recipient_id).order_by("id")
        for row, disclosure in zip(first, written, strict=True):
            if row.ends_on is not None:
                await self._end(row, disclosure.id)
        for row in rest:
            await self._add(recipient_id, row)

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
        await self._count(recipient.id, version)

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

    async def _count(self, recipient_id: int, version: int) -> None:
        """Updated when any change moved the recipient's version on, else unchanged."""
        current = await Recipient.filter(id=recipient_id).values_list("version", flat=True)
        if current and current[0] != version:
            self.report.updated += 1
        else:
            self.report.unchanged += 1


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
