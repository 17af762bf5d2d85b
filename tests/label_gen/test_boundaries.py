"""label_gen is a pure library: it must never pull in the web service stack."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import label_gen

FORBIDDEN = ("flask", "sqlalchemy", "verify_service", "alembic", "werkzeug")
PACKAGE = pathlib.Path(label_gen.__file__).parent


def test_no_forbidden_imports_in_source() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                if name.split(".")[0] in FORBIDDEN:
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []


def test_importing_every_module_loads_no_forbidden_package() -> None:
    # A fresh interpreter: this test process may already hold flask from other tests.
    modules = [f"label_gen.{p.stem}" for p in PACKAGE.glob("*.py") if p.stem != "__init__"]
    script = (
        "import sys, importlib\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True, text=True, check=True, cwd=PACKAGE.parent,
    )
    assert result.stdout.strip() == ""
