"""User errors as the contract shows them, global-ID parsing that reports instead of raising, and
the one list of codes a GraphQL error's `extensions.code` may hold."""

from __future__ import annotations

from datetime import datetime

import strawberry
from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.relay import GlobalID

from server.domain import errors as domain
from server.domain import validation
from server.graphql import enums

# Every GraphQL error an answer holds carries one of these codes in `extensions.code` (as
# Apollo's and GitHub's do), so a client can branch on it without reading messages. README
# "Error codes" lists them with their HTTP statuses.
ERROR_CODES = (
    "GRAPHQL_PARSE_FAILED",  # the document is not GraphQL
    "GRAPHQL_VALIDATION_FAILED",  # not valid against the schema, or too deep / too many aliases
    "BAD_USER_INPUT",  # an argument, variable, cursor or filter that cannot be used
    "COST_LIMIT_EXCEEDED",  # the query could return more than MAX_QUERY_COST nodes
    "ANSWER_TOO_LARGE",  # the answer grew past MAX_ANSWER_NODES
    "EXECUTION_TIMEOUT",  # execution took longer than MAX_EXECUTION_MS
    "UNAUTHENTICATED",  # no key, or one the service does not know
    "FORBIDDEN",  # the key's role may not do this
    "RATE_LIMITED",  # over the key's (or the address's) rate
    "SERVICE_UNAVAILABLE",  # the database did not answer in time: retry after Retry-After
    "BAD_REQUEST",  # the HTTP request is not a GraphQL request (no query, bad JSON, ...)
    "NOT_FOUND",  # no such file of the query console (or the console is off: production)
    "METHOD_NOT_ALLOWED",  # a mutation over GET, or a method other than GET and POST
    "NOT_ACCEPTABLE",  # an Accept header naming no media type the service writes
    "UNSUPPORTED_MEDIA_TYPE",  # a body that is not JSON
    "PAYLOAD_TOO_LARGE",  # a body over MAX_BODY_BYTES
    "REQUEST_TIMEOUT",  # a body that did not arrive within BODY_TIMEOUT_SECONDS
    "INTERNAL",  # a bug: masked, logged with its stack under the request id
)


def error_code(error: GraphQLError) -> str:
    """The code of an error that names none itself: a syntax error is a parse failure; before
    execution (no path), a variable that cannot be coerced is bad input and anything else failed
    validation; during execution, a GraphQLError our resolvers raise is about their arguments."""
    code = (error.extensions or {}).get("code")
    if isinstance(code, str):
        return code
    if isinstance(error, GraphQLSyntaxError) or isinstance(
        error.original_error, GraphQLSyntaxError
    ):
        return "GRAPHQL_PARSE_FAILED"
    if error.path is None:
        # graphql-core's coerce_variable_values words every such error this way.
        if error.message.startswith("Variable '$"):
            return "BAD_USER_INPUT"
        return "GRAPHQL_VALIDATION_FAILED"
    return "BAD_USER_INPUT"


@strawberry.type
class UserError:
    field: list[str] | None = strawberry.field(
        description='Path to the offending input field, e.g. ["input", "country"].'
    )
    message: str
    code: enums.UserErrorCode

    @classmethod
    def from_domain(cls, error: domain.UserError) -> UserError:
        return cls(field=error.field, message=error.message, code=enums.UserErrorCode(error.code))


# Database ids are 32-bit: a larger number names nothing (and must not reach the driver).
MAX_DATABASE_ID = 2**31 - 1


# The most userErrors one payload lists: its list has a bound like every other (cost.py). Past
# it, the last entry says how many more there were; no input within the body limit and the
# write caps comes near it.
MAX_USER_ERRORS = 1000


def user_errors(exc: domain.UserErrors) -> list[UserError]:
    errors = [UserError.from_domain(e) for e in exc.errors[:MAX_USER_ERRORS]]
    if len(exc.errors) > MAX_USER_ERRORS:
        errors[-1] = UserError(
            field=None,
            message=f"{len(exc.errors) - MAX_USER_ERRORS + 1:,} more errors are not listed.",
            code=enums.UserErrorCode.INVALID,
        )
    return errors


def decode_id(value: str, type_name: str, path: list[str]) -> int:
    """The database id inside a global ID of the given type; a NOT_FOUND user error otherwise."""
    try:
        gid = GlobalID.from_id(value)
        if gid.type_name == type_name:
            node_id = int(gid.node_id)
            if 0 < node_id <= MAX_DATABASE_ID:
                return node_id
    except (ValueError, TypeError):
        pass
    raise domain.UserErrors(
        [
            domain.UserError(
                path,
                f'"{value[:100]}" is not the ID of a {type_name}.',
                domain.UserErrorCode.NOT_FOUND,
            )
        ]
    )


def checked_moment(value: datetime | None, argument: str) -> datetime | None:
    """A date-time argument within the years the service answers for; otherwise a GraphQL
    error with code BAD_USER_INPUT, before any arithmetic can overflow on it."""
    if value is not None and (problem := validation.moment_error(value)):
        raise GraphQLError(f"{argument}: {problem}", extensions={"code": "BAD_USER_INPUT"})
    return value
