"""Issue 11 §2: the requested cost counts every list, by the inventory's counts, before anything
runs. The issue's cases: a recipient's disclosures nested through their recipient, and thirty
aliases of recipientsOfCategory with disclosures, both refused with COST_LIMIT_EXCEEDED."""

from __future__ import annotations

import httpx
import pytest

from server.services.statistics import InventoryStatistics
from server.settings import Settings
from tests.api.test_http import assert_request_error
from tests.api.test_limits import ask, serve
from tests.helpers import disclosure_input, register

# Counts read for every request: the costs below follow the data at once.
EXACT = Settings(max_query_cost=2_000, cost_statistics_seconds=0)
CHAIN = """query($slug: String!) { recipient(slug: $slug) { disclosures { recipient {
  disclosures { recipient { disclosures { id } } } } } } }"""


async def recipient_with(client: httpx.AsyncClient, disclosures: int, name: str) -> str:
    recipient = await register(
        client,
        name=name,
        disclosures=[
            disclosure_input(purposes=["essential.service"], retention=f"P{n + 1}D")
            for n in range(disclosures)
        ],
    )
    return str(recipient["slug"])


async def test_a_chain_through_a_recipient_counts_its_disclosures_at_every_level(db: str) -> None:
    async with serve(EXACT) as client:
        small = await recipient_with(client, 5, "Small")
        response = await ask(client, CHAIN, {"slug": small})
        assert response.status_code == 200, response.text
        assert response.json()["extensions"]["cost"]["requestedNodes"] == 5 + 5**2 + 5**3
        big = await recipient_with(client, 13, "Big")
        # Now the most disclosures one recipient has is 13: 13 + 169 + 2,197 > 2,000.
        refused = await ask(client, CHAIN, {"slug": small})
        error = assert_request_error(refused, 400)["errors"][0]
        assert error["extensions"]["code"] == "COST_LIMIT_EXCEEDED"
        assert error["extensions"]["cost"] == 13 + 13**2 + 13**3
        assert refused.json().get("data") is None  # nothing ran
        query = "query($slug: String!) { recipient(slug: $slug) { disclosures { id } } }"
        one_level = await ask(client, query, {"slug": big})
        assert one_level.json()["extensions"]["cost"]["requestedNodes"] == 13
        assert len(one_level.json()["data"]["recipient"]["disclosures"]) == 13


async def test_aliases_of_a_whole_category_add_up_and_are_refused(db: str) -> None:
    async with serve(EXACT) as client:
        for n in range(4):
            await recipient_with(client, 3, f"Vendor {n}")
        one = 'a0: recipientsOfCategory(key: "user") { name disclosures { id } }'
        response = await ask(client, "{ " + one + " }")
        assert response.status_code == 200, response.text
        # Four recipients, twelve disclosures in all (distinct recipients: the total counts).
        assert response.json()["extensions"]["cost"]["requestedNodes"] == 4 + 12
        many = " ".join(one.replace("a0", f"a{i}") for i in range(30))
        assert (await ask(client, "{ " + many + " }")).json()["extensions"]["cost"][
            "requestedNodes"
        ] == 30 * 16
        low = Settings(max_query_cost=400, cost_statistics_seconds=0)
        async with serve(low) as limited:
            refused = await ask(limited, "{ " + many + " }")
            error = assert_request_error(refused, 400)["errors"][0]
            assert error["extensions"]["code"] == "COST_LIMIT_EXCEEDED"


async def test_a_failure_reading_the_counts_is_masked(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug while reading the counts (not the database being away: that is a 503) shows no
    exception text, only INTERNAL with the request id; the log has the stack."""

    async def broken(self: object) -> None:
        raise KeyError("secret-column")

    monkeypatch.setattr(InventoryStatistics, "counts", broken)
    async with serve(EXACT) as client:
        response = await ask(client, '{ recipientsOfCategory(key: "user") { name } }')
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "INTERNAL"
        assert "secret-column" not in response.text
        assert error["extensions"]["requestId"] == response.headers["x-request-id"]
