"""Turning a cell's raw XML content into its value: numbers, text, booleans, errors, formulas."""

from __future__ import annotations

from pathlib import Path

from xlcost.workbooks.cells import CellRef, CellValue, WorkbookError, unescape_x
from xlcost.workbooks.sheetscan import RawCell

__all__ = ["decode", "shared_index"]


def shared_index(raw: RawCell) -> int | None:
    """The shared-string index a cell refers to, or None."""
    if raw.t == "s" and raw.v is not None and raw.v.strip().isdigit():
        return int(raw.v)
    return None


def decode(ref: CellRef, raw: RawCell, strings: dict[int, str], path: Path) -> CellValue:
    """The value of a cell from its raw content (``strings``: the shared strings it may use).

    Numbers are floats, ``t="d"`` dates their ISO text, an empty ``<v/>`` (a formula without
    a cached value) is None, errors go to :attr:`CellValue.error`.

    >>> decode(CellRef("S", "A1"), RawCell("b", "1"), {}, Path("q.xlsx")).value
    True
    >>> decode(CellRef("S", "A1"), RawCell("n", "x"), {}, Path("q.xlsx"))
    Traceback (most recent call last):
    ...
    xlcost.workbooks.cells.WorkbookError: q.xlsx: S!A1: damaged cell value 'x'
    """
    value: float | str | bool | None = None
    error: str | None = None
    try:
        if raw.t == "inlineStr":
            value = unescape_x(raw.inline) if raw.inline is not None else None
        elif raw.v is None:
            value = None
        elif raw.t == "str":
            value = unescape_x(raw.v)
        elif not raw.v.strip():  # an empty <v/>: no cached value (openpyxl writes formulas so)
            value = None
        elif raw.t == "s":
            value = unescape_x(strings.get(int(raw.v), ""))
        elif raw.t == "b":
            value = raw.v.strip() in ("1", "true")
        elif raw.t == "e":
            error = raw.v
        elif raw.t == "d":
            value = raw.v
        else:
            value = float(raw.v)
    except ValueError:
        raise WorkbookError(f"{path.name}: {ref}: damaged cell value {raw.v!r}") from None
    return CellValue(ref, value, raw.f, error)
