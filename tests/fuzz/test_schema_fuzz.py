"""Fuzzing the served schema (issue 4 §5): hypothesis-graphql writes queries and mutations from
the schema's SDL, valid ones and ones with a single violation, and each goes through HTTP with an
admin key to the real application and services, on every test database. Every answer must be a
well-formed GraphQL answer under 500, with no unexpected exception, stack trace or SQL in it
(tests/fuzz/checks.py).

FUZZ_EXAMPLES sets the examples per test (a small number for `make test`; `make soak` sets
3000). Without it the examples are the same each run (derandomized); with it they are new each
run, and a failure prints the blob to reproduce it with."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import graphql
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, mutations, nodes, queries
from strawberry.relay import to_base64

from server.db.models import DataCategory, DataSubject, Disclosure, Purpose, Recipient, SubjectType
from server.graphql.schema import schema_sdl
from server.services.fixtures import load_fixtures
from tests.fuzz.checks import GRAPHQL_RESPONSE, JSON, check_answer, send

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SCHEMA = graphql.build_schema(schema_sdl())
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize="FUZZ_EXAMPLES" not in os.environ,
    database=None,
    print_blob=True,
    # The database and client fixtures are shared by a test's examples on purpose: the
    # inventory grows as the fuzzer's mutations succeed.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

# Strings people type, random text (NUL left out: NUL refuses the whole request, and
# test_hostile_inputs covers it) and text a service checks: countries, URLs, durations.
RANDOM_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"], exclude_characters="\x00"),
    max_size=40,
)
CHECKED_TEXT = st.sampled_from(
    [
        "GB", "US", "DE", "IN", "UK", "gb", "XX", "", " ",
        "https://example.com/privacy", "ftp://x", "javascript:alert(1)",
        "P30D", "P2Y6M", "PT", "until the account is closed",
        "acme-mail", "email-delivery", "Not A Slug",
    ]
)  # fmt: skip


async def known_values() -> dict[str, list[str]]:
    """What the seeded inventory holds, so that generated IDs, slugs and keys often exist."""
    recipients = await Recipient.all().values_list("id", "slug")
    disclosures = await Disclosure.all().values_list("id", flat=True)
    subjects = await DataSubject.all().values_list("id", "external_ref")
    return {
        "ids": [to_base64("Recipient", i) for i, _ in recipients]
        + [to_base64("Disclosure", i) for i in disclosures]
        + [to_base64("DataSubject", i) for i, _ in subjects],
        "strings": [slug for _, slug in recipients]
        + [ref for _, ref in subjects]
        + list(await DataCategory.all().values_list("key", flat=True))
        + list(await Purpose.all().values_list("key", flat=True))
        + list(await SubjectType.all().values_list("key", flat=True)),
    }


def custom_scalars(known: dict[str, list[str]]) -> dict[str, st.SearchStrategy[Any]]:
    """Value nodes for the schema's scalars: mostly plausible, some malformed."""
    ids = st.sampled_from(known["ids"]).map(nodes.String)
    bad_ids = st.one_of(
        RANDOM_TEXT,
        st.sampled_from(["Recipient:1", to_base64("Recipient", "abc"), to_base64("Invoice", 1)]),
        st.integers(-(2**40), 2**40).map(lambda n: to_base64("Disclosure", n)),
    ).map(nodes.String)
    dates = st.dates().map(lambda d: d.isoformat())
    bad_dates = st.sampled_from(["2024-02-30", "2024-13-01", "yesterday", "", "20240101"])
    datetimes = st.datetimes(timezones=st.none() | st.timezones()).map(lambda d: d.isoformat())
    bad_datetimes = st.sampled_from(["2024-01-01T25:00:00", "now", "", "2024-01-01T00:00:00+99:00"])
    return {
        "ID": st.one_of(ids, ids, ids, bad_ids, st.integers(0, 2**31 - 1).map(nodes.Int)),
        "String": st.one_of(st.sampled_from(known["strings"]), CHECKED_TEXT, RANDOM_TEXT).map(
            nodes.String
        ),
        "Int": st.one_of(st.integers(-2, 10), st.integers(-(2**31), 2**31 - 1)).map(nodes.Int),
        "Date": st.one_of(dates, dates, dates, bad_dates).map(nodes.String),
        "DateTime": st.one_of(datetimes, datetimes, datetimes, bad_datetimes).map(nodes.String),
    }


@pytest.fixture
async def strategies(db: str) -> dict[str, st.SearchStrategy[Any]]:
    report = await load_fixtures(FIXTURES)
    assert not report.errors, report.errors
    scalars = custom_scalars(await known_values())
    return {
        "queries": queries(SCHEMA, custom_scalars=scalars, allow_x00=False),
        "mutations": mutations(SCHEMA, custom_scalars=scalars, allow_x00=False),
        "invalid": from_schema(SCHEMA, custom_scalars=scalars, allow_x00=False, mode=Mode.NEGATIVE),
    }


async def run_example(client: httpx.AsyncClient, data: st.DataObject, strategy: Any) -> Any:
    query = data.draw(strategy, label="query")
    accept = data.draw(st.sampled_from([GRAPHQL_RESPONSE, JSON]), label="accept")
    response = await send(client, {"query": query}, accept=accept)
    return check_answer(response)


@FUZZ_SETTINGS
@given(data=st.data())
async def test_generated_queries(
    client: httpx.AsyncClient, strategies: dict[str, Any], data: st.DataObject
) -> None:
    await run_example(client, data, strategies["queries"])


@FUZZ_SETTINGS
@given(data=st.data())
async def test_generated_mutations(
    client: httpx.AsyncClient, strategies: dict[str, Any], data: st.DataObject
) -> None:
    await run_example(client, data, strategies["mutations"])


@FUZZ_SETTINGS
@given(data=st.data())
async def test_generated_invalid_operations(
    client: httpx.AsyncClient, strategies: dict[str, Any], data: st.DataObject
) -> None:
    """Each has one violation of the schema (a wrong argument type, a missing required one, an
    unknown enum value): a request error that says so, and nothing runs."""
    body = await run_example(client, data, strategies["invalid"])
    assert body.get("errors"), body
    assert body.get("data") is None, body
