"""Reads behind `whoReceives` and `recipientsOfCategory`: a fixed number of statements whatever
the size of the inventory or of the answer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import orjson

from server.db.queries import ALL_PARTS, DISCLOSURE_PARTS, RECIPIENT_COLUMNS, DisclosureRow
from server.db.sql import Statement, connection, fetch, to_date, to_datetime
from server.domain.enums import RecipientStatus


@dataclass
class ConsentRow:
    purpose: str
    granted: bool
    recorded_at: datetime


@dataclass
class SubjectRow:
    id: int
    external_ref: str
    subject_type: str
    country: str
    created_at: datetime
    data_categories: list[str] = field(default_factory=list)
    consents: list[ConsentRow] = field(default_factory=list)


async def subject(*, subject_id: int | None, external_ref: str | None) -> SubjectRow | None:
    conn = connection()
    st = Statement(conn)
    where = (
        f"s.id = {st.param(subject_id)}"
        if subject_id is not None
        else f"s.external_ref = {st.param(external_ref)}"
    )
    rows = list(
        await fetch(
            conn,
            st,
            "SELECT s.id, s.external_ref, s.subject_type_id, s.country, s.created_at "
            f"FROM data_subject s WHERE {where}",
        )
    )
    if not rows:
        return None
    sid, ref, subject_type, country, created_at = rows[0]
    found = SubjectRow(sid, ref, subject_type, country, to_datetime(created_at))  # type: ignore[arg-type]
    st = Statement(conn)
    categories = await fetch(
        conn,
        st,
        "SELECT category_id FROM subject_category "
        f"WHERE subject_id = {st.param(sid)} ORDER BY category_id",
    )
    found.data_categories = [r[0] for r in categories]
    st = Statement(conn)
    consents = await fetch(
        conn,
        st,
        "SELECT purpose_id, granted, recorded_at FROM consent_record "
        f"WHERE subject_id = {st.param(sid)} ORDER BY recorded_at, id",
    )
    found.consents = [ConsentRow(p, bool(g), to_datetime(at)) for p, g, at in consents]  # type: ignore[arg-type]
    return found


async def disclosures_reaching(
    subject_type: str | None,
    category_keys: Sequence[str],
    day: date,
    *,
    only_active_now: bool = False,
) -> list[DisclosureRow]:
    """Disclosures in effect on `day` that cover one of `category_keys` (and, when given, the
    subject type), with their categories, subject types, purposes and transfers. Asking about
    now, `only_active_now` leaves out what inactive recipients hold (rule 1 applies anyway)."""
    conn = connection()
    st = Statement(conn)
    # Driven from an index: the audience table when the subject type is known (one range scan
    # per category), the category links otherwise. Intersecting the link tables cost 8x more.
    if subject_type is not None:
        covering = (
            "SELECT a.disclosure_id FROM disclosure_audience a "
            f"WHERE a.subject_type_id = {st.param(subject_type)} "
            f"AND {st.is_in('a.category_id', category_keys)}"
        )
    else:
        covering = (
            "SELECT dc.disclosure_id FROM disclosure_category dc "
            f"WHERE {st.is_in('dc.category_id', category_keys)}"
        )
    conditions = [
        f"d.id IN ({covering})",
        *(
            # Per row, by primary key: listing every active recipient first cost 3 ms.
            ["(SELECT r.status FROM recipient r WHERE r.id = d.recipient_id) = 'ACTIVE'"]
            if only_active_now
            else []
        ),
        f"d.effective_from <= {st.param(day)}",
        f"(d.effective_to IS NULL OR d.effective_to > {st.param(day)})",
    ]
    rows = await fetch(
        conn, st, f"{disclosure_select()} WHERE {' AND '.join(conditions)} ORDER BY d.id"
    )
    return _disclosure_list(rows)


def parts_sql(postgres: bool, table: str) -> str:
    """A disclosure's parts aggregated from the link tables, as stored in its read-model columns
    (categories and subject types by key, purposes as entered, transfers as recorded)."""
    if postgres:
        return (
            "(SELECT string_agg(category_id, ',' ORDER BY category_id) FROM disclosure_category "
            f"WHERE disclosure_id = {table}.id), "
            "(SELECT string_agg(subject_type_id, ',' ORDER BY subject_type_id) "
            f"FROM disclosure_subject_type WHERE disclosure_id = {table}.id), "
            "(SELECT string_agg(purpose_id, ',' ORDER BY position, purpose_id) "
            f"FROM disclosure_purpose WHERE disclosure_id = {table}.id), "
            "(SELECT json_agg(json_build_array(country, mechanism, reference) ORDER BY id)::text "
            f"FROM transfer WHERE disclosure_id = {table}.id)"
        )
    # SQLite 3.40 has no ORDER BY inside aggregates: it aggregates rows in the order an
    # ordered subquery yields them.
    return (
        "(SELECT group_concat(category_id, ',') FROM (SELECT category_id FROM "
        f"disclosure_category WHERE disclosure_id = {table}.id ORDER BY category_id)), "
        "(SELECT group_concat(subject_type_id, ',') FROM (SELECT subject_type_id FROM "
        f"disclosure_subject_type WHERE disclosure_id = {table}.id ORDER BY subject_type_id)), "
        "(SELECT group_concat(purpose_id, ',') FROM (SELECT purpose_id FROM disclosure_purpose "
        f"WHERE disclosure_id = {table}.id ORDER BY position, purpose_id)), "
        "(SELECT json_group_array(json_array(country, mechanism, reference)) FROM (SELECT "
        f"country, mechanism, reference FROM transfer WHERE disclosure_id = {table}.id "
        "ORDER BY id))"
    )


def _disclosure_list(rows: Any, parts: frozenset[str] = ALL_PARTS) -> list[DisclosureRow]:
    """Rows in disclosure_select's column order, unpacked positionally: hundreds a request."""
    out = []
    for rid, recipient, basis, ground, retention, start, end, cats, types, purposes, sent in rows:
        out.append(
            DisclosureRow(
                rid,
                recipient,
                basis,
                ground,
                retention,
                to_date(start),  # type: ignore[arg-type]
                to_date(end),
                cats,
                types,
                purposes,
                sent,
                parts,
            )
        )
    return out


def _disclosure_rows(rows: Any) -> dict[int, DisclosureRow]:
    return {row.id: row for row in _disclosure_list(rows)}


def disclosure_select(parts: frozenset[str] = ALL_PARTS) -> str:
    """The columns _disclosure_list reads; a part left out is selected as NULL."""
    columns = ", ".join(
        f"d.{column}" if part in parts else "NULL" for part, column in DISCLOSURE_PARTS.items()
    )
    return (
        "SELECT d.id, d.recipient_id, d.legal_basis, d.ground, d.retention, d.effective_from, "
        f"d.effective_to, {columns} FROM disclosure d"
    )


async def disclosures_of_recipients(
    recipient_ids: Sequence[int], not_ended_on: date | None, parts: frozenset[str] = ALL_PARTS
) -> list[DisclosureRow]:
    """Recipients' disclosures with the given parts, oldest first; with `not_ended_on`, only
    those that have not ended by that day."""
    if not recipient_ids:
        return []
    conn = connection()
    st = Statement(conn)
    where = st.is_in("d.recipient_id", recipient_ids)
    if not_ended_on is not None:
        where += f" AND (d.effective_to IS NULL OR d.effective_to > {st.param(not_ended_on)})"
    rows = await fetch(
        conn, st, f"{disclosure_select(parts)} WHERE {where} ORDER BY d.effective_from, d.id"
    )
    return _disclosure_list(rows, parts)


async def disclosures_with_transfers_on(day: date) -> list[DisclosureRow]:
    """Disclosures in effect on `day` that record at least one transfer, with their parts."""
    conn = connection()
    st = Statement(conn)
    rows = await fetch(
        conn,
        st,
        f"{disclosure_select()} WHERE d.id IN (SELECT disclosure_id FROM transfer) "
        f"AND d.effective_from <= {st.param(day)} "
        f"AND (d.effective_to IS NULL OR d.effective_to > {st.param(day)}) ORDER BY d.id",
    )
    return _disclosure_list(rows)


async def disclosures_with_ids(ids: Sequence[int]) -> dict[int, DisclosureRow]:
    if not ids:
        return {}
    conn = connection()
    st = Statement(conn)
    return _disclosure_rows(
        await fetch(conn, st, f"{disclosure_select()} WHERE {st.is_in('d.id', ids)}")
    )


async def recipients_with_disclosure_of(category_keys: Sequence[str], day: date) -> list[int]:
    """Recipients with a disclosure in effect on `day` covering one of `category_keys`."""
    conn = connection()
    st = Statement(conn)
    rows = await fetch(
        conn,
        st,
        "SELECT DISTINCT d.recipient_id FROM disclosure d WHERE d.id IN "
        "(SELECT dc.disclosure_id FROM disclosure_category dc WHERE "
        f"{st.is_in('dc.category_id', category_keys)}) "
        f"AND d.effective_from <= {st.param(day)} "
        f"AND (d.effective_to IS NULL OR d.effective_to > {st.param(day)})",
    )
    return [r[0] for r in rows]


async def recipients_with_status_at(
    ids: Sequence[int], at: datetime | None
) -> dict[int, tuple[dict[str, Any], RecipientStatus | None]]:
    """Recipient rows with their status at `at` (from the status history; None: not yet
    registered). With `at` None, the current status."""
    if not ids:
        return {}
    conn = connection()
    st = Statement(conn)
    columns = ", ".join(RECIPIENT_COLUMNS)
    rows = await fetch(
        conn, st, f"SELECT {columns} FROM recipient WHERE {st.is_in('id', list(set(ids)))}"
    )
    out: dict[int, tuple[dict[str, Any], RecipientStatus | None]] = {}
    for r in rows:
        row = recipient_row(r, st.postgres)
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


def recipient_row(values: Sequence[Any], postgres: bool) -> dict[str, Any]:
    """A recipient row read by hand-written SQL, with the types tortoise would give it."""
    row = dict(zip(RECIPIENT_COLUMNS, values, strict=True))
    if not postgres:
        row["dpa_signed_on"] = to_date(row["dpa_signed_on"])
        row["created_at"] = to_datetime(row["created_at"])
        row["updated_at"] = to_datetime(row["updated_at"])
        row["dpf_certified"] = bool(row["dpf_certified"])
    row["services"] = _json_list(row["services"])
    return row


def _json_list(value: Any) -> list[str]:

    if value is None:
        return []
    if isinstance(value, list):
        return value
    parsed = orjson.loads(value)
    return parsed if isinstance(parsed, list) else []
