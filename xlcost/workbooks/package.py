"""The workbook-package layer of xlcost: safe, lossless reading and filling of ``.xlsx``/``.xlsm``.

This module is the stable import path; the code lives in one module per idea:

* :mod:`~xlcost.workbooks.opened` — :class:`OpenWorkbook`, a package opened and checked once,
  which answers "defined names", "these cells" and "fill these";
* :mod:`~xlcost.workbooks.safety` — refusing hostile or damaged packages (zip bombs, zip slip,
  encrypted or legacy files, DTDs and entities) before anything is parsed;
* :mod:`~xlcost.workbooks.names` — sheets and defined names (case-insensitive, as in Excel);
* :mod:`~xlcost.workbooks.xmlscan` and :mod:`~xlcost.workbooks.sheetscan` — the linear-time
  tag scanner and where a sheet's rows and cells are;
* :mod:`~xlcost.workbooks.reading` — a cell's raw content to its value;
* :mod:`~xlcost.workbooks.sheetedit` — splicing values into the sheet text;
* :mod:`~xlcost.workbooks.verify` — re-reading what was written with an independent parser;
* :mod:`~xlcost.workbooks.filling` — :class:`TemplateFiller` and :func:`fill_package`;
* :mod:`~xlcost.workbooks.zipwrite` — the package written with unchanged members copied raw;
* :mod:`~xlcost.workbooks.cells` — cell references, values and text escapes.

No macro ever runs; XML is never parsed with DTDs or entities.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from xlcost.workbooks.cells import CellRef, CellValue, Value, WorkbookError
from xlcost.workbooks.filling import TemplateFiller, fill_package
from xlcost.workbooks.names import DefinedNames
from xlcost.workbooks.opened import OpenWorkbook
from xlcost.workbooks.safety import check_package

__all__ = [
    "CellRef",
    "CellValue",
    "DefinedNames",
    "OpenWorkbook",
    "TemplateFiller",
    "Value",
    "WorkbookError",
    "check_package",
    "defined_names",
    "fill_package",
    "read_cells",
]


def defined_names(path: Path) -> DefinedNames:
    """Workbook-scoped defined names that point to a single cell.

    Parameters
    ----------
    path : Path
        The workbook.

    Returns
    -------
    DefinedNames
        A mapping such as ``{"train_gpus": CellRef("Inputs", "C7")}`` for a name defined as
        ``Inputs!$C$7``, looked up case-insensitively as Excel does.  Names pointing to
        ranges, formulas, constants or other workbooks, sheet-scoped names (``localSheetId``)
        and built-in ``_xlnm.`` names are ignored.

    Raises
    ------
    WorkbookError
        Unsafe or damaged package, DTD/entities in ``xl/workbook.xml``.
    """
    with OpenWorkbook(path) as book:
        return book.names


def read_cells(path: Path, refs: Iterable[CellRef]) -> dict[CellRef, CellValue]:
    """Read cells (values, formulas, errors) straight from the sheet XML parts.

    Parameters
    ----------
    path : Path
        The workbook.
    refs : iterable of CellRef
        The cells to read.

    Returns
    -------
    dict of CellRef to CellValue
        One entry per requested cell; missing cells have value None.
        Numbers are returned as float, ``t="d"`` dates as their ISO text.

    Raises
    ------
    WorkbookError
        Unsafe or damaged package, unknown sheet, invalid cell reference.
    """
    with OpenWorkbook(path) as book:
        return book.read(refs)
