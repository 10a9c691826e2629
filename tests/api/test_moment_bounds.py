"""Date-time arguments outside the years 1900-2200 get a BAD_USER_INPUT error, never INTERNAL
(issue 11 §4): a time zone offset on 0001-01-01 or 9999-12-31 used to overflow."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import gql

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
