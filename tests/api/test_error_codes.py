"""Issue 15 §4: every GraphQL error carries `extensions.code` from one documented list
(server/graphql/errors.py:ERROR_CODES, README "Error codes"), whatever refused the request: the
HTTP layer, the parser, validation, variable coercion, a resolver's argument check, a
permission, the key. One row per path; the fuzz tests (tests/fuzz/checks.py) hold every other
answer to the same rule."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from server.graphql.errors import ERROR_CODES

QUERY = "application/json"
# (what is wrong, how it is sent, the status, the code)
CASES: list[tuple[str, dict[str, Any], int, str]] = [
    ("not GraphQL", {"json": {"query": "{ recipients( }"}}, 200, "GRAPHQL_PARSE_FAILED"),
    ("an unknown field", {"json": {"query": "{ nope }"}}, 200, "GRAPHQL_VALIDATION_FAILED"),
    (
        "a missing required argument",
        {"json": {"query": "{ recipientsOfCategory { name } }"}},
        200,
        "GRAPHQL_VALIDATION_FAILED",
    ),
    (
        "too deep",
        {
            "json": {
                "query": "{ recipients { edges { node { engagedBy { engagedBy { engagedBy { "
                "engagedBy { engagedBy { engagedBy { engagedBy { engagedBy { engagedBy { "
                "name } } } } } } } } } } } } }"
            }
        },
        200,
        "GRAPHQL_VALIDATION_FAILED",
    ),
    (
        "a variable of the wrong type",
        {
            "json": {
                "query": "query Q($n: Int) { recipients(first: $n) { totalCount } }",
                "variables": {"n": "ten"},
            }
        },
        200,
        "BAD_USER_INPUT",
    ),
    (
        "a required variable left out",
        {"json": {"query": "query Q($n: Int!) { recipients(first: $n) { totalCount } }"}},
        200,
        "BAD_USER_INPUT",
    ),
    (
        "a page size over the limit",
        {"json": {"query": "{ recipients(first: 1000) { totalCount } }"}},
        200,
        "BAD_USER_INPUT",
    ),
    (
        "a cursor that is not one",
        {"json": {"query": '{ recipients(after: "zzz") { totalCount } }'}},
        200,
        "BAD_USER_INPUT",
    ),
    (
        "a filter naming no category",
        {"json": {"query": '{ recipients(filter: {dataCategory: "no.such"}) { totalCount } }'}},
        200,
        "BAD_USER_INPUT",
    ),
    (
        "neither id nor slug",
        {"json": {"query": "{ recipient { id } }"}},
        200,
        "BAD_USER_INPUT",
    ),
    (
        "a moment outside the years answered for",
        {"json": {"query": '{ complianceGaps(asOf: "0001-01-01T00:00:00Z") { kind } }'}},
        200,
        "BAD_USER_INPUT",
    ),
    ("a body that is not JSON", {"content": b"{nope"}, 400, "BAD_REQUEST"),
    ("no query", {"json": {"variables": {}}}, 400, "BAD_REQUEST"),
    ("a batch", {"json": [{"query": "{ __typename }"}]}, 400, "BAD_REQUEST"),
    (
        "a body that is not JSON by its type",
        {"content": b"{ __typename }", "headers": {"content-type": "text/plain"}},
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    ),
    (
        "an Accept naming nothing the service writes",
        {"json": {"query": "{ __typename }"}, "headers": {"accept": "text/csv"}},
        406,
        "NOT_ACCEPTABLE",
    ),
    (
        "a mutation over GET",
        {"get": {"query": 'mutation { endDisclosure(input: {id: "x"}) { userErrors { code } } }'}},
        405,
        "METHOD_NOT_ALLOWED",
    ),
    (
        "a body over the limit",
        {"content": b'{"query": "' + b" " * (300 * 1024) + b'{ __typename }"}'},
        413,
        "PAYLOAD_TOO_LARGE",
    ),
]


async def send(client: httpx.AsyncClient, how: dict[str, Any]) -> httpx.Response:
    headers = {"accept": QUERY, **how.get("headers", {})}
    if "get" in how:
        return await client.get("/graphql", params=how["get"], headers=headers)
    if "content" in how:
        headers.setdefault("content-type", "application/json")
        return await client.post("/graphql", content=how["content"], headers=headers)
    return await client.post("/graphql", json=how["json"], headers=headers)


def codes(response: httpx.Response) -> list[str]:
    body = response.json()
    found = [error.get("extensions", {}).get("code") for error in body["errors"]]
    assert all(code in ERROR_CODES for code in found), body
    return found


@pytest.mark.parametrize(("what", "how", "status", "code"), CASES, ids=[c[0] for c in CASES])
async def test_every_error_has_a_documented_code(
    client: httpx.AsyncClient, what: str, how: dict[str, Any], status: int, code: str
) -> None:
    response = await send(client, how)
    assert response.status_code == status, response.text
    assert code in codes(response), response.text


async def test_the_key_and_the_role(anonymous: httpx.AsyncClient, client_for: Any) -> None:
    refused = await anonymous.post("/graphql", json={"query": "{ __typename }"})
    assert refused.status_code == 401 and codes(refused) == ["UNAUTHENTICATED"]
    viewer = await client_for("viewer", "dashboard")
    # A viewer reads the inventory, not people: the subject report is refused.
    forbidden = await viewer.post(
        "/graphql",
        json={"query": '{ whoReceives(subject: {externalRef: "x"}) { asOf } }'},
    )
    assert codes(forbidden) == ["FORBIDDEN"]


async def test_a_console_file_that_is_not_there(anonymous: httpx.AsyncClient) -> None:
    missing = await anonymous.get("/console/nothing.js")
    assert missing.status_code == 404 and codes(missing) == ["NOT_FOUND"]


def test_the_list_is_documented() -> None:
    """Each code is in the README's table, so that a client author finds what it means."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    table = readme[readme.index("### Error codes") :]
    assert all(f"`{code}`" in table for code in ERROR_CODES)
