"""Issue 11 §1: a fragment fan-out (each fragment spreads the next twice) is answered in
milliseconds, through the whole stack: validation, cost, the recipients resolver, execution."""

from __future__ import annotations

import time

import httpx

from tests.api.test_limits import ask
from tests.helpers import register
from tests.unit.test_analysis import fan_out


async def test_forty_levels_of_fragment_fan_out_are_answered_at_once(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    query = fan_out(40).replace("{ recipients {", "{ recipients(first: 1) { edges { node {", 1)
    query = query.replace("...F0 } }", "...F0 } } } }", 1)
    started = time.perf_counter()
    response = await ask(client, query)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body
    [edge] = body["data"]["recipients"]["edges"]
    assert set(edge["node"]) == {"name"}
    # 2⁴⁰ walks before; now a handful of milliseconds. Generous for a slow, shared machine.
    assert elapsed < 1.0, elapsed


async def test_a_fan_out_of_aliases_is_refused_before_anything_runs(
    client: httpx.AsyncClient,
) -> None:
    query = fan_out(40).replace("{ recipients {", "{ recipients(first: 1) { edges { node {", 1)
    query = query.replace("...F0 } }", "...F0 } } } }", 1)
    query = query.replace(
        "fragment F40 on Recipient { name }", "fragment F40 on Recipient { n: name }"
    )
    response = await ask(client, query)
    assert response.status_code == 400
    assert f"{2**40:,} aliases found" in response.json()["errors"][0]["message"]
