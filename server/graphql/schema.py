"""The served schema: every area's queries and mutations merged, with the limits that protect it."""

from __future__ import annotations

import strawberry
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as max_depth_rule
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from server.graphql.disclosures import DisclosureMutation
from server.graphql.recipients import RecipientMutation, RecipientQuery
from server.graphql.shaped import ShapedExecutionContext
from server.graphql.subjects import SubjectMutation, SubjectQuery
from server.graphql.taxonomy import TaxonomyQuery
from server.graphql.transfers import TransferQuery
from server.settings import Settings

Query = merge_types("Query", (RecipientQuery, TaxonomyQuery, SubjectQuery, TransferQuery))
Mutation = merge_types("Mutation", (RecipientMutation, DisclosureMutation, SubjectMutation))


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or Settings()
    # The same rule classes for every request: the validation cache is keyed by them, and
    # QueryDepthLimiter / MaxAliasesLimiter would build new ones each time (and never hit it).
    limits = [
        max_depth_rule(settings.max_query_depth, None, None),
        max_aliases_rule(settings.max_aliases),
    ]
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(auto_camel_case=True),
        execution_context_class=ShapedExecutionContext,
        extensions=[
            lambda: AddValidationRules(limits),
            lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
        ],
    )


def schema_sdl(schema: strawberry.Schema | None = None) -> str:
    from strawberry.printer import print_schema

    return print_schema(schema or build_schema()) + "\n"
