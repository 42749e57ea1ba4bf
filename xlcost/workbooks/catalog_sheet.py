"""The GPU catalog a workbook carries on its Catalog sheet, read as its formulas read it.

A generated workbook looks GPU names up with ``INDEX(catalog_table, MATCH(gpu, catalog_names,
0), MATCH(field, catalog_fields, 0))``: the rows of the defined range ``catalog_table``, the
columns named by ``catalog_fields``. :func:`sheet_catalog` reads the same cells (straight from
the sheet XML, through :class:`~xlcost.workbooks.opened.OpenWorkbook`) and validates them with
the catalog's own model, so ``xlcost calc`` of the workbook uses what its formulas use: a price
or peak edited there, a GPU row inserted into the table. A workbook without these names (a
user's own template) has no catalog of its own. Every problem is one line naming the cell::

    q3.xlsx Catalog!C9, peak_tflops: must be > 0, got -5
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ValidationError

from xlcost.engine.catalog import GPU, GPU_FIELDS, Catalog, M
from xlcost.engine.errors import InputError
from xlcost.engine.prices import ApiPrice, GpuOffer, GpuPurchase, Prices
from xlcost.engine.validate import describe
from xlcost.functions import EXCEL_EPOCH
from xlcost.workbooks import layout as L
from xlcost.workbooks.cells import CellRef, CellValue, a1, col_letters
from xlcost.workbooks.names import Bounds
from xlcost.workbooks.opened import OpenWorkbook
from xlcost.workbooks.safety import WORKBOOK

__all__ = ["sheet_catalog"]


def sheet_catalog(book: OpenWorkbook) -> Catalog | None:
    """The catalog of ``book``'s ``catalog_table`` (headed by ``catalog_fields``), or None if
    the workbook defines no such names.

    Columns whose heading is not a catalog field are ignored (the formulas never look them
    up) and empty rows skipped; a date may be typed as a date or as ISO text.

    Raises
    ------
    InputError
        A value the catalog refuses, a duplicate GPU name, a heading missing: one line naming
        the workbook and the cell.
    """
    table = book.defined_range("catalog_table")
    fields = book.defined_range("catalog_fields")
    if table is None or fields is None:
        return None
    key = _key(book, table[0], fields[0])
    found = _SEEN.get(key) if key is not None else None
    if found is None:
        found = _read(book, table, fields)
        if key is not None:
            if len(_SEEN) >= _KEPT:
                del _SEEN[next(iter(_SEEN))]
            _SEEN[key] = found
    return found


_SEEN: dict[tuple[bytes, ...], Catalog] = {}
"""Catalogs already read, by the parts they were read from: a batch of workbooks made from one
template has the same Catalog sheet in every file, read and validated once."""
_KEPT = 16


def _key(book: OpenWorkbook, *sheets: str) -> tuple[bytes, ...] | None:
    """The bytes of every part a catalog is read from (None if a sheet has no part)."""
    parts = [WORKBOOK, *(book.sheet(name).part for name in sheets)]
    if book.has_part(book.shared_strings_part):
        parts.append(book.shared_strings_part)
    if not all(book.has_part(p) for p in parts):
        return None
    return tuple(book.part(p) for p in parts)


def _read(book: OpenWorkbook, table: tuple[str, Bounds], fields: tuple[str, Bounds]) -> Catalog:
    """:func:`sheet_catalog` read from the cells."""
    sheet, (top, left, bottom, right) = table
    f_sheet, (f_row, f_left, _f_bottom, f_right) = fields
    head = {c: CellRef(f_sheet, a1(f_row, c)) for c in range(f_left, f_right + 1)}
    read = book.read(head.values())
    col_of: dict[str, int] = {}
    for c, ref in head.items():
        text = read[ref].value
        if isinstance(text, str) and text.strip() in GPU_FIELDS:
            col_of.setdefault(text.strip(), c)
    where = f"{book.path.name} {head[f_left]}"
    missing = [f for f in GPU_FIELDS if f not in col_of]
    if missing:
        raise InputError("catalog_fields", f"no heading {missing[0]!r}", where=where)
    if not all(left <= c <= right for c in col_of.values()):
        raise InputError("catalog_fields", "headings outside catalog_table", where=where)
    gpus: list[GPU] = []
    first: dict[str, CellRef] = {}
    columns = {f: col_letters(col_of[f]) for f in GPU_FIELDS}
    for gpu, refs in _rows(book, GPU, sheet, top, bottom, columns):
        key = gpu.name.casefold()
        if key in first:
            where = f"{book.path.name} {refs['name']}"
            raise InputError("name", f"GPU {gpu.name!r} twice (also {first[key]})", where=where)
        first[key] = refs["name"]
        gpus.append(gpu)
    prices = _prices(book)
    return Catalog(gpus=tuple(gpus)) if prices is None else Catalog(gpus=tuple(gpus), prices=prices)


_PRICE_MODELS: dict[str, type[BaseModel]] = {
    "purchases": GpuPurchase,
    "offers": GpuOffer,
    "apis": ApiPrice,
}


def _prices(book: OpenWorkbook) -> Prices | None:
    """The price tables of the Catalog sheet (:data:`~xlcost.workbooks.layout.PRICE_TABLES`),
    or None if the workbook has none (one built before they were looked up)."""
    tables = {section: book.defined_range(f"{section}_table") for section in L.PRICE_TABLES}
    if any(t is None for t in tables.values()):
        return None
    found: dict[str, list[Any]] = {}
    for section, columns in L.PRICE_TABLES.items():
        sheet, (top, _left, bottom, _right) = tables[section]  # type: ignore[misc]
        letters = {f: col for f, (col, _label) in columns.items()}
        rows = _rows(book, _PRICE_MODELS[section], sheet, top, bottom, letters)
        found[section] = [entry for entry, _refs in rows]
    try:
        return Prices.model_validate(found)
    except ValidationError as e:  # a duplicate entry: the message names it
        where = f"{book.path.name} {L.CATALOG}"
        raise InputError(
            "prices", str(e.errors()[0]["msg"]).removeprefix("Value error, "), where=where
        ) from None


def _value(field: str, cell: CellValue) -> Any:
    """What the catalog model takes from a cell: Excel's date numbers as dates."""
    value = cell.value
    if field == "price_as_of" and isinstance(value, float) and 0 < value < 2_958_466:
        return EXCEL_EPOCH.date() + dt.timedelta(days=int(value))
    if field == "price_as_of" and isinstance(value, str) and value[10:11] == "T":
        return value[:10]  # a date cell written as date and time
    return value


def _rows(
    book: OpenWorkbook, model: type[M], sheet: str, top: int, bottom: int, columns: dict[str, str]
) -> Iterator[tuple[M, dict[str, CellRef]]]:
    """The non-blank rows ``top``..``bottom`` of a Catalog sheet table, each validated by
    ``model`` (field → column letter in ``columns``) as it is reached, with the cells it was
    read from."""
    refs = {
        (r, f): CellRef(sheet, f"{c}{r}")
        for r in range(top, bottom + 1)
        for f, c in columns.items()
    }
    cells = book.read(refs.values())
    for r in range(top, bottom + 1):
        row = {f: cells[refs[r, f]] for f in columns}
        if all(c.value is None and c.error is None for c in row.values()):
            continue
        at = {f: refs[r, f] for f in columns}
        yield _validated(book, model, row, at), at


def _validated(
    book: OpenWorkbook, model: type[M], row: dict[str, CellValue], refs: dict[str, CellRef]
) -> M:
    """One Catalog sheet row validated by ``model``; the first problem names its cell."""
    for field, cell in row.items():
        if cell.error is not None:
            where = f"{book.path.name} {refs[field]}"
            raise InputError(field, f"holds the error {cell.error}", where=where)
    try:
        return model.model_validate({f: _value(f, c) for f, c in row.items()})
    except ValidationError as e:
        err = e.errors()[0]
        if not err["loc"]:  # a rule of the whole row: named at its first cell
            field = next(iter(row))
            reason = str(err["msg"]).removeprefix("Value error, ")
            where = f"{book.path.name} {refs[field]}"
            raise InputError(field, reason, where=where) from None
        field = str(err["loc"][0])
        got = row[field].value
        reason = describe(err)
        where = f"{book.path.name} {refs[field]}"
        raise InputError(
            field, reason, None if reason == "required" else got, where=where
        ) from None
