"""Separation of duties for changes that wait for a second key (issue 15 §2). A change is
decided (approved or rejected) once, by a key with the privacy role (or admin, which holds
every right) that authored no part of it: otherwise the second pair of eyes is the first.

Which changes wait: a material change to a recipient a reviewer has passed (APPROVED or
ACTIVE): a disclosure added or corrected, one ended on a day already past, the recipient's
country, role, kind or engaging processor changed. Each changes who receives what, where, or
under which duties (Art. 28, Chapter V), so it counts in no report until approved. Edits that
change none of that (a website, a description, a DPA's date) apply at once, audited.

Registering a recipient straight into a later status than PROPOSED (an admin importing an
existing inventory) skips review, so it opens such a change: until a second key confirms it,
the recipient is an UNREVIEWED_IMPORT compliance gap. Rejecting keeps the change in history."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from server.domain.access import Role
from server.domain.enums import ChangeRequestStatus, RecipientStatus, UserErrorCode
from server.domain.explain import join_words

DECIDING_ROLES = frozenset({Role.PRIVACY, Role.ADMIN})
NOTE_MAX = 2000
# A recipient in these statuses has passed review: its material changes wait for a second key.
REVIEWED_STATUSES = frozenset({RecipientStatus.APPROVED, RecipientStatus.ACTIVE})
# The recipient's fields whose change is material, by the name the API gives them: where the
# data goes (country), under which duties (role, engagedBy: Art. 28), and what the recipient is.
MATERIAL_RECIPIENT_FIELDS = ("kind", "role", "country", "engagedBy")


def needs_review(status: RecipientStatus, role: Role | None) -> bool:
    """A key's material change to a recipient in `status` waits for a second key; a recorded
    history replayed by a trusted loader (role None) applies as recorded."""
    return role is not None and status in REVIEWED_STATUSES


def end_is_material(effective_to: date, today: date) -> bool:
    """Ending a disclosure from today or later only stops what has not happened; ending it on a
    day already past rewrites what reports say of those days (who received a person's data,
    Art. 15(1)(c)), so it waits for a second key."""
    return effective_to < today


@dataclass(frozen=True)
class Destination:
    """A country a change would send data to, and why it would be unlawful (None: it would not
    be a transfer gap)."""

    country: str  # its name, as a person reads it
    gap: str | None
    # False when the law that governs it cannot be known: no establishment is registered to
    # be its exporter (Art. 3), so no regime can judge it.
    judged: bool = True

    def sentence(self) -> str:
        if not self.judged:
            return (
                f"To {self.country}: cannot be judged until the organisation's establishments "
                "are registered (registerEstablishment)."
            )
        if self.gap is None:
            return f"To {self.country}: no transfer gap."
        return f"To {self.country}: transfer gap. {self.gap}"


def disclosure_summary(
    *,
    name: str,
    verb: str,
    special: Sequence[str],
    categories: Sequence[str],
    purposes: Sequence[str],
    legal_basis: str,
    destinations: Sequence[Destination],
) -> str:
    """What a reviewer reads of a disclosure added or corrected: the data categories it adds
    (special-category and criminal-offence data first: Art. 9, 10), the purposes it adds, the
    legal basis (Art. 6), and each destination with whether it would be a transfer gap
    (Chapter V). `special` and `categories` are phrased; `special` are those that count."""
    parts = [f"{name}: {verb}."]
    if special:
        parts.append(
            f"Special-category or criminal-offence data (Art. 9, 10): {join_words(special)}."
        )
    ordinary = [c for c in categories if c not in special]
    if ordinary:
        parts.append(f"New data categories: {join_words(ordinary)}.")
    if purposes:
        parts.append(f"New purposes: {join_words(purposes)}.")
    parts.append(f"Legal basis: {legal_basis}.")
    parts += [destination.sentence() for destination in destinations]
    return " ".join(parts)


def end_summary(*, name: str, terms: str, effective_to: date, today: date) -> str:
    return (
        f"{name}: ends the disclosure of {terms} on {effective_to.isoformat()}, a day already "
        f"past (today is {today.isoformat()}): reports for the days since would no longer list "
        "it, so a second key checks the data really stopped then."
    )


def recipient_summary(
    *, name: str, changes: dict[str, tuple[str, str]], destinations: Sequence[Destination]
) -> str:
    """Each material field as before → after, and the transfer gaps its disclosures would open
    once the change applies (a new country is a new destination)."""
    parts = [
        f"{name}: "
        + "; ".join(f"{field} {before} → {after}" for field, (before, after) in changes.items())
        + "."
    ]
    flagged = [d for d in destinations if d.gap is not None or not d.judged]
    parts += [destination.sentence() for destination in flagged]
    if destinations and not flagged:
        parts.append("Its disclosures would open no transfer gap.")
    return " ".join(parts)


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
