"""The lifecycle table in plain Python: every pair of statuses, legal or not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.domain.enums import RecipientStatus as S
from server.domain.lifecycle import (
    TRANSITIONS,
    allowed_transitions,
    before_previous_move_error,
    can_transition,
    dated_ahead_error,
    transition_error,
)

LEGAL = {
    (S.PROPOSED, S.UNDER_REVIEW),
    (S.UNDER_REVIEW, S.APPROVED),
    (S.UNDER_REVIEW, S.REJECTED),
    (S.APPROVED, S.ACTIVE),
    (S.ACTIVE, S.SUSPENDED),
    (S.SUSPENDED, S.ACTIVE),
    (S.ACTIVE, S.OFFBOARDED),
    (S.SUSPENDED, S.OFFBOARDED),
}
FINAL = {S.REJECTED, S.OFFBOARDED}
PAIRS = [(a, b) for a in S for b in S]


def test_every_status_has_a_row() -> None:
    assert set(TRANSITIONS) == set(S)


@pytest.mark.parametrize(("current", "target"), PAIRS)
def test_can_transition(current: S, target: S) -> None:
    assert can_transition(current, target) == ((current, target) in LEGAL)


@pytest.mark.parametrize(("current", "target"), PAIRS)
def test_transition_error(current: S, target: S) -> None:
    problem = transition_error(current, target)
    if (current, target) in LEGAL:
        assert problem is None
        return
    assert problem
    if current in FINAL:
        assert f"{current.value} is final" in problem
    else:
        assert current.value in problem
        assert target.value in problem
        allowed = problem.split("allowed:", 1)[1]
        for status in S:
            assert (status.value in allowed) == ((current, status) in LEGAL), status


@pytest.mark.parametrize("current", list(S))
def test_allowed_transitions(current: S) -> None:
    assert set(allowed_transitions(current)) == {b for a, b in LEGAL if a == current}


def test_final_statuses_have_no_way_out() -> None:
    assert {s for s in S if not allowed_transitions(s)} == FINAL


def test_no_status_moves_to_itself() -> None:
    assert not any(can_transition(s, s) for s in S)


def test_every_status_is_reachable_from_proposed() -> None:
    reached = {S.PROPOSED}
    frontier = [S.PROPOSED]
    while frontier:
        for nxt in allowed_transitions(frontier.pop()):
            if nxt not in reached:
                reached.add(nxt)
                frontier.append(nxt)
    assert reached == set(S)


def test_proposed_to_active_names_under_review() -> None:
    problem = transition_error(S.PROPOSED, S.ACTIVE)
    assert problem == "Cannot move from PROPOSED to ACTIVE; allowed: UNDER_REVIEW."


def test_a_status_change_is_not_dated_ahead() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert dated_ahead_error(now, now) is None
    assert dated_ahead_error(now - timedelta(days=1), now) is None
    assert dated_ahead_error(now + timedelta(microseconds=1), now) == (
        "A status change cannot be dated ahead."
    )


# Issue 12 §1: a move dated in the past never comes before the recipient's previous move.
PREVIOUS = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("at", "previous", "refused"),
    [
        (PREVIOUS, None, False),  # the first move: nothing before it
        (PREVIOUS + timedelta(days=1), PREVIOUS, False),
        (PREVIOUS, PREVIOUS, False),  # the same moment: kept in the order recorded
        (PREVIOUS - timedelta(microseconds=1), PREVIOUS, True),
        (PREVIOUS - timedelta(days=400), PREVIOUS, True),
    ],
)
def test_a_move_is_not_dated_before_the_previous_one(
    at: datetime, previous: datetime | None, refused: bool
) -> None:
    problem = before_previous_move_error(at, previous)
    if refused:
        assert problem is not None and "previous move" in problem
        assert previous is not None and previous.isoformat() in problem
    else:
        assert problem is None
