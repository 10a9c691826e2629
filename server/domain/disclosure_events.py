"""One actual disclosure of one person's data under an ON_REQUEST disclosure (a police force's
lawful request, a court order): the checks an event passes before it is recorded.

An event records what happened, so it must be something that could have happened under the
inventory's own facts at `occurred_at`: the disclosure on request and in effect that day, its
recipient ACTIVE then, and the person one it covers by the version of their facts then."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from server.domain import history, validation
from server.domain.enums import DisclosureFrequency, RecipientStatus
from server.domain.errors import ErrorCollector
from server.domain.periods import SubjectVersion, version_at
from server.domain.taxonomy import matched_categories
from server.domain.who_receives import DisclosureFacts, utc_day

# The request's reference (a case or warrant number): the column holds 200 characters.
REFERENCE_MAX = 200


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
    """The moment in UTC if an event may have happened then: a fact's time, within the years
    served and not in the future (domain/history.py). None otherwise."""
    before = len(errors.errors)
    at = history.world_time(errors, [*path, "occurredAt"], occurred_at, now)
    return at if len(errors.errors) == before else None


def check_event(
    errors: ErrorCollector,
    path: list[str],
    *,
    occurred_at: datetime,
    disclosure: DisclosureFacts,
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
    if not disclosure.in_effect_on(day):
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
