"""The layers of the code, read from the import statements of every module (function-level imports included):

    common  <  accounts  <  providers  <  orders  <  panel  <  tooling

A package imports only the layers below it. `common` is the bottom layer (Django and the standard library
only); `panel` is the project (settings, URLs, the admin site, the dashboard), which may import every app.
An upward import makes a cycle: accounts.admin and orders.admin used to import panel.admin_paging while panel
imports both apps (the paginator is common.admin_paging now). Tooling (the `tooling` app: the demo and the
seeder; bench and tests beside it) sits on top: nothing below imports it. The upstream simulator
(providers.sandbox) is imported only by itself and tooling: production code never depends on it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ["common", "accounts", "providers", "orders", "panel"]
TOOLING = {"bench", "tests", "tooling"}
PROJECT = {*LAYERS, *TOOLING}


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, top-level package) of every absolute import of a project package in the module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue  # relative imports stay inside their own package
        found += [(node.lineno, name.split(".")[0]) for name in names if name.split(".")[0] in PROJECT]
    return found


def _violations(package: str) -> list[str]:
    allowed = set(LAYERS[: LAYERS.index(package) + 1])
    return [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for line, target in _imports(path)
        if target not in allowed
    ]


@pytest.mark.parametrize("package", LAYERS[1:])
def test_a_package_imports_only_the_layers_below_it(package):
    assert _violations(package) == []


def _module_imports(path: Path) -> set[str]:
    """The full dotted names a module imports absolutely (`providers.sandbox.services`)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_production_code_never_imports_the_simulator():
    sandbox = ROOT / "providers" / "sandbox"
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for package in LAYERS
        for path in sorted((ROOT / package).rglob("*.py"))
        if sandbox not in path.parents
        for name in sorted(_module_imports(path))
        if name == "providers.sandbox" or name.startswith("providers.sandbox.")
    ]
    assert offenders == []


def test_common_imports_no_project_package():
    """Django and the standard library only."""
    modules = sorted((ROOT / "common").rglob("*.py"))
    assert modules, "common/ has no modules"
    imported = {target for path in modules for _, target in _imports(path)} - {"common"}
    assert imported == set()


def test_no_app_imports_panel():
    """The two cycles through panel.admin_paging (accounts.admin and orders.admin) stay gone."""
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for app in ("accounts", "providers", "orders")
        for path in sorted((ROOT / app).rglob("*.py"))
        for line, target in _imports(path)
        if target == "panel"
    ]
    assert offenders == []
    assert not (ROOT / "panel" / "admin_paging.py").exists()


def test_the_check_sees_an_upward_import(tmp_path):
    """The parser catches the forms an upward import takes (so an empty list above means something)."""
    module = tmp_path / "sample.py"
    module.write_text(
        "import panel.admin_paging\nfrom orders.models import Order\n"
        "def f():\n    from providers import models\n"
        "from . import sibling\nfrom django.db import models\n",
        encoding="utf-8",
    )
    assert _imports(module) == [(1, "panel"), (2, "orders"), (4, "providers")]
