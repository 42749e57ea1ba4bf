"""Scanning a worksheet's XML text: where its rows and cells are, and what the cells hold.

:func:`scan_sheet` runs the tag scanner (:mod:`xlcost.workbooks.xmlscan`) once over a sheet
part and records, for the rows asked for, every cell's span in the text, its formula and its
value; array formulas anywhere on the sheet are recorded too (a cell inside one must not be
overwritten).  The editor splices at these positions; :func:`raw_cell` reads a cell's content
from them.  Text runs of inline and shared strings are read by :func:`rich_text` and
:func:`shared_strings` with the same scanner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from xlcost.workbooks.cells import WorkbookError, a1, parse_a1, parse_range
from xlcost.workbooks.xmlscan import Tag, attr, attrs, tags, xml_text, xml_unquote

__all__ = [
    "CellPos",
    "RawCell",
    "RowPos",
    "SheetScan",
    "element_cell",
    "locate_cells",
    "raw_cell",
    "rich_text",
    "scan_sheet",
    "shared_strings",
]


@dataclass
class RawCell:
    """A cell's content as the XML holds it (type attribute, value text, formula, inline text)."""

    t: str = "n"
    v: str | None = None
    f: str | None = None
    f_attrs: dict[str, str] = field(default_factory=dict)
    inline: str | None = None


@dataclass
class CellPos:
    """Where one ``<c>`` element is in the text, and where its parts are."""

    col: int
    start: int
    tag_end: int  # end of the start tag
    end: int  # end of the element
    name_end: int  # position right after "<c" (to add an r attribute)
    attrs: str
    has_r: bool
    f_attrs: str | None = None
    f_start: int = 0  # the <f> element, start and end
    f_end: int = 0


@dataclass
class RowPos:
    """Where one ``<row>`` element is in the text, with its scanned cells."""

    row: int
    start: int
    tag_end: int
    end: int
    name_end: int
    attrs: str
    has_r: bool
    empty: bool
    content_end: int = 0  # position of "</row>"
    cells: list[CellPos] = field(default_factory=list)

    @cached_property
    def by_col(self) -> dict[int, CellPos]:
        """The cells by column (made when first needed: the scan is complete by then)."""
        return {cell.col: cell for cell in self.cells}


@dataclass
class SheetScan:
    """The scan of one sheet part (see :func:`scan_sheet`)."""

    prefix: str | None
    dim: Tag | None
    data_start: int
    data_tag_end: int
    data_empty: bool
    data_content_end: int
    rows: list[RowPos]
    arrays: list[tuple[int, int, int, int, int, int]]  # r1, c1, r2, c2, master row, master col

    @cached_property
    def cells(self) -> dict[tuple[int, int], CellPos]:
        """The scanned cells by (row, column) (made when first needed, after the scan)."""
        return {(row.row, col): cell for row in self.rows for col, cell in row.by_col.items()}


def _name_end(tag: Tag) -> int:
    return tag.start + 1 + len(tag.name) + (len(tag.prefix) + 1 if tag.prefix else 0)


class _Scanner:
    """The state of one :func:`scan_sheet` pass over the ``<sheetData>`` of a sheet."""

    def __init__(self, scan: SheetScan, target_rows: set[int]) -> None:
        self.scan = scan
        self.target_rows = target_rows
        self.row_no = 0
        self.col = 0
        self.row: RowPos | None = None
        self.cell: CellPos | None = None
        self.in_cell = False

    def row_tag(self, tag: Tag) -> None:
        if tag.closing:
            if self.row is not None:
                self.row.end = tag.end
                self.row.content_end = tag.start
            self.row = None
            return
        r = attr(tag.attrs, "r")
        self.row_no = int(r) if r and r.isdigit() else self.row_no + 1
        self.col = 0
        row = RowPos(
            self.row_no,
            tag.start,
            tag.end,
            tag.end,
            _name_end(tag),
            tag.attrs,
            r is not None,
            tag.empty,
            tag.end,
        )
        self.scan.rows.append(row)
        self.row = None if tag.empty else row

    def cell_tag(self, tag: Tag) -> None:
        if tag.closing:
            if self.cell is not None:
                self.cell.end = tag.end
            self.cell = None
            self.in_cell = False
            return
        self.in_cell = not tag.empty
        self.cell = None
        assert self.row is not None
        if self.row.row not in self.target_rows:
            return  # only array formulas matter in the other rows
        r = attr(tag.attrs, "r")
        rc = parse_a1(r) if r else None
        self.col = rc[1] if rc else self.col + 1
        cell = CellPos(
            self.col, tag.start, tag.end, tag.end, _name_end(tag), tag.attrs, r is not None
        )
        self.row.cells.append(cell)
        self.cell = None if tag.empty else cell

    def formula_tag(self, tag: Tag) -> None:
        cell = self.cell
        if tag.closing:
            if cell is not None:
                cell.f_end = tag.end
            return
        if cell is not None:
            cell.f_attrs = tag.attrs
            cell.f_start, cell.f_end = tag.start, tag.end
        if "array" in tag.attrs and attr(tag.attrs, "t") == "array":
            rng = parse_range(attr(tag.attrs, "ref") or "")
            if rng is not None and rng[:2] != rng[2:]:
                self.scan.arrays.append((*rng, rng[0], rng[1]))  # master = top-left


def scan_sheet(xml: str, target_rows: set[int], err: str, *, complete: bool = True) -> SheetScan:
    """Scan a sheet part: its ``<dimension>``, ``<sheetData>``, every row, and the cells of
    ``target_rows`` (plus every multi-cell array formula).

    With ``complete=False`` (reading, not editing) the scan stops at the first row after the
    last target row: the rows and array formulas beyond it are not recorded.

    Raises
    ------
    WorkbookError
        No ``<sheetData>`` or no ``</sheetData>``, or damaged XML (see
        :func:`~xlcost.workbooks.xmlscan.tags`).
    """
    prefix: str | None = None
    dim: Tag | None = None
    it = tags(xml, err)
    data: Tag | None = None
    for tag in it:
        if tag.name == "dimension" and not tag.closing:
            dim = tag
        elif tag.name == "sheetData" and not tag.closing:
            data = tag
            prefix = tag.prefix
            break
    if data is None:
        raise WorkbookError(f"{err}: no <sheetData>")
    scan = SheetScan(prefix, dim, data.start, data.end, data.empty, data.start, [], [])
    if dim is not None and dim.prefix != prefix:
        scan.dim = None
    if data.empty:
        return scan
    state = _Scanner(scan, target_rows)
    last = max(target_rows, default=0) if not complete else None
    for tag in it:
        if tag.prefix != prefix:
            continue
        name = tag.name
        if name == "sheetData" and tag.closing:
            scan.data_content_end = tag.start
            return scan
        if name == "row":
            state.row_tag(tag)
            if last is not None and state.row_no > last:
                return scan
        elif name == "c" and state.row is not None:
            state.cell_tag(tag)
        elif state.in_cell and name == "f":
            state.formula_tag(tag)
    raise WorkbookError(f"{err}: damaged XML (no </sheetData>)")


def raw_cell(xml: str, cell: CellPos | None, err: str) -> RawCell:
    """The content of a scanned cell (an empty :class:`RawCell` for a missing one)."""
    if cell is None:
        return RawCell()
    return element_cell(xml[cell.start : cell.end], err)


def rich_text(fragment: str, err: str) -> str:
    """The text of an ``<is>``/``<si>`` element's content: its ``<t>`` runs, no phonetics.

    >>> rich_text('<r><t>a</t></r><r><rPr/><t> b</t></r><rPh><t>x</t></rPh>', "t")
    'a b'
    """
    out: list[str] = []
    phonetic = 0
    start: int | None = None
    for tag in tags(fragment, err):
        if tag.name == "rPh" and not tag.empty:
            phonetic += -1 if tag.closing else 1
        elif tag.name == "t" and not phonetic:
            if tag.closing and start is not None:
                out.append(xml_text(fragment[start : tag.start]))
                start = None
            elif not tag.closing and not tag.empty:
                start = tag.end
    return "".join(out)


def shared_strings(xml: str, needed: set[int], err: str) -> dict[int, str]:
    """The shared strings of the given indexes (the scan stops after the last one needed)."""
    out: dict[int, str] = {}
    if not needed:
        return out
    last = max(needed)
    index = -1
    start = 0
    for tag in tags(xml, err):
        if tag.name != "si":
            continue
        if not tag.closing:
            index += 1
            if index > last:
                break
            if tag.empty and index in needed:
                out[index] = ""
            start = tag.end
        elif index in needed:
            out[index] = rich_text(xml[start : tag.start], err)
    return out


_CELL_WITHOUT_R = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?c(?=[\s/>])(?![^<>]*\sr\s*=)")
_MARKUP = re.compile(rb"<[!?]")
"""Comments, CDATA, DTDs (``<!``) and processing instructions (``<?``)."""
_SPACED_R = re.compile(rb"r(?:[ \t\r\n]+=|=[ \t\r\n])")
_R_ATTRS = (re.compile(rb'r="([A-Z]{1,3}[0-9]{1,7})"'), re.compile(rb"r='([A-Z]{1,3}[0-9]{1,7})'"))


def locate_cells(
    data: bytes, wanted: set[tuple[int, int]], err: str
) -> dict[tuple[int, int], str] | None:
    """The text of each wanted ``<c>`` element, found by its ``r`` attribute in one pass.

    The reading fast path: every writer of note (Excel, LibreOffice, openpyxl, XlsxWriter,
    xlcost) gives each ``<c>`` an ``r``, so a cell is found by its ``r="B7"`` and only its own
    element is decoded and scanned.  Returns None — use :func:`scan_sheet` — when that would
    not be exact: comments, CDATA, processing instructions or a DTD in the sheet, a reference
    found twice or not in a ``<c>`` start tag, or a wanted cell not found while some ``<c>``
    has no ``r``.  A cell absent from the sheet is left out of the result (it is blank).
    """
    if any(m.group() == b"<!" or m.start() for m in _MARKUP.finditer(data)):
        return None  # only an XML declaration, at the very start (one pass for both)
    refs = {a1(*rc).encode(): rc for rc in wanted}
    hits: dict[tuple[int, int], int] = {}
    if any(data[m.start() - 1 : m.start()].isspace() for m in _SPACED_R.finditer(data)):
        return None  # spaces around "=": legal, but not worth a fast path
    for pattern in _R_ATTRS:
        for m in pattern.finditer(data) if pattern is _R_ATTRS[0] or b"r='" in data else ():
            rc = refs.get(m.group(1))
            if rc is None or not data[m.start() - 1 : m.start()].isspace():
                continue
            if rc in hits:
                return None
            hits[rc] = m.start()
    if len(hits) < len(wanted) and _CELL_WITHOUT_R.search(data):
        return None
    found: dict[tuple[int, int], str] = {}
    for rc, pos in hits.items():
        element = _element_at(data, pos)
        if element is None:
            return None
        try:
            found[rc] = element.decode("utf-8")
        except UnicodeDecodeError:
            raise WorkbookError(f"{err}: not UTF-8 encoded") from None
    return found


_C_START = re.compile(rb"<(?:([A-Za-z_][\w.\-]*):)?c\s[^<>]*?(/?)>")


def _element_at(data: bytes, pos: int) -> bytes | None:
    """The ``<c>`` element whose start tag holds position ``pos`` (None if it is not one)."""
    lt = data.rfind(b"<", 0, pos)
    m = _C_START.match(data, lt) if lt >= 0 else None
    if m is None or m.end() <= pos:
        return None
    if m.group(2):
        return data[lt : m.end()]
    prefix = m.group(1)
    close = b"</" + prefix + b":c>" if prefix else b"</c>"
    end = data.find(close, m.end())
    return None if end < 0 else data[lt : end + len(close)]


def element_cell(element: str, err: str) -> RawCell:
    """The content of one ``<c>`` element's text (type, value, formula, inline text).

    Memoised: the cells of a batch of workbooks made from one template repeat (the returned
    :class:`RawCell` is shared; it is not to be changed).
    """
    try:
        return _element_cell(element)
    except WorkbookError:
        return _parse_element(element, err)  # again, for a message naming the file


@lru_cache(maxsize=8192)
def _element_cell(element: str) -> RawCell:
    return _parse_element(element, "")


def _parse_element(element: str, err: str) -> RawCell:
    it = tags(element, err)
    start = next(it)
    raw = RawCell(t=attr(start.attrs, "t") or "n")
    if start.empty:
        return raw
    prefix = start.prefix
    opened: dict[str, Tag] = {}
    for tag in it:
        if tag.prefix != prefix or tag.name not in ("f", "v", "is"):
            continue
        if not tag.closing and not tag.empty:
            opened[tag.name] = tag
            continue
        begin = opened.pop(tag.name, None)
        text = element[begin.end : tag.start] if begin is not None and tag.closing else ""
        head = begin if begin is not None else tag
        if tag.name == "v":
            raw.v = xml_text(text)
        elif tag.name == "is":
            raw.inline = rich_text(text, err)
        else:
            raw.f = xml_text(text)
            raw.f_attrs = {key: xml_unquote(val[1:-1]) for _ws, key, _eq, val in attrs(head.attrs)}
    return raw
