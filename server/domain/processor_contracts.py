"""Art. 28(3) GDPR: processing by a processor is governed by a contract (a data processing
agreement) that binds it to the controller; Art. 28(4) carries the same obligations down to a
subprocessor. So a processor or subprocessor is not put to work (moved to ACTIVE) before its
DPA is signed, and one that is ACTIVE without one (registered so by an admin's import, or
replayed from a recorded history) is a compliance gap until one is recorded."""

from __future__ import annotations

from datetime import date

from server.domain.enums import ProcessingRole, RecipientStatus

PROCESSOR_ROLES = frozenset({ProcessingRole.PROCESSOR, ProcessingRole.SUBPROCESSOR})


def needs_dpa(role: ProcessingRole) -> bool:
    return role in PROCESSOR_ROLES


def activation_error(
    *, name: str, role: ProcessingRole, target: RecipientStatus, dpa_signed_on: date | None
) -> str | None:
    """Why `name` may not move to `target` yet; None when it may."""
    if target is not RecipientStatus.ACTIVE or not needs_dpa(role) or dpa_signed_on is not None:
        return None
    article = "Art. 28(4)" if role is ProcessingRole.SUBPROCESSOR else "Art. 28(3)"
    return (
        f"{name} is a {role.value.lower()}: it cannot become ACTIVE before its data processing "
        f"agreement is signed ({article} GDPR). Record dpaSignedOn first."
    )


def without_dpa_on(role: ProcessingRole, dpa_signed_on: date | None, day: date) -> bool:
    """Whether a processor had no signed DPA on `day`: none recorded, or one signed later."""
    return needs_dpa(role) and (dpa_signed_on is None or dpa_signed_on > day)
