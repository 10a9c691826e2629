"""Bringing an existing inventory in from a spreadsheet: the documented layout, and each cell read
as a person wrote it. Plain Python: tables of cells in, typed entries with every problem and note
out, each located as a spreadsheet shows it (the sheet, the row counting the header, the column).

The layout (issue 15 §1). An XLSX workbook has a Recipients sheet (one row per recipient) and a
Disclosures sheet (one row per disclosure, keyed by the recipient's slug); a CSV file is one row
per disclosure with the recipient's columns repeated (a recipient without disclosures: one row
with the disclosure columns empty). Several values in a cell are separated by semicolons; a
transfer is COUNTRY=MECHANISM. Enum cells take the name or its label ("Service provider"), in any
case. Country names and lower-case codes become ISO codes, with a note; ambiguous ones are refused.

Only the cells are judged here. The rules on the values (a known taxonomy key, a retention that
sets a limit, a free slug...) are the mutations' own: the import service runs them, and
`column_for` says which column an error of theirs is about."""

from __future__ import annotations

import functools
import operator
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, TypeVar

import pycountry

from server.domain import validation
from server.domain.disclosure_terms import DisclosureSpec, TransferSpec
from server.domain.enums import (
    DisclosureFrequency,
    DisclosureGround,
    LegalBasis,
    ProcessingRole,
    RecipientKind,
    RecipientStatus,
    SpecialCategoryCondition,
    TransferMechanism,
    UserErrorCode,
)


class ImportFormat(StrEnum):
    CSV = "CSV"
    XLSX = "XLSX"
    FIDES_YAML = "FIDES_YAML"
    IAB_GVL = "IAB_GVL"


RECIPIENTS_SHEET = "Recipients"
DISCLOSURES_SHEET = "Disclosures"
# Several values in one cell.
LIST_SEPARATOR = ";"
# The most rows one file may hold (5,000 recipients with ten disclosures each fit), and the most
# problems one report lists: past it, the last one says how many more there were.
ROWS_MAX = 100_000
PROBLEMS_MAX = 10_000
NOTES_MAX = 10_000


@dataclass(frozen=True)
class Column:
    """A column of the layout: its header in the template, the API's name for the field it
    fills (a mutation's error names that field), and what a person may write in it."""

    header: str
    api: str
    help: str
    required: bool = False
    aliases: tuple[str, ...] = ()


RECIPIENT_COLUMNS: tuple[Column, ...] = (
    Column(
        "Slug",
        "slug",
        "The recipient's key: lower-case words joined by hyphens (acme-mail). Rows are matched to "
        "the inventory by it; left empty, it is derived from the name.",
        aliases=("recipient", "recipient slug", "id", "key"),
    ),
    Column("Name", "name", "The name people know it by.", required=True, aliases=("vendor",)),
    Column("Legal name", "legalName", "The legal entity (Acme Mail Inc.)."),
    Column("Description", "description", "What it does for us."),
    Column("Kind", "kind", "What the recipient is to the data subject.", required=True),
    Column("Role", "role", "Its role under data protection law.", required=True),
    Column(
        "Country",
        "country",
        "Where it is established: an ISO code (DE) or a country's name (Germany).",
        required=True,
        aliases=("headquarters", "hq country"),
    ),
    Column(
        "Status",
        "status",
        "Left empty: PROPOSED. Only an admin may import other statuses; for a recipient already "
        "in the inventory the status is not changed (statuses move through review).",
    ),
    Column("Status since", "statusSince", "When it took that status (admin imports; a date)."),
    Column("Services", "services", "Service tags, separated by semicolons (email-delivery)."),
    Column("Website", "website", "https://..."),
    Column("Privacy policy URL", "privacyPolicyUrl", "https://...", aliases=("privacy policy",)),
    Column("DPA signed on", "dpaSignedOn", "The day the data processing agreement was signed."),
    Column("Engaged by", "engagedBy", "For a subprocessor: the slug of the processor engaging it."),
    Column("Corporate group", "corporateGroup", "The group it belongs to (for BCRs)."),
    Column(
        "International organisation",
        "internationalOrganisation",
        "Yes for an international organisation (GDPR Art. 4(26)); empty or no otherwise.",
    ),
)
DISCLOSURE_COLUMNS: tuple[Column, ...] = (
    Column(
        "Data categories",
        "dataCategories",
        "Taxonomy keys, separated by semicolons (user.contact.email; user.name).",
        required=True,
    ),
    Column(
        "Subject types",
        "subjectTypes",
        "Whose data: taxonomy keys, separated by semicolons (customer).",
        required=True,
        aliases=("data subjects", "subjects"),
    ),
    Column(
        "Purposes",
        "purposes",
        "Taxonomy keys (data uses), separated by semicolons.",
        required=True,
        aliases=("data uses",),
    ),
    Column("Legal basis", "legalBasis", "GDPR Art. 6(1).", required=True),
    Column(
        "Ground",
        "ground",
        "Why the data goes to this recipient.",
        required=True,
        aliases=("disclosure ground",),
    ),
    Column(
        "Retention",
        "retention",
        "An ISO 8601 duration (P30D) or a rule in words (until the account is closed + P30D).",
    ),
    Column(
        "Transfers",
        "transfers",
        "COUNTRY=MECHANISM, separated by semicolons (US=Standard contractual clauses; IN=SCC).",
        aliases=("countries", "transfer countries"),
    ),
    Column("Effective from", "effectiveFrom", "The first day it applies; empty: today."),
    Column(
        "Ends on",
        "effectiveTo",
        "The first day it no longer applies: ends the matching disclosure.",
        aliases=("effective to", "end date"),
    ),
    Column("Frequency", "frequency", "Empty: continuous."),
    Column(
        "Special category condition",
        "specialCategoryCondition",
        "GDPR Art. 9(2) or Art. 10, for special-category or criminal-offence data.",
    ),
    Column(
        "Exporter", "exporter", "The slug of our establishment it comes from; empty: the main one."
    ),
)
SLUG_COLUMN = RECIPIENT_COLUMNS[0]
BY_API = {c.api: c for c in (*RECIPIENT_COLUMNS, *DISCLOSURE_COLUMNS)}

# The enum each enum column takes, and the other words people use for some values.
ENUM_COLUMNS: dict[str, type[StrEnum]] = {
    "kind": RecipientKind,
    "role": ProcessingRole,
    "status": RecipientStatus,
    "legalBasis": LegalBasis,
    "ground": DisclosureGround,
    "frequency": DisclosureFrequency,
    "specialCategoryCondition": SpecialCategoryCondition,
    "transfers": TransferMechanism,
}
ENUM_ALIASES: dict[type[StrEnum], dict[str, StrEnum]] = {
    LegalBasis: {
        "legitimate interest": LegalBasis.LEGITIMATE_INTERESTS,
        "contractual necessity": LegalBasis.CONTRACT,
        "performance of a contract": LegalBasis.CONTRACT,
        "public interest": LegalBasis.PUBLIC_TASK,
    },
    TransferMechanism: {
        "scc": TransferMechanism.STANDARD_CONTRACTUAL_CLAUSES,
        "sccs": TransferMechanism.STANDARD_CONTRACTUAL_CLAUSES,
        "adequacy": TransferMechanism.ADEQUACY_DECISION,
        "bcr": TransferMechanism.BINDING_CORPORATE_RULES,
        "bcrs": TransferMechanism.BINDING_CORPORATE_RULES,
        "idta": TransferMechanism.UK_IDTA,
    },
    ProcessingRole: {"sub-processor": ProcessingRole.SUBPROCESSOR},
}
# Names people give countries that are no country's ISO name, and names that are more than one.
COUNTRY_ALIASES = {
    "uk": "GB",
    "great britain": "GB",
    "britain": "GB",
    "usa": "US",
    "united states of america": "US",
    "america": "US",
    "south korea": "KR",
    "north korea": "KP",
    "russia": "RU",
    "holland": "NL",
    "czechia": "CZ",
    "the netherlands": "NL",
}
AMBIGUOUS_COUNTRIES = {
    "congo": ("CG", "CD"),
    "korea": ("KR", "KP"),
    "virgin islands": ("VG", "VI"),
    "guinea": ("GN", "GQ", "GW", "PG"),
    "sudan": ("SD", "SS"),
    "samoa": ("WS", "AS"),
    "macedonia": ("MK",),
}

# Words an enum's label keeps in capitals.
ACRONYMS = frozenset({"AI", "UK", "IDTA", "EU"})

E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True)
class ImportProblem:
    sheet: str | None
    row: int | None
    column: str | None
    value: str | None
    code: UserErrorCode
    message: str

    def line(self) -> str:
        """`sheet:row column value: message`, as the command line prints it."""
        place = ":".join(str(p) for p in (self.sheet, self.row) if p is not None)
        where = " ".join(
            p for p in (place, self.column, repr(self.value) if self.value else None) if p
        )
        return f"{where}: {self.message}" if where else self.message


@dataclass(frozen=True)
class ImportNote:
    sheet: str | None
    row: int | None
    column: str | None
    message: str

    def line(self) -> str:
        place = ":".join(str(p) for p in (self.sheet, self.row) if p is not None)
        where = " ".join(p for p in (place, self.column) if p)
        return f"{where}: {self.message}" if where else self.message


@dataclass
class ImportReport:
    dry_run: bool
    applied: bool = False
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[ImportProblem] = field(default_factory=list)
    notes: list[ImportNote] = field(default_factory=list)

    def listed_problems(self) -> list[ImportProblem]:
        """At most PROBLEMS_MAX, the last saying how many more there were."""
        if len(self.problems) <= PROBLEMS_MAX:
            return self.problems
        more = len(self.problems) - PROBLEMS_MAX + 1
        return [
            *self.problems[: PROBLEMS_MAX - 1],
            ImportProblem(
                None, None, None, None, UserErrorCode.INVALID, f"{more:,} more problems."
            ),
        ]

    def listed_notes(self) -> list[ImportNote]:
        if len(self.notes) <= NOTES_MAX:
            return self.notes
        more = len(self.notes) - NOTES_MAX + 1
        return [*self.notes[: NOTES_MAX - 1], ImportNote(None, None, None, f"{more:,} more notes.")]

    def summary(self) -> str:
        verb = "would be" if self.dry_run or not self.applied else "were"
        if self.problems:
            head = f"{len(self.problems)} problem(s): nothing was written."
        elif self.dry_run:
            head = "Dry run: no problems, nothing was written."
        else:
            head = "Imported in one transaction."
        return (
            f"{head} Recipients that {verb} created: {self.created}, updated: {self.updated}, "
            f"unchanged: {self.unchanged}."
        )


@dataclass
class Table:
    """One sheet (or a CSV file, sheet None): its header and its rows, each with its number as a
    spreadsheet shows it (the header is row 1)."""

    sheet: str | None
    header: list[Any]
    rows: list[tuple[int, list[Any]]]


@dataclass
class DisclosureEntry:
    sheet: str | None
    # None where the source has no rows (a Fides manifest, a vendor list).
    row: int | None
    slug: str
    # The text of each column the row has, by the API's field name (for error reports).
    cells: dict[str, str]
    # The terms, when every cell could be read; `draft` holds what could, so that the rules on
    # the terms still judge them (each unreadable cell is already a problem of its own).
    spec: DisclosureSpec | None
    ends_on: date | None = None
    draft: DisclosureSpec | None = None


@dataclass
class RecipientEntry:
    """A recipient row. `given` holds the fields whose columns the file has: an update changes
    those only (an empty cell clears an optional one), and leaves the others alone."""

    sheet: str | None
    row: int | None
    slug: str
    cells: dict[str, str]
    given: set[str]
    name: str | None = None
    legal_name: str | None = None
    description: str | None = None
    kind: RecipientKind | None = None
    role: ProcessingRole | None = None
    country: str | None = None
    status: RecipientStatus | None = None
    status_since: datetime | None = None
    services: list[str] = field(default_factory=list)
    website: str | None = None
    privacy_policy_url: str | None = None
    dpa_signed_on: date | None = None
    engaged_by: str | None = None
    corporate_group: str | None = None
    international_organisation: bool = False
    # False when a required cell could not be read: the recipient is not checked further.
    usable: bool = True
    disclosures: list[DisclosureEntry] = field(default_factory=list)


@dataclass
class ImportPlan:
    """What a file asks for: its recipients in file order, disclosure rows for recipients the
    file does not list (XLSX: recipients already in the inventory), problems and notes."""

    recipients: list[RecipientEntry] = field(default_factory=list)
    other_disclosures: list[DisclosureEntry] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    notes: list[ImportNote] = field(default_factory=list)


def _key(text: str) -> str:
    return " ".join(str(text).replace("_", " ").replace("*", " ").split()).casefold()


_HEADERS: dict[str, Column] = {}
for _column in (*RECIPIENT_COLUMNS, *DISCLOSURE_COLUMNS):
    for _name in (_column.header, _column.api, *_column.aliases):
        _HEADERS[_key(_name)] = _column
_HEADERS[_key("disclosure slug")] = SLUG_COLUMN


_SHEET_ORDER = {None: 0, RECIPIENTS_SHEET: 1, DISCLOSURES_SHEET: 2}
_COLUMN_ORDER = {c.header: i for i, c in enumerate((*RECIPIENT_COLUMNS, *DISCLOSURE_COLUMNS))}


def reading_order(item: ImportProblem | ImportNote) -> tuple[int, str, int, int]:
    """Problems and notes as a person reads the file: sheet by sheet, row by row, left to
    right (stable: a cell's several problems keep their order)."""
    return (
        _SHEET_ORDER.get(item.sheet, 3),
        item.sheet or "",
        item.row or 0,
        _COLUMN_ORDER.get(item.column or "", len(_COLUMN_ORDER)),
    )


def column_for(api: str) -> str:
    """The header of the column that fills the API's field `api`."""
    column = BY_API.get(api)
    return column.header if column else api


def enum_label(member: StrEnum) -> str:
    """The label a person reads and may write: SERVICE_PROVIDER -> Service provider."""
    words = member.value.replace("_", " ").capitalize().split()
    return " ".join(w.upper() if w.upper() in ACRONYMS else w for w in words)


def cell_text(value: Any) -> str | None:
    """A cell as text: None for an empty one; numbers without a trailing .0; days as ISO dates."""
    if type(value) is str:  # every cell of a CSV file, most of a workbook's
        return value.strip() or None
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        if value.time() == datetime.min.time() and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


class CellReader:
    """Reads the cells of one import, collecting a problem for each cell it cannot read and a
    note for each value it normalised."""

    def __init__(self) -> None:
        self.problems: list[ImportProblem] = []
        self.notes: list[ImportNote] = []

    def problem(
        self,
        sheet: str | None,
        row: int | None,
        api: str | None,
        value: str | None,
        message: str,
        code: UserErrorCode = UserErrorCode.INVALID,
    ) -> None:
        column = column_for(api) if api else None
        self.problems.append(ImportProblem(sheet, row, column, value, code, message))

    def note(self, sheet: str | None, row: int | None, api: str, message: str) -> None:
        self.notes.append(ImportNote(sheet, row, column_for(api), message))

    def enum(self, cls: type[E], text: str, at: tuple[str | None, int, str]) -> E | None:
        found = enum_value(cls, text)
        if found is None:
            allowed = ", ".join(f"{m.value} ({enum_label(m)})" for m in cls)
            self.problem(*at, text, f'"{text[:60]}" is not one of: {allowed}.')
        return found

    def day(self, text: str, at: tuple[str | None, int, str]) -> date | None:
        try:
            parsed = date.fromisoformat(text[:10]) if len(text) >= 10 else None
            if parsed is not None and len(text) > 10:
                datetime.fromisoformat(text)
        except ValueError:
            parsed = None
        if parsed is None:
            self.problem(*at, text, f'"{text[:40]}" is not a date: write it as 2025-03-31.')
        return parsed

    def moment(self, text: str, at: tuple[str | None, int, str]) -> datetime | None:
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            self.problem(*at, text, f'"{text[:40]}" is not a date: write it as 2025-03-31.')
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

    def country(self, text: str, at: tuple[str | None, int, str]) -> str | None:
        code, problem = country_code(text)
        if problem is not None:
            self.problem(*at, text, problem)
            return None
        assert code is not None
        if code != text:
            sheet, row, api = at
            self.note(
                sheet, row, api, f'"{text}" read as {code} ({validation.country_name(code)}).'
            )
        return code

    def flag(self, text: str, at: tuple[str | None, int, str]) -> bool | None:
        word = text.casefold()
        if word in ("yes", "y", "true", "1", "x"):
            return True
        if word in ("no", "n", "false", "0"):
            return False
        self.problem(*at, text, f'"{text[:40]}" is not yes or no.')
        return None

    def transfers(self, text: str, at: tuple[str | None, int, str]) -> list[TransferSpec] | None:
        out: list[TransferSpec] = []
        failed = False
        for item in split_list(text):
            country_text, sep, mechanism_text = item.partition("=")
            country_text, mechanism_text = country_text.strip(), mechanism_text.strip()
            if not sep or not country_text or not mechanism_text:
                self.problem(
                    *at,
                    item,
                    f'"{item[:60]}" is not a transfer: write COUNTRY=MECHANISM '
                    "(US=Standard contractual clauses).",
                )
                failed = True
                continue
            country = self.country(country_text, at)
            mechanism = self.enum(TransferMechanism, mechanism_text, at)
            if country is None or mechanism is None:
                failed = True
                continue
            out.append(TransferSpec(country=country, mechanism=mechanism))
        return None if failed else out


def enum_value(cls: type[E], text: str) -> E | None:
    """The member `text` names, by name or label, in any case, or by one of its aliases."""
    if len(text) <= _REMEMBERED_TEXT_MAX:
        return _remembered_enum_value(cls, text)  # type: ignore[return-value]
    return _enum_value(cls, text)  # type: ignore[return-value]


# A file repeats a few labels in tens of thousands of cells: each text is read once (short
# ones only, so that what is kept stays small whatever the file holds).
_REMEMBERED_TEXT_MAX = 80


def _enum_value(cls: type[StrEnum], text: str) -> StrEnum | None:
    found = _members_by_key(cls).get(_key(text.replace("-", " ")))
    if found is None:
        found = ENUM_ALIASES.get(cls, {}).get(_key(text))
    return found


_remembered_enum_value = functools.lru_cache(maxsize=4096)(_enum_value)


@functools.lru_cache(maxsize=64)
def _members_by_key(cls: type[StrEnum]) -> dict[str, StrEnum]:
    """An enum's members by the key of their names (the first member, should two share one)."""
    out: dict[str, StrEnum] = {}
    for member in cls:
        out.setdefault(_key(member.value), member)
    return out


# What separates the values of a cell.
_SEPARATORS = re.compile(r"[;\n]")


def split_list(text: str | None) -> list[str]:
    """The values of a cell: separated by semicolons (or line breaks), each trimmed."""
    if not text:
        return []
    if "\n" in text:
        parts = _SEPARATORS.split(text)
    elif ";" in text:
        # Semicolons alone, the commonest list: str.split, which the regex's split is not.
        parts = text.split(";")
    else:
        # One value, the commonest cell.
        item = text.strip()
        return [item] if item else []
    return list(filter(None, map(str.strip, parts)))


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join(
        "".join(c for c in decomposed if not unicodedata.combining(c)).split()
    ).casefold()


@functools.cache
def _country_names() -> dict[str, set[str]]:
    names: dict[str, set[str]] = {}
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name", "alpha_3"):
            value = getattr(country, attr, None)
            if value:
                names.setdefault(_fold(value), set()).add(country.alpha_2)
    for alias, code in COUNTRY_ALIASES.items():
        names.setdefault(alias, set()).add(code)
    return names


def country_code(text: str) -> tuple[str | None, str | None]:
    """The ISO 3166-1 alpha-2 code a cell names (a code in any case, a name, a common alias),
    or the problem: unknown, or more than one country."""
    stripped = text.strip()
    if validation.country_error(stripped) is None:
        return stripped, None
    upper = stripped.upper()
    hinted = validation.COUNTRY_HINTS.get(upper, "")
    if hinted is None:
        return None, validation.country_error(upper)
    if hinted:
        return hinted, None
    if len(stripped) == 2 and validation.country_error(upper) is None:
        return upper, None
    folded = _fold(stripped)
    if folded in AMBIGUOUS_COUNTRIES:
        options = ", ".join(
            f"{c} ({validation.country_name(c)})" for c in AMBIGUOUS_COUNTRIES[folded]
        )
        return (
            None,
            f'"{stripped[:60]}" could mean more than one country: {options}; write the code.',
        )
    codes = _country_names().get(folded, set())
    if len(codes) == 1:
        return next(iter(codes)), None
    if len(codes) > 1:
        options = ", ".join(sorted(codes))
        return (
            None,
            f'"{stripped[:60]}" could mean more than one country: {options}; write the code.',
        )
    return None, (
        f'"{stripped[:60]}" is not a country we know: write its ISO 3166-1 alpha-2 code '
        "(DE) or its English name (Germany)."
    )


def _columns(
    reader: CellReader, table: Table, allowed: Sequence[Column], required: Sequence[Column]
) -> dict[int, Column] | None:
    """Each header cell's column, by position; None when a required one is missing or a header
    is unknown (a typo must not pass silently: its column would be dropped)."""
    known = {c.api for c in allowed}
    found: dict[int, Column] = {}
    failed = False
    for i, raw in enumerate(table.header):
        text = cell_text(raw)
        if text is None:
            continue
        column = _HEADERS.get(_key(text))
        if column is None or column.api not in known:
            expected = ", ".join(c.header for c in allowed)
            reader.problems.append(
                ImportProblem(
                    table.sheet,
                    1,
                    text,
                    text,
                    UserErrorCode.INVALID,
                    f'Unknown column "{text[:60]}"; the columns are: {expected}.',
                )
            )
            failed = True
            continue
        if column in found.values():
            reader.problem(
                table.sheet, 1, column.api, text, f'Column "{column.header}" appears twice.'
            )
            failed = True
            continue
        found[i] = column
    present = {c.api for c in found.values()}
    for column in required:
        if column.required and column.api not in present:
            reader.problem(table.sheet, 1, None, None, f'The column "{column.header}" is missing.')
            failed = True
    return None if failed else found


def _row_cells(columns: dict[int, Column], cells: list[Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    count = len(cells)
    for i, column in columns.items():
        if i >= count:
            continue
        raw = cells[i]
        # cell_text, its commonest case inline: a file's tens of thousands of rows.
        text = (raw.strip() or None) if type(raw) is str else cell_text(raw)
        if text is not None:
            out[column.api] = text
    return out


def _recipient(
    reader: CellReader, sheet: str | None, row: int, cells: dict[str, str], given: set[str]
) -> RecipientEntry:
    name = cells.get("name")
    slug = cells.get("slug") or validation.slugify(name or "")
    entry = RecipientEntry(sheet, row, slug, cells, given)
    if "slug" not in cells and slug:
        reader.note(sheet, row, "slug", f'No slug: "{slug}", from the name.')
        cells["slug"] = slug
    for api in ("name", "kind", "role", "country"):
        if api not in cells:
            reader.problem(sheet, row, api, None, f"{column_for(api)} must not be empty.")
            entry.usable = False
    if not slug and name:
        reader.problem(sheet, row, "slug", None, "Cannot derive a slug from this name: give one.")
        entry.usable = False
    entry.name = name
    entry.legal_name = cells.get("legalName")
    entry.description = cells.get("description")
    entry.website = cells.get("website")
    entry.privacy_policy_url = cells.get("privacyPolicyUrl")
    entry.engaged_by = cells.get("engagedBy")
    entry.corporate_group = cells.get("corporateGroup")
    entry.services = split_list(cells.get("services"))
    if (text := cells.get("kind")) is not None:
        entry.kind = reader.enum(RecipientKind, text, (sheet, row, "kind"))
    if (text := cells.get("role")) is not None:
        entry.role = reader.enum(ProcessingRole, text, (sheet, row, "role"))
    if (text := cells.get("country")) is not None:
        entry.country = reader.country(text, (sheet, row, "country"))
    if (text := cells.get("status")) is not None:
        entry.status = reader.enum(RecipientStatus, text, (sheet, row, "status"))
    if (text := cells.get("statusSince")) is not None:
        entry.status_since = reader.moment(text, (sheet, row, "statusSince"))
    if (text := cells.get("dpaSignedOn")) is not None:
        entry.dpa_signed_on = reader.day(text, (sheet, row, "dpaSignedOn"))
    if (text := cells.get("internationalOrganisation")) is not None:
        entry.international_organisation = bool(
            reader.flag(text, (sheet, row, "internationalOrganisation"))
        )
    if entry.kind is None or entry.role is None or entry.country is None:
        entry.usable = False
    return entry


def _disclosure(
    reader: CellReader, sheet: str | None, row: int, slug: str, cells: dict[str, str]
) -> DisclosureEntry:
    at = (sheet, row)
    entry = DisclosureEntry(sheet, row, slug, cells, None)
    missing = False
    for api in ("legalBasis", "ground"):
        if api not in cells:
            reader.problem(sheet, row, api, None, f"{column_for(api)} must not be empty.")
            missing = True
    legal_basis = (
        reader.enum(LegalBasis, cells["legalBasis"], (*at, "legalBasis"))
        if "legalBasis" in cells
        else None
    )
    ground = (
        reader.enum(DisclosureGround, cells["ground"], (*at, "ground"))
        if "ground" in cells
        else None
    )
    frequency = (
        reader.enum(DisclosureFrequency, cells["frequency"], (*at, "frequency"))
        if "frequency" in cells
        else DisclosureFrequency.CONTINUOUS
    )
    condition = (
        reader.enum(
            SpecialCategoryCondition,
            cells["specialCategoryCondition"],
            (*at, "specialCategoryCondition"),
        )
        if "specialCategoryCondition" in cells
        else None
    )
    transfers = (
        reader.transfers(cells["transfers"], (*at, "transfers")) if "transfers" in cells else []
    )
    effective_from = (
        reader.day(cells["effectiveFrom"], (*at, "effectiveFrom"))
        if "effectiveFrom" in cells
        else None
    )
    if "effectiveTo" in cells:
        entry.ends_on = reader.day(cells["effectiveTo"], (*at, "effectiveTo"))
    failed = (
        missing
        or legal_basis is None
        or ground is None
        or frequency is None
        or transfers is None
        or ("specialCategoryCondition" in cells and condition is None)
        or ("effectiveFrom" in cells and effective_from is None)
        or ("effectiveTo" in cells and entry.ends_on is None)
    )
    terms = DisclosureSpec(
        data_categories=split_list(cells.get("dataCategories")),
        subject_types=split_list(cells.get("subjectTypes")),
        purposes=split_list(cells.get("purposes")),
        legal_basis=legal_basis or LegalBasis.CONTRACT,
        ground=ground or DisclosureGround.SERVICE_PROVISION,
        retention=cells.get("retention"),
        transfers=transfers or [],
        effective_from=effective_from,
        frequency=frequency or DisclosureFrequency.CONTINUOUS,
        special_category_condition=condition,
        exporter=cells.get("exporter"),
    )
    if failed:
        entry.draft = terms
    else:
        entry.spec = terms
    return entry


def _too_many_rows(reader: CellReader, table: Table) -> bool:
    if len(table.rows) > ROWS_MAX:
        reader.problem(
            table.sheet,
            None,
            None,
            None,
            f"{len(table.rows):,} rows; an import holds at most {ROWS_MAX:,}: split the file.",
        )
        return True
    return False


RECIPIENT_APIS = frozenset(c.api for c in RECIPIENT_COLUMNS)
DISCLOSURE_APIS = frozenset(c.api for c in DISCLOSURE_COLUMNS)


def plan_csv(table: Table) -> ImportPlan:
    """A CSV file: one row per disclosure, the recipient's columns repeated on each."""
    reader = CellReader()
    plan = ImportPlan(problems=reader.problems, notes=reader.notes)
    # A file of recipients alone needs no disclosure columns: a row that gives a disclosure
    # without its legal basis or categories has that problem itself.
    columns = _columns(reader, table, (*RECIPIENT_COLUMNS, *DISCLOSURE_COLUMNS), RECIPIENT_COLUMNS)
    if columns is None or _too_many_rows(reader, table):
        return plan
    given = {c.api for c in columns.values()}
    recipient_columns = {i: c for i, c in columns.items() if c.api in RECIPIENT_APIS}
    disclosure_columns = {i: c for i, c in columns.items() if c.api in DISCLOSURE_APIS}
    # A recipient's columns repeat on each of its rows: a row whose recipient cells are, as
    # written, those of the row before, which named a recipient and agreed with it, names that
    # recipient again and agrees with it too (its cells are not read again).
    same_as_before = _raw_cells(recipient_columns)
    before: tuple[Any, ...] | None = None
    entry: RecipientEntry | None = None
    by_slug: dict[str, RecipientEntry] = {}
    for row, raw in table.rows:
        written = same_as_before(raw) if len(raw) >= len(table.header) else None
        if written is None or written != before or entry is None:
            before = None
            recipient_cells = _row_cells(recipient_columns, raw)
            disclosure_cells = _row_cells(disclosure_columns, raw)
            if not recipient_cells and not disclosure_cells:
                continue
            slug = recipient_cells.get("slug") or validation.slugify(
                recipient_cells.get("name") or ""
            )
            entry = by_slug.get(slug) if slug else None
            agrees = True
            if entry is None:
                entry = _recipient(reader, None, row, recipient_cells, given & RECIPIENT_APIS)
                if entry.slug:
                    by_slug[entry.slug] = entry
                else:
                    agrees = False
                plan.recipients.append(entry)
            elif recipient_cells != entry.cells:
                for api, text in recipient_cells.items():
                    if api != "slug" and entry.cells.get(api) != text:
                        agrees = False
                        reader.problem(
                            None,
                            row,
                            api,
                            text,
                            f"Differs from row {entry.row}, which gives {entry.slug}'s "
                            f"{column_for(api)} as {entry.cells.get(api)!r}: repeat the "
                            "recipient's columns as they are.",
                        )
            if agrees:
                before = written
        else:
            disclosure_cells = _row_cells(disclosure_columns, raw)
        if disclosure_cells:
            entry.disclosures.append(_disclosure(reader, None, row, entry.slug, disclosure_cells))
    return plan


def _raw_cells(columns: dict[int, Column]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """The cells of these columns in a row, as written (a tuple, whatever their number)."""
    if not columns:
        return lambda raw: ()
    if len(columns) == 1:
        only = next(iter(columns))
        return lambda raw: (raw[only],)
    return operator.itemgetter(*columns)


def plan_workbook(tables: Iterable[Table]) -> ImportPlan:
    """An XLSX workbook: a Recipients sheet and a Disclosures sheet keyed by slug. Other sheets
    (the template's Columns and Taxonomy) are not read."""
    reader = CellReader()
    plan = ImportPlan(problems=reader.problems, notes=reader.notes)
    sheets = {_key(t.sheet or ""): t for t in tables}
    recipients = sheets.get(_key(RECIPIENTS_SHEET))
    disclosures = sheets.get(_key(DISCLOSURES_SHEET))
    if recipients is None and disclosures is None:
        reader.problem(
            None,
            None,
            None,
            None,
            f'The workbook has no "{RECIPIENTS_SHEET}" or "{DISCLOSURES_SHEET}" sheet; its sheets '
            f"are: {', '.join(repr(t.sheet) for t in sheets.values()) or 'none'}.",
        )
        return plan
    by_slug: dict[str, RecipientEntry] = {}
    if recipients is not None:
        sheet = recipients.sheet
        columns = _columns(reader, recipients, RECIPIENT_COLUMNS, RECIPIENT_COLUMNS)
        if columns is not None and not _too_many_rows(reader, recipients):
            given = {c.api for c in columns.values()}
            for row, raw in recipients.rows:
                cells = _row_cells(columns, raw)
                if not cells:
                    continue
                entry = _recipient(reader, sheet, row, cells, given)
                if entry.slug in by_slug:
                    reader.problem(
                        sheet,
                        row,
                        "slug",
                        entry.slug,
                        f'Slug "{entry.slug}" is also on row {by_slug[entry.slug].row}.',
                        UserErrorCode.DUPLICATE,
                    )
                    continue
                if entry.slug:
                    by_slug[entry.slug] = entry
                plan.recipients.append(entry)
    if disclosures is not None:
        sheet = disclosures.sheet
        allowed = (SLUG_COLUMN, *DISCLOSURE_COLUMNS)
        columns = _columns(reader, disclosures, allowed, DISCLOSURE_COLUMNS)
        if columns is not None and SLUG_COLUMN not in columns.values():
            reader.problem(sheet, 1, None, None, 'The column "Slug" is missing.')
            columns = None
        if columns is not None and not _too_many_rows(reader, disclosures):
            for row, raw in disclosures.rows:
                cells = _row_cells(columns, raw)
                if not cells:
                    continue
                slug = cells.pop("slug", None)
                if slug is None:
                    reader.problem(sheet, row, "slug", None, "Name the recipient by its slug.")
                    continue
                disclosure = _disclosure(reader, sheet, row, slug, cells)
                if slug in by_slug:
                    by_slug[slug].disclosures.append(disclosure)
                else:
                    plan.other_disclosures.append(disclosure)
    return plan


@dataclass(frozen=True)
class Terms:
    """What makes two disclosures the same: their terms, lists as sets (a spreadsheet's order
    says nothing), and their start when the row gives one."""

    data_categories: frozenset[str]
    subject_types: frozenset[str]
    purposes: frozenset[str]
    legal_basis: str
    ground: str
    retention: str | None
    transfers: frozenset[tuple[str, str, str | None, str | None]]
    frequency: str
    special_category_condition: str | None


def terms_of(spec: DisclosureSpec) -> Terms:
    return Terms(
        frozenset(spec.data_categories),
        frozenset(spec.subject_types),
        frozenset(spec.purposes),
        spec.legal_basis.value,
        spec.ground.value,
        spec.retention.strip() if spec.retention else None,
        frozenset(
            (
                t.country,
                t.mechanism.value,
                t.reference,
                t.signed_on.isoformat() if t.signed_on else None,
            )
            for t in spec.transfers
        ),
        spec.frequency.value,
        spec.special_category_condition.value if spec.special_category_condition else None,
    )


@dataclass(frozen=True)
class StoredDisclosure:
    """A disclosure already in the inventory, as an import compares rows with it."""

    id: int
    terms: Terms
    effective_from: date
    effective_to: date | None
    exporter: str | None


def matching_disclosure(
    entry: DisclosureEntry, stored: Sequence[StoredDisclosure], today: date, taken: set[int]
) -> StoredDisclosure | None:
    """The stored disclosure this row describes, if any (each matched once): one with the same
    terms (and start and exporter, where the row gives them) that is in effect or still to come
    or, for a row with "Ends on", one that ended on that day."""
    assert entry.spec is not None
    wanted = terms_of(entry.spec)
    for candidate in stored:
        if candidate.id in taken or candidate.terms != wanted:
            continue
        if entry.spec.effective_from and candidate.effective_from != entry.spec.effective_from:
            continue
        if entry.spec.exporter and candidate.exporter != entry.spec.exporter:
            continue
        if candidate.effective_to is None or candidate.effective_to > today:
            return candidate
        if entry.ends_on is not None and candidate.effective_to == entry.ends_on:
            return candidate
    return None


def fold_keys(keys: Sequence[str], most: int) -> list[str]:
    """At most `most` taxonomy keys covering `keys`: the deepest ones replaced by their parent
    until they fit (a broader key covers its descendants, rule 4)."""
    current = list(dict.fromkeys(keys))
    while len(current) > most:
        deepest = max(k.count(".") for k in current)
        if deepest == 0:
            break
        current = list(
            dict.fromkeys(k.rsplit(".", 1)[0] if k.count(".") == deepest else k for k in current)
        )
    return current


def forbidden_statuses(
    recipients: Iterable[RecipientEntry], allowed: frozenset[RecipientStatus], role: str
) -> list[ImportProblem]:
    """A FORBIDDEN problem for each row naming a status the importing role may not register."""
    allowed_text = ", ".join(sorted(s.value for s in allowed)) or "none"
    return [
        ImportProblem(
            r.sheet,
            r.row,
            column_for("status"),
            r.cells.get("status"),
            UserErrorCode.FORBIDDEN,
            f"The {role} role imports recipients only as {allowed_text}; "
            f"{r.status.value} is for an admin's migration from another tool.",
        )
        for r in recipients
        if r.status is not None and r.status not in allowed
    ]
