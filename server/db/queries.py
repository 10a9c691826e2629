"""Batched reads. Each function answers for many keys in a constant number of queries, so the
GraphQL layer's DataLoaders never issue one query per row."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tortoise.expressions import Q, Subquery

from server.db.models import (
    AuditEvent,
    Disclosure,
    DisclosureCategory,
    DisclosurePurpose,
    DisclosureSubjectType,
    Recipient,
    Transfer,
)

RECIPIENT_COLUMNS = (
    "id",
    "slug",
    "name",
    "sort_name",
    "legal_name",
    "description",
    "kind",
    "role",
    "status",
    "country",
    "services",
    "website",
    "privacy_policy_url",
    "dpa_signed_on",
    "engaged_by_id",
    "dpf_certified",
    "registered_by",
    "version",
    "created_at",
    "updated_at",
)


@dataclass
class TransferRow:
    country: str
    mechanism: str
    reference: str | None


@dataclass
class DisclosureRow:
    id: int
    recipient_id: int
    legal_basis: str
    ground: str
    retention: str | None
    effective_from: date
    effective_to: date | None
    data_categories: list[str] = field(default_factory=list)
    subject_types: list[str] = field(default_factory=list)
    purposes: list[str] = field(default_factory=list)
    transfers: list[TransferRow] = field(default_factory=list)

    def in_effect_on(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)


async def recipients_by_id(ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    rows = await Recipient.filter(id__in=list(set(ids))).values(*RECIPIENT_COLUMNS)
    return {row["id"]: row for row in rows}


async def recipient_by_slug(slug: str) -> dict[str, Any] | None:
    rows = await Recipient.filter(slug=slug).values(*RECIPIENT_COLUMNS)
    return rows[0] if rows else None


async def subprocessors_of(ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    rows = (
        await Recipient.filter(engaged_by_id__in=list(set(ids)))
        .order_by("sort_name", "id")
        .values(*RECIPIENT_COLUMNS)
    )
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        out[row["engaged_by_id"]].append(row)
    return out


async def _complete(disclosures: list[DisclosureRow]) -> list[DisclosureRow]:
    """Attach categories, subject types, purposes and transfers: four queries for any number."""
    if not disclosures:
        return disclosures
    by_id = {d.id: d for d in disclosures}
    ids = list(by_id)
    for link_id, category in (
        await DisclosureCategory.filter(disclosure_id__in=ids)
        .order_by("category_id")
        .values_list("disclosure_id", "category_id")
    ):
        by_id[link_id].data_categories.append(category)
    for link_id, subject_type in (
        await DisclosureSubjectType.filter(disclosure_id__in=ids)
        .order_by("subject_type_id")
        .values_list("disclosure_id", "subject_type_id")
    ):
        by_id[link_id].subject_types.append(subject_type)
    for link_id, purpose in (
        await DisclosurePurpose.filter(disclosure_id__in=ids)
        .order_by("position", "purpose_id")
        .values_list("disclosure_id", "purpose_id")
    ):
        by_id[link_id].purposes.append(purpose)
    for link_id, country, mechanism, reference in (
        await Transfer.filter(disclosure_id__in=ids)
        .order_by("id")
        .values_list("disclosure_id", "country", "mechanism", "reference")
    ):
        by_id[link_id].transfers.append(TransferRow(country, mechanism, reference))
    return disclosures


DISCLOSURE_COLUMNS = (
    "id",
    "recipient_id",
    "legal_basis",
    "ground",
    "retention",
    "effective_from",
    "effective_to",
)


async def disclosures_of(
    recipient_ids: Sequence[int], *, include_ended: bool, today: date
) -> dict[int, list[DisclosureRow]]:
    query = Disclosure.filter(recipient_id__in=list(set(recipient_ids)))
    if not include_ended:
        query = query.filter(Q(effective_to=None) | Q(effective_to__gt=today))
    rows = await query.order_by("effective_from", "id").values(*DISCLOSURE_COLUMNS)
    disclosures = await _complete([DisclosureRow(**row) for row in rows])
    out: dict[int, list[DisclosureRow]] = defaultdict(list)
    for d in disclosures:
        out[d.recipient_id].append(d)
    return out


async def disclosures_by_id(ids: Sequence[int]) -> dict[int, DisclosureRow]:
    rows = await Disclosure.filter(id__in=list(set(ids))).values(*DISCLOSURE_COLUMNS)
    return {d.id: d for d in await _complete([DisclosureRow(**row) for row in rows])}


async def audit_events_of(recipient_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    rows = (
        await AuditEvent.filter(recipient_id__in=list(set(recipient_ids)))
        .order_by("-id")
        .values("recipient_id", "at", "actor", "action", "changes")
    )
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        out[row["recipient_id"]].append(row)
    return out


@dataclass
class RecipientQuery:
    """The dashboard filter; every part optional, all parts combined with AND."""

    kinds: list[str] | None = None
    statuses: list[str] | None = None
    roles: list[str] | None = None
    country: str | None = None
    # Already expanded to the key and its descendants by the caller.
    data_categories: list[str] | None = None
    search: str | None = None


def _filtered(spec: RecipientQuery, today: date) -> Any:
    query = Recipient.all()
    if spec.kinds is not None:
        query = query.filter(kind__in=spec.kinds)
    if spec.statuses is not None:
        query = query.filter(status__in=spec.statuses)
    if spec.roles is not None:
        query = query.filter(role__in=spec.roles)
    if spec.country is not None:
        query = query.filter(country=spec.country)
    if spec.search:
        query = query.filter(search_text__contains=spec.search.casefold())
    if spec.data_categories is not None:
        current = Disclosure.filter(Q(effective_to=None) | Q(effective_to__gt=today)).filter(
            id__in=Subquery(
                DisclosureCategory.filter(category_id__in=spec.data_categories).values_list(
                    "disclosure_id", flat=True
                )
            )
        )
        query = query.filter(id__in=Subquery(current.values_list("recipient_id", flat=True)))
    return query


async def list_recipients(
    spec: RecipientQuery, *, first: int, after: tuple[str, int] | None, today: date
) -> tuple[list[dict[str, Any]], bool, int]:
    """One page in (sort_name, id) order after the keyset `after`, whether more follow, and the
    total matching the filter."""
    base = _filtered(spec, today)
    page = base
    if after is not None:
        sort_name, last_id = after
        page = page.filter(Q(sort_name__gt=sort_name) | Q(sort_name=sort_name, id__gt=last_id))
    rows = await page.order_by("sort_name", "id").limit(first + 1).values(*RECIPIENT_COLUMNS)
    total = await _filtered(spec, today).count()
    return rows[:first], len(rows) > first, total
