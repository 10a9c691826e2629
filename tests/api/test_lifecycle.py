"""The recipient lifecycle through HTTP: PROPOSED -> UNDER_REVIEW -> APPROVED | REJECTED;
APPROVED -> ACTIVE; ACTIVE <-> SUSPENDED; ACTIVE | SUSPENDED -> OFFBOARDED."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.conftest import gql
from tests.helpers import CHANGE_STATUS, register

STATUSES = [
    "PROPOSED",
    "UNDER_REVIEW",
    "APPROVED",
    "REJECTED",
    "ACTIVE",
    "SUSPENDED",
    "OFFBOARDED",
]
LEGAL = {
    ("PROPOSED", "UNDER_REVIEW"),
    ("UNDER_REVIEW", "APPROVED"),
    ("UNDER_REVIEW", "REJECTED"),
    ("APPROVED", "ACTIVE"),
    ("ACTIVE", "SUSPENDED"),
    ("SUSPENDED", "ACTIVE"),
    ("ACTIVE", "OFFBOARDED"),
    ("SUSPENDED", "OFFBOARDED"),
}
FINAL = ("REJECTED", "OFFBOARDED")
ILLEGAL = sorted(
    (source, target) for source in STATUSES for target in STATUSES if (source, target) not in LEGAL
)

STATE = """
query State($slug: String!) {
  recipients { totalCount }
  recipient(slug: $slug) {
    status version updatedAt
    history { at actor action changes }
  }
}
"""


async def state(client: httpx.AsyncClient, slug: str) -> dict[str, Any]:
    body = await gql(client, STATE, {"slug": slug})
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def change(
    client: httpx.AsyncClient, recipient_id: str, status: str, note: str | None = None
) -> dict[str, Any]:
    variables = {"input": {"id": recipient_id, "status": status, "note": note}}
    body = await gql(client, CHANGE_STATUS, variables)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["changeRecipientStatus"]
    return payload


@pytest.mark.parametrize(("source", "target"), sorted(LEGAL))
async def test_legal_transition(
    client: httpx.AsyncClient, reviewer: httpx.AsyncClient, source: str, target: str
) -> None:
    recipient = await register(client, status=source)
    assert recipient["status"] == source
    assert recipient["version"] == 1
    note = f"{source} to {target}: reviewed by the DPO"
    payload = await change(reviewer, recipient["id"], target, note)
    assert payload["userErrors"] == []
    assert payload["recipient"] == {"id": recipient["id"], "status": target, "version": 2}

    after = await state(client, recipient["slug"])
    assert after["recipient"]["status"] == target
    assert after["recipient"]["version"] == 2
    events = after["recipient"]["history"]
    # Registered past PROPOSED, it skipped review: its import review was opened with it.
    opened = ["openChange"] if source != "PROPOSED" else []
    assert [e["action"] for e in events] == ["changeRecipientStatus", *opened, "registerRecipient"]
    assert [e["actor"] for e in events] == [
        "test-reviewer",
        *(["test-admin"] * len(opened)),
        "test-admin",
    ]
    assert json.loads(events[0]["changes"]) == {
        "status": [source, target],
        "note": [None, note],
    }


async def test_whole_lifecycle_bumps_version_at_every_step(
    client: httpx.AsyncClient, reviewer: httpx.AsyncClient
) -> None:
    recipient = await register(client)
    path = [
        "UNDER_REVIEW",
        "APPROVED",
        "ACTIVE",
        "SUSPENDED",
        "ACTIVE",
        "SUSPENDED",
        "OFFBOARDED",
    ]
    for step, target in enumerate(path, start=2):
        payload = await change(reviewer, recipient["id"], target, f"step {step}")
        assert payload["userErrors"] == []
        assert payload["recipient"]["status"] == target
        assert payload["recipient"]["version"] == step

    events = (await state(client, recipient["slug"]))["recipient"]["history"]
    assert [e["action"] for e in events] == ["changeRecipientStatus"] * len(path) + [
        "registerRecipient"
    ]
    moves = [json.loads(e["changes"]) for e in reversed(events[:-1])]
    pairs = zip(["PROPOSED", *path[:-1]], path, strict=True)
    assert [m["status"] for m in moves] == [list(p) for p in pairs]
    assert [m["note"][1] for m in moves] == [f"step {i}" for i in range(2, len(path) + 2)]


async def test_under_review_can_be_rejected(client: httpx.AsyncClient) -> None:
    recipient = await register(client)
    for step, target in enumerate(["UNDER_REVIEW", "REJECTED"], start=2):
        payload = await change(client, recipient["id"], target, "no DPA offered")
        assert payload["userErrors"] == []
        assert payload["recipient"]["version"] == step
    assert (await state(client, recipient["slug"]))["recipient"]["status"] == "REJECTED"


async def test_transition_without_note_records_only_the_status(
    client: httpx.AsyncClient,
) -> None:
    recipient = await register(client)
    payload = await change(client, recipient["id"], "UNDER_REVIEW")
    assert payload["userErrors"] == []
    events = (await state(client, recipient["slug"]))["recipient"]["history"]
    assert events[0]["action"] == "changeRecipientStatus"
    assert json.loads(events[0]["changes"]) == {"status": ["PROPOSED", "UNDER_REVIEW"]}


@pytest.mark.parametrize("final", FINAL)
@pytest.mark.parametrize("target", STATUSES)
async def test_final_statuses_cannot_change(
    client: httpx.AsyncClient, final: str, target: str
) -> None:
    recipient = await register(client, status=final)
    before = await state(client, recipient["slug"])
    payload = await change(client, recipient["id"], target, "try anyway")
    assert payload["recipient"] is None
    errors = payload["userErrors"]
    assert [(e["code"], e["field"]) for e in errors] == [
        ("INVALID_TRANSITION", ["input", "status"])
    ]
    assert "final" in errors[0]["message"]
    assert final in errors[0]["message"]
    assert await state(client, recipient["slug"]) == before


@pytest.mark.parametrize(("source", "target"), ILLEGAL)
async def test_illegal_transition_writes_nothing(
    client: httpx.AsyncClient, source: str, target: str
) -> None:
    recipient = await register(client, status=source)
    before = await state(client, recipient["slug"])
    payload = await change(client, recipient["id"], target, "should not stick")
    assert payload["recipient"] is None
    errors = payload["userErrors"]
    assert [(e["code"], e["field"]) for e in errors] == [
        ("INVALID_TRANSITION", ["input", "status"])
    ], errors
    message = errors[0]["message"]
    allowed = [t for s, t in sorted(LEGAL) if s == source]
    if allowed:
        assert source in message and target in message, message
        for name in allowed:
            assert name in message, message
    else:
        assert "final" in message, message
    after = await state(client, recipient["slug"])
    assert after == before
    assert after["recipient"]["status"] == source
    assert after["recipient"]["version"] == 1
