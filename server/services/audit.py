"""The append-only audit log."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from server.db.models import AuditEvent


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """The fields whose values differ, each as [before, after]."""
    out: dict[str, list[Any]] = {}
    for key in after:
        old, new = _plain(before.get(key)), _plain(after[key])
        if old != new:
            out[key] = [old, new]
    return out


async def record(
    *,
    connection: BaseDBAsyncClient,
    at: datetime,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: int,
    recipient_id: int | None,
    changes: dict[str, list[Any]],
) -> None:
    await AuditEvent.create(
        at=at,
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        recipient_id=recipient_id,
        changes=orjson.dumps(changes, option=orjson.OPT_SORT_KEYS).decode(),
        using_db=connection,
    )


# The action of a refused attempt: the operation's name after this prefix.
REFUSED = "forbidden:"


async def record_refusal(
    *,
    at: datetime,
    actor: str,
    operation: str,
    entity_type: str,
    entity_id: int,
    recipient_id: int | None,
    reason: str,
) -> None:
    """A FORBIDDEN attempt: who tried what on which target, and why it was refused. It changes
    nothing (its `changes` name only the refusal), in a transaction of its own, since the
    refused operation opened none."""
    async with in_transaction() as conn:
        await record(
            connection=conn,
            at=at,
            actor=actor,
            action=REFUSED + operation,
            entity_type=entity_type,
            entity_id=entity_id,
            recipient_id=recipient_id,
            changes={"refused": [None, reason]},
        )
