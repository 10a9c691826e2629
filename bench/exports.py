"""`python -m bench.exports` (the second line of `make bench`): the exports on the bench's
inventory (issue 16 §5), each against its floor in one run, in a process of its own so that its
peak resident memory is its own.

A case times the export whole (the read of the inventory, the rules, the file) against its
floor: the same output written from a list computed beforehand, by the library that writes it.
For the record of processing (`ropa.xlsx`) the floor is openpyxl's write-only mode writing the
record's cells, values only: the distance between the two is what reading and composing the
record, and styling it, cost. Targets: within 3x the floor, under 500 MB resident. Export and
floor run in alternation (and in alternating order), as bench/run.py times its pairs. Figures go
to bench/results-exports.json.

Another export joins by adding a `Case` to `CASES`: its name, the export, and its floor.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import io
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE

from bench.run import build, reset_postgres
from server.app import CollectionSchedule
from server.db.config import tortoise_config
from server.domain import ropa as record_rules
from server.domain.taxonomy import default_taxonomy
from server.services import exports, ropa

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results-exports.json"
RATIO_TARGET = 3.0
RSS_TARGET_MB = 500


@dataclass(frozen=True)
class Case:
    """One export measured against its floor. `prepare` runs once, untimed, and gives what the
    floor writes from; `export` and `floor` are then timed in alternation."""

    name: str
    prepare: Callable[[], Awaitable[Any]]
    export: Callable[[], Awaitable[bytes]]
    floor: Callable[[Any], bytes]
    ratio_target: float
    rss_target_mb: float = RSS_TARGET_MB
    # Where the export's time goes, part by part (ms), measured once after the samples.
    phases: Callable[[], Awaitable[dict[str, float]]] | None = None


def request() -> exports.ExportRequest:
    return exports.ExportRequest(None, record_rules.ControllerContact(contact="bench"))


async def record_cells() -> list[list[str]]:
    """Every cell the XLSX record writes, in its rows, as the export computes them."""
    return ropa.spreadsheet_rows(await ropa.record_of_processing(None, request().contact))


def openpyxl_floor(rows: list[list[str]]) -> bytes:
    """openpyxl's write-only mode writing the cells, values only."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Record of processing")
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def ropa_xlsx() -> bytes:
    return await exports.export_for("ropa", "xlsx").produce(request())


async def ropa_phases() -> dict[str, float]:
    """The record's parts, as `ropa.record_of_processing` runs them: the read (the disclosures
    in effect and their recipients), the disclosures in the record's terms, the rows
    (destinations and cells), and the file."""
    marks = [time.perf_counter()]
    found = await ropa.record_read(None)
    marks.append(time.perf_counter())
    disclosures = ropa.in_record_terms(found.recipients, found.rows)
    marks.append(time.perf_counter())
    activities = record_rules.processing_activities(disclosures, found.day, default_taxonomy())
    marks.append(time.perf_counter())
    contact = request().contact
    record = record_rules.Record(
        found.at, record_rules.controller_block([], contact), tuple(activities)
    )
    ropa.record_xlsx(record)
    marks.append(time.perf_counter())
    destinations = sum(
        len(
            record_rules.documented_destinations(
                d.recipient.country, d.recipient.international_organisation, d.transfers
            )
        )
        for d in disclosures
    )
    return {
        "disclosures_in_use": len(disclosures),
        "third_country_destinations": destinations,
        "rows": len(activities),
        "read_ms": round((marks[1] - marks[0]) * 1000, 1),
        "terms_ms": round((marks[2] - marks[1]) * 1000, 1),
        "rows_ms": round((marks[3] - marks[2]) * 1000, 1),
        "xlsx_ms": round((marks[4] - marks[3]) * 1000, 1),
    }


CASES: list[Case] = [
    Case("ropa.xlsx", record_cells, ropa_xlsx, openpyxl_floor, RATIO_TARGET, phases=ropa_phases),
]


def peak_rss_mb() -> float:
    """This process's peak resident memory (Linux reports ru_maxrss in KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


async def measure_case(case: Case, database_url: str, samples: int) -> dict[str, Any]:
    """In this process: the export once cold, then `samples` of it and of its floor. Each call
    runs as the server runs a request: the collector off during it and run right after it
    (server/app.py, CollectBetweenRequests), that collection counted in the call's time."""
    await Tortoise.init(config=tortoise_config(database_url))
    schedule = CollectionSchedule()
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        started = time.perf_counter()
        first = await case.export()
        schedule.collect()
        cold_ms = (time.perf_counter() - started) * 1000
        rss_after_export = peak_rss_mb()
        prepared = await case.prepare()
        schedule.collect()
        export_ms: list[float] = []
        floor_ms: list[float] = []
        floor_size = 0
        for i in range(samples):
            order = ("export", "floor") if i % 2 == 0 else ("floor", "export")
            for which in order:
                started = time.perf_counter()
                if which == "export":
                    await case.export()
                else:
                    floor_size = len(case.floor(prepared))
                schedule.collect()
                elapsed = (time.perf_counter() - started) * 1000
                (export_ms if which == "export" else floor_ms).append(elapsed)
        phases = await case.phases() if case.phases is not None else {}
        schedule.collect()
    finally:
        gc.enable()
        await Tortoise.close_connections()
    export_p50 = statistics.median(export_ms)
    floor_p50 = statistics.median(floor_ms)
    return {
        "export_ms_cold": round(cold_ms, 1),
        "export_ms_p50": round(export_p50, 1),
        "floor_ms_p50": round(floor_p50, 1),
        "ratio": round(export_p50 / floor_p50, 2),
        "ratio_target": case.ratio_target,
        "export_bytes": len(first),
        "floor_bytes": floor_size,
        # The export's own peak (measured before the floor and the phases ran).
        "peak_rss_mb": rss_after_export,
        "peak_rss_mb_whole_run": peak_rss_mb(),
        "rss_target_mb": case.rss_target_mb,
        "samples": samples,
        "phases": phases,
    }


def run_child(case: str, database_url: str, samples: int) -> dict[str, Any]:
    """One case in a fresh process, so that its peak memory is its own."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.exports",
            "--case",
            case,
            "--database-url",
            database_url,
            "--samples",
            str(samples),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    result: dict[str, Any] = orjson.loads(done.stdout.splitlines()[-1])
    return result


def print_results(backend: str, results: dict[str, Any]) -> None:
    print(f"\n{backend}: exports on the bench inventory ({results['shape']})")
    for name, r in results["cases"].items():
        verdict = "ok" if r["ratio"] <= r["ratio_target"] else "over target"
        memory = "ok" if r["peak_rss_mb"] < r["rss_target_mb"] else "over target"
        print(
            f"  {name}: export {r['export_ms_p50']:.0f} ms (cold {r['export_ms_cold']:.0f} ms), "
            f"floor {r['floor_ms_p50']:.0f} ms, {r['ratio']:.2f}x (target <= "
            f"{r['ratio_target']:g}x: {verdict}); peak RSS {r['peak_rss_mb']:.0f} MB (target < "
            f"{r['rss_target_mb']:g} MB: {memory}); {r['export_bytes']:,} bytes"
        )
        if r["phases"]:
            print("    " + ", ".join(f"{k} {v:,}" for k, v in r["phases"].items()))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--postgres", default=os.environ.get("TEST_POSTGRES_URL"))
    # In a child process: measure one case on a built inventory and print its figures as JSON.
    parser.add_argument("--case", help=argparse.SUPPRESS)
    # Measure on an inventory already built (the bench's, or any other).
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        case = next(c for c in CASES if c.name == args.case)
        print(orjson.dumps(await measure_case(case, args.database_url, args.samples)).decode())
        return
    backends = [("sqlite", f"sqlite://{HERE / 'bench-exports.sqlite3'}")]
    if args.postgres:
        backends.append(("postgres", args.postgres))
    output: dict[str, Any] = {}
    for backend, url in backends:
        EXECUTOR_CACHE.clear()
        if backend == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{HERE / 'bench-exports.sqlite3'}{suffix}").unlink(missing_ok=True)
        else:
            await reset_postgres(url)
        shape = await build(url, args.recipients, args.subjects)
        await Tortoise.close_connections()
        print(f"{backend}: built {shape}", flush=True)
        results = {
            "shape": shape,
            "cases": {c.name: run_child(c.name, url, args.samples) for c in CASES},
        }
        output[backend] = results
        print_results(backend, results)
        if backend == "postgres":
            await reset_postgres(url)
    RESULTS.write_text(orjson.dumps(output, option=orjson.OPT_INDENT_2).decode())
    print(f"\nwrote {RESULTS}")


if __name__ == "__main__":
    asyncio.run(main())
