"""Editing a part's XML text by splicing: cells of a sheet, ``<calcPr>``, the calculation chain.

:func:`edit_sheet` writes values into the cells found by
:func:`~xlcost.workbooks.sheetscan.scan_sheet` (creating cells and rows where needed, widening
``spans`` and the ``<dimension>``) and changes nothing else of the text; :func:`edit_workbook`
sets ``fullCalcOnLoad``; :func:`edit_calc_chain` drops the entries of cells whose formula was
removed.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from functools import lru_cache

from xlcost.workbooks.cells import (
    CellRef,
    Value,
    WorkbookError,
    a1,
    escape_text,
    number_text,
    parse_a1,
    parse_range,
)
from xlcost.workbooks.sheetscan import CellPos, SheetScan
from xlcost.workbooks.xmlscan import attr, tags
from xlcost.workbooks.xmlscan import attrs as attr_items

__all__ = [
    "apply_edits",
    "cell_xml",
    "edit_calc_chain",
    "edit_sheet",
    "edit_workbook",
    "splice_cells",
]


def cell_xml(
    p: str, row: int, col: int, old_attrs: str | None, value: Value, formula: str = ""
) -> str:
    """Markup of a cell holding ``value``, keeping the other attributes of the old cell.

    With ``formula`` (the old cell's ``<f>`` element) the cell keeps its formula and
    ``value`` becomes the formula's cached result.
    """
    kind, payload = _payload(value, bool(formula))
    head, tail = _cell_form(p, row, col, old_attrs or "", kind, formula)
    return head + payload + tail


def _payload(value: Value, formula: bool) -> tuple[str, str]:
    """How a value is written (``t`` attribute, or "" for a number, "-" for blank) and its text."""
    if isinstance(value, float) or (isinstance(value, int) and not isinstance(value, bool)):
        return "", number_text(value)
    if value is None:
        return "-", ""
    if isinstance(value, bool):
        return "b", "1" if value else "0"
    return ("str" if formula else "inlineStr"), escape_text(value)


@lru_cache(maxsize=2**16)
def _cell_form(
    p: str, row: int, col: int, old_attrs: str, kind: str, formula: str
) -> tuple[str, str]:
    """The markup around a rewritten cell's value text (memoised: a template's cells are
    filled again and again with values of the same few kinds)."""
    t_val = kind if kind not in ("", "-") else None
    attrs = _new_cell_attrs(old_attrs, row, col, t_val, bool(formula))
    if kind == "-":
        return (f"<{p}c{attrs}>{formula}", f"</{p}c>") if formula else (f"<{p}c{attrs}/>", "")
    if kind == "inlineStr":
        head = f'<{p}c{attrs}>{formula}<{p}is><{p}t xml:space="preserve">'
        return head, f"</{p}t></{p}is></{p}c>"
    return f"<{p}c{attrs}>{formula}<{p}v>", f"</{p}v></{p}c>"


def _new_cell_attrs(old_attrs: str, row: int, col: int, t_val: str | None, formula: bool) -> str:
    """The attributes of a rewritten cell: ``r`` set, ``t`` as the new value needs, value and
    cell metadata of the old content dropped."""
    parts: list[str] = []
    has_r = has_t = False
    for ws, key, eq, val in attr_items(old_attrs):
        if key == "r":
            has_r = True
            parts.append(f'{ws}r{eq}"{a1(row, col)}"')
        elif key == "t":
            has_t = True
            if t_val is not None:
                parts.append(f'{ws}t{eq}"{t_val}"')
        elif key == "vm" or (key == "cm" and not formula):
            continue  # value metadata / cell metadata of the old content
        else:
            parts.append(ws + key + eq + val)
    if not has_r:
        parts.insert(0, f' r="{a1(row, col)}"')
    if t_val is not None and not has_t:
        parts.append(f' t="{t_val}"')
    return "".join(parts)


def _new_spans(attrs: str, cols: list[int]) -> str:
    """Row start-tag attributes with ``spans`` widened to cover ``cols``."""
    out = []
    for ws, key, eq, val in attr_items(attrs):
        if key == "spans":
            m = re.fullmatch(r"(\d+):(\d+)", val[1:-1].strip())
            if not m:
                continue  # multi-range spans: drop the (optional) hint
            lo = min(int(m.group(1)), *cols)
            hi = max(int(m.group(2)), *cols)
            out.append(f'{ws}spans{eq}"{lo}:{hi}"')
        else:
            out.append(ws + key + eq + val)
    return "".join(out)


def edit_sheet(
    xml: str,
    scan: SheetScan,
    targets: dict[tuple[int, int], tuple[CellRef, Value]],
    err: str,
    cached: frozenset[tuple[int, int]] = frozenset(),
) -> tuple[str, set[tuple[int, int]], str | None]:
    """Splice the target cells into a sheet's XML text.

    ``scan`` is :func:`~xlcost.workbooks.sheetscan.scan_sheet` of ``xml`` over (at least) the
    target rows; the targets in ``cached`` keep their formula and get the value as its cached
    result.
    Returns the new text, the cells whose formula was removed and, if the edit only
    replaced existing ``<c>`` elements (no cell, row or dimension changed otherwise), the
    new ``<c>`` elements (else None).
    """
    p = f"{scan.prefix}:" if scan.prefix else ""
    edits: list[tuple[int, int, str]] = []
    removed_formulas: set[tuple[int, int]] = set()

    for (r, c), (ref, _v) in targets.items() if scan.arrays else ():
        for r1, c1, r2, c2, mr, mc in scan.arrays:
            if r1 <= r <= r2 and c1 <= c <= c2:
                raise WorkbookError(
                    f"{err}: {ref} is part of the array formula at {a1(mr, mc)} "
                    f"({a1(r1, c1)}:{a1(r2, c2)}); refusing to overwrite it"
                )

    rows_by_no = {row.row: row for row in scan.rows}
    any_rowless = any(not row.has_r for row in scan.rows)
    new_rows: dict[int, list[tuple[int, str]]] = {}  # insert position -> (row, xml)
    by_row: dict[int, dict[int, Value]] = {}
    cells_only: str | None = None
    if scan.cells.keys() >= targets.keys():
        # Only existing cells are replaced (a template filled again): no rows, spans or
        # positions to work out.
        for rc in sorted(targets):
            old = scan.cells[rc]
            ref, v = targets[rc]
            text, gone = _replacement(xml, p, old, rc, ref, v, rc in cached, err)
            edits.append((old.start, old.end, text))
            if gone:
                removed_formulas.add(rc)
        cells_only = "".join(text for _start, _end, text in edits)
    else:
        for (r, c), (_ref, v) in targets.items():
            by_row.setdefault(r, {})[c] = v

    for r in sorted(by_row):
        wanted = by_row[r]
        row = rows_by_no.get(r)
        if row is None:
            cells = "".join(
                cell_xml(p, r, c, None, v) for c, v in sorted(wanted.items()) if v is not None
            )
            if not cells:
                continue
            row_xml = f'<{p}row r="{r}">{cells}</{p}row>'
            pos = next((rw.start for rw in scan.rows if rw.row > r), scan.data_content_end)
            new_rows.setdefault(pos, []).append((r, row_xml))
            continue
        existing = row.by_col
        inserts: dict[int, list[tuple[int, str]]] = {}
        added_cols: list[int] = []
        for c, v in sorted(wanted.items()):
            cell = existing.get(c)
            if cell is None and (r, c) in cached:
                ref = targets[(r, c)][0]
                raise WorkbookError(f"{err}: {ref} holds no formula to set the result of")
            if cell is not None:
                ref = targets[(r, c)][0]
                text, gone = _replacement(xml, p, cell, (r, c), ref, v, (r, c) in cached, err)
                edits.append((cell.start, cell.end, text))
                if gone:
                    removed_formulas.add((r, c))
            elif v is not None:
                pos = next((cl.start for cl in row.cells if cl.col > c), row.content_end)
                inserts.setdefault(pos, []).append((c, cell_xml(p, r, c, None, v)))
                added_cols.append(c)
        for pos, items in inserts.items():
            edits.append((pos, pos, "".join(x for _, x in sorted(items))))
        if added_cols and any(not cl.has_r for cl in row.cells):
            replaced = {cell.col for cell in row.cells if cell.col in wanted}
            for cl in row.cells:
                if not cl.has_r and cl.col not in replaced:
                    edits.append((cl.name_end, cl.name_end, f' r="{a1(r, cl.col)}"'))
        if added_cols:
            attrs = _new_spans(row.attrs, added_cols)
            if not row.has_r:
                attrs = f' r="{r}"' + attrs
            if row.empty:
                # <row .../> becomes <row ...> + cells + </row>
                cells = "".join(x for items in inserts.values() for _, x in sorted(items))
                edits = [e for e in edits if not (e[0] == e[1] == row.content_end)]
                edits.append((row.start, row.end, f"<{p}row{attrs}>{cells}</{p}row>"))
            elif attrs != row.attrs:
                edits.append((row.start, row.tag_end, f"<{p}row{attrs}>"))

    if new_rows:
        if any_rowless:
            for rw in scan.rows:
                if not rw.has_r and not any(e[0] == rw.start for e in edits):
                    edits.append((rw.name_end, rw.name_end, f' r="{rw.row}"'))
        if scan.data_empty:
            rows_xml = "".join(x for items in new_rows.values() for _, x in sorted(items))
            edits.append(
                (
                    scan.data_start,
                    scan.data_tag_end,
                    _open_tag(xml, scan) + rows_xml + f"</{p}sheetData>",
                )
            )
        else:
            for pos, items in new_rows.items():
                edits.append((pos, pos, "".join(x for _, x in sorted(items))))

    # dimension
    if scan.dim is not None:
        dim_ref = attr(scan.dim.attrs, "ref")
        rng = parse_range(dim_ref or "")
        created = [(r, c) for (r, c), (_ref, v) in targets.items() if v is not None]
        if rng is not None and created:
            r1 = min(rng[0], *(r for r, _ in created))
            c1 = min(rng[1], *(c for _, c in created))
            r2 = max(rng[2], *(r for r, _ in created))
            c2 = max(rng[3], *(c for _, c in created))
            if (r1, c1, r2, c2) != rng:
                new_ref = a1(r1, c1) + (":" + a1(r2, c2) if (r1, c1) != (r2, c2) else "")
                tag_text = xml[scan.dim.start : scan.dim.end]
                new_tag = re.sub(
                    r"(\sref\s*=\s*)([\"'])[^\"']*\2",
                    lambda m: f"{m.group(1)}{m.group(2)}{new_ref}{m.group(2)}",
                    tag_text,
                    count=1,
                )
                edits.append((scan.dim.start, scan.dim.end, new_tag))
                cells_only = None

    return apply_edits(xml, edits, err), removed_formulas, cells_only


def splice_cells(
    xml: str,
    scan: SheetScan,
    targets: dict[tuple[int, int], tuple[CellRef, Value]],
    cached: frozenset[tuple[int, int]] = frozenset(),
) -> tuple[str, str] | None:
    """:func:`edit_sheet`'s common case, fast: only existing cells replaced, each keeping its
    formula exactly when it is in ``cached``, no array formulas, the ``<dimension>`` unchanged.

    Returns the new text and the new ``<c>`` elements, or None when :func:`edit_sheet` must
    do the edit (it also reports what this case cannot have: formulas removed, rows added).
    """
    if scan.arrays or not _inside_dimension(scan, targets):
        return None
    p = f"{scan.prefix}:" if scan.prefix else ""
    cells = scan.cells
    order = []
    for rc, (_ref, value) in targets.items():
        cell = cells.get(rc)
        if cell is None or (cell.f_attrs is not None) is not (rc in cached):
            return None
        order.append((cell.start, rc, cell, value))
    order.sort(key=lambda item: item[0])
    out: list[str] = []
    new: list[str] = []
    pos = 0
    for start, (row, col), cell, value in order:
        formula = xml[cell.f_start : cell.f_end] if cell.f_attrs is not None else ""
        kind, payload = _payload(value, bool(formula))
        head, tail = _cell_form(p, row, col, cell.attrs, kind, formula)
        markup = head + payload + tail
        out += (xml[pos:start], markup)
        new.append(markup)
        pos = cell.end
    out.append(xml[pos:])
    return "".join(out), "".join(new)


def _inside_dimension(scan: SheetScan, targets: Mapping[tuple[int, int], object]) -> bool:
    """True if the sheet has no ``<dimension>`` or every target lies inside its range."""
    if scan.dim is None:
        return True
    rng = parse_range(attr(scan.dim.attrs, "ref") or "")
    if rng is None:
        return True  # edit_sheet leaves an unreadable range alone too
    r1, c1, r2, c2 = rng
    return all(r1 <= r <= r2 and c1 <= c <= c2 for r, c in targets)


def _replacement(
    xml: str,
    p: str,
    cell: CellPos,
    rc: tuple[int, int],
    ref: CellRef,
    value: Value,
    keep_formula: bool,
    err: str,
) -> tuple[str, bool]:
    """The markup replacing an existing ``cell`` of ``xml``, and whether its formula goes.

    With ``keep_formula`` the cell must hold a formula and ``value`` becomes its cached result;
    otherwise a formula is removed (refused for the master of a shared formula's range).
    """
    r, c = rc
    if keep_formula:
        if cell.f_attrs is None:
            raise WorkbookError(f"{err}: {ref} holds no formula to set the result of")
        return cell_xml(p, r, c, cell.attrs, value, xml[cell.f_start : cell.f_end]), False
    if cell.f_attrs is None:
        return cell_xml(p, r, c, cell.attrs, value), False
    if attr(cell.f_attrs, "t") == "shared":
        rng = parse_range(attr(cell.f_attrs, "ref") or "")
        if rng is not None and rng[:2] != rng[2:]:
            raise WorkbookError(
                f"{err}: {ref} is the master cell of a shared formula "
                f"({attr(cell.f_attrs, 'ref')}); refusing to overwrite it"
            )
    return cell_xml(p, r, c, cell.attrs, value), True


def _open_tag(xml: str, scan: SheetScan) -> str:
    """``<sheetData ...>`` from a self-closing ``<sheetData .../>``."""
    text = xml[scan.data_start : scan.data_tag_end]
    return re.sub(r"\s*/>$", ">", text)


def apply_edits(xml: str, edits: list[tuple[int, int, str]], err: str) -> str:
    edits.sort(key=lambda e: (e[0], e[1]))
    for (_s1, e1, _t1), (s2, _e2, _t2) in itertools.pairwise(edits):
        if s2 < e1:
            raise WorkbookError(f"{err}: overlapping edits (duplicate cell?)")
    out: list[str] = []
    pos = 0
    for start, end, text in edits:
        out.append(xml[pos:start])
        out.append(text)
        pos = end
    out.append(xml[pos:])
    return "".join(out)


_CALC_AFTER = (
    "oleSize",
    "customWorkbookViews",
    "pivotCaches",
    "smartTagPr",
    "smartTagTypes",
    "webPublishing",
    "fileRecoveryPr",
    "webPublishObjects",
    "extLst",
)


def edit_workbook(xml: str, err: str) -> str:
    """Set ``fullCalcOnLoad="1"`` in ``<calcPr>`` (adding the element if needed)."""
    prefix: str | None = None
    for tag in tags(xml, err):
        if tag.name == "workbook" and not tag.closing and prefix is None:
            prefix = tag.prefix or ""
            continue
        if prefix is None or (tag.prefix or "") != prefix:
            continue
        if tag.name == "calcPr" and not tag.closing:
            val = attr(tag.attrs, "fullCalcOnLoad")
            if val in ("1", "true"):
                return xml
            text = xml[tag.start : tag.end]
            if val is not None:
                new = re.sub(r"(\sfullCalcOnLoad\s*=\s*)([\"'])[^\"']*\2", r'\1"1"', text, count=1)
            else:
                m = re.search(r"\s*/?>$", text)
                assert m is not None
                new = text[: m.start()] + ' fullCalcOnLoad="1"' + text[m.start() :]
            return xml[: tag.start] + new + xml[tag.end :]
        if (tag.name in _CALC_AFTER and not tag.closing) or (
            tag.name == "workbook" and tag.closing
        ):
            p = f"{prefix}:" if prefix else ""
            return xml[: tag.start] + f'<{p}calcPr fullCalcOnLoad="1"/>' + xml[tag.start :]
    raise WorkbookError(f"{err}: damaged XML (no <workbook> element)")


def edit_calc_chain(
    xml: str, removed: set[tuple[str, int, int]], err: str = "xl/calcChain.xml"
) -> str | None:
    """Drop calc-chain entries of cells whose formula was removed.

    Returns the new text, or None if the chain would become empty.
    """
    edits: list[tuple[int, int, str]] = []
    current = ""
    kept = 0
    pending_i: str | None = None  # sheet id to restate on the next kept entry
    for tag in tags(xml, err):
        if tag.name != "c" or tag.closing:
            continue
        i = attr(tag.attrs, "i")
        if i is not None:
            current = i
        rc = parse_a1(attr(tag.attrs, "r") or "")
        if rc is not None and (current, *rc) in removed:
            edits.append((tag.start, tag.end, ""))
            if i is not None:
                pending_i = current
            continue
        kept += 1
        if pending_i is not None and i is None:
            name_end = tag.start + 1 + len(tag.name) + (len(tag.prefix) + 1 if tag.prefix else 0)
            edits.append((name_end, name_end, f' i="{current}"'))
        pending_i = None
    if not edits:
        return xml
    if kept == 0:
        return None
    return apply_edits(xml, edits, err)
