"""``xlcost generate``: one workbook per scenario (or one for all), read back by ``calc``."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xlcost.cli import load_commands
from xlcost.engine import evaluate
from xlcost.engine.examples import COMPARISON, SEED, example_path, seed_scenario
from xlcost.engine.model import RESULT_NAMES
from xlcost.report import render
from xlcost.scenario_files import load_ranged_scenarios, load_scenarios
from xlcost.workbooks.inputs import input_cells
from xlcost.workbooks.package import defined_names, read_cells
from xlcost.workbooks.template import template_bytes

APP = load_commands()
SHIPPED = [example_path(SEED), example_path(COMPARISON)]


def run_cli(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(APP, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("mode", ["udf", "portable"])
def test_generate_then_calc_gives_the_engine_results(mode: str, tmp_path: Path) -> None:
    scenarios = [s for f in SHIPPED for s in load_scenarios(f)]
    for f in SHIPPED:
        code, out, err = run_cli("generate", f, "--out", tmp_path / "out", "--mode", mode)
        assert (code, out) == (0, ""), err
    books = sorted((tmp_path / "out").iterdir())
    assert len(books) == len(scenarios)
    code, out, err = run_cli("calc", *books, "-f", "json")
    assert code == 0, err
    assert err.strip() == f"xlcost: calc: {len(books)} scenarios OK, 0 failed"
    got = sorted(json.loads(out), key=lambda r: r["name"])
    results = sorted(map(evaluate, scenarios), key=lambda r: r.name)
    want = json.loads(render(results, "json", warnings=[[] for _ in results]))
    assert got == want

    # the results' cached values are the engine's too (for readers that do not calculate)
    for book in books:
        names = {k: v for k, v in defined_names(book).items() if k in RESULT_NAMES}
        cells = read_cells(book, names.values())
        result = next(r for r in want if r["name"] == _name(book))
        for key, ref in names.items():
            expected = result[key]
            got_value = cells[ref].value
            if expected is None:
                continue
            assert got_value == pytest.approx(expected, rel=1e-12, abs=1e-12), (book.name, key)


def _members(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(n, zf.read(n)) for n in zf.namelist()]


@pytest.mark.parametrize("mode", ["udf", "portable"])
def test_generate_writes_what_template_bytes_renders(mode: str, tmp_path: Path) -> None:
    """Each generated workbook is the template rendered with its scenario (alone on the
    Scenarios sheet): the worked example's byte for byte; any other scenario's with the same
    members, each with the same bytes except for the spacing inside the cell tags that
    ``generate`` rewrites (``<c r="B9" s="5" >`` from the renderer, ``<c r="B9" s="5">`` from
    the filler).
    Without ``--budget`` the budget cell is blank."""
    for f in SHIPPED:
        code, out, err = run_cli("generate", f, "--out", tmp_path / mode, "--mode", mode)
        assert (code, out) == (0, ""), err
    books = {_name(book): book.read_bytes() for book in (tmp_path / mode).iterdir()}
    pairs = [p for f in SHIPPED for p in load_ranged_scenarios(f)]  # with their input ranges
    scenarios = [s for s, _ in pairs]
    assert sorted(books) == sorted(s.name for s in scenarios)
    assert seed_scenario() in scenarios
    tag_space = re.compile(rb"\s+(/?>)")
    for s, ranges in pairs:
        rendered = template_bytes(
            mode, s, comparison=[s], budget=None, months=s.horizon_months, ranges=ranges
        )
        if s == seed_scenario():  # the template file's own values: nothing is rewritten
            assert books[s.name] == rendered
        got, want = _members(books[s.name]), _members(rendered)
        assert [n for n, _ in got] == [n for n, _ in want]
        for (name, a), (_, b) in zip(got, want, strict=True):
            assert tag_space.sub(rb"\1", a) == tag_space.sub(rb"\1", b), (s.name, name)


def _name(book: Path) -> str:
    ref = input_cells(book)["name"]
    value = read_cells(book, [ref])[ref].value
    assert isinstance(value, str)
    return value


def test_generate_names_are_sanitised_unique_and_never_overwritten(tmp_path: Path) -> None:
    base = load_scenarios(example_path(SEED))[0].model_dump()
    rows = [
        {**base, "name": "../up"},
        {**base, "name": "CON"},
        {**base, "name": "=cmd|' /C calc'!A0"},
        {**base, "name": "con"},
        {**base, "name": "bad", "train_gpus": -3},
    ]
    data = tmp_path / "s.json"
    data.write_text(json.dumps(rows))
    code, _, err = run_cli("generate", data, "--out", tmp_path / "out", "--workers", "2")
    assert code == 1
    assert err.strip().splitlines() == [
        "xlcost: error: s.json [4], train_gpus: must be ≥ 0, got -3",
        "xlcost: generate: 4 workbooks OK, 1 failed",
    ]
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["=cmd_' _C calc'!A0.xlsx", "_CON.xlsx", "_con-2.xlsx", "_up.xlsx"]
    cmd = tmp_path / "out" / "=cmd_' _C calc'!A0.xlsx"
    ref = input_cells(cmd)["name"]
    cell = read_cells(cmd, [ref])[ref]
    assert cell.value == "=cmd|' /C calc'!A0" and cell.formula is None
    before = cmd.read_bytes()
    code, _, err = run_cli("generate", data, "--out", tmp_path / "out")
    assert code == 1 and "_up.xlsx: exists; use --force" in err
    assert cmd.read_bytes() == before


def test_generate_single_workbook(tmp_path: Path) -> None:
    single = tmp_path / "all.xlsx"
    code, _, err = run_cli("generate", example_path(COMPARISON), "--single", single)
    assert code == 0, err
    assert err.strip() == "xlcost: generate: 1 workbook OK, 0 failed"
    code, out, _ = run_cli("calc", single, "-f", "json")
    first = load_scenarios(example_path(COMPARISON))[0]
    assert json.loads(out) == json.loads(render([evaluate(first)], "json", warnings=[[]]))


def test_generate_needs_out_or_single(tmp_path: Path) -> None:
    code, _, err = run_cli("generate", example_path(SEED))
    assert code == 1
    assert err == "xlcost: error: give --out DIR (one workbook per scenario) or --single FILE\n"


def test_fill_the_shipped_template_then_calc(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    template = root / "workbook" / "xlcost_template_portable.xlsx"
    data = root / "examples" / "ranker_options.csv"
    code, _, err = run_cli("fill", template, data, "--out", tmp_path)
    assert code == 0, err
    books = sorted(tmp_path.iterdir())
    assert len(books) == 3
    code, out, err = run_cli("validate", *books)
    assert code == 0, err
    code, out, err = run_cli("calc", *books, "-f", "json")
    # The CSV has a column for every input (blank = default), so the filled workbooks compute
    # exactly what the CSV itself computes.
    code_csv, out_csv, _ = run_cli("calc", data, "-f", "json")
    assert code == code_csv == 0
    assert json.loads(out) == sorted(json.loads(out_csv), key=lambda r: r["name"])


def test_generate_reports_a_horizon_the_template_cannot_hold(tmp_path: Path) -> None:
    base = load_scenarios(example_path(SEED))[0].model_dump()
    data = tmp_path / "s.json"
    data.write_text(json.dumps([{**base, "name": "long", "horizon_months": 240}, base]))
    code, _, err = run_cli("generate", data, "--out", tmp_path / "out")
    assert code == 1
    assert err.strip().splitlines() == [
        "xlcost: error: long: horizon_months: the template lays out at most 120 months, got 240",
        "xlcost: generate: 1 workbook OK, 1 failed",
    ]
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["BERT ranker.xlsx"]


@pytest.mark.parametrize("name", ["xlcost_template.xlsx", "xlcost_template_portable.xlsx"])
def test_fill_writes_the_engines_results_as_cached_values(tmp_path: Path, name: str) -> None:
    """A reader that does not calculate sees each row's results, not the template's own example."""
    from python_calamine import CalamineWorkbook

    from xlcost.workbooks import layout as L

    root = Path(__file__).resolve().parents[1]
    data = root / "examples" / "ranker_options.csv"
    code, _, err = run_cli("fill", root / "workbook" / name, data, "--out", tmp_path)
    assert code == 0, err
    want = {s.name: evaluate(s) for s in load_scenarios(data)}
    assert len(want) == 3
    for book in tmp_path.iterdir():
        rows = CalamineWorkbook.from_path(str(book)).get_sheet_by_name(L.COSTS).to_python()
        got = {n: rows[int(c[1:]) - 1][ord(c[0]) - ord("A")] for n, c in L.RESULT_CELLS.items()}
        results = want[book.stem]
        for n in RESULT_NAMES:
            value = getattr(results, n)
            assert got[n] == pytest.approx("" if value is None else value, rel=1e-12), (book, n)


def _budget_and_pick(book: Path) -> tuple[object, object]:
    from openpyxl import load_workbook

    from xlcost.workbooks import layout as L

    ws = load_workbook(book, data_only=True)[L.SCENARIOS]  # the cached (engine's) values
    return ws[L.SCN_BUDGET_CELL].value, ws.cell(L.SCN_RECOMMEND_ROW, L.SCN_FIRST_COL).value


@pytest.mark.parametrize(("args", "budget"), [((), None), (("--budget", "500000"), 500000)])
def test_generate_budget_blank_unless_given(
    args: tuple[str, ...], budget: float | None, tmp_path: Path
) -> None:
    """Blank = no budget: every option is within it; --budget sets the cell and the pick."""
    from xlcost.engine import compare

    single = tmp_path / "all.xlsx"
    code, _, err = run_cli("generate", example_path(COMPARISON), "--single", single, *args)
    assert code == 0, err
    options = load_scenarios(example_path(COMPARISON))
    want = compare(options, budget=budget).recommended
    assert _budget_and_pick(single) == (budget, want)


def test_template_budget_options(tmp_path: Path) -> None:
    """The shipped template keeps the comparison example's 1,000,000; --budget and
    --no-budget change it."""
    for args, want in (((), 1_000_000), (("--budget", "2e6"), 2_000_000), (("--no-budget",), None)):
        out = tmp_path / f"t{len(args)}{want}.xlsx"
        code, _, err = run_cli("template", "--mode", "portable", "--out", out, *args)
        assert code == 0, err
        assert _budget_and_pick(out)[0] == want
    code, _, err = run_cli("template", "--budget", "1", "--no-budget", "--out", tmp_path / "x.xlsx")
    assert code == 1 and "not both" in err
