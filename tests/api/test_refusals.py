"""Issue 11 §6: what is refused is recorded. A FORBIDDEN mutation (refused by its permission,
or by the service for a status the role may not set) leaves an audit event naming the actor,
the operation and its target, and changes nothing else; every FORBIDDEN answer is logged with
`outcome: forbidden`."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest

from server.logging_setup import JsonFormatter
from tests.conftest import MakeClient, gql
from tests.helpers import CHANGE_STATUS, REGISTER, move, recipient_input, register

HISTORY = """query($id: ID!) { node(id: $id) { ... on Recipient { version status
  history { actor action changes } } } }"""


@pytest.fixture(autouse=True)
def access_records(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="server.access")
    return caplog


def outcomes(caplog: pytest.LogCaptureFixture) -> list[str]:
    formatter = JsonFormatter()
    lines = [json.loads(formatter.format(r)) for r in caplog.records if r.name == "server.access"]
    return [line["outcome"] for line in lines]


async def refused_events(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    """The audit trail's refusals, read as an admin would (every recipient's history)."""
    body = await gql(
        client, "{ recipients(first: 100) { edges { node { history { actor action changes } } } } }"
    )
    return [
        event
        for edge in body["data"]["recipients"]["edges"]
        for event in edge["node"]["history"]
        if event["action"].startswith("forbidden:")
    ]


async def test_a_mutation_a_key_may_not_call_is_audited_and_logged_as_forbidden(
    client: httpx.AsyncClient, client_for: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    viewer = await client_for("viewer", "curious-viewer")
    target = await register(client, name="Target")
    caplog.clear()
    body = await gql(
        viewer, CHANGE_STATUS, {"input": {"id": target["id"], "status": "UNDER_REVIEW"}}
    )
    [error] = body["data"]["changeRecipientStatus"]["userErrors"]
    assert error["code"] == "FORBIDDEN"
    assert outcomes(caplog) == ["forbidden"]
    seen = await gql(client, HISTORY, {"id": target["id"]})
    node = seen["data"]["node"]
    # Nothing else changed: same version and status; the refusal is in the target's history.
    assert (node["version"], node["status"]) == (target["version"], target["status"])
    [event] = [e for e in node["history"] if e["action"].startswith("forbidden:")]
    assert event["actor"] == "curious-viewer"
    assert event["action"] == "forbidden:changeRecipientStatus"
    assert "Forbidden" in json.loads(event["changes"])["refused"][1]


async def test_a_status_the_role_may_not_set_is_audited_too(
    client: httpx.AsyncClient, client_for: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    procurement = await client_for("procurement", "buyer")
    target = await register(procurement, name="Wanted")
    await move(procurement, target["id"], "UNDER_REVIEW")
    caplog.clear()
    # Approval is the privacy team's: the second pair of eyes.
    body = await gql(
        procurement, CHANGE_STATUS, {"input": {"id": target["id"], "status": "APPROVED"}}
    )
    [error] = body["data"]["changeRecipientStatus"]["userErrors"]
    assert error["code"] == "FORBIDDEN"
    assert outcomes(caplog) == ["forbidden"]
    [event] = await refused_events(client)
    assert (event["actor"], event["action"]) == ("buyer", "forbidden:changeRecipientStatus")


async def test_a_refused_registration_names_no_target_and_writes_nothing_else(
    client: httpx.AsyncClient, client_for: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    viewer = await client_for("viewer", "v2")
    caplog.clear()
    body = await gql(viewer, REGISTER, {"input": recipient_input()})
    assert body["data"]["registerRecipient"]["userErrors"][0]["code"] == "FORBIDDEN"
    assert outcomes(caplog) == ["forbidden"]
    listing = await gql(client, "{ recipients(first: 1) { totalCount } }")
    assert listing["data"]["recipients"]["totalCount"] == 0


async def test_a_query_a_key_may_not_read_is_logged_as_forbidden(
    client_for: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    viewer = await client_for("viewer", "v3")
    caplog.clear()
    body = await gql(viewer, '{ dataSubject(ref: {externalRef: "x"}) { id } }')
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert outcomes(caplog) == ["forbidden"]
