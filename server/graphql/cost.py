"""Query cost in the manner of GitHub's node limit, computed before execution.

Every field with a `first` argument is a connection (or a paged list). The nodes a query may ask
for are, for each path through such fields, the product of their `first` values (the schema's
default, else `Settings.default_page_size`, when a query leaves `first` out), summed over all
paths. `{ a(first: 10) { b(first: 20) { x } } c(first: 5) { x } }` costs 10 + 10·20 + 5 = 215.

Fragments and inline fragments are expanded, and fields are merged by response key as execution
merges them (a field asked for twice under one name is fetched once). Variables are resolved at
request time, so the work is split in two:

- `compile_plan` walks a document once into a small graph of connection nodes (shared where the
  document shares fragments, so a fragment spread in many places is walked once);
- `plan_cost` evaluates that graph with the request's variables.

The plan depends only on the document and operation name, so callers cache it (`PlanCache`).
The walk tolerates documents that failed validation (unknown fields and fragments are skipped,
cycles are cut), so the cost can be reported with validation errors too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from graphql.utilities.coerce_input_value import coerce_default_value

# Deeper than any valid query may go (the depth limit is far lower): a guard for invalid ones.
MAX_WALK_DEPTH = 128
# GraphQL's Int is 32-bit: a larger `first` fails validation or variable coercion and never
# runs, so it counts as one more than the largest Int. That keeps arithmetic on literals of
# thousands of digits (Python refuses to convert those) and on huge variables out of the way.
BEYOND_INT = 2**31
# The cost is reported in JSON, and orjson refuses integers over 64 bits (a 500 once): a higher
# cost is reported as this, and refused like any over the limit.
MAX_REPORTED_COST = 2**63 - 1


@dataclass(frozen=True, slots=True)
class Variable:
    """`first: $name`: `default` (the operation's) when the request leaves the variable out,
    `fallback` (the field's default) when neither gives a value or the request sends null."""

    name: str
    default: int | None
    fallback: int


@dataclass(frozen=True, slots=True, eq=False)
class Node:
    """A connection (`first` set) or a plain field that leads to connections (`first` None)."""

    first: int | Variable | None
    children: tuple[Node, ...]


Plan = tuple[Node, ...]


def compile_plan(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    default_page_size: int,
) -> Plan:
    """The connection graph of the operation `operation_name` picks (empty when none does)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        operation = operations[0] if len(operations) == 1 else None
    else:
        operation = next((o for o in operations if o.name and o.name.value == operation_name), None)
    if operation is None:
        return ()
    root = schema.get_root_type(operation.operation)
    if root is None:
        return ()
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    variable_defaults: dict[str, int] = {}
    for definition in operation.variable_definitions or ():
        default = definition.default_value
        if isinstance(default, IntValueNode):
            variable_defaults[definition.variable.name.value] = _int_literal(default)
    walker = _Walker(schema, fragments, variable_defaults, default_page_size)
    return walker.group(root, (operation.selection_set,), 0)


def plan_cost(plan: Plan, variables: Mapping[str, Any] | None) -> int:
    """The nodes the plan asks for with these variables (values as sent, before coercion)."""
    memo: dict[int, int] = {}
    variables = variables or {}

    def unit(node: Node) -> int:
        # Cost is linear in the multiplier from above, so each shared node is evaluated once.
        key = id(node)
        found = memo.get(key)
        if found is not None:
            return found
        below = sum(unit(child) for child in node.children)
        first = node.first
        if first is None:
            value = below
        else:
            count = first if isinstance(first, int) else _variable(first, variables)
            value = count * (1 + below)
        memo[key] = value
        return value

    return min(sum(unit(node) for node in plan), MAX_REPORTED_COST)


def _int_literal(node: IntValueNode) -> int:
    """A literal `first` (digits only, by the GraphQL grammar), at least 0, at most BEYOND_INT."""
    text = node.value
    if len(text.lstrip("-")) > len(str(BEYOND_INT)):
        return 0 if text.startswith("-") else BEYOND_INT
    return min(max(0, int(text)), BEYOND_INT)


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any] | None = None,
    operation_name: str | None = None,
    default_page_size: int = 50,
) -> int:
    return plan_cost(compile_plan(schema, document, operation_name, default_page_size), variables)


class PlanCache:
    """Plans by (query text, operation name): the key the parser cache uses for documents, so a
    repeated query costs one dictionary look-up and a walk over a handful of nodes. An LRU of
    QUERY_CACHE_SIZE entries."""

    def __init__(self, default_page_size: int, maxsize: int = 256) -> None:
        self.default_page_size = default_page_size
        self.maxsize = maxsize
        self._plans: dict[tuple[str, str | None], Plan] = {}

    def plan(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        query: str | None,
        operation_name: str | None,
    ) -> Plan:
        if query is None:
            return compile_plan(schema, document, operation_name, self.default_page_size)
        key = (query, operation_name)
        plan = self._plans.pop(key, None)
        if plan is None:
            plan = compile_plan(schema, document, operation_name, self.default_page_size)
            if len(self._plans) >= self.maxsize:
                del self._plans[next(iter(self._plans))]  # the least recently used
        self._plans[key] = plan  # (re)inserted last: the most recently used
        return plan

    def __len__(self) -> int:
        return len(self._plans)


def _variable(variable: Variable, variables: Mapping[str, Any]) -> int:
    if variable.name not in variables:
        return variable.fallback if variable.default is None else variable.default
    value = variables[variable.name]
    # bool is an int to Python but not to GraphQL; an integral float coerces to Int.
    if type(value) is int:
        return min(max(0, value), BEYOND_INT)
    if isinstance(value, float) and value.is_integer():
        return min(max(0, int(value)), BEYOND_INT)
    # Null: the field's default. Anything else fails variable coercion and never executes.
    return variable.fallback


class _Walker:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variable_defaults: dict[str, int],
        default_page_size: int,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variable_defaults = variable_defaults
        self.default_page_size = default_page_size
        self.memo: dict[tuple[str, tuple[int, ...]], Plan] = {}

    def group(
        self, parent: GraphQLNamedType, selection_sets: tuple[SelectionSetNode, ...], depth: int
    ) -> Plan:
        """The connection nodes under these (merged) selection sets of `parent`."""
        key = (parent.name, tuple(id(s) for s in selection_sets))
        found = self.memo.get(key)
        if found is not None:
            return found
        if depth > MAX_WALK_DEPTH:
            return ()
        self.memo[key] = ()  # cuts cycles in documents that failed validation
        fields: dict[tuple[str, str], tuple[GraphQLNamedType, list[FieldNode]]] = {}
        visited: set[str] = set()
        for selection_set in selection_sets:
            self._collect(parent, selection_set, fields, visited)
        out: list[Node] = []
        for owner, nodes in fields.values():
            node = self._field(owner, nodes, depth)
            if node is not None:
                out.append(node)
        plan = tuple(out)
        self.memo[key] = plan
        return plan

    def _collect(
        self,
        parent: GraphQLNamedType,
        selection_set: SelectionSetNode,
        fields: dict[tuple[str, str], tuple[GraphQLNamedType, list[FieldNode]]],
        visited: set[str],
    ) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                response_key = (selection.alias or selection.name).value
                # Fields merge by response key on one type; on different types they are
                # different fields (only one applies to any object, count both).
                entry = fields.setdefault((response_key, parent.name), (parent, []))
                entry[1].append(selection)
            elif isinstance(selection, InlineFragmentNode):
                target = self._type_condition(selection.type_condition, parent)
                if target is not None:
                    self._collect(target, selection.selection_set, fields, visited)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if name in visited or fragment is None:
                    continue
                visited.add(name)
                target = self._type_condition(fragment.type_condition, parent)
                if target is not None:
                    self._collect(target, fragment.selection_set, fields, visited)

    def _type_condition(self, condition: Any, parent: GraphQLNamedType) -> GraphQLNamedType | None:
        if condition is None:
            return parent
        return self.schema.get_type(condition.name.value)

    def _field(self, owner: GraphQLNamedType, nodes: list[FieldNode], depth: int) -> Node | None:
        if not isinstance(owner, GraphQLObjectType | GraphQLInterfaceType):
            return None
        definition = owner.fields.get(nodes[0].name.value)
        if definition is None:
            return None  # unknown (validation says so) or __typename and friends
        target = get_named_type(definition.type)
        selection_sets = tuple(n.selection_set for n in nodes if n.selection_set is not None)
        children = self.group(target, selection_sets, depth + 1) if selection_sets else ()
        argument = definition.args.get("first")
        if argument is None:
            return Node(None, children) if children else None
        return Node(self._first(nodes[0], coerce_default_value(argument)), children)

    def _first(self, node: FieldNode, schema_default: Any) -> int | Variable:
        fallback = max(0, schema_default) if type(schema_default) is int else self.default_page_size
        value = next((a.value for a in node.arguments or () if a.name.value == "first"), None)
        if isinstance(value, IntValueNode):
            return _int_literal(value)
        if isinstance(value, VariableNode):
            name = value.name.value
            return Variable(name, self.variable_defaults.get(name), fallback)
        # Left out or null: the default. Anything else is not an Int, and validation refuses it.
        return fallback
