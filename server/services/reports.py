"""Explain a subject's recipients, and list a category's recipients, at a moment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from server.db import reports
from server.db.queries import DisclosureRow
from server.domain import transfers
from server.domain import who_receives as rules
from server.domain.enums import LegalBasis, RecipientKind, TransferMechanism
from server.domain.taxonomy import Taxonomy, default_taxonomy
from server.services import clock
from server.services.subjects import as_utc


@dataclass
class SubjectReport:
    """The domain's report, with the rows the API shows for each recipient and disclosure."""

    subject: reports.SubjectRow
    report: rules.Report
    recipient_rows: dict[int, dict[str, Any]]
    disclosure_rows: dict[int, DisclosureRow]
    # Each counting disclosure's transfers, judged for this subject (one per country).
    transfer_assessments: dict[int, list[transfers.Assessment]]


_LEGAL_BASES = {basis.value: basis for basis in LegalBasis}


def _facts(row: DisclosureRow) -> rules.DisclosureFacts:
    return rules.DisclosureFacts(
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
) -> tuple[dict[int, rules.RecipientFacts], dict[int, dict[str, Any]]]:
    found = await reports.recipients_with_status_at(ids, as_of)
    facts = {
        rid: rules.RecipientFacts(
            id=rid, name=row["name"], engaged_by_id=row["engaged_by_id"], status_at=status
        )
        for rid, (row, status) in found.items()
    }
    return facts, {rid: row for rid, (row, _) in found.items()}


async def who_receives(
    *,
    subject_id: int | None,
    external_ref: str | None,
    as_of: datetime | None,
    taxonomy: Taxonomy | None = None,
) -> SubjectReport | None:
    taxonomy = taxonomy or default_taxonomy()
    subject = await reports.subject(subject_id=subject_id, external_ref=external_ref)
    if subject is None:
        return None
    at = as_utc(as_of) if as_of else clock.now()
    keys = sorted({k for c in subject.data_categories for k in taxonomy.matching_categories(c)})
    rows = await reports.disclosures_reaching(
        subject.subject_type, keys, rules.utc_day(at), only_active_now=as_of is None
    )
    recipient_ids = {r.recipient_id for r in rows}
    facts, recipient_rows = await _recipients(sorted(recipient_ids), as_of and at)
    subject_facts = rules.SubjectFacts(
        subject_type=subject.subject_type,
        country=subject.country,
        data_categories=tuple(subject.data_categories),
        consents=tuple(
            rules.ConsentFact(c.purpose, c.granted, c.recorded_at) for c in subject.consents
        ),
    )
    report = rules.who_receives(subject_facts, at, facts, (_facts(r) for r in rows))
    disclosure_rows = {r.id: r for r in rows}
    return SubjectReport(
        subject,
        report,
        recipient_rows,
        disclosure_rows,
        _assess_transfers(subject_facts, report, recipient_rows, disclosure_rows),
    )


_MECHANISMS = {m.value: m for m in TransferMechanism}
_KINDS = {k.value: k for k in RecipientKind}


def recorded_transfers(row: DisclosureRow) -> list[transfers.RecordedTransfer]:
    return [
        transfers.RecordedTransfer(t.country, _MECHANISMS[t.mechanism], t.reference)
        for t in row.transfers
    ]


def recipient_profile(row: dict[str, Any]) -> transfers.RecipientProfile:
    return transfers.RecipientProfile(row["name"], _KINDS[row["kind"]], row["dpf_certified"])


def _assess_transfers(
    subject: rules.SubjectFacts,
    report: rules.Report,
    recipient_rows: dict[int, dict[str, Any]],
    disclosure_rows: dict[int, DisclosureRow],
) -> dict[int, list[transfers.Assessment]]:
    day = rules.utc_day(report.at)
    out: dict[int, list[transfers.Assessment]] = {}
    for access in report.recipients:
        profile = recipient_profile(recipient_rows[access.recipient.id])
        for reason in access.reasons:
            row = disclosure_rows[reason.disclosure.id]
            if not row.transfers:
                out[row.id] = []
                continue
            consent_granted = (
                rules.consent_verdict(subject.consents, reason.disclosure.purposes, report.at)
                is None
            )
            out[row.id] = transfers.assess_transfers(
                subject.country, recorded_transfers(row), profile, day, consent_granted
            )
    return out


async def recipients_of_category(
    key: str, as_of: datetime | None, taxonomy: Taxonomy | None = None
) -> list[dict[str, Any]]:
    taxonomy = taxonomy or default_taxonomy()
    at = as_utc(as_of) if as_of else clock.now()
    ids = await reports.recipients_with_disclosure_of(
        taxonomy.matching_categories(key), rules.utc_day(at)
    )
    facts, recipient_rows = await _recipients(ids, as_of and at)
    return [recipient_rows[r.id] for r in rules.recipients_of_category(facts.values())]
