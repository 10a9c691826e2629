"""`python -m server template FILE.xlsx|FILE.csv` and `python -m server import FILE`: the
spreadsheet import from the command line, through the same service as importInventory, printing
the same report (each problem as `sheet:row column value: message`)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
from pathlib import Path

from server.db.preflight import Need
from server.settings import Settings

# The audit log's actor for an import from the command line (a name no key may take).
CLI_ACTOR = "cli"
EXTENSIONS = {".csv": "CSV", ".xlsx": "XLSX", ".yml": "FIDES_YAML", ".yaml": "FIDES_YAML"}


def _template(args: argparse.Namespace, settings: Settings) -> int:
    from server.services.import_files import UnreadableFile, template_for

    path = Path(args.file)
    try:
        content = template_for(path.name)
    except UnreadableFile as exc:
        print(exc, file=sys.stderr)
        return 2
    path.write_bytes(content)
    print(f"Wrote the template {path}.", file=sys.stderr)
    return 0


def _format_of(path: Path, given: str | None) -> str | None:
    if given:
        return given.upper()
    if path.suffix.lower() == ".json":
        return "IAB_GVL"
    return EXTENSIONS.get(path.suffix.lower())


def _import(args: argparse.Namespace, settings: Settings) -> int:
    from tortoise import Tortoise

    from server.db.config import tortoise_config
    from server.domain.access import Role
    from server.domain.imports import ImportFormat, ImportReport
    from server.services.imports import ImportRequest, import_inventory

    path = Path(args.file)
    format_text = _format_of(path, args.format)
    formats = ", ".join(f.value for f in ImportFormat)
    if format_text not in {f.value for f in ImportFormat}:
        print(f"{path}: say which format with --format ({formats}).", file=sys.stderr)
        return 2
    try:
        content = path.read_bytes()
    except OSError as exc:
        print(f"{path}: {exc.strerror}.", file=sys.stderr)
        return 2
    vendor_ids = None
    if args.vendor_ids:
        try:
            vendor_ids = [int(v) for v in args.vendor_ids.split(",") if v.strip()]
        except ValueError:
            print("--vendor-ids is a list of numbers: 1,2,4.", file=sys.stderr)
            return 2
    request = ImportRequest(
        format=ImportFormat(format_text),
        content=content,
        dry_run=args.dry_run,
        vendor_ids=vendor_ids,
        default_country=args.default_country,
    )

    async def run() -> ImportReport:
        await Tortoise.init(
            config=tortoise_config(settings.database_url, settings.database_timeout_ms)
        )
        # As the server runs a request (server/app.py, CollectBetweenRequests): the cyclic
        # collector off while the file's tens of thousands of rows are alive, which it would
        # traverse again and again (a third of the import's time).
        gc.freeze()
        gc.disable()
        try:
            # Whoever runs the command holds the database: an admin's import (any status).
            return await import_inventory(request, actor=CLI_ACTOR, role=Role.ADMIN)
        finally:
            gc.enable()
            gc.unfreeze()
            await Tortoise.close_connections()

    report = asyncio.run(run())
    for note in report.listed_notes():
        print(f"note: {note.line()}")
    for problem in report.listed_problems():
        print(problem.line())
    print(report.summary())
    return 1 if report.problems else 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    """The template and import commands, on the command line's parser."""
    template = commands.add_parser(
        "template",
        help="Write an empty import template (a header, one example row; XLSX explains each "
        "column and its allowed values).",
    )
    template.add_argument("file", help="FILE.xlsx or FILE.csv")
    template.set_defaults(run=_template, need=None)
    imported = commands.add_parser(
        "import",
        help="Import recipients and disclosures from a file, all or nothing; exit 1 on problems.",
    )
    imported.add_argument("file")
    imported.add_argument(
        "--format", help="CSV, XLSX, FIDES_YAML or IAB_GVL (default: from the file's extension)."
    )
    imported.add_argument("--dry-run", action="store_true", help="Report, write nothing.")
    imported.add_argument("--vendor-ids", help="For IAB_GVL: the vendors' ids, 1,2,4.")
    imported.add_argument(
        "--default-country", help="For FIDES_YAML and IAB_GVL: new recipients' country."
    )
    imported.set_defaults(run=_import, need=Need.MIGRATED)
