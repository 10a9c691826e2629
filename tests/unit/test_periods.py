"""Receipts over time (GDPR Art. 15(1)(c): recipients to whom the data "have been or will be
disclosed"): each way a receipt ends, spans that a change of facts does not interrupt, chains,
one-off events, upcoming disclosures, and the property that holds the periods to the point
rule."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from server.domain.enums import (
    DisclosureFrequency,
    LegalBasis,
    RecipientStatus,
    SpecialCategoryCondition,
)
from server.domain.periods import (
    Period,
    ReceiptEnd,
    RecipientHistory,
    StatusMove,
    SubjectHistory,
    SubjectVersion,
    join_corrections,
    midnight,
    one_off_receipts,
    point_report,
    receipts,
    upcoming,
)
from server.domain.who_receives import ConsentFact, DisclosureFacts

ACTIVE = RecipientStatus.ACTIVE
START = datetime(2024, 1, 1, tzinfo=UTC)
T = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)
MARKETING = "marketing.communications.email"


def history(
    rid: int,
    moves: Sequence[tuple[datetime, RecipientStatus]] = ((START, ACTIVE),),
    *,
    engaged_by: int | None = None,
    name: str | None = None,
) -> RecipientHistory:
    return RecipientHistory(
        rid, name or f"Recipient {rid}", engaged_by, tuple(StatusMove(a, s) for a, s in moves)
    )


def disclosure(
    did: int,
    rid: int,
    *,
    basis: LegalBasis = LegalBasis.CONTRACT,
    categories: Sequence[str] = ("user.contact.email",),
    subject_types: Sequence[str] = ("customer",),
    purposes: Sequence[str] = ("essential.service",),
    start: date = date(2024, 1, 1),
    end: date | None = None,
    frequency: DisclosureFrequency = DisclosureFrequency.CONTINUOUS,
    condition: SpecialCategoryCondition | None = None,
) -> DisclosureFacts:
    return DisclosureFacts(
        did,
        rid,
        basis,
        start,
        end,
        tuple(categories),
        tuple(subject_types),
        tuple(purposes),
        frequency,
        condition,
    )


def subject(
    *versions: tuple[datetime, str, Sequence[str]], consents: Sequence[ConsentFact] = ()
) -> SubjectHistory:
    found = versions or ((START, "customer", ("user.contact.email", "user.name")),)
    return SubjectHistory(
        tuple(SubjectVersion(at, kind, "DE", tuple(cats)) for at, kind, cats in found),
        tuple(consents),
    )


def consent(purpose: str, granted: bool, at: datetime, explicit: bool = False) -> ConsentFact:
    return ConsentFact(purpose, granted, at, explicit, at)


def only(found: list) -> object:  # type: ignore[type-arg]
    assert len(found) == 1, found
    return found[0]


# --- each way a receipt ends ---------------------------------------------------------------------


def test_a_receipt_that_lasts_has_an_open_period_from_its_start() -> None:
    receipt = only(receipts(subject(), {1: history(1)}, [disclosure(10, 1)], T))
    assert receipt.periods == [Period(START, None)]  # type: ignore[attr-defined]
    assert receipt.ended_because is None  # type: ignore[attr-defined]


def test_offboarded_recipient_ends_the_receipt() -> None:
    off = datetime(2024, 9, 1, 15, tzinfo=UTC)
    recipients = {1: history(1, [(START, ACTIVE), (off, RecipientStatus.OFFBOARDED)])}
    receipt = only(receipts(subject(), recipients, [disclosure(10, 1)], T))
    assert receipt.periods == [Period(START, off)]  # type: ignore[attr-defined]
    assert receipt.ended_because == ReceiptEnd.RECIPIENT_NO_LONGER_ACTIVE  # type: ignore[attr-defined]


def test_ended_disclosure_ends_at_the_start_of_its_last_day() -> None:
    receipt = only(
        receipts(subject(), {1: history(1)}, [disclosure(10, 1, end=date(2025, 2, 1))], T)
    )
    assert receipt.periods == [Period(START, midnight(date(2025, 2, 1)))]  # type: ignore[attr-defined]
    assert receipt.ended_because == ReceiptEnd.DISCLOSURE_ENDED  # type: ignore[attr-defined]


def test_withdrawn_consent_ends_the_receipt_and_the_past_stays() -> None:
    """Art. 7(3): withdrawal does not undo what was disclosed before it."""
    granted, withdrawn = datetime(2024, 3, 3, tzinfo=UTC), datetime(2025, 8, 9, tzinfo=UTC)
    facts = subject(
        consents=[consent(MARKETING, True, granted), consent(MARKETING, False, withdrawn)]
    )
    marketing = disclosure(10, 1, basis=LegalBasis.CONSENT, purposes=(MARKETING,))
    receipt = only(receipts(facts, {1: history(1)}, [marketing], datetime(2025, 9, 1, tzinfo=UTC)))
    assert receipt.periods == [Period(granted, withdrawn)]  # type: ignore[attr-defined]
    assert receipt.ended_because == ReceiptEnd.CONSENT_WITHDRAWN  # type: ignore[attr-defined]
    assert receipt.purposes == (MARKETING,)  # type: ignore[attr-defined]


def test_subject_data_change_ends_the_receipt_and_a_matching_change_does_not_interrupt() -> None:
    moved, changed = datetime(2024, 6, 1, tzinfo=UTC), datetime(2024, 9, 1, tzinfo=UTC)
    facts = subject(
        (START, "customer", ["user.contact.email"]),
        (moved, "customer", ["user.contact.email", "user.name"]),
        (changed, "customer", ["user.name"]),
    )
    receipt = only(receipts(facts, {1: history(1)}, [disclosure(10, 1)], T))
    assert receipt.periods == [Period(START, changed)]  # type: ignore[attr-defined]
    assert receipt.ended_because == ReceiptEnd.SUBJECT_DATA_CHANGED  # type: ignore[attr-defined]


def test_engaging_processor_stopping_ends_the_subprocessors_receipt() -> None:
    off = datetime(2024, 10, 1, tzinfo=UTC)
    recipients = {
        1: history(1, [(START, ACTIVE), (off, RecipientStatus.SUSPENDED)]),
        2: history(2, engaged_by=1),
    }
    found = {
        r.disclosure.id: r
        for r in receipts(subject(), recipients, [disclosure(10, 1), disclosure(20, 2)], T)
    }
    assert found[20].periods == [Period(START, off)]
    assert found[20].ended_because == ReceiptEnd.ENGAGING_PROCESSOR_STOPPED
    assert found[10].ended_because == ReceiptEnd.RECIPIENT_NO_LONGER_ACTIVE


def test_nothing_before_the_subjects_first_version() -> None:
    first = datetime(2025, 1, 1, tzinfo=UTC)
    facts = subject((first, "customer", ["user.contact.email"]))
    receipt = only(receipts(facts, {1: history(1)}, [disclosure(10, 1)], T))
    assert receipt.periods == [Period(first, None)]  # type: ignore[attr-defined]
    assert (
        point_report(
            facts, {1: history(1)}, [disclosure(10, 1)], first - timedelta(seconds=1)
        ).recipients
        == []
    )


def test_a_receipt_back_after_a_pause_has_two_periods() -> None:
    pause, back = datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 7, 1, tzinfo=UTC)
    recipients = {
        1: history(1, [(START, ACTIVE), (pause, RecipientStatus.SUSPENDED), (back, ACTIVE)])
    }
    receipt = only(receipts(subject(), recipients, [disclosure(10, 1)], T))
    assert receipt.periods == [Period(START, pause), Period(back, None)]  # type: ignore[attr-defined]


def test_on_request_disclosures_are_never_continuous_receipts_but_events_are_one_off() -> None:
    police = disclosure(
        10, 1, basis=LegalBasis.LEGAL_OBLIGATION, frequency=DisclosureFrequency.ON_REQUEST
    )
    assert receipts(subject(), {1: history(1)}, [police], T) == []
    report = point_report(subject(), {1: history(1)}, [police], T)
    assert report.recipients == [] and [p.recipient.id for p in report.possible] == [1]
    asked = datetime(2025, 3, 4, 16, 30, tzinfo=UTC)
    receipt = only(one_off_receipts(subject(), {1: history(1)}, {10: police}, [(10, asked)]))
    assert receipt.periods == [Period(midnight(date(2025, 3, 4)), midnight(date(2025, 3, 5)))]  # type: ignore[attr-defined]
    assert receipt.ended_because == ReceiptEnd.ONE_OFF  # type: ignore[attr-defined]


def test_upcoming_disclosure_to_an_approved_recipient() -> None:
    recipients = {1: history(1, [(START, RecipientStatus.APPROVED)])}
    later = disclosure(10, 1, start=date(2025, 7, 1))
    [found] = upcoming(subject(), recipients, [later], T)
    assert found.starts_at == midnight(date(2025, 7, 1))
    assert (
        upcoming(subject(), {1: history(1, [(START, RecipientStatus.PROPOSED)])}, [later], T) == []
    )
    assert upcoming(subject(), recipients, [disclosure(10, 1, start=date(2025, 6, 15))], T) == []


# --- the property: periods agree with the point rule ---------------------------------------------

CATEGORIES = ["user.contact", "user.contact.email", "user.name", "user.health_and_medical"]
TYPES = ["customer", "lead"]
PURPOSES = ["marketing", "marketing.communications", "analytics"]
STATUSES = [ACTIVE, ACTIVE, RecipientStatus.SUSPENDED, RecipientStatus.OFFBOARDED]
BASE = datetime(2025, 1, 1, tzinfo=UTC)
HORIZON = BASE + timedelta(days=40)


def moments() -> st.SearchStrategy[datetime]:
    """Hours over 40 days, often exactly at midnight (where disclosures change)."""
    return st.one_of(
        st.integers(0, 40 * 24).map(lambda h: BASE + timedelta(hours=h)),
        st.integers(0, 40).map(lambda d: BASE + timedelta(days=d)),
    )


@st.composite
def worlds(
    draw: st.DrawFn,
) -> tuple[SubjectHistory, dict[int, RecipientHistory], list[DisclosureFacts]]:
    recipients = {}
    for rid in (1, 2, 3):
        moves = sorted(draw(st.lists(st.tuples(moments(), st.sampled_from(STATUSES)), max_size=3)))
        engaged = draw(st.sampled_from([None, None, 1, 2, 3]))
        recipients[rid] = RecipientHistory(
            rid,
            f"R{rid}",
            None if engaged == rid else engaged,
            tuple(StatusMove(a, s) for a, s in moves),
        )
    disclosures = []
    for did in range(1, draw(st.integers(1, 5)) + 1):
        start = BASE.date() + timedelta(days=draw(st.integers(-5, 35)))
        length = draw(st.one_of(st.none(), st.integers(1, 30)))
        disclosures.append(
            disclosure(
                did,
                draw(st.sampled_from([1, 2, 3])),
                basis=draw(st.sampled_from([LegalBasis.CONTRACT, LegalBasis.CONSENT])),
                categories=draw(
                    st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=2, unique=True)
                ),
                subject_types=draw(
                    st.lists(st.sampled_from(TYPES), min_size=1, max_size=2, unique=True)
                ),
                purposes=draw(
                    st.lists(st.sampled_from(PURPOSES), min_size=1, max_size=2, unique=True)
                ),
                start=start,
                end=None if length is None else start + timedelta(days=length),
                frequency=draw(
                    st.sampled_from(
                        [DisclosureFrequency.CONTINUOUS] * 4 + [DisclosureFrequency.ON_REQUEST]
                    )
                ),
                condition=draw(
                    st.sampled_from([None, None, SpecialCategoryCondition.EXPLICIT_CONSENT])
                ),
            )
        )
    versions = sorted(
        draw(
            st.lists(
                st.tuples(
                    moments(),
                    st.sampled_from(TYPES),
                    st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=3, unique=True),
                ),
                min_size=1,
                max_size=3,
            )
        ),
        key=lambda v: v[0],
    )
    consents = [
        ConsentFact(p, g, at, e, at)
        for p, g, at, e in draw(
            st.lists(
                st.tuples(st.sampled_from(PURPOSES), st.booleans(), moments(), st.booleans()),
                max_size=4,
            )
        )
    ]
    facts = SubjectHistory(
        tuple(SubjectVersion(at, kind, "DE", tuple(cats)) for at, kind, cats in versions),
        tuple(consents),
    )
    return facts, recipients, disclosures


@settings(max_examples=300, deadline=None)
@given(worlds(), st.lists(moments(), min_size=1, max_size=8))
def test_a_disclosure_reaches_the_subject_at_t_exactly_when_t_lies_in_its_periods(
    world: tuple[SubjectHistory, dict[int, RecipientHistory], list[DisclosureFacts]],
    probes: list[datetime],
) -> None:
    facts, recipients, disclosures = world
    found = {r.disclosure.id: r for r in receipts(facts, recipients, disclosures, HORIZON)}
    for t in [*probes, HORIZON]:
        report = point_report(facts, recipients, disclosures, t)
        reaching = {
            reason.disclosure.id: reason
            for access in report.recipients
            for reason in access.reasons
        }
        for d in disclosures:
            receipt = found.get(d.id)
            inside = receipt is not None and any(
                p.start <= t and (p.end is None or t < p.end) for p in receipt.periods
            )
            assert (d.id in reaching) == inside, (d.id, t)
            if d.id in reaching:
                assert receipt is not None
                assert set(reaching[d.id].purposes) <= set(receipt.purposes)
                assert set(reaching[d.id].data_categories) <= set(receipt.data_categories)
    for receipt in found.values():
        starts = [p.start for p in receipt.periods]
        assert starts == sorted(starts)
        assert all(p.end is None or p.start < p.end for p in receipt.periods)
        assert all(
            a.end is not None and a.end < b.start
            for a, b in zip(receipt.periods, receipt.periods[1:], strict=False)
        )


# --- corrections (issue 15 §2) ---------------------------------------------------------------


def test_a_correction_continues_the_receipt_under_the_corrected_terms() -> None:
    """Terms before a correction (11, ended on the day it applies) and the corrected disclosure
    (10, from that day): one receipt under 10, since the first began, with 10's categories."""
    day = date(2025, 3, 1)
    found = join_corrections(
        receipts(
            subject(),
            {1: history(1)},
            [
                disclosure(10, 1, categories=("user.name",), start=day),
                disclosure(11, 1, end=day),
            ],
            T,
        ),
        {11: 10},
    )
    receipt = only(found)
    assert receipt.disclosure.id == 10  # type: ignore[attr-defined]
    assert receipt.periods == [Period(START, None)]  # type: ignore[attr-defined]
    assert receipt.data_categories == ("user.name",)  # type: ignore[attr-defined]


def test_a_chain_of_corrections_joins_from_the_newest_back() -> None:
    first, second = date(2024, 6, 1), date(2025, 3, 1)
    found = join_corrections(
        receipts(
            subject(),
            {1: history(1)},
            [
                disclosure(10, 1, start=second),
                disclosure(11, 1, end=first),
                disclosure(12, 1, start=first, end=second),
            ],
            T,
        ),
        {11: 10, 12: 10},
    )
    assert only(found).periods == [Period(START, None)]  # type: ignore[attr-defined]


def test_a_correction_that_no_longer_reaches_the_person_leaves_the_receipt_ended() -> None:
    """Corrected to a category the person does not have: they received until the correction."""
    day = date(2025, 3, 1)
    found = join_corrections(
        receipts(
            subject(),
            {1: history(1)},
            [
                disclosure(10, 1, categories=("user.biometric",), start=day),
                disclosure(11, 1, end=day),
            ],
            T,
        ),
        {11: 10},
    )
    receipt = only(found)
    assert receipt.disclosure.id == 11  # type: ignore[attr-defined]
    assert receipt.ended_because is ReceiptEnd.DISCLOSURE_ENDED  # type: ignore[attr-defined]
    assert receipt.periods == [Period(START, midnight(day))]  # type: ignore[attr-defined]


def test_without_a_correction_an_ended_and_a_new_disclosure_stay_two_receipts() -> None:
    day = date(2025, 3, 1)
    found = join_corrections(
        receipts(
            subject(),
            {1: history(1)},
            [disclosure(10, 1, start=day), disclosure(11, 1, end=day)],
            T,
        ),
        {},
    )
    assert sorted(r.disclosure.id for r in found) == [10, 11]
