"""Read a scenario table (header row of input names, one scenario per row) from a workbook."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import defusedxml

from xlcost.engine.errors import XlcostError
from xlcost.reading import ReadError, check_workbook_file, limits

__all__ = ["read_table"]


def _damaged(path: Path, exc: BaseException) -> ReadError:
    """One line for a workbook openpyxl could not read (no traceback, no library jargon)."""
    text = str(exc)
    if isinstance(exc, ValueError) and "digits" in text:
        return ReadError(f"{path.name}: a cell holds a number with too many digits; refused")
    chain = [exc]
    while chain[-1].__context__ is not None and len(chain) < 8:
        chain.append(chain[-1].__context__)
    if any(isinstance(e, defusedxml.DefusedXmlException) for e in chain):
        return ReadError(f"{path.name}: XML bomb or DTD refused")
    if any(type(e).__name__ in ("ExpatError", "ParseError") for e in chain):
        return ReadError(f"{path.name}: damaged XML in the sheet ({chain[-1]})")
    kind = type(exc).__name__
    return ReadError(f"{path.name}: not a readable .xlsx workbook ({kind})")


def _rows(path: Path, ws: Any, wb: Any) -> Iterator[list[Any]]:
    """The sheet's rows as lists, each checked against the limits; closes the workbook."""
    lim = limits()
    try:
        for i, row in enumerate(ws.iter_rows(values_only=True), start=1):
            if i > lim.rows + 1:
                raise ReadError(f"{path.name}: more than {lim.rows:,} rows")
            values = list(row)
            if len(values) > lim.columns:
                raise ReadError(f"{path.name} row {i}: more than {lim.columns:,} columns")
            for v in values:
                if isinstance(v, str) and len(v) > lim.field_chars:
                    raise ReadError(
                        f"{path.name} row {i}: a cell longer than {lim.field_chars:,} characters"
                    )
            yield values
    except XlcostError:
        raise
    except Exception as exc:  # openpyxl, expat, zlib, defusedxml: one line naming the file
        raise _damaged(path, exc) from None
    finally:
        wb.close()


def read_table(path: Path, sheet: str | None = None) -> tuple[list[Any], Iterator[list[Any]]]:
    """Header and (lazily) the data rows of ``sheet`` (default: the first sheet), values only.

    The file goes through :func:`xlcost.reading.check_workbook_file` first (regular file,
    zip/XML-bomb checks); then it is opened read-only with cached values (formulas are not
    evaluated and macros never run). Raises :class:`XlcostError` naming the file when it is
    not a readable workbook.
    """
    from openpyxl import load_workbook

    path = Path(path)
    check_workbook_file(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = load_workbook(path, read_only=True, data_only=True, keep_vba=False)
    except Exception as exc:
        raise _damaged(path, exc) from None
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise XlcostError(f"{path.name}: no sheet named {sheet!r}")
        ws = wb[sheet] if sheet is not None else wb.worksheets[0]
    except XlcostError:
        wb.close()
        raise
    except Exception as exc:
        wb.close()
        raise _damaged(path, exc) from None
    rows = _rows(path, ws, wb)
    try:
        header = next(rows)
    except StopIteration:
        raise ReadError(f"{path.name}: sheet {ws.title!r} is empty") from None
    return header, rows
