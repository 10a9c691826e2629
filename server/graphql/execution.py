"""How answers are completed, and the one place that departs from graphql-core's execution.

graphql-core answers every field the same way: a Path, a ResolveInfo, the resolver called
through strawberry's wrapper, then completion. That costs about 3 µs a field, and a subject's
report has thousands of fields, most of which need none of it. A field is *plain* when
strawberry would answer it with no info, arguments or extensions: an attribute (strawberry's
"basic field", answered with `getattr`) or a resolver that takes only `self` and is not async.

`PlainFieldsExecutionContext.execute_fields` answers the plain fields of an object in one loop:
it reads the attribute (or calls that resolver on the object, as strawberry would) and completes
the value with graphql-core's own pieces: `complete_leaf_value` for scalars and enums,
`complete_value` for nulls and anything unusual, `collect_subfields` for objects,
and `handle_field_error` with the field's path for every error. Every other field (arguments,
info, a field extension such as a permission, async, or any field while a schema extension
wraps resolvers) goes through graphql-core's `execute_field` unchanged. Nothing is computed
ahead or cached across requests: every answer is completed from the objects resolvers return.

Two things are remembered for one request only: the plan of each selection (which fields are
plain, and how each completes), and the completed answer of an object whose selection holds only
plain leaves (a report shows the same taxonomy term hundreds of times). Both go with the request.

What this overrides in graphql-core is `execute_fields` (plain fields in one loop) and
`complete_value` (objects and lists of objects completed through that loop, whatever resolved
them); everything else is graphql-core's. tests/unit/test_execution.py pins the methods
it overrides and calls, and fails loudly if a strawberry or graphql-core upgrade changes them.
"""

from __future__ import annotations

import functools
import inspect
import operator
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
        return operator.attrgetter(definition.python_name)
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


@functools.lru_cache(maxsize=4096)
def completion_of(
    return_type: GraphQLOutputType,
) -> tuple[int, Any, GraphQLOutputType | None, bool]:
    """How values of a type complete: (kind, the leaf or object type, the item type of a list of
    objects, whether those items are non-null). Bounded: one entry per type of the schemas."""
    _, inner = _unwrap(return_type)
    if is_leaf_type(inner):
        return LEAF, inner, None, False
    if isinstance(inner, GraphQLObjectType):
        return OBJECT, inner, None, False
    if isinstance(inner, GraphQLList):
        item_non_null, item = _unwrap(inner.of_type)
        if isinstance(item, GraphQLObjectType):
            return OBJECT_LIST, item, inner.of_type, item_non_null
    return GENERAL, None, None, False  # lists of lists, abstract types: graphql-core's own way


@dataclass(eq=False, slots=True)
class Step:
    """One selected field of a plan: how its value is read and completed."""

    kind: int
    response_name: str
    field_details_list: Any
    return_type: GraphQLOutputType
    read: Callable[[Any], Any] | None = None
    field_def: GraphQLField | None = None
    named_type: Any = None  # LEAF: the scalar or enum
    non_null: bool = False
    info: GraphQLResolveInfo | None = None


@dataclass(eq=False, slots=True)
class Plan:
    """A selection on one object type, planned once per request."""

    steps: list[Step] = field(default_factory=list)
    # Only plain leaves: the same object completes to the same answer every time.
    leaves_only: bool = True


class PlainFieldsExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Answers plain fields in one loop per object (see the module's docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        middlewares = getattr(self.middleware_manager, "middlewares", None) or ()
        self._plain_allowed = all(isinstance(m, SKIPPABLE_SCHEMA_EXTENSIONS) for m in middlewares)
        # This request's plans (by type and field set) and remembered answers (module docstring).
        self._plans: dict[tuple[GraphQLObjectType, int], tuple[Any, Plan]] = {}
        self._below: dict[tuple[GraphQLObjectType, int], tuple[Any, Any, Plan | None]] = {}
        self._answers: dict[tuple[int, int], tuple[Any, dict[str, Any]]] = {}

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> Plan:
        plans = self._plans
        found = plans.get((parent_type, id(grouped_field_set)))
        if found is not None:
            return found[1]  # type: ignore[no-any-return]
        plan = Plan()
        plain_allowed = self._plain_allowed
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
            step.non_null = isinstance(field_def.type, GraphQLNonNull)
            if read is not None:
                step.kind, step.named_type, _, _ = completion_of(field_def.type)
                if step.kind == OBJECT_LIST:
                    step.kind = OBJECT  # completed by complete_value, like an object
            if step.kind != LEAF:
                plan.leaves_only = False
            plan.steps.append(step)
        # The field set is kept alive with its plan, so that its id is not reused.
        plans[(parent_type, id(grouped_field_set))] = (grouped_field_set, plan)
        return plan

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
        if plan.leaves_only:
            return self._leaves(plan, parent_type, source_value, path)
        return self._fields(plan, parent_type, source_value, path, position_context)

    def _fields(
        self,
        plan: Plan,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        position_context: Any,
    ) -> Any:
        """An object's fields by its plan: plain leaves in line, other plain fields completed
        below, the rest through graphql-core's execute_field."""
        results: dict[str, Any] = {}
        pending: list[str] = []
        is_awaitable = self.is_awaitable
        type_name = parent_type.name
        try:
            for step in plan.steps:
                kind = step.kind
                response_name = step.response_name
                if kind == LEAF:
                    results[response_name] = self._leaf(step, parent_type, source_value, path)
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
                    value = self._plain(step, parent_type, source_value, field_path)
                results[response_name] = value
                if is_awaitable(value):
                    pending.append(response_name)
        except Exception:
            if pending:
                self.settle_in_background([results[name] for name in pending])
            raise
        return self._gather_fields(results, pending) if pending else results

    def _leaves(
        self, plan: Plan, parent_type: GraphQLObjectType, source: Any, path: Path | None
    ) -> dict[str, Any]:
        """An object whose selected fields are all plain leaves: remembered for the request,
        unless completing it raised an error (each place it appears then reports its own)."""
        answers = self._answers
        key = (id(source), id(plan))
        known = answers.get(key)
        if known is not None:
            return known[1]  # type: ignore[no-any-return]
        failed = False
        results: dict[str, Any] = {}
        complete_leaf_value = self.complete_leaf_value
        type_name = parent_type.name
        # No call per field but the read and graphql-core's leaf completion (a try costs nothing
        # until it catches): this runs for every taxonomy term and recipient in a report.
        for step in plan.steps:
            try:
                if step.kind == TYPENAME:
                    value = type_name
                else:
                    value = step.read(source)  # type: ignore[misc]
                    if value is not None:
                        value = complete_leaf_value(step.named_type, value)
                    elif step.non_null:
                        value = self._null(step, parent_type, path)
            except Exception as error:
                # An error may be dropped under a parent already nulled: a flag, not a count.
                failed = True
                self.handle_field_error(
                    error,
                    step.return_type,
                    step.field_details_list,
                    Path(path, step.response_name, type_name),
                )
                value = None
            results[step.response_name] = value
        if not failed:
            answers[key] = (source, results)  # the source kept alive, so its id is not reused
        return results

    def _leaf(
        self, step: Step, parent_type: GraphQLObjectType, source: Any, path: Path | None
    ) -> Any:
        """A plain scalar or enum: read, then graphql-core's leaf completion."""
        try:
            value = step.read(source)  # type: ignore[misc]
            if value is not None:
                return self.complete_leaf_value(step.named_type, value)
            return self._null(step, parent_type, path) if step.non_null else None
        except Exception as error:
            self.handle_field_error(
                error,
                step.return_type,
                step.field_details_list,
                Path(path, step.response_name, parent_type.name),
            )
            return None

    def _null(self, step: Step, parent_type: GraphQLObjectType, path: Path | None) -> Any:
        """A null where the type forbids one: graphql-core's complete_value raises its error."""
        field_path = Path(path, step.response_name, parent_type.name)
        return self.complete_value(
            step.return_type,
            step.field_details_list,
            self._info(step, parent_type, field_path),
            field_path,
            None,
            None,
        )

    def _plain(self, step: Step, parent_type: GraphQLObjectType, source: Any, path: Path) -> Any:
        """A plain field holding an object, a list or anything else: completed as graphql-core's
        execute_field would, its errors handled at the field's path."""
        try:
            value = step.read(source)  # type: ignore[misc]
            if self.is_awaitable(value):  # graphql-core awaits it, then completes
                return self.complete_awaitable_value(
                    step.return_type,
                    step.field_details_list,
                    self._info(step, parent_type, path),
                    path,
                    value,
                    None,
                )
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

    def complete_value(  # type: ignore[override]
        self,
        return_type: GraphQLOutputType,
        field_details_list: Any,
        info: GraphQLResolveInfo,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        """Objects and lists of objects go through execute_fields above, whoever resolved them;
        everything else (nulls, leaves, abstract types, other iterables) is graphql-core's."""
        if result is not None:
            kind, object_type, item_type, item_non_null = completion_of(return_type)
            if kind == OBJECT and not isinstance(result, Exception):
                return self._object(object_type, field_details_list, info, path, result)
            if kind == OBJECT_LIST and (type(result) is list or type(result) is tuple):
                assert item_type is not None
                return self._objects(
                    object_type, item_type, item_non_null, field_details_list, info, path, result
                )
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _subfields(
        self, object_type: GraphQLObjectType, field_details_list: Any
    ) -> tuple[Any, Plan] | None:
        """The grouped field set below and its plan, or None where incremental delivery
        (@defer) asks for graphql-core's own handling. One lookup per list, not per item."""
        key = (object_type, id(field_details_list))
        found = self._below.get(key)
        if found is None:
            grouped, defer_usages, _ = self.collect_subfields(object_type, field_details_list)
            plan = None if defer_usages else self._plan(object_type, grouped)
            # The field details kept alive with the entry, so that their id is not reused.
            found = self._below[key] = (field_details_list, grouped, plan)
        return None if found[2] is None else (found[1], found[2])

    def _object(
        self,
        object_type: GraphQLObjectType,
        field_details_list: Any,
        info: GraphQLResolveInfo,
        path: Path,
        value: Any,
    ) -> Any:
        below = self._subfields(object_type, field_details_list)
        if below is None or (
            object_type.is_type_of is not None and object_type.is_type_of(value, info) is not True
        ):
            # graphql-core's own check and message (an awaitable is_type_of goes there too).
            return self.complete_object_value(
                object_type, field_details_list, info, path, value, None
            )
        return self.execute_fields(object_type, value, path, below[0], None)

    def _objects(
        self,
        object_type: GraphQLObjectType,
        item_type: GraphQLOutputType,
        item_non_null: bool,
        field_details_list: Any,
        info: GraphQLResolveInfo,
        path: Path,
        items: list[Any] | tuple[Any, ...],
    ) -> Any:
        below = self._subfields(object_type, field_details_list)
        if below is None:
            return super().complete_value(
                GraphQLList(item_type), field_details_list, info, path, items, None
            )
        plan = below[1]
        answers = self._answers if plan.leaves_only else None
        is_type_of = object_type.is_type_of
        is_awaitable = self.is_awaitable
        out: list[Any] = []
        pending: list[int] = []
        try:
            for index, item in enumerate(items):
                if answers is not None:
                    known = answers.get((id(item), id(plan)))
                    if known is not None:
                        out.append(known[1])
                        continue
                item_path = Path(path, index, None)
                try:
                    if (
                        item is None
                        or isinstance(item, Exception)
                        or is_awaitable(item)
                        or (is_type_of is not None and is_type_of(item, info) is not True)
                    ):
                        # graphql-core's own item completion: it awaits, raises or answers null.
                        if is_awaitable(item):
                            out.append(
                                self.complete_awaitable_list_item_value(
                                    item, item_type, field_details_list, info, item_path, None
                                )
                            )
                            pending.append(index)
                        elif self.complete_list_item_value(
                            item, out, item_type, field_details_list, info, item_path, None
                        ):
                            pending.append(index)
                        continue
                    completed: Any
                    if answers is not None:
                        completed = self._leaves(plan, object_type, item, item_path)
                    else:
                        completed = self._fields(plan, object_type, item, item_path, None)
                        if is_awaitable(completed):
                            completed = self._await_field(
                                completed, item_type, field_details_list, item_path
                            )
                            pending.append(index)
                except Exception as error:
                    self.handle_field_error(error, item_type, field_details_list, item_path)
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
