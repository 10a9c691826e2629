"""A recipient's Data Privacy Framework certifications as the inventory records them (issue 13
§3), and the deprecated `dataPrivacyFrameworkCertified` flag of part 3 read and written over them.

The certifications are dated (`regimes.DpfCertification`): which of them count for a regime on a
day is `regimes.certified_for`. The flag is a summary kept for older clients:
- read, it is true when an EU-US certification is in force on the day (from its certifiedOn up
  to, not including, its lapsedOn, never before the framework's start);
- written true, it records an EU-US certification from that day, unless one is in force then
  (never a UK Extension: that must be recorded as such);
- written false, it ends the EU-US certifications in force that day (lapsed that day; one
  certified that very day is dropped, since a certification must lapse after it was certified),
  and with them the UK Extension certifications in force, which cannot stand without one;
- left out, it changes nothing.
A caller gives either the flag or the list, never both.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date

from server.domain import validation
from server.domain.errors import ErrorCollector
from server.domain.regimes import DataPrivacyFramework, DpfCertification, check_certifications

# The most certifications one recipient may hold: three frameworks, each lapsing and renewed a
# few times. A bound for one write and for the query cost of the list.
CERTIFICATIONS_MAX = 20

GIVE_ONE = (
    "Give dpfCertifications or dataPrivacyFrameworkCertified, not both: "
    "dataPrivacyFrameworkCertified is a deprecated summary of dpfCertifications."
)


def eu_us_in_force(certifications: Sequence[DpfCertification], on: date) -> bool:
    """The deprecated flag as read on the day."""
    return any(c.framework is DataPrivacyFramework.EU_US and c.in_force(on) for c in certifications)


def certified(certifications: Sequence[DpfCertification], on: date) -> list[DpfCertification]:
    """The flag written true on the day: an EU-US certification from that day, unless one is in
    force then."""
    if eu_us_in_force(certifications, on):
        return list(certifications)
    return [*certifications, DpfCertification(DataPrivacyFramework.EU_US, on)]


def decertified(certifications: Sequence[DpfCertification], on: date) -> list[DpfCertification]:
    """The flag written false on the day: the EU-US certifications in force then end that day,
    and so do the UK Extension ones (an add-on to the EU-US framework); one certified that day
    is dropped. Every other certification stays as it is."""
    ending = (DataPrivacyFramework.EU_US, DataPrivacyFramework.UK_EXTENSION)
    out = []
    for c in certifications:
        if c.framework not in ending or not c.in_force(on):
            out.append(c)
        elif c.certified_on < on:
            out.append(dataclasses.replace(c, lapsed_on=on))
    return out


def with_flag(
    certifications: Sequence[DpfCertification], flag: bool, on: date
) -> list[DpfCertification]:
    return certified(certifications, on) if flag else decertified(certifications, on)


def check_given(
    errors: ErrorCollector, path: list[str], certifications: Sequence[DpfCertification]
) -> None:
    """Record under `path` (the list's field) what is wrong with a list a caller gives: too many,
    a day outside the years the service answers for, and what `regimes.check_certifications`
    refuses (a lapse on or before the certification, a UK Extension without EU-US)."""
    if len(certifications) > CERTIFICATIONS_MAX:
        errors.add(
            path,
            f"A recipient holds at most {CERTIFICATIONS_MAX} certifications; got "
            f"{len(certifications)}.",
        )
        return
    for i, certification in enumerate(certifications):
        for name, day in (
            ("certifiedOn", certification.certified_on),
            ("lapsedOn", certification.lapsed_on),
        ):
            if day is not None and (problem := validation.moment_error(day)):
                errors.add([*path, str(i), name], problem)
    check_certifications(errors, path, certifications)


def flag_conflict_error(flag_given: bool, list_given: bool) -> str | None:
    """Both the deprecated flag and the list in one input."""
    return GIVE_ONE if flag_given and list_given else None


def flag_result_error(certifications: Sequence[DpfCertification]) -> str | None:
    """Why the list the flag's write leaves cannot be kept (a UK Extension certified for later,
    left without the EU-US certification the flag ended), or None."""
    errors = ErrorCollector()
    check_certifications(errors, [], certifications)
    if not errors:
        return None
    return (
        "Ending the EU-US certification this way would leave a UK Extension certification "
        "without one: give dpfCertifications instead."
    )
