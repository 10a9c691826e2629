"""Who engaged a subprocessor, checked against the inventory: the engager named must exist and
be a processor (server/domain/subprocessors.py has the rules), and following the engagements up
from it must not come back to the recipient being changed. The walk asks an `Engagements`: the
database (StoredEngagements), or an import's view of it with the recipients it is registering."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, cast

from tortoise.backends.base.client import BaseDBAsyncClient

from server.db.models import Recipient
from server.domain import subprocessors, validation
from server.domain.enums import ProcessingRole, UserErrorCode
from server.domain.errors import ErrorCollector


@dataclass(frozen=True)
class Engager:
    """What the check reads of a recipient named as engager."""

    id: int
    name: str
    role: ProcessingRole
    engaged_by_id: int | None


class Engagements(Protocol):
    async def by_slug(self, slug: str) -> Engager | None: ...

    async def engager_of(self, recipient_id: int) -> int | None: ...

    async def levels_below(self, recipient_id: int) -> int: ...


async def check_engaged_by(
    conn: BaseDBAsyncClient,
    errors: ErrorCollector,
    engaged_by_slug: str,
    *,
    role: ProcessingRole,
    recipient_id: int | None,
) -> int | None:
    """The engaging processor's id, or None after recording why it cannot engage this one."""
    return await judge_engagement(
        StoredEngagements(conn), errors, engaged_by_slug, role=role, recipient_id=recipient_id
    )


async def judge_engagement(
    engagements: Engagements,
    errors: ErrorCollector,
    engaged_by_slug: str,
    *,
    role: ProcessingRole,
    recipient_id: int | None,
) -> int | None:
    """check_engaged_by over any view of the engagements."""
    path = ["input", "engagedBy"]
    engager = (
        await engagements.by_slug(engaged_by_slug)
        if validation.slug_error(engaged_by_slug) is None
        else None
    )
    if engager is None:
        errors.add(
            path, f'No recipient with slug "{engaged_by_slug[:100]}".', UserErrorCode.NOT_FOUND
        )
        return None
    if problem := subprocessors.engager_error(
        engager.name, engager.role, itself=recipient_id is not None and engager.id == recipient_id
    ):
        errors.add(path, problem)
        return None
    if problem := subprocessors.engaged_role_error(role):
        errors.add(["input", "role"], problem)
    # Walk up from the engager (a loop, at most MAX_CHAIN_LINKS + 1 steps): meeting this
    # recipient means the change closes a cycle; the steps taken are the engager's own links.
    links_above = 0
    seen: set[int] = set()
    current = engager.engaged_by_id
    while current is not None and links_above <= subprocessors.MAX_CHAIN_LINKS:
        if current == recipient_id or current in seen:
            errors.add(path, subprocessors.cycle_error(engager.name))
            return None
        seen.add(current)
        links_above += 1
        current = await engagements.engager_of(current)
    levels_below = 0 if recipient_id is None else await engagements.levels_below(recipient_id)
    if problem := subprocessors.chain_length_error(engager.name, links_above, levels_below):
        errors.add(path, problem)
        return None
    return engager.id


class StoredEngagements:
    """The engagements as the database holds them, read one step at a time."""

    def __init__(self, conn: BaseDBAsyncClient) -> None:
        self.conn = conn

    async def by_slug(self, slug: str) -> Engager | None:
        row = await Recipient.get_or_none(slug=slug, using_db=self.conn)
        if row is None:
            return None
        return Engager(row.id, row.name, ProcessingRole(row.role), row.engaged_by_id)

    async def engager_of(self, recipient_id: int) -> int | None:
        # Tortoise types values_list rows as tuples even with flat=True, which gives values.
        row = cast(
            "list[int | None]",
            await Recipient.filter(id=recipient_id)
            .using_db(self.conn)
            .values_list("engaged_by_id", flat=True),
        )
        return row[0] if row else None

    async def levels_below(self, recipient_id: int) -> int:
        """How many levels of subprocessors hang under this recipient, one query a level, at
        most MAX_CHAIN_LINKS + 1 levels (a deeper tree is refused anyway)."""
        levels = 0
        level = [recipient_id]
        seen = {recipient_id}
        while level and levels <= subprocessors.MAX_CHAIN_LINKS:
            below = cast(
                "list[int]",
                await Recipient.filter(engaged_by_id__in=level)
                .using_db(self.conn)
                .values_list("id", flat=True),
            )
            level = [r for r in below if r not in seen]
            seen.update(level)
            if level:
                levels += 1
        return levels
