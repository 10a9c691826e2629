"""A fast path for large answers that keeps the typed schema and its validation.

Strawberry resolves each field at about 3.5 µs (stack notes); a subject's report has thousands.
A resolver may instead return `Shaped` values: objects whose fields are already computed, with
leaves already serialised the way the schema's scalars and enums would. The execution context
below completes those fields with a dictionary lookup. Any field a `Shaped` does not hold, or
that is asked for with arguments, falls back to the ordinary resolver on `source`, so every
query the schema validates still runs, and still runs the same way.
"""

from __future__ import annotations

import asyncio
from typing import Any

from graphql import (
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    is_leaf_type,
)
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class Shaped:
    __slots__ = ("source", "values")

    def __init__(self, values: dict[str, Any], source: Any) -> None:
        self.values = values
        self.source = source


async def _settle(results: dict[str, Any], pending: list[str]) -> dict[str, Any]:
    """Await the fields that fell back to async resolvers together, so their DataLoaders batch."""
    settled = await asyncio.gather(*(results[key] for key in pending))
    results.update(zip(pending, settled, strict=True))
    return results


async def _settle_list(items: list[Any], pending: list[int]) -> list[Any]:
    settled = await asyncio.gather(*(items[index] for index in pending))
    for index, value in zip(pending, settled, strict=True):
        items[index] = value
    return items


class ShapedExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def complete_object_value(  # type: ignore[override]
        self,
        return_type: GraphQLObjectType,
        field_details_list: Any,
        info: Any,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        if type(result) is Shaped:
            return self.collect_and_execute_subfields(
                return_type, field_details_list, path, result, position_context
            )
        return super().complete_object_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def execute_fields(  # type: ignore[override]
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        if type(source_value) is not Shaped:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        values = source_value.values
        fields = parent_type.fields
        results: dict[str, Any] = {}
        pending: list[str] = []
        is_awaitable = self.is_awaitable
        for response_name, field_details_list in grouped_field_set.items():
            node = field_details_list[0].node
            name = node.name.value
            if name in values and not node.arguments:
                value = self._complete_shaped(
                    fields[name].type,
                    field_details_list,
                    Path(path, response_name, parent_type.name),
                    values[name],
                )
            elif name == "__typename":
                value = parent_type.name
            else:
                value = self.execute_field(
                    parent_type,
                    source_value.source,
                    field_details_list,
                    Path(path, response_name, parent_type.name),
                    position_context,
                )
            results[response_name] = value
            if is_awaitable(value):
                pending.append(response_name)
        return _settle(results, pending) if pending else results

    def _complete_shaped(
        self, field_type: GraphQLOutputType, field_details_list: Any, path: Path, value: Any
    ) -> Any:
        if value is None:
            return None
        if isinstance(field_type, GraphQLNonNull):
            field_type = field_type.of_type
        if is_leaf_type(field_type):
            return value
        if isinstance(field_type, GraphQLList):
            item_type = field_type.of_type
            items = [
                self._complete_shaped(item_type, field_details_list, Path(path, i, None), item)
                for i, item in enumerate(value)
            ]
            pending = [i for i, item in enumerate(items) if self.is_awaitable(item)]
            return _settle_list(items, pending) if pending else items
        if type(value) is Shaped and isinstance(field_type, GraphQLObjectType):
            grouped = self.collect_subfields(field_type, field_details_list)[0]
            return self.execute_fields(field_type, value, path, grouped, None)
        raise TypeError(
            f"A Shaped value at {path.as_list()} holds a {type(value).__name__}; "
            "it may hold only serialised leaves, lists and Shaped objects."
        )
