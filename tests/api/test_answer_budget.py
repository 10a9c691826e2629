"""Issue 11 §2: each request has an answer size bound (MAX_ANSWER_NODES, list items counted as
they are completed) and a time budget (MAX_EXECUTION_MS); past either it stops with one typed
error and no partial data. `extensions.cost` reports the requested and the actual nodes; and
a large answer hands the event loop back between lists, so a small request beside it is not
held up."""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

import httpx
import pytest

from server.graphql import execution
from server.settings import Settings
from tests.api.test_limits import ask, serve
from tests.helpers import disclosure_input, register

LISTING = (
    "{ recipients(first: 100) { edges { node { name disclosures { id purposes { key } } } } } }"
)


async def inventory(client: httpx.AsyncClient, recipients: int) -> None:
    for n in range(recipients):
        await register(client, name=f"Vendor {n:03}", disclosures=[disclosure_input()] * 2)


async def test_the_actual_nodes_are_reported_beside_the_requested(db: str) -> None:
    async with serve(Settings(cost_statistics_seconds=0)) as client:
        await inventory(client, 3)
        body = (await ask(client, LISTING)).json()
        # 3 recipients, 6 disclosures, 6 purposes.
        assert body["extensions"]["cost"]["actualNodes"] == 3 + 6 + 6
        assert body["extensions"]["cost"]["requestedNodes"] >= 15


async def test_an_answer_past_its_node_bound_stops_with_one_error(db: str) -> None:
    async with serve(Settings()) as admin:
        await inventory(admin, 3)
    async with serve(Settings(max_answer_nodes=10)) as client:
        response = await ask(client, LISTING)
        body = response.json()
        assert body.get("data") is None
        [error] = body["errors"]
        assert error["extensions"]["code"] == "ANSWER_TOO_LARGE"
        assert "10 nodes" in error["message"]
        small = await ask(client, "{ recipients(first: 2) { edges { node { name } } } }")
        assert "errors" not in small.json()


async def test_a_query_past_its_time_stops_with_one_error(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with serve(Settings()) as admin:
        await inventory(admin, 2)
    started = time.monotonic()
    # The executor's clock moves a second at every look: the 5 s are spent within a few lists.
    ticks = iter(range(10**6))
    monkeypatch.setattr(execution, "monotonic", lambda: float(next(ticks)))
    async with serve(Settings(max_execution_ms=5_000)) as client:
        body = (await ask(client, LISTING)).json()
    assert body.get("data") is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "EXECUTION_TIMEOUT"
    assert time.monotonic() - started < 5


async def test_a_large_answer_leaves_room_for_a_small_request(db: str) -> None:
    """A large answer beside a small query sent every few ms: the small one is served while the
    large one runs, since the large one hands the loop back between lists once it has run for
    FIRST_TURN_SECONDS."""
    async with serve(Settings()) as client:
        await inventory(client, 60)
        large = "{ " + " ".join(f"a{i}: {LISTING[2:-2]}" for i in range(30)) + " }"
        small = "{ recipients(first: 1) { totalCount } }"

        async def latencies(seconds: float) -> list[float]:
            out = []
            deadline = time.perf_counter() + seconds
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                await ask(client, small)
                out.append(time.perf_counter() - started)
                await asyncio.sleep(0.002)
            return out

        quiet = await latencies(0.5)
        started = time.perf_counter()
        big: asyncio.Task[Any] = asyncio.create_task(ask(client, large))
        beside: list[float] = []
        while not big.done():
            beside += await latencies(0.01)
        took = time.perf_counter() - started
        answer = (await big).json()
        assert "errors" not in answer, answer["errors"][:1]
        assert answer["extensions"]["cost"]["actualNodes"] == 30 * (60 + 120 + 120)
        # The small one is served while the large one runs, not after it. (How long it waits
        # depends on how the large one's work is split: issue 11's note has the figures.)
        print(
            f"large {took * 1000:.0f} ms; small quiet {statistics.median(quiet) * 1000:.1f} ms, "
            f"beside {statistics.median(beside) * 1000:.1f} ms x{len(beside)}"
        )
        assert beside and min(beside) < took / 2, (took, beside)
