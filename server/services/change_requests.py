"""Changes that wait for a second key (domain/change_requests.py): opened in the transaction
of the write that needs one, decided once, each step audited."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
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


def change_fields(
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
) -> dict[str, Any]:
    """A change waiting for a second key, by field (`change_id`: an id reserved for a bulk
    write, which inserts these without making the model). `changes` are the fields it changes,
    each [before, after], in the API's names; `proposal` what applies on approval
    (services/change_decisions.py)."""
    return {
        **({"id": change_id} if change_id is not None else {}),
        "recipient_id": recipient_id,
        "kind": kind.value,
        "status": ChangeRequestStatus.PENDING.value,
        "authors": orjson.dumps([actor]).decode(),
        "summary": summary,
        "changes": orjson.dumps(changes).decode(),
        "proposal": orjson.dumps(proposal).decode() if proposal is not None else None,
        "disclosure_id": disclosure_id,
        "created_at": at,
    }


def opened_event(change: ChangeRequest | Mapping[str, Any], *, actor: str) -> audit.Event:
    """The audit event of a change opened (the model, or a bulk write's change_fields), with
    what it proposes: the log alone tells it."""
    read: Callable[[str], Any] = (
        change.__getitem__ if isinstance(change, Mapping) else functools.partial(getattr, change)
    )
    return audit.Event(
        read("created_at"),
        actor,
        "openChange",
        "ChangeRequest",
        read("id"),
        read("recipient_id"),
        {
            "kind": [None, read("kind")],
            "status": [None, ChangeRequestStatus.PENDING.value],
            "proposed": [None, orjson.loads(read("changes"))],
        },
    )


async def open_change(
    conn: BaseDBAsyncClient, recipient: Recipient, kind: ChangeKind, *, actor: str, **terms: Any
) -> ChangeRequest:
    """A change waiting for a second key (change_fields' terms), written in `conn`'s
    transaction with its audit event."""
    change = ChangeRequest(**change_fields(recipient.id, kind, actor=actor, **terms))
    await change.save(using_db=conn)
    await audit.record_event(conn, opened_event(change, actor=actor))
    return change


def import_review(
    recipient_id: int,
    name: str,
    status: RecipientStatus,
    *,
    actor: str,
    at: datetime,
    change_id: int | None = None,
) -> dict[str, Any]:
    """For a recipient registered straight into a later status: the review it skipped, by
    field (change_fields)."""
    return change_fields(
        recipient_id,
        ChangeKind.IMPORT,
        actor=actor,
        at=at,
        summary=change_rules.import_summary(name=name, status=status, importer=actor),
        changes={"status": [None, status.value]},
        change_id=change_id,
    )


async def open_import_review(
    conn: BaseDBAsyncClient, recipient: Recipient, *, actor: str, at: datetime
) -> ChangeRequest:
    status = RecipientStatus(recipient.status)
    change = ChangeRequest(
        **import_review(recipient.id, recipient.name, status, actor=actor, at=at)
    )
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
