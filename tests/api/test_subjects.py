"""Data subjects and their consent log through HTTP: upsertDataSubject, recordConsent,
dataSubject(ref:) and node(id:). Rejected input names its field and writes nothing."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from server.db.models import (
    AuditEvent,
    ConsentRecord,
    DataSubject,
    SubjectCategory,
    SubjectVersion,
)
from tests.conftest import gql
from tests.helpers import register

SUBJECT_FIELDS = """
  id externalRef country createdAt
  subjectType { key }
  dataCategories { key }
  consents { purpose { key } granted recordedAt decidedAt explicit }
"""

UPSERT = f"""
mutation Upsert($input: DataSubjectInput!) {{
  upsertDataSubject(input: $input) {{
    dataSubject {{ {SUBJECT_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}
"""

RECORD_CONSENT = f"""
mutation Consent($input: ConsentInput!) {{
  recordConsent(input: $input) {{
    dataSubject {{ {SUBJECT_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}
"""

DATA_SUBJECT = f"""
query Subject($ref: SubjectRef!) {{
  dataSubject(ref: $ref) {{ {SUBJECT_FIELDS} }}
}}
"""

NODE = f"""
query Node($id: ID!) {{
  node(id: $id) {{ __typename id ... on DataSubject {{ {SUBJECT_FIELDS} }} }}
}}
"""

MARKETING = "marketing.communications.email"


def gid(type_name: str, node_id: int | str) -> str:
    return base64.b64encode(f"{type_name}:{node_id}".encode()).decode()


def subject_input(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "externalRef": "user-42",
        "subjectType": "platform_user",
        "country": "GB",
        "dataCategories": ["user.name", "user.contact.email"],
    }
    base.update(overrides)
    return base


async def mutate(
    client: httpx.AsyncClient, query: str, field: str, variables: dict[str, Any]
) -> dict[str, Any]:
    body = await gql(client, query, variables)
    assert "errors" not in body, body["errors"]
    payload: dict[str, Any] = body["data"][field]
    return payload


async def upsert(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    payload = await mutate(
        client, UPSERT, "upsertDataSubject", {"input": subject_input(**overrides)}
    )
    assert payload["userErrors"] == [], payload["userErrors"]
    subject: dict[str, Any] = payload["dataSubject"]
    return subject


async def record(client: httpx.AsyncClient, **input_: Any) -> dict[str, Any]:
    return await mutate(client, RECORD_CONSENT, "recordConsent", {"input": input_})


async def lookup(client: httpx.AsyncClient, **ref: Any) -> dict[str, Any] | None:
    body = await gql(client, DATA_SUBJECT, {"ref": ref})
    assert "errors" not in body, body["errors"]
    found: dict[str, Any] | None = body["data"]["dataSubject"]
    return found


async def written() -> dict[str, int]:
    """Row counts of everything these mutations write."""
    return {
        "subjects": await DataSubject.all().count(),
        "categories": await SubjectCategory.all().count(),
        "consents": await ConsentRecord.all().count(),
        "audit": await AuditEvent.exclude(entity_type="ApiKey").count(),
    }


def keys(items: list[dict[str, Any]]) -> list[str]:
    return sorted(item["key"] for item in items)


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def assert_only_error(payload: dict[str, Any], code: str, field: list[str], fragment: str) -> None:
    errors = payload["userErrors"]
    assert [(e["code"], e["field"]) for e in errors] == [(code, field)], errors
    assert fragment in errors[0]["message"], errors[0]["message"]
    assert payload["dataSubject"] is None


# --- upsertDataSubject ----------------------------------------------------------------------------


async def test_upsert_creates_a_subject(client: httpx.AsyncClient) -> None:
    before = datetime.now(UTC)
    subject = await upsert(client)
    assert subject["externalRef"] == "user-42"
    assert subject["subjectType"] == {"key": "platform_user"}
    assert subject["country"] == "GB"
    assert keys(subject["dataCategories"]) == ["user.contact.email", "user.name"]
    assert subject["consents"] == []
    assert before - timedelta(seconds=5) <= moment(subject["createdAt"])
    assert moment(subject["createdAt"]) <= datetime.now(UTC) + timedelta(seconds=5)
    assert await written() == {"subjects": 1, "categories": 2, "consents": 0, "audit": 1}


async def test_upsert_replaces_by_external_ref(client: httpx.AsyncClient) -> None:
    first = await upsert(client)
    await record(client, subject={"id": first["id"]}, purpose=MARKETING, granted=True)
    second = await upsert(
        client,
        subjectType="customer_contact",
        country="IE",
        dataCategories=["user.job_title", "user.contact.email"],
    )
    assert second["id"] == first["id"]
    assert second["createdAt"] == first["createdAt"]
    assert second["subjectType"] == {"key": "customer_contact"}
    assert second["country"] == "IE"
    # Replaced, not merged: user.name is gone.
    assert keys(second["dataCategories"]) == ["user.contact.email", "user.job_title"]
    # The consent log is append-only: replacing the subject keeps it.
    assert [c["purpose"]["key"] for c in second["consents"]] == [MARKETING]
    assert await lookup(client, externalRef="user-42") == second
    counts = await written()
    assert (counts["subjects"], counts["categories"], counts["consents"]) == (1, 2, 1)


async def test_upsert_replace_with_no_categories_clears_them(client: httpx.AsyncClient) -> None:
    first = await upsert(client)
    second = await upsert(client, dataCategories=[])
    assert second["id"] == first["id"]
    assert second["dataCategories"] == []


async def test_upsert_keeps_each_category_once(client: httpx.AsyncClient) -> None:
    subject = await upsert(client, dataCategories=["user.name", "user.name", "user.contact"])
    assert keys(subject["dataCategories"]) == ["user.contact", "user.name"]


async def test_upsert_distinct_refs_are_distinct_subjects(client: httpx.AsyncClient) -> None:
    one = await upsert(client, externalRef="a")
    two = await upsert(client, externalRef="b")
    assert one["id"] != two["id"]
    assert (await written())["subjects"] == 2


BAD_INPUT = [
    (
        {"subjectType": "martian"},
        ["input", "subjectType"],
        'Unknown subject type "martian"',
    ),
    (
        {"dataCategories": ["user.contact.email", "user.nonsense"]},
        ["input", "dataCategories", "1"],
        'Unknown data category "user.nonsense"',
    ),
    ({"country": "UK"}, ["input", "country"], 'use "GB"'),
    ({"country": "XX"}, ["input", "country"], "ISO 3166-1 alpha-2"),
    ({"country": "gb"}, ["input", "country"], 'use "GB"'),
    ({"externalRef": ""}, ["input", "externalRef"], "must not be empty"),
    ({"externalRef": "   "}, ["input", "externalRef"], "must not be empty"),
    ({"externalRef": "x" * 201}, ["input", "externalRef"], "at most 200"),
    ({"externalRef": "user\n42"}, ["input", "externalRef"], "control characters"),
]
BAD_IDS = [
    "unknown-subject-type",
    "unknown-category",
    "country-UK",
    "country-XX",
    "country-lower-case",
    "empty-external-ref",
    "blank-external-ref",
    "long-external-ref",
    "control-character",
]


@pytest.mark.parametrize(("overrides", "field", "fragment"), BAD_INPUT, ids=BAD_IDS)
async def test_upsert_rejects_bad_input_on_create(
    client: httpx.AsyncClient, overrides: dict[str, Any], field: list[str], fragment: str
) -> None:
    payload = await mutate(
        client,
        UPSERT,
        "upsertDataSubject",
        {"input": subject_input(**{"externalRef": "new-person", **overrides})},
    )
    ref = overrides.get("externalRef", "new-person")
    assert_only_error(payload, "INVALID", field, fragment)
    assert await written() == {"subjects": 0, "categories": 0, "consents": 0, "audit": 0}
    if ref.strip():
        assert await lookup(client, externalRef=ref) is None


@pytest.mark.parametrize(("overrides", "field", "fragment"), BAD_INPUT[:5], ids=BAD_IDS[:5])
async def test_upsert_rejects_bad_input_on_replace(
    client: httpx.AsyncClient, overrides: dict[str, Any], field: list[str], fragment: str
) -> None:
    existing = await upsert(client)
    counts = await written()
    payload = await mutate(
        client, UPSERT, "upsertDataSubject", {"input": subject_input(**overrides)}
    )
    assert_only_error(payload, "INVALID", field, fragment)
    assert await lookup(client, externalRef="user-42") == existing
    assert await written() == counts


async def test_upsert_reports_every_problem_at_once(client: httpx.AsyncClient) -> None:
    payload = await mutate(
        client,
        UPSERT,
        "upsertDataSubject",
        {
            "input": subject_input(
                subjectType="martian", country="UK", dataCategories=["user.nope", "user.name"]
            )
        },
    )
    fields = sorted(tuple(e["field"]) for e in payload["userErrors"])
    assert fields == [
        ("input", "country"),
        ("input", "dataCategories", "0"),
        ("input", "subjectType"),
    ]
    assert payload["dataSubject"] is None
    assert (await written())["subjects"] == 0


# --- recordConsent --------------------------------------------------------------------------------


async def test_record_consent_defaults_recorded_at_to_now(client: httpx.AsyncClient) -> None:
    subject = await upsert(client)
    before = datetime.now(UTC)
    payload = await record(
        client, subject={"externalRef": "user-42"}, purpose=MARKETING, granted=True
    )
    after = datetime.now(UTC)
    assert payload["userErrors"] == []
    assert payload["dataSubject"]["id"] == subject["id"]
    [entry] = payload["dataSubject"]["consents"]
    assert entry["purpose"] == {"key": MARKETING}
    assert entry["granted"] is True
    recorded = moment(entry["recordedAt"])
    assert recorded.tzinfo is not None
    assert before - timedelta(seconds=2) <= recorded <= after + timedelta(seconds=2)


async def test_record_consent_with_explicit_past_moment(client: httpx.AsyncClient) -> None:
    subject = await upsert(client)
    payload = await record(
        client,
        subject={"id": subject["id"]},
        purpose=MARKETING,
        granted=False,
        recordedAt="2024-03-01T10:00:00+02:00",
    )
    assert payload["userErrors"] == []
    [entry] = payload["dataSubject"]["consents"]
    assert entry["granted"] is False
    # Part 2's recordedAt, sent alone, is read as the moment the person decided (part 4).
    assert moment(entry["decidedAt"]) == datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
    assert moment(entry["recordedAt"]) > datetime(2026, 1, 1, tzinfo=UTC)


async def test_record_consent_takes_a_time_without_offset_as_utc(
    client: httpx.AsyncClient,
) -> None:
    await upsert(client)
    payload = await record(
        client,
        subject={"externalRef": "user-42"},
        purpose=MARKETING,
        granted=True,
        recordedAt="2024-03-01T10:00:00",
    )
    assert payload["userErrors"] == []
    [entry] = payload["dataSubject"]["consents"]
    assert moment(entry["decidedAt"]) == datetime(2024, 3, 1, 10, 0, tzinfo=UTC)


async def test_consents_are_listed_oldest_first(client: httpx.AsyncClient) -> None:
    await upsert(client)
    ref = {"externalRef": "user-42"}
    for granted, at in [
        (True, "2025-01-01T00:00:00Z"),
        (False, None),
        (True, "2024-01-01T00:00:00Z"),
        (False, "2024-06-01T12:30:00+05:00"),
    ]:
        extra = {"recordedAt": at} if at else {}
        payload = await record(client, subject=ref, purpose=MARKETING, granted=granted, **extra)
        assert payload["userErrors"] == []
    found = await lookup(client, **ref)
    assert found is not None
    consents = found["consents"]
    times = [moment(c["decidedAt"]) for c in consents]
    assert times == sorted(times)
    assert [c["granted"] for c in consents] == [True, False, True, False]
    assert times[:3] == [
        datetime(2024, 1, 1, tzinfo=UTC),
        datetime(2024, 6, 1, 7, 30, tzinfo=UTC),
        datetime(2025, 1, 1, tzinfo=UTC),
    ]
    assert (await written())["consents"] == 4


async def test_record_consent_rejects_future_moment(client: httpx.AsyncClient) -> None:
    await upsert(client)
    counts = await written()
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    payload = await record(
        client,
        subject={"externalRef": "user-42"},
        purpose=MARKETING,
        granted=True,
        recordedAt=future,
    )
    assert_only_error(payload, "INVALID", ["input", "recordedAt"], "future")
    assert await written() == counts


async def test_record_consent_rejects_unknown_purpose(client: httpx.AsyncClient) -> None:
    await upsert(client)
    counts = await written()
    payload = await record(
        client, subject={"externalRef": "user-42"}, purpose="marketing.nonsense", granted=True
    )
    assert_only_error(
        payload, "INVALID", ["input", "purpose"], 'Unknown purpose "marketing.nonsense"'
    )
    assert await written() == counts


@pytest.mark.parametrize(
    "ref",
    [{"externalRef": "nobody"}, {"id": gid("DataSubject", 999)}],
    ids=["external-ref", "id"],
)
async def test_record_consent_for_unknown_subject_is_not_found(
    client: httpx.AsyncClient, ref: dict[str, str]
) -> None:
    await upsert(client)
    counts = await written()
    payload = await record(client, subject=ref, purpose=MARKETING, granted=True)
    assert_only_error(payload, "NOT_FOUND", ["input", "subject"], "No such data subject")
    assert await written() == counts


async def test_record_consent_for_an_over_long_external_ref_is_not_found(
    client: httpx.AsyncClient,
) -> None:
    # Found by fuzzing: the ORM refused to look up 100,000 characters (an internal error).
    await upsert(client)
    counts = await written()
    ref = {"externalRef": "x" * 100_000}
    payload = await record(client, subject=ref, purpose=MARKETING, granted=True)
    assert_only_error(
        payload, "NOT_FOUND", ["input", "subject", "externalRef"], "at most 200 characters"
    )
    assert await written() == counts


async def test_record_consent_with_another_types_id_is_not_found(
    client: httpx.AsyncClient,
) -> None:
    await upsert(client)
    recipient = await register(client)
    counts = await written()
    payload = await record(client, subject={"id": recipient["id"]}, purpose=MARKETING, granted=True)
    [error] = payload["userErrors"]
    assert error["code"] == "NOT_FOUND"
    assert error["field"][:2] == ["input", "subject"]
    assert payload["dataSubject"] is None
    assert await written() == counts


@pytest.mark.parametrize(
    "ref",
    [{}, {"id": None, "externalRef": None}, "both"],
    ids=["neither", "neither-null", "both"],
)
async def test_record_consent_needs_exactly_one_reference(
    client: httpx.AsyncClient, ref: dict[str, Any] | str
) -> None:
    subject = await upsert(client)
    if ref == "both":
        ref = {"id": subject["id"], "externalRef": "user-42"}
    counts = await written()
    payload = await record(client, subject=ref, purpose=MARKETING, granted=True)
    assert_only_error(payload, "INVALID", ["input", "subject"], "exactly one")
    assert await written() == counts


# --- dataSubject(ref:) and node(id:) --------------------------------------------------------------


async def test_data_subject_by_id_and_by_external_ref(client: httpx.AsyncClient) -> None:
    subject = await upsert(client)
    await upsert(client, externalRef="someone-else", dataCategories=["user.name"])
    await record(
        client,
        subject={"id": subject["id"]},
        purpose=MARKETING,
        granted=True,
        recordedAt="2024-05-01T00:00:00Z",
    )
    by_id = await lookup(client, id=subject["id"])
    by_ref = await lookup(client, externalRef="user-42")
    assert by_id is not None and by_id == by_ref
    assert by_id["id"] == subject["id"]
    assert by_id["externalRef"] == "user-42"
    assert [c["purpose"]["key"] for c in by_id["consents"]] == [MARKETING]


@pytest.mark.parametrize(
    "ref",
    [{"externalRef": "nobody"}, {"id": gid("DataSubject", 999)}, {"id": "not-an-id"}],
    ids=["external-ref", "id", "garbage-id"],
)
async def test_unknown_data_subject_is_null(client: httpx.AsyncClient, ref: dict[str, str]) -> None:
    await upsert(client)
    assert await lookup(client, **ref) is None


async def test_node_resolves_a_data_subject(client: httpx.AsyncClient) -> None:
    subject = await upsert(client)
    body = await gql(client, NODE, {"id": subject["id"]})
    assert "errors" not in body, body["errors"]
    node = body["data"]["node"]
    assert node["__typename"] == "DataSubject"
    assert {k: v for k, v in node.items() if k != "__typename"} == subject


async def test_data_subject_id_is_a_global_id(client: httpx.AsyncClient) -> None:
    subject = await upsert(client)
    decoded = base64.b64decode(subject["id"]).decode()
    assert decoded.startswith("DataSubject:")


# --- recordConsent: decidedAt and explicit (issue 12 §3) -----------------------------------------


async def test_record_consent_takes_decided_at_and_explicit(client: httpx.AsyncClient) -> None:
    await upsert(client)
    before = datetime.now(UTC)
    payload = await record(
        client,
        subject={"externalRef": "user-42"},
        purpose=MARKETING,
        granted=True,
        decidedAt="2024-03-01T10:00:00+02:00",
        explicit=True,
    )
    assert payload["userErrors"] == []
    [entry] = payload["dataSubject"]["consents"]
    assert moment(entry["decidedAt"]) == datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
    assert entry["explicit"] is True
    # recordedAt is the server's clock, never the caller's.
    assert before <= moment(entry["recordedAt"]) <= datetime.now(UTC)
    event = await AuditEvent.get(action="recordConsent")
    changes = json.loads(event.changes)
    assert changes["decidedAt"] == [None, "2024-03-01T08:00:00+00:00"]
    assert changes["explicit"] == [None, True]
    assert "recordedAt" not in changes


async def test_record_consent_defaults_to_now_and_not_explicit(client: httpx.AsyncClient) -> None:
    await upsert(client)
    before = datetime.now(UTC)
    payload = await record(
        client, subject={"externalRef": "user-42"}, purpose=MARKETING, granted=True
    )
    [entry] = payload["dataSubject"]["consents"]
    assert entry["explicit"] is False
    assert entry["decidedAt"] == entry["recordedAt"]
    assert before <= moment(entry["decidedAt"]) <= datetime.now(UTC)


async def test_record_consent_refuses_a_future_decided_at(client: httpx.AsyncClient) -> None:
    await upsert(client)
    counts = await written()
    payload = await record(
        client,
        subject={"externalRef": "user-42"},
        purpose=MARKETING,
        granted=True,
        decidedAt=(datetime.now(UTC) + timedelta(minutes=10)).isoformat(),
    )
    assert_only_error(payload, "INVALID", ["input", "decidedAt"], "future")
    assert await written() == counts


async def test_record_consent_refuses_both_recorded_at_and_decided_at(
    client: httpx.AsyncClient,
) -> None:
    await upsert(client)
    counts = await written()
    payload = await record(
        client,
        subject={"externalRef": "user-42"},
        purpose=MARKETING,
        granted=True,
        recordedAt="2024-01-01T00:00:00Z",
        decidedAt="2024-01-01T00:00:00Z",
    )
    assert_only_error(payload, "INVALID", ["input", "recordedAt"], "Give decidedAt only")
    assert await written() == counts


async def test_record_consent_reports_every_problem_at_once(client: httpx.AsyncClient) -> None:
    await upsert(client)
    payload = await record(
        client,
        subject={"externalRef": "user-42"},
        purpose="marketing.nonsense",
        granted=True,
        decidedAt="1850-01-01T00:00:00Z",
    )
    assert sorted((e["code"], e["field"]) for e in payload["userErrors"]) == [
        ("INVALID", ["input", "decidedAt"]),
        ("INVALID", ["input", "purpose"]),
    ]


# --- upsertDataSubject: validFrom and versions (issue 12 §1) --------------------------------------


async def versions(external_ref: str = "user-42") -> list[tuple[str, str, str, datetime]]:
    """The subject's versions as stored, in the order recorded."""
    subject = await DataSubject.get(external_ref=external_ref)
    rows = await SubjectVersion.filter(subject_id=subject.id).order_by("id")
    return [(v.subject_type_id, v.country, v.categories_text, v.valid_from) for v in rows]


async def upsert_payload(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    return await mutate(client, UPSERT, "upsertDataSubject", {"input": subject_input(**overrides)})


async def test_upsert_records_valid_from_and_the_server_clock(client: httpx.AsyncClient) -> None:
    before = datetime.now(UTC)
    await upsert(client, validFrom="2023-05-01T00:00:00Z")
    await upsert(client, country="FR")  # validFrom defaults to now
    after = datetime.now(UTC)
    stored = await versions()
    assert [v[:3] for v in stored] == [
        ("platform_user", "GB", "user.contact.email,user.name"),
        ("platform_user", "FR", "user.contact.email,user.name"),
    ]
    assert stored[0][3] == datetime(2023, 5, 1, tzinfo=UTC)
    assert before <= stored[1][3] <= after
    rows = await SubjectVersion.all().order_by("id")
    assert all(before <= r.recorded_at <= after for r in rows)
    assert {r.actor for r in rows} == {"test-admin"}
    created, replaced = await AuditEvent.filter(entity_type="DataSubject").order_by("id")
    assert created.action == "createDataSubject"
    assert json.loads(created.changes)["validFrom"] == [None, "2023-05-01T00:00:00+00:00"]
    assert replaced.action == "replaceDataSubject"
    assert json.loads(replaced.changes)["validFrom"][0] == "2023-05-01T00:00:00+00:00"


async def test_a_correction_of_the_past_leaves_the_current_facts(
    client: httpx.AsyncClient,
) -> None:
    await upsert(client, validFrom="2024-01-01T00:00:00Z")
    version = (await DataSubject.get(external_ref="user-42")).version
    payload = await upsert_payload(
        client,
        validFrom="2023-01-01T00:00:00Z",
        country="DE",
        subjectType="customer_contact",
        dataCategories=["user.name"],
    )
    assert payload["userErrors"] == []
    # The answer and the read model stay the current facts (the latest validFrom) ...
    subject = payload["dataSubject"]
    assert (subject["country"], subject["subjectType"]) == ("GB", {"key": "platform_user"})
    assert keys(subject["dataCategories"]) == ["user.contact.email", "user.name"]
    row = await DataSubject.get(external_ref="user-42")
    assert (row.country, row.subject_type_id, row.version) == ("GB", "platform_user", version + 1)
    assert sorted(await SubjectCategory.all().values_list("category_id", flat=True)) == [
        "user.contact.email",
        "user.name",
    ]
    # ... while the past gains its version.
    assert [(v[1], v[3]) for v in await versions()] == [
        ("GB", datetime(2024, 1, 1, tzinfo=UTC)),
        ("DE", datetime(2023, 1, 1, tzinfo=UTC)),
    ]
    event = await AuditEvent.filter(entity_type="DataSubject").order_by("-id").first()
    assert event is not None and event.action == "correctDataSubject"
    # Nothing held before the first version: the correction's "before" is empty.
    assert json.loads(event.changes)["country"] == [None, "DE"]

    # A later version becomes current again, and a correction between the two is compared
    # with what held then.
    await upsert(client, validFrom="2024-06-01T00:00:00Z", country="IE")
    await upsert(client, validFrom="2024-03-01T00:00:00Z", country="NL")
    row = await DataSubject.get(external_ref="user-42")
    assert row.country == "IE"
    event = await AuditEvent.filter(entity_type="DataSubject").order_by("-id").first()
    assert event is not None and event.action == "correctDataSubject"
    changes = json.loads(event.changes)
    assert changes["country"] == ["GB", "NL"]
    assert changes["validFrom"] == ["2024-01-01T00:00:00+00:00", "2024-03-01T00:00:00+00:00"]


async def test_a_version_with_the_latest_valid_from_replaces_the_current_one(
    client: httpx.AsyncClient,
) -> None:
    await upsert(client, validFrom="2024-01-01T00:00:00Z")
    await upsert(client, validFrom="2024-01-01T00:00:00Z", country="FR")
    assert (await DataSubject.get(external_ref="user-42")).country == "FR"


async def test_upsert_refuses_a_future_valid_from(client: httpx.AsyncClient) -> None:
    future = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
    payload = await upsert_payload(client, validFrom=future)
    assert_only_error(payload, "INVALID", ["input", "validFrom"], "future")
    assert await written() == {"subjects": 0, "categories": 0, "consents": 0, "audit": 0}
    await upsert(client)
    counts = await written()
    stored = await versions()
    payload = await upsert_payload(client, validFrom=future, country="FR")
    assert_only_error(payload, "INVALID", ["input", "validFrom"], "future")
    assert await written() == counts and await versions() == stored


async def test_upsert_reports_a_bad_valid_from_with_the_other_problems(
    client: httpx.AsyncClient,
) -> None:
    payload = await upsert_payload(client, validFrom="1850-01-01T00:00:00Z", country="XX")
    assert sorted((e["code"], e["field"]) for e in payload["userErrors"]) == [
        ("INVALID", ["input", "country"]),
        ("INVALID", ["input", "validFrom"]),
    ]
    assert await written() == {"subjects": 0, "categories": 0, "consents": 0, "audit": 0}
