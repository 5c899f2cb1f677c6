"""kb's import graph: every module imports on its own, kb modules form no cycle, the client
needs only `requests`, and only kb.config reads the environment."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import kb

PACKAGE = Path(kb.__file__).parent


def kb_modules() -> dict[str, Path]:
    """Every module under kb/, by dotted name, with its source file."""
    modules = {"kb": PACKAGE / "__init__.py"}
    for info in pkgutil.walk_packages([str(PACKAGE)], prefix="kb."):
        relative = Path(*info.name.split(".")[1:])
        path = PACKAGE / relative / "__init__.py" if info.ispkg else PACKAGE / f"{relative}.py"
        modules[info.name] = path
    return modules


MODULES = kb_modules()


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_imports_in_a_fresh_interpreter(name):
    result = run_python(f"import {name}")
    assert result.returncode == 0, result.stderr


def test_the_client_needs_only_requests():
    code = (
        "import sys, kb.client\n"
        "heavy = ['flask', 'whoosh', 'werkzeug', 'marshmallow', 'kb.api', 'kb.search']\n"
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def imported_kb_modules(name: str, path: Path) -> set[str]:
    """The kb modules `name` imports, at top level or inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # `from kb.api import schemas` is an edge to kb.api.schemas, not to kb.api (a
            # package's __init__ runs before its modules; that is not a cycle).
            targets = [
                f"{module}.{alias.name}" if f"{module}.{alias.name}" in MODULES else module
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    return {name: imported_kb_modules(name, path) for name, path in MODULES.items()}


# Edges that still close a cycle, each to be deleted when it goes (none left).
KNOWN_CYCLE_EDGES: set[tuple[str, str]] = set()


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path of names, or None when it is acyclic."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for succ in sorted(graph.get(node, ())):
            if state.get(succ) == 1:
                return path[path.index(succ) :] + [succ]
            if succ not in state and (cycle := visit(succ)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_kb_modules_import_each_other_without_a_cycle():
    graph = import_graph()
    for source, target in KNOWN_CYCLE_EDGES:
        assert target in graph[source], f"{source} -> {target} is gone: drop it from the list"
        graph[source].discard(target)
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_check_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_config_imports_nothing_from_kb():
    assert import_graph()["kb.config"] <= {"kb.errors"}


def reads_environment(path: Path) -> bool:
    """Whether the module touches os.environ, os.getenv or os.putenv."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "putenv"):
            return True
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            if {a.name for a in node.names} & {"environ", "getenv", "putenv"}:
                return True
    return False


def test_only_config_reads_the_environment():
    readers = sorted(name for name, path in MODULES.items() if reads_environment(path))
    assert readers == ["kb.config"]
