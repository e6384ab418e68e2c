"""The module graph of `convex_py` and `emulator` has no cycle, and lower layers never import higher ones.

Read statically from the source (ast): every import counts, also those under
`if TYPE_CHECKING:` and those inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("convex_py", "emulator")


def _modules() -> dict[str, tuple[Path, bool]]:
    """Module name -> (file, is a package's __init__)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            found[".".join(parts)] = (path, is_package)
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports (`from pkg import sub` names the submodule)."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, (path, is_package) in modules.items():
        package = name.split(".") if is_package else name.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in modules:
                        graph[name].add(alias.name)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package[: len(package) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                for alias in node.names:
                    if f"{target}.{alias.name}" in modules:
                        graph[name].add(f"{target}.{alias.name}")
                    elif target in modules:
                        graph[name].add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph (its modules in import order, the first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in sorted(graph):
        if start in state:
            continue
        path = [start]
        state[start] = 1
        stack = [iter(sorted(graph[start]))]
        while stack:
            following = next(stack[-1], None)
            if following is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(following) == 1:
                return path[path.index(following):] + [following]
            elif following not in state:
                state[following] = 1
                path.append(following)
                stack.append(iter(sorted(graph[following])))
    return None


def test_the_graph_sees_every_kind_of_import() -> None:
    graph = import_graph()
    assert "emulator._transaction" in graph["emulator.runtime"]  # a plain relative import
    assert "emulator._transaction" in graph["emulator.query"]  # only under TYPE_CHECKING
    assert "emulator.server" in graph["emulator.cli"]  # only inside a function
    assert "emulator._emulator" in graph["emulator"]  # a package's __init__
    assert "emulator.search._query" in graph["emulator.search"]  # inside a function of a subpackage


def test_find_cycle_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None
    assert find_cycle({"a": {"a"}}) == ["a", "a"]


def test_no_import_cycle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


HIGHER = {"emulator.runtime", "emulator.context", "emulator.scheduler", "emulator.server", "emulator._emulator",
          "emulator.cli", "emulator.pytest_plugin"}


def test_lower_layers_never_import_higher_ones() -> None:
    graph = import_graph()
    lower = ["emulator.store", "emulator.query", "emulator._transaction", "emulator.limits", "emulator.clock"]
    lower += [name for name in graph if name.startswith("emulator.search")]
    for name in lower:
        assert not graph[name] & HIGHER, f"{name} imports {sorted(graph[name] & HIGHER)}"
    for name in (n for n in graph if n.startswith("convex_py")):
        assert not any(target.startswith("emulator") for target in graph[name]), f"{name} imports the emulator"
