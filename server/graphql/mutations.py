"""The one way a mutation answers: its work runs, and the domain's UserErrors become the
payload's typed `userErrors` with nothing written (as Saleor's BaseMutation.mutate does).
Nothing else is caught: any other exception is a bug, masked for the client and logged."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from server.domain.errors import UserErrors
from server.graphql.errors import user_errors

Payload = TypeVar("Payload")


async def mutation_payload(
    payload: Callable[..., Payload], field: str, work: Callable[[], Awaitable[Any]]
) -> Payload:
    """`payload(**{field: result of work, user_errors: []})`, or with `field` null and the
    errors when the work raises UserErrors."""
    try:
        result = await work()
    except UserErrors as exc:
        return payload(**{field: None, "user_errors": user_errors(exc)})
    return payload(**{field: result, "user_errors": []})
