"""Who receives a data subject's personal data at a moment, and why (GDPR Art. 15(1)(c), Art. 19).

The rules, at a moment T:
1. A recipient counts only while its status is ACTIVE at T.
2. A disclosure counts only while in effect on date(T) (UTC): effective_from <= day < effective_to.
3. The subject's type must be one of the disclosure's subject types.
4. Categories match by ancestry in both directions; each matched pair contributes its more
   specific key. No match, no disclosure.
5. Consent is judged per purpose (Art. 6(1)(a), Art. 7(3)): a CONSENT-based disclosure reaches
   the subject only for the purposes whose latest decision at or before T, on the purpose or any
   purpose above it in the taxonomy (by decided_at, ties by recorded_at), is a grant. The other
   purposes are withheld, one entry per reason. With EXPLICIT_CONSENT as its Art. 9(2)(a)
   condition, whatever its Art. 6 basis, a disclosure reaches a subject whose matched categories
   include special-category data only for purposes with an explicit grant
   (EXPLICIT_CONSENT_MISSING otherwise; NO_CONSENT first on a CONSENT basis with no record).
6. A recipient engaged by a processor counts only if that processor receives this subject's data
   at T, by these same rules; `via` is that chain, nearest first. Cycles count as not receiving.
7. One entry per recipient, sorted by name; its reasons sorted by the disclosure's first purpose.
8. An ON_REQUEST disclosure (a police force, a court) never makes its recipient a recipient of
   everyone's data: where it would reach the subject it is listed as a possible recipient.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum

from server.domain.enums import (
    DisclosureFrequency,
    LegalBasis,
    RecipientStatus,
    SpecialCategoryCondition,
)
from server.domain.taxonomy import ancestors_of, is_sensitive, matched_categories


class WithheldReason(StrEnum):
    NO_CONSENT = "NO_CONSENT"
    CONSENT_WITHDRAWN = "CONSENT_WITHDRAWN"
    EXPLICIT_CONSENT_MISSING = "EXPLICIT_CONSENT_MISSING"


EPOCH = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class ConsentFact:
    """A decision the person made at `decided_at`, recorded by us at `recorded_at` (which
    breaks ties between decisions of the same moment)."""

    purpose: str
    granted: bool
    decided_at: datetime
    explicit: bool = False
    recorded_at: datetime = EPOCH


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
    frequency: DisclosureFrequency = DisclosureFrequency.CONTINUOUS
    special_category_condition: SpecialCategoryCondition | None = None

    def in_effect_on(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)

    @property
    def first_purpose(self) -> str:
        return self.purposes[0] if self.purposes else ""


@dataclass(frozen=True)
class Reason:
    disclosure: DisclosureFacts
    data_categories: tuple[str, ...]
    # The disclosure's purposes it reaches the subject for (rule 5), in the disclosure's order.
    purposes: tuple[str, ...] = ()


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
    purposes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Possible:
    """Rule 8: an ON_REQUEST disclosure that would reach the subject if the recipient asked."""

    recipient: RecipientFacts
    disclosure: DisclosureFacts
    data_categories: tuple[str, ...]
    purposes: tuple[str, ...]


@dataclass
class Report:
    at: datetime
    recipients: list[Access] = field(default_factory=list)
    withheld: list[Withheld] = field(default_factory=list)
    possible: list[Possible] = field(default_factory=list)


@dataclass(frozen=True)
class Judgement:
    """What one disclosure in effect does for a subject at a moment (rules 2-5): the subject's
    categories it covers, the purposes it reaches them for, and the purposes withheld, by
    reason. It reaches the subject when `purposes` is not empty."""

    data_categories: tuple[str, ...]
    purposes: tuple[str, ...]
    withheld: tuple[tuple[WithheldReason, tuple[str, ...]], ...] = ()


def utc_day(at: datetime) -> date:
    return at.astimezone(UTC).date() if at.tzinfo else at.date()


def consent_decision(
    consents: Iterable[ConsentFact], purpose: str, at: datetime
) -> ConsentFact | None:
    """Rule 5: the latest decision at or before `at` on `purpose` or a purpose above it (a
    decision on `marketing` covers `marketing.email`); by decided_at, ties by recorded_at,
    then by the order recorded. None when there is none."""
    covering = {purpose, *ancestors_of(purpose)}
    latest: ConsentFact | None = None
    for record in consents:
        if record.purpose not in covering or record.decided_at > at:
            continue
        if latest is None or (record.decided_at, record.recorded_at) >= (
            latest.decided_at,
            latest.recorded_at,
        ):
            latest = record
    return latest


def consent_state(consents: Iterable[ConsentFact], purpose: str, at: datetime) -> bool | None:
    """Whether the purpose has a current grant; None when there is no decision at all."""
    decision = consent_decision(consents, purpose, at)
    return None if decision is None else decision.granted


def consent_verdict(
    consents: Sequence[ConsentFact], purposes: Iterable[str], at: datetime
) -> WithheldReason | None:
    """None when one of the purposes has a current grant; otherwise why it is withheld."""
    any_record = False
    for purpose in purposes:
        state = consent_state(consents, purpose, at)
        if state is True:
            return None
        if state is False:
            any_record = True
    return WithheldReason.CONSENT_WITHDRAWN if any_record else WithheldReason.NO_CONSENT


def needs_explicit_consent(disclosure: DisclosureFacts, matched: Iterable[str]) -> bool:
    """Rule 5, Art. 9(2)(a): explicit consent gates a disclosure that relies on it only for a
    subject whose matched categories include special-category data."""
    return (
        disclosure.special_category_condition == SpecialCategoryCondition.EXPLICIT_CONSENT
        and any(is_sensitive(key) for key in matched)
    )


def judge(
    subject: SubjectFacts, disclosure: DisclosureFacts, at: datetime, day: date | None = None
) -> Judgement | None:
    """Rules 2-5 for one disclosure at `at`; None when it does not apply to the subject then."""
    matched = matching_disclosure(subject, disclosure, utc_day(at) if day is None else day)
    if matched is None:
        return None
    return judge_matched(subject, disclosure, at, matched)


def depends_on_consent(disclosure: DisclosureFacts) -> bool:
    """Whether rule 5 can withhold it: consent-based, or relying on explicit consent."""
    return (
        disclosure.legal_basis == LegalBasis.CONSENT
        or disclosure.special_category_condition == SpecialCategoryCondition.EXPLICIT_CONSENT
    )


def judge_matched(
    subject: SubjectFacts, disclosure: DisclosureFacts, at: datetime, matched: tuple[str, ...]
) -> Judgement:
    """Rule 5 for a disclosure in effect whose categories `matched` the subject's (rules 2-4)."""
    on_consent = disclosure.legal_basis == LegalBasis.CONSENT
    explicit = needs_explicit_consent(disclosure, matched)
    if not on_consent and not explicit:
        return Judgement(matched, disclosure.purposes)
    allowed: list[str] = []
    withheld: dict[WithheldReason, list[str]] = {}
    for purpose in disclosure.purposes:
        decision = consent_decision(subject.consents, purpose, at)
        if decision is None and on_consent:
            reason = WithheldReason.NO_CONSENT
        elif decision is not None and not decision.granted and on_consent:
            reason = WithheldReason.CONSENT_WITHDRAWN
        elif explicit and (decision is None or not decision.granted or not decision.explicit):
            reason = WithheldReason.EXPLICIT_CONSENT_MISSING
        else:
            allowed.append(purpose)
            continue
        withheld.setdefault(reason, []).append(purpose)
    return Judgement(
        matched, tuple(allowed), tuple((reason, tuple(ps)) for reason, ps in withheld.items())
    )


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
    possible: dict[int, list[Possible]] = {}
    for disclosure in disclosures:
        recipient = recipients.get(disclosure.recipient_id)
        if recipient is None or recipient.status_at != RecipientStatus.ACTIVE:
            continue
        judgement = judge(subject, disclosure, at, day)
        if judgement is None:
            continue
        matched = judgement.data_categories
        for reason, purposes in judgement.withheld:
            held_back.setdefault(recipient.id, []).append(
                Withheld(recipient, disclosure, matched, reason, purposes)
            )
        if not judgement.purposes:
            continue
        if disclosure.frequency == DisclosureFrequency.ON_REQUEST:
            possible.setdefault(recipient.id, []).append(
                Possible(recipient, disclosure, matched, judgement.purposes)
            )
            continue
        reasons.setdefault(recipient.id, []).append(Reason(disclosure, matched, judgement.purposes))

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

    engager_of = {rid: r.engaged_by_id for rid, r in recipients.items()}

    def via(recipient: RecipientFacts) -> list[RecipientFacts]:
        return [recipients[i] for i in engaging_chain(recipient.id, engager_of)]

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
        key=lambda w: (
            *_name_order(w.recipient),
            w.disclosure.first_purpose,
            w.disclosure.id,
            list(WithheldReason).index(w.reason),
        )
    )
    for recipient_id, options in possible.items():
        if chain_receives(recipients[recipient_id].engaged_by_id, frozenset({recipient_id})):
            report.possible.extend(options)
    report.possible.sort(
        key=lambda p: (*_name_order(p.recipient), p.disclosure.first_purpose, p.disclosure.id)
    )
    return report


def engaging_chain(recipient_id: int, engager_of: Mapping[int, int | None]) -> list[int]:
    """Rule 6's `via`: the recipients that engaged this one, nearest first, cut where the chain
    comes back on itself or leaves the recipients known (`engager_of` maps each to its engager)."""
    chain: list[int] = []
    seen = {recipient_id}
    current = engager_of.get(recipient_id)
    while current is not None and current not in seen and current in engager_of:
        chain.append(current)
        seen.add(current)
        current = engager_of[current]
    return chain


def recipients_of_category(candidates: Iterable[RecipientFacts]) -> list[RecipientFacts]:
    """Of the recipients with a disclosure in effect covering the category (by rule 4), those
    ACTIVE at the moment, by name. No chains: this is about the category, not a person."""
    active = {r.id: r for r in candidates if r.status_at == RecipientStatus.ACTIVE}
    return sorted(active.values(), key=_name_order)
