"""The organisation's own establishments: which legal entity discloses the data, and so which
regimes bind the flow (GDPR and UK GDPR Art. 3)."""

from __future__ import annotations

from collections.abc import Iterable

import strawberry
from strawberry.types import Info

from server.db.establishments import EstablishmentRow, establishment_row
from server.db.models import Establishment as EstablishmentModel
from server.domain import establishments as rules
from server.graphql.context import Context
from server.graphql.enums import Jurisdiction
from server.graphql.errors import UserError, decode_id
from server.graphql.mutations import mutation_payload
from server.graphql.nodes import Node, global_id
from server.graphql.permissions import (
    CanManageEstablishments,
    CanReadInventory,
    mutation_needs,
    needs,
)
from server.services import establishments


@strawberry.type(
    description=(
        "One of the organisation's own legal entities: the controller that discloses data to "
        "recipients."
    )
)
class Establishment(Node):
    slug: str
    name: str
    legal_name: str | None
    country: str = strawberry.field(description="ISO 3166-1 alpha-2.")
    targets: list[Jurisdiction] = strawberry.field(
        description=(
            "Regimes whose people this establishment offers goods or services to, or monitors "
            "(Art. 3(2))."
        )
    )
    main: bool = strawberry.field(
        description="The establishment a disclosure comes from when it names none."
    )
    version: int

    @classmethod
    def from_model(cls, row: EstablishmentModel) -> Establishment:
        return cls.from_row(establishment_row(row))

    @classmethod
    def from_row(cls, row: EstablishmentRow) -> Establishment:
        return cls(
            id=global_id("Establishment", row.id),
            slug=row.slug,
            name=row.name,
            legal_name=row.legal_name,
            country=row.country,
            targets=list(row.targets),
            main=row.main,
            version=row.version,
        )

    @classmethod
    async def load(cls, pks: Iterable[int]) -> list[Establishment | None]:
        pks = list(pks)
        rows = {r.id: r for r in await EstablishmentModel.filter(id__in=pks)}
        return [cls.from_model(rows[pk]) if pk in rows else None for pk in pks]


@strawberry.input
class EstablishmentInput:
    name: str
    slug: str | None = None
    legal_name: str | None = None
    country: str
    targets: list[Jurisdiction]
    main: bool | None = False


@strawberry.input
class UpdateEstablishmentInput:
    id: strawberry.ID
    expected_version: int
    name: str | None = None
    legal_name: str | None = None
    country: str | None = None
    targets: list[Jurisdiction] | None = None
    main: bool | None = None


@strawberry.type
class EstablishmentPayload:
    establishment: Establishment | None
    user_errors: list[UserError]


@strawberry.type
class EstablishmentQuery:
    @strawberry.field(
        description="The organisation's establishments, the main one first, then by name.",
        extensions=needs(CanReadInventory),
    )
    async def establishments(self) -> list[Establishment]:
        rows = await EstablishmentModel.all().order_by("-main", "name", "id")
        return [Establishment.from_model(r) for r in rows]


@strawberry.type
class EstablishmentMutation:
    @strawberry.mutation(
        description=(
            "Register one of the organisation's own legal entities; the first one registered "
            "is the main one."
        ),
        extensions=mutation_needs(CanManageEstablishments),
    )
    async def register_establishment(
        self, info: Info[Context, None], input: EstablishmentInput
    ) -> EstablishmentPayload:
        async def work() -> Establishment:
            row = await establishments.register_establishment(
                establishments.RegisterEstablishment(
                    rules.EstablishmentTerms(
                        name=input.name,
                        legal_name=input.legal_name,
                        country=input.country,
                        targets=list(input.targets),
                        main=bool(input.main),
                    ),
                    slug=input.slug,
                ),
                actor=info.context.actor,
            )
            return Establishment.from_model(row)

        return await mutation_payload(EstablishmentPayload, "establishment", work)

    @strawberry.mutation(
        description=(
            "Change an establishment (optimistic: expectedVersion); making one main makes the "
            "previous main one an ordinary establishment."
        ),
        extensions=mutation_needs(CanManageEstablishments),
    )
    async def update_establishment(
        self, info: Info[Context, None], input: UpdateEstablishmentInput
    ) -> EstablishmentPayload:
        async def work() -> Establishment:
            pk = decode_id(str(input.id), "Establishment", ["input", "id"])
            row = await establishments.update_establishment(
                establishments.UpdateEstablishment(
                    establishment_id=pk,
                    expected_version=input.expected_version,
                    terms=rules.EstablishmentTerms(
                        name=input.name,
                        legal_name=input.legal_name,
                        country=input.country,
                        targets=None if input.targets is None else list(input.targets),
                        main=input.main,
                    ),
                ),
                actor=info.context.actor,
            )
            return Establishment.from_model(row)

        return await mutation_payload(EstablishmentPayload, "establishment", work)
