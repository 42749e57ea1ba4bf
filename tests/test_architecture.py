"""The layering promised in the README holds: checked on the import graph, in fresh processes."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest


def _modules_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(proc.stdout.split())


@pytest.mark.parametrize(
    "statement",
    [
        "import xlcost.engine",
        "from xlcost.engine import evaluate, seed_scenario; evaluate(seed_scenario())",
        "import xlcost.functions",
        "import xlcost.scenario_files",
        "import xlcost.report",
    ],
)
def test_engine_layers_import_neither_xlwings_nor_openpyxl(statement: str) -> None:
    loaded = _modules_after(statement)
    assert not {m for m in loaded if m.split(".")[0] in ("xlwings", "openpyxl")}


def test_importing_xlcost_loads_only_the_version() -> None:
    loaded = _modules_after("import xlcost")
    assert {m for m in loaded if m.startswith("xlcost")} == {"xlcost", "xlcost._version"}
    assert "numpy" not in loaded and "pydantic" not in loaded


ROOT = Path(__file__).resolve().parents[1]
# Who may import what (the architecture): xlwings only in the UDF module; openpyxl (and the
# zip/XML layer) only in xlcost/workbooks/.
ALLOWED = {"xlwings": {"xlcost/udfs.py"}, "openpyxl": {"xlcost/workbooks/"}}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):  # every import, including those inside functions
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("module", sorted(ALLOWED))
def test_only_the_allowed_modules_import(module: str) -> None:
    offenders = []
    for path in sorted((ROOT / "xlcost").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if module in _imports(path) and not any(rel.startswith(a) for a in ALLOWED[module]):
            offenders.append(rel)
    assert offenders == []
