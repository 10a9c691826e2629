"""Compliance gaps a dashboard shows before a regulator does: for now, disclosures of
special-category or criminal-offence data without a condition (GDPR Art. 9(2), Art. 10)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from server.db import disclosures as disclosure_rows
from server.db import recipients as recipient_rows
from server.db.disclosures import DisclosureRow
from server.domain import explain, special_categories, who_receives
from server.domain.enums import ComplianceGapKind, LegalBasis, SpecialCategoryCondition
from server.domain.taxonomy import Taxonomy, default_taxonomy
from server.services import clock
from server.services.subjects import as_utc


@dataclass(frozen=True)
class ComplianceGap:
    kind: ComplianceGapKind
    recipient: dict[str, Any]
    disclosure: DisclosureRow | None
    explanation: str


async def compliance_gaps(
    kinds: Sequence[ComplianceGapKind] | None,
    as_of: datetime | None = None,
    taxonomy: Taxonomy | None = None,
) -> list[ComplianceGap]:
    """The gaps of the kinds asked (None: every kind) among recipients ACTIVE at `as_of`
    (default now) and the disclosures in effect then; by recipient name, then disclosure. Three
    statements at most, whatever the size of the inventory."""
    if kinds is not None and ComplianceGapKind.SPECIAL_CATEGORY_WITHOUT_CONDITION not in kinds:
        return []
    taxonomy = taxonomy or default_taxonomy()
    at = as_utc(as_of) if as_of else clock.now()
    rows = await disclosure_rows.disclosures_without_condition_on(
        special_categories.special_keys(taxonomy.categories), who_receives.utc_day(at)
    )
    found = await recipient_rows.recipients_with_status_at(
        sorted({r.recipient_id for r in rows}), as_of and at
    )
    by_id = {row.id: row for row in rows}
    recorded = [
        special_categories.RecordedDisclosure(
            id=row.id,
            recipient=who_receives.RecipientFacts(
                id=row.recipient_id,
                name=found[row.recipient_id][0]["name"],
                engaged_by_id=found[row.recipient_id][0]["engaged_by_id"],
                status_at=found[row.recipient_id][1],
            ),
            data_categories=tuple(row.data_categories),
            condition=(
                SpecialCategoryCondition(row.special_category_condition)
                if row.special_category_condition
                else None
            ),
        )
        for row in rows
    ]
    gaps = []
    for gap in special_categories.special_category_gaps(recorded):
        row = by_id[gap.disclosure.id]
        recipient = found[row.recipient_id][0]
        terms = taxonomy.categories
        sentence = explain.special_category_gap_sentence(
            recipient=recipient["name"],
            categories=[
                explain.category_phrase(terms[k]) if k in terms else k for k in gap.coverage.keys
            ],
            legal_basis=LegalBasis(row.legal_basis),
            art_9=bool(gap.coverage.art_9_keys),
            art_10=bool(gap.coverage.art_10_keys),
        )
        gaps.append(
            ComplianceGap(
                ComplianceGapKind.SPECIAL_CATEGORY_WITHOUT_CONDITION, recipient, row, sentence
            )
        )
    return gaps
