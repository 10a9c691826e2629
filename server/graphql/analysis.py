"""Depth and alias limits, checked in time linear in the document.

Strawberry's own limiters walk a fragment again at every spread, so a document whose fragments
each spread the next one twice (`fragment F0 on Recipient { name ...F1 ...F1 }` and so on) costs
2ⁿ walks: at n = 40 the server stopped answering. Here each selection set is measured once, and
what it yields (its depth and the aliases it brings, counted once per place it is used, as
execution would see them) is remembered for every other place it appears. Counts may be
astronomically large for such documents; they are plain integers, compared once.

The rules say the same as strawberry's: depth counts the fields with a selection below the
operation (`{ a { b { c } } }` is 2 deep; introspection adds no depth), and aliases are
counted in every operation, fragments expanded.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)


@dataclass(frozen=True, slots=True)
class Measure:
    depth: int
    aliases: int


EMPTY = Measure(0, 0)
Child = tuple[FieldNode | InlineFragmentNode | FragmentSpreadNode, SelectionSetNode]


class DocumentMeasures:
    """Each selection set's depth and alias count, computed once per document."""

    def __init__(self, document: DocumentNode) -> None:
        self.fragments = {
            d.name.value: d.selection_set
            for d in document.definitions
            if isinstance(d, FragmentDefinitionNode)
        }
        self._known: dict[int, Measure] = {}
        # Selections looked at, for the test that shows the work is linear in the document.
        self.visits = 0

    def of(self, selection_set: SelectionSetNode) -> Measure:
        """A loop over an explicit stack, not recursion: nesting is bounded only by the token
        limit, and a fragment cycle (which validation reports) counts as empty."""
        known = self._known
        pending: list[tuple[SelectionSetNode, list[Child] | None]] = [(selection_set, None)]
        while pending:
            current, children = pending.pop()
            key = id(current)
            if children is None:
                if key in known:
                    continue
                known[key] = EMPTY  # in progress: a cycle back here counts as empty
                children = self._children(current)
                pending.append((current, children))
                pending.extend((c, None) for _, c in children if id(c) not in known)
                continue
            depth = 0
            aliases = 0
            for selection, child in children:
                measure = known.get(id(child), EMPTY)
                if isinstance(selection, FieldNode):
                    # Introspection (`__schema`, `__type`) adds no depth, as in strawberry's
                    # rule; its aliases count like any others.
                    if not selection.name.value.startswith("__"):
                        depth = max(depth, 1 + measure.depth)
                    aliases += measure.aliases
                else:
                    depth = max(depth, measure.depth)
                    aliases += measure.aliases
            aliases += sum(
                1 for s in current.selections if isinstance(s, FieldNode) and s.alias is not None
            )
            known[key] = Measure(depth, aliases)
        return known[id(selection_set)]

    def _children(self, selection_set: SelectionSetNode) -> list[Child]:
        """The selections that lead to another selection set, with that set."""
        out: list[Child] = []
        self.visits += len(selection_set.selections)
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.selection_set is not None:
                    out.append((selection, selection.selection_set))
            elif isinstance(selection, InlineFragmentNode):
                out.append((selection, selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    out.append((selection, fragment))
        return out


def document_measures(context: ValidationContext) -> DocumentMeasures:
    """One set of measures per validation, shared by both rules."""
    found = getattr(context, "_inventory_measures", None)
    if found is None:
        found = DocumentMeasures(context.document)
        context._inventory_measures = found  # type: ignore[attr-defined]
    return found


def operations(document: DocumentNode) -> list[OperationDefinitionNode]:
    return [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]


def depth_rule(max_depth: int) -> type[ValidationRule]:
    """Refuses an operation whose fields nest more than `max_depth` deep."""

    class MaxDepth(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            measures = document_measures(context)
            for operation in operations(context.document):
                depth = measures.of(operation.selection_set).depth
                if depth > max_depth:
                    name = operation.name.value if operation.name else "anonymous"
                    context.report_error(
                        GraphQLError(
                            f"'{name}' exceeds maximum operation depth of {max_depth} "
                            f"(it is {depth} deep).",
                            operation,
                            extensions={"code": "GRAPHQL_VALIDATION_FAILED"},
                        )
                    )

    return MaxDepth


def alias_rule(max_aliases: int) -> type[ValidationRule]:
    """Refuses a document with more than `max_aliases` aliases, fragments expanded."""

    class MaxAliases(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            measures = document_measures(context)
            total = sum(measures.of(o.selection_set).aliases for o in operations(context.document))
            if total > max_aliases:
                shown = f"{total:,}" if total < 10**15 else "more than 10^15"
                context.report_error(
                    GraphQLError(
                        f"{shown} aliases found. Allowed: {max_aliases}",
                        extensions={"code": "GRAPHQL_VALIDATION_FAILED"},
                    )
                )

    return MaxAliases


def _fields_in(
    pending: list[SelectionSetNode],
    fragments: dict[str, FragmentDefinitionNode],
    *,
    deep: bool,
) -> Iterator[FieldNode]:
    """The field nodes of these selection sets (fragments and inline fragments expanded,
    whatever their type condition; directives ignored), and with `deep` every field below
    them too. Each selection set is walked once, whatever spreads it (the fan-out of issue 11
    costs nothing here): linear in the document."""
    seen: set[int] = set()
    while pending:
        selection_set = pending.pop()
        if id(selection_set) in seen:
            continue
        seen.add(id(selection_set))
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield selection
                if deep and selection.selection_set is not None:
                    pending.append(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                if fragment is not None:
                    pending.append(fragment.selection_set)


def fields_below(
    field_nodes: list[FieldNode], fragments: dict[str, FragmentDefinitionNode]
) -> list[FieldNode]:
    """The field nodes selected directly below these nodes: a superset of the fields a
    resolver's objects will be asked (`_fields_in`)."""
    pending = [node.selection_set for node in field_nodes if node.selection_set is not None]
    return list(_fields_in(pending, fragments, deep=False))


def fields_named(
    operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode], name: str
) -> list[FieldNode]:
    """Every field node of this name anywhere in the operation, at any depth (`_fields_in`)."""
    return [
        node
        for node in _fields_in([operation.selection_set], fragments, deep=True)
        if node.name.value == name
    ]


def fields_at(
    field_nodes: list[FieldNode], fragments: dict[str, FragmentDefinitionNode], *path: str
) -> list[FieldNode]:
    """The field nodes selected at `path` below these nodes (by field name, see fields_below):
    what a resolver may load ahead for the objects it returns. Linear in the document per
    level."""
    current: list[FieldNode] = list(field_nodes)
    for name in path:
        current = [node for node in fields_below(current, fragments) if node.name.value == name]
    return current
