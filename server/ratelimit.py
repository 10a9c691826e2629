"""A per-key rate limit: a token bucket for each key, and the ASGI middleware that applies it.

Each key (the caller's principal name when authentication set one, else its address) has a
bucket holding up to `burst` tokens that refills at `rate` tokens a second; a request takes one
token. An empty bucket answers 429 with `Retry-After` (whole seconds, rounded up) and a GraphQL
error body with `extensions.code: RATE_LIMITED`. Only /graphql is limited, so health checks
always answer. Off unless `RATE_LIMIT` is set (server/settings.py).

Requests that present no key the service knows have a bucket per address of their own, taken
before the key is looked up (server/auth.py, `ANONYMOUS_RATE_LIMIT`)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import orjson
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

LIMITED_PATHS = frozenset({"/graphql"})


class TokenBuckets:
    """Buckets by key. `take(key)` returns 0.0 when the request may go ahead, else the seconds
    until a token is back. `clock` is injectable for tests (seconds, monotonic)."""

    def __init__(
        self,
        rate: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = float(burst)
        self.clock = clock
        self.max_keys = max_keys
        # key -> (tokens left, when last updated)
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, key: str) -> float:
        now = self.clock()
        tokens, then = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - then) * self.rate)
        if tokens >= 1.0:
            if key not in self._buckets and len(self._buckets) >= self.max_keys:
                self._forget_full(now)
            self._buckets[key] = (tokens - 1.0, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / self.rate

    def give_back(self, key: str) -> None:
        """Return a token `take` handed out, for a request that turned out not to count."""
        if key in self._buckets:
            tokens, then = self._buckets[key]
            self._buckets[key] = (min(self.burst, tokens + 1.0), then)

    def __len__(self) -> int:
        return len(self._buckets)

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled: they are what a new bucket would be anyway."""
        full_after = self.burst / self.rate
        for key, (_, then) in list(self._buckets.items()):
            if now - then >= full_after:
                del self._buckets[key]
        if len(self._buckets) >= self.max_keys:
            # Still full of active keys: forget the oldest half rather than grow without end.
            for key in list(self._buckets)[: self.max_keys // 2]:
                del self._buckets[key]


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def rate_limit_key(scope: Scope) -> str:
    principal = scope.get("state", {}).get("principal")
    name = getattr(principal, "name", None)
    if name:
        return f"principal:{name}"
    return f"address:{client_address(scope)}"


def too_many_requests(wait: float) -> Response:
    """429 for a bucket that has a token back in `wait` seconds."""
    retry_after = max(1, math.ceil(wait))
    body = {
        "errors": [
            {
                "message": f"Too many requests: try again in {retry_after} s.",
                "extensions": {"code": "RATE_LIMITED", "retryAfter": retry_after},
            }
        ]
    }
    return Response(
        orjson.dumps(body),
        status_code=429,
        media_type="application/json",
        headers={"Retry-After": str(retry_after)},
    )


class RateLimitMiddleware:
    """Must run after authentication (which sets scope["state"]["principal"]) so that each API
    key has its own bucket; without a principal the client address is the key."""

    def __init__(self, app: ASGIApp, buckets: TokenBuckets) -> None:
        self.app = app
        self.buckets = buckets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in LIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        wait = self.buckets.take(rate_limit_key(scope))
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        await too_many_requests(wait)(scope, receive, send)
