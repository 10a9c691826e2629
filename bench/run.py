"""`make bench`: build the synthetic inventory, then measure the hot queries.

For each operation, in one run: the floor (bench/floor.py, no GraphQL), in-process GraphQL
execution, HTTP latency one request at a time (uvicorn on loopback), requests per second with 16
concurrent clients (a lean asyncio client: httpx tops out near 1,000 req/s here), and the number
of SQL statements. Prints a table and writes bench/results.json.

whoReceives asks for the complete answer (issue 12: past, upcoming and possible recipients);
besides the table, on SQLite: the answer as known shortly before now against the plain one, the
SQL statements of each of ten reports at 1,000 recipients and at the full size side by side,
and the report size with histories against the same inventory built without them.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
from graphql import parse
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE

from bench import floor
from bench.abuse import abuse_section, print_abuse
from bench.generate import generate, reasons_estimate, write_postgres, write_sqlite
from server.app import CollectionSchedule
from server.db.config import tortoise_config
from server.db.statistics import inventory_counts
from server.domain.access import Principal, Role
from server.domain.taxonomy import default_taxonomy
from server.graphql.context import Context, Loaders
from server.graphql.cost import compile_plan, counts_for, plan_cost
from server.graphql.schema import build_schema
from server.services import clock, keys
from server.services.setup import migrate
from server.settings import Settings

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# In-process runs ask as an admin key would; HTTP requests send a real key (see measure).
PRINCIPAL = Principal("bench", Role.ADMIN)
# The complete whoReceives (issue 12) is priced above the default MAX_QUERY_COST on the full
# inventory (the bounds of its past, upcoming and possible lists), so it would be refused with
# COST_LIMIT_EXCEEDED: the timings run with this limit instead, and the run reports the query's
# price against the default. The abuse section runs on a server with the default limit.
BENCH_MAX_QUERY_COST = 50_000_000


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


class SqlCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


async def count_sql(run: Callable[[], Awaitable[Any]]) -> int:
    logger = logging.getLogger("tortoise.db_client")
    handler = SqlCounter()
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        await run()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    return handler.count


async def timed(
    floor_run: Callable[[], Awaitable[Any]], api_run: Callable[[], Awaitable[Any]], n: int
) -> tuple[list[float], list[float]]:
    """n latencies each of the floor and of in-process GraphQL, taken in alternation (and in
    alternating order), so that both see the same moments of a noisy machine and neither
    always runs on caches the other warmed. Each call runs as the server runs requests: the
    garbage collector off during it and run right after it (server/app.py,
    CollectBetweenRequests), that collection counted in the call's latency."""
    floor_ms: list[float] = []
    api_ms: list[float] = []
    schedule = CollectionSchedule()
    gc.disable()
    try:
        for i in range(n):
            pair = ((floor_run, floor_ms), (api_run, api_ms))
            for run, out in pair if i % 2 == 0 else reversed(pair):
                started = time.perf_counter()
                await run()
                schedule.collect()
                out.append((time.perf_counter() - started) * 1000)
    finally:
        gc.enable()
    return floor_ms, api_ms


class Client:
    """HTTP/1.1 keep-alive over a raw asyncio stream: the lightest client Python offers."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    async def request(self, raw: bytes) -> bytes:
        assert self.reader is not None and self.writer is not None
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        body = await self.reader.readexactly(length)
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {body[:300]!r}")
        return body

    async def close(self) -> None:
        if self.writer:
            self.writer.close()


def graphql_request(token: str, query: str, variables: dict[str, Any] | None = None) -> bytes:
    body = orjson.dumps({"query": query, "variables": variables or {}})
    return (
        b"POST /graphql HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {token}\r\n".encode()
        + b"Accept: application/graphql-response+json\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


def get_request(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()


async def http_latency(port: int, requests: list[bytes]) -> list[float]:
    client = Client(port)
    await client.connect()
    out = []
    try:
        for raw in requests:
            started = time.perf_counter()
            body = await client.request(raw)
            out.append((time.perf_counter() - started) * 1000)
            if b'"errors"' in body[:20]:
                raise RuntimeError(body[:300])
    finally:
        await client.close()
    return out


async def http_throughput(
    port: int, requests: list[bytes], seconds: float, clients: int = 16
) -> float:
    deadline = time.perf_counter() + seconds
    done = 0

    async def worker(offset: int) -> None:
        nonlocal done
        client = Client(port)
        await client.connect()
        i = offset
        try:
            while time.perf_counter() < deadline:
                await client.request(requests[i % len(requests)])
                i += 1
                done += 1
        finally:
            await client.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker(k * 7) for k in range(clients)))
    return done / (time.perf_counter() - started)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    database_url: str, max_query_cost: int | None = None
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    limit = [] if max_query_cost is None else ["--max-query-cost", str(max_query_cost)]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.serve",
            "--database-url",
            database_url,
            "--port",
            str(port),
            *limit,
        ],
        cwd=ROOT,
    )
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the bench server did not start")


async def build(
    database_url: str, recipients: int, subjects: int, histories: bool = True
) -> dict[str, Any]:
    started = time.perf_counter()
    inventory = generate(recipients=recipients, subjects=subjects, histories=histories)
    await migrate(database_url)
    if database_url.startswith("sqlite://"):
        write_sqlite(database_url[len("sqlite://") :], inventory)
    else:
        await write_postgres(database_url, inventory)
    counts = reasons_estimate(inventory)
    shape = {
        "recipients": len(inventory.recipients),
        "disclosures": len(inventory.disclosures),
        "subjects": len(inventory.subjects),
        "reasons_p10": counts[len(counts) // 10],
        "reasons_p50": counts[len(counts) // 2],
        "reasons_p90": counts[9 * len(counts) // 10],
        "status_changes": len(inventory.status_changes),
        "subject_versions": len(inventory.subject_versions),
        "consents": len(inventory.consents),
        "on_request": sum(d[13] == "ON_REQUEST" for d in inventory.disclosures),
        "disclosure_events": len(inventory.disclosure_events),
        "build_seconds": round(time.perf_counter() - started, 1),
    }
    return shape


async def reset_postgres(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


async def measure(database_url: str, args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(11)
    subject_refs = [f"subject-{rng.randint(1, args.subjects):06d}" for _ in range(args.samples)]
    slugs = [f"vendor-{rng.randint(1, args.recipients):05d}" for _ in range(args.samples)]
    settings = Settings(database_url=database_url, max_query_cost=BENCH_MAX_QUERY_COST)
    schema = build_schema(settings)
    await Tortoise.init(config=tortoise_config(database_url))
    # /graphql needs a key: a new admin key for each run.
    token = await keys.create_key(f"bench-{secrets.token_hex(4)}", Role.ADMIN, actor="bench")
    gc.collect()
    gc.freeze()

    async def in_process(query: str, variables: dict[str, Any] | None = None) -> bytes:
        context = Context(settings=settings, principal=PRINCIPAL, loaders=Loaders(clock.today()))
        result = await schema.execute(query, variable_values=variables, context_value=context)
        if result.errors:
            raise RuntimeError(result.errors)
        return orjson.dumps({"data": result.data})

    # The answer as known shortly before now: every fact the generator wrote is known then.
    known_at = clock.now() - timedelta(minutes=10)
    known = {"knownAt": known_at.isoformat()}

    # Same answer both ways, or the comparison means nothing.
    for ref in subject_refs[:5]:
        a = orjson.loads(await floor.who_receives(ref))
        b = orjson.loads(await in_process(floor.WHO_RECEIVES, {"ref": ref}))
        for answer in (a, b):
            answer["data"]["whoReceives"].pop("asOf")
            answer["data"]["whoReceives"].pop("asKnownAt")
        assert a == b, f"floor and GraphQL disagree for {ref}"
        a = orjson.loads(await floor.who_receives(ref, known_at))
        b = orjson.loads(await in_process(floor.WHO_RECEIVES_AS_KNOWN_AT, {"ref": ref, **known}))
        a["data"]["whoReceives"].pop("asOf")
        b["data"]["whoReceives"].pop("asOf")
        assert a == b, f"floor and GraphQL disagree for {ref} as known at {known_at}"
    assert orjson.loads(await floor.dashboard_page()) == orjson.loads(
        await in_process(floor.DASHBOARD_PAGE)
    )
    assert orjson.loads(await floor.recipients_of_category()) == orjson.loads(
        await in_process(floor.RECIPIENTS_OF_CATEGORY)
    )
    assert orjson.loads(await floor.recipient_by_slug(slugs[0])) == orjson.loads(
        await in_process(floor.RECIPIENT_BY_SLUG, {"slug": slugs[0]})
    )

    sizes = await report_sizes(subject_refs)
    reasons = sizes["reasons"]
    # The median subject by report size (reasons plus past receipts), asked again and again:
    # latency without the spread of report sizes (random subjects range from tens to hundreds,
    # so their p99/p50 measures that).
    by_size = sorted(
        (r + p, r, p, ref)
        for r, p, ref in zip(sizes["reasons"], sizes["past"], subject_refs, strict=True)
    )
    _, median_reasons, median_past, median_ref = by_size[len(by_size) // 2]

    def cycle(items: list[Any]) -> Callable[[], Any]:
        state = {"i": 0}

        def take() -> Any:
            item = items[state["i"] % len(items)]
            state["i"] += 1
            return item

        return take

    ops: dict[str, dict[str, Any]] = {
        "whoReceivesMedianSubject": {
            "floor": (lambda: floor.who_receives(median_ref)),
            "graphql": (lambda: in_process(floor.WHO_RECEIVES, {"ref": median_ref})),
            "http": [graphql_request(token, floor.WHO_RECEIVES, {"ref": median_ref})],
        },
        "whoReceives": {
            "floor": (lambda nxt=cycle(subject_refs): floor.who_receives(nxt())),
            "graphql": (
                lambda nxt=cycle(subject_refs): in_process(floor.WHO_RECEIVES, {"ref": nxt()})
            ),
            "http": [graphql_request(token, floor.WHO_RECEIVES, {"ref": r}) for r in subject_refs],
        },
        "whoReceivesAsKnownAt": {
            "floor": (lambda nxt=cycle(subject_refs): floor.who_receives(nxt(), known_at)),
            "graphql": (
                lambda nxt=cycle(subject_refs): in_process(
                    floor.WHO_RECEIVES_AS_KNOWN_AT, {"ref": nxt(), **known}
                )
            ),
            "http": [
                graphql_request(token, floor.WHO_RECEIVES_AS_KNOWN_AT, {"ref": r, **known})
                for r in subject_refs
            ],
        },
        "recipientsOfCategory": {
            # Thousands of recipients an answer: fewer samples keep the run short.
            "samples": 30,
            "floor": floor.recipients_of_category,
            "graphql": lambda: in_process(floor.RECIPIENTS_OF_CATEGORY),
            "http": [graphql_request(token, floor.RECIPIENTS_OF_CATEGORY)],
        },
        "dashboardPage": {
            "floor": floor.dashboard_page,
            "graphql": lambda: in_process(floor.DASHBOARD_PAGE),
            "http": [graphql_request(token, floor.DASHBOARD_PAGE)],
        },
        "recipientBySlug": {
            "floor": (lambda nxt=cycle(slugs): floor.recipient_by_slug(nxt())),
            "graphql": (
                lambda nxt=cycle(slugs): in_process(floor.RECIPIENT_BY_SLUG, {"slug": nxt()})
            ),
            "http": [graphql_request(token, floor.RECIPIENT_BY_SLUG, {"slug": s}) for s in slugs],
            "plain": [get_request(f"/plain/recipient?slug={s}") for s in slugs],
        },
    }
    results: dict[str, Any] = {}
    for name, op in ops.items():
        await op["floor"]()
        await op["graphql"]()
        samples = op.get("samples", args.samples)
        floor_ms, graphql_ms = await timed(op["floor"], op["graphql"], samples)
        sql = await count_sql(op["graphql"])
        results[name] = {
            "floor_p50_ms": round(statistics.median(floor_ms), 3),
            "floor_p99_ms": round(percentile(floor_ms, 99), 3),
            "inprocess_p50_ms": round(statistics.median(graphql_ms), 3),
            "inprocess_p99_ms": round(percentile(graphql_ms, 99), 3),
            "sql_queries": sql,
        }
    # asKnownAt against the plain answer, in-process, the same subjects in alternation.
    plain_ms, known_ms = await timed(
        lambda nxt=cycle(subject_refs): in_process(floor.WHO_RECEIVES, {"ref": nxt()}),
        lambda nxt=cycle(subject_refs): in_process(
            floor.WHO_RECEIVES_AS_KNOWN_AT, {"ref": nxt(), **known}
        ),
        args.samples,
    )
    results["asKnownAtVsPlain"] = {
        "plain_p50_ms": round(statistics.median(plain_ms), 3),
        "as_known_at_p50_ms": round(statistics.median(known_ms), 3),
        "ratio": round(statistics.median(known_ms) / statistics.median(plain_ms), 3),
    }
    results["sql_per_report"] = await sql_per_report(schema, settings)
    results["report_size"] = summarise_sizes(sizes)
    sqlite = database_url.startswith("sqlite://")
    counts = await inventory_counts() if sqlite else {}
    if sqlite:
        results["whoReceivesCost"] = {
            "nodes": query_cost(floor.WHO_RECEIVES, {"ref": median_ref}, counts),
            "default_limit": Settings().max_query_cost,
            "bench_limit": BENCH_MAX_QUERY_COST,
        }
    await Tortoise.close_connections()

    process, port = start_server(database_url, BENCH_MAX_QUERY_COST)
    try:
        for name, op in ops.items():
            requests = op["http"]
            await http_latency(port, requests[:20])
            samples = op.get("samples", args.samples)
            latency = await http_latency(port, (requests * samples * 2)[: samples * 2])
            results[name]["http_p50_ms"] = round(statistics.median(latency), 3)
            results[name]["http_p99_ms"] = round(percentile(latency, 99), 3)
            results[name]["rps_16"] = round(await http_throughput(port, requests, args.seconds))
            if "plain" in op:
                await http_latency(port, op["plain"][:20])
                results[name]["plain_rps_16"] = round(
                    await http_throughput(port, op["plain"], args.seconds)
                )
        results["server_rss_mb"] = server_rss_mb(process.pid)
        if sqlite:
            # Last, so that nothing above runs on a server the abuse has just worked; on a
            # server with the default limits, so that the worst query it admits is the real one.
            process.terminate()
            process.wait(timeout=10)
            process, port = start_server(database_url)
            # Warm, as the server above was: the key has worked lately, the plans are cached.
            await http_latency(port, ops["recipientBySlug"]["http"][:20])
            results["abuse"] = await abuse_section(port, process.pid, token, slugs[0], counts)
    finally:
        process.terminate()
        process.wait(timeout=10)
    results["whoReceivesMedianSubject"]["subject"] = median_ref
    results["whoReceivesMedianSubject"]["reasons"] = median_reasons
    results["whoReceivesMedianSubject"]["past"] = median_past
    reasons.sort()
    results["whoReceives"]["reasons_p10"] = reasons[len(reasons) // 10]
    results["whoReceives"]["reasons_p50"] = reasons[len(reasons) // 2]
    results["whoReceives"]["reasons_p90"] = reasons[9 * len(reasons) // 10]
    return results


# Subjects whose SQL statements are counted at both sizes (all exist in the smaller inventory).
SQL_REFS = [f"subject-{i:06d}" for i in (1, 42, 777, 1234, 2500, 3141, 5000, 6789, 8191, 9999)]


async def sql_per_report(schema: Any, settings: Settings) -> dict[str, list[int]]:
    """SQL statements of each whoReceives over SQL_REFS, plain and asKnownAt (Tortoise
    initialised, warm)."""
    known = {"knownAt": (clock.now() - timedelta(minutes=10)).isoformat()}
    out: dict[str, list[int]] = {"plain": [], "asKnownAt": []}
    for name, query, extra in (
        ("plain", floor.WHO_RECEIVES, {}),
        ("asKnownAt", floor.WHO_RECEIVES_AS_KNOWN_AT, known),
    ):
        for ref in SQL_REFS:

            async def once(ref: str = ref, query: str = query, extra: Any = extra) -> None:
                context = Context(
                    settings=settings, principal=PRINCIPAL, loaders=Loaders(clock.today())
                )
                result = await schema.execute(
                    query, variable_values={"ref": ref, **extra}, context_value=context
                )
                assert not result.errors, result.errors

            await once()  # the first statement also opens the connection: count a warm one
            out[name].append(await count_sql(once))
    return out


async def report_sizes(refs: list[str]) -> dict[str, list[int]]:
    """Per report (the floor's answer, the same as the API's): reasons, past receipts,
    upcoming and possible recipients."""
    out: dict[str, list[int]] = {"reasons": [], "past": [], "upcoming": [], "possible": []}
    for ref in refs:
        answer = orjson.loads(await floor.who_receives(ref))["data"]["whoReceives"]
        out["reasons"].append(sum(len(r["reasons"]) for r in answer["recipients"]))
        out["past"].append(len(answer["pastRecipients"]))
        out["upcoming"].append(len(answer["upcomingRecipients"]))
        out["possible"].append(len(answer["possibleRecipients"]))
    return out


def summarise_sizes(sizes: dict[str, list[int]]) -> dict[str, Any]:
    total = [r + p for r, p in zip(sizes["reasons"], sizes["past"], strict=True)]
    out: dict[str, Any] = {}
    for name, values in (*sizes.items(), ("reasons_plus_past", total)):
        out[name] = {
            "mean": round(statistics.mean(values), 1),
            "median": statistics.median(values),
        }
    return out


async def sizes_without_histories(args: argparse.Namespace) -> dict[str, Any]:
    """Report sizes on the same inventory built without histories (the same draws otherwise),
    over the same sampled subjects: the size of a report before issue 12."""
    path = HERE / "bench-before.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite://{path}"
    EXECUTOR_CACHE.clear()
    await build(url, args.recipients, args.subjects, histories=False)
    await Tortoise.init(config=tortoise_config(url))
    try:
        rng = random.Random(11)  # the same subjects as measure()
        refs = [f"subject-{rng.randint(1, args.subjects):06d}" for _ in range(args.samples)]
        return summarise_sizes(await report_sizes(refs))
    finally:
        await Tortoise.close_connections()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def query_cost(query: str, variables: dict[str, Any], inventory: dict[str, int]) -> int:
    """The nodes the server's cost limit prices this query at (server/graphql/cost.py)."""
    plan = compile_plan(build_schema()._schema, parse(query), None, 50)
    return plan_cost(plan, variables, counts_for(inventory, default_taxonomy()))


def server_rss_mb(pid: int) -> float:
    """The server's resident memory after every HTTP run (Linux: /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


async def small_inventory_sql_count(database_url: str) -> dict[str, list[int]]:
    """SQL statements per whoReceives on a tenth of the inventory (1,000 recipients): must
    equal the full one's, subject for subject."""
    await build(database_url, recipients=1_000, subjects=10_000)
    await Tortoise.init(config=tortoise_config(database_url))
    settings = Settings(database_url=database_url, max_query_cost=BENCH_MAX_QUERY_COST)
    try:
        return await sql_per_report(build_schema(settings), settings)
    finally:
        await Tortoise.close_connections()


def print_table(backend: str, results: dict[str, Any]) -> None:
    print(f"\n{backend}")
    header = f"{'operation':22}{'floor p50':>11}{'in-proc p50':>13}{'http p50':>10}{'http p99':>10}{'rps 16':>9}{'sql':>5}"
    print(header)
    for name, r in results.items():
        if not isinstance(r, dict) or "floor_p50_ms" not in r:
            continue
        print(
            f"{name:22}{r['floor_p50_ms']:>9.2f}ms{r['inprocess_p50_ms']:>11.2f}ms"
            f"{r['http_p50_ms']:>8.2f}ms{r['http_p99_ms']:>8.2f}ms{r['rps_16']:>9}{r['sql_queries']:>5}"
        )
    who = results["whoReceives"]
    median = results["whoReceivesMedianSubject"]
    cat = results["recipientsOfCategory"]
    dash = results["dashboardPage"]
    slug = results["recipientBySlug"]
    print(
        f"  whoReceives: reasons p10/p50/p90 {who['reasons_p10']}/{who['reasons_p50']}/"
        f"{who['reasons_p90']}; in-process {who['inprocess_p50_ms'] / who['floor_p50_ms']:.2f}x "
        f"floor (<= 1.5), HTTP {who['http_p50_ms'] / who['floor_p50_ms']:.2f}x (<= 2), "
        f"p99/p50 {who['http_p99_ms'] / who['http_p50_ms']:.2f} across random subjects "
        "(in-process, like for like: the API's "
        f"{who['inprocess_p99_ms'] / who['inprocess_p50_ms']:.2f}, the floor's "
        f"{who['floor_p99_ms'] / who['floor_p50_ms']:.2f}: the spread of report sizes)"
    )
    print(
        f"  whoReceives, median subject ({median['reasons']} reasons, "
        f"{median.get('past', 0)} past receipts): in-process "
        f"{median['inprocess_p50_ms'] / median['floor_p50_ms']:.2f}x floor (<= 1.5), HTTP "
        f"{median['http_p50_ms'] / median['floor_p50_ms']:.2f}x (<= 2), HTTP p99/p50 "
        f"{median['http_p99_ms'] / median['http_p50_ms']:.2f} against the floor's own "
        f"{median['floor_p99_ms'] / median['floor_p50_ms']:.2f} (<= 1.25 times it)"
    )
    print(
        f"  recipientsOfCategory: in-process {cat['inprocess_p50_ms'] / cat['floor_p50_ms']:.2f}x "
        f"(<= 1.5), HTTP {cat['http_p50_ms'] / cat['floor_p50_ms']:.2f}x (<= 2)"
    )
    print(
        f"  dashboardPage: in-process {dash['inprocess_p50_ms'] / dash['floor_p50_ms']:.2f}x (<= 2)"
    )
    print(
        f"  recipientBySlug: {slug['rps_16']} req/s against plain starlette "
        f"{slug['plain_rps_16']} ({100 * slug['rps_16'] / slug['plain_rps_16']:.0f}%, >= 30%)"
    )
    if "server_rss_mb" in results:
        print(f"  server resident memory after the HTTP runs: {results['server_rss_mb']} MB")
    price = results.get("whoReceivesCost")
    if price:
        print(
            f"  the complete whoReceives is priced at {price['nodes']:,} nodes: "
            f"{'over' if price['nodes'] > price['default_limit'] else 'within'} the default "
            f"MAX_QUERY_COST {price['default_limit']:,} (timed with {price['bench_limit']:,})"
        )
    known = results.get("whoReceivesAsKnownAt")
    if known:
        print(
            f"  whoReceives asKnownAt (10 minutes ago): in-process "
            f"{known['inprocess_p50_ms'] / known['floor_p50_ms']:.2f}x its floor, HTTP "
            f"{known['http_p50_ms'] / known['floor_p50_ms']:.2f}x"
        )
    pair = results.get("asKnownAtVsPlain")
    if pair:
        print(
            f"  asKnownAt against the plain answer, in-process, in alternation: "
            f"{pair['as_known_at_p50_ms']:.2f} ms against {pair['plain_p50_ms']:.2f} ms, "
            f"{pair['ratio']:.2f}x (<= 1.2)"
        )
    if "sql_per_report" in results and "sql_per_report_at_1000" in results:
        full, small = results["sql_per_report"], results["sql_per_report_at_1000"]
        print(
            f"  SQL per whoReceives over {len(SQL_REFS)} subjects (plain / asKnownAt), "
            f"side by side: at 1,000 recipients {small['plain']} / {small['asKnownAt']}; at "
            f"{results['shape']['recipients']:,} recipients {full['plain']} / {full['asKnownAt']}"
            f" ({'constant' if full == small else 'NOT constant'})"
        )
    size = results.get("report_size")
    if size:
        before = results.get("report_size_before")
        line = "  report size (per sampled report, mean/median): "
        if before:
            line += (
                f"before histories {before['reasons']['mean']}/{before['reasons']['median']} "
                f"reasons (past {before['past']['mean']}/{before['past']['median']}); "
            )
        line += (
            f"with histories {size['reasons']['mean']}/{size['reasons']['median']} reasons + "
            f"{size['past']['mean']}/{size['past']['median']} past receipts = "
            f"{size['reasons_plus_past']['mean']}/{size['reasons_plus_past']['median']}"
        )
        if before:
            grew = size["reasons_plus_past"]["mean"] / before["reasons_plus_past"]["mean"]
            line += f" ({grew:.2f}x the mean before)"
        line += f"; upcoming {size['upcoming']['mean']}, possible {size['possible']['mean']} (mean)"
        print(line)
    if "abuse" in results:
        print_abuse(results["abuse"], Settings.from_env().max_execution_ms)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--postgres", default=os.environ.get("TEST_POSTGRES_URL"))
    args = parser.parse_args()
    backends: list[tuple[str, str]] = []
    sqlite_path = HERE / "bench.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{sqlite_path}{suffix}").unlink(missing_ok=True)
    backends.append(("sqlite", f"sqlite://{sqlite_path}"))
    if args.postgres:
        backends.append(("postgres", args.postgres))
    output: dict[str, Any] = {}
    for backend, url in backends:
        # Tortoise caches prepared SQL by connection name, not dialect (see tests/conftest.py).
        EXECUTOR_CACHE.clear()
        if backend == "postgres":
            await reset_postgres(url)
        shape = await build(url, args.recipients, args.subjects)
        print(f"{backend}: built {shape}", flush=True)
        results = await measure(url, args)
        results["shape"] = shape
        if backend == "sqlite":
            small = HERE / "bench-small.sqlite3"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{small}{suffix}").unlink(missing_ok=True)
            results["sql_per_report_at_1000"] = await small_inventory_sql_count(f"sqlite://{small}")
            results["report_size_before"] = await sizes_without_histories(args)
        else:
            await reset_postgres(url)
            EXECUTOR_CACHE.clear()
            results["sql_per_report_at_1000"] = await small_inventory_sql_count(url)
            await reset_postgres(url)
        results["sql_queries_at_1000"] = max(results["sql_per_report_at_1000"]["plain"])
        output[backend] = results
        print_table(backend, results)
    (HERE / "results.json").write_text(orjson.dumps(output, option=orjson.OPT_INDENT_2).decode())
    print(f"\nwrote {HERE / 'results.json'}")


if __name__ == "__main__":
    asyncio.run(main())
