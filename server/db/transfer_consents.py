"""A subject's transfer consents (GDPR Art. 49(1)(a)) by hand-written SQL, oldest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from server.db.sql import Statement, connection, fetch, to_datetime


@dataclass(frozen=True)
class TransferConsentRow:
    recipient_id: int
    country: str
    granted: bool
    decided_at: datetime
    recorded_at: datetime


async def transfer_consents_of(subject_id: int) -> list[TransferConsentRow]:
    """Every decision, by decided_at, ties by recorded_at (the order they count in)."""
    conn = connection()
    st = Statement(conn)
    rows = await fetch(
        conn,
        st,
        "SELECT recipient_id, country, granted, decided_at, recorded_at FROM transfer_consent "
        f"WHERE subject_id = {st.param(subject_id)} ORDER BY decided_at, recorded_at, id",
    )
    return [
        TransferConsentRow(
            rid,
            country,
            bool(granted),
            to_datetime(decided),  # type: ignore[arg-type]
            to_datetime(recorded),  # type: ignore[arg-type]
        )
        for rid, country, granted, decided, recorded in rows
    ]
