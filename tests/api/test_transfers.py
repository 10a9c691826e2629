"""International transfers end to end through HTTP (issue 5): the adequacy decisions served,
each reason's transfers judged for the subject's jurisdiction, the dashboard's transferGaps, and
dataPrivacyFrameworkCertified on recipients."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.conftest import gql
from tests.helpers import (
    ADD_DISCLOSURE,
    END_DISCLOSURE,
    RECORD_CONSENT,
    UPDATE,
    UPSERT,
    disclosure_input,
    move,
    register,
)

DECISIONS = """
query Decisions($jurisdiction: Jurisdiction!) {
  adequacyDecisions(jurisdiction: $jurisdiction) { jurisdiction country scope adoptedOn source }
}
"""

REPORT = """
query Who($ref: String!) {
  whoReceives(subject: {externalRef: $ref}) {
    recipients {
      recipient { slug }
      reasons {
        disclosure { id }
        transfers { country mechanism }
        explanation
        transferAssessments { country mechanism lawful explanation }
      }
    }
  }
}
"""

GAPS = """
query Gaps($jurisdiction: Jurisdiction!) {
  transferGaps(jurisdiction: $jurisdiction) {
    recipient { name slug status dataPrivacyFrameworkCertified }
    disclosure { id effectiveTo }
    transfer { country mechanism reference }
    jurisdiction
    explanation
  }
}
"""

HISTORY = """
query History($slug: String!) {
  recipient(slug: $slug) { dataPrivacyFrameworkCertified version history { action changes } }
}
"""

PAST = "2024-01-01"
MARKETING = "marketing.communications.email"
EEA_CODES = {
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
    "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
}  # fmt: skip


def transfer(country: str, mechanism: str, reference: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"country": country, "mechanism": mechanism}
    if reference is not None:
        found["reference"] = reference
    return found


def flow(*transfers: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A disclosure in effect since 2024 (email of platform users, under contract)."""
    return disclosure_input(**{"effectiveFrom": PAST, "transfers": list(transfers), **overrides})


async def active(
    client: httpx.AsyncClient, name: str, *flows: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    return await register(client, name=name, status="ACTIVE", disclosures=list(flows), **extra)


async def person(client: httpx.AsyncClient, ref: str, country: str) -> None:
    body = await gql(
        client,
        UPSERT,
        {
            "input": {
                "externalRef": ref,
                "subjectType": "platform_user",
                "country": country,
                "dataCategories": ["user.contact.email"],
            }
        },
    )
    assert body["data"]["upsertDataSubject"]["userErrors"] == [], body


async def consent(client: httpx.AsyncClient, ref: str, purpose: str, granted: bool) -> None:
    body = await gql(
        client,
        RECORD_CONSENT,
        {"input": {"subject": {"externalRef": ref}, "purpose": purpose, "granted": granted}},
    )
    assert body["data"]["recordConsent"]["userErrors"] == [], body


async def decisions(client: httpx.AsyncClient, jurisdiction: str) -> dict[str, dict[str, Any]]:
    body = await gql(client, DECISIONS, {"jurisdiction": jurisdiction})
    assert "errors" not in body, body["errors"]
    listed = body["data"]["adequacyDecisions"]
    countries = [d["country"] for d in listed]
    assert countries == sorted(countries)
    assert len(set(countries)) == len(countries)
    return {d["country"]: d for d in listed}


async def reasons(client: httpx.AsyncClient, ref: str) -> dict[str, list[dict[str, Any]]]:
    """Each recipient's reasons, by slug."""
    body = await gql(client, REPORT, {"ref": ref})
    assert "errors" not in body, body["errors"]
    return {a["recipient"]["slug"]: a["reasons"] for a in body["data"]["whoReceives"]["recipients"]}


async def only_reason(client: httpx.AsyncClient, ref: str, slug: str) -> dict[str, Any]:
    [reason] = (await reasons(client, ref))[slug]
    return reason


def verdicts(reason: dict[str, Any]) -> list[tuple[str, str, bool]]:
    return [(a["country"], a["mechanism"], a["lawful"]) for a in reason["transferAssessments"]]


async def gaps(client: httpx.AsyncClient, jurisdiction: str) -> list[dict[str, Any]]:
    body = await gql(client, GAPS, {"jurisdiction": jurisdiction})
    assert "errors" not in body, body["errors"]
    found: list[dict[str, Any]] = body["data"]["transferGaps"]
    for gap in found:
        assert gap["jurisdiction"] == jurisdiction
        assert gap["recipient"]["status"] == "ACTIVE"
        assert gap["explanation"].startswith(f"Not lawful for {jurisdiction} data")
    return found


def listed(found: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [
        (g["recipient"]["name"], g["transfer"]["country"], g["transfer"]["mechanism"])
        for g in found
    ]


async def add_disclosure(
    client: httpx.AsyncClient, recipient: dict[str, Any], disclosure: dict[str, Any]
) -> dict[str, Any]:
    body = await gql(
        client,
        ADD_DISCLOSURE,
        {"input": {"recipientId": recipient["id"], "disclosure": disclosure}},
    )
    payload = body["data"]["addDisclosure"]
    assert payload["userErrors"] == [], payload
    added: dict[str, Any] = payload["disclosure"]
    return added


def today() -> str:
    return datetime.now(UTC).date().isoformat()


# --- adequacyDecisions ----------------------------------------------------------------------------


async def test_adequacy_decisions_for_the_eea(client: httpx.AsyncClient) -> None:
    found = await decisions(client, "EEA")
    assert {d["jurisdiction"] for d in found.values()} == {"EEA"}
    assert found["JP"]["adoptedOn"] == "2019-01-23"
    assert "2019/419" in found["JP"]["source"]
    # Limited since issue 13: Art. 1(2) of 2022/254 leaves some processing out.
    assert "Financial Services Commission" in found["KR"]["scope"]
    assert "2022/254" in found["KR"]["source"]
    assert "Data Privacy Framework" in found["US"]["scope"]
    assert "ommercial" in found["CA"]["scope"]
    assert found["BR"]["adoptedOn"] == "2026-01-26"
    assert found["GB"]["source"].startswith("Commission Implementing Decision (EU) 2021/1772")
    for absent in ("IN", "AU", "GI", "DE", "NO"):
        assert absent not in found, absent
    assert all(d["source"] for d in found.values())


async def test_adequacy_decisions_for_the_uk(client: httpx.AsyncClient) -> None:
    found = await decisions(client, "UK")
    assert {d["jurisdiction"] for d in found.values()} == {"UK"}
    assert EEA_CODES | {"GI"} <= set(found)
    assert "Gibraltar" in found["GI"]["source"]
    assert found["KR"]["adoptedOn"] == "2022-12-19"
    assert "2022/1213" in found["KR"]["source"]
    assert "UK Extension" in found["US"]["scope"]
    for absent in ("IN", "AU", "GB", "BR"):
        assert absent not in found, absent


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


async def test_jurisdiction_literal_is_validated(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ transferGaps(jurisdiction: EU) { explanation } }"}
    )
    assert response.status_code in (200, 400), response.text
    body = response.json()
    assert body.get("data") is None and body["errors"]


# --- transferAssessments in whoReceives ---------------------------------------------------------


async def shared_disclosure(client: httpx.AsyncClient) -> None:
    """One disclosure, three people: in Germany, in the UK and in the United States."""
    for ref, country in (("lena", "DE"), ("priya", "GB"), ("marcus", "US")):
        await person(client, ref, country)
    await active(
        client,
        "Acme Mail",
        flow(
            transfer("US", "STANDARD_CONTRACTUAL_CLAUSES", "SCC 2021 module 2"),
            transfer("IN", "NONE"),
            transfer("FR", "NOT_RESTRICTED"),
        ),
        country="US",
    )


async def test_assessments_for_an_eea_subject(client: httpx.AsyncClient) -> None:
    await shared_disclosure(client)
    reason = await only_reason(client, "lena", "acme-mail")
    assert verdicts(reason) == [
        ("US", "STANDARD_CONTRACTUAL_CLAUSES", True),
        ("IN", "NONE", False),
        ("FR", "NOT_RESTRICTED", True),
    ]
    us, india, france = (a["explanation"] for a in reason["transferAssessments"])
    assert "standard contractual clauses" in us and "GDPR Art. 46" in us
    assert "No transfer mechanism is recorded" in india
    assert "needs standard contractual clauses or binding corporate rules" in india
    assert "France is in the EEA" in france
    assert reason["explanation"].endswith(
        "the data is transferred to the United States (under standard contractual clauses), "
        "India (without a valid transfer safeguard) and France (within the EEA)."
    )


async def test_assessments_for_a_uk_subject(client: httpx.AsyncClient) -> None:
    await shared_disclosure(client)
    reason = await only_reason(client, "priya", "acme-mail")
    assert verdicts(reason) == [
        ("US", "STANDARD_CONTRACTUAL_CLAUSES", False),
        ("IN", "NONE", False),
        ("FR", "NOT_RESTRICTED", True),
    ]
    us, india, france = (a["explanation"] for a in reason["transferAssessments"])
    assert "never covered UK data alone" in us and "is not one" in us
    assert "needs the UK IDTA, the UK Addendum or binding corporate rules" in india
    assert "Schedule 21" in france
    assert reason["explanation"].endswith(
        "the data is transferred to the United States (without a valid transfer safeguard), "
        "India (without a valid transfer safeguard) and France (under an adequacy decision)."
    )


async def test_assessments_for_a_subject_outside_the_uk_and_eea(
    client: httpx.AsyncClient,
) -> None:
    await shared_disclosure(client)
    reason = await only_reason(client, "marcus", "acme-mail")
    assert verdicts(reason) == [
        ("US", "STANDARD_CONTRACTUAL_CLAUSES", True),
        ("IN", "NONE", True),
        ("FR", "NOT_RESTRICTED", True),
    ]
    for assessment in reason["transferAssessments"]:
        assert "No UK or EEA transfer rules apply" in assessment["explanation"]
    assert reason["explanation"].endswith(
        "the data is transferred to the United States, India and France."
    )


async def test_norway_is_in_the_eea(client: httpx.AsyncClient) -> None:
    """A Norwegian resident is an EEA subject; Norway is inside the EEA and adequate for UK
    data (a bare NO in YAML 1.1 is the boolean false: the reference must still read Norway)."""
    await person(client, "ingrid", "NO")
    await person(client, "lena", "DE")
    await person(client, "priya", "GB")
    await active(client, "Fjord Cloud", flow(transfer("IN", "NONE"), transfer("NO", "NONE")))
    assert verdicts(await only_reason(client, "ingrid", "fjord-cloud")) == [
        ("IN", "NONE", False),
        ("NO", "NONE", True),
    ]
    for ref in ("lena", "priya"):
        reason = await only_reason(client, ref, "fjord-cloud")
        assert verdicts(reason)[1] == ("NO", "NONE", True), reason


async def test_several_mechanisms_to_one_country_judged_per_jurisdiction(
    client: httpx.AsyncClient,
) -> None:
    await person(client, "lena", "DE")
    await person(client, "priya", "GB")
    await active(
        client,
        "Tidewater Desk",
        flow(
            transfer("US", "STANDARD_CONTRACTUAL_CLAUSES"),
            transfer("US", "UK_ADDENDUM"),
        ),
    )
    eea = await only_reason(client, "lena", "tidewater-desk")
    uk = await only_reason(client, "priya", "tidewater-desk")
    assert len(eea["transfers"]) == len(uk["transfers"]) == 2
    assert verdicts(eea) == [("US", "STANDARD_CONTRACTUAL_CLAUSES", True)]
    assert verdicts(uk) == [("US", "UK_ADDENDUM", True)]
    assert "(under standard contractual clauses)" in eea["explanation"]
    assert "(under the UK Addendum to the standard contractual clauses)" in uk["explanation"]


async def test_dpf_certified_recipient_is_lawful_on_the_us_decision(
    client: httpx.AsyncClient,
) -> None:
    await person(client, "lena", "DE")
    await person(client, "priya", "GB")
    await active(
        client,
        "Orbit Analytics",
        flow(transfer("US", "ADEQUACY_DECISION")),
        dataPrivacyFrameworkCertified=True,
    )
    for ref, citation in (("lena", "2023/1795"), ("priya", "2023/1028")):
        reason = await only_reason(client, ref, "orbit-analytics")
        assert verdicts(reason) == [("US", "ADEQUACY_DECISION", True)]
        assert citation in reason["transferAssessments"][0]["explanation"]
        assert "(under an adequacy decision)" in reason["explanation"]


async def test_explicit_consent_derogation_follows_the_consent_log(
    client: httpx.AsyncClient,
) -> None:
    await person(client, "lena", "DE")
    await active(
        client,
        "Quill Surveys",
        flow(
            transfer("IN", "DEROGATION_EXPLICIT_CONSENT"),
            purposes=["essential.service", MARKETING],
        ),
    )
    before = await only_reason(client, "lena", "quill-surveys")
    assert verdicts(before) == [("IN", "DEROGATION_EXPLICIT_CONSENT", False)]
    assert "no granted consent" in before["transferAssessments"][0]["explanation"]
    assert "(without a valid transfer safeguard)" in before["explanation"]

    await consent(client, "lena", MARKETING, True)
    granted = await only_reason(client, "lena", "quill-surveys")
    assert verdicts(granted) == [("IN", "DEROGATION_EXPLICIT_CONSENT", True)]
    assert "occasional" in granted["transferAssessments"][0]["explanation"]
    assert "for occasional transfers only" in granted["explanation"]

    await consent(client, "lena", MARKETING, False)
    withdrawn = await only_reason(client, "lena", "quill-surveys")
    assert verdicts(withdrawn) == [("IN", "DEROGATION_EXPLICIT_CONSENT", False)]


async def test_consent_for_another_purpose_does_not_count(client: httpx.AsyncClient) -> None:
    await person(client, "lena", "DE")
    await active(client, "Quill Surveys", flow(transfer("IN", "DEROGATION_EXPLICIT_CONSENT")))
    await consent(client, "lena", MARKETING, True)
    reason = await only_reason(client, "lena", "quill-surveys")
    assert verdicts(reason) == [("IN", "DEROGATION_EXPLICIT_CONSENT", False)]


async def test_reason_without_transfers_has_no_assessments(client: httpx.AsyncClient) -> None:
    await person(client, "lena", "DE")
    await active(client, "Berlin Backup", flow(), country="DE")
    reason = await only_reason(client, "lena", "berlin-backup")
    assert reason["transferAssessments"] == []
    assert "the data stays in Germany" in reason["explanation"]


# --- transferGaps ---------------------------------------------------------------------------------


async def test_gaps_show_at_once_and_by_recipient_name(client: httpx.AsyncClient) -> None:
    assert await gaps(client, "EEA") == []
    zeta = await active(client, "Zeta Metrics")
    alpha = await active(client, "alpha Loop")
    mid = await active(client, "Mid Mail")
    await add_disclosure(client, zeta, flow(transfer("AU", "ADEQUACY_DECISION", "vendor form")))
    await add_disclosure(client, alpha, flow(transfer("IN", "NONE")))
    added = await add_disclosure(client, mid, flow(transfer("CN", "NOT_RESTRICTED")))
    for jurisdiction in ("EEA", "UK"):
        found = await gaps(client, jurisdiction)
        assert listed(found) == [
            ("alpha Loop", "IN", "NONE"),
            ("Mid Mail", "CN", "NOT_RESTRICTED"),
            ("Zeta Metrics", "AU", "ADEQUACY_DECISION"),
        ]
        assert found[1]["disclosure"]["id"] == added["id"]
        assert found[2]["transfer"]["reference"] == "vendor form"
        assert "India has no adequacy decision" in found[0]["explanation"]
        assert "recorded as not restricted" in found[1]["explanation"]
        assert "none covers it" in found[2]["explanation"]


async def test_lawful_transfers_are_not_gaps(client: httpx.AsyncClient) -> None:
    await active(
        client,
        "Lawful Cloud",
        flow(
            transfer("FR", "NOT_RESTRICTED"),
            transfer("NZ", "NONE"),
            transfer("IN", "BINDING_CORPORATE_RULES"),
            transfer("JP", "DEROGATION_CONTRACT"),
            transfer("US", "STANDARD_CONTRACTUAL_CLAUSES"),
            transfer("US", "UK_ADDENDUM"),
            transfer("AU", "UK_IDTA"),
            transfer("AU", "STANDARD_CONTRACTUAL_CLAUSES"),
        ),
    )
    assert await gaps(client, "EEA") == []
    assert await gaps(client, "UK") == []


async def test_gaps_only_for_active_recipients(client: httpx.AsyncClient) -> None:
    await register(client, name="Proposed Pixel", disclosures=[flow(transfer("IN", "NONE"))])
    suspended = await active(client, "Suspended Sync", flow(transfer("IN", "NONE")))
    await move(client, suspended["id"], "SUSPENDED")
    offboarded = await active(client, "Gone Mail", flow(transfer("IN", "NONE")))
    await move(client, offboarded["id"], "OFFBOARDED")
    await active(client, "Live Loop", flow(transfer("IN", "NONE")))
    assert listed(await gaps(client, "EEA")) == [("Live Loop", "IN", "NONE")]
    await move(client, suspended["id"], "ACTIVE")
    assert listed(await gaps(client, "EEA")) == [
        ("Live Loop", "IN", "NONE"),
        ("Suspended Sync", "IN", "NONE"),
    ]


async def test_ended_disclosures_are_not_gaps(client: httpx.AsyncClient) -> None:
    recipient = await active(
        client,
        "Ending Mail",
        flow(transfer("IN", "NONE")),
        flow(transfer("AU", "NONE"), purposes=["functional.storage"]),
    )
    ids = {d["id"] for d in recipient["disclosures"]}
    assert {g["disclosure"]["id"] for g in await gaps(client, "UK")} == ids
    ended, kept = recipient["disclosures"]
    body = await gql(client, END_DISCLOSURE, {"input": {"id": ended["id"], "effectiveTo": today()}})
    assert body["data"]["endDisclosure"]["userErrors"] == [], body
    found = await gaps(client, "UK")
    assert [g["disclosure"]["id"] for g in found] == [kept["id"]]


async def test_future_disclosure_is_not_yet_a_gap(client: httpx.AsyncClient) -> None:
    await active(client, "Later Loop", flow(transfer("IN", "NONE"), effectiveFrom="2099-01-01"))
    assert await gaps(client, "EEA") == []


async def test_explicit_consent_derogation_is_not_a_gap(client: httpx.AsyncClient) -> None:
    await active(
        client,
        "Quill Surveys",
        flow(transfer("IN", "DEROGATION_EXPLICIT_CONSENT")),
    )
    await active(client, "Raven Polls", flow(transfer("IN", "DEROGATION_CONTRACT")))
    assert await gaps(client, "EEA") == []
    assert await gaps(client, "UK") == []


async def test_eu_sccs_alone_are_a_gap_for_the_uk_only(client: httpx.AsyncClient) -> None:
    await active(client, "Sentinel Watch", flow(transfer("US", "STANDARD_CONTRACTUAL_CLAUSES")))
    await active(
        client,
        "Tidewater Desk",
        flow(transfer("US", "STANDARD_CONTRACTUAL_CLAUSES"), transfer("US", "UK_ADDENDUM")),
    )
    assert await gaps(client, "EEA") == []
    [gap] = await gaps(client, "UK")
    assert listed([gap]) == [("Sentinel Watch", "US", "STANDARD_CONTRACTUAL_CLAUSES")]
    assert "never covered UK data alone" in gap["explanation"]


async def test_two_gaps_to_one_country_on_one_disclosure(client: httpx.AsyncClient) -> None:
    await active(
        client,
        "Saffron Loop",
        flow(transfer("IN", "NONE"), transfer("DE", "NONE"), transfer("IN", "NOT_RESTRICTED")),
    )
    assert listed(await gaps(client, "EEA")) == [
        ("Saffron Loop", "IN", "NONE"),
        ("Saffron Loop", "IN", "NOT_RESTRICTED"),
    ]


# --- dataPrivacyFrameworkCertified ----------------------------------------------------------------


async def test_register_and_read_dpf_certification(client: httpx.AsyncClient) -> None:
    certified = await register(client, name="Certified Co", dataPrivacyFrameworkCertified=True)
    plain = await register(client, name="Plain Co")
    assert certified["dataPrivacyFrameworkCertified"] is True
    assert plain["dataPrivacyFrameworkCertified"] is False
    body = await gql(client, HISTORY, {"slug": "certified-co"})
    assert body["data"]["recipient"]["dataPrivacyFrameworkCertified"] is True


async def test_dpf_flip_closes_and_reopens_the_us_gap_and_is_audited(
    client: httpx.AsyncClient,
) -> None:
    recipient = await active(client, "Orbit Analytics", flow(transfer("US", "ADEQUACY_DECISION")))
    assert listed(await gaps(client, "EEA")) == [("Orbit Analytics", "US", "ADEQUACY_DECISION")]
    assert listed(await gaps(client, "UK")) == [("Orbit Analytics", "US", "ADEQUACY_DECISION")]
    version = (await gql(client, HISTORY, {"slug": recipient["slug"]}))["data"]["recipient"][
        "version"
    ]

    async def certify(value: bool, expected_version: int) -> dict[str, Any]:
        body = await gql(
            client,
            UPDATE,
            {
                "input": {
                    "id": recipient["id"],
                    "expectedVersion": expected_version,
                    "dataPrivacyFrameworkCertified": value,
                }
            },
        )
        payload = body["data"]["updateRecipient"]
        assert payload["userErrors"] == [], payload
        updated: dict[str, Any] = payload["recipient"]
        assert updated["dataPrivacyFrameworkCertified"] is value
        assert updated["version"] == expected_version + 1
        return updated

    await certify(True, version)
    assert await gaps(client, "EEA") == []
    assert await gaps(client, "UK") == []
    state = (await gql(client, HISTORY, {"slug": recipient["slug"]}))["data"]["recipient"]
    assert state["dataPrivacyFrameworkCertified"] is True
    assert state["history"][0]["action"] == "updateRecipient"
    assert json.loads(state["history"][0]["changes"]) == {
        "dataPrivacyFrameworkCertified": [False, True]
    }

    await certify(False, version + 1)
    assert listed(await gaps(client, "EEA")) == [("Orbit Analytics", "US", "ADEQUACY_DECISION")]
    state = (await gql(client, HISTORY, {"slug": recipient["slug"]}))["data"]["recipient"]
    assert [e["action"] for e in state["history"][:2]] == ["updateRecipient", "updateRecipient"]
    assert json.loads(state["history"][0]["changes"]) == {
        "dataPrivacyFrameworkCertified": [True, False]
    }


async def test_dpf_flip_changes_the_subjects_assessment(client: httpx.AsyncClient) -> None:
    await person(client, "lena", "DE")
    recipient = await active(client, "Orbit Analytics", flow(transfer("US", "NONE")))
    before = await only_reason(client, "lena", "orbit-analytics")
    assert verdicts(before) == [("US", "NONE", False)]
    body = await gql(
        client,
        UPDATE,
        {
            "input": {
                "id": recipient["id"],
                "expectedVersion": recipient["version"],
                "dataPrivacyFrameworkCertified": True,
            }
        },
    )
    assert body["data"]["updateRecipient"]["userErrors"] == [], body
    after = await only_reason(client, "lena", "orbit-analytics")
    assert verdicts(after) == [("US", "NONE", True)]
    assert "Orbit Analytics is one" in after["transferAssessments"][0]["explanation"]


async def test_clearing_dpf_certification_is_a_user_error(client: httpx.AsyncClient) -> None:
    recipient = await register(client, name="Certified Co", dataPrivacyFrameworkCertified=True)
    body = await gql(
        client,
        UPDATE,
        {
            "input": {
                "id": recipient["id"],
                "expectedVersion": recipient["version"],
                "dataPrivacyFrameworkCertified": None,
            }
        },
    )
    payload = body["data"]["updateRecipient"]
    assert [e["field"] for e in payload["userErrors"]] == [
        ["input", "dataPrivacyFrameworkCertified"]
    ]
    state = (await gql(client, HISTORY, {"slug": "certified-co"}))["data"]["recipient"]
    assert state["dataPrivacyFrameworkCertified"] is True
    assert state["version"] == recipient["version"]


async def test_transfer_to_a_code_that_is_not_a_country_is_a_user_error(
    client: httpx.AsyncClient,
) -> None:
    recipient = await active(client, "Acme Mail")
    body = await gql(
        client,
        ADD_DISCLOSURE,
        {"input": {"recipientId": recipient["id"], "disclosure": flow(transfer("XX", "NONE"))}},
    )
    payload = body["data"]["addDisclosure"]
    assert payload["disclosure"] is None
    assert payload["userErrors"], payload
    assert await gaps(client, "EEA") == []
