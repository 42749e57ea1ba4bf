"""GPUs by name in workbooks and in every command: a workbook's own Catalog sheet, --catalog."""

from __future__ import annotations

import json
import re
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from typer.testing import CliRunner

from xlcost.cli import load_commands
from xlcost.engine import Scenario, default_catalog, evaluate
from xlcost.engine.catalog import use_catalog
from xlcost.workbooks import layout as L

APP = load_commands()

SCENARIO = {
    "name": "g1",
    "horizon_months": 3,
    "train_gpus": 8,
    "train_hours": 10,
    "train_gpu": "H100",
    "serve_gpus": 1,
    "serve_hours": 100,
    "serve_gpu": "L4",
    "maintain_units_per_month": 0,
    "maintain_price_per_unit": 0,
    "volume": 1_000_000,
    "ctr": 0.01,
    "cvr": 0.01,
    "value_per_conversion": 5,
}
MINE = {  # a GPU the packaged catalog does not have (a user's own quote)
    "name": "ZX9",
    "memory_gb": 96,
    "peak_tflops": 500,
    "memory_bandwidth_tbs": 2,
    "price_per_hour": 2.5,
    "price_source": "my own quote",
    "price_as_of": "2026-11-01",
    "spec_source": "vendor sheet",
}


def run_cli(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(APP, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def _yaml(path: Path, *scenarios: dict[str, object]) -> Path:
    path.write_text(json.dumps({"scenarios": list(scenarios)}), encoding="utf-8")
    return path


def _my_catalog(tmp_path: Path, **changes: object) -> Path:
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"gpus": [MINE | changes]}), encoding="utf-8")
    return path


def _total(stdout: str) -> float:
    return float(json.loads(stdout)[0]["total_cost"])


def _expected(scenario: dict[str, object], *gpus: dict[str, object]) -> float:
    from xlcost.engine.catalog import GPU

    cat = default_catalog().merged(GPU.model_validate(g) for g in gpus)
    with use_catalog(cat):
        return evaluate(Scenario.model_validate(scenario)).total_cost


@pytest.fixture
def book(tmp_path: Path) -> Path:
    code, _, err = run_cli(
        "generate", _yaml(tmp_path / "s.json", SCENARIO), "--out", tmp_path, "--mode", "portable"
    )
    assert code == 0, err
    return tmp_path / "g1.xlsx"


def _catalog_rows(ws: openpyxl.worksheet.worksheet.Worksheet) -> dict[str, int]:
    rows = {}
    r = L.CAT_FIRST_ROW
    while ws.cell(r, 1).value:
        rows[str(ws.cell(r, 1).value)] = r
        r += 1
    return rows


def _col(ws: openpyxl.worksheet.worksheet.Worksheet, field: str) -> int:
    return next(c.column for c in ws[L.CAT_HEADER_ROW] if c.value == field)


def _edit_catalog(book: Path, gpu: str, field: str, value: object) -> str:
    """Set one Catalog sheet value as a user would; returns the cell."""
    wb = openpyxl.load_workbook(book)
    ws = wb[L.CATALOG]
    cell = ws.cell(_catalog_rows(ws)[gpu], _col(ws, field))
    cell.value = value
    wb.save(book)
    return cell.coordinate


def _add_gpu(book: Path, gpu: dict[str, object], serve_gpu: str) -> None:
    """Insert a GPU row into the catalog table, as Excel does (the names grow with it), and
    name it as the serving GPU."""
    wb = openpyxl.load_workbook(book)
    ws = wb[L.CATALOG]
    last = max(_catalog_rows(ws).values())
    new = last + 1
    ws.insert_rows(new)
    for field, value in gpu.items():
        ws.cell(new, _col(ws, field), value)
    for dn in wb.defined_names.values():  # as Excel moves every reference below the row
        if L.CATALOG not in dn.attr_text:
            continue
        dn.attr_text = re.sub(
            r"\$(\d+)",
            lambda m: f"${int(m.group(1)) + (int(m.group(1)) >= new)}",
            dn.attr_text,
        )

    wb.defined_names["serve_gpu"].destinations  # noqa: B018 (the name exists)
    sheet, cell = next(wb.defined_names["serve_gpu"].destinations)
    wb[sheet][cell.replace("$", "")] = serve_gpu
    wb.save(book)


def test_calc_follows_an_edited_catalog_sheet(book: Path) -> None:
    code, out, err = run_cli("calc", book, "-f", "json")
    assert code == 0, err
    assert _total(out) == pytest.approx(_expected(SCENARIO))
    _edit_catalog(book, "L4", "price_per_hour", 9.0)
    code, out, err = run_cli("calc", book, "-f", "json")
    assert code == 0, err
    l4 = default_catalog().get("L4").model_dump() | {"price_per_hour": 9.0}
    assert _total(out) == pytest.approx(_expected(SCENARIO, l4))
    assert _total(out) != pytest.approx(_expected(SCENARIO))


def test_calc_follows_a_gpu_added_to_the_catalog_sheet(book: Path) -> None:
    _add_gpu(book, MINE, "ZX9")
    code, out, err = run_cli("calc", book, "-f", "json")
    assert code == 0, err
    assert _total(out) == pytest.approx(_expected(SCENARIO | {"serve_gpu": "ZX9"}, MINE))


def test_the_workbook_sheet_wins_over_catalog_option(book: Path, tmp_path: Path) -> None:
    _edit_catalog(book, "L4", "price_per_hour", 9.0)
    other = default_catalog().get("L4").model_dump(mode="json") | {"price_per_hour": 1.0}
    mine = tmp_path / "l4.json"
    mine.write_text(json.dumps({"gpus": [other]}), encoding="utf-8")
    code, out, err = run_cli("calc", book, "-f", "json", "--catalog", mine)
    assert code == 0, err
    l4 = default_catalog().get("L4").model_dump() | {"price_per_hour": 9.0}
    assert _total(out) == pytest.approx(_expected(SCENARIO, l4))


def test_an_excel_date_in_the_catalog_sheet_is_read(book: Path) -> None:
    import datetime as dt

    _edit_catalog(book, "L4", "price_as_of", dt.datetime(2026, 6, 1))
    code, _, err = run_cli("calc", book)
    assert code == 0, err


@pytest.mark.parametrize("command", ["calc", "validate"])
def test_a_bad_catalog_sheet_cell_is_one_line_naming_it(book: Path, command: str) -> None:
    cell = _edit_catalog(book, "L4", "peak_tflops", -5)
    code, out, err = run_cli(command, book)
    assert code == 1
    lines = [ln for ln in err.splitlines() if "error" in ln]
    assert lines == [f"xlcost: error: g1.xlsx Catalog!{cell}, peak_tflops: must be > 0, got -5"]
    assert "Traceback" not in out + err


@pytest.mark.parametrize("command", ["calc", "validate"])
def test_a_gpu_the_sheet_lacks_is_an_error_naming_the_sheets_gpus(book: Path, command: str) -> None:
    wb = openpyxl.load_workbook(book)
    sheet, cell = next(wb.defined_names["serve_gpu"].destinations)
    wb[sheet][cell.replace("$", "")] = "ZX9"
    wb.save(book)
    code, _, err = run_cli(command, book)
    assert code == 1
    known = ", ".join(default_catalog().names())
    assert (
        f"xlcost: error: g1.xlsx {sheet}!{cell.replace('$', '')}, serve_gpu: unknown GPU 'ZX9'; "
        f"known (its Catalog sheet): {known}"
    ) in err.splitlines()


def _own_workbook(path: Path, scenario: dict[str, object]) -> Path:
    """A user's own workbook: every input by a defined name, no Catalog sheet."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Mine")
    for row, (name, value) in enumerate(scenario.items()):
        ws.write(row, 0, name)
        ws.write(row, 1, value)
        wb.define_name(name, f"=Mine!$B${row + 1}")
    wb.close()
    return path


@pytest.mark.parametrize("workers", ["1", "2"])
def test_calc_of_a_workbook_without_catalog_sheet_uses_catalog_option(
    tmp_path: Path, workers: str
) -> None:
    mine = SCENARIO | {"train_gpu": "ZX9"}
    books = [_own_workbook(tmp_path / f"own{i}.xlsx", mine | {"name": f"o{i}"}) for i in range(3)]
    code, out, err = run_cli(
        "calc", *books, "-f", "json", "-j", workers, "--catalog", _my_catalog(tmp_path)
    )
    assert code == 0, err
    assert [r["total_cost"] for r in json.loads(out)] == pytest.approx([_expected(mine, MINE)] * 3)
    code, _, err = run_cli("calc", books[0], "-j", workers)
    assert code == 1
    assert "own0.xlsx Mine!B5, train_gpu: unknown GPU 'ZX9'; known: T4," in err


def test_validate_has_catalog_option(tmp_path: Path) -> None:
    own = _own_workbook(tmp_path / "own.xlsx", SCENARIO | {"train_gpu": "ZX9"})
    code, out, err = run_cli("validate", own, "--catalog", _my_catalog(tmp_path))
    assert code == 0, err
    assert "own.xlsx: OK (g1)" in out
    code, _, err = run_cli("validate", own)
    assert code == 1
    assert "own.xlsx Mine!B5, train_gpu: unknown GPU 'ZX9'; known: T4," in err
    code, _, err = run_cli("validate", own, "--catalog", _my_catalog(tmp_path, peak_tflops=-1))
    assert code == 1
    assert "mine.json: gpus.0.peak_tflops:" in err


@pytest.mark.parametrize(
    "command", [["compare"], ["risk", "--draws", "50"], ["sensitivity"], ["calc"]]
)
def test_scenario_commands_honour_catalog_option(tmp_path: Path, command: list[str]) -> None:
    mine = SCENARIO | {"train_gpu": "ZX9", "ctr_low": 0.005, "ctr_high": 0.02}
    other = mine | {"name": "g2", "serve_gpus": 2}
    path = _yaml(tmp_path / "s.json", mine, other)
    code, _, err = run_cli(*command, path)
    assert code == 1
    assert "unknown GPU 'ZX9'; known: T4," in err
    code, out, err = run_cli(*command, path, "--catalog", _my_catalog(tmp_path))
    assert code == 0, err
    assert "g1" in out


def test_fill_honours_catalog_option(tmp_path: Path) -> None:
    own = _own_workbook(tmp_path / "own.xlsx", SCENARIO)
    rows = _yaml(tmp_path / "rows.json", SCENARIO | {"name": "r1", "train_gpu": "ZX9"})
    code, _, err = run_cli("fill", own, rows, "--out", tmp_path / "out")
    assert code == 1
    assert "train_gpu: unknown GPU 'ZX9'; known: T4," in err
    code, _, err = run_cli(
        "fill", own, rows, "--out", tmp_path / "out", "--catalog", _my_catalog(tmp_path)
    )
    assert code == 0, err
    code, out, err = run_cli(
        "calc", tmp_path / "out" / "r1.xlsx", "-f", "json", "--catalog", _my_catalog(tmp_path)
    )
    assert code == 0, err
    assert _total(out) == pytest.approx(_expected(SCENARIO | {"train_gpu": "ZX9"}, MINE))


def test_catalog_option_help_is_the_same_everywhere() -> None:
    help_text = (
        "YAML/JSON file overriding or extending the GPU catalog that train_gpu and serve_gpu "
        "are looked up in. A workbook with its own Catalog sheet uses that sheet instead, as "
        "its formulas do."
    )
    for command in (
        "calc",
        "validate",
        "compare",
        "risk",
        "sensitivity",
        "fill",
        "generate",
        "template",
    ):
        code, out, _ = run_cli(command, "--help")
        assert code == 0
        words = " ".join(w for w in out.replace("│", " ").split() if w)
        assert help_text in words, command


def test_spawned_workers_use_the_parents_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Worker processes started afresh (as on Windows and macOS) get --catalog too."""
    import multiprocessing

    monkeypatch.setattr(multiprocessing, "get_context", _spawn_context(multiprocessing))
    mine = SCENARIO | {"train_gpu": "ZX9"}
    books = [_own_workbook(tmp_path / f"own{i}.xlsx", mine | {"name": f"o{i}"}) for i in range(2)]
    code, out, err = run_cli(
        "calc", *books, "-f", "json", "-j", "2", "--catalog", _my_catalog(tmp_path)
    )
    assert code == 0, err
    assert [r["total_cost"] for r in json.loads(out)] == pytest.approx([_expected(mine, MINE)] * 2)


def _spawn_context(mp: object) -> object:
    real = mp.get_context  # type: ignore[attr-defined]
    return lambda method=None: real("spawn")


def test_calc_follows_a_gpu_typed_into_the_catalog_tables_blank_rows(book: Path) -> None:
    """The table ends in blank rows a user types a GPU into, without inserting rows."""
    wb = openpyxl.load_workbook(book)
    ws = wb[L.CATALOG]
    row = max(_catalog_rows(ws).values()) + 1 + L.CAT_SPARE_ROWS // 2
    for field, value in MINE.items():
        ws.cell(row, _col(ws, field), value)
    sheet, cell = next(wb.defined_names["serve_gpu"].destinations)
    wb[sheet][cell.replace("$", "")] = "ZX9"
    wb.save(book)
    code, out, err = run_cli("calc", book, "-f", "json")
    assert code == 0, err
    assert _total(out) == pytest.approx(_expected(SCENARIO | {"serve_gpu": "ZX9"}, MINE))


@pytest.mark.parametrize("mode", ["udf", "portable"])
@pytest.mark.parametrize("command", ["generate", "template"])
def test_workbooks_built_with_catalog_option_list_its_gpus(
    tmp_path: Path, command: str, mode: str
) -> None:
    """generate and template --catalog write the user's GPUs onto the Catalog sheet, so the
    workbook then needs no --catalog: its formulas and calc look the GPU up there."""
    mine = SCENARIO | {"serve_gpu": "ZX9"}
    scenarios = _yaml(tmp_path / "s.json", mine)
    out = tmp_path / "g1.xlsx"
    args: list[str | Path] = (
        ["generate", scenarios, "--out", tmp_path]
        if command == "generate"
        else ["template", "--scenario", scenarios, "--out", out]
    )
    code, _, err = run_cli(*args, "--mode", mode)
    assert code == 1
    assert "unknown GPU 'ZX9'; known: T4," in err
    code, _, err = run_cli(*args, "--mode", mode, "--catalog", _my_catalog(tmp_path))
    assert code == 0, err
    ws = openpyxl.load_workbook(out)[L.CATALOG]
    row = _catalog_rows(ws)["ZX9"]
    assert ws.cell(row, _col(ws, "price_per_hour")).value == 2.5
    assert "with the GPUs of the --catalog file" in str(ws["A2"].value)
    code, out_json, err = run_cli("calc", out, "-f", "json")
    assert code == 0, err
    assert _total(out_json) == pytest.approx(_expected(mine, MINE))


def test_a_workbook_without_catalog_option_does_not_say_it_has_one(book: Path) -> None:
    ws = openpyxl.load_workbook(book)[L.CATALOG]
    assert "--catalog" not in str(ws["A2"].value)
    assert "ZX9" not in _catalog_rows(ws)
