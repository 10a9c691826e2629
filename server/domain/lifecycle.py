"""The recipient lifecycle from the contract: PROPOSED -> UNDER_REVIEW -> APPROVED | REJECTED;
APPROVED -> ACTIVE; ACTIVE <-> SUSPENDED; ACTIVE | SUSPENDED -> OFFBOARDED."""

from __future__ import annotations

from datetime import datetime

from server.domain.enums import RecipientStatus as S

TRANSITIONS: dict[S, tuple[S, ...]] = {
    S.PROPOSED: (S.UNDER_REVIEW,),
    S.UNDER_REVIEW: (S.APPROVED, S.REJECTED),
    S.APPROVED: (S.ACTIVE,),
    S.REJECTED: (),
    S.ACTIVE: (S.SUSPENDED, S.OFFBOARDED),
    S.SUSPENDED: (S.ACTIVE, S.OFFBOARDED),
    S.OFFBOARDED: (),
}


def allowed_transitions(current: S) -> tuple[S, ...]:
    return TRANSITIONS[current]


def can_transition(current: S, target: S) -> bool:
    return target in TRANSITIONS[current]


def transition_error(current: S, target: S) -> str | None:
    """Why the move is illegal, naming the allowed ones; None when it is allowed."""
    if can_transition(current, target):
        return None
    allowed = allowed_transitions(current)
    if not allowed:
        return f"A {current.value} recipient cannot change status: {current.value} is final."
    names = ", ".join(s.value for s in allowed)
    return f"Cannot move from {current.value} to {target.value}; allowed: {names}."


def dated_ahead_error(at: datetime, now: datetime) -> str | None:
    """A status change is dated when it happened (an import replays past ones), never later
    than now: the history must not claim a status the recipient does not have yet."""
    if at > now:
        return "A status change cannot be dated ahead."
    return None


def before_previous_move_error(at: datetime, previous: datetime | None) -> str | None:
    """A move dated in the past still comes after the recipient's previous move: the history is
    read in effective-time order, so an earlier date would rewrite the status it had since."""
    if previous is not None and at < previous:
        return (
            f"A status change cannot be dated before the recipient's previous move "
            f"({previous.isoformat()})."
        )
    return None
