"""API keys: create, list, revoke, and authenticate a request's bearer token.

A token is `ri_` and 32 random bytes (256 bits, URL-safe base64). Only its sha256 is stored:
a token that random needs no slow password hash, since there is nothing to guess. A request's
token is looked up by its hash (one indexed query, every request, so a revocation counts at
once) and the stored hash is compared in constant time as well.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.db import sql
from server.db.models import ApiKey
from server.domain.access import Principal, Role
from server.services import audit, clock
from server.settings import SettingsError, read_admin_token

log = logging.getLogger("server.keys")

TOKEN_PREFIX = "ri_"
TOKEN_BYTES = 32
# Longer than any token we issue: anything longer is refused before hashing.
TOKEN_MAX = 200
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
# last_used_at is written at most this often per key: a write per request would cost time and,
# on SQLite, contend with the inventory's own writes.
TOUCH_INTERVAL = timedelta(seconds=60)
_touched: dict[str, float] = {}  # token hash -> monotonic time of the last write


class KeyProblem(Exception):
    """A key command that cannot be done, with the reason for the person who asked."""


@dataclass(frozen=True)
class KeyInfo:
    name: str
    role: Role
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


# The names the service itself writes as the audit log's actor: a key must not pose as one.
SYSTEM_ACTORS = frozenset({"cli", "fixtures", "anonymous", "system"})
# The key ADMIN_TOKEN_FILE creates (bootstrap-admin-2, … when the name is taken), by this actor.
BOOTSTRAP_ADMIN_NAME = "bootstrap-admin"
BOOTSTRAP_ACTOR = "system"


def name_error(name: str) -> str | None:
    if NAME_PATTERN.fullmatch(name) is None:
        return (
            f"Key names are 1-64 letters, digits and . _ @ - (starting with a letter or digit); "
            f"got {name[:80]!r}."
        )
    if name.casefold() in SYSTEM_ACTORS:
        return f"{name} is a name the service uses for itself in the audit log; choose another."
    return None


def unused_name(name: str, taken: Collection[str]) -> str:
    """`name`, or the first of name-2, name-3, … that no key has in any case: names are unique
    ignoring case, so that the audit log's actors cannot be told apart by case."""
    folded = {t.casefold() for t in taken}
    found, n = name, 1
    while found.casefold() in folded:
        n += 1
        found = f"{name}-{n}"
    return found


async def create_key(name: str, role: Role, *, actor: str) -> str:
    """Store a new key and return its token: the only time the token is ever seen."""
    if problem := name_error(name):
        raise KeyProblem(problem)
    token = new_token()
    await _store_key(name, role, token_hash(token), actor=actor)
    return token


async def _store_key(name: str, role: Role, digest: str, *, actor: str) -> None:
    at = clock.now()
    taken = (
        f"A key named {name} already exists, in this or another case (names of revoked keys "
        "are not reused)."
    )
    async with in_transaction() as conn:
        # Unique ignoring case, so that the audit log's actors cannot be told apart by case.
        if await ApiKey.filter(name__iexact=name).using_db(conn).exists():
            raise KeyProblem(taken)
        try:
            key = await ApiKey.create(
                name=name, role=role, token_hash=digest, created_at=at, using_db=conn
            )
        except IntegrityError as exc:
            raise KeyProblem(taken) from exc
        await audit.record(
            connection=conn,
            at=at,
            actor=actor,
            action="createApiKey",
            entity_type="ApiKey",
            entity_id=key.id,
            recipient_id=None,
            changes={"name": [None, name], "role": [None, role.value]},
        )


async def ensure_admin_from_file(path: str) -> str | None:
    """The first admin key of a deployment, from a token an operator put in a file (a mounted
    secret, ADMIN_TOKEN_FILE), so that a new container answers something besides 401. Creates
    an admin key with that token's hash, audited, unless a key already has it: returns the new
    key's name, else None. A key once revoked is not created again, though the file stays
    mounted: revoking it is for good. Replicas starting together may all call it: one creates
    the key, the others find it (the hash is unique)."""
    try:
        token = read_admin_token(path)
    except SettingsError as exc:
        raise KeyProblem(str(exc)) from None
    digest = token_hash(token)
    for _ in range(3):
        existing = await ApiKey.filter(token_hash=digest).first()
        if existing is not None:
            if existing.revoked_at is not None:
                log.info(
                    "the key %s of ADMIN_TOKEN_FILE was revoked: not created again", existing.name
                )
            return None
        names = await ApiKey.all().values_list("name", flat=True)
        name = unused_name(BOOTSTRAP_ADMIN_NAME, [str(n) for n in names])
        try:
            await _store_key(name, Role.ADMIN, digest, actor=BOOTSTRAP_ACTOR)
        except (KeyProblem, IntegrityError):
            continue  # another replica stored it (or took the name) first: look again
        log.info("created the admin key %s from ADMIN_TOKEN_FILE %s", name, path)
        return name
    raise KeyProblem(f"Could not create the admin key of ADMIN_TOKEN_FILE {path!r}.")


async def list_keys() -> list[KeyInfo]:
    keys = await ApiKey.all().order_by("name")
    return [
        KeyInfo(
            name=k.name,
            role=Role(k.role),
            created_at=k.created_at,
            last_used_at=k.last_used_at,
            revoked_at=k.revoked_at,
        )
        for k in keys
    ]


async def revoke_key(name: str, *, actor: str) -> None:
    """Revoke a key: the next request with its token is refused."""
    at = clock.now()
    async with in_transaction() as conn:
        key = await ApiKey.filter(name=name).using_db(conn).first()
        if key is None:
            raise KeyProblem(f"No key named {name[:80]}.")
        if key.revoked_at is not None:
            raise KeyProblem(f"The key {name} was already revoked at {key.revoked_at.isoformat()}.")
        updated = (
            await ApiKey.filter(id=key.id, revoked_at=None).using_db(conn).update(revoked_at=at)
        )
        if updated != 1:
            raise KeyProblem(f"The key {name} was already revoked.")
        await audit.record(
            connection=conn,
            at=at,
            actor=actor,
            action="revokeApiKey",
            entity_type="ApiKey",
            entity_id=key.id,
            recipient_id=None,
            changes={"revokedAt": [None, at.isoformat()]},
        )


async def reissue_key(name: str, *, actor: str) -> str:
    """Give a key a new token and return it, once: the old token stops working at once. For a
    key restored from a backup (which came back without a token) or one whose token leaked,
    so that the key goes on under its name, the audit log's actor, with its role."""
    at = clock.now()
    token = new_token()
    async with in_transaction() as conn:
        key = await ApiKey.filter(name=name).using_db(conn).first()
        if key is None:
            raise KeyProblem(f"No key named {name[:80]}.")
        if key.revoked_at is not None:
            raise KeyProblem(
                f"The key {name} was revoked at {key.revoked_at.isoformat()}; create a new one."
            )
        await ApiKey.filter(id=key.id).using_db(conn).update(token_hash=token_hash(token))
        await audit.record(
            connection=conn,
            at=at,
            actor=actor,
            action="reissueApiKey",
            entity_type="ApiKey",
            entity_id=key.id,
            recipient_id=None,
            changes={"token": [None, "reissued"]},
        )
    return token


async def authenticate(token: str, digest: str | None = None) -> Principal | None:
    """The key a bearer token belongs to, if it is known and not revoked; else None. `digest`
    is the token's hash when the caller has computed it already."""
    if not token or len(token) > TOKEN_MAX:
        return None
    digest = digest or token_hash(token)
    conn = sql.connection()
    st = sql.Statement(conn)
    rows = list(
        await sql.fetch(
            conn,
            st,
            "SELECT id, name, role, token_hash, last_used_at FROM api_key "
            f"WHERE token_hash = {st.param(digest)} AND revoked_at IS NULL",
        )
    )
    if not rows:
        return None
    key_id, name, role, stored, last_used = rows[0]
    if not hmac.compare_digest(str(stored), digest):
        return None
    await _touch(key_id, digest, sql.to_datetime(last_used))
    return Principal(name=name, role=Role(role))


async def _touch(key_id: int, digest: str, last_used: datetime | None) -> None:
    moment = time.monotonic()
    if moment - _touched.get(digest, float("-inf")) < TOUCH_INTERVAL.total_seconds():
        return
    _touched[digest] = moment
    at = clock.now()
    if last_used is not None and at - last_used < TOUCH_INTERVAL:
        return  # another process wrote it lately
    conn = sql.connection()
    st = sql.Statement(conn)
    try:
        # Skipped while another process writes (tried again after TOUCH_INTERVAL): waiting
        # for its lock would hold up this request for bookkeeping.
        await sql.write_unless_busy(
            conn,
            st,
            f"UPDATE api_key SET last_used_at = {st.param(at)} WHERE id = {st.param(key_id)}",
        )
    except Exception as exc:  # a bookkeeping write must not fail the request it belongs to
        _touched.pop(digest, None)
        log.warning("could not record the use of key %s: %s", key_id, exc)
