"""Optimistic concurrency on a recipient: every change moves its version on, and a change
made against a version that is no longer current is refused with STALE_VERSION."""

from __future__ import annotations

from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from server.db.models import Recipient, StatusChange
from server.domain.enums import UserErrorCode
from server.domain.errors import UserError, UserErrors


def stale_version(current: Recipient) -> UserErrors:
    """The error for a change made against an older version than `current` has."""
    return UserErrors(
        [
            UserError(
                ["input", "expectedVersion"],
                f"The recipient has changed since version you read; its current version is "
                f"{current.version}. Reload it and apply your change again.",
                UserErrorCode.STALE_VERSION,
            )
        ]
    )


async def locked_recipient(conn: BaseDBAsyncClient, recipient_id: int) -> Recipient | None:
    """The recipient, its row locked until `conn`'s transaction ends, for the changes that send
    no expectedVersion (addDisclosure, endDisclosure, changeRecipientStatus): concurrent ones
    wait their turn instead of failing as stale. PostgreSQL locks the row (SELECT ... FOR
    UPDATE); on SQLite the transaction already holds the write lock (BEGIN IMMEDIATE)."""
    return await Recipient.filter(id=recipient_id).select_for_update().using_db(conn).first()


async def bump_version(conn: BaseDBAsyncClient, recipient: Recipient, at: datetime) -> None:
    """Move the recipient's version on for a change of its disclosures (a change of the
    recipient too), or refuse with STALE_VERSION when another change moved it first."""
    updated = (
        await Recipient.filter(id=recipient.id, version=recipient.version)
        .using_db(conn)
        .update(version=recipient.version + 1, updated_at=at)
    )
    if updated != 1:
        raise stale_version(await Recipient.get(id=recipient.id, using_db=conn))


async def last_move_at(conn: BaseDBAsyncClient, recipient_id: int) -> datetime | None:
    """When the recipient's latest move took effect (its registration at least)."""
    latest = (
        await StatusChange.filter(recipient_id=recipient_id)
        .using_db(conn)
        .order_by("-at", "-id")
        .first()
        .values_list("at", flat=True)
    )
    return latest  # type: ignore[return-value]


async def first_move_at(conn: BaseDBAsyncClient, recipient_id: int) -> datetime | None:
    """When the recipient was registered, in effective time (an import's statusSince)."""
    first = (
        await StatusChange.filter(recipient_id=recipient_id)
        .using_db(conn)
        .order_by("at", "id")
        .first()
        .values_list("at", flat=True)
    )
    return first  # type: ignore[return-value]
