"""Issue 14, "a documented way to create the first admin key": ADMIN_TOKEN_FILE names a file
(a mounted secret) whose token becomes an admin key at start-up, once, audited; a weak or
unreadable token stops start-up with a message naming the setting."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import httpx
import pytest

from server.app import create_app
from server.db.models import ApiKey, AuditEvent
from server.domain.access import Role
from server.services import keys
from server.settings import Settings, SettingsError


def token_file(tmp_path: Path, token: str, name: str = "admin-token") -> Path:
    path = tmp_path / name
    path.write_text(token + "\n")
    return path


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("ri_short", "the token is 8 characters; it needs at least 32"),
        ("a" * 40, "the token repeats itself: 1 different characters"),
        ("12345678901234567890123456789012", "the token repeats itself: 10 different"),
        ("x" * 201, "the token is 201 characters; at most 200"),
        ("correct horse battery staple and more words", "only letters, digits"),
        ("", "is empty"),
    ],
)
def test_a_weak_token_is_refused_at_start_up(tmp_path: Path, token: str, message: str) -> None:
    path = token_file(tmp_path, token)
    with pytest.raises(SettingsError, match=message) as refused:
        Settings.from_env({"ADMIN_TOKEN_FILE": str(path)})
    assert str(refused.value).startswith(f"ADMIN_TOKEN_FILE '{path}'")
    if len(token) > 3:
        assert token not in str(refused.value)


def test_a_missing_or_unreadable_token_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"ADMIN_TOKEN_FILE '.*nowhere' does not exist"):
        Settings.from_env({"ADMIN_TOKEN_FILE": str(tmp_path / "nowhere")})
    with pytest.raises(SettingsError, match="is a folder, not a file"):
        Settings.from_env({"ADMIN_TOKEN_FILE": str(tmp_path)})


def test_a_good_token_file_is_accepted(tmp_path: Path) -> None:
    path = token_file(tmp_path, secrets.token_urlsafe(32))
    assert Settings.from_env({"ADMIN_TOKEN_FILE": str(path)}).admin_token_file == str(path)
    assert Settings.from_env({}).admin_token_file is None


async def test_the_token_becomes_an_admin_key_once_audited(db: str, tmp_path: Path) -> None:
    token = secrets.token_urlsafe(32)
    path = token_file(tmp_path, token)
    assert await keys.ensure_admin_from_file(str(path)) == keys.BOOTSTRAP_ADMIN_NAME
    principal = await keys.authenticate(token)
    assert principal is not None
    assert (principal.name, principal.role) == ("bootstrap-admin", Role.ADMIN)
    # Every later start finds it.
    assert await keys.ensure_admin_from_file(str(path)) is None
    assert await ApiKey.filter(name__startswith="bootstrap-admin").count() == 1
    [event] = await AuditEvent.filter(action="createApiKey")
    assert (event.actor, event.entity_type) == ("system", "ApiKey")
    # Only the hash is stored.
    assert not await ApiKey.filter(token_hash=token).exists()


async def test_a_revoked_bootstrap_key_is_not_created_again(db: str, tmp_path: Path) -> None:
    token = secrets.token_urlsafe(32)
    path = token_file(tmp_path, token)
    await keys.ensure_admin_from_file(str(path))
    await keys.revoke_key("bootstrap-admin", actor="cli")
    assert await keys.ensure_admin_from_file(str(path)) is None
    assert await keys.authenticate(token) is None
    # A new token in the file (the secret rotated) gets a key of its own, under a free name.
    token_file(tmp_path, secrets.token_urlsafe(32))
    assert await keys.ensure_admin_from_file(str(path)) == "bootstrap-admin-2"


async def test_replicas_starting_together_create_one_key(db: str, tmp_path: Path) -> None:
    path = token_file(tmp_path, secrets.token_urlsafe(32))
    created = await asyncio.gather(*(keys.ensure_admin_from_file(str(path)) for _ in range(4)))
    assert [name for name in created if name] == ["bootstrap-admin"]
    assert await ApiKey.all().count() == 1


async def test_a_token_file_spoiled_after_start_up_is_a_key_problem(
    db: str, tmp_path: Path
) -> None:
    path = token_file(tmp_path, "too-short")
    with pytest.raises(keys.KeyProblem, match=r"ADMIN_TOKEN_FILE .* it needs at least 32"):
        await keys.ensure_admin_from_file(str(path))
    assert await ApiKey.all().count() == 0


async def test_the_app_creates_the_key_when_it_starts(tmp_path: Path) -> None:
    """Through the lifespan, as `serve` runs it (the container test runs it in a process)."""
    token = secrets.token_urlsafe(32)
    url = f"sqlite://{tmp_path / 'start.sqlite3'}"
    from server.services.setup import migrate

    await migrate(url)
    app = create_app(Settings(database_url=url, admin_token_file=str(token_file(tmp_path, token))))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.post(
                "/graphql",
                json={"query": "{ recipients { totalCount } }"},
                headers={"Authorization": f"Bearer {token}"},
            )
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"recipients": {"totalCount": 0}}
