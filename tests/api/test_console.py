"""The query console (issue 14 §3): a browser's GET of /graphql gets our own page, and the page,
its script and its style all come from this server, so that it works on a network without
internet access. The last test drives the console in a real headless chromium against a real
server, on a browser that can reach nothing but loopback."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import time
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from server.app import create_app
from server.domain.access import Role
from server.services import keys
from server.settings import Settings
from tests.conftest import http_client

BASE = "http://test"
BROWSER = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
# What each file the page may use must be served as.
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
# Attributes that make a browser fetch or go somewhere.
URL_ATTRIBUTES = frozenset(
    {"src", "href", "srcset", "action", "formaction", "data", "poster", "background", "ping"}
)
# An address on another host, written any way a browser would follow: scheme://..., or
# protocol-relative (//host) after a quote, a parenthesis or an equals sign.
OTHER_HOST = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://|[\"'(=]\s*//")
CSS_URL = re.compile(r"""url\(\s*["']?([^"')]+)|@import\s+["']([^"']+)""")
JS_PATH = re.compile(r"""(["'`])(/[^"'`\s]*)\1""")
# The API the console calls: a request, not a file.
ENDPOINT = "/graphql"


class PageParts(HTMLParser):
    """What a page asks a browser to fetch, and what a strict CSP would block in it."""

    def __init__(self) -> None:
        super().__init__()
        self.references: list[tuple[str, str]] = []  # (tag, address)
        self.inline: list[str] = []  # inline script, style, handlers
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in URL_ATTRIBUTES and value is not None:
                self.references.append((tag, value))
            if name == "style" or name.startswith("on"):
                self.inline.append(f"<{tag} {name}=...>")
        if tag == "style":
            self.inline.append("<style>")
        if tag == "meta" and ("http-equiv", "refresh") in attrs:
            self.inline.append("<meta http-equiv=refresh>")
        self._in_script = tag == "script"
        if tag == "script" and "src" not in dict(attrs):
            self.inline.append("<script> without src")

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append(f"<script>{data[:40]}")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False


def same_origin_path(base: str, address: str) -> str:
    """The path `address` names on this server; fails the test when it names another host."""
    assert not address.startswith("//"), address
    resolved = urlsplit(urljoin(base, address))
    assert (resolved.scheme, resolved.netloc) == ("http", "test"), address
    return resolved.path


def media_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";", 1)[0].strip()


async def console_files(http: httpx.AsyncClient) -> dict[str, httpx.Response]:
    """The page (under /graphql) and every file it uses, followed through the CSS and the
    script, each fetched from the server alone, with no key: path -> response."""
    page = await http.get(ENDPOINT, headers=BROWSER)
    assert page.status_code == 200
    assert media_type(page) == "text/html"
    parts = PageParts()
    parts.feed(page.text)
    files = {ENDPOINT: page}
    pending = [(f"{BASE}{ENDPOINT}", address) for _, address in parts.references]
    while pending:
        base, address = pending.pop()
        path = same_origin_path(base, address)
        if path in files:
            continue
        response = await http.get(path)
        assert response.status_code == 200, (path, response.status_code)
        expected = MEDIA_TYPES[Path(path).suffix]
        assert media_type(response) == expected, (path, response.headers)
        assert response.headers.get("x-content-type-options") == "nosniff"
        files[path] = response
        if expected == "text/css":
            for match in CSS_URL.finditer(response.text):
                pending.append((f"{BASE}{path}", match.group(1) or match.group(2)))
        if expected == "text/javascript":
            for match in JS_PATH.finditer(response.text):
                if match.group(2) != ENDPOINT:
                    pending.append((f"{BASE}{path}", match.group(2)))
    return files


async def test_the_page_and_every_file_it_uses_come_from_this_server(
    anonymous: httpx.AsyncClient,
) -> None:
    files = await console_files(anonymous)
    suffixes = sorted(Path(path).suffix for path in files if path != ENDPOINT)
    assert suffixes == [".css", ".js"]
    for path, response in files.items():
        found = OTHER_HOST.search(response.text)
        assert found is None, f"{path} names another host: {response.text[found.start() - 40 :]!r}"


async def test_the_page_runs_only_what_the_server_sends(anonymous: httpx.AsyncClient) -> None:
    page = await anonymous.get(ENDPOINT, headers=BROWSER)
    policy = {
        directive.split()[0]: directive.split()[1:]
        for directive in page.headers["content-security-policy"].split(";")
    }
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'none'"]
    parts = PageParts()
    parts.feed(page.text)
    assert parts.inline == []
    assert ("script", "/console/console.js") in parts.references
    # Labels for every field a person types into.
    for field in ("key", "query", "variables", "operation", "type-filter"):
        assert f'<label for="{field}">' in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["vary"] == "Accept"


async def test_the_files_are_revalidated_with_their_etag(anonymous: httpx.AsyncClient) -> None:
    for path, headers in (("/console/console.js", {}), (ENDPOINT, BROWSER)):
        first = await anonymous.get(path, headers=headers)
        assert first.status_code == 200
        assert first.headers["cache-control"] == "no-cache"
        etag = first.headers["etag"]
        again = await anonymous.get(path, headers={**headers, "if-none-match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == etag
        other = await anonymous.get(path, headers={**headers, "if-none-match": '"other"'})
        assert other.status_code == 200 and other.content == first.content
    head = await anonymous.head("/console/console.css")
    assert head.status_code == 200 and head.content == b""
    assert media_type(head) == "text/css"


@pytest.mark.parametrize(
    "path",
    [
        "/console/nothing.js",
        "/console/console.html",  # the page is at /graphql only
        "/console/..%2Fapp.py",
        "/console/__init__.py",
        "/console/",
    ],
)
async def test_only_the_console_files_are_served(anonymous: httpx.AsyncClient, path: str) -> None:
    response = await anonymous.get(path)
    assert response.status_code == 404
    assert "import" not in response.text


def script_constant(script: str, name: str) -> str:
    """A query the console sends, as its script holds it (a template string or lines joined)."""
    template = re.search(rf"const {name} = `(.*?)`;", script, re.S)
    if template:
        return template.group(1)
    lines = re.search(rf"const {name} = \[(.*?)\]\.join\(\"\\n\"\);", script, re.S)
    assert lines, f"{name} is not in the script"
    return "\n".join(json.loads(f"[{lines.group(1).rstrip().rstrip(',')}]"))


async def test_the_queries_the_console_sends_pass_the_servers_limits(db: str) -> None:
    """Its schema query must stay within the default depth and cost limits, and its first
    query must run: the browser test below shows the same through a browser."""
    app = create_app(Settings(), manage_database=False)
    token = await keys.create_key("console-viewer", Role.VIEWER, actor="tests")
    async with http_client(app, token) as http:
        script = (await http.get("/console/console.js")).text
        schema = await http.post(ENDPOINT, json={"query": script_constant(script, "SCHEMA_QUERY")})
        assert schema.status_code == 200
        body = schema.json()
        assert "errors" not in body
        types = {t["name"]: t for t in body["data"]["__schema"]["types"]}
        slug = next(f for f in types["Recipient"]["fields"] if f["name"] == "slug")
        assert slug["type"] == {
            "kind": "NON_NULL",
            "name": None,
            "ofType": {"kind": "SCALAR", "name": "String", "ofType": None},
        }
        first = await http.post(ENDPOINT, json={"query": script_constant(script, "DEFAULT_QUERY")})
        assert first.status_code == 200
        assert first.json()["data"] == {"recipients": {"totalCount": 0, "edges": []}}


# -- in a real browser ---------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium")
QUERY = "query Terms { dataCategories { key } }"


class DevTools:
    """One tab of a headless chromium, driven over the DevTools protocol; keeps every event."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.calls = 0
        self.answers: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.events: list[dict[str, Any]] = []
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.socket:
            item = json.loads(message)
            answer = self.answers.pop(item.get("id", -1), None)
            if answer is None:
                self.events.append(item)
            elif "error" in item:
                answer.set_exception(AssertionError(item["error"]))
            else:
                answer.set_result(item.get("result", {}))

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.calls += 1
        answer = self.answers[self.calls] = asyncio.get_running_loop().create_future()
        await self.socket.send(json.dumps({"id": self.calls, "method": method, "params": params}))
        return await asyncio.wait_for(answer, 15)

    async def evaluate(self, expression: str) -> Any:
        answer = await self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        assert "exceptionDetails" not in answer, answer["exceptionDetails"]
        return answer["result"].get("value")

    async def wait_for(self, expression: str, timeout: float = 20.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = await self.evaluate(expression)
            if value:
                return value
            await asyncio.sleep(0.1)
        state = await self.evaluate("document.querySelector('main').innerText")
        raise AssertionError(f"still not true after {timeout} s: {expression}\n{state}")

    async def press(self, key: str, code: int, modifiers: int = 0) -> None:
        """A key pressed and released, as a person's keyboard sends it (2 is Ctrl)."""
        for kind in ("keyDown", "keyUp"):
            await self.call(
                "Input.dispatchKeyEvent",
                type=kind,
                key=key,
                code=key,
                windowsVirtualKeyCode=code,
                modifiers=modifiers,
            )

    def problems(self) -> list[str]:
        """Script exceptions and errors the page logged (a CSP refusal is one)."""
        found = []
        for event in self.events:
            if event.get("method") == "Runtime.exceptionThrown":
                found.append(json.dumps(event["params"]["exceptionDetails"])[:500])
            if event.get("method") == "Log.entryAdded":
                entry = event["params"]["entry"]
                if entry["level"] == "error" and not entry.get("url", "").endswith("/favicon.ico"):
                    found.append(f"{entry['source']}: {entry['text']} {entry.get('url', '')}")
        return found

    def requested(self) -> list[str]:
        return [
            event["params"]["request"]["url"]
            for event in self.events
            if event.get("method") == "Network.requestWillBeSent"
        ]


@pytest.fixture
async def chromium(tmp_path: Path) -> AsyncIterator[DevTools]:
    """A headless chromium whose every request off loopback goes to a closed port: a machine
    without internet access."""
    from websockets.asyncio.client import connect

    assert CHROMIUM is not None
    profile = tmp_path / "chromium-profile"
    process = subprocess.Popen(
        [
            CHROMIUM,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-extensions",
            "--proxy-server=http://127.0.0.1:9",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            assert process.poll() is None, "chromium exited at start-up"
            assert time.monotonic() < deadline, "chromium did not open its DevTools port"
            await asyncio.sleep(0.1)
        port = port_file.read_text().split()[0]
        async with httpx.AsyncClient() as http:
            targets = (await http.get(f"http://127.0.0.1:{port}/json/list")).json()
        page = next(t for t in targets if t["type"] == "page")
        async with connect(page["webSocketDebuggerUrl"], max_size=None) as socket:
            tools = DevTools(socket)
            for domain in ("Runtime", "Log", "Network", "Page"):
                await tools.call(f"{domain}.enable")
            yield tools
            tools.reader.cancel()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
async def live_server(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    """`python -m server serve` on a copy of the migrated SQLite database: (base URL, a
    viewer key's token)."""
    from tests.load.harness import Server, cli

    path = tmp_path / "console.sqlite3"
    shutil.copy(sqlite_template, path)
    url = f"sqlite://{path}"
    token = cli(url, "keys", "create", "--role", "viewer", "--name", "console").strip()
    server = Server(url, tmp_path / "server.log", env={"INVENTORY_ENV": "development"})
    await server.start()
    try:
        yield server.base_url, token
    finally:
        server.stop()


@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium; .ci/run does)"
)
async def test_the_console_works_in_a_browser_without_internet_access(
    live_server: tuple[str, str], chromium: DevTools
) -> None:
    base, token = live_server
    await chromium.call("Page.navigate", url=f"{base}/graphql#key={token}")

    # The key from the link is kept for the tab and taken out of the address; the schema's
    # types are listed from the introspection query it allowed.
    await chromium.wait_for("document.querySelectorAll('#types [data-type]').length > 20")
    assert await chromium.evaluate("location.href") == f"{base}/graphql"
    assert await chromium.evaluate("sessionStorage.getItem('recipient-inventory.key')") == token
    names = await chromium.evaluate(
        "[...document.querySelectorAll('#types [data-type]')].map(b => b.dataset.type)"
    )
    assert names[:2] == ["Query", "Mutation"] and "Recipient" in names and "__Type" not in names

    # A type's fields, with their types and descriptions.
    await chromium.evaluate("document.querySelector('#types [data-type=\"Recipient\"]').click()")
    detail = await chromium.wait_for("document.querySelector('#type-detail').innerText")
    assert detail.startswith("Recipient")
    assert "slug: String!" in detail
    assert "country: String!\nISO 3166-1 alpha-2 country of establishment." in detail
    assert await chromium.evaluate("document.activeElement.id") == "type-detail"

    # The query typed in the editor, Tab indenting, run with Ctrl+Enter.
    await chromium.evaluate("document.querySelector('#query').select()")
    await chromium.call("Input.insertText", text=QUERY)
    await chromium.press("Tab", 9)
    assert await chromium.evaluate("document.querySelector('#query').value") == QUERY + "  "
    assert await chromium.evaluate("document.activeElement.id") == "query"
    await chromium.press("Enter", 13, modifiers=2)
    shown = await chromium.wait_for(
        "document.querySelector('#result').textContent.includes('dataCategories')"
        " && document.querySelector('#result').textContent"
    )
    assert json.loads(shown)["data"]["dataCategories"][0]["key"]
    state = await chromium.evaluate("document.querySelector('#result-state').textContent")
    assert state.startswith("HTTP 200")

    # Esc, then Tab, leaves the editor: the keyboard is never trapped.
    await chromium.press("Escape", 27)
    await chromium.press("Tab", 9)
    assert await chromium.evaluate("document.activeElement.id") == "variables"

    # Nothing was refused to the page (a CSP refusal is logged as an error), nothing thrown.
    assert chromium.problems() == []

    # A refusal shows its code.
    await chromium.evaluate("sessionStorage.setItem('recipient-inventory.key', 'ri_revoked')")
    await chromium.evaluate("document.querySelector('#run').click()")
    errors = await chromium.wait_for(
        "document.querySelector('#result-errors').innerText.includes('UNAUTHENTICATED')"
        " && document.querySelector('#result-errors').innerText"
    )
    assert errors.startswith("UNAUTHENTICATED: The API key is unknown or revoked.")
    state = await chromium.evaluate("document.querySelector('#result-state').textContent")
    assert state.startswith("HTTP 401")

    # The browser asked this server for the page, its files and the API, and no one else.
    requested = chromium.requested()
    assert f"{base}/console/console.js" in requested
    assert f"{base}/console/console.css" in requested
    assert [url for url in requested if not url.startswith(f"{base}/")] == []
