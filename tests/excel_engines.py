"""Evaluate workbooks headlessly, with xlcost's functions available (a reusable test helper).

:func:`formulas_model` calculates a whole ``.xlsx`` file with the `formulas` package, after
:func:`register_xlcost` has taught it every function in :data:`xlcost.functions.REGISTRY`
(``formulas.get_functions()`` is the cached dict its parser looks names up in, so an entry
added there is used by every ``ExcelModel``). Values come back by cell address,
``"Sheet!A1"`` (the sheet name as the workbook spells it), and by defined name for names that
refer to a single cell; errors as :class:`xlcost.functions.ExcelError`. A cell that is neither
a formula nor a constant of the workbook is left out (``values.get(...)`` is ``None``), and a
formula whose result is empty is ``None``.

Usage (e.g. to evaluate the whole template)::

    values = formulas_model(path)
    values["Costs!C4"], values["train_cost"]
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
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
from openpyxl.worksheet.formula import ArrayFormula

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


_Cell = tuple[str, str]
"""(sheet, cell) of a worksheet cell."""


@dataclass
class _Compiled:
    """A workbook's formulas compiled by `formulas` once, with the constants it was built
    with (cells that hold no formula)."""

    model: Any
    book: str
    constants: dict[_Cell, Any]

    def key(self, cell: _Cell) -> str:
        """The cell's name in the model: ``'[book.xlsx]SHEET'!A1``."""
        return f"'[{self.book}]{cell[0].upper()}'!{cell[1]}"

    def takes(self, cell: _Cell) -> bool:
        """True if a constant in ``cell`` can be given to the model: it held one, or a formula
        refers to the cell on its own (a data node)."""
        return cell in self.constants or self.key(cell) in self.model.dsp.data_nodes


_COMPILED: dict[tuple[tuple[_Cell, str], ...], _Compiled] = {}
"""Compiled models by their formulas (in this process). Loading and compiling the template
takes about 12 s; calculating it again with other constants about 2 s."""


def _compiled(path: Path) -> Any:
    """The workbook at ``path`` loaded and compiled by `formulas` (about 12 s for the
    template)."""
    return formulas.ExcelModel().loads(str(path)).finish()


def _cells(wb: openpyxl.Workbook) -> tuple[dict[_Cell, str], dict[_Cell, Any]]:
    """The formula cells (with their text) and the constant cells of a workbook."""
    formula: dict[_Cell, str] = {}
    constant: dict[_Cell, Any] = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                v = c.value
                if isinstance(v, ArrayFormula):
                    formula[(ws.title, c.coordinate)] = f"{v.ref} {v.text}"
                elif isinstance(v, str) and v.startswith("="):
                    formula[(ws.title, c.coordinate)] = v
                elif v is not None:
                    constant[(ws.title, c.coordinate)] = v
    return formula, constant


def _solution(path: Path, formula: dict[_Cell, str], constant: dict[_Cell, Any]) -> Any:
    """`formulas`' solution for the workbook at ``path``: the model compiled for the same
    formulas, calculated with this workbook's constants where they differ, when there is one
    that takes every constant cell of this workbook (:meth:`_Compiled.takes`); otherwise the
    workbook compiled anew.

    A constant the compiled workbook had and this one has not is given as a blank cell.
    ``XLCOST_TEST_FORMULAS_VERIFY=1`` checks every reuse against a fresh compilation.
    """
    key = tuple(sorted(formula.items()))
    compiled = _COMPILED.get(key)
    if compiled is None or not all(compiled.takes(cell) for cell in constant):
        model = _compiled(path)
        _COMPILED[key] = _Compiled(model, path.name, constant)
        return model.calculate()
    blank = np.asarray([[sh.EMPTY]], object)
    inputs: dict[str, Any] = {}
    for cell in constant.keys() | compiled.constants.keys():
        new, old = constant.get(cell, blank), compiled.constants.get(cell, blank)
        if new is blank or old is blank or new != old or type(new) is not type(old):
            inputs[compiled.key(cell)] = new
    return compiled.model.calculate(inputs=inputs)


def formulas_model(path: str | Path) -> dict[str, Any]:
    """Calculate the workbook at ``path``; every computed or input cell by ``"Sheet!A1"``, and
    single-cell defined names by name.

    A workbook with the same formulas as one calculated before in this process (a template
    filled with another scenario) reuses that one's compiled model (see :func:`_solution`);
    ``XLCOST_TEST_FORMULAS_FRESH=1`` compiles every workbook anew.
    """
    register_xlcost()
    path = Path(path)
    wb = openpyxl.load_workbook(path, read_only=False)
    formula, constant = _cells(wb)
    if os.environ.get("XLCOST_TEST_FORMULAS_FRESH") == "1":
        solution = _compiled(path).calculate()
    else:
        solution = _solution(path, formula, constant)
    values = _values(wb, solution, formula, constant)
    if os.environ.get("XLCOST_TEST_FORMULAS_VERIFY") == "1":
        fresh = _compiled(path).calculate()
        want = _values(wb, fresh, formula, constant)
        diff = {
            k: (values.get(k, "-"), want.get(k, "-"))
            for k in values.keys() | want.keys()
            if not _same(values.get(k, "-"), want.get(k, "-"))
        }
        assert not diff, f"{path.name}: {len(diff)} cells differ, e.g. {list(diff.items())[:5]}"
    return values


def _same(a: Any, b: Any) -> bool:
    """Equal values of the same type; floats within 1e-9, relative or, near zero, absolute.

    A model calculated with new constants and one compiled anew agree to rounding; the
    on-sheet IRR search's residuals (differences of large NPVs, near zero) and what is
    derived from them agree to about 1e-11 relative of the cash flows.
    """
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return bool(a == b or abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b)))
    return repr(a) == repr(b)


def _values(
    wb: openpyxl.Workbook, solution: Any, formula: dict[_Cell, str], constant: dict[_Cell, Any]
) -> dict[str, Any]:
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
            at = f"{sheet}!{addr}"
            if v is sh.EMPTY and (sheet, addr) not in formula and (sheet, addr) not in constant:
                continue  # a cell the compiled workbook had and this one leaves blank
            values[at] = from_formulas(v)
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
