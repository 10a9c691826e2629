"""A fast path for large answers that keeps the typed schema and its validation.

Strawberry resolves each field at about 3.5 µs (stack notes); a subject's report has thousands.
A resolver may instead return `Shaped` values: objects whose fields are already computed, with
leaves already serialised the way the schema's scalars and enums would. The execution context
below completes those fields with a dictionary lookup. Any field a `Shaped` does not hold, or
that is asked for with arguments, falls back to the ordinary resolver on `source`, so every
query the schema validates still runs, and still runs the same way. A Shaped value may also
hold a list as `ShapedRows`: rows plus a table of field expressions, projected straight from
the rows with no object per item (a page of recipients holds hundreds of disclosures).

A field guarded by a permission (server/graphql/permissions.py) is never taken from a Shaped
value: it always goes through its resolver, so its permission check runs on this path too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from graphql import (
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    is_leaf_type,
)
from graphql.pyutils import Path
from strawberry.permission import PermissionExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.nodes import SelectedField


class Shaped:
    """`source` may be given as a factory, built only if a field falls back to it."""

    __slots__ = ("_factory", "_source", "values")

    def __init__(
        self, values: dict[str, Any], source: Any = None, factory: Callable[[], Any] | None = None
    ) -> None:
        self.values = values
        self._source = source
        self._factory = factory

    @property
    def source(self) -> Any:
        if self._source is None and self._factory is not None:
            self._source = self._factory()
        return self._source


def sources(items: list[Shaped]) -> list[Any]:
    """The strawberry objects a list of Shaped values stands for (built on demand)."""
    return [item.source for item in items]


class RowFields:
    """How one kind of row is serialised: for each field, a Python expression over `row` and a
    context argument, written in our code, never taken from a request. A list of such rows is
    projected straight from the rows (see ShapedRows)."""

    def __init__(self, expressions: dict[str, str], namespace: dict[str, Any], context: str):
        self.expressions = expressions
        self.namespace = namespace
        self.context = context


class ShapedRows:
    """A list of rows held by a Shaped value in place of a list of Shaped items. A projection
    compiles straight from the rows through `fields` (one pass, no intermediate objects: a
    page of recipients holds hundreds of disclosures). Where the selection asks for a field
    `fields` lacks, each row becomes a Shaped value through `shape`, as ever."""

    __slots__ = ("context", "fields", "rows", "shape")

    def __init__(
        self, rows: list[Any], fields: RowFields, context: Any, shape: Callable[[Any], Shaped]
    ) -> None:
        self.rows = rows
        self.fields = fields
        self.context = context
        self.shape = shape

    def as_shaped(self) -> list[Shaped]:
        return [self.shape(row) for row in self.rows]


def selected_names(fields: Iterable[Any]) -> set[str]:
    """The names of the fields selected right below strawberry's `info.selected_fields`,
    through fragments: what a resolver of a list may shape ahead for every item."""
    names: set[str] = set()

    def walk(selections: Iterable[Any]) -> None:
        for selection in selections:
            if isinstance(selection, SelectedField):
                names.add(selection.name)
            else:
                walk(getattr(selection, "selections", []))

    for field in fields:
        walk(field.selections)
    return names


def selected_below(
    fields: Iterable[Any],
    path: Sequence[str],
    accept: Callable[[dict[str, Any]], bool] = lambda arguments: not arguments,
) -> set[str] | None:
    """The names selected below the field at `path` under strawberry's `info.selected_fields`
    (through fragments, every place it is selected with arguments `accept` allows), so that a
    resolver can shape that field ahead for the whole answer; None where it is not selected so."""
    found: set[str] | None = None

    def walk(selections: Iterable[Any], rest: Sequence[str]) -> None:
        nonlocal found
        for selection in selections:
            if not isinstance(selection, SelectedField):
                walk(getattr(selection, "selections", []), rest)
            elif selection.name != rest[0]:
                continue
            elif len(rest) > 1:
                walk(selection.selections, rest[1:])
            elif accept(selection.arguments or {}):
                below = selected_names([selection])
                found = below if found is None else found | below

    for field in fields:
        walk(field.selections, path)
    return found


# How a field's value completes: as it is (a leaf, or a list of leaves), or by recursion.
AS_IS, RECURSE = 0, 1


def _completion(field_type: GraphQLOutputType) -> int:
    while isinstance(field_type, GraphQLNonNull | GraphQLList):
        field_type = field_type.of_type
    return AS_IS if is_leaf_type(field_type) else RECURSE


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


_COMPLETIONS: dict[GraphQLOutputType, int] = {}
_GUARDED: dict[GraphQLObjectType, frozenset[str]] = {}


def guarded_fields(parent_type: GraphQLObjectType) -> frozenset[str]:
    """The fields of a type that carry a permission check (and so must run their resolver)."""
    guarded = _GUARDED.get(parent_type)
    if guarded is None:
        names = set()
        for name, field in parent_type.fields.items():
            definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            extensions = getattr(definition, "extensions", None) or []
            if any(isinstance(e, PermissionExtension) for e in extensions):
                names.add(name)
        guarded = _GUARDED[parent_type] = frozenset(names)
    return guarded


_MISSING = object()
# Steps of a projection plan.
LEAF, TYPENAME, OBJECT, OBJECT_LIST = 0, 1, 2, 3
Plan = list[tuple[str, str, int, Any]]
Projector = Callable[[Shaped], dict[str, Any]]
# Projectors compiled from a plan's structure, shared by every request: the same selection
# always compiles to the same function.
_PROJECTORS: dict[tuple[Any, ...], Projector] = {}
# Top-level plans by the selection's AST nodes (kept alive with the entry, so their ids are not
# reused); the parser cache hands every request for one query text the same nodes.
_SELECTIONS: dict[tuple[Any, ...], tuple[Any, Projector | None]] = {}
_SELECTIONS_MAX = 4096


def _has_conditions(selection_set: Any) -> bool:
    if selection_set is None:
        return False
    for selection in selection_set.selections:
        if selection.directives:
            return True
        if _has_conditions(getattr(selection, "selection_set", None)):
            return True
    return False


def _structure(plan: Plan) -> tuple[Any, ...]:
    return tuple(
        (rn, name, step, _structure(extra) if step in (OBJECT, OBJECT_LIST) else extra)
        for rn, name, step, extra in plan
    )


def compile_projector(plan: Plan) -> Projector:
    """A plan as one Python function whose body is a single dict display, in selection order.
    Names and response names are GraphQL names (letters, digits, underscores), so they are
    safe to write into the source; repr() quotes them anyway."""
    key = _structure(plan)
    found = _PROJECTORS.get(key)
    if found is not None:
        return found
    env: dict[str, Any] = {"ShapedRows": ShapedRows}
    parts = []
    for i, (response_name, name, step, extra) in enumerate(plan):
        if step == LEAF:
            parts.append(f"{response_name!r}: v[{name!r}]")
        elif step == TYPENAME:
            parts.append(f"{response_name!r}: {extra!r}")
        else:
            env[f"p{i}"] = compile_projector(extra)
            if step == OBJECT:
                value = f"p{i}(t{i})"
            else:
                env[f"r{i}"] = RowsProjection(extra)
                value = f"(r{i}(t{i}) if type(t{i}) is ShapedRows else [p{i}(x) for x in t{i}])"
            parts.append(f"{response_name!r}: (None if (t{i} := v[{name!r}]) is None else {value})")
    source = "def project(s):\n    v = s.values\n    return {" + ", ".join(parts) + "}\n"
    exec(compile(source, "<shaped projection>", "exec"), env)
    projector: Projector = env["project"]
    _PROJECTORS[key] = projector
    return projector


RowProjector = Callable[[Any, Any], dict[str, Any]]


class RowsProjection:
    """Projects ShapedRows for one plan, with a function compiled once per kind of row. A plan
    asking for a field the rows' table lacks raises KeyError: the caller then goes field by
    field (and the rows become Shaped values)."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.by_fields: dict[int, tuple[RowFields, RowProjector | None]] = {}

    def __call__(self, rows: ShapedRows) -> list[dict[str, Any]]:
        found = self.by_fields.get(id(rows.fields))
        if found is None:
            found = self.by_fields[id(rows.fields)] = (
                rows.fields,
                _row_projector(self.plan, rows.fields),
            )
        projector = found[1]
        if projector is None:
            raise KeyError("a selected field is not in the rows' table")
        context = rows.context
        return [projector(row, context) for row in rows.rows]


def _row_projector(plan: Plan, fields: RowFields) -> RowProjector | None:
    """The plan as one function of a row and the context, each field's value computed by its
    expression; None when the plan selects a field the table lacks."""
    env = dict(fields.namespace)
    parts = []
    for i, (response_name, name, step, extra) in enumerate(plan):
        if step == TYPENAME:
            parts.append(f"{response_name!r}: {extra!r}")
            continue
        expression = fields.expressions.get(name)
        if expression is None:
            return None
        if step == LEAF:
            parts.append(f"{response_name!r}: ({expression})")
            continue
        env[f"p{i}"] = compile_projector(extra)
        value = f"p{i}(t{i})" if step == OBJECT else f"[p{i}(x) for x in t{i}]"
        parts.append(f"{response_name!r}: (None if (t{i} := ({expression})) is None else {value})")
    source = f"def project(row, {fields.context}):\n    return {{" + ", ".join(parts) + "}\n"
    exec(compile(source, "<row projection>", "exec"), env)
    projector: RowProjector = env["project"]
    return projector


class ShapedExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Completes Shaped values. Where every selected field of a Shaped object (and of the Shaped
    objects below it) is held, with no arguments, the answer is projected in one pass by a plan
    compiled once per selection; otherwise field by field, falling back to resolvers."""

    _plans: dict[tuple[GraphQLObjectType, int], Plan | None]

    def _plan(self, parent_type: GraphQLObjectType, grouped: Any) -> Plan | None:
        plans = self.__dict__.setdefault("_plans", {})
        key = (parent_type, id(grouped))
        if key in plans:
            return plans[key]
        plans[key] = None  # guards against recursion while compiling
        plan: Plan | None = None
        steps: Plan = []
        guarded = guarded_fields(parent_type)
        for response_name, field_details_list in grouped.items():
            node = field_details_list[0].node
            name = node.name.value
            if name == "__typename":
                steps.append((response_name, name, TYPENAME, parent_type.name))
                continue
            field = parent_type.fields.get(name)
            if field is None or node.arguments or node.directives or name in guarded:
                break
            field_type = field.type
            if isinstance(field_type, GraphQLNonNull):
                field_type = field_type.of_type
            if _completion(field_type) == AS_IS:
                steps.append((response_name, name, LEAF, None))
                continue
            is_list = isinstance(field_type, GraphQLList)
            item_type = field_type.of_type if is_list else field_type
            if isinstance(item_type, GraphQLNonNull):
                item_type = item_type.of_type
            if not isinstance(item_type, GraphQLObjectType):
                break
            sub_grouped = self.collect_subfields(item_type, field_details_list)[0]
            sub_plan = self._plan(item_type, sub_grouped)
            if sub_plan is None:
                break
            steps.append((response_name, name, OBJECT_LIST if is_list else OBJECT, sub_plan))
        else:
            plan = steps  # every field could be planned: none broke out of the loop
        plans[key] = plan
        return plan

    def _static(self) -> bool:
        """Whether this operation selects the same fields whatever its variables: no @skip or
        @include anywhere. Only then may a projection compiled for one request serve another."""
        static = self.__dict__.get("_is_static")
        if static is None:
            static = self.__dict__["_is_static"] = not any(
                _has_conditions(node.selection_set)
                for node in (
                    self.operation,
                    *(f.definition for f in self.fragments.values()),
                )
            )
        return static

    def _projector(self, parent_type: GraphQLObjectType, grouped: Any) -> Projector | None:
        """The compiled projection for this selection, or None when it must go field by field."""
        if not self._static():
            plan = self._plan(parent_type, grouped)
            return None if plan is None else compile_projector(plan)
        nodes = tuple(
            (response_name, tuple(id(details.node) for details in field_details_list))
            for response_name, field_details_list in grouped.items()
        )
        key = (parent_type, nodes)
        found = _SELECTIONS.get(key)
        if found is not None:
            return found[1]
        plan = self._plan(parent_type, grouped)
        projector = None if plan is None else compile_projector(plan)
        if len(_SELECTIONS) >= _SELECTIONS_MAX:
            _SELECTIONS.clear()
        keep_alive = [d.node for fdl in grouped.values() for d in fdl]
        _SELECTIONS[key] = (keep_alive, projector)
        return projector

    def complete_value(  # type: ignore[override]
        self,
        return_type: GraphQLOutputType,
        field_details_list: Any,
        info: Any,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        if type(result) is ShapedRows:
            result = result.as_shaped()
        # A resolver's list of Shaped objects: project it in one pass when the plan allows.
        if type(result) is list and result and type(result[0]) is Shaped:
            item_type = return_type
            if isinstance(item_type, GraphQLNonNull):
                item_type = item_type.of_type
            if isinstance(item_type, GraphQLList):
                item_type = item_type.of_type
                if isinstance(item_type, GraphQLNonNull):
                    item_type = item_type.of_type
                if isinstance(item_type, GraphQLObjectType):
                    grouped = self.collect_subfields(item_type, field_details_list)[0]
                    projector = self._projector(item_type, grouped)
                    if projector is not None:
                        try:
                            return [projector(item) for item in result]
                        except (KeyError, AttributeError):
                            pass  # not every item holds every field: go field by field
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )

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
        projector = self._projector(parent_type, grouped_field_set)
        if projector is not None:
            try:
                return projector(source_value)
            except (KeyError, AttributeError):
                pass  # a Shaped below does not hold every selected field: go field by field
        values = source_value.values
        fields = parent_type.fields
        results: dict[str, Any] = {}
        pending: list[str] = []
        is_awaitable = self.is_awaitable
        completions = _COMPLETIONS
        guarded = guarded_fields(parent_type)
        for response_name, field_details_list in grouped_field_set.items():
            node = field_details_list[0].node
            name = node.name.value
            held = _MISSING
            if not node.arguments and name != "__typename" and name not in guarded:
                try:  # noqa: SIM105 - a try is the cheapest way on this hot path
                    held = values[name]
                except KeyError:
                    pass
            if held is not _MISSING:
                value = held
                field_type = fields[name].type
                how = completions.get(field_type)
                if how is None:
                    how = completions[field_type] = _completion(field_type)
                if how == RECURSE and value is not None:
                    value = self._complete_shaped(
                        field_type,
                        field_details_list,
                        Path(path, response_name, parent_type.name),
                        value,
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
        if type(value) is ShapedRows:
            value = value.as_shaped()
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
