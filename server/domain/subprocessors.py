"""Who engages a subprocessor (GDPR Art. 28(2) and (4)): a processor may engage another processor
to carry out processing on the controller's behalf, and that one may engage others in turn. A
SUBPROCESSOR names the processor that engaged it; following those links up always ends at a
processor the controller engaged itself, never in a cycle.

Each rule says why a choice is refused, or None when it is allowed. Plain Python, no ORM: the
services look the recipients up and walk the chain."""

from __future__ import annotations

from server.domain.enums import ProcessingRole

# The most engagers above any recipient (the length of its `via`). Art. 28(4) sets no number;
# a chain this deep is already beyond what a controller can oversee, and a bound keeps every
# chain finite and every walk along one short (issue 11 §4).
MAX_CHAIN_LINKS = 10

# Only a processor engages processors (Art. 28(4)); a subprocessor is one too, for its own.
ENGAGING_ROLES = frozenset({ProcessingRole.PROCESSOR, ProcessingRole.SUBPROCESSOR})


def may_engage(role: ProcessingRole) -> bool:
    return role in ENGAGING_ROLES


def engager_error(engager_name: str, engager_role: ProcessingRole, *, itself: bool) -> str | None:
    """Why this recipient cannot be the one that engaged the subprocessor; `itself` when it is
    the subprocessor (the chain would never reach the controller)."""
    if itself:
        return "A recipient cannot engage itself."
    if may_engage(engager_role):
        return None
    return (
        f"{engager_name} is a {engager_role.value}; only a PROCESSOR or SUBPROCESSOR "
        "engages subprocessors."
    )


def cycle_error(engager_name: str) -> str:
    """The engager is already below this recipient: the chain would go round for ever and never
    reach a processor the controller engaged."""
    return (
        f"{engager_name} is already engaged, directly or not, by this recipient: "
        "that would be a cycle."
    )


def chain_length_error(
    engager_name: str, links_above_engager: int, levels_below: int
) -> str | None:
    """Engaged by `engager_name` (itself `links_above_engager` links below a processor the
    controller engaged), this recipient and the `levels_below` levels of subprocessors under it
    would be more than MAX_CHAIN_LINKS links from the top."""
    deepest = links_above_engager + 1 + levels_below
    if deepest <= MAX_CHAIN_LINKS:
        return None
    return (
        f"Engaged by {engager_name}, a subprocessor would be {deepest} links below the processor "
        f"the controller engaged; at most {MAX_CHAIN_LINKS} are allowed."
    )


def engaged_role_error(role: ProcessingRole) -> str | None:
    """A recipient that names the processor engaging it must be a SUBPROCESSOR."""
    if role == ProcessingRole.SUBPROCESSOR:
        return None
    return "A recipient engaged by a processor is a SUBPROCESSOR; set role to SUBPROCESSOR."


def missing_engager_error(role: ProcessingRole, *, engaged: bool) -> str | None:
    """A SUBPROCESSOR must name the processor that engaged it (Art. 28(4))."""
    if role != ProcessingRole.SUBPROCESSOR or engaged:
        return None
    return "A SUBPROCESSOR must name the processor that engaged it (engagedBy)."


def kept_engagement_error(role: ProcessingRole) -> str | None:
    """A recipient that stays engaged by a processor cannot change to another role than
    SUBPROCESSOR without clearing the engagement."""
    if role == ProcessingRole.SUBPROCESSOR:
        return None
    return (
        "This recipient is engaged by a processor, so it is a SUBPROCESSOR; "
        "clear engagedBy to change its role."
    )


def engaging_role_error(role: ProcessingRole, *, has_subprocessors: bool) -> str | None:
    """A recipient that engaged subprocessors stays a processor: otherwise they would answer to
    a controller or a partner, not to a processor (Art. 28(4))."""
    if may_engage(role) or not has_subprocessors:
        return None
    return "This recipient has engaged subprocessors, so it must stay a PROCESSOR or SUBPROCESSOR."
