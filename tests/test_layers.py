"""The layers of server/, checked from the source with `ast`: domain knows no ORM, GraphQL or
HTTP; db knows no use cases or API; services know no API; no two modules import each other
(directly or round a longer loop); and migrations import no project code at all, so that what a
migration did when it ran is what it does on a fresh database forever after.

Every import counts, at module level or inside a function; only `from __future__` and imports
under `if TYPE_CHECKING:` are left out, since they never run."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / "server"
MIGRATIONS = SERVER / "db" / "migrations"

# Layer (a package of server/) -> what no module in it may import (a module and its submodules).
FORBIDDEN = {
    "server.domain": (
        "tortoise",
        "strawberry",
        "graphql",
        "starlette",
        "server.db",
        "server.services",
        "server.graphql",
    ),
    "server.db": ("server.services", "server.graphql", "strawberry", "starlette"),
    "server.services": ("server.graphql", "strawberry", "starlette"),
}


@dataclass(frozen=True)
class Import:
    module: str  # what the import statement names, resolved to an absolute module
    names: tuple[str, ...]  # for `from module import a, b`: a, b; empty for `import module`
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def server_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(SERVER.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(node: ast.AST) -> Iterator[ast.AST]:
    """Every node under `node`, leaving out the bodies of `if TYPE_CHECKING:` (not their
    `else:`)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield other
                yield from _walk(other)
            continue
        yield child
        yield from _walk(child)


def imports_in(source: str, package: str) -> list[Import]:
    """The imports of a module's source; `package` resolves its relative imports."""
    found = []
    for node in _walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [Import(alias.name, (), node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.module == "__future__":
                continue
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append(Import(target, tuple(a.name for a in node.names), node.lineno))
    return found


def imports_of(path: Path) -> list[Import]:
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    return imports_in(path.read_text(), package)


def is_within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module of server/ -> the modules of server/ it imports. `from package import name` is an
    edge to package.name when that is a module, else to the package."""
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for imp in imports_of(path):
            targets = [f"{imp.module}.{n}" for n in imp.names if f"{imp.module}.{n}" in modules]
            if len(targets) < len(imp.names) or not imp.names:
                targets.append(imp.module)
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def tangles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module: each module in one imports,
    directly or not, every other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def connect(node: str) -> None:  # Tarjan; server/ is small enough for recursion
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph[node]):
            if succ not in index:
                connect(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return components


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each tangle, as the modules in import order with the first repeated at
    the end."""
    cycles = []
    for component in tangles(graph):
        start = min(component)
        # Shortest way back to start within the component, breadth first.
        previous: dict[str, str] = {}
        frontier = [start]
        while start not in previous:
            following = []
            for node in frontier:
                for succ in sorted(graph[node] & component):
                    if succ not in previous:
                        previous[succ] = node
                        following.append(succ)
            frontier = following
        path = [start]
        while previous[path[-1]] != start:
            path.append(previous[path[-1]])
        cycles.append([start, *reversed(path[1:]), start])
    return sorted(cycles)


def test_the_walk_finds_every_kind_of_import() -> None:
    """The checks below are only as good as this: function-level and relative imports count,
    TYPE_CHECKING-only and __future__ imports do not."""
    source = (
        "from __future__ import annotations\n"
        "from typing import TYPE_CHECKING\n"
        "import tortoise.fields\n"
        "from . import models\n"
        "from ..services import keys\n"
        "if TYPE_CHECKING:\n"
        "    from server.graphql import context\n"
        "else:\n"
        "    import starlette\n"
        "def f():\n"
        "    from server.services.setup import migrate\n"
    )
    assert [(i.module, i.names) for i in imports_in(source, "server.db")] == [
        ("typing", ("TYPE_CHECKING",)),
        ("tortoise.fields", ()),
        ("server.db", ("models",)),
        ("server.services", ("keys",)),
        ("starlette", ()),
        ("server.services.setup", ("migrate",)),
    ]


@pytest.mark.parametrize("path", sorted(MIGRATIONS.glob("*.py")), ids=lambda p: p.name)
def test_migrations_import_no_project_code(path: Path) -> None:
    offending = [
        f"line {imp.line}: {imp.module}"
        for imp in imports_of(path)
        if is_within(imp.module, "server")
    ]
    assert not offending, (
        f"{path.name} imports project code, which may change after the migration has run "
        f"(copy what it needs into the migration as it was then): {offending}"
    )


def test_layers_import_only_what_they_may() -> None:
    breaches = []
    for name, path in server_modules().items():
        forbidden = [p for layer, ps in FORBIDDEN.items() if is_within(name, layer) for p in ps]
        for imp in imports_of(path):
            # `from server import services` names server.services as much as `import` does.
            named = [imp.module, *(f"{imp.module}.{n}" for n in imp.names)]
            hits = [n for n in named if any(is_within(n, p) for p in forbidden)]
            if hits:
                breaches.append(f"{name} (line {imp.line}) imports {hits[0]}")
    assert not breaches, "imports across the layers:\n" + "\n".join(breaches)


def test_the_layer_rules_match_modules_that_exist() -> None:
    """A renamed layer would make its rule vacuous: each layer named has modules."""
    modules = server_modules()
    for layer in FORBIDDEN:
        assert any(is_within(name, layer) for name in modules if name != layer), layer


def test_cycle_finder_reports_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"d"}}
    assert find_cycles(graph) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    cycles = find_cycles(import_graph(server_modules()))
    assert cycles == [], f"import cycles between modules of server/: {cycles}"
