"""Errors and logs (issue 4 §3): one access line per request with request id, key, operation,
duration and outcome; unexpected exceptions masked with the request id, whose log line has the
stack."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from typing import Any

import httpx
import pytest
from graphql import GraphQLError
from strawberry.types.execution import PreExecutionError
from tortoise.exceptions import OperationalError

from server.app import create_app
from server.db import errors as db_errors
from server.db import recipients as recipient_rows
from server.domain.access import Role
from server.graphql import http as graphql_http
from server.graphql.http import unavailable_error
from server.logging_setup import JsonFormatter
from server.services import keys
from server.settings import Settings
from tests.api.test_http import GRAPHQL_RESPONSE, JSON, OVERSIZED, TYPENAME
from tests.conftest import MakeClient

pytestmark = pytest.mark.usefixtures("access_records")


@pytest.fixture
def access_records(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="server.access")
    return caplog


def access_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """The access records as the JSON lines the server writes."""
    formatter = JsonFormatter()
    return [json.loads(formatter.format(r)) for r in caplog.records if r.name == "server.access"]


def only_line(caplog: pytest.LogCaptureFixture, response: httpx.Response) -> dict[str, Any]:
    lines = [
        line
        for line in access_lines(caplog)
        if line["request_id"] == response.headers["x-request-id"]
    ]
    assert len(lines) == 1, access_lines(caplog)
    return lines[0]


async def test_a_query_logs_one_access_line(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = await client.post(
        "/graphql", json={"query": "query Dashboard { recipients { totalCount } }"}
    )
    line = only_line(caplog, response)
    assert line["logger"] == "server.access"
    assert line["level"] == "INFO"
    assert line["key"] == "test-admin"
    assert line["operation"] == "Dashboard"
    assert line["outcome"] == "ok"
    assert line["status"] == 200
    assert line["method"] == "POST" and line["path"] == "/graphql"
    assert isinstance(line["duration_ms"], float) and 0 <= line["duration_ms"] < 60_000
    assert line["time"].endswith("+00:00")


async def test_a_huge_operation_name_is_cut_in_the_log(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    name = "Q" * 100_000  # the query and operationName together stay under the body limit
    response = await client.post(
        "/graphql", json={"query": f"query {name} {{ __typename }}", "operationName": name}
    )
    assert response.status_code == 200, response.text
    logged = only_line(caplog, response)["operation"]
    assert logged == "Q" * 100 + "…"


@pytest.mark.parametrize(
    ("payload", "operation"),
    [
        ({"query": TYPENAME}, "query"),
        ({"query": "mutation { __typename }"}, "mutation"),
        ({"query": "query A { __typename } query B { __typename }", "operationName": "B"}, "B"),
    ],
)
async def test_operation_is_the_name_else_the_type(
    client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    payload: dict[str, Any],
    operation: str,
) -> None:
    response = await client.post("/graphql", json=payload)
    assert response.status_code == 200, response.text
    assert only_line(caplog, response)["operation"] == operation


@pytest.mark.parametrize(
    ("send", "status", "outcome"),
    [
        pytest.param(
            lambda c: c.post("/graphql", json={"query": "{ nope }"}, headers={"accept": JSON}),
            200,
            "rejected",
            id="validation-error-as-json",
        ),
        pytest.param(
            lambda c: c.post(
                "/graphql", json={"query": "{ nope }"}, headers={"accept": GRAPHQL_RESPONSE}
            ),
            400,
            "rejected",
            id="validation-error-as-graphql-response",
        ),
        pytest.param(
            lambda c: c.post("/graphql", json={"query": "{ recipient { id } }"}),
            200,
            "rejected",
            id="field-error",
        ),
        pytest.param(
            lambda c: c.post("/graphql", content=b"{", headers={"content-type": JSON}),
            400,
            "rejected",
            id="malformed-json",
        ),
        pytest.param(
            lambda c: c.post("/graphql", content=b"{}", headers={"content-type": "text/plain"}),
            415,
            "rejected",
            id="wrong-content-type",
        ),
        pytest.param(
            lambda c: c.post("/graphql", content=OVERSIZED, headers={"content-type": JSON}),
            413,
            "rejected",
            id="too-large",
        ),
        pytest.param(lambda c: c.get("/nowhere"), 404, "rejected", id="not-found"),
    ],
)
async def test_outcomes(
    client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    send: Any,
    status: int,
    outcome: str,
) -> None:
    response = await send(client)
    assert response.status_code == status, response.text
    line = only_line(caplog, response)
    assert (line["status"], line["outcome"]) == (status, outcome)


UPSERT_SUBJECT = """mutation Upsert($country: String!) {
  upsertDataSubject(input: {externalRef: "log-1", subjectType: "platform_user",
                            country: $country, dataCategories: ["user.contact.email"]}) {
    dataSubject { externalRef } %s
  }
}"""


@pytest.mark.parametrize("selected", ["userErrors { code message }", ""])
async def test_a_mutation_refused_with_user_errors_logs_their_codes(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, selected: str
) -> None:
    """Logged `ok` before: the HTTP answer is a 200 with data. Whether or not the client asked
    for the userErrors, the log says the mutation was refused and why."""
    query = UPSERT_SUBJECT % selected
    refused = await client.post("/graphql", json={"query": query, "variables": {"country": "ZZ"}})
    assert refused.status_code == 200, refused.text
    assert refused.json()["data"]["upsertDataSubject"]["dataSubject"] is None
    line = only_line(caplog, refused)
    assert (line["status"], line["outcome"], line["operation"]) == (200, "user_errors", "Upsert")
    assert line["user_error_codes"] == ["INVALID"]
    done = await client.post("/graphql", json={"query": query, "variables": {"country": "DE"}})
    assert done.json()["data"]["upsertDataSubject"]["dataSubject"] == {"externalRef": "log-1"}
    line = only_line(caplog, done)
    assert (line["status"], line["outcome"]) == (200, "ok")
    assert "user_error_codes" not in line


async def test_a_permission_refusal_is_forbidden_with_its_code(
    client_for: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    viewer = await client_for("viewer", "log-viewer")
    query = UPSERT_SUBJECT % "userErrors { code }"
    response = await viewer.post("/graphql", json={"query": query, "variables": {"country": "DE"}})
    assert response.json()["data"]["upsertDataSubject"]["userErrors"] == [{"code": "FORBIDDEN"}]
    line = only_line(caplog, response)
    assert (line["outcome"], line["user_error_codes"]) == ("forbidden", ["FORBIDDEN"])


async def test_a_refused_query_logs_its_error_codes(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    aliases = " ".join(f"a{n}: __typename" for n in range(40))  # MAX_ALIASES is 30
    response = await client.post("/graphql", json={"query": "{ " + aliases + " }"})
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    line = only_line(caplog, response)
    assert (line["outcome"], line["error_codes"]) == ("rejected", ["GRAPHQL_VALIDATION_FAILED"])


async def test_health_checks_are_not_in_the_access_log(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    await client.get("/healthz")
    await client.get("/readyz")
    assert access_lines(caplog) == []


async def test_key_is_the_principal_name(db: str, caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(Settings(rate_limit=1.0, rate_limit_burst=1), manage_database=False)
    token = await keys.create_key("reporting", Role.VIEWER, actor="tests")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", headers={"Authorization": f"Bearer {token}"}
    ) as client:
        first = await client.post("/graphql", json={"query": TYPENAME})
        limited = await client.post("/graphql", json={"query": TYPENAME})
    assert only_line(caplog, first)["key"] == "reporting"
    line = only_line(caplog, limited)
    assert (line["key"], line["status"], line["outcome"]) == ("reporting", 429, "rate_limited")


# -- unexpected exceptions ----------------------------------------------------------------------


async def test_a_resolver_exception_is_masked_and_logged_with_its_stack(
    client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(slug: str) -> None:
        raise RuntimeError("boom: SELECT secret FROM recipient")

    monkeypatch.setattr(recipient_rows, "recipient_by_slug", broken)
    response = await client.post(
        "/graphql", json={"query": '{ recipient(slug: "x") { id } }'}, headers={"accept": JSON}
    )
    request_id = response.headers["x-request-id"]
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"recipient": None}
    error = body["errors"][0]
    assert error["message"] == f"Internal error (request id {request_id})."
    assert error["extensions"] == {"code": "INTERNAL", "requestId": request_id}
    for leak in ("boom", "SELECT", "Traceback", "RuntimeError"):
        assert leak not in response.text

    formatter = JsonFormatter()
    errors = [
        json.loads(formatter.format(r))
        for r in caplog.records
        if r.name == "server.graphql" and r.levelno == logging.ERROR
    ]
    assert len(errors) == 1
    assert errors[0]["request_id"] == request_id
    assert "Traceback" in errors[0]["exc_info"]
    assert "RuntimeError: boom: SELECT secret FROM recipient" in errors[0]["exc_info"]
    assert only_line(caplog, response)["outcome"] == "error"


async def test_an_exception_outside_graphql_is_a_masked_500_with_the_request_id(
    client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(params: dict[str, Any]) -> Any:
        raise RuntimeError("boom: connection string postgres://secret")

    monkeypatch.setattr(graphql_http, "_check_params", broken)
    response = await client.post("/graphql", json={"query": TYPENAME})
    request_id = response.headers["x-request-id"]
    assert response.status_code == 500
    assert response.json() == {
        "errors": [
            {
                "message": f"Internal error (request id {request_id}).",
                "extensions": {"code": "INTERNAL", "requestId": request_id},
            }
        ]
    }
    assert "secret" not in response.text and "Traceback" not in response.text
    formatter = JsonFormatter()
    stacks = [
        json.loads(formatter.format(r))
        for r in caplog.records
        if r.levelno == logging.ERROR and r.exc_info
    ]
    assert [s["request_id"] for s in stacks] == [request_id]
    assert "RuntimeError: boom" in stacks[0]["exc_info"]
    line = only_line(caplog, response)
    assert (line["status"], line["outcome"]) == (500, "error")


# -- a database that does not answer (issue 11 §3) ----------------------------------------------


@pytest.fixture
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The once-per-interval warning starts afresh (another test may have just logged it)."""
    monkeypatch.setattr(db_errors, "_warnings", db_errors.OncePerInterval(db_errors.log, 30.0))


def locked() -> Exception:
    """What tortoise raises when SQLite's busy timeout passes: its error, from sqlite3's."""
    try:
        try:
            raise sqlite3.OperationalError("database is locked")
        except sqlite3.OperationalError as exc:
            raise OperationalError(exc)  # noqa: B904 - as tortoise raises it
    except OperationalError as wrapped:
        return wrapped


@pytest.mark.usefixtures("fresh_warnings")
@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE])
async def test_a_database_that_does_not_answer_is_a_503_with_retry_after(
    client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    accept: str,
) -> None:
    async def busy(slug: str) -> None:
        raise locked()

    monkeypatch.setattr(recipient_rows, "recipient_by_slug", busy)
    caplog.set_level(logging.INFO, logger="server.db")
    responses = [
        await client.post(
            "/graphql",
            json={"query": '{ recipient(slug: "x") { id } }'},
            headers={"accept": accept},
        )
        for _ in range(3)
    ]
    for response in responses:
        request_id = response.headers["x-request-id"]
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert response.headers["content-type"].startswith(accept)
        body = response.json()
        assert body["data"] == {"recipient": None}
        assert body["errors"] == [
            {
                "message": "The database is busy or unreachable; try again in 1 s "
                f"(request id {request_id}).",
                "path": ["recipient"],
                "locations": [{"line": 1, "column": 3}],
                "extensions": {
                    "code": "SERVICE_UNAVAILABLE",
                    "retryAfter": 1,
                    "requestId": request_id,
                },
            }
        ]
        line = only_line(caplog, response)
        assert (line["status"], line["outcome"]) == (503, "unavailable")
    # One warning for the three, naming the cause, with no stack; no ERROR at all.
    warnings = [r for r in caplog.records if r.name == "server.db"]
    assert [(r.levelname, r.getMessage()) for r in warnings] == [
        ("WARNING", "database unavailable")
    ]
    assert "database is locked" in warnings[0].detail  # type: ignore[attr-defined]
    assert warnings[0].exc_info is None
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.usefixtures("fresh_warnings")
async def test_a_database_down_before_graphql_is_a_503_too(
    client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Authentication reads the key before any resolver runs: with PostgreSQL down, that read
    raised ConnectionRefusedError, a 500 and a stack trace per request."""

    async def refused(*_: object, **__: object) -> None:
        raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")

    monkeypatch.setattr(keys, "authenticate", refused)
    caplog.set_level(logging.INFO, logger="server.db")
    for _ in range(3):
        response = await client.post("/graphql", json={"query": TYPENAME})
        request_id = response.headers["x-request-id"]
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        [error] = response.json()["errors"]
        assert error["extensions"] == {
            "code": "SERVICE_UNAVAILABLE",
            "retryAfter": 1,
            "requestId": request_id,
        }
        assert "5432" not in response.text
        line = only_line(caplog, response)
        assert (line["status"], line["outcome"]) == (503, "unavailable")
    assert len([r for r in caplog.records if r.name == "server.db"]) == 1
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_readyz_answers_503_in_time_when_the_database_hangs(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from server import app as app_module

    class Hanging:
        async def check_ready(self) -> None:
            await asyncio.sleep(60)

    monkeypatch.setattr(app_module, "READY_TIMEOUT_SECONDS", 0.2)
    monkeypatch.setattr(app_module.Tortoise, "get_connection", lambda name: Hanging())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await asyncio.wait_for(http.get("/readyz"), 2)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"


@pytest.mark.usefixtures("fresh_warnings")
async def test_a_database_down_before_execution_is_a_503_without_its_text(
    app: Any, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An extension that reads the database before execution (the cost's counts) and fails:
    strawberry answers with an error that has no path and the exception's text as message."""

    async def failing(*args: Any, **kwargs: Any) -> PreExecutionError:
        refused = ConnectionRefusedError(111, "Connect call failed ('10.0.0.5', 5432)")
        return PreExecutionError(
            data=None, errors=[GraphQLError(str(refused), original_error=refused)]
        )

    monkeypatch.setattr(app.state.schema, "execute", failing)
    for accept in (JSON, GRAPHQL_RESPONSE):
        response = await client.post(
            "/graphql", json={"query": TYPENAME}, headers={"accept": accept}
        )
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert "data" not in response.json()
        assert response.json()["errors"] == [unavailable_error(response.headers["x-request-id"])]
        assert "10.0.0.5" not in response.text
