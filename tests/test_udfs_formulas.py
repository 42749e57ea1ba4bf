"""A workbook calling xlcost's functions, evaluated headlessly by `formulas`, gives exactly what
calling the Python functions gives (tests/excel_engines.py registers them)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from excel_engines import formulas_model
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.formula import ArrayFormula

from xlcost import udfs
from xlcost.functions import REGISTRY, ExcelError

GPUS = [8, 16, 32, -1, "x", None, 64]
HOURS = [1.5, 3, 3, 3, 3, 3, 10]


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Calc"
    ws.append(["gpus", "hours", "benefit", "cost", "train_cost", "roi"])
    n = len(GPUS)
    for i, (g, h) in enumerate(zip(GPUS, HOURS, strict=True), start=2):
        ws.cell(i, 1, g)
        ws.cell(i, 2, h)
    ws["C2"], ws["D2"] = 150, 590
    ws["C3"], ws["D3"] = 150, 0
    last = n + 1
    ws["E2"] = ArrayFormula(f"E2:E{last}", f"=TRAIN_COST(A2:A{last},B2:B{last},5)")
    ws["F2"] = '=ROI(C2,D2,"ratio")'
    ws["F3"] = "=ROI(C3,D3)"
    ws["F4"] = "=ROI(C2,D2)"
    ws["G2"] = "=TRAIN_COST(32,3,5)"
    ws["G3"] = "=DEPLOY_COST(1,100,0.1)"
    ws["G4"] = "=MAINTAIN_COST(2,100,0.5)"
    ws["G5"] = "=BENEFIT(1E+8,0.5%,0.3%,0.1)"  # Excel stores 1E8 as 1E+8
    ws["G6"] = "=BCR(G5,G2+G3+G4)"
    ws["G7"] = '=GPU_SPEC("H100","price_per_hour")'
    ws["G8"] = "=XLCOST_VERSION()"
    ws["G9"] = "=TRAIN_COST(NA(),3,5)"
    ws["G10"] = "=REPLICAS(1000,120)"
    ws["G11"] = "=TRAIN_HOURS(1E+9,1E+10,8,312,0.5)"
    ws["G12"] = "=TRAIN_FLOPS(7E+9,1E+12)"
    ws["G13"] = "=G2*2"  # native arithmetic on a UDF result
    wb.defined_names["seed_bcr"] = DefinedName("seed_bcr", attr_text="Calc!$G$6")
    path = tmp_path_factory.mktemp("wb") / "udfs.xlsx"
    wb.save(path)
    return path, formulas_model(path)


def test_range_formula_equals_python(book: tuple[Path, dict[str, object]]) -> None:
    _, v = book
    python = REGISTRY["TRAIN_COST"]([[g] for g in GPUS], [[h] for h in HOURS], 5)
    got = [v[f"Calc!E{r}"] for r in range(2, len(GPUS) + 2)]
    for g, p in zip(got, python.ravel().tolist(), strict=True):
        if isinstance(p, ExcelError):
            assert isinstance(g, ExcelError) and g.code == p.code
        else:
            assert g == p
    # and the hand-computed values: 8 × 1.5 × 5, 16 × 3 × 5, 32 × 3 × 5, …, 64 × 10 × 5
    assert got[:3] == [60.0, 240.0, 480.0] and got[6] == 3200.0
    assert [e.code for e in got[3:6]] == ["#NUM!", "#VALUE!", "#VALUE!"]  # type: ignore[union-attr]


def test_single_cells_equal_python(book: tuple[Path, dict[str, object]]) -> None:
    _, v = book
    assert v["Calc!F2"] == udfs.ROI(150, 590, "ratio") == pytest.approx(0.2542, abs=5e-5)
    assert v["Calc!F3"] == ExcelError("#DIV/0!")
    assert v["Calc!F4"] == udfs.ROI(150, 590) == pytest.approx(-0.7458, abs=5e-5)
    seed = [v[f"Calc!G{r}"] for r in range(2, 6)]
    assert seed == pytest.approx([480.0, 10.0, 100.0, 150.0])
    assert v["Calc!G6"] == v["seed_bcr"] == udfs.BCR(150, 590)
    assert v["Calc!G7"] == 3.78
    assert v["Calc!G8"] == udfs.XLCOST_VERSION()
    assert v["Calc!G9"] == ExcelError("#N/A")  # an error passed in is passed through
    assert v["Calc!G10"] == 12.0
    assert v["Calc!G11"] == udfs.TRAIN_HOURS(1e9, 1e10, 8, 312, 0.5)
    assert v["Calc!G12"] == 4.2e22
    assert v["Calc!G13"] == 960.0
    assert v["Calc!A2"] == 8 and v["Calc!C2"] == 150
