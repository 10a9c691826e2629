"""Recipient rows by hand-written SQL (the query builder cost more than the query here): one
SELECT, used by every read of recipients."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson
from tortoise.filters import escape_like

from server.db import disclosures
from server.db.models import AuditEvent, Recipient, StatusChange
from server.db.sql import (
    NOT_READ,
    Statement,
    connection,
    fetch,
    in_turns,
    to_date,
    to_datetime,
)
from server.domain.enums import RecipientStatus
from server.domain.periods import StatusMove
from server.domain.regimes import DataPrivacyFramework, DpfCertification


@functools.cache
def recipient_columns() -> tuple[str, ...]:
    """Every column the model declares (foreign keys are known once tortoise is initialised),
    but the search text, which only the listing's filter reads."""
    projection = Recipient._meta.fields_db_projection
    assert "engaged_by_id" in projection.values(), "read recipients after Tortoise.init"
    return tuple(column for column in projection.values() if column != "search_text")


# Always read: a recipient is found, and a page's cursor made, by them.
KEY_COLUMNS = ("id", "sort_name")


@functools.lru_cache(maxsize=256)
def _select_sql(columns: tuple[str, ...] | None = None) -> str:
    """The SELECT of every column, or of these (of recipient_columns, in its order, the
    KEY_COLUMNS among them). Bounded: the column sets are those of the fields of pages."""
    every = recipient_columns()
    if columns is not None and (
        not set(KEY_COLUMNS) <= set(columns) or columns != tuple(c for c in every if c in columns)
    ):
        raise ValueError(f"not a set of recipient columns in order: {columns}")
    return f"SELECT {', '.join(f'r.{c}' for c in columns or every)} FROM recipient r"


# By value, looked up: the enum call costs microseconds a row.
_FRAMEWORKS = {framework.value: framework for framework in DataPrivacyFramework}
_FRAMEWORK_ORDER = {framework: i for i, framework in enumerate(DataPrivacyFramework)}


def _certification_order(c: DpfCertification) -> tuple[date, int, date]:
    return (c.certified_on, _FRAMEWORK_ORDER[c.framework], c.lapsed_on or date.max)


def sorted_certifications(certifications: Sequence[DpfCertification]) -> list[DpfCertification]:
    """Oldest first (by certifiedOn, then framework, then lapse): the order they are stored and
    read in on every database."""
    return sorted(certifications, key=_certification_order)


def parse_certifications(value: Any) -> list[DpfCertification]:
    """The stored dpf_certifications (JSON text, or the list tortoise decoded) as domain objects,
    oldest first."""
    if value is None or value == "[]" or value == []:
        return []
    items = orjson.loads(value) if isinstance(value, str | bytes) else value
    return sorted_certifications(
        [
            DpfCertification(
                _FRAMEWORKS[item["framework"]],
                date.fromisoformat(item["certifiedOn"]),
                date.fromisoformat(item["lapsedOn"]) if item.get("lapsedOn") else None,
            )
            for item in items
        ]
    )


def stored_certifications(certifications: Sequence[DpfCertification]) -> list[dict[str, Any]]:
    """What the dpf_certifications column holds for these certifications, oldest first."""
    return [
        {
            "framework": c.framework.value,
            "certifiedOn": c.certified_on.isoformat(),
            "lapsedOn": c.lapsed_on.isoformat() if c.lapsed_on else None,
        }
        for c in sorted_certifications(certifications)
    ]


# What SQLite gives as text or integers, as tortoise would type it.
_SQLITE_TYPES = (
    ("dpa_signed_on", to_date),
    ("created_at", to_datetime),
    ("updated_at", to_datetime),
    ("dpf_certified", bool),
    ("international_organisation", bool),
)


@functools.lru_cache(maxsize=256)
def _reading(
    columns: tuple[str, ...] | None, postgres: bool
) -> tuple[tuple[str, ...], dict[str, Any], tuple[tuple[str, Any], ...], bool, bool]:
    """How a row of these columns (None: all) is read: the columns, the row with nothing read
    (each column NOT_READ), the conversions of SQLite's values among them, and whether it
    holds dpf_certifications and services. Bounded: the column sets of pages' fields."""
    read = recipient_columns() if columns is None else columns
    conversions = () if postgres else tuple((c, f) for c, f in _SQLITE_TYPES if c in read)
    nothing = dict.fromkeys(recipient_columns(), NOT_READ)
    return read, nothing, conversions, "dpf_certifications" in read, "services" in read


def recipient_row(
    values: Sequence[Any], postgres: bool, columns: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """A recipient row read by hand-written SQL, with the types tortoise would give it, but
    dpf_certifications, which is read into a list of regimes.DpfCertification. With `columns`
    (a read of only those: see _select_sql), the others hold NOT_READ."""
    read, nothing, conversions, certifications, services = _reading(columns, postgres)
    if columns is None:
        row = dict(zip(read, values, strict=True))
    else:
        row = nothing.copy()
        row.update(zip(read, values, strict=True))
    for column, convert in conversions:
        row[column] = convert(row[column])
    if certifications:
        row["dpf_certifications"] = parse_certifications(row["dpf_certifications"])
    if services:
        listed = row["services"]
        if listed is None:
            row["services"] = []
        elif not isinstance(listed, list):
            parsed = orjson.loads(listed)
            row["services"] = parsed if isinstance(parsed, list) else []
    return row


async def _select(
    st: Statement, where: str, tail: str = "", columns: tuple[str, ...] | None = None
) -> list[dict[str, Any]]:
    conn = connection()
    text = f"{_select_sql(columns)}{f' WHERE {where}' if where else ''}{tail}"
    out: list[dict[str, Any]] = []
    async for chunk in in_turns(await fetch(conn, st, text)):
        out += [recipient_row(r, st.postgres, columns) for r in chunk]
    return out


async def recipients_by_id(ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    st = Statement(connection())
    rows = await _select(st, st.is_in("r.id", list(set(ids))))
    return {row["id"]: row for row in rows}


async def recipient_by_slug(slug: str) -> dict[str, Any] | None:
    st = Statement(connection())
    rows = await _select(st, f"r.slug = {st.param(slug)}")
    return rows[0] if rows else None


async def subprocessors_of(ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    st = Statement(connection())
    rows = await _select(
        st, st.is_in("r.engaged_by_id", list(set(ids))), " ORDER BY r.sort_name, r.id"
    )
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        out[row["engaged_by_id"]].append(row)
    return out


async def recipients_with_status_at(
    ids: Sequence[int], at: datetime | None, columns: tuple[str, ...] | None = None
) -> dict[int, tuple[dict[str, Any], RecipientStatus | None]]:
    """Recipient rows with their status at `at` (from the status history; None: not yet
    registered). With `at` None, the current status. With `columns` (see _select_sql, "status"
    among them), only those are read."""
    if not ids:
        return {}
    conn = connection()
    st = Statement(conn)
    out: dict[int, tuple[dict[str, Any], RecipientStatus | None]] = {}
    for row in await _select(st, st.is_in("r.id", list(set(ids))), columns=columns):
        out[row["id"]] = (row, RecipientStatus(row["status"]) if at is None else None)
    if at is not None:
        st = Statement(conn)
        for rid, status in await fetch(
            conn,
            st,
            "SELECT recipient_id, to_status FROM status_change "
            f"WHERE {st.is_in('recipient_id', list(out))} AND at <= {st.param(at)} "
            "ORDER BY recipient_id, at, id",
        ):
            # Ordered by time: the last row per recipient is its status at `at`.
            out[rid] = (out[rid][0], RecipientStatus(status))
    return out


async def without_dpa_on(roles: Sequence[str], day: date) -> list[int]:
    """Ids of the recipients in these roles with no data processing agreement signed by `day`
    (none recorded, or one signed later): what Art. 28(3) asks of a processor."""
    conn = connection()
    st = Statement(conn)
    rows = await fetch(
        conn,
        st,
        f"SELECT id FROM recipient WHERE {st.is_in('role', list(roles))} AND "
        f"(dpa_signed_on IS NULL OR dpa_signed_on > {st.param(day)}) ORDER BY id",
    )
    return [int(row[0]) for row in rows]


# By value, looked up: calling the enum costs 3 µs a row, and a report reads hundreds of moves.
_STATUSES = {status.value: status for status in RecipientStatus}


async def recipients_with_moves(
    ids: Sequence[int],
) -> dict[int, tuple[dict[str, Any], list[StatusMove]]]:
    """Recipient rows with every status move, by effective time (ties in the order recorded):
    two statements for any number of recipients."""
    if not ids:
        return {}
    conn = connection()
    st = Statement(conn)
    out: dict[int, tuple[dict[str, Any], list[StatusMove]]] = {}
    for row in await _select(st, st.is_in("r.id", list(set(ids)))):
        out[row["id"]] = (row, [])
    st = Statement(conn)
    for rid, status, at, recorded in await fetch(
        conn,
        st,
        "SELECT recipient_id, to_status, at, recorded_at FROM status_change "
        f"WHERE {st.is_in('recipient_id', list(out))} ORDER BY recipient_id, at, id",
    ):
        out[rid][1].append(
            StatusMove(to_datetime(at), _STATUSES[status], to_datetime(recorded))  # type: ignore[arg-type]
        )
    return out


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


async def status_changes_of(recipient_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """Each recipient's moves, oldest first by effective time (ties in the order recorded), in
    one statement for the batch."""
    rows = (
        await StatusChange.filter(recipient_id__in=list(set(recipient_ids)))
        .order_by("recipient_id", "at", "id")
        .values("recipient_id", "to_status", "at", "recorded_at", "actor", "note")
    )
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        out[row["recipient_id"]].append(row)
    return out


@dataclass
class RecipientListing:
    """The dashboard's filter; every part optional, all parts combined with AND."""

    kinds: list[str] | None = None
    statuses: list[str] | None = None
    roles: list[str] | None = None
    country: str | None = None
    # Already expanded to the key and its descendants by the caller.
    data_categories: list[str] | None = None
    search: str | None = None


def _conditions(st: Statement, spec: RecipientListing, today: date) -> list[str]:
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
            f"AND {disclosures.not_ended_on(st, today)})"
        )
    return conditions


async def list_recipients(
    spec: RecipientListing,
    *,
    first: int,
    after: tuple[str, int] | None,
    today: date,
    columns: tuple[str, ...] | None = None,
) -> tuple[list[dict[str, Any]], bool, int]:
    """One page in (sort_name, id) order after the keyset `after`, whether more follow, and the
    total matching the filter. With `columns`, only those are read (see _select_sql): for a
    page whose fields read no others."""
    conn = connection()
    st = Statement(conn)
    conditions = _conditions(st, spec, today)
    if after is not None:
        sort_name, last_id = after
        conditions.append(
            f"(r.sort_name > {st.param(sort_name)} OR (r.sort_name = "
            f"{st.param(sort_name)} AND r.id > {st.param(last_id)}))"
        )
    rows = await _select(
        st,
        " AND ".join(conditions),
        f" ORDER BY r.sort_name, r.id LIMIT {int(first) + 1}",
        columns,
    )
    count_st = Statement(conn)
    count_conditions = _conditions(count_st, spec, today)
    # No WHERE at all without conditions: only then does SQLite count a table from its b-tree
    # (`WHERE 1 = 1` made the page's count 30 times slower).
    where = f" WHERE {' AND '.join(count_conditions)}" if count_conditions else ""
    total = next(iter(await fetch(conn, count_st, f"SELECT count(*) FROM recipient r{where}")))[0]
    return rows[:first], len(rows) > first, int(total)
