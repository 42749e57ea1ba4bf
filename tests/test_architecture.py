"""The layering promised in the README holds: checked on the import graph, in fresh processes."""

from __future__ import annotations

import subprocess
import sys

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
