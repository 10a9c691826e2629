"""A real server and a crowd of clients: `python -m server serve` (uvicorn) as a subprocess on a
free loopback port, and 32 asyncio clients mixing reads and writes against it.

Every mutation goes into a journal with its input and what the server answered: `ok` (with the
version or id it returned), `stale` (STALE_VERSION), `rejected` (INVALID_TRANSITION, a status
move that lost its race), `unknown` (the connection broke before an answer: the server was
killed), or `failed` (an answer that should never happen: a 5xx, a GraphQL error, an unexpected
user error). tests/load/verify.py then holds the database to that journal.

Every value a mutation writes is unique in the run (names, notes, retentions, consent times and
data-category sets all carry a number from one counter), so each audit event and each row can be
traced back to the one request that wrote it.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = 32
RECIPIENTS = 20
SUBJECTS = 8
KEY_NAMES = ("load-admin-1", "load-admin-2")
COUNTRIES = ("US", "GB", "DE", "FR", "IE", "NL", "SE", "JP")
SUBJECT_TYPE = "platform_user"
# Consents are dated in the past, one second apart per counter value: unique and never ahead.
CONSENT_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
# Of each hundred actions: reads first, then the writes that race for a recipient's version.
ACTIONS = {
    "read_recipient": 24,
    "list_recipients": 8,
    "who_receives": 8,
    "update": 26,
    "status": 10,
    "disclosure": 10,
    "upsert_subject": 8,
    "consent": 6,
}
MAX_FAILURES_KEPT = 50

ERRORS = "userErrors { field message code }"
READ_RECIPIENT = "query Read($slug: String!) { recipient(slug: $slug) { id version status name } }"
LIST_RECIPIENTS = (
    "query List { recipients(first: 50) { totalCount edges { node { id version status } } } }"
)
WHO_RECEIVES = """query Who($ref: String!) {
  whoReceives(subject: {externalRef: $ref}) {
    subject { externalRef } recipients { recipient { slug } } withheld { reason }
  }
}"""
REGISTER = f"""mutation Register($input: RegisterRecipientInput!) {{
  registerRecipient(input: $input) {{ recipient {{ id slug version status }} {ERRORS} }}
}}"""
UPDATE = f"""mutation Update($input: UpdateRecipientInput!) {{
  updateRecipient(input: $input) {{ recipient {{ id version name }} {ERRORS} }}
}}"""
CHANGE_STATUS = f"""mutation Move($input: ChangeRecipientStatusInput!) {{
  changeRecipientStatus(input: $input) {{ recipient {{ id version status }} {ERRORS} }}
}}"""
ADD_DISCLOSURE = f"""mutation Add($input: AddDisclosureInput!) {{
  addDisclosure(input: $input) {{ disclosure {{ id retention }} change {{ id }} {ERRORS} }}
}}"""
UPSERT_SUBJECT = f"""mutation Upsert($input: DataSubjectInput!) {{
  upsertDataSubject(input: $input) {{ dataSubject {{ id externalRef }} {ERRORS} }}
}}"""
RECORD_CONSENT = f"""mutation Consent($input: ConsentInput!) {{
  recordConsent(input: $input) {{ dataSubject {{ id }} {ERRORS} }}
}}"""
CURRENT_VERSION = re.compile(r"current version is (\d+)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def node_id(global_id: str, type_name: str) -> int:
    kind, _, number = base64.b64decode(global_id).decode().partition(":")
    assert kind == type_name, global_id
    return int(number)


def global_id(type_name: str, number: int) -> str:
    return base64.b64encode(f"{type_name}:{number}".encode()).decode()


def server_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without settings that would change what is measured, then
    `extra` (a test's own settings)."""
    env = {k: v for k, v in os.environ.items() if k not in ("RATE_LIMIT", "RATE_LIMIT_BURST")}
    env["LOG_LEVEL"] = "WARNING"  # no access log lines: errors and warnings only
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def cli(database_url: str, *args: str) -> str:
    """`python -m server --database-url URL ARGS...` from the checkout; its stdout."""
    return clis(database_url, [list(args)])[0]


def clis(database_url: str, commands: list[list[str]]) -> list[str]:
    """Several commands at once (they start faster than they run); their outputs in order."""
    running = [
        subprocess.Popen(
            [sys.executable, "-m", "server", "--database-url", database_url, *args],
            cwd=ROOT,
            env=server_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in commands
    ]
    outputs = []
    for args, process in zip(commands, running, strict=True):
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, f"{args}: {process.returncode}\n{out}\n{err}"
        outputs.append(out)
    return outputs


class Server:
    """`python -m server serve` on a free loopback port, its log (stdout and stderr) in a file.
    Each start appends to the same log. `env` adds settings (server_env)."""

    def __init__(
        self, database_url: str, log_path: Path, env: dict[str, str] | None = None
    ) -> None:
        self.database_url = database_url
        self.log_path = log_path
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.starts = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, timeout: float = 30.0, probe: str = "/readyz") -> None:
        """Started once `probe` answers 200 (/healthz for a server whose database is down)."""
        for _ in range(3):  # another process may take the free port before uvicorn binds it
            self.port = free_port()
            with self.log_path.open("ab") as log:
                self.process = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "server",
                        "--database-url",
                        self.database_url,
                        "serve",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(self.port),
                    ],
                    cwd=ROOT,
                    env=server_env(self.env),
                    stdout=log,
                    stderr=log,
                )
            if await self._ready(timeout, probe):
                self.starts += 1
                return
        raise AssertionError(f"the server did not become ready:\n{self.log()[-3000:]}")

    async def _ready(self, timeout: float, probe: str) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2.0) as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    return False
                try:
                    response = await http.get(probe)
                    if response.status_code == 200:
                        return True
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
        self.process.kill()
        self.process.wait()
        return False

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, no goodbye."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """Graceful stop (SIGTERM), SIGKILL after 15 s; a no-op if it is not running."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_problems(self) -> list[str]:
        """Lines of the server's log at level ERROR or above, and any 'database is locked'."""
        problems = []
        for line in self.log().splitlines():
            lowered = line.lower()
            if "database is locked" in lowered:
                problems.append(f"server log: {line[:500]}")
                continue
            try:
                entry = orjson.loads(line)
            except orjson.JSONDecodeError:
                if "traceback" in lowered or "error" in lowered:
                    problems.append(f"server log: {line[:500]}")
                continue
            if isinstance(entry, dict) and entry.get("level") in ("ERROR", "CRITICAL"):
                problems.append(f"server log: {line[:500]}")
        return problems


@dataclass
class Op:
    """One mutation as the client saw it."""

    kind: str  # register | update | status | disclosure | upsert | consent
    actor: str  # the key's name: the audit log's actor
    target: Any  # recipient id (int) or subject externalRef (str)
    input: dict[str, Any]
    outcome: str = "pending"  # ok | stale | rejected | unknown | failed
    version: int | None = None  # the version an ok update or status move returned
    result_id: int | None = None  # the disclosure an ok addDisclosure returned
    change_id: int | None = None  # or the change request it opened, waiting for review
    errors: list[dict[str, Any]] = field(default_factory=list)
    reported_version: int | None = None  # "its current version is N" in a STALE_VERSION

    @property
    def acknowledged(self) -> bool:
        return self.outcome == "ok"

    @property
    def maybe_applied(self) -> bool:
        """No answer (or a broken one): the write may or may not have happened."""
        return self.outcome in ("unknown", "failed")


class Interrupted(Exception):
    """The request got no usable answer."""


class Load:
    """The clients, their journal, and what they counted."""

    def __init__(self, keys: list[tuple[str, str]], categories: list[str], purposes: list[str]):
        self.keys = keys
        self.categories = categories
        self.purposes = purposes
        self.ops: list[Op] = []
        self.failures: list[str] = []
        self.failure_count = 0
        self.counter = itertools.count(1)
        self.recipients: dict[int, str] = {}  # id -> slug
        self.subjects: list[str] = []
        # recipient id -> the highest version acknowledged so far: no later read may show less.
        self.floor: dict[int, int] = {}
        self.requests = 0
        self.reads = 0
        self.in_flight_at_kill = 0
        self.latencies: list[float] = []
        self.killing = False
        self.phase = 0

    # -- requests ---------------------------------------------------------------------------

    def fail(self, message: str) -> None:
        self.failure_count += 1
        if len(self.failures) < MAX_FAILURES_KEPT:
            self.failures.append(message)

    async def call(
        self,
        http: httpx.AsyncClient,
        query: str,
        variables: dict[str, Any],
        op: Op | None = None,
    ) -> dict[str, Any]:
        self.requests += 1
        started = time.perf_counter()
        try:
            response = await http.post("/graphql", json={"query": query, "variables": variables})
        except httpx.TransportError as exc:
            if op is not None:
                op.outcome = "unknown"
            if self.killing:
                self.in_flight_at_kill += 1
            else:
                self.fail(f"transport error: {exc!r} ({query.split('(')[0]})")
            raise Interrupted from exc
        self.latencies.append(time.perf_counter() - started)
        text = response.text
        problem = None
        if "database is locked" in text.lower():
            problem = "database is locked"
        elif response.status_code >= 500:
            problem = f"HTTP {response.status_code}"
        elif response.status_code != 200:
            problem = f"unexpected HTTP {response.status_code}"
        body: Any = None
        if problem is None:
            try:
                body = orjson.loads(response.content)
            except orjson.JSONDecodeError:
                problem = "not JSON"
        if problem is None and (not isinstance(body, dict) or body.get("errors")):
            problem = "GraphQL errors"
        if problem is not None:
            if op is not None:
                op.outcome = "failed"
            self.fail(f"{problem}: {query.split('(')[0]} {variables} -> {text[:400]}")
            raise Interrupted
        data: dict[str, Any] = body["data"]
        return data

    def settle(self, op: Op, payload: dict[str, Any], result: str, allowed: set[str]) -> bool:
        """Record the outcome of a mutation's payload; True when it succeeded."""
        errors = payload["userErrors"]
        op.errors = errors
        if not errors:
            # An addition to an APPROVED or ACTIVE recipient waits for review (issue 15 §2):
            # the change request is its answer.
            if payload[result] is None and not payload.get("change"):
                op.outcome = "failed"
                self.fail(f"{op.kind}: no userErrors and no {result}: {payload}")
                return False
            op.outcome = "ok"
            return True
        codes = {e["code"] for e in errors}
        if len(errors) != 1 or not codes <= allowed or payload[result] is not None:
            op.outcome = "failed"
            self.fail(f"{op.kind}: unexpected answer {payload} to {op.input}")
            return False
        [error] = errors
        op.outcome = "stale" if error["code"] == "STALE_VERSION" else "rejected"
        if match := CURRENT_VERSION.search(error["message"]):
            op.reported_version = int(match.group(1))
        return False

    def journal(self, kind: str, actor: str, target: Any, input: dict[str, Any]) -> Op:
        op = Op(kind, actor, target, input)
        self.ops.append(op)
        return op

    def categories_for(self, n: int) -> list[str]:
        """A set of data categories that no other counter value gets."""
        return [key for i, key in enumerate(self.categories) if n >> i & 1]

    # -- setup ------------------------------------------------------------------------------

    async def setup(self, base_url: str) -> None:
        """Register the recipients (ACTIVE: an admin may import any status) and the subjects
        that the clients will fight over. Journaled like everything else."""
        actor, token = self.keys[0]
        async with self.client(token, base_url) as http:
            for i in range(1, RECIPIENTS + 1):
                fields = {
                    "name": f"Load Recipient {i:02d}",
                    "slug": f"load-recipient-{i:02d}",
                    "kind": "SERVICE_PROVIDER",
                    "role": "PROCESSOR",
                    "country": "US",
                    "services": ["load"],
                    "website": f"https://load-{i:02d}.example",
                    "dpaSignedOn": "2024-01-15",
                    "status": "ACTIVE",
                }
                op = self.journal("register", actor, None, fields)
                data = await self.call(http, REGISTER, {"input": fields}, op)
                payload = data["registerRecipient"]
                assert self.settle(op, payload, "recipient", set()), payload
                rid = node_id(payload["recipient"]["id"], "Recipient")
                op.target, op.version = rid, payload["recipient"]["version"]
                self.recipients[rid] = fields["slug"]
                self.floor[rid] = 1
            for i in range(1, SUBJECTS + 1):
                ref = f"load-subject-{i}"
                await self._upsert(http, actor, ref, "GB" if i % 2 else "DE", strict=True)
                self.subjects.append(ref)

    def client(self, token: str, base_url: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(60.0, connect=5.0),
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )

    # -- the run ----------------------------------------------------------------------------

    async def run(
        self,
        servers: list[Server],
        seconds: float,
        seed: int,
        kill: tuple[float, Server] | None = None,
    ) -> None:
        """CLIENTS clients for `seconds`, spread over the servers; with `kill=(after, server)`,
        SIGKILL that server after that many seconds, and each client stops at its first broken
        request."""
        self.phase += 1
        deadline = time.monotonic() + seconds
        workers = [
            asyncio.create_task(
                self._client(
                    i,
                    servers[i % len(servers)].base_url,
                    deadline,
                    random.Random(seed * 1000 + i),
                )
            )
            for i in range(CLIENTS)
        ]
        if kill is not None:
            after, server = kill
            await asyncio.sleep(after)
            self.killing = True
            server.kill()
        try:
            await asyncio.gather(*workers)
        finally:
            self.killing = False

    async def _client(self, index: int, base_url: str, deadline: float, rng: random.Random) -> None:
        actor, token = self.keys[index % len(self.keys)]
        names = list(ACTIONS)
        weights = list(ACTIONS.values())
        async with self.client(token, base_url) as http:
            while time.monotonic() < deadline and not self.killing:
                action = rng.choices(names, weights)[0]
                try:
                    await getattr(self, f"_{action}")(http, rng, actor)
                except Interrupted:
                    if self.killing:
                        return
                    await asyncio.sleep(0.05)

    def _pick_recipient(self, rng: random.Random) -> tuple[int, str]:
        rid = rng.choice(sorted(self.recipients))
        return rid, self.recipients[rid]

    async def _read(self, http: httpx.AsyncClient, rid: int, slug: str) -> dict[str, Any]:
        self.reads += 1
        floor = self.floor.get(rid, 0)
        data = await self.call(http, READ_RECIPIENT, {"slug": slug})
        recipient: dict[str, Any] = data["recipient"]
        if recipient is None:
            self.fail(f"recipient {slug} not found")
            raise Interrupted
        if recipient["version"] < floor:
            self.fail(f"{slug}: read version {recipient['version']} after {floor} was acknowledged")
        return recipient

    async def _read_recipient(
        self, http: httpx.AsyncClient, rng: random.Random, actor: str
    ) -> None:
        rid, slug = self._pick_recipient(rng)
        await self._read(http, rid, slug)

    async def _list_recipients(
        self, http: httpx.AsyncClient, rng: random.Random, actor: str
    ) -> None:
        self.reads += 1
        floors = dict(self.floor)
        data = await self.call(http, LIST_RECIPIENTS, {})
        listing = data["recipients"]
        if listing["totalCount"] != len(self.recipients):
            self.fail(f"recipients totalCount {listing['totalCount']} != {len(self.recipients)}")
        for edge in listing["edges"]:
            rid = node_id(edge["node"]["id"], "Recipient")
            if edge["node"]["version"] < floors.get(rid, 0):
                self.fail(f"listing shows recipient {rid} at {edge['node']['version']}")

    async def _who_receives(self, http: httpx.AsyncClient, rng: random.Random, actor: str) -> None:
        self.reads += 1
        ref = rng.choice(self.subjects)
        data = await self.call(http, WHO_RECEIVES, {"ref": ref})
        report = data["whoReceives"]
        if report is None or report["subject"]["externalRef"] != ref:
            self.fail(f"whoReceives({ref}) answered {report}")

    async def _update(self, http: httpx.AsyncClient, rng: random.Random, actor: str) -> None:
        """Read the version, then change the details against it: clients collide here."""
        rid, slug = self._pick_recipient(rng)
        current = await self._read(http, rid, slug)
        n = next(self.counter)
        changes = {
            "name": f"Load {rid} change {n}",
            "description": f"Change {n} by {actor} in phase {self.phase}.",
            "website": f"https://load-{rid}-{n}.example",
            # No country: to an ACTIVE recipient that change waits for a second key (issue 15
            # §2), and these writes are about concurrency, not review.
            "services": ["load", f"tier-{n % 4}"],
        }
        fields = {"id": current["id"], "expectedVersion": current["version"], **changes}
        op = self.journal("update", actor, rid, fields)
        data = await self.call(http, UPDATE, {"input": fields}, op)
        if self.settle(op, data["updateRecipient"], "recipient", {"STALE_VERSION"}):
            op.version = data["updateRecipient"]["recipient"]["version"]
            self._acknowledge(rid, op.version)
            if op.version != current["version"] + 1:
                self.fail(f"update against {current['version']} answered version {op.version}")

    async def _status(self, http: httpx.AsyncClient, rng: random.Random, actor: str) -> None:
        """Suspend an active recipient or reactivate a suspended one (as last read)."""
        rid, slug = self._pick_recipient(rng)
        current = await self._read(http, rid, slug)
        target = "SUSPENDED" if current["status"] == "ACTIVE" else "ACTIVE"
        n = next(self.counter)
        fields = {"id": current["id"], "status": target, "note": f"move {n}"}
        op = self.journal("status", actor, rid, fields)
        data = await self.call(http, CHANGE_STATUS, {"input": fields}, op)
        payload = data["changeRecipientStatus"]
        if self.settle(op, payload, "recipient", {"STALE_VERSION", "INVALID_TRANSITION"}):
            op.version = payload["recipient"]["version"]
            self._acknowledge(rid, op.version)
            if payload["recipient"]["status"] != target:
                self.fail(f"status move to {target} answered {payload}")

    async def _disclosure(self, http: httpx.AsyncClient, rng: random.Random, actor: str) -> None:
        rid, _ = self._pick_recipient(rng)
        n = next(self.counter)
        fields = {
            "recipientId": global_id("Recipient", rid),
            "disclosure": {
                "dataCategories": ["user.contact.email"],
                "subjectTypes": [SUBJECT_TYPE],
                "purposes": ["essential.service"],
                "legalBasis": "CONTRACT",
                "ground": "SERVICE_PROVISION",
                "retention": f"P{n}D",
                "transfers": [
                    {"country": rng.choice(COUNTRIES), "mechanism": "BINDING_CORPORATE_RULES"}
                ],
            },
        }
        op = self.journal("disclosure", actor, rid, fields)
        data = await self.call(http, ADD_DISCLOSURE, {"input": fields}, op)
        payload = data["addDisclosure"]
        if self.settle(op, payload, "disclosure", {"STALE_VERSION"}):
            if payload["disclosure"] is None:
                op.change_id = node_id(payload["change"]["id"], "ChangeRequest")
            else:
                op.result_id = node_id(payload["disclosure"]["id"], "Disclosure")

    async def _upsert_subject(
        self, http: httpx.AsyncClient, rng: random.Random, actor: str
    ) -> None:
        await self._upsert(http, actor, rng.choice(self.subjects), rng.choice(COUNTRIES))

    async def _upsert(
        self, http: httpx.AsyncClient, actor: str, ref: str, country: str, strict: bool = False
    ) -> None:
        n = next(self.counter)
        fields = {
            "externalRef": ref,
            "subjectType": SUBJECT_TYPE,
            "country": country,
            "dataCategories": self.categories_for(n),
        }
        op = self.journal("upsert", actor, ref, fields)
        data = await self.call(http, UPSERT_SUBJECT, {"input": fields}, op)
        payload = data["upsertDataSubject"]
        ok = self.settle(op, payload, "dataSubject", set() if strict else {"STALE_VERSION"})
        assert ok or not strict, payload

    async def _consent(self, http: httpx.AsyncClient, rng: random.Random, actor: str) -> None:
        ref = rng.choice(self.subjects)
        n = next(self.counter)
        fields = {
            "subject": {"externalRef": ref},
            "purpose": rng.choice(self.purposes),
            "granted": rng.random() < 0.5,
            "recordedAt": (CONSENT_EPOCH + timedelta(seconds=n)).isoformat(),
        }
        op = self.journal("consent", actor, ref, fields)
        data = await self.call(http, RECORD_CONSENT, {"input": fields}, op)
        self.settle(op, data["recordConsent"], "dataSubject", set())

    def _acknowledge(self, rid: int, version: int) -> None:
        self.floor[rid] = max(self.floor.get(rid, 0), version)

    # -- figures ----------------------------------------------------------------------------

    def summary(self, seconds: float) -> dict[str, Any]:
        mutations = [op for op in self.ops if op.kind != "register"]
        by_outcome: dict[str, int] = {}
        for op in mutations:
            by_outcome[op.outcome] = by_outcome.get(op.outcome, 0) + 1
        ordered = sorted(self.latencies)

        def pct(q: float) -> float:
            if not ordered:
                return 0.0
            return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

        return {
            "seconds": round(seconds, 1),
            "requests": self.requests,
            "requests_per_second": round(self.requests / seconds, 1) if seconds else 0,
            "reads": self.reads,
            "mutations": len(mutations),
            "outcomes": by_outcome,
            "ok_by_kind": {
                kind: sum(1 for op in mutations if op.kind == kind and op.acknowledged)
                for kind in ("update", "status", "disclosure", "upsert", "consent")
            },
            "stale_version": sum(1 for op in mutations if op.outcome == "stale"),
            "in_flight_at_kill": self.in_flight_at_kill,
            "p50_ms": pct(0.5),
            "p99_ms": pct(0.99),
            "failures": self.failure_count,
        }
