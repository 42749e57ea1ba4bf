"""What ``xl/workbook.xml`` says: the sheets (name → part) and the defined names (name → cell).

Defined names are looked up case-insensitively, as Excel does (``TRAIN_GPUS`` is the name
``train_gpus``); only workbook-scoped names that point to one cell count.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import Element

from xlcost.workbooks.cells import CellRef, WorkbookError, a1, parse_a1, parse_range

__all__ = [
    "DefinedNames",
    "Sheet",
    "defined_names_of",
    "defined_ranges_of",
    "find_sheet",
    "part_targets",
    "sheets_of",
]


@dataclass(frozen=True)
class Sheet:
    """A sheet of the workbook: name, ``sheetId`` and part (``xl/worksheets/sheet1.xml``)."""

    name: str
    sheet_id: str
    part: str


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _rels_attr_id(elem: Element) -> str | None:
    for key, val in elem.attrib.items():
        if key.startswith("{") and _local(key) == "id" and "relationships" in key:
            return val
    return None


def part_targets(rels: Element | None) -> dict[str, tuple[str, str]]:
    """The internal relationships of ``xl/_rels/workbook.xml.rels``: id → (type, part)."""
    targets: dict[str, tuple[str, str]] = {}
    for rel in rels if rels is not None else ():
        if _local(rel.tag) == "Relationship" and rel.get("TargetMode") != "External":
            target = rel.get("Target", "")
            if target.startswith("/"):
                part = posixpath.normpath(target.lstrip("/"))
            else:
                part = posixpath.normpath(posixpath.join("xl", target))
            targets[rel.get("Id", "")] = (rel.get("Type", ""), part)
    return targets


def sheets_of(root: Element, targets: Mapping[str, tuple[str, str]]) -> list[Sheet]:
    """The sheets listed by the workbook part, with the parts their relationships name."""
    sheets = []
    for elem in root.iter():
        if _local(elem.tag) == "sheet":
            _type, part = targets.get(_rels_attr_id(elem) or "", ("", ""))
            sheets.append(Sheet(elem.get("name", ""), elem.get("sheetId", ""), part))
    return sheets


def find_sheet(sheets: list[Sheet], name: str, path: Path) -> Sheet:
    """The sheet named ``name`` (exactly, else case-insensitively, as Excel matches them)."""
    for sh in sheets:
        if sh.name == name:
            return sh
    for sh in sheets:
        if sh.name.casefold() == name.casefold():
            return sh
    raise WorkbookError(f"{path.name}: no sheet named {name!r}")


class DefinedNames(Mapping[str, CellRef]):
    """Workbook-scoped single-cell defined names, looked up case-insensitively.

    Iteration gives the names as the workbook spells them.

    Examples
    --------
    >>> names = DefinedNames({"TRAIN_GPUS": CellRef("Inputs", "B2")})
    >>> names["train_gpus"], "Train_Gpus" in names, list(names)
    (CellRef(sheet='Inputs', cell='B2'), True, ['TRAIN_GPUS'])
    """

    def __init__(self, names: Mapping[str, CellRef]) -> None:
        self._by_key = {name.casefold(): (name, ref) for name, ref in names.items()}

    def __getitem__(self, name: str) -> CellRef:
        return self._by_key[name.casefold()][1]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.casefold() in self._by_key

    def __iter__(self) -> Iterator[str]:
        return (spelled for spelled, _ref in self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)

    def among(self, wanted: Iterable[str]) -> dict[str, CellRef]:
        """The cells of the names in ``wanted`` that the workbook defines, keyed as in ``wanted``
        (sorted: a stable set of cells)."""
        return {k: self[k] for k in sorted(set(wanted)) if k in self}


_SHEET_RE = r"(?:'((?:[^']|'')+)'|([^'!:\[\]]+))!"
_CELL_RE = r"\$?[A-Za-z]{1,3}\$?[0-9]+"
_NAME_REF_RE = re.compile(f"{_SHEET_RE}({_CELL_RE})")
_RANGE_REF_RE = re.compile(f"{_SHEET_RE}({_CELL_RE}(?::{_CELL_RE})?)")

Bounds = tuple[int, int, int, int]
"""(first row, first column, last row, last column) of a range."""


def _workbook_names(root: Element) -> Iterator[tuple[str, str]]:
    """The workbook-scoped defined names (not built-in ``_xlnm.`` ones): (name, text)."""
    for elem in root.iter():
        if _local(elem.tag) != "definedName":
            continue
        name = elem.get("name", "")
        if not name or elem.get("localSheetId") is not None or name.startswith("_xlnm."):
            continue
        yield name, (elem.text or "").strip()


def defined_ranges_of(root: Element) -> dict[str, tuple[str, Bounds]]:
    """The workbook-scoped defined names that point to one rectangle of one sheet (a single
    cell too): name (case-folded) → (sheet, bounds), e.g. the Catalog sheet's
    ``catalog_table``."""
    out: dict[str, tuple[str, Bounds]] = {}
    for name, text in _workbook_names(root):
        m = _RANGE_REF_RE.fullmatch(text)
        bounds = parse_range(m.group(3).replace("$", "")) if m else None
        if m and bounds is not None:
            sheet = m.group(1).replace("''", "'") if m.group(1) is not None else m.group(2)
            out[name.casefold()] = (sheet, bounds)
    return out


def defined_names_of(root: Element, path: Path) -> DefinedNames:
    """The single-cell, workbook-scoped defined names of a parsed ``xl/workbook.xml``.

    Names pointing to ranges, formulas, constants or other workbooks, sheet-scoped names
    (``localSheetId``) and built-in ``_xlnm.`` names are ignored; two names that differ only
    in case (which Excel does not allow) are refused.
    """
    out: dict[str, CellRef] = {}
    seen: dict[str, str] = {}
    for name, text in _workbook_names(root):
        m = _NAME_REF_RE.fullmatch(text)
        if not m:
            continue
        sheet = m.group(1).replace("''", "'") if m.group(1) is not None else m.group(2)
        rc = parse_a1(m.group(3))
        if rc is None:
            continue
        other = seen.setdefault(name.casefold(), name)
        if other != name:
            raise WorkbookError(
                f"{path.name}: defined names {other!r} and {name!r} differ only in case "
                "(Excel's names are not case-sensitive)"
            )
        out[name] = CellRef(sheet, a1(*rc))
    return DefinedNames(out)
