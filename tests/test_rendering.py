"""Every sheet as a user prints it: both template modes and a generated workbook for every shipped
example, printed to PDF by LibreOffice (workbook/render.py) in two batched runs.

The PDF text must not show ``###`` (a number too wide for its column), error values, ``Err:``
or a negative zero (``-0.00``); every text cell must fit its column (or its wrapped row) at the
default widths, estimated from the workbook itself; and each sheet prints on the pinned number
of pages (a page count that changes is a layout change to look at: ``python workbook/render.py``
writes the PNGs).

udf workbooks are printed with their cached values (what Excel shows once the add-in has
calculated them; LibreOffice cannot call the xlcost functions), portable ones recalculated.
"""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

import pytest
from excel_engines import require_libreoffice
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.worksheet.worksheet import Worksheet

from xlcost.cli import load_commands
from xlcost.scenario_files import load_scenarios
from xlcost.workbooks.template import build_template

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workbook"))
from render import Rendered, render_books  # noqa: E402

sys.path.remove(str(ROOT / "workbook"))

EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
FLAGGED = re.compile(r"###|Err:|#NAME\?|#VALUE!|#DIV/0!|#REF!|#NUM!|#N/A|(?<![\d.,])-0\.00(?!\d)")

TEMPLATE_PAGES = {
    "README": 1,
    "Inputs": 2,
    "Costs": 2,
    "Cash flow": 2,
    "Scenarios": 2,
    "Catalog": 2,
    "Checks": 1,
    "Risk": 1,
}
"""Pages per sheet of the shipped templates (the Cash flow sheet lays out all 120 months, with
a column per cost line; the Catalog sheet adds the purchase, reserved/spot and API prices)."""
GENERATED_PAGES = TEMPLATE_PAGES | {"Cash flow": 1, "Scenarios": 3}
"""Pages per sheet of a generated workbook of a shipped example (horizons up to 36 months; one
option on the Scenarios sheet, printed in portrait at full size, with its header on each page)."""


def _generate(example: Path, out: Path, mode: str) -> list[Path]:
    from typer.testing import CliRunner

    result = CliRunner().invoke(
        load_commands(), ["generate", str(example), "--out", str(out), "--mode", mode]
    )
    assert result.exit_code == 0, result.stderr
    names = [s.name for s in load_scenarios(example)]
    return [out / f"{name}.xlsx" for name in names]


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[Path, Rendered]]]:
    """kind → [(workbook, its print)]: "portable" (recalculated) and "udf" (cached values)."""
    require_libreoffice()
    d = tmp_path_factory.mktemp("render")
    out: dict[str, list[tuple[Path, Rendered]]] = {}
    for mode in ("portable", "udf"):
        paths = [d / mode / f"template_{mode}.xlsx"]
        paths[0].parent.mkdir(parents=True)
        build_template(mode, None, paths[0])
        for example in EXAMPLES:
            paths += _generate(example, d / mode / example.stem, mode)
        # LibreOffice names its PDFs after the workbooks: give each a unique stem.
        unique = []
        for i, p in enumerate(paths):
            q = d / mode / "in" / f"{i:02d}-{p.stem}.xlsx"
            q.parent.mkdir(exist_ok=True)
            q.write_bytes(p.read_bytes())
            unique.append(q)
        rendered = render_books(unique, d / mode / "pdf", recalc=mode == "portable")
        out[mode] = list(zip(unique, rendered, strict=True))
    return out


@pytest.mark.parametrize("mode", ["portable", "udf"])
def test_no_hashes_errors_or_negative_zero(
    books: dict[str, list[tuple[Path, Rendered]]], mode: str
) -> None:
    bad = []
    for path, book in books[mode]:
        for page, (sheet, text) in enumerate(zip(book.sheets, book.pages, strict=True), start=1):
            bad += [(path.stem, sheet, page, m.group()) for m in FLAGGED.finditer(text)]
    assert bad == []


@pytest.mark.parametrize("mode", ["portable", "udf"])
def test_pages_per_sheet_are_pinned(
    books: dict[str, list[tuple[Path, Rendered]]], mode: str
) -> None:
    conf = {"xlwings.conf": 1} if mode == "udf" else {}
    (template, first), *generated = books[mode]
    assert first.page_counts() == TEMPLATE_PAGES | conf, template.stem
    for path, book in generated:
        assert book.page_counts() == GENERATED_PAGES | conf, path.stem


def test_every_shipped_example_is_printed(books: dict[str, list[tuple[Path, Rendered]]]) -> None:
    names = {s.name for example in EXAMPLES for s in load_scenarios(example)}
    printed = {p.stem.split("-", 1)[1] for p, _ in books["portable"][1:]}
    assert printed == names
    text = "\n".join(books["portable"][0][1].pages)
    assert "BERT-base cross-encoder" in text and "-440.00" in text


# --------------------------------------------------------------------------- clipped text

_CHAR = {11: 0.95, 10: 0.85, 16: 1.5}
"""Column-width units one character of text takes at a font size (Calibri; a width unit is one
digit at 11 pt; measured on the rendered pages, with a margin)."""


def _print_area(ws: Worksheet) -> tuple[int, int, int, int]:
    area = ws.print_area
    text = area if isinstance(area, str) else str(area[0])
    ref = text.split("!")[-1].replace("$", "")
    min_col, min_row, max_col, max_row = range_boundaries(ref)
    assert None not in (min_col, min_row, max_col, max_row)
    return min_col, min_row, max_col, max_row  # type: ignore[return-value]


def _width(ws: Worksheet, col: int) -> float:
    dim = ws.column_dimensions.get(get_column_letter(col))
    return dim.width if dim is not None and dim.width else 8.43


def _clipped(ws: Worksheet) -> list[tuple[str, str, str]]:
    """Text cells whose text (estimated) does not fit the room they have."""
    _, min_row, max_col, max_row = _print_area(ws)
    merged = {str(r).split(":")[0]: r for r in ws.merged_cells.ranges}
    bad = []
    for row in ws.iter_rows(min_row=min_row, max_row=max_row, max_col=max_col):
        for cell in row:
            if not isinstance(cell.value, str) or not cell.value:
                continue
            size = round(cell.font.sz or 11) if cell.font else 11
            need = len(cell.value) * _CHAR.get(size, size / 11)
            if cell.coordinate in merged:
                r = merged[cell.coordinate]
                room = sum(_width(ws, c) for c in range(r.min_col, r.max_col + 1))
            else:
                room = _width(ws, cell.column)
            if cell.alignment.wrap_text:
                height = ws.row_dimensions[cell.row].height or 15
                lines = max(1, math.floor(height / (1.3 * size)))
                fits = math.ceil(need / room) <= lines if room else False
            else:
                col = cell.column + 1  # text runs on over empty cells to the right
                while need > room and col <= max_col and ws.cell(cell.row, col).value in (None, ""):
                    room += _width(ws, col)
                    col += 1
                fits = need <= room * 1.05
            if not fits:
                bad.append((ws.title, cell.coordinate, cell.value[:40]))
    return bad


@pytest.mark.parametrize("mode", ["portable", "udf"])
def test_text_fits_its_cells(tmp_path: Path, mode: str) -> None:
    paths = [tmp_path / "template.xlsx"]
    build_template(mode, None, paths[0])
    for example in EXAMPLES:
        paths += _generate(example, tmp_path / example.stem, mode)
    bad = []
    for path in paths:
        wb = load_workbook(path, data_only=True)
        for ws in wb.worksheets:
            if ws.print_area:
                bad += [(path.stem, *b) for b in _clipped(ws)]
    assert bad == []


def test_a_generated_cash_flow_lays_out_exactly_the_horizon(tmp_path: Path) -> None:
    """Months 0..horizon_months, no more: the table, its print area and its chart."""
    from xlcost.workbooks import layout as L

    for example in EXAMPLES:
        for path in _generate(example, tmp_path / example.stem, "portable"):
            horizon = next(s.horizon_months for s in load_scenarios(example) if s.name == path.stem)
            ws = load_workbook(path)[L.CASHFLOW]
            months = [
                ws.cell(r, 1).value
                for r in range(L.CF_FIRST_ROW, L.CF_FIRST_ROW + L.MAX_MONTHS + 1)
            ]
            assert months == [*range(horizon + 1), *[None] * (L.MAX_MONTHS - horizon)], path.stem
            last = L.cf_last_row(horizon)
            assert _print_area(ws)[3] == max(last, L.CF_HEADER_ROW + L.CF_CHART_ROWS)
            (chart,) = ws._charts
            refs = [s.val.numRef.f for s in chart.series] + [s.cat.numRef.f for s in chart.series]
            assert len(refs) == 2 and all(ref.endswith(f"${last}") for ref in refs), refs
