"""The reference data of Chapter V: the adequacy decisions of each regime (GDPR and UK GDPR
Art. 45), dated, with their scope, read from `server/reference/adequacy-decisions.yaml`.
Where each regime's territory lies is `regimes.py`; how a flow is judged is `transfers.py`."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from server.domain.regimes import Jurisdiction
from server.domain.validation import country_name

REFERENCE_FILE = Path(__file__).resolve().parent.parent / "reference" / "adequacy-decisions.yaml"


class Coverage(StrEnum):
    """Who a limited adequacy decision covers, as a rule the inventory can check."""

    ALL = "all"
    DPF_CERTIFIED = "dpf_certified"
    # A private-sector organisation (any kind but PUBLIC_AUTHORITY) whose transfer is recorded
    # as within the decision's scope: Canada's and Japan's decisions are about private-sector
    # organisations subject to their laws, which the inventory cannot check by itself.
    COMMERCIAL = "commercial"
    # The transfer is recorded as within the decision's scope (`withinAdequacyScope`).
    ATTESTED = "attested"


class Basis(StrEnum):
    """What an assessment rests on."""

    NO_CHAPTER_V = "NO_CHAPTER_V"
    NOT_RESTRICTED = "NOT_RESTRICTED"
    ADEQUACY = "ADEQUACY"
    SAFEGUARD = "SAFEGUARD"
    DEROGATION = "DEROGATION"
    MISSING = "MISSING"


@dataclass(frozen=True)
class AdequacyDecision:
    jurisdiction: Jurisdiction
    country: str
    adopted_on: date
    source: str
    scope: str | None = None
    covers: Coverage = Coverage.ALL
    # The last day it applies (a renewal continues it: the expiry is the renewal's); None when
    # open-ended.
    expires_on: date | None = None
    # For a decision about an international organisation, its name; `country` is then its seat.
    organisation: str | None = None

    def in_force(self, day: date) -> bool:
        """From the day it was adopted to its expiry, both included."""
        return self.adopted_on <= day and (self.expires_on is None or day <= self.expires_on)


@dataclass(frozen=True)
class TransferReference:
    """The reference data the rules read: the adequacy decisions, and the EEA states as the
    file lists them with their source (the territory, with the outermost regions and Åland, is
    `regimes.EEA_TERRITORY`; a test keeps the two agreeing)."""

    version: int
    last_checked: date
    eea: frozenset[str]
    eea_source: str
    decisions: Mapping[tuple[Jurisdiction, str], AdequacyDecision]
    # Decisions about international organisations, by (jurisdiction, organisation name): never
    # found by a country lookup (the seat of one is not adequate for that).
    organisation_decisions: Mapping[tuple[Jurisdiction, str], AdequacyDecision] = field(
        default_factory=dict
    )

    def decision(
        self, jurisdiction: Jurisdiction, country: str, day: date
    ) -> AdequacyDecision | None:
        """The decision for the country in force on `day` (adopted on or before it, and not
        expired). Decisions about international organisations are not country decisions."""
        found = self.decisions.get((jurisdiction, country))
        return found if found is not None and found.in_force(day) else None

    def organisation_decision(
        self, jurisdiction: Jurisdiction, organisation: str, day: date
    ) -> AdequacyDecision | None:
        """The decision for the international organisation of that exact name in force on `day`."""
        found = self.organisation_decisions.get((jurisdiction, organisation))
        return found if found is not None and found.in_force(day) else None

    def decision_ever(self, jurisdiction: Jurisdiction, country: str) -> AdequacyDecision | None:
        """The country's decision whether or not in force on a given day: to say when it was."""
        return self.decisions.get((jurisdiction, country))

    def decisions_for(self, jurisdiction: Jurisdiction) -> list[AdequacyDecision]:
        """The regime's decisions about countries by country, then those about international
        organisations by name."""
        countries = sorted(
            (d for (j, _), d in self.decisions.items() if j is jurisdiction),
            key=lambda d: d.country,
        )
        organisations = sorted(
            (d for (j, _), d in self.organisation_decisions.items() if j is jurisdiction),
            key=lambda d: d.organisation or "",
        )
        return countries + organisations


def _country_code(value: object, where: str) -> str:
    """YAML reads a bare NO (Norway) as false: every code must arrive as a known alpha-2 string."""
    if not isinstance(value, str) or country_name(value) == value:
        raise ValueError(f"{where}: {value!r} is not an ISO 3166-1 alpha-2 code (quote it)")
    return value


def load_reference(path: Path = REFERENCE_FILE) -> TransferReference:
    raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    decisions: dict[tuple[Jurisdiction, str], AdequacyDecision] = {}
    organisations: dict[tuple[Jurisdiction, str], AdequacyDecision] = {}
    for jurisdiction_key, entries in raw["decisions"].items():
        jurisdiction = Jurisdiction(jurisdiction_key)
        for entry in entries:
            decision = AdequacyDecision(
                jurisdiction=jurisdiction,
                country=_country_code(entry["country"], path.name),
                adopted_on=entry["adopted_on"],
                source=entry["source"],
                scope=entry.get("scope") or None,
                covers=Coverage(entry.get("covers", Coverage.ALL)),
                expires_on=entry.get("expires_on"),
                organisation=entry.get("organisation") or None,
            )
            name = decision.organisation or decision.country
            if not isinstance(decision.adopted_on, date) or not (
                decision.expires_on is None or isinstance(decision.expires_on, date)
            ):
                raise ValueError(f"{path.name}: {name}: adopted_on and expires_on are dates")
            if decision.expires_on is not None and decision.expires_on < decision.adopted_on:
                raise ValueError(f"{path.name}: {name} expires before it was adopted")
            table = organisations if decision.organisation else decisions
            key = (jurisdiction, name)
            if key in table:
                raise ValueError(f"{path.name}: two decisions for {name} ({jurisdiction})")
            if (decision.scope is None) != (decision.covers is Coverage.ALL):
                raise ValueError(f"{path.name}: {name} needs both scope and covers")
            table[key] = decision
    return TransferReference(
        version=int(raw["version"]),
        last_checked=raw["last_checked"],
        eea=frozenset(_country_code(c, path.name) for c in raw["eea_members"]["countries"]),
        eea_source=raw["eea_members"]["source"],
        decisions=decisions,
        organisation_decisions=organisations,
    )


@functools.cache
def reference() -> TransferReference:
    return load_reference()
