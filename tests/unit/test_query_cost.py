"""The node count of server/graphql/cost.py on a small schema with nested connections."""

from __future__ import annotations

import functools
import time
from typing import Any

import pytest
from graphql import build_schema, parse

from server.graphql import cost as cost_module
from server.graphql.cost import SAME_ITEMS, PlanCache, plan_cost

SDL = """
type Query {
  users(first: Int, after: String): UserConnection!
  viewer: User
  tags(first: Int = 7): [String!]!
  node(id: ID!): Node
}
interface Node { id: ID! }
type User implements Node {
  id: ID!
  name: String
  friends(first: Int): UserConnection!
  repos(first: Int): [Repo!]!
  best: User
}
type Repo implements Node { id: ID! name: String issues(first: Int): [Issue!]! }
type Issue { title: String labels(first: Int): [String!]! }
type UserConnection { edges: [UserEdge!]! totalCount: Int }
type UserEdge { node: User! }
"""
SCHEMA = build_schema(SDL)
# This schema's one list without `first`: a connection's edges, as many as its page.
BOUNDS = {("UserConnection", "edges"): SAME_ITEMS}
query_cost = functools.partial(cost_module.query_cost, bounds=BOUNDS)
compile_plan = functools.partial(cost_module.compile_plan, bounds=BOUNDS)


def cost(query: str, variables: dict[str, Any] | None = None, **kwargs: Any) -> int:
    kwargs.setdefault("default_page_size", 50)
    return query_cost(SCHEMA, parse(query), variables, **kwargs)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("{ __typename }", 0, id="no-connection"),
        pytest.param("{ viewer { name best { name } } }", 0, id="plain-objects"),
        pytest.param("{ users(first: 10) { totalCount } }", 10, id="one-connection"),
        pytest.param("{ users(first: 0) { totalCount } }", 0, id="zero"),
        pytest.param("{ users(first: -5) { totalCount } }", 0, id="negative-counts-as-zero"),
        pytest.param(
            "{ users(first: 10) { edges { node { friends(first: 20) { totalCount } } } } }",
            10 + 10 * 20,
            id="nested",
        ),
        pytest.param(
            # GitHub's example shape: 50 repositories, 10 issues each, 5 labels each.
            "{ viewer { repos(first: 50) { issues(first: 10) { labels(first: 5) } } } }",
            50 + 50 * 10 + 50 * 10 * 5,
            id="three-levels-through-a-plain-field",
        ),
        pytest.param(
            "{ a: users(first: 10) { totalCount }"
            "  b: users(first: 5) { edges { node { friends(first: 3) { totalCount } } } } }",
            10 + 5 + 5 * 3,
            id="siblings-sum",
        ),
        pytest.param(
            "{ viewer { friends(first: 4) { totalCount } repos(first: 6) { name } } }",
            4 + 6,
            id="two-branches",
        ),
        pytest.param("{ users { totalCount } }", 50, id="default-page-size"),
        pytest.param("{ users(first: null) { totalCount } }", 50, id="null-is-default"),
        pytest.param("{ tags }", 7, id="schema-default"),
        pytest.param("{ tags(first: 2) }", 2, id="leaf-list-with-first"),
    ],
)
def test_cost(query: str, expected: int) -> None:
    assert cost(query) == expected


def test_default_page_size_comes_from_the_caller() -> None:
    assert cost("{ users { totalCount } }", default_page_size=20) == 20
    assert cost("{ users { edges { node { friends { totalCount } } } } }", default_page_size=3) == (
        3 + 9
    )


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        pytest.param({"n": 10}, 10 + 10 * 4, id="given"),
        pytest.param({"n": 5.0}, 5 + 5 * 4, id="integral-float"),
        pytest.param({}, 30 + 30 * 4, id="absent-uses-operation-default"),
        pytest.param({"n": None}, 50 + 50 * 4, id="null-uses-field-default"),
        pytest.param({"n": "three"}, 50 + 50 * 4, id="not-an-int"),
        pytest.param({"n": True}, 50 + 50 * 4, id="bool-is-not-an-int"),
        pytest.param({"n": -3}, 0, id="negative"),
    ],
)
def test_variables(variables: dict[str, Any], expected: int) -> None:
    query = """query($n: Int = 30, $m: Int) {
      users(first: $n) { edges { node { friends(first: $m) { totalCount } } } }
    }"""
    assert cost(query, {**variables, "m": 4}) == expected


def test_variable_without_any_default_uses_the_page_size() -> None:
    assert cost("query($n: Int) { users(first: $n) { totalCount } }", {}) == 50


def test_fragments_and_inline_fragments_are_expanded() -> None:
    query = """
    { users(first: 10) { edges { node { ...F } } }
      viewer { ... { friends(first: 2) { totalCount } } }
      node(id: "1") {
        ... on User { repos(first: 3) { name } }
        ... on Repo { issues(first: 4) { title } } } }
    fragment F on User { friends(first: 5) { edges { node { ...G } } } }
    fragment G on User { repos(first: 2) { name } }
    """
    users = 10 + 10 * 5 + 10 * 5 * 2
    assert cost(query) == users + 2 + 3 + 4


def test_fields_merge_by_response_key_as_execution_does() -> None:
    # Asked twice under one name, fetched once: the selections merge.
    query = """
    { users(first: 10) { totalCount }
      users(first: 10) { edges { node { friends(first: 2) { totalCount } } } }
      ...Q ...Q }
    fragment Q on Query { users(first: 10) { totalCount } }
    """
    assert cost(query) == 10 + 10 * 2
    # Under different names they are different fields.
    assert cost("{ a: users(first: 10) { totalCount } b: users(first: 10) { totalCount } }") == 20


def test_operation_name_picks_the_operation() -> None:
    document = parse(
        "query A { users(first: 3) { totalCount } } query B { users(first: 9) { totalCount } }"
    )
    assert query_cost(SCHEMA, document, None, "A") == 3
    assert query_cost(SCHEMA, document, None, "B") == 9
    # Ambiguous or unknown: nothing executes, nothing counted.
    assert query_cost(SCHEMA, document, None, None) == 0
    assert query_cost(SCHEMA, document, None, "C") == 0


def test_mutations_are_counted_from_the_mutation_root() -> None:
    schema = build_schema(SDL + "type Mutation { follow: User }")
    document = parse("mutation { follow { friends(first: 8) { totalCount } } }")
    assert query_cost(schema, document) == 8
    assert query_cost(SCHEMA, document) == 0  # no mutation root


def test_shared_fragments_are_walked_once_not_once_per_path() -> None:
    # Each level doubles the paths (two aliases spread the next fragment): 2^30 paths by naive
    # expansion. The plan shares the fragment's node, so this is instant and exact.
    levels = 30
    fragments = [
        f"fragment F{i} on User {{ a: friends(first: 2) {{ edges {{ node {{ ...F{i + 1} }} }} }}"
        f" b: friends(first: 2) {{ edges {{ node {{ ...F{i + 1} }} }} }} }}"
        for i in range(levels)
    ]
    fragments.append(f"fragment F{levels} on User {{ name }}")
    query = "{ viewer { ...F0 } } " + " ".join(fragments)
    expected = 0
    for _ in range(levels):
        expected = 2 * (2 * (1 + expected))
    started = time.perf_counter()
    assert cost(query) == expected
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("{ nope { x } users(first: 2) { totalCount } }", id="unknown-field"),
        pytest.param("{ ...Missing users(first: 2) { totalCount } }", id="unknown-fragment"),
        pytest.param(
            "{ users(first: 2) { edges { node { ...A } } } }"
            " fragment A on User { friends(first: 1) { edges { node { ...B } } } }"
            " fragment B on User { ...A }",
            id="fragment-cycle",
        ),
        pytest.param('{ users(first: "x") { totalCount } }', id="first-not-an-int"),
        pytest.param("{ ... on Nowhere { users(first: 2) { totalCount } } }", id="unknown-type"),
    ],
)
def test_documents_that_fail_validation_do_not_break_it(query: str) -> None:
    assert cost(query) >= 0


def test_plan_cache_compiles_once_per_query_and_operation() -> None:
    cache = PlanCache(default_page_size=50, maxsize=2)
    query = "query($n: Int) { users(first: $n) { totalCount } }"
    document = parse(query)
    plan = cache.plan(SCHEMA, document, query, None)
    assert cache.plan(SCHEMA, document, query, None) is plan
    # Variables are applied when evaluating, not compiling.
    assert plan_cost(plan, {"n": 7}) == 7
    assert plan_cost(plan, {"n": 70}) == 70
    # Bounded: the oldest plan goes first.
    for other in ("{ __typename }", "{ viewer { name } }"):
        cache.plan(SCHEMA, parse(other), other, None)
    assert cache.plan(SCHEMA, document, query, None) is not plan


def test_plan_matches_compile_plan() -> None:
    query = "{ users(first: 4) { edges { node { friends(first: 5) { totalCount } } } } }"
    plan = compile_plan(SCHEMA, parse(query), None, 50)
    assert plan_cost(plan, None) == 4 + 20


BEYOND_INT = 2**31  # one more than GraphQL's largest Int: what any larger `first` counts as


@pytest.mark.parametrize(
    ("query", "variables", "expected"),
    [
        pytest.param("{ users(first: 2147483648) { totalCount } }", None, BEYOND_INT, id="literal"),
        pytest.param(
            "{ users(first: 1" + "0" * 5000 + ") { totalCount } }",
            None,
            BEYOND_INT,
            id="literal-of-5000-digits",  # more digits than Python converts to an int
        ),
        pytest.param(
            "{ users(first: -1" + "0" * 5000 + ") { totalCount } }", None, 0, id="negative-digits"
        ),
        pytest.param(
            "query($n: Int = 1" + "0" * 5000 + ") { users(first: $n) { totalCount } }",
            None,
            BEYOND_INT,
            id="variable-default-of-5000-digits",
        ),
        pytest.param(
            "query($n: Int) { users(first: $n) { totalCount } }",
            {"n": 2**64},
            BEYOND_INT,
            id="variable-over-64-bits",
        ),
        pytest.param(
            "query($n: Int) { users(first: $n) { totalCount } }",
            {"n": 1e300},
            BEYOND_INT,
            id="variable-huge-float",
        ),
    ],
)
def test_first_beyond_graphql_int_counts_as_one_more_than_the_largest(
    query: str, variables: dict[str, Any] | None, expected: int
) -> None:
    assert cost(query, variables) == expected


def test_cost_is_capped_at_64_bits_for_the_json_answer() -> None:
    # Twenty nested connections of 2^31 each would be over 600 bits; JSON encoders (orjson)
    # refuse integers over 64 bits, which once made this a 500.
    query = "{ viewer { " + "friends(first: 2147483647) { edges { node { " * 20
    query += "name" + " } } }" * 20 + " } }"
    assert cost(query) == 2**63 - 1


# -- lists without `first` (issue 11 §2) ---------------------------------------------------------

LISTS_SDL = """
type Query { owners: [Owner!]! owner: Owner page(first: Int): OwnerPage! }
type OwnerPage { edges: [OwnerEdge!]! }
type OwnerEdge { node: Owner! }
type Owner { name: String items: [Item!]! tags: [Tag!]! labels: [String!]! }
type Item { id: ID owner: Owner! tags: [Tag!]! }
type Tag { name: String children: [Tag!]! }
"""
LISTS_SCHEMA = build_schema(LISTS_SDL)
LISTS_BOUNDS = {
    ("Query", "owners"): cost_module.ListBound("owners"),
    ("OwnerPage", "edges"): SAME_ITEMS,
    ("Owner", "items"): cost_module.ListBound("items_per_owner", "items", cost_module.Items.OWNED),
    ("Owner", "tags"): cost_module.ListBound("tags_per_owner", "tag_links"),
    ("Item", "tags"): cost_module.ListBound("tags_per_item", "item_tag_links"),
    ("Tag", "children"): cost_module.ListBound("children_per_tag", "tags", cost_module.Items.OWNED),
}
ONE_TO_ONE = frozenset({("OwnerEdge", "node")})
COUNTS = {
    "owners": 10,
    "items_per_owner": 5,
    "items": 20,
    "tags_per_owner": 3,
    "tag_links": 12,
    "tags_per_item": 4,
    "item_tag_links": 30,
    "children_per_tag": 2,
    "tags": 7,
}


def list_cost(query: str) -> int:
    return cost_module.query_cost(
        LISTS_SCHEMA, parse(query), None, counts=COUNTS, bounds=LISTS_BOUNDS, one_to_one=ONE_TO_ONE
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("{ owners { name } }", 10, id="a root list: all there are"),
        pytest.param("{ owner { items { id } } }", 5, id="one parent: the most one has"),
        # Ten distinct owners hold at most every item once: 20, not 10 x 5.
        pytest.param("{ owners { items { id } } }", 10 + 20, id="distinct parents: the total"),
        pytest.param("{ page(first: 3) { edges { node { items { id } } } } }", 3 + 15, id="page"),
        pytest.param(
            "{ page(first: 9) { edges { node { items { id } } } } }", 9 + 20, id="page total"
        ),
        # Each item leads back to its owner: twenty owners, not distinct, so 20 x 5 items.
        pytest.param(
            "{ owners { items { owner { items { id } } } } }", 10 + 20 + 100, id="back to parent"
        ),
        # Shared items (tags): the links are distinct, the tags are not; their children count
        # by the product.
        pytest.param("{ owners { tags { name } } }", 10 + 12, id="shared: links"),
        pytest.param(
            "{ owners { tags { children { name } } } }", 10 + 12 + 24, id="below shared items"
        ),
        pytest.param("{ owner { tags { children { name } } } }", 3 + 6, id="shared, one parent"),
        pytest.param(
            "{ owners { items { tags { name } } } }", 10 + 20 + 30, id="owned then shared"
        ),
        pytest.param("{ owners { labels } }", 10, id="lists of leaves are not nodes"),
        pytest.param(
            "{ a: owners { name } b: owners { items { id } } }", 10 + 10 + 20, id="aliases add"
        ),
    ],
)
def test_lists_count_by_their_bounds(query: str, expected: int) -> None:
    assert list_cost(query) == expected


def test_the_issue_chain_multiplies() -> None:
    """disclosures { recipient { disclosures { recipient { disclosures } } } } on a recipient
    with 180 disclosures: 180 + 180² + 180³ nodes, as it would return."""
    counts = {**COUNTS, "items_per_owner": 180, "items": 10_000}
    query = "{ owner { items { owner { items { owner { items { id } } } } } } }"
    document = parse(query)
    plan = cost_module.compile_plan(LISTS_SCHEMA, document, None, 50, LISTS_BOUNDS)
    assert plan_cost(plan, None, counts) == 180 + 180**2 + 180**3


def test_a_plan_says_which_counts_it_needs() -> None:
    at_hand = cost_module.compile_plan(build_served(), parse("{ purposes { key } }"), None, 50)
    assert (at_hand.bounded, at_hand.reads_inventory) == (True, False)
    inventory = cost_module.compile_plan(
        build_served(), parse('{ recipient(slug: "x") { disclosures { id } } }'), None, 50
    )
    assert (inventory.bounded, inventory.reads_inventory) == (True, True)
    page = cost_module.compile_plan(
        build_served(), parse("{ recipients { edges { node { name } } } }"), None, 50
    )
    assert (page.bounded, page.reads_inventory) == (False, False)


def test_every_list_of_the_served_schema_has_a_bound() -> None:
    """A new list field must say how long it can be (LIST_BOUNDS), or build_schema refuses."""
    schema = build_served()
    assert cost_module.unbounded_lists(schema, cost_module.LIST_BOUNDS) == []
    assert cost_module.unbounded_lists(schema, {}) != []
    served = {
        (t.name, f)
        for t in schema.type_map.values()
        if hasattr(t, "fields") and not t.name.startswith("__")
        for f in t.fields
    }
    assert set(cost_module.LIST_BOUNDS) <= served, "a bound for a field that is gone"


def build_served() -> Any:
    from server.graphql.schema import build_schema as build_served_schema

    return build_served_schema()._schema
