"""GraphQL over HTTP (the GraphQL Foundation's specification, its SHOULDs included).

- POST with application/json; GET for queries only (405 for a mutation).
- `application/graphql-response+json` when the client names it: requests that fail to parse,
  validate or coerce their variables get a 4xx and no `data` entry. Clients that accept only
  `application/json`, or name no type (`*/*`), get application/json: 200 with the errors, as
  the specification asks for them.
- A browser gets the query console (server/console: our own page, script and style, all served
  from here, so that it works on a network without internet access).
- Unexpected exceptions are masked as "Internal error" with the request id; the log has the stack.
- A database that is locked or unreachable is no bug: 503 SERVICE_UNAVAILABLE with Retry-After,
  and one warning per interval in the log (server/db/errors.py).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import GraphQLError, OperationDefinitionNode, parse
from starlette.requests import Request
from starlette.responses import Response
from strawberry import Schema
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.types.graphql import OperationType

from server.db.errors import RETRY_AFTER_SECONDS, is_unavailable, note_unavailable
from server.graphql.context import Context
from server.graphql.errors import error_code

log = logging.getLogger("server.graphql")

MAX_TOKENS_FOR_COUNT = 10_000
GRAPHQL_RESPONSE = "application/graphql-response+json"
# Operation names are logged up to this length (GraphQL sets no limit on a name).
LOGGED_NAME_MAX = 100
JSON = "application/json"
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
RETRY_AFTER = {"Retry-After": str(RETRY_AFTER_SECONDS)}


class RequestProblem(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def _media_types(header: str) -> list[tuple[str, float]]:
    out = []
    for part in header.split(","):
        pieces = [p.strip() for p in part.split(";")]
        if not pieces[0]:
            continue
        q = 1.0
        for param in pieces[1:]:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        out.append((pieces[0].lower(), q))
    return out


def response_media_type(accept: str | None) -> str:
    """Which of our two media types to answer with; RequestProblem(406) if neither is acceptable."""
    if not accept:
        return JSON
    best: tuple[float, int, str] | None = None
    for media, q in _media_types(accept):
        if q <= 0:
            continue
        for preference, candidate in ((2, GRAPHQL_RESPONSE), (1, JSON)):
            exact = media == candidate
            # A wildcard (what clients send when they name nothing) gets application/json, as
            # graphql-http's audit expects; only a client that names graphql-response+json
            # gets it. An exact mention beats a wildcard; on a tie, graphql-response+json.
            if exact or (candidate == JSON and media in ("application/*", "*/*")):
                key = (q, int(exact) * 10 + preference, candidate)
                if best is None or key > best:
                    best = key
    if best is None:
        raise RequestProblem(
            406, f"Cannot answer with any of: {accept[:200]}. Accept {GRAPHQL_RESPONSE} or {JSON}."
        )
    return best[2]


def wants_console(request: Request) -> bool:
    """A browser opening /graphql: it gets the query console instead of a GraphQL answer."""
    if request.method != "GET" or "query" in request.query_params:
        return False
    accept = request.headers.get("accept", "")
    return "text/html" in accept


# The console's page is /graphql itself; its script and style are /console/<name>.
CONSOLE_PAGE = "console.html"
CONSOLE_MEDIA_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
# The page runs only what this server sends: no inline script or style, no other host, no
# frame around it, no form posting anywhere (the key field must never become a URL).
CONSOLE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'; require-trusted-types-for 'script'"
)
CONSOLE_OFF = "The query console is off in production."


@dataclass(frozen=True)
class ConsoleFile:
    body: bytes
    media_type: str
    etag: str


@functools.cache
def console_files() -> dict[str, ConsoleFile]:
    """The console's files by name, read once from the package (they ship with it)."""
    files = {}
    for entry in (importlib.resources.files("server") / "console").iterdir():
        media_type = CONSOLE_MEDIA_TYPES.get("." + entry.name.rpartition(".")[2])
        if media_type is None or not entry.is_file():
            continue
        body = entry.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        files[entry.name] = ConsoleFile(body, media_type, etag)
    return files


def console_response(request: Request, name: str) -> Response:
    """A console file, revalidated on each use (`no-cache` with its ETag: a 304 costs a few
    bytes, and a new release is picked up at once, the page and its script together)."""
    if not getattr(request.app.state, "console", True):
        return _error_response(404, CONSOLE_OFF, JSON)
    file = console_files().get(name)
    if file is None:
        return _error_response(404, "No such file in the query console.", JSON)
    headers = {
        "ETag": file.etag,
        "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff",
    }
    if name == CONSOLE_PAGE:
        headers["Content-Security-Policy"] = CONSOLE_POLICY
        headers["Referrer-Policy"] = "no-referrer"
        headers["Vary"] = "Accept"  # /graphql is the page only for a browser
    matches = request.headers.get("if-none-match", "")
    if file.etag in (tag.strip().removeprefix("W/") for tag in matches.split(",")):
        return Response(status_code=304, headers=headers)
    return Response(file.body, media_type=file.media_type, headers=headers)


async def console_asset(request: Request) -> Response:
    """GET /console/<name>: the console's script and style, open without a key (they hold no
    data); the page itself is only at /graphql."""
    name = request.path_params["name"]
    if name == CONSOLE_PAGE:
        return _error_response(404, "The query console is at /graphql.", JSON)
    return console_response(request, name)


# The code of each refusal answered before GraphQL runs, by its HTTP status.
REFUSAL_CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


def _error_response(
    status: int, message: str, media: str, headers: dict[str, str] | None = None
) -> Response:
    body = {"errors": [{"message": message, "extensions": {"code": REFUSAL_CODES[status]}}]}
    return Response(orjson.dumps(body), status_code=status, media_type=media, headers=headers)


def _params_from_body(body: bytes, content_type: str) -> dict[str, Any]:
    media = content_type.split(";", 1)[0].strip().lower()
    if media != JSON:
        raise RequestProblem(415, f"POST bodies must be {JSON}; got {media or 'no content type'}.")
    try:
        params = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RequestProblem(400, f"The body is not valid JSON: {exc.msg}.") from exc
    if isinstance(params, list):
        raise RequestProblem(
            400,
            "Batched requests (a JSON array) are not supported: send one operation per request.",
        )
    if not isinstance(params, dict):
        raise RequestProblem(400, "The body must be a JSON object with a `query`.")
    return params


def _params_from_query_string(request: Request) -> dict[str, Any]:
    params: dict[str, Any] = {"query": request.query_params.get("query")}
    if "operationName" in request.query_params:
        params["operationName"] = request.query_params["operationName"]
    for name in ("variables", "extensions"):
        if name in request.query_params:
            try:
                params[name] = orjson.loads(request.query_params[name])
            except orjson.JSONDecodeError as exc:
                raise RequestProblem(400, f"`{name}` is not valid JSON: {exc.msg}.") from exc
    return params


def _contains_nul(value: Any) -> bool:
    # A loop, not recursion: JSON nested deeper than Python's recursion limit (orjson accepts
    # 1,024 levels) must be an answer, not a RecursionError.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


@functools.lru_cache(maxsize=512)
def _operations(query: str) -> tuple[tuple[str, str | None], ...]:
    """Each operation's type and name (none when the document does not parse: GraphQL reports
    that)."""
    try:
        document = parse(query, no_location=True, max_tokens=MAX_TOKENS_FOR_COUNT)
    except GraphQLError:
        return ()
    return tuple(
        (d.operation.value, d.name.value if d.name else None)
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    )


def operation_label(query: str, operation_name: str | None) -> str | None:
    """For the access log: the operation's name, else its type (`query`, `mutation`), cut to
    LOGGED_NAME_MAX characters so that a client cannot write huge log lines."""
    if operation_name is None:
        operations = _operations(query)
        if len(operations) != 1:
            return None
        kind, name = operations[0]
        operation_name = name or kind
    if len(operation_name) > LOGGED_NAME_MAX:
        return operation_name[:LOGGED_NAME_MAX] + "…"
    return operation_name


def _check_params(params: dict[str, Any]) -> tuple[str, dict[str, Any] | None, str | None]:
    query = params.get("query")
    if query is None:
        raise RequestProblem(400, "No `query` in the request.")
    if not isinstance(query, str):
        raise RequestProblem(400, "`query` must be a string.")
    variables = params.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise RequestProblem(400, "`variables` must be a JSON object.")
    operation_name = params.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise RequestProblem(400, "`operationName` must be a string.")
    extensions = params.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        raise RequestProblem(400, "`extensions` must be a JSON object.")
    # No text we store or search may hold NUL (PostgreSQL refuses it): say so up front.
    if "\x00" in query or "\\u0000" in query or _contains_nul(variables):
        raise RequestProblem(400, "NUL characters are not allowed in queries or variables.")
    if operation_name is None and len(_operations(query)) > 1:
        raise RequestProblem(
            400, "The document has several operations: say which to run with `operationName`."
        )
    return query, variables, operation_name


def is_unexpected(error: GraphQLError) -> bool:
    """Errors we did not mean to show: raised by our code, not by GraphQL's own checks."""
    original = error.original_error
    return (
        original is not None and not isinstance(original, GraphQLError) and error.path is not None
    )


def is_database_unavailable(error: GraphQLError) -> bool:
    """An error whose cause is the database not answering: worth retrying. In a resolver, or
    before execution (strawberry turns an extension's exception into an error without a path,
    its message the exception's text)."""
    original = error.original_error
    return (
        original is not None and not isinstance(original, GraphQLError) and is_unavailable(original)
    )


def unavailable_error(request_id: str) -> dict[str, Any]:
    """The error for a request the database could not serve: nothing in it was wrong, and the
    same request may be sent again after Retry-After."""
    return {
        "message": f"The database is busy or unreachable; try again in {RETRY_AFTER_SECONDS} s "
        f"(request id {request_id}).",
        "extensions": {
            "code": SERVICE_UNAVAILABLE,
            "retryAfter": RETRY_AFTER_SECONDS,
            "requestId": request_id,
        },
    }


# graphql-core's hint naming fields and types a client did not ask for ("Did you mean 'x'?").
SUGGESTION = re.compile(r" Did you mean [^?]*\?$")


def format_errors(
    errors: list[GraphQLError], request_id: str, hide_suggestions: bool = False
) -> list[dict[str, Any]]:
    """Errors as the response shows them: unexpected ones masked (and logged with their stack);
    with `hide_suggestions` (production), no hint that names the schema's fields, which OWASP
    counts as schema disclosure."""
    out = []
    formatted: dict[str, Any]
    for error in errors:
        if is_database_unavailable(error):
            note_unavailable(error.original_error)
            formatted = unavailable_error(request_id)
            if error.path is not None:
                formatted["path"] = error.path
            if error.locations:
                formatted["locations"] = [loc._asdict() for loc in error.locations]
            out.append(formatted)
        elif is_unexpected(error):
            log.error(
                "unexpected error in %s",
                ".".join(str(p) for p in error.path or []),
                exc_info=error.original_error,
                extra={"request_id": request_id},
            )
            formatted = {
                "message": f"Internal error (request id {request_id}).",
                "path": error.path,
                "extensions": {"code": "INTERNAL", "requestId": request_id},
            }
            if error.locations:
                formatted["locations"] = [loc._asdict() for loc in error.locations]
            out.append(formatted)
        else:
            formatted = dict(error.formatted)
            formatted["extensions"] = {**formatted.get("extensions", {}), "code": error_code(error)}
            if hide_suggestions and error.path is None:
                formatted["message"] = SUGGESTION.sub("", formatted["message"])
            out.append(formatted)
    return out


def is_request_error(result: ExecutionResult) -> bool:
    if isinstance(result, PreExecutionError):
        return True
    return (
        result.data is None
        and bool(result.errors)
        and all(e.path is None for e in result.errors or [])
    )


def _set_outcome(state: Any, result: ExecutionResult, context: Context, unavailable: bool) -> None:
    """What the access log says of an executed request: `unavailable` (the database), `error`
    (a bug, masked), `forbidden` (a permission refused something), `rejected` (the query was
    refused: it did not validate, cost too much, ...; its codes in `error_codes`),
    `user_errors` (a mutation answered with userErrors; their codes in `user_error_codes`),
    else `ok`."""
    errors = result.errors or []
    codes = sorted({error_code(e) for e in errors if not is_unexpected(e)})
    if codes:
        state.error_codes = codes
    if context.user_error_codes:
        state.user_error_codes = sorted(set(context.user_error_codes))
    if unavailable:
        state.outcome = "unavailable"
    elif any(is_unexpected(e) for e in errors):
        state.outcome = "error"
    elif context.forbidden or "FORBIDDEN" in codes:
        state.outcome = "forbidden"
    elif errors:
        state.outcome = "rejected"
    elif context.user_error_codes:
        state.outcome = "user_errors"
    else:
        state.outcome = "ok"


def graphql_endpoint(
    schema: Schema, make_context: Callable[[Request], Awaitable[Context]]
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        # request.state is what the access log reads (server/app.py): operation and outcome.
        state = request.state
        request_id = getattr(state, "request_id", "")
        if wants_console(request):
            return console_response(request, CONSOLE_PAGE)
        try:
            media = response_media_type(request.headers.get("accept"))
        except RequestProblem as problem:
            state.outcome = "rejected"
            return _error_response(problem.status, problem.message, JSON)
        try:
            if request.method == "GET":
                params = _params_from_query_string(request)
                allowed = {OperationType.QUERY}
            elif request.method == "POST":
                params = _params_from_body(
                    await request.body(), request.headers.get("content-type", "")
                )
                allowed = {OperationType.QUERY, OperationType.MUTATION}
            else:
                raise RequestProblem(405, "Use GET or POST.", {"Allow": "GET, POST"})
            query, variables, operation_name = _check_params(params)
            state.operation = operation_label(query, operation_name)
            context = await make_context(request)
            try:
                result = await schema.execute(
                    query,
                    variable_values=variables,
                    context_value=context,
                    operation_name=operation_name,
                    allowed_operation_types=allowed,
                )
            except InvalidOperationTypeError as exc:
                raise RequestProblem(
                    405, "Mutations need POST; GET is for queries only.", {"Allow": "POST"}
                ) from exc
            except CannotGetOperationTypeError as exc:
                raise RequestProblem(400, exc.as_http_error_reason()) from exc
            except MissingQueryError as exc:
                raise RequestProblem(400, "No `query` in the request.") from exc
        except RequestProblem as problem:
            state.outcome = "rejected"
            status = problem.status if media == GRAPHQL_RESPONSE or problem.status != 400 else 400
            return _error_response(status, problem.message, media, problem.headers)

        body: dict[str, Any] = {}
        request_error = is_request_error(result)
        unavailable = False
        if result.errors:
            body["errors"] = format_errors(
                result.errors,
                request_id,
                hide_suggestions=getattr(request.app.state, "hide_suggestions", False),
            )
            unavailable = any(is_database_unavailable(e) for e in result.errors)
        _set_outcome(state, result, context, unavailable)
        if not request_error:
            body["data"] = result.data
        if result.extensions:
            body["extensions"] = result.extensions
        if unavailable:
            return Response(
                orjson.dumps(body), status_code=503, media_type=media, headers=RETRY_AFTER
            )
        status = 400 if request_error and media == GRAPHQL_RESPONSE else 200
        return Response(orjson.dumps(body), status_code=status, media_type=media)

    return endpoint
