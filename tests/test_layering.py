"""The package's structure: each module imports only from its own layer or the layers below it, and no modules
import each other in a circle (function-local imports included: a circle hidden in a function is still one)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "lit_kgns"

# lowest first; a module of layer i may import from layers 0..i
LAYERS = [
    {"errors"},
    {
        "options",
        "negatives",
        "losses",
        "metrics",
        "data",
        "results_csv",
        "child_runs",
        "config_files",
        "quiet",
        "threads",
    },
    {"analysis"},
    {"backbones"},
    {"scoring"},
    {"samplers"},
    {"module"},
    {"resume"},
    {"cli", "predictions", "loggers", "breakdowns"},
    {"commands", "predictor", "__main__"},
]


def layer_of(module: str) -> int:
    """Layer of ``lit_kgns.<top>...`` by its first component (the package root itself is the top)."""
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "cli"
    return next(index for index, names in enumerate(LAYERS) if top in names)


def imports_of(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "lit_kgns":  # from lit_kgns import samplers
            found += [f"lit_kgns.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lit_kgns"):
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.startswith("lit_kgns")]
    return found


def test_no_module_imports_from_a_layer_above_it():
    upward = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "__init__.py" and path.parent == PACKAGE:
            continue
        module = "lit_kgns." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        own = layer_of(module)
        upward += [f"{module} imports {name}" for name in imports_of(path) if layer_of(name) > own]
    assert not upward


def module_graph() -> dict[str, set[str]]:
    """Each module of the package and the package modules it imports (``from a.b import c`` names ``a.b.c``
    when that is a module, else ``a.b``)."""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ["lit_kgns", *path.relative_to(PACKAGE).with_suffix("").parts]
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lit_kgns"):
                found |= {f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in modules else node.module
                          for alias in node.names}  # fmt: skip
            elif isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names if alias.name.startswith("lit_kgns")}
        graph[name] = {target for target in found if target in modules and target != name}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        order[module] = low[module] = len(order)
        stack.append(module)
        for target in sorted(graph[module]):
            if target not in order:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], order[target])
        if low[module] == order[module]:
            component = []
            while not component or component[-1] != module:
                component.append(stack.pop())
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph):
        if module not in order:
            visit(module)
    return found


def test_the_circle_finder_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_modules_import_each_other_in_a_circle():
    assert circles(module_graph()) == []
