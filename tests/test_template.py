"""The template workbook: its numbers equal the engine's under two independent calculators.

* udf mode is calculated headlessly by the ``formulas`` package with the real xlcost functions
  registered (``tests/excel_engines.py``);
* portable mode is recalculated by LibreOffice (forced recalculation on load). In CI this test
  fails when LibreOffice is missing; set ``XLCOST_SKIP_LIBREOFFICE=1`` to skip it locally.

Both are compared cell by cell with the cached values the builder wrote (the engine's numbers),
and the named results with :func:`evaluate` directly and with the worked example's numbers.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from excel_engines import formulas_model, libreoffice_values, require_libreoffice
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from xlcost.engine.evaluate import evaluate
from xlcost.engine.examples import COMPARISON, SEED, load_example
from xlcost.engine.model import INPUT_NAMES, RESULT_NAMES, Scenario
from xlcost.engine.prices import default_prices, stale_note
from xlcost.engine.validate import parse_scenario
from xlcost.functions import ExcelError
from xlcost.scenario_files import load_scenarios
from xlcost.workbooks import layout as L
from xlcost.workbooks.package import CellRef, defined_names, fill_package
from xlcost.workbooks.template import DEFAULT_BUDGET, Facts, Template, build_template

ROOT = Path(__file__).resolve().parents[1]
EVERY_LINE = Scenario(
    name="Every cost line",
    horizon_months=18,
    discount_rate_annual=0.08,
    train_gpus=8,
    train_hours=20,
    train_price_per_gpu_hour=2.5,
    retrains=2,
    serve_gpus=2,
    serve_hours=730 * 18,
    serve_price_per_gpu_hour=0.8,
    maintain_months=12,
    maintain_units_per_month=20,
    maintain_price_per_unit=90,
    volume=3e8,
    ctr=0.04,
    cvr=0.03,
    value_per_conversion=2.0,
    baseline_ctr=0.035,
    baseline_cvr=0.03,
    data_prep_cost=12000,
    data_refresh_per_month=800,
    storage_gb=2000,
    storage_price_per_gb_month=0.023,
    egress_gb_per_month=500,
    egress_price_per_gb=0.09,
    software_per_month=300,
    setup_cost=5000,
    incidents_per_month=1.5,
    incident_hours=6,
    incident_price_per_hour=95,
    own_gpus=4,
    gpu_purchase_price=9000,
    useful_life_months=48,
    salvage_rate=0.15,
    power_kw_per_gpu=0.35,
    pue=1.4,
    electricity_price_per_kwh=0.13,
    hosting_per_gpu_month=120,
    api_price_per_m_input_tokens=0.1,
    api_price_per_m_output_tokens=0.4,
    api_input_tokens_per_request=300,
    api_output_tokens_per_request=5,
    api_requests=2e7,
)
"""Every cost line active, owned GPUs sold back before the end of their life."""
_NAMED = {
    "horizon_months": 12,
    "train_gpus": 8,
    "train_hours": 6,
    "train_gpu": "A100-40GB",
    "serve_hours": 8760,
    "maintain_units_per_month": 20,
    "maintain_price_per_unit": 100,
    "volume": 6e8,
    "ctr": 0.42,
    "cvr": 0.031,
    "value_per_conversion": 8,
}
BY_NAME = [
    Scenario(  # hosted API prices by model name; no GPUs, so no serving hours
        name="API by name",
        **{k: v for k, v in _NAMED.items() if k != "serve_hours"},
        serve_gpus=0, serve_price_per_gpu_hour=0, api_model="rerank-2.5-lite",
        api_input_tokens_per_request=6400,
    ),
    Scenario(  # purchase price and board power from the price catalog by serve_gpu
        name="Owned by name", **_NAMED | {"serve_gpus": 0}, serve_gpu="L4", own_gpus=3,
        electricity_price_per_kwh=0.1437,
    ),
    Scenario(  # a reserved rental price from the offers by serve_gpu and serve_term
        name="Reserved by name", **_NAMED | {"serve_gpus": 2}, serve_gpu="H100",
        serve_term="reserved_1y",
    ),
]  # fmt: skip
"""Prices looked up by name in the price catalog (the Catalog sheet's price tables)."""
SCENARIOS = load_example(SEED) + load_example(COMPARISON) + [EVERY_LINE, *BY_NAME]
IDS = [s.name.split()[0] for s in SCENARIOS]
REL = 1e-9


def _close(got: Any, want: Any) -> bool:
    if isinstance(want, bool | str) or want is None:
        return (got if got is not None else "") == (want if want is not None else "")
    if isinstance(got, bool) or not isinstance(got, int | float):
        return False
    return math.isclose(got, want, rel_tol=REL, abs_tol=1e-9)


def _check_cells(mode: str, scenario: Scenario, got: dict[tuple[str, str], Any]) -> None:
    """Every formula cell equals the engine's value; the named results equal evaluate()."""
    template = Template(mode, len(load_example(COMPARISON)))
    facts = Facts.of(scenario, load_example(COMPARISON), DEFAULT_BUDGET)
    bad = [
        (c.sheet, c.cell, got.get((c.sheet, c.cell)), c.value(facts))
        for c in template.calcs
        if c.exact and not _close(got.get((c.sheet, c.cell)), c.value(facts))
    ]
    assert not bad, bad[:10]
    results = evaluate(scenario)
    for name in RESULT_NAMES:
        want = getattr(results, name)
        assert _close(got[(L.COSTS, L.RESULT_CELLS[name])], "" if want is None else want), name


@pytest.fixture(scope="module")
def portable_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    d = tmp_path_factory.mktemp("portable")
    paths = [d / f"portable_{i}.xlsx" for i in range(len(SCENARIOS))]
    for s, p in zip(SCENARIOS, paths, strict=True):
        build_template("portable", s, p)
    return paths


def _calculate(path: Path) -> dict[tuple[str, str], Any]:
    """(sheet, cell) → value, as the `formulas` engine calculates the workbook with the real
    xlcost functions registered (tests/excel_engines.py)."""
    values = formulas_model(path)
    return {tuple(k.split("!", 1)): v for k, v in values.items() if "!" in k}  # type: ignore[misc]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=IDS)
def test_udf_mode_calculated_by_formulas_equals_engine(scenario: Scenario, tmp_path: Path) -> None:
    path = tmp_path / "udf.xlsx"
    build_template("udf", scenario, path)
    got = _calculate(path)
    errors = {k: v for k, v in got.items() if isinstance(v, ExcelError)}
    assert not errors, errors
    _check_cells("udf", scenario, got)


BUILD_OR_BUY = [EVERY_LINE, *load_scenarios(ROOT / "examples" / "build_or_buy.yaml")]


@pytest.mark.parametrize("mode", ["udf", "portable"])
def test_scenarios_sheet_with_every_cost_line(mode: str, tmp_path: Path) -> None:
    """The Scenarios sheet's NPV (closed form with the value left in month H) and the
    break-even block's check, for options with every cost line, owned GPUs and a hosted API:
    udf mode by `formulas`, portable mode by LibreOffice."""
    path = tmp_path / f"{mode}.xlsx"
    build_template(mode, EVERY_LINE, path, comparison=BUILD_OR_BUY)
    if mode == "udf":
        got = _calculate(path)
    else:
        (got,) = libreoffice_values([path], tmp_path)
    template = Template(mode, len(BUILD_OR_BUY))
    facts = Facts.of(EVERY_LINE, BUILD_OR_BUY, DEFAULT_BUDGET)
    bad = [
        (c.cell, got.get((c.sheet, c.cell)), c.value(facts))
        for c in template.calcs
        if c.exact
        and c.sheet == L.SCENARIOS
        and not _close(got.get((c.sheet, c.cell)), c.value(facts))
    ]
    assert not bad, bad[:10]
    npv_row = L.SCN_CALC_ROWS["npv"]
    for i, s in enumerate(BUILD_OR_BUY):
        col = chr(ord("A") + L.SCN_FIRST_COL - 1 + i)
        assert got[(L.SCENARIOS, f"{col}{npv_row}")] == pytest.approx(evaluate(s).npv, rel=1e-9)


def test_seed_numbers_in_the_udf_workbook(tmp_path: Path) -> None:
    """The worked example, independently of the engine: 480/10/100/150/590."""
    path = tmp_path / "seed.xlsx"
    build_template("udf", None, path)
    got = _calculate(path)
    value = {n: got[(L.COSTS, L.RESULT_CELLS[n])] for n in RESULT_NAMES}
    assert [value[n] for n in ("train_cost", "deploy_cost", "maintain_cost", "total_cost")] == [
        480,
        10,
        100,
        590,
    ]
    assert value["benefit"] == pytest.approx(150, rel=1e-12)
    assert round(value["roi"], 3) == -0.746
    assert round(value["bcr"], 3) == 0.254
    assert value["npv"] == pytest.approx(-440, rel=1e-12)


def test_portable_mode_recalculated_by_libreoffice_equals_engine(
    portable_files: list[Path], tmp_path: Path
) -> None:
    for scenario, got in zip(SCENARIOS, libreoffice_values(portable_files, tmp_path), strict=True):
        errors = {k: v for k, v in got.items() if isinstance(v, str) and v.startswith("#")}
        assert not errors, errors
        _check_cells("portable", scenario, got)
        _check_price_flags(got)


def _check_price_flags(got: dict[tuple[str, str], Any]) -> None:
    """The Catalog sheet's price flags (no cached value: they depend on today) as a
    calculator computes them equal the engine's for today, for every dated price."""
    flags = [c for c in Template("portable", 1).calcs if c.sheet == L.CATALOG and not c.exact]
    prices = default_prices()
    want = [  # each table's rows, then its blank rows (no date: no flag)
        note
        for rows in (prices.purchases, prices.offers, prices.apis)
        for note in (
            *(stale_note(p.price_as_of) if p.price_as_of is not None else "" for p in rows),
            *[""] * L.CAT_SPARE_ROWS,
        )
    ]
    assert len(flags) == len(want)
    for calc, note in zip(flags, want, strict=True):
        assert (got.get((L.CATALOG, calc.cell)) or "") == note, calc.cell


@pytest.mark.parametrize("mode", ["udf", "portable"])
def test_cached_values_seen_by_a_reader_that_does_not_calculate(mode: str, tmp_path: Path) -> None:
    """python-calamine reads the cached values: the engine's results, not blanks."""
    path = tmp_path / "t.xlsx"
    scenario = SCENARIOS[3]
    build_template(mode, scenario, path)
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(L.COSTS).to_python()
    results = evaluate(scenario)
    for name, cell in L.RESULT_CELLS.items():
        row, col = int(cell[1:]) - 1, ord(cell[0]) - ord("A")
        want = getattr(results, name)
        assert _close(rows[row][col], "" if want is None else want), name


@pytest.mark.parametrize("mode", ["udf", "portable"])
def test_structure(mode: str, tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    build_template(mode, None, path)
    names = defined_names(path)
    for name in INPUT_NAMES:
        assert (names[name].sheet, names[name].cell) == (L.INPUTS, L.INPUT_CELLS[name])
    for name in RESULT_NAMES:
        assert (names[name].sheet, names[name].cell) == (L.COSTS, L.RESULT_CELLS[name])
    wb = load_workbook(path)
    expected = [L.README, L.INPUTS, L.COSTS, L.CASHFLOW, L.SCENARIOS, L.CATALOG, L.CHECKS, L.RISK]
    for name, cell in L.RANGE_CELLS.items():  # NAME_low / NAME_high / NAME_dist
        assert (names[name].sheet, names[name].cell) == (L.INPUTS, cell)
    assert wb.sheetnames == expected + ([L.CONF, L.INTELLISENSE] if mode == "udf" else [])
    assert {"catalog_table", "catalog_names", "catalog_fields"} <= set(wb.defined_names)
    assert (names["master_check"].sheet, names["master_check"].cell) == (
        L.CHECKS,
        L.MASTER_CHECK_CELL,
    )
    inputs = wb[L.INPUTS]
    validated = {str(r) for dv in inputs.data_validations.dataValidation for r in dv.sqref.ranges}
    for name, cell in L.INPUT_CELLS.items():
        c = inputs[cell]
        assert c.style == "xlcost input" and c.protection.locked is False, name
        assert cell in validated, name
    for dv in inputs.data_validations.dataValidation:
        assert dv.showErrorMessage and dv.showInputMessage and dv.error and dv.prompt
    for ws in wb.worksheets[:7]:
        assert ws.protection.sheet and not ws.protection.password, ws.title
        assert ws.freeze_panes and ws.print_area, ws.title
    for sheet, cell in ((L.COSTS, L.RESULT_CELLS["train_cost"]), (L.CASHFLOW, "E20")):
        assert wb[sheet][cell].protection.locked, (sheet, cell)
    assert wb[L.COSTS][L.RESULT_CELLS["npv"]].number_format.startswith("#,##0.00")
    assert wb[L.COSTS][L.RESULT_CELLS["roi"]].number_format == "0.00%"
    costs_formula = wb[L.COSTS][L.RESULT_CELLS["train_cost"]].value
    assert costs_formula.startswith("=TRAIN_COST(") == (mode == "udf")
    assert len(wb[L.COSTS]._charts) == 1 and len(wb[L.CASHFLOW]._charts) == 1
    assert wb.calculation.fullCalcOnLoad
    if mode == "udf":
        assert wb[L.CONF]["A1"].value == "UDF Modules"
        assert wb[L.CONF]["B1"].value == "xlcost.udfs"
        assert wb[L.CONF]["A2"].value is None
    with zipfile.ZipFile(path) as zf:
        assert {i.date_time for i in zf.infolist()} == {(2026, 1, 1, 0, 0, 0)}


def test_deterministic_and_committed_artifacts_up_to_date(tmp_path: Path) -> None:
    """Two builds give identical bytes; workbook/*.xlsx are exactly what the command builds."""
    for mode, committed in (
        ("udf", "xlcost_template.xlsx"),
        ("portable", "xlcost_template_portable.xlsx"),
    ):
        a, b = tmp_path / f"a_{mode}.xlsx", tmp_path / f"b_{mode}.xlsx"
        build_template(mode, None, a)
        comparison = load_example(COMPARISON)
        b.write_bytes(Template(mode, 3).render(SCENARIOS[0], comparison, DEFAULT_BUDGET))
        assert a.read_bytes() == b.read_bytes(), mode
        assert (ROOT / "workbook" / committed).read_bytes() == a.read_bytes(), (
            f"workbook/{committed} is stale: run `xlcost template --mode {mode} "
            f"--out workbook/{committed}`"
        )


def test_cli_template_command(tmp_path: Path) -> None:
    seed_file = ROOT / "xlcost" / "data" / "examples" / SEED
    out = tmp_path / "mine.xlsx"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-c", "from xlcost.cli import main; main()", "template"]
    done = subprocess.run(
        [*cmd, "--mode", "portable", "--scenario", str(seed_file), "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == (ROOT / "workbook" / "xlcost_template_portable.xlsx").read_bytes()
    bad = subprocess.run([*cmd, "--mode", "nope"], capture_output=True, text=True, env=env)
    assert "nope" in bad.stderr
    assert bad.returncode == 2


def test_rendered_sheets_show_no_errors_or_hashes(tmp_path: Path) -> None:
    """workbook/render.py: PNGs of every page; the PDF text has no ### and no error values."""
    require_libreoffice()
    sys.path.insert(0, str(ROOT / "workbook"))
    try:
        from render import render
    finally:
        sys.path.remove(str(ROOT / "workbook"))
    pngs = render("portable", tmp_path, dpi=30)
    assert len(pngs) >= 6 and all(p.stat().st_size > 1000 for p in pngs)
    text = (tmp_path / "xlcost_template_portable.txt").read_text(encoding="utf-8")
    for bad in ("###", "Err:", "#VALUE", "#NAME", "#DIV/0", "#N/A", "#REF"):
        assert bad not in text, bad
    assert "BERT-base cross-encoder" in text and "-440.00" in text


def _blanked(tmp_path: Path, mode: str) -> tuple[Path, Scenario]:
    """A template whose optional inputs with defaults were set, then blanked by a filler.

    Returns the blanked workbook and the scenario it stands for (those inputs absent).
    The 7B option uses both estimators, so every default is read by some formula; it is
    also option 1 of the Scenarios sheet, whose copies of those inputs are blanked too.
    """
    seven_b = SCENARIOS[3]  # scaled so that the blanked scenario has a moderate IRR
    base = seven_b.model_dump() | {
        "train_tokens": seven_b.train_tokens * 10_000,  # type: ignore[operator]
        "volume": seven_b.volume / 10,
    }
    odd = {
        "discount_rate_annual": 0.08, "currency": "EUR", "train_runs": 3,
        "train_overhead_rate": 0.2, "retrains": 2, "mfu": 0.3, "flops_per_param_token": 8,
        "serve_overhead_rate": 0.1, "target_utilization": 0.5,
        "min_replicas": 4, "maintain_fixed_per_month": 500, "baseline_ctr": 0.001,
        "baseline_cvr": 0.001, "epochs": 2, "items_per_request": 30,
        "output_tokens_per_request": 5, "serve_mfu": 0.4, "serve_mbu": 0.5, "bytes_per_param": 1,
        "serve_batch": 8,
        "data_prep_cost": 1000, "data_refresh_per_month": 100, "storage_gb": 500,
        "storage_price_per_gb_month": 0.023, "egress_gb_per_month": 100,
        "egress_price_per_gb": 0.09, "software_per_month": 50, "setup_cost": 2000,
        "incidents_per_month": 2, "incident_hours": 4, "incident_price_per_hour": 80,
        "own_gpus": 2, "useful_life_months": 48, "salvage_rate": 0.1, "pue": 1.2,
        "electricity_price_per_kwh": 0.12, "hosting_per_gpu_month": 150,
        "api_input_tokens_per_request": 500, "api_output_tokens_per_request": 20,
    }  # fmt: skip
    assert set(odd) == set(L.DEFAULTED)
    built = tmp_path / f"built_{mode}.xlsx"
    comparison = [Scenario(**(base | odd)), *load_example(COMPARISON)[1:]]
    build_template(mode, comparison[0], built, comparison=comparison)
    cells = {CellRef(L.INPUTS, L.INPUT_CELLS[n]): None for n in odd}
    col = chr(ord("A") + L.SCN_FIRST_COL - 1)
    cells |= {CellRef(L.SCENARIOS, f"{col}{L.SCN_INPUT_ROWS[n]}"): None for n in odd}
    blank = tmp_path / f"blank_{mode}.xlsx"
    fill_package(built, blank, cells)
    return blank, parse_scenario({k: v for k, v in base.items() if k not in odd})


def _check_defaults_used(got: dict[tuple[str, str], Any], scenario: Scenario) -> None:
    results = evaluate(scenario)
    assert results.irr is not None
    for name in RESULT_NAMES:
        want = getattr(results, name)
        assert _close(got[(L.COSTS, L.RESULT_CELLS[name])], "" if want is None else want), name
    col = chr(ord("A") + L.SCN_FIRST_COL - 1)
    for name in ("train_cost", "deploy_cost", "maintain_cost", "benefit", "npv"):
        got_value = got[(L.SCENARIOS, f"{col}{L.SCN_CALC_ROWS[name]}")]
        assert _close(got_value, getattr(results, name)), name
    for name in L.DEFAULTED:
        used = got[(L.INPUTS, L.USED_CELLS[f"used_{name}"])]
        assert _close(used, getattr(scenario, name)), name


def test_blank_optional_inputs_take_their_defaults_udf(tmp_path: Path) -> None:
    path, scenario = _blanked(tmp_path, "udf")
    _check_defaults_used(_calculate(path), scenario)


def test_blank_optional_inputs_take_their_defaults_portable(tmp_path: Path) -> None:
    path, scenario = _blanked(tmp_path, "portable")
    (got,) = libreoffice_values([path], tmp_path / "lo")
    _check_defaults_used(got, scenario)


def test_maintain_months_is_validated_against_the_horizon(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    build_template("portable", None, path)
    inputs = load_workbook(path)[L.INPUTS]
    (dv,) = [
        dv
        for dv in inputs.data_validations.dataValidation
        if L.INPUT_CELLS["maintain_months"] in {str(r) for r in dv.sqref.ranges}
    ]
    assert (dv.type, dv.operator, dv.formula1, dv.formula2) == (
        "whole", "between", "0", "horizon_months"
    )  # fmt: skip


def _past_the_horizon(tmp_path: Path, mode: str) -> Path:
    """The worked example with maintain_months = 3 > its horizon, 2, typed in (past the
    validation)."""
    built = tmp_path / f"built_{mode}.xlsx"
    build_template(mode, None, built)
    out = tmp_path / f"past_{mode}.xlsx"
    fill_package(built, out, {CellRef(L.INPUTS, L.INPUT_CELLS["maintain_months"]): 3})
    return out


def _shows_errors(got: dict[tuple[str, str], Any]) -> None:
    for name in ("used_maintain_months", "maintain_cost", "total_cost", "npv", "roi"):
        value = got[(L.COSTS, f"{L.COSTS_VALUE_COL}{L.RESULT_ROWS[name]}")]
        assert isinstance(value, ExcelError) or str(value).startswith("#N/A"), (name, value)


def test_maintain_months_past_the_horizon_shows_na_udf(tmp_path: Path) -> None:
    assert SCENARIOS[0].horizon_months == 2
    _shows_errors(_calculate(_past_the_horizon(tmp_path, "udf")))


def test_maintain_months_past_the_horizon_shows_na_portable(tmp_path: Path) -> None:
    (got,) = libreoffice_values([_past_the_horizon(tmp_path, "portable")], tmp_path / "lo")
    _shows_errors({k: v for k, v in got.items() if k[0] == L.COSTS})


# The first release's comparison typed capacities no GPU can deliver: its options trip the
# capacity and traffic checks, so the Checks sheet's formulas are compared where they fire.
TRIPPING = load_scenarios(ROOT / "tests" / "data" / "ranker_options_v1.yaml")[1:]


def _master(got: dict[tuple[str, str], Any]) -> Any:
    return got[(L.CHECKS, L.MASTER_CHECK_CELL)]


@pytest.mark.parametrize("scenario", TRIPPING, ids=[s.name.split()[0] for s in TRIPPING])
def test_checks_sheet_in_udf_mode_equals_engine_where_checks_fire(
    scenario: Scenario, tmp_path: Path
) -> None:
    path = tmp_path / "udf.xlsx"
    build_template("udf", scenario, path)
    got = _calculate(path)
    _check_cells("udf", scenario, got)
    assert _master(got) is False
    assert got[(L.CHECKS, f"E{L.CHECK_ROWS['qps_flops']}")] == "WARNING"
    assert got[(L.CHECKS, f"E{L.CHECK_ROWS['peak_traffic']}")] == "WARNING"
    shown = {sheet for (sheet, _), v in got.items() if v == "CHECK: see the Checks sheet"}
    assert shown == {L.COSTS, L.README}


def test_checks_sheet_in_portable_mode_recalculated_by_libreoffice(tmp_path: Path) -> None:
    paths = [tmp_path / f"p{i}.xlsx" for i in range(len(TRIPPING))]
    for s, p in zip(TRIPPING, paths, strict=True):
        build_template("portable", s, p)
    for scenario, got in zip(TRIPPING, libreoffice_values(paths, tmp_path / "lo"), strict=True):
        _check_cells("portable", scenario, got)
        assert _master(got) in (False, 0)
