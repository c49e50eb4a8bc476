"""Tooling is the top layer: the demo and the seeder may use every app, and no app imports tooling (production
code never depends on demo or simulator glue)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_no_app_imports_tooling():
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for app in ("accounts", "providers", "orders", "panel")
        for path in sorted((ROOT / app).rglob("*.py"))
        for name in sorted(_imports(path))
        if name == "tooling" or name.startswith("tooling.")
    ]
    assert offenders == []
