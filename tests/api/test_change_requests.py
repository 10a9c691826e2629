"""Issue 15 §2 through HTTP: a recipient registered straight into a later status is an
UNREVIEWED_IMPORT gap until a second key (privacy role, or admin) that did not import it
confirms it with decideChange; the decision is audited, taken once, and kept in history."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import gql
from tests.helpers import register

PENDING = """
{ pendingChanges { id status authors summary changes decidedBy recipient { slug }
                   createdAt decidedAt note } }
"""
OF_RECIPIENT = """
query R($slug: String!) { recipient(slug: $slug) { pendingChanges { id status } } }
"""
DECIDE = """
mutation D($input: DecideChangeInput!) {
  decideChange(input: $input) {
    change { id status decidedBy note } userErrors { field code message }
  }
}
"""
GAPS = """
query G($asOf: DateTime) {
  complianceGaps(kinds: [UNREVIEWED_IMPORT], asOf: $asOf) { recipient { slug } explanation }
}
"""


async def pending(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    body = await gql(client, PENDING)
    assert "errors" not in body, body
    found: list[dict[str, Any]] = body["data"]["pendingChanges"]
    return found


async def decide(
    client: httpx.AsyncClient, change_id: str, approve: bool, note: str | None = None
) -> dict[str, Any]:
    body = await gql(client, DECIDE, {"input": {"id": change_id, "approve": approve, "note": note}})
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["decideChange"]
    return payload


async def gaps(client: httpx.AsyncClient, as_of: str | None = None) -> list[str]:
    body = await gql(client, GAPS, {"asOf": as_of})
    assert "errors" not in body, body
    return [g["recipient"]["slug"] for g in body["data"]["complianceGaps"]]


async def test_an_import_waits_for_a_second_key(client: httpx.AsyncClient, client_for: Any) -> None:
    await register(client, name="Proposed Co")  # a proposal goes through review: no change
    imported = await register(client, name="Imported Co", status="ACTIVE")
    [change] = await pending(client)
    assert change["status"] == "PENDING" and change["authors"] == ["test-admin"]
    assert change["recipient"]["slug"] == imported["slug"]
    assert change["summary"].startswith("Imported Co was registered straight into ACTIVE by")
    assert change["changes"] == '{"status":[null,"ACTIVE"]}'
    body = await gql(client, OF_RECIPIENT, {"slug": "imported-co"})
    assert body["data"]["recipient"]["pendingChanges"] == [
        {"id": change["id"], "status": "PENDING"}
    ]
    assert await gaps(client) == ["imported-co"]

    # The importer cannot confirm its own import; procurement cannot decide at all.
    own = await decide(client, change["id"], True)
    assert own["change"] is None
    assert [(e["code"], e["field"]) for e in own["userErrors"]] == [("FORBIDDEN", ["input", "id"])]
    assert "test-admin authored this change" in own["userErrors"][0]["message"]
    buyer = await client_for("procurement", "buyer")
    assert [e["code"] for e in (await decide(buyer, change["id"], True))["userErrors"]] == [
        "FORBIDDEN"
    ]
    assert (await pending(client))[0]["status"] == "PENDING"

    # The privacy office confirms it: the gap closes, the past answer stays.
    before = (await pending(client))[0]["createdAt"]
    dpo = await client_for("privacy", "dpo")
    decided = await decide(dpo, change["id"], True, "Checked against the signed contract.")
    assert decided["userErrors"] == []
    assert decided["change"]["status"] == "APPROVED" and decided["change"]["decidedBy"] == "dpo"
    assert await pending(client) == []
    assert await gaps(client) == []
    assert await gaps(client, before) == ["imported-co"]
    # Decided once.
    again = await decide(dpo, change["id"], False)
    assert [e["code"] for e in again["userErrors"]] == ["INVALID"]


async def test_a_rejected_import_stays_a_gap(client: httpx.AsyncClient, client_for: Any) -> None:
    await register(client, name="Doubtful Co", status="APPROVED")
    [change] = await pending(client)
    dpo = await client_for("privacy", "dpo")
    decided = await decide(dpo, change["id"], False, "No contract on file.")
    assert decided["change"]["status"] == "REJECTED"
    assert decided["change"]["note"] == "No contract on file."
    assert await pending(client) == []
    body = await gql(client, GAPS, {"asOf": None})
    [gap] = body["data"]["complianceGaps"]
    assert gap["recipient"]["slug"] == "doubtful-co"
    assert "no second key has confirmed it yet" in gap["explanation"]


async def test_no_such_change(client_for: Any) -> None:
    dpo = await client_for("privacy", "dpo")
    payload = await decide(dpo, "Q2hhbmdlUmVxdWVzdDo5OTk=", True)  # ChangeRequest:999
    assert [e["code"] for e in payload["userErrors"]] == ["NOT_FOUND"]
    payload = await decide(dpo, "nonsense", True)
    assert [e["code"] for e in payload["userErrors"]] == ["NOT_FOUND"]
