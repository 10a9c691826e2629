"""Query cost in the manner of GitHub's node limit, computed before execution.

The cost is the number of list items (nodes) a query can return. A connection (a field with a
`first` argument) returns at most `first` items (the schema's default, else
`Settings.default_page_size`, when a query leaves `first` out). Every other list of objects has a
bound in LIST_BOUNDS: the most items any one parent holds, and how many exist in all, both read
from the inventory (server/db/statistics.py) or the taxonomy before execution. Items multiply
down a path and the paths add up: `{ a(first: 10) { b(first: 20) { x } } c(first: 5) { x } }`
costs 10 + 10·20 + 5 = 215, and `recipients(first: 50) { edges { node { disclosures { id } } } }`
costs 50 + 50 × (the most disclosures one recipient has), or 50 + all disclosures if fewer.

That last bound, the total, holds only while the parents are distinct: fifty distinct recipients
hold at most every disclosure once, but `disclosures { recipient { disclosures } }` reaches the
same recipient once per disclosure, so there only the product counts. Each list says whether its
items belong to one parent (OWNED: distinct parents, distinct items) or may appear under several
(SHARED: rows linking parent and item are distinct, the items are not).

Fragments and inline fragments are expanded, and fields are merged by response key as execution
merges them (a field asked for twice under one name is fetched once). Variables are resolved at
request time, so the work is split in two:

- `compile_plan` walks a document once into a small graph of nodes (shared where the document
  shares fragments, so a fragment spread in many places is walked once);
- `plan_cost` evaluates that graph with the request's variables and the inventory's counts.

The plan depends only on the document and operation name, so callers cache it (`PlanCache`).
The walk tolerates documents that failed validation (unknown fields and fragments are skipped,
cycles are cut), so the cost can be reported with validation errors too.
"""

from __future__ import annotations

import enum
import functools
from collections import Counter
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
    get_nullable_type,
    is_list_type,
)
from graphql.utilities.coerce_input_value import coerce_default_value

from server.domain import adequacy, dpf, imports
from server.domain.regimes import Jurisdiction
from server.domain.taxonomy import Taxonomy
from server.graphql.errors import MAX_USER_ERRORS

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


class Items(enum.Enum):
    OWNED = "each item belongs to one parent"
    SHARED = "an item may appear under several parents"


@dataclass(frozen=True, slots=True)
class ListBound:
    """At most `each` items per parent and, while the parents are distinct, `total` in all
    (names of counts: server/db/statistics.py, or the taxonomy's and references' sizes)."""

    each: str
    total: str | None = None
    items: Items = Items.SHARED


# A list as long as its parent's page: `edges` of a connection (the connection counted them).
SAME_ITEMS = ListBound("")

LIST_BOUNDS: dict[tuple[str, str], ListBound] = {
    ("Query", "recipientsOfCategory"): ListBound("recipients"),
    ("Query", "dataCategories"): ListBound("data_categories"),
    ("Query", "purposes"): ListBound("purposes"),
    ("Query", "subjectTypes"): ListBound("subject_types"),
    ("Query", "adequacyDecisions"): ListBound("adequacy_decisions"),
    # One gap per disclosure and destination (its recipient's country and each transferred to).
    ("Query", "transferGaps"): ListBound("destinations"),
    ("Query", "establishments"): ListBound("establishments"),
    # One gap per disclosure (special categories), and two per recipient (its DPA, its import).
    ("Query", "complianceGaps"): ListBound("compliance_gaps"),
    # Changes waiting for a second key: so far one import review per recipient at most.
    ("Query", "pendingChanges"): ListBound("recipients"),
    ("Recipient", "pendingChanges"): ListBound("pending_changes_per_recipient"),
    ("ChangeRequest", "authors"): ListBound("authors_per_change"),
    ("ChangePayload", "userErrors"): ListBound("user_errors"),
    ("RecipientPayload", "warnings"): ListBound("review_warnings"),
    ("RecipientConnection", "edges"): SAME_ITEMS,
    ("Recipient", "subprocessors"): ListBound(
        "subprocessors_per_recipient", "recipients", Items.OWNED
    ),
    ("Recipient", "disclosures"): ListBound(
        "disclosures_per_recipient", "disclosures", Items.OWNED
    ),
    ("Recipient", "history"): ListBound("events_per_recipient", "recipient_events", Items.OWNED),
    # No cap on moves (ACTIVE <-> SUSPENDED may repeat): bounded by the data, as `history` is.
    ("Recipient", "statusHistory"): ListBound(
        "status_changes_per_recipient", "status_changes", Items.OWNED
    ),
    ("Recipient", "dpfCertifications"): ListBound("certifications_per_recipient"),
    ("Disclosure", "transfers"): ListBound("transfers_per_disclosure", "transfers", Items.OWNED),
    ("Disclosure", "dataCategories"): ListBound("categories_per_disclosure", "category_links"),
    ("Disclosure", "purposes"): ListBound("purposes_per_disclosure", "purpose_links"),
    ("Disclosure", "subjectTypes"): ListBound("subject_types_per_disclosure", "subject_type_links"),
    ("DataCategory", "children"): ListBound(
        "children_per_category", "data_categories", Items.OWNED
    ),
    ("DataSubject", "dataCategories"): ListBound(
        "categories_per_subject", "subject_category_links"
    ),
    ("DataSubject", "consents"): ListBound("consents_per_subject", "consents", Items.OWNED),
    ("DataSubject", "transferConsents"): ListBound(
        "transfer_consents_per_subject", "transfer_consents", Items.OWNED
    ),
    # One subject's report: each recipient once, and each disclosure whose audience holds the
    # subject's type once at most (a reason or withheld).
    ("SubjectReport", "recipients"): ListBound("recipients"),
    # A withheld entry per disclosure and reason (rule 5 has three reasons).
    ("SubjectReport", "withheld"): ListBound("withheld_per_subject"),
    ("SubjectReport", "pastRecipients"): ListBound("disclosures_per_subject_type"),
    ("SubjectReport", "upcomingRecipients"): ListBound("disclosures_per_subject_type"),
    ("SubjectReport", "possibleRecipients"): ListBound("disclosures_per_subject_type"),
    ("SubjectReport", "events"): ListBound("events_per_subject"),
    ("WithheldDisclosure", "purposes"): ListBound("purposes_per_disclosure", "purpose_links"),
    ("PastReceipt", "via"): ListBound("chain_links"),
    ("PastReceipt", "periods"): ListBound("periods_per_receipt"),
    ("PastReceipt", "dataCategories"): ListBound(
        "report_categories_per_reason", "report_category_pairs"
    ),
    ("PastReceipt", "purposes"): ListBound("purposes_per_disclosure", "purpose_links"),
    ("RecipientAccess", "via"): ListBound("chain_links"),
    ("RecipientAccess", "reasons"): ListBound(
        "disclosures_per_recipient", "disclosures_per_subject_type", Items.OWNED
    ),
    ("DisclosureReason", "dataCategories"): ListBound(
        "report_categories_per_reason", "report_category_pairs"
    ),
    ("DisclosureReason", "purposes"): ListBound("purposes_per_disclosure", "purpose_links"),
    ("DisclosureReason", "transfers"): ListBound(
        "transfers_per_disclosure", "transfers", Items.OWNED
    ),
    # One per applying regime and destination.
    ("DisclosureReason", "transferAssessments"): ListBound(
        "assessments_per_reason", "assessments", Items.OWNED
    ),
    ("RecipientPayload", "userErrors"): ListBound("user_errors"),
    ("DisclosurePayload", "userErrors"): ListBound("user_errors"),
    ("DataSubjectPayload", "userErrors"): ListBound("user_errors"),
    ("EstablishmentPayload", "userErrors"): ListBound("user_errors"),
    ("DisclosureEventPayload", "userErrors"): ListBound("user_errors"),
    ("ImportPayload", "userErrors"): ListBound("user_errors"),
    # A report lists at most so many (server/domain/imports.py).
    ("ImportReport", "problems"): ListBound("import_problems"),
    ("ImportReport", "notes"): ListBound("import_notes"),
}
# Object fields that give each parent an object of its own: distinct parents, distinct objects.
ONE_TO_ONE = frozenset(
    {
        ("RecipientEdge", "node"),
        ("RecipientAccess", "recipient"),
        ("DisclosureReason", "disclosure"),
        ("WithheldDisclosure", "disclosure"),
        ("TransferGap", "transfer"),
    }
)


@functools.cache
def most_decisions() -> int:
    """The most adequacy decisions one jurisdiction applies (the reference is read once)."""
    ref = adequacy.reference()
    per_jurisdiction = Counter(j for j, _ in [*ref.decisions, *ref.organisation_decisions])
    return max(per_jurisdiction.values(), default=0)


def counts_for(inventory: Mapping[str, int] | None, taxonomy: Taxonomy) -> dict[str, int]:
    """Every count LIST_BOUNDS names: the inventory's (server/db/statistics.py, None when the
    plan reads none), the taxonomy's, the reference's, and the bounds derived from them."""
    children = Counter(t.parent for t in taxonomy.categories.values() if t.parent is not None)
    counts = dict(inventory or {})
    counts.update(
        data_categories=len(taxonomy.categories),
        purposes=len(taxonomy.purposes),
        subject_types=len(taxonomy.subject_types),
        children_per_category=max(children.values(), default=0),
        adequacy_decisions=most_decisions(),
        user_errors=MAX_USER_ERRORS,
        import_problems=imports.PROBLEMS_MAX,
        import_notes=imports.NOTES_MAX,
        # The most one write may record (server/domain/dpf.py).
        certifications_per_recipient=dpf.CERTIFICATIONS_MAX,
        # An import review per recipient (domain/change_requests.py), authored by its importer.
        pending_changes_per_recipient=1,
        authors_per_change=1,
        # domain/review.py: two about sensitive data, a DPA, a privacy policy, and one per
        # regime and destination country (ISO 3166-1 lists 249).
        review_warnings=4 + len(Jurisdiction) * 249,
    )
    if inventory is None:
        return counts
    counts.update(
        # A report's categories for one disclosure: the more specific key of each pair of a
        # disclosure's and the subject's keys that match (domain/taxonomy.matched_categories).
        report_categories_per_reason=min(
            counts["categories_per_disclosure"] * counts["categories_per_subject"],
            len(taxonomy.categories),
        ),
        report_category_pairs=counts["category_links"] * counts["categories_per_subject"],
        withheld_per_subject=3 * counts["disclosures_per_subject_type"],
        # A disclosure's destinations: its recipient's country and each transfer's; judged under
        # every regime (domain/transfers.assess_flow).
        destinations=counts["transfers"] + counts["disclosures"],
        compliance_gaps=counts["disclosures"] + 2 * counts["recipients"],
        assessments_per_reason=len(Jurisdiction) * (counts["transfers_per_disclosure"] + 1),
        assessments=len(Jurisdiction) * (counts["transfers"] + counts["disclosures"]),
        # A period starts at the subject's first version or after a change that stopped the
        # last: of the recipient's status or an engager's up the chain, of the disclosure's
        # days, of the subject's versions or consents; or it is one event's day. (An engager
        # receiving by several disclosures could in theory stop more often than it moves; the
        # execution's node budget, not this price, bounds such an answer.)
        periods_per_receipt=max(
            2
            + (counts["chain_links"] + 1) * counts["moves_per_recipient"]
            + counts["versions_per_subject"]
            + counts["consents_per_subject"],
            counts["events_per_subject"],
        ),
    )
    return counts


def unbounded_lists(
    schema: GraphQLSchema, bounds: Mapping[tuple[str, str], ListBound]
) -> list[str]:
    """Lists of objects without `first` and without a bound: each must join LIST_BOUNDS."""
    missing = []
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for name, field in type_.fields.items():
            nullable = get_nullable_type(field.type)
            target = get_named_type(field.type)
            if (
                is_list_type(nullable)
                and isinstance(target, GraphQLObjectType | GraphQLInterfaceType)
                and "first" not in field.args
                and (type_.name, name) not in bounds
            ):
                missing.append(f"{type_.name}.{name}")
    return missing


@dataclass(frozen=True, slots=True, eq=False)
class Node:
    """A field that returns lists or leads to them: a connection (`first` set), a bounded list
    (`bound` set), or an object field (neither; `one_to_one` when each parent has its own)."""

    first: int | Variable | None
    bound: ListBound | None
    one_to_one: bool
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Plan:
    roots: tuple[Node, ...]
    # Whether evaluating it needs counts (a list without `first`), and whether the inventory's,
    # read from the database (the taxonomy's and the reference's are at hand).
    bounded: bool
    reads_inventory: bool


EMPTY_PLAN = Plan((), False, False)
# Counts known without the database (counts_for).
AT_HAND = frozenset(
    {
        "data_categories",
        "purposes",
        "subject_types",
        "children_per_category",
        "adequacy_decisions",
        "user_errors",
        "import_problems",
        "import_notes",
        "certifications_per_recipient",
    }
)


def compile_plan(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    default_page_size: int,
    bounds: Mapping[tuple[str, str], ListBound] = LIST_BOUNDS,
    one_to_one: frozenset[tuple[str, str]] = ONE_TO_ONE,
) -> Plan:
    """The cost graph of the operation `operation_name` picks (empty when none does)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        operation = operations[0] if len(operations) == 1 else None
    else:
        operation = next((o for o in operations if o.name and o.name.value == operation_name), None)
    if operation is None:
        return EMPTY_PLAN
    root = schema.get_root_type(operation.operation)
    if root is None:
        return EMPTY_PLAN
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    variable_defaults: dict[str, int] = {}
    for definition in operation.variable_definitions or ():
        default = definition.default_value
        if isinstance(default, IntValueNode):
            variable_defaults[definition.variable.name.value] = _int_literal(default)
    walker = _Walker(schema, fragments, variable_defaults, default_page_size, bounds, one_to_one)
    roots = walker.group(root, (operation.selection_set,), 0)
    return Plan(roots, walker.bounded, walker.reads_inventory)


def plan_cost(
    plan: Plan, variables: Mapping[str, Any] | None, counts: Mapping[str, int] | None = None
) -> int:
    """The nodes the plan asks for with these variables (values as sent, before coercion) and
    the inventory's `counts` (needed when `plan.counted`; a missing count is refused loudly)."""
    variables = variables or {}
    counts = counts or {}
    memo: dict[tuple[int, int, bool], int] = {}

    def cost(node: Node, parents: int, distinct: bool) -> int:
        """Nodes at and below `node` under `parents` parents (`distinct`: no two the same)."""
        key = (id(node), parents, distinct)
        found = memo.get(key)
        if found is not None:
            return found
        first = node.first
        bound = node.bound
        added = 0
        if first is not None:
            each = first if isinstance(first, int) else _variable(first, variables)
            items = added = parents * each
            items_distinct = distinct
        elif bound is SAME_ITEMS:
            items, items_distinct = parents, distinct
        elif bound is not None:
            items = added = parents * counts[bound.each]
            if bound.total is not None and distinct:
                items = added = min(items, counts[bound.total])
            items_distinct = parents <= 1 or (distinct and bound.items is Items.OWNED)
        else:
            items = parents
            items_distinct = parents <= 1 or (distinct and node.one_to_one)
        items = min(items, MAX_REPORTED_COST)
        value = added + sum(cost(child, items, items_distinct) for child in node.children)
        value = min(value, MAX_REPORTED_COST)
        memo[key] = value
        return value

    return min(sum(cost(node, 1, True) for node in plan.roots), MAX_REPORTED_COST)


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
    counts: Mapping[str, int] | None = None,
    bounds: Mapping[tuple[str, str], ListBound] = LIST_BOUNDS,
    one_to_one: frozenset[tuple[str, str]] = ONE_TO_ONE,
) -> int:
    plan = compile_plan(schema, document, operation_name, default_page_size, bounds, one_to_one)
    return plan_cost(plan, variables, counts)


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
        bounds: Mapping[tuple[str, str], ListBound],
        one_to_one: frozenset[tuple[str, str]],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variable_defaults = variable_defaults
        self.default_page_size = default_page_size
        self.bounds = bounds
        self.one_to_one = one_to_one
        self.bounded = False
        self.reads_inventory = False
        self.memo: dict[tuple[str, tuple[int, ...]], tuple[Node, ...]] = {}

    def group(
        self, parent: GraphQLNamedType, selection_sets: tuple[SelectionSetNode, ...], depth: int
    ) -> tuple[Node, ...]:
        """The cost nodes under these (merged) selection sets of `parent`."""
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
        name = nodes[0].name.value
        definition = owner.fields.get(name)
        if definition is None:
            return None  # unknown (validation says so) or __typename and friends
        target = get_named_type(definition.type)
        selection_sets = tuple(n.selection_set for n in nodes if n.selection_set is not None)
        children = self.group(target, selection_sets, depth + 1) if selection_sets else ()
        argument = definition.args.get("first")
        if argument is not None:
            return Node(
                self._first(nodes[0], coerce_default_value(argument)), None, False, children
            )
        if not isinstance(target, GraphQLObjectType | GraphQLInterfaceType):
            return None  # other lists of leaves (a recipient's services) are not nodes
        if is_list_type(get_nullable_type(definition.type)):
            bound = self._bound(owner, name)
            self.bounded = self.bounded or bound is not SAME_ITEMS
            if not {bound.each, bound.total} <= AT_HAND | {"", None}:
                self.reads_inventory = True
            return Node(None, bound, False, children)
        if not children:
            return None
        return Node(None, None, (owner.name, name) in self.one_to_one, children)

    def _bound(self, owner: GraphQLNamedType, name: str) -> ListBound:
        bound = self.bounds.get((owner.name, name))
        if bound is None:
            # Every list of objects has one: tests/unit/test_query_cost.py checks the schema.
            raise LookupError(f"{owner.name}.{name} is a list with no bound in LIST_BOUNDS")
        return bound

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
