"""The starlette application: GraphQL at /graphql, liveness at /healthz, readiness at /readyz."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tortoise import Tortoise
from tortoise.contrib.starlette import RegisterTortoise

from server.db.config import tortoise_config
from server.graphql.context import Context, Loaders
from server.graphql.http import graphql_endpoint
from server.graphql.schema import build_schema
from server.services import clock
from server.settings import Settings

log = logging.getLogger("server")


class RequestIdMiddleware:
    """Every response carries X-Request-Id: the caller's own when it sent a sane one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = (
            incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        )
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        await self.app(scope, receive, send_with_id)


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    try:
        connection = Tortoise.get_connection("default")
        await connection.execute_query("SELECT 1")
    except Exception as exc:  # any failure means not ready
        log.warning("readiness check failed: %s", exc)
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


def create_app(settings: Settings | None = None, *, manage_database: bool = True) -> Starlette:
    """`manage_database=False` leaves the ORM to the caller (tests open their own database)."""
    settings = settings or Settings.from_env()
    schema = build_schema(settings)

    async def make_context(request: Request) -> Context:
        return Context(
            settings=settings,
            loaders=Loaders(clock.today()),
            request_id=getattr(request.state, "request_id", ""),
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if manage_database:
            async with RegisterTortoise(app, config=tortoise_config(settings.database_url)):
                yield
        else:
            yield

    endpoint = graphql_endpoint(schema, make_context)
    app = Starlette(
        routes=[
            Route("/graphql", endpoint, methods=["GET", "POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
        ],
        middleware=[Middleware(RequestIdMiddleware)],
        lifespan=lifespan,
        max_body_size=settings.max_body_bytes,
    )
    app.state.graphiql = not settings.production
    app.state.schema = schema
    return app
