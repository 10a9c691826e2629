"""The reference data of Chapter V as shipped (server/reference/adequacy-decisions.yaml): every
decision dated and cited, limited ones with their scope, and the file's own checks."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pycountry
import pytest

from server.domain import regimes
from server.domain.adequacy import Coverage, load_reference, reference
from server.domain.regimes import Jurisdiction

EEA = Jurisdiction.EEA
UK = Jurisdiction.UK
REF = load_reference()
DAY = date(2025, 6, 1)
EEA_CODES = {
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
    "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
}  # fmt: skip


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


def test_decisions_for_a_jurisdiction_are_by_country_then_organisation() -> None:
    for jurisdiction in Jurisdiction:
        listed = REF.decisions_for(jurisdiction)
        countries = [d.country for d in listed if d.organisation is None]
        assert countries == sorted(countries)
        assert [d.organisation for d in listed if d.organisation][:1] == (
            ["European Patent Organisation"] if jurisdiction is EEA else []
        )
        assert {d.jurisdiction for d in listed} == {jurisdiction}
        assert len(listed) == sum(1 for (j, _) in REF.decisions if j is jurisdiction) + sum(
            1 for (j, _) in REF.organisation_decisions if j is jurisdiction
        )
    assert len(REF.decisions_for(UK)) > 31  # the 30 EEA states, Gibraltar and more


def test_the_files_eea_states_are_the_territorys_states() -> None:
    """The file lists the 30 states with their source; regimes.py adds the outermost regions
    and Åland, which ISO 3166 codes apart."""
    assert REF.eea == regimes.EU_STATES | regimes.EEA_EFTA_STATES
    assert regimes.EEA_TERRITORY - REF.eea == regimes.OUTERMOST_REGIONS | {regimes.ALAND}


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
