"""Build the template corpus for the package-layer tests (XlsxWriter + hand-made parts)."""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import xlsxwriter

from xlcost.engine import INPUT_NAMES as XLCOST_INPUTS
from xlcost.engine import seed_scenario

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
XLSM_CT = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"


def tiny_png() -> bytes:
    """A valid 1x1 red PNG built in code."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


PIVOT_DEF = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<pivotCacheDefinition xmlns="{MAIN_NS}" xmlns:r="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships" r:id="rId1" refreshOnLoad="1" recordCount="3">'
    '<cacheSource type="worksheet"><worksheetSource ref="A1:A3" sheet="Lists"/></cacheSource>'
    '<cacheFields count="1"><cacheField name="Item" numFmtId="0"><sharedItems/></cacheField>'
    "</cacheFields></pivotCacheDefinition>"
)
PIVOT_REC = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<pivotCacheRecords xmlns="{MAIN_NS}" count="0"/>'
)
CUSTOM_XML = (
    '<?xml version="1.0" encoding="UTF-8"?><xlcost:meta xmlns:xlcost="urn:x">1</xlcost:meta>'
)
CALC_CHAIN = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<calcChain xmlns="{MAIN_NS}"><c r="C8" i="1"/><c r="C9"/><c r="B2" i="2"/>'
    '<c r="B3"/></calcChain>'
)

# cells of the Inputs sheet that the template fills with inputs (name -> cell)
INPUT_NAMES = {
    "train_gpus": "C3",
    "gpu_hour_cost": "C4",
    "model_name": "C5",
    "use_cache": "C6",
    "region": "C7",
    "derived_input": "C8",
}


def xlcost_cells() -> dict[str, str]:
    """Cells of the xlcost inputs in a corpus template built with ``xlcost=True``.

    ``train_gpus`` keeps the corpus cell (Inputs!C3); the others go down column H.
    """
    cells = {"train_gpus": INPUT_NAMES["train_gpus"]}
    others = [n for n in XLCOST_INPUTS if n not in cells]
    cells.update({n: f"H{row}" for row, n in enumerate(others, start=3)})
    return cells


def _write_xlcost_inputs(wb: xlsxwriter.Workbook, inputs: Any) -> None:
    """The worked example's inputs, one defined name each (train_gpus stays 8 at C3)."""
    seed = seed_scenario().model_dump()
    for name, cell in xlcost_cells().items():
        if name == "train_gpus":
            continue
        inputs.write_string(f"G{cell[1:]}", name)
        if seed[name] is not None:
            inputs.write(cell, seed[name])
        if name not in INPUT_NAMES:
            wb.define_name(name, f"=Inputs!${cell[0]}${cell[1:]}")


def build_xlsxwriter(path: Path, *, vba: bool, xlcost: bool = False) -> None:
    wb = xlsxwriter.Workbook(str(path))
    inputs = wb.add_worksheet("Inputs")
    model = wb.add_worksheet("Model")
    lists = wb.add_worksheet("Lists")
    cash = wb.add_worksheet("Cash flow")
    money = wb.add_format({"num_format": "#,##0.00", "bg_color": "#FFF2CC"})
    bold = wb.add_format({"bold": True})

    for row, label in enumerate(
        ["Train GPUs", "GPU hour cost", "Model", "Use cache", "Region", "Derived"], start=2
    ):
        inputs.write(row, 0, label, bold)
    inputs.write_number("C3", 8, money)
    inputs.write_number("C4", 2.5, money)
    inputs.write_string("C5", "bert-base", money)
    inputs.write_boolean("C6", True, money)
    inputs.write_string("C7", "EU", money)
    inputs.write_formula("C8", "=C3*3", money, 24)
    inputs.write_formula("C9", "=C4*2", money, 5)
    inputs.write_string("E20", "notes")
    inputs.write_formula("D1", "=1/0", None, "#DIV/0!")
    for name, cell in INPUT_NAMES.items():
        wb.define_name(name, f"=Inputs!${cell[0]}${cell[1:]}")
    wb.define_name("rates", "=Inputs!$C$3:$C$4")
    wb.define_name("Inputs!local_only", "=Inputs!$C$3")
    wb.define_name("constant", "=1+2")
    wb.define_name("cash_start", "='Cash flow'!$B$3")
    if xlcost:
        _write_xlcost_inputs(wb, inputs)

    lists.write_column("A1", ["EU", "US", "APAC"])
    inputs.data_validation("C7", {"validate": "list", "source": "=Lists!$A$1:$A$3"})
    inputs.data_validation("C3", {"validate": "integer", "criteria": ">=", "value": 0})
    inputs.conditional_format("C3:C4", {"type": "data_bar", "bar_solid": True})
    inputs.conditional_format("C3:C4", {"type": "cell", "criteria": ">", "value": 100})
    inputs.write_comment("C3", "Number of GPUs used for training")

    model.write("A1", "Cost")
    model.write_formula("B2", "=train_gpus*gpu_hour_cost", None, 20)
    model.write_formula("B3", "=Inputs!C3+1", None, 9)
    model.write_formula("B4", '=IF(use_cache,"yes","no")', None, "yes")
    model.write_array_formula("D1:D3", "{=Inputs!C3:C5}")
    for i in range(5):
        model.write_number(10 + i, 0, i)
        model.write_number(10 + i, 1, i * i)
    chart = wb.add_chart({"type": "line"})
    chart.add_series({"values": "=Model!$B$11:$B$15"})
    model.insert_chart("D6", chart)
    png = path.parent / "tiny.png"
    png.write_bytes(tiny_png())
    model.insert_image("H2", str(png))
    model.insert_button("H10", {"macro": "recalc" if vba else None, "caption": "Go"})

    cash.write("A3", "Start")
    cash.write_number("B3", 1000)
    cash.write_formula("B4", "=B3*1.1", None, 1100)

    if vba:
        blob = path.parent / "vbaProject.bin"
        blob.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"fake vba project" * 8)
        wb.set_vba_name()
        wb.add_vba_project(str(blob))
    wb.close()


def post_process(path: Path) -> None:
    """Add a custom XML part, a pivot cache and a calc chain; make calcPr plain."""
    with zipfile.ZipFile(path) as zf:
        members = [(zi, zf.read(zi)) for zi in zf.infolist()]
    out: list[tuple[str, bytes, int]] = []
    for zi, data in members:
        if zi.filename == "[Content_Types].xml":
            text = data.decode()
            text = text.replace(
                "</Types>",
                '<Override PartName="/xl/pivotCache/pivotCacheDefinition1.xml" ContentType="'
                "application/vnd.openxmlformats-officedocument.spreadsheetml."
                'pivotCacheDefinition+xml"/>'
                '<Override PartName="/xl/pivotCache/pivotCacheRecords1.xml" ContentType="'
                "application/vnd.openxmlformats-officedocument.spreadsheetml."
                'pivotCacheRecords+xml"/>'
                '<Override PartName="/xl/calcChain.xml" ContentType="application/'
                'vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"/>'
                "</Types>",
            )
            data = text.encode()
        elif zi.filename == "xl/_rels/workbook.xml.rels":
            text = data.decode()
            base = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
            text = text.replace(
                "</Relationships>",
                f'<Relationship Id="rId90" Type="{base}/pivotCacheDefinition" '
                'Target="pivotCache/pivotCacheDefinition1.xml"/>'
                f'<Relationship Id="rId91" Type="{base}/calcChain" Target="calcChain.xml"/>'
                "</Relationships>",
            )
            data = text.encode()
        elif zi.filename == "xl/workbook.xml":
            text = data.decode()
            assert '<calcPr calcId="124519" fullCalcOnLoad="1"/>' in text
            text = text.replace(
                '<calcPr calcId="124519" fullCalcOnLoad="1"/>',
                '<calcPr calcId="191029"/><pivotCaches><pivotCache cacheId="1" r:id="rId90"/>'
                "</pivotCaches>",
            )
            data = text.encode()
        out.append((zi.filename, data, zi.compress_type))
    out.append(("customXml/item1.xml", CUSTOM_XML.encode(), zipfile.ZIP_DEFLATED))
    out.append(
        ("xl/pivotCache/pivotCacheDefinition1.xml", PIVOT_DEF.encode(), zipfile.ZIP_DEFLATED)
    )
    out.append(("xl/pivotCache/pivotCacheRecords1.xml", PIVOT_REC.encode(), zipfile.ZIP_STORED))
    out.append(("xl/calcChain.xml", CALC_CHAIN.encode(), zipfile.ZIP_DEFLATED))
    path.unlink()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data, ctype in out:
            zf.writestr(zipfile.ZipInfo(name, (2024, 1, 2, 3, 4, 6)), data, compress_type=ctype)


def build_template(directory: Path, *, vba: bool = True, xlcost: bool = False) -> Path:
    """The corpus template; with ``xlcost``, also a defined name per xlcost input."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = "xlcost_template" if xlcost else "template"
    path = directory / (f"{stem}.xlsm" if vba else f"{stem}.xlsx")
    build_xlsxwriter(path, vba=vba, xlcost=xlcost)
    post_process(path)
    return path
