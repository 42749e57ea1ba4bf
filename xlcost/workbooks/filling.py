"""Filling a workbook losslessly: a template prepared once, then filled many times.

:class:`TemplateFiller` splices values into the cached sheet text of an
:class:`~xlcost.workbooks.opened.OpenWorkbook` and writes the package with every other member
copied raw (:mod:`xlcost.workbooks.zipwrite`), atomically.  What it guarantees:

* every member other than the edited sheet parts, ``xl/workbook.xml`` (only
  ``fullCalcOnLoad="1"`` in ``<calcPr>``) and, when formulas are removed, ``xl/calcChain.xml``
  is byte-identical to the template's;
* the edited sheet XML changes only inside the target ``<c>`` elements (plus ``spans`` and the
  ``<dimension>``); it is checked to be well-formed and re-read with an independent parser
  (:mod:`xlcost.workbooks.verify`), so a corrupt part is never written.

Limitations
-----------
* A cell that is the master of a shared formula (``<f t="shared" ref=..>``) covering other
  cells, or that belongs to a multi-cell array formula, is refused with
  :class:`~xlcost.workbooks.cells.WorkbookError` (its dependents would be corrupted).
* Text is always written as an inline string (``t="inlineStr"``), never as a formula.
  Characters that XML 1.0 cannot carry (control characters, U+FFFE/U+FFFF) are written with
  Excel's own ``_xHHHH_`` escape, which Excel and the reader decode; lone surrogates are refused.
* Numbers are written with ``repr(float)`` (exact round trip); NaN and infinities are refused.
* When a formula is removed from a cell listed in ``xl/calcChain.xml``, its entry is removed
  from the calculation chain too (otherwise Excel reports the file as damaged).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from xlcost._files import OutputError, atomic_write
from xlcost.workbooks.cells import CellRef, Value, WorkbookError, cell_rc, check_value
from xlcost.workbooks.names import Sheet
from xlcost.workbooks.opened import OpenWorkbook, open_workbook
from xlcost.workbooks.safety import WORKBOOK, parse_check, parse_xml
from xlcost.workbooks.sheetedit import edit_calc_chain, edit_sheet, edit_workbook, splice_cells
from xlcost.workbooks.sheetscan import SheetScan, scan_sheet
from xlcost.workbooks.verify import verify_sheet
from xlcost.workbooks.zipwrite import write_zip

__all__ = ["CALC_CHAIN", "TemplateFiller", "check_dst", "fill_package"]

CALC_CHAIN = "xl/calcChain.xml"
_Targets = dict[tuple[int, int], tuple[CellRef, Value]]
"""The cells to set in one part: (row, column) → (the cell, its value)."""


def check_dst(src: Path, dst: Path, overwrite: bool) -> None:
    """Refuse an output that is the input, exists (without ``overwrite``) or changes type."""
    try:
        same = src.resolve() == dst.resolve() or (dst.exists() and os.path.samefile(src, dst))
    except OSError:
        same = False
    if same:
        raise WorkbookError(f"{dst.name}: output would overwrite the input file")
    if dst.exists() and not overwrite:
        raise WorkbookError(f"{dst.name}: exists; use --force")
    if src.suffix.lower() != dst.suffix.lower():
        raise WorkbookError(
            f"{dst.name}: output must have the same extension as {src.name} ({src.suffix})"
        )


@dataclass
class _Part:
    """A sheet part to edit: its text, the scan of its target rows, and its sheet."""

    sheet: Sheet
    xml: str
    scan: SheetScan
    present: frozenset[tuple[int, int]]  # the cells of the target rows
    # existing cells replaced in a fill whose whole sheet was parsed, re-read and compared
    verified: set[tuple[int, int]] = field(default_factory=set)


class TemplateFiller:
    """A template prepared once, then filled many times (the fast path of :func:`fill_package`).

    The package is checked, ``xl/workbook.xml`` edited and the sheets holding ``cells`` are
    read and scanned once; each :meth:`fill` then only splices the new cell values into the
    cached sheet text, checks it and writes the package (raw copies of the other members,
    from the template's bytes read once if it is at most 8 MiB).
    Every edited sheet is checked to be well-formed XML, re-read and every target cell
    compared with its value; except that a fill which only replaces existing cells that
    earlier fills have replaced (and so checked) splices at the same, verified positions:
    only the new cell elements are checked to be well-formed then (the rest of the sheet's
    text is the template's), and the slower re-read is skipped.

    Parameters
    ----------
    src : Path
        The template workbook (``.xlsx``/``.xlsm``); never modified.
    cells : iterable of CellRef
        Every cell that a later :meth:`fill` may set.

    Raises
    ------
    WorkbookError
        Unsafe or damaged ``src``, unknown sheet, invalid reference, a cell on a
        sheet that is not a worksheet.

    Examples
    --------
    One template, many outputs::

        filler = TemplateFiller(template, [CellRef("Inputs", "C3")])
        for i in range(3):
            filler.fill(out / f"q{i}.xlsx", {CellRef("Inputs", "C3"): i})
    """

    def __init__(self, src: Path | OpenWorkbook, cells: Iterable[CellRef]) -> None:
        book = open_workbook(src)
        self.book = book
        self.src = src = book.path
        name = src.name
        self._cells: dict[CellRef, tuple[str, tuple[int, int]]] = {}
        rows: dict[str, set[int]] = {}
        by_part: dict[str, Sheet] = {}
        for ref in cells:
            part = book.worksheet_part(ref)
            rc = cell_rc(ref, src)
            self._cells[ref] = (part, rc)
            rows.setdefault(part, set()).add(rc[0])
            by_part[part] = book.sheet(ref.sheet)
        self._parts: dict[str, _Part] = {}
        for part, target_rows in rows.items():
            xml = book.text(part)
            scan = scan_sheet(xml, target_rows, f"{name}: {part}")
            present = frozenset((row.row, c.col) for row in scan.rows for c in row.cells)
            self._parts[part] = _Part(by_part[part], xml, scan, present)
        self._workbook = self._edited_workbook()
        self._chain: str | None = None
        if book.has_part(CALC_CHAIN):
            chain_raw = book.part(CALC_CHAIN)
            parse_xml(chain_raw, CALC_CHAIN, src)
            self._chain = chain_raw.decode("utf-8")

    def _edited_workbook(self) -> bytes | None:
        """``xl/workbook.xml`` with ``fullCalcOnLoad`` set, or None if it is set already."""
        book = self.book
        wb_raw = book.part(WORKBOOK)
        _ = book.workbook  # parsed (DTDs refused) before it is edited
        wb_new = edit_workbook(wb_raw.decode("utf-8"), f"{self.src.name}: {WORKBOOK}").encode()
        if wb_new == wb_raw:
            return None
        parse_xml(wb_new, WORKBOOK, self.src)
        return wb_new

    def fill(
        self,
        dst: Path,
        values: Mapping[CellRef, Value],
        *,
        cached: Mapping[CellRef, Value] | None = None,
        overwrite: bool = False,
        sync: bool = True,
    ) -> None:
        """Write ``dst``: the template with ``values`` set (see :func:`fill_package`).

        Parameters
        ----------
        dst : Path
            The output file; same extension as the template.
        values : mapping of CellRef to float, int, str, bool or None
            Values of cells given when the filler was made (a subset is fine); a
            formula in such a cell is replaced by the value.
        cached : mapping of CellRef to float, int, str, bool or None, optional
            Cells that hold formulas, each with its new cached result (what readers that
            do not calculate show); the formulas are kept.
        overwrite : bool
            Replace an existing ``dst``.
        sync : bool
            fsync ``dst`` and its folder now; a batch passes ``False`` and syncs all its
            outputs once (:func:`xlcost._files.sync_files`) before it reports success.

        Raises
        ------
        WorkbookError
            As :func:`fill_package`; also a cell not given when the filler was made, and
            a ``cached`` cell without a formula.
        """
        if self.book.on_disk:
            check_dst(self.src, dst, overwrite)
        per_part, keep = self._targets(values, cached or {})
        replaced: dict[str, bytes] = {}
        removed: set[tuple[str, int, int]] = set()
        for part, targets in per_part.items():
            replaced[part], gone = self._edited(part, targets, frozenset(keep.get(part, ())))
            removed |= {(self._parts[part].sheet.sheet_id, r, c) for r, c in gone}
        if self._workbook is not None:
            replaced[WORKBOOK] = self._workbook
        chain = self._edited_chain(removed)
        if chain is not None:
            replaced[CALC_CHAIN] = chain

        def write(out: IO[bytes]) -> None:
            with self.book.open_source() as src_fh:
                write_zip(src_fh, self.book.infos, self.book.comment, out, replaced)

        _atomic_write(dst, write, overwrite, sync)

    def _targets(
        self, values: Mapping[CellRef, Value], cached: Mapping[CellRef, Value]
    ) -> tuple[dict[str, _Targets], dict[str, set[tuple[int, int]]]]:
        """The cells to set by part, and by part the cells whose formula stays (``cached``)."""
        name = self.src.name
        per_part: dict[str, _Targets] = {}
        keep: dict[str, set[tuple[int, int]]] = {}
        items = [(r, v, False) for r, v in values.items()]
        items += [(r, v, True) for r, v in cached.items()]
        for ref, value, is_cached in items:
            if type(value) is not float or not math.isfinite(value):  # the common case, fast
                check_value(value, ref, name)
            where = self._cells.get(ref)
            if where is None:
                raise WorkbookError(f"{name}: {ref} was not prepared for filling")
            part, rc = where
            bucket = per_part.setdefault(part, {})
            if rc in bucket:
                raise WorkbookError(f"{name}: {ref} given twice (as {bucket[rc][0]})")
            bucket[rc] = (ref, value)
            if is_cached:
                keep.setdefault(part, set()).add(rc)
        return per_part, keep

    def _edited(
        self, part: str, targets: _Targets, formulas: frozenset[tuple[int, int]]
    ) -> tuple[bytes, set[tuple[int, int]]]:
        """One sheet part with the targets spliced in and checked, and the cells whose
        formula went."""
        info = self._parts[part]
        src = self.src
        verified = info.verified.issuperset(targets)
        cells: str | None
        fast = splice_cells(info.xml, info.scan, targets, formulas) if verified else None
        if fast is not None:
            new_xml, cells = fast
            gone: set[tuple[int, int]] = set()
        else:
            err = f"{src.name}: {part}"
            new_xml, gone, cells = edit_sheet(info.xml, info.scan, targets, err, formulas)
        data = new_xml.encode("utf-8")
        if cells is not None and verified:
            # Whole <c> elements replaced at positions already checked and verified:
            # the rest of the text is as it was, so checking the new elements suffices.
            parse_check(f"<c>{cells}</c>".encode(), part, src)
        else:
            parse_check(data, part, src)
            verify_sheet(data, targets, part, src, formulas)
            if info.present.issuperset(targets):
                info.verified.update(targets)
        return data, gone

    def _edited_chain(self, removed: set[tuple[str, int, int]]) -> bytes | None:
        """The calculation chain without the cells whose formula went, or None if unchanged."""
        if not removed or self._chain is None:
            return None
        chain_new = edit_calc_chain(self._chain, removed, f"{self.src.name}: {CALC_CHAIN}")
        if chain_new is None:
            # An empty <calcChain> is invalid and dropping the part would mean
            # editing [Content_Types].xml and the workbook rels: refuse instead.
            raise WorkbookError(
                f"{self.src.name}: filling would remove every formula of the workbook's "
                "calculation chain; not supported"
            )
        return None if chain_new == self._chain else chain_new.encode("utf-8")


def fill_package(
    src: Path,
    dst: Path,
    values: Mapping[CellRef, float | int | str | bool | None],
    *,
    overwrite: bool = False,
) -> None:
    """Copy ``src`` to ``dst`` with the given cells set, losslessly.

    Parameters
    ----------
    src : Path
        The template workbook (``.xlsx``/``.xlsm``); never modified.
    dst : Path
        The output file; must have the same extension as ``src``.
    values : mapping of CellRef to float, int, str, bool or None
        Cell values.  Numbers are written as ``<v>``, text always as an
        inline string (never a formula, even if it starts with ``=``), bools
        as ``t="b"``; None empties the cell (its style is kept).  Any formula
        and cached value of a target cell is removed.
    overwrite : bool
        Replace an existing ``dst``.

    Raises
    ------
    WorkbookError
        Unsafe or damaged ``src``, ``dst`` exists (without ``overwrite``) or is
        ``src``, unknown sheet, invalid reference or value, shared/array
        formula masters (see module notes), write errors.  On error no
        ``dst`` (and no temporary file) is left behind.

    Notes
    -----
    Every member other than the edited sheet parts, ``xl/workbook.xml`` (only
    ``fullCalcOnLoad="1"`` is set in ``<calcPr>``) and, when formulas are
    removed, ``xl/calcChain.xml`` is copied as raw compressed bytes in the
    same order.  The output is written to a temporary file in ``dst``'s
    directory, fsynced and moved into place atomically.  To fill one template
    many times, make a :class:`TemplateFiller` once.
    """
    check_dst(src, dst, overwrite)
    TemplateFiller(src, values.keys()).fill(dst, values, overwrite=overwrite)


def _atomic_write(
    dst: Path, write: Callable[[IO[bytes]], object], overwrite: bool, sync: bool = True
) -> None:
    """:func:`xlcost._files.atomic_write`, its problems as :class:`WorkbookError`."""
    try:
        atomic_write(dst, write, overwrite=overwrite, sync=sync)
    except OutputError as exc:
        raise WorkbookError(str(exc)) from None
