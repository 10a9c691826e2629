"""Alias spellings cannot grow the server's memory (issue 10 §1): 10,000 queries that differ only
in their aliases leave every cache at its bound and the process's resident memory flat."""

from __future__ import annotations

import gc
import resource
from pathlib import Path

from graphql import parse

from server.domain.access import Principal, Role
from server.graphql.context import Context, Loaders
from server.graphql.cost import PlanCache
from server.graphql.execution import completion_of, plain_class, plain_reader
from server.graphql.schema import build_schema
from server.services import clock
from server.settings import Settings


def resident_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


async def test_ten_thousand_alias_spellings_keep_caches_and_memory_flat() -> None:
    settings = Settings(query_cache_size=64)
    schema = build_schema(settings)
    principal = Principal("aliases", Role.ADMIN)

    async def ask(n: int) -> None:
        query = (
            f'{{ a{n}: dataCategory(key: "user.contact") {{ k{n}: key n{n}: name '
            f"c{n}: children {{ s{n}: sensitive }} }} }}"
        )
        context = Context(settings=settings, principal=principal, loaders=Loaders(clock.today()))
        result = await schema.execute(query, context_value=context)
        assert not result.errors, result.errors
        assert result.data and result.data[f"a{n}"][f"k{n}"] == "user.contact"

    for n in range(1_000):  # warm up: caches fill to their bounds
        await ask(n)
    gc.collect()
    before = resident_mb()
    readers, completions = plain_reader.cache_info(), completion_of.cache_info()
    classes = plain_class.cache_info()
    for n in range(1_000, 11_000):
        await ask(n)
    gc.collect()
    growth = resident_mb() - before
    assert plain_reader.cache_info().currsize == readers.currsize
    assert completion_of.cache_info().currsize == completions.currsize
    assert plain_class.cache_info().currsize == classes.currsize
    assert growth < 8, f"resident memory grew {growth:.1f} MB over 10,000 alias spellings"


def test_cost_plans_are_a_bounded_lru() -> None:
    schema = build_schema()._schema
    plans = PlanCache(default_page_size=50, maxsize=3)
    texts = [f"{{ a{n}: purposes {{ key }} }}" for n in range(6)]
    for text in texts[:3]:
        plans.plan(schema, parse(text), text, None)
    plans.plan(schema, parse(texts[0]), texts[0], None)  # used again: now the most recent
    for text in texts[3:5]:
        plans.plan(schema, parse(text), text, None)
    assert len(plans) == 3
    assert set(plans._plans) == {(texts[0], None), (texts[3], None), (texts[4], None)}
