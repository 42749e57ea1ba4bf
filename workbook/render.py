"""Render the template's sheets to PNG through LibreOffice, to look at them as a user would.

    python workbook/render.py [--mode udf|portable] [--out DIR]

Builds the template (pre-filled with the worked example), converts it to PDF with LibreOffice
(formulas recalculated; use portable mode, which needs no add-in) and rasterises every page with
``pdftoppm``. Prints the PNG paths, and the PDF's text into ``DIR/<name>.txt`` for checks.
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

from xlcost.workbooks.libreoffice import convert
from xlcost.workbooks.template import build_template


def render(mode: str, out: Path, dpi: int = 60) -> list[Path]:
    """Build, convert to PDF and rasterise; returns the PNG files (one per page)."""
    out.mkdir(parents=True, exist_ok=True)
    xlsx = out / f"xlcost_template_{mode}.xlsx"
    build_template(mode, None, xlsx, overwrite=True)
    (pdf,) = convert([xlsx], out, "pdf")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True)
    pdf.with_suffix(".txt").write_bytes(text.stdout)
    for old in out.glob(f"{pdf.stem}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), str(pdf), str(out / pdf.stem)], check=True)
    return sorted(out.glob(f"{pdf.stem}-*.png"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["udf", "portable"], default="portable")
    parser.add_argument("--out", type=Path, default=Path("out/render"))
    parser.add_argument("--dpi", type=int, default=60)
    args = parser.parse_args()
    for png in render(args.mode, args.out, args.dpi):
        print(png)


if __name__ == "__main__":
    main()
