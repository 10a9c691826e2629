"""Issue 14 §4: the global flags (`--database-url`) work before or after the command's name,
for every command family; given in both places, the one after the name wins."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE

from server.cli import build_parser, main

# Each command family with the arguments it needs.
FAMILIES = {
    "serve": ["serve", "--port", "8123"],
    "migrate": ["migrate"],
    "load-fixtures": ["load-fixtures", "--if-empty"],
    "export-schema": ["export-schema"],
    "keys create": ["keys", "create", "--role", "viewer", "--name", "flags"],
    "keys list": ["keys", "list"],
    "keys revoke": ["keys", "revoke", "flags"],
    "keys ensure-local-admin": ["keys", "ensure-local-admin"],
}


@pytest.mark.parametrize("family", FAMILIES)
def test_the_flag_is_read_before_or_after_the_command(family: str) -> None:
    args = FAMILIES[family]
    parse = build_parser().parse_args
    assert parse(["--database-url", "sqlite://a", *args]).database_url == "sqlite://a"
    assert parse([*args, "--database-url", "sqlite://b"]).database_url == "sqlite://b"
    both = parse(["--database-url", "sqlite://a", *args, "--database-url", "sqlite://b"])
    assert both.database_url == "sqlite://b"
    assert parse(args).database_url is None


@pytest.mark.parametrize("family", [f for f in FAMILIES if f != "export-schema"])
def test_the_flag_after_the_command_names_the_database_used(
    family: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Proved by where the command looks: a folder that does not exist, named only after."""
    url = f"sqlite://{tmp_path}/after/inventory.sqlite3"
    assert main([*FAMILIES[family], "--database-url", url]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"python -m server: DATABASE_URL {url}: the folder {tmp_path}/after")


def test_migrate_with_the_flag_after(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite://{tmp_path}/inventory.sqlite3"
    assert main(["migrate", "--database-url", url]) == 0
    assert capsys.readouterr().out.startswith(f"Migrated {url}; taxonomy terms added")
    assert main(["--database-url", url, "migrate"]) == 0  # and before: nothing left to add
    assert "dataCategories 0" in capsys.readouterr().out


def test_keys_with_the_flag_on_either_side(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    EXECUTOR_CACHE.clear()  # tortoise caches SQL by connection name, not dialect (conftest)
    name = f"flags-{uuid.uuid4().hex[:8]}"
    assert (
        main(["keys", "create", "--role", "viewer", "--name", name, "--database-url", db_url]) == 0
    )
    token = capsys.readouterr().out.strip()
    assert token.startswith("ri_")
    assert main(["--database-url", db_url, "keys", "list"]) == 0
    assert name in capsys.readouterr().out
    assert main(["keys", "revoke", "--database-url", db_url, name]) == 0
    assert main(["keys", "--database-url", db_url, "list"]) == 0
    [row] = [line for line in capsys.readouterr().out.splitlines() if line.startswith(name)]
    assert row.split()[-1] != "-"  # revoked


def test_export_schema_takes_the_flag_and_needs_no_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite://{tmp_path}/nowhere/inventory.sqlite3"
    assert main(["export-schema", "--database-url", url]) == 0
    assert "type Query" in capsys.readouterr().out
    assert not (tmp_path / "nowhere").exists()


def test_a_password_in_the_url_is_not_printed(capsys: pytest.CaptureFixture[str]) -> None:
    """What the commands print lands in CI logs: the URL without its password."""
    from server.db.preflight import shown_url

    assert shown_url("postgres://app:s3cret@db:5433/inv") == "postgres://app:***@db:5433/inv"
    assert shown_url("postgres://app@db/inv") == "postgres://app@db/inv"
    assert main(["migrate", "--database-url", "mysql://app:s3cret@db/inv"]) == 2
    assert "s3cret" not in capsys.readouterr().err
