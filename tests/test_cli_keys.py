"""`python -m server keys ...`: create prints only the token, list never shows one, revoke
stops a key, and ensure-local-admin (for `make run`) keeps one admin key in a 0600 file."""

from __future__ import annotations

import asyncio
import os
import re
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE

from server.cli import LOCAL_ADMIN_FILE, main
from server.db.config import tortoise_config
from server.db.models import ApiKey
from server.domain.access import Principal, Role
from server.services import keys
from tests.load.harness import free_port

ROOT = Path(__file__).resolve().parent.parent
CREATE = ("keys", "create", "--role", "viewer")
TOKEN = re.compile(r"ri_[A-Za-z0-9_-]{43,}")


@pytest.fixture
def url(db_url: str) -> str:
    # Tortoise caches prepared SQL by connection name, not dialect (see conftest's `db`).
    EXECUTOR_CACHE.clear()
    return db_url


def unique(prefix: str) -> str:
    """PostgreSQL keeps keys between these tests (they do not empty the database)."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def run(url: str, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["--database-url", url, *args])
    out, err = capsys.readouterr()
    return code, out, err


def authenticate(url: str, token: str) -> Principal | None:
    async def check() -> Principal | None:
        await Tortoise.init(config=tortoise_config(url))
        try:
            return await keys.authenticate(token)
        finally:
            await Tortoise.close_connections()

    return asyncio.run(check())


async def forget_local_admins(url: str) -> None:
    await Tortoise.init(config=tortoise_config(url))
    try:
        await ApiKey.filter(name__startswith="local-admin").delete()
    finally:
        await Tortoise.close_connections()


def test_create_prints_only_the_token(url: str) -> None:
    """As a separate process, the way scripts call it: stdout is the token and a newline."""
    name = unique("ci")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "server", "--database-url", url, *CREATE, "--name", name],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert TOKEN.fullmatch(done.stdout.rstrip("\n")), done.stdout
    assert done.stdout.count("\n") == 1
    assert authenticate(url, done.stdout.strip()) == Principal(name, Role.VIEWER)


def test_list_and_revoke(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    dash, dpo = unique("dash"), unique("dpo")
    code, dash_token, _ = run(
        url, "keys", "create", "--role", "viewer", "--name", dash, capsys=capsys
    )
    assert code == 0
    code, dpo_token, _ = run(
        url, "keys", "create", "--role", "privacy", "--name", dpo, capsys=capsys
    )
    assert code == 0
    dash_token, dpo_token = dash_token.strip(), dpo_token.strip()
    assert authenticate(url, dpo_token) == Principal(dpo, Role.PRIVACY)

    code, listing, _ = run(url, "keys", "list", capsys=capsys)
    assert code == 0
    lines = listing.splitlines()
    assert lines[0].split() == ["NAME", "ROLE", "CREATED", "LAST", "USED", "REVOKED"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows[dash][1] == "viewer" and rows[dash][3:] == ["-", "-"]
    assert rows[dpo][1] == "privacy" and rows[dpo][3] != "-" and rows[dpo][4] == "-"
    for secret in (dash_token, dpo_token, keys.token_hash(dash_token)):
        assert secret not in listing
    assert "ri_" not in listing

    code, out, err = run(url, "keys", "revoke", dpo, capsys=capsys)
    assert (code, out) == (0, "")
    assert dpo in err
    assert authenticate(url, dpo_token) is None
    assert authenticate(url, dash_token) == Principal(dash, Role.VIEWER)
    code, listing, _ = run(url, "keys", "list", capsys=capsys)
    rows = {line.split()[0]: line.split() for line in listing.splitlines()[1:]}
    assert rows[dpo][-1] != "-"

    code, out, err = run(url, "keys", "revoke", dpo, capsys=capsys)
    assert (code, out) == (1, "") and "already revoked" in err
    code, out, err = run(url, "keys", "create", "--role", "admin", "--name", dpo, capsys=capsys)
    assert (code, out) == (1, "") and "already exists" in err


def test_create_refuses_an_unknown_role(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--database-url", url, "keys", "create", "--role", "root", "--name", unique("x")])
    assert capsys.readouterr().out == ""


def test_ensure_local_admin(url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # PostgreSQL keeps keys between these tests: start without any local-admin key.
    asyncio.run(forget_local_admins(url))
    path = tmp_path / "data" / "local-admin.key"
    args = ["keys", "ensure-local-admin", "--file", str(path), "--port", "8123"]

    code, out, err = run(url, *args, capsys=capsys)
    assert code == 0
    token = path.read_text().strip()
    assert TOKEN.fullmatch(token)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # The hint names the file, never the token: `make run` prints it on every start.
    assert out == (
        "Query console: open http://127.0.0.1:8123/graphql and give it the API key kept in "
        f"{path} (cat {path})\n"
    )
    assert err == f"Created the admin key local-admin; its token is in {path}.\n"
    assert authenticate(url, token) == Principal("local-admin", Role.ADMIN)

    # Every start prints the hint again, with the same key.
    code, again, _ = run(url, *args, capsys=capsys)
    assert (code, again) == (0, out)
    assert path.read_text().strip() == token

    # A revoked (or unknown) key is replaced, under a new name.
    assert run(url, "keys", "revoke", "local-admin", capsys=capsys)[0] == 0
    code, out, _ = run(url, *args, capsys=capsys)
    assert code == 0
    replaced = path.read_text().strip()
    assert replaced != token and replaced not in out and str(path) in out
    assert authenticate(url, replaced) == Principal("local-admin-2", Role.ADMIN)


def test_make_run_prints_no_token_and_no_library_noise(tmp_path: Path) -> None:
    """`make run`'s steps as it runs them (the default DATABASE_URL, in a fresh checkout's
    folder): the token is in data/local-admin.key (0600) and nowhere in what they print, the
    server's log included, and no library's INFO lines ("Tortoise-ORM shutdown") are there."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["PYTHONPATH"] = str(ROOT)
    port = free_port()
    output: list[str] = []
    for args in (
        ["migrate"],
        ["keys", "ensure-local-admin", "--port", str(port)],
        ["keys", "ensure-local-admin", "--port", str(port)],  # every start prints the hint
    ):
        done = subprocess.run(
            [sys.executable, "-m", "server", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        output += [done.stdout, done.stderr]
    key_file = tmp_path / "data" / "local-admin.key"
    token = key_file.read_text().strip()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert f"its token is in {LOCAL_ADMIN_FILE}" in output[3]
    assert output[-2].count(str(LOCAL_ADMIN_FILE)) == 2  # the hint, twice: the file, not the key
    log = tmp_path / "server.log"
    with log.open("w") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=sink,
            stderr=sink,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, log.read_text()
            time.sleep(0.1)
        answer = httpx.post(
            f"http://127.0.0.1:{port}/graphql",
            json={"query": "{ recipients { totalCount } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 200, answer.text
    finally:
        server.terminate()
        server.wait(timeout=30)
    output.append(log.read_text())
    everything = "\n".join(output)
    assert token not in everything
    assert token[:12] not in everything
    assert "Tortoise-ORM" not in everything
    assert '"logger":"server.access"' in everything  # the server's own lines stay
