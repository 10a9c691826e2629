"""Recipient queries and mutations: the dashboard listing, lookups, registration and review."""

from __future__ import annotations

import base64
import binascii
from datetime import date, datetime

import orjson
import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from server.db import recipients as recipient_rows
from server.domain import errors as domain_errors
from server.domain import regimes, validation
from server.domain.enums import RecipientStatus
from server.domain.review import REVIEWED_STATUSES
from server.graphql import enums
from server.graphql.analysis import fields_at, fields_below
from server.graphql.context import Context
from server.graphql.disclosures import DisclosureInput, disclosure_spec
from server.graphql.errors import MAX_DATABASE_ID, UserError, decode_id
from server.graphql.inventory import ChangeRequest, Recipient, recipient_columns_read
from server.graphql.mutations import Reviewed, mutation_payload
from server.graphql.nodes import PageInfo
from server.graphql.permissions import (
    CanChangeStatus,
    CanReadInventory,
    CanWriteInventory,
    mutation_needs,
    needs,
)
from server.services import clock, recipient_changes, registration, review
from server.services.commands import UNSET, ChangeStatus, RegisterRecipient, UpdateRecipient
from server.services.results import RecipientResult

CURSOR_PREFIX = "recipients:"


@strawberry.type(description="An edge in a connection.")
class RecipientEdge:
    cursor: str = strawberry.field(description="A cursor for use in pagination")
    node: Recipient = strawberry.field(description="The item at the end of the edge")


@strawberry.type
class RecipientConnection:
    page_info: PageInfo = strawberry.field(description="Pagination data for this connection")
    edges: list[RecipientEdge] = strawberry.field(
        description="Contains the nodes in this connection"
    )
    total_count: int = strawberry.field(description="How many recipients match the filter.")


@strawberry.input
class RecipientFilter:
    kinds: list[enums.RecipientKind] | None = None
    statuses: list[enums.RecipientStatus] | None = None
    roles: list[enums.ProcessingRole] | None = None
    country: str | None = None
    data_category: str | None = strawberry.field(
        default=None,
        description="Taxonomy-aware: user.contact also matches recipients of user.contact.email.",
    )
    search: str | None = strawberry.field(
        default=None, description="Case-insensitive match on name, legal name and slug."
    )


def encode_cursor(sort_name: str, recipient_id: int) -> str:
    raw = CURSOR_PREFIX + orjson.dumps([sort_name, recipient_id]).decode()
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> tuple[str, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor.encode("ascii")).decode()
        if not raw.startswith(CURSOR_PREFIX):
            raise ValueError(cursor)
        sort_name, recipient_id = orjson.loads(raw[len(CURSOR_PREFIX) :])
        # Checked before any query: PostgreSQL refuses a NUL in text and an id past 32 bits.
        if (
            not isinstance(sort_name, str)
            or "\x00" in sort_name
            or len(sort_name) > 4 * validation.NAME_MAX  # a case-folded name can grow
            or not isinstance(recipient_id, int)
            or isinstance(recipient_id, bool)
            or not 0 < recipient_id <= MAX_DATABASE_ID
        ):
            raise ValueError(cursor)
        return sort_name, recipient_id
    except (ValueError, UnicodeError, binascii.Error, orjson.JSONDecodeError, TypeError) as exc:
        raise GraphQLError(
            "Invalid cursor for `after`: pass an endCursor from an earlier page of the same query.",
            extensions={"code": "BAD_USER_INPUT"},
        ) from exc


def _listing(
    info: Info[Context, None], spec: RecipientFilter | None
) -> recipient_rows.RecipientListing:
    if spec is None:
        return recipient_rows.RecipientListing()
    categories = None
    if spec.data_category is not None:
        if spec.data_category not in info.context.taxonomy.categories:
            raise GraphQLError(f'Unknown data category "{spec.data_category[:100]}".')
        categories = info.context.taxonomy.category_and_descendants(spec.data_category)
    if spec.country is not None and (problem := validation.country_error(spec.country)):
        raise GraphQLError(f"filter.country: {problem}")
    if spec.search is not None and len(spec.search) > validation.SEARCH_MAX:
        raise GraphQLError(
            f"filter.search is {len(spec.search):,} characters long; at most "
            f"{validation.SEARCH_MAX} are allowed (no name, legal name and slug are longer)."
        )
    return recipient_rows.RecipientListing(
        kinds=[k.value for k in spec.kinds] if spec.kinds is not None else None,
        statuses=[s.value for s in spec.statuses] if spec.statuses is not None else None,
        roles=[r.value for r in spec.roles] if spec.roles is not None else None,
        country=spec.country,
        data_categories=categories,
        search=spec.search.strip() if spec.search and spec.search.strip() else None,
    )


@strawberry.type
class RecipientQueries:
    @strawberry.field(
        description="One recipient by global ID or by slug (give exactly one).",
        extensions=needs(CanReadInventory),
    )
    async def recipient(
        self, info: Info[Context, None], id: strawberry.ID | None = None, slug: str | None = None
    ) -> Recipient | None:
        if (id is None) == (slug is None):
            raise GraphQLError("Give exactly one of `id` and `slug`.")
        if slug is not None:
            row = await recipient_rows.recipient_by_slug(slug)
        else:
            try:
                recipient_id = decode_id(str(id), "Recipient", ["id"])
            except domain_errors.UserErrors:
                return None
            row = await info.context.loaders.recipient.load(recipient_id)
        return Recipient.from_row(row, info.context) if row else None

    @strawberry.field(
        description=(
            "Recipients in name order, filtered; `first` defaults to 50 and may be at most 100."
        ),
        extensions=needs(CanReadInventory),
    )
    async def recipients(
        self,
        info: Info[Context, None],
        filter: RecipientFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> RecipientConnection:
        settings = info.context.settings
        size = settings.default_page_size if first is None else first
        if size < 0 or size > settings.max_page_size:
            raise GraphQLError(
                f"`first` must be between 0 and {settings.max_page_size}; got {size}."
            )
        keyset = decode_cursor(after) if after is not None else None
        # Only the columns the fields selected of its recipients read: they are answered
        # under these nodes only.
        raw = info._raw_info
        nodes = fields_at(raw.field_nodes, raw.fragments, "edges", "node")
        rows, has_next, total = await recipient_rows.list_recipients(
            _listing(info, filter),
            first=size,
            after=keyset,
            today=clock.today(),
            columns=recipient_columns_read(fields_below(nodes, raw.fragments)),
        )
        edges = [
            RecipientEdge(
                node=Recipient.from_row(r, info.context),
                cursor=encode_cursor(r["sort_name"], r["id"]),
            )
            for r in rows
        ]
        await Recipient.load_ahead([edge.node for edge in edges], info, "edges", "node")
        return RecipientConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=has_next,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            total_count=total,
        )


@strawberry.type
class RecipientPayload:
    recipient: Recipient | None
    user_errors: list[UserError]
    change: ChangeRequest | None = strawberry.field(
        default=None,
        description="Set when the change waits for review instead of applying at once.",
    )

    @strawberry.field(
        description=(
            "What a reviewer must see before approving or activating (transfer gaps this "
            "recipient would open, sensitive categories, a missing DPA or privacy policy)."
        )
    )
    async def warnings(self, info: Info[Context, None]) -> list[str]:
        """For a recipient APPROVED or ACTIVE as the mutation leaves it; read only when asked."""
        recipient = self.recipient
        if recipient is None or RecipientStatus(recipient.status) not in REVIEWED_STATUSES:
            return []
        return await review.review_warnings(recipient.pk, info.context.taxonomy)


@strawberry.input
class DpfCertificationInput:
    framework: enums.DataPrivacyFramework
    certified_on: date
    lapsed_on: date | None = None

    def to_domain(self) -> regimes.DpfCertification:
        return regimes.DpfCertification(
            regimes.DataPrivacyFramework(self.framework), self.certified_on, self.lapsed_on
        )


DPF_FLAG_DEPRECATION = (
    "Use dpfCertifications: certifications are dated, and the UK Extension is one of its own."
)


@strawberry.input
class RegisterRecipientInput:
    name: str
    slug: str | None = None
    legal_name: str | None = None
    description: str | None = None
    kind: enums.RecipientKind
    role: enums.ProcessingRole
    country: str
    services: list[str] | None = strawberry.field(default_factory=list)
    website: str | None = None
    privacy_policy_url: str | None = None
    dpa_signed_on: date | None = None
    engaged_by: str | None = strawberry.field(
        default=None, description="Slug of the processor that engaged this subprocessor."
    )
    status: enums.RecipientStatus | None = strawberry.field(
        default=enums.RecipientStatus.PROPOSED,
        description=(
            "Intake starts at PROPOSED; importing an existing inventory may set another status."
        ),
    )
    disclosures: list[DisclosureInput] | None = strawberry.field(default_factory=list)
    data_privacy_framework_certified: bool | None = strawberry.field(
        default=False,
        description=(
            "true records an EU_US certification from today; false (the default) changes nothing."
        ),
        deprecation_reason=DPF_FLAG_DEPRECATION,
    )
    dpf_certifications: list[DpfCertificationInput] | None = None
    corporate_group: str | None = None
    international_organisation: bool | None = False
    status_since: datetime | None = strawberry.field(
        default=None,
        description=(
            "When the initial status took effect (default: now; never in the future): for "
            "bringing in an existing inventory with its history."
        ),
    )


@strawberry.input
class UpdateRecipientInput:
    id: strawberry.ID
    expected_version: int = strawberry.field(
        description="Optimistic concurrency: the version the change was made against."
    )
    name: str | None = strawberry.UNSET
    legal_name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    kind: enums.RecipientKind | None = strawberry.UNSET
    role: enums.ProcessingRole | None = strawberry.UNSET
    country: str | None = strawberry.UNSET
    services: list[str] | None = strawberry.UNSET
    website: str | None = strawberry.UNSET
    privacy_policy_url: str | None = strawberry.UNSET
    dpa_signed_on: date | None = strawberry.UNSET
    engaged_by: str | None = strawberry.UNSET
    data_privacy_framework_certified: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description=(
            "true records an EU_US certification from today unless one is in force; false ends "
            "the EU_US certifications in force today (and the UK Extension ones with them)."
        ),
        deprecation_reason=DPF_FLAG_DEPRECATION,
    )
    dpf_certifications: list[DpfCertificationInput] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Replaces the whole list of the recipient's certifications.",
    )
    corporate_group: str | None = strawberry.UNSET
    international_organisation: bool | None = strawberry.UNSET


@strawberry.input
class ChangeRecipientStatusInput:
    id: strawberry.ID
    status: enums.RecipientStatus
    note: str | None = None
    effective_at: datetime | None = strawberry.field(
        default=None,
        description=(
            "When the move took effect (default: now; never in the future, never before the "
            "recipient's previous move). recordedAt stays the server's clock."
        ),
    )


def _unset(value: object) -> object:
    return UNSET if value is strawberry.UNSET else value


def _certifications(
    given: list[DpfCertificationInput] | None,
) -> list[regimes.DpfCertification] | None:
    return None if given is None else [c.to_domain() for c in given]


def _recipient(result: RecipientResult, context: Context) -> Recipient | Reviewed:
    """The recipient as it stands, with the change request when part of the change waits."""
    recipient = Recipient.from_model(result.recipient, context)
    if result.change is None:
        return recipient
    return Reviewed(recipient, ChangeRequest.from_model(result.change))


@strawberry.type
class RecipientMutation:
    @strawberry.mutation(
        description="Register a recipient (and its disclosures) for review.",
        extensions=mutation_needs(CanWriteInventory),
    )
    async def register_recipient(
        self, info: Info[Context, None], input: RegisterRecipientInput
    ) -> RecipientPayload:
        async def work() -> Recipient | Reviewed:
            command = RegisterRecipient(
                name=input.name,
                slug=input.slug,
                legal_name=input.legal_name,
                description=input.description,
                kind=input.kind,
                role=input.role,
                country=input.country,
                services=list(input.services or []),
                website=input.website,
                privacy_policy_url=input.privacy_policy_url,
                dpa_signed_on=input.dpa_signed_on,
                engaged_by=input.engaged_by,
                status=input.status or enums.RecipientStatus.PROPOSED,
                disclosures=[disclosure_spec(d) for d in input.disclosures or []],
                dpf_certified=bool(input.data_privacy_framework_certified),
                dpf_certifications=_certifications(input.dpf_certifications),
                corporate_group=input.corporate_group,
                international_organisation=bool(input.international_organisation),
                status_since=input.status_since,
            )
            return _recipient(
                await registration.register_recipient(
                    command, actor=info.context.actor, role=info.context.role
                ),
                info.context,
            )

        return await mutation_payload(RecipientPayload, "recipient", work)

    @strawberry.mutation(
        description="Change a recipient's details against the version you read.",
        extensions=mutation_needs(CanWriteInventory),
    )
    async def update_recipient(
        self, info: Info[Context, None], input: UpdateRecipientInput
    ) -> RecipientPayload:
        async def work() -> Recipient | Reviewed:
            command = UpdateRecipient(
                recipient_id=decode_id(input.id, "Recipient", ["input", "id"]),
                expected_version=input.expected_version,
                name=_unset(input.name),
                legal_name=_unset(input.legal_name),
                description=_unset(input.description),
                kind=_unset(input.kind),
                role=_unset(input.role),
                country=_unset(input.country),
                services=_unset(input.services),
                website=_unset(input.website),
                privacy_policy_url=_unset(input.privacy_policy_url),
                dpa_signed_on=_unset(input.dpa_signed_on),
                engaged_by=_unset(input.engaged_by),
                dpf_certified=_unset(input.data_privacy_framework_certified),
                dpf_certifications=(
                    UNSET
                    if input.dpf_certifications is strawberry.UNSET
                    else _certifications(input.dpf_certifications)
                ),
                corporate_group=_unset(input.corporate_group),
                international_organisation=_unset(input.international_organisation),
            )
            return _recipient(
                await recipient_changes.update_recipient(
                    command, actor=info.context.actor, role=info.context.role
                ),
                info.context,
            )

        return await mutation_payload(RecipientPayload, "recipient", work)

    @strawberry.mutation(
        description="Move a recipient through its lifecycle, with a note.",
        extensions=mutation_needs(CanChangeStatus),
    )
    async def change_recipient_status(
        self, info: Info[Context, None], input: ChangeRecipientStatusInput
    ) -> RecipientPayload:
        async def work() -> Recipient | Reviewed:
            command = ChangeStatus(
                recipient_id=decode_id(input.id, "Recipient", ["input", "id"]),
                status=input.status,
                note=input.note,
                at=input.effective_at,
            )
            return _recipient(
                await recipient_changes.change_status(
                    command, actor=info.context.actor, role=info.context.role
                ),
                info.context,
            )

        return await mutation_payload(RecipientPayload, "recipient", work)
