"""Issue 14, "the per-key rate limit is shared by all replicas through Redis": SharedRateLimit
(server/ratelimit.py) over a real Redis, REDIS_URL's checks, and the app's wiring.

The tests over Redis run when TEST_REDIS_URL is set (.ci/run sets it to the machine's Redis);
each uses key names of its own, since that Redis is shared. The ones that stop Redis start a
`redis-server` of their own on a free port."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from server.app import create_app
from server.domain.access import Role
from server.ratelimit import SharedRateLimit, redacted, window_for
from server.services import keys
from server.settings import Settings, SettingsError

REDIS_URL = os.environ.get("TEST_REDIS_URL")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set")
TYPENAME = "{ __typename }"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def limits() -> AsyncIterator[list[SharedRateLimit]]:
    """Limiters made by a test, closed after it."""
    made: list[SharedRateLimit] = []
    yield made
    for limit in made:
        await limit.close()


def shared(
    made: list[SharedRateLimit],
    url: str,
    rate: float,
    burst: int,
    *,
    timeout: float = 0.25,
    pause: float = 1.0,
) -> SharedRateLimit:
    limit = SharedRateLimit(
        url, rate, burst, timeout=timeout, pause=pause, key_prefix=unique("test-rate")
    )
    made.append(limit)
    return limit


# -- the mapping of rate and burst onto a moving window ---------------------------------------


@pytest.mark.parametrize(
    ("rate", "burst", "window"),
    [
        (50.0, 100, (100, 2)),  # RATE_LIMIT=50/s, its default burst: exactly the bucket's
        (10 / 60, 5, (5, 30)),  # 10/m with a burst of 5
        (1.0, 2, (2, 2)),
        (10.0, 25, (30, 3)),  # 2.5 s of the rate: the window rounded up, its room with it
        (100.0, 1, (100, 1)),  # under a second's worth: a window is at least a second
        (1 / 3600, 1, (1, 3600)),  # 1/h
    ],
)
def test_window_for_keeps_rate_and_burst(rate: float, burst: int, window: tuple[int, int]) -> None:
    amount, seconds = window_for(rate, burst)
    assert (amount, seconds) == window
    assert amount >= burst  # a key that idled has its whole burst
    # The long-run rate is never more than asked for, and within a request a window of it.
    assert amount / seconds <= rate + 1e-9
    assert rate * seconds - 1 < amount


# -- REDIS_URL --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:6379/0",
        "redis://:secret@cache.internal:6380/2",
        "rediss://user:secret@cache.internal",
        "unix:///run/redis/redis.sock",
    ],
)
def test_redis_url_accepted(url: str) -> None:
    settings = Settings.from_env({"REDIS_URL": url, "RATE_LIMIT": "50/s"})
    assert settings.redis_url == url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("localhost:6379", "REDIS_URL must be redis://host:port/db"),
        ("http://cache:6379", "REDIS_URL must be redis://host:port/db"),
        ("redis://", "REDIS_URL must be redis://host:port/db"),
        ("redis://:6379/0", "REDIS_URL names no host"),
        ("redis://cache:port/0", "REDIS_URL's port must be a number"),
        ("redis://cache:99999/0", "REDIS_URL's port must be a number"),
        ("redis://cache:6379/zero", "REDIS_URL's database must be a number"),
        ("unix://run/redis.sock", "needs an absolute path"),
    ],
)
def test_bad_redis_url_is_refused_naming_it(url: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({"REDIS_URL": url, "RATE_LIMIT": "50/s"})


def test_a_refused_redis_url_never_shows_its_password() -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"REDIS_URL": "redis://:hunter2@cache:http/0", "RATE_LIMIT": "5/s"})
    assert "hunter2" not in str(refused.value)
    assert "***@cache" in str(refused.value)
    assert redacted("redis://u:hunter2@cache:6379/1") == "redis://u:***@cache:6379/1"
    assert redacted("redis://cache:6379/1") == "redis://cache:6379/1"


def test_redis_url_without_rate_limit_is_refused() -> None:
    with pytest.raises(SettingsError, match=r"REDIS_URL shares RATE_LIMIT .* set RATE_LIMIT"):
        Settings.from_env({"REDIS_URL": "redis://127.0.0.1:6379/0"})


# -- over the machine's Redis ----------------------------------------------------------------


@needs_redis
async def test_two_limiters_share_one_allowance(limits: list[SharedRateLimit]) -> None:
    """Two replicas' limiters, one key, requests alternating: the burst is spent once."""
    assert REDIS_URL
    prefix = unique("test-rate")
    one, two = (
        SharedRateLimit(REDIS_URL, 10 / 60, 5, key_prefix=prefix),
        SharedRateLimit(REDIS_URL, 10 / 60, 5, key_prefix=prefix),
    )
    limits.extend([one, two])
    waits = [await (one if i % 2 else two).take("principal:alpha") for i in range(12)]
    assert waits[:5] == [0.0] * 5
    # Refused for the rest of the 30 s window that the first request opened.
    assert all(25 < wait <= 30 for wait in waits[5:]), waits


@needs_redis
async def test_each_key_has_its_own_window(limits: list[SharedRateLimit]) -> None:
    assert REDIS_URL
    limit = shared(limits, REDIS_URL, 1 / 60, 2)
    assert [await limit.take("principal:alpha") > 0 for _ in range(3)] == [False, False, True]
    assert [await limit.take("principal:beta") > 0 for _ in range(3)] == [False, False, True]


@needs_redis
async def test_the_window_lets_requests_through_again_once_it_has_moved(
    limits: list[SharedRateLimit],
) -> None:
    assert REDIS_URL
    limit = shared(limits, REDIS_URL, 2.0, 2)  # 2 in any 1 s
    assert [await limit.take("k") for _ in range(2)] == [0.0, 0.0]
    wait = await limit.take("k")
    assert 0 < wait <= 1.0
    await asyncio.sleep(wait + 0.05)
    assert await limit.take("k") == 0.0


async def test_redis_down_lets_requests_through_with_one_warning(
    limits: list[SharedRateLimit], caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing listens on the port: every request goes through, and the log has one warning,
    not one a request. pause=0 makes each request try Redis again."""
    limit = shared(limits, f"redis://127.0.0.1:{free_port()}/0", 1.0, 1, pause=0.0)
    caplog.set_level(logging.WARNING, logger="server.ratelimit")
    started = time.monotonic()
    assert [await limit.take("k") for _ in range(50)] == [0.0] * 50
    assert time.monotonic() - started < 5
    warnings = [r for r in caplog.records if r.name == "server.ratelimit"]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "requests go through unlimited" in warnings[0].getMessage()


async def test_a_redis_that_does_not_answer_costs_one_timeout_then_is_left_alone(
    limits: list[SharedRateLimit], caplog: pytest.LogCaptureFixture
) -> None:
    """A peer that accepts the connection and never answers (a wedged Redis)."""
    held: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    caplog.set_level(logging.WARNING, logger="server.ratelimit")
    try:
        limit = shared(limits, f"redis://127.0.0.1:{port}/0", 1.0, 1, timeout=0.2, pause=30.0)
        started = time.monotonic()
        assert await limit.take("k") == 0.0
        first = time.monotonic() - started
        assert 0.15 < first < 2.0
        started = time.monotonic()
        assert [await limit.take("k") for _ in range(20)] == [0.0] * 20
        assert time.monotonic() - started < 0.1  # paused: Redis is not asked
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()
    assert len([r for r in caplog.records if r.name == "server.ratelimit"]) == 1


@pytest.fixture
def own_redis() -> Iterator[tuple[int, list[subprocess.Popen[bytes]]]]:
    """A port for a redis-server of the test's own, and the processes it started there."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    started: list[subprocess.Popen[bytes]] = []
    yield port, started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def start_redis(
    port: int, started: list[subprocess.Popen[bytes]], *options: str
) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            *options,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    started.append(process)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return process
        except OSError:
            time.sleep(0.05)
    raise AssertionError("redis-server did not start")


async def test_the_limit_comes_back_when_redis_does(
    own_redis: tuple[int, list[subprocess.Popen[bytes]]],
    limits: list[SharedRateLimit],
    caplog: pytest.LogCaptureFixture,
) -> None:
    port, started = own_redis
    start_redis(port, started)
    caplog.set_level(logging.WARNING, logger="server.ratelimit")
    limit = shared(limits, f"redis://127.0.0.1:{port}/0", 1 / 60, 2, pause=0.0)
    assert [await limit.take("k") > 0 for _ in range(3)] == [False, False, True]

    started[-1].kill()
    started[-1].wait()
    assert [await limit.take("k") for _ in range(10)] == [0.0] * 10  # fails open

    start_redis(port, started)  # empty: it kept nothing
    assert [await limit.take("k") > 0 for _ in range(3)] == [False, False, True]
    messages = [r.getMessage() for r in caplog.records if r.name == "server.ratelimit"]
    assert len(messages) == 2, messages
    assert "did not answer" in messages[0]
    assert "answers again; 10 requests went through unlimited" in messages[1]


async def test_a_unix_socket_url_reaches_redis(
    own_redis: tuple[int, list[subprocess.Popen[bytes]]],
    limits: list[SharedRateLimit],
    tmp_path: Path,
) -> None:
    port, started = own_redis
    sock = tmp_path / "redis.sock"
    start_redis(port, started, "--unixsocket", str(sock))
    url = f"unix://{sock}"
    Settings.from_env({"REDIS_URL": url, "RATE_LIMIT": "1/m"})  # accepted
    limit = shared(limits, url, 1 / 60, 1)
    assert [await limit.take("k") > 0 for _ in range(2)] == [False, True]


# -- in the app: two replicas in one process, over the machine's Redis ------------------------


async def ask(app: object, token: str) -> int:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post(
            "/graphql", json={"query": TYPENAME}, headers={"Authorization": f"Bearer {token}"}
        )
    assert response.status_code < 500, response.text
    return response.status_code


@needs_redis
async def test_two_apps_with_one_redis_url_share_the_limit(db: str) -> None:
    settings = Settings(rate_limit=1 / 60, rate_limit_burst=3, redis_url=REDIS_URL)
    apps = [create_app(settings, manage_database=False) for _ in range(2)]
    token = await keys.create_key(unique("shared"), Role.VIEWER, actor="tests")
    statuses = [await ask(apps[i % 2], token) for i in range(8)]
    assert statuses == [200] * 3 + [429] * 5
    # Without REDIS_URL each app counts on its own: twice the burst gets through.
    alone = Settings(rate_limit=1 / 60, rate_limit_burst=3)
    apps = [create_app(alone, manage_database=False) for _ in range(2)]
    statuses = [await ask(apps[i % 2], token) for i in range(8)]
    assert statuses.count(200) == 6


async def test_an_app_whose_redis_is_down_still_answers(
    db: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(
        rate_limit=1 / 60, rate_limit_burst=1, redis_url=f"redis://127.0.0.1:{free_port()}/0"
    )
    app = create_app(settings, manage_database=False)
    token = await keys.create_key(unique("down"), Role.VIEWER, actor="tests")
    caplog.set_level(logging.WARNING, logger="server.ratelimit")
    assert [await ask(app, token) for _ in range(5)] == [200] * 5
    assert len([r for r in caplog.records if r.name == "server.ratelimit"]) == 1
