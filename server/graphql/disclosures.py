"""Disclosure inputs and mutations: add a flow of data to a recipient, correct one, or end one."""

from __future__ import annotations

from datetime import date

import strawberry
from strawberry.types import Info

from server.domain.disclosure_terms import DisclosureSpec, TransferSpec
from server.graphql import enums
from server.graphql.context import Context
from server.graphql.errors import UserError, decode_id
from server.graphql.inventory import ChangeRequest, Disclosure
from server.graphql.mutations import Reviewed, mutation_payload
from server.graphql.permissions import CanWriteInventory, mutation_needs
from server.services import disclosures
from server.services.commands import UNSET, AddDisclosure, EndDisclosure, UpdateDisclosure
from server.services.results import DisclosureResult


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


@strawberry.input(
    description=(
        "A correction of a disclosure's terms, against the version you read: the fields given "
        "replace the disclosure's from today (null clears retention, transfers and "
        "specialCategoryCondition); the terms before are kept for reports at past moments. To "
        "an APPROVED or ACTIVE recipient it waits for a second key."
    )
)
class UpdateDisclosureInput:
    id: strawberry.ID
    expected_version: int
    data_categories: list[str] | None = strawberry.UNSET
    subject_types: list[str] | None = strawberry.UNSET
    purposes: list[str] | None = strawberry.UNSET
    legal_basis: enums.LegalBasis | None = strawberry.UNSET
    ground: enums.DisclosureGround | None = strawberry.UNSET
    retention: str | None = strawberry.UNSET
    transfers: list[TransferInput] | None = strawberry.UNSET
    frequency: enums.DisclosureFrequency | None = strawberry.UNSET
    special_category_condition: enums.SpecialCategoryCondition | None = strawberry.UNSET


@strawberry.type
class DisclosurePayload:
    disclosure: Disclosure | None
    user_errors: list[UserError]
    change: ChangeRequest | None = strawberry.field(
        default=None,
        description="Set when the change waits for review instead of applying at once.",
    )


def _transfer_spec(t: TransferInput) -> TransferSpec:
    return TransferSpec(
        country=t.country,
        mechanism=t.mechanism,
        reference=t.reference,
        signed_on=t.signed_on,
        within_adequacy_scope=t.within_adequacy_scope,
    )


def disclosure_spec(d: DisclosureInput) -> DisclosureSpec:
    return DisclosureSpec(
        data_categories=list(d.data_categories),
        subject_types=list(d.subject_types),
        purposes=list(d.purposes),
        legal_basis=d.legal_basis,
        ground=d.ground,
        retention=d.retention,
        transfers=[_transfer_spec(t) for t in d.transfers or []],
        effective_from=d.effective_from,
        frequency=d.frequency or enums.DisclosureFrequency.CONTINUOUS,
        special_category_condition=d.special_category_condition,
        exporter=d.exporter,
    )


async def _answer(info: Info[Context, None], result: DisclosureResult) -> Disclosure | Reviewed:
    """The disclosure as it stands (none for an addition waiting for review), with the change
    request when it waits."""
    disclosure = (
        (await Disclosure.load(info, [result.disclosure.id]))[0]
        if result.disclosure is not None
        else None
    )
    if result.change is None:
        assert disclosure is not None
        return disclosure
    return Reviewed(disclosure, ChangeRequest.from_model(result.change))


def _given(value: object) -> object:
    return UNSET if value is strawberry.UNSET else value


@strawberry.type
class DisclosureMutation:
    @strawberry.mutation(
        description="Record a new flow of personal data to a recipient.",
        extensions=mutation_needs(CanWriteInventory),
    )
    async def add_disclosure(
        self, info: Info[Context, None], input: AddDisclosureInput
    ) -> DisclosurePayload:
        async def work() -> Disclosure | Reviewed:
            command = AddDisclosure(
                recipient_id=decode_id(input.recipient_id, "Recipient", ["input", "recipientId"]),
                disclosure=disclosure_spec(input.disclosure),
            )
            result = await disclosures.add_disclosure(
                command, actor=info.context.actor, role=info.context.role
            )
            return await _answer(info, result)

        return await mutation_payload(DisclosurePayload, "disclosure", work)

    @strawberry.mutation(
        description="End a disclosure: effectiveTo is the first day it no longer applies.",
        extensions=mutation_needs(CanWriteInventory),
    )
    async def end_disclosure(
        self, info: Info[Context, None], input: EndDisclosureInput
    ) -> DisclosurePayload:
        async def work() -> Disclosure | Reviewed:
            command = EndDisclosure(
                disclosure_id=decode_id(input.id, "Disclosure", ["input", "id"]),
                effective_to=input.effective_to,
            )
            result = await disclosures.end_disclosure(
                command, actor=info.context.actor, role=info.context.role
            )
            return await _answer(info, result)

        return await mutation_payload(DisclosurePayload, "disclosure", work)

    @strawberry.mutation(
        description=(
            "Correct a disclosure's terms against the version you read (its history is kept)."
        ),
        extensions=mutation_needs(CanWriteInventory),
    )
    async def update_disclosure(
        self, info: Info[Context, None], input: UpdateDisclosureInput
    ) -> DisclosurePayload:
        async def work() -> Disclosure | Reviewed:
            transfers = _given(input.transfers)
            command = UpdateDisclosure(
                disclosure_id=decode_id(input.id, "Disclosure", ["input", "id"]),
                expected_version=input.expected_version,
                data_categories=_given(input.data_categories),
                subject_types=_given(input.subject_types),
                purposes=_given(input.purposes),
                legal_basis=_given(input.legal_basis),
                ground=_given(input.ground),
                retention=_given(input.retention),
                transfers=[_transfer_spec(t) for t in transfers]
                if isinstance(transfers, list)
                else transfers,
                frequency=_given(input.frequency),
                special_category_condition=_given(input.special_category_condition),
            )
            result = await disclosures.update_disclosure(
                command, actor=info.context.actor, role=info.context.role
            )
            return await _answer(info, result)

        return await mutation_payload(DisclosurePayload, "disclosure", work)
