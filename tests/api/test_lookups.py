"""Looking up one recipient or node, and walking the processor -> subprocessor chain."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from tests.conftest import gql
from tests.helpers import disclosure_input, register

BY_ID = "query($id: ID) { recipient(id: $id) { id slug name } }"
BY_SLUG = "query($slug: String) { recipient(slug: $slug) { id slug name } }"
NODE = """
query($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Recipient { slug name }
    ... on Disclosure { legalBasis ground recipient { slug } dataCategories { key } }
  }
}
"""
CHAIN = """
query($slug: String!) {
  recipient(slug: $slug) {
    slug
    engagedBy { slug engagedBy { slug } }
    subprocessors { slug name engagedBy { slug } subprocessors { slug name } }
  }
}
"""


def global_id(type_name: str, node_id: object) -> str:
    return base64.b64encode(f"{type_name}:{node_id}".encode()).decode()


def no_errors(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


async def error_message(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> str:
    """The message of a GraphQL error that must not be masked as an internal one."""
    body = await gql(client, query, variables)
    assert body["errors"], body
    assert body.get("data") in (None, {"recipient": None}), body
    message: str = body["errors"][0]["message"]
    assert "Internal error" not in message, message
    return message


async def test_recipient_by_id(client: httpx.AsyncClient) -> None:
    await register(client, name="Other")
    recipient = await register(client, name="Acme Mail")
    data = no_errors(await gql(client, BY_ID, {"id": recipient["id"]}))
    assert data["recipient"] == {"id": recipient["id"], "slug": "acme-mail", "name": "Acme Mail"}


async def test_recipient_by_slug(client: httpx.AsyncClient) -> None:
    recipient = await register(client, name="Acme Mail")
    await register(client, name="Other")
    data = no_errors(await gql(client, BY_SLUG, {"slug": "acme-mail"}))
    assert data["recipient"] == {"id": recipient["id"], "slug": "acme-mail", "name": "Acme Mail"}


async def test_recipient_with_neither_id_nor_slug_is_an_error(client: httpx.AsyncClient) -> None:
    await register(client)
    message = await error_message(client, "{ recipient { id } }")
    assert "id" in message and "slug" in message


async def test_recipient_with_both_id_and_slug_is_an_error(client: httpx.AsyncClient) -> None:
    recipient = await register(client)
    message = await error_message(
        client,
        "query($id: ID, $slug: String) { recipient(id: $id, slug: $slug) { id } }",
        {"id": recipient["id"], "slug": recipient["slug"]},
    )
    assert "id" in message and "slug" in message


async def test_recipient_with_null_variables_is_an_error(client: httpx.AsyncClient) -> None:
    await register(client)
    await error_message(
        client,
        "query($id: ID, $slug: String) { recipient(id: $id, slug: $slug) { id } }",
        {"id": None, "slug": None},
    )


async def test_unknown_slug_is_null(client: httpx.AsyncClient) -> None:
    await register(client)
    for slug in ["no-such-recipient", "", "ACME-MAIL", "acme%"]:
        assert no_errors(await gql(client, BY_SLUG, {"slug": slug})) == {"recipient": None}


@pytest.mark.parametrize(
    "value",
    [
        global_id("Recipient", 999999),
        global_id("Recipient", "abc"),
        global_id("Recipient", -1),
        global_id("Recipient", 10**30),
        global_id("Disclosure", 1),
        global_id("Nothing", 1),
        "garbage",
        "",
        "1",
    ],
)
async def test_unknown_or_garbage_id_is_null(client: httpx.AsyncClient, value: str) -> None:
    await register(client, disclosures=[disclosure_input()])
    assert no_errors(await gql(client, BY_ID, {"id": value})) == {"recipient": None}


async def test_node_returns_a_recipient(client: httpx.AsyncClient) -> None:
    recipient = await register(client, name="Acme Mail")
    data = no_errors(await gql(client, NODE, {"id": recipient["id"]}))
    assert data["node"] == {
        "__typename": "Recipient",
        "id": recipient["id"],
        "slug": "acme-mail",
        "name": "Acme Mail",
    }


async def test_node_returns_a_disclosure(client: httpx.AsyncClient) -> None:
    recipient = await register(
        client,
        name="Acme Mail",
        disclosures=[disclosure_input(legalBasis="LEGITIMATE_INTERESTS")],
    )
    disclosure_id = recipient["disclosures"][0]["id"]
    data = no_errors(await gql(client, NODE, {"id": disclosure_id}))
    assert data["node"] == {
        "__typename": "Disclosure",
        "id": disclosure_id,
        "legalBasis": "LEGITIMATE_INTERESTS",
        "ground": "SERVICE_PROVISION",
        "recipient": {"slug": "acme-mail"},
        "dataCategories": [{"key": "user.contact.email"}],
    }


@pytest.mark.parametrize(
    "value",
    [
        global_id("Recipient", 999999),
        global_id("Disclosure", 999999),
        global_id("Recipient", 10**30),
        global_id("Disclosure", 2**63),
        global_id("Recipient", "abc"),
        global_id("Recipient", ""),
        global_id("AuditEvent", 1),
        global_id("Nothing", 1),
        "garbage",
        "",
        "!!!",
        "1",
        base64.b64encode(b"\xff\xfe:1").decode(),
    ],
)
async def test_node_unknown_or_garbage_id_is_null(client: httpx.AsyncClient, value: str) -> None:
    await register(client, disclosures=[disclosure_input()])
    body = await gql(client, NODE, {"id": value})
    assert "errors" not in body, body
    assert body["data"] == {"node": None}


async def test_engaged_by_and_subprocessors_on_a_two_level_chain(
    client: httpx.AsyncClient,
) -> None:
    await register(client, name="Prime Processor", slug="prime")
    await register(client, name="Zulu Sub", slug="zulu-sub", role="SUBPROCESSOR", engagedBy="prime")
    await register(
        client, name="alpha Sub", slug="alpha-sub", role="SUBPROCESSOR", engagedBy="prime"
    )
    await register(client, name="Mid Sub", slug="mid-sub", role="SUBPROCESSOR", engagedBy="prime")
    await register(
        client, name="Deep Two", slug="deep-two", role="SUBPROCESSOR", engagedBy="alpha-sub"
    )
    await register(
        client, name="deep One", slug="deep-one", role="SUBPROCESSOR", engagedBy="alpha-sub"
    )
    await register(client, name="Unrelated", slug="unrelated")

    prime = no_errors(await gql(client, CHAIN, {"slug": "prime"}))["recipient"]
    assert prime["engagedBy"] is None
    assert [s["name"] for s in prime["subprocessors"]] == ["alpha Sub", "Mid Sub", "Zulu Sub"]
    assert all(s["engagedBy"] == {"slug": "prime"} for s in prime["subprocessors"])
    alpha = prime["subprocessors"][0]
    assert alpha["subprocessors"] == [
        {"slug": "deep-one", "name": "deep One"},
        {"slug": "deep-two", "name": "Deep Two"},
    ]
    assert prime["subprocessors"][1]["subprocessors"] == []

    deep = no_errors(await gql(client, CHAIN, {"slug": "deep-two"}))["recipient"]
    assert deep["engagedBy"] == {"slug": "alpha-sub", "engagedBy": {"slug": "prime"}}
    assert deep["subprocessors"] == []

    unrelated = no_errors(await gql(client, CHAIN, {"slug": "unrelated"}))["recipient"]
    assert unrelated["engagedBy"] is None
    assert unrelated["subprocessors"] == []
