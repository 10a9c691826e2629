"""The whoReceives rules in plain Python (no database): rules 1-7 on small hand-built facts, and
properties of category matching and onward chains over generated inputs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.domain.enums import LegalBasis, RecipientStatus, SpecialCategoryCondition
from server.domain.taxonomy import ancestors_of, keys_match, matched_categories
from server.domain.who_receives import (
    ConsentFact,
    DisclosureFacts,
    RecipientFacts,
    Report,
    SubjectFacts,
    WithheldReason,
    recipients_of_category,
    utc_day,
    who_receives,
)

T = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)
ACTIVE = RecipientStatus.ACTIVE
MARKETING = "marketing.communications.email"
ANALYTICS = "analytics.reporting"


def recipient(
    rid: int,
    name: str | None = None,
    *,
    engaged_by: int | None = None,
    status: RecipientStatus | None = ACTIVE,
) -> RecipientFacts:
    return RecipientFacts(
        id=rid, name=name or f"Recipient {rid}", engaged_by_id=engaged_by, status_at=status
    )


def disclosure(
    did: int,
    recipient_id: int,
    *,
    basis: LegalBasis = LegalBasis.CONTRACT,
    categories: Sequence[str] = ("user.contact.email",),
    subject_types: Sequence[str] = ("platform_user",),
    purposes: Sequence[str] = ("essential.service",),
    effective_from: date = date(2024, 1, 1),
    effective_to: date | None = None,
    condition: SpecialCategoryCondition | None = None,
) -> DisclosureFacts:
    return DisclosureFacts(
        id=did,
        recipient_id=recipient_id,
        legal_basis=basis,
        effective_from=effective_from,
        effective_to=effective_to,
        data_categories=tuple(categories),
        subject_types=tuple(subject_types),
        purposes=tuple(purposes),
        special_category_condition=condition,
    )


def consent_disclosure(did: int, recipient_id: int, **overrides: object) -> DisclosureFacts:
    overrides.setdefault("purposes", (MARKETING,))
    return disclosure(did, recipient_id, basis=LegalBasis.CONSENT, **overrides)  # type: ignore[arg-type]


def subject(
    categories: Sequence[str] = ("user.contact.email",),
    *,
    subject_type: str = "platform_user",
    consents: Sequence[ConsentFact] = (),
) -> SubjectFacts:
    return SubjectFacts(
        subject_type=subject_type,
        country="GB",
        data_categories=tuple(categories),
        consents=tuple(consents),
    )


def consent(purpose: str, granted: bool, at: datetime) -> ConsentFact:
    return ConsentFact(purpose=purpose, granted=granted, decided_at=at, recorded_at=at)


def run(
    who: SubjectFacts,
    recipients: Sequence[RecipientFacts],
    disclosures: Sequence[DisclosureFacts],
    at: datetime = T,
) -> Report:
    return who_receives(who, at, {r.id: r for r in recipients}, disclosures)


def received(report: Report) -> list[int]:
    return [access.recipient.id for access in report.recipients]


def withheld(report: Report) -> list[tuple[int, int, WithheldReason]]:
    return [(w.recipient.id, w.disclosure.id, w.reason) for w in report.withheld]


# --- rule 1: only ACTIVE recipients -----------------------------------------------------------


def test_active_recipient_receives() -> None:
    report = run(subject(), [recipient(1)], [disclosure(10, 1)])
    assert received(report) == [1]
    assert report.withheld == []
    assert report.at == T


@pytest.mark.parametrize("status", [s for s in RecipientStatus if s != ACTIVE] + [None])
def test_recipient_not_active_at_t_receives_nothing(status: RecipientStatus | None) -> None:
    report = run(
        subject(),
        [recipient(1, status=status)],
        [disclosure(10, 1), consent_disclosure(11, 1)],
    )
    assert report.recipients == []
    # Rule 5: withheld holds only disclosures that pass rule 1.
    assert report.withheld == []


def test_disclosure_of_unknown_recipient_is_ignored() -> None:
    report = run(subject(), [recipient(1)], [disclosure(10, 1), disclosure(11, 2)])
    assert received(report) == [1]
    assert [r.disclosure.id for r in report.recipients[0].reasons] == [10]


# --- rule 2: disclosures in effect on date(T), UTC --------------------------------------------


@pytest.mark.parametrize(
    ("effective_from", "effective_to", "counts"),
    [
        (date(2025, 6, 15), None, True),  # effectiveFrom == day: included
        (date(2025, 6, 16), None, False),  # starts tomorrow
        (date(2024, 1, 1), date(2025, 6, 15), False),  # effectiveTo == day: excluded
        (date(2024, 1, 1), date(2025, 6, 16), True),  # ends tomorrow
        (date(2024, 1, 1), date(2025, 6, 14), False),  # ended yesterday
        (date(2025, 6, 15), date(2025, 6, 16), True),  # a one-day disclosure on the day
    ],
)
def test_disclosure_in_effect_boundaries(
    effective_from: date, effective_to: date | None, counts: bool
) -> None:
    report = run(
        subject(),
        [recipient(1)],
        [disclosure(10, 1, effective_from=effective_from, effective_to=effective_to)],
    )
    assert received(report) == ([1] if counts else [])


def test_non_utc_moment_late_in_the_day_uses_the_next_utc_date() -> None:
    # 23:30 at UTC-2 is 01:30 UTC on the 16th.
    at = datetime(2025, 6, 15, 23, 30, tzinfo=timezone(timedelta(hours=-2)))
    assert utc_day(at) == date(2025, 6, 16)
    starts = disclosure(10, 1, effective_from=date(2025, 6, 16))
    ends = disclosure(20, 2, effective_from=date(2024, 1, 1), effective_to=date(2025, 6, 16))
    report = run(subject(), [recipient(1), recipient(2)], [starts, ends], at=at)
    assert received(report) == [1]


def test_non_utc_moment_early_in_the_day_uses_the_previous_utc_date() -> None:
    # 00:30 at UTC+2 is 22:30 UTC on the 15th.
    at = datetime(2025, 6, 16, 0, 30, tzinfo=timezone(timedelta(hours=2)))
    assert utc_day(at) == date(2025, 6, 15)
    starts = disclosure(10, 1, effective_from=date(2025, 6, 16))
    ends = disclosure(20, 2, effective_from=date(2024, 1, 1), effective_to=date(2025, 6, 16))
    report = run(subject(), [recipient(1), recipient(2)], [starts, ends], at=at)
    assert received(report) == [2]


# --- rule 3: subject types --------------------------------------------------------------------


def test_subject_type_must_be_among_the_disclosures() -> None:
    report = run(
        subject(subject_type="visitor"),
        [recipient(1), recipient(2)],
        [
            disclosure(10, 1, subject_types=("platform_user", "customer_contact")),
            disclosure(20, 2, subject_types=("customer_contact", "visitor")),
        ],
    )
    assert received(report) == [2]


def test_subject_type_mismatch_is_not_withheld_either() -> None:
    report = run(
        subject(subject_type="job_applicant"),
        [recipient(1)],
        [consent_disclosure(10, 1, subject_types=("visitor",))],
    )
    assert report.recipients == [] and report.withheld == []


# --- rule 4: categories across the taxonomy ---------------------------------------------------


@pytest.mark.parametrize(
    ("held", "disclosed", "expected"),
    [
        (["user.contact"], ["user.contact.email"], ("user.contact.email",)),
        (["user.contact.email"], ["user.contact"], ("user.contact.email",)),
        (["user.contact.email"], ["user.contact.email"], ("user.contact.email",)),
        (
            ["user.contact", "user.name"],
            ["user.device", "user.contact.phone_number", "user.contact.email"],
            ("user.contact.email", "user.contact.phone_number"),
        ),
        (
            ["user.contact.email", "user.contact", "user.name"],
            ["user.contact.email", "user"],
            ("user.contact", "user.contact.email", "user.name"),
        ),
    ],
)
def test_categories_match_both_ways_more_specific_key_sorted_unique(
    held: list[str], disclosed: list[str], expected: tuple[str, ...]
) -> None:
    report = run(subject(held), [recipient(1)], [disclosure(10, 1, categories=disclosed)])
    assert [r.data_categories for r in report.recipients[0].reasons] == [expected]


@pytest.mark.parametrize(
    ("held", "disclosed"),
    [
        (["user.contact.email"], ["user.device.ip_address"]),
        (["user.contact"], ["user.contacts"]),  # a shared prefix is not ancestry
        (["user.contact.email"], ["user.contact.phone_number"]),  # siblings do not match
    ],
)
def test_no_matching_category_no_disclosure(held: list[str], disclosed: list[str]) -> None:
    report = run(
        subject(held),
        [recipient(1)],
        [disclosure(10, 1, categories=disclosed), consent_disclosure(11, 1, categories=disclosed)],
    )
    assert report.recipients == [] and report.withheld == []


# Few, short segments so that generated keys often share ancestry; "ab" next to "a" catches
# prefix matching that forgets the dot.
SEGMENTS = st.sampled_from(["a", "ab", "b", "user", "contact", "contacts"])
KEYS = st.lists(SEGMENTS, min_size=1, max_size=4).map(".".join)
KEY_LISTS = st.lists(KEYS, max_size=6)


@given(KEY_LISTS, KEY_LISTS)
def test_matched_categories_properties(held: list[str], disclosed: list[str]) -> None:
    found = matched_categories(held, disclosed)
    assert found == matched_categories(disclosed, held)
    assert found == sorted(set(found))
    assert set(found) <= set(held) | set(disclosed)
    for key in found:
        assert any(keys_match(key, h) for h in held)
        assert any(keys_match(key, d) for d in disclosed)
    # Each result is the deeper key of some matching pair, and every matching pair is covered.
    for h in held:
        for d in disclosed:
            if keys_match(h, d):
                deeper = h if len(h.split(".")) >= len(d.split(".")) else d
                assert deeper in found
    assert bool(found) == any(keys_match(h, d) for h in held for d in disclosed)


@given(KEYS)
def test_a_key_always_matches_its_ancestors(key: str) -> None:
    assert keys_match(key, key)
    assert matched_categories([key], [key]) == [key]
    for ancestor in ancestors_of(key):
        assert keys_match(key, ancestor) and keys_match(ancestor, key)
        assert matched_categories([key], [ancestor]) == [key]
        assert matched_categories([ancestor], [key]) == [key]


# --- rule 5: consent --------------------------------------------------------------------------


def consent_report(
    consents: Sequence[ConsentFact], purposes: Sequence[str] = (MARKETING,)
) -> Report:
    return run(
        subject(consents=consents),
        [recipient(1)],
        [consent_disclosure(10, 1, purposes=purposes)],
    )


def test_no_consent_record_is_withheld_no_consent() -> None:
    report = consent_report([])
    assert report.recipients == []
    assert withheld(report) == [(1, 10, WithheldReason.NO_CONSENT)]
    assert report.withheld[0].data_categories == ("user.contact.email",)


def test_grant_recorded_exactly_at_t_counts() -> None:
    report = consent_report([consent(MARKETING, True, T)])
    assert received(report) == [1] and report.withheld == []


def test_grant_recorded_after_t_does_not_count() -> None:
    report = consent_report([consent(MARKETING, True, T + timedelta(microseconds=1))])
    assert report.recipients == []
    assert withheld(report) == [(1, 10, WithheldReason.NO_CONSENT)]


def test_grant_in_another_offset_compares_as_the_same_instant() -> None:
    # 13:59 at UTC+2 is 11:59 UTC, before T; 14:01 at UTC+2 is after.
    plus_two = timezone(timedelta(hours=2))
    before = consent_report(
        [consent(MARKETING, True, datetime(2025, 6, 15, 13, 59, tzinfo=plus_two))]
    )
    after = consent_report(
        [consent(MARKETING, True, datetime(2025, 6, 15, 14, 1, tzinfo=plus_two))]
    )
    assert received(before) == [1]
    assert received(after) == []


def test_grant_then_withdraw_is_withheld_consent_withdrawn() -> None:
    report = consent_report(
        [
            consent(MARKETING, True, T - timedelta(days=30)),
            consent(MARKETING, False, T - timedelta(days=1)),
        ]
    )
    assert report.recipients == []
    assert withheld(report) == [(1, 10, WithheldReason.CONSENT_WITHDRAWN)]


def test_withdraw_then_grant_counts() -> None:
    report = consent_report(
        [
            consent(MARKETING, False, T - timedelta(days=30)),
            consent(MARKETING, True, T - timedelta(days=1)),
        ]
    )
    assert received(report) == [1] and report.withheld == []


def test_latest_record_wins_by_time_not_by_position() -> None:
    report = consent_report(
        [
            consent(MARKETING, False, T - timedelta(days=1)),
            consent(MARKETING, True, T - timedelta(days=30)),
        ]
    )
    assert withheld(report) == [(1, 10, WithheldReason.CONSENT_WITHDRAWN)]


def test_same_moment_the_record_later_in_the_log_wins() -> None:
    # The log is append-only and kept in the order it was recorded.
    at = T - timedelta(days=1)
    withdrawn = consent_report([consent(MARKETING, True, at), consent(MARKETING, False, at)])
    assert withheld(withdrawn) == [(1, 10, WithheldReason.CONSENT_WITHDRAWN)]
    granted = consent_report([consent(MARKETING, False, at), consent(MARKETING, True, at)])
    assert received(granted) == [1]


def test_withdrawal_after_t_does_not_undo_the_grant_at_t() -> None:
    report = consent_report(
        [
            consent(MARKETING, True, T - timedelta(days=1)),
            consent(MARKETING, False, T + timedelta(seconds=1)),
        ]
    )
    assert received(report) == [1]


def test_withdrawal_exactly_at_t_counts_as_withdrawn() -> None:
    report = consent_report(
        [consent(MARKETING, True, T - timedelta(days=1)), consent(MARKETING, False, T)]
    )
    assert withheld(report) == [(1, 10, WithheldReason.CONSENT_WITHDRAWN)]


def test_consent_is_judged_per_purpose() -> None:
    """Rule 5 (Art. 6(1)(a), Art. 7(3)): a withdrawal for marketing holds though analytics
    consent stands; the reason lists only the granted purpose, the withheld list the others,
    one entry per reason."""
    report = consent_report(
        [consent(MARKETING, False, T - timedelta(days=1)), consent(ANALYTICS, True, T)],
        purposes=(MARKETING, ANALYTICS, "functional.service.improve"),
    )
    assert received(report) == [1]
    assert report.recipients[0].reasons[0].purposes == (ANALYTICS,)
    assert [(w.reason, w.purposes) for w in report.withheld] == [
        (WithheldReason.NO_CONSENT, ("functional.service.improve",)),
        (WithheldReason.CONSENT_WITHDRAWN, (MARKETING,)),
    ]


def test_withdrawn_for_one_purpose_and_no_record_for_another_are_two_entries() -> None:
    report = consent_report(
        [consent(MARKETING, False, T - timedelta(days=1))], purposes=(ANALYTICS, MARKETING)
    )
    assert report.recipients == []
    assert [(w.reason, w.purposes) for w in report.withheld] == [
        (WithheldReason.NO_CONSENT, (ANALYTICS,)),
        (WithheldReason.CONSENT_WITHDRAWN, (MARKETING,)),
    ]


def test_consent_for_another_purpose_is_no_consent() -> None:
    report = consent_report([consent(ANALYTICS, True, T - timedelta(days=1))])
    assert withheld(report) == [(1, 10, WithheldReason.NO_CONSENT)]


@pytest.mark.parametrize("basis", [b for b in LegalBasis if b != LegalBasis.CONSENT])
def test_other_legal_bases_ignore_consent_records(basis: LegalBasis) -> None:
    report = run(
        subject(consents=[consent(MARKETING, False, T - timedelta(days=1))]),
        [recipient(1)],
        [disclosure(10, 1, basis=basis, purposes=(MARKETING,))],
    )
    assert received(report) == [1] and report.withheld == []


def test_recipient_with_one_counting_and_one_withheld_disclosure() -> None:
    report = run(
        subject(),
        [recipient(1)],
        [disclosure(10, 1), consent_disclosure(11, 1)],
    )
    assert received(report) == [1]
    assert [r.disclosure.id for r in report.recipients[0].reasons] == [10]
    assert withheld(report) == [(1, 11, WithheldReason.NO_CONSENT)]


# --- rule 6: onward chains --------------------------------------------------------------------


def test_chain_of_three_via_nearest_first() -> None:
    top = recipient(1, "Host")
    middle = recipient(2, "Backup", engaged_by=1)
    bottom = recipient(3, "Colocation", engaged_by=2)
    report = run(
        subject(),
        [bottom, middle, top],
        [disclosure(30, 3), disclosure(20, 2), disclosure(10, 1)],
    )
    vias = {a.recipient.id: [v.id for v in a.via] for a in report.recipients}
    assert vias == {1: [], 2: [1], 3: [2, 1]}


@pytest.mark.parametrize(
    "middle_status", [RecipientStatus.SUSPENDED, RecipientStatus.OFFBOARDED, None]
)
def test_chain_breaks_when_the_middle_is_not_active(middle_status: RecipientStatus | None) -> None:
    report = run(
        subject(),
        [
            recipient(1),
            recipient(2, engaged_by=1, status=middle_status),
            recipient(3, engaged_by=2),
        ],
        [disclosure(10, 1), disclosure(20, 2), disclosure(30, 3)],
    )
    assert received(report) == [1]


def test_chain_breaks_when_the_engager_does_not_receive_this_subject() -> None:
    report = run(
        subject(),
        [recipient(1), recipient(2, engaged_by=1)],
        [disclosure(10, 1, subject_types=("visitor",)), disclosure(20, 2)],
    )
    assert report.recipients == []


def test_chain_breaks_when_the_engagers_disclosure_has_ended() -> None:
    report = run(
        subject(),
        [recipient(1), recipient(2, engaged_by=1)],
        [disclosure(10, 1, effective_to=date(2025, 6, 1)), disclosure(20, 2)],
    )
    assert report.recipients == []


def test_engager_whose_only_disclosure_is_withheld_does_not_receive() -> None:
    report = run(
        subject(),
        [recipient(1), recipient(2, engaged_by=1)],
        [consent_disclosure(10, 1), disclosure(20, 2)],
    )
    assert report.recipients == []
    assert withheld(report) == [(1, 10, WithheldReason.NO_CONSENT)]


def test_engager_receiving_through_consent_carries_the_chain() -> None:
    report = run(
        subject(consents=[consent(MARKETING, True, T)]),
        [recipient(1), recipient(2, engaged_by=1)],
        [consent_disclosure(10, 1), disclosure(20, 2)],
    )
    assert received(report) == [1, 2]


def test_withheld_excluded_when_the_chain_does_not_receive() -> None:
    facts = [disclosure(10, 1), consent_disclosure(20, 2)]
    suspended = run(
        subject(),
        [recipient(1, status=RecipientStatus.SUSPENDED), recipient(2, engaged_by=1)],
        facts,
    )
    assert suspended.recipients == [] and suspended.withheld == []
    active = run(subject(), [recipient(1), recipient(2, engaged_by=1)], facts)
    assert received(active) == [1]
    assert withheld(active) == [(2, 20, WithheldReason.NO_CONSENT)]


def test_withheld_excluded_when_a_grandparent_breaks_the_chain() -> None:
    report = run(
        subject(),
        [
            recipient(1, status=RecipientStatus.SUSPENDED),
            recipient(2, engaged_by=1),
            recipient(3, engaged_by=2),
        ],
        [disclosure(10, 1), disclosure(20, 2), consent_disclosure(30, 3)],
    )
    assert report.recipients == [] and report.withheld == []


def test_two_cycle_terminates_and_neither_counts() -> None:
    report = run(
        subject(),
        [recipient(1, "A", engaged_by=2), recipient(2, "B", engaged_by=1)],
        [disclosure(10, 1), disclosure(20, 2), consent_disclosure(11, 1)],
    )
    assert report.recipients == [] and report.withheld == []


def test_self_engaged_recipient_does_not_count() -> None:
    report = run(subject(), [recipient(1, engaged_by=1)], [disclosure(10, 1)])
    assert report.recipients == []


def test_recipient_hanging_below_a_cycle_does_not_count() -> None:
    report = run(
        subject(),
        [
            recipient(1, engaged_by=3),
            recipient(2, engaged_by=1),
            recipient(3, engaged_by=2),
            recipient(4, engaged_by=3),
            recipient(5),
        ],
        [disclosure(i * 10, i) for i in range(1, 6)],
    )
    assert received(report) == [5]


@pytest.mark.parametrize("depth", [1_100, 5_000])
def test_a_chain_far_deeper_than_the_cap_is_walked_without_recursion(depth: int) -> None:
    """Issue 11 §4: a 1,100-deep chain (stored before the cap, or by another writer) answered
    INTERNAL (RecursionError); rule 6 now walks it in a loop and still applies to every link."""
    chain = [recipient(1), *(recipient(i, engaged_by=i - 1) for i in range(2, depth + 1))]
    # The deepest first: its walk goes all the way up before anything is remembered.
    report = run(subject(), chain, [disclosure(i, i) for i in range(depth, 0, -1)])
    assert len(report.recipients) == depth
    deepest = next(a for a in report.recipients if a.recipient.id == depth)
    assert [r.id for r in deepest.via] == list(range(depth - 1, 0, -1))
    # One link that does not receive breaks everything below it.
    broken = run(subject(), chain, [disclosure(i, i) for i in range(depth, 0, -1) if i != 7])
    assert sorted(received(broken)) == list(range(1, 7))


def test_missing_engager_does_not_count() -> None:
    report = run(
        subject(),
        [recipient(2, engaged_by=99), recipient(3, engaged_by=2)],
        [disclosure(20, 2), disclosure(30, 3), consent_disclosure(21, 2)],
    )
    assert report.recipients == [] and report.withheld == []


# Random engagement graphs: up to 7 recipients, each engaged by nobody, one of them (itself
# included, so cycles arise) or a recipient that is not in the facts (id 99).
GRAPH_SIZE = 7


@st.composite
def graphs(
    draw: st.DrawFn,
) -> tuple[SubjectFacts, list[RecipientFacts], list[DisclosureFacts]]:
    n = draw(st.integers(min_value=1, max_value=GRAPH_SIZE))
    ids = list(range(1, n + 1))
    engagers = st.one_of(st.none(), st.sampled_from([*ids, 99]))
    statuses = st.sampled_from([ACTIVE, ACTIVE, ACTIVE, RecipientStatus.SUSPENDED, None])
    recipients = [
        recipient(rid, f"R{rid}", engaged_by=draw(engagers), status=draw(statuses)) for rid in ids
    ]
    disclosures = []
    for rid in ids:
        kind = draw(st.sampled_from(["contract", "contract", "consent", "other-type", "none"]))
        if kind == "contract":
            disclosures.append(disclosure(rid * 10, rid))
        elif kind == "consent":
            disclosures.append(consent_disclosure(rid * 10, rid))
        elif kind == "other-type":
            disclosures.append(disclosure(rid * 10, rid, subject_types=("visitor",)))
    granted = draw(st.booleans())
    who = subject(consents=[consent(MARKETING, granted, T - timedelta(days=1))])
    return who, recipients, disclosures


def expected_chain(
    rid: int | None, by_id: dict[int, RecipientFacts], direct: set[int]
) -> list[int] | None:
    """Independent oracle: the ids from `rid` up to the top, or None when the chain breaks."""
    chain: list[int] = []
    current = rid
    while current is not None:
        if current in chain or current not in by_id or current not in direct:
            return None
        chain.append(current)
        current = by_id[current].engaged_by_id
    return chain


@settings(max_examples=300, deadline=None)
@given(graphs())
def test_random_engagement_graphs(
    graph: tuple[SubjectFacts, list[RecipientFacts], list[DisclosureFacts]],
) -> None:
    who, recipients, disclosures = graph
    by_id = {r.id: r for r in recipients}
    granted = who.consents[0].granted
    direct = {
        d.recipient_id
        for d in disclosures
        if by_id[d.recipient_id].status_at == ACTIVE
        and d.subject_types == ("platform_user",)
        and (d.legal_basis != LegalBasis.CONSENT or granted)
    }
    report = run(who, recipients, disclosures)

    expected = {rid for rid in by_id if expected_chain(rid, by_id, direct) is not None}
    counted = {a.recipient.id for a in report.recipients}
    assert counted == expected
    for access in report.recipients:
        chain = [v.id for v in access.via]
        assert chain == expected_chain(access.recipient.id, by_id, direct)[1:]  # type: ignore[index]
        assert set(chain) <= counted
        nearest = access.recipient.engaged_by_id
        for hop in access.via:
            assert hop.id == nearest
            nearest = hop.engaged_by_id
        assert nearest is None
    expected_withheld = {
        d.id
        for d in disclosures
        if d.legal_basis == LegalBasis.CONSENT
        and not granted
        and by_id[d.recipient_id].status_at == ACTIVE
        and (
            by_id[d.recipient_id].engaged_by_id is None
            or expected_chain(by_id[d.recipient_id].engaged_by_id, by_id, direct) is not None
        )
    }
    assert {w.disclosure.id for w in report.withheld} == expected_withheld


# --- rule 7: one entry per recipient, sorted ---------------------------------------------------


def test_recipients_sorted_by_name_case_insensitively() -> None:
    names = ["beta Mail", "Alpha Post", "charlie Cloud", "Delta"]
    report = run(
        subject(),
        [recipient(i + 1, name) for i, name in enumerate(names)],
        [disclosure((i + 1) * 10, i + 1) for i in range(len(names))],
    )
    assert [a.recipient.name for a in report.recipients] == [
        "Alpha Post",
        "beta Mail",
        "charlie Cloud",
        "Delta",
    ]


def test_one_entry_per_recipient_with_reasons_by_first_purpose() -> None:
    report = run(
        subject(consents=[consent(MARKETING, True, T)]),
        [recipient(1)],
        [
            # The first purpose orders, not the smallest: 10 sorts under "marketing...".
            consent_disclosure(10, 1, purposes=(MARKETING, ANALYTICS)),
            disclosure(11, 1, purposes=("essential.service",)),
            disclosure(12, 1, purposes=(ANALYTICS, "marketing")),
        ],
    )
    assert received(report) == [1]
    reasons = report.recipients[0].reasons
    assert [r.disclosure.id for r in reasons] == [12, 11, 10]
    assert [r.disclosure.first_purpose for r in reasons] == [
        ANALYTICS,
        "essential.service",
        MARKETING,
    ]


# --- recipientsOfCategory -----------------------------------------------------------------------


def test_recipients_of_category_keeps_active_sorted_by_name() -> None:
    candidates = [
        recipient(1, "zeta"),
        recipient(2, "Alpha", status=RecipientStatus.SUSPENDED),
        recipient(3, "beta"),
        recipient(4, "Gamma", status=None),
        recipient(5, "alpha", engaged_by=2),  # no chains: the suspended engager does not matter
    ]
    assert [r.id for r in recipients_of_category(candidates)] == [5, 3, 1]


# --- rule 5, Art. 9(2)(a): explicit consent for special-category data --------------------------

HEALTH = "user.health_and_medical"


@pytest.mark.parametrize(
    ("case", "basis", "consents", "categories", "expected"),
    [
        ("no consent, legitimate interests", LegalBasis.LEGITIMATE_INTERESTS, [], (HEALTH,),
         WithheldReason.EXPLICIT_CONSENT_MISSING),
        ("a plain grant is not explicit", LegalBasis.LEGITIMATE_INTERESTS,
         [ConsentFact(ANALYTICS, True, T)], (HEALTH,), WithheldReason.EXPLICIT_CONSENT_MISSING),
        ("an explicit grant", LegalBasis.LEGITIMATE_INTERESTS,
         [ConsentFact(ANALYTICS, True, T, explicit=True)], (HEALTH,), None),
        ("an explicit grant withdrawn", LegalBasis.LEGITIMATE_INTERESTS,
         [ConsentFact(ANALYTICS, True, T - timedelta(days=2), explicit=True),
          ConsentFact(ANALYTICS, False, T - timedelta(days=1))], (HEALTH,),
         WithheldReason.EXPLICIT_CONSENT_MISSING),
        ("consent basis, no record at all: NO_CONSENT first", LegalBasis.CONSENT, [], (HEALTH,),
         WithheldReason.NO_CONSENT),
        ("consent basis, plain grant", LegalBasis.CONSENT, [ConsentFact(ANALYTICS, True, T)],
         (HEALTH,), WithheldReason.EXPLICIT_CONSENT_MISSING),
        ("only ordinary data matches: not gated", LegalBasis.LEGITIMATE_INTERESTS, [],
         ("user.contact.email",), None),
    ],
)  # fmt: skip
def test_explicit_consent_gates_special_category_data(
    case: str,
    basis: LegalBasis,
    consents: list[ConsentFact],
    categories: tuple[str, ...],
    expected: WithheldReason | None,
) -> None:
    report = run(
        subject(categories, consents=consents),
        [recipient(1)],
        [
            disclosure(
                10,
                1,
                basis=basis,
                categories=(HEALTH, "user.contact.email"),
                purposes=(ANALYTICS,),
                condition=SpecialCategoryCondition.EXPLICIT_CONSENT,
            )
        ],
    )
    if expected is None:
        assert received(report) == [1] and report.withheld == [], case
    else:
        assert report.recipients == [], case
        assert [(w.reason, w.purposes) for w in report.withheld] == [(expected, (ANALYTICS,))], case
