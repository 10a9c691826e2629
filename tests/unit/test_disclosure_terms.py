"""The terms of a disclosure in plain Python: each rule of check_disclosure, with the entry of the
record of processing (GDPR Art. 30(1)) it keeps complete."""

from __future__ import annotations

import pytest

from server.domain import disclosure_terms as terms
from server.domain.disclosure_terms import DisclosureSpec, TransferSpec, check_disclosure
from server.domain.enums import DisclosureGround, LegalBasis, TransferMechanism
from server.domain.errors import ErrorCollector
from server.domain.special_categories import coverage
from server.domain.taxonomy import Term, default_taxonomy
from server.domain.validation import REFERENCE_MAX

TAXONOMY = default_taxonomy()
PATH = ["input", "disclosure"]


def spec(**changes: object) -> DisclosureSpec:
    terms = DisclosureSpec(
        data_categories=["user.contact.email"],
        subject_types=["customer"],
        purposes=["analytics.reporting"],
        legal_basis=LegalBasis.CONTRACT,
        ground=DisclosureGround.SERVICE_PROVISION,
    )
    for name, value in changes.items():
        setattr(terms, name, value)
    return terms


def problems(terms: DisclosureSpec) -> list[tuple[list[str] | None, str]]:
    errors = ErrorCollector()
    check_disclosure(errors, PATH, terms, TAXONOMY)
    return [(e.field, e.message) for e in errors.errors]


def test_complete_terms_pass() -> None:
    assert problems(spec()) == []
    assert (
        problems(
            spec(
                retention="P30D",
                transfers=[TransferSpec("US", TransferMechanism.STANDARD_CONTRACTUAL_CLAUSES, "x")],
            )
        )
        == []
    )


@pytest.mark.parametrize(
    ("attr", "field", "label"),
    [
        # Art. 30(1)(c): the categories of personal data ...
        ("data_categories", "dataCategories", "data category"),
        # ... and of data subjects.
        ("subject_types", "subjectTypes", "subject type"),
        # Art. 30(1)(b): the purposes.
        ("purposes", "purposes", "purpose"),
    ],
)
def test_each_list_needs_one_key(attr: str, field: str, label: str) -> None:
    assert problems(spec(**{attr: []})) == [
        ([*PATH, field], f"A disclosure needs at least one {label}.")
    ]


@pytest.mark.parametrize(
    ("attr", "field", "label"),
    [
        ("data_categories", "dataCategories", "data category"),
        ("subject_types", "subjectTypes", "subject type"),
        ("purposes", "purposes", "purpose"),
    ],
)
def test_keys_come_from_the_taxonomy(attr: str, field: str, label: str) -> None:
    """Only taxonomy keys match by ancestry (rule 4): a typo would match nobody, silently."""
    known = getattr(spec(), attr)[0]
    assert problems(spec(**{attr: [known, "no.such.key", known]})) == [
        ([*PATH, field, "1"], f'Unknown {label} "no.such.key".')
    ]


def test_an_unknown_key_is_quoted_short() -> None:
    [(_, message)] = problems(spec(purposes=["x" * 1000]))
    assert message == f'Unknown purpose "{"x" * 100}".'


def test_the_taxonomy_given_is_the_one_asked() -> None:
    small = type(TAXONOMY)(
        categories={"a": Term("a", "A", None)},
        purposes={"p": Term("p", "P", None)},
        subject_types={"s": Term("s", "S", None)},
    )
    errors = ErrorCollector()
    check_disclosure(
        errors, PATH, spec(data_categories=["a"], subject_types=["s"], purposes=["p"]), small
    )
    assert not errors
    check_disclosure(errors, PATH, spec(), small)
    assert len(errors.errors) == 3


def test_retention_is_a_duration_or_a_rule() -> None:
    """Art. 30(1)(f): the envisaged time limit for erasure, when there is one."""
    assert problems(spec(retention=None)) == []
    assert problems(spec(retention="until the account is closed")) == []
    [(field, message)] = problems(spec(retention="P30X"))
    assert field == [*PATH, "retention"] and "ISO 8601 duration" in message


def test_a_transfer_names_a_country() -> None:
    """Art. 30(1)(e): a transfer identifies the third country."""
    transfers = [
        TransferSpec("US", TransferMechanism.STANDARD_CONTRACTUAL_CLAUSES),
        TransferSpec("UK", TransferMechanism.ADEQUACY_DECISION),
    ]
    assert problems(spec(transfers=transfers)) == [
        (
            [*PATH, "transfers", "1", "country"],
            '"UK" is not an ISO 3166-1 alpha-2 code: use "GB".',
        )
    ]


def test_a_transfer_reference_has_a_length_limit() -> None:
    """No article: a reference points at the safeguard's document, it is not the document."""
    ok = TransferSpec("US", TransferMechanism.STANDARD_CONTRACTUAL_CLAUSES, "x" * REFERENCE_MAX)
    long = TransferSpec("US", TransferMechanism.STANDARD_CONTRACTUAL_CLAUSES, "x" * 501)
    assert problems(spec(transfers=[ok])) == []
    assert problems(spec(transfers=[ok, long])) == [
        ([*PATH, "transfers", "1", "reference"], "Reference is longer than 500 characters.")
    ]


def test_every_problem_is_reported_in_order() -> None:
    terms = spec(
        data_categories=[],
        subject_types=["nobody"],
        purposes=[],
        retention="123",
        transfers=[TransferSpec("EU", TransferMechanism.ADEQUACY_DECISION)],
    )
    assert [field for field, _ in problems(terms)] == [
        [*PATH, "dataCategories"],
        [*PATH, "subjectTypes", "0"],
        [*PATH, "purposes"],
        [*PATH, "retention"],
        [*PATH, "transfers", "0", "country"],
    ]


# -- caps (issue 11 §4): what one disclosure may list ------------------------------------------

# Ordinary keys: special-category ones would need a condition (test_special_categories.py).
CATEGORY_KEYS = sorted(k for k in TAXONOMY.categories if not coverage([k]).special)
SUBJECT_TYPE_KEYS = sorted(TAXONOMY.subject_types)
PURPOSE_KEYS = sorted(TAXONOMY.purposes)
US_SCC = TransferSpec("US", TransferMechanism.STANDARD_CONTRACTUAL_CLAUSES)


@pytest.mark.parametrize(
    ("field", "at_most", "many"),
    [
        ("data_categories", terms.CATEGORIES_MAX, CATEGORY_KEYS),
        ("subject_types", terms.SUBJECT_TYPES_MAX, SUBJECT_TYPE_KEYS),
        ("purposes", terms.PURPOSES_MAX, PURPOSE_KEYS),
        ("transfers", terms.TRANSFERS_MAX, [US_SCC] * 50),
    ],
)
def test_a_disclosure_lists_a_bounded_number_of_each(
    field: str, at_most: int, many: list[object]
) -> None:
    assert len(many) > at_most
    assert problems(spec(**{field: many[:at_most]})) == []
    [(path, message)] = problems(spec(**{field: many[: at_most + 1]}))
    name = {"data_categories": "dataCategories", "subject_types": "subjectTypes"}.get(field, field)
    assert path == [*PATH, name]
    assert f"at most {at_most}" in message and str(at_most + 1) in message


def test_the_issue_disclosure_of_every_category_and_subject_type_is_refused_at_once() -> None:
    """180 disclosures of 90 categories and 18 subject types wrote 291,600 audience rows: now
    each such disclosure gets both errors, and nothing is written."""
    found = problems(spec(data_categories=CATEGORY_KEYS, subject_types=SUBJECT_TYPE_KEYS))
    assert [path for path, _ in found] == [[*PATH, "dataCategories"], [*PATH, "subjectTypes"]]


@pytest.mark.parametrize(
    ("count", "maximum", "refused"), [(0, 50, False), (50, 50, False), (51, 50, True)]
)
def test_disclosures_per_request_or_recipient(count: int, maximum: int, refused: bool) -> None:
    problem = terms.disclosure_count_error(count, maximum, "in one request")
    assert (problem is not None) == refused
    if problem:
        assert "in one request" in problem and str(maximum) in problem
