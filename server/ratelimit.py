"""A per-key rate limit: a token bucket for each key, and the ASGI middleware that applies it.

Each key (the caller's principal name when authentication set one, else its address) has a
bucket holding up to `burst` tokens that refills at `rate` tokens a second; a request takes one
token. An empty bucket answers 429 with `Retry-After` (whole seconds, rounded up) and a GraphQL
error body with `extensions.code: RATE_LIMITED`. Only /graphql is limited, so health checks
always answer. Off unless `RATE_LIMIT` is set (server/settings.py).

With `REDIS_URL` set, `SharedRateLimit` keeps the per-key count in Redis instead, so that every
replica behind a load balancer spends from the same allowance (the `limits` package's moving
window; `window_for` says how rate and burst map onto it). Redis down or slow: requests go
through unlimited, with one warning a minute, never an error.

Requests that present no key the service knows have a bucket per address of their own, taken
before the key is looked up (server/auth.py, `ANONYMOUS_RATE_LIMIT`); that one stays in each
process's memory."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import orjson
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

LIMITED_PATHS = frozenset({"/graphql", "/imports", "/exports"})
log = logging.getLogger("server.ratelimit")


def is_under(path: str, roots: Iterable[str]) -> bool:
    """The path is one of `roots` or below one (/exports/ropa.xlsx is under /exports)."""
    return any(path == root or path.startswith(root + "/") for root in roots)


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


def window_for(rate: float, burst: int) -> tuple[int, int]:
    """The moving window (requests, seconds) that keeps a token bucket's meaning: `burst`
    requests at once after idling, `rate` a second in the long run.

    A bucket of `burst` tokens refilling at `rate` allows at most burst + rate * T requests in
    any T seconds. A moving window of N requests in any W seconds allows a burst of N and N / W
    a second: so N = burst and W = burst / rate, the time an emptied bucket takes to refill.
    `limits` counts windows in whole seconds, so W is rounded up and N is what the rate allows
    in W, never less than the burst: RATE_LIMIT=50/s with its default burst of 100 is exactly
    100 requests in any 2 s, and 10/m with a burst of 5 is 5 in any 30 s. Where burst / rate is
    not whole (600/m with a burst of 25: 2.5 s of the rate) the burst allowed grows by less than
    one second's worth of the rate (30 in any 3 s). One difference remains: after a burst, a
    bucket lets requests through again one by one as tokens come back, the window all at once
    when the burst's first request leaves it."""
    seconds = max(1, math.ceil(burst / rate - 1e-9))
    return max(burst, math.floor(rate * seconds + 1e-9)), seconds


class SharedRateLimit:
    """The per-key limit kept in Redis, shared by every process given the same `REDIS_URL`.

    `take(key)` answers like TokenBuckets.take: 0.0 to go ahead, else the seconds until the
    window has room. Each call is one atomic script in Redis (limits' moving window: a list of
    the key's last N request times), and a refusal one more call for the wait. The request
    times are each replica's own clock: replicas' clocks must agree (NTP) to a small part of
    the window.

    Fails open: an error or no answer within `timeout` lets the request through, and Redis is
    left alone for `pause` seconds, so that a slow Redis costs one timeout a second rather than
    one per request. The first failure is logged as a warning, then at most one each
    `warn_every` seconds with how many requests went through unlimited; an answer after a
    failure is logged once too."""

    def __init__(
        self,
        redis_url: str,
        rate: float,
        burst: int,
        *,
        timeout: float = 0.25,
        pause: float = 1.0,
        warn_every: float = 60.0,
        key_prefix: str = "recipient-inventory:rate-limit",
    ) -> None:
        from limits import RateLimitItemPerSecond
        from limits.aio.storage import RedisStorage
        from limits.aio.strategies import MovingWindowRateLimiter
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = burst
        self.amount, self.seconds = window_for(rate, burst)
        self.item = RateLimitItemPerSecond(self.amount, self.seconds)
        self.timeout = timeout
        self.pause = pause
        self.warn_every = warn_every
        self.where = redacted(redis_url)
        client_options: dict[str, Any] = {
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
            # No retries: a request waits for one try at most; the next request is the retry.
            "retry": Retry(NoBackoff(), 0),
        }
        self.storage = RedisStorage(
            "async+" + redis_url.replace("unix://", "redis+unix://", 1),
            implementation="redispy",
            key_prefix=key_prefix,
            **client_options,
        )
        self.windows = MovingWindowRateLimiter(self.storage)
        self._paused_until = float("-inf")
        self._warned_at = float("-inf")
        self._unlimited = 0  # requests let through since the last warning
        self._failing = False

    async def take(self, key: str) -> float:
        now = time.monotonic()
        if now < self._paused_until:
            self._unlimited += 1
            return 0.0
        try:
            async with asyncio.timeout(self.timeout):
                if await self.windows.hit(self.item, key):
                    wait = 0.0
                else:
                    stats = await self.windows.get_window_stats(self.item, key)
                    wait = max(stats.reset_time - time.time(), 0.001)
        except Exception as exc:  # any failure of the store lets the request through
            self._failed(now, exc)
            return 0.0
        if self._failing:
            self._failing = False
            log.warning(
                "rate limit: Redis at %s answers again; %d requests went through unlimited",
                self.where,
                self._unlimited,
            )
            self._unlimited = 0
        return wait

    def _failed(self, now: float, exc: Exception) -> None:
        self._failing = True
        self._paused_until = now + self.pause
        self._unlimited += 1
        if now - self._warned_at < self.warn_every:
            return
        self._warned_at = now
        reason = str(exc) or type(exc).__name__
        log.warning(
            "rate limit: Redis at %s did not answer (%s); requests go through unlimited until it "
            "does (%d so far)",
            self.where,
            reason[:200],
            self._unlimited,
        )

    async def close(self) -> None:
        """Closes the connections to Redis (the client is limits' own)."""
        bridge: Any = self.storage.bridge
        await bridge.get_connection().aclose()


def redacted(url: str) -> str:
    """A Redis URL as it may appear in a log: without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = f"{parts.username}:***" if parts.username else ":***"
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{user}@{host}").geturl()


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

    def __init__(self, app: ASGIApp, buckets: TokenBuckets | SharedRateLimit) -> None:
        self.app = app
        self.buckets = buckets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_under(scope["path"], LIMITED_PATHS):
            await self.app(scope, receive, send)
            return
        key = rate_limit_key(scope)
        if isinstance(self.buckets, SharedRateLimit):
            wait = await self.buckets.take(key)
        else:
            wait = self.buckets.take(key)
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        await too_many_requests(wait)(scope, receive, send)
