"""Depth and alias limits (server/graphql/analysis.py): the same verdicts as strawberry's rules,
in work linear in the document (issue 11 §1, OWASP's "analysis linear in the document")."""

from __future__ import annotations

import time

import pytest
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    OperationDefinitionNode,
    build_schema,
    parse,
    validate,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from strawberry.extensions.max_aliases import create_validator as strawberry_aliases
from strawberry.extensions.query_depth_limiter import create_validator as strawberry_depth

from server.graphql.analysis import DocumentMeasures, alias_rule, depth_rule, fields_at

SCHEMA = build_schema(
    """
    type Query { recipient: Recipient recipients: [Recipient!]! }
    type Recipient { name: String sub: Recipient subs: [Recipient!]! }
    """
)


def fan_out(n: int) -> str:
    """Issue 11's document: each fragment spreads the next one twice (2ⁿ expanded spreads)."""
    fragments = "".join(
        f"fragment F{i} on Recipient {{ name ...F{i + 1} ...F{i + 1} }}\n" for i in range(n)
    )
    return "{ recipients { ...F0 } }\n" + fragments + f"fragment F{n} on Recipient {{ name }}"


def measure(query: str) -> tuple[int, int, int]:
    document = parse(query)
    measures = DocumentMeasures(document)
    operation = document.definitions[0]
    result = measures.of(operation.selection_set)  # type: ignore[attr-defined]
    return result.depth, result.aliases, measures.visits


@pytest.mark.parametrize(
    ("query", "depth", "aliases"),
    [
        ("{ recipient { name } }", 1, 0),
        ("{ recipient { sub { sub { name } } } }", 3, 0),
        ("{ a: recipient { b: name } c: recipients { name } }", 1, 3),
        ("{ recipient { ...F } } fragment F on Recipient { sub { x: name } }", 2, 1),
        # A fragment used twice brings its aliases twice, as execution sees them.
        (
            "{ a: recipient { ...F } b: recipient { ...F } } fragment F on Recipient { x: name }",
            1,
            4,
        ),
        ("{ recipient { ... on Recipient { sub { name } } } }", 2, 0),
        # Introspection adds no depth, as in strawberry's rule; its aliases count.
        ("{ __schema { t: types { fields { name } } } }", 0, 1),
        # A cycle (validation reports it) counts as empty instead of looping.
        (
            "{ recipient { ...A } } fragment A on Recipient { sub { ...B } } "
            "fragment B on Recipient { subs { ...A } }",
            3,
            0,
        ),
        (fan_out(3), 1, 0),
    ],
)
def test_depth_and_aliases(query: str, depth: int, aliases: int) -> None:
    assert measure(query)[:2] == (depth, aliases)


def test_fan_out_of_forty_is_measured_in_linear_work() -> None:
    depth, aliases, visits = measure(fan_out(40))
    assert (depth, aliases) == (1, 0)
    assert visits <= 3 * 41 + 1  # each fragment's three selections, once


def test_aliases_of_a_fan_out_are_counted_in_full_and_refused() -> None:
    once = fan_out(40).replace("F0 on Recipient { name", "F0 on Recipient { n: name")
    assert measure(once)[1] == 1
    assert validate(SCHEMA, parse(once), [alias_rule(30)]) == []
    last = fan_out(40).replace(
        "fragment F40 on Recipient { name }", "fragment F40 on Recipient { n: name }"
    )
    assert measure(last)[1] == 2**40
    errors = validate(SCHEMA, parse(last), [alias_rule(30)])
    assert [e.message for e in errors] == [f"{2**40:,} aliases found. Allowed: 30"]


@st.composite
def documents(draw: st.DrawFn) -> str:
    """Small documents of nested fields, aliases, inline fragments and named fragments."""
    names = ["name", "sub", "subs"]

    def selection(level: int, fragments: int) -> str:
        parts = []
        for _ in range(draw(st.integers(1, 3))):
            kind = draw(st.sampled_from(["leaf", "nested", "inline", "spread"]))
            alias = f"a{draw(st.integers(0, 9))}: " if draw(st.booleans()) else ""
            if kind == "leaf" or level > 4:
                parts.append(f"{alias}name")
            elif kind == "nested":
                field = draw(st.sampled_from(names[1:]))
                parts.append(f"{alias}{field} {{ {selection(level + 1, fragments)} }}")
            elif kind == "inline":
                parts.append(f"... on Recipient {{ {selection(level + 1, fragments)} }}")
            elif fragments:
                parts.append(f"...F{draw(st.integers(0, fragments - 1))}")
            else:
                parts.append("name")
        return " ".join(parts)

    count = draw(st.integers(0, 3))
    # Fragment i may spread only later fragments: no cycles, as validation would demand.
    bodies = []
    for i in range(count):
        body = selection(1, 0)
        if i + 1 < count and draw(st.booleans()):
            body += f" ...F{draw(st.integers(i + 1, count - 1))}"
        bodies.append(f"fragment F{i} on Recipient {{ {body} }}")
    operation = f"{{ recipient {{ {selection(1, count)} }} }}"
    return " ".join([operation, *bodies])


@settings(max_examples=300, deadline=None)
@given(documents(), st.integers(0, 6), st.integers(0, 6))
def test_same_verdict_as_strawberry(query: str, max_depth: int, max_aliases: int) -> None:
    document = parse(query)
    ours = validate(SCHEMA, document, [depth_rule(max_depth), alias_rule(max_aliases)])
    theirs = validate(
        SCHEMA,
        document,
        [strawberry_depth(max_depth, None, None), strawberry_aliases(max_aliases)],
    )
    assert any("depth" in e.message for e in ours) == any("depth" in e.message for e in theirs)
    assert [e.message for e in ours if "aliases" in e.message] == [
        e.message for e in theirs if "aliases" in e.message
    ]


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 60), st.integers(1, 4))
def test_work_grows_linearly_as_documents_grow_by_spreads(n: int, spreads: int) -> None:
    """Each fragment spreads the next `spreads` times: spreadsⁿ expanded, linear work."""
    fragments = "".join(
        f"fragment F{i} on Recipient {{ name {' '.join([f'...F{i + 1}'] * spreads)} }}\n"
        for i in range(n)
    )
    query = "{ recipients { ...F0 } }\n" + fragments + f"fragment F{n} on Recipient {{ name }}"
    document = parse(query)
    selections = (spreads + 1) * n + 3
    measures = DocumentMeasures(document)
    measures.of(document.definitions[0].selection_set)  # type: ignore[attr-defined]
    assert measures.visits <= selections


def test_forty_levels_of_fan_out_validate_in_milliseconds() -> None:
    document = parse(fan_out(40))
    started = time.perf_counter()
    assert validate(SCHEMA, document, [depth_rule(10), alias_rule(30)]) == []
    # Strawberry's rules would take 2⁴⁰ walks; ours a millisecond or so. A generous bound.
    assert time.perf_counter() - started < 0.5


def _fields_at(document: str, *path: str) -> list[str]:
    parsed = parse(document)
    fragments = {
        d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operation = next(d for d in parsed.definitions if isinstance(d, OperationDefinitionNode))
    roots = [s for s in operation.selection_set.selections if isinstance(s, FieldNode)]
    return [
        (node.alias.value if node.alias else node.name.value)
        for node in fields_at(roots, fragments, *path)
    ]


def test_fields_at_a_path_through_fragments_and_inline_fragments() -> None:
    document = """
    { recipients { sub { name } ...F ... on Recipient { sub { other: name } } } }
    fragment F on Recipient { sub { ...G } subs { name } }
    fragment G on Recipient { third: name }
    """
    assert sorted(_fields_at(document, "sub", "name")) == ["name", "other", "third"]
    assert _fields_at(document, "subs", "name") == ["name"]
    assert _fields_at(document, "sub", "subs") == []


def test_fields_at_walks_each_selection_set_once_however_often_it_is_spread() -> None:
    # 2²⁰ expanded spreads of F20; each selection set walked once finds its `name` once.
    assert len(_fields_at(fan_out(20), "name")) == 21
