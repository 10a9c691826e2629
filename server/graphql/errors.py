"""User errors as the contract shows them, and global-ID parsing that reports instead of raising."""

from __future__ import annotations

from datetime import datetime

import strawberry
from graphql import GraphQLError
from strawberry.relay import GlobalID

from server.domain import errors as domain
from server.domain import validation
from server.graphql import enums


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
