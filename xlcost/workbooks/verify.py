"""Checking what was written: an edited sheet re-read with an independent XML parser.

The editor finds positions with its own tag scanner; the check that each filled cell holds
exactly its value (and formula, if kept) uses :mod:`defusedxml`'s ElementTree instead, so a
mistake of the scanner cannot confirm itself.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import IO
from xml.etree.ElementTree import Element

from xlcost.workbooks.cells import CellRef, Value, WorkbookError, parse_a1
from xlcost.workbooks.reading import decode
from xlcost.workbooks.safety import iterparse
from xlcost.workbooks.sheetscan import RawCell

__all__ = ["verify_sheet"]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


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
) -> dict[tuple[int, int], RawCell]:
    """Stream a sheet part and return the raw content of the wanted cells."""
    found: dict[tuple[int, int], RawCell] = {}
    if not wanted:
        return found
    last_row = max(r for r, _ in wanted)
    wanted_rows = {r for r, _ in wanted}
    row, col = 0, 0
    sheet_data: Element | None = None
    for event, elem in iterparse(fh, part, path, ("start", "end")):
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
            rc = parse_a1(ref) if ref else None
            col = rc[1] if rc else col + 1
            if (row, col) in wanted:
                raw = RawCell(t=elem.get("t", "n"))
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


def verify_sheet(
    data: bytes,
    targets: dict[tuple[int, int], tuple[CellRef, Value]],
    part: str,
    src: Path,
    cached: frozenset[tuple[int, int]] = frozenset(),
) -> None:
    """Re-parse an edited sheet and check every target cell holds its value (and formula)."""
    found = _scan_cells(io.BytesIO(data), set(targets), part, src)
    for rc, (ref, value) in targets.items():
        got = decode(ref, found.get(rc, RawCell()), {}, src)
        expected: object = value
        if isinstance(value, int) and not isinstance(value, bool):
            expected = float(value)
        ok = (got.formula is not None) is (rc in cached)
        ok = ok and got.error is None and got.value == expected
        ok = ok and type(got.value) is type(expected)
        if not ok:
            raise WorkbookError(f"{src.name}: internal error writing {ref} (verification failed)")
