"""Who receives a data subject's personal data at a moment, and why (GDPR Art. 15(1)(c), Art. 19).

The rules, at a moment T:
1. A recipient counts only while its status is ACTIVE at T.
2. A disclosure counts only while in effect on date(T) (UTC): effective_from <= day < effective_to.
3. The subject's type must be one of the disclosure's subject types.
4. Categories match by ancestry in both directions; each matched pair contributes its more
   specific key. No match, no disclosure.
5. A CONSENT-based disclosure reaches the subject only if, for one of its purposes, the latest
   consent record at or before T is a grant; otherwise it is withheld, with the reason.
6. A recipient engaged by a processor counts only if that processor receives this subject's data
   at T, by these same rules; `via` is that chain, nearest first. Cycles count as not receiving.
7. One entry per recipient, sorted by name; its reasons sorted by the disclosure's first purpose.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum

from server.domain.enums import LegalBasis, RecipientStatus
from server.domain.taxonomy import matched_categories


class WithheldReason(StrEnum):
    NO_CONSENT = "NO_CONSENT"
    CONSENT_WITHDRAWN = "CONSENT_WITHDRAWN"


@dataclass(frozen=True)
class ConsentFact:
    purpose: str
    granted: bool
    recorded_at: datetime


@dataclass(frozen=True)
class SubjectFacts:
    subject_type: str
    country: str
    data_categories: tuple[str, ...]
    consents: tuple[ConsentFact, ...] = ()


@dataclass(frozen=True)
class RecipientFacts:
    id: int
    name: str
    engaged_by_id: int | None
    # The status the recipient had at T (None: it did not exist yet).
    status_at: RecipientStatus | None


@dataclass(frozen=True)
class DisclosureFacts:
    id: int
    recipient_id: int
    legal_basis: LegalBasis
    effective_from: date
    effective_to: date | None
    data_categories: tuple[str, ...]
    subject_types: tuple[str, ...]
    purposes: tuple[str, ...]

    def in_effect_on(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)

    @property
    def first_purpose(self) -> str:
        return self.purposes[0] if self.purposes else ""


@dataclass(frozen=True)
class Reason:
    disclosure: DisclosureFacts
    data_categories: tuple[str, ...]


@dataclass
class Access:
    recipient: RecipientFacts
    via: list[RecipientFacts]
    reasons: list[Reason]


@dataclass(frozen=True)
class Withheld:
    recipient: RecipientFacts
    disclosure: DisclosureFacts
    data_categories: tuple[str, ...]
    reason: WithheldReason


@dataclass
class Report:
    at: datetime
    recipients: list[Access] = field(default_factory=list)
    withheld: list[Withheld] = field(default_factory=list)


def utc_day(at: datetime) -> date:
    return at.astimezone(UTC).date() if at.tzinfo else at.date()


def consent_state(consents: Iterable[ConsentFact], purpose: str, at: datetime) -> bool | None:
    """The latest decision at or before `at` for one purpose; None when there is no record."""
    latest: ConsentFact | None = None
    for record in consents:
        if record.purpose != purpose or record.recorded_at > at:
            continue
        if latest is None or record.recorded_at >= latest.recorded_at:
            latest = record
    return None if latest is None else latest.granted


def consent_verdict(
    consents: Sequence[ConsentFact], purposes: Iterable[str], at: datetime
) -> WithheldReason | None:
    """Rule 5: None when one purpose has a current grant; otherwise why it is withheld."""
    any_record = False
    for purpose in purposes:
        state = consent_state(consents, purpose, at)
        if state is True:
            return None
        if state is False:
            any_record = True
    return WithheldReason.CONSENT_WITHDRAWN if any_record else WithheldReason.NO_CONSENT


def matching_disclosure(
    subject: SubjectFacts, disclosure: DisclosureFacts, day: date
) -> tuple[str, ...] | None:
    """Rules 2-4: the subject's categories this disclosure covers; None when it does not apply."""
    if not disclosure.in_effect_on(day):
        return None
    if subject.subject_type not in disclosure.subject_types:
        return None
    matched = matched_categories(subject.data_categories, disclosure.data_categories)
    return tuple(matched) if matched else None


def _name_order(recipient: RecipientFacts) -> tuple[str, str, int]:
    return (recipient.name.casefold(), recipient.name, recipient.id)


def who_receives(
    subject: SubjectFacts,
    at: datetime,
    recipients: Mapping[int, RecipientFacts],
    disclosures: Iterable[DisclosureFacts],
) -> Report:
    """Apply rules 1-7. `recipients` must hold every recipient the disclosures name and their
    engagers; a missing engager counts as not receiving."""
    day = utc_day(at)
    reasons: dict[int, list[Reason]] = {}
    held_back: dict[int, list[Withheld]] = {}
    for disclosure in disclosures:
        recipient = recipients.get(disclosure.recipient_id)
        if recipient is None or recipient.status_at != RecipientStatus.ACTIVE:
            continue
        matched = matching_disclosure(subject, disclosure, day)
        if matched is None:
            continue
        if disclosure.legal_basis == LegalBasis.CONSENT:
            verdict = consent_verdict(subject.consents, disclosure.purposes, at)
            if verdict is not None:
                held_back.setdefault(recipient.id, []).append(
                    Withheld(recipient, disclosure, matched, verdict)
                )
                continue
        reasons.setdefault(recipient.id, []).append(Reason(disclosure, matched))

    receives: dict[int, bool] = {}

    def chain_receives(recipient_id: int | None, visiting: frozenset[int]) -> bool:
        """Rule 6, with memo; a recipient met again on its own chain is a cycle: not receiving.
        A loop up the chain, not recursion: chains stored before the length cap (or by another
        writer) may be any length, and a report must not fail on them."""
        path: list[int] = []
        on_path = set(visiting)
        current = recipient_id
        while True:
            if current is None:
                result = True
                break
            if current in receives:
                result = receives[current]
                break
            recipient = recipients.get(current)
            if current in on_path or recipient is None or current not in reasons:
                result = False
                break
            path.append(current)
            on_path.add(current)
            current = recipient.engaged_by_id
        # Every recipient on the way up receives exactly when the end of the walk does.
        for walked in path:
            receives[walked] = result
        return result

    def via(recipient: RecipientFacts) -> list[RecipientFacts]:
        chain: list[RecipientFacts] = []
        seen = {recipient.id}
        current = recipient.engaged_by_id
        while current is not None and current not in seen:
            engager = recipients[current]
            chain.append(engager)
            seen.add(current)
            current = engager.engaged_by_id
        return chain

    report = Report(at=at)
    for recipient_id in reasons:
        if chain_receives(recipient_id, frozenset()):
            recipient = recipients[recipient_id]
            ordered = sorted(
                reasons[recipient_id], key=lambda r: (r.disclosure.first_purpose, r.disclosure.id)
            )
            report.recipients.append(Access(recipient, via(recipient), ordered))
    report.recipients.sort(key=lambda a: _name_order(a.recipient))
    for recipient_id, items in held_back.items():
        if chain_receives(recipients[recipient_id].engaged_by_id, frozenset({recipient_id})):
            report.withheld.extend(items)
    report.withheld.sort(
        key=lambda w: (*_name_order(w.recipient), w.disclosure.first_purpose, w.disclosure.id)
    )
    return report


def recipients_of_category(candidates: Iterable[RecipientFacts]) -> list[RecipientFacts]:
    """Of the recipients with a disclosure in effect covering the category (by rule 4), those
    ACTIVE at the moment, by name. No chains: this is about the category, not a person."""
    active = {r.id: r for r in candidates if r.status_at == RecipientStatus.ACTIVE}
    return sorted(active.values(), key=_name_order)
