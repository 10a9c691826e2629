"""A subject's report assembled: who receives their data at a moment, why, in sentences a
person can read; and a category's recipients. The API and the bench's floor both serve this."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from server.db import disclosures as disclosure_rows
from server.db import recipients as recipient_rows
from server.db import subjects as subject_rows
from server.db.disclosures import DisclosureRow
from server.db.subjects import SubjectRow
from server.domain import explain, transfers, who_receives
from server.domain.enums import (
    DisclosureGround,
    LegalBasis,
    RecipientKind,
    TransferMechanism,
)
from server.domain.taxonomy import Taxonomy, default_taxonomy
from server.domain.validation import country_name
from server.services import clock
from server.services.subjects import as_utc


@dataclass(frozen=True)
class Reason:
    """One disclosure that reaches the subject: the subject's data it covers (for each matched
    pair of keys, the more specific one), the sentence for a person, and each transfer judged
    for the subject's jurisdiction (one per country)."""

    disclosure: DisclosureRow
    data_categories: tuple[str, ...]
    explanation: str
    assessments: list[transfers.Assessment]


@dataclass(frozen=True)
class Access:
    """A recipient of the subject's data: its row, the processors the data passes through to
    reach it (nearest first), and why it receives the data."""

    recipient: dict[str, Any]
    via: list[dict[str, Any]]
    reasons: list[Reason]


@dataclass(frozen=True)
class Withheld:
    recipient: dict[str, Any]
    disclosure: DisclosureRow
    reason: who_receives.WithheldReason
    explanation: str


@dataclass(frozen=True)
class SubjectReport:
    subject: SubjectRow
    at: datetime
    recipients: list[Access]
    withheld: list[Withheld]


_LEGAL_BASES = {basis.value: basis for basis in LegalBasis}
_GROUNDS = {ground.value: ground for ground in DisclosureGround}
_MECHANISMS = {m.value: m for m in TransferMechanism}
_KINDS = {k.value: k for k in RecipientKind}


def _facts(row: DisclosureRow) -> who_receives.DisclosureFacts:
    return who_receives.DisclosureFacts(
        id=row.id,
        recipient_id=row.recipient_id,
        legal_basis=_LEGAL_BASES[row.legal_basis],
        effective_from=row.effective_from,
        effective_to=row.effective_to,
        data_categories=tuple(row.data_categories),
        subject_types=tuple(row.subject_types),
        purposes=tuple(row.purposes),
    )


async def _recipients(
    ids: list[int], as_of: datetime | None
) -> tuple[dict[int, who_receives.RecipientFacts], dict[int, dict[str, Any]]]:
    found = await recipient_rows.recipients_with_status_at(ids, as_of)
    facts = {
        rid: who_receives.RecipientFacts(
            id=rid, name=row["name"], engaged_by_id=row["engaged_by_id"], status_at=status
        )
        for rid, (row, status) in found.items()
    }
    return facts, {rid: row for rid, (row, _) in found.items()}


def recorded_transfers(row: DisclosureRow) -> list[transfers.RecordedTransfer]:
    return [
        transfers.RecordedTransfer(t.country, _MECHANISMS[t.mechanism], t.reference)
        for t in row.transfers
    ]


def recipient_profile(row: dict[str, Any]) -> transfers.RecipientProfile:
    return transfers.RecipientProfile(row["name"], _KINDS[row["kind"]], row["dpf_certified"])


async def who_receives_report(
    *,
    subject_id: int | None,
    external_ref: str | None,
    as_of: datetime | None,
    taxonomy: Taxonomy | None = None,
) -> SubjectReport | None:
    """The report for one subject at `as_of` (default now); None when there is no such
    subject. Five SQL statements whatever the size of the inventory."""
    taxonomy = taxonomy or default_taxonomy()
    subject = await subject_rows.subject(subject_id=subject_id, external_ref=external_ref)
    if subject is None:
        return None
    at = as_utc(as_of) if as_of else clock.now()
    keys = sorted({k for c in subject.data_categories for k in taxonomy.matching_categories(c)})
    rows = await disclosure_rows.disclosures_reaching(
        subject.subject_type, keys, who_receives.utc_day(at), only_active_now=as_of is None
    )
    facts, recipients = await _recipients(sorted({r.recipient_id for r in rows}), as_of and at)
    subject_facts = who_receives.SubjectFacts(
        subject_type=subject.subject_type,
        country=subject.country,
        data_categories=tuple(subject.data_categories),
        consents=tuple(
            who_receives.ConsentFact(c.purpose, c.granted, c.decided_at) for c in subject.consents
        ),
    )
    report = who_receives.who_receives(subject_facts, at, facts, (_facts(r) for r in rows))
    by_id = {r.id: r for r in rows}
    day = who_receives.utc_day(at)
    accesses = []
    for access in report.recipients:
        recipient = recipients[access.recipient.id]
        via = [recipients[v.id] for v in access.via]
        profile = recipient_profile(recipient)
        reasons = []
        for reason in access.reasons:
            row = by_id[reason.disclosure.id]
            assessments: list[transfers.Assessment] = []
            if row.transfers:
                consent_granted = (
                    who_receives.consent_verdict(
                        subject_facts.consents, reason.disclosure.purposes, at
                    )
                    is None
                )
                assessments = transfers.assess_transfers(
                    subject.country, recorded_transfers(row), profile, day, consent_granted
                )
            explanation = explain.disclosure_sentence(
                recipient=recipient["name"],
                categories=[
                    explain.category_phrase(taxonomy.categories[k]) for k in reason.data_categories
                ],
                purposes=[explain.purpose_phrase(taxonomy.purposes[k]) for k in row.purposes],
                legal_basis=_LEGAL_BASES[row.legal_basis],
                ground=_GROUNDS[row.ground],
                destinations=[country_name(a.country) for a in assessments],
                established_in=country_name(recipient["country"]),
                via=[v["name"] for v in via],
                transfer_bases=[a.phrase for a in assessments],
            )
            reasons.append(Reason(row, reason.data_categories, explanation, assessments))
        accesses.append(Access(recipient, via, reasons))
    withheld = []
    for item in report.withheld:
        row = by_id[item.disclosure.id]
        recipient = recipients[item.recipient.id]
        explanation = explain.withheld_sentence(
            recipient=recipient["name"],
            categories=[
                explain.category_phrase(taxonomy.categories[k]) for k in item.data_categories
            ],
            purposes=[explain.purpose_phrase(taxonomy.purposes[k]) for k in row.purposes],
            withdrawn=item.reason == who_receives.WithheldReason.CONSENT_WITHDRAWN,
        )
        withheld.append(Withheld(recipient, row, item.reason, explanation))
    return SubjectReport(subject, at, accesses, withheld)


async def recipients_of_category(
    key: str, as_of: datetime | None, taxonomy: Taxonomy | None = None
) -> list[dict[str, Any]]:
    """Recipients ACTIVE at `as_of` (default now) with a disclosure in effect covering the
    category, matching up and down the taxonomy; by name."""
    taxonomy = taxonomy or default_taxonomy()
    at = as_utc(as_of) if as_of else clock.now()
    ids = await disclosure_rows.recipients_with_disclosure_of(
        taxonomy.matching_categories(key), who_receives.utc_day(at)
    )
    facts, rows = await _recipients(ids, as_of and at)
    return [rows[r.id] for r in who_receives.recipients_of_category(facts.values())]
