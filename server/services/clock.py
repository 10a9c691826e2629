"""One place for "now", in UTC, so tests and fixtures can reason about dates."""

from __future__ import annotations

from datetime import UTC, date, datetime


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    return now().date()


def as_utc(moment: datetime) -> datetime:
    """Times are kept in UTC; a naive time from a caller is taken to be UTC already."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
