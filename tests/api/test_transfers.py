"""International transfers end to end through HTTP (issues 5 and 13): the adequacy decisions
served, each reason's destinations judged under every regime that applies to the flow (from the
exporting establishment, the people it targets, and onward along a chain), the dashboard's
transferGaps, and the recipients' DPF certifications. The domain table of
tests/unit/test_transfers.py runs here again through the API, on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from server.domain.enums import DisclosureFrequency
from server.domain.transfers import Exporter
from tests.conftest import gql
from tests.helpers import END_DISCLOSURE, UPSERT, disclosure_input, move, register
from tests.unit.test_transfers import CASES, Case

DECISIONS = """
query Decisions($jurisdiction: Jurisdiction!) {
  adequacyDecisions(jurisdiction: $jurisdiction) {
    jurisdiction country scope adoptedOn source expiresOn organisation
  }
}
"""

ASSESSMENT = "jurisdiction trigger fromCountry country mechanism lawful explanation"
REPORT = f"""
query Who($ref: String!, $asOf: DateTime) {{
  whoReceives(subject: {{externalRef: $ref}}, asOf: $asOf) {{
    recipients {{
      recipient {{ slug }}
      reasons {{
        disclosure {{ id exporter {{ slug }} }}
        transfers {{ country mechanism signedOn withinAdequacyScope }}
        explanation
        transferAssessments {{ {ASSESSMENT} }}
      }}
    }}
  }}
}}
"""

GAPS = """
query Gaps($jurisdiction: Jurisdiction!, $asOf: DateTime) {
  transferGaps(jurisdiction: $jurisdiction, asOf: $asOf) {
    recipient { name slug status }
    disclosure { id effectiveTo }
    transfer { country mechanism reference }
    jurisdiction
    explanation
  }
}
"""

REGISTER_ESTABLISHMENT = """
mutation Register($input: EstablishmentInput!) {
  registerEstablishment(input: $input) {
    establishment { id slug }
    userErrors { field message code }
  }
}
"""

TRANSFER_CONSENT = """
mutation Consent($input: TransferConsentInput!) {
  recordTransferConsent(input: $input) { userErrors { field message code } }
}
"""

LONG_AGO = "2018-01-01T00:00:00Z"


def iso(day: date) -> str:
    return f"{day.isoformat()}T12:00:00Z"


async def establishment(client: httpx.AsyncClient, exporter: Exporter, main: bool) -> str:
    slug = exporter.name.lower().replace(" ", "-")
    body = await gql(
        client,
        REGISTER_ESTABLISHMENT,
        {
            "input": {
                "name": exporter.name,
                "slug": slug,
                "country": exporter.country,
                "targets": sorted(j.value for j in exporter.targets),
                "main": main,
            }
        },
    )
    assert body["data"]["registerEstablishment"]["userErrors"] == [], body
    return slug


async def organisation(client: httpx.AsyncClient) -> None:
    """The seed notice's: MPN Technologies LLC in the US (main), targeting the EEA and the UK;
    MPN Technologies Limited in the UK, targeting the EEA."""
    await establishment(
        client, CASES["third-country-recipient-no-transfer-recorded"].exporter, True
    )
    await establishment(client, CASES["us-customer-uk-company-to-india"].exporter, False)


async def person(
    client: httpx.AsyncClient, ref: str, country: str, valid_from: str = LONG_AGO
) -> None:
    body = await gql(
        client,
        UPSERT,
        {
            "input": {
                "externalRef": ref,
                "subjectType": "platform_user",
                "country": country,
                "dataCategories": ["user.contact.email"],
                "validFrom": valid_from,
            }
        },
    )
    assert body["data"]["upsertDataSubject"]["userErrors"] == [], body


def transfer_input(t: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"country": t.country, "mechanism": t.mechanism.value}
    if t.reference is not None:
        found["reference"] = t.reference
    if t.signed_on is not None:
        found["signedOn"] = t.signed_on.isoformat()
    if t.within_scope is not None:
        found["withinAdequacyScope"] = t.within_scope
    return found


def certification_input(c: Any) -> dict[str, Any]:
    return {
        "framework": c.framework.value,
        "certifiedOn": c.certified_on.isoformat(),
        "lapsedOn": c.lapsed_on.isoformat() if c.lapsed_on else None,
    }


async def report(client: httpx.AsyncClient, ref: str, as_of: str | None = None) -> dict[str, Any]:
    body = await gql(client, REPORT, {"ref": ref, "asOf": as_of})
    assert "errors" not in body, body["errors"]
    return {a["recipient"]["slug"]: a["reasons"] for a in body["data"]["whoReceives"]["recipients"]}


async def gaps(
    client: httpx.AsyncClient, jurisdiction: str, as_of: str | None = None
) -> list[dict[str, Any]]:
    body = await gql(client, GAPS, {"jurisdiction": jurisdiction, "asOf": as_of})
    assert "errors" not in body, body["errors"]
    found: list[dict[str, Any]] = body["data"]["transferGaps"]
    for gap in found:
        assert gap["jurisdiction"] == jurisdiction
        assert gap["recipient"]["status"] == "ACTIVE"
        law = "UK GDPR" if jurisdiction == "UK" else "GDPR"
        assert gap["explanation"].startswith(f"Not lawful under {law}:"), gap
    return found


def summary(a: dict[str, Any]) -> tuple[str, str, str, str, bool, str]:
    return (
        a["jurisdiction"],
        a["trigger"],
        a["fromCountry"],
        a["country"],
        a["lawful"],
        a["mechanism"],
    )


# --- the domain's table, through the API ------------------------------------------------------

# Through the report: a flow from one of our establishments, continuous (an ON_REQUEST
# disclosure is a possible recipient, not assessed), with no chain above it.
API_CASES = {
    name: case
    for name, case in CASES.items()
    if case.exporter.establishment
    and case.frequency is DisclosureFrequency.CONTINUOUS
    and not case.upstream
}


@pytest.mark.parametrize("name", list(API_CASES))
async def test_the_rules_through_the_report(client: httpx.AsyncClient, name: str) -> None:
    case: Case = API_CASES[name]
    await establishment(client, case.exporter, True)
    start = min(case.starts, date(2018, 1, 1) if case.day.year < 2019 else case.starts)
    recipient = await register(
        client,
        name=case.to.name,
        kind=case.to.kind.value,
        country=case.to.country,
        legalName=case.to.legal_name,
        internationalOrganisation=case.to.international_organisation,
        dpfCertifications=[certification_input(c) for c in case.to.certifications],
        status="ACTIVE",
        statusSince=LONG_AGO,
        disclosures=[
            disclosure_input(
                effectiveFrom=start.isoformat(),
                transfers=[transfer_input(t) for t in case.transfers],
            )
        ],
    )
    await person(client, "pat", case.lives_in)
    for country in case.consented:
        body = await gql(
            client,
            TRANSFER_CONSENT,
            {
                "input": {
                    "subject": {"externalRef": "pat"},
                    "recipient": recipient["id"],
                    "country": country,
                    "granted": True,
                    "decidedAt": LONG_AGO,
                }
            },
        )
        assert body["data"]["recordTransferConsent"]["userErrors"] == [], body
    [reason] = (await report(client, "pat", iso(case.day)))[recipient["slug"]]
    found = reason["transferAssessments"]
    expected = [
        (j.value, trigger.value, exporter_country, country, lawful, mechanism.value)
        for j, trigger, exporter_country, country, lawful, _, mechanism in case.expect
    ]
    assert [summary(a) for a in found] == expected, [a["explanation"] for a in found]
    for index, words in case.words.items():
        for word in words:
            assert word in found[index]["explanation"], (word, found[index]["explanation"])
    assert reason["disclosure"]["exporter"]["slug"] == case.exporter.name.lower().replace(" ", "-")
    assert "stays in" not in reason["explanation"]
    if not case.expect and case.day < date(2018, 5, 25):
        assert "GDPR did not apply yet" in reason["explanation"]


# --- the README's scenarios, by name ------------------------------------------------------------


async def test_one_flow_judged_under_both_regimes(client: httpx.AsyncClient) -> None:
    """A German user's data, sent by the UK company to a US vendor on EU SCCs alone: lawful
    under GDPR, a gap under UK GDPR; and the sentence says so for each regime."""
    await organisation(client)
    await person(client, "lena", "DE")
    await register(
        client,
        name="Tidewater Desk",
        status="ACTIVE",
        disclosures=[
            disclosure_input(
                exporter="mpn-technologies-limited",
                transfers=[{"country": "US", "mechanism": "STANDARD_CONTRACTUAL_CLAUSES"}],
            )
        ],
    )
    [reason] = (await report(client, "lena"))["tidewater-desk"]
    assert [summary(a) for a in reason["transferAssessments"]] == [
        ("EEA", "SUBJECT_TARGETED", "GB", "US", True, "STANDARD_CONTRACTUAL_CLAUSES"),
        ("UK", "EXPORTER_ESTABLISHED", "GB", "US", False, "STANDARD_CONTRACTUAL_CLAUSES"),
    ]
    assert reason["explanation"].endswith(
        "the data goes to the United States (GDPR: under standard contractual clauses; UK GDPR: "
        "without a valid transfer safeguard), where the recipient is based."
    )
    [gap] = await gaps(client, "UK")
    assert (gap["recipient"]["slug"], gap["transfer"]["country"]) == ("tidewater-desk", "US")
    assert await gaps(client, "EEA") == []


async def test_an_onward_transfer_carries_the_regime_down_the_chain(
    client: httpx.AsyncClient,
) -> None:
    """The UK company sends a US customer's data to a US processor, which engages an Indian
    subprocessor: UK GDPR reaches the processor (the exporter is in the UK) and follows the data
    onward, so the subprocessor's flow from the US is judged under it."""
    await organisation(client)
    await person(client, "marcus", "US")
    processor = await register(
        client,
        name="Stratus Harbor Cloud",
        status="ACTIVE",
        disclosures=[
            disclosure_input(
                exporter="mpn-technologies-limited",
                transfers=[{"country": "US", "mechanism": "UK_IDTA"}],
            )
        ],
    )
    await register(
        client,
        name="Pune Ops",
        role="SUBPROCESSOR",
        country="IN",
        engagedBy=processor["slug"],
        status="ACTIVE",
        disclosures=[disclosure_input(transfers=[])],
    )
    found = await report(client, "marcus")
    [top] = found["stratus-harbor-cloud"]
    assert [summary(a) for a in top["transferAssessments"]] == [
        ("UK", "EXPORTER_ESTABLISHED", "GB", "US", True, "UK_IDTA"),
    ]
    [onward] = found["pune-ops"]
    assert onward["disclosure"]["exporter"] is None
    [assessment] = onward["transferAssessments"]
    assert summary(assessment) == ("UK", "ONWARD_TRANSFER", "US", "IN", False, "NONE")
    assert "reached Stratus Harbor Cloud under UK GDPR" in assessment["explanation"]
    listed = [(g["recipient"]["slug"], g["transfer"]["country"]) for g in await gaps(client, "UK")]
    assert listed == [("pune-ops", "IN")]


async def test_a_derogation_for_a_continuous_flow_is_a_gap(client: httpx.AsyncClient) -> None:
    await organisation(client)
    await register(
        client,
        name="Halcyon Translate",
        country="IN",
        status="ACTIVE",
        disclosures=[
            disclosure_input(transfers=[{"country": "IN", "mechanism": "DEROGATION_CONTRACT"}]),
            disclosure_input(
                frequency="ON_REQUEST",
                purposes=["functional.storage"],
                transfers=[{"country": "IN", "mechanism": "DEROGATION_CONTRACT"}],
            ),
        ],
    )
    for jurisdiction in ("EEA", "UK"):
        [gap] = await gaps(client, jurisdiction)
        assert gap["transfer"]["mechanism"] == "DEROGATION_CONTRACT"
        assert "occasional transfers only" in gap["explanation"]
        assert "this disclosure is continuous" in gap["explanation"]


async def test_a_past_answer_before_the_safeguard_existed(client: httpx.AsyncClient) -> None:
    """The UK company's IDTA with an Indian vendor, signed on 3 May 2022: lawful today, but not
    in June 2021, before the IDTA existed."""
    await organisation(client)
    await person(client, "priya", "GB", valid_from="2020-01-01T00:00:00Z")
    await register(
        client,
        name="Saffron Loop",
        country="IN",
        status="ACTIVE",
        statusSince="2020-01-01T00:00:00Z",
        disclosures=[
            disclosure_input(
                effectiveFrom="2020-01-01",
                exporter="mpn-technologies-limited",
                transfers=[{"country": "IN", "mechanism": "UK_IDTA", "signedOn": "2022-05-03"}],
            )
        ],
    )
    [now] = (await report(client, "priya"))["saffron-loop"]
    assert [a["lawful"] for a in now["transferAssessments"]] == [True]
    assert "signed on 3 May 2022" in now["transferAssessments"][0]["explanation"]
    [then] = (await report(client, "priya", "2021-06-15T12:00:00Z"))["saffron-loop"]
    [assessment] = then["transferAssessments"]
    assert not assessment["lawful"]
    assert "only from 21 March 2022" in assessment["explanation"]
    assert [g["recipient"]["slug"] for g in await gaps(client, "UK", "2021-06-15T12:00:00Z")] == [
        "saffron-loop"
    ]
    assert await gaps(client, "UK") == []


# --- adequacyDecisions ----------------------------------------------------------------------


async def test_adequacy_decisions_for_the_eea(client: httpx.AsyncClient) -> None:
    body = await gql(client, DECISIONS, {"jurisdiction": "EEA"})
    listed = body["data"]["adequacyDecisions"]
    by_country = {d["country"]: d for d in listed if d["organisation"] is None}
    assert by_country["GB"]["expiresOn"] == "2031-12-27"
    assert "2021/1772" in by_country["GB"]["source"]
    assert by_country["BR"]["adoptedOn"] == "2026-01-26"
    assert "Financial Services Commission" in by_country["KR"]["scope"]
    assert by_country["JP"]["expiresOn"] is None
    [epo] = [d for d in listed if d["organisation"]]
    assert (epo["organisation"], epo["country"], epo["adoptedOn"]) == (
        "European Patent Organisation",
        "DE",
        "2025-07-15",
    )
    assert listed[-1] == epo
    for absent in ("IN", "AU", "GI", "NO"):
        assert absent not in by_country, absent


async def test_adequacy_decisions_for_the_uk(client: httpx.AsyncClient) -> None:
    body = await gql(client, DECISIONS, {"jurisdiction": "UK"})
    listed = body["data"]["adequacyDecisions"]
    by_country = {d["country"]: d for d in listed}
    assert "Gibraltar" in by_country["GI"]["source"]
    assert "2022/1213" in by_country["KR"]["source"]
    assert "UK Extension" in by_country["US"]["scope"]
    assert not [d for d in listed if d["organisation"]]
    for absent in ("IN", "AU", "GB", "BR"):
        assert absent not in by_country, absent


@pytest.mark.parametrize("jurisdiction", ["EU", "GB", "eea", ""])
async def test_unknown_jurisdiction_is_a_graphql_error(
    client: httpx.AsyncClient, jurisdiction: str
) -> None:
    for query in (DECISIONS, GAPS):
        response = await client.post(
            "/graphql", json={"query": query, "variables": {"jurisdiction": jurisdiction}}
        )
        assert response.status_code in (200, 400), response.text
        body = response.json()
        assert body.get("data") is None
        [error] = body["errors"]
        assert "Jurisdiction" in error["message"], error


# --- transferGaps -------------------------------------------------------------------------------


async def test_gaps_one_per_destination_by_recipient_name(client: httpx.AsyncClient) -> None:
    await organisation(client)
    assert await gaps(client, "EEA") == []
    await register(
        client,
        name="Zeta Metrics",
        country="AU",
        status="ACTIVE",
        disclosures=[disclosure_input(transfers=[
            {"country": "AU", "mechanism": "ADEQUACY_DECISION", "reference": "vendor form"}
        ])],
    )  # fmt: skip
    await register(
        client,
        name="alpha Loop",
        country="IE",
        status="ACTIVE",
        disclosures=[disclosure_input(transfers=[{"country": "IN", "mechanism": "NONE"}])],
    )
    await register(client, name="Mid Mail", country="CN", status="ACTIVE", disclosures=[
        disclosure_input(transfers=[])
    ])  # fmt: skip
    for jurisdiction in ("EEA", "UK"):
        found = await gaps(client, jurisdiction)
        listed = [
            (g["recipient"]["name"], g["transfer"]["country"], g["transfer"]["mechanism"])
            for g in found
        ]
        # alpha Loop in Ireland: not a gap for EEA data; adequate for UK data. Mid Mail in
        # China with no transfer recorded: the implied transfer, mechanism NONE.
        assert listed == [
            ("alpha Loop", "IN", "NONE"),
            ("Mid Mail", "CN", "NONE"),
            ("Zeta Metrics", "AU", "ADEQUACY_DECISION"),
        ]
        assert found[2]["transfer"]["reference"] == "vendor form"
        assert "yet Mid Mail is based there" in found[1]["explanation"]


async def test_gaps_only_where_a_regime_can_apply(client: httpx.AsyncClient) -> None:
    """A US main establishment that targets nobody exports under no regime."""
    body = await gql(
        client,
        REGISTER_ESTABLISHMENT,
        {"input": {"name": "Home Only", "country": "US", "targets": [], "main": True}},
    )
    assert body["data"]["registerEstablishment"]["userErrors"] == []
    await register(
        client,
        name="Live Loop",
        country="IN",
        status="ACTIVE",
        disclosures=[disclosure_input(transfers=[{"country": "CN", "mechanism": "NONE"}])],
    )
    assert await gaps(client, "EEA") == [] and await gaps(client, "UK") == []


async def test_gaps_only_for_active_recipients_and_disclosures_in_effect(
    client: httpx.AsyncClient,
) -> None:
    await organisation(client)
    india: dict[str, Any] = {"country": "IN", "disclosures": [disclosure_input(transfers=[])]}
    await register(client, name="Proposed Pixel", **india)
    suspended = await register(client, name="Suspended Sync", status="ACTIVE", **india)
    await move(client, suspended["id"], "SUSPENDED")
    live = await register(
        client,
        name="Live Loop",
        status="ACTIVE",
        country="IN",
        disclosures=[disclosure_input(transfers=[], effectiveFrom="2024-01-01"),
                     disclosure_input(transfers=[], purposes=["functional.storage"])],
    )  # fmt: skip
    names = [g["recipient"]["name"] for g in await gaps(client, "EEA")]
    assert names == ["Live Loop", "Live Loop"]
    ended = live["disclosures"][0]
    today = datetime.now(UTC).date().isoformat()
    body = await gql(client, END_DISCLOSURE, {"input": {"id": ended["id"], "effectiveTo": today}})
    assert body["data"]["endDisclosure"]["userErrors"] == [], body
    found = await gaps(client, "EEA")
    assert [g["disclosure"]["id"] for g in found] == [live["disclosures"][1]["id"]]


async def test_no_establishment_on_record_says_so(client: httpx.AsyncClient) -> None:
    await person(client, "lena", "DE")
    await register(client, name="Acme Mail", status="ACTIVE", disclosures=[disclosure_input()])
    [reason] = (await report(client, "lena"))["acme-mail"]
    assert reason["transferAssessments"] == []
    assert reason["disclosure"]["exporter"] is None
    assert "No establishment of the organisation is on record" in reason["explanation"]
