"""The record of processing activities (Art. 30(1)) at a moment, as XLSX in the ICO template's
layout and as CSV with the same columns: one read of the inventory (`transfers.active_at`),
the rules of `server/domain/ropa.py`, and openpyxl's write-only mode."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from server.db import establishments as establishment_rows
from server.db.disclosures import DisclosureRow
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
from server.domain.transfers import Flow
from server.services.transfers import Active, active_at, in_effect_at

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


def in_record_terms(
    found: Active, flow_of: Callable[[DisclosureRow, ropa.Recipient], Flow | None]
) -> list[tuple[ropa.Disclosure, DisclosureGround]]:
    """Each disclosure read in the record's terms. What rows share (a recipient, a list's text,
    a transfers' text) is converted once: a record reads every disclosure in effect."""
    recipients: dict[int, ropa.Recipient] = {}
    lists: dict[str | None, tuple[str, ...]] = {None: ()}
    recorded: dict[str | None, tuple[tuple[str, TransferMechanism], ...]] = {None: ()}
    out = []
    for row in found.rows:
        recipient = recipients.get(row.recipient_id)
        if recipient is None:
            recipient = recipients[row.recipient_id] = _recipient(
                found.recipients[row.recipient_id]
            )
        terms = []
        for text in (row.purposes_text, row.categories_text, row.subject_types_text):
            split = lists.get(text)
            if split is None:
                split = lists[text] = tuple(text.split(",")) if text else ()
            terms.append(split)
        transfers = recorded.get(row.transfers_json)
        if transfers is None:
            transfers = recorded[row.transfers_json] = tuple(
                dict.fromkeys((t.country, _MECHANISMS[t.mechanism]) for t in row.transfers)
            )
        condition = row.special_category_condition
        out.append(
            (
                ropa.Disclosure(
                    recipient,
                    terms[0],
                    terms[1],
                    terms[2],
                    _BASES[row.legal_basis],
                    row.retention,
                    _CONDITIONS[condition] if condition else None,
                    transfers,
                    flow_of(row, recipient),
                ),
                _GROUNDS[row.ground],
            )
        )
    return out


async def disclosures_in_use(as_of: datetime | None) -> InUse:
    """The inventory at the moment (default now) in the notice's terms: each disclosure with
    the flow its transfers are judged on, where it has a transfer to judge (most have none),
    and the establishments."""
    found = await in_effect_at(as_of)

    def flow_of(row: DisclosureRow, recipient: ropa.Recipient) -> Flow | None:
        countries = (recipient.country, *(t.country for t in row.transfers))
        if not ropa.needs_flow(recipient, countries):
            return None
        return found.flows.flow(row, found.chain)

    establishments = [
        ropa.Establishment(e.name, e.country, e.legal_name, e.main)
        for e in found.flows.establishments.values()
    ]
    return InUse(found.at, found.day, in_record_terms(found, flow_of), establishments)


async def record_of_processing(
    as_of: datetime | None, contact: ropa.ControllerContact
) -> ropa.Record:
    """The record at the moment (default now): one read of the disclosures ACTIVE recipients
    have in effect (`transfers.active_at`), and the establishments for the controller block.
    The record documents the transfers as recorded, so no flow is built."""
    found = await active_at(as_of)
    establishments = [
        ropa.Establishment(e.name, e.country, e.legal_name, e.main)
        for e in (await establishment_rows.establishments_by_id()).values()
    ]
    disclosures = in_record_terms(found, lambda row, recipient: None)
    # Tens of thousands of disclosures take a moment of CPU: off the event loop, which keeps
    # serving.
    activities = await asyncio.to_thread(
        ropa.processing_activities, [d for d, _ in disclosures], found.day, default_taxonomy()
    )
    return ropa.Record(found.at, ropa.controller_block(establishments, contact), tuple(activities))


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
            sheet.append([styled(row[0], bold), row[1]])
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
    """The record's table with the same columns, a header row first; cells whole."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(ropa.HEADINGS)
    writer.writerows(activity.cells for activity in record.activities)
    return out.getvalue().encode("utf-8")
