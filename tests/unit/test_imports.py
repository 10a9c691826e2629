"""Reading an import file's cells (server/domain/imports.py): each rule as a table, and the
layout's rows, sheets and headers."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from server.domain import imports
from server.domain.enums import (
    DisclosureGround,
    LegalBasis,
    ProcessingRole,
    RecipientKind,
    RecipientStatus,
    TransferMechanism,
    UserErrorCode,
)
from server.domain.imports import CellReader, Table

AT = (None, 2, "country")


@pytest.mark.parametrize(
    ("cell", "code", "noted"),
    [
        ("DE", "DE", False),
        ("de", "DE", True),
        ("Germany", "DE", True),
        ("germany ", "DE", True),
        ("United Kingdom", "GB", True),
        ("UK", "GB", True),
        ("uk", "GB", True),
        ("EL", "GR", True),
        ("USA", "US", True),
        ("United States", "US", True),
        ("DEU", "DE", True),
        ("Côte d'Ivoire", "CI", True),
        ("Cote d'Ivoire", "CI", True),
        ("Türkiye", "TR", True),
        ("Congo", None, False),
        ("korea", None, False),
        ("Guinea", None, False),
        ("EU", None, False),
        ("Atlantis", None, False),
        ("D", None, False),
        ("XX", None, False),
    ],
)
def test_country_cells(cell: str, code: str | None, noted: bool) -> None:
    reader = CellReader()
    assert reader.country(cell, AT) == code
    assert bool(reader.notes) == noted
    assert bool(reader.problems) == (code is None)
    if reader.problems:
        (problem,) = reader.problems
        assert (problem.row, problem.column, problem.value) == (2, "Country", cell)


def test_an_ambiguous_country_names_its_candidates() -> None:
    reader = CellReader()
    reader.country("Congo", AT)
    assert "CG" in reader.problems[0].message and "CD" in reader.problems[0].message


@pytest.mark.parametrize(
    ("cls", "cell", "member"),
    [
        (RecipientKind, "SERVICE_PROVIDER", RecipientKind.SERVICE_PROVIDER),
        (RecipientKind, "Service provider", RecipientKind.SERVICE_PROVIDER),
        (RecipientKind, "service PROVIDER", RecipientKind.SERVICE_PROVIDER),
        (RecipientKind, "service-provider", RecipientKind.SERVICE_PROVIDER),
        (RecipientKind, "AI provider", RecipientKind.AI_PROVIDER),
        (ProcessingRole, "sub-processor", ProcessingRole.SUBPROCESSOR),
        (ProcessingRole, "Joint controller", ProcessingRole.JOINT_CONTROLLER),
        (LegalBasis, "legitimate interest", LegalBasis.LEGITIMATE_INTERESTS),
        (LegalBasis, "Legitimate interests", LegalBasis.LEGITIMATE_INTERESTS),
        (TransferMechanism, "SCCs", TransferMechanism.STANDARD_CONTRACTUAL_CLAUSES),
        (TransferMechanism, "uk idta", TransferMechanism.UK_IDTA),
        (RecipientStatus, "under review", RecipientStatus.UNDER_REVIEW),
        (RecipientKind, "Vendor", None),
        (DisclosureGround, "because", None),
    ],
)
def test_enum_cells(cls: type, cell: str, member: object) -> None:
    assert imports.enum_value(cls, cell) == member


def test_an_unknown_enum_cell_lists_names_and_labels() -> None:
    reader = CellReader()
    assert reader.enum(RecipientKind, "Vendor", (None, 3, "kind")) is None
    (problem,) = reader.problems
    assert problem.column == "Kind" and problem.value == "Vendor" and problem.row == 3
    assert "SERVICE_PROVIDER (Service provider)" in problem.message


@pytest.mark.parametrize(
    ("cell", "parsed"),
    [
        ("US=SCC", [("US", TransferMechanism.STANDARD_CONTRACTUAL_CLAUSES)]),
        (
            "us = Standard contractual clauses; India=Adequacy decision",
            [
                ("US", TransferMechanism.STANDARD_CONTRACTUAL_CLAUSES),
                ("IN", TransferMechanism.ADEQUACY_DECISION),
            ],
        ),
        ("GB=NOT_RESTRICTED;", [("GB", TransferMechanism.NOT_RESTRICTED)]),
        ("US", None),
        ("=SCC", None),
        ("US=", None),
        ("Atlantis=SCC", None),
        ("US=Pinky promise", None),
    ],
)
def test_transfer_cells(cell: str, parsed: list[tuple[str, TransferMechanism]] | None) -> None:
    reader = CellReader()
    got = reader.transfers(cell, (None, 2, "transfers"))
    if parsed is None:
        assert got is None and reader.problems
        assert all(p.column == "Transfers" for p in reader.problems)
    else:
        assert got is not None and [(t.country, t.mechanism) for t in got] == parsed
        assert not reader.problems


@pytest.mark.parametrize(
    ("cell", "items"),
    [
        ("a; b;c", ["a", "b", "c"]),
        ("a\nb", ["a", "b"]),
        (" ; ", []),
        ("", []),
        (None, []),
    ],
)
def test_list_cells(cell: str | None, items: list[str]) -> None:
    assert imports.split_list(cell) == items


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, None),
        ("  ", None),
        (" x ", "x"),
        (3.0, "3"),
        (2.5, "2.5"),
        (True, "yes"),
        (datetime(2024, 5, 1), "2024-05-01"),
        (date(2024, 5, 1), "2024-05-01"),
    ],
)
def test_cell_text(value: object, text: str | None) -> None:
    assert imports.cell_text(value) == text


@pytest.mark.parametrize(
    ("cell", "day"),
    [
        ("2024-05-01", date(2024, 5, 1)),
        ("2024-05-01T00:00:00", date(2024, 5, 1)),
        ("01/05/2024", None),
        ("soon", None),
    ],
)
def test_date_cells(cell: str, day: date | None) -> None:
    reader = CellReader()
    assert reader.day(cell, (None, 2, "effectiveFrom")) == day
    assert bool(reader.problems) == (day is None)


HEADER = [
    "Slug", "Name", "Kind", "Role", "Country", "Data categories", "Subject types", "Purposes",
    "Legal basis", "Ground",
]  # fmt: skip
DISCLOSURE = ["user.name", "customer", "marketing", "Consent", "User permission"]


def test_csv_rows_group_by_slug_and_a_recipient_may_have_none() -> None:
    plan = imports.plan_csv(
        Table(
            None,
            HEADER,
            [
                (2, ["acme", "Acme", "Service provider", "Processor", "US", *DISCLOSURE]),
                (3, ["acme", "Acme", "Service provider", "Processor", "US", *DISCLOSURE]),
                (4, ["bare", "Bare", "Acquirer", "Controller", "DE", "", "", "", "", ""]),
            ],
        )
    )
    assert not plan.problems
    acme, bare = plan.recipients
    assert [d.row for d in acme.disclosures] == [2, 3]
    assert bare.disclosures == [] and bare.row == 4


def test_csv_repeated_recipient_columns_must_agree() -> None:
    plan = imports.plan_csv(
        Table(
            None,
            HEADER,
            [
                (2, ["acme", "Acme", "Service provider", "Processor", "US", *DISCLOSURE]),
                (3, ["acme", "Acme", "Service provider", "Processor", "FR", *DISCLOSURE]),
            ],
        )
    )
    (problem,) = plan.problems
    assert (problem.row, problem.column, problem.value) == (3, "Country", "FR")
    assert "row 2" in problem.message


def test_a_row_without_a_slug_takes_one_from_its_name_with_a_note() -> None:
    plan = imports.plan_csv(
        Table(None, HEADER, [(2, ["", "Acme Mail", "Acquirer", "Controller", "DE", *DISCLOSURE])])
    )
    assert plan.recipients[0].slug == "acme-mail"
    assert [(n.row, n.column) for n in plan.notes] == [(2, "Slug")]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ([*HEADER, "Colour"], 'Unknown column "Colour"'),
        ([*HEADER, "name"], 'Column "Name" appears twice'),
        ([h for h in HEADER if h != "Kind"], 'The column "Kind" is missing'),
    ],
)
def test_headers(header: list[str], message: str) -> None:
    plan = imports.plan_csv(Table(None, header, []))
    assert any(message in p.message and p.row == 1 for p in plan.problems), plan.problems


def test_headers_take_other_spellings() -> None:
    header = ["recipient", "NAME", "kind", "Role", "country", "data_categories", "Data subjects",
              "Data uses", "legal basis", "Disclosure ground", "Countries"]  # fmt: skip
    plan = imports.plan_csv(
        Table(
            None,
            header,
            [(2, ["a", "A", "Acquirer", "Controller", "DE", *DISCLOSURE, "US=SCC"])],
        )
    )
    assert not plan.problems
    spec = plan.recipients[0].disclosures[0].spec
    assert spec is not None and spec.transfers[0].country == "US"


def test_workbook_sheets_are_keyed_by_slug() -> None:
    recipients = Table(
        "Recipients", HEADER[:5], [(2, ["acme", "Acme", "Acquirer", "Controller", "DE"])]
    )
    disclosures = Table(
        "disclosures",
        ["Slug", *HEADER[5:]],
        [(2, ["acme", *DISCLOSURE]), (3, ["elsewhere", *DISCLOSURE]), (4, ["", *DISCLOSURE])],
    )
    plan = imports.plan_workbook([recipients, disclosures, Table("Columns", ["x"], [])])
    assert [d.row for d in plan.recipients[0].disclosures] == [2]
    assert [d.slug for d in plan.other_disclosures] == ["elsewhere"]
    (problem,) = plan.problems
    assert (problem.sheet, problem.row, problem.column) == ("disclosures", 4, "Slug")


def test_a_workbook_without_the_sheets_is_refused() -> None:
    plan = imports.plan_workbook([Table("Sheet1", HEADER, [])])
    assert 'no "Recipients"' in plan.problems[0].message


def test_duplicate_slugs_on_the_recipients_sheet() -> None:
    rows = [(n, ["acme", "Acme", "Acquirer", "Controller", "DE"]) for n in (2, 5)]
    plan = imports.plan_workbook([Table("Recipients", HEADER[:5], rows)])
    (problem,) = plan.problems
    assert (problem.row, problem.code) == (5, UserErrorCode.DUPLICATE)


def test_a_bad_disclosure_cell_keeps_a_draft_of_the_rest() -> None:
    plan = imports.plan_csv(
        Table(
            None,
            [*HEADER, "Retention"],
            [
                (
                    2,
                    [
                        "a",
                        "A",
                        "Acquirer",
                        "Controller",
                        "DE",
                        "user.name",
                        "customer",
                        "marketing",
                        "Because",
                        "User permission",
                        "forever",
                    ],
                )
            ],
        )
    )
    (row,) = plan.recipients[0].disclosures
    assert row.spec is None and row.draft is not None and row.draft.retention == "forever"
    assert [p.column for p in plan.problems] == ["Legal basis"]


def test_forbidden_statuses() -> None:
    plan = imports.plan_csv(
        Table(
            None,
            [*HEADER[:5], "Status"],
            [
                (2, ["a", "A", "Acquirer", "Controller", "DE", "Active"]),
                (3, ["b", "B", "Acquirer", "Controller", "DE", "proposed"]),
                (4, ["c", "C", "Acquirer", "Controller", "DE", ""]),
            ],
        )
    )
    problems = imports.forbidden_statuses(
        plan.recipients, frozenset({RecipientStatus.PROPOSED}), "procurement"
    )
    assert [(p.row, p.column, p.value, p.code) for p in problems] == [
        (2, "Status", "Active", UserErrorCode.FORBIDDEN)
    ]


def test_problem_lines() -> None:
    problem = imports.ImportProblem(
        "Recipients", 4, "Country", "Atlantis", UserErrorCode.INVALID, "No."
    )
    assert problem.line() == "Recipients:4 Country 'Atlantis': No."
    assert (
        imports.ImportProblem(None, 3, "Kind", None, UserErrorCode.INVALID, "x").line()
        == "3 Kind: x"
    )


def test_matching_disclosures() -> None:
    plan = imports.plan_csv(
        Table(None, HEADER, [(2, ["a", "A", "Acquirer", "Controller", "DE", *DISCLOSURE])])
    )
    (row,) = plan.recipients[0].disclosures
    assert row.spec is not None
    terms = imports.terms_of(row.spec)
    today = date(2026, 1, 1)
    open_one = imports.StoredDisclosure(1, terms, date(2025, 1, 1), None, "main")
    ended = imports.StoredDisclosure(2, terms, date(2025, 1, 1), date(2025, 6, 1), "main")
    other = imports.StoredDisclosure(
        3, imports.Terms(**{**terms.__dict__, "retention": "P1D"}), date(2025, 1, 1), None, None
    )
    assert imports.matching_disclosure(row, [other, ended, open_one], today, set()) == open_one
    assert imports.matching_disclosure(row, [open_one], today, {1}) is None
    assert imports.matching_disclosure(row, [ended], today, set()) is None
    row.ends_on = date(2025, 6, 1)
    assert imports.matching_disclosure(row, [ended], today, set()) == ended
