"""The shipped fixtures show international transfers both ways (issue 5): lawful transfers on
each basis, and the deliberate gaps, checked by eye against fixtures/inventory.yaml."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from server.domain.transfers import Basis, Jurisdiction
from server.services import reports
from server.services.fixtures import LoadReport, load_fixtures
from server.services.transfers import transfer_gaps
from tests.conftest import gql

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
EEA_GAPS = [
    ("Quokka Metrics", "AU", "ADEQUACY_DECISION"),
    ("Saffron Loop", "IN", "NONE"),
]
UK_GAPS = [*EEA_GAPS, ("Sentinel Finch", "US", "STANDARD_CONTRACTUAL_CLAUSES")]
GAPS = """
query Gaps($jurisdiction: Jurisdiction!) {
  transferGaps(jurisdiction: $jurisdiction) {
    recipient { name status } transfer { country mechanism } jurisdiction explanation
  }
}
"""


async def loaded() -> LoadReport:
    result = await load_fixtures(FIXTURES)
    assert result.errors == [], result.summary()
    return result


async def assessed(ref: str) -> dict[tuple[str, str, str], tuple[bool, Basis]]:
    """(recipient slug, country, mechanism named) -> (lawful, basis), for one subject."""
    found = await reports.who_receives_report(subject_id=None, external_ref=ref, as_of=None)
    assert found is not None, ref
    out = {}
    for access in found.recipients:
        slug = access.recipient["slug"]
        for reason in access.reasons:
            for a in reason.assessments:
                out[(slug, a.country, a.mechanism.value)] = (a.lawful, a.basis)
    return out


@pytest.mark.parametrize(
    ("jurisdiction", "expected"), [(Jurisdiction.EEA, EEA_GAPS), (Jurisdiction.UK, UK_GAPS)]
)
async def test_fixture_gaps(
    db: str, jurisdiction: Jurisdiction, expected: list[tuple[str, str, str]]
) -> None:
    await loaded()
    found = await transfer_gaps(jurisdiction)
    assert [
        (g.recipient["name"], g.transfer.country, g.transfer.mechanism) for g in found
    ] == expected
    for gap in found:
        assert not gap.assessment.lawful
        assert gap.recipient["status"] == "ACTIVE"


async def test_fixture_gaps_through_http(client: httpx.AsyncClient) -> None:
    await loaded()
    for jurisdiction, expected in (("EEA", EEA_GAPS), ("UK", UK_GAPS)):
        body = await gql(client, GAPS, {"jurisdiction": jurisdiction})
        assert "errors" not in body, body["errors"]
        found = body["data"]["transferGaps"]
        assert [
            (g["recipient"]["name"], g["transfer"]["country"], g["transfer"]["mechanism"])
            for g in found
        ] == expected
        assert {g["jurisdiction"] for g in found} == {jurisdiction}
        assert all(g["explanation"] for g in found)


async def test_fixture_eea_visitor_sees_lawful_transfers_and_a_gap(db: str) -> None:
    await loaded()
    found = await assessed("visitor-de-lena")
    assert found[("sentinel-finch", "US", "STANDARD_CONTRACTUAL_CLAUSES")] == (
        True,
        Basis.SAFEGUARD,
    )
    assert found[("stratus-harbor-cloud", "US", "ADEQUACY_DECISION")] == (True, Basis.ADEQUACY)
    assert found[("lanternfish-search", "FR", "NOT_RESTRICTED")] == (True, Basis.NOT_RESTRICTED)
    assert found[("quokka-metrics", "AU", "ADEQUACY_DECISION")] == (False, Basis.MISSING)


async def test_fixture_uk_user_sees_lawful_transfers_and_gaps(db: str) -> None:
    await loaded()
    found = await assessed("user-uk-priya")
    assert found[("tidewater-support", "US", "UK_ADDENDUM")] == (True, Basis.SAFEGUARD)
    assert found[("stratus-harbor-cloud", "US", "ADEQUACY_DECISION")] == (True, Basis.ADEQUACY)
    assert found[("pinewick-academy", "US", "DEROGATION_CONTRACT")] == (True, Basis.DEROGATION)
    assert found[("saffron-loop", "IN", "NONE")] == (False, Basis.MISSING)
    assert found[("sentinel-finch", "US", "STANDARD_CONTRACTUAL_CLAUSES")] == (
        False,
        Basis.MISSING,
    )
    uk_idta = await assessed("applicant-uk-amara")
    assert uk_idta[("fernleaf-hire", "US", "UK_IDTA")] == (True, Basis.SAFEGUARD)


async def test_fixture_us_lead_has_no_chapter_v(db: str) -> None:
    await loaded()
    found = await assessed("lead-us-marcus")
    assert found
    assert set(found.values()) == {(True, Basis.NO_CHAPTER_V)}
