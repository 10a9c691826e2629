"""The dashboard listing `recipients(filter, first, after)` and the taxonomy queries."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from server.domain import validation
from server.domain.enums import ProcessingRole, RecipientKind
from server.services.commands import RegisterRecipient
from server.services.registration import register_recipient
from tests.conftest import gql
from tests.helpers import END_DISCLOSURE, disclosure_input, register

LIST = """
query List($filter: RecipientFilter, $first: Int, $after: String) {
  recipients(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id slug name } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    totalCount
  }
}
"""


async def listing(
    client: httpx.AsyncClient,
    filter: dict[str, Any] | None = None,
    first: int | None = None,
    after: str | None = None,
) -> dict[str, Any]:
    """The connection; fails the test on any GraphQL error."""
    variables: dict[str, Any] = {"filter": filter, "after": after}
    if first is not None:
        variables["first"] = first
    body = await gql(client, LIST, variables)
    assert "errors" not in body, body["errors"]
    connection: dict[str, Any] = body["data"]["recipients"]
    return connection


async def listing_error(client: httpx.AsyncClient, variables: dict[str, Any]) -> str:
    """The error message of a listing that must fail as a GraphQL error, not a transport one."""
    response = await client.post("/graphql", json={"query": LIST, "variables": variables})
    assert response.status_code in (200, 400), response.text
    body = response.json()
    assert body.get("data") is None, body
    assert body["errors"], body
    assert "Traceback" not in response.text
    message: str = body["errors"][0]["message"]
    assert "Internal error" not in message, message
    return message


async def slugs(client: httpx.AsyncClient, filter: dict[str, Any]) -> list[str]:
    connection = await listing(client, filter=filter, first=100)
    assert connection["totalCount"] == len(connection["edges"])
    return [edge["node"]["slug"] for edge in connection["edges"]]


def cursor_of(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


async def register_many(count: int, prefix: str = "Bulk") -> None:
    """Register quickly through the service, inside the test's database."""
    for i in range(count):
        await register_recipient(
            RegisterRecipient(
                name=f"{prefix} {i:03d}",
                kind=RecipientKind.SERVICE_PROVIDER,
                role=ProcessingRole.PROCESSOR,
                country="US",
            ),
            actor="test",
            role=None,
        )


# -- order and paging ---------------------------------------------------------------------------

PAGING_NAMES = ["delta", "Bravo", "alpha", "Charlie", "Alpha", "echo", "Bravo"]


async def register_paging_set(client: httpx.AsyncClient) -> list[str]:
    """Seven recipients, two of them with the same name and two more equal up to case;
    returns their slugs in the expected listing order."""
    registered: list[tuple[str, int, str]] = []
    for i, name in enumerate(PAGING_NAMES):
        recipient = await register(client, name=name, slug=f"r{i}-{name.lower()}")
        registered.append((name.casefold(), i, recipient["slug"]))
    return [slug for _, _, slug in sorted(registered)]


async def test_order_is_by_name_case_insensitive_then_id(client: httpx.AsyncClient) -> None:
    first = await register(client, name="Same Name", slug="same-name-first")
    await register(client, name="zulu", slug="zulu")
    await register(client, name="Apex", slug="apex")
    second = await register(client, name="same name", slug="same-name-second")
    third = await register(client, name="Same Name", slug="same-name-third")
    await register(client, name="beta", slug="beta")
    connection = await listing(client)
    assert [e["node"]["slug"] for e in connection["edges"]] == [
        "apex",
        "beta",
        first["slug"],
        second["slug"],
        third["slug"],
        "zulu",
    ]
    # Stable: asking again gives the same order.
    again = await listing(client)
    assert again["edges"] == connection["edges"]


async def test_first_defaults_to_fifty(client: httpx.AsyncClient) -> None:
    await register_many(51)
    connection = await listing(client)
    assert len(connection["edges"]) == 50
    assert connection["pageInfo"]["hasNextPage"] is True
    assert connection["totalCount"] == 51
    assert connection["edges"][-1]["node"]["name"] == "Bulk 049"
    rest = await listing(client, after=connection["pageInfo"]["endCursor"])
    assert [e["node"]["name"] for e in rest["edges"]] == ["Bulk 050"]
    assert rest["pageInfo"]["hasNextPage"] is False


async def test_first_at_the_cap_is_allowed(client: httpx.AsyncClient) -> None:
    await register(client)
    connection = await listing(client, first=100)
    assert len(connection["edges"]) == 1


@pytest.mark.parametrize("first", [101, 1000, -1])
async def test_first_out_of_range_is_an_error(client: httpx.AsyncClient, first: int) -> None:
    await register(client)
    message = await listing_error(client, {"first": first})
    assert "first" in message


async def test_walk_pages_collects_every_recipient_once(client: httpx.AsyncClient) -> None:
    expected = await register_paging_set(client)
    assert len(expected) == 7
    seen: list[str] = []
    pages: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        page = await listing(client, first=3, after=after)
        pages.append(page)
        seen.extend(e["node"]["slug"] for e in page["edges"])
        assert page["totalCount"] == 7
        info = page["pageInfo"]
        assert info["hasPreviousPage"] is (after is not None)
        assert info["startCursor"] == page["edges"][0]["cursor"]
        assert info["endCursor"] == page["edges"][-1]["cursor"]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
        assert len(pages) < 10, "paging does not end"
    assert [len(p["edges"]) for p in pages] == [3, 3, 1]
    assert [p["pageInfo"]["hasNextPage"] for p in pages] == [True, True, False]
    assert [p["pageInfo"]["hasPreviousPage"] for p in pages] == [False, True, True]
    assert seen == expected
    assert len(set(seen)) == 7


@pytest.mark.parametrize("size", [1, 2, 6, 7, 8])
async def test_walk_with_other_page_sizes(client: httpx.AsyncClient, size: int) -> None:
    expected = await register_paging_set(client)
    seen: list[str] = []
    after: str | None = None
    for _ in range(10):
        page = await listing(client, first=size, after=after)
        seen.extend(e["node"]["slug"] for e in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == expected


async def test_last_page_cursor_gives_an_empty_page(client: httpx.AsyncClient) -> None:
    await register_paging_set(client)
    page = await listing(client, first=7)
    assert page["pageInfo"]["hasNextPage"] is False
    after = await listing(client, first=3, after=page["pageInfo"]["endCursor"])
    assert after["edges"] == []
    assert after["pageInfo"]["hasNextPage"] is False
    assert after["pageInfo"]["hasPreviousPage"] is True
    assert after["totalCount"] == 7


async def test_empty_result_has_null_cursors(client: httpx.AsyncClient) -> None:
    empty = await listing(client)
    assert empty == {
        "edges": [],
        "pageInfo": {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "startCursor": None,
            "endCursor": None,
        },
        "totalCount": 0,
    }
    await register(client)
    none_match = await listing(client, filter={"search": "no such recipient"})
    assert none_match["edges"] == []
    assert none_match["pageInfo"]["startCursor"] is None
    assert none_match["pageInfo"]["endCursor"] is None
    assert none_match["totalCount"] == 0


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "",
        "!!!!",
        cursor_of(b"just some junk"),
        cursor_of(b"\xff\xfe\xfd\xfc"),
        cursor_of(b"recipients:not json"),
        cursor_of(b"recipients:[1, 2, 3]"),
        cursor_of(b'recipients:["alpha", "1"]'),
        cursor_of(b"recipients:{}"),
        cursor_of(b'other:["alpha", 1]'),
        # Refused before any query: PostgreSQL refuses both (issue 11 §4).
        cursor_of(b'recipients:["al\\u0000pha", 1]'),
        cursor_of(b'recipients:["alpha", 1099511627776]'),
        cursor_of(b'recipients:["alpha", 0]'),
        cursor_of(b'recipients:["alpha", true]'),
    ],
)
async def test_malformed_cursor_is_an_error(client: httpx.AsyncClient, cursor: str) -> None:
    await register(client)
    message = await listing_error(client, {"first": 3, "after": cursor})
    assert "cursor" in message.lower()
    assert "invalid" in message.lower()


async def test_total_count_ignores_the_page(client: httpx.AsyncClient) -> None:
    await register_paging_set(client)
    await register(client, name="Outsider", country="DE")
    first = await listing(client, first=2)
    assert first["totalCount"] == 8
    second = await listing(client, first=2, after=first["pageInfo"]["endCursor"])
    assert second["totalCount"] == 8
    zero = await listing(client, first=0)
    assert zero["edges"] == []
    assert zero["totalCount"] == 8
    filtered = await listing(client, filter={"country": "US"}, first=1)
    assert filtered["totalCount"] == 7
    assert len(filtered["edges"]) == 1


# -- filters ------------------------------------------------------------------------------------


async def register_filter_set(client: httpx.AsyncClient) -> None:
    """A small inventory that each filter cuts differently."""
    await register(client, name="Mailer", slug="mailer", country="US")
    await register(
        client,
        name="Sub Mailer",
        slug="sub-mailer",
        role="SUBPROCESSOR",
        engagedBy="mailer",
        country="IE",
    )
    await register(
        client,
        name="Model Co",
        slug="model-co",
        kind="AI_PROVIDER",
        country="US",
        status="APPROVED",
    )
    await register(
        client,
        name="Stats Co",
        slug="stats-co",
        kind="ANALYTICS_PROVIDER",
        role="CONTROLLER",
        country="DE",
        status="ACTIVE",
    )
    await register(
        client,
        name="Partner",
        slug="partner",
        kind="BUSINESS_PARTNER",
        role="JOINT_CONTROLLER",
        country="DE",
        status="UNDER_REVIEW",
    )
    await register(
        client,
        name="Tax Office",
        slug="tax-office",
        kind="PUBLIC_AUTHORITY",
        role="CONTROLLER",
        country="GB",
        status="ACTIVE",
    )


async def test_filter_by_kinds(client: httpx.AsyncClient) -> None:
    await register_filter_set(client)
    assert await slugs(client, {"kinds": ["AI_PROVIDER"]}) == ["model-co"]
    assert await slugs(client, {"kinds": ["ANALYTICS_PROVIDER", "PUBLIC_AUTHORITY"]}) == [
        "stats-co",
        "tax-office",
    ]
    assert await slugs(client, {"kinds": ["ACQUIRER"]}) == []
    assert await slugs(client, {"kinds": []}) == []


async def test_filter_by_statuses(client: httpx.AsyncClient) -> None:
    await register_filter_set(client)
    assert await slugs(client, {"statuses": ["PROPOSED"]}) == ["mailer", "sub-mailer"]
    assert await slugs(client, {"statuses": ["ACTIVE", "APPROVED"]}) == [
        "model-co",
        "stats-co",
        "tax-office",
    ]
    assert await slugs(client, {"statuses": ["OFFBOARDED"]}) == []


async def test_filter_by_roles(client: httpx.AsyncClient) -> None:
    await register_filter_set(client)
    assert await slugs(client, {"roles": ["SUBPROCESSOR"]}) == ["sub-mailer"]
    assert await slugs(client, {"roles": ["CONTROLLER", "JOINT_CONTROLLER"]}) == [
        "partner",
        "stats-co",
        "tax-office",
    ]


async def test_filter_by_country(client: httpx.AsyncClient) -> None:
    await register_filter_set(client)
    assert await slugs(client, {"country": "DE"}) == ["partner", "stats-co"]
    assert await slugs(client, {"country": "IE"}) == ["sub-mailer"]
    assert await slugs(client, {"country": "FR"}) == []


@pytest.mark.parametrize("country", ["XX", "gb", "UK", "EU", "USA", "", "D3"])
async def test_invalid_country_in_filter_is_an_error(
    client: httpx.AsyncClient, country: str
) -> None:
    await register(client)
    message = await listing_error(client, {"filter": {"country": country}})
    assert "country" in message.lower()


async def test_search_is_case_insensitive_on_name_legal_name_and_slug(
    client: httpx.AsyncClient,
) -> None:
    await register(client, name="Acme Mail", slug="acme-mail")
    await register(client, name="Globex", slug="gx", legalName="Globex Corporation LTD")
    await register(client, name="Omega", slug="zeta-hosting")
    await register(client, name="Initech", slug="initech")
    assert await slugs(client, {"search": "ACME"}) == ["acme-mail"]
    assert await slugs(client, {"search": "mail"}) == ["acme-mail"]
    assert await slugs(client, {"search": "corporation ltd"}) == ["gx"]
    assert await slugs(client, {"search": "ZETA-HOST"}) == ["zeta-hosting"]
    assert await slugs(client, {"search": "e"}) == ["acme-mail", "gx", "initech", "zeta-hosting"]
    assert await slugs(client, {"search": "nothing like it"}) == []


async def test_search_is_case_insensitive_beyond_ascii(client: httpx.AsyncClient) -> None:
    await register(client, name="Müller Logistik", slug="mueller")
    await register(client, name="Ärztekammer", slug="aerztekammer")
    await register(client, name="Plain Co", slug="plain")
    assert await slugs(client, {"search": "MÜLLER"}) == ["mueller"]
    assert await slugs(client, {"search": "ärzte"}) == ["aerztekammer"]


async def test_search_treats_percent_and_underscore_literally(client: httpx.AsyncClient) -> None:
    await register(client, name="100% Pure", slug="pure")
    await register(client, name="Under_score Co", slug="underscore")
    await register(client, name="Plain Co", slug="plain")
    await register(client, name="Backslash \\ Co", slug="backslash")
    assert await slugs(client, {"search": "%"}) == ["pure"]
    assert await slugs(client, {"search": "0%"}) == ["pure"]
    assert await slugs(client, {"search": "_"}) == ["underscore"]
    assert await slugs(client, {"search": "r_s"}) == ["underscore"]
    assert await slugs(client, {"search": "n%o"}) == []
    assert await slugs(client, {"search": "p_ain"}) == []
    assert await slugs(client, {"search": "\\"}) == ["backslash"]


async def test_search_longer_than_any_recipient_text_is_an_error(
    client: httpx.AsyncClient,
) -> None:
    # Found by fuzzing: 100,000 characters made SQLite refuse the LIKE pattern (a 500).
    await register(client, name="Acme Mail", slug="acme-mail")
    message = await listing_error(client, {"filter": {"search": "x" * 100_000}})
    assert "filter.search is 100,000 characters long" in message
    assert await slugs(client, {"search": "x" * validation.SEARCH_MAX}) == []


async def test_filters_combine(client: httpx.AsyncClient) -> None:
    await register_filter_set(client)
    assert await slugs(client, {"country": "DE", "roles": ["CONTROLLER"]}) == ["stats-co"]
    assert await slugs(client, {"statuses": ["ACTIVE"], "kinds": ["PUBLIC_AUTHORITY"]}) == [
        "tax-office"
    ]
    assert await slugs(client, {"country": "US", "search": "co"}) == ["model-co"]
    assert await slugs(
        client,
        {
            "kinds": ["SERVICE_PROVIDER"],
            "statuses": ["PROPOSED"],
            "roles": ["PROCESSOR", "SUBPROCESSOR"],
            "country": "IE",
            "search": "MAILER",
        },
    ) == ["sub-mailer"]
    assert await slugs(client, {"country": "GB", "statuses": ["PROPOSED"]}) == []


async def register_category_set(client: httpx.AsyncClient) -> None:
    await register(
        client,
        name="Email Co",
        slug="email-co",
        disclosures=[disclosure_input(dataCategories=["user.contact.email"])],
    )
    await register(
        client,
        name="Phone Co",
        slug="phone-co",
        disclosures=[disclosure_input(dataCategories=["user.contact.phone_number"])],
    )
    await register(
        client,
        name="Genetics Co",
        slug="genetics-co",
        country="DE",
        disclosures=[
            disclosure_input(
                dataCategories=["user.health_and_medical.genetic"],
                purposes=["essential.service"],
                specialCategoryCondition="EXPLICIT_CONSENT",
            )
        ],
    )
    await register(
        client,
        name="Contact Co",
        slug="contact-co",
        disclosures=[disclosure_input(dataCategories=["user.contact"])],
    )
    ended = await register(
        client,
        name="Former Co",
        slug="former-co",
        disclosures=[
            disclosure_input(dataCategories=["user.contact.email"], effectiveFrom="2020-01-01")
        ],
    )
    body = await gql(
        client,
        END_DISCLOSURE,
        {"input": {"id": ended["disclosures"][0]["id"], "effectiveTo": "2021-01-01"}},
    )
    assert body["data"]["endDisclosure"]["userErrors"] == [], body
    await register(client, name="No Data Co", slug="no-data-co")


async def test_filter_by_data_category_is_taxonomy_aware(client: httpx.AsyncClient) -> None:
    await register_category_set(client)
    assert await slugs(client, {"dataCategory": "user.contact"}) == [
        "contact-co",
        "email-co",
        "phone-co",
    ]
    assert await slugs(client, {"dataCategory": "user.contact.email"}) == ["email-co"]
    assert await slugs(client, {"dataCategory": "user.contact.phone_number"}) == ["phone-co"]
    assert await slugs(client, {"dataCategory": "user"}) == [
        "contact-co",
        "email-co",
        "genetics-co",
        "phone-co",
    ]
    assert await slugs(client, {"dataCategory": "user.health_and_medical"}) == ["genetics-co"]
    assert await slugs(client, {"dataCategory": "user.contact.address"}) == []


async def test_data_category_filter_ignores_ended_disclosures(client: httpx.AsyncClient) -> None:
    await register_category_set(client)
    matched = await slugs(client, {"dataCategory": "user.contact.email"})
    assert "former-co" not in matched
    assert "former-co" not in await slugs(client, {"dataCategory": "user"})
    assert "former-co" in await slugs(client, {})


async def test_data_category_combines_with_other_filters(client: httpx.AsyncClient) -> None:
    await register_category_set(client)
    assert await slugs(client, {"dataCategory": "user", "country": "DE"}) == ["genetics-co"]
    assert await slugs(client, {"dataCategory": "user.contact", "search": "phone"}) == ["phone-co"]
    assert await slugs(client, {"dataCategory": "user.contact", "statuses": ["ACTIVE"]}) == []


@pytest.mark.parametrize("key", ["user.contact.nope", "nope", "", "user.contact.", "USER.CONTACT"])
async def test_unknown_data_category_is_an_error(client: httpx.AsyncClient, key: str) -> None:
    await register(client)
    message = await listing_error(client, {"filter": {"dataCategory": key}})
    assert "data category" in message.lower()


# -- taxonomy queries ---------------------------------------------------------------------------


async def test_data_categories(client: httpx.AsyncClient) -> None:
    body = await gql(client, "{ dataCategories { key name description sensitive parent { key } } }")
    assert "errors" not in body, body
    categories = body["data"]["dataCategories"]
    by_key = {c["key"]: c for c in categories}
    assert len(by_key) == len(categories)
    assert by_key["user.contact.email"]["parent"] == {"key": "user.contact"}
    assert by_key["user.contact.email"]["sensitive"] is False
    assert by_key["user.contact.email"]["name"]
    assert by_key["user.health_and_medical.genetic"]["sensitive"] is True
    assert by_key["user.health_and_medical"]["sensitive"] is True
    assert by_key["user"]["parent"] is None
    for category in categories:
        parent = category["parent"]
        if parent is not None:
            assert parent["key"] in by_key
            assert category["key"].startswith(parent["key"] + ".")


async def test_data_category_with_children(client: httpx.AsyncClient) -> None:
    body = await gql(
        client,
        """{ dataCategory(key: "user.contact") {
              key name sensitive parent { key } children { key parent { key } children { key } }
            } }""",
    )
    assert "errors" not in body, body
    category = body["data"]["dataCategory"]
    assert category["key"] == "user.contact"
    assert category["parent"] == {"key": "user"}
    children = {c["key"]: c for c in category["children"]}
    assert {"user.contact.email", "user.contact.phone_number", "user.contact.address"} <= set(
        children
    )
    assert all(c["parent"] == {"key": "user.contact"} for c in children.values())
    # Children are direct children only.
    assert "user.contact.address.city" not in children
    assert {"key": "user.contact.address.city"} in children["user.contact.address"]["children"]
    assert children["user.contact.email"]["children"] == []


@pytest.mark.parametrize("key", ["user.nope", "", "USER"])
async def test_unknown_data_category_is_null(client: httpx.AsyncClient, key: str) -> None:
    body = await gql(client, "query($k: String!) { dataCategory(key: $k) { key } }", {"k": key})
    assert "errors" not in body, body
    assert body["data"] == {"dataCategory": None}


async def test_purposes_and_subject_types(client: httpx.AsyncClient) -> None:
    body = await gql(
        client, "{ purposes { key name description } subjectTypes { key name description } }"
    )
    assert "errors" not in body, body
    purposes = {p["key"]: p for p in body["data"]["purposes"]}
    assert "essential.service" in purposes
    assert purposes["essential.service"]["name"]
    assert len(purposes) == len(body["data"]["purposes"])
    subject_types = {s["key"]: s for s in body["data"]["subjectTypes"]}
    assert {"platform_user", "customer_contact", "marketing_lead"} <= set(subject_types)
    assert all(s["name"] for s in subject_types.values())


async def test_a_page_reads_only_the_columns_its_disclosure_fields_read(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page reads of its disclosures only the columns the fields it selects read
    (DISCLOSURE_FIELD_COLUMNS): each field of Disclosure, and all of them at once, answer
    exactly as from the whole row, current and ended disclosures alike."""
    from graphql import get_named_type, is_leaf_type

    from server.graphql import inventory
    from server.graphql.schema import build_schema

    disclosure_type = build_schema()._schema.get_type("Disclosure")
    fields = disclosure_type.fields  # type: ignore[union-attr]
    assert set(inventory.DISCLOSURE_FIELD_COLUMNS) <= {*fields, "__typename"}
    selections = ["__typename"] + [
        name if is_leaf_type(get_named_type(field.type)) else f"{name} {{ __typename }}"
        for name, field in fields.items()
    ]
    selections.append("transfers { country mechanism reference signedOn withinAdequacyScope }")
    selections.append("dataCategories { key name } purposes { key } subjectTypes { key }")
    await register_category_set(client)
    for selection in [*selections, " ".join(selections)]:
        query = (
            "{ recipients(first: 100) { edges { node { slug "
            f"current: disclosures {{ {selection} }} "
            f"all: disclosures(includeEnded: true) {{ ...on Disclosure {{ {selection} }} }} "
            "} } } }"
        )
        narrow = await gql(client, query)
        with monkeypatch.context() as patched:
            patched.setattr(inventory, "DISCLOSURE_FIELD_COLUMNS", {})  # every column read
            whole = await gql(client, query)
        assert "errors" not in whole, whole
        assert narrow == whole, selection
        assert any(e["node"]["all"] for e in whole["data"]["recipients"]["edges"])


async def test_a_page_reads_only_the_columns_its_recipient_fields_read(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page reads of its recipients only the columns the fields it selects read
    (RECIPIENT_FIELD_COLUMNS): each field of Recipient, and all of them at once, answer exactly
    as from the whole row."""
    from graphql import get_named_type, is_leaf_type

    from server.graphql import inventory
    from server.graphql.schema import build_schema

    recipient_type = build_schema()._schema.get_type("Recipient")
    fields = recipient_type.fields  # type: ignore[union-attr]
    assert set(inventory.RECIPIENT_FIELD_COLUMNS) <= {*fields, "__typename"}
    selections = ["__typename"] + [
        name if is_leaf_type(get_named_type(field.type)) else f"{name} {{ __typename }}"
        for name, field in fields.items()
    ]
    selections.append("engagedBy { slug } dpfCertifications { framework certifiedOn lapsedOn }")
    await register(
        client,
        name="Whole Co",
        slug="whole-co",
        legalName="Whole Company Ltd",
        description="Everything filled in.",
        privacyPolicyUrl="https://whole.example/privacy",
        corporateGroup="Whole Group",
        internationalOrganisation=True,
        dpfCertifications=[{"framework": "EU_US", "certifiedOn": "2024-01-01"}],
    )
    await register(client, name="Sub Co", slug="sub-co", engagedBy="whole-co", role="SUBPROCESSOR")
    await register_category_set(client)
    for selection in [*selections, " ".join(selections)]:
        query = f"{{ recipients(first: 100) {{ edges {{ cursor node {{ {selection} }} }} }} }}"
        narrow = await gql(client, query)
        with monkeypatch.context() as patched:
            patched.setattr(inventory, "RECIPIENT_FIELD_COLUMNS", {})  # every column read
            whole = await gql(client, query)
        assert "errors" not in whole, whole
        assert narrow == whole, selection
        assert len(whole["data"]["recipients"]["edges"]) == 8


def test_the_columns_of_a_selection_of_disclosures() -> None:
    from graphql import FieldNode, OperationDefinitionNode, parse

    from server.db.disclosures import COLUMNS, DisclosureRow, NarrowDisclosureRow
    from server.db.sql import NOT_READ
    from server.graphql.analysis import fields_below
    from server.graphql.inventory import disclosure_columns

    def columns(selection: str) -> tuple[str, ...]:
        document = parse(f"{{ disclosures {{ {selection} }} }} fragment F on Node {{ id }}")
        operation = document.definitions[0]
        assert isinstance(operation, OperationDefinitionNode)
        node = operation.selection_set.selections[0]
        assert isinstance(node, FieldNode)
        fragments = {d.name.value: d for d in document.definitions[1:]}  # type: ignore[attr-defined]
        return disclosure_columns(fields_below([node], fragments))

    assert columns("id legalBasis dataCategories { key name } ...F") == (
        "id",
        "recipient_id",
        "legal_basis",
        "categories_text",
    )
    assert columns("effectiveFrom") == ("id", "recipient_id", "effective_from", "started_on")
    assert columns("id someFieldAddedLater") == COLUMNS  # an unlisted field reads every column
    with pytest.raises(LookupError):
        bool(NOT_READ)  # a column left out is never taken for a value
    # A row of some columns is made by setting DisclosureRow's fields, as its __init__ does:
    # it must do nothing else.
    assert not hasattr(DisclosureRow, "__post_init__")
    assert not DisclosureRow.__dataclass_params__.frozen  # type: ignore[attr-defined]
    # A row of some columns holds those: each other field reads as NOT_READ, and only they do.
    row = object.__new__(NarrowDisclosureRow)
    row.__dict__.update(id=1, recipient_id=2)
    assert isinstance(row, DisclosureRow)
    assert (row.id, row.legal_basis, row.transfers_json) == (1, NOT_READ, NOT_READ)
    with pytest.raises(AttributeError):
        row.no_such_field  # noqa: B018
    with pytest.raises(AttributeError):
        object.__new__(DisclosureRow).legal_basis  # noqa: B018  # a full row has every field


def test_a_recipient_is_made_from_its_row_as_its_init_would() -> None:
    """Recipient.from_row sets the instance's fields itself: the dataclass's __init__ must only
    set each field, and from_row must set every one of them."""
    import dataclasses
    from datetime import UTC, datetime

    from server.graphql.context import Context
    from server.graphql.inventory import Recipient
    from server.settings import Settings

    assert not hasattr(Recipient, "__post_init__")
    assert not Recipient.__dataclass_params__.frozen  # type: ignore[attr-defined]
    # The fields __init__ does not take are its resolvers: with no default, __init__ sets none.
    assert all(
        f.init or (f.default is f.default_factory is dataclasses.MISSING)
        for f in dataclasses.fields(Recipient)
    )
    fields = [f for f in dataclasses.fields(Recipient) if f.init]
    moment = datetime(2024, 1, 1, tzinfo=UTC)
    row = {
        "id": 7,
        "slug": "s",
        "name": "N",
        "legal_name": None,
        "description": None,
        "kind": "VENDOR",
        "role": "PROCESSOR",
        "status": "ACTIVE",
        "country": "DE",
        "services": ["hosting"],
        "website": None,
        "privacy_policy_url": None,
        "dpa_signed_on": None,
        "version": 1,
        "created_at": moment,
        "updated_at": moment,
        "corporate_group": None,
        "international_organisation": False,
        "engaged_by_id": None,
        "registered_by": "k",
        "dpf_certifications": [],
    }
    context = Context(settings=Settings())
    made = Recipient.from_row(row, context)
    by_init = Recipient(**{f.name: getattr(made, f.name) for f in fields})
    assert vars(made) == vars(by_init)
    assert set(vars(made)) == {f.name for f in fields}
