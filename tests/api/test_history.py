"""The complete answer to a person through HTTP (issue 12): who received their data and no
longer does, who will, since when the current recipients receive it, consent per purpose, and
answers reproduced exactly as they were known at a past moment."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from tests.api.test_disclosure_events import event_input, record, setting
from tests.api.test_who_receives import (
    MARKETING,
    active,
    build_inventory,
    consent,
    consent_flow,
    flow,
    person,
)
from tests.conftest import MakeClient, QueryCounter, gql
from tests.helpers import (
    END_DISCLOSURE,
    RECORD_CONSENT,
    approve_change,
    disclosure_input,
    move,
    register,
)

HISTORY = """
query History($subject: SubjectRef!, $asOf: DateTime, $asKnownAt: DateTime) {
  whoReceives(subject: $subject, asOf: $asOf, asKnownAt: $asKnownAt) {
    asOf asKnownAt
    subject { country dataCategories { key } consents { purpose { key } granted decidedAt } }
    recipients {
      recipient { slug }
      reasons { disclosure { id } since purposes { key } explanation }
    }
    withheld { recipient { slug } disclosure { id } reason purposes { key } explanation }
    pastRecipients {
      recipient { slug } via { slug } disclosure { id }
      periods { from to } dataCategories { key } purposes { key }
      endedBecause explanation
    }
    upcomingRecipients { recipient { slug } disclosure { id } startsAt explanation }
    possibleRecipients { recipient { slug } disclosure { id } explanation }
  }
}
"""


async def history(
    client: httpx.AsyncClient,
    ref: str = "priya",
    *,
    as_of: datetime | None = None,
    as_known_at: datetime | str | None = None,
) -> dict[str, Any]:
    variables: dict[str, Any] = {"subject": {"externalRef": ref}}
    if as_of is not None:
        variables["asOf"] = as_of.isoformat()
    if as_known_at is not None:
        variables["asKnownAt"] = (
            as_known_at.isoformat() if isinstance(as_known_at, datetime) else as_known_at
        )
    body = await gql(client, HISTORY, variables)
    assert "errors" not in body, body["errors"]
    return body  # type: ignore[no-any-return]


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_a_withdrawn_consent_leaves_a_past_recipient_with_its_period(
    client: httpx.AsyncClient,
) -> None:
    """Art. 15(1)(c) and Art. 7(3): the vendor that received a lead's data until they withdrew
    is listed as having received it, not as "would receive"."""
    await person(client)
    await active(client, "Kestrel Post", consent_flow())
    await consent(client, "priya", True)
    granted = (await history(client))["data"]["whoReceives"]
    [reason] = granted["recipients"][0]["reasons"]
    await consent(client, "priya", False)
    found = (await history(client))["data"]["whoReceives"]
    assert found["recipients"] == []
    [past] = found["pastRecipients"]
    assert past["recipient"] == {"slug": "kestrel-post"}
    assert past["endedBecause"] == "CONSENT_WITHDRAWN"
    assert past["purposes"] == [{"key": MARKETING}]
    assert past["dataCategories"] == [{"key": "user.contact.email"}]
    [period] = past["periods"]
    assert period["from"] == reason["since"]
    assert moment(period["to"]) > moment(period["from"])
    assert past["explanation"].startswith("Kestrel Post received your email address")
    assert past["explanation"].endswith("it stopped when you withdrew your consent.")
    # Still withheld now: the withdrawal is the current state of that purpose.
    assert [w["reason"] for w in found["withheld"]] == ["CONSENT_WITHDRAWN"]


async def test_an_offboarded_vendor_is_a_past_recipient(client: httpx.AsyncClient) -> None:
    await person(client)
    vendor = await active(client, "Bramble CRM", flow())
    await move(client, vendor["id"], "OFFBOARDED")
    found = (await history(client))["data"]["whoReceives"]
    assert found["recipients"] == []
    [past] = found["pastRecipients"]
    assert past["endedBecause"] == "RECIPIENT_NO_LONGER_ACTIVE"
    assert "it stopped when we stopped using Bramble CRM." in past["explanation"]


async def test_an_ended_disclosure_is_a_past_receipt_and_since_is_the_start_of_the_span(
    client: httpx.AsyncClient,
) -> None:
    subject = await person(client)
    assert subject["id"]
    vendor = await active(client, "Acme Mail", flow(), flow(purposes=["essential.service"]))
    found = (await history(client))["data"]["whoReceives"]
    reasons = found["recipients"][0]["reasons"]
    assert len(reasons) == 2
    since = {r["since"] for r in reasons}
    assert len(since) == 1  # both reach the subject from their first recorded version
    disclosure_id = vendor["disclosures"][0]["id"]
    today = datetime.now(UTC).date()
    body = await gql(
        client,
        END_DISCLOSURE,
        {"input": {"id": disclosure_id, "effectiveTo": (today + timedelta(days=1)).isoformat()}},
    )
    assert body["data"]["endDisclosure"]["userErrors"] == [], body
    tomorrow_noon = datetime.combine(today + timedelta(days=1), datetime.min.time(), UTC)
    later = (await history(client, as_of=tomorrow_noon + timedelta(hours=12)))["data"][
        "whoReceives"
    ]
    assert [r["disclosure"]["id"] for r in later["recipients"][0]["reasons"]] == [
        vendor["disclosures"][1]["id"]
    ]
    [past] = later["pastRecipients"]
    assert past["disclosure"]["id"] == disclosure_id
    assert past["endedBecause"] == "DISCLOSURE_ENDED"
    assert moment(past["periods"][0]["to"]) == tomorrow_noon


async def test_consent_is_per_purpose_in_reasons_and_withheld(client: httpx.AsyncClient) -> None:
    await person(client)
    await active(client, "Kestrel Post", consent_flow(purposes=[MARKETING, "analytics.reporting"]))
    await consent(client, "priya", True, purpose="analytics.reporting")
    await consent(client, "priya", False)
    found = (await history(client))["data"]["whoReceives"]
    [reason] = found["recipients"][0]["reasons"]
    assert reason["purposes"] == [{"key": "analytics.reporting"}]
    [withheld] = found["withheld"]
    assert withheld["reason"] == "CONSENT_WITHDRAWN"
    assert withheld["purposes"] == [{"key": MARKETING}]


async def test_a_decision_on_a_parent_purpose_covers_the_purposes_under_it(
    client: httpx.AsyncClient,
) -> None:
    """Rule 5: consent to `marketing` covers `marketing.communications.email`; a later
    withdrawal on the narrower purpose counts for it alone."""
    await person(client)
    await active(client, "Kestrel Post", consent_flow())
    await consent(client, "priya", True, purpose="marketing")
    assert [
        a["recipient"]["slug"] for a in (await history(client))["data"]["whoReceives"]["recipients"]
    ] == ["kestrel-post"]
    await consent(client, "priya", False)
    assert (await history(client))["data"]["whoReceives"]["recipients"] == []


async def test_an_upcoming_disclosure_to_an_approved_vendor(client: httpx.AsyncClient) -> None:
    await person(client)
    starts = datetime.now(UTC).date() + timedelta(days=10)
    await register(
        client,
        name="Lumen Analytics",
        status="APPROVED",
        disclosures=[disclosure_input(effectiveFrom=starts.isoformat())],
    )
    found = (await history(client))["data"]["whoReceives"]
    assert found["recipients"] == [] and found["pastRecipients"] == []
    [upcoming] = found["upcomingRecipients"]
    assert upcoming["recipient"] == {"slug": "lumen-analytics"}
    assert moment(upcoming["startsAt"]) == datetime.combine(starts, datetime.min.time(), UTC)
    assert upcoming["explanation"].startswith("Lumen Analytics will receive your email address")
    # Asked about a moment after it starts, it is a recipient once the vendor is ACTIVE only.
    later = await history(client, as_of=datetime.combine(starts, datetime.min.time(), UTC))
    assert later["data"]["whoReceives"]["upcomingRecipients"] == []


async def test_as_known_at_reproduces_an_earlier_answer_exactly(
    client: httpx.AsyncClient, reviewer: httpx.AsyncClient
) -> None:
    """Issue 12 §1: an answer given earlier comes back exactly, whatever was recorded since,
    backdated facts included; asked as known now, the same moment reads differently."""
    await person(client)
    await active(client, "Kestrel Post", consent_flow())
    vendor = await active(client, "Acme Mail", flow(effectiveFrom="2020-01-01"))
    await consent(client, "priya", True)
    first = (await history(client))["data"]["whoReceives"]
    as_of, known = moment(first["asOf"]), moment(first["asKnownAt"])
    assert known == as_of
    assert sorted(a["recipient"]["slug"] for a in first["recipients"]) == [
        "acme-mail",
        "kestrel-post",
    ]
    # Backdated facts: a withdrawal decided before the answer, and the end of Acme's disclosure
    # on a day before it.
    body = await gql(
        client,
        RECORD_CONSENT,
        {
            "input": {
                "subject": {"externalRef": "priya"},
                "purpose": MARKETING,
                "granted": False,
                "recordedAt": (as_of - timedelta(milliseconds=1)).isoformat(),
            }
        },
    )
    assert body["data"]["recordConsent"]["userErrors"] == []
    body = await gql(
        client,
        END_DISCLOSURE,
        {"input": {"id": vendor["disclosures"][0]["id"], "effectiveTo": "2021-01-01"}},
    )
    assert body["data"]["endDisclosure"]["userErrors"] == [], body
    # Ending on a day already past rewrites the past: a second key approves it (issue 15 §2).
    await approve_change(reviewer, body["data"]["endDisclosure"]["change"]["id"])
    await person(client, categories=["user.name"])  # a new version, from now on
    again = (await history(client, as_of=as_of, as_known_at=known))["data"]["whoReceives"]
    assert again == first
    now_known = (await history(client, as_of=as_of))["data"]["whoReceives"]
    assert now_known["recipients"] == []
    assert moment(now_known["asKnownAt"]) > known


async def test_as_known_at_before_the_subject_was_recorded_is_null(
    client: httpx.AsyncClient,
) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    await person(client)
    body = await history(client, as_known_at=before)
    assert body["data"]["whoReceives"] is None


async def test_as_known_at_may_lie_before_as_of_but_not_in_the_future(
    client: httpx.AsyncClient,
) -> None:
    await person(client)
    known = datetime.now(UTC)
    later = known + timedelta(days=30)
    body = await history(client, as_of=later, as_known_at=known)
    assert moment(body["data"]["whoReceives"]["asKnownAt"]) == known
    assert moment(body["data"]["whoReceives"]["asOf"]) == later
    ahead = await gql(
        client,
        HISTORY,
        {
            "subject": {"externalRef": "priya"},
            "asKnownAt": (datetime.now(UTC) + timedelta(minutes=1)).isoformat(),
        },
    )
    assert ahead["data"]["whoReceives"] is None
    [error] = ahead["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["path"] == ["whoReceives"]
    assert "asKnownAt" in error["message"]


async def test_as_of_before_the_subjects_first_version_is_an_empty_report(
    client: httpx.AsyncClient,
) -> None:
    """We held nothing of the person then: no recipients, past or present."""
    await person(client)
    await active(client, "Acme Mail", flow())
    found = (await history(client, as_of=datetime(2024, 6, 1, tzinfo=UTC)))["data"]["whoReceives"]
    assert found["recipients"] == [] and found["pastRecipients"] == []
    assert found["withheld"] == []


async def test_a_subprocessor_stops_when_its_engaging_processor_does(
    client: httpx.AsyncClient,
) -> None:
    await person(client)
    processor = await active(client, "Acme Cloud", flow())
    await active(
        client,
        "Deep Store",
        flow(),
        role="SUBPROCESSOR",
        engagedBy=processor["slug"],
        country="DE",
    )
    await move(client, processor["id"], "SUSPENDED")
    found = (await history(client))["data"]["whoReceives"]
    ended = {p["recipient"]["slug"]: p for p in found["pastRecipients"]}
    assert ended["deep-store"]["endedBecause"] == "ENGAGING_PROCESSOR_STOPPED"
    assert ended["deep-store"]["via"] == [{"slug": "acme-cloud"}]
    assert ended["acme-cloud"]["endedBecause"] == "RECIPIENT_NO_LONGER_ACTIVE"
    assert (
        date.fromisoformat(ended["deep-store"]["periods"][0]["to"][:10]) == datetime.now(UTC).date()
    )


async def test_statements_per_complete_report_do_not_grow_with_history(
    client: httpx.AsyncClient, sql_counter: QueryCounter
) -> None:
    """Past, current, upcoming: the same statements for 5 recipients as for 40, as known now or
    at a past moment."""
    await person(client)

    async def grow(start: int, stop: int) -> None:
        await build_inventory(client, start, stop)
        for group in range(start, stop, 5):
            gone = await active(client, f"Gone {group:03d}", flow())
            await move(client, gone["id"], "OFFBOARDED")

    async def count(as_known_at: datetime | None = None) -> tuple[int, dict[str, Any]]:
        sql_counter.statements.clear()
        found = (await history(client, as_known_at=as_known_at))["data"]["whoReceives"]
        return len(sql_counter.statements), found

    await grow(0, 5)
    small, found = await count()
    assert len(found["pastRecipients"]) == 1
    small_known, _ = await count(datetime.now(UTC))
    await grow(5, 40)
    large, found = await count()
    assert len(found["pastRecipients"]) == 8 and len(found["recipients"]) == 32
    large_known, _ = await count(datetime.now(UTC))
    assert large == small and large_known == small_known == small


EVENTS = """
query Events($subject: SubjectRef!, $asOf: DateTime) {
  whoReceives(subject: $subject, asOf: $asOf) {
    recipients { recipient { slug } }
    possibleRecipients { recipient { slug } disclosure { id frequency } explanation }
    pastRecipients { recipient { slug } periods { from to } endedBecause explanation }
    events { occurredAt reference recipient { slug } disclosure { id } }
  }
}
"""


async def test_a_police_request_is_possible_and_each_event_a_one_off_past_receipt(
    client: httpx.AsyncClient, client_for: MakeClient
) -> None:
    """Issue 12 §4: an ON_REQUEST disclosure never makes the police a recipient of everyone's
    data; each recorded request is a one-off past receipt on its UTC day."""
    police_force = await setting(client)
    privacy = await client_for("privacy", "dpo-office")
    payload = await record(privacy, event_input(police_force))
    assert payload["userErrors"] == []
    body = await gql(client, EVENTS, {"subject": {"externalRef": "priya"}})
    found = body["data"]["whoReceives"]
    assert found["recipients"] == []
    [possible] = found["possibleRecipients"]
    assert possible["recipient"] == {"slug": "metro-police"}
    assert possible["disclosure"]["frequency"] == "ON_REQUEST"
    assert "only if it makes a lawful request" in possible["explanation"]
    [event] = found["events"]
    assert (event["reference"], event["recipient"]) == ("CASE-2024-0042", {"slug": "metro-police"})
    [past] = found["pastRecipients"]
    assert past["endedBecause"] == "ONE_OFF"
    assert past["periods"] == [
        {"from": "2024-02-01T00:00:00+00:00", "to": "2024-02-02T00:00:00+00:00"}
    ]
    assert "on 1 February 2024" in past["explanation"]
    # Asked about a moment before the request, there is no event and no past receipt.
    before = await gql(
        client, EVENTS, {"subject": {"externalRef": "priya"}, "asOf": "2024-01-15T00:00:00Z"}
    )
    assert before["data"]["whoReceives"]["events"] == []
    assert before["data"]["whoReceives"]["pastRecipients"] == []


async def test_explicit_consent_gates_special_category_data(client: httpx.AsyncClient) -> None:
    """Issue 12 §5, Art. 9(2)(a): on legitimate interests with EXPLICIT_CONSENT as its
    condition, health data reaches a person only with an explicit grant; a person of whom only
    ordinary data matches is not gated."""
    await person(client, categories=["user.health_and_medical", "user.contact.email"])
    await person(client, "sam", categories=["user.contact.email"])
    await active(
        client,
        "Vita Labs",
        flow(
            dataCategories=["user.health_and_medical", "user.contact.email"],
            purposes=["analytics.reporting"],
            legalBasis="LEGITIMATE_INTERESTS",
            specialCategoryCondition="EXPLICIT_CONSENT",
        ),
    )
    found = (await history(client))["data"]["whoReceives"]
    assert found["recipients"] == []
    [withheld] = found["withheld"]
    assert withheld["reason"] == "EXPLICIT_CONSENT_MISSING"
    assert "explicit consent" in withheld["explanation"]
    assert [
        a["recipient"]["slug"]
        for a in (await history(client, "sam"))["data"]["whoReceives"]["recipients"]
    ] == ["vita-labs"]
    body = await gql(
        client,
        RECORD_CONSENT,
        {
            "input": {
                "subject": {"externalRef": "priya"},
                "purpose": "analytics.reporting",
                "granted": True,
                "decidedAt": datetime.now(UTC).isoformat(),
                "explicit": True,
            }
        },
    )
    assert body["data"]["recordConsent"]["userErrors"] == [], body
    found = (await history(client))["data"]["whoReceives"]
    assert [a["recipient"]["slug"] for a in found["recipients"]] == ["vita-labs"]
    assert found["withheld"] == []
