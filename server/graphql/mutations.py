"""The one way a mutation answers: its work runs, and the domain's UserErrors become the
payload's typed `userErrors` with nothing written (as Saleor's BaseMutation.mutate does).
Nothing else is caught: any other exception is a bug, masked for the client and logged."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from server.domain.errors import UserErrors
from server.graphql.errors import user_errors

Payload = TypeVar("Payload")


@dataclass(frozen=True)
class Reviewed:
    """A write's answer when it (or its material part) waits for a second key: the entity as
    it stands, and the change request, the payload's `change`."""

    value: Any
    change: Any


async def mutation_payload(
    payload: Callable[..., Payload], field: str, work: Callable[[], Awaitable[Any]]
) -> Payload:
    """`payload(**{field: result of work, user_errors: []})` (and `change` when the result is
    Reviewed), or with `field` null and the errors when the work raises UserErrors."""
    try:
        result = await work()
    except UserErrors as exc:
        return payload(**{field: None, "user_errors": user_errors(exc)})
    if isinstance(result, Reviewed):
        return payload(**{field: result.value, "change": result.change, "user_errors": []})
    return payload(**{field: result, "user_errors": []})
