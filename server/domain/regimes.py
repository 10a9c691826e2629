"""The data-protection regimes in time and territory (GDPR and UK GDPR Chapter V): where each
regime's territory lay on a given day, when a recorded safeguard or derogation can count under it,
and which Data Privacy Framework certifications count for it.

Plain functions of dates; the transfer rules (`transfers.py`) and the API call them. Every date
here is a day of the law, with the instrument that fixes it:
- GDPR applies from 25 May 2018 (Art. 99(2)): no assessment is made for an earlier day.
- The EEA is the 27 EU states with their outermost regions (TFEU Art. 349 and 355(1): Réunion,
  Guadeloupe, Martinique, French Guiana, Mayotte and Saint-Martin, which ISO 3166 codes as
  countries of their own) and Åland (TFEU Art. 355(4)), plus Iceland, Liechtenstein and Norway
  (EEA Agreement). Svalbard (SJ) is outside the EEA Agreement (Protocol 40).
- Until 31 December 2020 (the end of the transition period, Withdrawal Agreement Art. 126-127)
  the United Kingdom and Gibraltar were inside the EU regime and UK GDPR did not exist; from
  1 January 2021 the UK regime's territory is GB (Gibraltar has its own law).
- From 1 January 2021 until the EU's decision on the UK of 28 June 2021, a transfer from the EEA
  to the UK was not treated as a transfer to a third country (Trade and Cooperation Agreement,
  Art. FINPROV.10A: the bridge).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from server.domain.enums import DisclosureFrequency, TransferMechanism
from server.domain.errors import ErrorCollector


class Jurisdiction(StrEnum):
    EEA = "EEA"
    UK = "UK"


LAW = {Jurisdiction.EEA: "GDPR", Jurisdiction.UK: "UK GDPR"}

# GDPR Art. 99(2).
GDPR_APPLIES_FROM = date(2018, 5, 25)
# The day after the transition period ended (31 December 2020): UK GDPR applies, and the UK and
# Gibraltar leave the EU regime's territory.
UK_REGIME_FROM = date(2021, 1, 1)
# Commission Implementing Decision (EU) 2021/1772 of 28 June 2021: the end of the TCA bridge.
EU_UK_DECISION_ADOPTED = date(2021, 6, 28)

EU_STATES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    ]
)
# TFEU Art. 349: the outermost regions with an ISO 3166-1 code of their own (the Azores, Madeira
# and the Canary Islands are recorded as PT and ES). Saint-Barthélemy (BL) left the EU in 2012.
OUTERMOST_REGIONS = frozenset({"RE", "GP", "MQ", "GF", "YT", "MF"})
ALAND = "AX"
EEA_EFTA_STATES = frozenset({"IS", "LI", "NO"})
EEA_TERRITORY = EU_STATES | OUTERMOST_REGIONS | {ALAND} | EEA_EFTA_STATES
UK = "GB"
GIBRALTAR = "GI"
# In the EU regime until the end of the transition period.
LEFT_WITH_BREXIT = frozenset({UK, GIBRALTAR})


def _day(value: date) -> str:
    return f"{value.day} {value:%B} {value.year}"


def regime_exists(jurisdiction: Jurisdiction, on: date) -> bool:
    """GDPR from 25 May 2018; UK GDPR from 1 January 2021 (before that the UK was in GDPR's)."""
    if on < GDPR_APPLIES_FROM:
        return False
    return jurisdiction is Jurisdiction.EEA or on >= UK_REGIME_FROM


def why_no_regime(jurisdiction: Jurisdiction, on: date) -> str | None:
    """None when the regime exists on the day; otherwise the sentence saying why not."""
    if on < GDPR_APPLIES_FROM:
        return (
            f"GDPR did not apply yet on {_day(on)}: it applies from {_day(GDPR_APPLIES_FROM)} "
            "(GDPR Art. 99(2)), so no transfer assessment is made."
        )
    if jurisdiction is Jurisdiction.UK and on < UK_REGIME_FROM:
        return (
            f"UK GDPR did not exist yet on {_day(on)}: until 31 December 2020 the United "
            "Kingdom was inside the EU regime, and GDPR applied to its data."
        )
    return None


def in_territory(jurisdiction: Jurisdiction, country: str, on: date) -> bool:
    """Whether `country` (ISO 3166-1 alpha-2) lay in the regime's territory on the day. A regime
    that does not exist on the day has no territory."""
    if not regime_exists(jurisdiction, on):
        return False
    if jurisdiction is Jurisdiction.UK:
        return country == UK
    return country in EEA_TERRITORY or (country in LEFT_WITH_BREXIT and on < UK_REGIME_FROM)


def jurisdiction_of(country: str, on: date) -> Jurisdiction | None:
    """The regime whose territory holds the country on the day (a resident's, an exporter's)."""
    for jurisdiction in Jurisdiction:
        if in_territory(jurisdiction, country, on):
            return jurisdiction
    return None


def tca_bridge(exporter_country: str, destination: str, on: date) -> bool:
    """From 1 January 2021 until the EU's decision on the UK (28 June 2021), a transfer from an
    exporter in the EEA to the United Kingdom was not restricted (TCA Art. FINPROV.10A).
    Gibraltar was outside the bridge."""
    return (
        UK_REGIME_FROM <= on < EU_UK_DECISION_ADOPTED
        and destination == UK
        and in_territory(Jurisdiction.EEA, exporter_country, on)
    )


def restricted(
    jurisdiction: Jurisdiction, exporter_country: str, destination: str, on: date
) -> bool:
    """Whether sending data from the exporter to `destination` is a restricted transfer under the
    regime on the day: the destination is outside the territory and no bridge covers it. (An
    international organisation is always restricted: the caller says so before asking.) Ask only
    on a day the regime exists (`regime_exists`): before it there is no transfer to judge."""
    if in_territory(jurisdiction, destination, on):
        return False
    return not (jurisdiction is Jurisdiction.EEA and tca_bridge(exporter_country, destination, on))


# ---------------------------------------------------------------------------------------------
# Safeguards (Art. 46), dated.

# Commission Implementing Decision (EU) 2021/914: the 2021 SCCs apply from 27 June 2021 (Art. 4);
# the 2010 sets may no longer be signed from 27 September 2021 and cease to count on 27 December
# 2022 (Art. 4(3) and (4)).
SCCS_2021_FROM = date(2021, 6, 27)
SCCS_2010_EEA_SIGNED_BEFORE = date(2021, 9, 27)
SCCS_2010_EEA_UNTIL = date(2022, 12, 27)
# UK: the IDTA and the Addendum from 21 March 2022; the 2010 sets for UK data only if signed on or
# before 21 September 2022, and no longer from 21 March 2024 (Data Protection Act 2018, s. 119A:
# the transitional provisions laid on 2 February 2022, para 5).
UK_IDTA_FROM = date(2022, 3, 21)
SCCS_2010_UK_SIGNED_BY = date(2022, 9, 21)
SCCS_2010_UK_UNTIL = date(2024, 3, 21)

SAFEGUARD_MECHANISMS = frozenset(
    {
        TransferMechanism.STANDARD_CONTRACTUAL_CLAUSES,
        TransferMechanism.STANDARD_CONTRACTUAL_CLAUSES_2010,
        TransferMechanism.UK_IDTA,
        TransferMechanism.UK_ADDENDUM,
        TransferMechanism.BINDING_CORPORATE_RULES,
    }
)


def effective_from(signed_on: date | None, disclosure_start: date) -> date:
    """A safeguard counts from the day it was signed; when that is not recorded, from the day the
    disclosure started."""
    return signed_on if signed_on is not None else disclosure_start


def safeguard_obstacle(
    jurisdiction: Jurisdiction,
    mechanism: TransferMechanism,
    on: date,
    signed_on: date,
    *,
    beside_eu_sccs: bool = False,
    within_group: bool = False,
) -> str | None:
    """None when the recorded safeguard counts under the regime on the day; otherwise why not,
    naming the date that rules it out and what would cure it.

    `signed_on`: the day it took effect (`effective_from`). `beside_eu_sccs`: the same transfer
    also records EU SCCs (the UK Addendum amends them and is nothing alone). `within_group`: the
    exporter and the importer are members of one corporate group (BCRs bind only the group)."""
    law = LAW[jurisdiction]
    if mechanism not in SAFEGUARD_MECHANISMS:
        return f"{mechanism.value} is not an appropriate safeguard under {law} Art. 46."
    uk = jurisdiction is Jurisdiction.UK
    if mechanism is TransferMechanism.BINDING_CORPORATE_RULES:
        if not within_group:
            return (
                f"Binding corporate rules bind only the members of one corporate group ({law} "
                "Art. 47(1)), and the recipient is not in the exporter's group: sign standard "
                f"contractual clauses{' with the UK Addendum, or the IDTA' if uk else ''} instead."
            )
        return _not_yet(on, signed_on, "The binding corporate rules")
    if mechanism is TransferMechanism.STANDARD_CONTRACTUAL_CLAUSES:
        if uk:
            return (
                "The 2021 EU standard contractual clauses have never covered UK data alone: "
                f"add the UK Addendum (from {_day(UK_IDTA_FROM)}) or sign the UK IDTA."
            )
        if on < SCCS_2021_FROM:
            return (
                f"The 2021 standard contractual clauses apply only from {_day(SCCS_2021_FROM)} "
                "(Decision (EU) 2021/914, Art. 4); before it, the 2010 clauses were the safeguard."
            )
        return _not_yet(on, signed_on, "The standard contractual clauses")
    if mechanism is TransferMechanism.STANDARD_CONTRACTUAL_CLAUSES_2010:
        if uk:
            if signed_on > SCCS_2010_UK_SIGNED_BY:
                return (
                    "The 2010 standard contractual clauses count for UK data only when signed on "
                    f"or before {_day(SCCS_2010_UK_SIGNED_BY)}, and these were signed on "
                    f"{_day(signed_on)}: sign the UK IDTA, or the 2021 clauses with the UK "
                    "Addendum."
                )
            if on >= SCCS_2010_UK_UNTIL:
                return (
                    "The 2010 standard contractual clauses stopped covering UK data on "
                    f"{_day(SCCS_2010_UK_UNTIL)}: sign the UK IDTA, or the 2021 clauses with the "
                    "UK Addendum."
                )
            return _not_yet(on, signed_on, "The 2010 standard contractual clauses")
        if signed_on >= SCCS_2010_EEA_SIGNED_BEFORE:
            return (
                "The 2010 standard contractual clauses count only when signed before "
                f"{_day(SCCS_2010_EEA_SIGNED_BEFORE)} (Decision (EU) 2021/914, Art. 4(3)), and "
                f"these were signed on {_day(signed_on)}: sign the 2021 clauses."
            )
        if on >= SCCS_2010_EEA_UNTIL:
            return (
                "The 2010 standard contractual clauses stopped covering EEA data on "
                f"{_day(SCCS_2010_EEA_UNTIL)} (Decision (EU) 2021/914, Art. 4(4)): sign the 2021 "
                "clauses."
            )
        return _not_yet(on, signed_on, "The 2010 standard contractual clauses")
    # The UK IDTA and the UK Addendum.
    name = (
        "The UK International Data Transfer Agreement"
        if mechanism is TransferMechanism.UK_IDTA
        else "The UK Addendum"
    )
    if not uk:
        return (
            f"{name} is a safeguard for UK data only: for EEA data, sign the 2021 standard "
            "contractual clauses."
        )
    if on < UK_IDTA_FROM:
        return (
            f"{name} exists only from {_day(UK_IDTA_FROM)} (Data Protection Act 2018, s. 119A); "
            "before it, the 2010 standard contractual clauses were the safeguard for UK data."
        )
    if mechanism is TransferMechanism.UK_ADDENDUM and not beside_eu_sccs:
        return (
            "The UK Addendum amends the EU standard contractual clauses and is nothing alone: "
            "record the 2021 clauses it is attached to, or sign the UK IDTA."
        )
    return _not_yet(on, signed_on, name)


def _not_yet(on: date, signed_on: date, name: str) -> str | None:
    if on < signed_on:
        return (
            f"{name} counts from the day it was signed, {_day(signed_on)}; the transfer on "
            f"{_day(on)} came before it."
        )
    return None


# ---------------------------------------------------------------------------------------------
# Derogations (Art. 49), read with EDPB Guidelines 2/2018.

# Art. 49(1)(b), (e) and (f): occasional transfers only (recital 111; Guidelines 2/2018, 2.2).
OCCASIONAL_ONLY = frozenset(
    {
        TransferMechanism.DEROGATION_CONTRACT,
        TransferMechanism.DEROGATION_LEGAL_CLAIMS,
        TransferMechanism.DEROGATION_VITAL_INTERESTS,
    }
)
DEROGATION_MECHANISMS = OCCASIONAL_ONLY | {
    TransferMechanism.DEROGATION_EXPLICIT_CONSENT,
    TransferMechanism.DEROGATION_PUBLIC_INTEREST,
}
# A transfer's reference names a law when it names a kind of legal instrument. The inventory
# cannot read the law, nor tell whose law it is; the check only refuses a public-interest
# derogation whose reference names none.
_LAW_WORDS = re.compile(
    r"\b(act|law|regulation|directive|code|decree|ordinance|statute|order|gesetz|"
    r"loi|ley|legge|wet|lag|lov|article|art\.|section|s\.\s*\d)|§",
    re.IGNORECASE,
)


def names_a_law(reference: str | None) -> bool:
    return reference is not None and _LAW_WORDS.search(reference) is not None


def derogation_obstacle(
    jurisdiction: Jurisdiction,
    mechanism: TransferMechanism,
    frequency: DisclosureFrequency,
    *,
    reference: str | None = None,
    consent_granted: bool = False,
) -> str | None:
    """None when the derogation can hold for the flow; otherwise why not (EDPB Guidelines 2/2018)
    and what would cure it.

    `consent_granted`: the person has a granted consent to this transfer (this recipient and
    country) at the moment (`transfer_consent_granted`); consent to a purpose does not count.
    `reference`: the transfer's reference, which for the public-interest derogation must name the
    law it rests on."""
    law = LAW[jurisdiction]
    if mechanism not in DEROGATION_MECHANISMS:
        return f"{mechanism.value} is not a derogation under {law} Art. 49(1)."
    if mechanism is TransferMechanism.DEROGATION_EXPLICIT_CONSENT:
        if consent_granted:
            return None
        return (
            f"Explicit consent ({law} Art. 49(1)(a)) must be given to this transfer, to this "
            "recipient and country, after the person was told its risks (EDPB Guidelines 2/2018, "
            "2.1); consent to a purpose is not consent to a transfer. Record the person's "
            "transfer consent, or rely on a safeguard."
        )
    if mechanism in OCCASIONAL_ONLY:
        if frequency is DisclosureFrequency.ON_REQUEST:
            return None
        point = {
            TransferMechanism.DEROGATION_CONTRACT: "(b)",
            TransferMechanism.DEROGATION_LEGAL_CLAIMS: "(e)",
            TransferMechanism.DEROGATION_VITAL_INTERESTS: "(f)",
        }[mechanism]
        why = (
            f"The derogation of {law} Art. 49(1){point} is for occasional transfers only "
            "(recital 111; EDPB Guidelines 2/2018, 2.2), and this disclosure is continuous."
        )
        if mechanism is TransferMechanism.DEROGATION_VITAL_INTERESTS:
            why += (
                " It also needs a person unable to consent, which the inventory cannot know, so "
                "it counts only for a disclosure made on request (a conservative reading)."
            )
        return f"{why} A regular flow needs a safeguard under Art. 46."
    # DEROGATION_PUBLIC_INTEREST: not limited to occasional transfers (Guidelines 2/2018, 2.4).
    if names_a_law(reference):
        return None
    whose = "UK law" if jurisdiction is Jurisdiction.UK else "EU or member-state law"
    return (
        f"The public-interest derogation ({law} Art. 49(1)(d)) holds only for an interest "
        f"recognised in {whose} (Art. 49(4); EDPB Guidelines 2/2018, 2.4), and the transfer's "
        "reference names no law: name the law it rests on in the reference."
    )


@dataclass(frozen=True)
class TransferConsent:
    """One person's decision on one transfer (Art. 49(1)(a)): this recipient, this country."""

    recipient: str
    country: str
    granted: bool
    decided_at: date
    recorded_at: date


def transfer_consent_granted(
    consents: Sequence[TransferConsent], recipient: str, country: str, on: date
) -> bool:
    """Whether the person's latest decision on or before `on` about transferring their data to
    `recipient` in `country` is a grant (latest `decided_at`, ties by `recorded_at`)."""
    relevant = [
        c
        for c in consents
        if c.recipient == recipient and c.country == country and c.decided_at <= on
    ]
    if not relevant:
        return False
    return max(relevant, key=lambda c: (c.decided_at, c.recorded_at)).granted


# ---------------------------------------------------------------------------------------------
# Data Privacy Framework certifications.


class DataPrivacyFramework(StrEnum):
    EU_US = "EU_US"
    UK_EXTENSION = "UK_EXTENSION"
    SWISS_US = "SWISS_US"


# Commission Implementing Decision (EU) 2023/1795 of 10 July 2023; The Data Protection (Adequacy)
# (United States of America) Regulations 2023 (SI 2023/1028), in force 12 October 2023; the Swiss
# Federal Council's decision of 14 August 2024, in force 15 September 2024.
FRAMEWORK_FROM = {
    DataPrivacyFramework.EU_US: date(2023, 7, 10),
    DataPrivacyFramework.UK_EXTENSION: date(2023, 10, 12),
    DataPrivacyFramework.SWISS_US: date(2024, 9, 15),
}


@dataclass(frozen=True)
class DpfCertification:
    """In force from `certified_on` up to, not including, `lapsed_on` (None: still in force)."""

    framework: DataPrivacyFramework
    certified_on: date
    lapsed_on: date | None = None

    def in_force(self, on: date) -> bool:
        return max(self.certified_on, FRAMEWORK_FROM[self.framework]) <= on and (
            self.lapsed_on is None or on < self.lapsed_on
        )


def _holds(
    certifications: Sequence[DpfCertification], framework: DataPrivacyFramework, on: date
) -> bool:
    return any(c.framework is framework and c.in_force(on) for c in certifications)


def certified_for(
    jurisdiction: Jurisdiction, certifications: Sequence[DpfCertification], on: date
) -> bool:
    """Whether the certifications bring a US recipient under the regime's US decision on the day:
    EU_US for EEA data (from 10 July 2023); UK_EXTENSION for UK data (from 12 October 2023), only
    while an EU_US certification is in force too (the Extension is an add-on to it)."""
    if jurisdiction is Jurisdiction.EEA:
        return _holds(certifications, DataPrivacyFramework.EU_US, on)
    return _holds(certifications, DataPrivacyFramework.UK_EXTENSION, on) and _holds(
        certifications, DataPrivacyFramework.EU_US, on
    )


def _uncovered_from(
    start: date, end: date | None, covers: Sequence[DpfCertification]
) -> date | None:
    """The first day in [start, end) that no certification in `covers` spans, or None."""
    day = start
    while end is None or day < end:
        spanning = [
            c
            for c in covers
            if c.certified_on <= day and (c.lapsed_on is None or day < c.lapsed_on)
        ]
        if not spanning:
            return day
        if any(c.lapsed_on is None for c in spanning):
            return None
        day = max(c.lapsed_on for c in spanning if c.lapsed_on is not None)
    return None


def check_certifications(
    errors: ErrorCollector, path: list[str], certifications: Sequence[DpfCertification]
) -> None:
    """Record under `path` (the list's field) what is wrong: a certification that lapses on or
    before the day it was certified (it would never be in force), and a UK Extension certification
    without an EU-US one over the same time (the Extension cannot be joined alone)."""
    eu_us = [
        c
        for c in certifications
        if c.framework is DataPrivacyFramework.EU_US
        and (c.lapsed_on is None or c.lapsed_on > c.certified_on)
    ]
    for i, certification in enumerate(certifications):
        where = [*path, str(i)]
        lapsed = certification.lapsed_on
        if lapsed is not None and lapsed <= certification.certified_on:
            errors.add(
                [*where, "lapsedOn"],
                f"A certification cannot lapse on or before the day it was certified "
                f"({certification.certified_on.isoformat()}).",
            )
            continue
        if certification.framework is not DataPrivacyFramework.UK_EXTENSION:
            continue
        gap = _uncovered_from(certification.certified_on, lapsed, eu_us)
        if gap is not None:
            errors.add(
                [*where, "framework"],
                "The UK Extension is an add-on to the EU-US Data Privacy Framework: record the "
                f"recipient's EU_US certification too (none is in force on {gap.isoformat()}).",
            )
