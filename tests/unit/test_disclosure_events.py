"""The checks on one recorded disclosure event (issue 12 §4): an event must be something that
could have happened under the inventory's facts at the moment it occurred."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from server.domain import disclosure_events as events
from server.domain.enums import DisclosureFrequency, LegalBasis, RecipientStatus
from server.domain.errors import ErrorCollector
from server.domain.periods import SubjectVersion, version_at
from server.domain.who_receives import DisclosureFacts

PATH = ["input"]
NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
AT = datetime(2025, 3, 10, 23, 30, tzinfo=UTC)
POLICE = DisclosureFacts(
    id=1,
    recipient_id=1,
    legal_basis=LegalBasis.LEGAL_OBLIGATION,
    frequency=DisclosureFrequency.ON_REQUEST,
    effective_from=date(2024, 1, 1),
    effective_to=date(2025, 3, 11),
    subject_types=("platform_user",),
    data_categories=("user.contact",),
    purposes=("essential.legal_obligation",),
)


def version(
    vid: int, kind: str, categories: tuple[str, ...], valid_from: datetime, recorded_at: datetime
) -> SubjectVersion:
    return SubjectVersion(valid_from, kind, "GB", categories, recorded_at, vid)


USER = version(1, "platform_user", ("user.contact.email",), datetime(2023, 6, 1, tzinfo=UTC), NOW)
LATE = version(
    9, "platform_user", ("user.contact.email",), datetime(2025, 3, 10, 23, 31, tzinfo=UTC), NOW
)


def fields(
    *,
    at: datetime = AT,
    disclosure: DisclosureFacts = POLICE,
    status: RecipientStatus | None = RecipientStatus.ACTIVE,
    versions: tuple[SubjectVersion, ...] = (USER,),
) -> list[list[str] | None]:
    errors = ErrorCollector()
    events.check_event(
        errors,
        PATH,
        occurred_at=at,
        disclosure=disclosure,
        recipient_name="Metro Police",
        recipient_status=status,
        versions=versions,
    )
    return [e.field for e in errors.errors]


def with_(**changes: object) -> DisclosureFacts:
    values = {**POLICE.__dict__, **changes}
    return DisclosureFacts(**values)  # type: ignore[arg-type]


OCCURRED = [*PATH, "occurredAt"]
SUBJECT = [*PATH, "subject"]
DISCLOSURE = [*PATH, "disclosure"]


@pytest.mark.parametrize(
    ("case", "kwargs", "expected"),
    [
        ("an event that could have happened", {}, []),
        # Only data that goes on request is disclosed one event at a time.
        (
            "under a CONTINUOUS disclosure",
            {"disclosure": with_(frequency=DisclosureFrequency.CONTINUOUS)},
            [DISCLOSURE],
        ),
        # effective_from <= day(occurredAt UTC) < effective_to.
        ("on its first day", {"at": datetime(2024, 1, 1, tzinfo=UTC)}, []),
        (
            "the day before it starts",
            {"at": datetime(2023, 12, 31, 23, 59, tzinfo=UTC)},
            [OCCURRED],
        ),
        ("on its end day (exclusive)", {"at": datetime(2025, 3, 11, tzinfo=UTC)}, [OCCURRED]),
        (
            "open-ended",
            {"disclosure": with_(effective_to=None), "at": datetime(2025, 5, 1, tzinfo=UTC)},
            [],
        ),
        # Rule 1: only an ACTIVE recipient receives anything.
        ("a suspended recipient", {"status": RecipientStatus.SUSPENDED}, [OCCURRED]),
        ("a recipient not yet registered", {"status": None}, [OCCURRED]),
        # The subject, by the version of their facts then.
        ("before the subject's first version", {"versions": (LATE,)}, [SUBJECT]),
        ("another subject type", {"disclosure": with_(subject_types=("employee",))}, [SUBJECT]),
        (
            "no matching category",
            {"disclosure": with_(data_categories=("user.device",))},
            [SUBJECT],
        ),
        (
            "a broader category matches by ancestry",
            {"disclosure": with_(data_categories=("user",))},
            [],
        ),
        # Everything wrong at once.
        (
            "all of it",
            {
                "disclosure": with_(
                    frequency=DisclosureFrequency.CONTINUOUS, subject_types=("employee",)
                ),
                "status": None,
                "at": datetime(2023, 1, 1, tzinfo=UTC),
            },
            [DISCLOSURE, OCCURRED, OCCURRED, SUBJECT],
        ),
    ],
)
def test_event_rules(case: str, kwargs: dict[str, object], expected: list[list[str]]) -> None:
    assert fields(**kwargs) == expected, case  # type: ignore[arg-type]


def test_the_version_in_effect_decides() -> None:
    moved = version(2, "employee", ("user.contact.email",), datetime(2025, 1, 1, tzinfo=UTC), NOW)
    assert fields(versions=(USER, moved)) == [SUBJECT]
    assert fields(versions=(USER, moved), at=datetime(2024, 12, 31, tzinfo=UTC)) == []


def test_version_at_latest_valid_from_ties_by_recorded_at_then_id() -> None:
    t = datetime(2025, 1, 1, tzinfo=UTC)
    first = version(1, "a", (), t, datetime(2025, 2, 1, tzinfo=UTC))
    corrected = version(2, "b", (), t, datetime(2025, 3, 1, tzinfo=UTC))
    same_time = version(3, "c", (), t, datetime(2025, 3, 1, tzinfo=UTC))
    later = version(4, "d", (), datetime(2025, 2, 1, tzinfo=UTC), t)
    versions = [same_time, later, first, corrected]
    assert version_at(versions, t) == same_time
    assert version_at(versions, datetime(2025, 1, 31, tzinfo=UTC)) == same_time
    assert version_at(versions, datetime(2025, 2, 1, tzinfo=UTC)) == later
    assert version_at(versions, datetime(2024, 12, 31, tzinfo=UTC)) is None
    assert version_at([first, corrected], t) == corrected


@pytest.mark.parametrize(
    ("moment", "ok"),
    [
        (NOW, True),
        (datetime(2025, 6, 1, 12, 0, 1, tzinfo=UTC), False),  # in the future
        (datetime(2025, 6, 1, 12), True),  # naive: taken as UTC
        (datetime(1, 1, 1, tzinfo=UTC), False),  # outside the years answered for
    ],
)
def test_checked_moment(moment: datetime, ok: bool) -> None:
    errors = ErrorCollector()
    at = events.checked_moment(errors, PATH, moment, NOW)
    assert (at is not None, [e.field for e in errors.errors]) == (ok, [] if ok else [OCCURRED])
    if at is not None:
        assert at.tzinfo is not None


@pytest.mark.parametrize(
    ("reference", "note", "expected"),
    [
        ("CASE-2025-0042", None, []),
        ("CASE-2025-0042", "Warrant served by Metro Police.", []),
        ("", None, [[*PATH, "reference"]]),
        ("   ", None, [[*PATH, "reference"]]),
        ("x" * (events.REFERENCE_MAX + 1), None, [[*PATH, "reference"]]),
        ("CASE\x00", None, [[*PATH, "reference"]]),
        ("CASE-1", "", [[*PATH, "note"]]),
        ("CASE-1", "x" * 2001, [[*PATH, "note"]]),
        ("", "", [[*PATH, "reference"], [*PATH, "note"]]),
    ],
)
def test_text(reference: str, note: str | None, expected: list[list[str]]) -> None:
    errors = ErrorCollector()
    events.check_text(errors, PATH, reference, note)
    assert [e.field for e in errors.errors] == expected
