"""Separation of duties for changes that wait for a second key (issue 15 §2). A change is
decided (approved or rejected) once, by a key with the privacy role (or admin, which holds
every right) that authored no part of it: otherwise the second pair of eyes is the first.
Registering a recipient straight into a later status than PROPOSED (an admin importing an
existing inventory) skips review, so it opens such a change: until a second key confirms it,
the recipient is an UNREVIEWED_IMPORT compliance gap. Rejecting keeps the change in history."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from server.domain.access import Role
from server.domain.enums import ChangeRequestStatus, RecipientStatus, UserErrorCode

DECIDING_ROLES = frozenset({Role.PRIVACY, Role.ADMIN})
NOTE_MAX = 2000


def skips_review(status: RecipientStatus) -> bool:
    """Registered into this status, a recipient was never reviewed by a second key."""
    return status is not RecipientStatus.PROPOSED


def decision_error(
    *, role: Role, actor: str, authors: Collection[str], status: ChangeRequestStatus
) -> tuple[str, UserErrorCode] | None:
    """Why this key may not decide this change; None when it may."""
    if role not in DECIDING_ROLES:
        return (
            f"The {role.value} role cannot decide changes: a key with the privacy role does.",
            UserErrorCode.FORBIDDEN,
        )
    if status is not ChangeRequestStatus.PENDING:
        return (f"This change was already decided ({status.value}).", UserErrorCode.INVALID)
    if actor in authors:
        return (
            f"Separation of duties: {actor} authored this change, so another key decides it.",
            UserErrorCode.FORBIDDEN,
        )
    return None


def import_summary(*, name: str, status: RecipientStatus, importer: str) -> str:
    return (
        f"{name} was registered straight into {status.value} by {importer}, without the review "
        "a proposal gets: a second key confirms that the recipient and its disclosures are "
        "as recorded."
    )


def unreviewed_import_sentence(
    *, name: str, status: RecipientStatus, importer: str, since: datetime
) -> str:
    """The compliance gap's explanation."""
    return (
        f"{name} was registered straight into {status.value} by {importer} on "
        f"{since.date().isoformat()} and no second key has confirmed it yet: approve or reject "
        "its import review (decideChange)."
    )
