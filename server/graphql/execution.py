"""How answers are completed, and the one place that departs from graphql-core's execution.

graphql-core answers every field the same way: a Path, a ResolveInfo, the resolver called
through strawberry's wrapper, then completion. That costs about 3 µs a field, and a subject's
report has thousands of fields, most of which need none of it. A field is *plain* when
strawberry would answer it with no info, arguments or extensions: an attribute (strawberry's
"basic field", answered with `getattr`) or a resolver that takes only `self` and is not async.

`PlainFieldsExecutionContext.execute_fields` answers the plain fields of an object in one loop:
it reads the attribute (or calls that resolver on the object, as strawberry would) and completes
the value with graphql-core's own pieces: `complete_leaf_value` for scalars and enums,
`complete_value` for nulls and anything unusual, `collect_and_execute_subfields` for objects,
and `handle_field_error` with the field's path for every error. Every other field (arguments,
info, a field extension such as a permission, async, or any field while a schema extension
wraps resolvers) goes through graphql-core's `execute_field` unchanged. Nothing is computed
ahead or cached across requests: every answer is completed from the objects resolvers return.

Two things are remembered for one request only: the plan of each selection (which fields are
plain, and how each completes), and the completed answer of an object whose selection holds only
plain leaves (a report shows the same taxonomy term hundreds of times). Both go with the request.

What this overrides in graphql-core is `execute_fields`, nothing else; the methods it calls are
pinned by tests/unit/test_execution_contract.py, which fails loudly if an upgrade changes them.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    is_leaf_type,
)
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

# Field extensions (strawberry.extensions.FieldExtension) that may be skipped when a field is
# answered plainly, and schema extensions whose `resolve` hook may be. Nothing is, today: a
# field with any extension always runs through its resolver, and while any schema extension
# implements `resolve`, every field does.
SKIPPABLE_FIELD_EXTENSIONS: tuple[type, ...] = ()
SKIPPABLE_SCHEMA_EXTENSIONS: tuple[type, ...] = ()

# How a plan step completes its value.
RESOLVE, TYPENAME, LEAF, OBJECT, OBJECT_LIST, GENERAL = range(6)


@functools.lru_cache(maxsize=4096)
def plain_reader(parent_type: GraphQLObjectType, name: str) -> Callable[[Any], Any] | None:
    """How strawberry would read this field without info, arguments or extensions; None when
    the field needs its resolver. Bounded: one entry per field of the schemas in use."""
    field_def: GraphQLField | None = parent_type.fields.get(name)
    if field_def is None or field_def.args:
        return None
    definition = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField):
        return None
    if any(not isinstance(e, SKIPPABLE_FIELD_EXTENSIONS) for e in definition.extensions):
        return None
    resolver = definition.base_resolver
    if resolver is None:
        if definition.default_resolver is not getattr:
            return None
        attribute = definition.python_name
        return lambda source: getattr(source, attribute)
    if (
        definition.is_async
        or resolver.arguments
        or resolver.self_parameter is None
        or resolver.info_parameter is not None
        or resolver.root_parameter is not None
        or resolver.parent_parameter is not None
        or not inspect.isfunction(resolver.wrapped_func)
    ):
        return None
    reader: Callable[[Any], Any] = resolver.wrapped_func
    return reader


def _unwrap(field_type: GraphQLOutputType) -> tuple[bool, GraphQLOutputType]:
    if isinstance(field_type, GraphQLNonNull):
        return True, field_type.of_type
    return False, field_type


@dataclass(eq=False)
class Step:
    """One selected field of a plan: how its value is read and completed."""

    kind: int
    response_name: str
    field_details_list: Any
    return_type: GraphQLOutputType
    read: Callable[[Any], Any] | None = None
    field_def: GraphQLField | None = None
    # LEAF: the scalar or enum; OBJECT and OBJECT_LIST: the object type (of the items).
    named_type: Any = None
    item_type: GraphQLOutputType | None = None
    item_non_null: bool = False
    info: GraphQLResolveInfo | None = None


@dataclass(eq=False)
class Plan:
    """A selection on one object type, planned once per request."""

    steps: list[Step] = field(default_factory=list)
    # Only plain leaves: the same object completes to the same answer every time.
    leaves_only: bool = True


class PlainFieldsExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Answers plain fields in one loop per object (see the module's docstring)."""

    def _plans(self) -> dict[tuple[GraphQLObjectType, int], tuple[Any, Plan]]:
        plans = self.__dict__.get("_plan_cache")
        if plans is None:
            plans = self.__dict__["_plan_cache"] = {}
            middlewares = getattr(self.middleware_manager, "middlewares", None) or ()
            self.__dict__["_plain_allowed"] = all(
                isinstance(m, SKIPPABLE_SCHEMA_EXTENSIONS) for m in middlewares
            )
            self.__dict__["_answers"] = {}
        return plans

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> Plan:
        plans = self._plans()
        key = (parent_type, id(grouped_field_set))
        found = plans.get(key)
        if found is not None:
            return found[1]
        plan = Plan()
        plain_allowed: bool = self.__dict__["_plain_allowed"]
        for response_name, field_details_list in grouped_field_set.items():
            name = field_details_list[0].node.name.value
            if name == "__typename":
                plan.steps.append(Step(TYPENAME, response_name, field_details_list, parent_type))
                continue
            field_def = self.schema.get_field(parent_type, name)
            if field_def is None:
                continue  # graphql-core leaves it out of the answer (Undefined)
            read = plain_reader(parent_type, name) if plain_allowed else None
            step = Step(RESOLVE, response_name, field_details_list, field_def.type, read, field_def)
            if read is not None:
                self._classify(step)
            if step.kind != LEAF:
                plan.leaves_only = False
            plan.steps.append(step)
        plans[key] = (grouped_field_set, plan)  # the set kept alive, so its id is not reused
        return plan

    @staticmethod
    def _classify(step: Step) -> None:
        _, inner = _unwrap(step.return_type)
        if is_leaf_type(inner):
            step.kind, step.named_type = LEAF, inner
        elif isinstance(inner, GraphQLObjectType):
            step.kind, step.named_type = OBJECT, inner
        elif isinstance(inner, GraphQLList):
            item_non_null, item = _unwrap(inner.of_type)
            if isinstance(item, GraphQLObjectType):
                step.kind, step.named_type = OBJECT_LIST, item
                step.item_type, step.item_non_null = inner.of_type, item_non_null
            else:
                step.kind = GENERAL
        else:
            step.kind = GENERAL  # abstract types: graphql-core resolves the runtime type

    def _info(self, step: Step, parent_type: GraphQLObjectType, path: Path) -> GraphQLResolveInfo:
        """The step's ResolveInfo, built once per request: plain fields run no resolver, and
        completion reads only the parent type and field name from it (is_type_of, errors)."""
        if step.info is None:
            assert step.field_def is not None
            nodes = [details.node for details in step.field_details_list]
            step.info = self.build_resolve_info(step.field_def, nodes, parent_type, path)
        return step.info

    def execute_fields(  # type: ignore[override]
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        plan = self._plan(parent_type, grouped_field_set)
        answers: dict[tuple[int, int], tuple[Any, dict[str, Any]]] = self.__dict__["_answers"]
        if plan.leaves_only:
            known = answers.get((id(source_value), id(plan)))
            if known is not None:
                return known[1]
            errors_before = len(self.collected_errors.errors)
        results: dict[str, Any] = {}
        pending: list[str] = []
        is_awaitable = self.is_awaitable
        type_name = parent_type.name
        try:
            for step in plan.steps:
                kind = step.kind
                response_name = step.response_name
                if kind == LEAF:
                    try:
                        value = step.read(source_value)  # type: ignore[misc]
                        if value is not None:
                            value = self.complete_leaf_value(step.named_type, value)
                        elif step.return_type is not step.named_type:
                            value = self._complete_null(step, parent_type, path)
                    except Exception as error:
                        self.handle_field_error(
                            error,
                            step.return_type,
                            step.field_details_list,
                            Path(path, response_name, type_name),
                        )
                        value = None
                    results[response_name] = value
                    continue
                if kind == TYPENAME:
                    results[response_name] = type_name
                    continue
                field_path = Path(path, response_name, type_name)
                if kind == RESOLVE:
                    value = self.execute_field(
                        parent_type,
                        source_value,
                        step.field_details_list,
                        field_path,
                        position_context,
                    )
                    if value is Undefined:
                        continue
                else:
                    value = self._complete_plain(step, parent_type, source_value, field_path)
                results[response_name] = value
                if is_awaitable(value):
                    pending.append(response_name)
        except Exception:
            if pending:
                self.settle_in_background([results[name] for name in pending])
            raise
        if pending:
            return self._gather_fields(results, pending)
        if plan.leaves_only and len(self.collected_errors.errors) == errors_before:
            answers[(id(source_value), id(plan))] = (source_value, results)
        return results

    def _complete_null(self, step: Step, parent_type: GraphQLObjectType, path: Path | None) -> Any:
        """A null where the type forbids one: graphql-core's own completion raises its error."""
        field_path = Path(path, step.response_name, parent_type.name)
        return self.complete_value(
            step.return_type,
            step.field_details_list,
            self._info(step, parent_type, field_path),
            field_path,
            None,
            None,
        )

    def _complete_plain(
        self, step: Step, parent_type: GraphQLObjectType, source: Any, path: Path
    ) -> Any:
        """A plain field that holds an object, a list, or anything else: completed as
        graphql-core's execute_field would, errors handled at the field's path."""
        try:
            value = step.read(source)  # type: ignore[misc]
            kind = step.kind
            if value is None or kind == GENERAL:
                completed = self.complete_value(
                    step.return_type,
                    step.field_details_list,
                    self._info(step, parent_type, path),
                    path,
                    value,
                    None,
                )
            elif kind == OBJECT:
                completed = self._complete_object(step, parent_type, value, path)
            elif type(value) is list or type(value) is tuple:
                completed = self._complete_objects(step, parent_type, value, path)
            else:  # another iterable: graphql-core's list completion handles every kind
                completed = self.complete_value(
                    step.return_type,
                    step.field_details_list,
                    self._info(step, parent_type, path),
                    path,
                    value,
                    None,
                )
        except Exception as error:
            self.handle_field_error(error, step.return_type, step.field_details_list, path)
            return None
        if self.is_awaitable(completed):
            return self._await_field(completed, step.return_type, step.field_details_list, path)
        return completed

    def _complete_object(
        self, step: Step, parent_type: GraphQLObjectType, value: Any, path: Path
    ) -> Any:
        object_type: GraphQLObjectType = step.named_type
        if object_type.is_type_of is not None and not object_type.is_type_of(
            value, self._info(step, parent_type, path)
        ):
            # graphql-core's own check and message (an awaitable is_type_of goes there too).
            return self.complete_object_value(
                object_type,
                step.field_details_list,
                self._info(step, parent_type, path),
                path,
                value,
                None,
            )
        return self.collect_and_execute_subfields(
            object_type, step.field_details_list, path, value, None
        )

    def _complete_objects(
        self, step: Step, parent_type: GraphQLObjectType, items: list[Any] | tuple[Any], path: Path
    ) -> Any:
        assert step.item_type is not None
        out: list[Any] = []
        pending: list[int] = []
        is_awaitable = self.is_awaitable
        try:
            for index, item in enumerate(items):
                item_path = Path(path, index, None)
                try:
                    if item is None:
                        completed = self.complete_value(
                            step.item_type,
                            step.field_details_list,
                            self._info(step, parent_type, path),
                            item_path,
                            None,
                            None,
                        )
                    else:
                        completed = self._complete_object(step, parent_type, item, item_path)
                        if is_awaitable(completed):
                            completed = self._await_field(
                                completed, step.item_type, step.field_details_list, item_path
                            )
                            pending.append(index)
                except Exception as error:
                    self.handle_field_error(
                        error, step.item_type, step.field_details_list, item_path
                    )
                    completed = None
                out.append(completed)
        except Exception:
            if pending:
                self.settle_in_background([out[index] for index in pending])
            raise
        return self._gather_items(out, pending) if pending else out

    async def _await_field(
        self,
        awaitable: Awaitable[Any],
        return_type: GraphQLOutputType,
        field_details_list: Any,
        path: Path,
    ) -> Any:
        try:
            return await awaitable
        except Exception as error:
            self.handle_field_error(error, return_type, field_details_list, path)
            return None

    async def _gather_fields(self, results: dict[str, Any], pending: list[str]) -> dict[str, Any]:
        """Await together the fields that resolved to awaitables, so their DataLoaders batch."""
        settled = await self._gather([results[name] for name in pending])
        results.update(zip(pending, settled, strict=True))
        return results

    async def _gather_items(self, items: list[Any], pending: list[int]) -> list[Any]:
        settled = await self._gather([items[index] for index in pending])
        for index, value in zip(pending, settled, strict=True):
            items[index] = value
        return items

    async def _gather(self, awaitables: list[Awaitable[Any]]) -> list[Any]:
        if len(awaitables) == 1:
            return [await awaitables[0]]
        return list(await gather_with_cancel(*awaitables))
