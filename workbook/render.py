"""Render workbooks' sheets to PDF and PNG through LibreOffice, to look at them as a user would.

    python workbook/render.py [--mode udf|portable] [--out DIR] [--dpi N] [FILE.xlsx ...]

Without files: builds the template (pre-filled with the worked example). Converts the workbooks to
PDF with LibreOffice in one run (formulas recalculated), rasterises every page with ``pdftoppm``
and prints, per workbook, each sheet's page count and the PNG paths; the PDF's text goes into
``DIR/<name>.txt`` for checks. The pages of a sheet are found by its title (cell A1), which every
xlcost sheet prints at the top of its first page.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

from xlcost.workbooks.libreoffice import convert
from xlcost.workbooks.template import build_template

TITLES = {
    "README": "xlcost: what an AI model",
    "Inputs": "Inputs:",
    "Costs": "Costs:",
    "Cash flow": "Cash flow:",
    "Scenarios": "Scenarios:",
    "Catalog": "Catalog:",
    "Checks": "Checks:",
    "Risk": "Risk:",
    "xlwings.conf": "UDF Modules",
}
"""Sheet → the start of its title, as printed at the top of its first page."""


@dataclass(frozen=True)
class Rendered:
    """One workbook printed to PDF: its pages' text and which sheet each page belongs to."""

    pdf: Path
    pages: tuple[str, ...]
    sheets: tuple[str, ...]
    """The sheet of each page (a page without a title continues the sheet before it)."""

    def page_counts(self) -> dict[str, int]:
        """Sheet → pages, in print order."""
        counts: dict[str, int] = {}
        for sheet in self.sheets:
            counts[sheet] = counts.get(sheet, 0) + 1
        return counts


def _pages(pdf: Path) -> tuple[str, ...]:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    match = re.search(r"^Pages:\s+(\d+)", info.stdout, re.M)
    n = int(match.group(1)) if match else 0
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = text.split("\f")
    return tuple(pages[:n])


def _sheet_of_pages(pages: tuple[str, ...]) -> tuple[str, ...]:
    sheets: list[str] = []
    for page in pages:
        head = "\n".join(page.strip().splitlines()[:3])
        found = next((s for s, title in TITLES.items() if title in head), None)
        sheets.append(found or (sheets[-1] if sheets else "?"))
    return tuple(sheets)


def _without_calc_on_load(path: Path, folder: Path) -> Path:
    """A copy of ``path`` holding its cached values instead of its formulas, not recalculated."""
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / path.name
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/workbook.xml":
                data = re.sub(rb'\s+fullCalcOnLoad="(?:1|true)"', b"", data)
            elif item.filename.startswith("xl/worksheets/sheet"):  # values only, as calculated
                data = re.sub(rb"<f>[^<]*</f>|<f [^>]*/>|<f [^>]*>[^<]*</f>", b"", data)
            dst.writestr(item, data)
    return copy


def render_books(
    paths: list[Path], out: Path, dpi: int | None = None, *, recalc: bool = True
) -> list[Rendered]:
    """Print ``paths`` to PDF in one LibreOffice run; with ``dpi``, also PNGs of every page.

    ``recalc=False`` prints the cached values (udf workbooks: what Excel shows once the add-in
    has calculated them; LibreOffice cannot call the xlcost functions)."""
    out.mkdir(parents=True, exist_ok=True)
    if not recalc:
        paths = [_without_calc_on_load(p, out / "cached") for p in paths]
    pdfs = convert(paths, out, "pdf", recalc=recalc)
    rendered = []
    for pdf in pdfs:
        pages = _pages(pdf)
        pdf.with_suffix(".txt").write_text("\f".join(pages), encoding="utf-8")
        if dpi is not None:
            for old in out.glob(f"{pdf.stem}-*.png"):
                old.unlink()
            cmd = ["pdftoppm", "-png", "-r", str(dpi), str(pdf), str(out / pdf.stem)]
            subprocess.run(cmd, check=True)
        rendered.append(Rendered(pdf, pages, _sheet_of_pages(pages)))
    return rendered


def render(mode: str, out: Path, dpi: int = 60) -> list[Path]:
    """Build the template, print it and rasterise it; returns the PNG files (one per page)."""
    out.mkdir(parents=True, exist_ok=True)
    xlsx = out / f"xlcost_template_{mode}.xlsx"
    build_template(mode, None, xlsx, overwrite=True)
    (book,) = render_books([xlsx], out, dpi)
    return sorted(out.glob(f"{book.pdf.stem}-*.png"))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--mode", choices=["udf", "portable"], default="portable")
    parser.add_argument("--out", type=Path, default=Path("out/render"))
    parser.add_argument("--dpi", type=int, default=60)
    parser.add_argument("--cached", action="store_true", help="print cached values (udf mode)")
    args = parser.parse_args()
    if not args.files:
        xlsx = args.out / f"xlcost_template_{args.mode}.xlsx"
        args.out.mkdir(parents=True, exist_ok=True)
        build_template(args.mode, None, xlsx, overwrite=True)
        args.files = [xlsx]
    recalc = not args.cached and args.mode == "portable"
    for book in render_books(args.files, args.out, args.dpi, recalc=recalc):
        print(book.pdf.name, book.page_counts())
        for png in sorted(args.out.glob(f"{book.pdf.stem}-*.png")):
            print(" ", png)


if __name__ == "__main__":
    main()
