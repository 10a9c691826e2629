"""`python -m bench.imports`: the import of issue 15 §5, against its floors in the same run.

A generated file of 5,000 recipients and 50,000 disclosures in the documented layout
(server/domain/imports.py: the template's columns, values a privacy team writes: taxonomy keys,
enum labels, country names and codes, COUNTRY=MECHANISM transfers, statuses of an admin's
migration, subprocessors engaged by processors of the same file, establishments named as
exporters), as CSV and XLSX. On SQLite and on PostgreSQL (`--postgres URL`, default
TEST_POSTGRES_URL), on a migrated inventory holding only the organisation's establishments:
the dry run and the apply of each format, as an admin's command line runs them
(services/imports.py:import_inventory), then the CSV again (a re-import that changes nothing).

The floors, hand-written and measured in the same run:
(a) reading and validating the same CSV with plain Python: the csv module, the domain's cell
    readers and the checks the mutations run (no database, no report);
(b) inserting the rows the CSV import wrote (read back from the database after it) with
    executemany in one transaction, through the raw driver (sqlite3, asyncpg), ids included.
Targets: the CSV dry run within 3x floor (a); the apply within 2x floor (b); every run under
500 MB resident. Each run is a subprocess of its own, timed inside it (interpreter start-up and
connecting are not counted) and measured by resource.getrusage (peak resident memory). Prints a
table and writes bench/results-imports.json.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import gc
import io
import json
import os
import pickle
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson

from bench.generate import (
    ART9_CONDITIONS,
    BASES,
    COUNTRIES,
    ESTABLISHMENTS,
    GROUNDS,
    KINDS,
    Weights,
    _pick,
)
from server.domain import imports, special_categories, subprocessors, validation
from server.domain.disclosure_terms import DisclosureSpec, TransferSpec, check_disclosure
from server.domain.enums import (
    DisclosureFrequency,
    DisclosureGround,
    LegalBasis,
    ProcessingRole,
    RecipientKind,
    RecipientStatus,
    SpecialCategoryCondition,
    TransferMechanism,
)
from server.domain.errors import ErrorCollector
from server.domain.recipient_details import check_new_details
from server.domain.taxonomy import default_taxonomy

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results-imports.json"
TARGET_DRY_RUN = 3.0
TARGET_APPLY = 2.0
TARGET_RSS_MB = 500
# What the import writes (the establishments are there before it, with their own events).
WRITTEN_TABLES = (
    "recipient",
    "status_change",
    "disclosure",
    "disclosure_category",
    "disclosure_subject_type",
    "disclosure_audience",
    "disclosure_purpose",
    "transfer",
    "change_request",
    "audit_event",
)
# An admin's migration from another tool: most vendors already in use.
STATUSES = [("ACTIVE", 70), ("APPROVED", 10), ("PROPOSED", 20)]
MECHANISMS = [("Standard contractual clauses", 40), ("SCC", 15), ("Adequacy decision", 20),
              ("UK addendum", 10), ("BCR", 5), ("UK IDTA", 5)]  # fmt: skip
RETENTIONS = ["P1Y", "P30D", "P13M", "P6M", "P2Y", "until the account is closed + P30D"]
SERVICES = ["hosting", "email-delivery", "analytics", "payments", "crm", "support", "ads"]
DESCRIPTIONS = [
    "Sends our transactional email.",
    "Hosts the customer platform.",
    "Measures how the website is used.",
    "Processes card payments.",
    "Answers support tickets on our behalf.",
]
WORDS = ["Cloud", "Mail", "Data", "Analytics", "Partners", "Labs"]


# --- the file ---------------------------------------------------------------------------------


def generate_rows(
    recipients: int, per_recipient: int, seed: int = 15
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The file's recipients and disclosures, each a row of cells by the API's field name."""
    rng = random.Random(seed)
    taxonomy = default_taxonomy()
    weights = Weights(taxonomy, rng)
    today = date.today()
    out_recipients: list[dict[str, str]] = []
    out_disclosures: list[dict[str, str]] = []
    processors: list[str] = []
    first_sub = recipients - recipients // 10
    for rid in range(1, recipients + 1):
        slug = f"vendor-{rid:05d}"
        name = f"Vendor {rid:05d} {rng.choice(WORDS)}"
        engaged_by = ""
        if rid > first_sub and processors:
            role = ProcessingRole.SUBPROCESSOR
            engaged_by = rng.choice(processors)
        else:
            role = rng.choice([ProcessingRole.PROCESSOR] * 6 + [ProcessingRole.CONTROLLER] * 3
                              + [ProcessingRole.JOINT_CONTROLLER])  # fmt: skip
        if role is ProcessingRole.PROCESSOR:
            processors.append(slug)
        kind = RecipientKind(_pick(rng, KINDS))
        country = _pick(rng, COUNTRIES)
        draw = rng.random()
        country_cell = (
            validation.country_name(country)
            if draw < 0.1
            else country.lower()
            if draw < 0.15
            else country
        )
        status = RecipientStatus(_pick(rng, STATUSES))
        processing = role in (ProcessingRole.PROCESSOR, ProcessingRole.SUBPROCESSOR)
        out_recipients.append(
            {
                "slug": slug,
                "name": name,
                "legalName": f"{name} Ltd" if rng.random() < 0.6 else "",
                "description": rng.choice(DESCRIPTIONS) if rng.random() < 0.5 else "",
                "kind": imports.enum_label(kind) if rng.random() < 0.7 else kind.value,
                "role": imports.enum_label(role),
                "country": country_cell,
                "status": imports.enum_label(status),
                "statusSince": "",
                "services": "; ".join(dict.fromkeys(rng.choices(SERVICES, k=2))),
                "website": f"https://{slug}.example",
                "privacyPolicyUrl": f"https://{slug}.example/privacy" if rng.random() < 0.5 else "",
                "dpaSignedOn": (today - timedelta(days=rng.randint(30, 1500))).isoformat()
                if processing
                else "",
                "engagedBy": engaged_by,
                "corporateGroup": f"Vendor Group {rid % 40}" if rng.random() < 0.05 else "",
                "internationalOrganisation": "",
            }
        )
        for _ in range(per_recipient):
            out_disclosures.append(_disclosure(rng, weights, slug, kind, role, today))
    return out_recipients, out_disclosures


def _disclosure(
    rng: random.Random,
    weights: Weights,
    slug: str,
    kind: RecipientKind,
    role: ProcessingRole,
    today: date,
) -> dict[str, str]:
    keys = weights.categories_sample(rng, rng.choice([1, 1, 2, 3]))
    found = special_categories.coverage(keys)
    condition = ""
    if found.art_9_keys and found.art_10_keys:
        # Art. 9 and Art. 10 data go in two disclosures: keep this one Art. 9.
        keys = [k for k in keys if k not in found.art_10_keys or k in found.art_9_keys]
        found = special_categories.coverage(keys)
    if found.art_10_keys and not found.art_9_keys:
        condition = SpecialCategoryCondition.CRIMINAL_DATA_AUTHORISED_BY_LAW
    elif found.art_9_keys:
        condition = SpecialCategoryCondition(_pick(rng, ART9_CONDITIONS))
    basis = LegalBasis(_pick(rng, BASES))
    ground = DisclosureGround(rng.choice(GROUNDS))
    frequency = ""
    if kind is RecipientKind.PUBLIC_AUTHORITY:
        basis, ground = LegalBasis.LEGAL_OBLIGATION, DisclosureGround.LEGAL_DUTY
        frequency = imports.enum_label(DisclosureFrequency.ON_REQUEST)
    transfers = [
        f"{_pick(rng, COUNTRIES)}={_pick(rng, MECHANISMS)}" for _ in range(rng.choice([0, 1, 1, 2]))
    ]
    exporter = ""
    if role is not ProcessingRole.SUBPROCESSOR:
        exporter = rng.choices(["", ESTABLISHMENTS[1][1], ESTABLISHMENTS[2][1]], [70, 20, 10])[0]
    starts = today - timedelta(days=rng.randint(1, 1400)) if rng.random() < 0.5 else None
    ends = today + timedelta(days=rng.randint(30, 700)) if rng.random() < 0.01 else None
    return {
        "slug": slug,
        "dataCategories": "; ".join(keys),
        "subjectTypes": "; ".join(weights.subject_types_sample(rng, rng.choice([1, 1, 2]))),
        "purposes": "; ".join(weights.purposes_sample(rng, rng.randint(1, 3))),
        "legalBasis": imports.enum_label(basis),
        "ground": imports.enum_label(ground),
        "retention": rng.choice(RETENTIONS),
        "transfers": "; ".join(dict.fromkeys(transfers)),
        "effectiveFrom": starts.isoformat() if starts else "",
        "effectiveTo": ends.isoformat() if ends else "",
        "frequency": frequency,
        "specialCategoryCondition": imports.enum_label(condition) if condition else "",
        "exporter": exporter,
    }


def write_csv(
    path: Path, recipients: list[dict[str, str]], disclosures: list[dict[str, str]]
) -> None:
    """One row per disclosure, the recipient's columns repeated on each."""
    by_slug = {r["slug"]: r for r in recipients}
    columns = [*imports.RECIPIENT_COLUMNS, *imports.DISCLOSURE_COLUMNS]
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.header for c in columns])
    for row in disclosures:
        cells = {**by_slug[row["slug"]], **row}
        writer.writerow([cells.get(c.api, "") for c in columns])
    path.write_bytes(out.getvalue().encode())


def write_xlsx(
    path: Path, recipients: list[dict[str, str]], disclosures: list[dict[str, str]]
) -> None:
    """A Recipients sheet and a Disclosures sheet keyed by slug."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for title, columns, rows in (
        (imports.RECIPIENTS_SHEET, imports.RECIPIENT_COLUMNS, recipients),
        (
            imports.DISCLOSURES_SHEET,
            (imports.SLUG_COLUMN, *imports.DISCLOSURE_COLUMNS),
            disclosures,
        ),
    ):
        sheet = book.create_sheet(title)
        sheet.append([c.header for c in columns])
        for row in rows:
            sheet.append([row.get(c.api) or None for c in columns])
    book.save(path)


# --- floor (a): reading and validating the CSV with plain Python ------------------------------


def floor_read(path: Path) -> tuple[int, int]:
    """Every cell read by the domain's readers and judged by the mutations' checks, the way the
    shortest program would: the csv module, no plan, no report, no database. Returns the rows
    read and the problems found (none, for the generated file)."""
    taxonomy = default_taxonomy()
    today = date.today()
    text = path.read_bytes().decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    by_header = {c.header: c.api for c in (*imports.RECIPIENT_COLUMNS, *imports.DISCLOSURE_COLUMNS)}
    columns = [(i, by_header[h]) for i, h in enumerate(header)]
    seen: set[str] = set()
    rows = problems = 0
    for raw in reader:
        rows += 1
        cells = {api: raw[i].strip() for i, api in columns if raw[i].strip()}
        errors = ErrorCollector()
        slug = cells["slug"]
        if slug not in seen:
            seen.add(slug)
            role = imports.enum_value(ProcessingRole, cells["role"])
            country, _ = imports.country_code(cells["country"])
            assert imports.enum_value(RecipientKind, cells["kind"]) is not None and role
            assert imports.enum_value(RecipientStatus, cells["status"]) is not None
            dpa = cells.get("dpaSignedOn")
            check_new_details(
                errors,
                ["input"],
                today=today,
                name=cells["name"],
                legal_name=cells.get("legalName"),
                description=cells.get("description"),
                country=country,
                services=imports.split_list(cells.get("services")),
                website=cells.get("website"),
                privacy_policy_url=cells.get("privacyPolicyUrl"),
                dpa_signed_on=date.fromisoformat(dpa) if dpa else None,
                corporate_group=cells.get("corporateGroup"),
            )
            if problem := validation.slug_error(slug):
                errors.add(["input", "slug"], problem)
            if problem := subprocessors.missing_engager_error(role, engaged="engagedBy" in cells):
                errors.add(["input", "engagedBy"], problem)
        transfers = []
        for item in imports.split_list(cells.get("transfers")):
            country_text, _, mechanism = item.partition("=")
            code, _ = imports.country_code(country_text.strip())
            found = imports.enum_value(TransferMechanism, mechanism.strip())
            assert code is not None and found is not None
            transfers.append(TransferSpec(code, found))
        legal_basis = imports.enum_value(LegalBasis, cells["legalBasis"])
        ground = imports.enum_value(DisclosureGround, cells["ground"])
        assert legal_basis is not None and ground is not None
        starts, ends = cells.get("effectiveFrom"), cells.get("effectiveTo")
        spec = DisclosureSpec(
            data_categories=imports.split_list(cells.get("dataCategories")),
            subject_types=imports.split_list(cells.get("subjectTypes")),
            purposes=imports.split_list(cells.get("purposes")),
            legal_basis=legal_basis,
            ground=ground,
            retention=cells.get("retention"),
            transfers=transfers,
            effective_from=date.fromisoformat(starts) if starts else None,
            frequency=imports.enum_value(DisclosureFrequency, cells["frequency"])
            or DisclosureFrequency.CONTINUOUS
            if "frequency" in cells
            else DisclosureFrequency.CONTINUOUS,
            special_category_condition=imports.enum_value(
                SpecialCategoryCondition, cells["specialCategoryCondition"]
            )
            if "specialCategoryCondition" in cells
            else None,
            exporter=cells.get("exporter"),
        )
        if ends:
            date.fromisoformat(ends)
        check_disclosure(errors, ["input", "disclosure"], spec, taxonomy)
        problems += len(errors.errors)
    return rows, problems


# --- floor (b): the same rows, inserted with executemany ---------------------------------------


def dump_sqlite(path: Path, after: dict[str, int]) -> dict[str, tuple[list[str], list[Any]]]:
    """The rows the import wrote (ids above `after`'s), read back as the driver gives them."""
    conn = sqlite3.connect(path)
    try:
        out = {}
        for table in WRITTEN_TABLES:
            cursor = conn.execute(f"SELECT * FROM {table} WHERE id > ?", (after[table],))
            out[table] = ([d[0] for d in cursor.description], cursor.fetchall())
        return out
    finally:
        conn.close()


async def dump_postgres(url: str, after: dict[str, int]) -> dict[str, tuple[list[str], list[Any]]]:
    import asyncpg

    conn = await asyncpg.connect(_asyncpg_url(url))
    try:
        out = {}
        for table in WRITTEN_TABLES:
            rows = await conn.fetch(f"SELECT * FROM {table} WHERE id > $1", after[table])
            names = list(rows[0].keys()) if rows else []
            out[table] = (names, [tuple(r) for r in rows])
        return out
    finally:
        await conn.close()


def floor_insert_sqlite(path: Path, rows: dict[str, tuple[list[str], list[Any]]]) -> float:
    """executemany per table in one transaction, with the pragmas the service runs with."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
            conn.execute(f"PRAGMA {pragma}")
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        for table in WRITTEN_TABLES:
            names, values = rows[table]
            if values:
                marks = ", ".join("?" for _ in names)
                conn.executemany(
                    f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", values
                )
        conn.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        conn.close()


async def floor_insert_postgres(url: str, rows: dict[str, tuple[list[str], list[Any]]]) -> float:
    import asyncpg

    conn = await asyncpg.connect(_asyncpg_url(url))
    try:
        started = time.perf_counter()
        async with conn.transaction():
            for table in WRITTEN_TABLES:
                names, values = rows[table]
                if values:
                    marks = ", ".join(f"${i + 1}" for i in range(len(names)))
                    await conn.executemany(
                        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", values
                    )
        return time.perf_counter() - started
    finally:
        await conn.close()


def _asyncpg_url(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


# --- the runs, each a subprocess of its own --------------------------------------------------


class AsTheServerRuns:
    """The timed call runs as the server runs a request (server/app.py, CollectBetweenRequests):
    the objects alive before it frozen, the cyclic collector off during it; the command line's
    import runs so too."""

    def __enter__(self) -> None:
        gc.collect()
        gc.freeze()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        gc.enable()
        gc.unfreeze()


def _rss_mb() -> float:
    """This process's peak resident memory (Linux reports kilobytes)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


async def child_import(url: str, path: Path, format_name: str, dry_run: bool) -> dict[str, Any]:
    from tortoise import Tortoise

    from server.db.config import tortoise_config
    from server.domain.access import Role
    from server.domain.imports import ImportFormat
    from server.services.imports import ImportRequest, import_inventory

    await Tortoise.init(config=tortoise_config(url))
    try:
        with AsTheServerRuns():
            started = time.perf_counter()
            request = ImportRequest(ImportFormat(format_name), path.read_bytes(), dry_run=dry_run)
            report = await import_inventory(request, actor="bench", role=Role.ADMIN)
            seconds = time.perf_counter() - started
    finally:
        await Tortoise.close_connections()
    return {
        "seconds": round(seconds, 3),
        "rss_mb": _rss_mb(),
        "applied": report.applied,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "problems": len(report.problems),
        "first_problems": [p.line() for p in report.problems[:3]],
        "notes": len(report.notes),
    }


def child(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["import", "floor-read", "floor-insert"])
    parser.add_argument("--database-url")
    parser.add_argument("--file")
    parser.add_argument("--format")
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    out: dict[str, Any]
    if args.mode == "import":
        out = asyncio.run(
            child_import(args.database_url, Path(args.file), args.format, args.dry_run)
        )
    elif args.mode == "floor-read":
        with AsTheServerRuns():
            started = time.perf_counter()
            rows, problems = floor_read(Path(args.file))
            out = {"seconds": round(time.perf_counter() - started, 3), "rows": rows}
        out |= {"problems": problems, "rss_mb": _rss_mb()}
    else:
        with open(args.file, "rb") as f:
            rows_by_table = pickle.load(f)
        url = args.database_url
        with AsTheServerRuns():
            if url.startswith("sqlite://"):
                seconds = floor_insert_sqlite(Path(url[len("sqlite://") :]), rows_by_table)
            else:
                seconds = asyncio.run(floor_insert_postgres(url, rows_by_table))
        out = {"seconds": round(seconds, 3), "rss_mb": _rss_mb()}
        out["rows"] = sum(len(v) for _, v in rows_by_table.values())
    print(json.dumps(out))


# Starts each run. Linux gives a process the peak resident memory of the one it was started
# from as its own starting peak (ru_maxrss survives fork and exec): runs started by this bench,
# which holds the generated rows, would all report at least its size. So a launcher, started
# before the bench holds anything and holding nothing itself, starts them.
LAUNCHER = """
import json, subprocess, sys
for line in sys.stdin:
    done = subprocess.run(json.loads(line), capture_output=True, text=True, check=False)
    print(json.dumps([done.returncode, done.stdout, done.stderr]), flush=True)
"""


class Launcher:
    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER],
            cwd=HERE.parent,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, *args: str) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        command = [sys.executable, "-m", "bench.imports", "--child", *args]
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        code, out, err = json.loads(self.process.stdout.readline())
        if code != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{err[-3000:]}")
        result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
        return result

    def import_run(
        self, url: str, path: Path, format_name: str, *, dry_run: bool = False
    ) -> dict[str, Any]:
        """One import of the file, as the command line runs it."""
        dry = ["--dry-run"] if dry_run else []
        args = ["--database-url", url, "--file", str(path), "--format", format_name, *dry]
        return self.run("import", *args)

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


# --- the databases --------------------------------------------------------------------------


async def empty_inventory(url: str) -> None:
    """Migrated, with the organisation's three establishments (US main, UK, IE)."""
    from tortoise import Tortoise
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    from server.db.config import tortoise_config
    from server.domain.establishments import EstablishmentTerms
    from server.domain.regimes import Jurisdiction
    from server.services.establishments import RegisterEstablishment, register_establishment
    from server.services.setup import migrate

    # Tortoise caches prepared SQL by connection name, not dialect (see tests/conftest.py).
    EXECUTOR_CACHE.clear()
    await migrate(url)
    await Tortoise.init(config=tortoise_config(url))
    try:
        for _, slug, name, country, targets, main in ESTABLISHMENTS:
            terms = EstablishmentTerms(
                name=name,
                country=country,
                targets=[Jurisdiction(t) for t in targets.split(",")],
                main=main,
            )
            await register_establishment(RegisterEstablishment(terms, slug=slug), actor="bench")
    finally:
        await Tortoise.close_connections()


async def reset_postgres(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_asyncpg_url(url))
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


class Backend:
    """A fresh empty inventory for each run that writes: a copy of a template file on SQLite,
    a rebuilt schema on PostgreSQL."""

    def __init__(self, name: str, url: str | None, folder: Path) -> None:
        self.name = name
        self.folder = folder
        self.template = folder / f"{name}-template.sqlite3"
        self.url = url or f"sqlite://{folder / f'{name}.sqlite3'}"

    async def fresh(self) -> str:
        if self.name == "postgres":
            await reset_postgres(self.url)
            await empty_inventory(self.url)
            return self.url
        if not self.template.exists():
            await empty_inventory(f"sqlite://{self.template}")
        path = Path(self.url[len("sqlite://") :])
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        shutil.copy(self.template, path)
        return self.url

    async def highest_ids(self) -> dict[str, int]:
        if self.name == "postgres":
            import asyncpg

            conn = await asyncpg.connect(_asyncpg_url(self.url))
            try:
                return {
                    t: await conn.fetchval(f"SELECT coalesce(max(id), 0) FROM {t}")
                    for t in WRITTEN_TABLES
                }
            finally:
                await conn.close()
        with sqlite3.connect(self.url[len("sqlite://") :]) as conn:
            return {
                t: conn.execute(f"SELECT coalesce(max(id), 0) FROM {t}").fetchone()[0]
                for t in WRITTEN_TABLES
            }

    async def dump(self, after: dict[str, int]) -> dict[str, tuple[list[str], list[Any]]]:
        if self.name == "postgres":
            return await dump_postgres(self.url, after)
        return dump_sqlite(Path(self.url[len("sqlite://") :]), after)


async def measure(
    backend: Backend, files: dict[str, Path], repeat: int, launcher: Launcher
) -> dict[str, Any]:
    out: dict[str, Any] = {}

    def best(runs: list[dict[str, Any]]) -> dict[str, Any]:
        chosen = min(runs, key=lambda r: r["seconds"])
        return chosen | {
            "runs": [r["seconds"] for r in runs],
            "rss_mb": max(r["rss_mb"] for r in runs),
        }

    # Floor (a) and the dry runs in alternation, on the same empty inventory.
    url = await backend.fresh()
    floor_a: list[dict[str, Any]] = []
    dry: dict[str, list[dict[str, Any]]] = {"CSV": [], "XLSX": []}
    for _ in range(repeat):
        floor_a.append(launcher.run("floor-read", "--file", str(files["CSV"])))
        for format_name in ("CSV", "XLSX"):
            dry[format_name].append(
                launcher.import_run(url, files[format_name], format_name, dry_run=True)
            )
            print(f"  {backend.name} {format_name} dry run: {dry[format_name][-1]}", flush=True)
    out["floor_read"] = best(floor_a)
    out["csv_dry_run"] = best(dry["CSV"])
    out["xlsx_dry_run"] = best(dry["XLSX"])

    applies: dict[str, list[dict[str, Any]]] = {"CSV": [], "XLSX": []}
    floor_b: list[dict[str, Any]] = []
    again: list[dict[str, Any]] = []
    rows_file = backend.folder / f"{backend.name}-rows.pickle"
    for i in range(repeat):
        for format_name in ("CSV", "XLSX"):
            url = await backend.fresh()
            before = await backend.highest_ids()
            applies[format_name].append(launcher.import_run(url, files[format_name], format_name))
            print(f"  {backend.name} {format_name} apply: {applies[format_name][-1]}", flush=True)
            if format_name == "CSV":
                if i == 0:
                    rows = await backend.dump(before)
                    out["rows_written"] = {t: len(v) for t, (_, v) in rows.items()}
                    with open(rows_file, "wb") as f:
                        pickle.dump(rows, f)
                    del rows
                again.append(launcher.import_run(url, files["CSV"], "CSV"))
                print(f"  {backend.name} CSV again: {again[-1]}", flush=True)
        url = await backend.fresh()
        floor_b.append(
            launcher.run("floor-insert", "--database-url", url, "--file", str(rows_file))
        )
        print(f"  {backend.name} floor (b): {floor_b[-1]}", flush=True)
    out["csv_apply"] = best(applies["CSV"])
    out["xlsx_apply"] = best(applies["XLSX"])
    out["csv_reimport"] = best(again)
    out["floor_insert"] = best(floor_b)
    rows_file.unlink(missing_ok=True)
    a, b = out["floor_read"]["seconds"], out["floor_insert"]["seconds"]
    out["ratios"] = {
        "csv_dry_run_vs_floor_a": round(out["csv_dry_run"]["seconds"] / a, 2),
        "xlsx_dry_run_vs_floor_a": round(out["xlsx_dry_run"]["seconds"] / a, 2),
        "csv_apply_vs_floor_b": round(out["csv_apply"]["seconds"] / b, 2),
        "xlsx_apply_vs_floor_b": round(out["xlsx_apply"]["seconds"] / b, 2),
    }
    out["peak_rss_mb"] = max(
        out[k]["rss_mb"]
        for k in ("csv_dry_run", "xlsx_dry_run", "csv_apply", "xlsx_apply", "csv_reimport")
    )
    return out


def print_table(name: str, r: dict[str, Any]) -> None:
    a, b = r["floor_read"]["seconds"], r["floor_insert"]["seconds"]
    print(f"\n{name}")
    print(f"{'run':36}{'seconds':>9}{'ratio to floor':>22}{'peak RSS':>11}")
    lines = [
        ("floor (a): read + validate the CSV", r["floor_read"], None, ""),
        ("floor (b): executemany, same rows", r["floor_insert"], None, ""),
        ("CSV dry run", r["csv_dry_run"], a, f"(a) <= {TARGET_DRY_RUN:g}"),
        ("XLSX dry run", r["xlsx_dry_run"], a, "(a)"),
        ("CSV apply", r["csv_apply"], b, f"(b) <= {TARGET_APPLY:g}"),
        ("XLSX apply", r["xlsx_apply"], b, "(b)"),
        ("CSV again (changes nothing)", r["csv_reimport"], None, ""),
    ]
    for label, run, floor, target in lines:
        ratio = f"{run['seconds'] / floor:.2f}x {target}" if floor else ""
        print(f"{label:36}{run['seconds']:>8.2f}s{ratio:>22}{run['rss_mb']:>8.0f} MB")
    written = r.get("rows_written", {})
    print(f"  rows written by the apply: {sum(written.values()):,} ({written})")
    ok_dry = r["ratios"]["csv_dry_run_vs_floor_a"] <= TARGET_DRY_RUN
    ok_apply = r["ratios"]["csv_apply_vs_floor_b"] <= TARGET_APPLY
    ok_rss = r["peak_rss_mb"] < TARGET_RSS_MB
    print(
        f"  targets: CSV dry run {'met' if ok_dry else 'NOT met'}, CSV apply "
        f"{'met' if ok_apply else 'NOT met'}, peak RSS {r['peak_rss_mb']:.0f} MB "
        f"{'met' if ok_rss else 'NOT met'} (< {TARGET_RSS_MB} MB)"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=5_000)
    parser.add_argument("--disclosures-per-recipient", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; the best counts")
    parser.add_argument("--postgres", default=os.environ.get("TEST_POSTGRES_URL"))
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    launcher = Launcher()
    folder = Path(tempfile.mkdtemp(prefix="bench-imports-"))
    try:
        recipients, disclosures = generate_rows(args.recipients, args.disclosures_per_recipient)
        files = {"CSV": folder / "inventory.csv", "XLSX": folder / "inventory.xlsx"}
        write_csv(files["CSV"], recipients, disclosures)
        write_xlsx(files["XLSX"], recipients, disclosures)
        shape = {
            "recipients": len(recipients),
            "disclosures": len(disclosures),
            "csv_bytes": files["CSV"].stat().st_size,
            "xlsx_bytes": files["XLSX"].stat().st_size,
        }
        print(f"generated {shape}", flush=True)
        output: dict[str, Any] = {"shape": shape}
        backends = [Backend("sqlite", None, folder)]
        if args.postgres and not args.sqlite_only:
            backends.append(Backend("postgres", args.postgres, folder))
        for backend in backends:
            output[backend.name] = await measure(backend, files, args.repeat, launcher)
            print_table(backend.name, output[backend.name])
            if backend.name == "postgres":
                await reset_postgres(backend.url)
        RESULTS.write_text(orjson.dumps(output, option=orjson.OPT_INDENT_2).decode())
        print(f"\nwrote {RESULTS}")
    finally:
        launcher.close()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
    else:
        asyncio.run(main())
