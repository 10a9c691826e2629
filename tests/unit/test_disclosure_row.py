"""A disclosure row read without some of its parts refuses to pretend they are empty."""

from __future__ import annotations

from datetime import date

import pytest

from server.db.queries import ALL_PARTS, DisclosureRow, PartNotRead, TransferRow
from server.graphql.inventory import disclosure_parts


def row(parts: frozenset[str]) -> DisclosureRow:
    return DisclosureRow(
        7,
        1,
        "CONTRACT",
        "SERVICE_PROVIDER",
        None,
        date(2024, 1, 1),
        None,
        "user.contact.email,user.device",
        None,
        "provide.service",
        '[["US", "SCC", null]]',
        parts,
    )


def test_parts_read_are_parsed() -> None:
    full = row(ALL_PARTS)
    assert full.data_categories == ["user.contact.email", "user.device"]
    assert full.subject_types == []  # read, and none recorded
    assert full.purposes == ["provide.service"]
    assert full.transfers == [TransferRow("US", "SCC", None)]


@pytest.mark.parametrize(
    ("part", "attribute"),
    [
        ("categories", "data_categories"),
        ("subject_types", "subject_types"),
        ("purposes", "purposes"),
        ("transfers", "transfers"),
    ],
)
def test_a_part_not_read_raises_instead_of_reading_as_empty(part: str, attribute: str) -> None:
    narrow = row(ALL_PARTS - {part})
    with pytest.raises(PartNotRead, match=part):
        getattr(narrow, attribute)
    for other in ALL_PARTS - {part}:
        getattr(narrow, {"categories": "data_categories"}.get(other, other))


def test_each_field_asks_for_the_part_it_shows() -> None:
    assert disclosure_parts(["id", "legalBasis", "recipient", "__typename"]) == frozenset()
    assert disclosure_parts(["dataCategories", "transfers"]) == {"categories", "transfers"}
    assert disclosure_parts(["subjectTypes", "purposes"]) == {"subject_types", "purposes"}
