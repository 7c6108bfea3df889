"""The house's layering, checked on the imports themselves (an ``ast`` walk, nothing is run):

- ``models/`` imports nothing of ours but ``models`` and ``core`` basics;
- ``core/`` is the ground floor: it imports only ``core`` and ``models``;
- ``schema/`` does not import ``resolvers/`` at module level;
- there is no import cycle at module level (imports inside functions and ``if TYPE_CHECKING:`` do not count).
"""

from __future__ import annotations

import ast
from pathlib import Path

from core.settings import PROJECT_ROOT

PACKAGES = ("core", "models", "schema", "resolvers", "services", "subscriptions")


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (PROJECT_ROOT / package).rglob("*.py"):
            parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    found["app"] = PROJECT_ROOT / "app.py"
    return found


def module_level_imports(path: Path, known: set[str]) -> set[str]:
    """The modules of ours that ``path`` imports when it is imported."""
    tree = ast.parse(path.read_text())
    imported: set[str] = set()

    def visit(statements: list[ast.stmt]) -> None:
        for node in statements:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names if alias.name.split(".")[0] in PACKAGES)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module.split(".")[0] not in PACKAGES:
                    continue
                for alias in node.names:
                    submodule = f"{node.module}.{alias.name}"
                    imported.add(submodule if submodule in known else node.module)
            elif isinstance(node, ast.If | ast.Try | ast.With):
                for block in ("body", "orelse", "finalbody", "handlers"):
                    for child in getattr(node, block, []) or []:
                        visit(child.body if isinstance(child, ast.ExceptHandler) else [child])

    visit(tree.body)
    return imported


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: module_level_imports(path, known) for name, path in found.items()}


def top(name: str) -> str:
    return name.split(".")[0]


def imports_of(layer: str) -> set[tuple[str, str]]:
    return {(m, i) for m, deps in graph().items() if top(m) == layer for i in deps}


def test_models_import_only_models_and_core() -> None:
    wrong = {(m, i) for m, i in imports_of("models") if top(i) not in ("models", "core")}
    assert not wrong, sorted(wrong)


def test_core_is_the_ground_floor() -> None:
    wrong = {(m, i) for m, i in imports_of("core") if top(i) not in ("core", "models")}
    assert not wrong, sorted(wrong)


def test_schema_does_not_import_resolvers_at_module_level() -> None:
    wrong = {(m, i) for m, i in imports_of("schema") if top(i) == "resolvers"}
    assert not wrong, sorted(wrong)


def test_no_import_cycle_at_module_level() -> None:
    assert cycles(graph()) == []


def test_the_walk_finds_imports_and_cycles() -> None:
    """A guard on the guard: the walk sees this tree's imports, and a cycle is found where there is one."""
    edges = graph()
    assert "core.auth" in edges["core.sockets"] and "resolvers.domains" not in edges["schema.schema"]
    assert len([m for m in edges if top(m) == "resolvers"]) > 20
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles of ``edges``: Tarjan's strongly connected components of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def strongconnect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in edges:
                continue
            if target not in index:
                strongconnect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in list(edges):
        if node not in index:
            strongconnect(node)
    return found
