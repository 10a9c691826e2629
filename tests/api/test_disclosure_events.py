"""recordDisclosureEvent through HTTP (issue 12 §4): one actual disclosure of one person's data
under an ON_REQUEST disclosure, for the privacy and admin roles, append-only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from server.db import disclosure_events
from server.db.models import DisclosureEvent, StatusChange, SubjectVersion
from tests.conftest import MakeClient, gql
from tests.helpers import UPSERT, disclosure_input, register

RECORD = """
mutation Record($input: DisclosureEventInput!) {
  recordDisclosureEvent(input: $input) {
    event {
      id occurredAt reference note recordedAt
      disclosure { id frequency } recipient { slug } subject { externalRef }
    }
    userErrors { field message code }
  }
}
"""
NODE = "query Node($id: ID!) { node(id: $id) { id ... on DisclosureEvent { reference } } }"
LONG_AGO = datetime(2024, 2, 1, 9, 30, tzinfo=UTC)


def police(**overrides: Any) -> dict[str, Any]:
    return disclosure_input(
        **{
            "frequency": "ON_REQUEST",
            "legalBasis": "LEGAL_OBLIGATION",
            "ground": "LEGAL_DUTY",
            "effectiveFrom": "2024-01-01",
            "transfers": [],
            **overrides,
        }
    )


async def setting(client: httpx.AsyncClient, *flows: dict[str, Any]) -> dict[str, Any]:
    """An ACTIVE recipient since 2024-01-01 with these disclosures, and a platform user whose
    email it may receive, known since then too."""
    recipient = await register(
        client,
        name="Metro Police",
        kind="PUBLIC_AUTHORITY",
        role="CONTROLLER",
        status="ACTIVE",
        disclosures=list(flows or [police()]),
    )
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
    # Their pasts, dated as an import would date them.
    since = datetime(2024, 1, 1, tzinfo=UTC)
    await StatusChange.all().update(at=since)
    await SubjectVersion.all().update(valid_from=since)
    return recipient


def event_input(recipient: dict[str, Any], index: int = 0, **overrides: Any) -> dict[str, Any]:
    return {
        "subject": {"externalRef": "priya"},
        "disclosure": recipient["disclosures"][index]["id"],
        "occurredAt": LONG_AGO.isoformat(),
        "reference": "CASE-2024-0042",
        "note": "Production order served on 1 February 2024.",
        **overrides,
    }


async def record(client: httpx.AsyncClient, given: dict[str, Any]) -> dict[str, Any]:
    body = await gql(client, RECORD, {"input": given})
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["recordDisclosureEvent"]
    return payload


def problems(payload: dict[str, Any]) -> list[tuple[list[str] | None, str]]:
    assert payload["event"] is None
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


async def test_privacy_records_an_event(client: httpx.AsyncClient, client_for: MakeClient) -> None:
    recipient = await setting(client)
    privacy = await client_for("privacy", "dpo-office")
    before = datetime.now(UTC)
    payload = await record(privacy, event_input(recipient))
    assert payload["userErrors"] == []
    event = payload["event"]
    assert datetime.fromisoformat(event["occurredAt"]) == LONG_AGO
    assert before <= datetime.fromisoformat(event["recordedAt"]) <= datetime.now(UTC)
    assert (event["reference"], event["note"]) == (
        "CASE-2024-0042",
        "Production order served on 1 February 2024.",
    )
    assert event["disclosure"] == {
        "id": recipient["disclosures"][0]["id"],
        "frequency": "ON_REQUEST",
    }
    assert event["recipient"] == {"slug": "metro-police"}
    assert event["subject"] == {"externalRef": "priya"}
    body = await gql(privacy, NODE, {"id": event["id"]})
    assert body["data"]["node"] == {"id": event["id"], "reference": "CASE-2024-0042"}
    # Events are about one person: read with the subjects.
    viewer = await client_for("viewer", "dashboard")
    refused = await gql(viewer, NODE, {"id": event["id"]})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_events_of_subject_oldest_first_and_as_known(client: httpx.AsyncClient) -> None:
    recipient = await setting(client)
    later = LONG_AGO + timedelta(days=30)
    first = await record(client, event_input(recipient, occurredAt=later.isoformat()))
    second = await record(client, event_input(recipient, note=None))
    assert first["userErrors"] == second["userErrors"] == []
    [subject_id] = {e.subject_id for e in await DisclosureEvent.all()}
    found = await disclosure_events.events_of_subject(subject_id)
    assert [e.occurred_at for e in found] == [LONG_AGO, later]
    assert found[0].note is None and found[0].recipient_id is not None
    up_to = await disclosure_events.events_of_subject(subject_id, up_to=LONG_AGO)
    assert [e.occurred_at for e in up_to] == [LONG_AGO]
    known = await disclosure_events.events_of_subject(subject_id, known_at=found[1].recorded_at)
    assert [e.occurred_at for e in known] == [later]
    assert await disclosure_events.events_of_subject(subject_id + 1) == []


async def test_other_roles_are_refused(client: httpx.AsyncClient, client_for: MakeClient) -> None:
    recipient = await setting(client)
    for role in ("viewer", "procurement"):
        other = await client_for(role, f"{role}-key")
        payload = await record(other, event_input(recipient))
        assert problems(payload) == [(None, "FORBIDDEN")]
    assert await DisclosureEvent.all().count() == 0


async def test_bad_text_and_moment_at_once(client: httpx.AsyncClient) -> None:
    recipient = await setting(client)
    future = datetime.now(UTC) + timedelta(hours=1)
    payload = await record(
        client, event_input(recipient, reference=" ", note="", occurredAt=future.isoformat())
    )
    assert problems(payload) == [
        (["input", "reference"], "INVALID"),
        (["input", "note"], "INVALID"),
        (["input", "occurredAt"], "INVALID"),
    ]
    payload = await record(client, event_input(recipient, reference="x" * 201, note="n" * 2001))
    assert problems(payload) == [
        (["input", "reference"], "INVALID"),
        (["input", "note"], "INVALID"),
    ]
    payload = await record(client, event_input(recipient, occurredAt="1800-01-01T00:00:00Z"))
    assert problems(payload) == [(["input", "occurredAt"], "INVALID")]
    assert await DisclosureEvent.all().count() == 0


async def test_unknown_subject_and_disclosure(client: httpx.AsyncClient) -> None:
    recipient = await setting(client)
    payload = await record(
        client, event_input(recipient, subject={"externalRef": "nobody"}, disclosure="bm9wZQ==")
    )
    assert problems(payload) == [
        (["input", "subject"], "NOT_FOUND"),
        (["input", "disclosure"], "NOT_FOUND"),
    ]
    # A well-formed ID of a disclosure that does not exist (Disclosure:999).
    payload = await record(client, event_input(recipient, disclosure="RGlzY2xvc3VyZTo5OTk="))
    assert problems(payload) == [(["input", "disclosure"], "NOT_FOUND")]
    payload = await record(client, event_input(recipient, subject={"id": "x", "externalRef": "p"}))
    assert problems(payload) == [(["input", "subject"], "INVALID")]
    assert await DisclosureEvent.all().count() == 0


async def test_events_the_facts_rule_out(client: httpx.AsyncClient) -> None:
    recipient = await setting(
        client,
        police(),
        police(frequency="CONTINUOUS"),
        police(subjectTypes=["employee"]),
        police(dataCategories=["user.device.ip_address"]),
        police(effectiveFrom="2024-03-01"),  # listed last: by effectiveFrom
    )

    async def refused(index: int, **overrides: Any) -> list[Any]:
        return problems(await record(client, event_input(recipient, index, **overrides)))

    assert await refused(1) == [(["input", "disclosure"], "INVALID")]
    assert await refused(2) == [(["input", "subject"], "INVALID")]
    assert await refused(3) == [(["input", "subject"], "INVALID")]
    assert await refused(4) == [(["input", "occurredAt"], "INVALID")]
    # Before the subject's first version, and before the recipient was ACTIVE.
    early = datetime(2024, 1, 1, tzinfo=UTC) - timedelta(seconds=1)
    assert await refused(0, occurredAt=early.isoformat()) == [
        (["input", "occurredAt"], "INVALID"),
        (["input", "occurredAt"], "INVALID"),
        (["input", "subject"], "INVALID"),
    ]
    # Suspended from 2024-01-15 on.
    await StatusChange.create(
        recipient_id=(await StatusChange.first()).recipient_id,  # type: ignore[union-attr]
        from_status="ACTIVE",
        to_status="SUSPENDED",
        at=datetime(2024, 1, 15, tzinfo=UTC),
        recorded_at=datetime.now(UTC),
        actor="test-admin",
    )
    payload = await record(client, event_input(recipient))
    assert problems(payload) == [(["input", "occurredAt"], "INVALID")]
    assert "was not ACTIVE" in payload["userErrors"][0]["message"]
    assert await DisclosureEvent.all().count() == 0
