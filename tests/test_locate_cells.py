"""The reading fast path finds input cells by their ``r`` attribute: where it answers, it
answers what the full sheet scanner reads; where it cannot be exact it declines (None)."""

from __future__ import annotations

import pytest

from xlcost.workbooks.sheetscan import element_cell, locate_cells, raw_cell, scan_sheet

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
WANTED = {(1, 1), (1, 2), (2, 1)}


def _sheet(rows: str, head: str = "", prefix: str = "") -> str:
    p = f"{prefix}:" if prefix else ""
    xmlns = f"xmlns:{prefix}" if prefix else "xmlns"
    return f'{head}<{p}worksheet {xmlns}="{NS}"><{p}sheetData>{rows}</{p}sheetData></{p}worksheet>'


def _prefixed(rows: str) -> str:
    for tag in ("row", "c", "v", "f", "is", "t"):
        rows = rows.replace(f"<{tag}>", f"<x:{tag}>").replace(f"<{tag} ", f"<x:{tag} ")
        rows = rows.replace(f"</{tag}>", f"</x:{tag}>")
    return rows


PLAIN = '<row r="1"><c r="A1"><v>1.5</v></c><c r="B1" t="inlineStr"><is><t>x</t></is></c></row>'
ROW2 = '<row r="2"><c r="A2" s="3"><f>A1*2</f><v>3</v></c></row>'


@pytest.mark.parametrize(
    ("xml", "answers"),
    [
        (_sheet(PLAIN + ROW2), True),
        (_sheet(PLAIN + ROW2, head='<?xml version="1.0" encoding="UTF-8"?>\n'), True),
        (_sheet(PLAIN.replace('r="A1"', "r='A1'") + ROW2), True),
        (_sheet(PLAIN.replace('<c r="A1">', '<c s="1" r="A1">') + ROW2), True),
        (_sheet(PLAIN.replace('<row r="1">', '<row r="1" xr="B1">') + ROW2), True),
        (_sheet(PLAIN + ROW2.replace(" r=", "\n\tr=")), True),
        (_sheet(_prefixed(PLAIN + ROW2), prefix="x"), True),
        (_sheet(PLAIN), True),  # A2 absent (blank), every cell has an r
        # declined: the fast path could be wrong
        (_sheet(PLAIN + "<!-- A2 -->" + ROW2), False),
        (_sheet(PLAIN + ROW2.replace("A1*2", "<![CDATA[A1*2]]>")), False),
        (_sheet(PLAIN + "<?pi x?>" + ROW2), False),
        (_sheet(PLAIN.replace('r="A1"', 'r = "A1"') + ROW2), False),
        (_sheet(PLAIN.replace('r="A1"', 'r= "A1"') + ROW2), False),
        (_sheet(PLAIN + ROW2 + '<row r="3"><c r="A1"><v>9</v></c></row>'), False),
        (_sheet(PLAIN + '<row r="2"><c><v>3</v></c></row>'), False),  # A2 may be the one
        (_sheet(PLAIN.replace('r="B1"', 'xr="B1"') + ROW2), False),  # so may this be B1
    ],
)
def test_locate_cells_answers_as_the_scanner_reads(xml: str, answers: bool) -> None:
    found = locate_cells(xml.encode(), WANTED, "s.xlsx")
    assert (found is not None) is answers
    if found is None:
        return
    scan = scan_sheet(xml, {1, 2}, "s.xlsx", complete=False).cells
    for rc in WANTED:
        fast = element_cell(found[rc], "s.xlsx") if rc in found else raw_cell(xml, None, "s.xlsx")
        assert fast == raw_cell(xml, scan.get(rc), "s.xlsx"), rc
