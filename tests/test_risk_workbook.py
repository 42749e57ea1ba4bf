"""The Risk sheet and the Inputs sheet's Low / High columns, recalculated by independent engines:
LibreOffice (portable mode) and the ``formulas`` package (udf mode, the real xlcost functions).

The deterministic parts (tornado, break-even) must equal the engine's :func:`tornado` and
:func:`break_even`; the Monte Carlo block holds the engine's values, and its status cell must say
"out of date — regenerate" as soon as an input or a range is edited (LibreOffice recalculation
of edited copies)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from excel_engines import formulas_model, libreoffice_values
from openpyxl import load_workbook

from xlcost.engine.examples import COMPARISON, load_example_ranges
from xlcost.engine.risk import BREAK_EVEN_INPUTS, break_even, simulate, tornado
from xlcost.functions import ExcelError
from xlcost.workbooks import layout as L
from xlcost.workbooks.template import Facts, Template

PAIRS = load_example_ranges(COMPARISON)
OPTIONS = [s for s, _ in PAIRS]
MAIN, RANGES = PAIRS[2]  # the 7B LLM reranker: six ranges and the default MFU range
UP_TO_DATE = "up to date"
STALE = "out of date — regenerate"


def _close(got: Any, want: Any) -> bool:
    if want is None or want == "":
        return got in (None, "")
    if isinstance(want, str):
        return got == want
    if isinstance(got, bool) or not isinstance(got, int | float):
        return False
    return math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-6)


def _render(mode: str, path: Path) -> Path:
    path.write_bytes(Template(mode, len(OPTIONS)).render(MAIN, OPTIONS, None, RANGES))
    return path


def _check_against_engine(mode: str, got: dict[tuple[str, str], Any]) -> None:
    """Every Risk / Inputs formula equals the engine's value; the tornado and break-even tables
    equal :func:`tornado` and :func:`break_even` directly."""
    template = Template(mode, len(OPTIONS))
    facts = Facts.of(MAIN, OPTIONS, None, ranges=RANGES)
    bad = [
        (c.cell, got.get((c.sheet, c.cell)), c.value(facts))
        for c in template.calcs
        if c.sheet in (L.RISK, L.INPUTS) and not _close(got.get((c.sheet, c.cell)), c.value(facts))
    ]
    assert not bad, bad[:10]
    bars = [b for b in tornado(MAIN, RANGES).bars if b.input in L.RISK_TORNADO_INPUTS]
    assert len(bars) >= 5
    tc = L.RISK_TORNADO_COLS
    for k, b in enumerate(bars[: L.RISK_TORNADO_BARS]):
        row = L.RISK_TORNADO_FIRST_ROW + k
        cell = {key: got[(L.RISK, f"{col}{row}")] for key, col in tc.items()}
        assert cell["input"] == b.input
        for key in ("low", "high", "npv_low", "npv_high", "swing"):
            assert _close(cell[key], getattr(b, key)), (b.input, key)
    for j, name in enumerate(BREAK_EVEN_INPUTS):
        value = got[(L.RISK, f"{L.RISK_BE_COLS['value']}{L.RISK_BE_FIRST_ROW + j}")]
        want = break_even(MAIN, name).value
        assert _close(value, "none in range" if want is None else want), name
    assert got[(L.RISK, L.RISK_STATUS_CELL)].startswith(UP_TO_DATE)


def _edited(src: Path, dst: Path, cells: dict[str, Any]) -> Path:
    wb = load_workbook(src)
    for cell, value in cells.items():
        wb[L.INPUTS][cell] = value
    wb.save(dst)
    return dst


def test_portable_risk_sheet_by_libreoffice_and_staleness(tmp_path: Path) -> None:
    fresh = _render("portable", tmp_path / "fresh.xlsx")
    ctr = L.INPUT_CELLS["ctr"]
    inside = (MAIN.ctr + RANGES.inputs["ctr"].high) / 2  # a new value still within its range
    edited_input = _edited(fresh, tmp_path / "input.xlsx", {ctr: inside})
    above = RANGES.inputs["ctr"].high + 0.01  # a Low above the value
    edited_range = _edited(fresh, tmp_path / "range.xlsx", {L.RANGE_CELLS["ctr_low"]: above})
    got_fresh, got_input, got_range = libreoffice_values(
        [fresh, edited_input, edited_range], tmp_path / "lo"
    )
    _check_against_engine("portable", got_fresh)
    assert got_fresh[(L.RISK, L.RISK_RANGES_CELL)].startswith("ok")
    # the Monte Carlo block holds the engine's numbers for the inputs it was computed from
    mc = simulate(MAIN, RANGES).options[0]
    npv_row = L.RISK_STATS_ROWS["npv"]
    p10 = got_fresh[(L.RISK, f"{L.RISK_STATS_COLS['p10']}{npv_row}")]
    assert p10 == pytest.approx(mc.stats["npv"].p10, rel=1e-14)  # as LibreOffice reads it back
    assert got_fresh[(L.RISK, L.RISK_DRAWS_CELL)] == 10_000
    # any edit of an input or a range flips the status; a Low above its value is reported
    assert got_input[(L.RISK, L.RISK_STATUS_CELL)].startswith(STALE)
    assert got_input[(L.RISK, L.RISK_RANGES_CELL)].startswith("ok")
    assert got_range[(L.RISK, L.RISK_STATUS_CELL)].startswith(STALE)
    assert got_range[(L.RISK, L.RISK_RANGES_CELL)].startswith("check the Inputs sheet")
    # the tornado follows the edit: ctr's NPVs move with its new value (a formula, not a value)
    before = got_fresh[(L.RISK, f"{L.RISK_BE_COLS['base']}{L.RISK_BE_FIRST_ROW + 1}")]
    after = got_input[(L.RISK, f"{L.RISK_BE_COLS['base']}{L.RISK_BE_FIRST_ROW + 1}")]
    assert (before, after) == (MAIN.ctr, inside)


def test_udf_risk_sheet_calculated_by_formulas(tmp_path: Path) -> None:
    path = _render("udf", tmp_path / "udf.xlsx")
    values = formulas_model(path)
    got = {tuple(k.split("!", 1)): v for k, v in values.items() if "!" in k}
    errors = {k: v for k, v in got.items() if k[0] == L.RISK and isinstance(v, ExcelError)}
    assert not errors, errors
    _check_against_engine("udf", got)  # type: ignore[arg-type]


def test_ranges_reach_generated_workbooks_and_the_template_names(tmp_path: Path) -> None:
    from xlcost.workbooks.package import defined_names, read_cells

    path = _render("portable", tmp_path / "w.xlsx")
    names = defined_names(path)
    refs = [names[f"ctr_{side}"] for side in ("low", "high", "dist")] + [names["mfu_low"]]
    cells = read_cells(path, refs)
    r = RANGES.inputs["ctr"]
    assert [cells[ref].value for ref in refs] == [r.low, r.high, "triangular", 0.3]
