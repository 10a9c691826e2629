"""`python -m server export KIND [--format F] [--as-of T] [-o FILE]`: the exports of
`server/services/exports.py` from the command line, the same files GET /exports/ serves. Written
to stdout without -o; a binary file (XLSX) is never written to a terminal."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from server.db.preflight import Need
from server.settings import Settings

# cli.py's: opens the database the settings name, runs the work, closes it.
WithDatabase = Callable[[Settings, Callable[[], Awaitable[Any]]], Any]


def _export(args: argparse.Namespace, settings: Settings, with_database: WithDatabase) -> int:
    from server import backup_commands
    from server.services import exports

    if args.kind == backup_commands.KIND:  # streamed, never whole in memory
        return backup_commands.export_backup(args, settings)

    try:
        export = exports.export_for(args.kind, args.format)
        as_of: datetime | None = None
        if args.as_of is not None:
            if not export.dated:
                raise exports.ExportProblem(
                    f"{export.file_name} answers for no moment: no --as-of."
                )
            as_of = exports.moment_from_text(args.as_of, "--as-of")
    except exports.ExportProblem as problem:
        print(f"python -m server export: {problem}", file=sys.stderr)
        return 2
    if export.binary and args.output is None and sys.stdout.isatty():
        print(
            f"python -m server export: {export.file_name} is a binary file: write it to a file "
            f"with -o FILE (or redirect stdout).",
            file=sys.stderr,
        )
        return 2
    request = exports.ExportRequest.from_settings(settings, as_of)
    content: bytes = with_database(settings, lambda: export.produce(request))
    if args.output is None:
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
        return 0
    try:
        Path(args.output).write_bytes(content)
    except OSError as exc:
        print(f"python -m server export: {args.output}: {exc.strerror}.", file=sys.stderr)
        return 1
    print(f"Wrote {args.output} ({len(content):,} bytes).", file=sys.stderr)
    return 0


def add_commands(
    commands: argparse._SubParsersAction,
    parents: Sequence[argparse.ArgumentParser],
    with_database: WithDatabase,
) -> None:
    """The export command, on the command line's parser."""
    from server import backup_commands
    from server.services import exports

    kinds = [*exports.kinds(), backup_commands.KIND]
    export = commands.add_parser(
        "export",
        help="Write an export (" + ", ".join(kinds) + ") to stdout or a file.",
        parents=list(parents),
    )
    export.add_argument("kind", choices=kinds)
    export.add_argument(
        "--format",
        help="; ".join(f"{k}: {', '.join(exports.formats_of(k))}" for k in exports.kinds())
        + f"; backup: {backup_commands.FORMAT} (default: the first).",
    )
    export.add_argument(
        "--as-of",
        help="The moment it answers for: an ISO 8601 date or date-time (default: now).",
    )
    export.add_argument("-o", "--output", help="Write to FILE instead of stdout.")
    export.set_defaults(
        run=lambda args, settings: _export(args, settings, with_database), need=Need.MIGRATED
    )
