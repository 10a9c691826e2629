"""Adding and ending disclosures through HTTP."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from tests.conftest import gql
from tests.helpers import ADD_DISCLOSURE, END_DISCLOSURE, disclosure_input, register

RECIPIENT = """
query Recipient($slug: String!) {
  recipient(slug: $slug) {
    version
    history { action changes }
    current: disclosures { id effectiveFrom effectiveTo }
    all: disclosures(includeEnded: true) { id effectiveFrom effectiveTo }
  }
}
"""


def utc_today() -> date:
    return datetime.now(UTC).date()


async def read(client: httpx.AsyncClient, slug: str) -> dict[str, Any]:
    body = await gql(client, RECIPIENT, {"slug": slug})
    assert "errors" not in body, body
    recipient: dict[str, Any] = body["data"]["recipient"]
    return recipient


async def add(client: httpx.AsyncClient, recipient_id: str, **overrides: Any) -> dict[str, Any]:
    variables = {
        "input": {"recipientId": recipient_id, "disclosure": disclosure_input(**overrides)}
    }
    body = await gql(client, ADD_DISCLOSURE, variables)
    assert "errors" not in body, body
    payload = body["data"]["addDisclosure"]
    assert payload["userErrors"] == [], payload["userErrors"]
    disclosure: dict[str, Any] = payload["disclosure"]
    return disclosure


async def end(client: httpx.AsyncClient, disclosure_id: str, effective_to: date) -> dict[str, Any]:
    variables = {"input": {"id": disclosure_id, "effectiveTo": effective_to.isoformat()}}
    body = await gql(client, END_DISCLOSURE, variables)
    assert "errors" not in body, body
    payload = body["data"]["endDisclosure"]
    assert payload["userErrors"] == [], payload["userErrors"]
    disclosure: dict[str, Any] = payload["disclosure"]
    return disclosure


async def test_add_disclosure_defaults_effective_from_to_today_utc(
    client: httpx.AsyncClient,
) -> None:
    recipient = await register(client)
    first_day = utc_today()
    disclosure = await add(client, recipient["id"])
    last_day = utc_today()
    assert disclosure["effectiveFrom"] in {first_day.isoformat(), last_day.isoformat()}
    assert disclosure["effectiveTo"] is None


async def test_add_disclosure_keeps_explicit_effective_from(client: httpx.AsyncClient) -> None:
    recipient = await register(client)
    disclosure = await add(client, recipient["id"], effectiveFrom="2025-03-01")
    assert disclosure["effectiveFrom"] == "2025-03-01"


async def test_add_disclosure_keeps_purposes_in_the_given_order(
    client: httpx.AsyncClient,
) -> None:
    recipient = await register(client)
    purposes = ["marketing.communications.email", "essential.service", "analytics.reporting"]
    disclosure = await add(client, recipient["id"], purposes=purposes)
    assert [p["key"] for p in disclosure["purposes"]] == purposes


async def test_add_disclosure_dedupes_repeated_keys(client: httpx.AsyncClient) -> None:
    recipient = await register(client)
    disclosure = await add(
        client,
        recipient["id"],
        dataCategories=["user.contact.email", "user.contact.phone_number", "user.contact.email"],
        subjectTypes=["platform_user", "platform_user", "customer"],
        purposes=["essential.service", "analytics", "essential.service", "analytics"],
    )
    assert sorted(c["key"] for c in disclosure["dataCategories"]) == [
        "user.contact.email",
        "user.contact.phone_number",
    ]
    assert sorted(s["key"] for s in disclosure["subjectTypes"]) == ["customer", "platform_user"]
    assert [p["key"] for p in disclosure["purposes"]] == ["essential.service", "analytics"]


async def test_add_disclosure_returns_its_fields_and_transfers(
    client: httpx.AsyncClient,
) -> None:
    recipient = await register(client)
    transfers = [
        {"country": "US", "mechanism": "STANDARD_CONTRACTUAL_CLAUSES", "reference": "DPA §7"},
        {"country": "GB", "mechanism": "ADEQUACY_DECISION", "reference": None},
        {"country": "IN", "mechanism": "UK_IDTA", "reference": "IDTA 2024-11"},
    ]
    disclosure = await add(
        client,
        recipient["id"],
        legalBasis="LEGITIMATE_INTERESTS",
        ground="USER_PERMISSION",
        retention="until the account is closed",
        transfers=transfers,
    )
    assert disclosure["transfers"] == transfers
    assert disclosure["legalBasis"] == "LEGITIMATE_INTERESTS"
    assert disclosure["ground"] == "USER_PERMISSION"
    assert disclosure["retention"] == "until the account is closed"
    assert disclosure["recipient"]["slug"] == recipient["slug"]


async def test_add_disclosure_without_transfers_returns_empty_list(
    client: httpx.AsyncClient,
) -> None:
    recipient = await register(client)
    disclosure = await add(client, recipient["id"], transfers=[])
    assert disclosure["transfers"] == []


async def test_add_disclosure_bumps_version_and_writes_audit_event(
    client: httpx.AsyncClient,
) -> None:
    recipient = await register(client)
    assert recipient["version"] == 1
    disclosure = await add(
        client,
        recipient["id"],
        effectiveFrom="2025-03-01",
        purposes=["essential.service", "essential.service"],
    )
    assert disclosure["recipient"]["version"] == 2

    after = await read(client, recipient["slug"])
    assert after["version"] == 2
    assert [e["action"] for e in after["history"]] == ["addDisclosure", "registerRecipient"]
    changes = json.loads(after["history"][0]["changes"])
    assert changes["dataCategories"] == [None, ["user.contact.email"]]
    assert changes["purposes"] == [None, ["essential.service"]]
    assert changes["effectiveFrom"] == [None, "2025-03-01"]
    assert changes["legalBasis"] == [None, "CONTRACT"]
    assert [d["id"] for d in after["current"]] == [disclosure["id"]]


async def test_second_disclosure_bumps_version_again(client: httpx.AsyncClient) -> None:
    recipient = await register(client)
    await add(client, recipient["id"])
    second = await add(client, recipient["id"], purposes=["analytics"])
    assert second["recipient"]["version"] == 3
    after = await read(client, recipient["slug"])
    assert len(after["current"]) == 2
    assert [e["action"] for e in after["history"]].count("addDisclosure") == 2


async def test_end_disclosure_today_hides_it_unless_include_ended(
    client: httpx.AsyncClient,
) -> None:
    recipient = await register(client)
    today = utc_today()
    disclosure = await add(
        client, recipient["id"], effectiveFrom=(today - timedelta(days=30)).isoformat()
    )
    ended = await end(client, disclosure["id"], today)
    assert ended == {
        "id": disclosure["id"],
        "effectiveFrom": (today - timedelta(days=30)).isoformat(),
        "effectiveTo": today.isoformat(),
    }
    after = await read(client, recipient["slug"])
    assert after["current"] == []
    assert [d["id"] for d in after["all"]] == [disclosure["id"]]
    assert after["all"][0]["effectiveTo"] == today.isoformat()


async def test_end_disclosure_in_the_past_hides_it(client: httpx.AsyncClient) -> None:
    recipient = await register(client)
    disclosure = await add(client, recipient["id"], effectiveFrom="2024-01-01")
    await end(client, disclosure["id"], date(2024, 6, 30))
    after = await read(client, recipient["slug"])
    assert after["current"] == []
    assert after["all"] == [
        {"id": disclosure["id"], "effectiveFrom": "2024-01-01", "effectiveTo": "2024-06-30"}
    ]


async def test_disclosure_ended_in_the_future_still_shows(client: httpx.AsyncClient) -> None:
    recipient = await register(client)
    disclosure = await add(client, recipient["id"])
    later = utc_today() + timedelta(days=2)
    await end(client, disclosure["id"], later)
    after = await read(client, recipient["slug"])
    assert [d["id"] for d in after["current"]] == [disclosure["id"]]
    assert after["current"][0]["effectiveTo"] == later.isoformat()
    assert after["all"] == after["current"]


async def test_end_disclosure_hides_only_that_one(client: httpx.AsyncClient) -> None:
    recipient = await register(client)
    keep = await add(client, recipient["id"], effectiveFrom="2024-01-01")
    gone = await add(client, recipient["id"], effectiveFrom="2024-02-01", purposes=["analytics"])
    await end(client, gone["id"], date(2024, 3, 1))
    after = await read(client, recipient["slug"])
    assert [d["id"] for d in after["current"]] == [keep["id"]]
    assert [d["id"] for d in after["all"]] == [keep["id"], gone["id"]]


async def test_end_disclosure_bumps_version_and_writes_audit_event(
    client: httpx.AsyncClient,
) -> None:
    recipient = await register(client)
    disclosure = await add(client, recipient["id"], effectiveFrom="2024-01-01")
    await end(client, disclosure["id"], date(2024, 6, 30))
    after = await read(client, recipient["slug"])
    assert after["version"] == 3
    assert [e["action"] for e in after["history"]] == [
        "endDisclosure",
        "addDisclosure",
        "registerRecipient",
    ]
    assert json.loads(after["history"][0]["changes"]) == {"effectiveTo": [None, "2024-06-30"]}
