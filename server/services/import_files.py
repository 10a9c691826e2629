"""Spreadsheet files as tables of cells, and the empty template: openpyxl (read-only, values
only: a workbook's formulas are not run) and the csv module. What the cells mean is
server/domain/imports.py's business."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from server.domain import imports
from server.domain.enums import (
    DisclosureFrequency,
    DisclosureGround,
    LegalBasis,
    ProcessingRole,
    RecipientKind,
    RecipientStatus,
    SpecialCategoryCondition,
    TransferMechanism,
)
from server.domain.imports import Column, Table
from server.domain.taxonomy import Taxonomy, default_taxonomy


class UnreadableFile(ValueError):
    """The file is not what its format says (not a workbook, not UTF-8 text)."""


def xlsx_tables(content: bytes) -> list[Table]:
    """Every sheet of a workbook, its first row the header."""
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # any file openpyxl cannot open is not a workbook to us
        raise UnreadableFile(
            "The file is not an XLSX workbook (send its bytes in base64 through GraphQL)."
        ) from exc
    try:
        return _sheets(workbook)
    except Exception as exc:  # a broken part inside the archive: not a workbook either
        raise UnreadableFile(f"The workbook cannot be read: {str(exc)[:200]}") from exc
    finally:
        workbook.close()


def _sheets(workbook: Any) -> list[Table]:
    tables = []
    for sheet in workbook.worksheets:
        rows = sheet.iter_rows(values_only=True)
        header = list(next(rows, ()) or ())
        body: list[tuple[int, list[Any]]] = []
        for number, row in enumerate(rows, start=2):
            if any(cell is not None and str(cell).strip() for cell in row):
                body.append((number, list(row)))
            if len(body) > imports.ROWS_MAX:
                break
        tables.append(Table(sheet.title, header, body))
    return tables


def csv_table(content: bytes) -> Table:
    """A CSV file (UTF-8, a byte order mark allowed, columns separated by commas)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"The file is not UTF-8 text (byte {exc.start}): save the CSV as UTF-8."
        ) from exc
    if "\x00" in text:
        raise UnreadableFile("The file holds NUL characters: it is not a CSV file.")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, [])
        body: list[tuple[int, list[Any]]] = []
        for row in reader:
            # csv's rows are lists of str, each a new list: kept as they come.
            if any(map(str.strip, row)):
                body.append((reader.line_num, row))
            if len(body) > imports.ROWS_MAX:
                break
    except csv.Error as exc:
        raise UnreadableFile(f"The CSV cannot be read at line {reader.line_num}: {exc}.") from exc
    return Table(None, header, body)


# The template's example: a vendor as the README's tour registers it.
EXAMPLE_RECIPIENT = {
    "slug": "acme-mail",
    "name": "Acme Mail",
    "legalName": "Acme Mail Inc.",
    "kind": "Service provider",
    "role": "Processor",
    "country": "US",
    "services": "email-delivery",
    "website": "https://acme-mail.example",
    "privacyPolicyUrl": "https://acme-mail.example/privacy",
}
EXAMPLE_DISCLOSURE = {
    "slug": "acme-mail",
    "dataCategories": "user.contact.email; user.name",
    "subjectTypes": "customer",
    "purposes": "essential.service.notifications.email",
    "legalBasis": "Contract",
    "ground": "Service provision",
    "retention": "P30D",
    "transfers": "US=Standard contractual clauses",
}
ENUMS: dict[str, tuple[type[Any], ...]] = {
    "kind": (RecipientKind,),
    "role": (ProcessingRole,),
    "status": (RecipientStatus,),
    "legalBasis": (LegalBasis,),
    "ground": (DisclosureGround,),
    "frequency": (DisclosureFrequency,),
    "specialCategoryCondition": (SpecialCategoryCondition,),
    "transfers": (TransferMechanism,),
}
TAXONOMY_COLUMNS = {
    "dataCategories": "categories",
    "subjectTypes": "subject_types",
    "purposes": "purposes",
}


def allowed_values(column: Column, taxonomy: Taxonomy) -> str:
    """What a column takes, for the template's Columns sheet."""
    if column.api in ENUMS:
        (cls,) = ENUMS[column.api]
        values = "; ".join(f"{imports.enum_label(m)} ({m.value})" for m in cls)
        prefix = "COUNTRY= one of: " if column.api == "transfers" else ""
        return prefix + values
    if column.api in TAXONOMY_COLUMNS:
        count = len(getattr(taxonomy, TAXONOMY_COLUMNS[column.api]))
        return f"{count} keys: see the Taxonomy sheet"
    if column.api in ("effectiveFrom", "effectiveTo", "dpaSignedOn", "statusSince"):
        return "a date, 2025-03-31"
    if column.api == "internationalOrganisation":
        return "yes or no"
    return ""


def _template_columns() -> tuple[list[Column], list[Column], list[Column]]:
    recipients = list(imports.RECIPIENT_COLUMNS)
    disclosures = [imports.SLUG_COLUMN, *imports.DISCLOSURE_COLUMNS]
    combined = [*imports.RECIPIENT_COLUMNS, *imports.DISCLOSURE_COLUMNS]
    return recipients, disclosures, combined


def template_csv() -> bytes:
    """The CSV template: the header, and one example row."""
    _, _, combined = _template_columns()
    example = {**EXAMPLE_RECIPIENT, **EXAMPLE_DISCLOSURE}
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.header for c in combined])
    writer.writerow([example.get(c.api, "") for c in combined])
    return out.getvalue().encode("utf-8")


def template_xlsx(taxonomy: Taxonomy | None = None) -> bytes:
    """The XLSX template: Recipients and Disclosures with a header and one example row each, a
    Columns sheet explaining each column with its allowed values, and the Taxonomy's keys."""
    taxonomy = taxonomy or default_taxonomy()
    recipients, disclosures, _ = _template_columns()
    workbook = Workbook()
    bold = Font(bold=True)
    sheet = workbook.active
    assert sheet is not None
    sheet.title = imports.RECIPIENTS_SHEET
    for title, columns, example in (
        (imports.RECIPIENTS_SHEET, recipients, EXAMPLE_RECIPIENT),
        (imports.DISCLOSURES_SHEET, disclosures, EXAMPLE_DISCLOSURE),
    ):
        target = sheet if title == imports.RECIPIENTS_SHEET else workbook.create_sheet(title)
        target.append([c.header for c in columns])
        target.append([example.get(c.api) for c in columns])
        for cell in target[1]:
            cell.font = bold
        target.freeze_panes = "A2"
    explained = workbook.create_sheet("Columns")
    explained.append(["Sheet", "Column", "Required", "Meaning", "Allowed values"])
    for title, columns in (
        (imports.RECIPIENTS_SHEET, recipients),
        (imports.DISCLOSURES_SHEET, disclosures),
    ):
        for column in columns:
            required = column.required or (
                title == imports.DISCLOSURES_SHEET and column is imports.SLUG_COLUMN
            )
            explained.append(
                [
                    title,
                    column.header,
                    "yes" if required else "",
                    column.help,
                    allowed_values(column, taxonomy),
                ]
            )
    explained.append([])
    explained.append(
        ["", "Lists", "", "Several values in one cell are separated by semicolons.", ""]
    )
    explained.append(
        ["", "CSV", "", "One row per disclosure, the recipient's columns repeated.", ""]
    )
    for cell in explained[1]:
        cell.font = bold
    keys = workbook.create_sheet("Taxonomy")
    keys.append(["Column", "Key", "Name", "Sensitive"])
    for api, attribute in TAXONOMY_COLUMNS.items():
        for key, term in sorted(getattr(taxonomy, attribute).items()):
            keys.append([imports.column_for(api), key, term.name, "yes" if term.sensitive else ""])
    for cell in keys[1]:
        cell.font = bold
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def template_for(filename: str) -> bytes:
    """The template a file name asks for, by its extension."""
    lowered = filename.lower()
    if lowered.endswith(".xlsx"):
        return template_xlsx()
    if lowered.endswith(".csv"):
        return template_csv()
    raise UnreadableFile(f"{filename}: a template is a .xlsx or .csv file.")
