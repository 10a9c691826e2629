"""Command line: python -m server serve | migrate | load-fixtures [PATH] | export-schema |
keys create|list|revoke|reissue|ensure-local-admin | template | import | export | restore."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TypeVar

from server.db.errors import is_unavailable
from server.db.preflight import DatabaseProblem, Need, check_database, shown_url
from server.logging_setup import configure_logging
from server.settings import Settings, SettingsError

DEFAULT_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
LOCAL_ADMIN_FILE = Path("data/local-admin.key")
LOCAL_ADMIN_NAME = "local-admin"
CLI_ACTOR = "cli"
T = TypeVar("T")


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from server.app import create_app

    host = args.host or settings.host
    port = args.port or settings.port
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        # Our JSON lines (server/logging_setup.py) for uvicorn's loggers too, and our access
        # log (server.access, with request id, key, operation, outcome) instead of uvicorn's.
        log_config=None,
        access_log=False,
        # After SIGTERM, requests in flight get this long; then they are cancelled.
        timeout_graceful_shutdown=settings.graceful_timeout_seconds,  # type: ignore[arg-type]
        proxy_headers=False,
        server_header=False,
    )
    return 0


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from server.services.setup import migrate

    added = asyncio.run(migrate(settings.database_url))
    print(
        f"Migrated {shown_url(settings.database_url)}; taxonomy terms added: "
        + ", ".join(f"{k} {v}" for k, v in added.items())
    )
    return 0


def _load_fixtures(args: argparse.Namespace, settings: Settings) -> int:
    from server.services.fixtures import load_fixtures_into

    report = asyncio.run(
        load_fixtures_into(settings.database_url, Path(args.path), only_if_empty=args.if_empty)
    )
    print(report.summary())
    return 1 if report.errors else 0


def _export_schema(args: argparse.Namespace, settings: Settings) -> int:
    from server.graphql.schema import schema_sdl

    sys.stdout.write(schema_sdl())
    return 0


def _with_database(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    from tortoise import Tortoise

    from server.db.config import tortoise_config

    async def run() -> T:
        await Tortoise.init(
            config=tortoise_config(
                settings.database_url, settings.database_timeout_ms, serving=True
            )
        )
        try:
            return await work()
        finally:
            await Tortoise.close_connections()

    return asyncio.run(run())


def _keys_create(args: argparse.Namespace, settings: Settings) -> int:
    from server.domain.access import Role
    from server.services import keys

    try:
        token = _with_database(
            settings, lambda: keys.create_key(args.name, Role(args.role), actor=CLI_ACTOR)
        )
    except keys.KeyProblem as problem:
        print(problem, file=sys.stderr)
        return 1
    print(token)  # the token and nothing else, for scripts: it is not shown again
    return 0


def _keys_list(args: argparse.Namespace, settings: Settings) -> int:
    from server.services import keys

    found = _with_database(settings, keys.list_keys)

    def moment(value: object) -> str:
        return value.isoformat(timespec="seconds") if value is not None else "-"  # type: ignore[attr-defined]

    rows = [("NAME", "ROLE", "CREATED", "LAST USED", "REVOKED")]
    rows += [
        (k.name, k.role.value, moment(k.created_at), moment(k.last_used_at), moment(k.revoked_at))
        for k in found
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    return 0


def _keys_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from server.services import keys

    try:
        _with_database(settings, lambda: keys.revoke_key(args.name, actor=CLI_ACTOR))
    except keys.KeyProblem as problem:
        print(problem, file=sys.stderr)
        return 1
    print(f"Revoked {args.name}.", file=sys.stderr)
    return 0


def _write_secret(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text + "\n")
    os.chmod(path, 0o600)  # in case the file was there before with wider rights


def _keys_ensure_local_admin(args: argparse.Namespace, settings: Settings) -> int:
    """For `make run`: an admin key for this checkout, kept in data/local-admin.key (0600),
    created when the file is missing or its key is unknown to this database or revoked."""
    from server.domain.access import Role
    from server.services import keys

    path = Path(args.file)

    async def ensure() -> None:
        if path.exists():
            principal = await keys.authenticate(path.read_text().strip())
            if principal is not None and principal.role == Role.ADMIN:
                return
        name = keys.unused_name(LOCAL_ADMIN_NAME, [k.name for k in await keys.list_keys()])
        token = await keys.create_key(name, Role.ADMIN, actor=CLI_ACTOR)
        _write_secret(path, token)
        print(f"Created the admin key {name}; its token is in {path}.", file=sys.stderr)

    _with_database(settings, ensure)
    host = args.host or settings.host
    port = args.port or settings.port
    # The file, not the token: this line lands in terminals, CI logs and scrollback.
    print(
        f"Query console: open http://{host}:{port}/graphql and give it the API key kept in "
        f"{path} (cat {path})"
    )
    return 0


def _global_flags(default: object) -> argparse.ArgumentParser:
    """The flags every command takes, before or after its name: the main parser's default None,
    each subcommand's SUPPRESS, so that a flag given after the name overrides one before it and
    none given leaves it alone."""
    flags = argparse.ArgumentParser(add_help=False)
    flags.add_argument(
        "--database-url",
        default=default,
        help="Overrides DATABASE_URL (default sqlite://data/inventory.sqlite3).",
    )
    return flags


def build_parser() -> argparse.ArgumentParser:
    from server.domain.access import Role

    parser = argparse.ArgumentParser(
        prog="python -m server",
        description="Recipient Inventory: who gets this user's data, and why.",
        parents=[_global_flags(None)],
    )
    common = [_global_flags(argparse.SUPPRESS)]
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve", help="Serve GraphQL over HTTP with uvicorn.", parents=common
    )
    serve.add_argument("--host", help="Overrides HOST (default 127.0.0.1).")
    serve.add_argument("--port", type=int, help="Overrides PORT (default 8000).")
    serve.set_defaults(run=_serve, need=Need.MIGRATED)

    migrate = commands.add_parser(
        "migrate",
        help="Apply the database migrations and install the default taxonomy.",
        parents=common,
    )
    migrate.set_defaults(run=_migrate, need=Need.WRITABLE)

    fixtures = commands.add_parser(
        "load-fixtures",
        help="Load YAML fixtures through the same validation as the API; idempotent.",
        parents=common,
    )
    fixtures.add_argument(
        "path", nargs="?", default=str(DEFAULT_FIXTURES), help="A YAML file or a folder of them."
    )
    fixtures.add_argument(
        "--if-empty", action="store_true", help="Load only into an inventory with no recipients."
    )
    fixtures.set_defaults(run=_load_fixtures, need=Need.MIGRATED)

    export = commands.add_parser(
        "export-schema", help="Print the served schema as SDL.", parents=common
    )
    export.set_defaults(run=_export_schema, need=None)

    keys = commands.add_parser("keys", help="Manage API keys.", parents=common)
    keys.set_defaults(need=Need.MIGRATED)
    key_commands = keys.add_subparsers(dest="keys_command", required=True)
    create = key_commands.add_parser(
        "create",
        help="Create a key and print its token (only the token, shown only once).",
        parents=common,
    )
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--name", required=True, help="Unique; the audit log's actor.")
    create.set_defaults(run=_keys_create)
    listing = key_commands.add_parser(
        "list", help="Name, role, created, last used, revoked (never the token).", parents=common
    )
    listing.set_defaults(run=_keys_list)
    revoke = key_commands.add_parser(
        "revoke", help="Revoke a key; it stops working at once.", parents=common
    )
    revoke.add_argument("name")
    revoke.set_defaults(run=_keys_revoke)
    local = key_commands.add_parser(
        "ensure-local-admin",
        help="For make run: create a local admin key on first start and print a query console hint "
        "naming the file that holds it.",
        parents=common,
    )
    local.add_argument("--file", default=str(LOCAL_ADMIN_FILE), help="Where the token is kept.")
    local.add_argument("--host", help="For the hint (default HOST).")
    local.add_argument("--port", type=int, help="For the hint (default PORT).")
    local.set_defaults(run=_keys_ensure_local_admin)

    # Issue 15 §1: `template FILE` and `import FILE` (server/import_commands.py).
    from server.import_commands import add_commands

    add_commands(commands)
    # Issue 16: `export KIND` (server/export_commands.py; the backup kind streams from
    # server/backup_commands.py), `restore FILE` and `keys reissue NAME`.
    from server import backup_commands, export_commands

    export_commands.add_commands(commands, common, _with_database)
    backup_commands.add_commands(commands, key_commands, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Exit status 2, with one line on stderr, for a setting or a database that cannot be
    used: checked before the command does anything (server/db/preflight.py)."""
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"python -m server: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, quiet_libraries=True)
    if args.database_url:
        settings = dataclasses.replace(settings, database_url=args.database_url)
    if args.need is not None:
        try:
            check_database(settings.database_url, args.need, settings.database_timeout_ms)
        except DatabaseProblem as problem:
            print(f"python -m server: {problem}", file=sys.stderr)
            return 2
    try:
        result: int = args.run(args, settings)
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        # The database went away after the check: say so, without a stack.
        print(
            f"python -m server: DATABASE_URL {shown_url(settings.database_url)}: the database "
            f"stopped answering ({type(exc).__name__}: {str(exc)[:200]})",
            file=sys.stderr,
        )
        return 2
    return result
