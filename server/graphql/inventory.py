"""Recipient, Disclosure and their parts, each declared once: the type's fields are what the
API serves, `from_row` maps a database row onto them, relations resolve through loaders."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import orjson
import strawberry
from graphql import FieldNode, GraphQLObjectType, get_argument_values
from strawberry.types import Info

from server.db import disclosures as disclosure_rows
from server.db import recipients as recipient_rows
from server.db.disclosures import DisclosureRow, TransferRow, parsed_once
from server.db.establishments import EstablishmentRow, main_establishment
from server.db.models import ChangeRequest as ChangeRequestModel
from server.db.models import Recipient as RecipientModel
from server.db.recipients import parse_certifications
from server.domain import dpf, regimes
from server.domain.establishments import exporter_of
from server.graphql import enums
from server.graphql.analysis import fields_at, fields_below, fields_named
from server.graphql.context import ALL_ESTABLISHMENTS, Context, load_all, loaded
from server.graphql.establishments import Establishment
from server.graphql.nodes import Node, global_id
from server.graphql.taxonomy import DataCategory, Purpose, SubjectType, TermObjects


@strawberry.type(description="A transfer of the disclosed data to a country (ISO 3166-1 alpha-2).")
class Transfer:
    country: str
    mechanism: enums.TransferMechanism
    reference: str | None
    signed_on: date | None = strawberry.field(
        description=(
            "When the safeguard took effect for this transfer (the day it was signed); null when "
            "not recorded."
        )
    )
    within_adequacy_scope: bool | None = strawberry.field(
        description=(
            "For a limited adequacy decision (Canada, Japan, Korea for the EEA): the importer is "
            "attested to fall within its scope."
        )
    )

    @classmethod
    def from_row(cls, row: TransferRow) -> Transfer:
        return cls(
            country=row.country,
            mechanism=enums.stored(enums.TransferMechanism, row.mechanism),
            reference=row.reference,
            signed_on=row.signed_on,
            within_adequacy_scope=row.within_adequacy_scope,
        )


@strawberry.type(
    description="A recipient's self-certification under a Data Privacy Framework, as the DPF list "
    "shows it."
)
class DpfCertification:
    framework: enums.DataPrivacyFramework
    certified_on: date
    lapsed_on: date | None = strawberry.field(
        description="The day it lapsed or was withdrawn; null while in force."
    )

    @classmethod
    def from_domain(cls, certification: regimes.DpfCertification) -> DpfCertification:
        return cls(
            framework=enums.stored(enums.DataPrivacyFramework, certification.framework.value),
            certified_on=certification.certified_on,
            lapsed_on=certification.lapsed_on,
        )


@strawberry.type
class AuditEvent:
    at: datetime
    actor: str
    action: str
    changes: str = strawberry.field(
        description="JSON object of the fields that changed, each as [before, after]."
    )


@strawberry.type(description="One move of a recipient through its lifecycle.")
class StatusChange:
    status: enums.RecipientStatus
    effective_at: datetime
    recorded_at: datetime
    actor: str
    note: str | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> StatusChange:
        return cls(
            status=enums.stored(enums.RecipientStatus, row["to_status"]),
            effective_at=row["at"],
            recorded_at=row["recorded_at"],
            actor=row["actor"],
            note=row["note"],
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
    corporate_group: str | None = strawberry.field(
        description=(
            "The corporate group the recipient belongs to (binding corporate rules hold only "
            "within one group)."
        )
    )
    international_organisation: bool = strawberry.field(
        description=(
            "An international organisation (Art. 4(26)): a transfer to it is restricted wherever "
            "its seat is."
        )
    )
    pk: strawberry.Private[int]
    engaged_by_id: strawberry.Private[int | None]
    registered_by: strawberry.Private[str]
    # Its DPF certifications, oldest first (server/db/recipients.py reads them).
    certifications: strawberry.Private[list[regimes.DpfCertification]]
    # The request it was read in: its relations load through the request's loaders.
    context: strawberry.Private[Context]

    @classmethod
    def from_row(cls, row: dict[str, Any], context: Context) -> Recipient:
        """A row of server/db/recipients.py (or a model's columns). Made as the dataclass's
        __init__ makes it, which only sets each field (tests/api/test_listing.py checks it
        does nothing else): its fields in one dict, set as the instance's, for a page of
        recipients without 26 named arguments each (half the cost of the call)."""
        values: dict[str, Any] = {name: row[name] for name in _COPIED_COLUMNS}
        values["context"] = context
        values["id"] = global_id("Recipient", row["id"])
        values["pk"] = row["id"]
        values["kind"] = enums.stored(enums.RecipientKind, row["kind"])
        values["role"] = enums.stored(enums.ProcessingRole, row["role"])
        values["status"] = enums.stored(enums.RecipientStatus, row["status"])
        values["certifications"] = row["dpf_certifications"]
        recipient = object.__new__(cls)
        recipient.__dict__ = values
        return recipient

    @classmethod
    def from_model(cls, model: RecipientModel, context: Context) -> Recipient:
        row = {column: getattr(model, column) for column in RecipientModel._meta.db_fields}
        row["dpf_certifications"] = parse_certifications(row["dpf_certifications"])
        return cls.from_row(row, context)

    @strawberry.field
    def dpf_certifications(self) -> list[DpfCertification]:
        return [DpfCertification.from_domain(c) for c in self.certifications]

    @strawberry.field(
        description=(
            "Certified under the EU-US Data Privacy Framework today: an EU_US certification in "
            "force (from certifiedOn up to, not including, lapsedOn)."
        ),
        deprecation_reason=(
            "Use dpfCertifications: certifications are dated, and the UK Extension is one of "
            "its own."
        ),
    )
    def data_privacy_framework_certified(self) -> bool:
        return dpf.eu_us_in_force(self.certifications, self.context.loaders.today)

    @staticmethod
    async def load_ahead(
        recipients: list[Recipient], info: Info[Context, None], *path: str
    ) -> None:
        """Load in one round trip the relations the query asks of these recipients (found at
        `path` below the resolver's field), so that each recipient's relation is answered
        at once rather than awaited one by one: for a page of 50, no task per recipient."""
        if not recipients:
            return
        raw = info._raw_info
        loaders = info.context.loaders
        recipient_type = raw.schema.get_type("Recipient")
        assert isinstance(recipient_type, GraphQLObjectType)
        pks = [r.pk for r in recipients]
        disclosure_nodes = fields_at(raw.field_nodes, raw.fragments, *path, "disclosures")
        if disclosure_nodes:
            # Disclosures are read, for every recipient of the request, in only the columns
            # that every selection of them anywhere in the document reads.
            everywhere = fields_named(raw.operation, raw.fragments, "disclosures")
            loaders.disclosure_columns = disclosure_columns(fields_below(everywhere, raw.fragments))
        for node in disclosure_nodes:
            include_ended = get_argument_values(
                recipient_type.fields["disclosures"], node, raw.variable_values
            ).get("includeEnded")
            await load_all(loaders.disclosures_of(bool(include_ended)), pks)
        if fields_at(raw.field_nodes, raw.fragments, *path, "subprocessors"):
            await load_all(loaders.subprocessors, pks)
        if fields_at(raw.field_nodes, raw.fragments, *path, "disclosures", "exporter"):
            # What Disclosure.exporter reads: whether its recipient is a subprocessor (these
            # recipients, by id) and the establishments.
            await load_all(loaders.recipient, pks)
            await loaders.establishments.load(ALL_ESTABLISHMENTS)
        if fields_at(raw.field_nodes, raw.fragments, *path, "statusHistory"):
            await load_all(loaders.status_history, pks)

    # Relations read through the request's loaders, plainly (the executor reads them with no
    # resolver call: server/graphql/execution.py): a page's rows are usually loaded already.
    @strawberry.field(description="The processor that engaged this subprocessor, if any.")
    def engaged_by(self) -> Recipient | None:
        if self.engaged_by_id is None:
            return None
        context = self.context
        return loaded(
            context.loaders.recipient,
            self.engaged_by_id,
            lambda row: Recipient.from_row(row, context) if row else None,
        )

    @strawberry.field(description="The subprocessors this recipient engaged, by name.")
    def subprocessors(self) -> list[Recipient]:
        context = self.context
        return loaded(
            context.loaders.subprocessors,
            self.pk,
            lambda rows: [Recipient.from_row(r, context) for r in rows],
        )

    @strawberry.field(
        description="Disclosures in effect or still to come; with includeEnded, ended ones too."
    )
    def disclosures(self, include_ended: bool | None = False) -> list[Disclosure]:
        loaders = self.context.loaders
        terms = self.context.terms
        make = Disclosure.from_row  # looked up once, not for each of a page's hundreds
        return loaded(
            loaders.disclosures_of(bool(include_ended)),
            self.pk,
            lambda rows: [make(d, terms) for d in rows],
        )

    @strawberry.field(
        description="The audit events of this recipient and its disclosures, newest first."
    )
    def history(self) -> list[AuditEvent]:
        return loaded(
            self.context.loaders.history,
            self.pk,
            lambda rows: [
                AuditEvent(at=r["at"], actor=r["actor"], action=r["action"], changes=r["changes"])
                for r in rows
            ],
        )

    @strawberry.field(
        description="Every status the recipient has had, oldest first by effectiveAt."
    )
    def status_history(self) -> list[StatusChange]:
        return loaded(
            self.context.loaders.status_history,
            self.pk,
            lambda rows: [StatusChange.from_row(r) for r in rows],
        )

    @strawberry.field(description="Its changes waiting for a second key, oldest first.")
    def pending_changes(self) -> list[ChangeRequest]:
        return loaded(
            self.context.loaders.pending_changes,
            self.pk,
            lambda rows: [ChangeRequest.from_model(r) for r in rows],
        )


# The columns of its row (server/db/recipients.py recipient_columns, the KEY_COLUMNS always
# read) each field of Recipient reads: a page of recipients reads only those its selection of
# them needs (RecipientQueries.recipients, through recipient_columns_read); a field missing
# here makes it read them all. tests/api/test_listing.py checks that each field answers the
# same from its columns as from the whole row.
RECIPIENT_FIELD_COLUMNS: dict[str, tuple[str, ...]] = {
    "__typename": (),
    "id": (),
    "slug": ("slug",),
    "name": ("name",),
    "legalName": ("legal_name",),
    "description": ("description",),
    "kind": ("kind",),
    "role": ("role",),
    "status": ("status",),
    "country": ("country",),
    "services": ("services",),
    "website": ("website",),
    "privacyPolicyUrl": ("privacy_policy_url",),
    "dpaSignedOn": ("dpa_signed_on",),
    "version": ("version",),
    "createdAt": ("created_at",),
    "updatedAt": ("updated_at",),
    "corporateGroup": ("corporate_group",),
    "internationalOrganisation": ("international_organisation",),
    "dpfCertifications": ("dpf_certifications",),
    "dataPrivacyFrameworkCertified": ("dpf_certifications",),
    "engagedBy": ("engaged_by_id",),
    "subprocessors": (),
    "disclosures": (),
    "history": (),
    "statusHistory": (),
    "pendingChanges": (),
}


def recipient_columns_read(selected: Iterable[FieldNode]) -> tuple[str, ...] | None:
    """The columns (in recipient_columns order) that the fields of these nodes read; None (all
    of them) when one is a field RECIPIENT_FIELD_COLUMNS does not list."""
    wanted = set(recipient_rows.KEY_COLUMNS)
    for node in selected:
        columns = RECIPIENT_FIELD_COLUMNS.get(node.name.value)
        if columns is None:
            return None
        wanted.update(columns)
    return tuple(c for c in recipient_rows.recipient_columns() if c in wanted)


# Every other field of the type is copied from the column of the same name.
_COPIED_COLUMNS = tuple(
    f.name
    for f in dataclasses.fields(Recipient)
    if f.init and f.name not in {"id", "pk", "kind", "role", "status", "certifications", "context"}
)


@strawberry.type(
    description=(
        "One flow of personal data to one recipient: what, whose, why, on which basis, "
        "and where it goes."
    )
)
class Disclosure(Node):
    """Each field but the id is read from the row when selected (a resolver that takes only
    `self` runs with no resolver call: server/graphql/execution.py), so that a page of hundreds
    of disclosures pays only for the fields it shows."""

    row: strawberry.Private[DisclosureRow]
    terms: strawberry.Private[TermObjects]

    @classmethod
    def from_row(cls, row: DisclosureRow, terms: TermObjects) -> Disclosure:
        return cls(id=global_id("Disclosure", row.id), row=row, terms=terms)

    @strawberry.field
    def legal_basis(self) -> enums.LegalBasis:
        return enums.stored(enums.LegalBasis, self.row.legal_basis)

    @strawberry.field
    def ground(self) -> enums.DisclosureGround:
        return enums.stored(enums.DisclosureGround, self.row.ground)

    @strawberry.field(description="ISO 8601 duration (P30D) or a short rule in words.")
    def retention(self) -> str | None:
        return self.row.retention

    @strawberry.field(
        description=(
            "The day the disclosure first took effect (a correction keeps it: its terms before "
            "the correction stay on record for reports at past moments)."
        )
    )
    def effective_from(self) -> date:
        return self.row.started_on

    @strawberry.field(
        description="Moves on with each correction (updateDisclosure's expectedVersion)."
    )
    def version(self) -> int:
        return self.row.version

    @strawberry.field(
        description="The first day the disclosure no longer applies; null while open-ended."
    )
    def effective_to(self) -> date | None:
        return self.row.effective_to

    @strawberry.field
    def frequency(self) -> enums.DisclosureFrequency:
        return enums.stored(enums.DisclosureFrequency, self.row.frequency)

    @strawberry.field(
        description=(
            "Required when the disclosure covers special-category or criminal-offence data; "
            "null otherwise."
        )
    )
    def special_category_condition(self) -> enums.SpecialCategoryCondition | None:
        condition = self.row.special_category_condition
        return (
            None if condition is None else enums.stored(enums.SpecialCategoryCondition, condition)
        )

    @classmethod
    async def load(cls, info: Info[Context, None], pks: Iterable[int]) -> list[Disclosure | None]:
        rows = await info.context.loaders.disclosure.load_many(list(pks))
        return [cls.from_row(r, info.context.terms) if r else None for r in rows]

    @strawberry.field
    async def recipient(self, info: Info[Context, None]) -> Recipient:
        row = await info.context.loaders.recipient.load(self.row.recipient_id)
        assert row is not None  # a disclosure's recipient is never deleted
        return Recipient.from_row(row, info.context)

    @strawberry.field(
        description=(
            "The establishment the data is disclosed from; null for a subprocessor's disclosure, "
            "whose data comes from the processor that engaged it."
        )
    )
    def exporter(self, info: Info[Context, None]) -> Establishment | None:
        """Through the request's loaders: its recipient (batched with every other disclosure's)
        says whether it is a subprocessor's, and the establishments are read once a request."""
        loaders = info.context.loaders
        stored = self.row.exporter_id

        def of_recipient(recipient: dict[str, Any] | None) -> Establishment | None:
            if recipient is None or recipient["engaged_by_id"] is not None:
                return None  # a subprocessor's: no establishment to read
            return loaded(loaders.establishments, ALL_ESTABLISHMENTS, of_establishments)

        def of_establishments(found: dict[int, EstablishmentRow]) -> Establishment | None:
            main = main_establishment(found)
            chosen = exporter_of(stored, main.id if main else None, subprocessor=False)
            row = found.get(chosen) if chosen is not None else None
            return Establishment.from_row(row) if row is not None else None

        return loaded(loaders.recipient, self.row.recipient_id, of_recipient)

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
        # From the stored text, not the row's parsed list: a page reads it once per disclosure.
        text = self.row.categories_text
        if not text:
            return []
        terms = self.terms.categories
        if "," not in text:
            return [terms[text]]  # one category, as most disclosures have: nothing to split
        return [terms[k] for k in text.split(",")]

    @strawberry.field
    def subject_types(self) -> list[SubjectType]:
        terms = self.terms.subject_types
        return [terms[k] for k in self.row.subject_types]

    @strawberry.field
    def purposes(self) -> list[Purpose]:
        return purposes_of(self.row, self.terms)


# The columns of its row (server/db/disclosures.py COLUMNS, the KEY_COLUMNS always read) each
# field of Disclosure reads. Once a page of recipients loads their disclosures ahead, the
# request reads only those its document's selections of disclosures need
# (Recipient.load_ahead); a field missing here makes it read them all.
# tests/api/test_listing.py checks that each field answers the same from its columns as from
# the whole row.
DISCLOSURE_FIELD_COLUMNS: dict[str, tuple[str, ...]] = {
    "__typename": (),
    "id": (),
    "legalBasis": ("legal_basis",),
    "ground": ("ground",),
    "retention": ("retention",),
    "effectiveFrom": ("effective_from", "started_on"),
    "version": ("version",),
    "effectiveTo": ("effective_to",),
    "frequency": ("frequency",),
    "specialCategoryCondition": ("special_category_condition",),
    "recipient": (),
    "exporter": ("exporter_id",),
    "transfers": ("transfers_json",),
    "dataCategories": ("categories_text",),
    "subjectTypes": ("subject_types_text",),
    "purposes": ("purposes_text",),
}


def disclosure_columns(selected: Iterable[FieldNode]) -> tuple[str, ...]:
    """The columns (in COLUMNS order) that the fields of these nodes read; all of them when
    one is a field DISCLOSURE_FIELD_COLUMNS does not list."""
    wanted = set(disclosure_rows.KEY_COLUMNS)
    for node in selected:
        columns = DISCLOSURE_FIELD_COLUMNS.get(node.name.value)
        if columns is None:
            return disclosure_rows.COLUMNS
        wanted.update(columns)
    return tuple(c for c in disclosure_rows.COLUMNS if c in wanted)


def transfers_of(row: DisclosureRow) -> list[Transfer]:
    return [Transfer.from_row(t) for t in row.transfers]


def purposes_of(row: DisclosureRow, terms: TermObjects) -> list[Purpose]:
    purposes = terms.purposes
    return [purposes[k] for k in row.purposes]


@strawberry.type(
    description="A material change to an APPROVED or ACTIVE recipient, waiting for a second key."
)
class ChangeRequest(Node):
    recipient_pk: strawberry.Private[int]
    status: enums.ChangeStatus
    authors: list[str] = strawberry.field(
        description="The keys that authored any part of it; none of them may decide it."
    )
    summary: str = strawberry.field(
        description=(
            "What the change adds, for the reviewer: categories (sensitive first), purposes, "
            "countries and whether each transfer would be a gap, bases."
        )
    )
    changes: str = strawberry.field(
        description="JSON object of the fields that change, each as [before, after]."
    )
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    note: str | None

    @classmethod
    def from_model(cls, change: ChangeRequestModel) -> ChangeRequest:
        authors = orjson.loads(change.authors)
        return cls(
            id=global_id("ChangeRequest", change.id),
            recipient_pk=change.recipient_id,  # type: ignore[attr-defined]
            status=enums.stored(enums.ChangeStatus, change.status),
            authors=[str(a) for a in authors] if isinstance(authors, list) else [],
            summary=change.summary,
            changes=change.changes,
            created_at=change.created_at,
            decided_at=change.decided_at,
            decided_by=change.decided_by,
            note=change.note,
        )

    @strawberry.field
    async def recipient(self, info: Info[Context, None]) -> Recipient:
        row = await info.context.loaders.recipient.load(self.recipient_pk)
        assert row is not None  # a recipient is never deleted
        return Recipient.from_row(row, info.context)
