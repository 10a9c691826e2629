"""Issue 15 §2: a change waiting for a second key is decided once, by a key with the privacy
role (or admin) that authored no part of it."""

from __future__ import annotations

import pytest

from server.domain.access import Role
from server.domain.change_requests import decision_error, skips_review
from server.domain.enums import ChangeRequestStatus as C
from server.domain.enums import RecipientStatus as S
from server.domain.enums import UserErrorCode as E


@pytest.mark.parametrize(
    ("role", "actor", "status", "code"),
    [
        (Role.PRIVACY, "dpo", C.PENDING, None),
        (Role.ADMIN, "ops", C.PENDING, None),
        # The author is the first pair of eyes, not the second.
        (Role.PRIVACY, "importer", C.PENDING, E.FORBIDDEN),
        (Role.ADMIN, "importer", C.PENDING, E.FORBIDDEN),
        # Only the privacy office (or an admin) decides.
        (Role.PROCUREMENT, "buyer", C.PENDING, E.FORBIDDEN),
        (Role.VIEWER, "dashboard", C.PENDING, E.FORBIDDEN),
        # Decided once: a decision is history, not a draft.
        (Role.PRIVACY, "dpo", C.APPROVED, E.INVALID),
        (Role.PRIVACY, "dpo", C.REJECTED, E.INVALID),
    ],
)
def test_who_decides(role: Role, actor: str, status: C, code: E | None) -> None:
    found = decision_error(role=role, actor=actor, authors=["importer"], status=status)
    assert (found[1] if found else None) == code


@pytest.mark.parametrize("status", list(S))
def test_only_a_proposal_goes_through_review(status: S) -> None:
    assert skips_review(status) is (status is not S.PROPOSED)
