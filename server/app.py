"""The starlette application: GraphQL at /graphql (the query console for a browser, its files at
/console/), liveness at /healthz, readiness at /readyz, and the exports at /exports/
(server/exports_http.py)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Protocol, cast

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tortoise import Tortoise

from server.auth import AuthenticationMiddleware
from server.db.config import tortoise_config
from server.db.errors import is_unavailable, note_unavailable
from server.exports_http import METHODS, exports_endpoint
from server.graphql.context import Context, Loaders
from server.graphql.http import RETRY_AFTER, console_asset, graphql_endpoint, unavailable_error
from server.graphql.imports import IMPORT_BODY_BYTES, imports_endpoint
from server.graphql.schema import build_schema
from server.ratelimit import RateLimitMiddleware, SharedRateLimit, TokenBuckets
from server.refusals import refusal
from server.services import clock, keys
from server.settings import Settings

log = logging.getLogger("server")
access_log = logging.getLogger("server.access")
# Probes would drown the access log; everything else is logged.
QUIET_PATHS = frozenset({"/healthz", "/readyz"})
# An unread body of up to this many bytes may stay buffered with its keep-alive connection;
# a larger one (or one of unknown length) is dropped before an answer that did not read it.
UNREAD_BODY_KEPT = 16 * 1024
# How long a body nobody will read may take to arrive and be dropped, before the connection is
# closed under it instead.
DISCARD_SECONDS = 1.0
# /readyz answers within this many seconds, ready or not.
READY_TIMEOUT_SECONDS = 2.0
# At shutdown, after the requests (GRACEFUL_TIMEOUT_SECONDS), closing the database's connections
# takes at most this long: more only when the database no longer answers.
CLOSE_SECONDS = 2.0


class CollectionSchedule:
    """When to collect, and how deep, with automatic collection off: CPython's own escalation
    (a young collection per `young` new objects, an older one every `every`), run at moments
    the caller chooses. The bench times its in-process calls under it too, as the server runs."""

    def __init__(self, young: int = 20_000, every: int = 10) -> None:
        self.young = young
        self.every = every
        self.collections = [0, 0]

    def collect(self) -> None:
        if gc.get_count()[0] < self.young:
            return
        generation = 0
        self.collections[0] += 1
        if self.collections[0] >= self.every:
            self.collections[0] = 0
            self.collections[1] += 1
            generation = 1
            if self.collections[1] >= self.every:
                self.collections[1] = 0
                generation = 2
        gc.collect(generation)


class CollectBetweenRequests:
    """Runs the cyclic garbage collector after a response is sent instead of in the middle of
    one. Mid-request, the collector traverses every object of the answer being built (a large
    report holds hundreds of thousands), promotes them, and later pays for them again in older
    generations: that was whoReceives' p99. After the response, the request's objects are gone
    and a young collection is cheap. The lifespan turns automatic collection off only when this
    middleware is installed; the thresholds mirror CPython's defaults, scaled up."""

    def __init__(self, app: ASGIApp, young: int = 20_000, every: int = 10) -> None:
        self.app = app
        self.schedule = CollectionSchedule(young, every)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            if scope["type"] == "http" and not gc.isenabled():
                self.schedule.collect()


class RequestGuardMiddleware:
    """Every response carries X-Request-Id (the caller's own when it sent a sane one), an
    exception that escapes the application becomes a 500 naming the request id (the log has the
    stack), or a 503 with Retry-After when the database could not answer (authentication reads
    it), and each request gets one access log line (server.access). It reads no body: the key
    is checked first (auth.py), then BodyLimitMiddleware reads it.

    An answer given before the body was read (a 401 or a 429) must not leave a large body with
    its connection: uvicorn keeps what it buffered of it for as long as the connection lives.
    So such a body is read and dropped first, for up to DISCARD_SECONDS, and the answer keeps
    the connection; a body still coming after that, or over the limit, gets the answer with the
    connection closed. Closing at once instead would reset the connection under a client still
    sending, which then never reads its 401."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = dict(scope["headers"])
        incoming = headers.get(b"x-request-id", b"").decode("latin-1")
        declared = headers.get(b"content-length", b"").decode("latin-1")
        large_body = b"transfer-encoding" in headers or (
            declared.isdigit() and int(declared) > UNREAD_BODY_KEPT
        )
        request_id = (
            incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        )
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                sent = list(message.get("headers", []))
                sent.append((b"x-request-id", request_id.encode()))
                if (
                    large_body
                    and not state.get("body_read")
                    and all(name.lower() != b"connection" for name, _ in sent)
                    and not await self._discard_body(receive)
                ):
                    sent.append((b"connection", b"close"))
                message["headers"] = sent
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            unavailable = is_unavailable(exc)
            if unavailable:
                note_unavailable(exc)
            else:
                log.exception("unhandled error", extra={"request_id": request_id})
            state["outcome"] = "unavailable" if unavailable else "error"
            if status == 0:
                response: Response
                if unavailable:
                    response = JSONResponse(
                        {"errors": [unavailable_error(request_id)]},
                        status_code=503,
                        headers=RETRY_AFTER,
                    )
                else:
                    response = refusal(
                        500,
                        "INTERNAL",
                        f"Internal error (request id {request_id}).",
                        requestId=request_id,
                    )
                await response(scope, receive, send_with_id)
        finally:
            if scope["path"] not in QUIET_PATHS and access_log.isEnabledFor(logging.INFO):
                principal = state.get("principal")
                access_log.info(
                    "request",
                    extra={
                        "request_id": request_id,
                        "key": getattr(principal, "name", None),
                        "method": scope.get("method"),
                        "path": scope["path"],
                        "operation": state.get("operation"),
                        "status": status,
                        "outcome": state.get("outcome") or _outcome(status),
                        **{
                            name: state[name]
                            for name in ("user_error_codes", "error_codes")
                            if name in state
                        },
                        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                    },
                )

    async def _discard_body(self, receive: Receive) -> bool:
        """Read the body and keep none of it; whether it all came in time and within the
        limit."""
        size = 0
        try:
            async with asyncio.timeout(DISCARD_SECONDS):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return False
                    size += len(message.get("body", b""))
                    if size > self.max_body_bytes:
                        return False
                    if not message.get("more_body", False):
                        return True
        except TimeoutError:
            return False


class BodyLimitMiddleware:
    """Reads a request's body, after the key and the rate limit have let it through, and hands
    it to the application whole. A body over `max_bytes` is refused with 413 before more of it
    is read, and one that has not arrived whole within `timeout` seconds with 408: slow senders
    could otherwise hold a buffer each for as long as they like. Both close the connection, so
    what the client still sends is not read."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        timeout: float,
        path_limits: dict[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout
        # Paths with a limit of their own (POST /imports takes whole files).
        self.path_limits = path_limits or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        max_bytes = self.path_limits.get(scope["path"], self.max_bytes)
        declared = dict(scope["headers"]).get(b"content-length", b"").decode("latin-1")
        if declared.isdigit() and int(declared) > max_bytes:
            await self._too_large(scope, receive, send, max_bytes)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        try:
            async with asyncio.timeout(self.timeout):
                while more and size <= max_bytes:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    chunks.append(chunk)
                    more = message.get("more_body", False)
        except TimeoutError:
            chunks.clear()
            response = refusal(
                408,
                "REQUEST_TIMEOUT",
                f"The request body did not arrive within {self.timeout:g} s.",
                close=True,
            )
            await response(scope, receive, send)
            return
        if size > max_bytes:
            chunks.clear()
            await self._too_large(scope, receive, send, max_bytes)
            return
        body = b"".join(chunks)
        chunks.clear()
        scope.setdefault("state", {})["body_read"] = True
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, max_bytes: int) -> None:
        response = refusal(
            413,
            "PAYLOAD_TOO_LARGE",
            f"The request body is over {max_bytes} bytes.",
            close=True,
        )
        await response(scope, receive, send)


def _outcome(status: int) -> str:
    """For an answer GraphQL did not give (a 401, a 429, a 413, a probe...)."""
    if status == 0:
        return "disconnected"  # the client went away before an answer
    if status == 429:
        return "rate_limited"
    if status == 503:
        return "unavailable"
    if status >= 500:
        return "error"
    return "rejected" if status >= 400 else "ok"


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


class CheckedConnection(Protocol):
    """Our engines' clients (server/db/sqlite_engine.py, postgres_engine.py)."""

    async def check_ready(self) -> None: ...


async def readyz(request: Request) -> Response:
    """Ready when the database answers within READY_TIMEOUT_SECONDS (and, for SQLite, its file
    is still where it was opened, readable and writable); a probe never hangs."""
    try:
        connection = cast(CheckedConnection, Tortoise.get_connection("default"))
        await asyncio.wait_for(connection.check_ready(), READY_TIMEOUT_SECONDS)
    except Exception as exc:  # any failure means not ready
        if is_unavailable(exc) or isinstance(exc, TimeoutError):
            note_unavailable(exc)  # probes come every few seconds: one warning per interval
        else:
            log.warning("readiness check failed: %s", exc)
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable"},
            status_code=503,
            headers=RETRY_AFTER,
        )
    return JSONResponse({"status": "ok", "database": "ok"})


async def close_database(timeout: float) -> None:
    """Close the database's connections at shutdown, giving up after `timeout` seconds: a
    connection stuck on an unreachable server must not keep the process from stopping."""
    try:
        async with asyncio.timeout(timeout):
            await Tortoise.close_connections()
    except TimeoutError:
        log.warning("database connections not closed within %g s; stopping anyway", timeout)


def create_app(settings: Settings | None = None, *, manage_database: bool = True) -> Starlette:
    """`manage_database=False` leaves the ORM to the caller (tests open their own database)."""
    settings = settings or Settings.from_env()
    schema = build_schema(settings)

    async def make_context(request: Request) -> Context:
        return Context(
            settings=settings,
            principal=getattr(request.state, "principal", None),
            loaders=Loaders(clock.today()),
            request_id=getattr(request.state, "request_id", ""),
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not manage_database:
            yield
            return
        # Only an existing SQLite file is opened (`migrate` creates it), and every PostgreSQL
        # statement is bounded by the database timeout.
        config = tortoise_config(settings.database_url, settings.database_timeout_ms, serving=True)
        await Tortoise.init(config=config, _enable_global_fallback=True)
        if settings.admin_token_file is not None:
            await keys.ensure_admin_from_file(settings.admin_token_file)
        # What start-up allocated lives as long as the process: keep the collector off it.
        # From now on it runs between requests (CollectBetweenRequests).
        gc.collect()
        gc.freeze()
        gc.disable()
        try:
            yield
        finally:
            gc.enable()
            await close_database(min(settings.graceful_timeout_seconds, CLOSE_SECONDS))

    endpoint = graphql_endpoint(schema, make_context)
    # The guard first (so every answer, a 401 or a 429 too, has its X-Request-Id and access log
    # line), then authentication, then the rate limit, whose buckets are keyed by the principal,
    # and only then the body: a caller without a key, or over its rate, never gets to send one.
    anonymous = None
    if settings.anonymous_rate_limit is not None:
        anonymous = TokenBuckets(settings.anonymous_rate_limit, settings.anonymous_rate_limit_burst)
    middleware = [Middleware(CollectBetweenRequests)]
    if settings.cors_origins:
        # Outside everything else: a preflight is answered before the key and the rate limit
        # (and so without a request id or an access log line), and every answer to a listed
        # origin, a 401, 429 or 503 refusal too, carries the headers that let its page read it.
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["authorization", "content-type", "x-request-id"],
                expose_headers=["x-request-id", "retry-after"],
                max_age=600,
            )
        )
    middleware += [
        Middleware(RequestGuardMiddleware, max_body_bytes=settings.max_body_bytes),
        Middleware(
            AuthenticationMiddleware,
            anonymous=anonymous,
            paths=("/graphql", "/imports", "/exports"),
        ),
    ]
    if settings.rate_limit is not None:
        # With REDIS_URL every replica counts in Redis, so the limit holds across them.
        buckets: TokenBuckets | SharedRateLimit = (
            SharedRateLimit(settings.redis_url, settings.rate_limit, settings.burst)
            if settings.redis_url is not None
            else TokenBuckets(settings.rate_limit, settings.burst)
        )
        middleware.append(Middleware(RateLimitMiddleware, buckets=buckets))
    middleware.append(
        Middleware(
            BodyLimitMiddleware,
            max_bytes=settings.max_body_bytes,
            timeout=settings.body_timeout_seconds,
            path_limits={"/imports": IMPORT_BODY_BYTES},
        )
    )
    app = Starlette(
        routes=[
            Route("/graphql", endpoint, methods=["GET", "POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/console/{name}", console_asset, methods=["GET"]),
            Route("/imports", imports_endpoint, methods=["POST"]),
            Route("/exports/{name}", exports_endpoint(settings), methods=METHODS),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
    # The query console (GET /graphql from a browser, and /console/*): off in production.
    app.state.console = not settings.production
    # Production names no fields a client did not ask for: no suggestions, like no introspection.
    app.state.hide_suggestions = settings.production
    app.state.schema = schema
    return app
