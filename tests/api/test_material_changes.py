"""Issue 15 §2 through HTTP: a material change to an APPROVED or ACTIVE recipient waits for a
second key (a privacy key, or admin, that authored none of it) and counts nowhere until then;
non-material edits apply at once; updateDisclosure corrects a disclosure against its version,
and reports at past moments read the terms as they stood."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson

from tests.conftest import gql
from tests.helpers import (
    ADD_DISCLOSURE,
    DECIDE_CHANGE,
    END_DISCLOSURE,
    UPSERT,
    approve_change,
    disclosure_input,
    move,
    register,
)

UPDATE_RECIPIENT = """
mutation U($input: UpdateRecipientInput!) {
  updateRecipient(input: $input) {
    recipient { version country website }
    change { id status authors summary changes }
    userErrors { field code message }
  }
}
"""
UPDATE_DISCLOSURE = """
mutation U($input: UpdateDisclosureInput!) {
  updateDisclosure(input: $input) {
    disclosure {
      id version effectiveFrom effectiveTo retention legalBasis
      dataCategories { key } purposes { key } transfers { country mechanism }
    }
    change { id status authors summary changes }
    userErrors { field code message }
  }
}
"""
ADD_WITH_CHANGE = """
mutation Add($input: AddDisclosureInput!) {
  addDisclosure(input: $input) {
    disclosure { id }
    change { id status authors summary changes recipient { slug } }
    userErrors { field code message }
  }
}
"""
RECIPIENT = """
query R($slug: String!) {
  recipient(slug: $slug) {
    version country status
    disclosures(includeEnded: true) {
      id version effectiveFrom effectiveTo dataCategories { key }
    }
    pendingChanges { id status }
  }
}
"""
REPORT = """
query Who($asOf: DateTime) {
  whoReceives(subject: {externalRef: "priya"}, asOf: $asOf) {
    recipients {
      recipient { slug } reasons { disclosure { id } since dataCategories { key } }
    }
    pastRecipients { recipient { slug } }
  }
}
"""
ESTABLISH = """
mutation {
  registerEstablishment(input: {name: "Lumora GmbH", country: "DE", targets: [EEA]}) {
    userErrors { field message }
  }
}
"""
GAPS = """
{ complianceGaps { kind recipient { slug } } }
"""


async def recipient(client: httpx.AsyncClient, slug: str) -> dict[str, Any]:
    body = await gql(client, RECIPIENT, {"slug": slug})
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["recipient"]
    return found


async def live_vendor(
    buyer: httpx.AsyncClient, privacy: httpx.AsyncClient, **overrides: Any
) -> dict[str, Any]:
    """A UK processor proposed by procurement and taken to ACTIVE by a privacy key: the
    review a recipient is meant to pass."""
    vendor = await register(
        buyer,
        name="Harmless Ltd",
        country="GB",
        disclosures=[disclosure_input(transfers=[])],
        **overrides,
    )
    await move(buyer, vendor["id"], "UNDER_REVIEW")
    await move(privacy, vendor["id"], "APPROVED", "ACTIVE")
    return vendor


async def decide(client: httpx.AsyncClient, change_id: str, approve: bool) -> dict[str, Any]:
    body = await gql(client, DECIDE_CHANGE, {"input": {"id": change_id, "approve": approve}})
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["decideChange"]
    return payload


async def test_the_adversarial_vendor_stays_as_reviewed_until_a_second_key_approves(
    client: httpx.AsyncClient, client_for: Any
) -> None:
    """The issue's case: after review, procurement adds biometric, health and government-ID
    data with a transfer to China under no safeguard, and moves the vendor to CN. Both wait;
    neither counts in the inventory; its author cannot approve either, even as admin."""
    buyer = await client_for("procurement", "buyer")
    privacy = await client_for("privacy", "dpo")
    # The organisation's establishment in the EU: the exporter whose law judges a transfer.
    body = await gql(client, ESTABLISH)
    assert body["data"]["registerEstablishment"]["userErrors"] == []
    vendor = await live_vendor(buyer, privacy)
    before = await recipient(client, "harmless-ltd")
    body = await gql(
        buyer,
        ADD_WITH_CHANGE,
        {
            "input": {
                "recipientId": vendor["id"],
                "disclosure": disclosure_input(
                    dataCategories=[
                        "user.contact.email",
                        "user.biometric",
                        "user.health_and_medical",
                        "user.government_id",
                    ],
                    purposes=["analytics"],
                    legalBasis="LEGITIMATE_INTERESTS",
                    specialCategoryCondition="EXPLICIT_CONSENT",
                    transfers=[{"country": "CN", "mechanism": "NONE"}],
                ),
            }
        },
    )
    added = body["data"]["addDisclosure"]
    assert added["userErrors"] == [] and added["disclosure"] is None
    change = added["change"]
    assert change["status"] == "PENDING" and change["authors"] == ["buyer"]
    summary = change["summary"]
    assert summary.startswith("Harmless Ltd: adds a disclosure.")
    # Sensitive categories first, then the ordinary new ones; the email it already receives is
    # not new; China is named with its transfer gap.
    assert summary.index("Special-category") < summary.index("New data categories")
    assert "email" not in summary.split("New data categories")[0].split("Art. 9, 10):")[1]
    assert "Legal basis: LEGITIMATE_INTERESTS." in summary
    assert "To China: transfer gap." in summary
    assert orjson.loads(change["changes"])["transfers"][1][0]["country"] == "CN"

    moved = await gql(
        buyer,
        UPDATE_RECIPIENT,
        {"input": {"id": vendor["id"], "expectedVersion": before["version"], "country": "CN"}},
    )
    payload = moved["data"]["updateRecipient"]
    assert payload["userErrors"] == []
    assert payload["recipient"]["country"] == "GB"  # as it stands
    assert payload["recipient"]["version"] == before["version"]  # nothing applied yet
    assert payload["change"]["changes"] == '{"country":["GB","CN"]}'
    assert payload["change"]["summary"].startswith("Harmless Ltd: country GB → CN.")
    assert "To China: transfer gap." in payload["change"]["summary"]

    # Nothing counts until approved: still GB, still one disclosure, no new gap.
    after = await recipient(client, "harmless-ltd")
    assert after["status"] == "ACTIVE" and after["country"] == "GB"
    assert after["version"] == before["version"]
    assert [d["id"] for d in after["disclosures"]] == [d["id"] for d in before["disclosures"]]
    assert len(after["pendingChanges"]) == 2
    gaps = (await gql(client, GAPS))["data"]["complianceGaps"]
    assert all(g["recipient"]["slug"] != "harmless-ltd" for g in gaps)

    # The author cannot decide; an admin key that is its author neither.
    refused = await decide(buyer, change["id"], True)
    assert [e["code"] for e in refused["userErrors"]] == ["FORBIDDEN"]
    # A privacy key that authored none of it approves: the disclosure now applies, and the
    # recipient's version moves.
    await approve_change(privacy, change["id"])
    approved = await recipient(client, "harmless-ltd")
    assert len(approved["disclosures"]) == 2
    assert approved["version"] == before["version"] + 1
    # Rejecting the move keeps it in history, and the country as it was.
    rejected = await decide(privacy, payload["change"]["id"], False)
    assert rejected["change"]["status"] == "REJECTED"
    final = await recipient(client, "harmless-ltd")
    assert final["country"] == "GB" and final["pendingChanges"] == []
    again = await decide(client, payload["change"]["id"], True)
    assert [e["code"] for e in again["userErrors"]] == ["INVALID"]


async def test_an_admin_cannot_approve_its_own_material_change(
    client: httpx.AsyncClient, reviewer: httpx.AsyncClient, client_for: Any
) -> None:
    buyer = await client_for("procurement", "buyer")
    privacy = await client_for("privacy", "dpo")
    vendor = await live_vendor(buyer, privacy)
    body = await gql(
        client,
        ADD_WITH_CHANGE,
        {"input": {"recipientId": vendor["id"], "disclosure": disclosure_input(transfers=[])}},
    )
    change = body["data"]["addDisclosure"]["change"]
    assert change["authors"] == ["test-admin"]
    own = await decide(client, change["id"], True)
    assert [e["code"] for e in own["userErrors"]] == ["FORBIDDEN"]
    assert "test-admin authored this change" in own["userErrors"][0]["message"]
    await approve_change(reviewer, change["id"])


async def test_non_material_edits_apply_at_once_and_material_ones_wait(
    client_for: Any, client: httpx.AsyncClient
) -> None:
    buyer = await client_for("procurement", "buyer")
    privacy = await client_for("privacy", "dpo")
    vendor = await live_vendor(buyer, privacy)
    version = (await recipient(client, "harmless-ltd"))["version"]
    website = await gql(
        buyer,
        UPDATE_RECIPIENT,
        {
            "input": {
                "id": vendor["id"],
                "expectedVersion": version,
                "website": "https://harmless.example",
                "dpaSignedOn": "2024-02-01",
            }
        },
    )
    payload = website["data"]["updateRecipient"]
    assert payload["userErrors"] == [] and payload["change"] is None
    assert payload["recipient"]["website"] == "https://harmless.example"
    assert payload["recipient"]["version"] == version + 1
    # Both at once: the website applies, the role waits.
    mixed = await gql(
        buyer,
        UPDATE_RECIPIENT,
        {
            "input": {
                "id": vendor["id"],
                "expectedVersion": version + 1,
                "website": "https://harmless.example/en",
                "kind": "ANALYTICS_PROVIDER",
            }
        },
    )
    payload = mixed["data"]["updateRecipient"]
    assert payload["userErrors"] == []
    assert payload["recipient"]["website"] == "https://harmless.example/en"
    assert payload["recipient"]["version"] == version + 2
    assert orjson.loads(payload["change"]["changes"]) == {
        "kind": ["SERVICE_PROVIDER", "ANALYTICS_PROVIDER"]
    }
    await approve_change(privacy, payload["change"]["id"])
    assert (await recipient(client, "harmless-ltd"))["version"] == version + 3


async def test_a_proposal_is_corrected_at_once_and_keeps_its_history(
    client: httpx.AsyncClient,
) -> None:
    """Before review, a correction applies at once: same id, version 2, the first day kept;
    stale versions, cleared required terms and unknown keys are refused, all at once."""
    vendor = await register(
        client, disclosures=[disclosure_input(effectiveFrom="2024-01-01", transfers=[])]
    )
    [disclosure] = vendor["disclosures"]
    body = await gql(
        client,
        UPDATE_DISCLOSURE,
        {
            "input": {
                "id": disclosure["id"],
                "expectedVersion": 1,
                "dataCategories": ["user.contact.phone_number"],
                "retention": None,
                "transfers": [{"country": "JP", "mechanism": "ADEQUACY_DECISION"}],
            }
        },
    )
    payload = body["data"]["updateDisclosure"]
    assert payload["userErrors"] == [] and payload["change"] is None
    corrected = payload["disclosure"]
    assert corrected["id"] == disclosure["id"] and corrected["version"] == 2
    assert corrected["effectiveFrom"] == "2024-01-01" and corrected["effectiveTo"] is None
    assert corrected["dataCategories"] == [{"key": "user.contact.phone_number"}]
    assert corrected["retention"] is None
    assert corrected["transfers"] == [{"country": "JP", "mechanism": "ADEQUACY_DECISION"}]
    # The recipient lists the disclosure once: the terms before are its history.
    listed = (await recipient(client, "acme-mail"))["disclosures"]
    assert [d["id"] for d in listed] == [disclosure["id"]]
    # It ends from the day of its correction on, not within the terms before.
    early = await gql(
        client, END_DISCLOSURE, {"input": {"id": disclosure["id"], "effectiveTo": "2024-06-01"}}
    )
    [error] = early["data"]["endDisclosure"]["userErrors"]
    assert error["field"] == ["input", "effectiveTo"] and "corrected" in error["message"]

    stale = await gql(
        client,
        UPDATE_DISCLOSURE,
        {"input": {"id": disclosure["id"], "expectedVersion": 1, "retention": "P1Y"}},
    )
    assert [e["code"] for e in stale["data"]["updateDisclosure"]["userErrors"]] == ["STALE_VERSION"]
    bad = await gql(
        client,
        UPDATE_DISCLOSURE,
        {
            "input": {
                "id": disclosure["id"],
                "expectedVersion": 2,
                "purposes": None,
                "dataCategories": ["user.nonsense"],
                "retention": "forever",
            }
        },
    )
    errors = bad["data"]["updateDisclosure"]["userErrors"]
    assert sorted(tuple(e["field"]) for e in errors) == [
        ("input", "dataCategories", "0"),
        ("input", "purposes"),
        ("input", "retention"),
    ]
    assert bad["data"]["updateDisclosure"]["disclosure"] is None
    unchanged = await gql(
        client,
        UPDATE_DISCLOSURE,
        {"input": {"id": disclosure["id"], "expectedVersion": 2, "legalBasis": "CONTRACT"}},
    )
    assert unchanged["data"]["updateDisclosure"]["disclosure"]["version"] == 2


async def test_reports_at_past_moments_read_the_terms_as_they_stood(
    client: httpx.AsyncClient, reviewer: httpx.AsyncClient
) -> None:
    body = await gql(
        client,
        UPSERT,
        {
            "input": {
                "externalRef": "priya",
                "subjectType": "platform_user",
                "country": "GB",
                "dataCategories": ["user.contact.email", "user.contact.phone_number"],
                "validFrom": "2024-06-01T00:00:00Z",
            }
        },
    )
    assert body["data"]["upsertDataSubject"]["userErrors"] == []
    vendor = await register(
        client,
        status="ACTIVE",
        statusSince="2024-01-01T00:00:00Z",
        disclosures=[disclosure_input(effectiveFrom="2024-01-01", transfers=[])],
    )
    [disclosure] = vendor["disclosures"]
    body = await gql(
        client,
        UPDATE_DISCLOSURE,
        {
            "input": {
                "id": disclosure["id"],
                "expectedVersion": 1,
                "dataCategories": ["user.contact.phone_number"],
            }
        },
    )
    payload = body["data"]["updateDisclosure"]
    # To an ACTIVE recipient: pending, the disclosure as it stands.
    assert payload["userErrors"] == [] and payload["change"]["status"] == "PENDING"
    assert payload["disclosure"]["version"] == 1
    assert payload["disclosure"]["dataCategories"] == [{"key": "user.contact.email"}]
    assert "New data categories: phone number." in payload["change"]["summary"]
    await approve_change(reviewer, payload["change"]["id"])

    def categories(report: dict[str, Any]) -> list[str]:
        [found] = report["data"]["whoReceives"]["recipients"]
        [reason] = found["reasons"]
        return [c["key"] for c in reason["dataCategories"]]

    now = await gql(client, REPORT)
    assert categories(now) == ["user.contact.phone_number"]
    # A correction does not end what the person receives: one receipt, since it began.
    assert now["data"]["whoReceives"]["pastRecipients"] == []
    [found] = now["data"]["whoReceives"]["recipients"]
    assert found["reasons"][0]["since"].startswith("2024-06-01")
    yesterday = datetime.now(UTC) - timedelta(days=1)
    past = await gql(client, REPORT, {"asOf": yesterday.isoformat()})
    assert categories(past) == ["user.contact.email"]


async def test_a_correction_that_no_longer_applies_cannot_be_approved(
    client: httpx.AsyncClient, reviewer: httpx.AsyncClient
) -> None:
    vendor = await register(client, status="ACTIVE", disclosures=[disclosure_input()])
    [disclosure] = vendor["disclosures"]

    async def correct(retention: str) -> dict[str, Any]:
        body = await gql(
            client,
            UPDATE_DISCLOSURE,
            {"input": {"id": disclosure["id"], "expectedVersion": 1, "retention": retention}},
        )
        change: dict[str, Any] = body["data"]["updateDisclosure"]["change"]
        return change

    first, second = await correct("P1Y"), await correct("P2Y")
    await approve_change(reviewer, first["id"])
    late = await decide(reviewer, second["id"], True)
    [error] = late["userErrors"]
    assert error["code"] == "INVALID" and "no longer applies" in error["message"]
    assert "STALE" not in error["code"]
    # Refused whole: still pending, and rejecting it works.
    assert (await decide(reviewer, second["id"], False))["change"]["status"] == "REJECTED"


async def test_ending_from_today_applies_and_ending_in_the_past_waits(
    client: httpx.AsyncClient, reviewer: httpx.AsyncClient
) -> None:
    vendor = await register(
        client,
        status="ACTIVE",
        disclosures=[disclosure_input(effectiveFrom="2024-01-01"), disclosure_input()],
    )
    first, second = vendor["disclosures"]
    today = datetime.now(UTC).date()
    body = await gql(
        client, END_DISCLOSURE, {"input": {"id": first["id"], "effectiveTo": today.isoformat()}}
    )
    ended = body["data"]["endDisclosure"]
    assert ended["change"] is None and ended["disclosure"]["effectiveTo"] == today.isoformat()
    body = await gql(
        client, END_DISCLOSURE, {"input": {"id": second["id"], "effectiveTo": "2024-06-01"}}
    )
    waiting = body["data"]["endDisclosure"]
    # Before its start: refused at once, whatever the review.
    assert [e["field"] for e in waiting["userErrors"]] == [["input", "effectiveTo"]]
    vendor = await register(
        client,
        name="Bramble",
        status="ACTIVE",
        disclosures=[disclosure_input(effectiveFrom="2024-01-01")],
    )
    [third] = vendor["disclosures"]
    body = await gql(
        client, END_DISCLOSURE, {"input": {"id": third["id"], "effectiveTo": "2024-06-01"}}
    )
    waiting = body["data"]["endDisclosure"]
    assert waiting["userErrors"] == [] and waiting["change"]["status"] == "PENDING"
    assert waiting["disclosure"]["effectiveTo"] is None
    await approve_change(reviewer, waiting["change"]["id"])
    listed = (await recipient(client, "bramble"))["disclosures"]
    assert listed[0]["effectiveTo"] == "2024-06-01"


async def test_a_trusted_replay_and_proposals_need_no_second_key(
    client: httpx.AsyncClient,
) -> None:
    """Before review there is nothing to bypass: a proposal's disclosures apply at once."""
    vendor = await register(client)
    body = await gql(
        client,
        ADD_DISCLOSURE,
        {"input": {"recipientId": vendor["id"], "disclosure": disclosure_input()}},
    )
    assert body["data"]["addDisclosure"]["userErrors"] == []
    assert body["data"]["addDisclosure"]["disclosure"]["id"]
