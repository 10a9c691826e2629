"""Changes that wait for a second key (domain/change_requests.py): opened in the transaction
of the write that needs one, decided once, each step audited."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from server.db.models import ChangeRequest, Recipient
from server.domain import change_requests as rules
from server.domain import validation
from server.domain.access import Role
from server.domain.enums import ChangeKind, ChangeRequestStatus, RecipientStatus, UserErrorCode
from server.domain.errors import ErrorCollector, UserError, UserErrors
from server.services import audit, clock
from server.services.commands import DecideChange


def authors_of(change: ChangeRequest) -> list[str]:
    found = orjson.loads(change.authors)
    return [str(a) for a in found] if isinstance(found, list) else []


async def open_import_review(
    conn: BaseDBAsyncClient, recipient: Recipient, *, actor: str, at: datetime
) -> ChangeRequest:
    """For a recipient registered straight into a later status: the review it skipped."""
    status = RecipientStatus(recipient.status)
    change = await ChangeRequest.create(
        recipient_id=recipient.id,
        kind=ChangeKind.IMPORT.value,
        status=ChangeRequestStatus.PENDING.value,
        authors=orjson.dumps([actor]).decode(),
        summary=rules.import_summary(name=recipient.name, status=status, importer=actor),
        changes=orjson.dumps({"status": [None, status.value]}).decode(),
        created_at=at,
        using_db=conn,
    )
    await audit.record(
        connection=conn,
        at=at,
        actor=actor,
        action="openChange",
        entity_type="ChangeRequest",
        entity_id=change.id,
        recipient_id=recipient.id,
        changes={"kind": [None, ChangeKind.IMPORT.value], "status": [None, "PENDING"]},
    )
    return change


async def decide_change(command: DecideChange, *, actor: str, role: Role) -> ChangeRequest:
    """Approve or reject a pending change, as a key that authored no part of it."""
    errors = ErrorCollector()
    if command.note is not None and (problem := validation.note_error(command.note)):
        errors.add(["input", "note"], problem)
    async with in_transaction() as conn:
        change = await ChangeRequest.get_or_none(id=command.change_id, using_db=conn)
        if change is None:
            errors.add(["input", "id"], "No such change.", UserErrorCode.NOT_FOUND)
            errors.raise_if_any()
        assert change is not None
        refused = rules.decision_error(
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
        fresh = await ChangeRequest.get(id=change.id, using_db=conn)
    return fresh


async def changes_by_id(ids: Sequence[int]) -> dict[int, ChangeRequest]:
    return {c.id: c for c in await ChangeRequest.filter(id__in=list(set(ids)))}


async def pending_changes() -> list[ChangeRequest]:
    """Every change waiting for a decision, oldest first."""
    return await ChangeRequest.filter(status=ChangeRequestStatus.PENDING.value).order_by(
        "created_at", "id"
    )


async def pending_changes_of(recipient_ids: Sequence[int]) -> dict[int, list[ChangeRequest]]:
    out: dict[int, list[ChangeRequest]] = defaultdict(list)
    for change in await ChangeRequest.filter(
        recipient_id__in=list(set(recipient_ids)), status=ChangeRequestStatus.PENDING.value
    ).order_by("created_at", "id"):
        out[change.recipient_id].append(change)  # type: ignore[attr-defined]
    return out


async def imports_unreviewed_at(as_of: datetime | None) -> list[tuple[ChangeRequest, Any]]:
    """Import reviews not confirmed at `as_of` (default now): opened by then and not approved
    by then (a later approval does not change the past; a rejection confirms nothing), with
    their recipients."""
    at = as_of or clock.now()
    found = await ChangeRequest.filter(
        kind=ChangeKind.IMPORT.value, created_at__lte=at
    ).prefetch_related("recipient")
    return [
        (change, change.recipient)
        for change in found
        if not (
            change.status == ChangeRequestStatus.APPROVED.value
            and change.decided_at is not None
            and change.decided_at <= at
        )
    ]
