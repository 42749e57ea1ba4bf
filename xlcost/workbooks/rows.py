"""Read a scenario table (header row of input names, one scenario per row) from a workbook."""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path
from typing import Any

from xlcost.engine.errors import XlcostError

__all__ = ["read_table"]


def read_table(path: Path, sheet: str | None = None) -> tuple[list[Any], list[list[Any]]]:
    """Header and data rows of ``sheet`` (default: the first sheet), values only.

    Opened read-only with cached values (formulas are not evaluated and macros never run).
    Raises :class:`XlcostError` naming the file when it is not a readable workbook.
    """
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = load_workbook(path, read_only=True, data_only=True, keep_vba=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
        raise XlcostError(
            f"{path.name}: not a readable .xlsx workbook ({type(e).__name__})"
        ) from None
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise XlcostError(f"{path.name}: no sheet named {sheet!r}")
        ws = wb[sheet] if sheet is not None else wb.worksheets[0]
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
    finally:
        wb.close()
    if not rows:
        raise XlcostError(f"{path.name}: sheet {ws.title!r} is empty")
    return rows[0], rows[1:]
