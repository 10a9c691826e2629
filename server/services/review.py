"""The warnings a reviewer sees when a recipient is approved or activated (domain/review.py),
from what the inventory says now: its current and upcoming disclosures, and the transfers they
would make once it is ACTIVE."""

from __future__ import annotations

from server.db import disclosures as disclosure_rows
from server.db import establishments as establishment_rows
from server.db import recipients as recipient_rows
from server.domain import explain, review, special_categories, transfers, validation
from server.domain.enums import ProcessingRole
from server.domain.regimes import Jurisdiction
from server.domain.taxonomy import Taxonomy
from server.services import clock
from server.services.transfer_flows import Flows

# How far up a chain of processors the review reads (a chain is never longer in practice; the
# subprocessor rules cap it well below this).
CHAIN_MAX = 16


async def review_warnings(recipient_id: int, taxonomy: Taxonomy) -> list[str]:
    day = clock.today()
    recipients = await recipient_rows.recipients_by_id([recipient_id])
    recipient = recipients.get(recipient_id)
    if recipient is None:
        return []
    # Its engagers up the chain: a subprocessor's regimes come through them (rule 6).
    engager = recipient["engaged_by_id"]
    while engager is not None and engager not in recipients and len(recipients) < CHAIN_MAX:
        recipients |= await recipient_rows.recipients_by_id([engager])
        engager = recipients[engager]["engaged_by_id"] if engager in recipients else None
    found = await disclosure_rows.disclosures_of(list(recipients), not_ended_on_day=day)
    own = found.get(recipient_id, [])
    keys = [key for row in own for key in row.data_categories]
    coverage = special_categories.coverage(keys)
    terms = taxonomy.categories

    def phrased(selected: tuple[str, ...]) -> list[str]:
        return [explain.category_phrase(terms[k]) if k in terms else k for k in selected]

    flows = Flows(await establishment_rows.establishments_by_id(), recipients)
    chain = flows.chain([row for rows in found.values() for row in rows], day, None)
    open_transfers: list[review.OpenTransfer] = []
    seen: set[tuple[str, str]] = set()
    for row in own:
        flow = flows.flow(row, chain)
        if flow is None:
            continue
        # An upcoming disclosure is judged on the day it starts.
        judged_on = max(day, row.effective_from)
        for jurisdiction in Jurisdiction:
            for assessment in transfers.gaps(flow, jurisdiction, judged_on):
                key = (jurisdiction.value, assessment.country)
                if key in seen:
                    continue
                seen.add(key)
                open_transfers.append(
                    review.OpenTransfer(
                        jurisdiction.value,
                        validation.country_name(assessment.country),
                        assessment.explanation,
                    )
                )
    return review.review_warnings(
        name=recipient["name"],
        role=ProcessingRole(recipient["role"]),
        dpa_signed_on=recipient["dpa_signed_on"],
        privacy_policy_url=recipient["privacy_policy_url"],
        art_9=phrased(coverage.art_9_keys),
        art_10=phrased(coverage.art_10_keys),
        transfers=open_transfers,
    )
