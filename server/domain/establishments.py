"""The organisation's own legal entities (issue 13 §1): the controllers that disclose personal
data to recipients. Where an establishment is decides which regime binds the flows it exports
(GDPR and UK GDPR Art. 3(1)); the regimes whose people it offers goods or services to, or
monitors, are its `targets` (Art. 3(2)). Exactly one is the main establishment once any exist:
a disclosure that names no exporter comes from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from server.domain import validation
from server.domain.errors import ErrorCollector
from server.domain.recipient_details import registration_slug, registration_slug_error
from server.domain.regimes import Jurisdiction


@dataclass
class EstablishmentTerms:
    """What a registration gives, or what an update changes (None: unchanged)."""

    name: str | None = None
    legal_name: str | None = None
    country: str | None = None
    targets: Sequence[Jurisdiction] | None = None
    main: bool | None = None


def check_terms(errors: ErrorCollector, path: list[str], terms: EstablishmentTerms) -> None:
    """Record under `path` everything wrong with the given terms."""
    if terms.name is not None and (problem := validation.check_name(terms.name)):
        errors.add([*path, "name"], problem)
    if terms.legal_name is not None and (
        problem := validation.check_name(terms.legal_name, "Legal name", validation.LEGAL_NAME_MAX)
    ):
        errors.add([*path, "legalName"], problem)
    if terms.country is not None and (problem := validation.country_error(terms.country)):
        errors.add([*path, "country"], problem)
    if terms.targets is not None and len(set(terms.targets)) != len(terms.targets):
        errors.add([*path, "targets"], "List each targeted regime once.")


def new_slug(errors: ErrorCollector, path: list[str], name: str, given: str | None) -> str:
    """The slug a new establishment gets: the one given, else one derived from its name."""
    slug = registration_slug(name, given)
    if problem := registration_slug_error(given, slug):
        errors.add([*path, "slug"], problem)
    return slug


def main_after_registration(asked: bool, any_exist: bool) -> bool:
    """The first establishment is the main one whatever it asks; a later one only if it asks
    (and then the main one before it is no longer main)."""
    return asked or not any_exist


def unmark_main_error(currently_main: bool, main: bool | None) -> str | None:
    """Why an update may not set `main`: the main establishment stays main until another one is
    made main, so that a disclosure naming no exporter always has one."""
    if currently_main and main is False:
        return (
            "This is the main establishment: make another establishment main instead, and this "
            "one stops being main."
        )
    return None


def targets_text(targets: Sequence[Jurisdiction]) -> str:
    """The stored form: the regimes in their enum order, comma-joined."""
    chosen = set(targets)
    return ",".join(j.value for j in Jurisdiction if j in chosen)


def targets_of(text: str) -> list[Jurisdiction]:
    return [Jurisdiction(value) for value in text.split(",") if value]


# A disclosure's exporter (issue 13 §1): the establishment it names, else the main one; never
# one for a subprocessor, whose data comes from the processor that engaged it (in that
# processor's country).
SUBPROCESSOR_EXPORTER_ERROR = (
    "A subprocessor's data comes from the processor that engaged it: name no exporter for a "
    "subprocessor's disclosure."
)


def exporter_error(*, named: bool, subprocessor: bool) -> str | None:
    """Why a disclosure may not name its exporter, or None."""
    return SUBPROCESSOR_EXPORTER_ERROR if named and subprocessor else None


def exporter_of(given: int | None, main: int | None, *, subprocessor: bool) -> int | None:
    """The establishment a disclosure comes from: none for a subprocessor's; otherwise the one
    it names (or was recorded with), else the main one (None while there is none). Used both
    when a disclosure is recorded (`given`: the one named) and when it is read (`given`: the one
    recorded, None for a disclosure recorded before establishments existed)."""
    if subprocessor:
        return None
    return given if given is not None else main
