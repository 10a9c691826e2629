"""Hostile inputs (issue 4 §5) through HTTP with an admin key, on every test database.

The string fields are found by walking the served schema: every String, ID, Date and DateTime
in every mutation's input (through nested inputs and lists) and in every query's arguments, so a
new field is covered without a change here. A new mutation needs a valid input in
`base_input`, and fails until it has one.

- Inputs that must be refused everywhere (100,000 characters, NUL, a lone surrogate, invalid
  UTF-8, a body over the limit) get a 4xx, a GraphQL error or userErrors that name the field,
  and leave every table exactly as it was.
- SQL and script fragments, control characters and astral characters are legitimate text in
  some fields: there they are stored and rendered back verbatim (never executed); everywhere
  else they are refused as above.
- Deeply nested variables, 10,000 aliases, huge and wrong-typed numbers: clear errors, nothing
  written.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import json
from datetime import UTC, datetime
from typing import Any

import graphql
import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
    is_leaf_type,
)
from tortoise import Tortoise

from server.db.models import ChangeRequest
from server.domain.access import Role
from server.domain.enums import ProcessingRole, RecipientKind, RecipientStatus
from server.graphql.nodes import global_id
from server.graphql.schema import schema_sdl
from server.services import registration
from server.services.commands import RegisterRecipient
from server.settings import Settings
from tests.conftest import INVENTORY_TABLES, gql
from tests.fuzz.checks import check_answer, send, snapshot, tables
from tests.helpers import disclosure_input, recipient_input, register

SCHEMA = graphql.build_schema(schema_sdl())
STRING_SCALARS = {"String", "ID", "Date", "DateTime"}
MAX_BODY = Settings().max_body_bytes
MARKETING = "marketing.communications.email"
Path = tuple[str | int, ...]

# Refused in every string field.
LONG = "x" * 100_000  # well under the body limit
NUL = "before\x00after"
SURROGATE = "\ud800 alone"  # a lone surrogate: not Unicode, JSON's \ud800 escape
INVALID_UTF8 = "@@INVALID-UTF8@@"  # replaced in the body by bytes that are not UTF-8
OVER_LIMIT = "y" * (MAX_BODY + 1)
REFUSED = {
    "100k-chars": LONG,
    "nul": NUL,
    "lone-surrogate": SURROGATE,
    "invalid-utf8": INVALID_UTF8,
    "over-body-limit": OVER_LIMIT,
}
# Legitimate text in free-text fields (stored verbatim there), refused in the others.
FRAGMENTS = {
    "sql-drop": "'; DROP TABLE recipient; --",
    "sql-or": '" OR 1=1 --',
    "sql-delete": "Robert'); DELETE FROM audit_event; --",
    "sql-like": "%' OR '%'='",
    "sql-sleep": "1; SELECT pg_sleep(30); --",
    "script": "<script>alert(1)</script>",
    "img-onerror": '"><img src=x onerror=alert(1)>',
    "template": "{{7*7}} days ${7*7} #{7*7}",
    "json": '{"$ne": null}',
    "astral": "Déjà vu 😀 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 שָׁלוֹם",
    "bidi": "abc\u202egnp.exe",
    "control": "bell\x07escape\x1b[31m",
}
# Free-text fields: an SQL or script fragment is a legitimate value there and must be kept.
FREE_TEXT = {
    "name",
    "legalName",
    "description",
    "note",
    "retention",
    "reference",
    "externalRef",
    "corporateGroup",
}
CONTROL_FREE = {"control"}  # values some free-text fields refuse (names, retention)
# Mutations that refuse a file in a report (each problem placed in the file), not userErrors.
REPORTED = {"importInventory": "report { applied problems { row column message } }"}
# Mutations whose success leaves World.target as it was (others get a fresh target after).
LEAVE_THE_TARGET = {"registerRecipient", "addDisclosure", "upsertDataSubject", "recordConsent"}


# -- the schema, walked ---------------------------------------------------------------------------


def string_paths(type_: GraphQLInputType, depth: int = 0) -> list[Path]:
    """Paths to every string-valued leaf under an input type (index 0 for lists)."""
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if depth > 8:
        return []
    if isinstance(type_, GraphQLList):
        return [(0, *p) for p in string_paths(type_.of_type, depth + 1)]
    if isinstance(type_, GraphQLInputObjectType):
        return [
            (name, *p)
            for name, field in type_.fields.items()
            for p in string_paths(field.type, depth + 1)
        ]
    if isinstance(type_, GraphQLScalarType) and type_.name in STRING_SCALARS:
        return [()]
    return []


MUTATIONS = sorted(SCHEMA.mutation_type.fields) if SCHEMA.mutation_type else []


def mutation_input_type(name: str) -> GraphQLInputType:
    field = SCHEMA.mutation_type.fields[name]  # type: ignore[union-attr]
    assert list(field.args) == ["input"], f"{name}: only mutations with one `input` are walked"
    return field.args["input"].type


def mutation_document(name: str) -> str:
    field = SCHEMA.mutation_type.fields[name]  # type: ignore[union-attr]
    payload = get_named_type(field.type)
    assert isinstance(payload, GraphQLObjectType)
    selections = ["userErrors { field message code }"]
    if name in REPORTED:
        selections.append(REPORTED[name])
    for key, sub in payload.fields.items():
        target = get_named_type(sub.type)
        if key != "userErrors" and isinstance(target, GraphQLObjectType) and "id" in target.fields:
            selections.append(f"{key} {{ id }}")
    input_type = mutation_input_type(name)
    return (
        f"mutation Hostile($input: {input_type}) {{ {name}(input: $input) "
        f"{{ {' '.join(selections)} }} }}"
    )


def read_back_selection(
    type_: GraphQLObjectType, depth: int, alias: str = "", clashing: frozenset[str] = frozenset()
) -> str:
    """Every field without required arguments, objects `depth` levels down; the top level's
    fields named in `clashing` under `<alias>_<field>` (types behind one interface may give a
    field of the same name different types: ChangeRequest.status and Recipient.status)."""
    parts = []
    for name, field in type_.fields.items():
        if any(
            isinstance(a.type, GraphQLNonNull) and a.default_value is graphql.Undefined
            for a in field.args.values()
        ):
            continue
        named = get_named_type(field.type)
        key = f"{alias}_{name}: {name}" if name in clashing else name
        if is_leaf_type(named):
            parts.append(key)
        elif depth > 0 and isinstance(named, GraphQLObjectType):
            parts.append(f"{key} {{ {read_back_selection(named, depth - 1)} }}")
    return " ".join(parts) or "__typename"


def _read_back_query() -> str:
    node = SCHEMA.get_type("Node")
    assert node is not None
    types = SCHEMA.get_possible_types(node)  # type: ignore[arg-type]
    shapes: dict[str, set[str]] = {}
    for t in types:
        for name, field in t.fields.items():
            shapes.setdefault(name, set()).add(str(field.type))
    clashing = frozenset(name for name, found in shapes.items() if len(found) > 1)
    fragments = [
        f"... on {t.name} {{ {read_back_selection(t, 2, t.name, clashing)} }}" for t in types
    ]
    return f"query ReadBack($id: ID!) {{ node(id: $id) {{ {' '.join(fragments)} }} }}"


READ_BACK = _read_back_query()


def set_path(value: dict[str, Any], path: Path, leaf: Any) -> dict[str, Any]:
    """A copy of `value` with `leaf` at `path` (missing objects and string lists are made)."""
    out = copy.deepcopy(value)
    here: Any = out
    for i, step in enumerate(path[:-1]):
        following = path[i + 1]
        if isinstance(step, int):
            assert isinstance(here, list) and len(here) > step, (
                f"the base input has no element at {path[: i + 1]}: give it one"
            )
        elif step not in here or here[step] is None:
            if isinstance(following, int):
                # A list of strings can be made; a list of inputs needs a valid element.
                assert i + 2 == len(path), f"the base input needs a list at {path[: i + 1]}"
                here[step] = []
            else:
                here[step] = {}
        here = here[step]
    last = path[-1]
    if isinstance(last, int):
        assert isinstance(here, list), path
        if len(here) > last:
            here[last] = leaf
        else:
            here.append(leaf)
    else:
        here[last] = leaf
    return out


def field_name(path: Path) -> str:
    return next(str(p) for p in reversed(path) if isinstance(p, str))


# -- the world the mutations act on ------------------------------------------------------------


class World:
    """A recipient (with one disclosure) and a data subject for the mutations to work on; a
    fresh recipient after an accepted change, so each input meets the same state."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.numbers = itertools.count(1)
        self.target: dict[str, Any] = {}
        self.police: dict[str, Any] = {}
        self.establishment: dict[str, Any] = {}
        self.change_id = ""
        self.ready_at = datetime.now(UTC)

    async def setup(self) -> None:
        body = await gql(
            self.client,
            "mutation($input: DataSubjectInput!) { upsertDataSubject(input: $input) "
            "{ userErrors { message } } }",
            {
                "input": {
                    "externalRef": "subject-1",
                    "subjectType": "platform_user",
                    "country": "GB",
                    "dataCategories": ["user.contact.email"],
                }
            },
        )
        assert body["data"]["upsertDataSubject"]["userErrors"] == [], body
        # A police force that may ask for subject-1's email: events fall under its disclosure.
        self.police = await register(
            self.client,
            name="Metro Police",
            kind="PUBLIC_AUTHORITY",
            role="CONTROLLER",
            status="ACTIVE",
            disclosures=[
                disclosure_input(
                    effectiveFrom="2024-01-01",
                    frequency="ON_REQUEST",
                    legalBasis="LEGAL_OBLIGATION",
                    ground="LEGAL_DUTY",
                    transfers=[],
                )
            ],
        )
        self.ready_at = datetime.now(UTC)
        await self.renew()

    async def renew(self) -> None:
        n = next(self.numbers)
        # An import by another admin key: a change this world's key may decide.
        imported = await registration.register_recipient(
            RegisterRecipient(
                name=f"Imported {n}",
                slug=f"imported-{n}",
                kind=RecipientKind.SERVICE_PROVIDER,
                role=ProcessingRole.CONTROLLER,
                country="DE",
                status=RecipientStatus.ACTIVE,
            ),
            actor="importer",
            role=Role.ADMIN,
        )
        change = await ChangeRequest.get(recipient_id=imported.recipient.id)
        self.change_id = global_id("ChangeRequest", change.id)
        self.target = await register(
            self.client,
            name=f"Target {n}",
            slug=f"target-{n}",
            disclosures=[disclosure_input(effectiveFrom="2024-01-01")],
        )
        body = await gql(
            self.client,
            "mutation($input: EstablishmentInput!) { registerEstablishment(input: $input) "
            "{ establishment { id version } userErrors { message } } }",
            {"input": {"name": f"Office {n}", "slug": f"office-{n}", "country": "GB",
                       "targets": ["EEA"]}},
        )  # fmt: skip
        payload = body["data"]["registerEstablishment"]
        assert payload["userErrors"] == [], body
        self.establishment = payload["establishment"]

    def base_input(self, mutation: str) -> dict[str, Any]:
        """A valid input for the mutation (each is checked by test_base_inputs_are_accepted)."""
        n = next(self.numbers)
        target = self.target
        transfer = {
            "country": "US",
            "mechanism": "STANDARD_CONTRACTUAL_CLAUSES",
            "reference": "SCC module 2",
        }
        disclosure = disclosure_input(effectiveFrom="2024-01-01", transfers=[transfer])
        certifications = [{"framework": "EU_US", "certifiedOn": "2024-01-01"}]
        if mutation == "registerRecipient":
            return recipient_input(
                name=f"Beta Mail {n}",
                slug=f"beta-mail-{n}",
                legalName="Beta Mail Ltd",
                description="Sends our mail.",
                privacyPolicyUrl="https://beta-mail.example/privacy",
                dpaSignedOn="2024-01-01",
                disclosures=[disclosure],
                dpfCertifications=certifications,
            )
        if mutation == "updateRecipient":
            return {
                "id": target["id"],
                "expectedVersion": target["version"],
                "dpfCertifications": certifications,
            }
        if mutation == "changeRecipientStatus":
            return {"id": target["id"], "status": "UNDER_REVIEW", "note": "Ready for review."}
        if mutation == "addDisclosure":
            return {"recipientId": target["id"], "disclosure": disclosure}
        if mutation == "endDisclosure":
            return {"id": target["disclosures"][0]["id"], "effectiveTo": "2030-01-01"}
        if mutation == "updateDisclosure":
            return {
                "id": target["disclosures"][0]["id"],
                "expectedVersion": 1,
                "dataCategories": ["user.contact.email", "user.name"],
                "retention": f"P{n}D",
                "transfers": [transfer],
            }
        if mutation == "upsertDataSubject":
            return {
                "externalRef": f"user-{n}",
                "subjectType": "platform_user",
                "country": "GB",
                "dataCategories": ["user.contact.email"],
            }
        if mutation == "recordConsent":
            return {
                "subject": {"externalRef": "subject-1"},
                "purpose": MARKETING,
                "granted": True,
                "recordedAt": "2024-06-01T12:00:00+00:00",
            }
        if mutation == "recordTransferConsent":
            return {
                "subject": {"externalRef": "subject-1"},
                "recipient": target["id"],
                "country": "US",
                "granted": True,
                "decidedAt": "2024-06-01T12:00:00+00:00",
            }
        if mutation == "registerEstablishment":
            return {
                "name": f"Lumora Works {n}",
                "slug": f"lumora-works-{n}",
                "legalName": "Lumora Works Limited",
                "country": "GB",
                "targets": ["EEA"],
            }
        if mutation == "updateEstablishment":
            return {
                "id": self.establishment["id"],
                "expectedVersion": self.establishment["version"],
                "name": f"Office {n} (London)",
            }
        if mutation == "importInventory":
            # A dry run: the file is checked against the inventory and nothing is written.
            return {
                "format": "CSV",
                "content": "Slug,Name,Kind,Role,Country,Services\n"
                f"gamma-mail-{n},Gamma Mail {n},Service provider,Processor,Germany,email\n",
                "dryRun": True,
                "defaultCountry": "DE",
            }
        if mutation == "recordDisclosureEvent":
            return {
                "subject": {"externalRef": "subject-1"},
                "disclosure": self.police["disclosures"][0]["id"],
                "occurredAt": self.ready_at.isoformat(),
                "reference": f"CASE-{n}",
                "note": "Production order served.",
            }
        if mutation == "decideChange":
            return {"id": self.change_id, "approve": True, "note": "Checked against the contract."}
        pytest.fail(f"No base input for the mutation {mutation}: add one to World.base_input")


@pytest.fixture
async def world(client: httpx.AsyncClient) -> World:
    made = World(client)
    await made.setup()
    return made


# -- sending and judging --------------------------------------------------------------------------


def body_bytes(payload: dict[str, Any]) -> bytes:
    """JSON with non-ASCII escaped (so a lone surrogate goes as \\ud800), the marker for
    invalid UTF-8 replaced by bytes that are not UTF-8."""
    raw = json.dumps(payload).encode("ascii")
    return raw.replace(INVALID_UTF8.encode(), b"\xff\xfe\xed\xa0\x80 \xc3")


async def counts() -> dict[str, int]:
    """Rows in each table, in one statement (cheap enough for after every request)."""
    names = await tables()
    sql = " UNION ALL ".join(f"SELECT '{t}' AS t, COUNT(*) AS n FROM \"{t}\"" for t in names)
    rows = await Tortoise.get_connection("default").execute_query_dict(sql)
    return {row["t"]: int(row["n"]) for row in rows}


def refusal(body: dict[str, Any], status: int, mutation: str, path: Path) -> None:
    """The request was refused, and the answer says which field is wrong: the body or
    transport (413, or 400 for a body that is not JSON), a GraphQL error naming the field,
    or userErrors whose path leads to it."""
    if status == 413 or (status == 400 and "data" not in body and not _mentions_field(body)):
        # Refused before GraphQL: the body as a whole (its size, its encoding, NUL).
        message = body["errors"][0]["message"]
        assert any(word in message for word in ("JSON", "UTF-8", "surrogate", "NUL", "bytes")), (
            message
        )
        return
    if body.get("errors"):
        assert body.get("data") is None, body
        assert _mentions_field(body, field_name(path)), (path, body)
        return
    payload = body["data"][mutation]
    found = payload["userErrors"]
    if mutation in REPORTED and not found:
        # The file itself (`content`) was refused: its problems are in the report, and
        # nothing was applied.
        report = payload["report"]
        assert path == ("content",) and report["problems"] and not report["applied"], payload
        return
    assert found, (path, "accepted", payload)
    assert all(v is None for k, v in payload.items() if k != "userErrors"), payload
    wanted = ["input", *map(str, path)]
    assert any(
        len(e["field"] or []) >= 2 and wanted[: len(e["field"])] == e["field"] for e in found
    ), (
        wanted,
        found,
    )


def _mentions_field(body: dict[str, Any], name: str | None = None) -> bool:
    messages = " ".join(e["message"] for e in body.get("errors") or [])
    if name is None:
        return "input" in messages
    return name in messages


def leaf_strings(value: Any) -> set[str]:
    """Every string in a JSON value, and in JSON held in strings (the audit's `changes`)."""
    out: set[str] = set()
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            out.add(item)
            if item[:1] in "{[":
                with contextlib.suppress(ValueError):
                    pending.append(json.loads(item))
    return out


async def attempt(
    world: World, mutation: str, path: Path, value: str
) -> tuple[httpx.Response, dict[str, Any]]:
    variables = {"input": set_path(world.base_input(mutation), path, value)}
    payload = {"query": mutation_document(mutation), "variables": variables}
    response = await send(world.client, content=body_bytes(payload))
    return response, check_answer(response)


def paths_of(mutation: str) -> list[Path]:
    found = string_paths(mutation_input_type(mutation))
    assert found, f"{mutation} has no string fields?"
    return found


# -- the tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mutation", MUTATIONS)
async def test_base_inputs_are_accepted(world: World, mutation: str) -> None:
    """The valid inputs the other tests spoil one field of: refusals there are the field's."""
    response = await send(
        world.client,
        {"query": mutation_document(mutation), "variables": {"input": world.base_input(mutation)}},
    )
    body = check_answer(response)
    assert "errors" not in body, body
    assert body["data"][mutation]["userErrors"] == [], body


@pytest.mark.parametrize("mutation", MUTATIONS)
async def test_refused_in_every_string_field(world: World, mutation: str) -> None:
    before = await snapshot()
    before_counts = await counts()
    for path in paths_of(mutation):
        for label, value in REFUSED.items():
            response, body = await attempt(world, mutation, path, value)
            where = (mutation, path, label, response.status_code, response.text[:500])
            if label == "over-body-limit":
                assert response.status_code == 413, where
            elif label in ("nul", "lone-surrogate", "invalid-utf8"):
                assert response.status_code == 400, where
            refusal(body, response.status_code, mutation, path)
            assert await counts() == before_counts, where
    assert await snapshot() == before


@pytest.mark.parametrize("mutation", MUTATIONS)
async def test_fragments_are_refused_or_stored_verbatim(world: World, mutation: str) -> None:
    accepted: set[tuple[Path, str]] = set()
    all_tables = await tables()
    at_start = await snapshot()
    # After each request, the tables requests write (the others are compared at the end).
    before = await snapshot(INVENTORY_TABLES)
    for path in paths_of(mutation):
        for label, value in FRAGMENTS.items():
            response, body = await attempt(world, mutation, path, value)
            where = (mutation, path, label, response.status_code, response.text[:500])
            payload = (body.get("data") or {}).get(mutation) or {}
            after = await snapshot(INVENTORY_TABLES)
            if (
                body.get("errors")
                or payload.get("userErrors")
                or (payload.get("report") or {}).get("problems")
            ):
                refusal(body, response.status_code, mutation, path)
                assert after == before, where
                continue
            accepted.add((path, label))
            # Stored, and rendered back verbatim by a separate read.
            ids = [v["id"] for k, v in payload.items() if k != "userErrors" and v]
            assert len(ids) == 1, where
            read = await gql(world.client, READ_BACK, {"id": ids[0]})
            assert "errors" not in read, read
            assert value in leaf_strings(read["data"]), (where, read)
            # Not executed: every table is still there and no table lost rows.
            assert await tables() == all_tables, where
            assert all(after[t][0] >= before[t][0] for t in before), (where, before, after)
            if mutation not in LEAVE_THE_TARGET:
                await world.renew()
                after = await snapshot(INVENTORY_TABLES)
            before = after
    at_end = await snapshot()
    assert {t: v for t, v in at_end.items() if t not in INVENTORY_TABLES} == {
        t: v for t, v in at_start.items() if t not in INVENTORY_TABLES
    }
    # The free-text fields keep these fragments (the either-or above must not be vacuous).
    for path in paths_of(mutation):
        if field_name(path) not in FREE_TEXT or path[0] == "subject":
            continue  # a reference to look up (a subject), not text to store
        for label in FRAGMENTS:
            if label in CONTROL_FREE:
                continue
            assert (path, label) in accepted, (mutation, path, label, "was refused")


# -- queries --------------------------------------------------------------------------------------


def default_value(type_: GraphQLInputType) -> Any:
    """A valid value for a required argument (strings are spoiled one at a time after)."""
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if isinstance(type_, GraphQLList):
        return []
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        return {
            name: default_value(field.type)
            for name, field in type_.fields.items()
            if isinstance(field.type, GraphQLNonNull)
        }
    return {"Int": 1, "Float": 1.0, "Boolean": True}.get(type_.name, "x")  # type: ignore[union-attr]


def query_cases() -> list[tuple[str, str, dict[str, Any], Path]]:
    """(field, document, base variables, path) for every string under every query argument."""
    query_type = SCHEMA.query_type
    assert query_type is not None
    cases = []
    for name, field in sorted(query_type.fields.items()):
        if not field.args:
            continue
        named = get_named_type(field.type)
        selection = "" if is_leaf_type(named) else "{ __typename }"
        definitions = ", ".join(f"${a}: {arg.type}" for a, arg in field.args.items())
        arguments = ", ".join(f"{a}: ${a}" for a in field.args)
        document = f"query Hostile({definitions}) {{ {name}({arguments}) {selection} }}"
        base = {
            a: default_value(arg.type)
            for a, arg in field.args.items()
            if isinstance(arg.type, GraphQLNonNull)
        }
        for a, arg in field.args.items():
            for path in string_paths(arg.type):
                cases.append((name, document, base, (a, *path)))
    return cases


QUERY_CASES = query_cases()


async def test_hostile_strings_in_every_query_argument(client: httpx.AsyncClient) -> None:
    """Queries write nothing and answer cleanly whatever their arguments hold."""
    assert {case[0] for case in QUERY_CASES} >= {"recipient", "recipients", "dataSubject"}
    await register(client, name="Acme Mail")
    before = await snapshot()
    before_counts = await counts()
    for name, document, base, path in QUERY_CASES:
        for label, value in {**REFUSED, **FRAGMENTS}.items():
            variables = set_path(base, path, value)
            content = body_bytes({"query": document, "variables": variables})
            response = await send(client, content=content)
            where = (name, path, label, response.status_code, response.text[:500])
            check_answer(response)
            if label == "over-body-limit":
                assert response.status_code == 413, where
            assert await counts() == before_counts, where
    assert await snapshot() == before


SEARCH = "query($search: String) { recipients(filter: {search: $search}) { totalCount } }"


async def test_search_matches_text_not_patterns(client: httpx.AsyncClient) -> None:
    """SQL fragments and LIKE wildcards in the search match literally: none of these names
    contains them, so nothing matches (an injected OR or an unescaped % would match all)."""
    for name in ("Acme Mail", "Beta Analytics", "Gamma Hosting"):
        await register(client, name=name)
    everything = await gql(client, SEARCH, {"search": None})
    assert everything["data"]["recipients"]["totalCount"] == 3
    for search in [*FRAGMENTS.values(), "%", "_", "\\", "%%", "' OR ''='", "*"]:
        response = await send(client, {"query": SEARCH, "variables": {"search": search}})
        body = check_answer(response)
        assert body["data"]["recipients"]["totalCount"] == 0, (search, body)


# -- the body and its numbers ------------------------------------------------------------------


def nested(depth: int, leaf: str = "") -> str:
    return "[" * depth + leaf + "]" * depth


def raw_update(input_json: str) -> bytes:
    """An updateRecipient whose input is this JSON text, as sent."""
    return (
        '{"query": "mutation($input: UpdateRecipientInput!) { updateRecipient(input: $input) '
        '{ recipient { id } userErrors { field message code } } }", "variables": {"input": '
        + input_json
        + "}}"
    ).encode()


def raw_register(input_json: str) -> bytes:
    return (
        '{"query": "mutation($input: RegisterRecipientInput!) { registerRecipient(input: '
        '$input) { recipient { id } userErrors { field message code } } }", "variables": '
        '{"input": ' + input_json + "}}"
    ).encode()


def aliased(count: int, field: str) -> str:
    return " ".join(f"a{i}: {field}" for i in range(count))


def transport_cases(target: dict[str, Any]) -> dict[str, tuple[bytes, int | None]]:
    """name: (body, the status it must get, or None for any refusal)."""
    rid = json.dumps(target["id"])
    register_base = json.dumps(recipient_input(name="Hostile Mail"))

    def update(extra: str) -> bytes:
        return raw_update('{"id": ' + rid + ', "name": "Renamed", ' + extra + "}")

    def register_with(key: str, value_json: str) -> bytes:
        return raw_register(register_base[:-1] + f', "{key}": {value_json}}}')

    mutation_field = (
        'registerRecipient(input: {name: \\"Alias Mail\\", kind: SERVICE_PROVIDER, '
        'role: PROCESSOR, country: \\"US\\"}) { recipient { id } }'
    )
    return {
        # Deeply nested lists in variables: under orjson's depth limit (1,024) and over it.
        "nested-list-1000": (register_with("services", nested(1000, '"a"')), 400),
        "nested-list-10000": (register_with("services", nested(10_000)), 400),
        "nested-objects-1000": (
            register_with("website", '{"a": ' * 1000 + "1" + "}" * 1000),
            400,
        ),
        # Aliases: 10,000 of a field (over the token limit), of a mutation (over the body
        # limit), and of mutations just over the alias limit: nothing runs, nothing is written.
        "aliases-10000-typename": (
            json.dumps({"query": "{ " + aliased(10_000, "__typename") + " }"}).encode(),
            400,
        ),
        "aliases-10000-mutations": (
            ('{"query": "mutation { ' + aliased(10_000, mutation_field) + ' }"}').encode(),
            413,
        ),
        "aliases-31-mutations": (
            ('{"query": "mutation { ' + aliased(31, mutation_field) + ' }"}').encode(),
            400,
        ),
        # Huge and wrong-typed numbers for Int arguments.
        "version-2^31": (update('"expectedVersion": 2147483648'), 400),
        "version-2^64": (update('"expectedVersion": 18446744073709551616'), 400),
        "version--2^63": (update('"expectedVersion": -9223372036854775808'), 400),
        "version-10^400": (update('"expectedVersion": 1' + "0" * 400), 400),
        "version-1e308": (update('"expectedVersion": 1e308'), 400),
        "version-1e400": (update('"expectedVersion": 1e400'), 400),
        "version-1.5": (update('"expectedVersion": 1.5'), 400),
        "version-string": (update('"expectedVersion": "1"'), 400),
        "version-bool": (update('"expectedVersion": true'), 400),
        "version-list": (update('"expectedVersion": [1]'), 400),
        "version-object": (update('"expectedVersion": {"n": 1}'), 400),
        "version-null": (update('"expectedVersion": null'), 400),
        "version-literal-2^64": (
            json.dumps(
                {
                    "query": "mutation { updateRecipient(input: {id: "
                    + rid
                    + ', expectedVersion: 18446744073709551616, name: "Renamed"}) '
                    "{ userErrors { message } } }"
                }
            ).encode(),
            400,
        ),
        "first-2^64": (
            b'{"query": "query($n: Int) { recipients(first: $n) { totalCount } }", '
            b'"variables": {"n": 18446744073709551616}}',
            400,
        ),
        "first-literal-10^400": (
            json.dumps(
                {"query": "{ recipients(first: 1" + "0" * 400 + ") { totalCount } }"}
            ).encode(),
            400,
        ),
        "first-literal-5000-digits": (
            json.dumps(
                {"query": "{ recipients(first: 1" + "0" * 5000 + ") { totalCount } }"}
            ).encode(),
            400,
        ),
        "first-float": (
            b'{"query": "{ recipients(first: 1.5e300) { totalCount } }"}',
            400,
        ),
        # Wrong types for strings, enums, dates and whole inputs.
        "name-number": (register_with("name", "123"), 400),
        "name-list": (register_with("name", '["Acme"]'), 400),
        "kind-number": (register_with("kind", "1"), 400),
        "date-number": (register_with("dpaSignedOn", "20240101"), 400),
        "input-string": (raw_register('"everything"'), 400),
        "input-list": (raw_register("[" + register_base + "]"), 400),
        "variables-list": (b'{"query": "{ __typename }", "variables": [1, 2]}', 400),
        "query-number": (b'{"query": 42}', 400),
    }


# What the first error of each says (the limits' own words, or the field that is wrong).
TRANSPORT_MESSAGES = {
    "nested-list-1000": "nested too deeply",
    "nested-list-10000": "depth limit exceeded",
    "nested-objects-1000": "nested too deeply",
    "aliases-10000-typename": "more than 5000 tokens",
    "aliases-10000-mutations": f"over {MAX_BODY} bytes",
    "aliases-31-mutations": "31 aliases",
    "version-2^31": "expectedVersion: Int cannot represent non 32-bit",
    "version-2^64": "expectedVersion: Int cannot represent non 32-bit",
    "version--2^63": "expectedVersion: Int cannot represent non 32-bit",
    "version-10^400": "number is infinity",
    "version-1e308": "expectedVersion: Int cannot represent non 32-bit",
    "version-1e400": "number is infinity",
    "version-1.5": "expectedVersion: Int cannot represent non-integer",
    "version-string": "expectedVersion: Int cannot represent non-integer",
    "version-bool": "expectedVersion: Int cannot represent non-integer",
    "version-list": "expectedVersion: Int cannot represent non-integer",
    "version-object": "expectedVersion: Int cannot represent non-integer",
    "version-null": "expectedVersion: Expected value of non-null type",
    "version-literal-2^64": "Int cannot represent non 32-bit",
    "first-2^64": "can return up to 2,147,483,648 nodes",
    "first-literal-10^400": "Int cannot represent non 32-bit",
    "first-literal-5000-digits": "Expected value of type 'Int'",
    "first-float": "Int cannot represent non-integer",
    "name-number": ".name: String cannot represent",
    "name-list": ".name: String cannot represent",
    "kind-number": ".kind: Enum 'RecipientKind' cannot represent",
    "date-number": ".dpaSignedOn: Value cannot represent a Date",
    "input-string": "'RegisterRecipientInput' to be an object",
    "input-list": "'RegisterRecipientInput' to be an object",
    "variables-list": "`variables` must be a JSON object",
    "query-number": "`query` must be a string",
}


async def test_hostile_bodies_and_numbers(world: World) -> None:
    cases = transport_cases(world.target)
    assert set(cases) == set(TRANSPORT_MESSAGES)
    before = await snapshot()
    for label, (content, status) in cases.items():
        response = await send(world.client, content=content)
        body = check_answer(response)
        where = (label, response.status_code, response.text[:500])
        if status is not None:
            assert response.status_code == status, where
        assert "data" not in body or body["data"] is None, where
        assert TRANSPORT_MESSAGES[label] in body["errors"][0]["message"], where
        assert await snapshot() == before, where
