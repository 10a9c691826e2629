"""Transfers out of the UK and the EEA: the gaps a dashboard shows before a regulator does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from server.db import disclosures as disclosure_rows
from server.db import recipients as recipient_rows
from server.db.disclosures import DisclosureRow, TransferRow
from server.domain import transfers, who_receives
from server.domain.enums import RecipientStatus
from server.services import clock
from server.services.reports import recipient_profile, recorded_transfers
from server.services.subjects import as_utc


@dataclass(frozen=True)
class TransferGap:
    recipient: dict[str, Any]
    disclosure: DisclosureRow
    transfer: TransferRow
    jurisdiction: transfers.Jurisdiction
    assessment: transfers.Assessment


async def transfer_gaps(
    jurisdiction: transfers.Jurisdiction, as_of: datetime | None = None
) -> list[TransferGap]:
    """Every transfer of a disclosure in effect, to a recipient ACTIVE at the moment, that would
    be unlawful for subjects of `jurisdiction`; by recipient name, then disclosure."""
    at = as_utc(as_of) if as_of else clock.now()
    day = who_receives.utc_day(at)
    rows = await disclosure_rows.disclosures_with_transfers_on(day)
    found = await recipient_rows.recipients_with_status_at(
        sorted({r.recipient_id for r in rows}), as_of and at
    )
    gaps: list[TransferGap] = []
    for row in rows:
        recipient, status = found[row.recipient_id]
        if status != RecipientStatus.ACTIVE:
            continue
        for position, assessment in transfers.unlawful_transfers(
            jurisdiction, recorded_transfers(row), recipient_profile(recipient), day
        ):
            gaps.append(
                TransferGap(recipient, row, row.transfers[position], jurisdiction, assessment)
            )
    gaps.sort(
        key=lambda g: (
            g.recipient["name"].casefold(),
            g.recipient["name"],
            g.recipient["id"],
            g.disclosure.purposes[0] if g.disclosure.purposes else "",
            g.disclosure.id,
        )
    )
    return gaps
