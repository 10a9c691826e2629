"""The regimes in time and territory (issue 13 §2-§3): each row names the article or decision it
implements; every date boundary is tried on the day before, the day of and the day after."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from server.domain.adequacy import Coverage, load_reference, reference
from server.domain.enums import DisclosureFrequency, TransferMechanism
from server.domain.errors import ErrorCollector
from server.domain.regimes import (
    EEA_TERRITORY,
    GDPR_APPLIES_FROM,
    DataPrivacyFramework,
    DpfCertification,
    Jurisdiction,
    TransferConsent,
    certified_for,
    check_certifications,
    derogation_obstacle,
    effective_from,
    in_territory,
    jurisdiction_of,
    names_a_law,
    regime_exists,
    restricted,
    safeguard_obstacle,
    tca_bridge,
    transfer_consent_granted,
    why_no_regime,
)

EEA = Jurisdiction.EEA
UK = Jurisdiction.UK
M = TransferMechanism
F = DataPrivacyFramework
D = date
ONE = timedelta(days=1)
TODAY = D(2026, 11, 25)


def around(day: date) -> tuple[date, date, date]:
    return day - ONE, day, day + ONE


# --- Which regime exists ---------------------------------------------------------------------

_before_gdpr, _gdpr_day, _after_gdpr = around(GDPR_APPLIES_FROM)


@pytest.mark.parametrize(
    ("jurisdiction", "on", "exists"),
    [
        # GDPR Art. 99(2): applies from 25 May 2018.
        (EEA, _before_gdpr, False),
        (EEA, _gdpr_day, True),
        (EEA, _after_gdpr, True),
        # UK GDPR: from the end of the transition period (Withdrawal Agreement Art. 126).
        (UK, _gdpr_day, False),
        (UK, D(2020, 12, 31), False),
        (UK, D(2021, 1, 1), True),
        (UK, D(2021, 1, 2), True),
        (UK, TODAY, True),
    ],
)
def test_regime_exists(jurisdiction: Jurisdiction, on: date, exists: bool) -> None:
    assert regime_exists(jurisdiction, on) is exists
    assert (why_no_regime(jurisdiction, on) is None) is exists


def test_before_gdpr_the_reason_says_it_did_not_apply_yet() -> None:
    for jurisdiction in Jurisdiction:
        reason = why_no_regime(jurisdiction, _before_gdpr)
        assert reason is not None and "did not apply yet" in reason and "25 May 2018" in reason
        assert not in_territory(jurisdiction, "DE", _before_gdpr)
        assert not in_territory(jurisdiction, "GB", _before_gdpr)


def test_before_2021_the_reason_says_the_uk_was_in_the_eu_regime() -> None:
    reason = why_no_regime(UK, D(2020, 12, 31))
    assert reason is not None and "inside the EU regime" in reason


# --- Territory -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("jurisdiction", "country", "on", "inside"),
    [
        # TFEU Art. 52 / EEA Agreement: the 27 and IS, LI, NO.
        (EEA, "DE", TODAY, True),
        (EEA, "IS", TODAY, True),
        (EEA, "LI", TODAY, True),
        (EEA, "NO", TODAY, True),
        (EEA, "CH", TODAY, False),
        # TFEU Art. 349 and 355(1): outermost regions under their own ISO codes.
        (EEA, "RE", TODAY, True),
        (EEA, "GP", TODAY, True),
        (EEA, "MQ", TODAY, True),
        (EEA, "GF", TODAY, True),
        (EEA, "YT", TODAY, True),
        (EEA, "MF", TODAY, True),
        # Saint-Barthélemy left the EU in 2012 (an overseas country and territory since).
        (EEA, "BL", TODAY, False),
        (EEA, "NC", TODAY, False),
        # TFEU Art. 355(4): Åland.
        (EEA, "AX", TODAY, True),
        # EEA Agreement, Protocol 40: Svalbard is outside.
        (EEA, "SJ", TODAY, False),
        (UK, "SJ", TODAY, False),
        # Withdrawal Agreement Art. 126-127: GB and Gibraltar in the EU regime to 31 Dec 2020.
        (EEA, "GB", D(2020, 12, 31), True),
        (EEA, "GB", D(2021, 1, 1), False),
        (EEA, "GB", D(2021, 1, 2), False),
        (EEA, "GI", D(2020, 12, 31), True),
        (EEA, "GI", D(2021, 1, 1), False),
        (EEA, "GI", D(2021, 1, 2), False),
        # UK GDPR: the UK regime's territory is GB, from 1 January 2021; Gibraltar has its own law.
        (UK, "GB", D(2020, 12, 31), False),
        (UK, "GB", D(2021, 1, 1), True),
        (UK, "GB", D(2021, 1, 2), True),
        (UK, "GI", TODAY, False),
        (UK, "DE", TODAY, False),
        (UK, "IM", TODAY, False),
    ],
)
def test_in_territory(jurisdiction: Jurisdiction, country: str, on: date, inside: bool) -> None:
    assert in_territory(jurisdiction, country, on) is inside


@pytest.mark.parametrize(
    ("country", "on", "expected"),
    [
        # The reviewer's example: a Réunion resident is in the EEA.
        ("RE", TODAY, EEA),
        ("AX", TODAY, EEA),
        ("SJ", TODAY, None),
        # A UK resident before 2021 was an EEA resident.
        ("GB", D(2020, 12, 31), EEA),
        ("GB", D(2021, 1, 1), UK),
        ("GI", D(2020, 12, 31), EEA),
        ("GI", D(2021, 1, 1), None),
        ("US", TODAY, None),
        ("DE", _before_gdpr, None),
    ],
)
def test_jurisdiction_of(country: str, on: date, expected: Jurisdiction | None) -> None:
    assert jurisdiction_of(country, on) is expected


def test_the_eea_is_30_states_6_outermost_regions_and_aland() -> None:
    assert len(EEA_TERRITORY) == 37
    # The reference file's list of EEA states is the same 30 states.
    assert reference().eea == EEA_TERRITORY - {"RE", "GP", "MQ", "GF", "YT", "MF", "AX"}


@pytest.mark.parametrize(
    ("jurisdiction", "exporter", "destination", "on", "is_restricted"),
    [
        # The reviewer's examples: FR→RE and FI→AX are not restricted (Art. 44: inside the EEA).
        (EEA, "FR", "RE", TODAY, False),
        (EEA, "FI", "AX", TODAY, False),
        (EEA, "NO", "SJ", TODAY, True),
        (EEA, "DE", "US", TODAY, True),
        # Before 2021 a transfer from DE to GB stayed inside the EU regime.
        (EEA, "DE", "GB", D(2020, 12, 31), False),
        # TCA Art. FINPROV.10A: the bridge, 1 January 2021 to the EU's UK decision (28 June 2021).
        (EEA, "DE", "GB", D(2021, 1, 1), False),
        (EEA, "DE", "GB", D(2021, 1, 2), False),
        (EEA, "DE", "GB", D(2021, 6, 27), False),
        (EEA, "DE", "GB", D(2021, 6, 28), True),  # from here the adequacy decision judges it
        (EEA, "DE", "GB", D(2021, 6, 29), True),
        # The bridge is for the UK only, not Gibraltar, and only from an exporter in the EEA.
        (EEA, "DE", "GI", D(2021, 3, 1), True),
        (EEA, "US", "GB", D(2021, 3, 1), True),
        (EEA, "RE", "GB", D(2021, 3, 1), False),
        # UK GDPR: inside is GB only; the bridge is the EU's.
        (UK, "GB", "GB", TODAY, False),
        (UK, "GB", "DE", D(2021, 3, 1), True),
    ],
)
def test_restricted(
    jurisdiction: Jurisdiction, exporter: str, destination: str, on: date, is_restricted: bool
) -> None:
    assert restricted(jurisdiction, exporter, destination, on) is is_restricted


@pytest.mark.parametrize(
    ("on", "bridged"),
    [
        (D(2020, 12, 31), False),  # still one regime: not a transfer at all
        (D(2021, 1, 1), True),
        (D(2021, 1, 2), True),
        (D(2021, 6, 27), True),
        (D(2021, 6, 28), False),
        (D(2021, 6, 29), False),
    ],
)
def test_tca_bridge(on: date, bridged: bool) -> None:
    assert tca_bridge("DE", "GB", on) is bridged


# --- Safeguards ------------------------------------------------------------------------------

SCC = M.STANDARD_CONTRACTUAL_CLAUSES
SCC10 = M.STANDARD_CONTRACTUAL_CLAUSES_2010
IDTA = M.UK_IDTA
ADD = M.UK_ADDENDUM
BCR = M.BINDING_CORPORATE_RULES
EARLY = D(2019, 1, 1)  # signed long before any boundary

SAFEGUARD_ROWS = [
    # Decision (EU) 2021/914 Art. 4: the 2021 SCCs from 27 June 2021.
    (EEA, SCC, D(2021, 6, 26), D(2021, 6, 26), False, "27 June 2021"),
    (EEA, SCC, D(2021, 6, 27), D(2021, 6, 27), True, None),
    (EEA, SCC, D(2021, 6, 28), D(2021, 6, 27), True, None),
    (EEA, SCC, TODAY, D(2024, 1, 1), True, None),
    # ... and only from the day they were signed.
    (EEA, SCC, D(2023, 12, 31), D(2024, 1, 1), False, "1 January 2024"),
    # UK: the 2021 SCCs never alone (the Addendum or the IDTA is needed).
    (UK, SCC, D(2021, 7, 1), D(2021, 7, 1), False, "UK Addendum"),
    (UK, SCC, TODAY, D(2024, 1, 1), False, "never covered UK data alone"),
    # Decision (EU) 2021/914 Art. 4(3): 2010 SCCs only if signed before 27 September 2021 ...
    (EEA, SCC10, D(2022, 1, 1), D(2021, 9, 26), True, None),
    (EEA, SCC10, D(2022, 1, 1), D(2021, 9, 27), False, "27 September 2021"),
    (EEA, SCC10, D(2022, 1, 1), D(2021, 9, 28), False, "27 September 2021"),
    # ... Art. 4(4): and no longer from 27 December 2022.
    (EEA, SCC10, D(2022, 12, 26), EARLY, True, None),
    (EEA, SCC10, D(2022, 12, 27), EARLY, False, "27 December 2022"),
    (EEA, SCC10, D(2022, 12, 28), EARLY, False, "2021 clauses"),
    (EEA, SCC10, D(2018, 12, 31), EARLY, False, "1 January 2019"),
    # UK transitional provisions: 2010 SCCs if signed on or before 21 September 2022 ...
    (UK, SCC10, D(2023, 1, 1), D(2022, 9, 20), True, None),
    (UK, SCC10, D(2023, 1, 1), D(2022, 9, 21), True, None),
    (UK, SCC10, D(2023, 1, 1), D(2022, 9, 22), False, "21 September 2022"),
    # ... until 21 March 2024.
    (UK, SCC10, D(2024, 3, 20), EARLY, True, None),
    (UK, SCC10, D(2024, 3, 21), EARLY, False, "21 March 2024"),
    (UK, SCC10, D(2024, 3, 22), EARLY, False, "UK IDTA"),
    # DPA 2018 s. 119A: the IDTA and the Addendum from 21 March 2022, for UK data only.
    (UK, IDTA, D(2021, 6, 15), D(2021, 6, 15), False, "21 March 2022"),  # the reviewer's
    (UK, IDTA, D(2022, 3, 20), D(2022, 3, 20), False, "21 March 2022"),
    (UK, IDTA, D(2022, 3, 21), D(2022, 3, 21), True, None),
    (UK, IDTA, D(2022, 3, 22), D(2022, 3, 21), True, None),
    (UK, IDTA, D(2023, 1, 1), D(2023, 2, 1), False, "1 February 2023"),
    (EEA, IDTA, TODAY, EARLY, False, "UK data only"),
    (UK, ADD, D(2022, 3, 20), D(2022, 3, 20), False, "21 March 2022"),
    (UK, ADD, D(2022, 3, 21), D(2022, 3, 21), True, None),
    (UK, ADD, D(2022, 3, 22), D(2022, 3, 21), True, None),
    (EEA, ADD, TODAY, EARLY, False, "UK data only"),
    # Art. 46(2)(b) and 47: BCRs, within the group.
    (EEA, BCR, TODAY, EARLY, True, None),
    (UK, BCR, TODAY, EARLY, True, None),
    # Not safeguards at all.
    (EEA, M.NONE, TODAY, EARLY, False, "not an appropriate safeguard"),
    (UK, M.DEROGATION_CONTRACT, TODAY, EARLY, False, "Art. 46"),
]


@pytest.mark.parametrize(
    ("jurisdiction", "mechanism", "on", "signed", "counts", "words"), SAFEGUARD_ROWS
)
def test_safeguard_dates(
    jurisdiction: Jurisdiction,
    mechanism: TransferMechanism,
    on: date,
    signed: date,
    counts: bool,
    words: str | None,
) -> None:
    why_not = safeguard_obstacle(
        jurisdiction, mechanism, on, signed, beside_eu_sccs=True, within_group=True
    )
    assert (why_not is None) is counts, why_not
    if words is not None:
        assert why_not is not None and words in why_not


def test_the_addendum_is_nothing_without_eu_sccs() -> None:
    why_not = safeguard_obstacle(UK, ADD, TODAY, EARLY, beside_eu_sccs=False)
    assert why_not is not None and "IDTA" in why_not
    assert safeguard_obstacle(UK, ADD, TODAY, EARLY, beside_eu_sccs=True) is None


@pytest.mark.parametrize("jurisdiction", list(Jurisdiction))
def test_binding_corporate_rules_only_within_one_group(jurisdiction: Jurisdiction) -> None:
    # Art. 47(1): BCRs bind the members of a group, not a partner outside it.
    why_not = safeguard_obstacle(jurisdiction, BCR, TODAY, EARLY, within_group=False)
    assert why_not is not None and "Art. 47(1)" in why_not
    assert safeguard_obstacle(jurisdiction, BCR, TODAY, EARLY, within_group=True) is None


def test_a_safeguard_counts_from_the_disclosure_start_when_not_signed() -> None:
    assert effective_from(None, D(2023, 5, 1)) == D(2023, 5, 1)
    assert effective_from(D(2022, 1, 1), D(2023, 5, 1)) == D(2022, 1, 1)


def test_a_safeguard_signed_in_the_future_counts_as_planned() -> None:
    # Issue 13 §2: asOf and signedOn may lie in the future.
    assert safeguard_obstacle(EEA, SCC, D(2027, 2, 1), D(2027, 1, 1)) is None
    assert safeguard_obstacle(EEA, SCC, D(2026, 12, 31), D(2027, 1, 1)) is not None


# --- Derogations -----------------------------------------------------------------------------

ON_REQUEST = DisclosureFrequency.ON_REQUEST
CONTINUOUS = DisclosureFrequency.CONTINUOUS

DEROGATION_ROWS = [
    # Art. 49(1)(a), Guidelines 2/2018 2.1: explicit consent to the transfer itself.
    (EEA, M.DEROGATION_EXPLICIT_CONSENT, CONTINUOUS, None, True, True, None),
    (EEA, M.DEROGATION_EXPLICIT_CONSENT, CONTINUOUS, None, False, False, "not consent to a"),
    (UK, M.DEROGATION_EXPLICIT_CONSENT, ON_REQUEST, None, False, False, "UK GDPR Art. 49(1)(a)"),
    # Art. 49(1)(b), (e), (f), recital 111, Guidelines 2/2018 2.2: occasional transfers only.
    (EEA, M.DEROGATION_CONTRACT, ON_REQUEST, None, False, True, None),
    (EEA, M.DEROGATION_CONTRACT, CONTINUOUS, None, False, False, "occasional"),
    (UK, M.DEROGATION_LEGAL_CLAIMS, ON_REQUEST, None, False, True, None),
    (UK, M.DEROGATION_LEGAL_CLAIMS, CONTINUOUS, None, False, False, "Art. 49(1)(e)"),
    (EEA, M.DEROGATION_VITAL_INTERESTS, ON_REQUEST, None, False, True, None),
    (EEA, M.DEROGATION_VITAL_INTERESTS, CONTINUOUS, None, False, False, "unable to consent"),
    # Art. 49(1)(d) and 49(4), Guidelines 2/2018 2.4: the law it rests on, not only occasional.
    (
        EEA,
        M.DEROGATION_PUBLIC_INTEREST,
        CONTINUOUS,
        "Directive (EU) 2015/849, Art. 50",
        False,
        True,
        None,
    ),
    (EEA, M.DEROGATION_PUBLIC_INTEREST, CONTINUOUS, None, False, False, "EU or member-state law"),
    (EEA, M.DEROGATION_PUBLIC_INTEREST, ON_REQUEST, "ticket 4711", False, False, "names no law"),
    (UK, M.DEROGATION_PUBLIC_INTEREST, CONTINUOUS, "Proceeds of Crime Act 2002", False, True, None),
    (UK, M.DEROGATION_PUBLIC_INTEREST, CONTINUOUS, "", False, False, "UK law"),
    # Not a derogation.
    (EEA, SCC, ON_REQUEST, None, True, False, "not a derogation"),
]


@pytest.mark.parametrize(
    ("jurisdiction", "mechanism", "frequency", "reference", "consent", "holds", "words"),
    DEROGATION_ROWS,
)
def test_derogations(
    jurisdiction: Jurisdiction,
    mechanism: TransferMechanism,
    frequency: DisclosureFrequency,
    reference: str | None,
    consent: bool,
    holds: bool,
    words: str | None,
) -> None:
    why_not = derogation_obstacle(
        jurisdiction, mechanism, frequency, reference=reference, consent_granted=consent
    )
    assert (why_not is None) is holds, why_not
    if words is not None:
        assert why_not is not None and words in why_not


def test_continuous_derogations_name_the_cure() -> None:
    why_not = derogation_obstacle(EEA, M.DEROGATION_CONTRACT, CONTINUOUS)
    assert why_not is not None and "EDPB Guidelines 2/2018" in why_not
    assert "safeguard under Art. 46" in why_not


@pytest.mark.parametrize(
    ("reference", "names"),
    [
        ("Geldwäschegesetz § 43", True),
        ("Code monétaire et financier, article L561-2", True),
        ("Proceeds of Crime Act 2002, s. 330", True),
        ("Regulation (EU) 2016/679", True),
        ("per the request of the authority", False),
        ("", False),
        (None, False),
    ],
)
def test_names_a_law(reference: str | None, names: bool) -> None:
    assert names_a_law(reference) is names


def _consent(
    recipient: str, country: str, granted: bool, decided: date, recorded: date
) -> TransferConsent:
    return TransferConsent(recipient, country, granted, decided, recorded)


def test_transfer_consent_is_per_recipient_and_country_and_dated() -> None:
    consents = [
        _consent("acme", "US", True, D(2024, 1, 10), D(2024, 1, 10)),
        _consent("acme", "US", False, D(2024, 6, 1), D(2024, 6, 2)),
        _consent("acme", "IN", True, D(2024, 1, 10), D(2024, 1, 10)),
    ]
    assert not transfer_consent_granted(consents, "acme", "US", D(2024, 1, 9))
    assert transfer_consent_granted(consents, "acme", "US", D(2024, 1, 10))
    assert transfer_consent_granted(consents, "acme", "US", D(2024, 5, 31))
    assert not transfer_consent_granted(consents, "acme", "US", D(2024, 6, 1))
    assert transfer_consent_granted(consents, "acme", "IN", D(2024, 6, 1))
    assert not transfer_consent_granted(consents, "other", "US", D(2024, 3, 1))
    assert not transfer_consent_granted(consents, "acme", "CN", D(2024, 3, 1))


def test_transfer_consents_on_one_day_are_ordered_by_recording() -> None:
    day = D(2024, 3, 1)
    later_grant = [
        _consent("acme", "US", False, day, D(2024, 3, 1)),
        _consent("acme", "US", True, day, D(2024, 3, 2)),
    ]
    assert transfer_consent_granted(later_grant, "acme", "US", day)
    later_refusal = [*later_grant, _consent("acme", "US", False, day, D(2024, 3, 3))]
    assert not transfer_consent_granted(later_refusal, "acme", "US", day)
    # A later decision counts before an earlier one recorded later (decided_at first).
    corrected = [
        _consent("acme", "US", True, D(2024, 3, 2), D(2024, 3, 2)),
        _consent("acme", "US", False, D(2024, 3, 1), D(2024, 3, 5)),
    ]
    assert transfer_consent_granted(corrected, "acme", "US", D(2024, 3, 6))


# --- Data Privacy Framework certifications ---------------------------------------------------


def _cert(framework: F, certified: date, lapsed: date | None = None) -> DpfCertification:
    return DpfCertification(framework, certified, lapsed)


EU_2020 = _cert(F.EU_US, D(2020, 1, 1))
UKX_2020 = _cert(F.UK_EXTENSION, D(2020, 1, 1))

DPF_ROWS = [
    # Decision (EU) 2023/1795: EU_US counts for EEA data from 10 July 2023.
    (EEA, [EU_2020], D(2023, 7, 9), False),
    (EEA, [EU_2020], D(2023, 7, 10), True),
    (EEA, [EU_2020], D(2023, 7, 11), True),
    # SI 2023/1028: the UK Extension counts for UK data from 12 October 2023 ...
    (UK, [EU_2020, UKX_2020], D(2023, 10, 11), False),
    (UK, [EU_2020, UKX_2020], D(2023, 10, 12), True),
    (UK, [EU_2020, UKX_2020], D(2023, 10, 13), True),
    # ... never the EU_US certification alone for UK data (the fourth case) ...
    (UK, [EU_2020], TODAY, False),
    # ... nor the UK Extension without an EU_US certification in force the same day.
    (UK, [UKX_2020], TODAY, False),
    (UK, [_cert(F.EU_US, D(2020, 1, 1), D(2024, 2, 1)), UKX_2020], D(2024, 1, 31), True),
    (UK, [_cert(F.EU_US, D(2020, 1, 1), D(2024, 2, 1)), UKX_2020], D(2024, 2, 1), False),
    # The UK Extension does nothing for EEA data; SWISS_US nothing for either.
    (EEA, [UKX_2020], TODAY, False),
    (EEA, [_cert(F.SWISS_US, D(2020, 1, 1))], TODAY, False),
    (UK, [_cert(F.SWISS_US, D(2020, 1, 1))], TODAY, False),
    # In force from certifiedOn up to, not including, lapsedOn.
    (EEA, [_cert(F.EU_US, D(2024, 5, 1))], D(2024, 4, 30), False),
    (EEA, [_cert(F.EU_US, D(2024, 5, 1))], D(2024, 5, 1), True),
    (EEA, [_cert(F.EU_US, D(2024, 5, 1))], D(2024, 5, 2), True),
    (EEA, [_cert(F.EU_US, D(2024, 5, 1), D(2025, 5, 1))], D(2025, 4, 30), True),
    (EEA, [_cert(F.EU_US, D(2024, 5, 1), D(2025, 5, 1))], D(2025, 5, 1), False),
    (EEA, [_cert(F.EU_US, D(2024, 5, 1), D(2025, 5, 1))], D(2025, 5, 2), False),
    (EEA, [], TODAY, False),
]


@pytest.mark.parametrize(("jurisdiction", "certifications", "on", "certified"), DPF_ROWS)
def test_certified_for(
    jurisdiction: Jurisdiction, certifications: list[DpfCertification], on: date, certified: bool
) -> None:
    assert certified_for(jurisdiction, certifications, on) is certified


@pytest.mark.parametrize(
    ("certifications", "errors"),
    [
        ([EU_2020, UKX_2020], []),
        ([], []),
        ([_cert(F.SWISS_US, D(2024, 1, 1))], []),
        # An Extension needs the EU-US certification over the same time (issue 13 §3).
        ([UKX_2020], [(["c", "0", "framework"], "2020-01-01")]),
        ([_cert(F.EU_US, D(2021, 1, 1)), UKX_2020], [(["c", "1", "framework"], "2020-01-01")]),
        (
            [_cert(F.EU_US, D(2020, 1, 1), D(2024, 1, 1)), UKX_2020],
            [(["c", "1", "framework"], "2024-01-01")],
        ),
        (
            [
                _cert(F.EU_US, D(2020, 1, 1), D(2024, 1, 1)),
                _cert(F.EU_US, D(2024, 1, 1)),
                UKX_2020,
            ],
            [],
        ),
        ([EU_2020, _cert(F.UK_EXTENSION, D(2021, 1, 1), D(2022, 1, 1))], []),
        # Lapsed on or before certified: never in force.
        ([_cert(F.EU_US, D(2024, 1, 2), D(2024, 1, 1))], [(["c", "0", "lapsedOn"], "2024-01-02")]),
        ([_cert(F.EU_US, D(2024, 1, 1), D(2024, 1, 1))], [(["c", "0", "lapsedOn"], "2024-01-01")]),
        ([_cert(F.EU_US, D(2024, 1, 1), D(2024, 1, 2))], []),
        # An EU_US certification that was never in force covers no Extension.
        (
            [_cert(F.EU_US, D(2024, 1, 2), D(2024, 1, 1)), _cert(F.UK_EXTENSION, D(2024, 1, 2))],
            [(["c", "0", "lapsedOn"], "2024-01-02"), (["c", "1", "framework"], "2024-01-02")],
        ),
    ],
)
def test_check_certifications(
    certifications: list[DpfCertification], errors: list[tuple[list[str], str]]
) -> None:
    collector = ErrorCollector()
    check_certifications(collector, ["c"], certifications)
    assert [e.field for e in collector.errors] == [path for path, _ in errors]
    for error, (_, words) in zip(collector.errors, errors, strict=True):
        assert words in error.message


# --- Reference data: dated decisions, Korea's scope, the European Patent Organisation -------

REF = load_reference()
EPO = "European Patent Organisation"


@pytest.mark.parametrize(
    ("jurisdiction", "country", "on", "in_force"),
    [
        # Decision (EU) 2021/1772 of 28 June 2021, renewed to 27 December 2031 (inclusive).
        (EEA, "GB", D(2021, 6, 27), False),
        (EEA, "GB", D(2021, 6, 28), True),
        (EEA, "GB", D(2021, 6, 29), True),
        (EEA, "GB", D(2025, 6, 28), True),  # past the first sunset: the renewal continues it
        (EEA, "GB", D(2031, 12, 26), True),
        (EEA, "GB", D(2031, 12, 27), True),
        (EEA, "GB", D(2031, 12, 28), False),
        # Decision (EU) 2026/179 of 26 January 2026: Brazil.
        (EEA, "BR", D(2026, 1, 25), False),
        (EEA, "BR", D(2026, 1, 26), True),
        (EEA, "BR", D(2026, 1, 27), True),
        (UK, "BR", D(2026, 6, 1), False),
        # Decision (EU) 2022/254 of 17 December 2021: Korea.
        (EEA, "KR", D(2021, 12, 16), False),
        (EEA, "KR", D(2021, 12, 17), True),
        (EEA, "KR", D(2021, 12, 18), True),
        # An organisation's seat is not adequate by its decision: no EEA decision for DE.
        (EEA, "DE", D(2026, 1, 1), False),
    ],
)
def test_decisions_count_from_adoption_to_expiry(
    jurisdiction: Jurisdiction, country: str, on: date, in_force: bool
) -> None:
    assert (REF.decision(jurisdiction, country, on) is not None) is in_force


def test_every_decision_is_dated_and_only_the_eu_uk_decision_expires() -> None:
    everything = [*REF.decisions.values(), *REF.organisation_decisions.values()]
    assert all(isinstance(d.adopted_on, date) for d in everything)
    expiring = {(d.jurisdiction, d.country): d.expires_on for d in everything if d.expires_on}
    assert expiring == {(EEA, "GB"): D(2031, 12, 27)}
    assert "19 December 2025" in REF.decisions[(EEA, "GB")].source


def test_korea_is_limited_for_the_eea_and_full_for_the_uk() -> None:
    korea = REF.decisions[(EEA, "KR")]
    assert korea.covers is Coverage.ATTESTED
    assert korea.scope is not None
    for excluded in ("Financial Services Commission", "missionary", "nominating candidates"):
        assert excluded in korea.scope
    assert REF.decisions[(UK, "KR")].covers is Coverage.ALL


def test_the_european_patent_organisation_is_an_organisation_decision() -> None:
    decision = REF.organisation_decision(EEA, EPO, D(2025, 7, 15))
    assert decision is not None and decision.country == "DE"
    assert decision.organisation == EPO
    assert REF.organisation_decision(EEA, EPO, D(2025, 7, 14)) is None
    assert REF.organisation_decision(EEA, EPO, D(2025, 7, 16)) is not None
    # The EU's decision does not cover UK data, and only the exact name is the organisation.
    assert REF.organisation_decision(UK, EPO, D(2026, 1, 1)) is None
    assert REF.organisation_decision(EEA, "European Patent Office", D(2026, 1, 1)) is None
    # Country lookups and the listed country decisions never see it.
    assert all(d.organisation is None for d in REF.decisions.values())
    assert all(d.country != "DE" for d in REF.decisions_for(EEA) if d.organisation is None)


HEAD = "version: 1\nlast_checked: 2025-01-01\neea_members: {source: x, countries: [DE]}\n"


def test_a_reference_without_the_new_keys_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "adequacy.yaml"
    path.write_text(
        HEAD + "decisions:\n  EEA:\n    - {country: CH, adopted_on: 2000-07-26, source: s}\n"
    )
    loaded = load_reference(path)
    decision = loaded.decisions[(EEA, "CH")]
    assert decision.expires_on is None and decision.organisation is None
    assert loaded.decision(EEA, "CH", D(2099, 1, 1)) is decision
    assert loaded.organisation_decisions == {}


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        (
            "{country: CH, adopted_on: 2020-01-02, expires_on: 2020-01-01, source: s}",
            "expires before",
        ),
        ("{country: CH, adopted_on: 2020-01-02, expires_on: soon, source: s}", "are dates"),
        (
            (
                "{organisation: O, country: CH, adopted_on: 2020-01-01, source: s}\n"
                "    - {organisation: O, country: FR, adopted_on: 2021-01-01, source: s}"
            ),
            "two decisions for O",
        ),
    ],
)
def test_bad_dates_and_duplicate_organisations_are_errors(
    tmp_path: Path, entry: str, words: str
) -> None:
    path = tmp_path / "adequacy.yaml"
    path.write_text(HEAD + f"decisions:\n  EEA:\n    - {entry}\n")
    with pytest.raises(ValueError, match=words):
        load_reference(path)


def test_an_organisation_and_its_seat_do_not_collide(tmp_path: Path) -> None:
    path = tmp_path / "adequacy.yaml"
    path.write_text(
        HEAD
        + "decisions:\n  EEA:\n"
        + "    - {country: CH, adopted_on: 2000-07-26, source: country}\n"
        + "    - {organisation: O, country: CH, adopted_on: 2020-01-01, source: organisation}\n"
    )
    loaded = load_reference(path)
    assert loaded.decisions[(EEA, "CH")].source == "country"
    assert loaded.organisation_decisions[(EEA, "O")].source == "organisation"
