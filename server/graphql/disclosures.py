"""Disclosure inputs and mutations: add a flow of data to a recipient, or end one."""

from __future__ import annotations

from datetime import date

import strawberry
from strawberry.types import Info

from server.domain import errors as domain_errors
from server.domain.disclosure_terms import DisclosureSpec, TransferSpec
from server.graphql import enums
from server.graphql.context import Context
from server.graphql.errors import UserError, decode_id, user_errors
from server.graphql.inventory import Disclosure
from server.graphql.permissions import CanWriteInventory, mutation_needs
from server.services import disclosures
from server.services.commands import AddDisclosure, EndDisclosure


@strawberry.input
class TransferInput:
    country: str
    mechanism: enums.TransferMechanism
    reference: str | None = None


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


@strawberry.input
class AddDisclosureInput:
    recipient_id: strawberry.ID
    disclosure: DisclosureInput


@strawberry.input
class EndDisclosureInput:
    id: strawberry.ID
    effective_to: date


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
            TransferSpec(country=t.country, mechanism=t.mechanism, reference=t.reference)
            for t in d.transfers or []
        ],
        effective_from=d.effective_from,
    )


async def _payload(info: Info[Context, None], disclosure_id: int) -> DisclosurePayload:
    row = await info.context.loaders.disclosure.load(disclosure_id)
    return DisclosurePayload(disclosure=Disclosure.from_row(row) if row else None, user_errors=[])


@strawberry.type
class DisclosureMutation:
    @strawberry.mutation(
        description="Record a new flow of personal data to a recipient.",
        extensions=mutation_needs(CanWriteInventory),
    )
    async def add_disclosure(
        self, info: Info[Context, None], input: AddDisclosureInput
    ) -> DisclosurePayload:
        try:
            command = AddDisclosure(
                recipient_id=decode_id(input.recipient_id, "Recipient", ["input", "recipientId"]),
                disclosure=disclosure_spec(input.disclosure),
            )
            result = await disclosures.add_disclosure(command, actor=info.context.actor)
        except domain_errors.UserErrors as exc:
            return DisclosurePayload(disclosure=None, user_errors=user_errors(exc))
        assert result.disclosure is not None
        return await _payload(info, result.disclosure.id)

    @strawberry.mutation(
        description="End a disclosure: effectiveTo is the first day it no longer applies.",
        extensions=mutation_needs(CanWriteInventory),
    )
    async def end_disclosure(
        self, info: Info[Context, None], input: EndDisclosureInput
    ) -> DisclosurePayload:
        try:
            command = EndDisclosure(
                disclosure_id=decode_id(input.id, "Disclosure", ["input", "id"]),
                effective_to=input.effective_to,
            )
            result = await disclosures.end_disclosure(command, actor=info.context.actor)
        except domain_errors.UserErrors as exc:
            return DisclosurePayload(disclosure=None, user_errors=user_errors(exc))
        assert result.disclosure is not None
        return await _payload(info, result.disclosure.id)
