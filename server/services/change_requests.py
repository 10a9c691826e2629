"""Changes that wait for a second key (domain/change_requests.py): opened in the transaction
of the write that needs one, decided once, each step audited."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient

from server.db.models import ChangeRequest, Recipient
from server.domain import change_requests as change_rules
from server.domain.enums import ChangeKind, ChangeRequestStatus, RecipientStatus
from server.services import audit, clock


def authors_of(change: ChangeRequest) -> list[str]:
    found = orjson.loads(change.authors)
    return [str(a) for a in found] if isinstance(found, list) else []


def new_change(
    recipient_id: int,
    kind: ChangeKind,
    *,
    actor: str,
    at: datetime,
    summary: str,
    changes: dict[str, Any],
    proposal: dict[str, Any] | None = None,
    disclosure_id: int | None = None,
    change_id: int | None = None,
) -> ChangeRequest:
    """A change waiting for a second key, unsaved (`change_id`: an id reserved for a bulk
    write). `changes` are the fields it changes, each [before, after], in the API's names;
    `proposal` what applies on approval (services/change_decisions.py)."""
    return ChangeRequest(
        **({"id": change_id} if change_id is not None else {}),
        recipient_id=recipient_id,
        kind=kind.value,
        status=ChangeRequestStatus.PENDING.value,
        authors=orjson.dumps([actor]).decode(),
        summary=summary,
        changes=orjson.dumps(changes).decode(),
        proposal=orjson.dumps(proposal).decode() if proposal is not None else None,
        disclosure_id=disclosure_id,
        created_at=at,
    )


def opened_event(change: ChangeRequest, *, actor: str) -> audit.Event:
    """The audit event of a change opened, with what it proposes: the log alone tells it."""
    return audit.Event(
        change.created_at,
        actor,
        "openChange",
        "ChangeRequest",
        change.id,
        change.recipient_id,  # type: ignore[attr-defined]
        {
            "kind": [None, change.kind],
            "status": [None, ChangeRequestStatus.PENDING.value],
            "proposed": [None, orjson.loads(change.changes)],
        },
    )


async def open_change(
    conn: BaseDBAsyncClient, recipient: Recipient, kind: ChangeKind, *, actor: str, **terms: Any
) -> ChangeRequest:
    """A change waiting for a second key (new_change's terms), written in `conn`'s transaction
    with its audit event."""
    change = new_change(recipient.id, kind, actor=actor, **terms)
    await change.save(using_db=conn)
    await audit.record_event(conn, opened_event(change, actor=actor))
    return change


def import_review(
    recipient: Recipient, *, actor: str, at: datetime, change_id: int | None = None
) -> ChangeRequest:
    """For a recipient registered straight into a later status: the review it skipped."""
    status = RecipientStatus(recipient.status)
    return new_change(
        recipient.id,
        ChangeKind.IMPORT,
        actor=actor,
        at=at,
        summary=change_rules.import_summary(name=recipient.name, status=status, importer=actor),
        changes={"status": [None, status.value]},
        change_id=change_id,
    )


async def open_import_review(
    conn: BaseDBAsyncClient, recipient: Recipient, *, actor: str, at: datetime
) -> ChangeRequest:
    change = import_review(recipient, actor=actor, at=at)
    await change.save(using_db=conn)
    await audit.record_event(conn, opened_event(change, actor=actor))
    return change


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
