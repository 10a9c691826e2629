"""The record of processing activities (Art. 30(1)) at a moment, as XLSX in the ICO template's
layout and as CSV with the same columns: one read of the inventory (`transfers.in_effect_at`),
the rules of `server/domain/ropa.py`, and openpyxl's write-only mode."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from server.domain import ropa
from server.domain.enums import (
    DisclosureGround,
    LegalBasis,
    ProcessingRole,
    RecipientKind,
    SpecialCategoryCondition,
)
from server.domain.taxonomy import default_taxonomy
from server.services.transfers import in_effect_at

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


async def disclosures_in_use(as_of: datetime | None) -> InUse:
    """One read of the inventory at the moment (default now), in the record's terms."""
    found = await in_effect_at(as_of)
    recipients: dict[int, ropa.Recipient] = {}
    disclosures = []
    for row in found.rows:
        recipient = recipients.get(row.recipient_id)
        if recipient is None:
            recipient = recipients[row.recipient_id] = _recipient(
                found.recipients[row.recipient_id]
            )
        countries = (recipient.country, *(t.country for t in row.transfers))
        # A flow only where the record has a transfer to judge: most disclosures have none.
        flow = found.flows.flow(row, found.chain) if ropa.needs_flow(recipient, countries) else None
        disclosures.append(
            (
                ropa.Disclosure(
                    recipient,
                    tuple(row.purposes),
                    tuple(row.data_categories),
                    tuple(row.subject_types),
                    _BASES[row.legal_basis],
                    row.retention,
                    _CONDITIONS[row.special_category_condition]
                    if row.special_category_condition
                    else None,
                    countries,
                    flow,
                ),
                _GROUNDS[row.ground],
            )
        )
    establishments = [
        ropa.Establishment(e.name, e.country, e.legal_name, e.main)
        for e in found.flows.establishments.values()
    ]
    return InUse(found.at, found.day, disclosures, establishments)


async def record_of_processing(
    as_of: datetime | None, contact: ropa.ControllerContact
) -> ropa.Record:
    found = await disclosures_in_use(as_of)
    # Judging tens of thousands of transfers takes seconds of CPU: off the event loop, which
    # keeps serving.
    activities = await asyncio.to_thread(
        ropa.processing_activities,
        [d for d, _ in found.disclosures],
        found.day,
        default_taxonomy(),
    )
    return ropa.Record(
        found.at, ropa.controller_block(found.establishments, contact), tuple(activities)
    )


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
