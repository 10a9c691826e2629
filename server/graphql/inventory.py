"""Recipient, Disclosure and their parts, each declared once: the type's fields are what the
API serves, `from_row` maps a database row onto them, relations resolve through loaders."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import strawberry
from strawberry.types import Info

from server.db.disclosures import DisclosureRow, TransferRow, parsed_once
from server.db.models import Recipient as RecipientModel
from server.graphql import enums
from server.graphql.context import Context
from server.graphql.nodes import Node, global_id
from server.graphql.taxonomy import DataCategory, Purpose, SubjectType, TermObjects


@strawberry.type(description="A transfer of the disclosed data to a country (ISO 3166-1 alpha-2).")
class Transfer:
    country: str
    mechanism: enums.TransferMechanism
    reference: str | None

    @classmethod
    def from_row(cls, row: TransferRow) -> Transfer:
        return cls(
            country=row.country,
            mechanism=enums.stored(enums.TransferMechanism, row.mechanism),
            reference=row.reference,
        )


@strawberry.type
class AuditEvent:
    at: datetime
    actor: str
    action: str
    changes: str = strawberry.field(
        description="JSON object of the fields that changed, each as [before, after]."
    )


@strawberry.type
class Recipient(Node):
    slug: str
    name: str
    legal_name: str | None
    description: str | None = strawberry.field(
        description="What the recipient does with the data, in a sentence or two."
    )
    kind: enums.RecipientKind
    role: enums.ProcessingRole
    status: enums.RecipientStatus
    country: str = strawberry.field(description="ISO 3166-1 alpha-2 country of establishment.")
    services: list[str] = strawberry.field(
        description=(
            "Free tags for what the recipient does: hosting, email-delivery, anti-fraud, search ..."
        )
    )
    website: str | None
    privacy_policy_url: str | None
    dpa_signed_on: date | None
    version: int
    created_at: datetime
    updated_at: datetime
    data_privacy_framework_certified: bool = strawberry.field(
        description="Certified under the EU-US Data Privacy Framework (and its UK Extension)."
    )
    pk: strawberry.Private[int]
    engaged_by_id: strawberry.Private[int | None]
    registered_by: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Recipient:
        """A row of server/db/recipients.py (or a model's columns). One dict of arguments,
        filled in place: merging named arguments with `**` costs a third of the call."""
        values: dict[str, Any] = {name: row[name] for name in _COPIED_COLUMNS}
        values["id"] = global_id("Recipient", row["id"])
        values["pk"] = row["id"]
        values["kind"] = enums.stored(enums.RecipientKind, row["kind"])
        values["role"] = enums.stored(enums.ProcessingRole, row["role"])
        values["status"] = enums.stored(enums.RecipientStatus, row["status"])
        values["data_privacy_framework_certified"] = row["dpf_certified"]
        return cls(**values)

    @classmethod
    def from_model(cls, model: RecipientModel) -> Recipient:
        return cls.from_row(
            {column: getattr(model, column) for column in RecipientModel._meta.db_fields}
        )

    @strawberry.field(description="The processor that engaged this subprocessor, if any.")
    async def engaged_by(self, info: Info[Context, None]) -> Recipient | None:
        if self.engaged_by_id is None:
            return None
        row = await info.context.loaders.recipient.load(self.engaged_by_id)
        return Recipient.from_row(row) if row else None

    @strawberry.field(description="The subprocessors this recipient engaged, by name.")
    async def subprocessors(self, info: Info[Context, None]) -> list[Recipient]:
        return [
            Recipient.from_row(r) for r in await info.context.loaders.subprocessors.load(self.pk)
        ]

    @strawberry.field(
        description="Disclosures in effect or still to come; with includeEnded, ended ones too."
    )
    async def disclosures(
        self, info: Info[Context, None], include_ended: bool | None = False
    ) -> list[Disclosure]:
        loaders = info.context.loaders
        loader = loaders.all_disclosures if include_ended else loaders.current_disclosures
        terms = info.context.terms
        return [Disclosure.from_row(d, terms) for d in await loader.load(self.pk)]

    @strawberry.field(
        description="The audit events of this recipient and its disclosures, newest first."
    )
    async def history(self, info: Info[Context, None]) -> list[AuditEvent]:
        rows = await info.context.loaders.history.load(self.pk)
        return [
            AuditEvent(at=r["at"], actor=r["actor"], action=r["action"], changes=r["changes"])
            for r in rows
        ]


# Every other field of the type is copied from the column of the same name.
_COPIED_COLUMNS = tuple(
    f.name
    for f in dataclasses.fields(Recipient)
    if f.init
    and f.name not in {"id", "pk", "kind", "role", "status", "data_privacy_framework_certified"}
)


@strawberry.type(
    description=(
        "One flow of personal data to one recipient: what, whose, why, on which basis, "
        "and where it goes."
    )
)
class Disclosure(Node):
    legal_basis: enums.LegalBasis
    ground: enums.DisclosureGround
    retention: str | None = strawberry.field(
        description="ISO 8601 duration (P30D) or a short rule in words."
    )
    effective_from: date
    effective_to: date | None = strawberry.field(
        description="The first day the disclosure no longer applies; null while open-ended."
    )
    row: strawberry.Private[DisclosureRow]
    terms: strawberry.Private[TermObjects]

    @classmethod
    def from_row(cls, row: DisclosureRow, terms: TermObjects) -> Disclosure:
        return cls(
            id=global_id("Disclosure", row.id),
            legal_basis=enums.stored(enums.LegalBasis, row.legal_basis),
            ground=enums.stored(enums.DisclosureGround, row.ground),
            retention=row.retention,
            effective_from=row.effective_from,
            effective_to=row.effective_to,
            row=row,
            terms=terms,
        )

    @classmethod
    async def load(cls, info: Info[Context, None], pks: Iterable[int]) -> list[Disclosure | None]:
        rows = await info.context.loaders.disclosure.load_many(list(pks))
        return [cls.from_row(r, info.context.terms) if r else None for r in rows]

    @strawberry.field
    async def recipient(self, info: Info[Context, None]) -> Recipient:
        row = await info.context.loaders.recipient.load(self.row.recipient_id)
        assert row is not None  # a disclosure's recipient is never deleted
        return Recipient.from_row(row)

    # The parts below are read from the row only when selected; each resolver takes only `self`,
    # so it runs without the cost of a resolver call (server/graphql/execution.py).
    @strawberry.field
    def transfers(self) -> list[Transfer]:
        return self.transfer_objects

    @parsed_once
    def transfer_objects(self) -> list[Transfer]:
        """The row's transfers as schema objects, made on first use and kept: a report shows
        them under the disclosure and again under its reason."""
        return transfers_of(self.row)

    @strawberry.field
    def data_categories(self) -> list[DataCategory]:
        terms = self.terms.categories
        return [terms[k] for k in self.row.data_categories]

    @strawberry.field
    def subject_types(self) -> list[SubjectType]:
        terms = self.terms.subject_types
        return [terms[k] for k in self.row.subject_types]

    @strawberry.field
    def purposes(self) -> list[Purpose]:
        return purposes_of(self.row, self.terms)


def transfers_of(row: DisclosureRow) -> list[Transfer]:
    return [Transfer.from_row(t) for t in row.transfers]


def purposes_of(row: DisclosureRow, terms: TermObjects) -> list[Purpose]:
    purposes = terms.purposes
    return [purposes[k] for k in row.purposes]
