"""The organisation's own establishments (issue 13 §1, GDPR Art. 3): what a registration or an
update may say, and the rule that exactly one is main once any exist."""

from __future__ import annotations

import pytest

from server.domain import establishments as rules
from server.domain.errors import ErrorCollector
from server.domain.regimes import Jurisdiction

PATH = ["input"]


@pytest.mark.parametrize(
    ("case", "terms", "fields"),
    [
        ("a UK company targeting EEA people",
         rules.EstablishmentTerms("Lumora Works Limited", None, "GB", [Jurisdiction.EEA]), []),
        ("no targets", rules.EstablishmentTerms("Lumora Inc", "Lumora, Inc.", "US", []), []),
        ("empty name", rules.EstablishmentTerms("  ", None, "US", []), [["input", "name"]]),
        ("not a country", rules.EstablishmentTerms("X", None, "Germany", []),
         [["input", "country"]]),
        ("a regime twice", rules.EstablishmentTerms("X", None, "US", [Jurisdiction.UK] * 2),
         [["input", "targets"]]),
        ("everything wrong at once",
         rules.EstablishmentTerms("", "", "xx", [Jurisdiction.EEA, Jurisdiction.EEA]),
         [["input", "name"], ["input", "legalName"], ["input", "country"], ["input", "targets"]]),
        ("an update changing nothing", rules.EstablishmentTerms(), []),
    ],
)  # fmt: skip
def test_terms(case: str, terms: rules.EstablishmentTerms, fields: list[list[str]]) -> None:
    errors = ErrorCollector()
    rules.check_terms(errors, PATH, terms)
    assert [e.field for e in errors.errors] == fields, case


@pytest.mark.parametrize(
    ("asked", "any_exist", "main"),
    [(False, False, True), (True, False, True), (True, True, True), (False, True, False)],
)
def test_the_first_establishment_is_main(asked: bool, any_exist: bool, main: bool) -> None:
    assert rules.main_after_registration(asked, any_exist) is main


def test_the_main_establishment_stays_main_until_another_is_made_main() -> None:
    assert rules.unmark_main_error(True, False) is not None
    assert rules.unmark_main_error(True, None) is None
    assert rules.unmark_main_error(False, False) is None
    assert rules.unmark_main_error(False, True) is None


def test_targets_are_stored_in_enum_order_and_read_back() -> None:
    text = rules.targets_text([Jurisdiction.UK, Jurisdiction.EEA])
    assert text == "EEA,UK"
    assert rules.targets_of(text) == [Jurisdiction.EEA, Jurisdiction.UK]
    assert rules.targets_of("") == []


def test_slug_from_the_name_or_given() -> None:
    errors = ErrorCollector()
    assert rules.new_slug(errors, PATH, "Lumora Works Limited", None) == "lumora-works-limited"
    assert rules.new_slug(errors, PATH, "Lumora", "lumora-uk") == "lumora-uk"
    assert errors.errors == []
    rules.new_slug(errors, PATH, "Lumora", "Not A Slug")
    assert [e.field for e in errors.errors] == [["input", "slug"]]


# (case, the establishment named or recorded, the main one, a subprocessor's, the exporter)
EXPORTERS = [
    ("named", 2, 1, False, 2),
    ("none named: the main one", None, 1, False, 1),
    ("none named and none exist", None, None, False, None),
    ("a subprocessor's, none named", None, 1, True, None),
    ("a subprocessor's, one recorded (it was engaged later)", 2, 1, True, None),
]  # fmt: skip


@pytest.mark.parametrize(("case", "given", "main", "subprocessor", "exporter"), EXPORTERS)
def test_a_disclosures_exporter(
    case: str, given: int | None, main: int | None, subprocessor: bool, exporter: int | None
) -> None:
    assert rules.exporter_of(given, main, subprocessor=subprocessor) == exporter, case


@pytest.mark.parametrize(
    ("named", "subprocessor", "refused"),
    [(True, True, True), (True, False, False), (False, True, False), (False, False, False)],
)
def test_a_subprocessors_disclosure_names_no_exporter(
    named: bool, subprocessor: bool, refused: bool
) -> None:
    problem = rules.exporter_error(named=named, subprocessor=subprocessor)
    assert (problem is not None) is refused
