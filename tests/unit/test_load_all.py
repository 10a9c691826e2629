"""context.load_all: what a page awaits before its relations answer from the loader's cache."""

from __future__ import annotations

import asyncio

import pytest
from strawberry.dataloader import DataLoader

from server.graphql.context import load_all, loaded


async def test_loads_the_keys_not_seen_in_one_call_and_primes_the_cache() -> None:
    calls: list[list[int]] = []

    async def batch(keys: list[int]) -> list[str]:
        calls.append(keys)
        return [f"row {k}" for k in keys]

    loader = DataLoader(batch)
    assert await loader.load(1) == "row 1"
    await load_all(loader, [1, 2, 3, 2])
    assert calls == [[1], [2, 3]]  # each key once, those loaded before not again
    assert [loaded(loader, k, str.upper) for k in (1, 2, 3)] == ["ROW 1", "ROW 2", "ROW 3"]


async def test_waits_for_keys_the_loader_is_loading() -> None:
    release = asyncio.Event()

    async def batch(keys: list[int]) -> list[int]:
        await release.wait()
        return [k * 10 for k in keys]

    loader = DataLoader(batch)
    pending = loader.load(1)
    waiting = asyncio.ensure_future(load_all(loader, [1]))
    await asyncio.sleep(0.01)
    assert not waiting.done()
    release.set()
    await waiting
    assert pending.done() and loaded(loader, 1, int) == 10


async def test_a_failed_load_raises_and_is_not_cached() -> None:
    async def batch(keys: list[int]) -> list[object]:
        return [ValueError(f"no {k}") if k == 2 else k for k in keys]

    loader = DataLoader(batch)
    with pytest.raises(ValueError, match="no 2"):
        await load_all(loader, [1, 2])
    assert loaded(loader, 1, int) == 1
    assert loader.cache_map.get(2) is None  # asked again, through the loader

    async def broken(keys: list[int]) -> list[int]:
        raise RuntimeError("the database is gone")

    with pytest.raises(RuntimeError, match="gone"):
        await load_all(DataLoader(broken), [1])
