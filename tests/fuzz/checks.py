"""What every answer to a fuzzed or hostile request must be, and the database snapshot that
requests which must be refused have to leave as it was."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections.abc import Iterable
from typing import Any

import httpx
from tortoise import Tortoise

from server.graphql.errors import ERROR_CODES

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
# No request may take longer than this (a hang is a finding, not a slow test).
REQUEST_TIMEOUT = float(os.environ.get("FUZZ_REQUEST_TIMEOUT", "30"))
# Text that only a stack trace or a database driver's error would put in an answer.
LEAKS = (
    "Traceback",
    'File "',
    "sqlite3.",
    "aiosqlite",
    "asyncpg.",
    "psycopg",
    "tortoise.",
    "IntegrityError",
    "OperationalError",
    "ProgrammingError",
    "syntax error at or near",
)
TOP_LEVEL_KEYS = {"data", "errors", "extensions"}
# A column that a request may change without changing the inventory: the key's last use.
VOLATILE_COLUMNS = {("api_key", "last_used_at")}


async def send(
    client: httpx.AsyncClient,
    payload: Any = None,
    *,
    content: bytes | None = None,
    accept: str = GRAPHQL_RESPONSE,
) -> httpx.Response:
    """POST one request (JSON `payload`, or raw `content` as application/json); fail on a hang."""
    headers = {"accept": accept}
    if content is not None:
        headers["content-type"] = JSON
        request = client.post("/graphql", content=content, headers=headers)
    else:
        request = client.post("/graphql", json=payload, headers=headers)
    try:
        return await asyncio.wait_for(request, REQUEST_TIMEOUT)
    except TimeoutError:
        raise AssertionError(f"no answer within {REQUEST_TIMEOUT} s") from None


def check_answer(response: httpx.Response) -> dict[str, Any]:
    """A well-formed GraphQL answer: under 500, JSON with `data` and/or `errors` as the GraphQL
    specification shapes them, every error with a message, nothing masked as INTERNAL (an
    unexpected exception), no stack trace or SQL, and a request id. Returns the body."""
    text = response.text
    shown = text[:2000]
    assert response.status_code < 500, (response.status_code, shown)
    assert response.headers.get("x-request-id"), dict(response.headers)
    for leak in LEAKS:
        assert leak not in text, (leak, shown)
    media = response.headers.get("content-type", "").split(";", 1)[0].strip()
    assert media in (GRAPHQL_RESPONSE, JSON), (media, shown)
    body = json.loads(text)
    assert isinstance(body, dict), shown
    assert set(body) <= TOP_LEVEL_KEYS, shown
    assert "data" in body or "errors" in body, shown
    if "data" in body:
        assert body["data"] is None or isinstance(body["data"], dict), shown
    if "errors" in body:
        errors = body["errors"]
        assert isinstance(errors, list) and errors, shown
        for error in errors:
            assert isinstance(error, dict), shown
            assert isinstance(error.get("message"), str) and error["message"].strip(), shown
            code = (error.get("extensions") or {}).get("code")
            assert code != "INTERNAL", ("an unexpected exception", shown)
            # Issue 15 §4: every error names its code, from the one documented list.
            assert code in ERROR_CODES, ("no code from the documented list", shown)
    else:
        assert response.status_code == 200, (response.status_code, shown)
    for user_error in user_errors(body.get("data")):
        # Each as far as the query asked for it.
        if "message" in user_error:
            assert isinstance(user_error["message"], str) and user_error["message"].strip(), shown
        if "code" in user_error:
            assert isinstance(user_error["code"], str) and user_error["code"], shown
    return body


def user_errors(value: Any) -> list[dict[str, Any]]:
    """Every entry of every `userErrors` list in `data` (whatever the alias)."""
    found: list[dict[str, Any]] = []
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                if key == "userErrors" and isinstance(child, list):
                    found.extend(e for e in child if isinstance(e, dict))
                else:
                    pending.append(child)
        elif isinstance(item, list):
            pending.extend(item)
    return found


async def tables() -> list[str]:
    connection = Tortoise.get_connection("default")
    if connection.capabilities.dialect == "sqlite":
        rows = await connection.execute_query_dict(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    else:
        rows = await connection.execute_query_dict(
            "SELECT table_name AS name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
    return sorted(row["name"] for row in rows)


async def snapshot(only: Iterable[str] | None = None) -> dict[str, tuple[int, str]]:
    """Every table of the database (or those of `only`): its row count and a hash of all its
    rows in a stable order, the key's last use left out."""
    connection = Tortoise.get_connection("default")
    out: dict[str, tuple[int, str]] = {}
    for table in sorted(only) if only is not None else await tables():
        rows = await connection.execute_query_dict(f'SELECT * FROM "{table}"')
        if not rows:
            out[table] = (0, "")
            continue
        keys = sorted(k for k in rows[0] if (table, k) not in VOLATILE_COLUMNS)
        lines = sorted(repr([row[k] for k in keys]) for row in rows)
        digest = hashlib.sha256("\n".join(lines).encode("utf-8", "surrogatepass")).hexdigest()
        out[table] = (len(rows), digest)
    return out
