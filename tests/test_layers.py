"""The layers, checked from the code itself (the AST), independently of import-linter."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "triage"
CORE = {"model", "mail", "series", "cache", "reply", "take", "config", "sendconfig", "paths", "errors",
        "textsafe", "forked", "session", "demo", "remote"}
ORDER = ["model", "mail", "series", "cache", "reply", "take", "remote", "session", "ui", "cli"]  # bottom to top


def _package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "triage" and len(parts) > 1 else None


@functools.cache
def _imports() -> dict[str, set[str]]:
    """For each of triage's top-level packages and modules, every module it imports, anywhere in it."""
    out: dict[str, set[str]] = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        own = _package(".".join(rel.parts)) or "__init__"
        found = out.setdefault(own.removesuffix(".py"), set())
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
                found.update(f"{node.module}.{a.name}" for a in node.names)
    return out


def _graph() -> dict[str, set[str]]:
    """Package -> the other packages (and top-level modules) of triage it imports."""
    known = set(_imports())
    return {pkg: {p for m in mods if (p := _package(m)) in known and p != pkg} for pkg, mods in _imports().items()}


def test_no_cycle_between_triages_packages() -> None:
    graph = _graph()
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in graph.get(node, ()):
            assert state.get(nxt) != 1, f"import cycle: {' -> '.join([*path, node, nxt])}"
            if nxt not in state:
                visit(nxt, [*path, node])
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node, [])


def test_the_core_never_imports_textual_rich_or_the_ui() -> None:
    for pkg, mods in _imports().items():
        if pkg in CORE:
            bad = sorted(m for m in mods if m.split(".")[0] in ("textual", "rich") or m.startswith("triage.ui"))
            assert not bad, f"triage.{pkg} imports {bad}"


def test_lower_layers_never_import_upper_ones() -> None:
    graph = _graph()
    for pkg, deps in graph.items():
        if pkg not in ORDER:
            continue
        for dep in deps:
            if dep in ORDER:
                assert ORDER.index(dep) < ORDER.index(pkg), f"triage.{pkg} (layer {ORDER.index(pkg)}) imports triage.{dep}"
