"""Evaluate workbooks headlessly, with xlcost's functions available (a reusable test helper).

:func:`formulas_model` calculates a whole ``.xlsx`` file with the `formulas` package, after
:func:`register_xlcost` has taught it every function in :data:`xlcost.functions.REGISTRY`
(``formulas.get_functions()`` is the cached dict its parser looks names up in, so an entry
added there is used by every ``ExcelModel``). Values come back by cell address,
``"Sheet!A1"`` (the sheet name as the workbook spells it), and by defined name for names that
refer to a single cell; errors as :class:`xlcost.functions.ExcelError`, empty cells as ``None``.

Usage (e.g. to evaluate the whole template)::

    values = formulas_model(path)
    values["Costs!C4"], values["train_cost"]
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import formulas
import numpy as np
import openpyxl
import pytest
import schedula as sh
from formulas.functions import Error
from formulas.ranges import Ranges
from formulas.tokens.operand import XlError

from xlcost.functions import REGISTRY, ExcelError, ExcelFunction
from xlcost.workbooks.libreoffice import convert, soffice

__all__ = [
    "formulas_model",
    "from_formulas",
    "libreoffice_values",
    "register_xlcost",
    "require_libreoffice",
]


def _cell_in(v: Any) -> Any:
    """A `formulas` argument as the plain values xlcost's functions take."""
    if isinstance(v, Ranges):
        v = v.value
    if isinstance(v, np.ndarray):
        return [[_cell_in(x) for x in row] for row in np.atleast_2d(v).tolist()]
    if v is sh.EMPTY:
        return None
    if isinstance(v, XlError):
        return str(v)
    return v


def _cell_out(v: Any) -> Any:
    if isinstance(v, ExcelError):
        return Error.errors.get(v.code, Error.errors["#VALUE!"])
    return v


def _formulas_function(fn: ExcelFunction) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        result = fn(*[_cell_in(a) for a in args])
        if isinstance(result, np.ndarray):
            out = np.empty(np.atleast_2d(result).shape, dtype=object)
            for idx, x in np.ndenumerate(np.atleast_2d(result)):
                out[idx] = _cell_out(x)
            return out
        return _cell_out(result)

    call.__name__ = fn.name
    return call


def register_xlcost() -> None:
    """Make every xlcost function callable from formulas evaluated by `formulas`."""
    functions = formulas.get_functions()
    for name, fn in REGISTRY.items():
        functions[name] = _formulas_function(fn)


def from_formulas(v: Any) -> Any:
    """A `formulas` cell value as plain Python: numbers, text, bools, ``None``, ExcelError."""
    if v is sh.EMPTY:
        return None
    if isinstance(v, XlError):
        return ExcelError(str(v))
    if isinstance(v, np.generic):
        return v.item()
    return v


_KEY = re.compile(r"^'?\[(?P<book>[^\]]+)\](?P<sheet>.+?)'?!(?P<ref>[A-Z]+\d+(?::[A-Z]+\d+)?)$")


def formulas_model(path: str | Path) -> dict[str, Any]:
    """Calculate the workbook at ``path``; every computed or input cell by ``"Sheet!A1"``, and
    single-cell defined names by name."""
    register_xlcost()
    path = Path(path)
    model = formulas.ExcelModel().loads(str(path)).finish()
    solution = model.calculate()
    wb = openpyxl.load_workbook(path, read_only=False)
    sheet_names = {s.upper(): s for s in wb.sheetnames}
    values: dict[str, Any] = {}
    for key, ranges in solution.items():
        m = _KEY.match(str(key))
        if not m:
            continue
        sheet = sheet_names.get(m["sheet"].upper(), m["sheet"])
        first = m["ref"].split(":")[0]
        col, row = re.match(r"([A-Z]+)(\d+)", first).groups()  # type: ignore[union-attr]
        c0 = openpyxl.utils.column_index_from_string(col)
        array = np.atleast_2d(getattr(ranges, "value", ranges))
        for (i, j), v in np.ndenumerate(array):
            addr = f"{openpyxl.utils.get_column_letter(c0 + j)}{int(row) + i}"
            values[f"{sheet}!{addr}"] = from_formulas(v)
    for name, dn in wb.defined_names.items():
        dests = list(dn.destinations)
        if len(dests) == 1 and ":" not in dests[0][1]:
            sheet, ref = dests[0]
            values[name] = values.get(f"{sheet}!{ref.replace('$', '')}")
    return values


def require_libreoffice() -> None:
    """Fail the calling test when LibreOffice is missing (CI installs it); skip it only when
    ``XLCOST_SKIP_LIBREOFFICE=1`` is set for a local run."""
    if os.environ.get("XLCOST_SKIP_LIBREOFFICE") == "1":
        pytest.skip("XLCOST_SKIP_LIBREOFFICE=1")
    assert soffice(), "LibreOffice (soffice) is required: apt-get install libreoffice-calc-nogui"


def libreoffice_values(paths: list[Path], outdir: Path) -> list[dict[tuple[str, str], Any]]:
    """Recalculate ``paths`` with LibreOffice headless (one run, recalculation forced on load);
    for each, ``(sheet, "A1") → value`` of every cell.

    Needs LibreOffice (:func:`require_libreoffice`).
    """
    require_libreoffice()
    values = []
    for out in convert(paths, outdir):
        wb = openpyxl.load_workbook(out, data_only=True)
        values.append(
            {
                (ws.title, c.coordinate): c.value
                for ws in wb.worksheets
                for row in ws.iter_rows()
                for c in row
            }
        )
    return values
