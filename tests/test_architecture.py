"""The import graph runs one way: every module imports only its own layer or the layers below.

An AST walk of every module of the package, counting imports inside functions too (a cycle
made of lazy imports is still a cycle). The layers are those of ``docs/architecture.md``:

    faces            CLI, pytest plugins, lm-eval bridge — nothing below imports them
    gate · training · report   siblings: none imports another
    scoring          scorers, the runner
    backends · store the only door to models; the run store and its caches
    core             suites, cases, results, statistics, adapter integrity, data locations

A new top-level module must be placed in ``LAYERS`` (the test says so), so the map stays whole.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "harness"
CORE, STORE, SCORING, MIDDLE, FACES = range(5)
NAMES = {CORE: "core", STORE: "backends/store", SCORING: "scoring", MIDDLE: "gate/training/report", FACES: "faces"}

# harness.<first part> -> layer
LAYERS = {
    "": CORE, "errors": CORE, "schema": CORE, "loader": CORE, "yaml_safe": CORE, "results": CORE, "paths": CORE,
    "data_paths": CORE, "metrics": CORE, "table": CORE, "registry": CORE, "sources": CORE, "stats": CORE,
    "integrity": CORE, "model_io": CORE, "scorer_api": CORE, "custom_scorer": CORE, "training_data": CORE,
    "logs": CORE,  # how much the libraries print: set by the faces, read by training (its step bar)
    "backend": STORE, "backends": STORE, "device": STORE, "store": STORE,
    "scorers": SCORING, "runner": SCORING, "evaluate": SCORING, "evaluate_metrics": SCORING, "suite_lm_eval": SCORING,
    "gate": MIDDLE, "training": MIDDLE, "report": MIDDLE,
    "cli": FACES, "__main__": FACES, "pytest_plugin": FACES, "report_plugin": FACES, "lmeval": FACES,
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(name: str, path: Path) -> list[tuple[str, int]]:
    """(imported harness module, line) for every import statement, at any depth."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            # `from pkg import sub` imports the submodule pkg.sub when there is one
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        found += [(t, node.lineno) for t in targets if t.split(".")[0] == "harness"]
    return found


def layer(name: str) -> tuple[int, str]:
    parts = name.split(".")
    first = parts[1] if len(parts) > 1 else ""
    assert first in LAYERS, f"{name}: place harness.{first} in a layer (tests/test_architecture.py LAYERS)"
    return LAYERS[first], first


def known(target: str) -> str:
    while target not in MODULES and "." in target:
        target = target.rsplit(".", 1)[0]
    return target


GRAPH = {name: [(known(t), line) for t, line in imports(name, path)] for name, path in MODULES.items()}


def upward_imports() -> list[str]:
    bad = []
    for name, targets in GRAPH.items():
        (mine, my_part) = layer(name)
        for target, line in targets:
            theirs, their_part = layer(target)
            sibling = mine == theirs == MIDDLE and my_part != their_part
            if theirs > mine or sibling:
                bad.append(f"{MODULES[name].relative_to(PACKAGE.parent)}:{line}: {name} ({NAMES[mine]}) imports "
                           f"{target} ({NAMES[theirs]})")
    return bad


def cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w, _ in GRAPH.get(v, ()):
            if w == v:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in GRAPH:
        if v not in index:
            visit(v)
    return found


def test_every_module_sits_in_a_layer():
    for name in MODULES:
        layer(name)


def test_no_upward_import():
    assert upward_imports() == []


def test_no_import_cycle():
    assert cycles() == []


@pytest.mark.parametrize("library", ["transformers", "peft", "sentence_transformers", "trl", "vllm"])
def test_only_backends_and_training_touch_model_libraries(library):
    """Every model is reached through the backend layer (training drives TRL on its own models)."""
    allowed = ("harness.backends", "harness.training")
    offenders = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            mods = ([a.name for a in node.names] if isinstance(node, ast.Import)
                    else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            if any(m.split(".")[0] == library for m in mods) and not name.startswith(allowed):
                offenders.append(f"{name}:{node.lineno}")
    assert offenders == []
