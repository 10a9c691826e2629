"""Registering, reading and updating recipients through HTTP."""

from __future__ import annotations

import httpx

from tests.conftest import gql
from tests.helpers import UPDATE, disclosure_input, register


async def test_register_derives_slug_and_starts_proposed(client: httpx.AsyncClient) -> None:
    recipient = await register(client, name="Acme Mail, Inc.", disclosures=[disclosure_input()])
    assert recipient["slug"] == "acme-mail-inc"
    assert recipient["status"] == "PROPOSED"
    assert recipient["version"] == 1
    assert len(recipient["disclosures"]) == 1


async def test_update_bumps_version_and_records_history(client: httpx.AsyncClient) -> None:
    recipient = await register(client)
    body = await gql(
        client,
        UPDATE,
        {"input": {"id": recipient["id"], "expectedVersion": 1, "name": "Acme Post"}},
    )
    payload = body["data"]["updateRecipient"]
    assert payload["userErrors"] == []
    assert payload["recipient"]["name"] == "Acme Post"
    assert payload["recipient"]["version"] == 2
    history = await gql(
        client,
        "query($slug: String!) { recipient(slug: $slug) { history { action actor changes } } }",
        {"slug": recipient["slug"]},
    )
    events = history["data"]["recipient"]["history"]
    assert [e["action"] for e in events] == ["updateRecipient", "registerRecipient"]
    assert events[0]["changes"] == '{"name":["Acme Mail","Acme Post"]}'
