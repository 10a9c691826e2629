"""The plain-fields executor (server/graphql/execution.py) on small schemas: it answers exactly
as strawberry's own execution does, values, errors and paths alike; a field with an extension,
or any field while a schema extension wraps resolvers, always runs its resolver; and it leans on
graphql-core and strawberry only through the methods pinned at the end, so an upgrade that
changes them fails here, loudly."""

from __future__ import annotations

import gc
import inspect
import weakref
from enum import Enum
from typing import Any

import pytest
import strawberry
from graphql import GraphQLObjectType, is_leaf_type
from graphql.execution.executor import Executor
from graphql.execution.middleware import MiddlewareManager
from strawberry.extensions import FieldExtension, SchemaExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from server.graphql import execution
from server.graphql.execution import PlainFieldsExecutionContext, plain_reader

CALLS: list[str] = []


@strawberry.enum
class Colour(Enum):
    RED = "red"  # a name that differs from its value: written by name, never by value
    DARK_BLUE = "dark blue"


class Counting(FieldExtension):
    def resolve(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        CALLS.append("extension")
        return next_(source, info, **kwargs)


@strawberry.type
class Term:
    key: str
    weight: int | None
    flag: bool
    colour: Colour | None
    tags: list[str]
    counted: str = strawberry.field(extensions=[Counting()])

    @strawberry.field
    def upper(self) -> str:
        return self.key.upper()


@strawberry.type
class Holder:
    name: str
    terms: list[Term]
    first: Term | None
    required: Term


def term(key: str, **overrides: Any) -> Term:
    values: dict[str, Any] = {
        "weight": 1,
        "flag": True,
        "colour": Colour.RED,
        "tags": ["x", key],
        "counted": key,
    }
    values.update(overrides)
    return Term(key=key, **values)


SHARED = term("shared")


def holders(broken: str | None) -> list[Holder]:
    """Healthy holders, or ones with one kind of bad value in them."""
    terms = [SHARED, term("b", colour=Colour.DARK_BLUE), SHARED]
    if broken == "null in non-null leaf":
        terms[1] = term("b", flag=None)
    elif broken == "wrong leaf type":
        terms[1] = term("b", flag="yes")
    elif broken == "wrong enum":
        terms[1] = term("b", colour="purple")
    elif broken == "null in a list of scalars":
        terms[1] = term("b", tags=["x", None])
    elif broken == "wrong type in a list of scalars":
        terms[1] = term("b", tags=["x", ["not", "a", "string"]])
    elif broken == "null in non-null list item":
        terms = [SHARED, None, SHARED]  # type: ignore[list-item]
    elif broken == "exception in a list":
        terms = [SHARED, ValueError("bad term"), SHARED]  # type: ignore[list-item]
    elif broken == "null in non-null object":
        return [Holder(name="h", terms=terms, first=None, required=None)]  # type: ignore[arg-type]
    elif broken == "wrong object type":
        return [Holder(name="h", terms=terms, first="not a term", required=SHARED)]  # type: ignore[arg-type]
    return [Holder(name=f"h{i}", terms=terms, first=terms[0], required=SHARED) for i in range(2)]


async def later(value: Any) -> Any:
    return value


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Tagged(Named):
    """A type with an interface: strawberry gives it an is_type_of."""

    tag: str


@strawberry.type
class Labelled(Named):
    label: str


@strawberry.type
class Checked:
    """A type with an is_type_of of its own: asked for every object, never taken as read."""

    key: str

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, Checked) and obj.key != "refused"


def tagged(cast: bool) -> list[Tagged]:
    items = [Tagged(name="a", tag="x"), Tagged(name="b", tag="y")]
    if cast:
        strawberry.cast(Labelled, items[1])  # marked as another type: Tagged refuses it
    return items


@strawberry.input
class HolderSpec:
    broken: str | None = None


@strawberry.type
class Query:
    @strawberry.field
    def holders(self, broken: str | None = None) -> list[Holder]:
        return holders(broken)

    @strawberry.field
    def many(self, n: int) -> list[Holder]:
        return [
            Holder(name=f"h{i}", terms=[SHARED, term(f"t{i}")], first=None, required=SHARED)
            for i in range(n)
        ]

    @strawberry.field
    def specified(self, spec: HolderSpec) -> list[Holder]:
        """An input object argument: read through strawberry's resolver, as it may build
        itself with the call's info."""
        return holders(spec.broken)

    @strawberry.field
    def weighed(self, at_least: int = 0, colours: list[Colour] | None = None) -> list[Term]:
        """Scalar, enum and list arguments, with defaults: read plainly, converted once."""
        terms = [SHARED, term("b", colour=Colour.DARK_BLUE, weight=5)]
        return [
            t for t in terms if t.weight >= at_least and (colours is None or t.colour in colours)
        ]

    @strawberry.field
    def tagged(self, cast: bool = False) -> list[Tagged]:
        return tagged(cast)

    @strawberry.field
    def one_tagged(self, cast: bool = False) -> Tagged:
        return tagged(cast)[1]

    @strawberry.field
    def named(self) -> list[Named]:
        return [*tagged(False), Labelled(name="c", label="z")]

    @strawberry.field
    def labelled(self) -> list[Labelled]:
        return [Labelled(name="c", label="z")]

    @strawberry.field
    def checked(self) -> list[Checked]:
        return [Checked(key="kept"), Checked(key="refused")]

    @strawberry.field
    def awaited_terms(self) -> list[Term]:
        """A sync resolver whose items are awaitables (as from a DataLoader's load)."""
        return [later(SHARED), later(term("b")), SHARED]  # type: ignore[list-item]

    @strawberry.field
    async def gathered(self, info: strawberry.Info) -> list[int]:
        """A resolver that awaits through graphql-core's info.async_helpers."""
        helpers = info._raw_info.async_helpers
        helpers.track([later(None)])
        return list(await helpers.gather([later(1), later(2)]))

    @strawberry.field
    def awaited_holder(self) -> Holder:
        holder = holders(None)[0]
        holder.first = later(SHARED)  # type: ignore[assignment]
        holder.name = later("awaited name")  # type: ignore[assignment]
        holder.required = term("r", weight=later(7), tags=["x", later("awaited tag")])
        return holder


class ResolveHook(SchemaExtension):
    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        CALLS.append(f"hook {info.field_name}")
        return _next(root, info, *args, **kwargs)


def schema(context: type, *extensions: Any) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query, execution_context_class=context, extensions=list(extensions)
    )


SELECTION = """
  name
  terms { key weight flag colour tags upper alias: key __typename }
  first { key colour }
  required { key }
"""
BROKEN = [
    None,
    "null in non-null leaf",
    "wrong leaf type",
    "wrong enum",
    "null in a list of scalars",
    "wrong type in a list of scalars",
    "null in non-null list item",
    "exception in a list",
    "null in non-null object",
    "wrong object type",
]


def answer(context: type, broken: str | None) -> tuple[Any, list[tuple[str, Any]]]:
    query = f"query($b: String) {{ holders(broken: $b) {{ {SELECTION} }} }}"
    result = schema(context).execute_sync(query, variable_values={"b": broken})
    errors = sorted((e.message, e.path) for e in result.errors or [])
    return result.data, errors


@pytest.mark.parametrize("broken", BROKEN)
def test_answers_and_errors_are_strawberrys(broken: str | None) -> None:
    expected = answer(StrawberryGraphQLCoreExecutionContext, broken)
    assert answer(PlainFieldsExecutionContext, broken) == expected
    if broken is None:
        assert not expected[1]
        assert expected[0]["holders"][0]["terms"][1]["colour"] == "DARK_BLUE"  # by name
    else:
        assert expected[1], "each broken value is a GraphQL error"


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ weighed { key } }", {}),  # defaults
        ("{ weighed(atLeast: 2) { key weight } }", {}),
        ("{ weighed(colours: [DARK_BLUE]) { key colour } }", {}),
        ("query($c: [Colour!]) { weighed(colours: $c) { key } }", {"c": ["RED"]}),
        ("query($c: [Colour!]) { weighed(colours: $c) { key } }", {}),  # a variable unset
        ("query($n: Int!) { a: weighed(atLeast: $n) { key } b: weighed { key } }", {"n": 3}),
        ('{ specified(spec: {broken: "wrong enum"}) { name terms { colour } } }', {}),
    ],
)
def test_arguments_are_strawberrys(query: str, variables: dict[str, Any]) -> None:
    """A plain field's arguments, converted once per request, are what strawberry's resolver
    wrapper passes on each call: defaults, enums by name, lists, variables, aliases."""
    results = [
        schema(context).execute_sync(query, variable_values=variables)
        for context in (StrawberryGraphQLCoreExecutionContext, PlainFieldsExecutionContext)
    ]
    expected, served = (
        (r.data, sorted((e.message, e.path) for e in r.errors or [])) for r in results
    )
    assert served == expected
    assert expected[0] is not None


@pytest.mark.parametrize(
    "query",
    [
        "{ tagged { name tag } oneTagged { name } }",
        "{ tagged(cast: true) { name tag } }",
        "{ oneTagged(cast: true) { name tag } }",
        "{ named { name __typename ... on Tagged { tag } ... on Labelled { label } } }",
        "{ checked { key } }",
    ],
)
def test_is_type_of_is_strawberrys(query: str) -> None:
    """An object of a type with strawberry's is_type_of (a type with interfaces) is taken as
    that type without the call unless strawberry.cast marks it as another; one of a type with
    its own is_type_of is asked each time: values and errors are strawberry's."""
    results = [
        schema(context).execute_sync(query)
        for context in (StrawberryGraphQLCoreExecutionContext, PlainFieldsExecutionContext)
    ]
    expected, served = (
        (r.data, sorted((e.message, e.path) for e in r.errors or [])) for r in results
    )
    assert served == expected
    refused = "cast" in query or "checked" in query
    assert bool(expected[1]) == refused


def test_strawberrys_is_type_of_is_as_pinned() -> None:
    """fits_uncast recognises the is_type_of strawberry generates for a type with interfaces,
    which accepts an instance of the type's class unless it is cast to another type, and no
    other is_type_of."""
    graphql_schema = schema(StrawberryGraphQLCoreExecutionContext)._schema
    tagged_type = graphql_schema.get_type("Tagged")
    assert isinstance(tagged_type, GraphQLObjectType) and tagged_type.is_type_of is not None
    assert execution.fits_uncast(tagged_type)
    plain, cast = tagged(True)
    assert tagged_type.is_type_of(plain, None) is True  # type: ignore[arg-type]
    assert tagged_type.is_type_of(cast, None) is False  # type: ignore[arg-type]
    for name in ("Checked", "Term"):
        other = graphql_schema.get_type(name)
        assert isinstance(other, GraphQLObjectType) and not execution.fits_uncast(other)


async def test_awaitable_items_and_values_are_awaited_as_strawberry_does() -> None:
    query = (
        "{ awaitedTerms { key colour } "
        "awaitedHolder { name first { key } required { key weight tags } } }"
    )
    served = await schema(PlainFieldsExecutionContext).execute(query)
    expected = await schema(StrawberryGraphQLCoreExecutionContext).execute(query)
    assert not expected.errors
    assert (served.data, served.errors) == (expected.data, expected.errors)


async def test_async_helpers_work_and_an_execution_is_no_reference_cycle() -> None:
    """graphql-core's executor keeps its async helpers as bound methods of itself, a cycle that
    would keep all of a request's objects alive until the garbage collector runs; the executor
    here holds itself weakly in them. They still work, and with the collector off the executor
    is gone once the answer is: an upgrade that adds a cycle fails here."""
    executors: list[weakref.ref[Any]] = []

    class Recorded(PlainFieldsExecutionContext):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            executors.append(weakref.ref(self))

    query = "{ gathered holders { name terms { key tags } } awaitedTerms { key } }"
    expected = await schema(StrawberryGraphQLCoreExecutionContext).execute(query)
    served = schema(Recorded)
    gc.collect()
    gc.disable()
    try:
        result = await served.execute(query)
        assert (result.data, result.errors) == (expected.data, expected.errors)
        assert result.data and result.data["gathered"] == [1, 2]
        assert len(executors) == 1 and executors[0]() is None
    finally:
        gc.enable()


def test_a_field_with_an_extension_always_runs_it() -> None:
    CALLS.clear()
    result = schema(PlainFieldsExecutionContext).execute_sync("{ holders { terms { counted } } }")
    assert not result.errors
    assert CALLS.count("extension") == 6  # 2 holders x 3 terms, the shared one included


def test_a_schema_extension_with_a_resolve_hook_sees_every_field() -> None:
    CALLS.clear()
    result = schema(PlainFieldsExecutionContext, ResolveHook).execute_sync(
        "{ holders { name terms { key } } }"
    )
    assert not result.errors
    assert CALLS.count("hook key") == 6 and CALLS.count("hook name") == 2


def test_plain_fields_are_those_strawberry_answers_without_a_resolver_call() -> None:
    graphql_schema = schema(PlainFieldsExecutionContext)._schema
    term_type = graphql_schema.get_type("Term")
    readers = {name: plain_reader(term_type, name) for name in term_type.fields}  # type: ignore[union-attr]
    assert readers["counted"] is None  # an extension
    assert {n for n, r in readers.items() if r is not None} == {
        "key",
        "weight",
        "flag",
        "colour",
        "tags",
        "upper",
    }
    query_type = graphql_schema.get_type("Query")
    assert plain_reader(query_type, "holders") is not None  # a scalar argument  # type: ignore[arg-type]
    assert plain_reader(query_type, "weighed") is not None  # type: ignore[arg-type]
    assert plain_reader(query_type, "specified") is None  # an input object  # type: ignore[arg-type]
    for name, reader in readers.items():
        if reader is not None:
            assert reader(SHARED) == getattr(SHARED, name) if name != "upper" else "SHARED"


# -- what an upgrade must not change -----------------------------------------------------------
# The executor overrides these methods of graphql-core's Executor...
OVERRIDDEN = {
    "execute_fields": [
        "self",
        "parent_type",
        "source_value",
        "path",
        "grouped_field_set",
        "position_context",
    ],
    "complete_value": [
        "self",
        "return_type",
        "field_details_list",
        "info",
        "path",
        "result",
        "position_context",
    ],
}
# ...and calls these, with these parameters.
CALLED = {
    "execute_field": [
        "self",
        "parent_type",
        "source",
        "field_details_list",
        "path",
        "position_context",
    ],
    "handle_field_error": ["self", "raw_error", "return_type", "field_details_list", "path"],
    "complete_leaf_value": ["return_type", "result"],
    "complete_object_value": [
        "self",
        "return_type",
        "field_details_list",
        "info",
        "path",
        "result",
        "position_context",
    ],
    "collect_subfields": ["self", "return_type", "field_details_list"],
    "build_resolve_info": ["self", "field_def", "field_nodes", "parent_type", "path"],
    "settle_in_background": ["self", "awaitables"],
    # info.async_helpers, which the executor rebuilds to hold itself weakly
    "gather_async_work": ["self", "values"],
    "track_async_work": ["self", "values"],
}


@pytest.mark.parametrize(("name", "parameters"), [*OVERRIDDEN.items(), *CALLED.items()])
def test_graphql_core_methods_are_as_pinned(name: str, parameters: list[str]) -> None:
    method = getattr(Executor, name)
    assert list(inspect.signature(method).parameters) == parameters, (
        f"graphql-core's Executor.{name} changed: review server/graphql/execution.py"
    )


def test_strawberry_still_answers_basic_fields_with_getattr() -> None:
    graphql_schema = schema(StrawberryGraphQLCoreExecutionContext)._schema
    term_type = graphql_schema.get_type("Term")
    field = term_type.fields["key"]  # type: ignore[union-attr]
    definition = field.extensions[GraphQLCoreConverter.DEFINITION_BACKREF]
    assert isinstance(definition, StrawberryField) and definition.is_basic_field
    assert definition.default_resolver is getattr
    assert field.resolve(SHARED, None) == "shared"  # strawberry's own resolver: no info needed
    upper = term_type.fields["upper"].extensions[GraphQLCoreConverter.DEFINITION_BACKREF]  # type: ignore[union-attr]
    resolver = upper.base_resolver
    assert resolver.self_parameter is not None and resolver.info_parameter is None
    assert inspect.isfunction(resolver.wrapped_func)
    # The executor reads the resolve hooks a request's extensions add from here.
    assert MiddlewareManager(ResolveHook()).middlewares
    assert MiddlewareManager().middlewares == ()


async def test_a_long_list_completes_in_many_turns_as_in_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With a clock that moves a second at every look, every list waits for a later turn and a
    long one is split every LIST_TURN_CHECK items: 40,000 holders in 625 turns, chained without
    a deep stack (awaited one inside the other, they would pass the recursion limit), answer
    the same as strawberry's in one go; and so does a list under each of 300 holders."""
    for query in (
        "{ many(n: 40000) { name required { key } } }",
        "{ many(n: 300) { name terms { key } } }",
    ):
        await _same_in_many_turns(query, monkeypatch)


async def _same_in_many_turns(query: str, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = await schema(StrawberryGraphQLCoreExecutionContext).execute(query)
    ticks = iter(range(10**9))
    monkeypatch.setattr(execution, "monotonic", lambda: float(next(ticks)))
    served = await schema(PlainFieldsExecutionContext).execute(query)
    assert not expected.errors and not served.errors, served.errors
    assert served.data == expected.data
    assert next(ticks) > 300


def _completed(leaf_type: Any, value: Any) -> Any:
    try:
        return Executor.complete_leaf_value(leaf_type, value)
    except Exception as error:  # what graphql-core makes of it is an error: compared by kind
        return type(error)


def test_text_completions_are_graphql_cores_leaf_completion() -> None:
    """A `str` leaf answered without graphql-core's leaf completion (String and ID as they are,
    an enum's value by the name its type gives it) is answered as that completion would: for
    every leaf type of the served schema and of this file's, each value's text and others."""
    from server.graphql.schema import build_schema
    from server.settings import Settings

    served = build_schema(Settings())._schema
    small = schema(PlainFieldsExecutionContext)._schema
    leaves = [t for s in (served, small) for t in s.type_map.values() if is_leaf_type(t)]
    seen_as_is = seen_names = 0
    for leaf in leaves:
        as_is, names = execution.text_completions(leaf)
        texts = ["", "abc", "red", "RED", "dark blue", "DARK_BLUE", "CONSENT", "consent"]
        texts += [v.value for v in getattr(leaf, "values", {}).values() if type(v.value) is str]
        for text in texts:
            if as_is:
                seen_as_is += 1
                assert _completed(leaf, text) == text, (leaf, text)
            elif names is not None and text in names:
                seen_names += 1
                assert names[text] == _completed(leaf, text), (leaf, text)
        assert not (as_is and names), leaf
    assert seen_as_is and seen_names
    colour = small.type_map["Colour"]
    assert execution.text_completions(colour) == (False, {"red": "RED", "dark blue": "DARK_BLUE"})
    assert execution.text_completions(small.type_map["Int"]) == (False, None)
