"""GraphQL over HTTP through the ASGI app: the GraphQL Foundation's specification, SHOULDs too."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.helpers import REGISTER, recipient_input

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
TYPENAME = "{ __typename }"


def cost(nodes: int, limit: int = 2_000_000, actual: int = 0) -> dict[str, Any]:
    """What every executed response reports in `extensions`: the nodes the query could return,
    the limit, and the nodes it did return."""
    return {"cost": {"requestedNodes": nodes, "limit": limit, "actualNodes": actual}}


def media_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def assert_sane(response: httpx.Response) -> None:
    """Never a 500, never a stack trace, always a request id."""
    assert response.status_code < 500, (response.status_code, response.text)
    assert "Traceback" not in response.text, response.text
    assert 'File "' not in response.text, response.text
    assert response.headers.get("x-request-id"), dict(response.headers)


async def post(
    client: httpx.AsyncClient, payload: Any, accept: str | None = GRAPHQL_RESPONSE
) -> httpx.Response:
    headers = {"accept": accept} if accept is not None else {}
    response = await client.post("/graphql", json=payload, headers=headers)
    assert_sane(response)
    return response


async def post_raw(
    client: httpx.AsyncClient,
    content: bytes,
    content_type: str | None = JSON,
    accept: str = GRAPHQL_RESPONSE,
) -> httpx.Response:
    headers = {"accept": accept}
    if content_type is not None:
        headers["content-type"] = content_type
    response = await client.post("/graphql", content=content, headers=headers)
    assert_sane(response)
    return response


def assert_request_error(response: httpx.Response, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    body: dict[str, Any] = response.json()
    assert isinstance(body.get("errors"), list) and body["errors"], body
    assert all(isinstance(e.get("message"), str) and e["message"] for e in body["errors"])
    assert "data" not in body, body
    return body


# -- the happy paths ------------------------------------------------------------------------------


async def test_post_json(client: httpx.AsyncClient) -> None:
    response = await post(client, {"query": TYPENAME}, accept=None)
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}, "extensions": cost(0)}


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON])
async def test_post_answers_in_the_accepted_media_type(
    client: httpx.AsyncClient, accept: str
) -> None:
    response = await post(client, {"query": TYPENAME}, accept=accept)
    assert response.status_code == 200
    assert media_type(response) == accept
    assert response.json() == {"data": {"__typename": "Query"}, "extensions": cost(0)}


async def test_post_with_charset_operation_name_and_variables(client: httpx.AsyncClient) -> None:
    response = await post_raw(
        client,
        b'{"query": "query A { __typename } query B($n: Int) { recipients(first: $n) '
        b'{ totalCount } }", "operationName": "B", "variables": {"n": 5}, "extensions": {}}',
        content_type="application/json; charset=utf-8",
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"recipients": {"totalCount": 0}}, "extensions": cost(5)}


async def test_post_mutation(client: httpx.AsyncClient) -> None:
    response = await post(client, {"query": REGISTER, "variables": {"input": recipient_input()}})
    assert response.status_code == 200
    assert response.json()["data"]["registerRecipient"]["userErrors"] == []


async def test_get_query(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql", params={"query": TYPENAME}, headers={"accept": GRAPHQL_RESPONSE}
    )
    assert_sane(response)
    assert response.status_code == 200
    assert media_type(response) == GRAPHQL_RESPONSE
    assert response.json() == {"data": {"__typename": "Query"}, "extensions": cost(0)}


async def test_get_query_with_variables(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql",
        params={
            "query": "query($s: String!) { recipient(slug: $s) { id } }",
            "variables": '{"s": "nobody"}',
        },
    )
    assert_sane(response)
    assert response.status_code == 200
    assert response.json() == {"data": {"recipient": None}, "extensions": cost(0)}


async def test_get_mutation_is_405(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql",
        params={
            "query": "mutation($input: RegisterRecipientInput!) "
            "{ registerRecipient(input: $input) { userErrors { message } } }",
            "variables": '{"input": {"name": "X", "kind": "ACQUIRER", "role": "CONTROLLER",'
            ' "country": "US"}}',
        },
        headers={"accept": GRAPHQL_RESPONSE},
    )
    assert_sane(response)
    assert response.status_code == 405
    assert "POST" in response.headers.get("allow", "")
    # And nothing was registered.
    count = await post(client, {"query": "{ recipients { totalCount } }"})
    assert count.json()["data"] == {"recipients": {"totalCount": 0}}


# -- application/graphql-response+json: request errors are 4xx without data ------------------------


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        pytest.param("{ recipients { totalCount ", None, id="syntax-error"),
        pytest.param("{ nonsense }", None, id="unknown-field"),
        pytest.param("{ recipients { edges { node { nope } } } }", None, id="unknown-subfield"),
        pytest.param(
            "query($n: Int) { recipients(first: $n) { totalCount } }",
            {"n": "three"},
            id="wrong-variable-type",
        ),
        pytest.param(
            "query($s: String!) { recipient(slug: $s) { id } }", {}, id="missing-variable"
        ),
        pytest.param(
            "query($f: RecipientFilter) { recipients(filter: $f) { totalCount } }",
            {"f": {"kinds": ["NOT_A_KIND"]}},
            id="wrong-enum-value",
        ),
        pytest.param("{ recipients(first: 99999999999) { totalCount } }", None, id="int-overflow"),
    ],
)
async def test_request_errors_are_400_with_graphql_response_json(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None
) -> None:
    payload: dict[str, Any] = {"query": query}
    if variables is not None:
        payload["variables"] = variables
    response = await post(client, payload, accept=GRAPHQL_RESPONSE)
    assert_request_error(response, 400)
    assert media_type(response) == GRAPHQL_RESPONSE


async def test_syntax_error_with_plain_json_is_200(client: httpx.AsyncClient) -> None:
    response = await post(client, {"query": "{ recipients { totalCount "}, accept=JSON)
    assert response.status_code == 200
    assert media_type(response) == JSON
    body = response.json()
    assert body["errors"], body
    assert body.get("data") is None


async def test_field_error_keeps_200_and_data(client: httpx.AsyncClient) -> None:
    # A resolver's error is not a request error: the response has data (here null) and errors.
    response = await post(client, {"query": "{ recipient { id } }"}, accept=GRAPHQL_RESPONSE)
    assert response.status_code == 200
    body = response.json()
    assert "data" in body
    assert body["errors"][0]["path"] == ["recipient"]


# -- malformed requests -----------------------------------------------------------------------


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON])
@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b'{"query": "{ __typename }"', id="truncated"),
        pytest.param(b"not json at all", id="not-json"),
        pytest.param(b"", id="empty"),
        pytest.param(b"\xff\xfe\x00garbage", id="not-utf8"),
        pytest.param(b"[" * 5000 + b"]" * 5000, id="deeply-nested"),
    ],
)
async def test_malformed_json_body_is_400(
    client: httpx.AsyncClient, content: bytes, accept: str
) -> None:
    response = await post_raw(client, content, accept=accept)
    assert_request_error(response, 400)


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/graphql", None],
)
async def test_wrong_content_type_is_415(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    response = await post_raw(client, b'{"query": "{ __typename }"}', content_type=content_type)
    assert_request_error(response, 415)


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({}, id="missing-query"),
        pytest.param({"variables": {}}, id="only-variables"),
        pytest.param({"query": None}, id="null-query"),
        pytest.param({"query": 42}, id="query-number"),
        pytest.param({"query": ["{ __typename }"]}, id="query-list"),
        pytest.param({"query": {"q": "{ __typename }"}}, id="query-object"),
        pytest.param({"query": TYPENAME, "variables": [1, 2]}, id="variables-list"),
        pytest.param({"query": TYPENAME, "variables": "{}"}, id="variables-string"),
        pytest.param({"query": TYPENAME, "variables": 3}, id="variables-number"),
        pytest.param({"query": TYPENAME, "operationName": 7}, id="operation-name-number"),
        pytest.param({"query": TYPENAME, "extensions": []}, id="extensions-list"),
        pytest.param([{"query": TYPENAME}, {"query": TYPENAME}], id="batch"),
        pytest.param([{"query": TYPENAME}], id="batch-of-one"),
        pytest.param([], id="empty-array"),
        pytest.param("{ __typename }", id="json-string"),
        pytest.param(None, id="json-null"),
        pytest.param(12, id="json-number"),
        pytest.param(True, id="json-true"),
    ],
)
async def test_bad_request_parameters_are_400(client: httpx.AsyncClient, payload: Any) -> None:
    response = await post_raw(client, json.dumps(payload).encode())
    assert_request_error(response, 400)


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON])
async def test_missing_query_is_400_whatever_the_accept(
    client: httpx.AsyncClient, accept: str
) -> None:
    response = await post(client, {"variables": {}}, accept=accept)
    assert_request_error(response, 400)


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(
            {"query": "query A { __typename } query B { __typename }"}, id="ambiguous-operation"
        ),
        pytest.param({"query": TYPENAME, "operationName": "Missing"}, id="unknown-operation"),
    ],
)
async def test_operation_selection_errors_are_400(
    client: httpx.AsyncClient, payload: dict[str, Any]
) -> None:
    response = await post(client, payload, accept=GRAPHQL_RESPONSE)
    assert_request_error(response, 400)


async def test_get_with_malformed_variables_is_400(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql",
        params={"query": TYPENAME, "variables": "{not json"},
        headers={"accept": GRAPHQL_RESPONSE},
    )
    assert_sane(response)
    assert_request_error(response, 400)


async def test_get_without_query_is_400(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"accept": GRAPHQL_RESPONSE})
    assert_sane(response)
    assert_request_error(response, 400)


@pytest.mark.parametrize("accept", ["text/csv", "text/plain", "application/xml", "*/*;q=0"])
async def test_unacceptable_accept_is_406(client: httpx.AsyncClient, accept: str) -> None:
    response = await post(client, {"query": TYPENAME}, accept=accept)
    assert response.status_code == 406, response.text
    assert response.json()["errors"]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        # A client that names no type (Node's fetch sends */*) gets application/json, as
        # graphql-http's audit expects; only a client naming graphql-response+json gets it.
        ("*/*", JSON),
        ("application/*", JSON),
        ("application/graphql-response+json, */*", GRAPHQL_RESPONSE),
        ("application/json, application/graphql-response+json", GRAPHQL_RESPONSE),
        ("application/graphql-response+json;q=0.5, */*", JSON),
        ("application/json, application/graphql-response+json;q=0.5", JSON),
        ("text/csv, application/json;q=0.1", JSON),
    ],
)
async def test_accept_negotiation(client: httpx.AsyncClient, accept: str, expected: str) -> None:
    response = await post(client, {"query": TYPENAME}, accept=accept)
    assert response.status_code == 200
    assert media_type(response) == expected


async def test_browser_gets_the_query_console(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql", headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    )
    assert_sane(response)
    assert response.status_code == 200
    assert media_type(response) == "text/html"
    assert "query console" in response.text


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
async def test_health_endpoints(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert_sane(response)
    assert response.status_code == 200
    assert media_type(response) == JSON
    assert response.json()["status"] == "ok"


# -- request ids --------------------------------------------------------------------------------


async def test_every_response_carries_a_request_id(client: httpx.AsyncClient) -> None:
    responses = [
        await client.post("/graphql", json={"query": TYPENAME}),
        await client.post("/graphql", json={"query": "{"}),
        await client.post("/graphql", content=b"nope", headers={"content-type": "text/plain"}),
        await client.get("/graphql", params={"query": TYPENAME}),
        await client.get("/graphql", headers={"accept": "text/html"}),
        await client.get("/healthz"),
        await client.get("/readyz"),
        await client.get("/no-such-path"),
        await client.put("/graphql", json={"query": TYPENAME}),
    ]
    ids = [r.headers.get("x-request-id") for r in responses]
    assert all(ids), ids
    assert len(set(ids)) == len(ids), "request ids repeat"
    for response in responses:
        assert response.status_code < 500


async def test_a_sane_incoming_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": TYPENAME}, headers={"x-request-id": "client-abc-123"}
    )
    assert response.headers["x-request-id"] == "client-abc-123"
    health = await client.get("/healthz", headers={"x-request-id": "probe-7"})
    assert health.headers["x-request-id"] == "probe-7"


@pytest.mark.parametrize("incoming", ["x" * 65, "x" * 1000, ""])
async def test_an_insane_incoming_request_id_is_replaced(
    client: httpx.AsyncClient, incoming: str
) -> None:
    response = await client.post(
        "/graphql", json={"query": TYPENAME}, headers={"x-request-id": incoming}
    )
    replaced = response.headers.get("x-request-id")
    assert replaced and replaced != incoming
    assert len(replaced) <= 64


# -- limits -------------------------------------------------------------------------------------


OVERSIZED = b'{"query": "{ __typename }", "padding": "' + b"x" * (256 * 1024) + b'"}'


async def test_body_over_256_kib_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", content=OVERSIZED, headers={"content-type": JSON, "accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 413, response.text
    assert "Traceback" not in response.text


async def test_streamed_body_over_256_kib_is_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(OVERSIZED), 16 * 1024):
            yield OVERSIZED[start : start + 16 * 1024]

    # No Content-Length: the limit must hold while reading, not only on the declared length.
    response = await client.post(
        "/graphql", content=chunks(), headers={"content-type": JSON, "accept": GRAPHQL_RESPONSE}
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413, response.text


async def test_the_413_response_carries_a_request_id(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", content=OVERSIZED, headers={"content-type": JSON, "x-request-id": "big-1"}
    )
    assert response.status_code == 413
    assert response.headers.get("x-request-id") == "big-1", dict(response.headers)


async def test_body_just_under_the_limit_is_served(client: httpx.AsyncClient) -> None:
    content = b'{"query": "{ __typename }", "padding": "' + b"x" * (200 * 1024) + b'"}'
    response = await post_raw(client, content)
    assert response.status_code == 200, response.text


def nested_query(depth: int) -> str:
    """recipients > edges > node > subprocessors > ... : `depth` levels of fields."""
    inner = "name"
    for _ in range(depth - 3):
        inner = f"subprocessors {{ {inner} }}"
    return f"{{ recipients {{ edges {{ node {{ {inner} }} }} }} }}"


async def test_query_deeper_than_ten_is_refused(client: httpx.AsyncClient) -> None:
    response = await post(client, {"query": nested_query(12)}, accept=GRAPHQL_RESPONSE)
    body = assert_request_error(response, 400)
    assert "depth" in body["errors"][0]["message"].lower()
    plain = await post(client, {"query": nested_query(12)}, accept=JSON)
    assert plain.status_code == 200
    assert "depth" in plain.json()["errors"][0]["message"].lower()


async def test_query_of_depth_ten_is_served(client: httpx.AsyncClient) -> None:
    response = await post(client, {"query": nested_query(10)})
    assert response.status_code == 200, response.text
    assert "errors" not in response.json()


def aliased_query(count: int) -> str:
    return "{ " + " ".join(f"a{i}: __typename" for i in range(count)) + " }"


async def test_more_than_thirty_aliases_are_refused(client: httpx.AsyncClient) -> None:
    response = await post(client, {"query": aliased_query(31)}, accept=GRAPHQL_RESPONSE)
    body = assert_request_error(response, 400)
    assert "alias" in body["errors"][0]["message"].lower()


async def test_thirty_aliases_are_served(client: httpx.AsyncClient) -> None:
    response = await post(client, {"query": aliased_query(30)})
    assert response.status_code == 200, response.text
    assert len(response.json()["data"]) == 30


# -- never a 500, never a traceback -------------------------------------------------------------


ODD_QUERIES = [
    pytest.param("", id="empty"),
    pytest.param(" ", id="blank"),
    pytest.param("{", id="open-brace"),
    pytest.param("}", id="close-brace"),
    pytest.param("query", id="bare-query"),
    pytest.param("mutation { __typename }", id="get-like-mutation"),
    pytest.param("subscription { x }", id="subscription"),
    pytest.param("{ recipients(first: -5) { totalCount } }", id="negative-first"),
    pytest.param('{ recipients(after: "%%%") { totalCount } }', id="bad-cursor"),
    pytest.param('{ recipients(filter: {country: "\\u0000"}) { totalCount } }', id="nul-country"),
    pytest.param(
        '{ recipients(filter: {dataCategory: "' + "x" * 5000 + '"}) { totalCount } }',
        id="long-category",
    ),
    pytest.param(
        '{ recipients(filter: {search: "\\u0000%_\\\\"}) { totalCount } }', id="nul-search"
    ),
    pytest.param('{ recipient(id: "\\u0000") { id } }', id="nul-id"),
    pytest.param('{ recipient(slug: "\\u0000") { id } }', id="nul-slug"),
    pytest.param('{ node(id: "UmVjaXBpZW50Oi0x") { id } }', id="node-negative-id"),
    pytest.param(
        '{ node(id: "UmVjaXBpZW50OjEwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA=") { id } }', id="node-huge-id"
    ),
    pytest.param(
        '{ recipient(id: "UmVjaXBpZW50OjEwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA=") { id } }',
        id="recipient-huge-id",
    ),
    pytest.param('{ dataCategory(key: "\\u0000") { key } }', id="nul-category"),
    pytest.param("{ __schema { types { name } } }", id="introspection"),
    pytest.param("{ a: __typename a: recipients { totalCount } }", id="alias-conflict"),
    pytest.param("{ ...F } fragment F on Query { ...F }", id="fragment-cycle"),
    pytest.param("{ " + "recipients { totalCount } " * 2000 + "}", id="many-fields"),
    pytest.param(
        '{ recipients(filter: {country: "' + "Z" * 100_000 + '"}) { totalCount } }',
        id="long-country",
    ),
]


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON])
@pytest.mark.parametrize("query", ODD_QUERIES)
async def test_odd_queries_never_500(client: httpx.AsyncClient, query: str, accept: str) -> None:
    response = await post(client, {"query": query}, accept=accept)
    assert response.status_code in (200, 400, 405, 413), response.text
    body = response.json()
    if response.status_code == 200 and "errors" in body:
        for error in body["errors"]:
            assert "Internal error" not in error["message"], error


@pytest.mark.parametrize("depth", [500, 1000, 1020, 10_000])
async def test_deeply_nested_variables_are_a_request_error(
    client: httpx.AsyncClient, depth: int
) -> None:
    # Found by fuzzing: the NUL check recursed, and past Python's recursion limit (orjson
    # accepts 1,024 levels) that was a 500.
    nested = "[" * depth + "]" * depth
    content = (
        '{"query": "query($s: String) { recipients(filter: {search: $s}) { totalCount } }", '
        '"variables": {"s": ' + nested + "}}"
    ).encode()
    response = await post_raw(client, content)
    body = assert_request_error(response)
    assert "Internal error" not in body["errors"][0]["message"]


async def test_odd_methods_never_500(client: httpx.AsyncClient) -> None:
    for method in ("PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"):
        response = await client.request(method, "/graphql")
        assert_sane(response)
        assert response.status_code == 405, (method, response.status_code)


async def test_odd_mutation_inputs_never_500(client: httpx.AsyncClient) -> None:
    for overrides in (
        {"name": "\x00"},
        {"name": "x" * 100_000},
        {"country": "\u00e9\u00e9"},
        {"slug": "UPPER CASE"},
        {"website": "javascript:alert(1)"},
        {"engagedBy": "nobody", "role": "SUBPROCESSOR"},
        {"dpaSignedOn": "2020-13-45"},
        {"services": ["x" * 1000]},
        {"disclosures": [{"dataCategories": [], "subjectTypes": [], "purposes": []}]},
    ):
        response = await post(
            client, {"query": REGISTER, "variables": {"input": recipient_input(**overrides)}}
        )
        assert response.status_code in (200, 400), (overrides, response.text)
        assert "Internal error" not in response.text, (overrides, response.text)
