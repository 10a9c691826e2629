"""Facts keep two clocks (issue 12 §1): when a fact holds in the world, which the caller gives
(a consent's decidedAt, a subject version's validFrom) and which is never in the future, and when
this service recorded it (recordedAt), always our own clock and never a client's. An answer
about the past can then be reproduced as it was known (GDPR Art. 15(1)(c), Art. 5(2))."""

from __future__ import annotations

from datetime import UTC, datetime

from server.domain import validation
from server.domain.errors import ErrorCollector


def as_utc(moment: datetime) -> datetime:
    """Times are kept in UTC; a naive time from a caller is taken to be UTC already."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def world_time(
    errors: ErrorCollector, path: list[str], given: datetime | None, now: datetime
) -> datetime:
    """When a fact holds, as the caller gives it at `path` (default: now): within the years
    served and never in the future, since what holds from a moment still to come is a plan,
    not a fact. Records what is wrong and answers `now` then."""
    if given is None:
        return now
    if problem := validation.moment_error(given):
        errors.add(path, problem)
        return now
    moment = as_utc(given)
    if moment > now:
        errors.add(path, f"{path[-1]} must not be in the future.")
        return now
    return moment


def consent_decided_at(
    errors: ErrorCollector,
    path: list[str],
    *,
    decided_at: datetime | None,
    recorded_at: datetime | None,
    now: datetime,
) -> datetime:
    """When the person decided (GDPR Art. 7(1): the controller shows consent was given, and
    when). Part 2's `recordedAt`, sent alone, is read as that moment; sent with `decidedAt` it
    would claim to set our own clock, so both together are an error on `recordedAt`."""
    if decided_at is not None and recorded_at is not None:
        errors.add(
            [*path, "recordedAt"],
            "Give decidedAt only: recordedAt is the server's clock (part 2's recordedAt is "
            "read as decidedAt only when sent alone).",
        )
        return now
    if recorded_at is not None:
        return world_time(errors, [*path, "recordedAt"], recorded_at, now)
    return world_time(errors, [*path, "decidedAt"], decided_at, now)


def becomes_current(valid_from: datetime, latest_valid_from: datetime | None) -> bool:
    """Whether a subject version just recorded is the one that holds now: versions hold in
    validFrom order, ties going to the one recorded later, which the new one is. A version
    dated before the latest corrects the past and leaves the current facts as they are."""
    return latest_valid_from is None or valid_from >= latest_valid_from
