"""The two clocks of issue 12 §1 and §3 in plain Python: a fact's time in the world (a consent's
decidedAt, a subject version's validFrom) is the caller's, never in the future; part 2's
recordedAt, sent alone, is read as decidedAt; subject versions hold in validFrom order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from server.domain.errors import ErrorCollector
from server.domain.history import as_utc, becomes_current, consent_decided_at, world_time

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
PATH = ["input", "validFrom"]


def test_as_utc() -> None:
    assert as_utc(datetime(2024, 1, 1, 10, 0)) == datetime(2024, 1, 1, 10, 0, tzinfo=UTC)
    plus_two = timezone(timedelta(hours=2))
    moved = as_utc(datetime(2024, 1, 1, 10, 0, tzinfo=plus_two))
    assert moved == datetime(2024, 1, 1, 8, 0, tzinfo=UTC) and moved.tzinfo == UTC


# (given, answer, error: None or a fragment of the message)
WORLD_TIMES = [
    (None, NOW, None),  # default: now
    (NOW, NOW, None),
    (NOW - timedelta(days=900), NOW - timedelta(days=900), None),
    (datetime(2025, 6, 1, 11, 0), datetime(2025, 6, 1, 11, 0, tzinfo=UTC), None),  # naive: UTC
    (NOW + timedelta(microseconds=1), NOW, "validFrom must not be in the future."),
    (datetime(2025, 6, 1, 12, 30), NOW, "validFrom must not be in the future."),
    (datetime(1850, 1, 1, tzinfo=UTC), NOW, "1900-2200"),
    (datetime(9999, 1, 1, tzinfo=UTC), NOW, "1900-2200"),
]


@pytest.mark.parametrize(("given", "answer", "error"), WORLD_TIMES)
def test_world_time(given: datetime | None, answer: datetime, error: str | None) -> None:
    errors = ErrorCollector()
    assert world_time(errors, PATH, given, NOW) == answer
    if error is None:
        assert not errors
    else:
        assert [(e.field, error in e.message) for e in errors.errors] == [(PATH, True)]


PAST = NOW - timedelta(days=30)
LATER = NOW + timedelta(days=1)
# (decidedAt, part 2's recordedAt, answer, error path or None)
CONSENT_TIMES = [
    (None, None, NOW, None),
    (PAST, None, PAST, None),
    (None, PAST, PAST, None),  # part 2's recordedAt alone is read as decidedAt
    (PAST, PAST, NOW, ["input", "recordedAt"]),  # both: an error, on recordedAt
    (PAST, NOW, NOW, ["input", "recordedAt"]),
    (LATER, None, NOW, ["input", "decidedAt"]),
    (None, LATER, NOW, ["input", "recordedAt"]),
]


@pytest.mark.parametrize(("decided", "recorded", "answer", "error_path"), CONSENT_TIMES)
def test_consent_decided_at(
    decided: datetime | None,
    recorded: datetime | None,
    answer: datetime,
    error_path: list[str] | None,
) -> None:
    errors = ErrorCollector()
    found = consent_decided_at(errors, ["input"], decided_at=decided, recorded_at=recorded, now=NOW)
    assert found == answer
    assert [e.field for e in errors.errors] == ([error_path] if error_path else [])


def test_both_consent_times_name_the_rule() -> None:
    errors = ErrorCollector()
    consent_decided_at(errors, ["input"], decided_at=PAST, recorded_at=PAST, now=NOW)
    assert "Give decidedAt only" in errors.errors[0].message


# (new version's validFrom, the latest validFrom so far, is the new one current)
VERSIONS = [
    (PAST, None, True),  # a new subject's first version
    (NOW, PAST, True),
    (PAST, PAST, True),  # same validFrom: the one recorded later holds
    (PAST - timedelta(microseconds=1), PAST, False),  # a correction of the past
    (PAST - timedelta(days=365), NOW, False),
]


@pytest.mark.parametrize(("valid_from", "latest", "current"), VERSIONS)
def test_becomes_current(valid_from: datetime, latest: datetime | None, current: bool) -> None:
    assert becomes_current(valid_from, latest) is current
