"""The report the product exists for: who receives this person's data, and why; who did, who
will, who may on request (GDPR Art. 15(1)(c), Art. 19); and a category's recipients."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from server.db.disclosures import DisclosureRow
from server.domain import periods, who_receives
from server.graphql import enums
from server.graphql.context import Context
from server.graphql.disclosure_events import DisclosureEvent
from server.graphql.errors import checked_moment
from server.graphql.inventory import Disclosure, Recipient, Transfer
from server.graphql.permissions import CanReadInventory, CanReadSubjects, needs
from server.graphql.subjects import DataSubject, SubjectRef, _lookup
from server.graphql.taxonomy import DataCategory, Purpose
from server.graphql.transfers import TransferAssessment
from server.services import clock, reports
from server.services.subjects import as_utc

# Registered in place, like the enums in server.graphql.enums, so mypy reads the name as a type.
WithheldReason = who_receives.WithheldReason
strawberry.enum(WithheldReason)
ReceiptEnd = periods.ReceiptEnd
strawberry.enum(ReceiptEnd)
# How far ahead of the server's clock asKnownAt may be: a caller's clock runs a little fast.
KNOWN_AT_SKEW = timedelta(seconds=5)


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
        description=(
            "Each destination of this disclosure (the recipient's country and each transferred "
            "to) judged under every regime that applies to the flow for this person."
        )
    )
    since: datetime = strawberry.field(
        description=(
            "When the current uninterrupted span of this disclosure reaching the subject began."
        )
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
    purposes: list[Purpose] = strawberry.field(
        description=(
            "The purposes withheld; for a consent-based disclosure, each purpose is judged on "
            "its own consent."
        )
    )


@strawberry.type(description="A span of time; `to` is exclusive and null while it lasts.")
class Period:
    from_: datetime = strawberry.field(name="from")
    to: datetime | None


@strawberry.type(
    description=(
        "A recipient that received this subject's data before the moment asked about, and no "
        "longer does."
    )
)
class PastReceipt:
    recipient: Recipient
    via: list[Recipient]
    disclosure: Disclosure
    periods: list[Period] = strawberry.field(
        description=(
            "The spans during which the data went to this recipient under this disclosure, "
            "oldest first."
        )
    )
    data_categories: list[DataCategory]
    purposes: list[Purpose]
    ended_because: ReceiptEnd
    explanation: str


@strawberry.type(
    description=(
        "A disclosure that will reach this subject after the moment asked about, as things stand."
    )
)
class UpcomingReceipt:
    recipient: Recipient
    disclosure: Disclosure
    starts_at: datetime
    explanation: str


@strawberry.type(
    description=(
        "A recipient that may receive this subject's data only if it lawfully asks "
        "(ON_REQUEST disclosures)."
    )
)
class PossibleRecipient:
    recipient: Recipient
    disclosure: Disclosure
    explanation: str


@strawberry.type
class SubjectReport:
    subject: DataSubject
    as_of: datetime
    recipients: list[RecipientAccess]
    withheld: list[WithheldDisclosure]
    as_known_at: datetime = strawberry.field(
        description="What the report was computed from: facts recorded up to this moment."
    )
    past_recipients: list[PastReceipt]
    upcoming_recipients: list[UpcomingReceipt]
    possible_recipients: list[PossibleRecipient]
    events: list[DisclosureEvent] = strawberry.field(
        description="One-off disclosures of this subject's data up to asOf, oldest first."
    )

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
                        purposes=[terms.purposes[k] for k in reason.purposes],
                        legal_basis=enums.stored(enums.LegalBasis, reason.disclosure.legal_basis),
                        ground=enums.stored(enums.DisclosureGround, reason.disclosure.ground),
                        transfers=shown.transfer_objects,
                        explanation=reason.explanation,
                        transfer_assessments=[
                            TransferAssessment.from_domain(a) for a in reason.assessments
                        ],
                        since=reason.since,
                    )
                )
            accesses.append(
                RecipientAccess(
                    recipient=recipient(access.recipient),
                    via=[recipient(v) for v in access.via],
                    reasons=reasons,
                )
            )
        assert report.as_known_at is not None
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
                    purposes=[terms.purposes[k] for k in item.purposes],
                )
                for item in report.withheld
            ],
            as_known_at=report.as_known_at,
            past_recipients=[
                PastReceipt(
                    recipient=recipient(item.recipient),
                    via=[recipient(v) for v in item.via],
                    disclosure=disclosure(item.disclosure),
                    periods=[Period(from_=p.start, to=p.end) for p in item.periods],
                    data_categories=[categories[k] for k in item.data_categories],
                    purposes=[terms.purposes[k] for k in item.purposes],
                    ended_because=item.ended_because,
                    explanation=item.explanation,
                )
                for item in report.past
            ],
            upcoming_recipients=[
                UpcomingReceipt(
                    recipient=recipient(item.recipient),
                    disclosure=disclosure(item.disclosure),
                    starts_at=item.starts_at,
                    explanation=item.explanation,
                )
                for item in report.upcoming
            ],
            possible_recipients=[
                PossibleRecipient(
                    recipient=recipient(item.recipient),
                    disclosure=disclosure(item.disclosure),
                    explanation=item.explanation,
                )
                for item in report.possible
            ],
            events=[DisclosureEvent.from_row(row) for row in report.events],
        )


@strawberry.type
class ReportQuery:
    @strawberry.field(
        description=(
            "Who receives this subject's personal data at asOf (default: now), and why. "
            "Null when no such subject."
        ),
        extensions=needs(CanReadSubjects),
    )
    async def who_receives(
        self,
        info: Info[Context, None],
        subject: SubjectRef,
        as_of: datetime | None = None,
        as_known_at: datetime | None = None,
    ) -> SubjectReport | None:
        known_at = checked_moment(as_known_at, "asKnownAt")
        if known_at is not None and as_utc(known_at) > clock.now() + KNOWN_AT_SKEW:
            raise GraphQLError(
                "asKnownAt: must not be in the future: nothing is known yet of what will be "
                "recorded then.",
                extensions={"code": "BAD_USER_INPUT"},
            )
        lookup = _lookup(subject)
        if lookup is None:
            return None
        report = await reports.who_receives_report(
            subject_id=lookup[0],
            external_ref=lookup[1],
            as_of=checked_moment(as_of, "asOf"),
            as_known_at=known_at,
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
