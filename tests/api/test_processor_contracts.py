"""Issue 15 §3 through HTTP: a processor goes ACTIVE only with a signed DPA (Art. 28(3)), a
DPA is not signed in the future, an ACTIVE processor without one is a compliance gap, and a
disclosure starts no earlier than its recipient was registered (unless an admin imports)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import gql
from tests.helpers import (
    ADD_DISCLOSURE,
    CHANGE_STATUS,
    REGISTER,
    disclosure_input,
    recipient_input,
    register,
)

GAPS = """
query Gaps($kinds: [ComplianceGapKind!], $asOf: DateTime) {
  complianceGaps(kinds: $kinds, asOf: $asOf) {
    kind recipient { slug } disclosure { id } explanation
  }
}
"""
UPDATE = """
mutation Update($input: UpdateRecipientInput!) {
  updateRecipient(input: $input) {
    recipient { version dpaSignedOn } userErrors { field code message }
  }
}
"""


async def change(client: httpx.AsyncClient, recipient_id: str, status: str) -> dict[str, Any]:
    body = await gql(client, CHANGE_STATUS, {"input": {"id": recipient_id, "status": status}})
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["changeRecipientStatus"]
    return payload


async def gaps(client: httpx.AsyncClient, **variables: Any) -> list[tuple[str, str]]:
    body = await gql(client, GAPS, variables)
    assert "errors" not in body, body
    return [(g["kind"], g["recipient"]["slug"]) for g in body["data"]["complianceGaps"]]


async def test_a_processor_without_a_dpa_does_not_go_active(
    client: httpx.AsyncClient, reviewer: httpx.AsyncClient
) -> None:
    recipient = await register(client, status="APPROVED", dpaSignedOn=None)
    refused = await change(reviewer, recipient["id"], "ACTIVE")
    assert refused["recipient"] is None
    assert refused["userErrors"] == [
        {
            "field": ["input", "status"],
            "code": "INVALID",
            "message": "Acme Mail is a processor: it cannot become ACTIVE before its data "
            "processing agreement is signed (Art. 28(3) GDPR). Record dpaSignedOn first.",
        }
    ]
    # Nothing was written: the recipient is still APPROVED at version 1.
    body = await gql(
        client,
        UPDATE,
        {"input": {"id": recipient["id"], "expectedVersion": 1, "dpaSignedOn": "2024-03-01"}},
    )
    assert body["data"]["updateRecipient"]["userErrors"] == []
    moved = await change(reviewer, recipient["id"], "ACTIVE")
    assert moved["userErrors"] == [] and moved["recipient"]["status"] == "ACTIVE"


async def test_a_controller_needs_no_dpa(
    client: httpx.AsyncClient, reviewer: httpx.AsyncClient
) -> None:
    recipient = await register(client, status="APPROVED", role="CONTROLLER", dpaSignedOn=None)
    assert (await change(reviewer, recipient["id"], "ACTIVE"))["userErrors"] == []


async def test_a_dpa_signed_in_the_future_is_refused(client: httpx.AsyncClient) -> None:
    body = await gql(
        client,
        "mutation R($input: RegisterRecipientInput!) { registerRecipient(input: $input) "
        "{ recipient { id } userErrors { field code message } } }",
        {
            "input": {
                "name": "Late Mail",
                "kind": "SERVICE_PROVIDER",
                "role": "PROCESSOR",
                "country": "DE",
                "dpaSignedOn": "2199-01-01",
            }
        },
    )
    payload = body["data"]["registerRecipient"]
    assert payload["recipient"] is None
    [error] = payload["userErrors"]
    assert error["field"] == ["input", "dpaSignedOn"] and error["code"] == "INVALID"
    assert "2199-01-01 is after today" in error["message"]


async def test_an_active_processor_without_a_dpa_is_a_gap(
    client: httpx.AsyncClient, client_for: Any, sql_counter: Any
) -> None:
    # An admin's import of an existing inventory may register straight into ACTIVE.
    missing = await register(client, name="Zeta Mail", status="ACTIVE", dpaSignedOn=None)
    late = await register(client, name="alpha Mail", status="ACTIVE", dpaSignedOn="2024-06-01")
    await register(client, name="Proposed Mail", dpaSignedOn=None)
    await register(
        client, name="Controller Co", status="ACTIVE", role="CONTROLLER", dpaSignedOn=None
    )
    viewer = await client_for("viewer", "dashboard")
    sql_counter.statements.clear()
    assert await gaps(viewer) == [("PROCESSOR_WITHOUT_DPA", "zeta-mail")]
    # Both kinds, with the key's lookup left out: a fixed number whatever the inventory.
    assert len([s for s in sql_counter.statements if "api_key" not in s]) <= 4
    assert await gaps(viewer, kinds=["PROCESSOR_WITHOUT_DPA"]) == [
        ("PROCESSOR_WITHOUT_DPA", "zeta-mail")
    ]
    assert await gaps(viewer, kinds=["SPECIAL_CATEGORY_WITHOUT_CONDITION"]) == []
    # Judged on a day before alpha Mail's DPA was signed: both lacked one then (both were
    # ACTIVE: registered now, so at a past moment neither was registered yet -> no gap).
    assert await gaps(viewer, asOf="2024-05-01T00:00:00Z") == []
    body = await gql(viewer, GAPS, {"kinds": ["PROCESSOR_WITHOUT_DPA"]})
    [gap] = body["data"]["complianceGaps"]
    assert gap["disclosure"] is None
    assert gap["explanation"] == (
        "Zeta Mail is an ACTIVE processor with no signed data processing agreement on record: "
        "Art. 28(3) GDPR requires its processing to be governed by a contract with the "
        "controller's terms."
    )
    body = await gql(
        client,
        UPDATE,
        {"input": {"id": missing["id"], "expectedVersion": 1, "dpaSignedOn": "2024-02-01"}},
    )
    assert body["data"]["updateRecipient"]["userErrors"] == []
    assert await gaps(viewer) == []
    assert late["status"] == "ACTIVE"


# -- a disclosure starts no earlier than its recipient was registered -------------------------


async def test_procurement_cannot_backdate_a_disclosure_before_registration(
    client: httpx.AsyncClient, client_for: Any
) -> None:
    procurement = await client_for("procurement", "buyer")
    body = await gql(
        procurement,
        REGISTER,
        {"input": recipient_input(disclosures=[disclosure_input(effectiveFrom="2020-01-01")])},
    )
    payload = body["data"]["registerRecipient"]
    assert payload["recipient"] is None
    [error] = payload["userErrors"]
    assert error["field"] == ["input", "disclosures", "0", "effectiveFrom"]
    assert error["code"] == "FORBIDDEN"
    assert "only an admin importing an existing inventory" in error["message"]
    # Registered now with one from today, it may not add one that started last year either...
    recipient = await register(procurement, disclosures=[disclosure_input()])
    body = await gql(
        procurement,
        ADD_DISCLOSURE,
        {
            "input": {
                "recipientId": recipient["id"],
                "disclosure": disclosure_input(effectiveFrom="2025-01-01"),
            }
        },
    )
    payload = body["data"]["addDisclosure"]
    assert payload["disclosure"] is None
    assert [e["field"] for e in payload["userErrors"]] == [["input", "disclosure", "effectiveFrom"]]
    # ...while an admin, bringing in an existing inventory's history, may.
    body = await gql(
        client,
        ADD_DISCLOSURE,
        {
            "input": {
                "recipientId": recipient["id"],
                "disclosure": disclosure_input(effectiveFrom="2025-01-01"),
            }
        },
    )
    assert body["data"]["addDisclosure"]["userErrors"] == []


async def test_registration_in_effective_time_counts(
    client: httpx.AsyncClient, client_for: Any
) -> None:
    """Imported with its history (statusSince 2022), a recipient may get a 2023 disclosure
    from any key that may add one."""
    recipient = await register(client, status="ACTIVE", statusSince="2022-05-01T00:00:00Z")
    procurement = await client_for("procurement", "buyer")
    body = await gql(
        procurement,
        ADD_DISCLOSURE,
        {
            "input": {
                "recipientId": recipient["id"],
                "disclosure": disclosure_input(effectiveFrom="2023-01-01"),
            }
        },
    )
    assert body["data"]["addDisclosure"]["userErrors"] == []


# -- what a reviewer sees ------------------------------------------------------------------

MOVE_WITH_WARNINGS = """
mutation Move($input: ChangeRecipientStatusInput!) {
  changeRecipientStatus(input: $input) { recipient { status } warnings userErrors { code } }
}
"""


async def test_approving_shows_the_warnings_a_reviewer_must_see(
    client: httpx.AsyncClient, reviewer: httpx.AsyncClient
) -> None:
    # The organisation: one company in the US, its main establishment, serving the EEA and
    # the UK (without one on record, no regime can be named for a flow).
    body = await gql(
        client,
        "mutation E($input: EstablishmentInput!) { registerEstablishment(input: $input) "
        "{ userErrors { code } } }",
        {
            "input": {
                "name": "Lumora Inc",
                "slug": "lumora-inc",
                "country": "US",
                "targets": ["EEA", "UK"],
                "main": True,
            }
        },
    )
    assert body["data"]["registerEstablishment"]["userErrors"] == []
    recipient = await register(
        client,
        name="Risky Clinic",
        dpaSignedOn=None,
        disclosures=[
            disclosure_input(
                dataCategories=["user.health_and_medical"],
                specialCategoryCondition="EXPLICIT_CONSENT",
                legalBasis="CONSENT",
                ground="USER_PERMISSION",
                transfers=[{"country": "IN", "mechanism": "NONE"}],
            )
        ],
    )
    moves = []
    for status in ("UNDER_REVIEW", "APPROVED"):
        body = await gql(
            reviewer, MOVE_WITH_WARNINGS, {"input": {"id": recipient["id"], "status": status}}
        )
        moves.append(body["data"]["changeRecipientStatus"])
    assert moves[0]["warnings"] == []  # under review: nothing decided yet
    approved = moves[1]
    assert approved["recipient"]["status"] == "APPROVED" and approved["userErrors"] == []
    found = approved["warnings"]
    assert found[0].startswith("Risky Clinic would receive special-category data (GDPR Art. 9)")
    assert any(w.startswith("Transfer gap under the EEA regime, to India") for w in found)
    assert any(w.startswith("Transfer gap under the UK regime, to India") for w in found)
    assert any("no signed data processing agreement" in w for w in found)
    assert found[-1].startswith("Risky Clinic has no privacy policy URL on record")


async def test_a_key_that_edited_a_proposal_cannot_approve_it(
    client: httpx.AsyncClient, reviewer: httpx.AsyncClient, client_for: Any
) -> None:
    """Issue 15 §2: an admin edited someone else's proposal and then approved the result, its
    own edits. Now the edit makes it an author."""
    buyer = await client_for("procurement", "buyer")
    recipient = await register(buyer)
    body = await gql(
        reviewer,
        UPDATE,
        {"input": {"id": recipient["id"], "expectedVersion": 1, "country": "CN"}},
    )
    assert body["data"]["updateRecipient"]["userErrors"] == []
    assert (await change(buyer, recipient["id"], "UNDER_REVIEW"))["userErrors"] == []
    refused = await change(reviewer, recipient["id"], "APPROVED")
    assert [e["code"] for e in refused["userErrors"]] == ["FORBIDDEN"]
    assert "edited it before approval (test-reviewer)" in refused["userErrors"][0]["message"]
    # A key that took no part approves it.
    assert (await change(client, recipient["id"], "APPROVED"))["userErrors"] == []
