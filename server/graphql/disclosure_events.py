"""Disclosure events: one actual disclosure of one person's data under an ON_REQUEST disclosure
(a police force's lawful request), recorded by the privacy office."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import strawberry
from strawberry.types import Info

from server.db import disclosure_events as event_rows
from server.db.disclosure_events import EventRow
from server.domain import errors as domain_errors
from server.graphql.context import Context
from server.graphql.errors import UserError, decode_id
from server.graphql.inventory import Disclosure, Recipient
from server.graphql.mutations import mutation_payload
from server.graphql.nodes import Node, global_id
from server.graphql.permissions import CanRecordDisclosureEvents, mutation_needs
from server.graphql.subjects import DataSubject, SubjectRef, _ref
from server.services import disclosure_events


@strawberry.type(
    description="One actual disclosure of one person's data under an ON_REQUEST disclosure."
)
class DisclosureEvent(Node):
    occurred_at: datetime
    reference: str = strawberry.field(
        description="The request's reference (a case or warrant number)."
    )
    note: str | None
    recorded_at: datetime
    row: strawberry.Private[EventRow]

    @classmethod
    def from_row(cls, row: EventRow) -> DisclosureEvent:
        return cls(
            id=global_id("DisclosureEvent", row.id),
            occurred_at=row.occurred_at,
            reference=row.reference,
            note=row.note,
            recorded_at=row.recorded_at,
            row=row,
        )

    @classmethod
    async def load(cls, pks: Iterable[int]) -> list[DisclosureEvent | None]:
        pks = list(pks)
        rows = await event_rows.events_by_id(pks)
        return [cls.from_row(rows[pk]) if pk in rows else None for pk in pks]

    @strawberry.field
    async def disclosure(self, info: Info[Context, None]) -> Disclosure:
        found = (await Disclosure.load(info, [self.row.disclosure_id]))[0]
        assert found is not None  # an event's disclosure is never deleted
        return found

    @strawberry.field
    async def recipient(self, info: Info[Context, None]) -> Recipient:
        row = await info.context.loaders.recipient.load(self.row.recipient_id)
        assert row is not None  # a disclosure's recipient is never deleted
        return Recipient.from_row(row, info.context)

    @strawberry.field
    async def subject(self, info: Info[Context, None]) -> DataSubject:
        found = (await DataSubject.load(info, [self.row.subject_id]))[0]
        assert found is not None  # an event's subject is never deleted
        return found


@strawberry.input
class DisclosureEventInput:
    subject: SubjectRef
    disclosure: strawberry.ID
    occurred_at: datetime
    reference: str
    note: str | None = None


@strawberry.type
class DisclosureEventPayload:
    event: DisclosureEvent | None
    user_errors: list[UserError]


@strawberry.type
class DisclosureEventMutation:
    @strawberry.mutation(
        description=(
            "Record one actual disclosure of one person's data under an ON_REQUEST disclosure "
            "(append-only)."
        ),
        extensions=mutation_needs(CanRecordDisclosureEvents),
    )
    async def record_disclosure_event(
        self, info: Info[Context, None], input: DisclosureEventInput
    ) -> DisclosureEventPayload:
        async def work() -> DisclosureEvent:
            # Both IDs are read before anything fails, so that both are reported at once.
            problems: list[domain_errors.UserError] = []
            disclosure_id, disclosure_error = None, None
            try:
                disclosure_id = decode_id(input.disclosure, "Disclosure", ["input", "disclosure"])
            except domain_errors.UserErrors as exc:
                disclosure_error = exc.errors[0].message
                problems += exc.errors
            try:
                subject = _ref(input.subject, ["input", "subject"])
            except domain_errors.UserErrors as exc:
                raise domain_errors.UserErrors([*exc.errors, *problems]) from exc
            row = await disclosure_events.record_disclosure_event(
                disclosure_events.RecordDisclosureEvent(
                    subject=subject,
                    disclosure_id=disclosure_id,
                    occurred_at=input.occurred_at,
                    reference=input.reference,
                    note=input.note,
                    disclosure_id_error=disclosure_error,
                ),
                actor=info.context.actor,
            )
            return DisclosureEvent.from_row(row)

        return await mutation_payload(DisclosureEventPayload, "event", work)
