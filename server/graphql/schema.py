"""The served schema: every area's queries and mutations merged, with the limits that protect it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import strawberry
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError, NoSchemaIntrospectionCustomRule
from graphql.validation import ASTValidationRule
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.tools import merge_types

from server.db.errors import is_unavailable
from server.domain.taxonomy import default_taxonomy
from server.graphql.analysis import alias_rule, depth_rule
from server.graphql.changes import ChangeMutation, ChangeQuery
from server.graphql.compliance import ComplianceQuery
from server.graphql.cost import LIST_BOUNDS, PlanCache, counts_for, plan_cost, unbounded_lists
from server.graphql.disclosure_events import DisclosureEventMutation
from server.graphql.disclosures import DisclosureMutation
from server.graphql.establishments import EstablishmentMutation, EstablishmentQuery
from server.graphql.execution import PlainFieldsExecutionContext
from server.graphql.imports import ImportMutation
from server.graphql.lookup import NodeQuery
from server.graphql.recipients import RecipientMutation, RecipientQueries
from server.graphql.reports import ReportQuery
from server.graphql.subjects import SubjectMutation, SubjectQuery
from server.graphql.taxonomy import TaxonomyQuery
from server.graphql.transfers import TransferQuery
from server.services.statistics import InventoryStatistics
from server.settings import Settings

log = logging.getLogger("server.graphql")

Query = merge_types(
    "Query",
    (
        NodeQuery,
        RecipientQueries,
        TaxonomyQuery,
        SubjectQuery,
        ReportQuery,
        TransferQuery,
        ComplianceQuery,
        EstablishmentQuery,
        ChangeQuery,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        RecipientMutation,
        DisclosureMutation,
        SubjectMutation,
        DisclosureEventMutation,
        EstablishmentMutation,
        ChangeMutation,
        ImportMutation,
    ),
)


class QueryCostLimiter(SchemaExtension):
    """The node limit (server/graphql/cost.py): over it, a COST_LIMIT_EXCEEDED error and no
    execution. Every response past parsing reports `extensions.cost`."""

    def __init__(self, plans: PlanCache, statistics: InventoryStatistics, limit: int) -> None:
        self.plans = plans
        self.statistics = statistics
        self.limit = limit
        self.cost: int | None = None
        self.actual: int | None = None

    async def on_validate(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context
        document = context.graphql_document
        if document is None:
            return
        plan = self.plans.plan(
            context.schema._schema, document, context.query, context.operation_name
        )
        counts = None
        if plan.bounded:
            try:
                inventory = await self.statistics.counts() if plan.reads_inventory else None
            except Exception as exc:
                if is_unavailable(exc):
                    raise  # 503 SERVICE_UNAVAILABLE (http.py)
                # Strawberry would show an extension's exception as its text: mask it.
                request_id = getattr(context.context, "request_id", "")
                log.exception("reading the counts for the cost", extra={"request_id": request_id})
                raise GraphQLError(
                    f"Internal error (request id {request_id}).",
                    extensions={"code": "INTERNAL", "requestId": request_id},
                ) from None
            taxonomy = getattr(context.context, "taxonomy", None) or default_taxonomy()
            counts = counts_for(inventory, taxonomy)
        self.cost = plan_cost(plan, context.variables, counts)

    def on_execute(self) -> Iterator[None]:
        """Refuse over the limit before execution; after it, a request whose answer or time
        ran out (graphql/execution.py) answers with that one error and no partial data."""
        if self.cost is not None and self.cost > self.limit:
            self.execution_context.result = GraphQLExecutionResult(
                data=None,
                errors=[
                    GraphQLError(
                        f"The query can return up to {self.cost:,} nodes; the limit is "
                        f"{self.limit:,}. Ask for smaller pages (`first`), fewer nested lists "
                        "or fewer aliases.",
                        extensions={
                            "code": "COST_LIMIT_EXCEEDED",
                            "cost": self.cost,
                            "limit": self.limit,
                        },
                    )
                ],
            )
            yield
            return
        yield
        tally = getattr(self.execution_context.context, "tally", None)
        if tally is None:
            return
        self.actual = tally.nodes
        if tally.spent is not None:
            self.execution_context.result = GraphQLExecutionResult(data=None, errors=[tally.spent])

    def get_results(self) -> dict[str, Any]:
        if self.cost is None:
            return {}
        cost = {"requestedNodes": self.cost, "limit": self.limit}
        if self.actual is not None:
            cost["actualNodes"] = self.actual
        return {"cost": cost}


class InventorySchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Strawberry logs every error, clients' bad queries too, without the request id. The
        endpoint logs unexpected ones with the request id and stack (http.py), and the access
        log has every request's outcome."""


def build_schema(
    settings: Settings | None = None,
    execution_context_class: type[StrawberryGraphQLCoreExecutionContext] = (
        PlainFieldsExecutionContext
    ),
) -> strawberry.Schema:
    """The served schema. Tests pass strawberry's own execution context to compare answers."""
    settings = settings or Settings()
    # The same rule classes for every request: the validation cache is keyed by them.
    limits: list[type[ASTValidationRule]] = [
        depth_rule(settings.max_query_depth),
        alias_rule(settings.max_aliases),
    ]
    if settings.production:
        limits.append(NoSchemaIntrospectionCustomRule)
    plans = PlanCache(settings.default_page_size, settings.query_cache_size)
    statistics = InventoryStatistics(settings.cost_statistics_seconds)
    schema = InventorySchema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(auto_camel_case=True),
        execution_context_class=execution_context_class,
        extensions=[
            lambda: AddValidationRules(limits),
            lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
            lambda: ParserCache(maxsize=settings.query_cache_size),
            lambda: ValidationCache(maxsize=settings.query_cache_size),
            lambda: QueryCostLimiter(plans, statistics, settings.max_query_cost),
        ],
    )
    if missing := unbounded_lists(schema._schema, LIST_BOUNDS):
        raise LookupError(f"lists with no bound in server/graphql/cost.py LIST_BOUNDS: {missing}")
    return schema


def schema_sdl(schema: strawberry.Schema | None = None) -> str:
    from strawberry.printer import print_schema

    return print_schema(schema or build_schema()) + "\n"
