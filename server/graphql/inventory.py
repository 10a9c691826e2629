"""Recipient, Disclosure and their parts: built from rows, relations batched through loaders."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from server.db.queries import RECIPIENT_COLUMNS, DisclosureRow, TransferRow
from server.domain.taxonomy import Taxonomy
from server.graphql import enums
from server.graphql.context import Context
from server.graphql.shaped import RowFields, Shaped, ShapedRows, selected_names
from server.graphql.taxonomy import (
    DataCategory,
    Purpose,
    ShapedTerms,
    SubjectType,
    category,
    purpose,
    shaped_terms,
    subject_type,
)


@strawberry.type(description="A transfer of the disclosed data to a country (ISO 3166-1 alpha-2).")
class Transfer:
    country: str
    mechanism: enums.TransferMechanism
    reference: str | None


@strawberry.type
class AuditEvent:
    at: datetime
    actor: str
    action: str
    changes: str = strawberry.field(
        description="JSON object of the fields that changed, each as [before, after]."
    )


@strawberry.type
class Recipient(relay.Node):
    id: relay.NodeID[int]
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
    engaged_by_id: strawberry.Private[int | None]
    registered_by: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Recipient:
        return cls(
            id=row["id"],
            slug=row["slug"],
            name=row["name"],
            legal_name=row["legal_name"],
            description=row["description"],
            kind=enums.RecipientKind(row["kind"]),
            role=enums.ProcessingRole(row["role"]),
            status=enums.RecipientStatus(row["status"]),
            country=row["country"],
            services=list(row["services"] or []),
            website=row["website"],
            privacy_policy_url=row["privacy_policy_url"],
            dpa_signed_on=row["dpa_signed_on"],
            version=row["version"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            data_privacy_framework_certified=bool(row["dpf_certified"]),
            engaged_by_id=row["engaged_by_id"],
            registered_by=row["registered_by"],
        )

    @classmethod
    def from_model(cls, model: Any) -> Recipient:
        return cls.from_row({name: getattr(model, name) for name in RECIPIENT_COLUMNS})

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[Recipient | None]:
        rows = await info.context.loaders.recipient.load_many([int(i) for i in node_ids])
        return [cls.from_row(r) if r else None for r in rows]

    @strawberry.field(description="The processor that engaged this subprocessor, if any.")
    async def engaged_by(self, info: Info[Context, None]) -> Recipient | None:
        if self.engaged_by_id is None:
            return None
        row = await info.context.loaders.recipient.load(self.engaged_by_id)
        return Recipient.from_row(row) if row else None

    @strawberry.field(description="The subprocessors this recipient engaged, by name.")
    async def subprocessors(self, info: Info[Context, None]) -> list[Recipient]:
        rows = await info.context.loaders.subprocessors.load(self.id)
        return [shaped_recipient(r) for r in rows]  # type: ignore[misc]

    @strawberry.field(
        description="Disclosures in effect or still to come; with includeEnded, ended ones too."
    )
    async def disclosures(
        self, info: Info[Context, None], include_ended: bool | None = False
    ) -> list[Disclosure]:
        loaders = info.context.loaders
        loader = loaders.all_disclosures if include_ended else loaders.current_disclosures
        shape = disclosure_shaper(selected_names(info.selected_fields), info.context.taxonomy)
        return [shape(d) for d in await loader.load(self.id)]  # type: ignore[misc]

    @strawberry.field(
        description="The audit events of this recipient and its disclosures, newest first."
    )
    async def history(self, info: Info[Context, None]) -> list[AuditEvent]:
        rows = await info.context.loaders.history.load(self.id)
        return [
            AuditEvent(at=r["at"], actor=r["actor"], action=r["action"], changes=r["changes"])
            for r in rows
        ]


@strawberry.type(
    description=(
        "One flow of personal data to one recipient: what, whose, why, on which basis, "
        "and where it goes."
    )
)
class Disclosure(relay.Node):
    id: relay.NodeID[int]
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

    @classmethod
    def from_row(cls, row: DisclosureRow) -> Disclosure:
        return cls(
            id=row.id,
            legal_basis=enums.LegalBasis(row.legal_basis),
            ground=enums.DisclosureGround(row.ground),
            retention=row.retention,
            effective_from=row.effective_from,
            effective_to=row.effective_to,
            row=row,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[Disclosure | None]:
        rows = await info.context.loaders.disclosure.load_many([int(i) for i in node_ids])
        return [cls.from_row(r) if r else None for r in rows]

    @strawberry.field
    async def recipient(self, info: Info[Context, None]) -> Recipient:
        row = await info.context.loaders.recipient.load(self.row.recipient_id)
        assert row is not None  # a disclosure's recipient is never deleted
        return Recipient.from_row(row)

    @strawberry.field
    def transfers(self) -> list[Transfer]:
        return transfers_of(self.row)

    @strawberry.field
    def data_categories(self, info: Info[Context, None]) -> list[DataCategory]:
        terms = info.context.taxonomy.categories
        return [category(terms[k]) for k in self.row.data_categories]

    @strawberry.field
    def subject_types(self, info: Info[Context, None]) -> list[SubjectType]:
        terms = info.context.taxonomy.subject_types
        return [subject_type(terms[k]) for k in self.row.subject_types]

    @strawberry.field
    def purposes(self, info: Info[Context, None]) -> list[Purpose]:
        terms = info.context.taxonomy.purposes
        return [purpose(terms[k]) for k in self.row.purposes]


def transfers_of(row: DisclosureRow) -> list[Transfer]:
    return [
        Transfer(
            country=t.country, mechanism=enums.TransferMechanism(t.mechanism), reference=t.reference
        )
        for t in row.transfers
    ]


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def shaped_recipient(row: dict[str, Any]) -> Shaped:
    """A recipient's own fields, serialised; relations resolve through loaders on its node."""
    return Shaped(
        {
            "id": relay.to_base64("Recipient", row["id"]),
            "slug": row["slug"],
            "name": row["name"],
            "legalName": row["legal_name"],
            "description": row["description"],
            "kind": str(row["kind"]),
            "role": str(row["role"]),
            "status": str(row["status"]),
            "country": row["country"],
            "services": list(row["services"] or []),
            "website": row["website"],
            "privacyPolicyUrl": row["privacy_policy_url"],
            "dpaSignedOn": _iso(row["dpa_signed_on"]),
            "version": row["version"],
            "createdAt": _iso(row["created_at"]),
            "updatedAt": _iso(row["updated_at"]),
            "dataPrivacyFrameworkCertified": bool(row["dpf_certified"]),
        },
        factory=lambda: Recipient.from_row(row),
    )


def shaped_transfer(transfer: TransferRow) -> Shaped:
    values = {
        "country": transfer.country,
        "mechanism": str(transfer.mechanism),
        "reference": transfer.reference,
    }
    return Shaped(values, None)


# The Disclosure fields a Shaped disclosure holds: the part of its row each needs (see
# DisclosureRow.parts_read) and the expression that serialises it from `row` and `terms`
# (ShapedTerms). Expressions, not functions: each selection compiles from them into one
# function (disclosure_shaper, and projections straight from rows through DISCLOSURE_FIELDS).
DISCLOSURE_VALUES: dict[str, tuple[str | None, str]] = {
    "id": (None, "to_base64('Disclosure', row.id)"),
    "legalBasis": (None, "str(row.legal_basis)"),
    "ground": (None, "str(row.ground)"),
    "retention": (None, "row.retention"),
    "effectiveFrom": (None, "row.effective_from.isoformat()"),
    "effectiveTo": (None, "iso(row.effective_to)"),
    "transfers": ("transfers", "[shaped_transfer(t) for t in row.transfers]"),
    "dataCategories": ("categories", "[terms.categories[k] for k in row.data_categories]"),
    "subjectTypes": ("subject_types", "[terms.subject_types[k] for k in row.subject_types]"),
    "purposes": ("purposes", "[terms.purposes[k] for k in row.purposes]"),
}


def _namespace() -> dict[str, Any]:
    return {
        "to_base64": relay.to_base64,
        "iso": _iso,
        "shaped_transfer": shaped_transfer,
        "Shaped": Shaped,
        "from_row": Disclosure.from_row,
    }


# A page's disclosures are projected straight from their rows through this table.
DISCLOSURE_FIELDS = RowFields(
    {name: expression for name, (_, expression) in DISCLOSURE_VALUES.items()},
    _namespace(),
    context="terms",
)


def disclosure_parts(names: Iterable[str]) -> frozenset[str]:
    """The parts a disclosure's row must hold to serve these fields."""
    return frozenset(part for name in names if (part := DISCLOSURE_VALUES.get(name, (None, ""))[0]))


def disclosure_lists(
    names: Iterable[str], taxonomy: Taxonomy
) -> Callable[[list[DisclosureRow]], ShapedRows]:
    """Lists of disclosures a projection reads straight from the rows through
    DISCLOSURE_FIELDS; where the selection asks for more, each row becomes a Shaped value with
    the named fields."""
    terms = shaped_terms(taxonomy)
    shape = disclosure_shaper(names, taxonomy)
    return lambda rows: ShapedRows(rows, DISCLOSURE_FIELDS, terms, shape)


def disclosure_shaper(
    names: Iterable[str], taxonomy: Taxonomy
) -> Callable[[DisclosureRow], Shaped]:
    """Shapes rows with just the named fields, computed up front: for a list whose selection is
    known, such as the hundreds of disclosures on a page of recipients."""
    shape = _compiled_shaper(frozenset(DISCLOSURE_VALUES.keys() & set(names)))
    terms = shaped_terms(taxonomy)
    return lambda row: shape(row, terms)


@functools.cache
def _compiled_shaper(names: frozenset[str]) -> Callable[[DisclosureRow, ShapedTerms], Shaped]:
    """One function whose body is a single dict display: a function call per field per
    disclosure was a third of a dashboard page. Only the expressions above go into it."""
    values = ", ".join(f"{name!r}: {DISCLOSURE_VALUES[name][1]}" for name in sorted(names))
    source = (
        f"def shape(row, terms):\n    return Shaped({{{values}}}, None, lambda: from_row(row))\n"
    )
    namespace = _namespace()
    exec(compile(source, "<disclosure shaper>", "exec"), namespace)
    shape: Callable[[DisclosureRow, ShapedTerms], Shaped] = namespace["shape"]
    return shape
