"""Limits on queries and requests (issue 4 §2) through the ASGI app: the node-count cost limit,
page sizes, batches, introspection and the query console in production, and the per-key rate
limit."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from graphql import get_named_type
from starlette.types import ASGIApp, Receive, Scope, Send

from server.app import create_app
from server.domain.access import Role
from server.graphql.schema import build_schema
from server.ratelimit import RateLimitMiddleware, TokenBuckets
from server.services import keys
from server.settings import Settings
from tests.api.test_http import GRAPHQL_RESPONSE, JSON, TYPENAME, assert_request_error, assert_sane
from tests.conftest import QueryCounter
from tests.helpers import register

KEY_NUMBERS = itertools.count(1)


@contextlib.asynccontextmanager
async def serve(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app with these settings, and a client sending a new admin key (needs `db`)."""
    app: ASGIApp = create_app(settings, manage_database=False)
    name = f"limits-admin-{next(KEY_NUMBERS)}"
    token = await keys.create_key(name, Role.ADMIN, actor="tests")
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://test",
        headers={"Authorization": f"Bearer {token}"},
    ) as http:
        yield http


async def ask(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    accept: str = GRAPHQL_RESPONSE,
) -> httpx.Response:
    payload: dict[str, Any] = {"query": query}
    if variables is not None:
        payload["variables"] = variables
    response = await client.post("/graphql", json=payload, headers={"accept": accept})
    assert_sane(response)
    return response


def pages(*sizes: int) -> str:
    """Aliased recipients connections, one per size."""
    fields = " ".join(f"p{i}: recipients(first: {n}) {{ totalCount }}" for i, n in enumerate(sizes))
    return "{ " + fields + " }"


LOW = Settings(max_query_cost=120)


# -- query cost ---------------------------------------------------------------------------------


async def test_every_response_reports_its_cost(client: httpx.AsyncClient) -> None:
    body = (await ask(client, pages(100, 20))).json()
    assert body["extensions"]["cost"] == {
        "requestedNodes": 120,
        "limit": 2_000_000,
        "actualNodes": 0,
    }
    default = (await ask(client, "{ recipients { totalCount } }")).json()
    assert default["extensions"]["cost"]["requestedNodes"] == 50  # default page size
    none = (await ask(client, TYPENAME)).json()
    assert none["extensions"]["cost"]["requestedNodes"] == 0


async def test_cost_is_reported_with_field_and_validation_errors(
    client: httpx.AsyncClient,
) -> None:
    field_error = (await ask(client, "{ recipient { id } recipients { totalCount } }")).json()
    assert field_error["errors"] and field_error["extensions"]["cost"]["requestedNodes"] == 50
    invalid = await ask(client, "{ recipients(first: 7) { nope } }")
    body = assert_request_error(invalid, 400)
    assert body["extensions"]["cost"]["requestedNodes"] == 7


async def test_a_query_over_the_cost_limit_is_refused_before_execution(
    db: str, sql_counter: QueryCounter
) -> None:
    async with serve(LOW) as client:
        sql_counter.statements.clear()
        response = await ask(client, pages(100, 30))
        body = assert_request_error(response, 400)
        error = body["errors"][0]
        assert error["extensions"]["code"] == "COST_LIMIT_EXCEEDED"
        assert (error["extensions"]["cost"], error["extensions"]["limit"]) == (130, 120)
        assert "130" in error["message"] and "120" in error["message"]
        assert body["extensions"]["cost"] == {"requestedNodes": 130, "limit": 120}
        # Only the key lookup: the refused query never ran.
        assert [q for q in sql_counter.statements if "api_key" not in q] == []
        # Clients that accept only JSON get 200, the errors and no data, as for validation.
        plain = await ask(client, pages(100, 30), accept=JSON)
        assert plain.status_code == 200
        assert plain.json()["errors"][0]["extensions"]["code"] == "COST_LIMIT_EXCEEDED"
        assert plain.json().get("data") is None


async def test_a_query_at_the_cost_limit_is_served(db: str) -> None:
    # Registering returns userErrors, a list of up to 1,000: more than this low limit allows.
    async with serve(Settings()) as admin:
        await register(admin)
    async with serve(LOW) as client:
        response = await ask(client, pages(100, 20))
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["data"] == {"p0": {"totalCount": 1}, "p1": {"totalCount": 1}}
        assert body["extensions"]["cost"]["requestedNodes"] == 120


@pytest.mark.parametrize(("n", "refused"), [(60, False), (61, True)])
async def test_cost_resolves_variables(db: str, n: int, refused: bool) -> None:
    query = "query($n: Int) { a: recipients(first: $n) { totalCount } ...More }"
    query += " fragment More on Query { b: recipients(first: $n) { totalCount } }"
    async with serve(LOW) as client:
        response = await ask(client, query, {"n": n})
        assert response.json()["extensions"]["cost"]["requestedNodes"] == 2 * n
        if refused:
            body = assert_request_error(response, 400)
            assert body["errors"][0]["extensions"]["code"] == "COST_LIMIT_EXCEEDED"
        else:
            assert response.status_code == 200 and "errors" not in response.json()


async def test_the_same_document_is_costed_afresh_for_new_variables(db: str) -> None:
    # The plan is cached per document; the variables must still count on every request.
    query = (
        "query($n: Int) { a: recipients(first: $n) { totalCount } b: recipients { totalCount } }"
    )
    async with serve(LOW) as client:
        assert (await ask(client, query, {"n": 70})).status_code == 200
        refused = await ask(client, query, {"n": 71})
        assert assert_request_error(refused, 400)["extensions"]["cost"]["requestedNodes"] == 121
        assert (await ask(client, query, {"n": 70})).status_code == 200


async def test_default_limits_serve_the_widest_valid_query(client: httpx.AsyncClient) -> None:
    # Thirty aliases of full pages is as much as the current schema lets one query ask for.
    response = await ask(client, pages(*[100] * 30))
    assert response.status_code == 200, response.text
    assert response.json()["extensions"]["cost"]["requestedNodes"] == 3000


# -- page sizes ---------------------------------------------------------------------------------


def test_every_first_argument_in_the_schema_is_known_and_tested() -> None:
    """A new connection or list with `first` must join this list, with a test that it enforces
    the cap (test_listing.test_first_out_of_range_is_an_error covers recipients)."""
    schema = build_schema()._schema
    with_first = sorted(
        f"{type_.name}.{name}"
        for type_ in schema.type_map.values()
        if not type_.name.startswith("__") and hasattr(type_, "fields")
        for name, field in type_.fields.items()
        if "first" in getattr(field, "args", {})
    )
    assert with_first == ["Query.recipients"]
    assert get_named_type(schema.query_type.fields["recipients"].type).name == (
        "RecipientConnection"
    )


@pytest.mark.parametrize("first", [101, 5000])
async def test_first_over_the_cap_through_a_variable_is_an_error(
    client: httpx.AsyncClient, first: int
) -> None:
    response = await ask(
        client, "query($n: Int) { recipients(first: $n) { totalCount } }", {"n": first}
    )
    body = response.json()
    assert body["errors"][0]["path"] == ["recipients"]
    assert "between 0 and 100" in body["errors"][0]["message"]


async def test_a_lower_page_cap_from_settings_is_enforced(db: str) -> None:
    async with serve(Settings(max_page_size=10, default_page_size=10)) as client:
        ok = await ask(client, "{ recipients(first: 10) { totalCount } }")
        assert "errors" not in ok.json()
        over = (await ask(client, "{ recipients(first: 11) { totalCount } }")).json()
        assert "between 0 and 10" in over["errors"][0]["message"]


# -- batches ------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 2, 10, 11])
async def test_batches_are_refused_with_a_clear_message(
    client: httpx.AsyncClient, size: int
) -> None:
    response = await client.post(
        "/graphql", json=[{"query": TYPENAME}] * size, headers={"accept": GRAPHQL_RESPONSE}
    )
    assert_sane(response)
    body = assert_request_error(response, 400)
    assert "Batched requests" in body["errors"][0]["message"]
    assert "one operation per request" in body["errors"][0]["message"]


# -- production: no introspection, no query console ------------------------------------------

PRODUCTION = Settings(environment="production")
INTROSPECTION = [
    pytest.param("{ __schema { types { name } } }", id="schema"),
    pytest.param('{ __type(name: "Recipient") { name fields { name } } }', id="type"),
    pytest.param("{ recipients { totalCount } a: __schema { queryType { name } } }", id="mixed"),
    pytest.param("query { ...I } fragment I on Query { __schema { types { name } } }", id="frag"),
]


@pytest.mark.parametrize("query", INTROSPECTION)
async def test_introspection_is_off_in_production(query: str, db: str) -> None:
    async with serve(PRODUCTION) as client:
        body = assert_request_error(await ask(client, query), 400)
        assert "introspection" in body["errors"][0]["message"].lower()


@pytest.mark.parametrize("query", INTROSPECTION[:2])
async def test_introspection_is_on_in_development(query: str, db: str) -> None:
    async with serve(Settings()) as client:
        response = await ask(client, query)
        assert response.status_code == 200 and "errors" not in response.json()


@pytest.mark.parametrize(
    "query",
    [
        pytest.param('{ recipient(slug: "x") { nam } }', id="field"),
        pytest.param("{ recipientz { totalCount } }", id="root-field"),
        pytest.param("{ recipients(frist: 2) { totalCount } }", id="argument"),
    ],
)
async def test_production_suggests_no_names_development_does(query: str, db: str) -> None:
    """Suggestions name fields the client did not ask for: OWASP counts them as schema
    disclosure, so production drops them together with introspection (issue 11 §6)."""
    async with serve(PRODUCTION) as client:
        message = assert_request_error(await ask(client, query), 400)["errors"][0]["message"]
        assert "Did you mean" not in message and message.endswith(".")
    async with serve(Settings()) as client:
        message = assert_request_error(await ask(client, query), 400)["errors"][0]["message"]
        assert "Did you mean" in message


async def test_typename_still_works_in_production(db: str) -> None:
    async with serve(PRODUCTION) as client:
        response = await ask(client, TYPENAME)
        assert response.json()["data"] == {"__typename": "Query"}


async def test_the_console_is_off_in_production_and_on_in_development(db: str) -> None:
    browser = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    async with serve(PRODUCTION) as client:
        response = await client.get("/graphql", headers=browser)
        assert_sane(response)
        assert response.status_code == 404
        assert response.json()["errors"][0]["message"] == "The query console is off in production."
        assert (await client.get("/console/console.js")).status_code == 404
    async with serve(Settings()) as client:
        response = await client.get("/graphql", headers=browser)
        assert response.status_code == 200 and "query console" in response.text
        assert (await client.get("/console/console.js")).status_code == 200


def test_production_comes_from_inventory_env() -> None:
    assert Settings.from_env({"INVENTORY_ENV": "production"}).production
    assert not Settings.from_env({}).production


# -- rate limit ---------------------------------------------------------------------------------

LIMITED = Settings(rate_limit=1.0, rate_limit_burst=2)


async def test_over_the_rate_a_key_gets_429_with_retry_after(db: str) -> None:
    async with serve(LIMITED) as client:
        for _ in range(2):
            assert (await ask(client, TYPENAME)).status_code == 200
        response = await client.post("/graphql", json={"query": TYPENAME})
        assert_sane(response)
        assert response.status_code == 429
        assert response.headers["retry-after"] == "1"
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert "try again" in error["message"]


async def test_retry_after_is_whole_seconds_rounded_up(db: str) -> None:
    async with serve(Settings(rate_limit=1 / 60, rate_limit_burst=1)) as client:  # 1/m
        assert (await ask(client, TYPENAME)).status_code == 200
        response = await client.get("/graphql", params={"query": TYPENAME})
        assert response.status_code == 429
        assert response.headers["retry-after"] in ("59", "60")


async def test_health_checks_are_not_rate_limited(db: str) -> None:
    async with serve(Settings(rate_limit=1.0, rate_limit_burst=1)) as client:
        await ask(client, TYPENAME)
        assert (await client.post("/graphql", json={"query": TYPENAME})).status_code == 429
        for _ in range(5):
            assert (await client.get("/healthz")).status_code == 200


async def test_each_api_key_has_its_own_bucket(db: str) -> None:
    app = create_app(LIMITED, manage_database=False)
    tokens = [await keys.create_key(n, Role.VIEWER, actor="tests") for n in ("alpha", "beta")]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:

        async def as_key(token: str) -> int:
            response = await client.post(
                "/graphql",
                json={"query": TYPENAME},
                headers={"Authorization": f"Bearer {token}"},
            )
            return response.status_code

        assert [await as_key(tokens[0]) for _ in range(3)] == [200, 200, 429]
        # The other key, from the same address, still has its whole burst.
        assert [await as_key(tokens[1]) for _ in range(3)] == [200, 200, 429]


async def test_without_a_principal_each_address_has_its_own_bucket() -> None:
    """The limiter's fallback (it runs after authentication, so in the app every request that
    reaches it has a principal)."""

    async def ok(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    limited = RateLimitMiddleware(ok, buckets=TokenBuckets(1.0, 1))
    clients = [
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=limited, client=(address, 1)),
            base_url="http://test",
        )
        for address in ("10.0.0.1", "10.0.0.2")
    ]
    async with clients[0] as one, clients[1] as two:
        assert (await one.post("/graphql", json={"query": TYPENAME})).status_code == 200
        assert (await one.post("/graphql", json={"query": TYPENAME})).status_code == 429
        assert (await two.post("/graphql", json={"query": TYPENAME})).status_code == 200


async def test_rate_limit_is_off_unless_configured(db: str) -> None:
    async with serve(Settings()) as client:
        for _ in range(30):
            assert (await client.post("/graphql", json={"query": TYPENAME})).status_code == 200
    assert Settings.from_env({}).rate_limit is None
    assert dataclasses.replace(LIMITED, rate_limit=None).rate_limit is None
