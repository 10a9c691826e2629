"""Date-time arguments outside the years 1900-2200 get a BAD_USER_INPUT error, never INTERNAL
(issue 11 §4): a time zone offset on 0001-01-01 or 9999-12-31 used to overflow."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import gql
from tests.helpers import (
    END_DISCLOSURE,
    RECORD_CONSENT,
    REGISTER,
    UPDATE,
    UPSERT,
    disclosure_input,
    recipient_input,
    register,
)

EXTREMES = ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "1899-12-31T00:00:00Z"]
OPERATIONS = [
    'whoReceives(subject: {externalRef: "nobody"}, asOf: $at) { asOf }',
    'recipientsOfCategory(key: "user.contact", asOf: $at) { name }',
    "transferGaps(jurisdiction: UK, asOf: $at) { explanation }",
]


@pytest.mark.parametrize("at", EXTREMES)
@pytest.mark.parametrize("operation", OPERATIONS)
async def test_an_out_of_range_moment_is_bad_input(
    client: httpx.AsyncClient, operation: str, at: str
) -> None:
    body = await gql(client, f"query($at: DateTime) {{ {operation} }}", {"at": at})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], body
    assert "1900-2200" in body["errors"][0]["message"]


@pytest.mark.parametrize("operation", OPERATIONS)
async def test_a_moment_in_range_is_answered(client: httpx.AsyncClient, operation: str) -> None:
    body = await gql(
        client, f"query($at: DateTime) {{ {operation} }}", {"at": "1900-01-01T00:00:00Z"}
    )
    assert "errors" not in body, body


# -- dates in inputs: the same range, as userErrors with nothing written ------------------------

FAR_DAYS = ["0001-01-01", "9999-12-31", "1899-12-31", "2201-01-01"]


@pytest.mark.parametrize("day", FAR_DAYS)
async def test_an_input_date_out_of_range_is_a_user_error(
    client: httpx.AsyncClient, day: str
) -> None:
    registered = await gql(
        client,
        REGISTER,
        {
            "input": recipient_input(
                dpaSignedOn=day, disclosures=[disclosure_input(effectiveFrom=day)]
            )
        },
    )
    errors = registered["data"]["registerRecipient"]["userErrors"]
    assert sorted(tuple(e["field"]) for e in errors) == [
        ("input", "disclosures", "0", "effectiveFrom"),
        ("input", "dpaSignedOn"),
    ]
    assert all("1900-2200" in e["message"] for e in errors)
    recipient = await register(client, disclosures=[disclosure_input()])
    ended = await gql(
        client,
        END_DISCLOSURE,
        {"input": {"id": recipient["disclosures"][0]["id"], "effectiveTo": day}},
    )
    [error] = ended["data"]["endDisclosure"]["userErrors"]
    assert error["field"] == ["input", "effectiveTo"] and "1900-2200" in error["message"]
    updated = await gql(
        client,
        UPDATE,
        {
            "input": {
                "id": recipient["id"],
                "expectedVersion": recipient["version"],
                "dpaSignedOn": day,
            }
        },
    )
    [error] = updated["data"]["updateRecipient"]["userErrors"]
    assert error["field"] == ["input", "dpaSignedOn"]


@pytest.mark.parametrize("at", EXTREMES)
async def test_a_consent_recorded_out_of_range_is_a_user_error(
    client: httpx.AsyncClient, at: str
) -> None:
    await gql(
        client,
        UPSERT,
        {
            "input": {
                "externalRef": "far",
                "subjectType": "customer",
                "country": "GB",
                "dataCategories": ["user.name"],
            }
        },
    )
    body = await gql(
        client,
        RECORD_CONSENT,
        {
            "input": {
                "subject": {"externalRef": "far"},
                "purpose": "marketing.advertising",
                "granted": True,
                "recordedAt": at,
            }
        },
    )
    [error] = body["data"]["recordConsent"]["userErrors"]
    assert error["field"] == ["input", "recordedAt"] and "1900-2200" in error["message"]
