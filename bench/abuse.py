"""The abuse section of `make bench` (issue 11 §7): what a misbehaving client costs the server,
measured against the running bench server (uvicorn, the 10,000-recipient inventory).

- the fragment fan-out at n = 40 (2⁴⁰ spreads expanded): its time (target: under 50 ms);
- the worst query the cost limit admits: as many aliases of a whole category's recipients with
  every field of their disclosures as the limit lets through; its time and the server's peak
  memory (targets: the execution time budget, 500 MB), and a small keyed query's latency meanwhile;
- a keyless flood beside a keyed client: the keyed median against its quiet median (target: 2x).

Peak memory is the server process's high-water mark (VmHWM), reset before each case.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
from graphql import parse

from server.domain.taxonomy import default_taxonomy
from server.graphql.cost import compile_plan, counts_for, plan_cost
from server.graphql.schema import build_schema
from server.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SMALL = "query BySlug($slug: String!) { recipient(slug: $slug) { id name status } }"
DISCLOSURE = """id legalBasis ground retention effectiveFrom effectiveTo
  transfers { country mechanism reference }
  dataCategories { key name description sensitive }
  subjectTypes { key name description } purposes { key name description }"""
WIDE = (
    'rN: recipientsOfCategory(key: "user") { id slug name legalName kind role status country '
    "services website dpaSignedOn version "
    "disclosures(includeEnded: true) { " + DISCLOSURE + " } }"
)


def fan_out(n: int) -> str:
    fragments = "".join(
        f"fragment F{i} on Recipient {{ name ...F{i + 1} ...F{i + 1} }}\n" for i in range(n)
    )
    return (
        "{ recipients(first: 1) { edges { node { ...F0 } } } }\n"
        + fragments
        + f"fragment F{n} on Recipient {{ name }}"
    )


def worst_admitted(inventory_counts: dict[str, int], limit: int) -> tuple[str, int]:
    """As many aliases of WIDE as the cost limit admits, and their cost."""
    schema = build_schema()._schema
    counts = counts_for(inventory_counts, default_taxonomy())
    best = ("", 0)
    for aliases in range(1, 31):
        query = "{ " + " ".join(WIDE.replace("rN:", f"r{i}:") for i in range(aliases)) + " }"
        cost = plan_cost(compile_plan(schema, parse(query), None, 50), None, counts)
        if cost > limit:
            break
        best = (query, cost)
    return best


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


async def post(
    port: int, token: str | None, query: str, variables: dict[str, Any] | None = None
) -> tuple[int, bytes, float]:
    """One request on its own connection: status, body, seconds."""
    body = orjson.dumps({"query": query, "variables": variables or {}})
    key = f"Authorization: Bearer {token}\r\n" if token else ""
    head = (
        "POST /graphql HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        f"{key}Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=2**30)
    writer.write(head.encode() + body)
    answer = await reader.read()
    writer.close()
    elapsed = time.perf_counter() - started
    status = int(answer[9:12])
    return status, answer.split(b"\r\n\r\n", 1)[1], elapsed


async def keyed_latencies(port: int, token: str, slug: str, seconds: float) -> list[float]:
    out = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        _, _, elapsed = await post(port, token, SMALL, {"slug": slug})
        out.append(elapsed * 1000)
    return out


def error_code(body: bytes) -> str | None:
    try:
        errors = orjson.loads(body).get("errors") or []
    except orjson.JSONDecodeError:
        return "unparsable"
    return errors[0].get("extensions", {}).get("code") if errors else None


async def abuse_section(
    port: int, pid: int, token: str, slug: str, inventory_counts: dict[str, int]
) -> dict[str, Any]:
    settings = Settings.from_env()
    out: dict[str, Any] = {}

    reset_peak(pid)
    status, body, elapsed = await post(port, token, fan_out(40))
    out["fan_out_40"] = {
        "ms": round(elapsed * 1000, 1),
        "status": status,
        "code": error_code(body),
        "peak_mb": peak_mb(pid),
    }

    query, cost = worst_admitted(inventory_counts, settings.max_query_cost)
    quiet = await keyed_latencies(port, token, slug, 2.0)
    reset_peak(pid)
    worst = asyncio.create_task(post(port, token, query))
    beside = await keyed_latencies(port, token, slug, 1.0)
    while not worst.done():
        beside += await keyed_latencies(port, token, slug, 0.5)
    status, body, elapsed = await worst
    out["worst_admitted"] = {
        "aliases": query.count("recipientsOfCategory"),
        "requested_nodes": cost,
        "ms": round(elapsed * 1000, 1),
        "status": status,
        "code": error_code(body),
        "answer_mb": round(len(body) / 2**20, 1),
        "peak_mb": peak_mb(pid),
        "small_quiet_p50_ms": round(statistics.median(quiet), 2),
        "small_beside_p50_ms": round(statistics.median(beside), 2),
        "small_beside_max_ms": round(max(beside), 2),
    }

    quiet = await keyed_latencies(port, token, slug, 2.0)
    flooder = subprocess.Popen(
        [sys.executable, "-m", "tests.load.flood", str(port), "30", "1000"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    await asyncio.sleep(0.5)
    flooded = await keyed_latencies(port, token, slug, 3.0)
    answers = orjson.loads(flooder.communicate(timeout=30)[0] or b"{}")  # closes its stdin
    out["keyless_flood"] = {
        "quiet_p50_ms": round(statistics.median(quiet), 2),
        "flooded_p50_ms": round(statistics.median(flooded), 2),
        "ratio": round(statistics.median(flooded) / statistics.median(quiet), 2),
        "flood_answers": answers,
    }
    return out


def print_abuse(out: dict[str, Any], budget_ms: int) -> None:
    fan, worst, flood = out["fan_out_40"], out["worst_admitted"], out["keyless_flood"]
    print("\nabuse (issue 11 §7)")
    print(
        f"  fan-out n=40: {fan['ms']} ms, HTTP {fan['status']} {fan['code'] or 'answered'} "
        f"(< 50 ms), server peak {fan['peak_mb']} MB"
    )
    print(
        f"  worst admitted ({worst['aliases']} aliases, {worst['requested_nodes']:,} nodes "
        f"requested): {worst['ms']} ms (budget {budget_ms} ms), {worst['code'] or 'answered'}, "
        f"{worst['answer_mb']} MB answer, server peak {worst['peak_mb']} MB (< 500); a small "
        f"query meanwhile p50 {worst['small_beside_p50_ms']} ms, max "
        f"{worst['small_beside_max_ms']} ms (quiet {worst['small_quiet_p50_ms']} ms)"
    )
    print(
        f"  keyless flood: keyed p50 {flood['flooded_p50_ms']} ms against {flood['quiet_p50_ms']} "
        f"ms quiet ({flood['ratio']}x, <= 2x); flood answers {flood['flood_answers']}"
    )


async def main() -> None:
    """`python -m bench.abuse`: the section alone, on the inventory `make bench` left."""
    from tortoise import Tortoise

    from bench.run import HERE, start_server
    from server.db.config import tortoise_config
    from server.db.statistics import inventory_counts
    from server.domain.access import Role
    from server.services import keys

    url = f"sqlite://{HERE / 'bench.sqlite3'}"
    await Tortoise.init(config=tortoise_config(url))
    counts = await inventory_counts()
    token = await keys.create_key("bench-abuse", Role.ADMIN, actor="bench")
    await Tortoise.close_connections()
    process, port = start_server(url)
    try:
        out = await abuse_section(port, process.pid, token, "vendor-00042", counts)
    finally:
        process.terminate()
        process.wait(timeout=10)
    print_abuse(out, Settings.from_env().max_execution_ms)
    print(orjson.dumps(out).decode())


if __name__ == "__main__":
    asyncio.run(main())
