"""Authentication: every request to /graphql carries `Authorization: Bearer <token>` of an API key
that is not revoked. The key's Principal (name, role) goes to `scope["state"]["principal"]`
for the GraphQL context and for any middleware after this one (`request.state.principal`).

Open without a key: /healthz, /readyz, and a browser's GET of the GraphiQL page itself (it holds
no data and no token; GraphiQL sends the key as a header with each query).
"""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from server.graphql.http import JSON, RequestProblem, response_media_type, wants_graphiql
from server.services import keys

UNAUTHENTICATED = "UNAUTHENTICATED"


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None for anything else."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def unauthenticated(request: Request, message: str, invalid: bool) -> Response:
    try:
        media = response_media_type(request.headers.get("accept"))
    except RequestProblem:
        media = JSON
    body = {"errors": [{"message": message, "extensions": {"code": UNAUTHENTICATED}}]}
    challenge = 'Bearer error="invalid_token"' if invalid else "Bearer"
    return Response(
        orjson.dumps(body),
        status_code=401,
        media_type=media,
        headers={"WWW-Authenticate": challenge},
    )


class AuthenticationMiddleware:
    def __init__(self, app: ASGIApp, paths: tuple[str, ...] = ("/graphql",)) -> None:
        self.app = app
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if wants_graphiql(request):
            await self.app(scope, receive, send)
            return
        token = bearer_token(request.headers.get("authorization"))
        if token is None:
            response = unauthenticated(
                request,
                "Authentication required: send the header Authorization: Bearer <API key>.",
                invalid=False,
            )
            await response(scope, receive, send)
            return
        principal = await keys.authenticate(token)
        if principal is None:
            response = unauthenticated(request, "The API key is unknown or revoked.", invalid=True)
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)
