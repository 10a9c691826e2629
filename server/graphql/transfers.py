"""International transfers: the reference adequacy decisions, each flow judged under every
regime that applies to it, and the gaps a dashboard shows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from server.domain import adequacy, regimes, transfers
from server.graphql import enums
from server.graphql.context import Context
from server.graphql.errors import checked_moment
from server.graphql.inventory import Disclosure, Recipient, Transfer
from server.graphql.permissions import CanReadInventory, needs
from server.services import transfers as transfer_service

# Registered in server.graphql.enums, which server.graphql.establishments reads it from too.
Jurisdiction = enums.Jurisdiction
RegimeTrigger = transfers.RegimeTrigger
strawberry.enum(
    RegimeTrigger, description="Why a data-protection regime applies to a flow of a person's data."
)


@strawberry.type
class AdequacyDecision:
    jurisdiction: Jurisdiction
    country: str = strawberry.field(description="ISO 3166-1 alpha-2.")
    scope: str | None = strawberry.field(
        description=(
            "Empty for a full decision; otherwise who it covers (e.g. organisations certified "
            "under the Data Privacy Framework)."
        )
    )
    adopted_on: date
    source: str = strawberry.field(
        description="Citation of the instrument (decision or regulation number)."
    )
    expires_on: date | None = strawberry.field(
        description="The last day it applies; null when open-ended."
    )
    organisation: str | None = strawberry.field(
        description=(
            "For a decision about an international organisation, its name; country is then "
            "its seat."
        )
    )

    @classmethod
    def from_domain(cls, decision: adequacy.AdequacyDecision) -> AdequacyDecision:
        return cls(
            jurisdiction=decision.jurisdiction,
            country=decision.country,
            scope=decision.scope,
            adopted_on=decision.adopted_on,
            source=decision.source,
            expires_on=decision.expires_on,
            organisation=decision.organisation,
        )


@strawberry.type
class TransferAssessment:
    country: str
    mechanism: enums.TransferMechanism
    lawful: bool
    explanation: str = strawberry.field(
        description=(
            "Why it is or is not lawful: the regime and why it applies, the decision or "
            "safeguard relied on with its date, or what is missing and what would cure it."
        )
    )
    jurisdiction: Jurisdiction = strawberry.field(
        description="The regime this assessment is made under."
    )
    trigger: RegimeTrigger = strawberry.field(description="Why that regime applies to this flow.")
    from_country: str = strawberry.field(
        description="The country the data leaves from under this regime (the exporter's)."
    )

    @classmethod
    def from_domain(cls, assessment: transfers.Assessment) -> TransferAssessment:
        return cls(
            country=assessment.country,
            mechanism=enums.stored(enums.TransferMechanism, assessment.mechanism.value),
            lawful=assessment.lawful,
            explanation=assessment.explanation,
            jurisdiction=assessment.jurisdiction,
            trigger=assessment.trigger,
            from_country=assessment.from_country,
        )


@strawberry.type
class TransferGap:
    recipient: Recipient
    disclosure: Disclosure
    transfer: Transfer
    jurisdiction: Jurisdiction
    explanation: str


@strawberry.type
class TransferQuery:
    @strawberry.field(
        description=(
            "The adequacy decisions this service applies for a jurisdiction, with their "
            "citations, by country."
        ),
        extensions=needs(CanReadInventory),
    )
    def adequacy_decisions(self, jurisdiction: Jurisdiction) -> list[AdequacyDecision]:
        return [
            AdequacyDecision.from_domain(d)
            for d in adequacy.reference().decisions_for(regimes.Jurisdiction(jurisdiction))
        ]

    @strawberry.field(
        description=(
            "Destinations of active disclosures that would be unlawful for a person to whom this "
            "regime applies by any trigger the flow allows: one per recipient, disclosure and "
            "country."
        ),
        extensions=needs(CanReadInventory),
    )
    async def transfer_gaps(
        self,
        info: Info[Context, None],
        jurisdiction: Jurisdiction,
        as_of: Annotated[
            datetime | None,
            strawberry.argument(description="The moment to judge at (default: now)."),
        ] = None,
    ) -> list[TransferGap]:
        gaps = await transfer_service.transfer_gaps(
            regimes.Jurisdiction(jurisdiction), checked_moment(as_of, "asOf")
        )
        terms = info.context.terms
        recipients: dict[int, Recipient] = {}
        disclosures: dict[int, Disclosure] = {}
        out = []
        for gap in gaps:
            recipient = recipients.get(gap.recipient["id"])
            if recipient is None:
                recipient = recipients[gap.recipient["id"]] = Recipient.from_row(
                    gap.recipient, info.context
                )
            disclosure = disclosures.get(gap.disclosure.id)
            if disclosure is None:
                disclosure = disclosures[gap.disclosure.id] = Disclosure.from_row(
                    gap.disclosure, terms
                )
            out.append(
                TransferGap(
                    recipient=recipient,
                    disclosure=disclosure,
                    transfer=Transfer.from_row(gap.transfer),
                    jurisdiction=gap.jurisdiction,
                    explanation=gap.assessment.explanation,
                )
            )
        return out
