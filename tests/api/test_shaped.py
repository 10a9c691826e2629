"""The fast path (server/graphql/shaped.py) answers exactly as ordinary resolution would."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import strawberry
from graphql import GraphQLOutputType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from server.domain.access import Principal, Role
from server.graphql.context import Context, Loaders
from server.graphql.permissions import CanReadSubjects, needs
from server.graphql.schema import Mutation, Query, build_schema
from server.graphql.shaped import Shaped, ShapedExecutionContext, ShapedRows
from server.services import clock
from server.services.fixtures import load_fixtures
from server.settings import Settings

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

RECIPIENT = """
  id slug name legalName description kind role status country services website
  privacyPolicyUrl dpaSignedOn version createdAt updatedAt dataPrivacyFrameworkCertified
  __typename engagedBy { slug } subprocessors { slug name }
"""
DISCLOSURE = """
  id legalBasis ground retention effectiveFrom effectiveTo __typename
  transfers { country mechanism reference }
  dataCategories { key name description sensitive parent { key } children { key } }
  subjectTypes { key name description } purposes { key name description }
  recipient { slug }
"""
REPORT = f"""
query($ref: String!) {{
  whoReceives(subject: {{externalRef: $ref}}) {{
    __typename asOf
    subject {{ id externalRef country createdAt subjectType {{ key name }}
      dataCategories {{ key sensitive }} consents {{ granted recordedAt purpose {{ key }} }} }}
    recipients {{
      recipient {{ {RECIPIENT} history {{ action }} disclosures(includeEnded: true) {{ id }} }}
      via {{ {RECIPIENT} }}
      reasons {{
        disclosure {{ {DISCLOSURE} }}
        dataCategories {{ key name parent {{ key }} }}
        purposes {{ key name }} legalBasis ground
        transfers {{ country mechanism reference }}
        explanation
        aliasForExplanation: explanation
        transferAssessments {{ country mechanism lawful explanation }}
      }}
    }}
    withheld {{ reason explanation recipient {{ slug }} disclosure {{ {DISCLOSURE} }} }}
  }}
  recipients(first: 100) {{
    edges {{ cursor node {{ {RECIPIENT} disclosures {{ {DISCLOSURE} }} }} }}
  }}
}}
"""


class OrdinaryExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Ignores what Shaped values hold: every value, and every item of a list, is completed
    from the strawberry object it stands for, field by field through the resolvers."""

    def complete_value(  # type: ignore[override]
        self,
        return_type: GraphQLOutputType,
        field_details_list: Any,
        info: Any,
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        if type(result) is ShapedRows:
            result = result.as_shaped()
        if type(result) is Shaped:
            result = result.source
        elif type(result) is list:
            result = [item.source if type(item) is Shaped else item for item in result]
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )


async def answer(schema: strawberry.Schema, query: str, variables: dict[str, Any]) -> Any:
    """One operation as an admin, in a fresh request context; it must not fail."""
    context = Context(
        settings=Settings(),
        principal=Principal("test", Role.ADMIN),
        loaders=Loaders(clock.today()),
    )
    result = await schema.execute(query, variable_values=variables, context_value=context)
    assert result.errors is None, result.errors
    return result.data


async def test_fast_path_matches_ordinary_resolution(db: str) -> None:
    report = await load_fixtures(FIXTURES)
    assert report.errors == []
    fast = strawberry.Schema(
        query=Query, mutation=Mutation, execution_context_class=ShapedExecutionContext
    )
    ordinary = strawberry.Schema(
        query=Query, mutation=Mutation, execution_context_class=OrdinaryExecutionContext
    )
    for ref in report.subjects_created:
        fast_answer = await answer(fast, REPORT, {"ref": ref})
        ordinary_answer = await answer(ordinary, REPORT, {"ref": ref})
        # asOf is "now" in each run: compare the rest.
        fast_answer["whoReceives"].pop("asOf")
        ordinary_answer["whoReceives"].pop("asOf")
        assert fast_answer == ordinary_answer
        # The same keys in the same order: a response follows the selection's order.
        assert json.dumps(fast_answer) == json.dumps(ordinary_answer)
        assert fast_answer["whoReceives"]["recipients"], ref


CONDITIONAL = """
query($ref: String!, $withTransfers: Boolean!, $skipNames: Boolean!) {
  whoReceives(subject: {externalRef: $ref}) {
    recipients {
      recipient { slug ... on Recipient @skip(if: $skipNames) { name } }
      reasons { ...Reason }
    }
  }
}

fragment Reason on DisclosureReason {
  explanation
  ... @include(if: $withTransfers) { transferAssessments { country lawful } }
}
"""


async def test_conditional_selections_follow_each_requests_variables(db: str) -> None:
    """Projections compiled for one request serve the next only when the selection cannot
    change with the variables: here it does, and each answer must follow its own."""
    report = await load_fixtures(FIXTURES)
    assert report.errors == []
    fast = build_schema(Settings())  # as served: its parser cache hands back the same nodes
    ordinary = strawberry.Schema(
        query=Query, mutation=Mutation, execution_context_class=OrdinaryExecutionContext
    )
    for flags in ((True, False), (False, True), (True, True), (False, False), (True, False)):
        variables = {"ref": "user-uk-priya", "withTransfers": flags[0], "skipNames": flags[1]}
        answers = [await answer(schema, CONDITIONAL, variables) for schema in (fast, ordinary)]
        assert json.dumps(answers[0]) == json.dumps(answers[1]), flags
        first = answers[0]["whoReceives"]["recipients"][0]
        assert ("name" in first["recipient"]) is not flags[1]
        assert ("transferAssessments" in first["reasons"][0]) is flags[0]


@strawberry.type
class Guarded:
    public: str

    @strawberry.field(extensions=needs(CanReadSubjects))
    def secret(self) -> str | None:
        return "from the resolver"


@strawberry.type
class GuardedQuery:
    @strawberry.field
    def many(self) -> list[Guarded]:
        return [Shaped({"public": "p", "secret": "held"}, Guarded(public="p"))]  # type: ignore[list-item]

    @strawberry.field
    def one(self) -> Guarded:
        return Shaped({"public": "p", "secret": "held"}, Guarded(public="p"))  # type: ignore[return-value]


async def test_fast_path_still_checks_permissions() -> None:
    """A guarded field is never taken from what a Shaped value holds: its resolver runs, and
    with it the permission check, on the one-pass projection and field by field alike."""
    schema = strawberry.Schema(query=GuardedQuery, execution_context_class=ShapedExecutionContext)
    query = "{ many { public secret } one { public secret } }"
    for role, secret in ((Role.VIEWER, None), (Role.PROCUREMENT, None)):
        context = Context(settings=Settings(), principal=Principal("k", role))
        result = await schema.execute(query, context_value=context)
        assert result.data == {
            "many": [{"public": "p", "secret": secret}],
            "one": {"public": "p", "secret": secret},
        }
        assert result.errors is not None
        assert sorted(tuple(e.path or []) for e in result.errors) == [
            ("many", 0, "secret"),
            ("one", "secret"),
        ]
        assert {(e.extensions or {}).get("code") for e in result.errors} == {"FORBIDDEN"}
    for role in (Role.PRIVACY, Role.ADMIN):
        context = Context(settings=Settings(), principal=Principal("k", role))
        result = await schema.execute(query, context_value=context)
        assert result.errors is None, result.errors
        assert result.data == {
            "many": [{"public": "p", "secret": "from the resolver"}],
            "one": {"public": "p", "secret": "from the resolver"},
        }


# A page reads only the disclosure parts its selection needs (server/graphql/recipients.py):
# every way of selecting them must still answer as ordinary resolution does.
PAGE_SELECTIONS = [
    "id",
    "legalBasis ground retention effectiveFrom effectiveTo",
    "dataCategories { key name parent { key } }",
    "transfers { country mechanism reference }",
    "purposes { key } subjectTypes { key }",
    "recipient { slug }",
    "__typename",
    "...Parts",
    "... on Disclosure { transfers { country } }",
    "id } other: disclosures { purposes { key } transfers { reference }",
    "id } ended: disclosures(includeEnded: true) { dataCategories { key } transfers { country }",
]


PAGE = "{ recipients(first: 100) { edges { node { slug disclosures { SELECTION } } } } }"

# Whole operations, with variables: shapes the fast path must not take for granted.
FAST_PATH_OPERATIONS: list[tuple[str, dict[str, Any]]] = [
    (
        "query($v: Boolean) { recipients(first: 100) { edges { node { "
        "disclosures(includeEnded: $v) { transfers { country } } } } } }",
        {"v": False},
    ),
    (
        "query($s: Boolean!) { recipients(first: 100) { edges { node { "
        "disclosures { id transfers @skip(if: $s) { country } } } } } }",
        {"s": True},
    ),
    (
        "query($s: Boolean!) { recipients(first: 100) { edges { node { "
        "disclosures @include(if: $s) { id purposes { key } } } } } }",
        {"s": True},
    ),
    (
        "{ recipients(first: 100) { ...C } } fragment C on RecipientConnection { edges { node "
        "{ ... on Recipient { disclosures { ...D } } } } } fragment D on Disclosure { ... on Node "
        "{ id } ... on Disclosure { subjectTypes { key } } }",
        {},
    ),
    (
        "{ recipients(first: 100) { edges { node { disclosures { id } } } edges { node { "
        "disclosures { transfers { country } } } } } }",
        {},
    ),
    (
        "{ recipients(first: 100) { edges { node { subprocessors { disclosures { transfers "
        "{ country } } } engagedBy { disclosures { purposes { key } } } } } } }",
        {},
    ),
    (
        "query($j: Jurisdiction!) { transferGaps(jurisdiction: $j) { transfer { country } "
        "disclosure { id legalBasis retention transfers { country } dataCategories { key } "
        "purposes { key } recipient { slug } } } }",
        {"j": "UK"},
    ),
]


async def test_pages_read_just_the_parts_selected_and_answer_alike(db: str) -> None:
    report = await load_fixtures(FIXTURES)
    assert report.errors == []
    fast = build_schema(Settings())
    ordinary = strawberry.Schema(
        query=Query, mutation=Mutation, execution_context_class=OrdinaryExecutionContext
    )
    for selection in PAGE_SELECTIONS:
        query = PAGE.replace("SELECTION", selection)
        if "...Parts" in selection:
            query += (
                "\nfragment Parts on Disclosure { subjectTypes { name } dataCategories { key } }"
            )
        answers = [await answer(schema, query, {}) for schema in (fast, ordinary)]
        assert json.dumps(answers[0]) == json.dumps(answers[1]), selection
        nodes = [e["node"] for e in answers[0]["recipients"]["edges"]]
        assert any(node["disclosures"] for node in nodes), selection
    for operation, variables in FAST_PATH_OPERATIONS:
        for _ in range(2):  # the second time from the compiled caches
            answers = [await answer(schema, operation, variables) for schema in (fast, ordinary)]
            assert json.dumps(answers[0]) == json.dumps(answers[1]), operation


async def test_a_page_without_transfers_does_not_read_them(db: str, sql_counter: Any) -> None:
    report = await load_fixtures(FIXTURES)
    assert report.errors == []
    schema = build_schema(Settings())
    sql_counter.statements.clear()
    await answer(
        schema, "{ recipients(first: 50) { edges { node { disclosures { id legalBasis } } } } }", {}
    )
    reads = [s for s in sql_counter.statements if "FROM disclosure d" in s]
    assert len(reads) == 1
    assert "transfers_json" not in reads[0] and "categories_text" not in reads[0]
    sql_counter.statements.clear()
    await answer(
        schema,
        "{ recipients(first: 50) { edges { node { disclosures { transfers { country } } } } } }",
        {},
    )
    reads = [s for s in sql_counter.statements if "FROM disclosure d" in s]
    assert len(reads) == 1
    assert "transfers_json" in reads[0] and "categories_text" not in reads[0]
