"""Cells of a workbook: addresses (A1 references), values and the text escapes of the sheet XML.

Everything here is pure text and number handling, shared by the reading, scanning and editing
modules of the workbook package layer (:mod:`xlcost.workbooks.package`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = [
    "MAX_COL",
    "MAX_ROW",
    "MAX_TEXT",
    "CellRef",
    "CellValue",
    "Value",
    "WorkbookError",
    "a1",
    "cell_rc",
    "check_value",
    "col_letters",
    "col_number",
    "escape_text",
    "number_text",
    "parse_a1",
    "parse_range",
    "quote_sheet",
    "unescape_x",
    "value_problem",
]

MAX_ROW = 1_048_576
MAX_COL = 16_384
MAX_TEXT = 32_767
"""Excel's limits: rows, columns, characters in a cell."""

Value = float | int | str | bool | None
"""What a cell can be set to."""


class WorkbookError(Exception):
    """One-line, user-facing problem with a workbook file.

    ``str()`` is the full message and starts with the file name, e.g.
    ``'q3.xlsx: not a zip file'``.
    """


@dataclass(frozen=True)
class CellRef:
    """A single cell, addressed by sheet name and A1 reference.

    Parameters
    ----------
    sheet : str
        Sheet name as the user sees it.
    cell : str
        A1 reference without ``$``, e.g. ``"C7"``.

    Examples
    --------
    >>> str(CellRef("Inputs", "C7"))
    'Inputs!C7'
    >>> str(CellRef("Cash flow", "B3"))
    "'Cash flow'!B3"
    """

    sheet: str
    cell: str

    def __str__(self) -> str:
        return f"{quote_sheet(self.sheet)}!{self.cell}"


@dataclass(frozen=True)
class CellValue:
    """The content of one cell as read from the sheet XML.

    Parameters
    ----------
    ref : CellRef
        The cell.
    value : float or str or bool or None
        Number, text (shared/inline strings resolved), bool, or None if blank
        (or if the cell holds an error).
    formula : str or None
        The formula text without ``=``, or None.  For the dependents of a
        shared formula the text is not reconstructed and is ``""``.
    error : str or None
        Excel error code such as ``'#DIV/0!'`` if the cell holds an error.
    """

    ref: CellRef
    value: float | str | bool | None
    formula: str | None
    error: str | None


@lru_cache(maxsize=1024)
def quote_sheet(name: str) -> str:
    """A sheet name as a formula writes it (quoted when needed).

    >>> quote_sheet("Inputs"), quote_sheet("Cash flow"), quote_sheet("A1")
    ('Inputs', "'Cash flow'", "'A1'")
    """
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", name) and not re.fullmatch(
        r"(?i)[A-Z]{1,3}[0-9]+|R[0-9]*C[0-9]*|R|C", name
    ):
        return name
    return "'" + name.replace("'", "''") + "'"


def col_number(letters: str) -> int:
    """Column number of column letters.

    >>> col_number("A"), col_number("z"), col_number("AA"), col_number("XFD")
    (1, 26, 27, 16384)
    """
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def col_letters(n: int) -> str:
    """Column letters of a column number.

    >>> col_letters(1), col_letters(27), col_letters(16384)
    ('A', 'AA', 'XFD')
    """
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


_A1_RE = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")


@lru_cache(maxsize=2**16)
def parse_a1(ref: str) -> tuple[int, int] | None:
    """(row, column) of an A1 reference, or None if it is not a cell of a sheet.

    >>> parse_a1("$C$7"), parse_a1("XFE1"), parse_a1("A0")
    ((7, 3), None, None)
    """
    m = _A1_RE.fullmatch(ref.strip())
    if not m:
        return None
    col, row = col_number(m.group(1)), int(m.group(2))
    if not (1 <= row <= MAX_ROW and 1 <= col <= MAX_COL):
        return None
    return row, col


def a1(row: int, col: int) -> str:
    """The A1 reference of (row, column).

    >>> a1(7, 3)
    'C7'
    """
    return f"{col_letters(col)}{row}"


def parse_range(ref: str) -> tuple[int, int, int, int] | None:
    """(first row, first column, last row, last column) of ``A1`` or ``A1:B2``, or None.

    >>> parse_range("B3:A1"), parse_range("C7"), parse_range("A1:B2:C3")
    ((1, 1, 3, 2), (7, 3, 7, 3), None)
    """
    parts = ref.split(":")
    if len(parts) > 2:
        return None
    first = parse_a1(parts[0])
    last = parse_a1(parts[-1])
    if first is None or last is None:
        return None
    return (
        min(first[0], last[0]),
        min(first[1], last[1]),
        max(first[0], last[0]),
        max(first[1], last[1]),
    )


def cell_rc(ref: CellRef, path: Path) -> tuple[int, int]:
    """(row, column) of ``ref``; an invalid reference is a :class:`WorkbookError`."""
    rc = parse_a1(ref.cell)
    if rc is None:
        raise WorkbookError(f"{path.name}: invalid cell reference {str(ref)!r}")
    return rc


_XESC_RE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def unescape_x(text: str) -> str:
    """Decode Excel's ``_xHHHH_`` escapes (ST_Xstring).

    >>> unescape_x("a_x000A_b")
    'a\\nb'
    """
    if "_x" not in text:
        return text
    return _XESC_RE.sub(lambda m: chr(int(m.group(1), 16)), text)


_ILLEGAL_XML_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def escape_text(text: str) -> str:
    """Escape text for an ``<is><t>`` element (Excel ``_xHHHH_`` + XML escapes).

    >>> escape_text("a<b & _x0041_\\x01")
    'a&lt;b &amp; _x005F_x0041__x0001_'
    """
    text = re.sub(r"_(x[0-9A-Fa-f]{4}_)", r"_x005F_\1", text)
    text = _ILLEGAL_XML_RE.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def check_value(value: object, ref: CellRef, name: str) -> None:
    """Refuse a value that cannot be written into a cell (:class:`WorkbookError`)."""
    problem = value_problem(value)
    if problem is not None:
        raise WorkbookError(f"{name}: {ref}: {problem}")


def value_problem(value: object) -> str | None:
    """Why ``value`` cannot be written into a cell, or None if it can.

    >>> value_problem(1.5), value_problem(float("nan")), value_problem([1])
    (None, 'cannot write nan (not a finite number)', 'cannot write a value of type list')
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        try:
            ok = math.isfinite(float(value))
        except OverflowError:
            ok = False
        return None if ok else "number too large for Excel"
    if isinstance(value, float):
        return None if math.isfinite(value) else f"cannot write {value!r} (not a finite number)"
    if isinstance(value, str):
        if _SURROGATE_RE.search(value):
            return "text contains an invalid (surrogate) character"
        if len(value) > MAX_TEXT:
            return f"text longer than {MAX_TEXT} characters"
        return None
    return f"cannot write a value of type {type(value).__name__}"


def number_text(value: float | int) -> str:
    """A number as a ``<v>`` holds it (exact round trip).

    >>> number_text(3), number_text(0.1), number_text(10**16)
    ('3', '0.1', '1e+16')
    """
    if isinstance(value, int) and abs(value) < 10**15:
        return str(value)
    return repr(float(value))
