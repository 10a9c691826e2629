"""One place for "now", in UTC, so tests and fixtures can reason about dates."""

from __future__ import annotations

from datetime import UTC, date, datetime

from server.domain import history


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    return now().date()


# The rule lives with the other rules on times (server/domain/history.py).
as_utc = history.as_utc
