"""The transfer rules in plain Python (no database), issue 13: which regimes apply to a flow
(GDPR and UK GDPR Art. 3(1), 3(2) and 44), each destination judged under each of them with
dated decisions, certifications, safeguards and derogations (Art. 45-49), the gaps a dashboard
shows, and properties of the rules over generated inputs.

The table holds every case of the issue's "Why" list and the reviewer's examples, each with the
answer the law gives."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.domain import regimes
from server.domain.adequacy import load_reference
from server.domain.enums import DisclosureFrequency, RecipientKind, TransferMechanism
from server.domain.regimes import DataPrivacyFramework, DpfCertification, Jurisdiction
from server.domain.transfers import (
    Assessment,
    Basis,
    ChainRegimes,
    Exporter,
    Flow,
    RecipientProfile,
    RecordedTransfer,
    RegimeTrigger,
    assess_flow,
    by_destination,
    destinations,
    gaps,
    granted_countries,
    judge_destination,
    no_regime_note,
    regimes_applying,
)

M = TransferMechanism
EEA = Jurisdiction.EEA
UK = Jurisdiction.UK
T = RegimeTrigger
REF = load_reference()
DAY = date(2025, 6, 1)
SERVICE = RecipientKind.SERVICE_PROVIDER
CONTINUOUS = DisclosureFrequency.CONTINUOUS
ON_REQUEST = DisclosureFrequency.ON_REQUEST

# The seed notice's organisation: MPN Technologies LLC in the United States (main), targeting
# people in the EEA and the UK; MPN Technologies Limited in the United Kingdom, targeting the EEA.
US_MAIN = Exporter("MPN Technologies LLC", "US", frozenset({EEA, UK}))
UK_CO = Exporter("MPN Technologies Limited", "GB", frozenset({EEA}))
IE_CO = Exporter("MPN Ireland", "IE", frozenset({UK}))
FR_CO = Exporter("MPN France", "FR", frozenset())
FI_CO = Exporter("MPN Suomi", "FI", frozenset())
NO_CO = Exporter("MPN Norge", "NO", frozenset())
EU_US = DpfCertification(DataPrivacyFramework.EU_US, date(2023, 8, 1))
UK_EXT = DpfCertification(DataPrivacyFramework.UK_EXTENSION, date(2023, 11, 1))


def recipient(
    country: str,
    kind: RecipientKind = SERVICE,
    *,
    name: str = "Acme Cloud",
    certifications: Sequence[DpfCertification] = (),
    international: bool = False,
    legal_name: str | None = None,
) -> RecipientProfile:
    return RecipientProfile(
        "1", name, kind, country, legal_name, tuple(certifications), international
    )


def t(
    country: str,
    mechanism: TransferMechanism,
    *,
    reference: str | None = None,
    signed: date | None = None,
    scope: bool | None = None,
) -> RecordedTransfer:
    return RecordedTransfer(country, mechanism, reference, signed, scope)


@dataclass
class Case:
    """A person living in `lives_in`, whose data `exporter` sends to `to` on `day`; `expect`
    lists, per assessment in order, (regime, trigger, from country, destination, lawful, basis,
    mechanism named); `words` must appear in the explanation of the assessment they index."""

    exporter: Exporter
    lives_in: str
    to: RecipientProfile
    transfers: Sequence[RecordedTransfer]
    expect: list[tuple[Jurisdiction, T, str, str, bool, Basis, TransferMechanism]]
    words: dict[int, Sequence[str]] = field(default_factory=dict)
    day: date = DAY
    frequency: DisclosureFrequency = CONTINUOUS
    within_group: bool = False
    upstream: frozenset[Jurisdiction] = frozenset()
    consented: frozenset[str] = frozenset()
    starts: date = date(2019, 1, 1)


OK_IN = (True, Basis.NOT_RESTRICTED)
OK_ADEQ = (True, Basis.ADEQUACY)
OK_SAFE = (True, Basis.SAFEGUARD)
OK_DEROG = (True, Basis.DEROGATION)
NO = (False, Basis.MISSING)


def row(
    j: Jurisdiction,
    trigger: T,
    from_country: str,
    to: str,
    verdict: tuple[bool, Basis],
    mechanism: TransferMechanism,
) -> tuple[Jurisdiction, T, str, str, bool, Basis, TransferMechanism]:
    return (j, trigger, from_country, to, *verdict, mechanism)


CASES: dict[str, Case] = {
    # --- the "Why" list ------------------------------------------------------------
    # A US customer's data exported by the UK company to India with no safeguard: UK GDPR
    # applies through the UK establishment (Art. 3(1)), not "no Chapter V rules".
    "us-customer-uk-company-to-india": Case(
        UK_CO,
        "US",
        recipient("IN"),
        [],
        [row(UK, T.EXPORTER_ESTABLISHED, "GB", "IN", NO, M.NONE)],
        {
            0: [
                "UK GDPR applies because the exporter, MPN Technologies Limited",
                "Art. 3(1)",
                "India has no adequacy decision",
                "needs the UK IDTA",
            ]
        },
    ),
    # A German user's data sent by the UK company to a US vendor on EU SCCs alone: GDPR (the UK
    # company targets the EEA) accepts the SCCs; UK GDPR (the exporter) needs the IDTA or the
    # Addendum.
    "german-user-uk-company-us-vendor-sccs-alone": Case(
        UK_CO,
        "DE",
        recipient("US"),
        [t("US", M.STANDARD_CONTRACTUAL_CLAUSES, signed=date(2022, 1, 10))],
        [
            row(EEA, T.SUBJECT_TARGETED, "GB", "US", OK_SAFE, M.STANDARD_CONTRACTUAL_CLAUSES),
            row(UK, T.EXPORTER_ESTABLISHED, "GB", "US", NO, M.STANDARD_CONTRACTUAL_CLAUSES),
        ],
        {
            0: ["signed on 10 January 2022", "Art. 3(2)"],
            1: ["never covered UK data alone", "UK Addendum"],
        },
    ),
    "german-user-uk-company-us-vendor-sccs-and-addendum": Case(
        UK_CO,
        "DE",
        recipient("US"),
        [t("US", M.STANDARD_CONTRACTUAL_CLAUSES), t("US", M.UK_ADDENDUM)],
        [
            row(EEA, T.SUBJECT_TARGETED, "GB", "US", OK_SAFE, M.STANDARD_CONTRACTUAL_CLAUSES),
            row(UK, T.EXPORTER_ESTABLISHED, "GB", "US", OK_SAFE, M.UK_ADDENDUM),
        ],
    ),
    # A recipient in a third country with no transfer recorded is assessed (mechanism NONE),
    # and never said to "stay" there.
    "third-country-recipient-no-transfer-recorded": Case(
        US_MAIN,
        "DE",
        recipient("US"),
        [],
        [row(EEA, T.SUBJECT_TARGETED, "US", "US", NO, M.NONE)],
        {
            0: [
                "No transfer to the United States is recorded, yet Acme Cloud is based there",
                "Data Privacy Framework",
            ]
        },
    ),
    # One DPF flag no longer stands for both frameworks.
    "uk-user-us-company-eu-us-only": Case(
        US_MAIN,
        "GB",
        recipient("US", certifications=[EU_US]),
        [t("US", M.ADEQUACY_DECISION)],
        [row(UK, T.SUBJECT_TARGETED, "US", "US", NO, M.ADEQUACY_DECISION)],
        {0: ["UK Extension", "holds no such certification in force on 1 June 2025"]},
    ),
    "eu-user-us-company-eu-us-only": Case(
        US_MAIN,
        "DE",
        recipient("US", certifications=[EU_US]),
        [t("US", M.ADEQUACY_DECISION)],
        [row(EEA, T.SUBJECT_TARGETED, "US", "US", OK_ADEQ, M.ADEQUACY_DECISION)],
        {0: ["2023/1795", "holds a certification under the EU-US Data Privacy Framework"]},
    ),
    "uk-user-us-company-with-uk-extension": Case(
        US_MAIN,
        "GB",
        recipient("US", certifications=[EU_US, UK_EXT]),
        [],
        [row(UK, T.SUBJECT_TARGETED, "US", "US", OK_ADEQ, M.NONE)],
        {0: ["SI 2023/1028"]},
    ),
    "dpf-certification-before-the-framework-existed": Case(
        US_MAIN,
        "DE",
        recipient(
            "US", certifications=[DpfCertification(DataPrivacyFramework.EU_US, date(2023, 1, 1))]
        ),
        [],
        [row(EEA, T.SUBJECT_TARGETED, "US", "US", NO, M.NONE)],
        day=date(2023, 7, 9),
    ),
    "dpf-certification-lapsed": Case(
        US_MAIN,
        "DE",
        recipient("US", certifications=[replace(EU_US, lapsed_on=date(2025, 6, 1))]),
        [],
        [row(EEA, T.SUBJECT_TARGETED, "US", "US", NO, M.NONE)],
    ),
    # A consent to a purpose is not a consent to a transfer (Art. 49(1)(a)).
    "explicit-consent-without-transfer-consent": Case(
        US_MAIN,
        "DE",
        recipient("IN"),
        [t("IN", M.DEROGATION_EXPLICIT_CONSENT)],
        [row(EEA, T.SUBJECT_TARGETED, "US", "IN", NO, M.DEROGATION_EXPLICIT_CONSENT)],
        {0: ["consent to a purpose is not consent to a transfer", "Guidelines 2/2018"]},
    ),
    "explicit-consent-with-transfer-consent": Case(
        US_MAIN,
        "DE",
        recipient("IN"),
        [t("IN", M.DEROGATION_EXPLICIT_CONSENT)],
        [row(EEA, T.SUBJECT_TARGETED, "US", "IN", OK_DEROG, M.DEROGATION_EXPLICIT_CONSENT)],
        {0: ["explicit consent to this transfer", "Art. 49(1)(a)"]},
        consented=frozenset({"IN"}),
    ),
    "explicit-consent-to-another-country": Case(
        US_MAIN,
        "DE",
        recipient("IN"),
        [t("IN", M.DEROGATION_EXPLICIT_CONSENT)],
        [row(EEA, T.SUBJECT_TARGETED, "US", "IN", NO, M.DEROGATION_EXPLICIT_CONSENT)],
        consented=frozenset({"BR"}),
    ),
    # Derogations are for occasional transfers, not a standing processor (recital 111).
    "contract-derogation-continuous": Case(
        FR_CO,
        "FR",
        recipient("IN"),
        [t("IN", M.DEROGATION_CONTRACT)],
        [row(EEA, T.EXPORTER_ESTABLISHED, "FR", "IN", NO, M.DEROGATION_CONTRACT)],
        {
            0: [
                "occasional transfers only",
                "recital 111",
                "this disclosure is continuous",
                "needs a safeguard under Art. 46",
            ]
        },
    ),
    "contract-derogation-on-request": Case(
        FR_CO,
        "FR",
        recipient("IN"),
        [t("IN", M.DEROGATION_CONTRACT)],
        [row(EEA, T.EXPORTER_ESTABLISHED, "FR", "IN", OK_DEROG, M.DEROGATION_CONTRACT)],
        {0: ["only on request"]},
        frequency=ON_REQUEST,
    ),
    "legal-claims-continuous": Case(
        FR_CO,
        "FR",
        recipient("IN"),
        [t("IN", M.DEROGATION_LEGAL_CLAIMS)],
        [row(EEA, T.EXPORTER_ESTABLISHED, "FR", "IN", NO, M.DEROGATION_LEGAL_CLAIMS)],
    ),
    "vital-interests-continuous-is-conservatively-a-gap": Case(
        FR_CO,
        "FR",
        recipient("IN"),
        [t("IN", M.DEROGATION_VITAL_INTERESTS)],
        [row(EEA, T.EXPORTER_ESTABLISHED, "FR", "IN", NO, M.DEROGATION_VITAL_INTERESTS)],
        {0: ["conservative reading"]},
    ),
    "public-interest-naming-a-law": Case(
        FR_CO,
        "FR",
        recipient("IN", RecipientKind.PUBLIC_AUTHORITY),
        [t("IN", M.DEROGATION_PUBLIC_INTEREST, reference="Code monétaire et financier, art. L561")],
        [row(EEA, T.EXPORTER_ESTABLISHED, "FR", "IN", OK_DEROG, M.DEROGATION_PUBLIC_INTEREST)],
        {0: ["Code monétaire"]},
    ),
    "public-interest-naming-no-law": Case(
        FR_CO,
        "FR",
        recipient("IN", RecipientKind.PUBLIC_AUTHORITY),
        [t("IN", M.DEROGATION_PUBLIC_INTEREST, reference="ticket 4411")],
        [row(EEA, T.EXPORTER_ESTABLISHED, "FR", "IN", NO, M.DEROGATION_PUBLIC_INTEREST)],
        {0: ["names no law"]},
    ),
    # Binding corporate rules hold within one group only (Art. 47).
    "bcr-to-a-business-partner": Case(
        FR_CO,
        "FR",
        recipient("IN", RecipientKind.BUSINESS_PARTNER),
        [t("IN", M.BINDING_CORPORATE_RULES)],
        [row(EEA, T.EXPORTER_ESTABLISHED, "FR", "IN", NO, M.BINDING_CORPORATE_RULES)],
        {0: ["Art. 47(1)"]},
    ),
    "bcr-within-the-group": Case(
        FR_CO,
        "FR",
        recipient("IN", RecipientKind.GROUP_AFFILIATE),
        [t("IN", M.BINDING_CORPORATE_RULES)],
        [row(EEA, T.EXPORTER_ESTABLISHED, "FR", "IN", OK_SAFE, M.BINDING_CORPORATE_RULES)],
        {0: ["Art. 46 and 47"]},
        within_group=True,
    ),
    # asOf in the past or future: decisions end, safeguards have dates, the UK left.
    "gb-in-2032-is-not-adequate-for-eea-data": Case(
        FR_CO,
        "FR",
        recipient("GB"),
        [],
        [row(EEA, T.EXPORTER_ESTABLISHED, "FR", "GB", NO, M.NONE)],
        {0: ["expired on 27 December 2031"]},
        day=date(2032, 1, 10),
    ),
    "gb-in-2031-is-adequate-for-eea-data": Case(
        FR_CO,
        "FR",
        recipient("GB"),
        [],
        [row(EEA, T.EXPORTER_ESTABLISHED, "FR", "GB", OK_ADEQ, M.NONE)],
        {0: ["to 27 December 2031"]},
        day=date(2031, 12, 27),
    ),
    "idta-in-june-2021-does-not-count": Case(
        UK_CO,
        "GB",
        recipient("IN"),
        [t("IN", M.UK_IDTA)],
        [row(UK, T.EXPORTER_ESTABLISHED, "GB", "IN", NO, M.UK_IDTA)],
        {0: ["only from 21 March 2022"]},
        day=date(2021, 6, 15),
    ),
    "idta-in-2023-counts": Case(
        UK_CO,
        "GB",
        recipient("IN"),
        [t("IN", M.UK_IDTA, signed=date(2022, 5, 3))],
        [row(UK, T.EXPORTER_ESTABLISHED, "GB", "IN", OK_SAFE, M.UK_IDTA)],
        {0: ["signed on 3 May 2022"]},
        day=date(2023, 1, 1),
    ),
    "idta-signed-after-the-day": Case(
        UK_CO,
        "GB",
        recipient("IN"),
        [t("IN", M.UK_IDTA, signed=date(2025, 7, 1))],
        [row(UK, T.EXPORTER_ESTABLISHED, "GB", "IN", NO, M.UK_IDTA)],
        {0: ["counts from the day it was signed, 1 July 2025"]},
    ),
    "sccs-2010-eea-in-2022": Case(
        FR_CO,
        "FR",
        recipient("IN"),
        [t("IN", M.STANDARD_CONTRACTUAL_CLAUSES_2010, signed=date(2019, 3, 1))],
        [
            row(
                EEA,
                T.EXPORTER_ESTABLISHED,
                "FR",
                "IN",
                OK_SAFE,
                M.STANDARD_CONTRACTUAL_CLAUSES_2010,
            )
        ],
        day=date(2022, 12, 26),
    ),
    "sccs-2010-eea-lapsed-27-december-2022": Case(
        FR_CO,
        "FR",
        recipient("IN"),
        [t("IN", M.STANDARD_CONTRACTUAL_CLAUSES_2010, signed=date(2019, 3, 1))],
        [row(EEA, T.EXPORTER_ESTABLISHED, "FR", "IN", NO, M.STANDARD_CONTRACTUAL_CLAUSES_2010)],
        {0: ["stopped covering EEA data on 27 December 2022"]},
        day=date(2022, 12, 27),
    ),
    "sccs-2010-uk-until-21-march-2024": Case(
        UK_CO,
        "GB",
        recipient("IN"),
        [t("IN", M.STANDARD_CONTRACTUAL_CLAUSES_2010, signed=date(2022, 9, 21))],
        [row(UK, T.EXPORTER_ESTABLISHED, "GB", "IN", OK_SAFE, M.STANDARD_CONTRACTUAL_CLAUSES_2010)],
        day=date(2024, 3, 20),
    ),
    "sccs-2010-uk-lapsed-21-march-2024": Case(
        UK_CO,
        "GB",
        recipient("IN"),
        [t("IN", M.STANDARD_CONTRACTUAL_CLAUSES_2010, signed=date(2022, 9, 21))],
        [row(UK, T.EXPORTER_ESTABLISHED, "GB", "IN", NO, M.STANDARD_CONTRACTUAL_CLAUSES_2010)],
        {0: ["stopped covering UK data on 21 March 2024"]},
        day=date(2024, 3, 21),
    ),
    "sccs-2021-before-they-applied": Case(
        FR_CO,
        "FR",
        recipient("IN"),
        [t("IN", M.STANDARD_CONTRACTUAL_CLAUSES)],
        [row(EEA, T.EXPORTER_ESTABLISHED, "FR", "IN", NO, M.STANDARD_CONTRACTUAL_CLAUSES)],
        {0: ["apply only from 27 June 2021"]},
        day=date(2021, 5, 1),
    ),
    # Until 31 December 2020 the UK was inside the EU regime, and UK GDPR did not exist.
    "uk-resident-in-2020-is-an-eea-resident": Case(
        US_MAIN,
        "GB",
        recipient("GB"),
        [],
        [row(EEA, T.SUBJECT_TARGETED, "US", "GB", OK_IN, M.NONE)],
        day=date(2020, 6, 1),
    ),
    "uk-company-in-2020-exports-under-gdpr": Case(
        UK_CO,
        "US",
        recipient("IN"),
        [],
        [row(EEA, T.EXPORTER_ESTABLISHED, "GB", "IN", NO, M.NONE)],
        day=date(2020, 6, 1),
    ),
    "tca-bridge-ie-to-gb-march-2021": Case(
        IE_CO,
        "IE",
        recipient("GB"),
        [],
        [row(EEA, T.EXPORTER_ESTABLISHED, "IE", "GB", OK_IN, M.NONE)],
        {0: ["Trade and Cooperation Agreement"]},
        day=date(2021, 3, 1),
    ),
    "tca-bridge-does-not-reach-gibraltar": Case(
        IE_CO,
        "IE",
        recipient("GI"),
        [],
        [row(EEA, T.EXPORTER_ESTABLISHED, "IE", "GI", NO, M.NONE)],
        day=date(2021, 3, 1),
    ),
    "gibraltar-is-not-covered-by-the-eus-uk-decision": Case(
        FR_CO,
        "FR",
        recipient("GI"),
        [],
        [row(EEA, T.EXPORTER_ESTABLISHED, "FR", "GI", NO, M.NONE)],
    ),
    "gibraltar-is-adequate-for-uk-data": Case(
        UK_CO,
        "GB",
        recipient("GI"),
        [],
        [row(UK, T.EXPORTER_ESTABLISHED, "GB", "GI", OK_ADEQ, M.NONE)],
    ),
    "before-gdpr-no-assessment": Case(FR_CO, "FR", recipient("IN"), [], [], day=date(2018, 5, 24)),
    "gdpr-applies-from-25-may-2018": Case(
        FR_CO,
        "FR",
        recipient("IN"),
        [],
        [row(EEA, T.EXPORTER_ESTABLISHED, "FR", "IN", NO, M.NONE)],
        day=date(2018, 5, 25),
    ),
    # Korea's EU decision is limited; Canada's and Japan's need the scope recorded too.
    "korea-eu-within-scope": Case(
        FR_CO,
        "FR",
        recipient("KR"),
        [t("KR", M.ADEQUACY_DECISION, scope=True)],
        [row(EEA, T.EXPORTER_ESTABLISHED, "FR", "KR", OK_ADEQ, M.ADEQUACY_DECISION)],
        {0: ["recorded as within it"]},
    ),
    "korea-eu-not-recorded-within-scope": Case(
        FR_CO,
        "FR",
        recipient("KR"),
        [t("KR", M.ADEQUACY_DECISION)],
        [row(EEA, T.EXPORTER_ESTABLISHED, "FR", "KR", NO, M.ADEQUACY_DECISION)],
        {0: ["Financial Services Commission", "not recorded as within it"]},
    ),
    "korea-uk-full-decision": Case(
        UK_CO,
        "GB",
        recipient("KR"),
        [],
        [row(UK, T.EXPORTER_ESTABLISHED, "GB", "KR", OK_ADEQ, M.NONE)],
        {0: ["2022/1213"]},
    ),
    "japan-within-scope": Case(
        FR_CO,
        "FR",
        recipient("JP"),
        [t("JP", M.ADEQUACY_DECISION, scope=True)],
        [row(EEA, T.EXPORTER_ESTABLISHED, "FR", "JP", OK_ADEQ, M.ADEQUACY_DECISION)],
    ),
    "japan-not-recorded-within-scope": Case(
        FR_CO,
        "FR",
        recipient("JP"),
        [],
        [row(EEA, T.EXPORTER_ESTABLISHED, "FR", "JP", NO, M.NONE)],
    ),
    "canada-public-authority-never-within-scope": Case(
        UK_CO,
        "GB",
        recipient("CA", RecipientKind.PUBLIC_AUTHORITY),
        [t("CA", M.ADEQUACY_DECISION, scope=True)],
        [row(UK, T.EXPORTER_ESTABLISHED, "GB", "CA", NO, M.ADEQUACY_DECISION)],
        {0: ["is a public authority"]},
    ),
    "full-decision-whatever-is-recorded": Case(
        FR_CO,
        "FR",
        recipient("NZ"),
        [t("NZ", M.UK_IDTA)],
        [row(EEA, T.EXPORTER_ESTABLISHED, "FR", "NZ", OK_ADEQ, M.UK_IDTA)],
    ),
    # Territory: outermost regions and Åland are EU territory; Svalbard is outside the EEA.
    "reunion-resident-is-in-the-eea": Case(
        US_MAIN,
        "RE",
        recipient("IE"),
        [],
        [row(EEA, T.SUBJECT_TARGETED, "US", "IE", OK_IN, M.NONE)],
    ),
    "fr-to-reunion-not-restricted": Case(
        FR_CO,
        "FR",
        recipient("RE"),
        [],
        [row(EEA, T.EXPORTER_ESTABLISHED, "FR", "RE", OK_IN, M.NONE)],
        {0: ["Réunion is in the EEA"]},
    ),
    "fi-to-aland-not-restricted": Case(
        FI_CO,
        "FI",
        recipient("AX"),
        [],
        [row(EEA, T.EXPORTER_ESTABLISHED, "FI", "AX", OK_IN, M.NONE)],
    ),
    "no-to-svalbard-restricted": Case(
        NO_CO,
        "NO",
        recipient("SJ"),
        [],
        [row(EEA, T.EXPORTER_ESTABLISHED, "NO", "SJ", NO, M.NONE)],
    ),
    # International organisations: always restricted; adequate only by a decision naming them.
    "european-patent-organisation-eea": Case(
        FR_CO,
        "FR",
        recipient(
            "DE",
            RecipientKind.PUBLIC_AUTHORITY,
            name="EPO",
            international=True,
            legal_name="European Patent Organisation",
        ),
        [],
        [row(EEA, T.EXPORTER_ESTABLISHED, "FR", "DE", OK_ADEQ, M.NONE)],
        {0: ["European Patent Organisation", "15 July 2025"]},
        day=date(2025, 8, 1),
    ),
    "european-patent-organisation-before-its-decision": Case(
        FR_CO,
        "FR",
        recipient(
            "DE",
            RecipientKind.PUBLIC_AUTHORITY,
            name="EPO",
            international=True,
            legal_name="European Patent Organisation",
        ),
        [t("DE", M.NOT_RESTRICTED)],
        [row(EEA, T.EXPORTER_ESTABLISHED, "FR", "DE", NO, M.NOT_RESTRICTED)],
        {0: ["international organisation", "wherever its seat is"]},
        day=date(2025, 7, 14),
    ),
    "european-patent-organisation-uk-data": Case(
        UK_CO,
        "GB",
        recipient(
            "DE",
            RecipientKind.PUBLIC_AUTHORITY,
            name="EPO",
            international=True,
            legal_name="European Patent Organisation",
        ),
        [],
        [row(UK, T.EXPORTER_ESTABLISHED, "GB", "DE", NO, M.NONE)],
        day=date(2025, 8, 1),
    ),
    # Several regimes, several destinations; regimes in order, own country first.
    "two-regimes-two-destinations": Case(
        UK_CO,
        "FR",
        recipient("IE"),
        [t("IN", M.STANDARD_CONTRACTUAL_CLAUSES)],
        [
            row(EEA, T.SUBJECT_TARGETED, "GB", "IE", OK_IN, M.NONE),
            row(EEA, T.SUBJECT_TARGETED, "GB", "IN", OK_SAFE, M.STANDARD_CONTRACTUAL_CLAUSES),
            row(UK, T.EXPORTER_ESTABLISHED, "GB", "IE", OK_ADEQ, M.NONE),
            row(UK, T.EXPORTER_ESTABLISHED, "GB", "IN", NO, M.STANDARD_CONTRACTUAL_CLAUSES),
        ],
    ),
    # Art. 3(2) never applies to an exporter established in the territory; nor to a person who
    # does not live there.
    "us-main-us-customer-no-regime": Case(US_MAIN, "US", recipient("IN"), [], []),
    "fr-company-uk-resident-not-targeted": Case(
        FR_CO,
        "GB",
        recipient("IN"),
        [],
        [row(EEA, T.EXPORTER_ESTABLISHED, "FR", "IN", NO, M.NONE)],
    ),
    # Onward transfers: the regimes that reached the processor follow the data.
    "onward-from-a-us-processor-under-uk-gdpr": Case(
        Exporter("Stratus Harbor Cloud", "US", establishment=False),
        "GB",
        recipient("IN"),
        [t("IN", M.UK_IDTA)],
        [row(UK, T.ONWARD_TRANSFER, "US", "IN", OK_SAFE, M.UK_IDTA)],
        {0: ["reached Stratus Harbor Cloud under UK GDPR", "Art. 44"]},
        upstream=frozenset({UK}),
    ),
    "processor-in-the-eea-exports-under-gdpr": Case(
        Exporter("Fernhill Data Centres", "IE", establishment=False),
        "US",
        recipient("US"),
        [],
        [row(EEA, T.EXPORTER_ESTABLISHED, "IE", "US", NO, M.NONE)],
        {0: ["binding processors too"]},
    ),
    "processor-never-targets": Case(
        Exporter("Stratus Harbor Cloud", "US", frozenset({EEA}), establishment=False),
        "DE",
        recipient("IN"),
        [],
        [],
    ),
    # Several mechanisms: a lawful one names the one relied on; an unlawful one the first.
    "several-mechanisms-lawful-names-the-one-relied-on": Case(
        FR_CO,
        "FR",
        recipient("IN"),
        [t("IN", M.DEROGATION_CONTRACT), t("IN", M.STANDARD_CONTRACTUAL_CLAUSES)],
        [row(EEA, T.EXPORTER_ESTABLISHED, "FR", "IN", OK_SAFE, M.STANDARD_CONTRACTUAL_CLAUSES)],
    ),
    "several-mechanisms-unlawful-names-the-first": Case(
        FR_CO,
        "FR",
        recipient("IN"),
        [t("IN", M.DEROGATION_CONTRACT), t("IN", M.UK_IDTA)],
        [row(EEA, T.EXPORTER_ESTABLISHED, "FR", "IN", NO, M.DEROGATION_CONTRACT)],
    ),
    # asOf and signedOn in the future: as things are planned.
    "brazil-planned": Case(
        FR_CO,
        "FR",
        recipient("BR"),
        [],
        [row(EEA, T.EXPORTER_ESTABLISHED, "FR", "BR", OK_ADEQ, M.NONE)],
        {0: ["2026/179"]},
        day=date(2027, 1, 1),
    ),
}


def _flow(case: Case) -> Flow:
    return Flow(
        case.exporter,
        case.to,
        tuple(case.transfers),
        case.frequency,
        case.starts,
        case.within_group,
        case.upstream,
    )


def _summary(a: Assessment) -> tuple[Jurisdiction, T, str, str, bool, Basis, TransferMechanism]:
    return (a.jurisdiction, a.trigger, a.from_country, a.country, a.lawful, a.basis, a.mechanism)


@pytest.mark.parametrize("name", list(CASES))
def test_rules(name: str) -> None:
    case = CASES[name]
    found = assess_flow(_flow(case), case.day, case.lives_in, case.consented, ref=REF)
    assert [_summary(a) for a in found] == case.expect, [a.explanation for a in found]
    for index, words in case.words.items():
        for word in words:
            assert word in found[index].explanation, (word, found[index].explanation)
    for assessment in found:
        # Every explanation names its regime's law and why that law applies.
        law = regimes.LAW[assessment.jurisdiction]
        assert f"{law} applies because" in assessment.explanation
        assert assessment.explanation.count(". ") >= 1


@pytest.mark.parametrize("name", list(CASES))
def test_the_shared_reference_gives_the_same_answer(name: str) -> None:
    """The service judges through a memo over the shipped reference; it must agree."""
    case = CASES[name]
    args = (_flow(case), case.day, case.lives_in, case.consented)
    assert assess_flow(*args) == assess_flow(*args, ref=REF)


def test_before_gdpr_the_note_says_why() -> None:
    note = no_regime_note(date(2018, 5, 24))
    assert note is not None and "GDPR did not apply yet on 24 May 2018" in note
    assert no_regime_note(date(2018, 5, 25)) is None


def test_destinations_are_the_own_country_then_the_recorded_ones() -> None:
    flow = _flow(
        Case(
            FR_CO,
            "FR",
            recipient("US"),
            [t("IN", M.NONE), t("US", M.STANDARD_CONTRACTUAL_CLAUSES), t("IN", M.NONE)],
            [],
        )
    )
    assert destinations(flow) == [
        ("US", (t("US", M.STANDARD_CONTRACTUAL_CLAUSES),)),
        ("IN", (t("IN", M.NONE),)),
    ]


def test_by_destination_groups_each_regimes_phrase() -> None:
    case = CASES["two-regimes-two-destinations"]
    flow = _flow(case)
    found = assess_flow(flow, case.day, case.lives_in, ref=REF)
    assert by_destination(found, flow) == [
        ("IE", [(EEA, "within the EEA"), (UK, "under an adequacy decision")]),
        ("IN", [(EEA, "under standard contractual clauses"),
                (UK, "without a valid transfer safeguard")]),
    ]  # fmt: skip


# --- which regimes apply -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exporter", "upstream", "day", "lives_in", "expected"),
    [
        (US_MAIN, set(), DAY, "DE", [(EEA, T.SUBJECT_TARGETED)]),
        (US_MAIN, set(), DAY, "GB", [(UK, T.SUBJECT_TARGETED)]),
        (US_MAIN, set(), DAY, None, [(EEA, T.SUBJECT_TARGETED), (UK, T.SUBJECT_TARGETED)]),
        (US_MAIN, set(), DAY, "US", []),
        (UK_CO, set(), DAY, "DE", [(EEA, T.SUBJECT_TARGETED), (UK, T.EXPORTER_ESTABLISHED)]),
        (UK_CO, set(), DAY, "GB", [(UK, T.EXPORTER_ESTABLISHED)]),
        (UK_CO, {EEA}, DAY, "US", [(EEA, T.ONWARD_TRANSFER), (UK, T.EXPORTER_ESTABLISHED)]),
        # EXPORTER_ESTABLISHED is named before ONWARD_TRANSFER.
        (FR_CO, {EEA}, DAY, "US", [(EEA, T.EXPORTER_ESTABLISHED)]),
        # An establishment inside the territory never targets it (Art. 3(2)).
        (IE_CO, set(), DAY, "GB", [(EEA, T.EXPORTER_ESTABLISHED), (UK, T.SUBJECT_TARGETED)]),
        # 2020: the UK company was established in the EU regime; UK GDPR did not exist.
        (UK_CO, set(), date(2020, 12, 31), "GB", [(EEA, T.EXPORTER_ESTABLISHED)]),
        (UK_CO, set(), date(2021, 1, 1), "GB", [(UK, T.EXPORTER_ESTABLISHED)]),
        (US_MAIN, {UK}, date(2020, 6, 1), "GB", [(EEA, T.SUBJECT_TARGETED)]),
        (FR_CO, set(), date(2018, 5, 24), "FR", []),
    ],
)
def test_regimes_applying(
    exporter: Exporter,
    upstream: set[Jurisdiction],
    day: date,
    lives_in: str | None,
    expected: list[tuple[Jurisdiction, T]],
) -> None:
    assert regimes_applying(exporter, upstream, day, lives_in) == expected


def test_chain_regimes_follow_the_data_onward() -> None:
    """Our UK company -> a US processor (2) -> its Indian subprocessor (3) -> a Brazilian one
    (4). UK GDPR reaches 2 (the exporter is in the UK), and follows the data to 3 and 4; GDPR
    reaches them only for a person in the EEA (the UK company targets the EEA)."""
    processor = Exporter("Stratus", "US", establishment=False)
    sub = Exporter("Pune Ops", "IN", establishment=False)
    exporters = {
        2: [UK_CO],
        3: [processor],
        4: [sub],
        5: [Exporter("Loop", "US", establishment=False)],
    }
    engager_of = {2: None, 3: 2, 4: 3, 5: 5}
    for lives_in, reached in [("US", {UK}), ("DE", {EEA, UK}), (None, {EEA, UK})]:
        chain = ChainRegimes(exporters, engager_of, DAY, lives_in)
        assert chain.reaching(2) == reached
        assert chain.upstream_of(3) == reached
        assert chain.upstream_of(4) == reached
        assert chain.upstream_of(2) == frozenset()
    # A cycle reaches nothing further.
    assert ChainRegimes(exporters, engager_of, DAY, "DE").reaching(5) == frozenset()


# --- the dashboard's gaps -------------------------------------------------------------------


def test_gaps_only_where_the_regime_can_apply() -> None:
    flow = _flow(CASES["us-customer-uk-company-to-india"])
    [gap] = gaps(flow, UK, DAY, REF)
    assert (gap.trigger, gap.country, gap.mechanism, gap.lawful) == (
        T.EXPORTER_ESTABLISHED, "IN", M.NONE, False,
    )  # fmt: skip
    # The UK company targets the EEA, so a person in the EEA may be affected.
    assert [g.trigger for g in gaps(flow, EEA, DAY, REF)] == [T.SUBJECT_TARGETED]
    # A French company that targets nobody outside the EEA: the UK regime cannot apply.
    assert gaps(replace(flow, exporter=FR_CO), UK, DAY, REF) == []


def test_a_gap_per_destination_and_explicit_consent_is_judged_per_person() -> None:
    flow = _flow(
        Case(
            FR_CO,
            "FR",
            recipient("US"),
            [t("IN", M.DEROGATION_EXPLICIT_CONSENT), t("BR", M.NONE), t("BR", M.UK_IDTA)],
            [],
            day=date(2025, 6, 1),
        )
    )
    found = gaps(flow, EEA, DAY, REF)
    assert [(g.country, g.mechanism) for g in found] == [("US", M.NONE), ("BR", M.NONE)]


def test_granted_countries_take_the_latest_decision() -> None:
    consents = [
        regimes.TransferConsent("1", "IN", True, date(2025, 1, 1), date(2025, 1, 1)),
        regimes.TransferConsent("1", "IN", False, date(2025, 3, 1), date(2025, 3, 1)),
        regimes.TransferConsent("1", "BR", True, date(2025, 2, 1), date(2025, 2, 1)),
        regimes.TransferConsent("2", "CN", True, date(2025, 2, 1), date(2025, 2, 1)),
    ]
    assert granted_countries(consents, "1", date(2025, 2, 15)) == {"IN", "BR"}
    assert granted_countries(consents, "1", date(2025, 3, 1)) == {"BR"}
    assert granted_countries(consents, "1", date(2024, 12, 31)) == frozenset()


# --- properties ------------------------------------------------------------------------------

COUNTRIES = ["DE", "FR", "IE", "RE", "AX", "NO", "SJ", "GB", "GI", "US", "IN", "JP", "KR", "CA",
             "CH", "BR", "NZ"]  # fmt: skip
EXPORTERS = [US_MAIN, UK_CO, IE_CO, FR_CO, Exporter("P", "US", establishment=False)]
transfers_strategy = st.lists(
    st.builds(
        RecordedTransfer,
        st.sampled_from(COUNTRIES),
        st.sampled_from(list(M)),
        st.sampled_from([None, "Act 2020", "ticket"]),
        st.sampled_from([None, date(2020, 1, 1), date(2023, 1, 1)]),
        st.sampled_from([None, True, False]),
    ),
    max_size=4,
)
days = st.dates(min_value=date(2017, 1, 1), max_value=date(2033, 12, 31))


@settings(max_examples=300, deadline=None)
@given(
    exporter=st.sampled_from(EXPORTERS),
    lives_in=st.sampled_from(COUNTRIES),
    country=st.sampled_from(COUNTRIES),
    kind=st.sampled_from(list(RecipientKind)),
    recorded=transfers_strategy,
    day=days,
    upstream=st.sets(st.sampled_from(list(Jurisdiction))),
    frequency=st.sampled_from(list(DisclosureFrequency)),
)
def test_every_destination_under_every_applying_regime(
    exporter: Exporter,
    lives_in: str,
    country: str,
    kind: RecipientKind,
    recorded: list[RecordedTransfer],
    day: date,
    upstream: set[Jurisdiction],
    frequency: DisclosureFrequency,
) -> None:
    flow = Flow(exporter, recipient(country, kind), tuple(recorded), frequency, date(2019, 1, 1),
                upstream=frozenset(upstream))  # fmt: skip
    found = assess_flow(flow, day, lives_in, ref=REF)
    applying = regimes_applying(exporter, upstream, day, lives_in)
    places = destinations(flow)
    assert len(found) == len(applying) * len(places)
    assert [(a.jurisdiction, a.trigger) for a in found] == [
        pair for pair in applying for _ in places
    ]
    for assessment in found:
        assert assessment.from_country == exporter.country
        # A destination inside the territory is never a gap, whatever is recorded.
        if regimes.in_territory(assessment.jurisdiction, assessment.country, day):
            assert assessment.lawful and assessment.basis is Basis.NOT_RESTRICTED
        # An assessment names a mechanism recorded for its country, or NONE when none is.
        recorded_there = [r.mechanism for r in recorded if r.country == assessment.country]
        assert assessment.mechanism in (recorded_there or [M.NONE])
        assert assessment.lawful == (assessment.basis is not Basis.MISSING)


@settings(max_examples=300, deadline=None)
@given(
    exporter=st.sampled_from(EXPORTERS),
    country=st.sampled_from(COUNTRIES),
    recorded=transfers_strategy,
    extra=st.sampled_from(list(M)),
    day=days,
)
def test_recording_another_mechanism_never_makes_a_destination_unlawful(
    exporter: Exporter,
    country: str,
    recorded: list[RecordedTransfer],
    extra: TransferMechanism,
    day: date,
) -> None:
    flow = Flow(exporter, recipient(country), tuple(recorded), CONTINUOUS, date(2019, 1, 1))
    more = replace(flow, transfers=(*flow.transfers, RecordedTransfer(country, extra)))
    before = {(a.jurisdiction, a.country): a.lawful for a in assess_flow(flow, day, "DE", ref=REF)}
    after = {(a.jurisdiction, a.country): a.lawful for a in assess_flow(more, day, "DE", ref=REF)}
    for key, lawful in before.items():
        if lawful and (key[1] != country or recorded):
            assert after[key], key


def test_judge_destination_with_nothing_recorded_judges_the_implied_transfer() -> None:
    flow = _flow(CASES["third-country-recipient-no-transfer-recorded"])
    verdict = judge_destination(EEA, T.SUBJECT_TARGETED, flow, "US", (), DAY, False, REF)
    assert verdict.transfer == RecordedTransfer("US", M.NONE)
