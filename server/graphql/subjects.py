"""Data subjects and their consent log: whose data the organisation holds (the report about
them is server/graphql/reports.py)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from server.db import subjects as subject_rows
from server.db import transfer_consents as transfer_consent_rows
from server.db.subjects import SubjectRow
from server.domain import errors as domain_errors
from server.graphql.context import Context
from server.graphql.errors import UserError, decode_id
from server.graphql.inventory import Recipient
from server.graphql.mutations import mutation_payload
from server.graphql.nodes import Node, global_id
from server.graphql.permissions import (
    CanReadSubjects,
    CanWriteSubjects,
    mutation_needs,
    needs,
)
from server.graphql.taxonomy import DataCategory, Purpose, SubjectType, TermObjects
from server.services import subjects, transfer_consents


@strawberry.type
class Consent:
    purpose: Purpose
    granted: bool
    recorded_at: datetime
    decided_at: datetime = strawberry.field(
        description=(
            "When the person decided, as the calling system reports it (never in the future)."
        )
    )
    explicit: bool = strawberry.field(
        description="Explicit consent, as GDPR Art. 9(2)(a) and Art. 49(1)(a) require."
    )


@strawberry.type(
    description="An explicit consent of one person to one transfer (GDPR Art. 49(1)(a))."
)
class TransferConsent:
    recipient: Recipient
    country: str
    granted: bool
    decided_at: datetime
    recorded_at: datetime


@strawberry.type
class DataSubject(Node):
    external_ref: str
    subject_type: SubjectType
    country: str = strawberry.field(description="ISO 3166-1 alpha-2 country of residence.")
    data_categories: list[DataCategory] = strawberry.field(
        description="The categories of this subject's data that the organisation holds."
    )
    consents: list[Consent] = strawberry.field(description="Every consent record, oldest first.")
    created_at: datetime
    row_id: strawberry.Private[int]

    @strawberry.field(
        description=(
            "Explicit consents to single transfers (GDPR Art. 49(1)(a)), oldest first by decidedAt."
        )
    )
    async def transfer_consents(self, info: Info[Context, None]) -> list[TransferConsent]:
        rows = await transfer_consent_rows.transfer_consents_of(self.row_id)
        recipients = await info.context.loaders.recipient.load_many([r.recipient_id for r in rows])
        return [
            TransferConsent(
                recipient=Recipient.from_row(recipient, info.context),
                country=row.country,
                granted=row.granted,
                decided_at=row.decided_at,
                recorded_at=row.recorded_at,
            )
            for row, recipient in zip(rows, recipients, strict=True)
            if recipient is not None
        ]

    @classmethod
    def from_row(cls, row: SubjectRow, terms: TermObjects) -> DataSubject:
        return cls(
            id=global_id("DataSubject", row.id),
            external_ref=row.external_ref,
            subject_type=terms.subject_types[row.subject_type],
            country=row.country,
            data_categories=[terms.categories[k] for k in row.data_categories],
            consents=[
                Consent(
                    purpose=terms.purposes[c.purpose],
                    granted=c.granted,
                    recorded_at=c.recorded_at,
                    decided_at=c.decided_at,
                    explicit=c.explicit,
                )
                for c in row.consents
            ],
            created_at=row.created_at,
            row_id=row.id,
        )

    @classmethod
    async def load(cls, info: Info[Context, None], pks: Iterable[int]) -> list[DataSubject | None]:
        out: list[DataSubject | None] = []
        for pk in pks:
            row = await subject_rows.subject(subject_id=pk, external_ref=None)
            out.append(cls.from_row(row, info.context.terms) if row else None)
        return out


@strawberry.input(
    description=(
        "Identifies one data subject: by global ID or by the reference the calling system "
        "knows them by."
    )
)
class SubjectRef:
    id: strawberry.ID | None = None
    external_ref: str | None = None


@strawberry.input
class DataSubjectInput:
    external_ref: str
    subject_type: str
    country: str
    data_categories: list[str]
    valid_from: datetime | None = strawberry.field(
        default=None,
        description=(
            "From when this version of the subject's facts holds (default: now; never in the "
            "future)."
        ),
    )


@strawberry.input
class ConsentInput:
    subject: SubjectRef
    purpose: str
    granted: bool
    recorded_at: datetime | None = strawberry.field(
        default=None,
        description=(
            "Part 2's name for decidedAt, read as decidedAt when sent alone; sending both is "
            "an error. The consent's recordedAt is always the server's clock."
        ),
    )
    decided_at: datetime | None = strawberry.field(
        default=None,
        description=(
            "When the person decided (default: now; never in the future). recordedAt is always "
            "the server's clock."
        ),
    )
    explicit: bool | None = False


@strawberry.input(
    description=(
        "An explicit consent of one person to one transfer (GDPR Art. 49(1)(a)), not to a purpose."
    )
)
class TransferConsentInput:
    subject: SubjectRef
    recipient: strawberry.ID
    country: str
    granted: bool
    decided_at: datetime | None = None


@strawberry.type
class DataSubjectPayload:
    data_subject: DataSubject | None
    user_errors: list[UserError]


def _ref(ref: SubjectRef, path: list[str]) -> subjects.SubjectRef:
    if (ref.id is None) == (ref.external_ref is None):
        raise domain_errors.UserErrors(
            [domain_errors.UserError(path, "Give exactly one of `id` and `externalRef`.")]
        )
    if ref.id is not None:
        return subjects.SubjectRef(id=decode_id(str(ref.id), "DataSubject", [*path, "id"]))
    return subjects.SubjectRef(external_ref=ref.external_ref)


def _lookup(ref: SubjectRef) -> tuple[int | None, str | None] | None:
    """The database id or reference to look up; None when the ref names no possible subject."""
    if (ref.id is None) == (ref.external_ref is None):
        raise GraphQLError("Give exactly one of `id` and `externalRef` in the subject reference.")
    if ref.id is not None:
        try:
            return decode_id(str(ref.id), "DataSubject", ["id"]), None
        except domain_errors.UserErrors:
            return None
    return None, ref.external_ref


@strawberry.type
class SubjectQuery:
    @strawberry.field(extensions=needs(CanReadSubjects))
    async def data_subject(self, info: Info[Context, None], ref: SubjectRef) -> DataSubject | None:
        lookup = _lookup(ref)
        if lookup is None:
            return None
        row = await subject_rows.subject(subject_id=lookup[0], external_ref=lookup[1])
        return DataSubject.from_row(row, info.context.terms) if row else None


async def _subject(info: Info[Context, None], subject_id: int) -> DataSubject | None:
    return (await DataSubject.load(info, [subject_id]))[0]


@strawberry.type
class SubjectMutation:
    @strawberry.mutation(
        description="Create a data subject, or replace it by externalRef.",
        extensions=mutation_needs(CanWriteSubjects),
    )
    async def upsert_data_subject(
        self, info: Info[Context, None], input: DataSubjectInput
    ) -> DataSubjectPayload:
        async def work() -> DataSubject | None:
            subject = await subjects.upsert_data_subject(
                subjects.UpsertDataSubject(
                    external_ref=input.external_ref,
                    subject_type=input.subject_type,
                    country=input.country,
                    data_categories=list(input.data_categories),
                    valid_from=input.valid_from,
                ),
                actor=info.context.actor,
                taxonomy=info.context.taxonomy,
            )
            return await _subject(info, subject.id)

        return await mutation_payload(DataSubjectPayload, "data_subject", work)

    @strawberry.mutation(
        description="Append a consent decision to a subject's consent log.",
        extensions=mutation_needs(CanWriteSubjects),
    )
    async def record_consent(
        self, info: Info[Context, None], input: ConsentInput
    ) -> DataSubjectPayload:
        async def work() -> DataSubject | None:
            subject = await subjects.record_consent(
                subjects.RecordConsent(
                    subject=_ref(input.subject, ["input", "subject"]),
                    purpose=input.purpose,
                    granted=input.granted,
                    decided_at=input.decided_at,
                    explicit=bool(input.explicit),
                    recorded_at=input.recorded_at,
                ),
                actor=info.context.actor,
                taxonomy=info.context.taxonomy,
            )
            return await _subject(info, subject.id)

        return await mutation_payload(DataSubjectPayload, "data_subject", work)

    @strawberry.mutation(
        description=(
            "Append a person's explicit consent to the transfer of their data to one recipient "
            "in one country."
        ),
        extensions=mutation_needs(CanWriteSubjects),
    )
    async def record_transfer_consent(
        self, info: Info[Context, None], input: TransferConsentInput
    ) -> DataSubjectPayload:
        async def work() -> DataSubject | None:
            # Both references are read before anything fails, so both are reported at once.
            recipient_id, recipient_error = None, None
            try:
                recipient_id = decode_id(str(input.recipient), "Recipient", ["input", "recipient"])
            except domain_errors.UserErrors as exc:
                recipient_error = exc.errors[0].message
            subject = await transfer_consents.record_transfer_consent(
                transfer_consents.RecordTransferConsent(
                    subject=_ref(input.subject, ["input", "subject"]),
                    recipient_id=recipient_id,
                    country=input.country,
                    granted=input.granted,
                    decided_at=input.decided_at,
                    recipient_id_error=recipient_error,
                ),
                actor=info.context.actor,
            )
            return await _subject(info, subject.id)

        return await mutation_payload(DataSubjectPayload, "data_subject", work)
