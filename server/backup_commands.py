"""`python -m server export backup [-o FILE]`, `python -m server restore FILE` and
`python -m server keys reissue NAME` (which a restored key waits for): the backup of issue 16
§4 from the command line. The format is docs/backup.md; the rules server/domain/backup.py.

A refusal is one line on stderr and exit status 2, nothing written: a missing file, a file that
is not a backup, another format version or schema, a database that is not empty."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import IO, TypeVar

from server.db.preflight import Need
from server.settings import Settings

# The audit log's actor for what the command line does (a name no key may take).
CLI_ACTOR = "cli"
# `export backup`: the kind's name and its one format.
KIND = "backup"
FORMAT = "jsonl"
# A backup's first line is its header, a few hundred bytes: a file whose first line is longer
# than this is not a backup, and is not read whole to find out.
HEADER_LIMIT = 64 * 1024
WRITE_BUFFER = 1 << 20
T = TypeVar("T")


def _say(problem: str) -> int:
    print(f"python -m server: {problem}", file=sys.stderr)
    return 2


def _in_database(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    """Run `work` with tortoise open on the settings' database; statements unbounded, as for
    migrations: a backup's reads and a restore's writes may be long."""
    from tortoise import Tortoise

    from server.db.config import tortoise_config

    async def run() -> T:
        await Tortoise.init(
            config=tortoise_config(settings.database_url, settings.database_timeout_ms)
        )
        try:
            return await work()
        finally:
            await Tortoise.close_connections()

    return asyncio.run(run())


class _WriteFailed(Exception):
    """The backup's output could not be written (a full disk, a closed pipe)."""


def export_backup(args: argparse.Namespace, settings: Settings) -> int:
    """`export backup [-o FILE]`, the kind of `export` (server/export_commands.py) that streams:
    one JSON Lines format, for no moment but now."""
    if args.format is not None and args.format.lower() != FORMAT:
        return _say(f"export: a backup is written as {FORMAT}, not {args.format!r}")
    if args.as_of is not None:
        return _say("export: a backup holds every moment: no --as-of")
    if not args.output:
        return _backed_up(settings, sys.stdout.buffer, "standard output")
    target = Path(args.output)
    # Into a sibling first, renamed when complete: FILE is never a backup cut short.
    partial = target.with_name(f".{target.name}.partial")
    try:
        # Readable by its owner only: a backup holds personal data (Art. 32).
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(descriptor, "wb", buffering=WRITE_BUFFER) as out:
            status = _backed_up(settings, out, str(target))
        if status == 0:
            os.replace(partial, target)
    except OSError as exc:
        return _say(f"{target}: {exc.strerror or exc}")
    finally:
        partial.unlink(missing_ok=True)
    return status


def _backed_up(settings: Settings, out: IO[bytes], where: str) -> int:
    from server.domain.backup import BackupDesignError, BackupRefused
    from server.services.backup import write_backup

    def write(chunk: bytes) -> None:
        try:
            out.write(chunk)
        except OSError as exc:
            raise _WriteFailed(exc.strerror or str(exc)) from exc

    try:
        summary = _in_database(settings, lambda: write_backup(write))
        out.flush()
    except _WriteFailed as exc:
        return _say(f"{where}: {exc}")
    except (BackupRefused, BackupDesignError) as exc:
        return _say(f"cannot back up: {exc}")
    print(summary.line(), file=sys.stderr)
    return 0


def _lines(file: IO[bytes]) -> Iterator[bytes]:
    """The file's lines, the first one read within HEADER_LIMIT."""
    first = file.readline(HEADER_LIMIT)
    return itertools.chain([first], file)


def _restore(args: argparse.Namespace, settings: Settings) -> int:
    from server.domain.backup import BackupDesignError, BackupRefused
    from server.services.backup import restore_backup

    name = args.file
    try:
        file: IO[bytes] = sys.stdin.buffer if name == "-" else open(name, "rb")  # noqa: SIM115
    except OSError as exc:
        return _say(f"{name}: {exc.strerror}")
    with contextlib.closing(file) if name != "-" else contextlib.nullcontext(file):
        try:
            summary = _in_database(settings, lambda: restore_backup(_lines(file), actor=CLI_ACTOR))
        except (BackupRefused, BackupDesignError) as exc:
            return _say(f"{name}: {exc}; nothing was restored")
        except OSError as exc:
            return _say(f"{name}: {exc.strerror or exc}; nothing was restored")
    for line in summary.lines():
        print(line)
    return 0


def _keys_reissue(args: argparse.Namespace, settings: Settings) -> int:
    from server.services import keys

    try:
        token = _in_database(settings, lambda: keys.reissue_key(args.name, actor=CLI_ACTOR))
    except keys.KeyProblem as problem:
        print(problem, file=sys.stderr)
        return 1
    print(token)  # the token and nothing else, for scripts: it is not shown again
    return 0


def add_commands(
    commands: argparse._SubParsersAction,
    key_commands: argparse._SubParsersAction,
    common: list[argparse.ArgumentParser],
) -> None:
    """`restore FILE` on the command line's parser, and `reissue NAME` under `keys`."""
    restore = commands.add_parser(
        "restore",
        help="Restore a backup into an empty, migrated database (its keys may stay), in one "
        "transaction; restored keys wait for `keys reissue`.",
        parents=common,
    )
    restore.add_argument("file", help="A file written by `export backup`, or - for stdin.")
    restore.set_defaults(run=_restore, need=Need.MIGRATED)
    reissue = key_commands.add_parser(
        "reissue",
        help="Give a key a new token and print it (shown only once); the old one stops "
        "working. Restored keys need one.",
        parents=common,
    )
    reissue.add_argument("name")
    reissue.set_defaults(run=_keys_reissue)
