"""A disclosure row's parts arrive as the text of its read-model columns and are split on use."""

from __future__ import annotations

from datetime import date

import orjson

from server.db.disclosures import DisclosureRow, TransferRow
from server.db.recipients import parse_certifications, stored_certifications
from server.domain.regimes import DataPrivacyFramework, DpfCertification


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


def test_transfers_carry_their_signing_day_and_scope() -> None:
    """Rows written since migration 0009 hold five elements; older ones three, read as having
    neither signing day nor scope."""
    mixed = row(
        None,
        '[["US", "STANDARD_CONTRACTUAL_CLAUSES", "DPA", "2024-05-02", null], '
        '["JP", "ADEQUACY_DECISION", null, null, true], '
        '["CA", "ADEQUACY_DECISION", null, null, false], '
        '["GB", "ADEQUACY_DECISION", null]]',
    )
    assert mixed.transfers == [
        TransferRow("US", "STANDARD_CONTRACTUAL_CLAUSES", "DPA", date(2024, 5, 2), None),
        TransferRow("JP", "ADEQUACY_DECISION", None, None, True),
        TransferRow("CA", "ADEQUACY_DECISION", None, None, False),
        TransferRow("GB", "ADEQUACY_DECISION", None, None, None),
    ]


def test_the_exporter_is_none_unless_read() -> None:
    assert row(None, None).exporter_id is None


def test_certifications_are_stored_and_read_oldest_first() -> None:
    """Stored as JSON objects with the API's names, oldest first however given; read back into
    the domain's certifications from the text (SQLite, PostgreSQL's raw jsonb) or a list."""
    eu = DataPrivacyFramework.EU_US
    uk = DataPrivacyFramework.UK_EXTENSION
    given = [
        DpfCertification(uk, date(2023, 10, 12)),
        DpfCertification(eu, date(2023, 10, 12), date(2025, 1, 1)),
        DpfCertification(eu, date(2023, 7, 17), date(2023, 10, 12)),
    ]
    stored = stored_certifications(given)
    assert stored == [
        {"framework": "EU_US", "certifiedOn": "2023-07-17", "lapsedOn": "2023-10-12"},
        {"framework": "EU_US", "certifiedOn": "2023-10-12", "lapsedOn": "2025-01-01"},
        {"framework": "UK_EXTENSION", "certifiedOn": "2023-10-12", "lapsedOn": None},
    ]
    expected = [given[2], given[1], given[0]]
    assert parse_certifications(stored) == expected
    assert parse_certifications(orjson.dumps(list(reversed(stored))).decode()) == expected
    assert parse_certifications("[]") == parse_certifications(None) == []
