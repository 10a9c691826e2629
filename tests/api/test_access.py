"""Authentication and roles through HTTP: 401 without a valid key, what is open without one,
and every role against every operation. A refused query field is null with a FORBIDDEN error;
a refused mutation answers a FORBIDDEN user error and writes nothing."""

from __future__ import annotations

import base64
import sqlite3
import time
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from server.db.models import (
    ApiKey,
    AuditEvent,
    ConsentRecord,
    DataSubject,
    Disclosure,
    Recipient,
    StatusChange,
)
from server.domain.access import Principal, Role
from server.services import keys
from tests.conftest import MakeClient, QueryCounter, gql, http_client
from tests.helpers import (
    ADD_DISCLOSURE,
    CHANGE_STATUS,
    END_DISCLOSURE,
    REGISTER,
    UPDATE,
    disclosure_input,
    move,
    recipient_input,
    register,
)

TYPENAME = "{ __typename }"
GRAPHQL_RESPONSE = "application/graphql-response+json"

UPSERT = """
mutation Upsert($input: DataSubjectInput!) {
  upsertDataSubject(input: $input) { dataSubject { externalRef } userErrors { field message code } }
}
"""
RECORD_CONSENT = """
mutation Consent($input: ConsentInput!) {
  recordConsent(input: $input) { dataSubject { externalRef } userErrors { field message code } }
}
"""


def gid(type_name: str, node_id: int) -> str:
    return base64.b64encode(f"{type_name}:{node_id}".encode()).decode()


async def snapshot() -> dict[str, int]:
    """Row counts of everything a mutation can write."""
    return {
        "recipients": await Recipient.all().count(),
        "disclosures": await Disclosure.all().count(),
        "ended": await Disclosure.exclude(effective_to=None).count(),
        "status_changes": await StatusChange.all().count(),
        "audit": await AuditEvent.all().count(),
        "subjects": await DataSubject.all().count(),
        "consents": await ConsentRecord.all().count(),
        "versions": sum(await Recipient.all().values_list("version", flat=True)),
    }


# --- authentication -----------------------------------------------------------------------------


def assert_unauthenticated(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["x-request-id"]


async def test_missing_key_is_401(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.post(
        "/graphql", json={"query": TYPENAME}, headers={"accept": "application/json"}
    )
    assert_unauthenticated(response)
    assert response.headers["content-type"].startswith("application/json")
    assert "Authorization: Bearer" in response.json()["errors"][0]["message"]


async def test_401_answers_in_the_accepted_media_type(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.post(
        "/graphql", json={"query": TYPENAME}, headers={"accept": GRAPHQL_RESPONSE}
    )
    assert_unauthenticated(response)
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)


@pytest.mark.parametrize(
    "header",
    [
        "Bearer ri_not-a-key-we-issued-0000000000000000000000000000",
        "Bearer " + "x" * 5000,
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "ri_token-without-scheme",
    ],
    ids=["unknown", "huge", "no-token", "blank-token", "basic", "no-scheme"],
)
async def test_bad_authorization_is_401(
    anonymous: httpx.AsyncClient, client: httpx.AsyncClient, header: str
) -> None:
    before = await snapshot()
    response = await anonymous.post(
        "/graphql",
        json={"query": REGISTER, "variables": {"input": recipient_input()}},
        headers={"authorization": header},
    )
    assert_unauthenticated(response)
    assert await snapshot() == before


async def test_get_query_needs_a_key(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get(
        "/graphql", params={"query": TYPENAME}, headers={"accept": "text/html"}
    )
    assert_unauthenticated(response)


async def test_scheme_is_case_insensitive(app: Any, db: str) -> None:
    token = await keys.create_key("dash", Role.VIEWER, actor="tests")
    async with http_client(app) as http:
        response = await http.post(
            "/graphql", json={"query": TYPENAME}, headers={"authorization": f"bearer  {token} "}
        )
    assert response.status_code == 200, response.text


async def test_revocation_takes_effect_at_once(app: Any, db: str) -> None:
    token = await keys.create_key("soon-gone", Role.ADMIN, actor="tests")
    async with http_client(app, token) as http:
        assert (await http.post("/graphql", json={"query": TYPENAME})).status_code == 200
        await keys.revoke_key("soon-gone", actor="tests")
        assert_unauthenticated(await http.post("/graphql", json={"query": TYPENAME}))


async def test_open_without_a_key(anonymous: httpx.AsyncClient, client: httpx.AsyncClient) -> None:
    assert (await anonymous.get("/healthz")).status_code == 200
    assert (await anonymous.get("/readyz")).status_code == 200
    page = await anonymous.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "query console" in page.text
    # The page holds no key: neither the token of any key nor its hash.
    assert "ri_" not in page.text
    for stored in await ApiKey.all().values_list("token_hash", flat=True):
        assert stored not in page.text


async def test_key_tokens_are_random_and_stored_hashed(db: str) -> None:
    tokens = [await keys.create_key(f"k{i}", Role.VIEWER, actor="tests") for i in range(3)]
    assert len(set(tokens)) == 3
    for token in tokens:
        assert token.startswith("ri_")
        assert len(base64.urlsafe_b64decode(token[3:] + "=")) >= 32
    rows = await ApiKey.all().values_list("token_hash", flat=True)
    assert sorted(rows) == sorted(keys.token_hash(t) for t in tokens)
    assert not set(tokens) & set(rows)
    principal = await keys.authenticate(tokens[1])
    assert principal == Principal("k1", Role.VIEWER)


async def test_names_are_unique_even_after_revocation(db: str) -> None:
    await keys.create_key("alice", Role.PROCUREMENT, actor="tests")
    with pytest.raises(keys.KeyProblem, match="already exists"):
        await keys.create_key("alice", Role.PRIVACY, actor="tests")
    await keys.revoke_key("alice", actor="tests")
    with pytest.raises(keys.KeyProblem, match="already exists"):
        await keys.create_key("alice", Role.PRIVACY, actor="tests")
    with pytest.raises(keys.KeyProblem, match="already revoked"):
        await keys.revoke_key("alice", actor="tests")
    with pytest.raises(keys.KeyProblem, match="No key"):
        await keys.revoke_key("bob", actor="tests")
    with pytest.raises(keys.KeyProblem, match="Key names"):
        await keys.create_key("two words", Role.VIEWER, actor="tests")
    # Unique ignoring case, and never a name the service writes as an actor itself.
    with pytest.raises(keys.KeyProblem, match="another case"):
        await keys.create_key("ALICE", Role.VIEWER, actor="tests")
    for system_name in ("cli", "Fixtures", "anonymous"):
        with pytest.raises(keys.KeyProblem, match="uses for itself"):
            await keys.create_key(system_name, Role.VIEWER, actor="tests")
    events = (
        await AuditEvent.filter(entity_type="ApiKey").order_by("id").values_list("action", "actor")
    )
    assert [tuple(e) for e in events] == [("createApiKey", "tests"), ("revokeApiKey", "tests")]


async def test_last_used_is_recorded_at_most_once_a_minute(
    client_for: MakeClient, sql_counter: QueryCounter
) -> None:
    http = await client_for("viewer", "dash")
    assert (await ApiKey.get(name="dash")).last_used_at is None
    sql_counter.statements.clear()
    for _ in range(3):
        assert (await http.post("/graphql", json={"query": TYPENAME})).status_code == 200
    writes = [s for s in sql_counter.statements if s.startswith("UPDATE api_key")]
    lookups = [s for s in sql_counter.statements if s.startswith("SELECT") and "api_key" in s]
    assert len(writes) == 1, sql_counter.statements
    assert len(lookups) == 3
    assert (await ApiKey.get(name="dash")).last_used_at is not None
    listed = {k.name: k for k in await keys.list_keys()}
    assert listed["dash"].last_used_at is not None


async def test_last_used_is_not_waited_for_while_another_process_writes(
    client_for: MakeClient, db: str
) -> None:
    """Outside a transaction SQLite's busy handler would wait for the other process's lock (up
    to DATABASE_TIMEOUT_MS, 10 s here) holding the connection, and every request with it: the
    bookkeeping write is skipped instead."""
    if not db.startswith("sqlite://"):
        pytest.skip("SQLite only")
    http = await client_for("viewer", "busy-dash")
    other = sqlite3.connect(db[len("sqlite://") :], isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        started = time.monotonic()
        assert (await http.post("/graphql", json={"query": TYPENAME})).status_code == 200
        assert time.monotonic() - started < 1
        other.execute("ROLLBACK")
    finally:
        other.close()
    assert (await ApiKey.get(name="busy-dash")).last_used_at is None


async def test_later_middleware_sees_the_principal(app: Any, db: str) -> None:
    seen: list[Any] = []

    class Recorder:
        def __init__(self, inner: ASGIApp) -> None:
            self.inner = inner

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            await self.inner(scope, receive, send)
            seen.append(scope.get("state", {}).get("principal"))

    app.add_middleware(Recorder)
    token = await keys.create_key("logger-check", Role.PRIVACY, actor="tests")
    async with http_client(app, token) as http:
        await http.post("/graphql", json={"query": TYPENAME})
        await http.get("/healthz")
    assert seen == [Principal("logger-check", Role.PRIVACY), None]


# --- the audit actor is the key's name ------------------------------------------------------------


async def test_audit_actor_is_the_key_name(
    client_for: MakeClient, client: httpx.AsyncClient
) -> None:
    buyer = await client_for("procurement", "alice-procurement")
    dpo = await client_for("privacy", "dpo-office")
    recipient = await register(buyer)
    await move(buyer, recipient["id"], "UNDER_REVIEW")
    await move(dpo, recipient["id"], "APPROVED", "ACTIVE")
    body = await gql(
        client,
        "query($slug: String!) { recipient(slug: $slug) { history { actor action } } }",
        {"slug": recipient["slug"]},
    )
    history = body["data"]["recipient"]["history"]
    assert [(e["actor"], e["action"]) for e in history] == [
        ("dpo-office", "changeRecipientStatus"),
        ("dpo-office", "changeRecipientStatus"),
        ("alice-procurement", "changeRecipientStatus"),
        ("alice-procurement", "registerRecipient"),
    ]
    changes = (
        await StatusChange.filter(recipient_id=1).order_by("id").values_list("actor", flat=True)
    )
    assert changes == ["alice-procurement", "alice-procurement", "dpo-office", "dpo-office"]
    assert (await Recipient.get(slug=recipient["slug"])).registered_by == "alice-procurement"


# --- separation of duties ------------------------------------------------------------------------


async def test_a_key_cannot_approve_what_it_registered(
    client: httpx.AsyncClient, reviewer: httpx.AsyncClient
) -> None:
    recipient = await register(client)
    await move(client, recipient["id"], "UNDER_REVIEW")
    before = await snapshot()
    body = await gql(
        client, CHANGE_STATUS, {"input": {"id": recipient["id"], "status": "APPROVED"}}
    )
    payload = body["data"]["changeRecipientStatus"]
    assert payload["recipient"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("FORBIDDEN", ["input", "status"])
    ]
    assert "Separation of duties" in payload["userErrors"][0]["message"]
    # Only the refused attempt is recorded (issue 11 §6).
    assert await snapshot() == {**before, "audit": before["audit"] + 1}
    # The same key may still reject it, and another key may approve it.
    assert (await move(reviewer, recipient["id"], "APPROVED"))["status"] == "APPROVED"


async def test_privacy_approves_what_procurement_registered(client_for: MakeClient) -> None:
    buyer = await client_for("procurement", "buyer")
    dpo = await client_for("privacy", "dpo")
    recipient = await register(buyer)
    await move(buyer, recipient["id"], "UNDER_REVIEW")
    assert (await move(dpo, recipient["id"], "APPROVED"))["status"] == "APPROVED"


# --- the role x operation matrix ------------------------------------------------------------------


class World:
    """What an operation acts on, made by the admin key test-admin."""

    def __init__(self) -> None:
        self.ids: dict[str, str] = {}
        self.slug = ""
        self.subject_id = 0

    async def build(self, admin: httpx.AsyncClient) -> None:
        for status in ("PROPOSED", "UNDER_REVIEW", "APPROVED", "ACTIVE", "SUSPENDED"):
            recipient = await register(
                admin, name=f"Vendor {status}", status=status, disclosures=[disclosure_input()]
            )
            self.ids[status] = recipient["id"]
            if status == "ACTIVE":
                self.slug = recipient["slug"]
                self.disclosure_id = recipient["disclosures"][0]["id"]
        body = await gql(
            admin,
            UPSERT,
            {
                "input": {
                    "externalRef": "priya",
                    "subjectType": "platform_user",
                    "country": "GB",
                    "dataCategories": ["user.contact.email"],
                }
            },
        )
        assert body["data"]["upsertDataSubject"]["userErrors"] == []
        self.subject_id = (await DataSubject.get(external_ref="priya")).id


def status_move(state: str, target: str) -> Any:
    def op(w: World) -> tuple[str, str, dict[str, Any]]:
        return (
            CHANGE_STATUS,
            "changeRecipientStatus",
            {"input": {"id": w.ids[state], "status": target}},
        )

    return op


MUTATIONS: dict[str, Any] = {
    "register": lambda w: (
        REGISTER,
        "registerRecipient",
        {"input": recipient_input(name="New Vendor")},
    ),
    "registerActive": lambda w: (
        REGISTER,
        "registerRecipient",
        {"input": recipient_input(name="Imported Vendor", status="ACTIVE")},
    ),
    "update": lambda w: (
        UPDATE,
        "updateRecipient",
        {"input": {"id": w.ids["ACTIVE"], "expectedVersion": 1, "name": "Renamed"}},
    ),
    "addDisclosure": lambda w: (
        ADD_DISCLOSURE,
        "addDisclosure",
        {"input": {"recipientId": w.ids["ACTIVE"], "disclosure": disclosure_input()}},
    ),
    "endDisclosure": lambda w: (
        END_DISCLOSURE,
        "endDisclosure",
        {"input": {"id": w.disclosure_id, "effectiveTo": "2030-01-01"}},
    ),
    "submitForReview": status_move("PROPOSED", "UNDER_REVIEW"),
    "approve": status_move("UNDER_REVIEW", "APPROVED"),
    "reject": status_move("UNDER_REVIEW", "REJECTED"),
    "activate": status_move("APPROVED", "ACTIVE"),
    "suspend": status_move("ACTIVE", "SUSPENDED"),
    "resume": status_move("SUSPENDED", "ACTIVE"),
    "offboard": status_move("ACTIVE", "OFFBOARDED"),
    "upsertDataSubject": lambda w: (
        UPSERT,
        "upsertDataSubject",
        {
            "input": {
                "externalRef": "marcus",
                "subjectType": "platform_user",
                "country": "US",
                "dataCategories": ["user.name"],
            }
        },
    ),
    "recordConsent": lambda w: (
        RECORD_CONSENT,
        "recordConsent",
        {
            "input": {
                "subject": {"externalRef": "priya"},
                "purpose": "marketing.communications.email",
                "granted": True,
            }
        },
    ),
}
AFTER_REVIEW = {"approve", "reject", "activate", "suspend", "resume", "offboard"}
PROCUREMENT_MUTATIONS = {"register", "update", "addDisclosure", "endDisclosure", "submitForReview"}
MAY_MUTATE = {
    "viewer": set(),
    "procurement": PROCUREMENT_MUTATIONS,
    "privacy": AFTER_REVIEW | {"upsertDataSubject", "recordConsent"},
    "admin": set(MUTATIONS),
}
ROLES = ["viewer", "procurement", "privacy", "admin"]


@pytest.mark.parametrize("operation", sorted(MUTATIONS))
@pytest.mark.parametrize("role", ROLES)
async def test_mutation_matrix(
    client: httpx.AsyncClient, client_for: MakeClient, role: str, operation: str
) -> None:
    world = World()
    await world.build(client)
    caller = await client_for(role, f"the-{role}")
    query, field, variables = MUTATIONS[operation](world)
    before = await snapshot()
    body = await gql(caller, query, variables)
    assert "errors" not in body, body
    payload = body["data"][field]
    if operation in MAY_MUTATE[role]:
        assert payload["userErrors"] == [], payload
        after = await snapshot()
        assert after != before
        assert after["audit"] > before["audit"]
        assert await AuditEvent.filter(actor=f"the-{role}").count() >= 1
    else:
        errors = payload["userErrors"]
        assert [e["code"] for e in errors] == ["FORBIDDEN"], errors
        assert all(value is None for key, value in payload.items() if key != "userErrors")
        # Nothing changes but the audit trail, which records the refused attempt (issue 11 §6).
        after = await snapshot()
        assert after == {**before, "audit": before["audit"] + 1}
        [event] = await AuditEvent.filter(actor=f"the-{role}")
        assert event.action == f"forbidden:{field}"


QUERIES: dict[str, tuple[str, Any, str]] = {
    "recipients": ("{ recipients { totalCount edges { node { slug } } } }", None, "recipients"),
    "recipient": (
        "query($slug: String!) { recipient(slug: $slug) { name disclosures { id } } }",
        lambda w: {"slug": w.slug},
        "recipient",
    ),
    "recipientNode": (
        "query($id: ID!) { node(id: $id) { id ... on Recipient { name } } }",
        lambda w: {"id": w.ids["ACTIVE"]},
        "node",
    ),
    "history": (
        "query($slug: String!) { recipient(slug: $slug) { history { actor action } } }",
        lambda w: {"slug": w.slug},
        "recipient",
    ),
    "recipientsOfCategory": (
        '{ recipientsOfCategory(key: "user.contact") { slug } }',
        None,
        "recipientsOfCategory",
    ),
    "taxonomy": ("{ dataCategories { key } }", None, "dataCategories"),
    "purposes": ("{ purposes { key } subjectTypes { key } }", None, "purposes"),
    "dataCategory": ('{ dataCategory(key: "user.name") { key } }', None, "dataCategory"),
    "whoReceives": (
        '{ whoReceives(subject: {externalRef: "priya"}) { recipients { recipient { slug } '
        "reasons { explanation } } subject { externalRef consents { granted } } } }",
        None,
        "whoReceives",
    ),
    "dataSubject": (
        '{ dataSubject(ref: {externalRef: "priya"}) { externalRef consents { granted } } }',
        None,
        "dataSubject",
    ),
    "subjectNode": (
        "query($id: ID!) { node(id: $id) { id ... on DataSubject { externalRef } } }",
        lambda w: {"id": gid("DataSubject", w.subject_id)},
        "node",
    ),
}
SUBJECT_QUERIES = {"whoReceives", "dataSubject", "subjectNode"}
MAY_READ_SUBJECTS = {"privacy", "admin"}


@pytest.mark.parametrize("operation", sorted(QUERIES))
@pytest.mark.parametrize("role", ROLES)
async def test_query_matrix(
    client: httpx.AsyncClient, client_for: MakeClient, role: str, operation: str
) -> None:
    world = World()
    await world.build(client)
    caller = await client_for(role, f"the-{role}")
    query, variables, field = QUERIES[operation]
    body = await gql(caller, query, variables(world) if variables else None)
    if operation in SUBJECT_QUERIES and role not in MAY_READ_SUBJECTS:
        assert body["data"] == {field: None}
        assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
            ([field], "FORBIDDEN")
        ]
        assert "privacy" in body["errors"][0]["message"]
    else:
        assert "errors" not in body, body
        assert body["data"][field], body


async def test_forbidden_field_leaves_the_rest_of_the_answer(client_for: MakeClient) -> None:
    viewer = await client_for("viewer", "dashboard")
    body = await gql(
        viewer,
        '{ recipients { totalCount } secret: whoReceives(subject: {externalRef: "x"}) '
        "{ withheld { explanation } } }",
    )
    assert body["data"] == {"recipients": {"totalCount": 0}, "secret": None}
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["secret"], "FORBIDDEN")
    ]


async def test_viewer_cannot_read_a_large_report_on_the_fast_path(
    client: httpx.AsyncClient, client_for: MakeClient
) -> None:
    """A report with many recipients and reasons, answered through plain fields
    (server/graphql/execution.py), is still refused as a whole to roles without access to
    subjects."""
    world = World()
    await world.build(client)
    for i in range(30):
        await register(
            client, name=f"Active {i}", status="ACTIVE", disclosures=[disclosure_input()]
        )
    query = (
        '{ whoReceives(subject: {externalRef: "priya"}) { subject { externalRef } '
        "recipients { recipient { slug } via { slug } reasons { explanation "
        "dataCategories { key } disclosure { id } } } withheld { reason } } }"
    )
    allowed = await gql(await client_for("privacy", "dpo"), query)
    assert "errors" not in allowed
    assert len(allowed["data"]["whoReceives"]["recipients"]) == 31
    for role in ("viewer", "procurement"):
        body = await gql(await client_for(role, f"the-{role}"), query)
        assert body["data"] == {"whoReceives": None}
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
