"""How answers are completed, and the one place that departs from graphql-core's execution.

graphql-core answers every field the same way: a Path, a ResolveInfo, the resolver called
through strawberry's wrapper, then completion. That costs about 3 µs a field, and a subject's
report has thousands of fields, most of which need none of it. A field is *plain* when
strawberry would answer it with no info or extensions: an attribute (strawberry's "basic
field", answered with `getattr`) or a resolver that is not async and takes `self` and at most
scalar or enum arguments. Those arguments depend only on the document and the variables, so
they are read and converted once per request (`bound_arguments`, with graphql-core's and
strawberry's own functions), not once per object.

`PlainFieldsExecutionContext` answers the plain fields of an object in one loop (`_complete`):
it reads the attribute (or calls that resolver on the object, as strawberry would) and completes
the value with graphql-core's own pieces: `complete_leaf_value` for scalars and enums (and for
each item of a list of them), `complete_value` for nulls, awaitables and anything unusual,
`complete_list_item_value` for a list item that is not an object of the list's type,
`collect_subfields` for objects, and `handle_field_error` with the field's (or item's) path for
every error. A plain field may return an awaitable (a relation not loaded yet): it is awaited
and completed as graphql-core completes a resolver's awaitable. Objects and lists of objects
below a plain field are completed by the same loop, one call per object, without going back
through graphql-core's dispatch; a value that is not
plainly an object of the field's type (null, an exception, an awaitable, another class, a value
an `is_type_of` refuses) goes to graphql-core's own completion. A path (graphql-core's `Path`)
is made for an object or a list only when something needs it: an error, a resolver, the objects
below it. Every other field (input object arguments,
info, a field extension such as a permission, async, or any field while a schema extension
wraps resolvers) goes through graphql-core's `execute_field` unchanged. Nothing is computed
ahead or cached across requests: every answer is completed from the objects resolvers return.

Two things are remembered for one request only: the plan of each selection (which fields are
plain, how each completes, and the plan of the selection below it), and the completed answer of
an object whose selection holds only plain leaves (a report shows the same taxonomy term
hundreds of times; up to REMEMBERED_PER_SELECTION objects a selection). Both go with the
request.

What this overrides in graphql-core is `execute_fields` (plain fields in one loop) and
`complete_value` (objects and lists of objects completed through that loop, whatever resolved
them); everything else is graphql-core's, but for one attribute: `async_helpers` (a resolver's
`info.async_helpers`) call the same executor methods through a weak reference, so that the
executor is not a reference cycle and a request's objects are freed with its response rather
than by the garbage collector. tests/unit/test_execution.py pins the methods
it overrides and calls, and fails loudly if a strawberry or graphql-core upgrade changes them.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import operator
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from time import monotonic
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLResolveInfoHelpers,
    GraphQLSchema,
    get_argument_values,
    get_named_type,
    is_leaf_type,
)
from graphql.execution.executor import Executor
from graphql.execution.values import VariableValues
from graphql.pyutils import Path, Undefined, gather_with_cancel
from graphql.type.scalars import serialize_id, serialize_string
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.arguments import convert_arguments
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE
from strawberry.types.field import StrawberryField

from server.graphql.context import AnswerTally

# Field extensions (strawberry.extensions.FieldExtension) that may be skipped when a field is
# answered plainly, and schema extensions whose `resolve` hook may be. Nothing is, today: a
# field with any extension always runs through its resolver, and while any schema extension
# implements `resolve`, every field does.
SKIPPABLE_FIELD_EXTENSIONS: tuple[type, ...] = ()
SKIPPABLE_SCHEMA_EXTENSIONS: tuple[type, ...] = ()

# How a plan step completes its value.
RESOLVE, TYPENAME, LEAF, LEAF_LIST, OBJECT, OBJECT_LIST, GENERAL = range(7)

# The most objects whose answers one selection remembers for a request (taxonomy terms: a few
# hundred), so that a long list of objects each shown once is not kept twice over.
REMEMBERED_PER_SELECTION = 1024
# A request completing a large answer hands the event loop back, so that other requests are
# not held up meanwhile (issue 11 §2): after its first FIRST_TURN_SECONDS of execution (the hot
# queries finish well within it and never pay for this), at the next list once it has held the
# loop TURN_SECONDS, for PAUSE_SECONDS: long enough for a small request to take several steps.
FIRST_TURN_SECONDS = 0.1
TURN_SECONDS = 0.01
PAUSE_SECONDS = 0.001
# How often (in items) a long list looks whether its request's turn has ended.
LIST_TURN_CHECK = 64

# Leaf values of these classes are never awaitable: they go straight to graphql-core's leaf
# completion. Any other value is checked first, as graphql-core checks a resolver's result.
SYNC_LEAF_VALUES = frozenset({str, int, float, bool, date, datetime, time, Decimal})
# graphql-core's String and ID complete a `str` to itself (serialize_string, serialize_id).
TEXT_AS_IS = frozenset({serialize_string, serialize_id})


@functools.lru_cache(maxsize=4096)
def text_completions(leaf_type: Any) -> tuple[bool, dict[str, Any] | None]:
    """What completing a leaf of this type makes of a `str`: (it is kept as it is: String and
    ID; else for an enum, each of its values' text with what the type's own completion makes
    of it, asked of the type here, once). A `str` found in neither goes to graphql-core's leaf
    completion. Bounded: one entry per leaf type of the schemas."""
    if leaf_type.coerce_output_value in TEXT_AS_IS:
        return True, None
    if not isinstance(leaf_type, GraphQLEnumType):
        return False, None
    names: dict[str, Any] = {}
    for value in leaf_type.values.values():
        if type(value.value) is str:
            completed = leaf_type.coerce_output_value(value.value)
            if completed is not None and completed is not Undefined:
                names[value.value] = completed
    return False, names or None


def _path(prev: Path | None, key: str | int, typename: str | None) -> Path:
    """A graphql-core Path, made without the Python-level __new__ that NamedTuple generates
    (the same tuple): a path is made for every object and list of an answer."""
    return tuple.__new__(Path, (prev, key, typename))


def _item_path(path: Path | None, index: int | None) -> Path | None:
    return path if index is None else _path(path, index, None)


@functools.lru_cache(maxsize=4096)
def plain_reader(parent_type: GraphQLObjectType, name: str) -> Callable[..., Any] | None:
    """How strawberry would read this field without info or extensions; None when the field
    needs its resolver. A resolver with arguments is read plainly when every argument is a
    scalar or an enum (or a list of them): `bound_arguments` converts them once per request, as
    strawberry would for each call. Bounded: one entry per field of the schemas in use."""
    field_def: GraphQLField | None = parent_type.fields.get(name)
    if field_def is None:
        return None
    if any(not is_leaf_type(get_named_type(arg.type)) for arg in field_def.args.values()):
        return None  # an input object may build itself with the call's info
    definition = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField):
        return None
    if any(not isinstance(e, SKIPPABLE_FIELD_EXTENSIONS) for e in definition.extensions):
        return None
    resolver = definition.base_resolver
    if resolver is None:
        if definition.default_resolver is not getattr or field_def.args:
            return None
        return operator.attrgetter(definition.python_name)
    if (
        definition.is_async
        or resolver.self_parameter is None
        or resolver.info_parameter is not None
        or resolver.root_parameter is not None
        or resolver.parent_parameter is not None
        or not inspect.isfunction(resolver.wrapped_func)
    ):
        return None
    reader: Callable[..., Any] = resolver.wrapped_func
    return reader


def bound_arguments(
    reader: Callable[..., Any],
    field_def: GraphQLField,
    field_details_list: Any,
    variable_values: VariableValues,
    schema: GraphQLSchema,
) -> Callable[[Any], Any]:
    """A plain reader with the field's arguments bound: read from the field's first node and
    the request's variables by graphql-core's get_argument_values, converted by strawberry's
    convert_arguments, as strawberry's resolver wrapper does on every call. The values are the
    same for every object the field is read on (they depend on the document and the variables
    only), so they are converted once. An argument that fails to convert fails each read,
    at its field's path, as it would in graphql-core's execute_field."""
    definition = field_def.extensions[GraphQLCoreConverter.DEFINITION_BACKREF]
    strawberry_schema = schema._strawberry_schema  # type: ignore[attr-defined]
    try:
        raw = get_argument_values(field_def, field_details_list[0].node, variable_values)
        kwargs = convert_arguments(
            raw,
            definition.arguments,
            scalar_registry=strawberry_schema.schema_converter.scalar_registry,
            config=strawberry_schema.config,
        )
    except Exception as error:
        failure = error

        def refused(source: Any) -> Any:
            raise failure

        return refused
    return functools.partial(reader, **kwargs)


def _unwrap(field_type: GraphQLOutputType) -> tuple[bool, GraphQLOutputType]:
    if isinstance(field_type, GraphQLNonNull):
        return True, field_type.of_type
    return False, field_type


@functools.lru_cache(maxsize=4096)
def completion_of(
    return_type: GraphQLOutputType,
) -> tuple[int, Any, GraphQLOutputType | None, bool]:
    """How values of a type complete: (kind, the leaf or object type, the item type of a list,
    whether those items are non-null). Bounded: one entry per type of the schemas."""
    _, inner = _unwrap(return_type)
    if is_leaf_type(inner):
        return LEAF, inner, None, False
    if isinstance(inner, GraphQLObjectType):
        return OBJECT, inner, None, False
    if isinstance(inner, GraphQLList):
        item_non_null, item = _unwrap(inner.of_type)
        if isinstance(item, GraphQLObjectType):
            return OBJECT_LIST, item, inner.of_type, item_non_null
        if is_leaf_type(item):
            return LEAF_LIST, item, inner.of_type, item_non_null
    return GENERAL, None, None, False  # lists of lists, abstract types: graphql-core's own way


@functools.lru_cache(maxsize=4096)
def plain_class(object_type: GraphQLObjectType) -> type | None:
    """The type's own strawberry class, when graphql-core would complete any instance of it as
    this type with no check but the type's `is_type_of` (if it has one): an instance is not
    null, not an exception and not awaitable. Bounded: one entry per type of the schemas."""
    definition = (object_type.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    origin = getattr(definition, "origin", None)
    if (
        not isinstance(origin, type)
        or issubclass(origin, BaseException)
        or hasattr(origin, "__await__")
    ):
        return None
    return origin


# The is_type_of strawberry generates for an object type with interfaces (GraphQLCoreConverter's
# from_object): it accepts any instance of the type's own class that no strawberry.cast marks as
# another type. tests/unit/test_execution.py pins it.
STRAWBERRY_IS_TYPE_OF = (
    "GraphQLCoreConverter.from_object.<locals>._get_is_type_of.<locals>.is_type_of"
)


@functools.lru_cache(maxsize=4096)
def fits_uncast(object_type: GraphQLObjectType) -> bool:
    """Whether the type's is_type_of is the one strawberry generates (the type declares none of
    its own), so that an instance of its own class with no strawberry.cast on it fits with no
    call: the check a page makes for each of its hundreds of disclosures. A cast instance still
    goes through is_type_of. Bounded: one entry per type of the schemas."""
    is_type_of = object_type.is_type_of
    definition = (object_type.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    return (
        is_type_of is not None
        and getattr(definition, "is_type_of", True) is None
        and getattr(is_type_of, "__module__", None) == GraphQLCoreConverter.__module__
        and getattr(is_type_of, "__qualname__", None) == STRAWBERRY_IS_TYPE_OF
    )


def weak_helpers(executor: Executor[Any]) -> GraphQLResolveInfoHelpers:
    """graphql-core's GraphQLResolveInfoHelpers for an executor (its gather_async_work and
    track_async_work), holding the executor by a weak reference."""
    executor_ref = weakref.ref(executor)

    def live() -> Executor[Any]:
        found = executor_ref()
        if found is None:
            raise RuntimeError("The execution these helpers belong to has finished.")
        return found

    def gather(values: Sequence[Awaitable[Any]]) -> Awaitable[list[Any]]:
        return live().gather_async_work(values)

    def track(values: Sequence[Any]) -> None:
        live().track_async_work(values)

    return GraphQLResolveInfoHelpers(gather=gather, track=track)


@dataclass(eq=False, slots=True)
class Later:
    """A completion deferred to a later turn of its request (the executor's `_after_turn`).
    Awaited, it gives the completed value; a completion that was itself deferred again (the
    rest of a long list) is followed in a loop, not by awaiting one inside the other, so that
    a long chain of turns is no deep stack."""

    future: asyncio.Future[Any]

    def __await__(self) -> Any:
        return _settle(self.future).__await__()


async def _settle(future: asyncio.Future[Any]) -> Any:
    value = await future
    while type(value) is Later:
        value = await value.future
    if inspect.isawaitable(value):
        value = await value
    return value


@dataclass(eq=False, slots=True)
class Step:
    """One selected field of a plan: how its value is read and completed."""

    kind: int
    response_name: str
    field_details_list: Any
    return_type: GraphQLOutputType
    parent_type: GraphQLObjectType
    read: Callable[[Any], Any] | None = None
    field_def: GraphQLField | None = None
    named_type: Any = None  # LEAF, LEAF_LIST: the scalar or enum
    # LEAF: its completion keeps a `str` as it is, or (an enum's) makes these of its values'
    # text (`text_completions`): answered here without the call.
    text_as_is: bool = False
    text_names: dict[str, Any] | None = None
    item_type: Any = None  # LEAF_LIST, OBJECT_LIST: the type of an item, as declared
    non_null: bool = False
    below: Plan | None = None  # OBJECT, OBJECT_LIST: the plan of the selection below
    info: GraphQLResolveInfo | None = None


@dataclass(eq=False, slots=True)
class Plan:
    """A selection on one object type, planned once per request."""

    parent_type: GraphQLObjectType
    type_name: str
    # Instances of this class complete by this plan once the type's is_type_of, if it has one,
    # says so (see plain_class); any other value goes to graphql-core's own completion.
    origin: type | None
    is_type_of: Callable[[Any, GraphQLResolveInfo], Any] | None
    # That is_type_of is strawberry's own: an instance of the class with no strawberry.cast on
    # it fits without the call (see fits_uncast).
    uncast_fits: bool = False
    steps: list[Step] = field(default_factory=list)
    # Only plain leaves: the same object completes to the same answer every time, and its
    # answers are remembered here for the request (by the object's id, the object kept alive
    # with its answer so that its id is not reused). None for any other selection.
    answers: dict[int, tuple[Any, dict[str, Any]]] | None = None


class PlainFieldsExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Answers plain fields in one loop per object (see the module's docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        middlewares = getattr(self.middleware_manager, "middlewares", None) or ()
        self._plain_allowed = all(isinstance(m, SKIPPABLE_SCHEMA_EXTENSIONS) for m in middlewares)
        # graphql-core's helpers are bound methods of the executor, kept by the executor: a
        # reference cycle, which would keep every object of the request (the context and its
        # loaders' rows, the plans, the answers remembered) alive until the garbage collector
        # runs, mid-way through a later request. The same helpers, holding the executor weakly
        # (while a resolver can call them, its execution holds the executor).
        self.async_helpers = weak_helpers(self)
        # This request's plans, by type and field set, and the plans below a field's nodes.
        self._plans: dict[tuple[GraphQLObjectType, int], tuple[Any, Plan]] = {}
        self._below: dict[tuple[GraphQLObjectType, int], tuple[Any, Plan | None]] = {}
        # The budget: list items (nodes) the answer may still hold, when execution must end,
        # and when this request's turn on the event loop ends. Counted at each list of objects.
        settings = getattr(self.context_value, "settings", None)
        now = monotonic()
        self.tally: AnswerTally = getattr(self.context_value, "tally", None) or AnswerTally()
        self._max_nodes: int = getattr(settings, "max_answer_nodes", 2**62)
        self._deadline = now + getattr(settings, "max_execution_ms", 2**40) / 1000
        self._turn_ends = now + FIRST_TURN_SECONDS
        # Lists deferred to a later turn, and the one task that runs them (_after_turn).
        self._waiting: deque[tuple[Callable[[], Any], asyncio.Future[Any]]] = deque()
        self._pump: asyncio.Future[None] | None = None

    # -- plans ----------------------------------------------------------------------------------

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> Plan:
        plans = self._plans
        found = plans.get((parent_type, id(grouped_field_set)))
        if found is not None:
            return found[1]  # type: ignore[no-any-return]
        plan = Plan(
            parent_type,
            parent_type.name,
            plain_class(parent_type),
            parent_type.is_type_of,
            fits_uncast(parent_type),
        )
        # The field set is kept alive with its plan, so that its id is not reused. Stored
        # before the steps are planned: a selection may hold itself only through fragments,
        # which graphql-core collects anew, so this is for plain bookkeeping, not recursion.
        plans[(parent_type, id(grouped_field_set))] = (grouped_field_set, plan)
        plain_allowed = self._plain_allowed
        leaves_only = True
        for response_name, field_details_list in grouped_field_set.items():
            name = field_details_list[0].node.name.value
            if name == "__typename":
                plan.steps.append(
                    Step(TYPENAME, response_name, field_details_list, parent_type, parent_type)
                )
                continue
            field_def = self.schema.get_field(parent_type, name)
            if field_def is None:
                continue  # graphql-core leaves it out of the answer (Undefined)
            read = plain_reader(parent_type, name) if plain_allowed else None
            if read is not None and field_def.args:
                read = bound_arguments(
                    read, field_def, field_details_list, self.variable_values, self.schema
                )
            step = Step(
                RESOLVE,
                response_name,
                field_details_list,
                field_def.type,
                parent_type,
                read,
                field_def,
            )
            step.non_null = isinstance(field_def.type, GraphQLNonNull)
            if read is not None:
                kind, named_type, item_type, _ = completion_of(field_def.type)
                step.kind, step.named_type, step.item_type = kind, named_type, item_type
                if kind == LEAF:
                    step.text_as_is, step.text_names = text_completions(named_type)
                if kind in (OBJECT, OBJECT_LIST):
                    step.below = self._subplan(named_type, field_details_list)
                    if step.below is None:
                        step.kind = GENERAL  # incremental delivery: graphql-core's own way
            if step.kind != LEAF:
                leaves_only = False
            plan.steps.append(step)
        if leaves_only:
            plan.answers = {}
        return plan

    def _subplan(self, object_type: GraphQLObjectType, field_details_list: Any) -> Plan | None:
        """The plan of the selection below a field's nodes on an object type, or None where
        incremental delivery (@defer) asks for graphql-core's own handling."""
        key = (object_type, id(field_details_list))
        found = self._below.get(key)
        if found is None:
            grouped, defer_usages, _ = self.collect_subfields(object_type, field_details_list)
            plan = None if defer_usages else self._plan(object_type, grouped)
            # The field details kept alive with the entry, so that their id is not reused.
            found = self._below[key] = (field_details_list, plan)
        return found[1]

    def _info(self, step: Step, path: Path) -> GraphQLResolveInfo:
        """The step's ResolveInfo, built once per request: plain fields run no resolver, and
        completion reads only the parent type and field name from it (is_type_of, errors)."""
        if step.info is None:
            assert step.field_def is not None
            nodes = [details.node for details in step.field_details_list]
            step.info = self.build_resolve_info(step.field_def, nodes, step.parent_type, path)
        return step.info

    # -- graphql-core's entry points ------------------------------------------------------------

    def execute_fields(  # type: ignore[override]
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        if position_context is not None:  # incremental delivery: graphql-core's own way
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        plan = self._plan(parent_type, grouped_field_set)
        if plan.answers is not None:
            return self._leaves(plan, source_value, path)
        return self._complete(plan, source_value, path)

    def complete_value(  # type: ignore[override]
        self,
        return_type: GraphQLOutputType,
        field_details_list: Any,
        info: GraphQLResolveInfo,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        """Objects and lists of objects go through the plans above, whoever resolved them;
        everything else (nulls, exceptions, leaves, abstract types, other iterables, a value
        its type's is_type_of refuses) is graphql-core's."""
        if result is not None and position_context is None:
            kind, object_type, item_type, _ = completion_of(return_type)
            if kind == OBJECT:
                plan = self._subplan(object_type, field_details_list)
                if plan is not None and (
                    self._fits(object_type, result, info)
                    if type(result) is not plan.origin
                    else self._own(plan, result, info)
                ):
                    return self._object(plan, result, path)
            elif kind == OBJECT_LIST and (type(result) is list or type(result) is tuple):
                plan = self._subplan(object_type, field_details_list)
                if plan is not None:
                    known = self._remembered(plan, result)
                    if known is not None:
                        return known
                    assert item_type is not None
                    return self._objects(plan, result, path, item_type, field_details_list, info)
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )

    # -- completion -----------------------------------------------------------------------------

    def _fits(self, object_type: GraphQLObjectType, value: Any, info: Any) -> bool:
        """Whether graphql-core would complete the value as an object of this type with no
        error: not an exception, not awaitable, and its type's is_type_of says so plainly."""
        if isinstance(value, Exception) or self.is_awaitable(value):
            return False
        is_type_of = object_type.is_type_of
        return is_type_of is None or is_type_of(value, info) is True

    def _plain(self, step: Step, value: Any, path: Path) -> Plan | None:
        """The plan below an object field when its value is an instance of the type's class
        that the type's is_type_of (if any) accepts; None sends it to graphql-core's way."""
        below = step.below
        if below is None or type(value) is not below.origin:
            return None
        if (
            below.is_type_of is None
            or (below.uncast_fits and getattr(value, TYPE_CAST_ATTRIBUTE, None) is None)
            or below.is_type_of(value, self._info(step, path)) is True
        ):
            return below
        return None

    @staticmethod
    def _own(plan: Plan, value: Any, info: GraphQLResolveInfo) -> bool:
        """Whether an instance of the plan's class fits its type (its is_type_of, if any)."""
        return (
            plan.is_type_of is None
            or (plan.uncast_fits and getattr(value, TYPE_CAST_ATTRIBUTE, None) is None)
            or plan.is_type_of(value, info) is True
        )

    def _object(self, plan: Plan, value: Any, path: Path | None) -> Any:
        if plan.answers is not None:
            return self._leaves(plan, value, path)
        return self._complete(plan, value, path)

    def _complete(self, plan: Plan, source: Any, path: Path | None) -> Any:
        """An object's fields by its plan: plain fields read and completed here (objects and
        lists below them too), the rest through graphql-core's execute_field."""
        results: dict[str, Any] = {}
        pending: list[str] | None = None  # made when a field is awaitable: rarely
        type_name = plan.type_name
        complete_leaf_value = self.complete_leaf_value
        new_path = tuple.__new__
        leaf, sync_leaf_values = LEAF, SYNC_LEAF_VALUES
        tally, max_nodes = self.tally, self._max_nodes
        try:
            for step in plan.steps:
                kind = step.kind
                name = step.response_name
                if kind == leaf:
                    try:
                        value = step.read(source)  # type: ignore[misc]
                        if type(value) is str:
                            if step.text_as_is:
                                results[name] = value
                                continue
                            names = step.text_names
                            if names is not None and value in names:
                                results[name] = names[value]
                                continue
                        if type(value) in sync_leaf_values:
                            results[name] = complete_leaf_value(step.named_type, value)
                            continue
                        if value is None and not step.non_null:
                            results[name] = None
                            continue
                    except Exception as error:
                        self.handle_field_error(
                            error,
                            step.return_type,
                            step.field_details_list,
                            _path(path, name, type_name),
                        )
                        results[name] = None
                        continue
                    # A null where the type forbids one, an awaitable, any other value:
                    # graphql-core's completion, below.
                    kind = GENERAL
                elif kind == TYPENAME:
                    results[name] = type_name
                    continue
                if kind == RESOLVE:
                    field_path = new_path(Path, (path, name, type_name))  # as _path, in line
                    value = self.execute_field(
                        plan.parent_type, source, step.field_details_list, field_path, None
                    )
                    if value is Undefined:
                        continue
                else:
                    field_path = None  # made when needed: not for a list answered before
                    try:
                        if step.kind != LEAF:  # a leaf's value was read above
                            value = step.read(source)  # type: ignore[misc]
                        if kind == OBJECT_LIST and type(value) is list:
                            below = step.below
                            assert below is not None
                            # `_remembered`, in line: once for each list of terms in a page.
                            answers = below.answers
                            if answers is not None and below.is_type_of is None:
                                try:
                                    known = (
                                        [answers[id(value[0])][1]]  # one term: no loop
                                        if len(value) == 1
                                        else [answers[id(item)][1] for item in value]
                                    )
                                except KeyError:
                                    known = None
                                if known is not None:
                                    tally.nodes += len(known)
                                    if tally.nodes > max_nodes or monotonic() > self._deadline:
                                        self._spend(0)  # raises the error of the budget passed
                                    results[name] = known
                                    continue
                            field_path = new_path(Path, (path, name, type_name))
                            value = self._objects(
                                below,
                                value,
                                field_path,
                                step.item_type,
                                step.field_details_list,
                                None,
                                step,
                            )
                        else:
                            field_path = new_path(Path, (path, name, type_name))
                            if kind == OBJECT and (plain := self._plain(step, value, field_path)):
                                value = self._object(plain, value, field_path)
                            elif kind == LEAF_LIST and type(value) is list:
                                value = self._leaf_list(step, value, field_path)
                            else:
                                kind = GENERAL
                                value = self._value(step, value, field_path)
                    except Exception as error:
                        if field_path is None:
                            field_path = new_path(Path, (path, name, type_name))
                        self.handle_field_error(
                            error, step.return_type, step.field_details_list, field_path
                        )
                        value = None
                results[name] = value
                if (
                    value is not None
                    and type(value) is not dict
                    and type(value) is not list
                    and self.is_awaitable(value)
                ):
                    if kind not in (RESOLVE, GENERAL):
                        # An object completed with an awaitable below it: its errors belong
                        # to this field, as graphql-core's execute_field has it.
                        assert field_path is not None  # made before any completion below
                        value = results[name] = self._await_field(
                            value, step.return_type, step.field_details_list, field_path
                        )
                    if pending is None:
                        pending = []
                    pending.append(name)
        except Exception:
            if pending:
                self.settle_in_background([results[name] for name in pending])
            raise
        return self._gather_fields(results, pending) if pending else results

    def _value(self, step: Step, value: Any, path: Path) -> Any:
        """A plain field's value completed as graphql-core's execute_field completes a
        resolver's result: awaited if awaitable, then complete_value (its errors raised to the
        caller, which handles them at the field's path)."""
        info = self._info(step, path)
        if self.is_awaitable(value):
            return self.complete_awaitable_value(
                step.return_type, step.field_details_list, info, path, value, None
            )
        completed = self.complete_value(
            step.return_type, step.field_details_list, info, path, value, None
        )
        if self.is_awaitable(completed):
            return self._await_field(completed, step.return_type, step.field_details_list, path)
        return completed

    def _leaves(self, plan: Plan, source: Any, path: Path | None, index: int | None = None) -> Any:
        """An object whose selected fields are all plain leaves: remembered for the request
        (up to REMEMBERED_PER_SELECTION objects), unless completing it raised an error (each
        place it appears then reports its own). Its path is `path`, or item `index` of the list
        at `path`: made only if an error needs it."""
        answers = plan.answers
        assert answers is not None
        known = answers.get(id(source))
        if known is not None:
            return known[1]
        failed = False
        results: dict[str, Any] = {}
        pending: list[str] | None = None
        complete_leaf_value = self.complete_leaf_value
        type_name = plan.type_name
        # No call per field but the read and graphql-core's leaf completion (a try costs nothing
        # until it catches): this runs for every taxonomy term in a report.
        for step in plan.steps:
            name = step.response_name
            try:
                if step.kind == TYPENAME:
                    value = type_name
                else:
                    value = step.read(source)  # type: ignore[misc]
                    if type(value) in SYNC_LEAF_VALUES:
                        value = complete_leaf_value(step.named_type, value)
                    elif value is not None or step.non_null:
                        # A null where the type forbids one, an awaitable, any other value:
                        # graphql-core's completion.
                        field_path = _path(_item_path(path, index), name, type_name)
                        value = self._value(step, value, field_path)
                        if value is not None and self.is_awaitable(value):
                            failed = True  # not remembered: awaited for this answer only
                            pending = [*(pending or ()), name]
            except Exception as error:
                # An error may be dropped under a parent already nulled: a flag, not a count.
                failed = True
                self.handle_field_error(
                    error,
                    step.return_type,
                    step.field_details_list,
                    _path(_item_path(path, index), name, type_name),
                )
                value = None
            results[name] = value
        if pending:
            return self._gather_fields(results, pending)
        if not failed and len(answers) < REMEMBERED_PER_SELECTION:
            answers[id(source)] = (source, results)  # the source kept alive with its answer
        return results

    def _leaf_list(self, step: Step, items: list[Any], path: Path) -> Any:
        """A plain list of scalars or enums: each item through graphql-core's leaf completion;
        a null, awaitable or unusual item through graphql-core's own item completion."""
        named_type = step.named_type
        complete_leaf_value = self.complete_leaf_value
        out: list[Any] = []
        pending: list[int] = []
        index = 0
        try:
            for index, item in enumerate(items):
                if type(item) in SYNC_LEAF_VALUES:
                    try:
                        out.append(complete_leaf_value(named_type, item))
                    except Exception as error:
                        self.handle_field_error(
                            error, step.item_type, step.field_details_list, _path(path, index, None)
                        )
                        out.append(None)
                else:
                    info = self._info(step, path)
                    self._item(
                        item,
                        out,
                        step.item_type,
                        step.field_details_list,
                        info,
                        path,
                        index,
                        pending,
                    )
        except Exception:
            if pending:
                self.settle_in_background([out[index] for index in pending])
            raise
        return self._gather_items(out, pending) if pending else out

    def _spend(self, items: int) -> None:
        """Count a list's items against the answer's budget; past it, or past the time allowed,
        the request stops with one typed error (ANSWER_TOO_LARGE, EXECUTION_TIMEOUT)."""
        tally = self.tally
        tally.nodes += items
        if tally.nodes > self._max_nodes:
            raise self._stopped(
                "ANSWER_TOO_LARGE",
                f"The answer passed {self._max_nodes:,} nodes (list items); ask for fewer "
                "lists, smaller pages or fewer aliases.",
            )
        if monotonic() > self._deadline:
            raise self._stopped(
                "EXECUTION_TIMEOUT", "The query ran past its time budget; ask for less."
            )

    def _stopped(self, code: str, message: str) -> GraphQLError:
        if self.tally.spent is None:
            self.tally.spent = GraphQLError(
                message, extensions={"code": code, "nodes": self.tally.nodes}
            )
        return self.tally.spent

    def _after_turn(self, complete: Callable[[], Any]) -> Later:
        """Complete a list in a later turn of this request: queued for the request's one pump
        (`_take_turns`), so that however many lists wait, they run in turns with a pause
        between them, never all at once when their pauses end together."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append((complete, future))
        if self._pump is None:
            self._pump = asyncio.ensure_future(self._take_turns())
        return Later(future)

    async def _take_turns(self) -> None:
        """Run the waiting completions in turns of TURN_SECONDS, each after a pause of
        PAUSE_SECONDS in which every other request runs. Lists deferred during a turn join the
        queue. A completion whose caller has gone (cancelled) is skipped."""
        waiting = self._waiting
        try:
            while waiting:
                await asyncio.sleep(PAUSE_SECONDS)
                self._turn_ends = monotonic() + TURN_SECONDS
                # At least one completion a turn, however slow the clock says it was.
                while True:
                    complete, future = waiting.popleft()
                    if not future.done():
                        try:
                            future.set_result(complete())
                        except Exception as error:
                            future.set_exception(error)
                    if not waiting or monotonic() > self._turn_ends:
                        break
        finally:
            self._pump = None

    def _remembered(self, plan: Plan, items: list[Any] | tuple[Any, ...]) -> list[Any] | None:
        """The answers of a list of objects of leaves (taxonomy terms) when every one of them
        was answered before in this request, the usual case; None otherwise. An object found
        in `answers` is the very object answered there (kept alive with its answer, its id is
        not reused), so its answer is what completing it again would give, whichever way."""
        answers = plan.answers
        if answers is None or plan.is_type_of is not None:
            return None
        try:
            out = [answers[id(item)][1] for item in items]
        except KeyError:
            return None
        tally = self.tally
        tally.nodes += len(out)
        if tally.nodes > self._max_nodes or monotonic() > self._deadline:
            self._spend(0)  # raises the error of the budget passed
        return out

    def _objects(
        self,
        plan: Plan,
        items: list[Any] | tuple[Any, ...],
        path: Path,
        item_type: GraphQLOutputType,
        field_details_list: Any,
        info: GraphQLResolveInfo | None,
        step: Step | None = None,
    ) -> Any:
        """A list of objects: each item of the list's class completed by the plan, any other
        item as graphql-core completes a list item (after the type's is_type_of, if it has one).
        `info` is the field's, or None to build the step's when needed."""
        if monotonic() > self._turn_ends:
            # Deferred as a whole: its turn then completes at least its first items.
            return self._resumed(
                0, None, None, plan, items, path, item_type, field_details_list, info, step
            )
        return self._objects_from(
            0, None, None, plan, items, path, item_type, field_details_list, info, step
        )

    def _resumed(self, *arguments: Any) -> Later:
        """`_objects_from(*arguments)` in a later turn of this request."""
        return self._after_turn(functools.partial(self._objects_from, *arguments))

    def _objects_from(
        self,
        start: int,
        out: list[Any] | None,
        pending: list[int] | None,
        plan: Plan,
        items: list[Any] | tuple[Any, ...],
        path: Path,
        item_type: GraphQLOutputType,
        field_details_list: Any,
        info: GraphQLResolveInfo | None,
        step: Step | None,
    ) -> Any:
        """The items of a list from `start` on, appended to `out` (an answer for each item, at
        its index; `pending` has the indexes of those still awaitable), then the list. When this
        request's turn ends part-way (looked at every LIST_TURN_CHECK items), the rest of the
        list is completed in a later turn: a long list does not hold the loop. From the start
        (`out` None), the list's items are first counted against the answer's budget."""
        if out is None or pending is None:
            self._spend(len(items))
            out, pending = [], []
        origin = plan.origin
        is_type_of = plan.is_type_of
        uncast_fits = plan.uncast_fits
        answers = plan.answers
        object_type = plan.parent_type
        if info is None and is_type_of is not None:
            assert step is not None
            info = self._info(step, path)
        new_path = tuple.__new__
        complete = self._complete
        check_every = LIST_TURN_CHECK
        try:
            for index in range(start, len(items)):
                if index % check_every == 0 and index > start and monotonic() > self._turn_ends:
                    return self._resumed(
                        index,
                        out,
                        pending,
                        plan,
                        items,
                        path,
                        item_type,
                        field_details_list,
                        info,
                        step,
                    )
                item = items[index]
                if type(item) is origin:
                    plain = (
                        is_type_of is None
                        or (uncast_fits and getattr(item, TYPE_CAST_ATTRIBUTE, None) is None)
                        or is_type_of(item, info) is True  # type: ignore[arg-type]
                    )
                else:
                    plain = is_type_of is not None and self._fits(object_type, item, info)
                if not plain:
                    # graphql-core's own item completion: it awaits, raises or answers null.
                    if info is None:
                        assert step is not None
                        info = self._info(step, path)
                    self._item(item, out, item_type, field_details_list, info, path, index, pending)
                    continue
                if answers is not None:
                    known = answers.get(id(item))
                    if known is not None:
                        out.append(known[1])
                        continue
                    # Only leaves: the item's path is made only if an error needs it.
                    try:
                        completed = self._leaves(plan, item, path, index)
                    except Exception as error:
                        item_path = new_path(Path, (path, index, None))
                        self.handle_field_error(error, item_type, field_details_list, item_path)
                        completed = None
                    if completed is not None and type(completed) is not dict:
                        item_path = new_path(Path, (path, index, None))
                        completed = self._await_field(
                            completed, item_type, field_details_list, item_path
                        )
                        pending.append(index)
                    out.append(completed)
                    continue
                item_path = new_path(Path, (path, index, None))  # as _path, in line
                try:
                    completed = complete(plan, item, item_path)
                    if type(completed) is not dict:
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

    def _item(
        self,
        item: Any,
        out: list[Any],
        item_type: GraphQLOutputType,
        field_details_list: Any,
        info: GraphQLResolveInfo,
        path: Path,
        index: int,
        pending: list[int],
    ) -> None:
        """One list item completed by graphql-core, as its complete_iterable_value does."""
        item_path = _path(path, index, None)
        if self.is_awaitable(item):
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
