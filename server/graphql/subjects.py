"""Data subjects, consents, and the report the product exists for: who receives this person's
data, and why."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from server.db import subjects as subject_rows
from server.db.disclosures import DisclosureRow
from server.db.subjects import SubjectRow
from server.domain import errors as domain_errors
from server.domain import who_receives
from server.graphql import enums
from server.graphql.context import Context
from server.graphql.errors import UserError, checked_moment, decode_id
from server.graphql.inventory import Disclosure, Recipient, Transfer, purposes_of
from server.graphql.mutations import mutation_payload
from server.graphql.nodes import Node, global_id
from server.graphql.permissions import (
    CanReadInventory,
    CanReadSubjects,
    CanWriteSubjects,
    mutation_needs,
    needs,
)
from server.graphql.taxonomy import DataCategory, Purpose, SubjectType, TermObjects
from server.graphql.transfers import TransferAssessment
from server.services import reports, subjects

# Registered in place, like the enums in server.graphql.enums, so mypy reads the name as a type.
WithheldReason = who_receives.WithheldReason
strawberry.enum(WithheldReason)


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
        )

    @classmethod
    async def load(cls, info: Info[Context, None], pks: Iterable[int]) -> list[DataSubject | None]:
        out: list[DataSubject | None] = []
        for pk in pks:
            row = await subject_rows.subject(subject_id=pk, external_ref=None)
            out.append(cls.from_row(row, info.context.terms) if row else None)
        return out


@strawberry.type
class DisclosureReason:
    disclosure: Disclosure
    data_categories: list[DataCategory] = strawberry.field(
        description=(
            "The subject's data that this disclosure covers: for each matched pair of keys, "
            "the more specific one."
        )
    )
    purposes: list[Purpose]
    legal_basis: enums.LegalBasis
    ground: enums.DisclosureGround
    transfers: list[Transfer]
    explanation: str = strawberry.field(
        description="One sentence for a person: what goes to whom, why, on which basis, and where."
    )
    transfer_assessments: list[TransferAssessment] = strawberry.field(
        description="Each transfer of this disclosure judged for this subject's jurisdiction."
    )


@strawberry.type
class RecipientAccess:
    recipient: Recipient
    via: list[Recipient] = strawberry.field(
        description=(
            "The processors the data passes through to reach this recipient, nearest first; "
            "empty for a direct recipient."
        )
    )
    reasons: list[DisclosureReason]


@strawberry.type(
    description="A disclosure that would reach this subject but does not, and why not."
)
class WithheldDisclosure:
    recipient: Recipient
    disclosure: Disclosure
    reason: WithheldReason
    explanation: str


@strawberry.type
class SubjectReport:
    subject: DataSubject
    as_of: datetime
    recipients: list[RecipientAccess]
    withheld: list[WithheldDisclosure]

    @classmethod
    def from_report(cls, report: reports.SubjectReport, context: Context) -> SubjectReport:
        """The assembled report (server/services/reports.py) as schema objects: one object per
        recipient and disclosure, however often each appears."""
        terms = context.terms
        recipients: dict[int, Recipient] = {}
        disclosures: dict[int, Disclosure] = {}

        def recipient(row: dict[str, Any]) -> Recipient:
            found = recipients.get(row["id"])
            if found is None:
                found = recipients[row["id"]] = Recipient.from_row(row, context)
            return found

        def disclosure(row: DisclosureRow) -> Disclosure:
            found = disclosures.get(row.id)
            if found is None:
                found = disclosures[row.id] = Disclosure.from_row(row, terms)
            return found

        categories = terms.categories
        accesses = []
        for access in report.recipients:
            reasons = []
            for reason in access.reasons:
                shown = disclosure(reason.disclosure)
                reasons.append(
                    DisclosureReason(
                        disclosure=shown,
                        data_categories=[categories[k] for k in reason.data_categories],
                        purposes=purposes_of(reason.disclosure, terms),
                        legal_basis=enums.stored(enums.LegalBasis, reason.disclosure.legal_basis),
                        ground=enums.stored(enums.DisclosureGround, reason.disclosure.ground),
                        transfers=shown.transfer_objects,
                        explanation=reason.explanation,
                        transfer_assessments=[
                            TransferAssessment.from_domain(a) for a in reason.assessments
                        ],
                    )
                )
            accesses.append(
                RecipientAccess(
                    recipient=recipient(access.recipient),
                    via=[recipient(v) for v in access.via],
                    reasons=reasons,
                )
            )
        return cls(
            subject=DataSubject.from_row(report.subject, terms),
            as_of=report.at,
            recipients=accesses,
            withheld=[
                WithheldDisclosure(
                    recipient=recipient(item.recipient),
                    disclosure=disclosure(item.disclosure),
                    reason=item.reason,
                    explanation=item.explanation,
                )
                for item in report.withheld
            ],
        )


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

    @strawberry.field(
        description=(
            "Who receives this subject's personal data at asOf (default: now), and why. "
            "Null when no such subject."
        ),
        extensions=needs(CanReadSubjects),
    )
    async def who_receives(
        self, info: Info[Context, None], subject: SubjectRef, as_of: datetime | None = None
    ) -> SubjectReport | None:
        lookup = _lookup(subject)
        if lookup is None:
            return None
        report = await reports.who_receives_report(
            subject_id=lookup[0],
            external_ref=lookup[1],
            as_of=checked_moment(as_of, "asOf"),
            taxonomy=info.context.taxonomy,
        )
        return SubjectReport.from_report(report, info.context) if report else None

    @strawberry.field(
        description=(
            "Recipients that receive a data category at asOf (default: now); taxonomy-aware "
            "in both directions."
        ),
        extensions=needs(CanReadInventory),
    )
    async def recipients_of_category(
        self, info: Info[Context, None], key: str, as_of: datetime | None = None
    ) -> list[Recipient]:
        if key not in info.context.taxonomy.categories:
            raise GraphQLError(f'Unknown data category "{key[:100]}".')
        rows = await reports.recipients_of_category(
            key, checked_moment(as_of, "asOf"), info.context.taxonomy
        )
        recipients = [Recipient.from_row(r, info.context) for r in rows]
        await Recipient.load_ahead(recipients, info)
        return recipients


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
