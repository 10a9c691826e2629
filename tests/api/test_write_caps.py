"""Issue 11 §4: what one request may write is bounded, each bound a typed user error with
nothing written; engagedBy chains are at most ten links, checked on write; and a chain deeper
than that (stored before the cap, or by another writer) still gets a report, not INTERNAL."""

from __future__ import annotations

import itertools
import time
from datetime import date

import httpx
from tortoise.transactions import in_transaction

from server.db.disclosure_writes import insert_disclosure
from server.db.models import Recipient
from server.domain import disclosure_terms as terms
from server.domain.disclosure_terms import DisclosureSpec
from server.domain.enums import (
    DisclosureGround,
    LegalBasis,
    ProcessingRole,
    RecipientKind,
    RecipientStatus,
)
from server.domain.subprocessors import MAX_CHAIN_LINKS
from server.domain.taxonomy import default_taxonomy
from server.services import clock
from tests.api.test_who_receives import REPORT, person
from tests.conftest import gql
from tests.helpers import (
    ADD_DISCLOSURE,
    REGISTER,
    UPDATE,
    disclosure_input,
    recipient_input,
    register,
)

TAXONOMY = default_taxonomy()
COUNT = "{ recipients(first: 1) { totalCount } }"


async def total(client: httpx.AsyncClient) -> int:
    return int((await gql(client, COUNT))["data"]["recipients"]["totalCount"])


async def refused(client: httpx.AsyncClient, query: str, variables: dict) -> list[dict]:
    body = await gql(client, query, variables)
    assert "errors" not in body, body
    [payload] = body["data"].values()
    assert payload["userErrors"], payload
    return list(payload["userErrors"])


async def test_the_issue_registration_is_refused_at_once_with_nothing_written(
    client: httpx.AsyncClient,
) -> None:
    """180 disclosures each naming every category and subject type wrote 291,600 audience rows
    under a 12 s write lock; sixty of them (what fits the body limit spelled out) are refused
    before any write, every problem at once."""
    everything = disclosure_input(
        dataCategories=sorted(TAXONOMY.categories), subjectTypes=sorted(TAXONOMY.subject_types)
    )
    before = await total(client)
    started = time.perf_counter()
    errors = await refused(
        client, REGISTER, {"input": recipient_input(disclosures=[everything] * 60)}
    )
    assert time.perf_counter() - started < 5
    assert [e["field"] for e in errors] == [["input", "disclosures"]]
    assert "At most 50 disclosures in one request; got 60" in errors[0]["message"]
    # Within the request cap, each disclosure's lists are checked, all at once.
    errors = await refused(
        client, REGISTER, {"input": recipient_input(disclosures=[everything] * 2)}
    )
    assert sorted(tuple(e["field"]) for e in errors) == [
        ("input", "disclosures", str(i), name)
        for i in range(2)
        for name in ("dataCategories", "subjectTypes")
    ]
    assert await total(client) == before


async def test_a_recipient_holds_at_most_two_hundred_open_disclosures(
    client: httpx.AsyncClient,
) -> None:
    recipient = await register(
        client, disclosures=[disclosure_input()] * terms.DISCLOSURES_PER_REQUEST_MAX
    )
    add = ADD_DISCLOSURE.replace("mutation Add(", "mutation Add(", 1)
    for _ in range(terms.DISCLOSURES_PER_RECIPIENT_MAX - terms.DISCLOSURES_PER_REQUEST_MAX):
        body = await gql(
            client,
            add,
            {"input": {"recipientId": recipient["id"], "disclosure": disclosure_input()}},
        )
        assert body["data"]["addDisclosure"]["userErrors"] == []
    errors = await refused(
        client, add, {"input": {"recipientId": recipient["id"], "disclosure": disclosure_input()}}
    )
    assert errors[0]["field"] == ["input", "recipientId"]
    assert "At most 200 disclosures open at one recipient; got 201" in errors[0]["message"]


async def test_an_engagement_chain_is_at_most_ten_links(client: httpx.AsyncClient) -> None:
    top = await register(client, name="Top", role="PROCESSOR")
    engager = top
    for n in range(1, MAX_CHAIN_LINKS + 1):
        engager = await register(
            client, name=f"Link {n}", role="SUBPROCESSOR", engagedBy=engager["slug"]
        )
    errors = await refused(
        client,
        REGISTER,
        {"input": recipient_input(name="Eleventh", role="SUBPROCESSOR", engagedBy=engager["slug"])},
    )
    assert errors[0]["field"] == ["input", "engagedBy"]
    assert "11 links below" in errors[0]["message"]
    # Moving a recipient with one subprocessor under link 9 would put that one 11 deep.
    other = await register(client, name="Other", role="PROCESSOR")
    under = await register(client, name="Under", role="SUBPROCESSOR", engagedBy=other["slug"])
    await register(client, name="Below", role="SUBPROCESSOR", engagedBy=under["slug"])
    move = {"id": under["id"], "expectedVersion": under["version"], "engagedBy": "link-9"}
    errors = await refused(client, UPDATE, {"input": move})
    assert "11 links below" in errors[0]["message"]
    assert (await register(client, name="Fine", role="SUBPROCESSOR", engagedBy="link-8"))["slug"]


async def test_a_chain_deeper_than_python_recursion_still_gets_its_report(
    client: httpx.AsyncClient,
) -> None:
    """A 1,100-deep chain written past the cap (as an older version or another writer could):
    whoReceives answered INTERNAL (RecursionError) for everyone it reached."""
    depth = 1_100
    now = clock.now()
    spec = DisclosureSpec(
        data_categories=["user.contact.email"],
        subject_types=["platform_user"],
        purposes=["essential.service"],
        legal_basis=LegalBasis.CONTRACT,
        ground=DisclosureGround.SERVICE_PROVISION,
        effective_from=date(2024, 1, 1),
    )
    async with in_transaction() as conn:
        ids = []
        for n in range(depth):
            row = await Recipient.create(
                using_db=conn,
                slug=f"deep-{n}",
                name=f"Deep {n:04}",
                sort_name=f"deep {n:04}",
                kind=RecipientKind.SERVICE_PROVIDER,
                role=ProcessingRole.SUBPROCESSOR if n else ProcessingRole.PROCESSOR,
                status=RecipientStatus.ACTIVE,
                country="DE",
                services=[],
                dpf_certified=False,
                registered_by="tests",
                version=1,
                created_at=now,
                updated_at=now,
            )
            await insert_disclosure(conn, row.id, spec, now)
            ids.append(row.id)
        # Each engaged by the one created after it: the report meets the deepest first, and
        # its walk up the chain goes all the way before anything is remembered.
        for below, above in itertools.pairwise(ids):
            await Recipient.filter(id=below).using_db(conn).update(engaged_by_id=above)
    await person(client, "deep-subject", categories=["user.contact.email"])
    query = """{ whoReceives(subject: {externalRef: "deep-subject"}) {
      recipients { recipient { slug } } } }"""
    body = await gql(client, query)
    assert "errors" not in body, body["errors"][:1]
    assert len(body["data"]["whoReceives"]["recipients"]) == depth
    # With every `via` too (1,100²/2 recipients), the answer is past its node bound: a typed
    # error, not INTERNAL.
    full = await gql(client, REPORT, {"subject": {"externalRef": "deep-subject"}})
    assert [e["extensions"]["code"] for e in full["errors"]] == ["ANSWER_TOO_LARGE"]
