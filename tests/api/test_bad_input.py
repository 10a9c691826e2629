"""The bad-input catalogue: every rejected input names its field, says what to do, and writes
nothing (no recipient, no version, no audit event, no disclosure change)."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from tests.conftest import gql
from tests.helpers import (
    ADD_DISCLOSURE,
    CHANGE_STATUS,
    END_DISCLOSURE,
    REGISTER,
    UPDATE,
    disclosure_input,
    recipient_input,
    register,
)

STATE = """
query State($slug: String!) {
  recipients { totalCount }
  recipient(slug: $slug) {
    id slug name country status role version updatedAt
    engagedBy { slug }
    history { at actor action changes }
    disclosures(includeEnded: true) {
      id effectiveFrom effectiveTo retention
      dataCategories { key } subjectTypes { key } purposes { key }
      transfers { country mechanism reference }
    }
  }
}
"""

GRAPHQL_RESPONSE = "application/graphql-response+json"


def gid(type_name: str, node_id: str | int) -> str:
    return base64.b64encode(f"{type_name}:{node_id}".encode()).decode()


async def state(client: httpx.AsyncClient, slug: str) -> dict[str, Any]:
    body = await gql(client, STATE, {"slug": slug})
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def existing(client: httpx.AsyncClient) -> dict[str, Any]:
    """A recipient with one disclosure that bad requests must leave exactly as it is."""
    return await register(
        client,
        name="Acme Mail",
        disclosures=[disclosure_input(effectiveFrom="2024-01-01")],
    )


async def mutate(
    client: httpx.AsyncClient, query: str, field: str, variables: dict[str, Any]
) -> dict[str, Any]:
    body = await gql(client, query, variables)
    assert "errors" not in body, body["errors"]
    payload: dict[str, Any] = body["data"][field]
    return payload


def assert_only_error(payload: dict[str, Any], code: str, field: list[str], fragment: str) -> None:
    errors = payload["userErrors"]
    assert [(e["code"], e["field"]) for e in errors] == [(code, field)], errors
    assert fragment in errors[0]["message"], errors[0]["message"]
    result = {k: v for k, v in payload.items() if k != "userErrors"}
    assert all(v is None for v in result.values()), result


async def register_fails(
    client: httpx.AsyncClient, code: str, field: list[str], fragment: str, **overrides: Any
) -> None:
    """Register with the overrides; expect exactly one error and nothing written."""
    keep = await existing(client)
    before = await state(client, keep["slug"])
    payload = await mutate(
        client, REGISTER, "registerRecipient", {"input": recipient_input(**overrides)}
    )
    assert_only_error(payload, code, field, fragment)
    assert await state(client, keep["slug"]) == before


# --- unknown taxonomy keys ------------------------------------------------------------------

UNKNOWN_KEYS = [
    ("dataCategories", ["user.contact.email", "user.nonsense"], "1", "data category"),
    ("subjectTypes", ["martian"], "0", "subject type"),
    ("purposes", ["essential.service", "essential.service", "not.a.purpose"], "2", "purpose"),
]


@pytest.mark.parametrize(("name", "keys", "index", "label"), UNKNOWN_KEYS)
async def test_register_rejects_unknown_taxonomy_key(
    client: httpx.AsyncClient, name: str, keys: list[str], index: str, label: str
) -> None:
    await register_fails(
        client,
        "INVALID",
        ["input", "disclosures", "0", name, index],
        f'Unknown {label} "{keys[int(index)]}"',
        name="Beta Analytics",
        disclosures=[disclosure_input(**{name: keys})],
    )


@pytest.mark.parametrize(("name", "keys", "index", "label"), UNKNOWN_KEYS)
async def test_add_disclosure_rejects_unknown_taxonomy_key(
    client: httpx.AsyncClient, name: str, keys: list[str], index: str, label: str
) -> None:
    recipient = await existing(client)
    before = await state(client, recipient["slug"])
    payload = await mutate(
        client,
        ADD_DISCLOSURE,
        "addDisclosure",
        {
            "input": {
                "recipientId": recipient["id"],
                "disclosure": disclosure_input(**{name: keys}),
            }
        },
    )
    assert_only_error(
        payload,
        "INVALID",
        ["input", "disclosure", name, index],
        f'Unknown {label} "{keys[int(index)]}"',
    )
    assert await state(client, recipient["slug"]) == before


async def test_register_reports_unknown_key_in_second_disclosure(
    client: httpx.AsyncClient,
) -> None:
    await register_fails(
        client,
        "INVALID",
        ["input", "disclosures", "1", "purposes", "0"],
        'Unknown purpose "marketing.nonsense"',
        name="Beta Analytics",
        disclosures=[disclosure_input(), disclosure_input(purposes=["marketing.nonsense"])],
    )


# --- countries ------------------------------------------------------------------------------

COUNTRIES = [
    ("UK", 'use "GB"'),
    ("XX", "not an ISO 3166-1 alpha-2"),
    ("gb", 'use "GB"'),
    ("GBR", "not an ISO 3166-1 alpha-2"),
    ("", "not an ISO 3166-1 alpha-2"),
]


@pytest.mark.parametrize(("country", "fragment"), COUNTRIES)
async def test_register_rejects_country(
    client: httpx.AsyncClient, country: str, fragment: str
) -> None:
    await register_fails(
        client, "INVALID", ["input", "country"], fragment, name="Beta Mail", country=country
    )


@pytest.mark.parametrize(("country", "fragment"), COUNTRIES)
async def test_update_rejects_country(
    client: httpx.AsyncClient, country: str, fragment: str
) -> None:
    recipient = await existing(client)
    before = await state(client, recipient["slug"])
    payload = await mutate(
        client,
        UPDATE,
        "updateRecipient",
        {"input": {"id": recipient["id"], "expectedVersion": 1, "country": country}},
    )
    assert_only_error(payload, "INVALID", ["input", "country"], fragment)
    assert await state(client, recipient["slug"]) == before


@pytest.mark.parametrize(("country", "fragment"), COUNTRIES)
async def test_register_rejects_transfer_country(
    client: httpx.AsyncClient, country: str, fragment: str
) -> None:
    transfers = [
        {"country": "DE", "mechanism": "NOT_RESTRICTED"},
        {"country": country, "mechanism": "STANDARD_CONTRACTUAL_CLAUSES"},
    ]
    await register_fails(
        client,
        "INVALID",
        ["input", "disclosures", "0", "transfers", "1", "country"],
        fragment,
        name="Beta Mail",
        disclosures=[disclosure_input(transfers=transfers)],
    )


async def test_add_disclosure_rejects_transfer_country(client: httpx.AsyncClient) -> None:
    recipient = await existing(client)
    before = await state(client, recipient["slug"])
    disclosure = disclosure_input(transfers=[{"country": "UK", "mechanism": "UK_IDTA"}])
    payload = await mutate(
        client,
        ADD_DISCLOSURE,
        "addDisclosure",
        {"input": {"recipientId": recipient["id"], "disclosure": disclosure}},
    )
    assert_only_error(
        payload, "INVALID", ["input", "disclosure", "transfers", "0", "country"], 'use "GB"'
    )
    assert await state(client, recipient["slug"]) == before


# --- names and slugs ------------------------------------------------------------------------

NAMES = [
    ("", "must not be empty"),
    ("   \t ", "must not be empty"),
    ("a" * 201, "201 characters"),
]


@pytest.mark.parametrize(("name", "fragment"), NAMES, ids=["empty", "whitespace", "201-chars"])
async def test_register_rejects_name(client: httpx.AsyncClient, name: str, fragment: str) -> None:
    await register_fails(
        client, "INVALID", ["input", "name"], fragment, name=name, slug="beta-mail"
    )


@pytest.mark.parametrize("name", ["", "   "], ids=["empty", "whitespace"])
async def test_register_rejects_blank_name_without_slug(
    client: httpx.AsyncClient, name: str
) -> None:
    keep = await existing(client)
    before = await state(client, keep["slug"])
    payload = await mutate(
        client, REGISTER, "registerRecipient", {"input": recipient_input(name=name)}
    )
    assert payload["recipient"] is None
    errors = payload["userErrors"]
    name_errors = [e for e in errors if e["field"] == ["input", "name"]]
    assert len(name_errors) == 1, errors
    assert name_errors[0]["code"] == "INVALID"
    assert "must not be empty" in name_errors[0]["message"]
    assert {e["code"] for e in errors} == {"INVALID"}
    assert await state(client, keep["slug"]) == before


async def test_register_accepts_name_of_exactly_200_characters(
    client: httpx.AsyncClient,
) -> None:
    recipient = await register(client, name="a" * 200)
    assert recipient["name"] == "a" * 200


@pytest.mark.parametrize(("name", "fragment"), NAMES, ids=["empty", "whitespace", "201-chars"])
async def test_update_rejects_name(client: httpx.AsyncClient, name: str, fragment: str) -> None:
    recipient = await existing(client)
    before = await state(client, recipient["slug"])
    payload = await mutate(
        client,
        UPDATE,
        "updateRecipient",
        {"input": {"id": recipient["id"], "expectedVersion": 1, "name": name}},
    )
    assert_only_error(payload, "INVALID", ["input", "name"], fragment)
    assert await state(client, recipient["slug"]) == before


async def test_register_rejects_explicit_slug_clash(client: httpx.AsyncClient) -> None:
    await register_fails(
        client,
        "DUPLICATE",
        ["input", "slug"],
        '"acme-mail" is taken',
        name="Completely Different",
        slug="acme-mail",
    )


async def test_register_rejects_derived_slug_clash(client: httpx.AsyncClient) -> None:
    await register_fails(
        client, "DUPLICATE", ["input", "slug"], '"acme-mail" is taken', name="ACME  mail!"
    )


@pytest.mark.parametrize(
    "slug", ["Not A Slug", "acme--mail", "-acme", "acme_mail", "beta\n", "x" * 101]
)
async def test_register_rejects_invalid_explicit_slug(client: httpx.AsyncClient, slug: str) -> None:
    await register_fails(client, "INVALID", ["input", "slug"], "Slug", name="Beta", slug=slug)


# --- engagedBy ------------------------------------------------------------------------------


async def test_register_rejects_unknown_engaged_by(client: httpx.AsyncClient) -> None:
    await register_fails(
        client,
        "NOT_FOUND",
        ["input", "engagedBy"],
        'No recipient with slug "no-such-processor"',
        name="Beta Hosting",
        role="SUBPROCESSOR",
        engagedBy="no-such-processor",
    )


async def test_register_rejects_engaged_by_controller(client: httpx.AsyncClient) -> None:
    controller = await register(client, name="Big Controller", role="CONTROLLER")
    await register_fails(
        client,
        "INVALID",
        ["input", "engagedBy"],
        "only a PROCESSOR or SUBPROCESSOR",
        name="Beta Hosting",
        role="SUBPROCESSOR",
        engagedBy=controller["slug"],
    )


async def test_register_rejects_subprocessor_without_engaged_by(
    client: httpx.AsyncClient,
) -> None:
    await register_fails(
        client,
        "INVALID",
        ["input", "engagedBy"],
        "must name the processor",
        name="Beta Hosting",
        role="SUBPROCESSOR",
    )


async def test_update_rejects_engaging_itself(client: httpx.AsyncClient) -> None:
    recipient = await existing(client)
    before = await state(client, recipient["slug"])
    payload = await mutate(
        client,
        UPDATE,
        "updateRecipient",
        {
            "input": {
                "id": recipient["id"],
                "expectedVersion": 1,
                "role": "SUBPROCESSOR",
                "engagedBy": recipient["slug"],
            }
        },
    )
    assert_only_error(payload, "INVALID", ["input", "engagedBy"], "cannot engage itself")
    assert await state(client, recipient["slug"]) == before


@pytest.mark.parametrize("depth", [1, 2], ids=["two-cycle", "three-cycle"])
async def test_update_rejects_engagement_cycle(client: httpx.AsyncClient, depth: int) -> None:
    top = await existing(client)
    chain = [top]
    for i in range(depth):
        chain.append(
            await register(
                client,
                name=f"Sub {i}",
                role="SUBPROCESSOR",
                engagedBy=chain[-1]["slug"],
            )
        )
    before = {r["slug"]: await state(client, r["slug"]) for r in chain}
    payload = await mutate(
        client,
        UPDATE,
        "updateRecipient",
        {
            "input": {
                "id": top["id"],
                "expectedVersion": 1,
                "role": "SUBPROCESSOR",
                "engagedBy": chain[-1]["slug"],
            }
        },
    )
    assert_only_error(payload, "INVALID", ["input", "engagedBy"], "cycle")
    assert {r["slug"]: await state(client, r["slug"]) for r in chain} == before


# --- URLs -----------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["website", "privacyPolicyUrl"])
@pytest.mark.parametrize("url", ["ftp://x", "javascript:alert(1)"])
async def test_register_rejects_non_http_url(
    client: httpx.AsyncClient, field: str, url: str
) -> None:
    await register_fails(
        client,
        "INVALID",
        ["input", field],
        "http:// or https://",
        name="Beta Mail",
        **{field: url},
    )


@pytest.mark.parametrize("field", ["website", "privacyPolicyUrl"])
@pytest.mark.parametrize("url", ["ftp://x", "javascript:alert(1)"])
async def test_update_rejects_non_http_url(client: httpx.AsyncClient, field: str, url: str) -> None:
    recipient = await existing(client)
    before = await state(client, recipient["slug"])
    payload = await mutate(
        client,
        UPDATE,
        "updateRecipient",
        {"input": {"id": recipient["id"], "expectedVersion": 1, field: url}},
    )
    assert_only_error(payload, "INVALID", ["input", field], "http:// or https://")
    assert await state(client, recipient["slug"]) == before


# --- ending disclosures ---------------------------------------------------------------------


async def test_end_disclosure_rejects_effective_to_before_effective_from(
    client: httpx.AsyncClient,
) -> None:
    """The same day is allowed (the disclosure never applied: tests/api/test_disclosures.py)."""
    effective_to = "2023-12-31"
    recipient = await existing(client)
    disclosure = recipient["disclosures"][0]
    assert disclosure["effectiveFrom"] == "2024-01-01"
    before = await state(client, recipient["slug"])
    payload = await mutate(
        client,
        END_DISCLOSURE,
        "endDisclosure",
        {"input": {"id": disclosure["id"], "effectiveTo": effective_to}},
    )
    assert_only_error(
        payload,
        "INVALID",
        ["input", "effectiveTo"],
        "must not be before effectiveFrom (2024-01-01)",
    )
    assert await state(client, recipient["slug"]) == before


async def test_end_disclosure_rejects_already_ended(client: httpx.AsyncClient) -> None:
    recipient = await existing(client)
    disclosure_id = recipient["disclosures"][0]["id"]
    first = await mutate(
        client,
        END_DISCLOSURE,
        "endDisclosure",
        {"input": {"id": disclosure_id, "effectiveTo": "2024-06-01"}},
    )
    assert first["userErrors"] == []
    before = await state(client, recipient["slug"])
    payload = await mutate(
        client,
        END_DISCLOSURE,
        "endDisclosure",
        {"input": {"id": disclosure_id, "effectiveTo": "2024-07-01"}},
    )
    assert_only_error(payload, "INVALID", ["input", "id"], "already ended on 2024-06-01")
    assert await state(client, recipient["slug"]) == before


# --- retention and empty lists --------------------------------------------------------------

RETENTIONS = [
    ("P30X", "looks like an ISO 8601 duration but is not one"),
    ("123", "ISO 8601 duration"),
    ("   ", "must not be empty"),
]


@pytest.mark.parametrize(("retention", "fragment"), RETENTIONS)
async def test_register_rejects_retention(
    client: httpx.AsyncClient, retention: str, fragment: str
) -> None:
    await register_fails(
        client,
        "INVALID",
        ["input", "disclosures", "0", "retention"],
        fragment,
        name="Beta Mail",
        disclosures=[disclosure_input(retention=retention)],
    )


@pytest.mark.parametrize(("retention", "fragment"), RETENTIONS)
async def test_add_disclosure_rejects_retention(
    client: httpx.AsyncClient, retention: str, fragment: str
) -> None:
    recipient = await existing(client)
    before = await state(client, recipient["slug"])
    payload = await mutate(
        client,
        ADD_DISCLOSURE,
        "addDisclosure",
        {
            "input": {
                "recipientId": recipient["id"],
                "disclosure": disclosure_input(retention=retention),
            }
        },
    )
    assert_only_error(payload, "INVALID", ["input", "disclosure", "retention"], fragment)
    assert await state(client, recipient["slug"]) == before


EMPTY_LISTS = [
    ("dataCategories", "at least one data category"),
    ("subjectTypes", "at least one subject type"),
    ("purposes", "at least one purpose"),
]


@pytest.mark.parametrize(("name", "fragment"), EMPTY_LISTS)
async def test_register_rejects_disclosure_with_empty_list(
    client: httpx.AsyncClient, name: str, fragment: str
) -> None:
    await register_fails(
        client,
        "INVALID",
        ["input", "disclosures", "0", name],
        fragment,
        name="Beta Mail",
        disclosures=[disclosure_input(**{name: []})],
    )


@pytest.mark.parametrize(("name", "fragment"), EMPTY_LISTS)
async def test_add_disclosure_rejects_empty_list(
    client: httpx.AsyncClient, name: str, fragment: str
) -> None:
    recipient = await existing(client)
    before = await state(client, recipient["slug"])
    payload = await mutate(
        client,
        ADD_DISCLOSURE,
        "addDisclosure",
        {"input": {"recipientId": recipient["id"], "disclosure": disclosure_input(**{name: []})}},
    )
    assert_only_error(payload, "INVALID", ["input", "disclosure", name], fragment)
    assert await state(client, recipient["slug"]) == before


# --- several errors at once -----------------------------------------------------------------


async def test_register_reports_every_input_error_together(client: httpx.AsyncClient) -> None:
    keep = await existing(client)
    before = await state(client, keep["slug"])
    bad = recipient_input(
        name="  ",
        slug="beta-mail",
        country="UK",
        website="ftp://x",
        privacyPolicyUrl="javascript:alert(1)",
        disclosures=[
            disclosure_input(),
            disclosure_input(
                dataCategories=["user.contact.email", "user.nonsense"],
                subjectTypes=[],
                retention="123",
                transfers=[{"country": "gb", "mechanism": "UK_IDTA"}],
            ),
        ],
    )
    payload = await mutate(client, REGISTER, "registerRecipient", {"input": bad})
    assert payload["recipient"] is None
    found = sorted((e["code"], e["field"]) for e in payload["userErrors"])
    assert found == sorted(
        [
            ("INVALID", ["input", "name"]),
            ("INVALID", ["input", "country"]),
            ("INVALID", ["input", "website"]),
            ("INVALID", ["input", "privacyPolicyUrl"]),
            ("INVALID", ["input", "disclosures", "1", "dataCategories", "1"]),
            ("INVALID", ["input", "disclosures", "1", "subjectTypes"]),
            ("INVALID", ["input", "disclosures", "1", "retention"]),
            ("INVALID", ["input", "disclosures", "1", "transfers", "0", "country"]),
        ]
    )
    assert all(e["message"] for e in payload["userErrors"])
    assert await state(client, keep["slug"]) == before


async def test_register_reports_input_and_reference_errors_together(
    client: httpx.AsyncClient,
) -> None:
    """A bad country must not hide that the slug is taken and the processor unknown: the
    caller fixes everything in one round trip."""
    keep = await existing(client)
    before = await state(client, keep["slug"])
    bad = recipient_input(
        name="Acme Mail",
        country="UK",
        role="SUBPROCESSOR",
        engagedBy="no-such-processor",
    )
    payload = await mutate(client, REGISTER, "registerRecipient", {"input": bad})
    assert payload["recipient"] is None
    found = sorted((e["code"], e["field"]) for e in payload["userErrors"])
    assert found == sorted(
        [
            ("INVALID", ["input", "country"]),
            ("NOT_FOUND", ["input", "engagedBy"]),
            ("DUPLICATE", ["input", "slug"]),
        ]
    ), payload["userErrors"]
    assert await state(client, keep["slug"]) == before


async def test_update_reports_every_input_error_together(client: httpx.AsyncClient) -> None:
    recipient = await existing(client)
    before = await state(client, recipient["slug"])
    payload = await mutate(
        client,
        UPDATE,
        "updateRecipient",
        {
            "input": {
                "id": recipient["id"],
                "expectedVersion": 1,
                "name": "",
                "country": "XX",
                "website": "ftp://x",
            }
        },
    )
    assert payload["recipient"] is None
    found = sorted((e["code"], e["field"]) for e in payload["userErrors"])
    assert found == [
        ("INVALID", ["input", "country"]),
        ("INVALID", ["input", "name"]),
        ("INVALID", ["input", "website"]),
    ]
    assert await state(client, recipient["slug"]) == before


# --- lifecycle and concurrency --------------------------------------------------------------


async def test_illegal_status_transition_names_allowed_ones(client: httpx.AsyncClient) -> None:
    recipient = await existing(client)
    before = await state(client, recipient["slug"])
    payload = await mutate(
        client,
        CHANGE_STATUS,
        "changeRecipientStatus",
        {"input": {"id": recipient["id"], "status": "ACTIVE", "note": "skip review"}},
    )
    assert_only_error(payload, "INVALID_TRANSITION", ["input", "status"], "UNDER_REVIEW")
    assert "PROPOSED" in payload["userErrors"][0]["message"]
    assert await state(client, recipient["slug"]) == before


@pytest.mark.parametrize("expected_version", [1, 3, 0], ids=["behind", "ahead", "zero"])
async def test_stale_expected_version(client: httpx.AsyncClient, expected_version: int) -> None:
    recipient = await existing(client)
    moved = await mutate(
        client,
        UPDATE,
        "updateRecipient",
        {"input": {"id": recipient["id"], "expectedVersion": 1, "name": "Acme Post"}},
    )
    assert moved["recipient"]["version"] == 2
    before = await state(client, recipient["slug"])
    payload = await mutate(
        client,
        UPDATE,
        "updateRecipient",
        {
            "input": {
                "id": recipient["id"],
                "expectedVersion": expected_version,
                "name": "Acme Parcel",
            }
        },
    )
    assert_only_error(
        payload, "STALE_VERSION", ["input", "expectedVersion"], "current version is 2"
    )
    assert await state(client, recipient["slug"]) == before


BAD_IDS = {
    "garbage": lambda t: "not-an-id",
    "empty": lambda t: "",
    "not-base64-of-pair": lambda t: base64.b64encode(t.encode()).decode(),
    "non-numeric": lambda t: gid(t, "abc"),
    "missing": lambda t: gid(t, 999999),
    "over-int32": lambda t: gid(t, 2**31),
    "huge": lambda t: gid(t, "9" * 30),
    "unknown-type": lambda t: gid("Invoice", 1),
}
MUTATION_ID_TYPES = {"update": "Recipient", "status": "Recipient", "add": "Recipient"}


def _mutation_cases() -> list[Any]:
    cases = []
    for name, make in BAD_IDS.items():
        for mutation in ("update", "status", "add", "end"):
            bad = make(MUTATION_ID_TYPES.get(mutation, "Disclosure"))
            cases.append(pytest.param(mutation, bad, id=f"{mutation}-{name}"))
    return cases


async def _call_with_id(
    client: httpx.AsyncClient, mutation: str, bad_id: str
) -> tuple[dict[str, Any], list[str]]:
    if mutation == "update":
        variables = {"input": {"id": bad_id, "expectedVersion": 1, "name": "Renamed"}}
        return await mutate(client, UPDATE, "updateRecipient", variables), ["input", "id"]
    if mutation == "status":
        variables = {"input": {"id": bad_id, "status": "UNDER_REVIEW"}}
        payload = await mutate(client, CHANGE_STATUS, "changeRecipientStatus", variables)
        return payload, ["input", "id"]
    if mutation == "add":
        variables = {"input": {"recipientId": bad_id, "disclosure": disclosure_input()}}
        payload = await mutate(client, ADD_DISCLOSURE, "addDisclosure", variables)
        return payload, ["input", "recipientId"]
    variables = {"input": {"id": bad_id, "effectiveTo": "2030-01-01"}}
    return await mutate(client, END_DISCLOSURE, "endDisclosure", variables), ["input", "id"]


@pytest.mark.parametrize(("mutation", "bad_id"), _mutation_cases())
async def test_malformed_global_id_is_not_found(
    client: httpx.AsyncClient, mutation: str, bad_id: str
) -> None:
    recipient = await existing(client)
    before = await state(client, recipient["slug"])
    payload, path = await _call_with_id(client, mutation, bad_id)
    assert_only_error(payload, "NOT_FOUND", path, "")
    assert payload["userErrors"][0]["message"].strip()
    assert await state(client, recipient["slug"]) == before


@pytest.mark.parametrize("mutation", ["update", "status", "add", "end"])
async def test_global_id_of_the_wrong_type_is_not_found(
    client: httpx.AsyncClient, mutation: str
) -> None:
    recipient = await existing(client)
    before = await state(client, recipient["slug"])
    # A real ID, but of the other type: a disclosure's for recipients and vice versa.
    disclosure_id = recipient["disclosures"][0]["id"]
    wrong = recipient["id"] if mutation == "end" else disclosure_id
    payload, path = await _call_with_id(client, mutation, wrong)
    expected_type = "Disclosure" if mutation == "end" else "Recipient"
    assert_only_error(payload, "NOT_FOUND", path, f"is not the ID of a {expected_type}")
    assert await state(client, recipient["slug"]) == before


# --- GraphQL request errors -----------------------------------------------------------------


def _wrong_type_cases() -> list[Any]:
    return [
        pytest.param(
            REGISTER,
            lambda r: {"input": recipient_input(name="Beta", kind="NOT_A_KIND")},
            id="register-kind",
        ),
        pytest.param(
            REGISTER,
            lambda r: {"input": recipient_input(name="Beta", dpaSignedOn="yesterday")},
            id="register-date",
        ),
        pytest.param(
            REGISTER,
            lambda r: {"input": recipient_input(name="Beta", services=[7])},
            id="register-services-not-strings",
        ),
        pytest.param(
            UPDATE,
            lambda r: {"input": {"id": r["id"], "expectedVersion": "x", "name": "Renamed"}},
            id="update-expected-version",
        ),
        pytest.param(
            UPDATE,
            lambda r: {"input": {"id": r["id"], "name": "Renamed"}},
            id="update-missing-expected-version",
        ),
        pytest.param(
            CHANGE_STATUS,
            lambda r: {"input": {"id": r["id"], "status": "ALIVE"}},
            id="status-enum",
        ),
        pytest.param(
            ADD_DISCLOSURE,
            lambda r: {
                "input": {
                    "recipientId": r["id"],
                    "disclosure": disclosure_input(legalBasis="MAYBE"),
                }
            },
            id="add-legal-basis",
        ),
        pytest.param(
            END_DISCLOSURE,
            lambda r: {"input": {"id": r["disclosures"][0]["id"], "effectiveTo": "soon"}},
            id="end-date",
        ),
    ]


@pytest.mark.parametrize(("query", "make_variables"), _wrong_type_cases())
async def test_wrong_variable_types_are_request_errors(
    client: httpx.AsyncClient, query: str, make_variables: Any
) -> None:
    recipient = await existing(client)
    before = await state(client, recipient["slug"])
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": make_variables(recipient)},
        headers={"Accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    body = response.json()
    assert "data" not in body, body
    assert isinstance(body["errors"], list) and body["errors"], body
    assert all(isinstance(e["message"], str) and e["message"] for e in body["errors"])
    assert await state(client, recipient["slug"]) == before
