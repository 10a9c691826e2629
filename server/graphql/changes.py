"""Changes that wait for a second key: the list a reviewer works through, and the decision."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from server.graphql.context import Context
from server.graphql.errors import UserError, decode_id
from server.graphql.inventory import ChangeRequest
from server.graphql.mutations import mutation_payload
from server.graphql.permissions import CanDecideChanges, CanReadInventory, mutation_needs, needs
from server.services import change_decisions, change_requests
from server.services.commands import DecideChange


@strawberry.input
class DecideChangeInput:
    id: strawberry.ID
    approve: bool
    note: str | None = None


@strawberry.type
class ChangePayload:
    change: ChangeRequest | None
    user_errors: list[UserError]


@strawberry.type
class ChangeQuery:
    @strawberry.field(
        description="Changes waiting for review, oldest first.",
        extensions=needs(CanReadInventory),
    )
    async def pending_changes(self) -> list[ChangeRequest]:
        return [ChangeRequest.from_model(c) for c in await change_requests.pending_changes()]


@strawberry.type
class ChangeMutation:
    @strawberry.mutation(
        description=(
            "Approve or reject a change waiting for a second key: a key with the privacy role "
            "that authored no part of it."
        ),
        extensions=mutation_needs(CanDecideChanges),
    )
    async def decide_change(
        self, info: Info[Context, None], input: DecideChangeInput
    ) -> ChangePayload:
        async def work() -> ChangeRequest:
            command = DecideChange(
                change_id=decode_id(input.id, "ChangeRequest", ["input", "id"]),
                approve=input.approve,
                note=input.note,
            )
            role = info.context.role
            assert role is not None  # the permission let a key through
            decided = await change_decisions.decide_change(
                command, actor=info.context.actor, role=role
            )
            return ChangeRequest.from_model(decided)

        return await mutation_payload(ChangePayload, "change", work)
