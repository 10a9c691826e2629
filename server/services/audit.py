"""The append-only audit log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from server.db.bulk_inserts import Insert, execute, rows_insert
from server.db.models import AuditEvent

# Values recorded as they are (exact types: an enum member, a str too, is recorded by value).
_AS_THEY_ARE = frozenset({str, int, float, bool, type(None)})


def _plain(value: Any) -> Any:
    kind = type(value)
    if kind in _AS_THEY_ARE:
        return value
    # The exact containers first: a snapshot's lists and transfers, tens of thousands of them
    # in an import.
    if kind is list or kind is tuple:
        return [v if type(v) in _AS_THEY_ARE else _plain(v) for v in value]
    if kind is dict:
        return {k: v if type(v) in _AS_THEY_ARE else _plain(v) for k, v in value.items()}
    if isinstance(value, Enum):
        return value._value_
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [v if type(v) in _AS_THEY_ARE else _plain(v) for v in value]
    if isinstance(value, dict):
        return {k: v if type(v) in _AS_THEY_ARE else _plain(v) for k, v in value.items()}
    return value


def recorded(value: Any) -> Any:
    """A value as the log records it: an enum member by its value, a day or a moment in ISO
    8601, lists and mappings item by item."""
    return value if type(value) in _AS_THEY_ARE else _plain(value)


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """The fields whose values differ, each as [before, after]."""
    out: dict[str, list[Any]] = {}
    for key, value in after.items():
        new = value if type(value) in _AS_THEY_ARE else _plain(value)
        old = before.get(key)
        if type(old) not in _AS_THEY_ARE:
            old = _plain(old)
        if old != new:
            out[key] = [old, new]
    return out


@dataclass(frozen=True)
class Event:
    """One entry of the log: who did what to which entity, and its changes as [before, after]."""

    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: int
    recipient_id: int | None
    changes: dict[str, list[Any]]

    def changes_text(self) -> str:
        return orjson.dumps(self.changes, option=orjson.OPT_SORT_KEYS).decode()


async def record_event(connection: BaseDBAsyncClient, event: Event) -> None:
    await AuditEvent.create(
        at=event.at,
        actor=event.actor,
        action=event.action,
        entity_type=event.entity_type,
        entity_id=event.entity_id,
        recipient_id=event.recipient_id,
        changes=event.changes_text(),
        using_db=connection,
    )


# The columns record_all writes, in the order of its rows.
EVENT_FIELDS = ("at", "actor", "action", "entity_type", "entity_id", "recipient_id", "changes")


def events_insert(connection: BaseDBAsyncClient, events: Sequence[Event]) -> Insert:
    """Many events for one statement, in their order (an import's thousands): the same rows
    record_event writes one by one."""
    return rows_insert(
        connection,
        AuditEvent,
        EVENT_FIELDS,
        [
            (e.at, e.actor, e.action, e.entity_type, e.entity_id, e.recipient_id, e.changes_text())
            for e in events
        ],
    )


async def record_all(connection: BaseDBAsyncClient, events: Sequence[Event]) -> None:
    await execute(connection, [events_insert(connection, events)])


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
    await record_event(
        connection, Event(at, actor, action, entity_type, entity_id, recipient_id, changes)
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
