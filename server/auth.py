"""Authentication: every request to /graphql carries `Authorization: Bearer <token>` of an API key
that is not revoked. The key's Principal (name, role) goes to `scope["state"]["principal"]`
for the GraphQL context and for any middleware after this one (`request.state.principal`).

Open without a key: /healthz, /readyz, a browser's GET of the query console's page at /graphql,
and the console's script and style under /console/ (this middleware guards `paths` only). They
hold no data and no token: the console keeps the key in the browser and sends it as the header
with each query. A guarded path guards what is below it too (/exports/ropa.xlsx).

A request that presents no key, or one not seen to work lately, first takes a token from its
address's anonymous bucket (`ANONYMOUS_RATE_LIMIT`); an empty bucket answers 429 before the key
is looked up, so a flood of keyless or bogus requests costs no database work. A key that turns
out valid gives its token back: keyed clients are limited by `RATE_LIMIT` alone, and one whose
key worked lately is looked up even while a neighbour behind the same address is refused.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from server.domain.access import Principal
from server.graphql.http import JSON, RequestProblem, response_media_type, wants_console
from server.ratelimit import TokenBuckets, client_address, is_under, too_many_requests
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


class RecentKeys:
    """The hashes of the last `size` keys that authenticated, the least recently used dropped
    first. Being here spares a key the anonymous bucket, never the lookup: a revoked key is
    refused at its next request, and then forgotten."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._digests: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, digest: str) -> bool:
        return digest in self._digests

    def __len__(self) -> int:
        return len(self._digests)

    def add(self, digest: str) -> None:
        self._digests[digest] = None
        self._digests.move_to_end(digest)
        while len(self._digests) > self.size:
            self._digests.popitem(last=False)

    def discard(self, digest: str) -> None:
        self._digests.pop(digest, None)


class AuthenticationMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        anonymous: TokenBuckets | None = None,
        paths: tuple[str, ...] = ("/graphql",),
    ) -> None:
        self.app = app
        self.paths = paths
        self.anonymous = anonymous
        self.recent = RecentKeys()
        # Hash -> set when the lookup under way for it ends. A request with the same key that
        # finds its address's bucket empty waits for that answer instead of being refused:
        # clients sharing a key all start at once after a restart, before it is recent.
        self._checking: dict[str, asyncio.Event] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_under(scope["path"], self.paths):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if wants_console(request):
            await self.app(scope, receive, send)
            return
        token = bearer_token(request.headers.get("authorization"))
        # Longer than any key: refused without hashing it.
        digest = keys.token_hash(token) if token and len(token) <= keys.TOKEN_MAX else None
        address = client_address(scope)
        charged = False
        if digest is None or digest not in self.recent:
            wait = self.anonymous.take(address) if self.anonymous is not None else 0.0
            if wait <= 0:
                charged = self.anonymous is not None
            elif digest is not None and await self._proves_valid(digest):
                wait = 0.0
            if wait > 0:
                await too_many_requests(wait)(scope, receive, send)
                return
        if token is None:
            response = unauthenticated(
                request,
                "Authentication required: send the header Authorization: Bearer <API key>.",
                invalid=False,
            )
            await response(scope, receive, send)
            return
        principal = await self._verify(token, digest)
        if principal is None:
            response = unauthenticated(request, "The API key is unknown or revoked.", invalid=True)
            await response(scope, receive, send)
            return
        if charged and self.anonymous is not None:
            self.anonymous.give_back(address)
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)

    async def _proves_valid(self, digest: str) -> bool:
        """Whether a lookup of this key already under way finds it valid."""
        checking = self._checking.get(digest)
        if checking is None:
            return False
        await checking.wait()
        return digest in self.recent

    async def _verify(self, token: str, digest: str | None) -> Principal | None:
        """The key's principal, and whether it is recent, settled before anyone waiting for
        this lookup is woken."""
        if digest is None:
            return None
        event = None
        if digest not in self._checking:
            event = self._checking[digest] = asyncio.Event()
        try:
            principal = await keys.authenticate(token, digest)
            if principal is None:
                self.recent.discard(digest)
            else:
                self.recent.add(digest)
            return principal
        finally:
            if event is not None:
                del self._checking[digest]
                event.set()
