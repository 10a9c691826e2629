"""The record of processing activities (Art. 30(1)) at a moment, as XLSX in the ICO template's
layout and as CSV with the same columns: one read of the disclosures in effect, as little of
each as the record needs (`record_terms_in_effect_on`), the rules of `server/domain/ropa.py`,
and openpyxl's write-only mode."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from server.db import disclosures as disclosure_rows
from server.db import establishments as establishment_rows
from server.db import recipients as recipient_rows
from server.db.establishments import EstablishmentRow
from server.domain import ropa
from server.domain.enums import (
    DisclosureGround,
    LegalBasis,
    ProcessingRole,
    RecipientKind,
    SpecialCategoryCondition,
    TransferMechanism,
)
from server.domain.taxonomy import default_taxonomy
from server.services.transfers import in_effect_at, moment, recipients_active_at

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET = "Record of processing"
TITLE = "Record of processing activities (GDPR and UK GDPR Art. 30(1))"
# Rows above the table: the title, the controller block (three rows), a blank one; the header
# row follows, and it and the purpose column stay in view as a person scrolls.
HEADER_ROW = 6
FROZEN = f"C{HEADER_ROW + 1}"

# By value, looked up: calling an enum costs microseconds a row, and the record reads them all.
_KINDS = {k.value: k for k in RecipientKind}
_ROLES = {r.value: r for r in ProcessingRole}
_BASES = {b.value: b for b in LegalBasis}
_GROUNDS = {g.value: g for g in DisclosureGround}
_CONDITIONS = {c.value: c for c in SpecialCategoryCondition}
_MECHANISMS = {m.value: m for m in TransferMechanism}


@dataclass(frozen=True)
class InUse:
    """The disclosures in effect at the moment to recipients ACTIVE then, as the record and the
    notice read them (each with its ground, which only the notice uses)."""

    at: datetime
    day: date
    disclosures: list[tuple[ropa.Disclosure, DisclosureGround]]
    establishments: list[ropa.Establishment]


# The recipient columns `_recipient` reads, with the status the ACTIVE are told by and the keys
# every read of recipients takes (db.recipients.KEY_COLUMNS).
_RECIPIENT_COLUMNS = frozenset(
    {
        *recipient_rows.KEY_COLUMNS,
        "name",
        "kind",
        "role",
        "country",
        "legal_name",
        "dpa_signed_on",
        "international_organisation",
        "status",
    }
)


def _recipient(row: Mapping[str, Any]) -> ropa.Recipient:
    return ropa.Recipient(
        row["id"],
        row["name"],
        _KINDS[row["kind"]],
        _ROLES[row["role"]],
        row["country"],
        row["legal_name"],
        row["dpa_signed_on"],
        bool(row["international_organisation"]),
    )


def _establishments(rows: Mapping[int, EstablishmentRow]) -> list[ropa.Establishment]:
    return [ropa.Establishment(e.name, e.country, e.legal_name, e.main) for e in rows.values()]


def in_record_terms(
    recipients: Mapping[int, Mapping[str, Any]], rows: Iterable[Sequence[Any]]
) -> list[ropa.Disclosure]:
    """Each disclosure (its RECORD_COLUMNS, see db.disclosures.record_terms) in the record's
    terms, with no flow. What rows share (a recipient, a list's text, a transfers' text) is
    converted once: a record reads every disclosure in effect."""
    people: dict[int, ropa.Recipient] = {}
    lists: dict[str | None, tuple[str, ...]] = {None: (), "": ()}
    recorded: dict[str | None, tuple[tuple[str, TransferMechanism], ...]] = {None: ()}
    out = []
    for rid, basis, retention, categories, subject_types, purposes, transfers, condition in rows:
        recipient = people.get(rid)
        if recipient is None:
            recipient = people[rid] = _recipient(recipients[rid])
        # Unrolled: a loop over the three costs a tenth of the conversion.
        purpose_keys = lists.get(purposes)
        if purpose_keys is None:
            purpose_keys = lists[purposes] = tuple(purposes.split(","))
        category_keys = lists.get(categories)
        if category_keys is None:
            category_keys = lists[categories] = tuple(categories.split(","))
        subject_keys = lists.get(subject_types)
        if subject_keys is None:
            subject_keys = lists[subject_types] = tuple(subject_types.split(","))
        documented = recorded.get(transfers)
        if documented is None:
            documented = recorded[transfers] = tuple(
                dict.fromkeys(
                    (country, _MECHANISMS[mechanism])
                    for country, mechanism in disclosure_rows.destinations_in(transfers)
                )
            )
        out.append(
            ropa.Disclosure(
                recipient,
                purpose_keys,
                category_keys,
                subject_keys,
                _BASES[basis],
                retention,
                _CONDITIONS[condition] if condition else None,
                documented,
            )
        )
    return out


async def disclosures_in_use(as_of: datetime | None) -> InUse:
    """The inventory at the moment (default now) in the notice's terms: each disclosure with
    the flow its transfers are judged on, where it has a transfer to judge (most have none),
    and the establishments."""
    found = await in_effect_at(as_of)
    disclosures = in_record_terms(
        found.recipients, [disclosure_rows.record_terms(row) for row in found.rows]
    )
    in_use = []
    for row, disclosure in zip(found.rows, disclosures, strict=True):
        if ropa.needs_flow(disclosure.recipient, disclosure.countries):
            disclosure = disclosure._replace(flow=found.flows.flow(row, found.chain))
        in_use.append((disclosure, _GROUNDS[row.ground]))
    return InUse(found.at, found.day, in_use, _establishments(found.flows.establishments))


@dataclass(frozen=True)
class RecordRead:
    """What the record reads at a moment: the recipients (the columns `_recipient` reads) and
    their disclosures in effect on the day (RECORD_COLUMNS), those of recipients ACTIVE then."""

    at: datetime
    day: date
    recipients: dict[int, dict[str, Any]]
    rows: list[Sequence[Any]]


async def record_read(as_of: datetime | None) -> RecordRead:
    """Two statements, as little of each disclosure as the record reads
    (`record_terms_in_effect_on`): no row object for each of tens of thousands."""
    at, day = moment(as_of)
    rows = await disclosure_rows.record_terms_in_effect_on(day)
    columns = tuple(c for c in recipient_rows.recipient_columns() if c in _RECIPIENT_COLUMNS)
    recipients, active = await recipients_active_at({row[0] for row in rows}, as_of, columns)
    return RecordRead(at, day, recipients, [row for row in rows if row[0] in active])


async def record_of_processing(
    as_of: datetime | None, contact: ropa.ControllerContact
) -> ropa.Record:
    """The record at the moment (default now): `record_read`, and the establishments for the
    controller block. The record documents the transfers as recorded, so no flow is built."""
    found = await record_read(as_of)
    establishments = _establishments(await establishment_rows.establishments_by_id())

    def activities() -> list[ropa.Activity]:
        disclosures = in_record_terms(found.recipients, found.rows)
        return ropa.processing_activities(disclosures, found.day, default_taxonomy())

    # Tens of thousands of disclosures take a moment of CPU: off the event loop, which keeps
    # serving.
    rows = await asyncio.to_thread(activities)
    return ropa.Record(found.at, ropa.controller_block(establishments, contact), tuple(rows))


def _moment(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def spreadsheet_rows(record: ropa.Record) -> list[list[str]]:
    """Every cell of the XLSX record by row: the title, the controller block, a blank row, the
    header and the activities (each cell as a spreadsheet holds it)."""
    rows: list[list[str]] = [[f"{TITLE} as of {_moment(record.at)}"]]
    rows += [[label, value] for label, value in record.controller.lines()]
    rows.append([])
    rows.append(list(ropa.HEADINGS))
    rows += [[ropa.for_spreadsheet(value) for value in a.cells] for a in record.activities]
    return rows


def record_xlsx(record: ropa.Record) -> bytes:
    """The record in the ICO template's layout: the controller block on top, the header row
    frozen with the purpose column, each column its width, wrapped text. Write-only mode: rows
    stream to the file as they are appended. (openpyxl is imported here, not with the module:
    the command line lists the exports without paying for it.)"""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET)
    sheet.freeze_panes = FROZEN
    for number, column in enumerate(ropa.COLUMNS, 1):
        sheet.column_dimensions[get_column_letter(number)].width = column.width
    title = Font(bold=True, size=14)
    bold = Font(bold=True)
    wrapped = Alignment(wrap_text=True, vertical="top")
    header_fill = PatternFill("solid", fgColor="D9EAD3")

    def styled(value: str, font: Any = None, alignment: Any = None, fill: Any = None) -> Any:
        cell = WriteOnlyCell(sheet, value=value)
        # Text, always: openpyxl would store a cell starting with "=" as a formula, and names
        # and retentions are text a person typed (a recipient named "=HYPERLINK(...)").
        cell.data_type = "s"
        if font is not None:
            cell.font = font
        if alignment is not None:
            cell.alignment = alignment
        if fill is not None:
            cell.fill = fill
        return cell

    for number, row in enumerate(spreadsheet_rows(record), 1):
        if number == 1:
            sheet.append([styled(row[0], title)])
        elif number < HEADER_ROW - 1:
            sheet.append([styled(row[0], bold), styled(row[1])])
        elif number == HEADER_ROW:
            sheet.append([styled(v, bold, wrapped, header_fill) for v in row])
        elif number > HEADER_ROW:
            sheet.append([styled(v, alignment=wrapped) for v in row])
        else:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def record_csv(record: ropa.Record) -> bytes:
    """The record's table with the same columns, a header row first; cells whole, but for the
    apostrophe before one a spreadsheet program would read as a formula (`ropa.for_csv`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(ropa.HEADINGS)
    writer.writerows([ropa.for_csv(cell) for cell in a.cells] for a in record.activities)
    return out.getvalue().encode("utf-8")
