"""Deciding a change that waits for a second key (domain/change_requests.py). Approval applies
it in the decision's transaction by running its use case again as a trusted write (role None),
with its author as the actor: the same checks judge it as they stand now, and a change that no
longer applies (its disclosure corrected or ended meanwhile) can only be rejected."""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
from tortoise.transactions import in_transaction

from server.db.models import ChangeRequest, Recipient
from server.domain import change_requests as change_rules
from server.domain import validation
from server.domain.access import Role
from server.domain.disclosure_terms import terms_from_record
from server.domain.enums import (
    ChangeKind,
    ChangeRequestStatus,
    ProcessingRole,
    RecipientKind,
    UserErrorCode,
)
from server.domain.errors import ErrorCollector, UserError, UserErrors
from server.services import audit, clock, disclosures, recipient_changes
from server.services.change_requests import authors_of
from server.services.commands import (
    AddDisclosure,
    DecideChange,
    EndDisclosure,
    UpdateDisclosure,
    UpdateRecipient,
)


async def decide_change(command: DecideChange, *, actor: str, role: Role) -> ChangeRequest:
    """Approve (and apply) or reject a pending change, as a key that authored no part of it."""
    errors = ErrorCollector()
    if command.note is not None and (problem := validation.note_error(command.note)):
        errors.add(["input", "note"], problem)
    async with in_transaction() as conn:
        change = await ChangeRequest.get_or_none(id=command.change_id, using_db=conn)
        if change is None:
            errors.add(["input", "id"], "No such change.", UserErrorCode.NOT_FOUND)
            errors.raise_if_any()
        assert change is not None
        refused = change_rules.decision_error(
            role=role,
            actor=actor,
            authors=authors_of(change),
            status=ChangeRequestStatus(change.status),
        )
        if refused is not None:
            errors.add(["input", "id"], refused[0], refused[1])
        errors.raise_if_any()
        now = clock.now()
        decided = ChangeRequestStatus.APPROVED if command.approve else ChangeRequestStatus.REJECTED
        # Guarded by the status read: a concurrent decision makes this update match nothing.
        updated = (
            await ChangeRequest.filter(id=change.id, status=ChangeRequestStatus.PENDING.value)
            .using_db(conn)
            .update(status=decided.value, decided_at=now, decided_by=actor, note=command.note)
        )
        if updated != 1:
            raise UserErrors([UserError(["input", "id"], "This change was decided meanwhile.")])
        await audit.record(
            connection=conn,
            at=now,
            actor=actor,
            action="decideChange",
            entity_type="ChangeRequest",
            entity_id=change.id,
            recipient_id=change.recipient_id,  # type: ignore[attr-defined]
            changes={"status": ["PENDING", decided.value]}
            | ({"note": [None, command.note]} if command.note else {}),
        )
        if command.approve:
            await _apply(change)
        fresh = await ChangeRequest.get(id=change.id, using_db=conn)
    return fresh


async def _apply(change: ChangeRequest) -> None:
    """Run the approved change's use case; its user errors say why it no longer applies."""
    kind = ChangeKind(change.kind)
    if kind is ChangeKind.IMPORT:
        return  # a confirmation: the recipient is already as imported
    proposal: dict[str, Any] = orjson.loads(change.proposal or "{}")
    author = authors_of(change)[0]
    recipient_id: int = change.recipient_id  # type: ignore[attr-defined]
    disclosure_id = change.disclosure_id
    try:
        if kind is ChangeKind.ADD_DISCLOSURE:
            await disclosures.add_disclosure(
                AddDisclosure(recipient_id, terms_from_record(proposal)), actor=author, role=None
            )
        elif kind is ChangeKind.UPDATE_DISCLOSURE:
            assert disclosure_id is not None
            terms = terms_from_record(proposal["terms"])
            await disclosures.update_disclosure(
                UpdateDisclosure(
                    disclosure_id,
                    proposal["expectedVersion"],
                    **{
                        name: value
                        for name, value in vars(terms).items()
                        if name not in ("effective_from", "exporter")
                    },
                ),
                actor=author,
                role=None,
            )
        elif kind is ChangeKind.END_DISCLOSURE:
            assert disclosure_id is not None
            await disclosures.end_disclosure(
                EndDisclosure(disclosure_id, date.fromisoformat(proposal["effectiveTo"])),
                actor=author,
                role=None,
            )
        else:
            current = await Recipient.get(id=recipient_id)
            await recipient_changes.update_recipient(
                UpdateRecipient(
                    recipient_id,
                    current.version,
                    **_recipient_fields(proposal),
                ),
                actor=author,
                role=None,
            )
    except UserErrors as exc:
        raise UserErrors(
            [
                UserError(
                    ["input", "id"],
                    "This change no longer applies as proposed: "
                    + " ".join(e.message for e in exc.errors)
                    + " Reject it, and propose it again if it is still wanted.",
                    UserErrorCode.INVALID,
                )
            ]
        ) from exc


def _recipient_fields(proposal: dict[str, Any]) -> dict[str, Any]:
    """An UPDATE_RECIPIENT proposal (material fields by API name) as UpdateRecipient's."""
    out: dict[str, Any] = {}
    if "kind" in proposal:
        out["kind"] = RecipientKind(proposal["kind"])
    if "role" in proposal:
        out["role"] = ProcessingRole(proposal["role"])
    if "country" in proposal:
        out["country"] = proposal["country"]
    if "engagedBy" in proposal:
        out["engaged_by"] = proposal["engagedBy"]
    return out
