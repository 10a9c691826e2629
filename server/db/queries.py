"""Batched reads. Each function answers for many keys in a constant number of queries, so the
GraphQL layer's DataLoaders never issue one query per row."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar, overload

import orjson
from tortoise.filters import escape_like

from server.db.models import (
    AuditEvent,
)
from server.db.sql import Statement, connection, fetch

T = TypeVar("T")

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


class parsed_once(Generic[T]):
    """An attribute computed on first read and then stored on the instance: functools'
    cached_property without the lock Python 3.11 takes on every first read (0.7 µs, paid
    for each of the hundreds of disclosures in a report)."""

    def __init__(self, parse: Callable[[Any], T]) -> None:
        self.parse = parse
        self.name = parse.__name__
        self.__doc__ = parse.__doc__

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> parsed_once[T]: ...
    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...
    def __get__(self, instance: object | None, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.parse(instance)
        return value


# A disclosure's parts, each read from one column of its read model (see models.Disclosure).
DISCLOSURE_PARTS: dict[str, str] = {
    "categories": "categories_text",
    "subject_types": "subject_types_text",
    "purposes": "purposes_text",
    "transfers": "transfers_json",
}
ALL_PARTS = frozenset(DISCLOSURE_PARTS)


class PartNotRead(LookupError):
    """A disclosure part was used that its query did not read: a bug in the caller, never an
    empty answer in disguise."""


@dataclass
class DisclosureRow:
    """One disclosure as read. Its parts arrive as aggregated text (one statement reads any
    number of disclosures) and are split only when something asks for them. A query may leave
    parts out (`parts_read`); asking for one of those raises PartNotRead."""

    id: int
    recipient_id: int
    legal_basis: str
    ground: str
    retention: str | None
    effective_from: date
    effective_to: date | None
    categories_text: str | None = None
    subject_types_text: str | None = None
    purposes_text: str | None = None
    transfers_json: str | None = None
    parts_read: frozenset[str] = ALL_PARTS

    def _read(self, part: str, text: str | None) -> str | None:
        if part not in self.parts_read:
            raise PartNotRead(f"disclosure {self.id}: its {part} were not read")
        return text

    @parsed_once
    def data_categories(self) -> list[str]:
        text = self._read("categories", self.categories_text)
        return text.split(",") if text else []

    @parsed_once
    def subject_types(self) -> list[str]:
        text = self._read("subject_types", self.subject_types_text)
        return text.split(",") if text else []

    @parsed_once
    def purposes(self) -> list[str]:
        text = self._read("purposes", self.purposes_text)
        return text.split(",") if text else []

    @parsed_once
    def transfers(self) -> list[TransferRow]:
        text = self._read("transfers", self.transfers_json)
        if not text or text == "[]":
            return []
        return [TransferRow(c, m, r) for c, m, r in orjson.loads(text)]

    def in_effect_on(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)


async def _recipients_where(where: str, st: Statement, order: bool = False) -> list[dict[str, Any]]:
    """Recipient rows by hand-written SQL: the query builder cost more than the query here."""
    from server.db.reports import recipient_row

    conn = connection()
    columns = ", ".join(RECIPIENT_COLUMNS)
    text = f"SELECT {columns} FROM recipient WHERE {where}"
    if order:
        text += " ORDER BY sort_name, id"
    return [recipient_row(r, st.postgres) for r in await fetch(conn, st, text)]


async def recipients_by_id(ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    st = Statement(connection())
    rows = await _recipients_where(st.is_in("id", list(set(ids))), st)
    return {row["id"]: row for row in rows}


async def recipient_by_slug(slug: str) -> dict[str, Any] | None:
    st = Statement(connection())
    rows = await _recipients_where(f"slug = {st.param(slug)}", st)
    return rows[0] if rows else None


async def subprocessors_of(ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    st = Statement(connection())
    rows = await _recipients_where(st.is_in("engaged_by_id", list(set(ids))), st, order=True)
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        out[row["engaged_by_id"]].append(row)
    return out


async def disclosures_of(
    recipient_ids: Sequence[int],
    *,
    include_ended: bool,
    today: date,
    parts: frozenset[str] = ALL_PARTS,
) -> dict[int, list[DisclosureRow]]:
    from server.db import reports

    found = await reports.disclosures_of_recipients(
        list(set(recipient_ids)), None if include_ended else today, parts
    )
    out: dict[int, list[DisclosureRow]] = defaultdict(list)
    for d in found:
        out[d.recipient_id].append(d)
    return out


async def disclosures_by_id(ids: Sequence[int]) -> dict[int, DisclosureRow]:
    from server.db import reports

    return await reports.disclosures_with_ids(list(set(ids)))


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


def _conditions(st: Statement, spec: RecipientQuery, today: date) -> list[str]:
    """The filter as SQL conditions, to be combined with AND, values always bound."""
    conditions = []
    if spec.kinds is not None:
        conditions.append(st.is_in("r.kind", spec.kinds))
    if spec.statuses is not None:
        conditions.append(st.is_in("r.status", spec.statuses))
    if spec.roles is not None:
        conditions.append(st.is_in("r.role", spec.roles))
    if spec.country is not None:
        conditions.append(f"r.country = {st.param(spec.country)}")
    if spec.search:
        pattern = "%" + escape_like(spec.search.casefold()) + "%"
        conditions.append(f"r.search_text LIKE {st.param(pattern)} ESCAPE '\\'")
    if spec.data_categories is not None:
        conditions.append(
            "r.id IN (SELECT d.recipient_id FROM disclosure d WHERE d.id IN "
            "(SELECT dc.disclosure_id FROM disclosure_category dc WHERE "
            f"{st.is_in('dc.category_id', spec.data_categories)}) "
            f"AND (d.effective_to IS NULL OR d.effective_to > {st.param(today)}))"
        )
    return conditions


def _where(conditions: list[str]) -> str:
    # No WHERE at all without conditions: only then does SQLite count a table from its b-tree
    # (`WHERE 1 = 1` made the page's count 30 times slower).
    return f" WHERE {' AND '.join(conditions)}" if conditions else ""


async def list_recipients(
    spec: RecipientQuery, *, first: int, after: tuple[str, int] | None, today: date
) -> tuple[list[dict[str, Any]], bool, int]:
    """One page in (sort_name, id) order after the keyset `after`, whether more follow, and the
    total matching the filter."""
    from server.db.reports import recipient_row

    conn = connection()
    st = Statement(conn)
    conditions = _conditions(st, spec, today)
    if after is not None:
        sort_name, last_id = after
        conditions.append(
            f"(r.sort_name > {st.param(sort_name)} OR (r.sort_name = "
            f"{st.param(sort_name)} AND r.id > {st.param(last_id)}))"
        )
    columns = ", ".join(f"r.{c}" for c in RECIPIENT_COLUMNS)
    rows = [
        recipient_row(r, st.postgres)
        for r in await fetch(
            conn,
            st,
            f"SELECT {columns} FROM recipient r{_where(conditions)} "
            f"ORDER BY r.sort_name, r.id LIMIT {int(first) + 1}",
        )
    ]
    count_st = Statement(conn)
    total = next(
        iter(
            await fetch(
                conn,
                count_st,
                f"SELECT count(*) FROM recipient r{_where(_conditions(count_st, spec, today))}",
            )
        )
    )[0]
    return rows[:first], len(rows) > first, int(total)
