"""A disclosure row's parts arrive as the text of its read-model columns and are split on use."""

from __future__ import annotations

from datetime import date

from server.db.disclosures import DisclosureRow, TransferRow


def row(categories: str | None, transfers: str | None) -> DisclosureRow:
    return DisclosureRow(
        7,
        1,
        "CONTRACT",
        "SERVICE_PROVISION",
        None,
        date(2024, 1, 1),
        None,
        categories,
        None,
        "provide.service",
        transfers,
    )


def test_parts_are_parsed() -> None:
    full = row("user.contact.email,user.device", '[["US", "STANDARD_CONTRACTUAL_CLAUSES", null]]')
    assert full.data_categories == ["user.contact.email", "user.device"]
    assert full.subject_types == []  # none recorded
    assert full.purposes == ["provide.service"]
    assert full.transfers == [TransferRow("US", "STANDARD_CONTRACTUAL_CLAUSES", None)]


def test_empty_parts_read_as_empty() -> None:
    empty = row(None, "[]")
    assert empty.data_categories == [] and empty.transfers == []
    assert row("", None).transfers == []
