"""Who has received a subject's data, who receives it, who will: the same rules as
who_receives, held over time (GDPR Art. 15(1)(c): the recipients to whom the data "have been or
will be disclosed"; CJEU C-154/21: the actual recipients).

Every fact the rules read has a history: a recipient's status moves, a disclosure's effective
days, the subject's versions (type, country, categories, each from its `valid_from`), the
consent log. Between two changes of those facts the answer of the point rule cannot change, so
a receipt's periods are the spans between changes where the point rule says "receives",
intersected with the engaging processor's own periods for a chain (rule 6). The periods start
at the subject's first version: before it, we held nothing. A property test holds this module
to `point_report`: for any moment t up to the moment asked, the point rule says a disclosure
reaches the subject at t exactly when t lies in one of its periods.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from server.domain.enums import DisclosureFrequency, RecipientStatus
from server.domain.who_receives import (
    EPOCH,
    ConsentFact,
    DisclosureFacts,
    Judgement,
    RecipientFacts,
    Report,
    SubjectFacts,
    depends_on_consent,
    judge,
    judge_matched,
    matching_disclosure,
    utc_day,
    who_receives,
)

# A period that lasts; kept as a moment so that the interval arithmetic needs no None.
FOREVER = datetime.max.replace(tzinfo=UTC)
Span = tuple[datetime, datetime]


class ReceiptEnd(StrEnum):
    """Why a receipt's last period ended, judged at its end in this order."""

    RECIPIENT_NO_LONGER_ACTIVE = "RECIPIENT_NO_LONGER_ACTIVE"
    DISCLOSURE_ENDED = "DISCLOSURE_ENDED"
    SUBJECT_DATA_CHANGED = "SUBJECT_DATA_CHANGED"
    CONSENT_WITHDRAWN = "CONSENT_WITHDRAWN"
    ENGAGING_PROCESSOR_STOPPED = "ENGAGING_PROCESSOR_STOPPED"
    ONE_OFF = "ONE_OFF"


@dataclass(frozen=True)
class StatusMove:
    """A status from `at` on, as recorded at `recorded_at`."""

    at: datetime
    status: RecipientStatus
    recorded_at: datetime = EPOCH


@dataclass(frozen=True)
class RecipientHistory:
    """A recipient with its status moves, by effective time (ties in the order recorded)."""

    id: int
    name: str
    engaged_by_id: int | None
    moves: tuple[StatusMove, ...]

    def status_at(self, at: datetime) -> RecipientStatus | None:
        status = None
        for move in self.moves:
            if move.at > at:
                break
            status = move.status
        return status

    def facts_at(self, at: datetime) -> RecipientFacts:
        return RecipientFacts(self.id, self.name, self.engaged_by_id, self.status_at(at))


@dataclass(frozen=True)
class SubjectVersion:
    """The subject's facts from `valid_from` on, as recorded at `recorded_at` (the store's `id`
    orders versions recorded at the same moment)."""

    valid_from: datetime
    subject_type: str
    country: str
    data_categories: tuple[str, ...]
    recorded_at: datetime = EPOCH
    id: int = 0


def version_at(versions: Iterable[SubjectVersion], at: datetime) -> SubjectVersion | None:
    """The version in effect at `at`: the latest valid_from at or before it, ties by
    recorded_at then id (a later correction wins). None before the first: we held nothing."""
    held = [v for v in versions if v.valid_from <= at]
    return max(held, key=lambda v: (v.valid_from, v.recorded_at, v.id), default=None)


@dataclass(frozen=True)
class SubjectHistory:
    """The subject's versions by valid_from (ties in the order recorded: the later one holds),
    and its consent log."""

    versions: tuple[SubjectVersion, ...]
    consents: tuple[ConsentFact, ...] = ()

    @property
    def first(self) -> datetime | None:
        return min((v.valid_from for v in self.versions), default=None)

    def version_at(self, at: datetime) -> SubjectVersion | None:
        return version_at(self.versions, at)

    def facts_at(self, at: datetime) -> SubjectFacts | None:
        """The subject as it stood at `at`; None before its first version."""
        version = self.version_at(at)
        if version is None:
            return None
        return SubjectFacts(
            version.subject_type, version.country, version.data_categories, self.consents
        )


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime | None  # exclusive; None while it lasts


@dataclass
class Receipt:
    """One disclosure reaching the subject over time: its periods (oldest first), the
    categories and purposes it carried in them, and why the last one ended (None: it lasts)."""

    recipient: RecipientFacts
    disclosure: DisclosureFacts
    periods: list[Period]
    data_categories: tuple[str, ...]
    purposes: tuple[str, ...]
    ended_because: ReceiptEnd | None
    events: list[datetime] = field(default_factory=list)

    @property
    def lasting(self) -> bool:
        return self.ended_because is None


@dataclass(frozen=True)
class Upcoming:
    recipient: RecipientFacts
    disclosure: DisclosureFacts
    starts_at: datetime
    judgement: Judgement


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def point_report(
    subject: SubjectHistory,
    recipients: Mapping[int, RecipientHistory],
    disclosures: Sequence[DisclosureFacts],
    at: datetime,
) -> Report:
    """The point rule (who_receives) on the facts as they stood at `at`."""
    facts = subject.facts_at(at)
    if facts is None:
        return Report(at=at)
    return who_receives(
        facts, at, {rid: r.facts_at(at) for rid, r in recipients.items()}, disclosures
    )


def intersect(a: Sequence[Span], b: Sequence[Span]) -> list[Span]:
    """Two sorted lists of disjoint half-open spans: the spans in both."""
    out: list[Span] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start = max(a[i][0], b[j][0])
        end = min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def union(spans: Iterable[Span]) -> list[Span]:
    """Any spans: sorted, with overlapping and touching ones joined."""
    out: list[Span] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


class _Timeline:
    """The receipts of one subject up to `until`, computed once per disclosure and recipient."""

    def __init__(
        self,
        subject: SubjectHistory,
        recipients: Mapping[int, RecipientHistory],
        disclosures: Sequence[DisclosureFacts],
        until: datetime,
    ) -> None:
        self.subject = subject
        self.recipients = recipients
        self.until = until
        self.continuous = [
            d
            for d in disclosures
            if d.frequency == DisclosureFrequency.CONTINUOUS and d.recipient_id in recipients
        ]
        self.by_recipient: dict[int, list[DisclosureFacts]] = {}
        for d in self.continuous:
            self.by_recipient.setdefault(d.recipient_id, []).append(d)
        self.version_points = {v.valid_from for v in subject.versions}
        self.consent_points = {c.decided_at for c in subject.consents}
        self.own: dict[int, list[tuple[datetime, datetime, Judgement]]] = {}
        self.facts: dict[int, SubjectFacts] = {}
        self.matched: dict[tuple[int, int], tuple[SubjectFacts, tuple[str, ...] | None]] = {}
        self.receiving_memo: dict[int, list[Span]] = {}

    def own_segments(
        self, disclosure: DisclosureFacts
    ) -> list[tuple[datetime, datetime, Judgement]]:
        """Rules 1-5 on each span between changes of the facts this disclosure depends on: the
        spans where it carries something to the subject, the chain aside. The subject's facts
        and their category match are kept per version (they change only at a version's start),
        and consent decisions are change points only where rule 5 can withhold."""
        found = self.own.get(disclosure.id)
        if found is not None:
            return found
        start = self.subject.first
        segments: list[tuple[datetime, datetime, Judgement]] = []
        if start is not None:
            recipient = self.recipients[disclosure.recipient_id]
            points = {start, midnight(disclosure.effective_from), *self.version_points}
            if depends_on_consent(disclosure):
                points |= self.consent_points
            points.update(move.at for move in recipient.moves)
            if disclosure.effective_to is not None:
                points.add(midnight(disclosure.effective_to))
            ordered = sorted(p for p in points if start <= p <= self.until)
            for i, point in enumerate(ordered):
                judgement = self.judge_at(recipient, disclosure, point)
                if judgement is not None:
                    end = ordered[i + 1] if i + 1 < len(ordered) else FOREVER
                    segments.append((point, end, judgement))
        self.own[disclosure.id] = segments
        return segments

    def judge_at(
        self, recipient: RecipientHistory, disclosure: DisclosureFacts, at: datetime
    ) -> Judgement | None:
        """Rules 1-5 at `at` (the chain aside): what the disclosure carries to the subject
        then; each version's facts and category match are remembered."""
        if recipient.status_at(at) != RecipientStatus.ACTIVE:
            return None
        version = self.subject.version_at(at)
        day = utc_day(at)
        if version is None or not disclosure.in_effect_on(day):
            return None
        key = (id(version), disclosure.id)
        known = self.matched.get(key)
        if known is None:
            facts = self.facts.get(id(version))
            if facts is None:
                facts = self.facts[id(version)] = SubjectFacts(
                    version.subject_type,
                    version.country,
                    version.data_categories,
                    self.subject.consents,
                )
            known = self.matched[key] = (facts, matching_disclosure(facts, disclosure, day))
        facts, matched = known
        if matched is None:
            return None
        judgement = judge_matched(facts, disclosure, at, matched)
        return judgement if judgement.purposes else None

    def upstream(self, recipient: RecipientHistory) -> list[Span]:
        """Rule 6: when the data can reach this recipient through its engagers."""
        if recipient.engaged_by_id is None:
            return [(self.subject.first or FOREVER, FOREVER)]
        return self.receiving(recipient.engaged_by_id, frozenset({recipient.id}))

    def receiving(self, recipient_id: int, visiting: frozenset[int]) -> list[Span]:
        """When this recipient receives the subject's data by any continuous disclosure. A loop
        up the chain, not recursion (chains may be any length); a chain that comes back to a
        recipient on it, or to one in `visiting`, never receives, as in the point rule."""
        path: list[int] = []
        on_path = set(visiting)
        current: int | None = recipient_id
        above: list[Span]
        while True:
            if current is None:
                above = [(self.subject.first or FOREVER, FOREVER)]
                break
            found = self.receiving_memo.get(current)
            if found is not None:
                above = found
                break
            if current in on_path or current not in self.recipients:
                above = []
                break
            path.append(current)
            on_path.add(current)
            current = self.recipients[current].engaged_by_id
        for walked in reversed(path):
            own = union(
                (start, end)
                for d in self.by_recipient.get(walked, ())
                for start, end, _ in self.own_segments(d)
            )
            above = intersect(own, above) if above else []
            self.receiving_memo[walked] = above
        return above

    def receipt(self, disclosure: DisclosureFacts) -> Receipt | None:
        segments = self.own_segments(disclosure)
        if not segments:
            return None
        recipient = self.recipients[disclosure.recipient_id]
        spans = intersect(union((s, e) for s, e, _ in segments), self.upstream(recipient))
        if not spans:
            return None
        categories: set[str] = set()
        purposes: set[str] = set()
        for start, end, judgement in segments:
            if any(start < e and s < end for s, e in spans):
                categories.update(judgement.data_categories)
                purposes.update(judgement.purposes)
        last_end = spans[-1][1]
        return Receipt(
            recipient=recipient.facts_at(min(spans[-1][0], self.until)),
            disclosure=disclosure,
            periods=[Period(s, None if e == FOREVER else e) for s, e in spans],
            data_categories=tuple(sorted(categories)),
            purposes=tuple(p for p in disclosure.purposes if p in purposes),
            ended_because=None if last_end == FOREVER else self.why_ended(disclosure, last_end),
        )

    def why_ended(self, disclosure: DisclosureFacts, at: datetime) -> ReceiptEnd:
        recipient = self.recipients[disclosure.recipient_id]
        if recipient.status_at(at) != RecipientStatus.ACTIVE:
            return ReceiptEnd.RECIPIENT_NO_LONGER_ACTIVE
        if not disclosure.in_effect_on(utc_day(at)):
            return ReceiptEnd.DISCLOSURE_ENDED
        facts = self.subject.facts_at(at)
        if facts is None or matching_disclosure(facts, disclosure, utc_day(at)) is None:
            return ReceiptEnd.SUBJECT_DATA_CHANGED
        if self.judge_at(recipient, disclosure, at) is None:
            return ReceiptEnd.CONSENT_WITHDRAWN
        return ReceiptEnd.ENGAGING_PROCESSOR_STOPPED


def receipts(
    subject: SubjectHistory,
    recipients: Mapping[int, RecipientHistory],
    disclosures: Sequence[DisclosureFacts],
    until: datetime,
) -> list[Receipt]:
    """Every continuous disclosure that reached the subject at some moment up to `until`, with
    its periods; one whose last period lasts at `until` is a current receipt."""
    timeline = _Timeline(subject, recipients, disclosures, until)
    found = (timeline.receipt(d) for d in timeline.continuous)
    return [r for r in found if r is not None]


def one_off_receipts(
    subject: SubjectHistory,
    recipients: Mapping[int, RecipientHistory],
    disclosures: Mapping[int, DisclosureFacts],
    events: Iterable[tuple[int, datetime]],
) -> list[Receipt]:
    """Rule 8: each recorded event (disclosure id, when) is one actual disclosure; a receipt
    per disclosure, with one period per event, the event's UTC day."""
    by_disclosure: dict[int, list[datetime]] = {}
    for disclosure_id, occurred_at in events:
        by_disclosure.setdefault(disclosure_id, []).append(occurred_at)
    out = []
    for disclosure_id, moments in by_disclosure.items():
        disclosure = disclosures[disclosure_id]
        recipient = recipients[disclosure.recipient_id]
        moments.sort()
        categories: set[str] = set()
        for moment in moments:
            facts = subject.facts_at(moment)
            judgement = judge(facts, disclosure, moment) if facts is not None else None
            if judgement is not None:
                categories.update(judgement.data_categories)
        days = [utc_day(m) for m in moments]
        out.append(
            Receipt(
                recipient=recipient.facts_at(moments[-1]),
                disclosure=disclosure,
                periods=[Period(midnight(d), midnight(d + timedelta(days=1))) for d in days],
                data_categories=tuple(sorted(categories)),
                purposes=disclosure.purposes,
                ended_because=ReceiptEnd.ONE_OFF,
                events=moments,
            )
        )
    return out


def upcoming(
    subject: SubjectHistory,
    recipients: Mapping[int, RecipientHistory],
    disclosures: Sequence[DisclosureFacts],
    at: datetime,
) -> list[Upcoming]:
    """Continuous disclosures that take effect after `at`, to a recipient APPROVED or ACTIVE
    at `at`, that would reach the subject on their first day: judged there by the rules on the
    facts as they stand (the subject's versions, the consent log, the engaging chain)."""
    day = utc_day(at)
    out = []
    chains: dict[datetime, Report] = {}
    for disclosure in disclosures:
        if (
            disclosure.frequency != DisclosureFrequency.CONTINUOUS
            or disclosure.effective_from <= day
        ):
            continue
        recipient = recipients.get(disclosure.recipient_id)
        if recipient is None or recipient.status_at(at) not in (
            RecipientStatus.APPROVED,
            RecipientStatus.ACTIVE,
        ):
            continue
        starts = midnight(disclosure.effective_from)
        facts = subject.facts_at(starts)
        judgement = judge(facts, disclosure, starts) if facts is not None else None
        if judgement is None or not judgement.purposes:
            continue
        if recipient.engaged_by_id is not None:
            report = chains.get(starts)
            if report is None:
                report = chains[starts] = point_report(subject, recipients, disclosures, starts)
            if all(a.recipient.id != recipient.engaged_by_id for a in report.recipients):
                continue
        out.append(Upcoming(recipient.facts_at(at), disclosure, starts, judgement))
    out.sort(key=lambda u: (u.starts_at, u.recipient.name.casefold(), u.disclosure.id))
    return out


def join_corrections(
    receipts: Sequence[Receipt], corrected_into: Mapping[int, int]
) -> list[Receipt]:
    """A correction (updateDisclosure) does not end what a person receives: the terms before it
    are kept as a disclosure ended on the day the corrected terms begin (`corrected_into` maps
    the one to the other). Where a receipt under the terms before ended that day and one under
    the corrected terms began then, they are one receipt under the corrected disclosure, since
    the first began (Art. 15(1)(c): the recipient never stopped receiving). A correction that
    no longer reaches the person leaves the earlier receipt ended, as any ended disclosure."""
    by_disclosure = {r.disclosure.id: r for r in receipts}
    joined: set[int] = set()
    # Latest first, so that a chain of corrections joins from the newest terms back.
    earlier = sorted(
        (r for r in receipts if r.disclosure.id in corrected_into),
        key=lambda r: r.periods[-1].end or datetime.max.replace(tzinfo=UTC),
        reverse=True,
    )
    for before in earlier:
        after = by_disclosure.get(corrected_into[before.disclosure.id])
        if (
            after is None
            or before.ended_because is not ReceiptEnd.DISCLOSURE_ENDED
            or after.recipient.id != before.recipient.id
            or before.periods[-1].end != after.periods[0].start
        ):
            continue
        by_disclosure[after.disclosure.id] = replace(
            after,
            periods=[
                *before.periods[:-1],
                Period(before.periods[-1].start, after.periods[0].end),
                *after.periods[1:],
            ],
        )
        joined.add(before.disclosure.id)
    return [by_disclosure[r.disclosure.id] for r in receipts if r.disclosure.id not in joined]
