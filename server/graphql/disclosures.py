"""Disclosure inputs and mutations: add a flow of data to a recipient, or end one."""

from __future__ import annotations

from datetime import date

import strawberry
from strawberry.types import Info

from server.domain.disclosure_terms import DisclosureSpec, TransferSpec
from server.graphql import enums
from server.graphql.context import Context
from server.graphql.errors import UserError, decode_id
from server.graphql.inventory import Disclosure
from server.graphql.mutations import mutation_payload
from server.graphql.permissions import CanWriteInventory, mutation_needs
from server.services import disclosures
from server.services.commands import AddDisclosure, EndDisclosure


@strawberry.input
class TransferInput:
    country: str
    mechanism: enums.TransferMechanism
    reference: str | None = None
    signed_on: date | None = None
    within_adequacy_scope: bool | None = None


@strawberry.input
class DisclosureInput:
    data_categories: list[str]
    subject_types: list[str]
    purposes: list[str]
    legal_basis: enums.LegalBasis
    ground: enums.DisclosureGround
    retention: str | None = None
    transfers: list[TransferInput] | None = strawberry.field(default_factory=list)
    effective_from: date | None = None
    # Nullable with a default, as the contract has it: an explicit null means the default.
    frequency: enums.DisclosureFrequency | None = enums.DisclosureFrequency.CONTINUOUS
    special_category_condition: enums.SpecialCategoryCondition | None = None
    exporter: str | None = strawberry.field(
        default=None,
        description=(
            "The exporting establishment's slug (default: the main establishment). Not allowed "
            "for a subprocessor."
        ),
    )


@strawberry.input
class AddDisclosureInput:
    recipient_id: strawberry.ID
    disclosure: DisclosureInput


@strawberry.input
class EndDisclosureInput:
    id: strawberry.ID
    effective_to: date = strawberry.field(
        description=(
            "The first day the disclosure no longer applies; a day already past needs the "
            "privacy or admin role."
        )
    )


@strawberry.type
class DisclosurePayload:
    disclosure: Disclosure | None
    user_errors: list[UserError]


def disclosure_spec(d: DisclosureInput) -> DisclosureSpec:
    return DisclosureSpec(
        data_categories=list(d.data_categories),
        subject_types=list(d.subject_types),
        purposes=list(d.purposes),
        legal_basis=d.legal_basis,
        ground=d.ground,
        retention=d.retention,
        transfers=[
            TransferSpec(
                country=t.country,
                mechanism=t.mechanism,
                reference=t.reference,
                signed_on=t.signed_on,
                within_adequacy_scope=t.within_adequacy_scope,
            )
            for t in d.transfers or []
        ],
        effective_from=d.effective_from,
        frequency=d.frequency or enums.DisclosureFrequency.CONTINUOUS,
        special_category_condition=d.special_category_condition,
        exporter=d.exporter,
    )


async def _disclosure(info: Info[Context, None], disclosure_id: int) -> Disclosure | None:
    return (await Disclosure.load(info, [disclosure_id]))[0]


@strawberry.type
class DisclosureMutation:
    @strawberry.mutation(
        description="Record a new flow of personal data to a recipient.",
        extensions=mutation_needs(CanWriteInventory),
    )
    async def add_disclosure(
        self, info: Info[Context, None], input: AddDisclosureInput
    ) -> DisclosurePayload:
        async def work() -> Disclosure | None:
            command = AddDisclosure(
                recipient_id=decode_id(input.recipient_id, "Recipient", ["input", "recipientId"]),
                disclosure=disclosure_spec(input.disclosure),
            )
            result = await disclosures.add_disclosure(
                command, actor=info.context.actor, role=info.context.role
            )
            return await _disclosure(info, result.disclosure.id)

        return await mutation_payload(DisclosurePayload, "disclosure", work)

    @strawberry.mutation(
        description="End a disclosure: effectiveTo is the first day it no longer applies.",
        extensions=mutation_needs(CanWriteInventory),
    )
    async def end_disclosure(
        self, info: Info[Context, None], input: EndDisclosureInput
    ) -> DisclosurePayload:
        async def work() -> Disclosure | None:
            command = EndDisclosure(
                disclosure_id=decode_id(input.id, "Disclosure", ["input", "id"]),
                effective_to=input.effective_to,
            )
            result = await disclosures.end_disclosure(
                command, actor=info.context.actor, role=info.context.role
            )
            return await _disclosure(info, result.disclosure.id)

        return await mutation_payload(DisclosurePayload, "disclosure", work)
