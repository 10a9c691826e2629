"""Issue 14 §1, "fail fast, say why": every command that uses the database checks it first and
stops with exit status 2 and one line on stderr naming DATABASE_URL and the cause, within 10 s,
without a traceback: a URL of another scheme, an unreachable or hanging PostgreSQL, a SQLite
folder that does not exist (not created, except the default data/), a folder or file this
process cannot write (a migrated database in a read-only folder too: SQLite writes its journal
there), a file that is not a database, a database that is not migrated.

Root ignores permission bits, so when the tests run as root the commands run as `nobody`
(setpriv), in folders that user owns.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_URL
from tests.load.harness import free_port

ROOT = Path(__file__).resolve().parent.parent
LIMIT_SECONDS = 10
# Every command that touches the database, each with the arguments it needs.
COMMANDS = {
    "serve": ["serve", "--port", "1"],  # never gets as far as binding
    "migrate": ["migrate"],
    "load-fixtures": ["load-fixtures"],
    "keys create": ["keys", "create", "--role", "viewer", "--name", "startup"],
    "keys list": ["keys", "list"],
    "keys revoke": ["keys", "revoke", "startup"],
    "keys ensure-local-admin": ["keys", "ensure-local-admin", "--file", "/nonexistent/key"],
}
USING_A_MIGRATED_DATABASE = [name for name in COMMANDS if name != "migrate"]
AS_ROOT = os.geteuid() == 0


def unprivileged() -> list[str]:
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] if AS_ROOT else []


def hand_over(path: Path) -> None:
    """Make `path` the unprivileged user's (when running as root)."""
    if AS_ROOT:
        shutil.chown(path, "nobody", "nogroup")


@pytest.fixture
def place() -> Iterator[Path]:
    """A folder of the user the commands run as (pytest's own tmp_path is root's, mode 0700)."""
    folder = Path(tempfile.mkdtemp(prefix="startup-"))
    folder.chmod(0o755)
    hand_over(folder)
    try:
        yield folder
    finally:
        for path in (folder, *folder.rglob("*")):
            if path.is_dir():
                path.chmod(0o755)
        shutil.rmtree(folder)


@pytest.fixture
def migrated(place: Path, sqlite_template: Path) -> Path:
    """A migrated database in `place`, the unprivileged user's."""
    path = place / "inventory.sqlite3"
    shutil.copy(sqlite_template, path)
    hand_over(path)
    return path


class Run:
    def __init__(self, done: subprocess.CompletedProcess[str], seconds: float) -> None:
        self.code = done.returncode
        self.out = done.stdout
        self.err = done.stderr
        self.seconds = seconds


def run(url: str | None, args: list[str], cwd: Path = ROOT) -> Run:
    """`python -m server ARGS` with DATABASE_URL=url (unset for None), as the unprivileged user."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["PYTHONPATH"] = str(ROOT)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if AS_ROOT:
        env["HOME"] = tempfile.gettempdir()  # asyncpg looks in ~/.postgresql: not root's
    if url is not None:
        env["DATABASE_URL"] = url
    started = time.monotonic()
    done = subprocess.run(
        [*unprivileged(), sys.executable, "-m", "server", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return Run(done, time.monotonic() - started)


def assert_refused(result: Run, url: str, *causes: str) -> None:
    assert result.code == 2, (result.code, result.out, result.err)
    assert result.out == ""
    assert result.err.endswith("\n") and result.err.count("\n") == 1, result.err
    assert result.err.startswith(f"python -m server: DATABASE_URL {url}: "), result.err
    for cause in causes:
        assert cause in result.err, result.err
    assert "Traceback" not in result.err
    assert result.seconds < LIMIT_SECONDS, result.seconds


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    ("url", "shown", "cause"),
    [
        ("garbage", "garbage", "it is not a URL; use sqlite://PATH or postgres://"),
        (
            "mysql://app:s3cret@db.internal/inventory",
            "mysql://app:***@db.internal/inventory",
            "its scheme mysql:// is not supported",
        ),
    ],
)
def test_a_url_of_another_kind_is_refused(command: str, url: str, shown: str, cause: str) -> None:
    result = run(url, COMMANDS[command])
    assert_refused(result, shown, cause)
    assert "s3cret" not in result.err


@pytest.mark.parametrize("command", COMMANDS)
def test_postgres_that_refuses_connections_is_refused(command: str) -> None:
    url = f"postgres://inventory:pw@127.0.0.1:{free_port()}/inventory"
    result = run(url, COMMANDS[command])
    shown = url.replace(":pw@", ":***@")
    assert_refused(result, shown, "cannot connect to PostgreSQL at 127.0.0.1:")


def test_postgres_that_never_answers_is_refused_in_time() -> None:
    """A listener whose connections the kernel accepts and nobody answers (a hung server)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        url = f"postgres://inventory@127.0.0.1:{port}/inventory"
        result = run(url, ["serve"])
    assert_refused(result, url, f"PostgreSQL at 127.0.0.1:{port} did not answer within 5 s")


@pytest.mark.skipif(not POSTGRES_URL, reason="needs TEST_POSTGRES_URL")
def test_a_postgres_database_that_does_not_exist_is_refused() -> None:
    assert POSTGRES_URL
    url = POSTGRES_URL.rsplit("/", 1)[0] + "/no_such_inventory"
    assert_refused(run(url, ["migrate"]), url, 'database "no_such_inventory" does not exist')


@pytest.mark.parametrize("command", COMMANDS)
def test_a_sqlite_folder_that_does_not_exist_is_refused_and_not_created(
    command: str, place: Path
) -> None:
    missing = place / "typo" / "data"
    url = f"sqlite://{missing}/inventory.sqlite3"
    result = run(url, COMMANDS[command])
    assert_refused(result, url, f"the folder {missing} does not exist; create it")
    assert not (place / "typo").exists()


def test_only_the_default_folder_is_created(place: Path) -> None:
    """`make run` with no DATABASE_URL: data/ in the working folder, created by migrate; and no
    library noise on the way ("Tortoise-ORM shutdown")."""
    result = run(None, ["migrate"], cwd=place)
    assert result.code == 0, result.err
    assert result.err == ""
    assert result.out.startswith("Migrated sqlite://data/inventory.sqlite3; taxonomy terms added")
    assert (place / "data" / "inventory.sqlite3").is_file()
    keys = run(None, ["keys", "list"], cwd=place)
    assert (keys.code, keys.err, keys.out.split()) == (
        0,
        "",
        ["NAME", "ROLE", "CREATED", "LAST", "USED", "REVOKED"],
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_a_migrated_database_in_a_read_only_folder_is_refused(
    command: str, place: Path, migrated: Path
) -> None:
    """`migrate` hung for good on such a folder, and `serve` answered /readyz once and then
    hung."""
    place.chmod(0o555)
    url = f"sqlite://{migrated}"
    assert_refused(
        run(url, COMMANDS[command]), url, f"the folder {place} is not writable by this process"
    )


@pytest.mark.parametrize("command", ["serve", "migrate", "keys list"])
def test_a_read_only_database_file_is_refused(command: str, place: Path, migrated: Path) -> None:
    migrated.chmod(0o444)
    url = f"sqlite://{migrated}"
    assert_refused(run(url, COMMANDS[command]), url, f"{migrated} is not readable and writable")


@pytest.mark.parametrize("command", USING_A_MIGRATED_DATABASE)
def test_a_database_that_is_not_migrated_is_refused(command: str, place: Path) -> None:
    missing = place / "new.sqlite3"
    url = f"sqlite://{missing}"
    result = run(url, COMMANDS[command])
    assert_refused(result, url, "does not exist; run `python -m server migrate` first")
    assert not missing.exists()


def test_an_empty_or_partly_migrated_database_is_refused_until_migrated(place: Path) -> None:
    path = place / "empty.sqlite3"
    url = f"sqlite://{path}"
    path.touch()
    hand_over(path)
    assert_refused(
        run(url, ["serve"]), url, "the database is not migrated; run `python -m server migrate`"
    )
    assert run(url, ["migrate"]).code == 0
    with __import__("sqlite3").connect(path) as connection:
        connection.execute("DELETE FROM tortoise_migrations WHERE name = '0009_transfer_regimes'")
    assert_refused(
        run(url, ["keys", "list"]),
        url,
        "1 migration(s) not applied (first: 0009_transfer_regimes); run `python -m server migrate`",
    )


def test_a_file_that_is_not_a_database_is_refused(place: Path) -> None:
    path = place / "notes.sqlite3"
    path.write_text("not a database\n" * 100)
    hand_over(path)
    url = f"sqlite://{path}"
    for command in ("migrate", "serve"):
        assert_refused(run(url, COMMANDS[command]), url, "file is not a database")
