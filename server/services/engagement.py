"""Who engaged a subprocessor, checked against the database: the engager named must exist and
be a processor (server/domain/subprocessors.py has the rules), and following the engagements up
from it must not come back to the recipient being changed."""

from __future__ import annotations

from typing import cast

from tortoise.backends.base.client import BaseDBAsyncClient

from server.db.models import Recipient
from server.domain import subprocessors, validation
from server.domain.enums import ProcessingRole, UserErrorCode
from server.domain.errors import ErrorCollector


async def check_engaged_by(
    conn: BaseDBAsyncClient,
    errors: ErrorCollector,
    engaged_by_slug: str,
    *,
    role: ProcessingRole,
    recipient_id: int | None,
) -> int | None:
    """The engaging processor's id, or None after recording why it cannot engage this one."""
    path = ["input", "engagedBy"]
    engager = (
        await Recipient.get_or_none(slug=engaged_by_slug, using_db=conn)
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
    if recipient_id is not None:
        # Walk up from the engager: meeting this recipient means the change closes a cycle.
        seen: set[int] = set()
        current: int | None = engager.id
        while current is not None and current not in seen:
            if current == recipient_id:
                errors.add(path, subprocessors.cycle_error(engager.name))
                return None
            seen.add(current)
            # Tortoise types values_list rows as tuples even with flat=True, which gives values.
            row = cast(
                "list[int | None]",
                await Recipient.filter(id=current)
                .using_db(conn)
                .values_list("engaged_by_id", flat=True),
            )
            current = row[0] if row else None
    return engager.id
