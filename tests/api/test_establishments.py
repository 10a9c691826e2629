"""The organisation's own establishments through HTTP (issue 13 §1): registration, the one main
establishment, optimistic updates, node lookup, who may, and every kind of bad input."""

from __future__ import annotations

from typing import Any

import httpx
from strawberry.relay import GlobalID

from server.db.models import AuditEvent, Establishment
from tests.conftest import MakeClient, gql

FIELDS = "id slug name legalName country targets main version"
REGISTER = f"""
mutation Register($input: EstablishmentInput!) {{
  registerEstablishment(input: $input) {{
    establishment {{ {FIELDS} }}
    userErrors {{ field message code }}
  }}
}}
"""
UPDATE = f"""
mutation Update($input: UpdateEstablishmentInput!) {{
  updateEstablishment(input: $input) {{
    establishment {{ {FIELDS} }}
    userErrors {{ field message code }}
  }}
}}
"""
LIST = f"{{ establishments {{ {FIELDS} }} }}"


async def register(client: httpx.AsyncClient, **given: Any) -> dict[str, Any]:
    body = await gql(
        client,
        REGISTER,
        {"input": {"name": "Lumora, Inc.", "country": "US", "targets": ["EEA", "UK"], **given}},
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["registerEstablishment"]
    return payload


async def update(client: httpx.AsyncClient, **given: Any) -> dict[str, Any]:
    body = await gql(client, UPDATE, {"input": given})
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["updateEstablishment"]
    return payload


async def test_the_first_is_main_and_making_another_main_moves_it(
    client: httpx.AsyncClient,
) -> None:
    us = await register(client)
    assert us["userErrors"] == []
    assert us["establishment"]["main"] is True  # the first one, though it did not ask
    assert us["establishment"]["slug"] == "lumora-inc"
    assert us["establishment"]["targets"] == ["EEA", "UK"]
    uk = await register(
        client, name="Lumora Works Limited", country="GB", targets=["EEA"], slug="lumora-uk"
    )
    assert uk["establishment"]["main"] is False
    moved = await update(client, id=uk["establishment"]["id"], expectedVersion=1, main=True)
    assert moved["userErrors"] == [] and moved["establishment"]["main"] is True
    listed = (await gql(client, LIST))["data"]["establishments"]
    assert [(e["slug"], e["main"]) for e in listed] == [("lumora-uk", True), ("lumora-inc", False)]
    assert await Establishment.filter(main=True).count() == 1
    actions = await AuditEvent.filter(entity_type="Establishment").values_list("action", flat=True)
    assert sorted(actions) == [
        "registerEstablishment",
        "registerEstablishment",
        "updateEstablishment",
    ]


async def test_the_main_establishment_cannot_be_unmarked(client: httpx.AsyncClient) -> None:
    us = (await register(client))["establishment"]
    payload = await update(client, id=us["id"], expectedVersion=1, main=False)
    assert payload["establishment"] is None
    [error] = payload["userErrors"]
    assert (error["field"], error["code"]) == (["input", "main"], "INVALID")
    assert "make another establishment main" in error["message"]


async def test_a_stale_version_changes_nothing(client: httpx.AsyncClient) -> None:
    us = (await register(client))["establishment"]
    assert (await update(client, id=us["id"], expectedVersion=1, name="Lumora Inc."))[
        "userErrors"
    ] == []
    stale = await update(client, id=us["id"], expectedVersion=1, country="CA")
    [error] = stale["userErrors"]
    assert (error["field"], error["code"]) == (["input", "expectedVersion"], "STALE_VERSION")
    assert "current version is 2" in error["message"]
    row = await Establishment.get(slug="lumora-inc")
    assert (row.country, row.version, row.name) == ("US", 2, "Lumora Inc.")


async def test_every_bad_input_at_once_and_nothing_written(client: httpx.AsyncClient) -> None:
    payload = await register(client, name=" ", country="Germany", targets=["UK", "UK"], slug="A B")
    assert payload["establishment"] is None
    assert sorted(tuple(e["field"]) for e in payload["userErrors"]) == [
        ("input", "country"),
        ("input", "name"),
        ("input", "slug"),
        ("input", "targets"),
    ]
    assert await Establishment.all().count() == 0


async def test_a_taken_slug_and_an_unknown_id(client: httpx.AsyncClient) -> None:
    first = (await register(client))["establishment"]
    again = await register(client, name="Lumora Inc")
    [error] = again["userErrors"]
    assert (error["field"], error["code"]) == (["input", "slug"], "DUPLICATE")
    gone = await update(client, id="RXN0YWJsaXNobWVudDo5OTk=", expectedVersion=1, name="X")
    [error] = gone["userErrors"]
    assert error["code"] == "NOT_FOUND"
    recipient_id = GlobalID("Recipient", "1")
    wrong_type = await update(client, id=str(recipient_id), expectedVersion=1, name="X")
    assert [e["field"] for e in wrong_type["userErrors"]] == [["input", "id"]]
    assert (await Establishment.get(id=1)).name == first["name"]


async def test_node_lookup(client: httpx.AsyncClient) -> None:
    us = (await register(client))["establishment"]
    body = await gql(
        client,
        "query($id: ID!) { node(id: $id) { id ... on Establishment { slug } } }",
        {"id": us["id"]},
    )
    assert body["data"]["node"] == {"id": us["id"], "slug": "lumora-inc"}


async def test_only_privacy_and_admin_manage_establishments(
    client: httpx.AsyncClient, client_for: MakeClient
) -> None:
    for role in ("viewer", "procurement"):
        other = await client_for(role, f"{role}-key")
        payload = await register(other)
        assert payload["establishment"] is None
        assert [e["code"] for e in payload["userErrors"]] == ["FORBIDDEN"]
        assert (await gql(other, LIST))["data"]["establishments"] == []
    privacy = await client_for("privacy", "dpo-office")
    assert (await register(privacy))["userErrors"] == []
    assert await Establishment.all().count() == 1
