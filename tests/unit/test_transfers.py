"""International transfers in plain Python (no database): the reference data as shipped, the
Chapter V rules 1-5 of issue 5 as a table for EEA and UK subjects, the gaps a dashboard shows,
and properties of the rules over generated inputs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pycountry
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.domain.enums import RecipientKind, TransferMechanism
from server.domain.transfers import (
    REFERENCE_FILE,
    Assessment,
    Basis,
    Coverage,
    Jurisdiction,
    RecipientProfile,
    RecordedTransfer,
    TransferReference,
    assess_country,
    assess_transfers,
    load_reference,
    reference,
    unlawful_transfers,
)

M = TransferMechanism
EEA = Jurisdiction.EEA
UK = Jurisdiction.UK
REF = load_reference()
DAY = date(2025, 6, 1)
SERVICE = RecipientKind.SERVICE_PROVIDER
AUTHORITY = RecipientKind.PUBLIC_AUTHORITY
EEA_CODES = {
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
    "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
}  # fmt: skip
DEROGATIONS = [
    M.DEROGATION_CONTRACT,
    M.DEROGATION_LEGAL_CLAIMS,
    M.DEROGATION_PUBLIC_INTEREST,
    M.DEROGATION_VITAL_INTERESTS,
]


def profile(
    name: str = "Acme Cloud", kind: RecipientKind = SERVICE, dpf: bool = False
) -> RecipientProfile:
    return RecipientProfile(name=name, kind=kind, dpf_certified=dpf)


def recorded(*pairs: tuple[str, TransferMechanism]) -> list[RecordedTransfer]:
    return [RecordedTransfer(country, mechanism) for country, mechanism in pairs]


# --- reference data ---------------------------------------------------------------------------


def test_reference_file_loads_with_version_and_date_checked() -> None:
    assert isinstance(REF.version, int) and REF.version >= 1
    assert isinstance(REF.last_checked, date)
    assert REF.eea_source.strip()
    assert REF.decisions
    # The cached reference the service uses is the same data.
    assert reference().decisions == REF.decisions


def test_eea_is_exactly_the_30_states() -> None:
    assert REF.eea == EEA_CODES
    assert len(REF.eea) == 30
    for code in REF.eea:
        assert isinstance(code, str), code
        assert pycountry.countries.get(alpha_2=code) is not None, code


def test_every_decision_names_a_real_country_and_a_source() -> None:
    for (jurisdiction, country), decision in REF.decisions.items():
        assert decision.jurisdiction is jurisdiction
        assert decision.country == country
        # YAML 1.1 reads a bare NO (Norway) as the boolean false.
        assert isinstance(country, str), (jurisdiction, country)
        assert pycountry.countries.get(alpha_2=country) is not None, country
        assert decision.source.strip(), country
        assert isinstance(decision.adopted_on, date), country
        # A scope is written down exactly when the decision is limited.
        assert (decision.scope is None) == (decision.covers is Coverage.ALL), country


def test_no_decision_for_a_jurisdiction_about_itself() -> None:
    assert not [c for (j, c) in REF.decisions if j is EEA and c in EEA_CODES]
    assert (UK, "GB") not in REF.decisions


@pytest.mark.parametrize("country", ["JP", "KR", "CH", "GB", "NZ", "IL", "US", "CA"])
def test_adequate_for_the_eea(country: str) -> None:
    assert REF.decision(EEA, country, DAY) is not None


@pytest.mark.parametrize("country", [*sorted(EEA_CODES), "GI", "KR", "JP", "CH", "US", "CA"])
def test_adequate_for_the_uk(country: str) -> None:
    assert REF.decision(UK, country, DAY) is not None


@pytest.mark.parametrize("country", ["IN", "AU", "CN", "SG"])
@pytest.mark.parametrize("jurisdiction", list(Jurisdiction))
def test_adequate_for_neither(country: str, jurisdiction: Jurisdiction) -> None:
    assert REF.decision(jurisdiction, country, DAY) is None
    assert (jurisdiction, country) not in REF.decisions


def test_gibraltar_is_adequate_for_the_uk_only() -> None:
    assert REF.decision(EEA, "GI", DAY) is None


@pytest.mark.parametrize("jurisdiction", list(Jurisdiction))
def test_us_decision_is_scoped_to_the_data_privacy_framework(jurisdiction: Jurisdiction) -> None:
    decision = REF.decision(jurisdiction, "US", DAY)
    assert decision is not None
    assert decision.covers is Coverage.DPF_CERTIFIED
    assert decision.scope is not None and "Data Privacy Framework" in decision.scope


@pytest.mark.parametrize("jurisdiction", list(Jurisdiction))
def test_canada_decision_is_scoped_to_commercial_organisations(
    jurisdiction: Jurisdiction,
) -> None:
    decision = REF.decision(jurisdiction, "CA", DAY)
    assert decision is not None
    assert decision.covers is Coverage.COMMERCIAL
    assert decision.scope is not None and "ommercial" in decision.scope


@pytest.mark.parametrize("country", ["CH", "NZ", "AR"])
def test_full_decisions_have_no_scope(country: str) -> None:
    decision = REF.decision(EEA, country, DAY)
    assert decision is not None
    assert decision.scope is None and decision.covers is Coverage.ALL


def test_brazil_counts_only_from_the_day_it_was_adopted() -> None:
    adopted = REF.decisions[(EEA, "BR")].adopted_on
    assert adopted == date(2026, 1, 26)
    assert REF.decision(EEA, "BR", date(2025, 6, 1)) is None
    assert REF.decision(EEA, "BR", date(2026, 1, 25)) is None
    assert REF.decision(EEA, "BR", adopted) is not None
    assert REF.decision(UK, "BR", date(2026, 6, 1)) is None


def test_decisions_for_a_jurisdiction_are_by_country() -> None:
    for jurisdiction in Jurisdiction:
        listed = REF.decisions_for(jurisdiction)
        countries = [d.country for d in listed]
        assert countries == sorted(countries)
        assert {d.jurisdiction for d in listed} == {jurisdiction}
        assert len(listed) == sum(1 for (j, _) in REF.decisions if j is jurisdiction)
    assert len(REF.decisions_for(UK)) > 31  # the 30 EEA states, Gibraltar and more


@pytest.mark.parametrize(
    ("country", "expected"),
    [
        ("DE", EEA),
        ("IE", EEA),
        ("NO", EEA),
        ("IS", EEA),
        ("LI", EEA),
        ("GB", UK),
        ("US", None),
        ("CH", None),
        ("GI", None),
        ("JP", None),
    ],
)
def test_jurisdiction_of(country: str, expected: Jurisdiction | None) -> None:
    assert REF.jurisdiction_of(country) is expected


def test_duplicate_decision_in_the_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "adequacy.yaml"
    path.write_text(
        "version: 1\nlast_checked: 2025-01-01\n"
        "eea_members: {source: x, countries: [DE]}\n"
        "decisions:\n  EEA:\n"
        "    - {country: JP, adopted_on: 2019-01-23, source: a}\n"
        "    - {country: JP, adopted_on: 2019-01-23, source: b}\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="two decisions for JP"):
        load_reference(path)


def test_scope_without_a_coverage_rule_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "adequacy.yaml"
    path.write_text(
        "version: 1\nlast_checked: 2025-01-01\n"
        "eea_members: {source: x, countries: [DE]}\n"
        "decisions:\n  UK:\n"
        "    - {country: CA, adopted_on: 2020-12-31, source: a, scope: Commercial}\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="CA needs both scope and covers"):
        load_reference(path)


# --- rules 1-5 as a table -----------------------------------------------------------------------


class Case:
    """A subject in `subject` receives data sent to `country` under `mechanisms`."""

    def __init__(
        self,
        subject: str,
        country: str,
        mechanisms: Sequence[TransferMechanism],
        *,
        lawful: bool,
        basis: Basis,
        named: TransferMechanism,
        words: Sequence[str] = (),
        dpf: bool = False,
        kind: RecipientKind = SERVICE,
        consent: bool = False,
        day: date = DAY,
    ) -> None:
        self.subject = subject
        self.country = country
        self.mechanisms = list(mechanisms)
        self.lawful = lawful
        self.basis = basis
        self.named = named
        self.words = list(words)
        self.dpf = dpf
        self.kind = kind
        self.consent = consent
        self.day = day


OK_ADEQ = {"lawful": True, "basis": Basis.ADEQUACY}
OK_SAFE = {"lawful": True, "basis": Basis.SAFEGUARD}
OK_DEROG = {"lawful": True, "basis": Basis.DEROGATION}
OK_INSIDE = {"lawful": True, "basis": Basis.NOT_RESTRICTED}
MISSING = {"lawful": False, "basis": Basis.MISSING}
EEA_NEEDS = "needs standard contractual clauses or binding corporate rules"
UK_NEEDS = "needs the UK IDTA, the UK Addendum or binding corporate rules"

CASES: dict[str, Case] = {
    # rule 1: inside the jurisdiction
    "eea-inside-eu": Case(
        "DE", "FR", [M.NONE], **OK_INSIDE, named=M.NONE, words=["France is in the EEA"]
    ),
    "eea-inside-efta": Case(
        "IE", "NO", [M.NOT_RESTRICTED], **OK_INSIDE, named=M.NOT_RESTRICTED, words=["EEA"]
    ),
    "eea-inside-same-country": Case(
        "DE",
        "DE",
        [M.STANDARD_CONTRACTUAL_CLAUSES],
        **OK_INSIDE,
        named=M.STANDARD_CONTRACTUAL_CLAUSES,
    ),
    "uk-inside": Case(
        "GB", "GB", [M.NONE], **OK_INSIDE, named=M.NONE, words=["stays in the United Kingdom"]
    ),
    # rule 2: full adequacy, whatever is recorded
    "eea-new-zealand-none": Case(
        "DE", "NZ", [M.NONE], **OK_ADEQ, named=M.NONE, words=["adequacy decision", "2013/65/EU"]
    ),
    # Korea's EU decision is limited (2022/254 Art. 1(2)): it covers a transfer only when recorded
    # within its scope, which transfers cannot record yet (issue 13), so none is covered.
    "eea-korea-not-attested": Case(
        "DE",
        "KR",
        [M.NONE],
        **MISSING,
        named=M.NONE,
        words=["Financial Services Commission", "not recorded as within it", EEA_NEEDS],
    ),
    "eea-switzerland-not-restricted": Case(
        "FR", "CH", [M.NOT_RESTRICTED], **OK_ADEQ, named=M.NOT_RESTRICTED, words=["2000/518/EC"]
    ),
    "eea-uk-scc": Case(
        "DE",
        "GB",
        [M.STANDARD_CONTRACTUAL_CLAUSES],
        **OK_ADEQ,
        named=M.STANDARD_CONTRACTUAL_CLAUSES,
        words=["2021/1772"],
    ),
    "eea-brazil-after-adoption": Case(
        "DE",
        "BR",
        [M.ADEQUACY_DECISION],
        **OK_ADEQ,
        named=M.ADEQUACY_DECISION,
        words=["2026/179"],
        day=date(2026, 2, 1),
    ),
    "uk-eea-state": Case(
        "GB", "DE", [M.NONE], **OK_ADEQ, named=M.NONE, words=["Schedule 21", "EEA state"]
    ),
    "uk-gibraltar": Case(
        "GB", "GI", [M.NOT_RESTRICTED], **OK_ADEQ, named=M.NOT_RESTRICTED, words=["Gibraltar"]
    ),
    "uk-korea": Case(
        "GB", "KR", [M.ADEQUACY_DECISION], **OK_ADEQ, named=M.ADEQUACY_DECISION, words=["2022/1213"]
    ),
    "uk-switzerland-scc": Case(
        "GB",
        "CH",
        [M.STANDARD_CONTRACTUAL_CLAUSES],
        **OK_ADEQ,
        named=M.STANDARD_CONTRACTUAL_CLAUSES,
        words=["2000/518/EC"],
    ),
    # rule 3: limited adequacy, recipient in scope
    "eea-japan-commercial-none": Case(
        "DE",
        "JP",
        [M.NONE],
        **OK_ADEQ,
        named=M.NONE,
        words=["2019/419", "Acme Cloud is one"],
    ),
    "eea-us-dpf": Case(
        "DE",
        "US",
        [M.ADEQUACY_DECISION],
        **OK_ADEQ,
        named=M.ADEQUACY_DECISION,
        dpf=True,
        words=["2023/1795", "Data Privacy Framework", "Acme Cloud is one"],
    ),
    "uk-us-dpf-scc-only": Case(
        "GB",
        "US",
        [M.STANDARD_CONTRACTUAL_CLAUSES],
        **OK_ADEQ,
        named=M.STANDARD_CONTRACTUAL_CLAUSES,
        dpf=True,
        words=["2023/1028", "UK Extension"],
    ),
    "eea-canada-commercial": Case(
        "DE", "CA", [M.NONE], **OK_ADEQ, named=M.NONE, words=["2002/2/EC", "PIPEDA"]
    ),
    "uk-canada-commercial": Case(
        "GB", "CA", [M.ADEQUACY_DECISION], **OK_ADEQ, named=M.ADEQUACY_DECISION, words=["PIPEDA"]
    ),
    # rule 3 falling through to rule 4: recipient not in scope
    "eea-us-not-dpf-adequacy": Case(
        "DE",
        "US",
        [M.ADEQUACY_DECISION],
        **MISSING,
        named=M.ADEQUACY_DECISION,
        words=["covers only organisations certified", "Acme Cloud is not one", EEA_NEEDS],
    ),
    "eea-us-not-dpf-scc": Case(
        "DE",
        "US",
        [M.STANDARD_CONTRACTUAL_CLAUSES],
        **OK_SAFE,
        named=M.STANDARD_CONTRACTUAL_CLAUSES,
        words=["standard contractual clauses", "Art. 46"],
    ),
    "uk-us-not-dpf-idta": Case(
        "GB",
        "US",
        [M.UK_IDTA],
        **OK_SAFE,
        named=M.UK_IDTA,
        words=["International Data Transfer Agreement", "UK GDPR Art. 46"],
    ),
    "eea-canada-authority": Case(
        "DE",
        "CA",
        [M.NONE],
        **MISSING,
        named=M.NONE,
        kind=AUTHORITY,
        words=["covers only commercial organisations", "is not one", EEA_NEEDS],
    ),
    "eea-canada-authority-scc": Case(
        "DE",
        "CA",
        [M.STANDARD_CONTRACTUAL_CLAUSES],
        **OK_SAFE,
        named=M.STANDARD_CONTRACTUAL_CLAUSES,
        kind=AUTHORITY,
    ),
    "uk-canada-authority": Case(
        "GB",
        "CA",
        [M.ADEQUACY_DECISION],
        **MISSING,
        named=M.ADEQUACY_DECISION,
        kind=AUTHORITY,
        words=["covers only commercial organisations", UK_NEEDS],
    ),
    "eea-japan-authority": Case(
        "DE", "JP", [M.NONE], **MISSING, named=M.NONE, kind=AUTHORITY, words=["covers only"]
    ),
    # rule 4: safeguards
    "eea-india-scc": Case(
        "DE",
        "IN",
        [M.STANDARD_CONTRACTUAL_CLAUSES],
        **OK_SAFE,
        named=M.STANDARD_CONTRACTUAL_CLAUSES,
        words=["standard contractual clauses", "GDPR Art. 46"],
    ),
    "eea-india-bcr": Case(
        "DE",
        "IN",
        [M.BINDING_CORPORATE_RULES],
        **OK_SAFE,
        named=M.BINDING_CORPORATE_RULES,
        words=["binding corporate rules"],
    ),
    "uk-india-bcr": Case(
        "GB",
        "IN",
        [M.BINDING_CORPORATE_RULES],
        **OK_SAFE,
        named=M.BINDING_CORPORATE_RULES,
        words=["binding corporate rules", "UK GDPR"],
    ),
    "uk-india-idta": Case(
        "GB",
        "IN",
        [M.UK_IDTA],
        **OK_SAFE,
        named=M.UK_IDTA,
        words=["International Data Transfer Agreement"],
    ),
    "uk-india-addendum": Case(
        "GB", "IN", [M.UK_ADDENDUM], **OK_SAFE, named=M.UK_ADDENDUM, words=["UK Addendum"]
    ),
    "uk-india-scc-alone": Case(
        "GB",
        "IN",
        [M.STANDARD_CONTRACTUAL_CLAUSES],
        **MISSING,
        named=M.STANDARD_CONTRACTUAL_CLAUSES,
        words=[
            "never covered UK data alone",
            "India has no adequacy decision for UK data",
            UK_NEEDS,
        ],
    ),
    "uk-us-not-dpf-scc-alone": Case(
        "GB",
        "US",
        [M.STANDARD_CONTRACTUAL_CLAUSES],
        **MISSING,
        named=M.STANDARD_CONTRACTUAL_CLAUSES,
        words=["never covered UK data alone", "UK Extension", "is not one", UK_NEEDS],
    ),
    "uk-scc-and-addendum": Case(
        "GB",
        "US",
        [M.STANDARD_CONTRACTUAL_CLAUSES, M.UK_ADDENDUM],
        **OK_SAFE,
        named=M.UK_ADDENDUM,
        words=["UK Addendum"],
    ),
    "eea-scc-and-addendum": Case(
        "DE",
        "US",
        [M.STANDARD_CONTRACTUAL_CLAUSES, M.UK_ADDENDUM],
        **OK_SAFE,
        named=M.STANDARD_CONTRACTUAL_CLAUSES,
        words=["standard contractual clauses"],
    ),
    "eea-addendum-and-scc": Case(
        "DE",
        "IN",
        [M.UK_ADDENDUM, M.STANDARD_CONTRACTUAL_CLAUSES],
        **OK_SAFE,
        named=M.STANDARD_CONTRACTUAL_CLAUSES,
    ),
    "eea-india-idta": Case(
        "DE",
        "IN",
        [M.UK_IDTA],
        **MISSING,
        named=M.UK_IDTA,
        words=["UK data only", EEA_NEEDS],
    ),
    "eea-india-addendum": Case(
        "DE", "IN", [M.UK_ADDENDUM], **MISSING, named=M.UK_ADDENDUM, words=["UK data only"]
    ),
    "eea-safeguard-preferred-over-derogation": Case(
        "DE",
        "IN",
        [M.DEROGATION_CONTRACT, M.STANDARD_CONTRACTUAL_CLAUSES],
        **OK_SAFE,
        named=M.STANDARD_CONTRACTUAL_CLAUSES,
    ),
    # rule 4: explicit consent depends on the person
    "eea-explicit-consent-granted": Case(
        "DE",
        "IN",
        [M.DEROGATION_EXPLICIT_CONSENT],
        **OK_DEROG,
        named=M.DEROGATION_EXPLICIT_CONSENT,
        consent=True,
        words=["explicit consent", "Art. 49(1)(a)", "occasional"],
    ),
    "eea-explicit-consent-missing": Case(
        "DE",
        "IN",
        [M.DEROGATION_EXPLICIT_CONSENT],
        **MISSING,
        named=M.DEROGATION_EXPLICIT_CONSENT,
        words=["explicit consent", "no granted consent", EEA_NEEDS],
    ),
    "uk-explicit-consent-granted": Case(
        "GB",
        "AU",
        [M.DEROGATION_EXPLICIT_CONSENT],
        **OK_DEROG,
        named=M.DEROGATION_EXPLICIT_CONSENT,
        consent=True,
        words=["UK GDPR Art. 49(1)(a)", "occasional"],
    ),
    "uk-explicit-consent-missing": Case(
        "GB",
        "AU",
        [M.DEROGATION_EXPLICIT_CONSENT],
        **MISSING,
        named=M.DEROGATION_EXPLICIT_CONSENT,
        words=["no granted consent", UK_NEEDS],
    ),
    "eea-us-not-dpf-consent-missing": Case(
        "DE",
        "US",
        [M.DEROGATION_EXPLICIT_CONSENT],
        **MISSING,
        named=M.DEROGATION_EXPLICIT_CONSENT,
        words=["is not one", "no granted consent"],
    ),
    # rule 5: nothing valid recorded
    "eea-india-none": Case(
        "DE",
        "IN",
        [M.NONE],
        **MISSING,
        named=M.NONE,
        words=["India has no adequacy decision for EEA data", "No transfer mechanism", EEA_NEEDS],
    ),
    "eea-india-not-restricted": Case(
        "DE",
        "IN",
        [M.NOT_RESTRICTED],
        **MISSING,
        named=M.NOT_RESTRICTED,
        words=["recorded as not restricted", "leaves the EEA", EEA_NEEDS],
    ),
    "eea-australia-adequacy": Case(
        "DE",
        "AU",
        [M.ADEQUACY_DECISION],
        **MISSING,
        named=M.ADEQUACY_DECISION,
        words=["Australia has no adequacy decision", "none covers it", EEA_NEEDS],
    ),
    "eea-brazil-before-adoption": Case(
        "DE",
        "BR",
        [M.ADEQUACY_DECISION],
        **MISSING,
        named=M.ADEQUACY_DECISION,
        words=["Brazil has no adequacy decision", EEA_NEEDS],
    ),
    "eea-gibraltar": Case(
        "DE", "GI", [M.NOT_RESTRICTED], **MISSING, named=M.NOT_RESTRICTED, words=["Gibraltar"]
    ),
    "uk-india-none": Case(
        "GB",
        "IN",
        [M.NONE],
        **MISSING,
        named=M.NONE,
        words=["India has no adequacy decision for UK data", "No transfer mechanism", UK_NEEDS],
    ),
    "uk-india-not-restricted": Case(
        "GB",
        "IN",
        [M.NOT_RESTRICTED],
        **MISSING,
        named=M.NOT_RESTRICTED,
        words=["recorded as not restricted", "leaves the United Kingdom", UK_NEEDS],
    ),
    "uk-australia-adequacy": Case(
        "GB",
        "AU",
        [M.ADEQUACY_DECISION],
        **MISSING,
        named=M.ADEQUACY_DECISION,
        words=["Australia has no adequacy decision for UK data", "none covers it", UK_NEEDS],
    ),
    "uk-brazil-adequacy": Case(
        "GB",
        "BR",
        [M.ADEQUACY_DECISION],
        **MISSING,
        named=M.ADEQUACY_DECISION,
        words=["none covers it"],
        day=date(2026, 6, 1),
    ),
    "eea-all-unlawful-names-the-first": Case(
        "DE",
        "IN",
        [M.NOT_RESTRICTED, M.NONE, M.UK_IDTA],
        **MISSING,
        named=M.NOT_RESTRICTED,
        words=["recorded as not restricted"],
    ),
    # on a tie, the mechanism that says what the basis is
    "eea-tie-names-adequacy-decision": Case(
        "DE", "NZ", [M.NONE, M.ADEQUACY_DECISION], **OK_ADEQ, named=M.ADEQUACY_DECISION
    ),
    "eea-tie-names-not-restricted": Case(
        "DE", "AT", [M.NONE, M.NOT_RESTRICTED], **OK_INSIDE, named=M.NOT_RESTRICTED
    ),
    # The 2010 SCCs (issue 13): dated by their signing, which transfers do not record yet, so
    # never a safeguard here; the sentence says why (regimes.safeguard_obstacle).
    "eea-2010-sccs-unsigned": Case(
        "DE",
        "IN",
        [M.STANDARD_CONTRACTUAL_CLAUSES_2010],
        **MISSING,
        named=M.STANDARD_CONTRACTUAL_CLAUSES_2010,
        words=["signed before 27 September 2021", "not recorded", EEA_NEEDS],
        day=date(2022, 12, 26),
    ),
    "eea-2010-sccs-ended": Case(
        "DE",
        "IN",
        [M.STANDARD_CONTRACTUAL_CLAUSES_2010],
        **MISSING,
        named=M.STANDARD_CONTRACTUAL_CLAUSES_2010,
        words=["stopped covering EEA data on 27 December 2022"],
        day=date(2022, 12, 27),
    ),
    "uk-2010-sccs-unsigned": Case(
        "GB",
        "IN",
        [M.STANDARD_CONTRACTUAL_CLAUSES_2010],
        **MISSING,
        named=M.STANDARD_CONTRACTUAL_CLAUSES_2010,
        words=["on or before 21 September 2022", "not recorded", UK_NEEDS],
        day=date(2024, 3, 20),
    ),
    "uk-2010-sccs-ended": Case(
        "GB",
        "IN",
        [M.STANDARD_CONTRACTUAL_CLAUSES_2010],
        **MISSING,
        named=M.STANDARD_CONTRACTUAL_CLAUSES_2010,
        words=["stopped covering UK data on 21 March 2024"],
        day=date(2024, 3, 21),
    ),
}
for _mechanism in DEROGATIONS:
    for _subject, _law in (("DE", "GDPR"), ("GB", "UK GDPR")):
        CASES[f"{_subject}-india-{_mechanism.value.lower()}"] = Case(
            _subject,
            "IN",
            [_mechanism],
            **OK_DEROG,
            named=_mechanism,
            words=["derogation", f"{_law} Art. 49(1)", "for occasional transfers only"],
        )


@pytest.mark.parametrize("name", list(CASES))
def test_rules(name: str) -> None:
    case = CASES[name]
    transfers = recorded(*((case.country, m) for m in case.mechanisms))
    [assessment] = assess_transfers(
        case.subject,
        transfers,
        profile(kind=case.kind, dpf=case.dpf),
        case.day,
        case.consent,
        ref=REF,
    )
    assert assessment.country == case.country
    assert (assessment.lawful, assessment.basis, assessment.mechanism) == (
        case.lawful,
        case.basis,
        case.named,
    ), assessment.explanation
    for words in case.words:
        assert words in assessment.explanation, (words, assessment.explanation)


@pytest.mark.parametrize("name", list(CASES))
def test_shared_reference_gives_the_same_answer(name: str) -> None:
    """The service calls without `ref` (through a cache); it must agree with the table."""
    case = CASES[name]
    transfers = recorded(*((case.country, m) for m in case.mechanisms))
    args = (case.subject, transfers, profile(kind=case.kind, dpf=case.dpf), case.day, case.consent)
    assert assess_transfers(*args) == assess_transfers(*args, ref=REF)


@pytest.mark.parametrize("mechanism", list(M))
@pytest.mark.parametrize(("subject", "country"), [("DE", "NZ"), ("GB", "CH"), ("GB", "NZ")])
def test_full_adequacy_whatever_is_recorded(
    mechanism: TransferMechanism, subject: str, country: str
) -> None:
    [assessment] = assess_transfers(
        subject, recorded((country, mechanism)), profile(), DAY, False, ref=REF
    )
    assert assessment.lawful and assessment.basis is Basis.ADEQUACY, assessment.explanation
    assert assessment.mechanism is mechanism


@pytest.mark.parametrize("mechanism", list(M))
@pytest.mark.parametrize("subject", ["DE", "NO", "GB"])
def test_inside_the_jurisdiction_whatever_is_recorded(
    mechanism: TransferMechanism, subject: str
) -> None:
    destination = "GB" if subject == "GB" else "IE"
    [assessment] = assess_transfers(
        subject, recorded((destination, mechanism)), profile(), DAY, False, ref=REF
    )
    assert assessment.lawful and assessment.basis is Basis.NOT_RESTRICTED


@pytest.mark.parametrize("subject", ["US", "CH", "GI", "JP"])
def test_no_jurisdiction_means_no_chapter_v(subject: str) -> None:
    found = assess_transfers(
        subject,
        recorded(("IN", M.NONE), ("AU", M.NOT_RESTRICTED), ("IN", M.UK_IDTA)),
        profile(),
        DAY,
        False,
        ref=REF,
    )
    assert [(a.country, a.mechanism) for a in found] == [("IN", M.NONE), ("AU", M.NOT_RESTRICTED)]
    for assessment in found:
        assert assessment.lawful
        assert assessment.basis is Basis.NO_CHAPTER_V
        assert "No UK or EEA transfer rules apply" in assessment.explanation


def test_no_jurisdiction_explanation_names_where_the_person_lives() -> None:
    [assessment] = assess_transfers("US", recorded(("IN", M.NONE)), profile(), DAY, False, ref=REF)
    assert "the United States" in assessment.explanation


def test_one_assessment_per_country_in_recorded_order() -> None:
    found = assess_transfers(
        "GB",
        recorded(
            ("US", M.STANDARD_CONTRACTUAL_CLAUSES),
            ("DE", M.NONE),
            ("US", M.UK_ADDENDUM),
            ("IN", M.NONE),
            ("DE", M.NOT_RESTRICTED),
        ),
        profile(),
        DAY,
        False,
        ref=REF,
    )
    assert [(a.country, a.mechanism, a.lawful) for a in found] == [
        ("US", M.UK_ADDENDUM, True),
        ("DE", M.NONE, True),
        ("IN", M.NONE, False),
    ]


def test_no_transfers_no_assessments() -> None:
    assert assess_transfers("DE", [], profile(), DAY, True, ref=REF) == []
    assert assess_transfers("US", [], profile(), DAY, True, ref=REF) == []


def test_same_mechanism_twice_is_judged_once() -> None:
    found = assess_transfers(
        "DE",
        [RecordedTransfer("IN", M.NONE, "a"), RecordedTransfer("IN", M.NONE, "b")],
        profile(),
        DAY,
        False,
        ref=REF,
    )
    assert [(a.country, a.mechanism, a.lawful) for a in found] == [("IN", M.NONE, False)]


@pytest.mark.parametrize(
    ("subject", "country", "mechanism", "consent", "phrase"),
    [
        ("DE", "IN", M.STANDARD_CONTRACTUAL_CLAUSES, False, "under standard contractual clauses"),
        ("GB", "IN", M.BINDING_CORPORATE_RULES, False, "under binding corporate rules"),
        ("DE", "NZ", M.NONE, False, "under an adequacy decision"),
        ("DE", "IN", M.NONE, False, "without a valid transfer safeguard"),
        ("GB", "IN", M.STANDARD_CONTRACTUAL_CLAUSES, False, "without a valid transfer safeguard"),
        ("DE", "IN", M.DEROGATION_EXPLICIT_CONSENT, True, "for occasional transfers only"),
        ("DE", "IN", M.DEROGATION_EXPLICIT_CONSENT, False, "without a valid transfer safeguard"),
        ("DE", "FR", M.NONE, False, "within the EEA"),
    ],
)
def test_phrase_for_the_disclosure_sentence(
    subject: str, country: str, mechanism: TransferMechanism, consent: bool, phrase: str
) -> None:
    [assessment] = assess_transfers(
        subject, recorded((country, mechanism)), profile(), DAY, consent, ref=REF
    )
    assert assessment.phrase is not None and phrase in assessment.phrase


def test_no_phrase_where_there_is_nothing_to_say() -> None:
    [inside_uk] = assess_transfers("GB", recorded(("GB", M.NONE)), profile(), DAY, False, ref=REF)
    [elsewhere] = assess_transfers("US", recorded(("IN", M.NONE)), profile(), DAY, False, ref=REF)
    assert inside_uk.phrase is None and elsewhere.phrase is None


# --- gaps for a dashboard -----------------------------------------------------------------------


def gaps(
    jurisdiction: Jurisdiction,
    transfers: list[RecordedTransfer],
    recipient: RecipientProfile | None = None,
    day: date = DAY,
) -> list[tuple[int, str, TransferMechanism]]:
    found = unlawful_transfers(jurisdiction, transfers, recipient or profile(), day, ref=REF)
    for _, assessment in found:
        assert not assessment.lawful
    return [(position, a.country, a.mechanism) for position, a in found]


@pytest.mark.parametrize("jurisdiction", list(Jurisdiction))
def test_explicit_consent_derogation_is_never_a_gap(jurisdiction: Jurisdiction) -> None:
    assert gaps(jurisdiction, recorded(("IN", M.DEROGATION_EXPLICIT_CONSENT))) == []
    assert gaps(jurisdiction, recorded(("US", M.DEROGATION_EXPLICIT_CONSENT))) == []


@pytest.mark.parametrize("mechanism", [M.NONE, M.NOT_RESTRICTED, M.ADEQUACY_DECISION])
@pytest.mark.parametrize("jurisdiction", list(Jurisdiction))
def test_nothing_valid_to_a_third_country_is_a_gap(
    mechanism: TransferMechanism, jurisdiction: Jurisdiction
) -> None:
    assert gaps(jurisdiction, recorded(("IN", mechanism))) == [(0, "IN", mechanism)]


def test_a_country_covered_by_one_of_several_mechanisms_is_no_gap() -> None:
    both = recorded(("US", M.STANDARD_CONTRACTUAL_CLAUSES), ("US", M.UK_ADDENDUM))
    assert gaps(UK, both) == []
    assert gaps(EEA, both) == []
    assert gaps(UK, recorded(("IN", M.NONE), ("IN", M.BINDING_CORPORATE_RULES))) == []


def test_eu_sccs_alone_are_a_gap_for_the_uk_only() -> None:
    scc = recorded(("US", M.STANDARD_CONTRACTUAL_CLAUSES))
    assert gaps(EEA, scc) == []
    assert gaps(UK, scc) == [(0, "US", M.STANDARD_CONTRACTUAL_CLAUSES)]
    [(_, assessment)] = unlawful_transfers(UK, scc, profile(), DAY, ref=REF)
    assert "never covered UK data alone" in assessment.explanation


def test_dpf_certification_closes_the_us_gap() -> None:
    transfer = recorded(("US", M.ADEQUACY_DECISION))
    for jurisdiction in Jurisdiction:
        assert gaps(jurisdiction, transfer, profile(dpf=False)) == [(0, "US", M.ADEQUACY_DECISION)]
        assert gaps(jurisdiction, transfer, profile(dpf=True)) == []


def test_two_unlawful_transfers_to_one_country_are_two_gaps() -> None:
    transfers = recorded(("DE", M.NONE), ("IN", M.NONE), ("US", M.BINDING_CORPORATE_RULES))
    transfers += recorded(("IN", M.NOT_RESTRICTED))
    assert gaps(EEA, transfers) == [(1, "IN", M.NONE), (3, "IN", M.NOT_RESTRICTED)]
    assert gaps(UK, transfers) == [(1, "IN", M.NONE), (3, "IN", M.NOT_RESTRICTED)]


def test_gaps_keep_their_positions_among_lawful_transfers() -> None:
    transfers = recorded(
        ("FR", M.NOT_RESTRICTED),
        ("AU", M.ADEQUACY_DECISION),
        ("US", M.STANDARD_CONTRACTUAL_CLAUSES),
        ("CA", M.NONE),
        ("JP", M.UK_IDTA),
    )
    authority = profile(kind=AUTHORITY)
    assert gaps(EEA, transfers, authority) == [
        (1, "AU", M.ADEQUACY_DECISION),
        (3, "CA", M.NONE),
        (4, "JP", M.UK_IDTA),
    ]
    assert gaps(UK, transfers, authority) == [
        (1, "AU", M.ADEQUACY_DECISION),
        (2, "US", M.STANDARD_CONTRACTUAL_CLAUSES),
        (3, "CA", M.NONE),
    ]


def test_each_gap_is_judged_on_its_own_mechanism() -> None:
    found = unlawful_transfers(
        UK, recorded(("IN", M.NONE), ("IN", M.STANDARD_CONTRACTUAL_CLAUSES)), profile(), DAY, REF
    )
    explanations = [a.explanation for _, a in found]
    assert "No transfer mechanism is recorded" in explanations[0]
    assert "never covered UK data alone" in explanations[1]


def test_gaps_follow_the_day_judged() -> None:
    transfer = recorded(("BR", M.ADEQUACY_DECISION))
    assert gaps(EEA, transfer, day=date(2025, 6, 1)) == [(0, "BR", M.ADEQUACY_DECISION)]
    assert gaps(EEA, transfer, day=date(2026, 1, 26)) == []


# --- properties -----------------------------------------------------------------------------------

COUNTRIES = [*sorted(EEA_CODES), "GB", "GI", "US", "CA", "JP", "KR", "CH", "IN", "AU", "BR"]
mechanisms = st.lists(st.sampled_from(list(M)), min_size=1, max_size=5)
recipients = st.builds(
    RecipientProfile,
    name=st.sampled_from(["Acme Cloud", "Bureau"]),
    kind=st.sampled_from(list(RecipientKind)),
    dpf_certified=st.booleans(),
)
days = st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31))
jurisdictions = st.sampled_from(list(Jurisdiction))


def judged(
    jurisdiction: Jurisdiction,
    country: str,
    recorded_mechanisms: Sequence[TransferMechanism],
    recipient: RecipientProfile,
    day: date,
    consent: bool,
    ref: TransferReference = REF,
) -> Assessment:
    return assess_country(jurisdiction, country, recorded_mechanisms, recipient, day, consent, ref)


@settings(max_examples=300, deadline=None)
@given(
    jurisdictions,
    st.sampled_from(COUNTRIES),
    mechanisms,
    st.sampled_from(list(M)),
    recipients,
    days,
    st.booleans(),
)
def test_adding_a_mechanism_never_makes_a_country_unlawful(
    jurisdiction: Jurisdiction,
    country: str,
    before: list[TransferMechanism],
    extra: TransferMechanism,
    recipient: RecipientProfile,
    day: date,
    consent: bool,
) -> None:
    first = judged(jurisdiction, country, before, recipient, day, consent)
    for position in (0, len(before)):
        after = [*before[:position], extra, *before[position:]]
        again = judged(jurisdiction, country, after, recipient, day, consent)
        if first.lawful:
            assert again.lawful, (before, extra, again.explanation)
        alone = judged(jurisdiction, country, [extra], recipient, day, consent)
        assert again.lawful == (first.lawful or alone.lawful)


@settings(max_examples=200, deadline=None)
@given(jurisdictions, st.sampled_from(COUNTRIES), mechanisms, recipients, days, st.booleans())
def test_bcr_is_always_lawful_and_the_named_mechanism_was_recorded(
    jurisdiction: Jurisdiction,
    country: str,
    recorded_mechanisms: list[TransferMechanism],
    recipient: RecipientProfile,
    day: date,
    consent: bool,
) -> None:
    verdict = judged(jurisdiction, country, recorded_mechanisms, recipient, day, consent)
    assert verdict.mechanism in recorded_mechanisms
    assert verdict.country == country
    assert verdict.explanation
    with_bcr = judged(
        jurisdiction,
        country,
        [*recorded_mechanisms, M.BINDING_CORPORATE_RULES],
        recipient,
        day,
        consent,
    )
    assert with_bcr.lawful


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(EEA_CODES)), mechanisms, recipients, days, st.booleans())
def test_inside_the_eea_is_always_lawful(
    country: str,
    recorded_mechanisms: list[TransferMechanism],
    recipient: RecipientProfile,
    day: date,
    consent: bool,
) -> None:
    verdict = judged(EEA, country, recorded_mechanisms, recipient, day, consent)
    assert verdict.lawful and verdict.basis is Basis.NOT_RESTRICTED
    uk = judged(UK, "GB", recorded_mechanisms, recipient, day, consent)
    assert uk.lawful and uk.basis is Basis.NOT_RESTRICTED
    # And the EEA is adequate for UK data.
    assert judged(UK, country, recorded_mechanisms, recipient, day, consent).lawful


@settings(max_examples=200, deadline=None)
@given(
    jurisdictions,
    st.lists(
        st.tuples(st.sampled_from(COUNTRIES), st.sampled_from(list(M))), min_size=1, max_size=6
    ),
    recipients,
    days,
)
def test_gaps_are_the_unlawful_countries_without_explicit_consent(
    jurisdiction: Jurisdiction,
    pairs: list[tuple[str, TransferMechanism]],
    recipient: RecipientProfile,
    day: date,
) -> None:
    transfers = recorded(*pairs)
    subject = "GB" if jurisdiction is UK else "DE"
    assessed = {
        a.country: a for a in assess_transfers(subject, transfers, recipient, day, False, ref=REF)
    }
    with_consent = {
        country for country, mechanism in pairs if mechanism is M.DEROGATION_EXPLICIT_CONSENT
    }
    expected = [
        position
        for position, (country, _) in enumerate(pairs)
        if not assessed[country].lawful and country not in with_consent
    ]
    found = unlawful_transfers(jurisdiction, transfers, recipient, day, ref=REF)
    assert [position for position, _ in found] == expected
    for position, assessment in found:
        assert (assessment.country, assessment.mechanism) == pairs[position]


def test_reference_file_rejects_codes_yaml_reads_as_something_else(tmp_path: Path) -> None:
    """A bare NO (Norway) is false to YAML: loading must fail loudly, not drop Norway."""
    text = REFERENCE_FILE.read_text(encoding="utf-8").replace('"NO"', "NO")
    broken = tmp_path / "adequacy-decisions.yaml"
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="not an ISO 3166-1 alpha-2 code"):
        load_reference(broken)
