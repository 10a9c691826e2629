"""Issue 12 §1 through HTTP: registerRecipient(statusSince), changeRecipientStatus(effectiveAt)
and endDisclosure on a past day date facts in the past (never in the future, never before the
recipient's previous move, only for the privacy and admin roles); every move's recordedAt is the
server's clock, and Recipient.statusHistory lists the moves oldest first by effectiveAt."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from server.db.models import AuditEvent, Disclosure, Recipient, StatusChange
from tests.conftest import MakeClient, gql
from tests.helpers import CHANGE_STATUS, END_DISCLOSURE, REGISTER, move, recipient_input, register

STATUS_HISTORY = """
query History($slug: String!) {
  recipient(slug: $slug) {
    status
    statusHistory { status effectiveAt recordedAt actor note }
  }
}
"""


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def parsed(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def counts() -> dict[str, int]:
    """What a refused write must leave as it was (a FORBIDDEN refusal adds one audit event)."""
    return {
        "recipients": await Recipient.all().count(),
        "moves": await StatusChange.all().count(),
        "audit": await AuditEvent.all().count(),
        "ended": await Disclosure.filter(effective_to__not_isnull=True).count(),
    }


async def history(client: httpx.AsyncClient, slug: str) -> list[dict[str, Any]]:
    body = await gql(client, STATUS_HISTORY, {"slug": slug})
    assert "errors" not in body, body
    moves: list[dict[str, Any]] = body["data"]["recipient"]["statusHistory"]
    return moves


async def change(
    client: httpx.AsyncClient, recipient_id: str, status: str, effective_at: datetime | str | None
) -> dict[str, Any]:
    given = iso(effective_at) if isinstance(effective_at, datetime) else effective_at
    body = await gql(
        client,
        CHANGE_STATUS,
        {"input": {"id": recipient_id, "status": status, "effectiveAt": given}},
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["changeRecipientStatus"]
    return payload


def errors_of(payload: dict[str, Any]) -> list[tuple[str, list[str] | None]]:
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


# --- an imported history ------------------------------------------------------------------------


async def test_an_admin_imports_a_recipient_with_its_past(
    client: httpx.AsyncClient, reviewer: httpx.AsyncClient
) -> None:
    since = datetime(2022, 3, 1, 9, 0, tzinfo=UTC)
    suspended = datetime(2024, 5, 2, 0, 0, tzinfo=UTC)
    before = datetime.now(UTC)
    recipient = await register(client, status="ACTIVE", statusSince=iso(since))
    payload = await change(reviewer, recipient["id"], "SUSPENDED", suspended)
    assert payload["userErrors"] == []
    assert (await move(reviewer, recipient["id"], "ACTIVE"))["status"] == "ACTIVE"
    after = datetime.now(UTC)

    moves = await history(client, recipient["slug"])
    assert [(m["status"], m["actor"], m["note"]) for m in moves] == [
        ("ACTIVE", "test-admin", "registered"),
        ("SUSPENDED", "test-reviewer", None),
        ("ACTIVE", "test-reviewer", None),
    ]
    assert parsed(moves[0]["effectiveAt"]) == since
    assert parsed(moves[1]["effectiveAt"]) == suspended
    # recordedAt is always the server's clock, whatever effectiveAt says.
    for m in moves:
        assert before <= parsed(m["recordedAt"]) <= after
    # A move not dated by the caller takes effect when it is recorded.
    assert moves[2]["effectiveAt"] == moves[2]["recordedAt"]
    # The audit event of a dated move is recorded at the server's clock and names the date.
    event = await AuditEvent.filter(action="changeRecipientStatus").order_by("id").first()
    assert event is not None and before <= event.at <= after
    assert '"effectiveAt"' in event.changes and "2024-05-02T00:00:00+00:00" in event.changes


async def test_status_history_is_ordered_by_effective_time_then_recorded_order(
    client: httpx.AsyncClient, reviewer: httpx.AsyncClient
) -> None:
    moment = datetime(2023, 1, 1, tzinfo=UTC)
    recipient = await register(client, status="ACTIVE", statusSince=iso(moment))
    # Two moves at the same effective moment as the registration: kept in the order recorded.
    assert (await change(reviewer, recipient["id"], "SUSPENDED", moment))["userErrors"] == []
    assert (await change(reviewer, recipient["id"], "ACTIVE", moment))["userErrors"] == []
    moves = await history(client, recipient["slug"])
    assert [m["status"] for m in moves] == ["ACTIVE", "SUSPENDED", "ACTIVE"]
    assert {m["effectiveAt"] for m in moves} == {"2023-01-01T00:00:00+00:00"}


async def test_a_naive_effective_at_is_read_as_utc(
    client: httpx.AsyncClient, reviewer: httpx.AsyncClient
) -> None:
    recipient = await register(client, status="ACTIVE", statusSince="2021-06-01T00:00:00")
    assert (await change(reviewer, recipient["id"], "SUSPENDED", "2021-07-01T12:30:00"))[
        "userErrors"
    ] == []
    moves = await history(client, recipient["slug"])
    assert [parsed(m["effectiveAt"]) for m in moves] == [
        datetime(2021, 6, 1, tzinfo=UTC),
        datetime(2021, 7, 1, 12, 30, tzinfo=UTC),
    ]


# --- bad dates ----------------------------------------------------------------------------------


async def test_a_move_cannot_be_dated_in_the_future(
    client: httpx.AsyncClient, reviewer: httpx.AsyncClient
) -> None:
    recipient = await register(client, status="ACTIVE", statusSince="2022-01-01T00:00:00Z")
    before = await counts()
    payload = await change(
        reviewer, recipient["id"], "SUSPENDED", datetime.now(UTC) + timedelta(minutes=5)
    )
    assert payload["recipient"] is None
    assert errors_of(payload) == [("INVALID", ["input", "effectiveAt"])]
    assert await counts() == before


async def test_a_move_cannot_be_dated_before_the_previous_move(
    client: httpx.AsyncClient, reviewer: httpx.AsyncClient
) -> None:
    recipient = await register(client, status="ACTIVE", statusSince="2022-01-01T00:00:00Z")
    await change(reviewer, recipient["id"], "SUSPENDED", datetime(2023, 1, 1, tzinfo=UTC))
    before = await counts()
    payload = await change(reviewer, recipient["id"], "ACTIVE", datetime(2022, 6, 1, tzinfo=UTC))
    assert payload["recipient"] is None
    assert errors_of(payload) == [("INVALID", ["input", "effectiveAt"])]
    assert "previous move" in payload["userErrors"][0]["message"]
    assert await counts() == before
    # Before the registration's own moment is refused too.
    other = await register(client, name="Other", status="ACTIVE", statusSince="2022-01-01T00:00Z")
    payload = await change(reviewer, other["id"], "SUSPENDED", datetime(2021, 1, 1, tzinfo=UTC))
    assert errors_of(payload) == [("INVALID", ["input", "effectiveAt"])]


async def test_a_move_outside_the_years_served_is_refused(
    client: httpx.AsyncClient, reviewer: httpx.AsyncClient
) -> None:
    recipient = await register(client, status="ACTIVE")
    payload = await change(reviewer, recipient["id"], "SUSPENDED", "1850-01-01T00:00:00Z")
    assert errors_of(payload) == [("INVALID", ["input", "effectiveAt"])]


async def test_every_error_of_a_move_at_once(
    client: httpx.AsyncClient, reviewer: httpx.AsyncClient
) -> None:
    recipient = await register(client, status="ACTIVE")
    body = await gql(
        reviewer,
        CHANGE_STATUS,
        {
            "input": {
                "id": recipient["id"],
                "status": "APPROVED",  # ACTIVE cannot move to APPROVED
                "note": "x" * 100_000,
                "effectiveAt": iso(datetime.now(UTC) + timedelta(days=1)),
            }
        },
    )
    payload = body["data"]["changeRecipientStatus"]
    assert sorted(errors_of(payload), key=str) == sorted(
        [
            ("INVALID", ["input", "note"]),
            ("INVALID", ["input", "effectiveAt"]),
            ("INVALID_TRANSITION", ["input", "status"]),
        ],
        key=str,
    )


async def test_status_since_cannot_be_in_the_future(client: httpx.AsyncClient) -> None:
    before = await counts()
    body = await gql(
        client,
        REGISTER,
        {
            "input": recipient_input(
                status="ACTIVE", statusSince=iso(datetime.now(UTC) + timedelta(hours=1))
            )
        },
    )
    payload = body["data"]["registerRecipient"]
    assert payload["recipient"] is None
    assert errors_of(payload) == [("INVALID", ["input", "statusSince"])]
    assert await counts() == before


# --- only the privacy and admin roles date facts in the past -----------------------------------


async def test_procurement_cannot_date_a_move(client_for: MakeClient) -> None:
    buyer = await client_for("procurement", "buyer")
    recipient = await register(buyer)
    before = await counts()
    payload = await change(buyer, recipient["id"], "UNDER_REVIEW", datetime(2024, 1, 1, tzinfo=UTC))
    assert payload["recipient"] is None
    assert errors_of(payload) == [("FORBIDDEN", ["input", "effectiveAt"])]
    assert "privacy and admin" in payload["userErrors"][0]["message"]
    # Nothing written but the refusal's audit event.
    assert await counts() == {**before, "audit": before["audit"] + 1}
    # Undated, the same move is the buyer's to make.
    assert (await move(buyer, recipient["id"], "UNDER_REVIEW"))["status"] == "UNDER_REVIEW"


async def test_privacy_dates_a_move(client_for: MakeClient, client: httpx.AsyncClient) -> None:
    dpo = await client_for("privacy", "dpo")
    recipient = await register(client, status="ACTIVE", statusSince="2020-01-01T00:00:00Z")
    payload = await change(dpo, recipient["id"], "OFFBOARDED", datetime(2024, 1, 1, tzinfo=UTC))
    assert payload["userErrors"] == []
    moves = await history(client, recipient["slug"])
    assert (moves[-1]["status"], moves[-1]["actor"], moves[-1]["effectiveAt"]) == (
        "OFFBOARDED",
        "dpo",
        "2024-01-01T00:00:00+00:00",
    )


async def test_a_viewer_cannot_date_a_move(
    client_for: MakeClient, client: httpx.AsyncClient
) -> None:
    viewer = await client_for("viewer", "dashboard")
    recipient = await register(client, status="ACTIVE")
    before = await counts()
    payload = await change(viewer, recipient["id"], "SUSPENDED", datetime(2024, 1, 1, tzinfo=UTC))
    assert payload["recipient"] is None
    assert [e["code"] for e in payload["userErrors"]] == ["FORBIDDEN"]
    assert await counts() == {**before, "audit": before["audit"] + 1}


async def test_procurement_cannot_register_with_a_past_status(client_for: MakeClient) -> None:
    buyer = await client_for("procurement", "buyer")
    before = await counts()
    body = await gql(
        buyer, REGISTER, {"input": recipient_input(statusSince="2024-01-01T00:00:00Z")}
    )
    payload = body["data"]["registerRecipient"]
    assert payload["recipient"] is None
    assert errors_of(payload) == [("FORBIDDEN", ["input", "statusSince"])]
    assert await counts() == {**before, "audit": before["audit"] + 1}


# --- ending a disclosure on a past day ----------------------------------------------------------


async def end(client: httpx.AsyncClient, disclosure_id: str, effective_to: date) -> dict[str, Any]:
    body = await gql(
        client,
        END_DISCLOSURE,
        {"input": {"id": disclosure_id, "effectiveTo": effective_to.isoformat()}},
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["endDisclosure"]
    return payload


async def test_procurement_cannot_end_a_disclosure_on_a_past_day(
    client_for: MakeClient, client: httpx.AsyncClient
) -> None:
    buyer = await client_for("procurement", "buyer")
    # Registered with its history by the admin: procurement may not backdate a disclosure.
    recipient = await register(
        client, disclosures=[{**_disclosure(), "effectiveFrom": "2020-01-01"}]
    )
    disclosure_id = recipient["disclosures"][0]["id"]
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    before = await counts()
    payload = await end(buyer, disclosure_id, yesterday)
    assert payload["disclosure"] is None
    assert errors_of(payload) == [("FORBIDDEN", ["input", "effectiveTo"])]
    assert await counts() == {**before, "audit": before["audit"] + 1}
    # The admin may; procurement may end one from today on.
    assert (await end(client, disclosure_id, yesterday))["userErrors"] == []
    other = await register(
        client, name="Other", disclosures=[{**_disclosure(), "effectiveFrom": "2020-01-01"}]
    )
    today = datetime.now(UTC).date()
    assert (await end(buyer, other["disclosures"][0]["id"], today))["userErrors"] == []


def _disclosure() -> dict[str, Any]:
    return {
        "dataCategories": ["user.contact.email"],
        "subjectTypes": ["platform_user"],
        "purposes": ["essential.service"],
        "legalBasis": "CONTRACT",
        "ground": "SERVICE_PROVISION",
    }
