"""Who may do what: the roles of API keys, what each may read and write, which status moves
each may make, and separation of duties. Plain rules, no ORM and no GraphQL; the schema's
permission classes and the services ask these questions."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from server.domain import lifecycle
from server.domain.enums import RecipientStatus as S


class Role(StrEnum):
    VIEWER = "viewer"
    PROCUREMENT = "procurement"
    PRIVACY = "privacy"
    ADMIN = "admin"


class Capability(StrEnum):
    """The coarse rights: may a key call this field or mutation at all."""

    READ_INVENTORY = "read inventory, taxonomy and transfers"
    READ_SUBJECTS = "read data subjects, consents and whoReceives"
    WRITE_SUBJECTS = "write data subjects and consents"
    WRITE_INVENTORY = "register and change recipients and their disclosures"
    CHANGE_STATUS = "move recipients through their lifecycle"
    RECORD_DISCLOSURE_EVENTS = "record disclosures made on a lawful request"
    MANAGE_ESTABLISHMENTS = "register and change the organisation's own establishments"


C = Capability
_VIEWER = frozenset({C.READ_INVENTORY})
CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.VIEWER: _VIEWER,
    Role.PROCUREMENT: _VIEWER | {C.WRITE_INVENTORY, C.CHANGE_STATUS},
    # Disclosing a person's data on a lawful request is the privacy office's decision, and so is
    # which of our entities exports it (it decides which law governs the transfer).
    Role.PRIVACY: _VIEWER
    | {
        C.READ_SUBJECTS,
        C.WRITE_SUBJECTS,
        C.CHANGE_STATUS,
        C.RECORD_DISCLOSURE_EVENTS,
        C.MANAGE_ESTABLISHMENTS,
    },
    Role.ADMIN: frozenset(Capability),
}

_ALL_MOVES = frozenset(
    (source, target) for source in S for target in lifecycle.allowed_transitions(source)
)
# Procurement sends its proposals to review; the privacy office decides everything after that.
TRANSITIONS: dict[Role, frozenset[tuple[S, S]]] = {
    Role.VIEWER: frozenset(),
    Role.PROCUREMENT: frozenset({(S.PROPOSED, S.UNDER_REVIEW)}),
    Role.PRIVACY: frozenset(m for m in _ALL_MOVES if m[0] != S.PROPOSED),
    Role.ADMIN: _ALL_MOVES,
}

# Intake starts at PROPOSED; only an admin (importing an existing inventory) may start elsewhere.
INITIAL_STATUSES: dict[Role, frozenset[S]] = {
    Role.VIEWER: frozenset(),
    Role.PROCUREMENT: frozenset({S.PROPOSED}),
    Role.PRIVACY: frozenset(),
    Role.ADMIN: frozenset(S),
}


# Dating a fact in the past (a status move, a registration's initial status, a disclosure's end)
# changes what the inventory says held then, and so what a person was told they received
# (GDPR Art. 15(1)(c)): the privacy office and admins (bringing in an existing inventory) may.
PAST_DATING_ROLES = frozenset({Role.PRIVACY, Role.ADMIN})


@dataclass(frozen=True)
class Principal:
    """Who is asking: an API key, by its name (the audit log's actor) and role."""

    name: str
    role: Role


def can(role: Role, capability: Capability) -> bool:
    return capability in CAPABILITIES[role]


def registration_error(role: Role, status: S) -> str | None:
    """Why this role may not register a recipient with this initial status; None if it may."""
    if status in INITIAL_STATUSES[role]:
        return None
    allowed = sorted(s.value for s in INITIAL_STATUSES[role])
    if not allowed:
        return f"The {role.value} role cannot register recipients."
    return (
        f"The {role.value} role may register recipients only as {', '.join(allowed)}; "
        f"{status.value} is for imports by an admin."
    )


def transition_error(
    role: Role,
    actor: str,
    registered_by: str,
    current: S,
    target: S,
    *,
    edited_by: Collection[str] = (),
) -> str | None:
    """Why this key may not make this (legal) status move; None if it may.

    Separation of duties holds for every role, admin included: a recipient cannot be approved
    by the key that registered it, nor by one that edited it before approval (`edited_by`),
    since the approval would then be of its own work (an admin importing an inventory registers
    with its status instead)."""
    if (current, target) not in TRANSITIONS[role]:
        return (
            f"The {role.value} role cannot move a recipient from {current.value} to {target.value}."
        )
    if target == S.APPROVED and actor == registered_by:
        return (
            "Separation of duties: a recipient cannot be approved by the key that registered it "
            f"({registered_by})."
        )
    if target == S.APPROVED and actor in edited_by:
        return (
            "Separation of duties: a recipient cannot be approved by a key that edited it "
            f"before approval ({actor})."
        )
    return None


def before_registration_error(
    role: Role | None, effective_from: date | None, registered_on: date
) -> str | None:
    """A disclosure starts no earlier than its recipient was registered (in effective time: an
    import's statusSince), unless an admin brings in an existing inventory's history, or a
    trusted import (role None) replays one: otherwise a key could make a vendor appear to have
    received data before anyone reviewed it."""
    if role is None or role is Role.ADMIN or effective_from is None:
        return None
    if effective_from >= registered_on:
        return None
    return (
        f"effectiveFrom {effective_from.isoformat()} is before the recipient was registered "
        f"({registered_on.isoformat()}): only an admin importing an existing inventory may "
        "record a disclosure that began earlier."
    )


def past_dating_error(role: Role, what: str) -> str | None:
    """Why this role may not date `what` (a status move, a disclosure's end) other than now;
    None if it may. A key without the right leaves the date out and the server's clock counts."""
    if role in PAST_DATING_ROLES:
        return None
    return (
        f"The {role.value} role cannot date {what} other than now: only the privacy and admin "
        "roles may. Leave the date out to use the server's clock."
    )
