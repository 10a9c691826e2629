"""Command line: python -m server serve | migrate | load-fixtures [PATH] | export-schema."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path

from server.logging_setup import configure_logging
from server.settings import Settings, SettingsError

DEFAULT_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


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
        proxy_headers=False,
        server_header=False,
    )
    return 0


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from server.db.setup import migrate

    added = asyncio.run(migrate(settings.database_url))
    print(
        f"Migrated {settings.database_url}; taxonomy terms added: "
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m server",
        description="Recipient Inventory: who gets this user's data, and why.",
    )
    parser.add_argument(
        "--database-url", help="Overrides DATABASE_URL (default sqlite://data/inventory.sqlite3)."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="Serve GraphQL over HTTP with uvicorn.")
    serve.add_argument("--host", help="Overrides HOST (default 127.0.0.1).")
    serve.add_argument("--port", type=int, help="Overrides PORT (default 8000).")
    serve.set_defaults(run=_serve)

    migrate = commands.add_parser(
        "migrate", help="Apply the database migrations and install the default taxonomy."
    )
    migrate.set_defaults(run=_migrate)

    fixtures = commands.add_parser(
        "load-fixtures",
        help="Load YAML fixtures through the same validation as the API; idempotent.",
    )
    fixtures.add_argument(
        "path", nargs="?", default=str(DEFAULT_FIXTURES), help="A YAML file or a folder of them."
    )
    fixtures.add_argument(
        "--if-empty", action="store_true", help="Load only into an inventory with no recipients."
    )
    fixtures.set_defaults(run=_load_fixtures)

    export = commands.add_parser("export-schema", help="Print the served schema as SDL.")
    export.set_defaults(run=_export_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"python -m server: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    if args.database_url:
        settings = dataclasses.replace(settings, database_url=args.database_url)
    result: int = args.run(args, settings)
    return result
