"""The garbage collector runs after responses, not during them (server/app.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from unittest import mock

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from server.app import CollectBetweenRequests


async def answer(scope: Scope, receive: Receive, send: Send) -> None:
    # Garbage in cycles, as a request leaves behind: collectable only by the collector.
    for _ in range(50):
        cycle: list[object] = []
        cycle.append(cycle)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


@pytest.fixture
def collector_off() -> Iterator[None]:
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def requests(app: CollectBetweenRequests, n: int) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for _ in range(n):
            assert (await client.get("/")).status_code == 200


async def test_young_collections_after_responses_escalate_like_cpython(collector_off: None) -> None:
    app = CollectBetweenRequests(answer, young=1, every=3)
    with mock.patch("server.app.gc.collect", wraps=gc.collect) as collect:
        await requests(app, 9)
    generations = [c.args[0] for c in collect.call_args_list]
    assert generations == [0, 0, 1, 0, 0, 1, 0, 0, 2]


async def test_nothing_is_collected_below_the_young_threshold(collector_off: None) -> None:
    app = CollectBetweenRequests(answer, young=10_000_000)
    with mock.patch("server.app.gc.collect") as collect:
        await requests(app, 3)
    collect.assert_not_called()


async def test_garbage_is_actually_freed(collector_off: None) -> None:
    gc.collect()
    app = CollectBetweenRequests(answer, young=1, every=1000)
    await requests(app, 1)
    # The request's cycles were collected after its response: the young generation is empty.
    assert gc.get_count()[0] < 50


async def test_left_alone_while_automatic_collection_is_on() -> None:
    assert gc.isenabled()
    app = CollectBetweenRequests(answer, young=1)
    with mock.patch("server.app.gc.collect") as collect:
        await requests(app, 3)
    collect.assert_not_called()
