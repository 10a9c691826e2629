"""One actual disclosure of one person's data under an ON_REQUEST disclosure (a police force's
lawful request, a court order): the checks an event passes before it is recorded.

An event records what happened, so it must be something that could have happened under the
inventory's own facts at `occurred_at`: the disclosure on request and in effect that day, its
recipient ACTIVE then, and the person one it covers by the version of their facts then."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from server.domain import validation
from server.domain.enums import DisclosureFrequency, RecipientStatus
from server.domain.errors import ErrorCollector
from server.domain.taxonomy import matched_categories
from server.domain.who_receives import utc_day

# The request's reference (a case or warrant number): the column holds 200 characters.
REFERENCE_MAX = 200


@dataclass(frozen=True)
class SubjectVersion:
    """The subject's facts from `valid_from` on, as recorded at `recorded_at`."""

    id: int
    subject_type: str
    data_categories: tuple[str, ...]
    valid_from: datetime
    recorded_at: datetime


@dataclass(frozen=True)
class EventDisclosure:
    """What an event needs to know of the disclosure it falls under."""

    frequency: DisclosureFrequency
    effective_from: date
    effective_to: date | None
    subject_types: tuple[str, ...]
    data_categories: tuple[str, ...]


def version_at(versions: Iterable[SubjectVersion], at: datetime) -> SubjectVersion | None:
    """The version in effect at `at`: the latest valid_from at or before it, ties by recorded_at
    then id (a later correction wins). None before the first version: we held nothing then."""
    held = [v for v in versions if v.valid_from <= at]
    return max(held, key=lambda v: (v.valid_from, v.recorded_at, v.id), default=None)


def check_text(errors: ErrorCollector, path: list[str], reference: str, note: str | None) -> None:
    """The request's reference names it; a note, when given, says something."""
    if problem := validation.check_name(reference, "Reference", REFERENCE_MAX):
        errors.add([*path, "reference"], problem)
    if note is not None:
        if not note.strip():
            errors.add([*path, "note"], "A note must not be empty; leave it out instead.")
        elif problem := validation.note_error(note):
            errors.add([*path, "note"], problem)


def checked_moment(
    errors: ErrorCollector, path: list[str], occurred_at: datetime, now: datetime
) -> datetime | None:
    """The moment in UTC (a naive one is taken as UTC already) if an event may have happened
    then: within the years the service answers for, and not in the future. None otherwise."""
    if problem := validation.moment_error(occurred_at):
        errors.add([*path, "occurredAt"], problem)
        return None
    at = occurred_at.astimezone(UTC) if occurred_at.tzinfo else occurred_at.replace(tzinfo=UTC)
    if at > now:
        errors.add([*path, "occurredAt"], "occurredAt must not be in the future.")
        return None
    return at


def check_event(
    errors: ErrorCollector,
    path: list[str],
    *,
    occurred_at: datetime,
    disclosure: EventDisclosure,
    recipient_name: str,
    recipient_status: RecipientStatus | None,
    versions: Iterable[SubjectVersion],
) -> None:
    """Everything that makes this event impossible under the inventory's facts at occurred_at:
    `recipient_status` is the recipient's status then (None: not yet registered)."""
    where = [*path, "disclosure"]
    if disclosure.frequency != DisclosureFrequency.ON_REQUEST:
        errors.add(
            where,
            "Events are recorded only under ON_REQUEST disclosures; under a CONTINUOUS one the "
            "data goes as a matter of course.",
        )
    day = utc_day(occurred_at)
    if day < disclosure.effective_from or (
        disclosure.effective_to is not None and day >= disclosure.effective_to
    ):
        until = (
            f" until {disclosure.effective_to.isoformat()} (exclusive)"
            if disclosure.effective_to
            else ""
        )
        errors.add(
            [*path, "occurredAt"],
            f"The disclosure was not in effect on {day.isoformat()}: it applies from "
            f"{disclosure.effective_from.isoformat()}{until}.",
        )
    if recipient_status != RecipientStatus.ACTIVE:
        then = recipient_status.value if recipient_status else "not yet registered"
        errors.add(
            [*path, "occurredAt"],
            f"{recipient_name} was not ACTIVE at {occurred_at.isoformat()} ({then}).",
        )
    version = version_at(versions, occurred_at)
    if version is None:
        errors.add(
            [*path, "subject"],
            f"The subject was not yet known at {occurred_at.isoformat()}: their first recorded "
            "version starts later.",
        )
    elif version.subject_type not in disclosure.subject_types:
        errors.add(
            [*path, "subject"],
            f"The disclosure does not cover this subject at {occurred_at.isoformat()}: they were "
            f"a {version.subject_type}, and it covers {', '.join(disclosure.subject_types)}.",
        )
    elif not matched_categories(version.data_categories, disclosure.data_categories):
        errors.add(
            [*path, "subject"],
            f"The disclosure does not cover this subject at {occurred_at.isoformat()}: none of "
            "their data categories then matches the disclosure's.",
        )
