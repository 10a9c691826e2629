"""Test databases: every test that asks for `db` runs on SQLite, and on PostgreSQL too when
TEST_POSTGRES_URL is set. Each test gets an empty, migrated inventory with the taxonomy."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE

from server.app import create_app
from server.db.config import tortoise_config
from server.domain.access import Role
from server.services import keys
from server.services.setup import migrate
from server.settings import Settings

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])
# Tables holding what tests write; the taxonomy tables stay as migrate left them.
INVENTORY_TABLES = (
    "api_key",
    "change_request",
    "establishment",
    "transfer_consent",
    "disclosure_event",
    "subject_version",
    "consent_record",
    "subject_category",
    "data_subject",
    "audit_event",
    "status_change",
    "transfer",
    "disclosure_purpose",
    "disclosure_subject_type",
    "disclosure_audience",
    "disclosure_category",
    "disclosure",
    "recipient",
)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "inventory.sqlite3"
    asyncio.run(migrate(f"sqlite://{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_ready() -> str | None:
    if POSTGRES_URL:
        asyncio.run(migrate(POSTGRES_URL))
    return POSTGRES_URL


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "inventory.sqlite3"
        shutil.copy(template, path)
        yield f"sqlite://{path}"
    else:
        url = request.getfixturevalue("postgres_ready")
        yield url


async def open_database(url: str) -> None:
    """Tortoise on `url` with an empty inventory (PostgreSQL's emptied; a SQLite file is a
    fresh copy already)."""
    # Tortoise caches prepared SQL per connection *name*, not per dialect: the suite switches
    # between SQLite and PostgreSQL under the name "default", so start each test afresh.
    EXECUTOR_CACHE.clear()
    await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
    if not url.startswith("sqlite"):
        conn = Tortoise.get_connection("default")
        await conn.execute_script(
            f"TRUNCATE {', '.join(INVENTORY_TABLES)} RESTART IDENTITY CASCADE"
        )


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[str]:
    await open_database(db_url)
    try:
        yield db_url
    finally:
        await Tortoise.close_connections()


@pytest.fixture
def settings() -> Settings:
    return Settings()


@pytest.fixture
def app(db: str, settings: Settings) -> Any:
    return create_app(settings, manage_database=False)


def http_client(app: Any, token: str | None = None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers)


MakeClient = Callable[[str, str], Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def client_for(app: Any) -> AsyncIterator[MakeClient]:
    """`await client_for(role, name)`: a client sending a new key of that role and name."""
    clients: list[httpx.AsyncClient] = []

    async def make(role: str, name: str) -> httpx.AsyncClient:
        token = await keys.create_key(name, Role(role), actor="tests")
        http = http_client(app, token)
        clients.append(http)
        return http

    yield make
    for http in clients:
        await http.aclose()


@pytest.fixture
async def client(client_for: MakeClient) -> httpx.AsyncClient:
    """An admin key named test-admin: the audit log's actor for the suite's writes."""
    return await client_for("admin", "test-admin")


@pytest.fixture
async def reviewer(client_for: MakeClient) -> httpx.AsyncClient:
    """A second admin key (test-reviewer): approves what `client` registered, since a key may
    not approve what it registered itself (separation of duties)."""
    return await client_for("admin", "test-reviewer")


@pytest.fixture
async def anonymous(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(app) as http:
        yield http


class QueryCounter(logging.Handler):
    """Counts the SQL statements tortoise sends (it logs each on tortoise.db_client)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.statements.append(record.getMessage())


@pytest.fixture
def sql_counter() -> Iterator[QueryCounter]:
    logger = logging.getLogger("tortoise.db_client")
    handler = QueryCounter()
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


async def gql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """POST one operation; fail the test on a transport-level or unexpected GraphQL error."""
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
