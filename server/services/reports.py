"""A subject's report assembled: who receives their data at a moment, why, in sentences a
person can read; and a category's recipients. The API and the bench's floor both serve this."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from server.db import disclosure_events as event_rows
from server.db import disclosures as disclosure_rows
from server.db import establishments as establishment_rows
from server.db import recipients as recipient_rows
from server.db import subjects as subject_rows
from server.db import transfer_consents as transfer_consent_rows
from server.db.disclosure_events import EventRow
from server.db.disclosures import DisclosureRow
from server.db.subjects import SubjectRow
from server.domain import explain, periods, regimes, transfers, who_receives
from server.domain.enums import (
    DisclosureFrequency,
    DisclosureGround,
    LegalBasis,
    RecipientStatus,
    SpecialCategoryCondition,
)
from server.domain.periods import Period, ReceiptEnd
from server.domain.taxonomy import Taxonomy, default_taxonomy
from server.domain.validation import country_name
from server.services import clock
from server.services.subjects import as_utc
from server.services.transfer_flows import NO_ESTABLISHMENT, Flows


@dataclass(frozen=True)
class Reason:
    """One disclosure that reaches the subject: the subject's data it covers (for each matched
    pair of keys, the more specific one), the purposes it reaches them for (rule 5), since when
    without a break, the sentence for a person, and each destination judged under every regime
    that applies to the flow for this person (issue 13)."""

    disclosure: DisclosureRow
    data_categories: tuple[str, ...]
    explanation: str
    assessments: list[transfers.Assessment]
    purposes: tuple[str, ...]
    since: datetime


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
    purposes: tuple[str, ...] = ()


@dataclass(frozen=True)
class PastReceipt:
    recipient: dict[str, Any]
    via: list[dict[str, Any]]
    disclosure: DisclosureRow
    periods: list[Period]
    data_categories: tuple[str, ...]
    purposes: tuple[str, ...]
    ended_because: ReceiptEnd
    explanation: str


@dataclass(frozen=True)
class UpcomingReceipt:
    recipient: dict[str, Any]
    disclosure: DisclosureRow
    starts_at: datetime
    explanation: str


@dataclass(frozen=True)
class PossibleRecipient:
    recipient: dict[str, Any]
    disclosure: DisclosureRow
    explanation: str


@dataclass(frozen=True)
class SubjectReport:
    subject: SubjectRow
    at: datetime
    recipients: list[Access]
    withheld: list[Withheld]
    as_known_at: datetime | None = None
    past: list[PastReceipt] = field(default_factory=list)
    upcoming: list[UpcomingReceipt] = field(default_factory=list)
    possible: list[PossibleRecipient] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)


_LEGAL_BASES = {basis.value: basis for basis in LegalBasis}
_GROUNDS = {ground.value: ground for ground in DisclosureGround}


_FREQUENCIES = {f.value: f for f in DisclosureFrequency}
_CONDITIONS = {c.value: c for c in SpecialCategoryCondition}


def disclosure_facts(
    row: DisclosureRow, known_at: datetime | None = None
) -> who_receives.DisclosureFacts:
    """The disclosure as the rules read it; as known at `known_at`, an end recorded later is not
    known yet."""
    ended = row.effective_to
    if known_at is not None and (row.ended_recorded_at is None or row.ended_recorded_at > known_at):
        ended = None
    return who_receives.DisclosureFacts(
        id=row.id,
        recipient_id=row.recipient_id,
        legal_basis=_LEGAL_BASES[row.legal_basis],
        effective_from=row.effective_from,
        effective_to=ended,
        data_categories=tuple(row.data_categories),
        subject_types=tuple(row.subject_types),
        purposes=tuple(row.purposes),
        frequency=_FREQUENCIES[row.frequency],
        special_category_condition=(
            _CONDITIONS[row.special_category_condition] if row.special_category_condition else None
        ),
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


def _histories(
    found: dict[int, tuple[dict[str, Any], list[periods.StatusMove]]], known_at: datetime
) -> dict[int, periods.RecipientHistory]:
    """Recipients with the status moves recorded up to `known_at`. A recipient written with no
    status history at all (by hand, outside the services) holds its status since created."""
    out = {}
    for rid, (row, moves) in found.items():
        if not moves:
            moves = [
                periods.StatusMove(
                    row["created_at"], RecipientStatus(row["status"]), row["created_at"]
                )
            ]
        out[rid] = periods.RecipientHistory(
            rid,
            row["name"],
            row["engaged_by_id"],
            tuple(m for m in moves if m.recorded_at <= known_at),
        )
    return out


def _subject_history(subject: SubjectRow, known_at: datetime) -> periods.SubjectHistory:
    """The subject's versions and consent log as recorded up to `known_at`."""
    return periods.SubjectHistory(
        tuple(
            periods.SubjectVersion(
                v.valid_from,
                v.subject_type,
                v.country,
                tuple(v.data_categories),
                v.recorded_at,
                v.id,
            )
            for v in subject.versions
            if v.recorded_at <= known_at
        ),
        tuple(
            who_receives.ConsentFact(c.purpose, c.granted, c.decided_at, c.explicit, c.recorded_at)
            for c in subject.consents
            if c.recorded_at <= known_at
        ),
    )


class _Phrases:
    """The words of one report's sentences: categories, purposes and recipients as a person
    reads them."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy

    def categories(self, keys: Iterable[str]) -> list[str]:
        return [explain.category_phrase(self.taxonomy.categories[k]) for k in keys]

    def purposes(self, keys: Iterable[str]) -> list[str]:
        return [explain.purpose_phrase(self.taxonomy.purposes[k]) for k in keys]


async def who_receives_report(
    *,
    subject_id: int | None,
    external_ref: str | None,
    as_of: datetime | None,
    as_known_at: datetime | None = None,
    taxonomy: Taxonomy | None = None,
) -> SubjectReport | None:
    """The complete report for one subject at `as_of` (default now), from the facts recorded up
    to `as_known_at` (default now): who receives the data, who did, who will, who may on
    request, and what is withheld. None when there is no such subject, or none was recorded by
    `as_known_at`. Ten SQL statements whatever the size of the inventory."""
    taxonomy = taxonomy or default_taxonomy()
    subject = await subject_rows.subject(
        subject_id=subject_id, external_ref=external_ref, with_versions=True
    )
    if subject is None:
        return None
    now = clock.now()
    known_at = as_utc(as_known_at) if as_known_at else now
    at = as_utc(as_of) if as_of else now
    history = _subject_history(subject, known_at)
    if not history.versions:
        return None
    types = sorted({v.subject_type for v in history.versions})
    keys = sorted(
        {
            k
            for v in history.versions
            for c in v.data_categories
            for k in taxonomy.matching_categories(c)
        }
    )
    rows = [
        r
        for r in await disclosure_rows.disclosures_covering(types, keys)
        if r.recorded_at is None or r.recorded_at <= known_at
    ]
    found = await recipient_rows.recipients_with_moves(sorted({r.recipient_id for r in rows}))
    recipients = {rid: row for rid, (row, _) in found.items()}
    histories = _histories(found, known_at)
    facts = [disclosure_facts(r, known_at) for r in rows]
    by_id = {r.id: r for r in rows}
    report = periods.point_report(history, histories, facts, at)
    receipts = periods.join_corrections(
        periods.receipts(history, histories, facts, at),
        {r.id: r.corrected_into_id for r in rows if r.corrected_into_id is not None},
    )
    since = {r.disclosure.id: r.periods[-1].start for r in receipts if r.lasting}
    words = _Phrases(taxonomy)
    current = history.facts_at(at)
    country = current.country if current else subject.country
    day = who_receives.utc_day(at)
    flows = Flows(await establishment_rows.establishments_by_id(), recipients)
    chain = flows.chain(
        (by_id[r.disclosure.id] for a in report.recipients for r in a.reasons), day, country
    )
    transfer_consents = [
        regimes.TransferConsent(
            str(c.recipient_id), c.country, c.granted, c.decided_at, c.recorded_at
        )
        for c in await transfer_consent_rows.transfer_consents_of(subject.id)
        if c.recorded_at <= known_at
    ]
    before_gdpr = transfers.no_regime_note(day)
    accesses = []
    for access in report.recipients:
        recipient = recipients[access.recipient.id]
        via = [recipients[v.id] for v in access.via]
        consented = transfers.granted_countries(transfer_consents, str(recipient["id"]), at)
        reasons = []
        for reason in access.reasons:
            row = by_id[reason.disclosure.id]
            flow = flows.flow(row, chain)
            assessments = (
                transfers.assess_flow(flow, day, country, consented) if flow is not None else []
            )
            places: list[tuple[str, str | None]]
            if flow is None:
                places = [(recipient["country"], None)]
            else:
                places = [
                    (c, explain.transfer_basis([(regimes.LAW[j], p) for j, p in judged]))
                    for c, judged in transfers.by_destination(assessments, flow)
                ]
            explanation = explain.disclosure_sentence(
                recipient=recipient["name"],
                categories=words.categories(reason.data_categories),
                purposes=words.purposes(reason.purposes),
                legal_basis=_LEGAL_BASES[row.legal_basis],
                ground=_GROUNDS[row.ground],
                destinations=[(country_name(c), basis) for c, basis in places],
                via=[v["name"] for v in via],
                note=NO_ESTABLISHMENT if flow is None else before_gdpr,
            )
            reasons.append(
                Reason(
                    row,
                    reason.data_categories,
                    explanation,
                    assessments,
                    reason.purposes,
                    since[reason.disclosure.id],
                )
            )
        accesses.append(Access(recipient, via, reasons))
    withheld = []
    for item in report.withheld:
        row = by_id[item.disclosure.id]
        recipient = recipients[item.recipient.id]
        explanation = explain.withheld_sentence(
            recipient=recipient["name"],
            categories=words.categories(item.data_categories),
            purposes=words.purposes(item.purposes),
            reason=item.reason.value,
        )
        withheld.append(Withheld(recipient, row, item.reason, explanation, item.purposes))
    events = [
        e
        for e in await event_rows.events_of_subject(subject.id, up_to=at, known_at=known_at)
        if e.disclosure_id in by_id
    ]
    one_off = periods.one_off_receipts(
        history,
        histories,
        {f.id: f for f in facts},
        [(e.disclosure_id, e.occurred_at) for e in events],
    )
    engager_of = {rid: r["engaged_by_id"] for rid, r in recipients.items()}
    past = [
        _past_receipt(receipt, by_id, recipients, engager_of, words)
        for receipt in [*receipts, *one_off]
        if not receipt.lasting
    ]
    past.sort(key=lambda p: (p.recipient["name"].casefold(), p.periods[0].start, p.disclosure.id))
    upcoming = [
        UpcomingReceipt(
            recipients[item.recipient.id],
            by_id[item.disclosure.id],
            item.starts_at,
            explain.upcoming_sentence(
                recipient=recipients[item.recipient.id]["name"],
                categories=words.categories(item.judgement.data_categories),
                purposes=words.purposes(item.judgement.purposes),
                legal_basis=item.disclosure.legal_basis,
                ground=_GROUNDS[by_id[item.disclosure.id].ground],
                starts=item.starts_at.date(),
            ),
        )
        for item in periods.upcoming(history, histories, facts, at)
    ]
    possible = [
        PossibleRecipient(
            recipients[item.recipient.id],
            by_id[item.disclosure.id],
            explain.possible_sentence(
                recipient=recipients[item.recipient.id]["name"],
                categories=words.categories(item.data_categories),
                purposes=words.purposes(item.purposes),
                legal_basis=item.disclosure.legal_basis,
                ground=_GROUNDS[by_id[item.disclosure.id].ground],
            ),
        )
        for item in report.possible
    ]
    return SubjectReport(
        _as_known(subject, history, at, known_at),
        at,
        accesses,
        withheld,
        known_at,
        past,
        upcoming,
        possible,
        events,
    )


def _as_known(
    subject: SubjectRow, history: periods.SubjectHistory, at: datetime, known_at: datetime
) -> SubjectRow:
    """The subject as the report saw it: its version at `at` (its first, before it), and the
    consent decisions recorded by `known_at`; so that a reproduced answer shows the facts it
    was computed from, not those recorded since."""
    first = history.first
    assert first is not None  # a report has at least one version
    version = history.version_at(at) or history.version_at(first)
    assert version is not None
    return replace(
        subject,
        subject_type=version.subject_type,
        country=version.country,
        data_categories=sorted(version.data_categories),
        consents=[c for c in subject.consents if c.recorded_at <= known_at],
    )


def _past_receipt(
    receipt: periods.Receipt,
    rows: dict[int, DisclosureRow],
    recipients: dict[int, dict[str, Any]],
    engager_of: dict[int, int | None],
    words: _Phrases,
) -> PastReceipt:
    row = rows[receipt.disclosure.id]
    recipient = recipients[receipt.recipient.id]
    via = [recipients[i] for i in who_receives.engaging_chain(receipt.recipient.id, engager_of)]
    assert receipt.ended_because is not None
    explanation = explain.past_sentence(
        recipient=recipient["name"],
        categories=words.categories(receipt.data_categories),
        purposes=words.purposes(receipt.purposes),
        legal_basis=receipt.disclosure.legal_basis,
        spans=[(p.start.date(), p.end.date() if p.end else None) for p in receipt.periods],
        ended_because=receipt.ended_because.value,
        via=[v["name"] for v in via],
    )
    return PastReceipt(
        recipient,
        via,
        row,
        receipt.periods,
        receipt.data_categories,
        receipt.purposes,
        receipt.ended_because,
        explanation,
    )


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
