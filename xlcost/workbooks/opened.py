"""One workbook package, opened once and checked once: the object every reader and filler uses.

:class:`OpenWorkbook` reads the file once (into memory up to :data:`KEEP_IN_MEMORY`), refuses
it if it is not a safe package (:mod:`xlcost.workbooks.safety`), and then answers from that one
opened, checked copy:

* :attr:`OpenWorkbook.names` — the defined names (looked up case-insensitively);
* :meth:`OpenWorkbook.read` — values, formulas and errors of these cells (the sheet text
  scanned by the same scanner the writer uses, stopping after the last row needed);
* :meth:`OpenWorkbook.filler` — a :class:`~xlcost.workbooks.filling.TemplateFiller` to fill
  these cells, many times.

Parts are read and parsed at most once each.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import IO, TYPE_CHECKING
from xml.etree.ElementTree import Element

from xlcost.workbooks.cells import CellRef, CellValue, WorkbookError, cell_rc
from xlcost.workbooks.names import (
    Bounds,
    DefinedNames,
    Sheet,
    defined_names_of,
    defined_ranges_of,
    find_sheet,
    part_targets,
    sheets_of,
)
from xlcost.workbooks.reading import decode, shared_index
from xlcost.workbooks.safety import (
    WORKBOOK,
    check_head,
    check_members,
    open_zip,
    parse_xml,
    path_handle,
    read_member,
)
from xlcost.workbooks.sheetscan import (
    RawCell,
    element_cell,
    locate_cells,
    raw_cell,
    scan_sheet,
    shared_strings,
)

if TYPE_CHECKING:
    from xlcost.workbooks.filling import TemplateFiller

__all__ = ["KEEP_IN_MEMORY", "OpenWorkbook", "open_workbook"]

KEEP_IN_MEMORY = 8 * 2**20
"""A workbook up to this size is read into memory once (a larger one is read from disk)."""
WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
_SHARED_STRINGS = "/sharedStrings"


@dataclass(frozen=True)
class _Facts:
    sheets: list[Sheet]
    names: DefinedNames
    targets: dict[str, tuple[str, str]]
    ranges: dict[str, tuple[str, Bounds]]


_FACTS: dict[tuple[bytes, bytes | None], _Facts] = {}
_FACTS_KEPT = 16


class OpenWorkbook:
    """A workbook package opened and checked once.

    Parameters
    ----------
    path : Path
        The ``.xlsx``/``.xlsm`` file; never modified.  With ``data``, only the name that
        messages use: nothing is read from (or left on) disk.
    data : bytes, optional
        The workbook's bytes, e.g. a template made in memory.

    Raises
    ------
    WorkbookError
        Not a regular file, not a safe zip, not a workbook (see
        :func:`~xlcost.workbooks.safety.check_package`).

    Examples
    --------
    ::

        book = OpenWorkbook(Path("q3.xlsx"))
        ref = book.names["train_gpus"]              # case-insensitive
        book.read([ref])[ref].value                 # 64.0
        book.filler([ref]).fill(Path("q4.xlsx"), {ref: 128})
    """

    def __init__(self, path: Path, data: bytes | None = None) -> None:
        self.path = path
        self.on_disk = data is None
        """False for a workbook given as bytes (there is no file to compare outputs with)."""
        self.raw: bytes | None = None
        """The file's bytes, if it is at most :data:`KEEP_IN_MEMORY` (else read from disk)."""
        fh: IO[bytes] = path_handle(path) if data is None else io.BytesIO(data)
        try:
            check_head(path, fh)
            if data is not None:
                self.raw = data
            elif fh.seek(0, 2) <= KEEP_IN_MEMORY:
                fh.seek(0)
                self.raw = fh.read()
                fh.close()
                fh = io.BytesIO(self.raw)
            fh.seek(0)
            self._zip = open_zip(path, fh)
            check_members(path, self._zip.infolist())
        except BaseException:
            fh.close()
            raise
        self.infos: list[zipfile.ZipInfo] = self._zip.infolist()
        self.comment = self._zip.comment
        self._parts: dict[str, bytes] = {}

    def close(self) -> None:
        """Close the file (a workbook kept in memory needs no closing)."""
        self._zip.close()

    def __enter__(self) -> OpenWorkbook:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ parts

    def has_part(self, part: str) -> bool:
        """True if the package holds ``part``."""
        return part in self._zip.NameToInfo

    def part(self, part: str) -> bytes:
        """The uncompressed bytes of ``part`` (read once)."""
        data = self._parts.get(part)
        if data is None:
            data = self._parts[part] = read_member(self._zip, part, self.path)
        return data

    def text(self, part: str) -> str:
        """The text of an XML part; one that is not UTF-8 or carries a DTD is refused."""
        try:
            xml = self.part(part).decode("utf-8")
        except UnicodeDecodeError:
            raise WorkbookError(f"{self.path.name}: {part} is not UTF-8 encoded") from None
        if "<!DOCTYPE" in xml or "<!ENTITY" in xml:
            raise WorkbookError(f"{self.path.name}: XML bomb or DTD refused in {part}")
        return xml

    def open_source(self) -> IO[bytes]:
        """A fresh binary handle on the whole file (raw member copies are read from it)."""
        return io.BytesIO(self.raw) if self.raw is not None else self.path.open("rb")

    @cached_property
    def workbook(self) -> Element:
        """``xl/workbook.xml``, parsed (DTDs and entities refused)."""
        return parse_xml(self.part(WORKBOOK), WORKBOOK, self.path)

    @cached_property
    def _facts(self) -> _Facts:
        """Sheets, defined names and relationships, parsed once per distinct workbook part.

        A batch of workbooks made from one template has the same ``xl/workbook.xml`` and
        relationships in every file: they are parsed (and checked) for the first one only.
        """
        rels = self.part(WORKBOOK_RELS) if self.has_part(WORKBOOK_RELS) else None
        key = (self.part(WORKBOOK), rels)
        facts = _FACTS.get(key)
        if facts is None:
            targets = (
                {} if rels is None else part_targets(parse_xml(rels, WORKBOOK_RELS, self.path))
            )
            root = self.workbook
            facts = _Facts(
                sheets_of(root, targets),
                defined_names_of(root, self.path),
                targets,
                defined_ranges_of(root),
            )
            if len(_FACTS) >= _FACTS_KEPT:
                del _FACTS[next(iter(_FACTS))]
            _FACTS[key] = facts
        return facts

    @property
    def _targets(self) -> dict[str, tuple[str, str]]:
        return self._facts.targets

    @property
    def sheets(self) -> list[Sheet]:
        """The sheets, in workbook order."""
        return self._facts.sheets

    @property
    def names(self) -> DefinedNames:
        """The workbook-scoped defined names that point to one cell (case-insensitive)."""
        return self._facts.names

    def defined_range(self, name: str) -> tuple[str, Bounds] | None:
        """The sheet and bounds of the workbook-scoped defined name ``name`` (case-insensitive)
        if it points to one rectangle of cells, e.g. ``catalog_table``; else None."""
        return self._facts.ranges.get(name.casefold())

    def sheet(self, name: str) -> Sheet:
        """The sheet named ``name`` (exactly, else case-insensitively)."""
        return find_sheet(self.sheets, name, self.path)

    def worksheet_part(self, ref: CellRef) -> str:
        """The part of the worksheet ``ref`` is on; refused if it is not a worksheet."""
        part = self.sheet(ref.sheet).part
        if not self.has_part(part) or "worksheets/" not in part:
            raise WorkbookError(f"{self.path.name}: {ref.sheet!r} is not a worksheet")
        return part

    @cached_property
    def shared_strings_part(self) -> str:
        """The shared-strings part the workbook's relationships name."""
        for kind, part in self._targets.values():
            if kind.endswith(_SHARED_STRINGS):
                return part
        return "xl/sharedStrings.xml"

    # ------------------------------------------------------------------ reading

    def read(self, refs: Iterable[CellRef]) -> dict[CellRef, CellValue]:
        """Read cells (values, formulas, errors) from the sheet text.

        Returns
        -------
        dict of CellRef to CellValue
            One entry per requested cell; missing cells have value None.  Numbers are
            floats, ``t="d"`` dates their ISO text.

        Raises
        ------
        WorkbookError
            Unknown sheet, not a worksheet, invalid cell reference, damaged XML or value.
        """
        refs = list(refs)
        by_part: dict[str, dict[tuple[int, int], list[CellRef]]] = {}
        for ref in refs:
            part = self.sheet(ref.sheet).part
            if not self.has_part(part):
                raise WorkbookError(f"{self.path.name}: sheet {ref.sheet!r} has no cells")
            by_part.setdefault(part, {}).setdefault(cell_rc(ref, self.path), []).append(ref)
        raws: dict[CellRef, RawCell] = {}
        for part, wanted in by_part.items():
            raws |= self._raw_cells(part, wanted)
        needed = {i for raw in raws.values() if (i := shared_index(raw)) is not None}
        strings = self._shared_strings(needed)
        return {ref: decode(ref, raws[ref], strings, self.path) for ref in refs}

    def _raw_cells(
        self, part: str, wanted: dict[tuple[int, int], list[CellRef]]
    ) -> dict[CellRef, RawCell]:
        """The raw content of the wanted cells of one sheet part (scan stops after their rows)."""
        err = f"{self.path.name}: {part}"
        elements = locate_cells(self.part(part), set(wanted), err)
        if elements is None:
            xml = self.text(part)
            cells = scan_sheet(xml, {r for r, _c in wanted}, err, complete=False).cells
            return {
                ref: raw_cell(xml, cells.get(rc), err)
                for rc, refs in wanted.items()
                for ref in refs
            }
        return {
            ref: element_cell(elements[rc], err) if rc in elements else RawCell()
            for rc, refs in wanted.items()
            for ref in refs
        }

    def _shared_strings(self, needed: set[int]) -> dict[int, str]:
        part = self.shared_strings_part
        if not needed or not self.has_part(part):
            return {}
        return shared_strings(self.text(part), needed, f"{self.path.name}: {part}")

    # ------------------------------------------------------------------ filling

    def filler(self, cells: Iterable[CellRef]) -> TemplateFiller:
        """A :class:`~xlcost.workbooks.filling.TemplateFiller` for ``cells`` of this workbook."""
        from xlcost.workbooks.filling import TemplateFiller

        return TemplateFiller(self, cells)


def open_workbook(path: Path | OpenWorkbook) -> OpenWorkbook:
    """``path`` opened and checked (an :class:`OpenWorkbook` is returned as it is)."""
    return path if isinstance(path, OpenWorkbook) else OpenWorkbook(path)
