"""Zip/XML-part layer for ``.xlsx``/``.xlsm`` workbooks.

This is the only module of xlcost that touches the parts of a workbook package
directly.  It offers four operations:

* :func:`check_package` refuses damaged or hostile files (not a zip, truncated,
  zip bombs, path traversal, too many members) before anything is unpacked;
* :func:`defined_names` lists the workbook-scoped names that point to one cell;
* :func:`read_cells` streams values, formulas and errors of given cells;
* :func:`fill_package` copies a workbook with some cells set, *losslessly*:
  every other part is copied byte-for-byte (raw compressed data), the edited
  sheet XML changes only inside the target ``<c>`` elements (plus the
  ``<dimension>``), and ``xl/workbook.xml`` only in ``<calcPr>``;
  :class:`TemplateFiller` does the same for one template filled many times,
  preparing (checking, parsing, scanning) the template only once.

All XML is parsed with :mod:`defusedxml` (DTDs and entities refused).  Edits
are made by splicing the original XML text at positions found by a small tag
scanner, so namespaces, prefixes, ``mc:Ignorable`` and extension lists survive
exactly; the edited sheet is re-parsed afterwards and the filled cells are
checked, so a corrupt part is never written.

Limitations
-----------
* A cell that is the master of a shared formula (``<f t="shared" ref=..>``)
  covering other cells, or that belongs to a multi-cell array formula, is
  refused with :class:`WorkbookError` (its dependents would be corrupted).
* Text is always written as an inline string (``t="inlineStr"``), never as a
  formula.  Characters that XML 1.0 cannot carry (control characters,
  U+FFFE/U+FFFF) are written with Excel's own ``_xHHHH_`` escape, which Excel
  and :func:`read_cells` decode; lone surrogates are refused.
* Numbers are written with ``repr(float)`` (exact round trip); NaN and
  infinities are refused.
* When a formula is removed from a cell listed in ``xl/calcChain.xml``, its
  entry is removed from the calculation chain too (otherwise Excel reports the
  file as damaged); this is the only other part that may change.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import math
import os
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import IO, cast
from xml.etree.ElementTree import Element, ParseError
from xml.parsers import expat

import defusedxml
import defusedxml.ElementTree as SafeET

from xlcost._files import OutputError, atomic_write

__all__ = [
    "CellRef",
    "CellValue",
    "TemplateFiller",
    "WorkbookError",
    "check_package",
    "defined_names",
    "fill_package",
    "read_cells",
]

_WORKBOOK = "xl/workbook.xml"
_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
_CALC_CHAIN = "xl/calcChain.xml"
_CONTENT_TYPES = "[Content_Types].xml"
_MAX_ROW = 1_048_576
_MAX_COL = 16_384
_MAX_TEXT = 32_767
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_KEEP_IN_MEMORY = 8 * 2**20
"""A template up to this size is read once by TemplateFiller, not again for every fill."""


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
        return f"{_quote_sheet(self.sheet)}!{self.cell}"


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


# --------------------------------------------------------------------------- helpers


def _quote_sheet(name: str) -> str:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", name) and not re.fullmatch(
        r"(?i)[A-Z]{1,3}[0-9]+|R[0-9]*C[0-9]*|R|C", name
    ):
        return name
    return "'" + name.replace("'", "''") + "'"


def _col_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _col_letters(n: int) -> str:
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


_A1_RE = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")


def _parse_a1(ref: str) -> tuple[int, int] | None:
    """Return (row, col) of an A1 reference, or None if it is not a valid cell."""
    m = _A1_RE.fullmatch(ref.strip())
    if not m:
        return None
    col, row = _col_number(m.group(1)), int(m.group(2))
    if not (1 <= row <= _MAX_ROW and 1 <= col <= _MAX_COL):
        return None
    return row, col


def _a1(row: int, col: int) -> str:
    return f"{_col_letters(col)}{row}"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


_XESC_RE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _unescape_x(text: str) -> str:
    """Decode Excel's ``_xHHHH_`` escapes (ST_Xstring)."""
    if "_x" not in text:
        return text
    return _XESC_RE.sub(lambda m: chr(int(m.group(1), 16)), text)


_ILLEGAL_XML_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def _escape_text(text: str) -> str:
    """Escape text for an ``<is><t>`` element (Excel ``_xHHHH_`` + XML escapes)."""
    text = re.sub(r"_(x[0-9A-Fa-f]{4}_)", r"_x005F_\1", text)
    text = _ILLEGAL_XML_RE.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except FileNotFoundError:
        raise WorkbookError(f"{path.name}: file not found") from None
    except OSError as exc:
        raise WorkbookError(f"{path.name}: cannot read ({exc.strerror or exc})") from None
    except (zipfile.BadZipFile, EOFError, ValueError, struct.error, NotImplementedError):
        raise WorkbookError(f"{path.name}: truncated or damaged zip file") from None


def _read_member(zf: zipfile.ZipFile, name: str, path: Path) -> bytes:
    try:
        return zf.read(name)
    except KeyError:
        raise WorkbookError(f"{path.name}: missing part {name}") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
        raise WorkbookError(f"{path.name}: damaged zip member {name} ({exc})") from None


def _parse_xml(data: bytes, part: str, path: Path) -> Element:
    try:
        return cast(Element, SafeET.fromstring(data, forbid_dtd=True))
    except defusedxml.DefusedXmlException:
        raise WorkbookError(f"{path.name}: XML bomb or DTD refused in {part}") from None
    except ParseError as exc:
        raise WorkbookError(f"{path.name}: damaged XML in {part} ({exc})") from None


def _iterparse(
    fh: IO[bytes], part: str, path: Path, events: tuple[str, ...]
) -> Iterator[tuple[str, Element]]:
    try:
        for event, elem in SafeET.iterparse(fh, events=events, forbid_dtd=True):
            yield cast(str, event), cast(Element, elem)
    except defusedxml.DefusedXmlException:
        raise WorkbookError(f"{path.name}: XML bomb or DTD refused in {part}") from None
    except ParseError as exc:
        raise WorkbookError(f"{path.name}: damaged XML in {part} ({exc})") from None
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise WorkbookError(f"{path.name}: damaged zip member {part} ({exc})") from None


# --------------------------------------------------------------------------- check


def _size(n: int) -> str:
    return f"{n / 2**20:.0f} MiB" if n >= 2**20 else f"{n} bytes"


def check_package(
    path: Path,
    *,
    max_total_uncompressed: int = 200 * 2**20,
    max_ratio: float = 200.0,
    max_members: int = 10_000,
) -> None:
    """Refuse a file that is not a safe workbook package, before unpacking it.

    Parameters
    ----------
    path : Path
        The ``.xlsx``/``.xlsm`` file.
    max_total_uncompressed : int
        Limit on the sum of the declared uncompressed member sizes (bytes).
    max_ratio : float
        Limit on the compression ratio of any member larger than 1 MiB.
    max_members : int
        Limit on the number of zip members.

    Raises
    ------
    WorkbookError
        Not a zip, truncated, not a workbook (no ``xl/workbook.xml`` or
        ``[Content_Types].xml``), zip bomb, too many members, encrypted or
        unsupported members, absolute or ``..`` member paths.  The message is
        one line starting with the file name.
    """
    name = path.name
    from xlcost.reading import ReadError, require_regular_file

    try:  # a FIFO or device is refused before it is opened for reading (it would hang)
        require_regular_file(path)
    except ReadError as exc:
        raise WorkbookError(str(exc)) from None
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(8)
    except FileNotFoundError:
        raise WorkbookError(f"{name}: file not found") from None
    except OSError as exc:
        raise WorkbookError(f"{name}: cannot read ({exc.strerror or exc})") from None
    if size == 0:
        raise WorkbookError(f"{name}: empty file")
    if head == _OLE_MAGIC:
        raise WorkbookError(
            f"{name}: password-protected or legacy .xls file (save it as .xlsx/.xlsm)"
        )
    if not head.startswith(b"PK"):
        raise WorkbookError(f"{name}: not a zip file")
    if size > max_total_uncompressed:
        raise WorkbookError(
            f"{name}: file too large ({_size(size)} > {_size(max_total_uncompressed)})"
        )
    with _open_zip(path) as zf:
        infos = zf.infolist()
    if len(infos) > max_members:
        raise WorkbookError(f"{name}: too many zip members ({len(infos)} > {max_members})")
    seen: set[str] = set()
    total = 0
    for zi in infos:
        member = zi.orig_filename
        parts = re.split(r"[/\\]", member)
        if (
            member.startswith(("/", "\\"))
            or re.match(r"[A-Za-z]:", member)
            or ".." in parts
            or "\x00" in member
        ):
            raise WorkbookError(f"{name}: unsafe member path {member!r}")
        if member in seen:
            raise WorkbookError(f"{name}: duplicate member {member!r}")
        seen.add(member)
        if zi.flag_bits & 0x1:
            raise WorkbookError(f"{name}: encrypted member {member!r}")
        if zi.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise WorkbookError(
                f"{name}: unsupported compression method {zi.compress_type} in {member!r}"
            )
        total += zi.file_size
        if total > max_total_uncompressed:
            raise WorkbookError(
                f"{name}: zip bomb refused (uncompressed size over {_size(max_total_uncompressed)})"
            )
        if zi.file_size > 2**20:
            ratio = zi.file_size / max(zi.compress_size, 1)
            if ratio > max_ratio:
                raise WorkbookError(
                    f"{name}: zip bomb refused ({member!r} compression ratio "
                    f"{ratio:.0f}:1 over {max_ratio:.0f}:1)"
                )
    for required in (_CONTENT_TYPES, _WORKBOOK):
        if required not in seen:
            raise WorkbookError(f"{name}: not an Excel workbook (no {required})")


# --------------------------------------------------------------------------- workbook


@dataclass
class _Sheet:
    name: str
    sheet_id: str
    part: str


def _rels_attr_id(elem: Element) -> str | None:
    for key, val in elem.attrib.items():
        if key.startswith("{") and _local(key) == "id" and "relationships" in key:
            return val
    return None


def _workbook_sheets(zf: zipfile.ZipFile, path: Path) -> list[_Sheet]:
    root = _parse_xml(_read_member(zf, _WORKBOOK, path), _WORKBOOK, path)
    targets: dict[str, str] = {}
    if _WORKBOOK_RELS in zf.NameToInfo:
        rels = _parse_xml(_read_member(zf, _WORKBOOK_RELS, path), _WORKBOOK_RELS, path)
        for rel in rels:
            if _local(rel.tag) == "Relationship" and rel.get("TargetMode") != "External":
                target = rel.get("Target", "")
                if target.startswith("/"):
                    part = posixpath.normpath(target.lstrip("/"))
                else:
                    part = posixpath.normpath(posixpath.join("xl", target))
                targets[rel.get("Id", "")] = part
    sheets = []
    for elem in root.iter():
        if _local(elem.tag) == "sheet":
            rid = _rels_attr_id(elem)
            sheets.append(
                _Sheet(elem.get("name", ""), elem.get("sheetId", ""), targets.get(rid or "", ""))
            )
    return sheets


def _find_sheet(sheets: list[_Sheet], name: str, path: Path) -> _Sheet:
    for sh in sheets:
        if sh.name == name:
            return sh
    for sh in sheets:
        if sh.name.casefold() == name.casefold():
            return sh
    raise WorkbookError(f"{path.name}: no sheet named {name!r}")


_NAME_REF_RE = re.compile(r"(?:'((?:[^']|'')+)'|([^'!:\[\]]+))!(\$?[A-Za-z]{1,3}\$?[0-9]+)")


def defined_names(path: Path) -> dict[str, CellRef]:
    """Workbook-scoped defined names that point to a single cell.

    Parameters
    ----------
    path : Path
        The workbook.

    Returns
    -------
    dict of str to CellRef
        E.g. ``{"train_gpus": CellRef("Inputs", "C7")}`` for a name defined as
        ``Inputs!$C$7``.  Names pointing to ranges, formulas, constants or
        other workbooks, sheet-scoped names (``localSheetId``) and built-in
        ``_xlnm.`` names are ignored.

    Raises
    ------
    WorkbookError
        Unsafe or damaged package, DTD/entities in ``xl/workbook.xml``.
    """
    check_package(path)
    with _open_zip(path) as zf:
        root = _parse_xml(_read_member(zf, _WORKBOOK, path), _WORKBOOK, path)
    out: dict[str, CellRef] = {}
    for elem in root.iter():
        if _local(elem.tag) != "definedName":
            continue
        name = elem.get("name", "")
        if not name or elem.get("localSheetId") is not None or name.startswith("_xlnm."):
            continue
        m = _NAME_REF_RE.fullmatch((elem.text or "").strip())
        if not m:
            continue
        sheet = m.group(1).replace("''", "'") if m.group(1) is not None else m.group(2)
        rc = _parse_a1(m.group(3))
        if rc is None:
            continue
        out[name] = CellRef(sheet, _a1(*rc))
    return out


# --------------------------------------------------------------------------- reading


@dataclass
class _RawCell:
    t: str = "n"
    v: str | None = None
    f: str | None = None
    f_attrs: dict[str, str] = field(default_factory=dict)
    inline: str | None = None


def _rich_text(elem: Element) -> str:
    """Concatenate the ``<t>`` runs of a ``<si>``/``<is>`` element (no phonetics)."""
    out = []
    for child in elem:
        tag = _local(child.tag)
        if tag == "t":
            out.append(child.text or "")
        elif tag == "r":
            out.extend(g.text or "" for g in child if _local(g.tag) == "t")
    return "".join(out)


def _scan_cells(
    fh: IO[bytes], wanted: set[tuple[int, int]], part: str, path: Path
) -> dict[tuple[int, int], _RawCell]:
    """Stream a sheet part and return the raw content of the wanted cells."""
    found: dict[tuple[int, int], _RawCell] = {}
    if not wanted:
        return found
    last_row = max(r for r, _ in wanted)
    wanted_rows = {r for r, _ in wanted}
    row, col = 0, 0
    sheet_data: Element | None = None
    for event, elem in _iterparse(fh, part, path, ("start", "end")):
        tag = _local(elem.tag)
        if event == "start":
            if tag == "sheetData":
                sheet_data = elem
            elif tag == "row" and sheet_data is not None:
                r = elem.get("r")
                row = int(r) if r and r.isdigit() else row + 1
                col = 0
                if row > last_row:
                    break
            continue
        if tag == "c" and sheet_data is not None:
            if row not in wanted_rows:
                continue
            ref = elem.get("r")
            rc = _parse_a1(ref) if ref else None
            col = rc[1] if rc else col + 1
            if (row, col) in wanted:
                raw = _RawCell(t=elem.get("t", "n"))
                for child in elem:
                    ctag = _local(child.tag)
                    if ctag == "v":
                        raw.v = child.text or ""
                    elif ctag == "f":
                        raw.f = child.text or ""
                        raw.f_attrs = dict(child.attrib)
                    elif ctag == "is":
                        raw.inline = _rich_text(child)
                found[(row, col)] = raw
                if len(found) == len(wanted):
                    break
        elif tag == "row" and sheet_data is not None:
            elem.clear()
            with contextlib.suppress(ValueError):
                sheet_data.remove(elem)
        elif tag == "sheetData":
            break
    return found


def _shared_strings(zf: zipfile.ZipFile, part: str, needed: set[int], path: Path) -> dict[int, str]:
    out: dict[int, str] = {}
    if not needed or part not in zf.NameToInfo:
        return out
    root: Element | None = None
    index = 0
    with zf.open(part) as fh:
        for event, elem in _iterparse(fh, part, path, ("start", "end")):
            if event == "start":
                if root is None:
                    root = elem
                continue
            if _local(elem.tag) == "si":
                if index in needed:
                    out[index] = _unescape_x(_rich_text(elem))
                    if len(out) == len(needed):
                        break
                index += 1
                elem.clear()
                if root is not None:
                    with contextlib.suppress(ValueError):
                        root.remove(elem)
    return out


def _shared_strings_part(zf: zipfile.ZipFile, path: Path) -> str:
    if _WORKBOOK_RELS in zf.NameToInfo:
        rels = _parse_xml(_read_member(zf, _WORKBOOK_RELS, path), _WORKBOOK_RELS, path)
        for rel in rels:
            if rel.get("Type", "").endswith("/sharedStrings"):
                target = rel.get("Target", "")
                if target.startswith("/"):
                    return posixpath.normpath(target.lstrip("/"))
                return posixpath.normpath(posixpath.join("xl", target))
    return "xl/sharedStrings.xml"


def _cell_rc(ref: CellRef, path: Path) -> tuple[int, int]:
    rc = _parse_a1(ref.cell)
    if rc is None:
        raise WorkbookError(f"{path.name}: invalid cell reference {str(ref)!r}")
    return rc


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

    Notes
    -----
    Each sheet part is streamed with ``iterparse`` and parsing stops after the
    last wanted row; shared strings are streamed and only the needed ones kept.
    """
    refs = list(refs)
    check_package(path)
    result: dict[CellRef, CellValue] = {}
    with _open_zip(path) as zf:
        sheets = _workbook_sheets(zf, path)
        by_part: dict[str, dict[tuple[int, int], list[CellRef]]] = {}
        for ref in refs:
            sheet = _find_sheet(sheets, ref.sheet, path)
            if sheet.part not in zf.NameToInfo:
                raise WorkbookError(f"{path.name}: sheet {ref.sheet!r} has no cells")
            by_part.setdefault(sheet.part, {}).setdefault(_cell_rc(ref, path), []).append(ref)
        raws: dict[CellRef, _RawCell] = {}
        for part, wanted in by_part.items():
            with zf.open(part) as fh:
                found = _scan_cells(fh, set(wanted), part, path)
            for rc, refs_here in wanted.items():
                for ref in refs_here:
                    raws[ref] = found.get(rc, _RawCell())
        needed = set()
        for raw in raws.values():
            if raw.t == "s" and raw.v is not None and raw.v.strip().isdigit():
                needed.add(int(raw.v))
        strings = _shared_strings(zf, _shared_strings_part(zf, path), needed, path)
    for ref in refs:
        result[ref] = _decode(ref, raws[ref], strings, path)
    return result


def _decode(ref: CellRef, raw: _RawCell, strings: dict[int, str], path: Path) -> CellValue:
    value: float | str | bool | None = None
    error: str | None = None
    formula = raw.f
    try:
        if raw.t == "inlineStr":
            value = _unescape_x(raw.inline) if raw.inline is not None else None
        elif raw.v is None:
            value = None
        elif raw.t == "str":
            value = _unescape_x(raw.v)
        elif not raw.v.strip():  # an empty <v/>: no cached value (openpyxl writes formulas so)
            value = None
        elif raw.t == "s":
            value = strings.get(int(raw.v), "")
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
    return CellValue(ref, value, formula, error)


# --------------------------------------------------------------------------- XML scanning

_NAME = r"[A-Za-z_][\w.\-]*"
_TOKEN_RE = re.compile(
    r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>"
    rf"|<(/?)(?:({_NAME}):)?({_NAME})((?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(/?)>",
    re.S,
)
_ATTR_RE = re.compile(r"(\s+)([^\s=/>]+)(\s*=\s*)(\"[^\"]*\"|'[^']*')")


def _attrs(text: str) -> list[tuple[str, str, str, str]]:
    return cast(list[tuple[str, str, str, str]], _ATTR_RE.findall(text))


def _attr(text: str, name: str) -> str | None:
    for _ws, key, _eq, val in _attrs(text):
        if key == name:
            return _xml_unquote(val[1:-1])
    return None


def _xml_unquote(text: str) -> str:
    return (
        text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&apos;", "'")
        .replace("&amp;", "&")
    )


@dataclass
class _Tag:
    start: int
    end: int
    closing: bool
    prefix: str | None
    name: str
    attrs: str
    empty: bool


def _tags(xml: str, pos: int = 0) -> Iterator[_Tag]:
    for m in _TOKEN_RE.finditer(xml, pos):
        if m.group(3) is None:
            continue
        yield _Tag(
            m.start(),
            m.end(),
            m.group(1) == "/",
            m.group(2),
            m.group(3),
            m.group(4) or "",
            m.group(5) == "/",
        )


@dataclass
class _CellPos:
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
class _RowPos:
    row: int
    start: int
    tag_end: int
    end: int
    name_end: int
    attrs: str
    has_r: bool
    empty: bool
    content_end: int = 0  # position of "</row>"
    cells: list[_CellPos] = field(default_factory=list)

    @cached_property
    def by_col(self) -> dict[int, _CellPos]:
        """The cells by column (made when first needed: the scan is complete by then)."""
        return {cell.col: cell for cell in self.cells}


@dataclass
class _SheetScan:
    prefix: str | None
    dim: _Tag | None
    data_start: int
    data_tag_end: int
    data_empty: bool
    data_content_end: int
    rows: list[_RowPos]
    arrays: list[tuple[int, int, int, int, int, int]]  # r1, c1, r2, c2, master row, master col

    @cached_property
    def cells(self) -> dict[tuple[int, int], _CellPos]:
        """The scanned cells by (row, column) (made when first needed, after the scan)."""
        return {(row.row, col): cell for row in self.rows for col, cell in row.by_col.items()}


def _parse_range(ref: str) -> tuple[int, int, int, int] | None:
    parts = ref.split(":")
    if len(parts) > 2:
        return None
    a = _parse_a1(parts[0])
    b = _parse_a1(parts[-1])
    if a is None or b is None:
        return None
    return min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1])


def _scan_sheet(xml: str, target_rows: set[int], err: str) -> _SheetScan:
    prefix: str | None = None
    dim: _Tag | None = None
    it = _tags(xml)
    data: _Tag | None = None
    for tag in it:
        if tag.name == "dimension" and not tag.closing:
            dim = tag
        elif tag.name == "sheetData" and not tag.closing:
            data = tag
            prefix = tag.prefix
            break
    if data is None:
        raise WorkbookError(f"{err}: no <sheetData>")
    scan = _SheetScan(prefix, dim, data.start, data.end, data.empty, data.start, [], [])
    if dim is not None and dim.prefix != prefix:
        scan.dim = None
    if data.empty:
        return scan
    row_no = 0
    row: _RowPos | None = None
    cell: _CellPos | None = None
    in_cell = False
    col = 0
    for tag in it:
        if tag.prefix != prefix:
            continue
        if tag.name == "sheetData" and tag.closing:
            scan.data_content_end = tag.start
            return scan
        if tag.name == "row":
            if tag.closing:
                if row is not None:
                    row.end = tag.end
                    row.content_end = tag.start
                row = None
                continue
            r = _attr(tag.attrs, "r")
            row_no = int(r) if r and r.isdigit() else row_no + 1
            col = 0
            row = _RowPos(
                row_no,
                tag.start,
                tag.end,
                tag.end,
                tag.start + 1 + len(tag.name) + (len(tag.prefix) + 1 if tag.prefix else 0),
                tag.attrs,
                r is not None,
                tag.empty,
                tag.end,
            )
            scan.rows.append(row)
            if tag.empty:
                row = None
        elif tag.name == "c" and row is not None:
            if tag.closing:
                if cell is not None:
                    cell.end = tag.end
                cell = None
                in_cell = False
                continue
            in_cell = not tag.empty
            cell = None
            if row.row not in target_rows:
                continue  # only array formulas matter in the other rows
            r = _attr(tag.attrs, "r")
            rc = _parse_a1(r) if r else None
            col = rc[1] if rc else col + 1
            cell = _CellPos(
                col,
                tag.start,
                tag.end,
                tag.end,
                tag.start + 1 + len(tag.name) + (len(tag.prefix) + 1 if tag.prefix else 0),
                tag.attrs,
                r is not None,
            )
            row.cells.append(cell)
            if tag.empty:
                cell = None
        elif tag.name == "f" and in_cell and tag.closing:
            if cell is not None:
                cell.f_end = tag.end
        elif tag.name == "f" and in_cell:
            if cell is not None:
                cell.f_attrs = tag.attrs
                cell.f_start, cell.f_end = tag.start, tag.end
            if "array" in tag.attrs and _attr(tag.attrs, "t") == "array":
                rng = _parse_range(_attr(tag.attrs, "ref") or "")
                if rng is not None and rng[:2] != rng[2:]:
                    scan.arrays.append((*rng, rng[0], rng[1]))  # master = top-left
    raise WorkbookError(f"{err}: damaged XML (no </sheetData>)")


# --------------------------------------------------------------------------- filling

_Value = float | int | str | bool | None


def _check_value(value: object, ref: CellRef, name: str) -> None:
    problem = _value_problem(value)
    if problem is not None:
        raise WorkbookError(f"{name}: {ref}: {problem}")


def _value_problem(value: object) -> str | None:
    """Why ``value`` cannot be written into a cell, or None if it can."""
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
        if len(value) > _MAX_TEXT:
            return f"text longer than {_MAX_TEXT} characters"
        return None
    return f"cannot write a value of type {type(value).__name__}"


def _number_text(value: float | int) -> str:
    if isinstance(value, int) and abs(value) < 10**15:
        return str(value)
    return repr(float(value))


def _cell_xml(
    p: str, row: int, col: int, old_attrs: str | None, value: _Value, formula: str = ""
) -> str:
    """Markup of a cell holding ``value``, keeping the other attributes of the old cell.

    With ``formula`` (the old cell's ``<f>`` element) the cell keeps its formula and
    ``value`` becomes the formula's cached result.
    """
    if value is None:
        t_val = None
        body = ""
    elif isinstance(value, bool):
        t_val = "b"
        body = f"<{p}v>{int(value)}</{p}v>"
    elif isinstance(value, int | float):
        t_val = None
        body = f"<{p}v>{_number_text(value)}</{p}v>"
    elif formula:
        t_val = "str"
        body = f"<{p}v>{_escape_text(value)}</{p}v>"
    else:
        t_val = "inlineStr"
        body = f'<{p}is><{p}t xml:space="preserve">{_escape_text(value)}</{p}t></{p}is>'
    body = formula + body
    attrs = _new_cell_attrs(old_attrs or "", row, col, t_val, bool(formula))
    if not body:
        return f"<{p}c{attrs}/>"
    return f"<{p}c{attrs}>{body}</{p}c>"


@lru_cache(maxsize=4096)
def _new_cell_attrs(old_attrs: str, row: int, col: int, t_val: str | None, formula: bool) -> str:
    """The attributes of a rewritten cell (memoised: a template's cells are filled again and
    again with values of the same few types)."""
    parts: list[str] = []
    has_r = has_t = False
    for ws, key, eq, val in _attrs(old_attrs):
        if key == "r":
            has_r = True
            parts.append(f'{ws}r{eq}"{_a1(row, col)}"')
        elif key == "t":
            has_t = True
            if t_val is not None:
                parts.append(f'{ws}t{eq}"{t_val}"')
        elif key == "vm" or (key == "cm" and not formula):
            continue  # value metadata / cell metadata of the old content
        else:
            parts.append(ws + key + eq + val)
    if not has_r:
        parts.insert(0, f' r="{_a1(row, col)}"')
    if t_val is not None and not has_t:
        parts.append(f' t="{t_val}"')
    return "".join(parts)


def _new_spans(attrs: str, cols: list[int]) -> str:
    """Row start-tag attributes with ``spans`` widened to cover ``cols``."""
    out = []
    for ws, key, eq, val in _attrs(attrs):
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


def _edit_sheet(
    xml: str,
    scan: _SheetScan,
    targets: dict[tuple[int, int], tuple[CellRef, _Value]],
    err: str,
    cached: frozenset[tuple[int, int]] = frozenset(),
) -> tuple[str, set[tuple[int, int]], str | None]:
    """Splice the target cells into a sheet's XML text.

    ``scan`` is :func:`_scan_sheet` of ``xml`` over (at least) the target rows; the
    targets in ``cached`` keep their formula and get the value as its cached result.
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
                    f"{err}: {ref} is part of the array formula at {_a1(mr, mc)} "
                    f"({_a1(r1, c1)}:{_a1(r2, c2)}); refusing to overwrite it"
                )

    rows_by_no = {row.row: row for row in scan.rows}
    any_rowless = any(not row.has_r for row in scan.rows)
    new_rows: dict[int, list[tuple[int, str]]] = {}  # insert position -> (row, xml)
    by_row: dict[int, dict[int, _Value]] = {}
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
                _cell_xml(p, r, c, None, v) for c, v in sorted(wanted.items()) if v is not None
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
                inserts.setdefault(pos, []).append((c, _cell_xml(p, r, c, None, v)))
                added_cols.append(c)
        for pos, items in inserts.items():
            edits.append((pos, pos, "".join(x for _, x in sorted(items))))
        if added_cols and any(not cl.has_r for cl in row.cells):
            replaced = {cell.col for cell in row.cells if cell.col in wanted}
            for cl in row.cells:
                if not cl.has_r and cl.col not in replaced:
                    edits.append((cl.name_end, cl.name_end, f' r="{_a1(r, cl.col)}"'))
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
        dim_ref = _attr(scan.dim.attrs, "ref")
        rng = _parse_range(dim_ref or "")
        created = [(r, c) for (r, c), (_ref, v) in targets.items() if v is not None]
        if rng is not None and created:
            r1 = min(rng[0], *(r for r, _ in created))
            c1 = min(rng[1], *(c for _, c in created))
            r2 = max(rng[2], *(r for r, _ in created))
            c2 = max(rng[3], *(c for _, c in created))
            if (r1, c1, r2, c2) != rng:
                new_ref = _a1(r1, c1) + (":" + _a1(r2, c2) if (r1, c1) != (r2, c2) else "")
                tag_text = xml[scan.dim.start : scan.dim.end]
                new_tag = re.sub(
                    r"(\sref\s*=\s*)([\"'])[^\"']*\2",
                    lambda m: f"{m.group(1)}{m.group(2)}{new_ref}{m.group(2)}",
                    tag_text,
                    count=1,
                )
                edits.append((scan.dim.start, scan.dim.end, new_tag))
                cells_only = None

    return _apply_edits(xml, edits, err), removed_formulas, cells_only


def _replacement(
    xml: str,
    p: str,
    cell: _CellPos,
    rc: tuple[int, int],
    ref: CellRef,
    value: _Value,
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
        return _cell_xml(p, r, c, cell.attrs, value, xml[cell.f_start : cell.f_end]), False
    if cell.f_attrs is None:
        return _cell_xml(p, r, c, cell.attrs, value), False
    if _attr(cell.f_attrs, "t") == "shared":
        rng = _parse_range(_attr(cell.f_attrs, "ref") or "")
        if rng is not None and rng[:2] != rng[2:]:
            raise WorkbookError(
                f"{err}: {ref} is the master cell of a shared formula "
                f"({_attr(cell.f_attrs, 'ref')}); refusing to overwrite it"
            )
    return _cell_xml(p, r, c, cell.attrs, value), True


def _open_tag(xml: str, scan: _SheetScan) -> str:
    """``<sheetData ...>`` from a self-closing ``<sheetData .../>``."""
    text = xml[scan.data_start : scan.data_tag_end]
    return re.sub(r"\s*/>$", ">", text)


def _apply_edits(xml: str, edits: list[tuple[int, int, str]], err: str) -> str:
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


def _edit_workbook(xml: str, err: str) -> str:
    """Set ``fullCalcOnLoad="1"`` in ``<calcPr>`` (adding the element if needed)."""
    prefix: str | None = None
    for tag in _tags(xml):
        if tag.name == "workbook" and not tag.closing and prefix is None:
            prefix = tag.prefix or ""
            continue
        if prefix is None or (tag.prefix or "") != prefix:
            continue
        if tag.name == "calcPr" and not tag.closing:
            val = _attr(tag.attrs, "fullCalcOnLoad")
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


def _edit_calc_chain(xml: str, removed: set[tuple[str, int, int]]) -> str | None:
    """Drop calc-chain entries of cells whose formula was removed.

    Returns the new text, or None if the chain would become empty.
    """
    edits: list[tuple[int, int, str]] = []
    current = ""
    kept = 0
    pending_i: str | None = None  # sheet id to restate on the next kept entry
    for tag in _tags(xml):
        if tag.name != "c" or tag.closing:
            continue
        i = _attr(tag.attrs, "i")
        if i is not None:
            current = i
        rc = _parse_a1(_attr(tag.attrs, "r") or "")
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
    return _apply_edits(xml, edits, "calcChain")


def _dos_datetime(zi: zipfile.ZipInfo) -> tuple[int, int]:
    y, mo, d, h, mi, s = zi.date_time
    return (h << 11) | (mi << 5) | (s // 2), ((y - 1980) << 9) | (mo << 5) | d


def _strip_zip64(extra: bytes) -> bytes:
    out = b""
    i = 0
    while i + 4 <= len(extra):
        tp, ln = struct.unpack("<HH", extra[i : i + 4])
        if tp != 1:
            out += extra[i : i + 4 + ln]
        i += 4 + ln
    return out


def _copy_exact(src: IO[bytes], out: IO[bytes], n: int) -> None:
    while n > 0:
        chunk = src.read(min(n, 2**20))
        if not chunk:
            raise WorkbookError("unexpected end of file")
        out.write(chunk)
        n -= len(chunk)


def _write_zip(
    src_fh: IO[bytes],
    infos: list[zipfile.ZipInfo],
    comment: bytes,
    out: IO[bytes],
    replaced: Mapping[str, bytes],
) -> None:
    """Write a zip: raw copies of unchanged members, recompressed edited ones."""
    central: list[bytes] = []
    for zi in infos:
        offset = out.tell()
        utf8 = bool(zi.flag_bits & 0x800)
        name_b = zi.orig_filename.encode("utf-8" if utf8 else "cp437")
        dostime, dosdate = _dos_datetime(zi)
        if zi.filename in replaced:
            data = replaced[zi.filename]
            if zi.compress_type == zipfile.ZIP_DEFLATED:
                co = zlib.compressobj(6, zlib.DEFLATED, -15)
                comp = co.compress(data) + co.flush()
            else:
                comp = data
            crc, csize, usize = zlib.crc32(data), len(comp), len(data)
            flags = zi.flag_bits & 0x806
            local_extra = b""
            out.write(
                struct.pack(
                    "<4s2B4HL2L2H",
                    b"PK\x03\x04",
                    min(zi.extract_version, 20),
                    0,
                    flags,
                    zi.compress_type,
                    dostime,
                    dosdate,
                    crc,
                    csize,
                    usize,
                    len(name_b),
                    len(local_extra),
                )
            )
            out.write(name_b + local_extra + comp)
        else:
            crc, csize, usize = zi.CRC, zi.compress_size, zi.file_size
            flags = zi.flag_bits
            src_fh.seek(zi.header_offset)
            head = src_fh.read(30)
            if len(head) != 30 or head[:4] != b"PK\x03\x04":
                raise WorkbookError(f"damaged local header of {zi.filename}")
            (lflags,) = struct.unpack("<H", head[6:8])
            nlen, elen = struct.unpack("<HH", head[26:30])
            local_extra = src_fh.read(nlen + elen)[nlen:]
            zip64 = _strip_zip64(local_extra) != local_extra
            src_fh.seek(zi.header_offset)
            _copy_exact(src_fh, out, 30 + nlen + elen + zi.compress_size)
            if lflags & 0x8:
                pos = src_fh.tell()
                sig = src_fh.read(4)
                src_fh.seek(pos)
                size = (20 if zip64 else 12) + (4 if sig == b"PK\x07\x08" else 0)
                _copy_exact(src_fh, out, size)
        extra = _strip_zip64(zi.extra)
        central.append(
            struct.pack(
                "<4s4B4HL2L5H2L",
                b"PK\x01\x02",
                zi.create_version,
                zi.create_system,
                zi.extract_version if zi.filename not in replaced else min(zi.extract_version, 20),
                0,
                flags,
                zi.compress_type,
                dostime,
                dosdate,
                crc,
                csize,
                usize,
                len(name_b),
                len(extra),
                len(zi.comment),
                0,
                zi.internal_attr,
                zi.external_attr,
                offset,
            )
            + name_b
            + extra
            + zi.comment
        )
    cd_start = out.tell()
    for entry in central:
        out.write(entry)
    cd_size = out.tell() - cd_start
    out.write(
        struct.pack(
            "<4s4H2LH",
            b"PK\x05\x06",
            0,
            0,
            len(central),
            len(central),
            cd_size,
            cd_start,
            len(comment),
        )
        + comment
    )


def _verify_sheet(
    data: bytes,
    targets: dict[tuple[int, int], tuple[CellRef, _Value]],
    part: str,
    src: Path,
    cached: frozenset[tuple[int, int]] = frozenset(),
) -> None:
    """Re-parse an edited sheet and check every target cell holds its value (and formula)."""
    found = _scan_cells(io.BytesIO(data), set(targets), part, src)
    for rc, (ref, value) in targets.items():
        got = _decode(ref, found.get(rc, _RawCell()), {}, src)
        expected: object = value
        if isinstance(value, int) and not isinstance(value, bool):
            expected = float(value)
        ok = (got.formula is not None) is (rc in cached)
        ok = ok and got.error is None and got.value == expected
        ok = ok and type(got.value) is type(expected)
        if not ok:
            raise WorkbookError(f"{src.name}: internal error writing {ref} (verification failed)")


def _check_dst(src: Path, dst: Path, overwrite: bool) -> None:
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

    sheet: _Sheet
    xml: str
    scan: _SheetScan
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

    def __init__(self, src: Path, cells: Iterable[CellRef]) -> None:
        self.src = src
        name = src.name
        check_package(src)
        with _open_zip(src) as zf:
            self._sheets = _workbook_sheets(zf, src)
            self._infos = zf.infolist()
            self._comment = zf.comment
            self._raw: bytes | None = None  # the file's bytes, as zf read them (if small)
            if zf.fp is not None and os.fstat(zf.fp.fileno()).st_size <= _KEEP_IN_MEMORY:
                zf.fp.seek(0)
                self._raw = zf.fp.read()
            self._cells: dict[CellRef, tuple[str, tuple[int, int]]] = {}
            rows: dict[str, set[int]] = {}
            by_part: dict[str, _Sheet] = {}
            for ref in cells:
                sheet = _find_sheet(self._sheets, ref.sheet, src)
                if sheet.part not in zf.NameToInfo or "worksheets/" not in sheet.part:
                    raise WorkbookError(f"{name}: {ref.sheet!r} is not a worksheet")
                rc = _cell_rc(ref, src)
                self._cells[ref] = (sheet.part, rc)
                rows.setdefault(sheet.part, set()).add(rc[0])
                by_part[sheet.part] = sheet
            self._parts: dict[str, _Part] = {}
            for part, target_rows in rows.items():
                try:
                    xml = _read_member(zf, part, src).decode("utf-8")
                except UnicodeDecodeError:
                    raise WorkbookError(f"{name}: {part} is not UTF-8 encoded") from None
                if "<!DOCTYPE" in xml or "<!ENTITY" in xml:
                    raise WorkbookError(f"{name}: XML bomb or DTD refused in {part}")
                scan = _scan_sheet(xml, target_rows, f"{name}: {part}")
                present = frozenset((row.row, c.col) for row in scan.rows for c in row.cells)
                self._parts[part] = _Part(by_part[part], xml, scan, present)

            wb_raw = _read_member(zf, _WORKBOOK, src)
            _parse_xml(wb_raw, _WORKBOOK, src)
            wb_new = _edit_workbook(wb_raw.decode("utf-8"), f"{name}: {_WORKBOOK}").encode()
            self._workbook: bytes | None = None
            if wb_new != wb_raw:
                _parse_xml(wb_new, _WORKBOOK, src)
                self._workbook = wb_new

            self._chain: str | None = None
            if _CALC_CHAIN in zf.NameToInfo:
                chain_raw = _read_member(zf, _CALC_CHAIN, src)
                _parse_xml(chain_raw, _CALC_CHAIN, src)
                self._chain = chain_raw.decode("utf-8")

    def fill(
        self,
        dst: Path,
        values: Mapping[CellRef, _Value],
        *,
        cached: Mapping[CellRef, _Value] | None = None,
        overwrite: bool = False,
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

        Raises
        ------
        WorkbookError
            As :func:`fill_package`; also a cell not given when the filler was made, and
            a ``cached`` cell without a formula.
        """
        src, name = self.src, self.src.name
        _check_dst(src, dst, overwrite)
        per_part: dict[str, dict[tuple[int, int], tuple[CellRef, _Value]]] = {}
        keep: dict[str, set[tuple[int, int]]] = {}
        items = [(r, v, False) for r, v in values.items()]
        items += [(r, v, True) for r, v in (cached or {}).items()]
        for ref, value, is_cached in items:
            _check_value(value, ref, name)
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

        replaced: dict[str, bytes] = {}
        removed: set[tuple[str, int, int]] = set()
        for part, targets in per_part.items():
            info = self._parts[part]
            formulas = frozenset(keep.get(part, ()))
            err = f"{name}: {part}"
            new_xml, gone, cells = _edit_sheet(info.xml, info.scan, targets, err, formulas)
            data = new_xml.encode("utf-8")
            if cells is not None and info.verified.issuperset(targets):
                # Whole <c> elements replaced at positions already checked and verified:
                # the rest of the text is as it was, so checking the new elements suffices.
                _parse_check(f"<c>{cells}</c>".encode(), part, src)
            else:
                _parse_check(data, part, src)
                _verify_sheet(data, targets, part, src, formulas)
                if info.present.issuperset(targets):
                    info.verified.update(targets)
            replaced[part] = data
            removed |= {(info.sheet.sheet_id, r, c) for r, c in gone}
        if self._workbook is not None:
            replaced[_WORKBOOK] = self._workbook
        if removed and self._chain is not None:
            chain_new = _edit_calc_chain(self._chain, removed)
            if chain_new is None:
                # An empty <calcChain> is invalid and dropping the part would mean
                # editing [Content_Types].xml and the workbook rels: refuse instead.
                raise WorkbookError(
                    f"{name}: filling would remove every formula of the workbook's "
                    "calculation chain; not supported"
                )
            if chain_new != self._chain:
                replaced[_CALC_CHAIN] = chain_new.encode("utf-8")

        def write(out: IO[bytes]) -> None:
            with io.BytesIO(self._raw) if self._raw is not None else src.open("rb") as src_fh:
                _write_zip(src_fh, self._infos, self._comment, out, replaced)

        _atomic_write(dst, write, overwrite)


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
    _check_dst(src, dst, overwrite)
    TemplateFiller(src, values.keys()).fill(dst, values, overwrite=overwrite)


def _refuse_dtd(*_args: object) -> None:
    raise defusedxml.DTDForbidden(None, None, None)


def _parse_check(data: bytes, part: str, src: Path) -> None:
    """Check that XML is well-formed (fast: expat without tree), refusing DTDs/entities."""
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    try:
        parser.Parse(data, True)
    except defusedxml.DefusedXmlException:
        raise WorkbookError(f"{src.name}: XML bomb or DTD refused in {part}") from None
    except expat.ExpatError as exc:
        raise WorkbookError(f"{src.name}: damaged XML in {part} ({exc})") from None


def _atomic_write(dst: Path, write: Callable[[IO[bytes]], object], overwrite: bool) -> None:
    """:func:`xlcost._files.atomic_write`, its problems as :class:`WorkbookError`."""
    try:
        atomic_write(dst, write, overwrite=overwrite)
    except OutputError as exc:
        raise WorkbookError(str(exc)) from None
