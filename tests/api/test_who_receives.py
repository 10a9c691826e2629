"""whoReceives and recipientsOfCategory end to end through HTTP, on inventories built with the
mutations: rules 1-9 of the issue, and a statement count that does not grow with the inventory."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from strawberry.relay import GlobalID

from server.db.models import Recipient as RecipientModel
from tests.conftest import QueryCounter, gql
from tests.helpers import END_DISCLOSURE, RECORD_CONSENT, UPSERT, disclosure_input, move, register

REPORT = """
query Who($subject: SubjectRef!, $asOf: DateTime) {
  whoReceives(subject: $subject, asOf: $asOf) {
    asOf
    subject { id externalRef }
    recipients {
      recipient { slug name status engagedBy { slug } }
      via { slug name }
      reasons {
        disclosure { id effectiveFrom effectiveTo recipient { slug } }
        dataCategories { key }
        purposes { key }
        legalBasis ground
        transfers { country mechanism }
        explanation
      }
    }
    withheld {
      recipient { slug }
      disclosure { id legalBasis purposes { key } }
      reason explanation
    }
  }
}
"""

OF_CATEGORY = """
query Of($key: String!, $asOf: DateTime) {
  recipientsOfCategory(key: $key, asOf: $asOf) { slug name status }
}
"""

MARKETING = "marketing.communications.email"
PAST = "2024-01-01"


def flow(**overrides: Any) -> dict[str, Any]:
    """A disclosure in effect since 2024 (to platform users, of email, under contract)."""
    return disclosure_input(**{"effectiveFrom": PAST, **overrides})


def consent_flow(**overrides: Any) -> dict[str, Any]:
    return flow(
        **{
            "purposes": [MARKETING],
            "legalBasis": "CONSENT",
            "ground": "USER_PERMISSION",
            **overrides,
        }
    )


async def active(
    client: httpx.AsyncClient, name: str, *flows: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    """An ACTIVE recipient with the given disclosures (registered now)."""
    return await register(client, name=name, status="ACTIVE", disclosures=list(flows), **extra)


async def sub(
    client: httpx.AsyncClient, name: str, engaged_by: dict[str, Any], *flows: dict[str, Any]
) -> dict[str, Any]:
    return await active(
        client, name, *flows, role="SUBPROCESSOR", engagedBy=engaged_by["slug"], country="DE"
    )


async def person(
    client: httpx.AsyncClient,
    ref: str = "priya",
    categories: list[str] | None = None,
    subject_type: str = "platform_user",
) -> dict[str, Any]:
    body = await gql(
        client,
        UPSERT,
        {
            "input": {
                "externalRef": ref,
                "subjectType": subject_type,
                "country": "GB",
                "dataCategories": (
                    ["user.contact.email", "user.name"] if categories is None else categories
                ),
            }
        },
    )
    payload = body["data"]["upsertDataSubject"]
    assert payload["userErrors"] == [], payload
    subject: dict[str, Any] = payload["dataSubject"]
    return subject


async def consent(
    client: httpx.AsyncClient, ref: str, granted: bool, purpose: str = MARKETING
) -> None:
    body = await gql(
        client,
        RECORD_CONSENT,
        {"input": {"subject": {"externalRef": ref}, "purpose": purpose, "granted": granted}},
    )
    assert body["data"]["recordConsent"]["userErrors"] == [], body


async def report(
    client: httpx.AsyncClient,
    ref: str = "priya",
    as_of: datetime | str | None = None,
    **subject: Any,
) -> dict[str, Any] | None:
    variables: dict[str, Any] = {"subject": subject or {"externalRef": ref}}
    if as_of is not None:
        variables["asOf"] = as_of.isoformat() if isinstance(as_of, datetime) else as_of
    body = await gql(client, REPORT, variables)
    assert "errors" not in body, body["errors"]
    found: dict[str, Any] | None = body["data"]["whoReceives"]
    return found


async def receivers(
    client: httpx.AsyncClient, ref: str = "priya", as_of: datetime | str | None = None
) -> list[str]:
    found = await report(client, ref, as_of)
    assert found is not None
    return [access["recipient"]["slug"] for access in found["recipients"]]


async def held_back(client: httpx.AsyncClient, ref: str = "priya") -> list[tuple[str, str]]:
    found = await report(client, ref)
    assert found is not None
    return [(w["recipient"]["slug"], w["reason"]) for w in found["withheld"]]


async def of_category(
    client: httpx.AsyncClient, key: str, as_of: datetime | None = None
) -> list[str]:
    variables: dict[str, Any] = {"key": key}
    if as_of is not None:
        variables["asOf"] = as_of.isoformat()
    body = await gql(client, OF_CATEGORY, variables)
    assert "errors" not in body, body["errors"]
    return [r["slug"] for r in body["data"]["recipientsOfCategory"]]


def now() -> datetime:
    return datetime.now(UTC)


def utc_today() -> date:
    return now().date()


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


async def end(client: httpx.AsyncClient, disclosure_id: str, effective_to: date) -> None:
    body = await gql(
        client,
        END_DISCLOSURE,
        {"input": {"id": disclosure_id, "effectiveTo": effective_to.isoformat()}},
    )
    assert body["data"]["endDisclosure"]["userErrors"] == [], body


# --- rule 1: ACTIVE at T ----------------------------------------------------------------------


async def test_only_active_recipients_count(client: httpx.AsyncClient) -> None:
    await person(client)
    await active(client, "Active Mail", flow())
    await register(client, name="Proposed Mail", disclosures=[flow()])
    await register(client, name="Approved Mail", status="APPROVED", disclosures=[flow()])
    suspended = await active(client, "Suspended Mail", flow(), consent_flow())
    await move(client, suspended["id"], "SUSPENDED")
    offboarded = await active(client, "Offboarded Mail", flow())
    await move(client, offboarded["id"], "OFFBOARDED")
    assert await receivers(client) == ["active-mail"]
    # Rule 5: withheld holds only disclosures of recipients that pass rule 1.
    assert await held_back(client) == []


async def test_as_of_before_the_recipient_became_active(
    client: httpx.AsyncClient, reviewer: httpx.AsyncClient
) -> None:
    await person(client)
    created = await register(client, name="Acme Mail", disclosures=[flow()])
    await move(client, created["id"], "UNDER_REVIEW")
    await move(reviewer, created["id"], "APPROVED")
    approved = now()
    assert await receivers(client) == []
    await move(client, created["id"], "ACTIVE")
    activated = now()
    assert await receivers(client, as_of=approved) == []
    assert await receivers(client, as_of=activated) == ["acme-mail"]
    assert await receivers(client) == ["acme-mail"]
    # Before it was even registered (its disclosure dates from 2024).
    assert await receivers(client, as_of="2024-06-01T12:00:00Z") == []


async def test_as_of_after_suspension(client: httpx.AsyncClient) -> None:
    await person(client)
    recipient = await active(client, "Acme Mail", flow())
    while_active = now()
    await move(client, recipient["id"], "SUSPENDED")
    while_suspended = now()
    assert await receivers(client) == []
    assert await receivers(client, as_of=while_suspended) == []
    assert await receivers(client, as_of=while_active) == ["acme-mail"]
    await move(client, recipient["id"], "ACTIVE")
    assert await receivers(client) == ["acme-mail"]
    assert await receivers(client, as_of=while_suspended) == []
    assert await receivers(client, as_of=while_active) == ["acme-mail"]


async def status_moments(client: httpx.AsyncClient, slug: str) -> list[tuple[str, datetime]]:
    """The recipient's registration and status changes with their moments, oldest first."""
    body = await gql(
        client,
        "query($slug: String!) { recipient(slug: $slug) { history { at action } } }",
        {"slug": slug},
    )
    events = body["data"]["recipient"]["history"]
    return [
        (e["action"], datetime.fromisoformat(e["at"].replace("Z", "+00:00")))
        for e in reversed(events)
        if e["action"] in ("registerRecipient", "changeRecipientStatus")
    ]


async def test_status_change_takes_effect_at_its_exact_moment(client: httpx.AsyncClient) -> None:
    await person(client)
    recipient = await active(client, "Acme Mail", flow())
    await move(client, recipient["id"], "SUSPENDED")
    (_, registered), (_, suspended) = await status_moments(client, "acme-mail")
    tick = timedelta(microseconds=1)
    assert await receivers(client, as_of=registered - tick) == []
    assert await receivers(client, as_of=registered) == ["acme-mail"]
    assert await receivers(client, as_of=suspended - tick) == ["acme-mail"]
    assert await receivers(client, as_of=suspended) == []


# --- rule 2: disclosures in effect on date(T), UTC ----------------------------------------------


async def test_ended_disclosure_does_not_count(client: httpx.AsyncClient) -> None:
    await person(client)
    recipient = await active(client, "Acme Mail", flow())
    await end(client, recipient["disclosures"][0]["id"], utc_today())
    assert await receivers(client) == []


async def test_disclosure_ending_later_counts_until_its_end_date(client: httpx.AsyncClient) -> None:
    await person(client)
    recipient = await active(client, "Acme Mail", flow())
    last_day = utc_today() + timedelta(days=2)
    end_day = last_day + timedelta(days=1)
    await end(client, recipient["disclosures"][0]["id"], end_day)
    assert await receivers(client) == ["acme-mail"]
    assert await receivers(client, as_of=midnight(end_day) - timedelta(seconds=1)) == ["acme-mail"]
    assert await receivers(client, as_of=midnight(end_day)) == []
    # Non-UTC offsets near midnight: date(T) is the UTC date.
    late_west = f"{last_day.isoformat()}T23:30:00-02:00"  # 01:30 UTC on end_day
    early_east = f"{end_day.isoformat()}T00:30:00+02:00"  # 22:30 UTC on last_day
    assert await receivers(client, as_of=late_west) == []
    assert await receivers(client, as_of=early_east) == ["acme-mail"]


async def test_future_effective_from_counts_from_that_day(client: httpx.AsyncClient) -> None:
    await person(client)
    start = utc_today() + timedelta(days=5)
    await active(client, "Acme Mail", flow(effectiveFrom=start.isoformat()))
    assert await receivers(client) == []
    assert await receivers(client, as_of=midnight(start) - timedelta(microseconds=1)) == []
    assert await receivers(client, as_of=midnight(start)) == ["acme-mail"]
    eve = start - timedelta(days=1)
    assert await receivers(client, as_of=f"{eve.isoformat()}T23:30:00-02:00") == ["acme-mail"]


# --- rule 3: subject types --------------------------------------------------------------------


async def test_subject_type_must_be_covered(client: httpx.AsyncClient) -> None:
    await person(client, "priya", subject_type="platform_user")
    await person(client, "sean", subject_type="visitor")
    await active(client, "Users Only", flow(subjectTypes=["platform_user", "customer_contact"]))
    await active(client, "Visitors Only", flow(subjectTypes=["visitor"]))
    assert await receivers(client, "priya") == ["users-only"]
    assert await receivers(client, "sean") == ["visitors-only"]


# --- rule 4: categories across the taxonomy, both directions ----------------------------------


async def test_categories_match_in_both_directions(client: httpx.AsyncClient) -> None:
    await person(client, "broad", ["user.contact"])
    await person(client, "narrow", ["user.contact.email"])
    await person(client, "other", ["user.device.ip_address"])
    await active(
        client,
        "Email Only",
        flow(dataCategories=["user.contact.email", "user.contact.phone_number"]),
    )
    await active(client, "All Contact", flow(dataCategories=["user.contact", "user.name"]))

    broad = await report(client, "broad")
    assert broad is not None
    assert {
        a["recipient"]["slug"]: [c["key"] for c in a["reasons"][0]["dataCategories"]]
        for a in broad["recipients"]
    } == {
        "all-contact": ["user.contact"],
        "email-only": ["user.contact.email", "user.contact.phone_number"],
    }
    narrow = await report(client, "narrow")
    assert narrow is not None
    assert {
        a["recipient"]["slug"]: [c["key"] for c in a["reasons"][0]["dataCategories"]]
        for a in narrow["recipients"]
    } == {"all-contact": ["user.contact.email"], "email-only": ["user.contact.email"]}
    assert await receivers(client, "other") == []


async def test_matched_categories_are_unique_and_sorted(client: httpx.AsyncClient) -> None:
    await person(
        client, categories=["user.name", "user.contact.email", "user.contact", "user.job_title"]
    )
    # Overlapping keys; not `user` itself, which covers special-category data (Art. 9 and 10).
    await active(
        client,
        "Acme Mail",
        flow(dataCategories=["user.contact.email", "user.contact", "user.name", "user.job_title"]),
    )
    found = await report(client)
    assert found is not None
    [access] = found["recipients"]
    [reason] = access["reasons"]
    assert [c["key"] for c in reason["dataCategories"]] == [
        "user.contact",
        "user.contact.email",
        "user.job_title",
        "user.name",
    ]


# --- rule 5: consent --------------------------------------------------------------------------


async def test_consent_based_disclosure_follows_the_consent_log(client: httpx.AsyncClient) -> None:
    await person(client, "sean", ["user.contact.email"], subject_type="visitor")
    await active(client, "Kestrel Post", consent_flow(subjectTypes=["visitor"]))

    found = await report(client, "sean")
    assert found is not None
    assert found["recipients"] == []
    [item] = found["withheld"]
    assert item["recipient"] == {"slug": "kestrel-post"}
    assert item["reason"] == "NO_CONSENT"
    assert item["disclosure"]["legalBasis"] == "CONSENT"
    assert "Kestrel Post" in item["explanation"]
    assert "email address" in item["explanation"]
    assert "to send you marketing emails" in item["explanation"]
    assert "no record" in item["explanation"]

    await consent(client, "sean", True)
    granted = now()
    assert await receivers(client, "sean") == ["kestrel-post"]
    assert await held_back(client, "sean") == []

    await consent(client, "sean", False)
    assert await receivers(client, "sean") == []
    found = await report(client, "sean")
    assert found is not None
    [item] = found["withheld"]
    assert item["reason"] == "CONSENT_WITHDRAWN"
    assert "withdrew" in item["explanation"]
    # At a moment between the grant and the withdrawal, the grant was the latest record.
    assert await receivers(client, "sean", as_of=granted) == ["kestrel-post"]


async def record_at(client: httpx.AsyncClient, granted: bool, at: datetime) -> None:
    body = await gql(
        client,
        RECORD_CONSENT,
        {
            "input": {
                "subject": {"externalRef": "priya"},
                "purpose": MARKETING,
                "granted": granted,
                "recordedAt": at.isoformat(),
            }
        },
    )
    assert body["data"]["recordConsent"]["userErrors"] == [], body


async def test_consent_recorded_exactly_at_as_of_counts(client: httpx.AsyncClient) -> None:
    await person(client)
    await active(client, "Kestrel Post", consent_flow())
    granted_at = now()
    await record_at(client, True, granted_at)
    assert await receivers(client, as_of=granted_at) == ["kestrel-post"]
    just_before = await report(client, as_of=granted_at - timedelta(microseconds=1))
    assert just_before is not None
    assert just_before["recipients"] == []
    assert [w["reason"] for w in just_before["withheld"]] == ["NO_CONSENT"]


async def test_same_moment_the_decision_recorded_last_wins(client: httpx.AsyncClient) -> None:
    await person(client)
    await active(client, "Kestrel Post", consent_flow())
    moment = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    await record_at(client, True, moment)
    await record_at(client, False, moment)
    assert await held_back(client) == [("kestrel-post", "CONSENT_WITHDRAWN")]
    await record_at(client, True, moment)
    assert await receivers(client) == ["kestrel-post"]


async def test_consent_is_judged_for_each_purpose(client: httpx.AsyncClient) -> None:
    """Issue 12 §3: a withdrawal for marketing holds while analytics consent stands; the reason
    lists only the granted purpose, and each withheld entry its own purposes."""
    await person(client)
    await active(client, "Kestrel Post", consent_flow(purposes=[MARKETING, "analytics.reporting"]))
    await consent(client, "priya", False)
    assert await held_back(client) == [
        ("kestrel-post", "NO_CONSENT"),
        ("kestrel-post", "CONSENT_WITHDRAWN"),
    ]
    await consent(client, "priya", True, purpose="analytics.reporting")
    assert await receivers(client) == ["kestrel-post"]
    assert await held_back(client) == [("kestrel-post", "CONSENT_WITHDRAWN")]


async def test_consent_does_not_matter_for_other_legal_bases(client: httpx.AsyncClient) -> None:
    await person(client)
    await active(client, "Acme Mail", flow(purposes=[MARKETING], legalBasis="LEGITIMATE_INTERESTS"))
    await consent(client, "priya", False)
    assert await receivers(client) == ["acme-mail"]
    assert await held_back(client) == []


async def test_withheld_excludes_disclosures_failing_rules_2_to_4(
    client: httpx.AsyncClient,
) -> None:
    await person(client, categories=["user.contact.email"])
    await active(client, "Wrong Type", consent_flow(subjectTypes=["visitor"]))
    await active(client, "Wrong Data", consent_flow(dataCategories=["user.device.ip_address"]))
    later = (utc_today() + timedelta(days=3)).isoformat()
    await active(client, "Not Yet", consent_flow(effectiveFrom=later))
    await active(client, "Right One", consent_flow())
    assert await held_back(client) == [("right-one", "NO_CONSENT")]


# --- rule 6: onward chains ------------------------------------------------------------------------


async def test_chain_via_nearest_first_and_middle_suspended(client: httpx.AsyncClient) -> None:
    await person(client)
    host = await active(client, "Stratus Host", flow())
    backup = await sub(client, "Coldvault Backup", host, flow())
    await sub(client, "Fernhill Colo", backup, flow(transfers=[]))

    found = await report(client)
    assert found is not None
    vias = {a["recipient"]["slug"]: [v["slug"] for v in a["via"]] for a in found["recipients"]}
    assert vias == {
        "stratus-host": [],
        "coldvault-backup": ["stratus-host"],
        "fernhill-colo": ["coldvault-backup", "stratus-host"],
    }
    colo = next(a for a in found["recipients"] if a["recipient"]["slug"] == "fernhill-colo")
    assert "through Coldvault Backup and Stratus Host" in colo["reasons"][0]["explanation"]

    await move(client, backup["id"], "SUSPENDED")
    assert await receivers(client) == ["stratus-host"]
    await move(client, backup["id"], "ACTIVE")
    await move(client, host["id"], "SUSPENDED")
    assert await receivers(client) == []


async def test_chain_as_of_before_the_middle_was_suspended(client: httpx.AsyncClient) -> None:
    await person(client)
    host = await active(client, "Host", flow())
    backup = await sub(client, "Backup", host, flow())
    await sub(client, "Colo", backup, flow())
    all_active = now()
    await move(client, backup["id"], "SUSPENDED")
    assert await receivers(client) == ["host"]
    assert await receivers(client, as_of=all_active) == ["backup", "colo", "host"]


async def test_chain_needs_the_engager_to_receive_this_subject(client: httpx.AsyncClient) -> None:
    await person(client)
    host = await active(client, "Visitor Host", flow(subjectTypes=["visitor"]))
    await sub(client, "Backup", host, flow(), consent_flow())
    assert await receivers(client) == []
    # The sub's consent disclosure fails rule 6 too: it is not withheld either.
    assert await held_back(client) == []


async def test_chain_through_an_engager_whose_disclosure_ended(client: httpx.AsyncClient) -> None:
    await person(client)
    host = await active(client, "Host", flow())
    await sub(client, "Backup", host, flow(), consent_flow())
    assert await receivers(client) == ["backup", "host"]
    assert await held_back(client) == [("backup", "NO_CONSENT")]
    await end(client, host["disclosures"][0]["id"], utc_today())
    assert await receivers(client) == []
    assert await held_back(client) == []


def database_id(global_id: str) -> int:
    return int(GlobalID.from_id(global_id).node_id)


async def test_engagement_cycle_in_stored_data_terminates(client: httpx.AsyncClient) -> None:
    # The API refuses cycles; data written before that check (or by hand) must not hang a query.
    await person(client)
    first = await active(client, "Cycle A", flow(), consent_flow())
    second = await active(client, "Cycle B", flow())
    await active(client, "Bystander", flow())
    await RecipientModel.filter(id=database_id(first["id"])).update(
        engaged_by_id=database_id(second["id"])
    )
    await RecipientModel.filter(id=database_id(second["id"])).update(
        engaged_by_id=database_id(first["id"])
    )
    assert await receivers(client) == ["bystander"]
    assert await held_back(client) == []


# --- rule 7: one entry per recipient, sorted ----------------------------------------------------


async def test_recipients_by_name_and_reasons_by_first_purpose(client: httpx.AsyncClient) -> None:
    await person(client)
    await consent(client, "priya", True)
    await consent(client, "priya", True, purpose="analytics.reporting")
    await active(client, "beta Mail", flow())
    await active(
        client,
        "Alpha Post",
        consent_flow(purposes=[MARKETING, "analytics.reporting"]),
        flow(purposes=["essential.service"]),
        flow(purposes=["analytics.reporting", "marketing"]),
    )
    await active(client, "charlie Cloud", flow())
    found = await report(client)
    assert found is not None
    assert [a["recipient"]["name"] for a in found["recipients"]] == [
        "Alpha Post",
        "beta Mail",
        "charlie Cloud",
    ]
    alpha = found["recipients"][0]
    assert [r["purposes"][0]["key"] for r in alpha["reasons"]] == [
        "analytics.reporting",
        "essential.service",
        MARKETING,
    ]
    assert [[p["key"] for p in r["purposes"]] for r in alpha["reasons"]][2] == [
        MARKETING,
        "analytics.reporting",
    ]
    assert all(r["disclosure"]["recipient"] == {"slug": "alpha-post"} for r in alpha["reasons"])


# --- rule 8: the explanation ----------------------------------------------------------------------


ORGANISATION = """
mutation { registerEstablishment(input: {name: "Lumora Works, Inc.", country: "US",
  targets: [EEA, UK], main: true}) { userErrors { message } } }
"""


async def test_explanation_names_everything(client: httpx.AsyncClient) -> None:
    await gql(client, ORGANISATION)
    await person(client, categories=["user.contact"])
    await active(
        client,
        "Acme Mail",
        flow(
            dataCategories=["user.contact.email", "user.contact.phone_number"],
            purposes=["essential.service"],
            transfers=[
                {"country": "US", "mechanism": "STANDARD_CONTRACTUAL_CLAUSES"},
                {"country": "US", "mechanism": "UK_ADDENDUM"},
                {"country": "NL", "mechanism": "NOT_RESTRICTED"},
            ],
        ),
    )
    found = await report(client)
    assert found is not None
    [reason] = found["recipients"][0]["reasons"]
    assert reason["legalBasis"] == "CONTRACT"
    assert reason["ground"] == "SERVICE_PROVISION"
    assert [t["country"] for t in reason["transfers"]] == ["US", "US", "NL"]
    assert reason["explanation"] == (
        "Acme Mail receives your email address and phone number to provide the platform, "
        "as a provider of services to us, on the legal basis of the performance of a contract; "
        "the data goes to the United States (under the UK Addendum to the standard contractual "
        "clauses), where the recipient is based, and is transferred to the Netherlands (under an "
        "adequacy decision)."
    )


async def test_explanation_without_transfers_says_where_the_recipient_is(
    client: httpx.AsyncClient,
) -> None:
    await gql(client, ORGANISATION)
    await person(client)
    await active(
        client,
        "Berlin Backup",
        flow(
            transfers=[],
            purposes=["functional.storage"],
            legalBasis="LEGITIMATE_INTERESTS",
            ground="GROUP_SHARING",
            dataCategories=["user.name"],
        ),
        country="DE",
    )
    found = await report(client)
    assert found is not None
    [reason] = found["recipients"][0]["reasons"]
    assert reason["explanation"] == (
        "Berlin Backup receives your name to store data for us, as a company in our group, "
        "on the legal basis of legitimate interests; "
        "the data goes to Germany (under an adequacy decision), where the recipient is based."
    )


# --- rule 9 and the report's frame ----------------------------------------------------------------


def gid(type_name: str, node_id: int | str) -> str:
    return base64.b64encode(f"{type_name}:{node_id}".encode()).decode()


async def test_unknown_subject_is_null_not_an_error(client: httpx.AsyncClient) -> None:
    await person(client)
    recipient = await active(client, "Acme Mail", flow())
    assert await report(client, "nobody") is None
    assert await report(client, id=gid("DataSubject", 999)) is None
    assert await report(client, id=recipient["id"]) is None
    assert await report(client, id="not-an-id") is None


async def test_report_by_id_and_as_of(client: httpx.AsyncClient) -> None:
    subject = await person(client)
    await active(client, "Acme Mail", flow())
    by_id = await report(client, id=subject["id"])
    assert by_id is not None
    assert by_id["subject"] == {"id": subject["id"], "externalRef": "priya"}
    assert [a["recipient"]["slug"] for a in by_id["recipients"]] == ["acme-mail"]
    at = now() + timedelta(days=1)
    found = await report(client, as_of=at.astimezone().isoformat())
    assert found is not None
    assert datetime.fromisoformat(found["asOf"].replace("Z", "+00:00")) == at
    before = now()
    default = await report(client)
    assert default is not None
    moment = datetime.fromisoformat(default["asOf"].replace("Z", "+00:00"))
    assert before - timedelta(seconds=5) <= moment <= now() + timedelta(seconds=5)


async def test_subject_with_no_categories_receives_nothing(client: httpx.AsyncClient) -> None:
    await person(client, "empty", categories=[])
    await active(client, "Acme Mail", flow(dataCategories=["user.contact"]))
    found = await report(client, "empty")
    assert found is not None
    assert found["subject"]["externalRef"] == "empty"
    assert (found["recipients"], found["withheld"]) == ([], [])


# --- recipientsOfCategory ---------------------------------------------------------------------


async def test_recipients_of_category_in_both_directions(client: httpx.AsyncClient) -> None:
    await active(client, "Email Only", flow(dataCategories=["user.contact.email"]))
    await active(client, "all Contact", flow(dataCategories=["user.contact"]))
    await active(client, "Devices", flow(dataCategories=["user.device.ip_address"]))
    suspended = await active(client, "Suspended Mail", flow())
    await move(client, suspended["id"], "SUSPENDED")
    await register(client, name="Proposed Mail", disclosures=[flow()])
    ended = await active(client, "Ended Mail", flow())
    await end(client, ended["disclosures"][0]["id"], utc_today())

    assert await of_category(client, "user.contact") == ["all-contact", "email-only"]
    assert await of_category(client, "user.contact.email") == ["all-contact", "email-only"]
    assert await of_category(client, "user.contact.phone_number") == ["all-contact"]
    assert await of_category(client, "user.device") == ["devices"]
    assert await of_category(client, "user") == ["all-contact", "devices", "email-only"]
    assert await of_category(client, "user.name") == []


async def test_recipients_of_category_as_of(client: httpx.AsyncClient) -> None:
    before = now()
    recipient = await active(client, "Acme Mail", flow())
    while_active = now()
    await move(client, recipient["id"], "SUSPENDED")
    assert await of_category(client, "user.contact") == []
    assert await of_category(client, "user.contact", as_of=before) == []
    assert await of_category(client, "user.contact", as_of=while_active) == ["acme-mail"]


async def test_recipients_of_category_ignores_chains(client: httpx.AsyncClient) -> None:
    host = await active(client, "Host", flow(dataCategories=["user.name"]))
    await sub(client, "Backup", host, flow())
    await move(client, host["id"], "SUSPENDED")
    assert await of_category(client, "user.contact.email") == ["backup"]


async def test_recipients_of_category_follows_effective_dates(client: httpx.AsyncClient) -> None:
    start = utc_today() + timedelta(days=4)
    await active(client, "Later Mail", flow(effectiveFrom=start.isoformat()))
    soon_over = await active(client, "Ending Mail", flow())
    await end(client, soon_over["disclosures"][0]["id"], start)
    assert await of_category(client, "user.contact") == ["ending-mail"]
    assert await of_category(client, "user.contact", as_of=midnight(start)) == ["later-mail"]


async def test_recipients_of_unknown_category_is_an_error(client: httpx.AsyncClient) -> None:
    await active(client, "Acme Mail", flow())
    body = await gql(client, OF_CATEGORY, {"key": "user.nonsense"})
    assert body.get("data") is None
    [error] = body["errors"]
    assert 'Unknown data category "user.nonsense"' in error["message"]
    assert error["path"] == ["recipientsOfCategory"]


# --- statements per report ------------------------------------------------------------------------


# A subject (3), the disclosures reaching it with their parts (5), the recipients and their
# status history (2), and what the query asks of them through loaders: a handful, never per row.
MAX_STATEMENTS = 14


async def build_inventory(client: httpx.AsyncClient, start: int, stop: int) -> None:
    """Groups of five: a processor, its subprocessor and sub-subprocessor, a consent-based
    recipient (withheld) and a direct recipient with two disclosures."""
    for group in range(start, stop, 5):
        host = await active(client, f"Host {group:03d}", flow())
        backup = await sub(client, f"Backup {group:03d}", host, flow())
        await sub(client, f"Colo {group:03d}", backup, flow(transfers=[]))
        await active(client, f"Mailer {group:03d}", consent_flow())
        await active(
            client,
            f"Direct {group:03d}",
            flow(dataCategories=["user.contact"]),
            flow(purposes=["analytics.reporting"], dataCategories=["user.name"]),
        )


async def count_report(
    client: httpx.AsyncClient, sql_counter: QueryCounter, as_of: datetime | None = None
) -> tuple[int, dict[str, Any]]:
    sql_counter.statements.clear()
    found = await report(client, as_of=as_of)
    statements = len(sql_counter.statements)
    assert found is not None
    return statements, found


async def test_statements_per_report_do_not_grow_with_the_inventory(
    client: httpx.AsyncClient, sql_counter: QueryCounter
) -> None:
    await person(client)
    await build_inventory(client, 0, 5)
    small, found = await count_report(client, sql_counter)
    assert len(found["recipients"]) == 4 and len(found["withheld"]) == 1
    small_statements = list(sql_counter.statements)

    await build_inventory(client, 5, 40)
    large, found = await count_report(client, sql_counter)
    assert len(found["recipients"]) == 32 and len(found["withheld"]) == 8
    colo = next(a for a in found["recipients"] if a["recipient"]["slug"] == "colo-035")
    assert [v["slug"] for v in colo["via"]] == ["backup-035", "host-035"]
    assert large == small, (small_statements, sql_counter.statements)
    assert small <= MAX_STATEMENTS, small_statements


async def test_statements_per_report_as_of_do_not_grow_with_the_inventory(
    client: httpx.AsyncClient, sql_counter: QueryCounter
) -> None:
    await person(client)
    await build_inventory(client, 0, 5)
    small, found = await count_report(client, sql_counter, as_of=now())
    assert len(found["recipients"]) == 4
    small_statements = list(sql_counter.statements)
    await build_inventory(client, 5, 40)
    large, found = await count_report(client, sql_counter, as_of=now())
    assert len(found["recipients"]) == 32
    assert large == small, (small_statements, sql_counter.statements)
    assert small <= MAX_STATEMENTS, small_statements


# --- the report's objects are the inventory's objects ----------------------------------------

RECIPIENT_ALL = """
  id slug name legalName description kind role status country services website
  privacyPolicyUrl dpaSignedOn version createdAt updatedAt dataPrivacyFrameworkCertified
  engagedBy { slug } subprocessors { slug }
"""
DISCLOSURE_ALL = """
  id legalBasis ground retention effectiveFrom effectiveTo
  transfers { country mechanism reference }
  dataCategories { key name sensitive parent { key } }
  subjectTypes { key name } purposes { key name description }
  recipient { slug }
"""


async def test_report_shows_recipients_and_disclosures_as_the_inventory_does(
    client: httpx.AsyncClient,
) -> None:
    await person(client)
    host = await active(
        client,
        "Host",
        flow(transfers=[{"country": "US", "mechanism": "UK_IDTA", "reference": "IDTA 2024"}]),
        legalName="Host Inc.",
        dpaSignedOn="2024-02-02",
        services=["hosting", "backup"],
    )
    await sub(client, "Backup", host, flow(retention=None))
    query = f"""
    query {{
      whoReceives(subject: {{externalRef: "priya"}}) {{
        recipients {{
          recipient {{ {RECIPIENT_ALL} }}
          via {{ {RECIPIENT_ALL} }}
          reasons {{ disclosure {{ {DISCLOSURE_ALL} }} }}
        }}
      }}
      host: recipient(slug: "host") {{ {RECIPIENT_ALL} disclosures {{ {DISCLOSURE_ALL} }} }}
      backup: recipient(slug: "backup") {{ {RECIPIENT_ALL} disclosures {{ {DISCLOSURE_ALL} }} }}
    }}
    """
    body = await gql(client, query)
    assert "errors" not in body, body["errors"]
    data = body["data"]
    shown = {a["recipient"]["slug"]: a for a in data["whoReceives"]["recipients"]}
    for slug in ("host", "backup"):
        inventory = dict(data[slug])
        disclosures = inventory.pop("disclosures")
        assert shown[slug]["recipient"] == inventory
        assert [r["disclosure"] for r in shown[slug]["reasons"]] == disclosures
    host_row = {k: v for k, v in data["host"].items() if k != "disclosures"}
    assert shown["backup"]["via"] == [host_row]


async def test_report_answers_fragments_aliases_and_directives(client: httpx.AsyncClient) -> None:
    await person(client)
    host = await active(client, "Host", flow())
    await sub(client, "Backup", host, flow(transfers=[]))
    query = """
    query($withVia: Boolean!) {
      whoReceives(subject: {externalRef: "priya"}) {
        __typename
        subject { ... on Node { id } ...Person }
        recipients {
          who: recipient { ...Named }
          via @include(if: $withVia) { slug }
          reasons {
            ... on DisclosureReason { legalBasis }
            text: explanation
            explanation @skip(if: true)
            disclosure { ... on Disclosure { effectiveFrom } owner: recipient { slug } }
          }
        }
      }
    }
    fragment Named on Recipient { slug __typename }
    fragment Person on DataSubject { externalRef }
    """
    for with_via in (False, True):
        body = await gql(client, query, {"withVia": with_via})
        assert "errors" not in body, body["errors"]
        found = body["data"]["whoReceives"]
        assert found["__typename"] == "SubjectReport"
        assert set(found["subject"]) == {"id", "externalRef"}
        assert found["subject"]["externalRef"] == "priya"
        backup = found["recipients"][0]
        assert backup["who"] == {"slug": "backup", "__typename": "Recipient"}
        assert ("via" in backup) is with_via
        if with_via:
            assert backup["via"] == [{"slug": "host"}]
        [reason] = backup["reasons"]
        assert set(reason) == {"legalBasis", "text", "disclosure"}
        assert reason["text"].startswith("Backup receives your email address through Host ")
        assert reason["disclosure"] == {"effectiveFrom": PAST, "owner": {"slug": "backup"}}


async def test_a_disclosure_ended_on_its_first_day_never_applied(
    client: httpx.AsyncClient,
) -> None:
    """Issue 15 §2: `effectiveTo` equal to `effectiveFrom` means the disclosure never applied,
    so a disclosure recorded by mistake can be ended the day it was recorded. No report at any
    moment names it, past receipts included; its history keeps it."""
    today = datetime.now(UTC).date()
    recipient = await active(client, "Oops Mail", flow(effectiveFrom=today.isoformat()))
    await person(client)
    assert await receivers(client) == ["oops-mail"]
    disclosure_id = recipient["disclosures"][0]["id"]
    body = await gql(
        client, END_DISCLOSURE, {"input": {"id": disclosure_id, "effectiveTo": today.isoformat()}}
    )
    assert body["data"]["endDisclosure"]["userErrors"] == [], body
    assert await receivers(client) == []
    body = await gql(
        client,
        "query P($s: SubjectRef!) { whoReceives(subject: $s) { pastRecipients { "
        "recipient { slug } } } }",
        {"s": {"externalRef": "priya"}},
    )
    assert body["data"]["whoReceives"]["pastRecipients"] == []
    for moment in ("2023-06-01T00:00:00Z", f"{today.isoformat()}T23:59:59Z"):
        assert await receivers(client, as_of=moment) == []
