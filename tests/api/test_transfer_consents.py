"""A person's explicit consent to one transfer (GDPR Art. 49(1)(a)) through HTTP: recorded
append-only with two clocks, listed oldest first, kept apart from purpose consents, and every
kind of bad input refused at once with nothing written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from strawberry.relay import GlobalID

from server.db.models import AuditEvent, TransferConsent
from tests.conftest import MakeClient, gql
from tests.helpers import UPSERT, register

RECORD = """
mutation Record($input: TransferConsentInput!) {
  recordTransferConsent(input: $input) {
    dataSubject {
      consents { purpose { key } }
      transferConsents { recipient { slug } country granted decidedAt recordedAt }
    }
    userErrors { field message code }
  }
}
"""


async def setting(client: httpx.AsyncClient) -> dict[str, Any]:
    body = await gql(
        client,
        UPSERT,
        {
            "input": {
                "externalRef": "priya",
                "subjectType": "platform_user",
                "country": "GB",
                "dataCategories": ["user.contact.email"],
            }
        },
    )
    assert body["data"]["upsertDataSubject"]["userErrors"] == []
    return await register(client, name="Larkspur Events", status="ACTIVE", country="US")


async def record(client: httpx.AsyncClient, **given: Any) -> dict[str, Any]:
    body = await gql(client, RECORD, {"input": {"subject": {"externalRef": "priya"}, **given}})
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["recordTransferConsent"]
    return payload


async def test_decisions_are_appended_and_listed_oldest_first(client: httpx.AsyncClient) -> None:
    vendor = await setting(client)
    later = await record(
        client,
        recipient=vendor["id"],
        country="US",
        granted=False,
        decidedAt="2025-06-01T00:00:00Z",
    )
    assert later["userErrors"] == []
    before = datetime.now(UTC)
    payload = await record(
        client,
        recipient=vendor["id"],
        country="US",
        granted=True,
        decidedAt="2025-01-01T00:00:00Z",
    )
    subject = payload["dataSubject"]
    assert subject["consents"] == []  # a transfer consent is not a purpose consent
    listed = subject["transferConsents"]
    assert [(c["granted"], c["decidedAt"]) for c in listed] == [
        (True, "2025-01-01T00:00:00+00:00"),
        (False, "2025-06-01T00:00:00+00:00"),
    ]
    assert listed[0]["recipient"] == {"slug": "larkspur-events"}
    assert datetime.fromisoformat(listed[0]["recordedAt"]) >= before - timedelta(seconds=1)
    assert await AuditEvent.filter(action="recordTransferConsent").count() == 2


async def test_every_bad_input_at_once_and_nothing_written(client: httpx.AsyncClient) -> None:
    await setting(client)
    payload = await gql(
        client,
        RECORD,
        {
            "input": {
                "subject": {"externalRef": "nobody"},
                "recipient": str(GlobalID("Recipient", "999")),
                "country": "Germany",
                "granted": True,
                "decidedAt": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
            }
        },
    )
    errors = payload["data"]["recordTransferConsent"]["userErrors"]
    assert sorted((tuple(e["field"]), e["code"]) for e in errors) == [
        (("input", "country"), "INVALID"),
        (("input", "decidedAt"), "INVALID"),
        (("input", "recipient"), "NOT_FOUND"),
        (("input", "subject"), "NOT_FOUND"),
    ]
    assert await TransferConsent.all().count() == 0


async def test_a_recipient_id_of_another_type_is_reported_with_the_rest(
    client: httpx.AsyncClient,
) -> None:
    await setting(client)
    payload = await record(
        client, recipient=str(GlobalID("DataSubject", "1")), country="XX", granted=True
    )
    assert sorted(tuple(e["field"]) for e in payload["userErrors"]) == [
        ("input", "country"),
        ("input", "recipient"),
    ]


async def test_only_keys_that_write_subjects_record_them(
    client: httpx.AsyncClient, client_for: MakeClient
) -> None:
    vendor = await setting(client)
    procurement = await client_for("procurement", "buyer")
    payload = await record(procurement, recipient=vendor["id"], country="US", granted=True)
    assert [e["code"] for e in payload["userErrors"]] == ["FORBIDDEN"]
    assert await TransferConsent.all().count() == 0
