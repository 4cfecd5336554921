"""The package's layering: each module imports only from its own layer or the layers below it."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "lit_kgns"

# lowest first; a module of layer i may import from layers 0..i
LAYERS = [
    {"errors"},
    {"options", "negatives", "losses", "metrics", "data"},
    {"backbones"},
    {"scoring"},
    {"samplers"},
    {"module"},
    {"resume"},
    {"cli", "__main__", "run_many", "run_tables", "tuning", "predictions", "export", "loggers"},
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


def test_every_module_stays_under_300_lines():
    long = {
        str(path.relative_to(PACKAGE)): n
        for path in PACKAGE.rglob("*.py")
        if (n := len(path.read_text().splitlines())) > 300
    }
    assert not long
