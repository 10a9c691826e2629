"""A large read hands the event loop back while it converts its rows (server/db/sql.py)."""

from __future__ import annotations

import asyncio

from server.db.sql import ROWS_PER_TURN, in_turns


async def test_a_large_read_is_converted_in_chunks_with_the_loop_handed_back() -> None:
    rows = [(i,) for i in range(ROWS_PER_TURN * 2 + 5)]
    ticks: list[int] = []
    seen: list[int] = []

    async def other_request() -> None:
        while len(seen) < len(rows):
            ticks.append(len(seen))
            await asyncio.sleep(0)

    other = asyncio.create_task(other_request())
    await asyncio.sleep(0)  # the other request starts
    chunks = [len(chunk) async for chunk in _record(in_turns(rows), seen)]
    await other
    assert chunks == [ROWS_PER_TURN, ROWS_PER_TURN, 5]
    assert seen == list(range(len(rows)))
    # The other request ran between the chunks, not only before and after.
    assert ROWS_PER_TURN in ticks and 2 * ROWS_PER_TURN in ticks


async def test_a_small_read_is_one_chunk_without_a_pause() -> None:
    rows = [(i,) for i in range(10)]
    assert [list(chunk) async for chunk in in_turns(iter(rows))] == [rows]


async def _record(chunks, seen: list[int]):  # type: ignore[no-untyped-def]
    async for chunk in chunks:
        seen.extend(row[0] for row in chunk)
        yield chunk
