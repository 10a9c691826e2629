"""Compliance gaps: what a dashboard should show before a regulator does."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from server.graphql import enums
from server.graphql.context import Context
from server.graphql.errors import checked_moment
from server.graphql.inventory import Disclosure, Recipient
from server.graphql.permissions import CanReadInventory, needs
from server.services import compliance


@strawberry.type
class ComplianceGap:
    kind: enums.ComplianceGapKind
    recipient: Recipient
    disclosure: Disclosure | None
    explanation: str


@strawberry.type
class ComplianceQuery:
    @strawberry.field(
        description=(
            "Compliance gaps among ACTIVE recipients and in-effect disclosures at asOf "
            "(default: now), of the kinds asked (default: all)."
        ),
        extensions=needs(CanReadInventory),
    )
    async def compliance_gaps(
        self,
        info: Info[Context, None],
        kinds: list[enums.ComplianceGapKind] | None = None,
        as_of: Annotated[
            datetime | None,
            strawberry.argument(description="The moment to judge at (default: now)."),
        ] = None,
    ) -> list[ComplianceGap]:
        gaps = await compliance.compliance_gaps(
            kinds, checked_moment(as_of, "asOf"), info.context.taxonomy
        )
        terms = info.context.terms
        recipients: dict[int, Recipient] = {}
        out = []
        for gap in gaps:
            recipient = recipients.get(gap.recipient["id"])
            if recipient is None:
                recipient = recipients[gap.recipient["id"]] = Recipient.from_row(
                    gap.recipient, info.context
                )
            out.append(
                ComplianceGap(
                    kind=gap.kind,
                    recipient=recipient,
                    disclosure=Disclosure.from_row(gap.disclosure, terms)
                    if gap.disclosure
                    else None,
                    explanation=gap.explanation,
                )
            )
        return out
