"""Transfers out of the UK and the EEA: the gaps a dashboard shows before a regulator does."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from server.db import disclosures as disclosure_rows
from server.db import establishments as establishment_rows
from server.db import recipients as recipient_rows
from server.db.disclosures import DisclosureRow, TransferRow
from server.domain import transfers, who_receives
from server.domain.enums import RecipientStatus
from server.domain.regimes import Jurisdiction
from server.domain.transfers import ChainRegimes
from server.services import clock
from server.services.subjects import as_utc
from server.services.transfer_flows import Flows


@dataclass(frozen=True)
class TransferGap:
    """One destination of one disclosure that the regime finds unlawful. `transfer` is the
    recorded transfer the assessment names, or the implied one (the recipient's own country,
    mechanism NONE) when none is recorded there."""

    recipient: dict[str, Any]
    disclosure: DisclosureRow
    transfer: TransferRow
    jurisdiction: Jurisdiction
    assessment: transfers.Assessment


@dataclass
class Active:
    """The disclosures in effect at a moment to recipients ACTIVE then, and every recipient
    read to know which were (by id). The record of processing reads the inventory this way."""

    at: datetime
    day: date
    rows: list[DisclosureRow]
    recipients: dict[int, dict[str, Any]]


@dataclass
class InEffect(Active):
    """`Active` with what judging the disclosures' flows needs: the processors that engaged
    them among the recipients, and the flows built from the establishments. The transfer gaps
    and the notice read the inventory this way."""

    flows: Flows
    chain: ChainRegimes


def moment(as_of: datetime | None) -> tuple[datetime, date]:
    """The moment asked about (default now) in UTC, and its day."""
    at = as_utc(as_of) if as_of else clock.now()
    return at, who_receives.utc_day(at)


async def recipients_active_at(
    ids: Iterable[int], as_of: datetime | None, columns: tuple[str, ...] | None = None
) -> tuple[dict[int, dict[str, Any]], set[int]]:
    """The recipients by id (with `columns`, only those read: see recipients_with_status_at),
    and the ids of those ACTIVE at the moment (default now: by their status now)."""
    found = await recipient_rows.recipients_with_status_at(
        sorted(ids), as_utc(as_of) if as_of else None, columns
    )
    active = {rid for rid, (_, status) in found.items() if status == RecipientStatus.ACTIVE}
    return {rid: row for rid, (row, _) in found.items()}, active


async def active_at(as_of: datetime | None = None) -> Active:
    """Two statements whatever the size of the inventory: the disclosures in effect on the
    day, and their recipients with their status at the moment."""
    at, day = moment(as_of)
    rows = await disclosure_rows.disclosures_in_effect_on(day)
    recipients, active = await recipients_active_at({r.recipient_id for r in rows}, as_of)
    return Active(at, day, [r for r in rows if r.recipient_id in active], recipients)


async def in_effect_at(as_of: datetime | None = None) -> InEffect:
    """`active_at`, then the engaging processors not read yet and the establishments."""
    found = await active_at(as_of)
    recipients = found.recipients
    missing = {
        r["engaged_by_id"] for r in recipients.values() if r["engaged_by_id"] is not None
    } - set(recipients)
    if missing:
        # A processor with nothing in effect of its own still exports what it was given.
        recipients |= await recipient_rows.recipients_by_id(sorted(missing))
    flows = Flows(await establishment_rows.establishments_by_id(), recipients)
    return InEffect(
        found.at,
        found.day,
        found.rows,
        recipients,
        flows,
        flows.chain(found.rows, found.day, None),
    )


async def transfer_gaps(
    jurisdiction: Jurisdiction, as_of: datetime | None = None
) -> list[TransferGap]:
    """Every destination of a disclosure in effect, to a recipient ACTIVE at the moment, that
    would be unlawful for a person to whom `jurisdiction` applies by any trigger the flow
    allows; one per (recipient, disclosure, country), by recipient name, then disclosure."""
    found = await in_effect_at(as_of)
    day, recipients = found.day, found.recipients
    gaps: list[TransferGap] = []
    for row in found.rows:
        flow = found.flows.flow(row, found.chain)
        if flow is None:
            continue
        for assessment in transfers.gaps(flow, jurisdiction, day):
            judged = assessment.transfer
            gaps.append(
                TransferGap(
                    recipients[row.recipient_id],
                    row,
                    TransferRow(
                        judged.country,
                        judged.mechanism.value,
                        judged.reference,
                        judged.signed_on,
                        judged.within_scope,
                    ),
                    jurisdiction,
                    assessment,
                )
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
