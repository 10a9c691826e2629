"""A data subject's row, categories and consent log, by hand-written SQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from server.db.sql import Statement, connection, fetch, to_datetime


@dataclass
class ConsentRow:
    purpose: str
    granted: bool
    # When the person decided (the caller's word), and when this service recorded it.
    decided_at: datetime
    recorded_at: datetime
    explicit: bool = False


@dataclass(frozen=True)
class SubjectVersionRow:
    id: int
    subject_type: str
    country: str
    data_categories: tuple[str, ...]
    valid_from: datetime
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
    versions: list[SubjectVersionRow] = field(default_factory=list)


async def subject_versions(subject_id: int) -> list[SubjectVersionRow]:
    """Every recorded version of a subject's facts, in valid_from order (then recorded_at, id)."""
    conn = connection()
    st = Statement(conn)
    rows = await fetch(
        conn,
        st,
        "SELECT id, subject_type_id, country, categories_text, valid_from, recorded_at "
        f"FROM subject_version WHERE subject_id = {st.param(subject_id)} "
        "ORDER BY valid_from, recorded_at, id",
    )
    return [
        SubjectVersionRow(
            vid,
            subject_type,
            country,
            tuple(categories.split(",")) if categories else (),
            to_datetime(valid_from),  # type: ignore[arg-type]
            to_datetime(recorded_at),  # type: ignore[arg-type]
        )
        for vid, subject_type, country, categories, valid_from, recorded_at in rows
    ]


async def subject(
    *, subject_id: int | None, external_ref: str | None, with_versions: bool = False
) -> SubjectRow | None:
    """The subject's current facts and consent log; with `with_versions`, every version of its
    facts too (subject_versions)."""
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
        "SELECT purpose_id, granted, decided_at, recorded_at, explicit FROM consent_record "
        f"WHERE subject_id = {st.param(sid)} ORDER BY decided_at, recorded_at, id",
    )
    found.consents = [
        ConsentRow(p, bool(g), to_datetime(decided), to_datetime(recorded), bool(e))  # type: ignore[arg-type]
        for p, g, decided, recorded, e in consents
    ]
    if with_versions:
        found.versions = await subject_versions(sid)
    return found
