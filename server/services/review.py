"""What a reviewer reads, from what the inventory says now: the warnings on approving or
activating a recipient (domain/review.py: its current and upcoming disclosures, and the
transfers they would make once it is ACTIVE), and the summary of a material change that waits
for a second key (domain/change_requests.py: what it adds, and the transfer gaps it opens)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from server.db import disclosures as disclosure_rows
from server.db import establishments as establishment_rows
from server.db import recipients as recipient_rows
from server.db.disclosure_writes import proposed_row
from server.db.disclosures import DisclosureRow
from server.domain import (
    change_requests,
    explain,
    review,
    special_categories,
    transfers,
    validation,
)
from server.domain.disclosure_terms import DisclosureSpec
from server.domain.enums import ProcessingRole
from server.domain.regimes import Jurisdiction
from server.domain.taxonomy import Taxonomy
from server.services import clock
from server.services.transfer_flows import Flows

# How far up a chain of processors the review reads (a chain is never longer in practice; the
# subprocessor rules cap it well below this).
CHAIN_MAX = 16


async def _surroundings(
    recipient_id: int, day: date
) -> tuple[dict[int, dict[str, Any]], dict[int, list[DisclosureRow]]]:
    """The recipient and its engagers up the chain (a subprocessor's regimes come through them:
    rule 6), with their disclosures not ended by `day`. Empty when there is no such recipient."""
    recipients = await recipient_rows.recipients_by_id([recipient_id])
    if recipient_id not in recipients:
        return {}, {}
    engager = recipients[recipient_id]["engaged_by_id"]
    while engager is not None and engager not in recipients and len(recipients) < CHAIN_MAX:
        recipients |= await recipient_rows.recipients_by_id([engager])
        engager = recipients[engager]["engaged_by_id"] if engager in recipients else None
    found = await disclosure_rows.disclosures_of(list(recipients), not_ended_on_day=day)
    return recipients, found


async def _judged(
    recipients: dict[int, dict[str, Any]],
    found: dict[int, list[DisclosureRow]],
    own: Sequence[DisclosureRow],
    day: date,
) -> dict[str, list[review.OpenTransfer] | None]:
    """Each destination of `own` (by country code, in order) with the transfer gaps it would
    be, one per regime (none: lawful everywhere; None: it cannot be judged, its exporter being
    unknown). An upcoming disclosure is judged on the day it starts."""
    flows = Flows(await establishment_rows.establishments_by_id(), recipients)
    chain = flows.chain([row for rows in found.values() for row in rows], day, None)
    judged: dict[str, list[review.OpenTransfer] | None] = {}
    for row in own:
        flow = flows.flow(row, chain)
        for country in [
            recipients[row.recipient_id]["country"],
            *(t.country for t in row.transfers),
        ]:
            judged.setdefault(country, None if flow is None else [])
        if flow is None:
            continue
        judged_on = max(day, row.effective_from)
        for jurisdiction in Jurisdiction:
            for assessment in transfers.gaps(flow, jurisdiction, judged_on):
                gaps = judged.get(assessment.country) or []
                judged[assessment.country] = gaps
                if all(g.jurisdiction != jurisdiction.value for g in gaps):
                    gaps.append(
                        review.OpenTransfer(
                            jurisdiction.value,
                            validation.country_name(assessment.country),
                            assessment.explanation,
                        )
                    )
    return judged


def _destinations(
    judged: dict[str, list[review.OpenTransfer] | None],
) -> list[change_requests.Destination]:
    return [
        change_requests.Destination(
            validation.country_name(country),
            None
            if gaps is None
            else " ".join(f"Under the {g.jurisdiction} regime: {g.explanation}" for g in gaps),
            judged=gaps is not None,
        )
        for country, gaps in judged.items()
    ]


def _phrased_categories(keys: Sequence[str], taxonomy: Taxonomy) -> list[str]:
    terms = taxonomy.categories
    return [explain.category_phrase(terms[k]) if k in terms else k for k in keys]


async def review_warnings(recipient_id: int, taxonomy: Taxonomy) -> list[str]:
    day = clock.today()
    recipients, found = await _surroundings(recipient_id, day)
    if not recipients:
        return []
    recipient = recipients[recipient_id]
    own = found.get(recipient_id, [])
    coverage = special_categories.coverage([key for row in own for key in row.data_categories])
    judged = await _judged(recipients, found, own, day)
    return review.review_warnings(
        name=recipient["name"],
        role=ProcessingRole(recipient["role"]),
        dpa_signed_on=recipient["dpa_signed_on"],
        privacy_policy_url=recipient["privacy_policy_url"],
        art_9=_phrased_categories(coverage.art_9_keys, taxonomy),
        art_10=_phrased_categories(coverage.art_10_keys, taxonomy),
        transfers=[gap for gaps in judged.values() for gap in gaps or ()],
    )


async def disclosure_change_summary(
    recipient_id: int,
    spec: DisclosureSpec,
    taxonomy: Taxonomy,
    *,
    verb: str,
    exporter_id: int | None,
) -> str:
    """A disclosure of terms `spec` added to the recipient (or a correction's terms), as the
    reviewer reads it: what it adds to what the recipient receives now."""
    day = clock.today()
    recipients, found = await _surroundings(recipient_id, day)
    own = found.get(recipient_id, [])
    held_categories = {key for row in own for key in row.data_categories}
    held_purposes = {key for row in own for key in row.purposes}
    new_categories = [
        k for k in validation.distinct(spec.data_categories) if k not in held_categories
    ]
    coverage = special_categories.coverage(new_categories)
    special = [*coverage.art_9_keys, *coverage.art_10_keys]
    ordered = [*special, *(k for k in new_categories if k not in special)]
    purposes = taxonomy.purposes
    row = proposed_row(recipient_id, spec, day, exporter_id)
    judged = await _judged(recipients, found, [row], day)
    return change_requests.disclosure_summary(
        name=recipients[recipient_id]["name"],
        verb=verb,
        special=_phrased_categories(special, taxonomy),
        categories=_phrased_categories(ordered, taxonomy),
        purposes=[
            explain.purpose_phrase(purposes[k]) if k in purposes else k
            for k in validation.distinct(spec.purposes)
            if k not in held_purposes
        ],
        legal_basis=spec.legal_basis.value,
        destinations=_destinations(judged),
    )


async def recipient_change_summary(
    recipient_id: int, changes: dict[str, tuple[str, str]], columns: dict[str, Any]
) -> str:
    """The recipient's material fields changed (`columns`: their new column values): each as
    before → after, and the transfer gaps its disclosures would then open."""
    day = clock.today()
    recipients, found = await _surroundings(recipient_id, day)
    recipients[recipient_id] = recipients[recipient_id] | columns
    judged = await _judged(recipients, found, found.get(recipient_id, []), day)
    return change_requests.recipient_summary(
        name=recipients[recipient_id]["name"],
        changes=changes,
        destinations=_destinations(judged),
    )
