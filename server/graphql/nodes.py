"""Relay's global object identification, with an `id` that is a plain field: a global ID is
computed when an object is built, so reading it runs no resolver (server/graphql/execution.py)."""

from __future__ import annotations

from binascii import b2a_base64

import strawberry


def global_id(type_name: str, pk: int) -> strawberry.ID:
    """`<type>:<database id>` in base64, as Relay's convention and strawberry.relay's
    to_base64 write it (tests/unit/test_global_id.py checks they agree), without its checks of
    the type argument: one is made for every recipient and disclosure an answer shows. The
    text itself, typed as strawberry.ID for mypy: calling the NewType costs a call each."""
    return b2a_base64(f"{type_name}:{pk}".encode(), newline=False).decode()  # type: ignore[return-value]


@strawberry.interface(description="An object with a Globally Unique ID")
class Node:
    id: strawberry.ID = strawberry.field(description="The Globally Unique ID of this object")


@strawberry.type(description="Information to aid in pagination.")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="When paginating forwards, are there more items?"
    )
    has_previous_page: bool = strawberry.field(
        description="When paginating backwards, are there more items?"
    )
    start_cursor: str | None = strawberry.field(
        description="When paginating backwards, the cursor to continue."
    )
    end_cursor: str | None = strawberry.field(
        description="When paginating forwards, the cursor to continue."
    )
