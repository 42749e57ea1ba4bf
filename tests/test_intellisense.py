"""The ``_IntelliSense_`` sheet of udf workbooks: what the ExcelDna.IntelliSense add-in reads to
show function and argument descriptions as the user types (xlwings cannot: xlwings #1718).

The format is the one ExcelDna.IntelliSense's ``WorkbookIntelliSenseProvider`` parses: the
sheet's used range, A1 ``FunctionInfo``, then per row the function's name, description and help
topic and pairs of argument name and description. The reader below follows that code; it has
not been tried with the add-in in Excel.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from xlcost.functions import REGISTRY
from xlcost.workbooks import layout as L
from xlcost.workbooks.template import build_template


def _provider_view(path: Path) -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """Function → (description, [(argument, description)]) as the add-in's provider reads it."""
    ws = load_workbook(path)[L.INTELLISENSE]
    assert ws.sheet_state == "hidden"
    rows = [list(r) for r in ws.iter_rows(min_row=1, values_only=True)]  # the used range
    assert str(rows[0][0]).lower() == "functioninfo"
    out = {}
    for row in rows[1:]:
        name, description = row[0], row[1]
        args = []
        for j in range(3, len(row) - 1, 2):
            if isinstance(row[j], str) and row[j]:
                args.append((row[j], row[j + 1] if isinstance(row[j + 1], str) else None))
        assert isinstance(name, str) and isinstance(description, str)
        out[name] = (description, args)
    return out


def test_the_sheet_describes_every_function_of_the_registry(tmp_path: Path) -> None:
    path = tmp_path / "udf.xlsx"
    build_template("udf", None, path)
    view = _provider_view(path)
    assert list(view) == list(REGISTRY)
    for name, fn in REGISTRY.items():
        description, args = view[name]
        assert description == fn.description
        assert args == [
            (a.name if a.default is None else f"[{a.name}]", a.description) for a in fn.args
        ]


def test_the_committed_udf_template_carries_it() -> None:
    root = Path(__file__).resolve().parents[1]
    assert list(_provider_view(root / "workbook" / "xlcost_template.xlsx")) == list(REGISTRY)


@pytest.mark.parametrize("mode", ["portable"])
def test_portable_workbooks_have_none(tmp_path: Path, mode: str) -> None:
    path = tmp_path / "p.xlsx"
    build_template(mode, None, path)
    assert L.INTELLISENSE not in load_workbook(path).sheetnames
