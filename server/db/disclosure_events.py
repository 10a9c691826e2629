"""Disclosure events (one actual disclosure of one person's data under an ON_REQUEST disclosure)
by hand-written SQL: append-only, read by id and per subject."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from server.db.sql import Statement, connection, fetch, to_datetime


@dataclass(frozen=True)
class EventRow:
    id: int
    disclosure_id: int
    recipient_id: int
    subject_id: int
    occurred_at: datetime
    reference: str
    note: str | None
    # This service's clock, and the key that recorded it.
    recorded_at: datetime
    actor: str


_SELECT = (
    "SELECT e.id, e.disclosure_id, d.recipient_id, e.subject_id, e.occurred_at, e.reference, "
    "e.note, e.recorded_at, e.actor FROM disclosure_event e "
    "JOIN disclosure d ON d.id = e.disclosure_id"
)


async def _select(st: Statement, where: str) -> list[EventRow]:
    conn = connection()
    rows = await fetch(conn, st, f"{_SELECT} WHERE {where} ORDER BY e.occurred_at, e.id")
    return [
        EventRow(
            eid,
            disclosure,
            recipient,
            subject,
            to_datetime(occurred),  # type: ignore[arg-type]
            reference,
            note,
            to_datetime(recorded),  # type: ignore[arg-type]
            actor,
        )
        for eid, disclosure, recipient, subject, occurred, reference, note, recorded, actor in rows
    ]


async def events_by_id(ids: Sequence[int]) -> dict[int, EventRow]:
    if not ids:
        return {}
    st = Statement(connection())
    return {row.id: row for row in await _select(st, st.is_in("e.id", list(set(ids))))}


async def events_of_subject(
    subject_id: int, up_to: datetime | None = None, known_at: datetime | None = None
) -> list[EventRow]:
    """A subject's events, oldest first (occurred_at, id): with `up_to`, those that occurred by
    then; with `known_at`, those recorded by then (an answer as it was known at a moment)."""
    st = Statement(connection())
    conditions = [f"e.subject_id = {st.param(subject_id)}"]
    if up_to is not None:
        conditions.append(f"e.occurred_at <= {st.param(up_to)}")
    if known_at is not None:
        conditions.append(f"e.recorded_at <= {st.param(known_at)}")
    return await _select(st, " AND ".join(conditions))
