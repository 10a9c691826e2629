"""CORS (issue 14 §3): with CORS_ORIGINS set, a browser page on a listed origin may call the
API. The preflight is answered before the key and the rate limit (it carries neither), and
every answer to a listed origin, refusals included, lets the page read it; any other origin
gets no CORS header, so its browser keeps the answer from it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from server.app import create_app
from server.db import errors as db_errors
from server.domain.access import Role
from server.services import keys
from server.settings import Settings, SettingsError

DASHBOARD = "https://dashboard.example.com"
LOCAL = "http://localhost:3000"
STRANGER = "https://elsewhere.example.net"
QUERY = {"query": "{ __typename }"}
ALLOW_ORIGIN = "access-control-allow-origin"


def preflight(origin: str, headers: str = "authorization, content-type") -> dict[str, str]:
    return {
        "origin": origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": headers,
    }


def listed(header: str) -> set[str]:
    return {item.strip().lower() for item in header.split(",")}


def client(app: Any, address: str = "10.9.8.7") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 1))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


@pytest.fixture
def cors_app(db: str) -> Any:
    """The app with two listed origins and an anonymous budget of two requests a minute per
    address: a preflight that spent it would soon be seen."""
    settings = Settings(
        cors_origins=(DASHBOARD, LOCAL), anonymous_rate_limit=1 / 60, anonymous_rate_limit_burst=2
    )
    return create_app(settings, manage_database=False)


@pytest.fixture
async def http(cors_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with client(cors_app) as http:
        yield http


async def test_the_preflight_of_a_listed_origin_needs_no_key(http: httpx.AsyncClient) -> None:
    for _ in range(5):
        response = await http.options(
            "/graphql", headers=preflight(DASHBOARD, "authorization, content-type, x-request-id")
        )
        assert response.status_code == 200
        assert response.headers[ALLOW_ORIGIN] == DASHBOARD
        assert {"authorization", "content-type", "x-request-id"} <= listed(
            response.headers["access-control-allow-headers"]
        )
        assert {"get", "post"} <= listed(response.headers["access-control-allow-methods"])
        assert "access-control-allow-credentials" not in response.headers
    # Five preflights spent none of the address's anonymous budget of two.
    assert (
        await http.post("/graphql", json=QUERY, headers={"origin": DASHBOARD})
    ).status_code == 401


async def test_the_preflight_of_another_origin_is_refused(http: httpx.AsyncClient) -> None:
    response = await http.options("/graphql", headers=preflight(STRANGER))
    assert response.status_code == 400
    assert ALLOW_ORIGIN not in response.headers


async def test_a_header_not_listed_is_refused_in_the_preflight(http: httpx.AsyncClient) -> None:
    response = await http.options("/graphql", headers=preflight(DASHBOARD, "x-api-key"))
    assert response.status_code == 400


async def test_a_listed_origin_reads_the_answer(http: httpx.AsyncClient) -> None:
    token = await keys.create_key("dashboard", Role.VIEWER, actor="tests")
    headers = {"origin": LOCAL, "authorization": f"Bearer {token}"}
    response = await http.post("/graphql", json=QUERY, headers=headers)
    assert response.status_code == 200
    assert response.json()["data"] == {"__typename": "Query"}
    assert response.headers[ALLOW_ORIGIN] == LOCAL
    assert "origin" in listed(response.headers["vary"])
    assert {"x-request-id", "retry-after"} <= listed(
        response.headers["access-control-expose-headers"]
    )


async def test_another_origin_gets_no_cors_header(http: httpx.AsyncClient) -> None:
    token = await keys.create_key("elsewhere", Role.VIEWER, actor="tests")
    headers = {"origin": STRANGER, "authorization": f"Bearer {token}"}
    response = await http.post("/graphql", json=QUERY, headers=headers)
    # The server answers as to any client; the browser keeps the answer from the page.
    assert response.status_code == 200
    assert ALLOW_ORIGIN not in response.headers


async def test_refusals_reach_a_listed_origin_readable(
    cors_app: Any, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    origin = {"origin": DASHBOARD}
    unauthenticated = await http.post("/graphql", json=QUERY, headers=origin)
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers[ALLOW_ORIGIN] == DASHBOARD
    assert unauthenticated.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    await http.post("/graphql", json=QUERY, headers=origin)  # the budget's second request
    limited = await http.post("/graphql", json=QUERY, headers=origin)
    assert limited.status_code == 429
    assert limited.headers[ALLOW_ORIGIN] == DASHBOARD
    assert "retry-after" in listed(limited.headers["access-control-expose-headers"])

    async def refused(*_: object, **__: object) -> None:
        raise ConnectionRefusedError(111, "Connect call failed")

    # The database down while the key is read: the 503 comes from outside the application.
    monkeypatch.setattr(db_errors, "_warnings", db_errors.OncePerInterval(db_errors.log, 30.0))
    monkeypatch.setattr(keys, "authenticate", refused)
    async with client(cors_app, "10.9.8.8") as fresh:  # an address with its budget whole
        unavailable = await fresh.post(
            "/graphql", json=QUERY, headers={**origin, "authorization": "Bearer ri_somekey"}
        )
    assert unavailable.status_code == 503
    assert unavailable.headers[ALLOW_ORIGIN] == DASHBOARD
    assert unavailable.headers["retry-after"] == "1"
    assert unavailable.headers["x-request-id"]


async def test_without_cors_origins_no_origin_is_answered(db: str) -> None:
    app = create_app(Settings(), manage_database=False)
    token = await keys.create_key("no-cors", Role.VIEWER, actor="tests")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        answer = await http.post(
            "/graphql",
            json=QUERY,
            headers={"origin": DASHBOARD, "authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 200
        assert ALLOW_ORIGIN not in answer.headers
        response = await http.options("/graphql", headers=preflight(DASHBOARD))
        assert ALLOW_ORIGIN not in response.headers


# -- the setting ---------------------------------------------------------------------------------


def test_cors_origins_default_to_none() -> None:
    assert Settings.from_env({}).cors_origins == ()
    assert Settings.from_env({"CORS_ORIGINS": " "}).cors_origins == ()


def test_cors_origins_are_read_as_browsers_send_them() -> None:
    text = "https://Dashboard.Example.com:443, http://localhost:3000,,http://[::1]:8080 ,"
    settings = Settings.from_env({"CORS_ORIGINS": text + "https://dashboard.example.com"})
    assert settings.cors_origins == (
        "https://dashboard.example.com",
        "http://localhost:3000",
        "http://[::1]:8080",
    )
    assert Settings.from_env({"CORS_ORIGINS": "http://10.0.0.5:80"}).cors_origins == (
        "http://10.0.0.5",
    )


@pytest.mark.parametrize(
    "origin",
    [
        "dashboard.example.com",
        "localhost:3000",
        "https://dashboard.example.com/",
        "https://dashboard.example.com/app",
        "https://dashboard.example.com?x=1",
        "https://dashboard.example.com#top",
        "ftp://dashboard.example.com",
        "file:///tmp/page.html",
        "null",
        "https://user@dashboard.example.com",
        "https://dashboard.example.com:0",
        "https://dashboard.example.com:70000",
        "https://dashboard.example.com:port",
        "https://dash board.example.com",
        "https://-dashboard.example.com",
        "https://dashboard..example.com",
        "http://[::g]:80",
    ],
)
def test_a_bad_origin_is_refused_naming_the_setting(origin: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"CORS_ORIGINS": f"https://fine.example.com, {origin}"})
    message = str(raised.value)
    assert message.startswith("CORS_ORIGINS must list origins as scheme://host[:port]")
    assert repr(origin) in message


def test_a_wildcard_is_refused() -> None:
    with pytest.raises(SettingsError, match=r"^CORS_ORIGINS does not take '\*'"):
        Settings.from_env({"CORS_ORIGINS": "*"})
