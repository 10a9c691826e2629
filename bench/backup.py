"""`python -m bench.backup`: the JSON backup of the bench's 10,000-recipient inventory against its
floor, in one run (issue 16 §5: within 2x of dumping the same rows with orjson, resident memory
under 500 MB).

Builds the inventory with bench/generate.py as `make bench` does (bench/run.py `build`): SQLite,
and PostgreSQL too with --postgres or TEST_POSTGRES_URL (its schema is dropped and rebuilt). Then,
each run in a fresh subprocess so that its peak resident memory (resource.getrusage) is its own
and no run warms another's objects, alternately:

- the floor: every table the backup carries, its same columns fetched with one plain SELECT
  through the same connection, and the rows dumped with orjson into a file;
- the backup: server/services/backup.py `write_backup` into a file, as `export backup` runs it
  (paged reads from one snapshot, each value in the backup's form, a JSON line per row).

Each is timed from its first statement to its file flushed. The ratio is of the medians. Then,
once each: `python -m server export backup -o FILE` end to end (interpreter start and checks
included), and `python -m server restore FILE` into an empty migrated database, each with its
own rusage (os.wait4). Prints a table and writes bench/results-backup.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TARGET_RATIO = 2.0
TARGET_RSS_MB = 500.0


def peak_rss_mb(usage: resource.struct_rusage) -> float:
    """Linux gives ru_maxrss in kilobytes."""
    return round(usage.ru_maxrss / 1024, 1)


async def floor(out: Any) -> int:
    """The same rows, fetched plainly and dumped with orjson: a table at a time, whole."""
    from server.db import backup as store
    from server.db import sql
    from server.services.backup import carried

    conn = sql.connection()
    rows = 0
    for table in carried():
        fetched = [
            tuple(row)
            for row in await sql.fetch(conn, sql.Statement(conn), store.select_all(table))
        ]
        out.write(orjson.dumps(fetched))
        rows += len(fetched)
    return rows


async def backup(out: Any) -> int:
    from server.services.backup import write_backup

    summary = await write_backup(out.write)
    return sum(summary.rows.values())


async def worker(kind: str, database_url: str, output: Path) -> dict[str, Any]:
    from tortoise import Tortoise

    from server.db.config import tortoise_config

    await Tortoise.init(config=tortoise_config(database_url))
    try:
        with open(output, "wb", buffering=1 << 20) as out:
            started = time.perf_counter()
            rows = await (floor(out) if kind == "floor" else backup(out))
            out.flush()
            seconds = time.perf_counter() - started
    finally:
        await Tortoise.close_connections()
    return {
        "seconds": round(seconds, 3),
        "rows": rows,
        "bytes": output.stat().st_size,
        "rss_mb": peak_rss_mb(resource.getrusage(resource.RUSAGE_SELF)),
    }


def step(*args: str) -> dict[str, Any]:
    """One step in a subprocess of its own (`python -m bench.backup --step ...`): its last line
    of output, as JSON."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.backup", "--step", *args],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    found: dict[str, Any] = orjson.loads(done.stdout.splitlines()[-1])
    return found


def timed_command(*args: str) -> dict[str, Any]:
    """`python -m server ARGS` as an operator runs it: wall seconds and its own peak memory."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "server", *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    error = process.stderr.read().decode() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"python -m server {' '.join(args)} failed: {error}")
    return {"seconds": round(seconds, 2), "rss_mb": peak_rss_mb(usage)}


def fresh_sqlite(path: Path) -> str:
    for suffix in ("", "-wal", "-shm", "-migrate-lock"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite://{path}"


async def build(url: str, recipients: int, subjects: int) -> dict[str, Any]:
    """The bench's inventory, as `make bench` builds it (PostgreSQL's schema rebuilt first)."""
    from bench.run import build as build_inventory
    from bench.run import reset_postgres

    if not url.startswith("sqlite"):
        await reset_postgres(url)
    found: dict[str, Any] = await build_inventory(url, recipients, subjects)
    return found


async def reset(url: str) -> dict[str, Any]:
    from bench.run import reset_postgres

    await reset_postgres(url)
    return {}


def measure(backend: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Everything for one database. This process imports nothing of the service and builds
    nothing itself: a child starts with its parent's peak memory counted (getrusage keeps it
    across fork and exec), so the parent stays small and each child's figure is its own."""
    shape = step(
        "build", "--database-url", url, "--recipients", str(args.recipients),
        "--subjects", str(args.subjects),
    )  # fmt: skip
    print(f"{backend}: built {shape}", flush=True)
    floor_file, backup_file = HERE / "floor.json", HERE / "backup.jsonl"
    floors: list[dict[str, Any]] = []
    backups: list[dict[str, Any]] = []
    restored = fresh_sqlite(HERE / "bench-restored.sqlite3") if backend == "sqlite" else url
    try:
        step("floor", "--database-url", url, "--output", str(floor_file))  # pages cached for both
        for _ in range(args.rounds):
            floors.append(step("floor", "--database-url", url, "--output", str(floor_file)))
            backups.append(step("backup", "--database-url", url, "--output", str(backup_file)))
            print(f"  floor {floors[-1]}  backup {backups[-1]}", flush=True)
        command = timed_command("--database-url", url, "export", "backup", "-o", str(backup_file))
        if backend == "postgres":
            step("reset", "--database-url", url)
        timed_command("--database-url", restored, "migrate")
        restore = timed_command("--database-url", restored, "restore", str(backup_file))
    finally:
        floor_file.unlink(missing_ok=True)
        backup_file.unlink(missing_ok=True)
        if backend == "sqlite":
            fresh_sqlite(HERE / "bench-restored.sqlite3")
        else:
            step("reset", "--database-url", url)
    if {f["rows"] for f in floors} != {b["rows"] for b in backups}:
        raise RuntimeError(f"the floor and the backup read different rows: {floors} {backups}")
    floor_s = statistics.median(f["seconds"] for f in floors)
    backup_s = statistics.median(b["seconds"] for b in backups)
    return {
        "shape": shape,
        "rows": backups[0]["rows"],
        "floor_seconds": floor_s,
        "backup_seconds": backup_s,
        "ratio": round(backup_s / floor_s, 2),
        "floor_rss_mb": max(f["rss_mb"] for f in floors),
        "backup_rss_mb": max(b["rss_mb"] for b in backups),
        "floor_bytes": floors[0]["bytes"],
        "backup_bytes": backups[0]["bytes"],
        "rounds": {"floor": floors, "backup": backups},
        "export_command": command,
        "restore_command": restore,
        "bench_process_rss_mb": peak_rss_mb(resource.getrusage(resource.RUSAGE_SELF)),
        "targets": {"ratio": TARGET_RATIO, "rss_mb": TARGET_RSS_MB},
    }


def print_table(backend: str, found: dict[str, Any]) -> None:
    ratio_ok = "ok" if found["ratio"] <= TARGET_RATIO else "OVER"
    rss_ok = "ok" if found["backup_rss_mb"] < TARGET_RSS_MB else "OVER"
    print(
        f"\n{backend}: {found['rows']:,} rows\n"
        f"  floor (plain rows, orjson)   {found['floor_seconds']:8.2f} s  "
        f"{found['floor_rss_mb']:7.1f} MB  {found['floor_bytes'] / 1e6:8.1f} MB written\n"
        f"  backup (JSON Lines)          {found['backup_seconds']:8.2f} s  "
        f"{found['backup_rss_mb']:7.1f} MB  {found['backup_bytes'] / 1e6:8.1f} MB written\n"
        f"  ratio {found['ratio']:.2f}x (target <= {TARGET_RATIO:g}x: {ratio_ok}); backup peak "
        f"RSS {found['backup_rss_mb']} MB (target < {TARGET_RSS_MB:g} MB: {rss_ok})\n"
        f"  python -m server export backup: {found['export_command']['seconds']} s, "
        f"{found['export_command']['rss_mb']} MB; restore into an empty database: "
        f"{found['restore_command']['seconds']} s, {found['restore_command']['rss_mb']} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", default=os.environ.get("TEST_POSTGRES_URL"))
    steps = ["build", "reset", "floor", "backup"]
    parser.add_argument("--step", choices=steps, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        if args.step == "build":
            found = asyncio.run(build(args.database_url, args.recipients, args.subjects))
        elif args.step == "reset":
            found = asyncio.run(reset(args.database_url))
        else:
            found = asyncio.run(worker(args.step, args.database_url, Path(args.output)))
        print(orjson.dumps(found).decode())
        return
    backends = [("sqlite", fresh_sqlite(HERE / "bench-backup.sqlite3"))]
    if args.postgres:
        backends.append(("postgres", args.postgres))
    output: dict[str, Any] = {}
    try:
        for backend, url in backends:
            output[backend] = measure(backend, url, args)
            print_table(backend, output[backend])
    finally:
        fresh_sqlite(HERE / "bench-backup.sqlite3")
    path = HERE / "results-backup.json"
    path.write_text(orjson.dumps(output, option=orjson.OPT_INDENT_2).decode() + "\n")
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
