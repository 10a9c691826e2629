"""International transfers (GDPR and UK GDPR Chapter V): is a flow of a person's data out of the
EEA or the UK lawful, and on what?

The jurisdiction is the subject's: EEA when they live in the EEA, UK when they live in the United
Kingdom; elsewhere no Chapter V rules apply. For a transfer to country C, for jurisdiction J:
1. C inside J (an EEA state for EEA; GB for UK): lawful, not a restricted transfer.
2. C adequate for J with full scope: lawful on the decision, whatever mechanism is recorded.
3. C adequate with a limited scope: lawful on the decision only when the recipient falls in it
   (Korea's EU decision: only a transfer recorded as within its scope, which transfers cannot
   record yet); otherwise judged by rule 4. A decision counts from its adoption to its expiry;
   decisions about international organisations are never a country's.
4. Otherwise lawful only with a safeguard valid in J (EEA: SCCs or BCRs; UK: the IDTA, the UK
   Addendum or BCRs: the 2021 EU SCCs never covered UK data alone), or on a derogation
   (occasional transfers only); explicit consent counts only when the person has granted it.
5. Anything else is unlawful, and the explanation names what is missing.
Several transfers of one disclosure to one country are judged together: lawful when any recorded
mechanism makes it lawful, naming that one.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from server.domain import regimes
from server.domain.enums import RecipientKind, TransferMechanism
from server.domain.explain import country_phrase
from server.domain.regimes import Jurisdiction
from server.domain.validation import country_name

REFERENCE_FILE = Path(__file__).resolve().parent.parent / "reference" / "adequacy-decisions.yaml"
UK = "GB"


class Coverage(StrEnum):
    """Who a limited adequacy decision covers, as a rule the inventory can check."""

    ALL = "all"
    DPF_CERTIFIED = "dpf_certified"
    COMMERCIAL = "commercial"
    # The transfer is recorded as within the decision's scope (issue 13: `withinAdequacyScope`).
    # Until transfers record that, no recipient is covered: the conservative answer.
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
    """The reference data the rules read: EEA membership and the adequacy decisions."""

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

    def jurisdiction_of(self, country: str) -> Jurisdiction | None:
        if country == UK:
            return Jurisdiction.UK
        if country in self.eea:
            return Jurisdiction.EEA
        return None

    def inside(self, jurisdiction: Jurisdiction, country: str) -> bool:
        return country == UK if jurisdiction is Jurisdiction.UK else country in self.eea

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

    def decisions_for(self, jurisdiction: Jurisdiction) -> list[AdequacyDecision]:
        return sorted(
            (d for (j, _), d in self.decisions.items() if j is jurisdiction),
            key=lambda d: d.country,
        )


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


@dataclass(frozen=True)
class RecipientProfile:
    """What the rules need to know of the recipient (limited decisions cover some only)."""

    name: str
    kind: RecipientKind
    dpf_certified: bool


@dataclass(frozen=True)
class Assessment:
    country: str
    mechanism: TransferMechanism
    lawful: bool
    basis: Basis
    explanation: str
    # A few words for the sentence a person reads: "under standard contractual clauses".
    phrase: str | None = None


SAFEGUARDS: dict[Jurisdiction, tuple[TransferMechanism, ...]] = {
    Jurisdiction.EEA: (
        TransferMechanism.STANDARD_CONTRACTUAL_CLAUSES,
        TransferMechanism.BINDING_CORPORATE_RULES,
    ),
    Jurisdiction.UK: (
        TransferMechanism.UK_IDTA,
        TransferMechanism.UK_ADDENDUM,
        TransferMechanism.BINDING_CORPORATE_RULES,
    ),
}
SAFEGUARD_NAMES = {
    TransferMechanism.STANDARD_CONTRACTUAL_CLAUSES: "standard contractual clauses",
    TransferMechanism.BINDING_CORPORATE_RULES: "binding corporate rules",
    TransferMechanism.UK_IDTA: "the UK International Data Transfer Agreement",
    TransferMechanism.UK_ADDENDUM: "the UK Addendum to the standard contractual clauses",
}
# Derogations for specific situations (Art. 49(1)), with the point of the article.
DEROGATIONS = {
    TransferMechanism.DEROGATION_EXPLICIT_CONSENT: ("your explicit consent", "a"),
    TransferMechanism.DEROGATION_CONTRACT: ("the performance of a contract with you", "b"),
    TransferMechanism.DEROGATION_PUBLIC_INTEREST: ("important reasons of public interest", "d"),
    TransferMechanism.DEROGATION_LEGAL_CLAIMS: ("legal claims", "e"),
    TransferMechanism.DEROGATION_VITAL_INTERESTS: ("the protection of vital interests", "f"),
}
NEEDED = {
    Jurisdiction.EEA: "standard contractual clauses or binding corporate rules",
    Jurisdiction.UK: "the UK IDTA, the UK Addendum or binding corporate rules",
}
LAW = {Jurisdiction.EEA: "GDPR", Jurisdiction.UK: "UK GDPR"}
# Lower is preferred when several recorded mechanisms make one country lawful.
_PREFERENCE = {
    Basis.NO_CHAPTER_V: 0,
    Basis.NOT_RESTRICTED: 0,
    Basis.ADEQUACY: 0,
    Basis.SAFEGUARD: 1,
    Basis.DEROGATION: 2,
    Basis.MISSING: 3,
}

# On a tie, name the recorded mechanism that says what the basis is.
_AGREES = {
    Basis.NOT_RESTRICTED: TransferMechanism.NOT_RESTRICTED,
    Basis.ADEQUACY: TransferMechanism.ADEQUACY_DECISION,
}


def _place(country: str) -> str:
    return country_phrase(country_name(country))


def _covered(decision: AdequacyDecision, recipient: RecipientProfile) -> bool:
    if decision.covers is Coverage.DPF_CERTIFIED:
        return recipient.dpf_certified
    if decision.covers is Coverage.COMMERCIAL:
        return recipient.kind is not RecipientKind.PUBLIC_AUTHORITY
    # ATTESTED: transfers do not record the attestation yet, so none is within the scope.
    return decision.covers is not Coverage.ATTESTED


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def judge(
    jurisdiction: Jurisdiction,
    country: str,
    mechanism: TransferMechanism,
    recipient: RecipientProfile,
    day: date,
    consent_granted: bool,
    ref: TransferReference,
) -> Assessment:
    """Rules 1-5 for one recorded transfer. `consent_granted`: the person has a granted consent
    record, at the moment judged, for one of the disclosure's purposes."""
    place = _place(country)
    if ref.inside(jurisdiction, country):
        if jurisdiction is Jurisdiction.EEA:
            text = f"Not a restricted transfer: {place} is in the EEA."
            return Assessment(
                country, mechanism, True, Basis.NOT_RESTRICTED, text, "within the EEA"
            )
        text = "Not a restricted transfer: the data stays in the United Kingdom."
        return Assessment(country, mechanism, True, Basis.NOT_RESTRICTED, text)
    decision = ref.decision(jurisdiction, country, day)
    scope_note = ""
    if decision is not None:
        if _covered(decision, recipient):
            covered = (
                f": it covers {_lower_first(decision.scope)}, and {recipient.name} is one"
                if decision.scope
                else ""
            )
            return Assessment(
                country,
                mechanism,
                True,
                Basis.ADEQUACY,
                f"Lawful on the adequacy decision for {place} ({decision.source}){covered}.",
                "under an adequacy decision",
            )
        outside = (
            "the transfer is not recorded as within it"
            if decision.covers is Coverage.ATTESTED
            else f"{recipient.name} is not one"
        )
        scope_note = (
            f"the adequacy decision for {place} covers only "
            f"{_lower_first(decision.scope or '')}, and {outside}"
        )
    law = LAW[jurisdiction]
    if mechanism in SAFEGUARDS[jurisdiction]:
        name = SAFEGUARD_NAMES[mechanism]
        return Assessment(
            country,
            mechanism,
            True,
            Basis.SAFEGUARD,
            f"Lawful on {name}, an appropriate safeguard for {jurisdiction} data ({law} Art. 46).",
            f"under {name}",
        )
    if mechanism in DEROGATIONS:
        what, point = DEROGATIONS[mechanism]
        article = f"{law} Art. 49(1)({point})"
        if mechanism is TransferMechanism.DEROGATION_EXPLICIT_CONSENT and not consent_granted:
            return _missing(
                jurisdiction,
                country,
                mechanism,
                scope_note,
                "The transfer relies on the person's explicit consent "
                f"({article}), and no granted consent for its purposes is on record.",
            )
        who = "the person's explicit consent" if point == "a" else what
        return Assessment(
            country,
            mechanism,
            True,
            Basis.DEROGATION,
            f"Lawful on a derogation for {who} ({article}), for occasional transfers only.",
            f"on the derogation for {what}, for occasional transfers only",
        )
    return _missing(
        jurisdiction,
        country,
        mechanism,
        scope_note,
        _what_was_recorded(jurisdiction, mechanism, day),
    )


def _what_was_recorded(jurisdiction: Jurisdiction, mechanism: TransferMechanism, day: date) -> str:
    if mechanism is TransferMechanism.NONE:
        return "No transfer mechanism is recorded."
    if mechanism is TransferMechanism.NOT_RESTRICTED:
        return (
            f"The transfer is recorded as not restricted, but it leaves the {_home(jurisdiction)}."
        )
    if mechanism is TransferMechanism.ADEQUACY_DECISION:
        return "The transfer is recorded as relying on an adequacy decision, but none covers it."
    if mechanism is TransferMechanism.STANDARD_CONTRACTUAL_CLAUSES:
        # Only reachable for UK data: SCCs are a safeguard for EEA data. The 2021 clauses never
        # covered UK data alone (regimes.py).
        return regimes.safeguard_obstacle(jurisdiction, mechanism, day, day) or ""
    if mechanism is TransferMechanism.STANDARD_CONTRACTUAL_CLAUSES_2010:
        # The dated rule needs the signing date, which transfers do not record yet: after the
        # clauses' end its sentence; before it, say what is missing.
        ended = regimes.safeguard_obstacle(jurisdiction, mechanism, day, date.min)
        return ended or (
            "The 2010 standard contractual clauses count only with the day they were signed "
            f"(for {jurisdiction} data, signed "
            + (
                "on or before 21 September 2022), and it is not recorded."
                if jurisdiction is Jurisdiction.UK
                else "before 27 September 2021), and it is not recorded."
            )
        )
    if mechanism in (TransferMechanism.UK_IDTA, TransferMechanism.UK_ADDENDUM):
        name = SAFEGUARD_NAMES[mechanism]
        return f"{name[:1].upper()}{name[1:]} is a safeguard for UK data only."
    return f"{mechanism.value} is not a safeguard for {jurisdiction} data."


def _home(jurisdiction: Jurisdiction) -> str:
    return "EEA" if jurisdiction is Jurisdiction.EEA else "United Kingdom"


def _missing(
    jurisdiction: Jurisdiction,
    country: str,
    mechanism: TransferMechanism,
    scope_note: str,
    recorded: str,
) -> Assessment:
    place = _place(country)
    situation = scope_note or f"{place} has no adequacy decision for {jurisdiction} data"
    text = (
        f"Not lawful for {jurisdiction} data: {situation}. {recorded} "
        f"A transfer to {place} needs {NEEDED[jurisdiction]}."
    )
    return Assessment(
        country, mechanism, False, Basis.MISSING, text, "without a valid transfer safeguard"
    )


@dataclass(frozen=True)
class RecordedTransfer:
    country: str
    mechanism: TransferMechanism
    reference: str | None = None


def _countries(transfers: Iterable[RecordedTransfer]) -> dict[str, list[TransferMechanism]]:
    by_country: dict[str, list[TransferMechanism]] = {}
    for transfer in transfers:
        mechanisms = by_country.setdefault(transfer.country, [])
        if transfer.mechanism not in mechanisms:
            mechanisms.append(transfer.mechanism)
    return by_country


def assess_country(
    jurisdiction: Jurisdiction,
    country: str,
    mechanisms: Sequence[TransferMechanism],
    recipient: RecipientProfile,
    day: date,
    consent_granted: bool,
    ref: TransferReference,
) -> Assessment:
    """All of a disclosure's transfers to one country, judged together: the best lawful one, or
    the first recorded one with what is missing."""
    judged = [
        judge(jurisdiction, country, m, recipient, day, consent_granted, ref) for m in mechanisms
    ]
    return min(judged, key=lambda a: (_PREFERENCE[a.basis], _AGREES.get(a.basis) != a.mechanism))


@functools.lru_cache(maxsize=65_536)
def _assess_cached(
    jurisdiction: Jurisdiction,
    country: str,
    mechanisms: tuple[TransferMechanism, ...],
    recipient: RecipientProfile,
    day: date,
    consent_granted: bool,
) -> Assessment:
    return assess_country(
        jurisdiction, country, mechanisms, recipient, day, consent_granted, reference()
    )


def assess_transfers(
    subject_country: str,
    transfers: Sequence[RecordedTransfer],
    recipient: RecipientProfile,
    day: date,
    consent_granted: bool,
    ref: TransferReference | None = None,
) -> list[Assessment]:
    """One assessment per destination country, in the order the transfers were recorded, for a
    subject living in `subject_country`."""
    if not transfers:
        return []
    shared = ref is None
    ref = ref or reference()
    jurisdiction = ref.jurisdiction_of(subject_country)
    out = []
    for country, mechanisms in _countries(transfers).items():
        if jurisdiction is None:
            out.append(
                Assessment(
                    country,
                    mechanisms[0],
                    True,
                    Basis.NO_CHAPTER_V,
                    "No UK or EEA transfer rules apply: the person lives in "
                    f"{_place(subject_country)}, outside the UK and the EEA.",
                )
            )
        elif shared:
            out.append(
                _assess_cached(
                    jurisdiction, country, tuple(mechanisms), recipient, day, consent_granted
                )
            )
        else:
            out.append(
                assess_country(
                    jurisdiction, country, mechanisms, recipient, day, consent_granted, ref
                )
            )
    return out


def unlawful_transfers(
    jurisdiction: Jurisdiction,
    transfers: Sequence[RecordedTransfer],
    recipient: RecipientProfile,
    day: date,
    ref: TransferReference | None = None,
) -> list[tuple[int, Assessment]]:
    """The gaps for a dashboard, as (position in `transfers`, assessment of that transfer): each
    recorded transfer to a country that none of the disclosure's transfers there makes lawful
    for subjects of `jurisdiction`. A transfer on the explicit-consent derogation is not a gap:
    it depends on each person's consent."""
    ref = ref or reference()
    by_country = _countries(transfers)
    gaps = []
    for position, transfer in enumerate(transfers):
        mechanisms = by_country[transfer.country]
        if TransferMechanism.DEROGATION_EXPLICIT_CONSENT in mechanisms:
            continue
        verdict = assess_country(
            jurisdiction, transfer.country, mechanisms, recipient, day, False, ref
        )
        if verdict.lawful:
            continue
        own = judge(jurisdiction, transfer.country, transfer.mechanism, recipient, day, False, ref)
        gaps.append((position, own))
    return gaps
