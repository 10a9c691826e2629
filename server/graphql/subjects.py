"""Data subjects, consents, and the report the product exists for: who receives this person's
data, and why."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import partial
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry import relay
from strawberry.types import Info

from server.db import reports
from server.db.queries import DisclosureRow
from server.domain import errors as domain_errors
from server.domain import explain
from server.domain import who_receives as rules
from server.domain.enums import DisclosureGround, LegalBasis
from server.domain.taxonomy import Taxonomy
from server.domain.validation import country_name
from server.graphql import enums
from server.graphql.context import Context
from server.graphql.errors import UserError, decode_id, user_errors
from server.graphql.inventory import (
    Disclosure,
    Recipient,
    Transfer,
    disclosure_shaper,
    shaped_recipient,
    transfers_of,
)
from server.graphql.permissions import (
    CanReadInventory,
    CanReadSubjects,
    CanWriteSubjects,
    mutation_needs,
    needs,
)
from server.graphql.shaped import Shaped, selected_below, sources
from server.graphql.taxonomy import (
    DataCategory,
    Purpose,
    SubjectType,
    category,
    purpose,
    shaped_terms,
    subject_type,
)
from server.graphql.transfers import TransferAssessment, shaped_assessment
from server.services import reports as report_service
from server.services import subjects
from server.services.reports import SubjectReport as ReportData

# Registered in place, like the enums in server.graphql.enums, so mypy reads the name as a type.
WithheldReason = rules.WithheldReason
strawberry.enum(WithheldReason)


@strawberry.type
class Consent:
    purpose: Purpose
    granted: bool
    recorded_at: datetime


@strawberry.type
class DataSubject(relay.Node):
    id: relay.NodeID[int]
    external_ref: str
    subject_type: SubjectType
    country: str = strawberry.field(description="ISO 3166-1 alpha-2 country of residence.")
    data_categories: list[DataCategory] = strawberry.field(
        description="The categories of this subject's data that the organisation holds."
    )
    consents: list[Consent] = strawberry.field(description="Every consent record, oldest first.")
    created_at: datetime

    @classmethod
    def from_row(cls, row: reports.SubjectRow, info: Info[Context, None]) -> DataSubject:
        taxonomy = info.context.taxonomy
        return cls(
            id=row.id,
            external_ref=row.external_ref,
            subject_type=subject_type(taxonomy.subject_types[row.subject_type]),
            country=row.country,
            data_categories=[category(taxonomy.categories[k]) for k in row.data_categories],
            consents=[
                Consent(
                    purpose=purpose(taxonomy.purposes[c.purpose]),
                    granted=c.granted,
                    recorded_at=c.recorded_at,
                )
                for c in row.consents
            ],
            created_at=row.created_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[DataSubject | None]:
        out: list[DataSubject | None] = []
        for node_id in node_ids:
            row = await reports.subject(subject_id=int(node_id), external_ref=None)
            out.append(cls.from_row(row, info) if row else None)
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


@strawberry.input
class ConsentInput:
    subject: SubjectRef
    purpose: str
    granted: bool
    recorded_at: datetime | None = None


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


def _shaped_subject(row: reports.SubjectRow, taxonomy: Taxonomy, node: DataSubject) -> Shaped:
    terms = shaped_terms(taxonomy)
    return Shaped(
        {
            "id": relay.to_base64("DataSubject", row.id),
            "externalRef": row.external_ref,
            "subjectType": terms.subject_types[row.subject_type],
            "country": row.country,
            "dataCategories": [terms.categories[k] for k in row.data_categories],
            "consents": [
                Shaped(
                    {
                        "purpose": terms.purposes[c.purpose],
                        "granted": c.granted,
                        "recordedAt": c.recorded_at.isoformat(),
                    },
                    consent,
                )
                for c, consent in zip(row.consents, node.consents, strict=True)
            ],
            "createdAt": row.created_at.isoformat(),
        },
        node,
    )


# The fields of a reason that repeat its disclosure's (see build_report).
REASON_FIELDS_OF_DISCLOSURE = frozenset({"purposes", "legalBasis", "ground", "transfers"})


def _reason_object(f: dict[str, Any], row: DisclosureRow) -> DisclosureReason:
    """A shaped reason's strawberry object, from its fields (bound with partial: mypy cannot
    type a lambda whose defaults bind the loop's values)."""
    return DisclosureReason(
        disclosure=f["disclosure"].source,
        data_categories=sources(f["dataCategories"]),
        purposes=sources(f["purposes"]),
        legal_basis=f["disclosure"].source.legal_basis,
        ground=f["disclosure"].source.ground,
        transfers=transfers_of(row),
        explanation=f["explanation"],
        transfer_assessments=sources(f["transferAssessments"]),
    )


def _access_object(f: dict[str, Any]) -> RecipientAccess:
    """A shaped recipient access's strawberry object, from its fields."""
    return RecipientAccess(
        recipient=f["recipient"].source,
        via=sources(f["via"]),
        reasons=sources(f["reasons"]),
    )


def _withheld_object(f: dict[str, Any], reason: rules.WithheldReason) -> WithheldDisclosure:
    """A shaped withheld disclosure's strawberry object, from its fields."""
    return WithheldDisclosure(
        recipient=f["recipient"].source,
        disclosure=f["disclosure"].source,
        reason=reason,
        explanation=f["explanation"],
    )


def build_report(data: ReportData, info: Info[Context, None]) -> Shaped:
    """The report as Shaped values (see server/graphql/shaped.py). Each holds a factory for the
    strawberry object it stands for, built only if a field falls back to it: a full report
    selects only held fields, and building hundreds of objects it never reads cost more than
    the answer."""
    taxonomy = info.context.taxonomy
    terms = shaped_terms(taxonomy)
    recipients = {rid: shaped_recipient(row) for rid, row in data.recipient_rows.items()}
    disclosures: dict[int, Shaped] = {}
    # Each disclosure shaped once, up front, with the fields selected of it wherever it shows
    # and those its reasons repeat.
    selected = REASON_FIELDS_OF_DISCLOSURE.union(
        selected_below(info.selected_fields, ["recipients", "reasons", "disclosure"]) or (),
        selected_below(info.selected_fields, ["withheld", "disclosure"]) or (),
    )
    shape = disclosure_shaper(selected, taxonomy)

    def disclosure(row: DisclosureRow) -> Shaped:
        shown = disclosures.get(row.id)
        if shown is None:
            shown = disclosures[row.id] = shape(row)
        return shown

    accesses = []
    for access in data.report.recipients:
        recipient = recipients[access.recipient.id]
        via = [recipients[v.id] for v in access.via]
        row_of_recipient = data.recipient_rows[access.recipient.id]
        via_names = [data.recipient_rows[v.id]["name"] for v in access.via]
        reasons = []
        for reason in access.reasons:
            row = data.disclosure_rows[reason.disclosure.id]
            shown = disclosure(row)
            categories = [terms.categories[k] for k in reason.data_categories]
            purpose_terms = [taxonomy.purposes[k] for k in row.purposes]
            assessments = data.transfer_assessments[row.id]
            explanation = explain.disclosure_sentence(
                recipient=row_of_recipient["name"],
                categories=[
                    explain.category_phrase(taxonomy.categories[k]) for k in reason.data_categories
                ],
                purposes=[explain.purpose_phrase(t) for t in purpose_terms],
                legal_basis=LegalBasis(row.legal_basis),
                ground=DisclosureGround(row.ground),
                destinations=[country_name(a.country) for a in assessments],
                established_in=country_name(row_of_recipient["country"]),
                via=via_names,
                transfer_bases=[a.phrase for a in assessments],
            )
            shaped_assessments = [shaped_assessment(a) for a in assessments]
            values = shown.values
            fields = {
                "disclosure": shown,
                "dataCategories": categories,
                "purposes": values["purposes"],
                "legalBasis": values["legalBasis"],
                "ground": values["ground"],
                "transfers": values["transfers"],
                "explanation": explanation,
                "transferAssessments": shaped_assessments,
            }
            reasons.append(
                Shaped(
                    fields,
                    factory=partial(_reason_object, fields, row),
                )
            )
        access_fields = {"recipient": recipient, "via": via, "reasons": reasons}
        accesses.append(
            Shaped(
                access_fields,
                factory=partial(_access_object, access_fields),
            )
        )
    withheld = []
    for item in data.report.withheld:
        row = data.disclosure_rows[item.disclosure.id]
        explanation = explain.withheld_sentence(
            recipient=data.recipient_rows[item.recipient.id]["name"],
            categories=[
                explain.category_phrase(taxonomy.categories[k]) for k in item.data_categories
            ],
            purposes=[explain.purpose_phrase(taxonomy.purposes[k]) for k in row.purposes],
            withdrawn=item.reason == rules.WithheldReason.CONSENT_WITHDRAWN,
        )
        withheld_fields = {
            "recipient": recipients[item.recipient.id],
            "disclosure": disclosure(row),
            "reason": item.reason.value,
            "explanation": explanation,
        }
        withheld.append(
            Shaped(
                withheld_fields,
                factory=partial(_withheld_object, withheld_fields, item.reason),
            )
        )
    report_fields: dict[str, Any] = {
        "subject": _shaped_subject(
            data.subject, taxonomy, DataSubject.from_row(data.subject, info)
        ),
        "asOf": data.report.at.isoformat(),
        "recipients": accesses,
        "withheld": withheld,
    }
    return Shaped(
        report_fields,
        factory=lambda: SubjectReport(
            subject=report_fields["subject"].source,
            as_of=data.report.at,
            recipients=sources(accesses),
            withheld=sources(withheld),
        ),
    )


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
        row = await reports.subject(subject_id=lookup[0], external_ref=lookup[1])
        return DataSubject.from_row(row, info) if row else None

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
        data = await report_service.who_receives(
            subject_id=lookup[0],
            external_ref=lookup[1],
            as_of=as_of,
            taxonomy=info.context.taxonomy,
        )
        return build_report(data, info) if data else None  # type: ignore[return-value]

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
        rows = await report_service.recipients_of_category(key, as_of, info.context.taxonomy)
        return [shaped_recipient(r) for r in rows]  # type: ignore[misc]


async def _subject_payload(subject_id: int, info: Info[Context, None]) -> DataSubjectPayload:
    row = await reports.subject(subject_id=subject_id, external_ref=None)
    return DataSubjectPayload(
        data_subject=DataSubject.from_row(row, info) if row else None, user_errors=[]
    )


@strawberry.type
class SubjectMutation:
    @strawberry.mutation(
        description="Create a data subject, or replace it by externalRef.",
        extensions=mutation_needs(CanWriteSubjects),
    )
    async def upsert_data_subject(
        self, info: Info[Context, None], input: DataSubjectInput
    ) -> DataSubjectPayload:
        try:
            subject = await subjects.upsert_data_subject(
                subjects.UpsertDataSubject(
                    external_ref=input.external_ref,
                    subject_type=input.subject_type,
                    country=input.country,
                    data_categories=list(input.data_categories),
                ),
                actor=info.context.actor,
                taxonomy=info.context.taxonomy,
            )
        except domain_errors.UserErrors as exc:
            return DataSubjectPayload(data_subject=None, user_errors=user_errors(exc))
        return await _subject_payload(subject.id, info)

    @strawberry.mutation(
        description="Append a consent decision to a subject's consent log.",
        extensions=mutation_needs(CanWriteSubjects),
    )
    async def record_consent(
        self, info: Info[Context, None], input: ConsentInput
    ) -> DataSubjectPayload:
        try:
            subject = await subjects.record_consent(
                subjects.RecordConsent(
                    subject=_ref(input.subject, ["input", "subject"]),
                    purpose=input.purpose,
                    granted=input.granted,
                    recorded_at=input.recorded_at,
                ),
                actor=info.context.actor,
                taxonomy=info.context.taxonomy,
            )
        except domain_errors.UserErrors as exc:
            return DataSubjectPayload(data_subject=None, user_errors=user_errors(exc))
        return await _subject_payload(subject.id, info)
