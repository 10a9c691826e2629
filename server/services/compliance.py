"""Compliance gaps a dashboard shows before a regulator does: disclosures of special-category
or criminal-offence data without a condition (GDPR Art. 9(2), Art. 10), and ACTIVE processors
without a signed DPA (Art. 28(3))."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from server.db import disclosures as disclosure_rows
from server.db import recipients as recipient_rows
from server.db.disclosures import DisclosureRow
from server.domain import explain, processor_contracts, special_categories, who_receives
from server.domain.enums import (
    ComplianceGapKind,
    LegalBasis,
    ProcessingRole,
    RecipientStatus,
    SpecialCategoryCondition,
)
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
    statements a kind at most, whatever the size of the inventory."""
    taxonomy = taxonomy or default_taxonomy()
    at = as_utc(as_of) if as_of else clock.now()
    gaps: list[ComplianceGap] = []
    if kinds is None or ComplianceGapKind.SPECIAL_CATEGORY_WITHOUT_CONDITION in kinds:
        gaps += await _special_categories_without_condition(at, as_of, taxonomy)
    if kinds is None or ComplianceGapKind.PROCESSOR_WITHOUT_DPA in kinds:
        gaps += await _processors_without_dpa(at, as_of)
    gaps.sort(key=_order)
    return gaps


def _order(gap: ComplianceGap) -> tuple[str, str, int, int]:
    """By recipient name (as special_categories orders its gaps), a recipient's own gaps before
    those of its disclosures, then by disclosure."""
    name = gap.recipient["name"]
    return (name.casefold(), name, gap.recipient["id"], gap.disclosure.id if gap.disclosure else 0)


async def _processors_without_dpa(at: datetime, as_of: datetime | None) -> list[ComplianceGap]:
    day = who_receives.utc_day(at)
    ids = await recipient_rows.without_dpa_on(
        [role.value for role in processor_contracts.PROCESSOR_ROLES], day
    )
    found = await recipient_rows.recipients_with_status_at(ids, as_of and at)
    gaps = []
    for recipient, status in found.values():
        if status is not RecipientStatus.ACTIVE:
            continue
        role = ProcessingRole(recipient["role"])
        signed_on = recipient["dpa_signed_on"]
        if not processor_contracts.without_dpa_on(role, signed_on, day):
            continue  # signed since the ids were read
        sentence = explain.processor_without_dpa_sentence(
            recipient=recipient["name"], role=role, signed_on=signed_on
        )
        gaps.append(
            ComplianceGap(ComplianceGapKind.PROCESSOR_WITHOUT_DPA, recipient, None, sentence)
        )
    return gaps


async def _special_categories_without_condition(
    at: datetime, as_of: datetime | None, taxonomy: Taxonomy
) -> list[ComplianceGap]:
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
