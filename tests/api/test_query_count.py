"""No N+1: the listing with its relations costs the same few statements for 10 or 100 rows."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from server.domain.disclosure_terms import DisclosureSpec, TransferSpec
from server.domain.enums import (
    DisclosureGround,
    LegalBasis,
    ProcessingRole,
    RecipientKind,
    TransferMechanism,
)
from server.domain.establishments import EstablishmentTerms
from server.domain.regimes import Jurisdiction
from server.graphql import execution
from server.services.commands import RegisterRecipient
from server.services.establishments import RegisterEstablishment, register_establishment
from server.services.registration import register_recipient
from tests.conftest import QueryCounter, gql

DEEP_LISTING = """
{
  recipients(first: 100) {
    edges {
      node {
        name
        engagedBy { name }
        subprocessors { name }
        disclosures {
          dataCategories { key parent { key } }
          purposes { key }
          subjectTypes { key }
          transfers { country }
        }
      }
    }
  }
}
"""
MAX_STATEMENTS = 12


def disclosures() -> list[DisclosureSpec]:
    return [
        DisclosureSpec(
            data_categories=["user.contact.email", "user.contact.phone_number", "user.name"],
            subject_types=["platform_user", "customer_contact"],
            purposes=["essential.service", "essential.service.notifications"],
            legal_basis=LegalBasis.CONTRACT,
            ground=DisclosureGround.SERVICE_PROVISION,
            retention="P30D",
            transfers=[
                TransferSpec("US", TransferMechanism.STANDARD_CONTRACTUAL_CLAUSES, "DPA 2024"),
                TransferSpec("GB", TransferMechanism.ADEQUACY_DECISION),
            ],
        ),
        DisclosureSpec(
            data_categories=["user.device.ip_address", "user.behavior"],
            subject_types=["visitor"],
            purposes=["analytics.reporting", "essential.service.security"],
            legal_basis=LegalBasis.LEGITIMATE_INTERESTS,
            ground=DisclosureGround.SERVICE_PROVISION,
            transfers=[TransferSpec("IN", TransferMechanism.STANDARD_CONTRACTUAL_CLAUSES)],
        ),
    ]


async def add_pairs(start: int, stop: int) -> None:
    """For each i: a processor and a subprocessor it engaged, each with two disclosures."""
    for i in range(start, stop):
        processor = await register_recipient(
            RegisterRecipient(
                name=f"Processor {i:03d}",
                slug=f"processor-{i:03d}",
                kind=RecipientKind.SERVICE_PROVIDER,
                role=ProcessingRole.PROCESSOR,
                country="US",
                disclosures=disclosures(),
            ),
            actor="test",
            role=None,
        )
        assert processor.recipient is not None
        sub = await register_recipient(
            RegisterRecipient(
                name=f"Sub {i:03d}",
                slug=f"sub-{i:03d}",
                kind=RecipientKind.SERVICE_PROVIDER,
                role=ProcessingRole.SUBPROCESSOR,
                engaged_by=f"processor-{i:03d}",
                country="IE",
                disclosures=disclosures(),
            ),
            actor="test",
            role=None,
        )
        assert sub.recipient is not None


async def count_listing(
    client: httpx.AsyncClient, sql_counter: QueryCounter
) -> tuple[int, list[dict[str, Any]]]:
    sql_counter.statements.clear()
    body = await gql(client, DEEP_LISTING)
    statements = len(sql_counter.statements)
    assert "errors" not in body, body
    return statements, [edge["node"] for edge in body["data"]["recipients"]["edges"]]


async def test_listing_with_relations_is_not_n_plus_one(
    client: httpx.AsyncClient, sql_counter: QueryCounter
) -> None:
    await add_pairs(0, 5)
    # A key's first request of the minute also records when it was last used, and the first
    # with a list reads the inventory's counts for the cost (kept a minute): not counted here.
    await gql(client, "{ recipients(first: 1) { edges { node { disclosures { id } } } } }")
    small, nodes = await count_listing(client, sql_counter)
    assert len(nodes) == 10
    small_statements = list(sql_counter.statements)

    await add_pairs(5, 50)
    large, nodes = await count_listing(client, sql_counter)
    assert len(nodes) == 100

    # The data is all there: the counting is of a complete answer.
    by_name = {node["name"]: node for node in nodes}
    processor, sub = by_name["Processor 042"], by_name["Sub 042"]
    assert processor["engagedBy"] is None
    assert processor["subprocessors"] == [{"name": "Sub 042"}]
    assert sub["engagedBy"] == {"name": "Processor 042"}
    assert sub["subprocessors"] == []
    for node in nodes:
        assert len(node["disclosures"]) == 2
        first = node["disclosures"][0]
        assert {c["key"] for c in first["dataCategories"]} == {
            "user.contact.email",
            "user.contact.phone_number",
            "user.name",
        }
        assert {"key": "user.contact"} in [c["parent"] for c in first["dataCategories"]]
        assert len(first["purposes"]) == 2
        assert len(first["subjectTypes"]) == 2
        assert [t["country"] for t in first["transfers"]] == ["US", "GB"]

    assert large == small, (small_statements, sql_counter.statements)
    assert large <= MAX_STATEMENTS, sql_counter.statements


PAGE_SHAPES = [
    # (selection below each node, disclosure reads expected)
    ("disclosures { id }", 1),
    ("disclosures(includeEnded: false) { id transfers { country } }", 1),
    ("disclosures { id } current: disclosures(includeEnded: false) { purposes { key } }", 1),
    ("disclosures { id transfers { country } } ended: disclosures(includeEnded: true) { id }", 2),
    # The nested recipients are the page's own: their disclosures are already in the loader.
    ("disclosures { id recipient { disclosures { id } } }", 1),
    ("name", 0),
]


async def test_a_page_reads_its_disclosures_once_however_they_are_selected(
    client: httpx.AsyncClient, sql_counter: QueryCounter
) -> None:
    """A page reads its disclosures once, through the per-request loader, however they are
    selected; only ended ones (includeEnded: true) take a second read."""
    await add_pairs(0, 5)
    await gql(
        client, "{ recipients(first: 1) { edges { node { disclosures { id } } } } }"
    )  # the key's last use, the counts: not counted
    for selection, reads in PAGE_SHAPES:
        sql_counter.statements.clear()
        body = await gql(
            client, f"{{ recipients(first: 100) {{ edges {{ node {{ {selection} }} }} }} }}"
        )
        assert "errors" not in body, (selection, body)
        found = [s for s in sql_counter.statements if "FROM disclosure d" in s]
        assert len(found) == reads, (selection, found)
        nodes = [edge["node"] for edge in body["data"]["recipients"]["edges"]]
        assert len(nodes) == 10
        if reads:
            assert all(len(next(v for k, v in n.items() if k != "name")) == 2 for n in nodes)


async def test_a_page_reads_its_status_histories_in_one_statement(
    client: httpx.AsyncClient, sql_counter: QueryCounter
) -> None:
    """statusHistory is loaded ahead for the whole page: one read of status_change for 10
    recipients or 100."""
    await gql(client, "{ recipients(first: 1) { edges { node { statusHistory { status } } } } }")
    query = "{ recipients(first: 100) { edges { node { statusHistory { status actor } } } } }"
    reads = []
    for start, stop in ((0, 5), (5, 50)):
        await add_pairs(start, stop)
        sql_counter.statements.clear()
        body = await gql(client, query)
        assert "errors" not in body, body
        nodes = [edge["node"] for edge in body["data"]["recipients"]["edges"]]
        assert len(nodes) == 2 * stop
        assert all(n["statusHistory"] == [{"status": "PROPOSED", "actor": "test"}] for n in nodes)
        reads.append([s for s in sql_counter.statements if "status_change" in s])
    assert [len(r) for r in reads] == [1, 1], reads


async def test_a_pages_exporters_cost_two_statements_however_many_recipients(
    client: httpx.AsyncClient, sql_counter: QueryCounter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Disclosure.exporter answers through the request's loaders, loaded ahead for the page: the
    disclosures' recipients in one batch (a subprocessor's disclosure has no exporter) and the
    establishments read once, for 10 recipients or 100, whether stored, defaulted or none."""
    await add_pairs(0, 2)  # recorded before any establishment: read as the current main one
    for name, country in (("MPN Technologies LLC", "US"), ("MPN Technologies Limited", "GB")):
        await register_establishment(
            RegisterEstablishment(
                EstablishmentTerms(name=name, country=country, targets=[Jurisdiction.EEA])
            ),
            actor="test",
        )
    await add_pairs(2, 5)
    # However the answer is cut into turns on the event loop (a slow machine's): nothing is
    # loaded during execution, so no batch is cut in two.
    monkeypatch.setattr(execution, "FIRST_TURN_SECONDS", 0.0)
    monkeypatch.setattr(execution, "TURN_SECONDS", 0.0)
    query = (
        "{ recipients(first: 100) { edges { node { name disclosures { exporter { slug } } } } } }"
    )
    await gql(client, query)  # the key's last use, the counts: not counted
    counted = []
    for start, stop in ((5, 5), (5, 50)):
        await add_pairs(start, stop)
        sql_counter.statements.clear()
        body = await gql(client, query)
        assert "errors" not in body, body
        nodes = [edge["node"] for edge in body["data"]["recipients"]["edges"]]
        assert len(nodes) == 2 * stop
        for node in nodes:
            expected = None if node["name"].startswith("Sub") else {"slug": "mpn-technologies-llc"}
            assert [d["exporter"] for d in node["disclosures"]] == [expected] * 2, node
        counted.append(list(sql_counter.statements))
    small, large = counted
    assert len(large) == len(small), (small, large)
    assert [s for s in large if "FROM establishment" in s] == [
        s for s in small if "FROM establishment" in s
    ]
    assert len([s for s in large if "FROM establishment" in s]) == 1, large
    # The page itself, then its disclosures' recipients by id in one batch.
    assert len([s for s in large if "FROM recipient r WHERE r.id" in s]) == 1, large
