"""``xlcost fill`` of a user's own template: only some xlcost inputs, other named cells too."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from typer.testing import CliRunner

from xlcost.cli import load_commands
from xlcost.engine import Scenario
from xlcost.workbooks.package import CellRef, read_cells

APP = load_commands()
SHEET = "xl/worksheets/sheet1.xml"
NAMES = {"train_gpus": "B2", "train_hours": "B3", "train_price_per_gpu_hour": "B4", "gpu": "C2"}
HEADER = ["name", "train_gpus", "train_hours", "train_price_per_gpu_hour", "gpu"]
# the inputs a scenario cannot do without (from the model: others add inputs as it grows)
REQUIRED = [
    n
    for n, f in Scenario.model_fields.items()
    if f.is_required() and n not in NAMES and n != "name"
]
NOTE = (
    "xlcost: note: {book}: results not computed (not a whole scenario: no defined name for "
    + ", ".join(REQUIRED[:4])
    + ", …); Excel recalculates the outputs' formulas on open"
)


def run_cli(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(APP, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def _own_template(path: Path, names: dict[str, str] = NAMES) -> Path:
    """A user's workbook: sheet "Inputs", three training inputs, a formula, a GPU drop-down."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Inputs")
    for row, (label, value) in enumerate(
        [("GPUs", 8), ("Hours", 10), ("Price per GPU-hour", 2.5)], start=1
    ):
        ws.write(row, 0, label)
        ws.write(row, 1, value)
    ws.write(4, 0, "Training cost")
    ws.write_formula("B5", "=B2*B3*B4", None, 200)
    ws.write("C2", "A100")
    ws.data_validation("C2", {"validate": "list", "source": ["H100", "A100", "L4"]})
    for name, cell in names.items():
        col, row = cell[0], cell[1:]
        wb.define_name(name, f"=Inputs!${col}${row}")
    if path.suffix == ".xlsm":
        blob = path.parent / "vbaProject.bin"
        blob.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"user's macros" * 8)
        wb.add_vba_project(str(blob))
    wb.close()
    return path


def _csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *rows])
    return path


def _raw_members(path: Path) -> dict[str, bytes]:
    """Each member's compressed bytes as stored (what a raw copy keeps)."""
    data = path.read_bytes()
    out = {}
    with zipfile.ZipFile(path) as zf:
        for zi in zf.infolist():
            head = zi.header_offset
            skip = 30 + int.from_bytes(data[head + 26 : head + 28], "little")
            skip += int.from_bytes(data[head + 28 : head + 30], "little")
            out[zi.filename] = data[head + skip : head + skip + zi.compress_size]
    return out


@pytest.mark.parametrize("suffix", [".xlsx", ".xlsm"])
def test_own_template_filled_from_two_rows(tmp_path: Path, suffix: str) -> None:
    template = _own_template(tmp_path / f"own{suffix}")
    data = _csv(
        tmp_path / "rows.csv", HEADER, [["a", 16, 3, 2.5, "H100"], ["b", 4, 10, 1.25, "L4"]]
    )
    code, out, err = run_cli("fill", template, data, "--out", tmp_path / "out")
    assert (code, out) == (0, ""), err
    assert err.splitlines() == [
        NOTE.format(book=template.name),
        "xlcost: fill: 2 workbooks OK, 0 failed",
    ]
    books = {p.name: p for p in (tmp_path / "out").iterdir()}
    assert sorted(books) == [f"a{suffix}", f"b{suffix}"]
    refs = {k: CellRef("Inputs", c) for k, c in NAMES.items()}
    total = CellRef("Inputs", "B5")
    for stem, gpus, hours, price, gpu in [("a", 16, 3, 2.5, "H100"), ("b", 4, 10, 1.25, "L4")]:
        book = books[f"{stem}{suffix}"]
        got = read_cells(book, [*refs.values(), total])
        assert [got[refs[k]].value for k in NAMES] == [gpus, hours, price, gpu]
        assert got[total].formula == "B2*B3*B4"  # the user's formula is kept
        old, new = _raw_members(template), _raw_members(book)
        assert list(old) == list(new)
        changed = [n for n in old if old[n] != new[n]]
        assert changed == [SHEET]  # every other part byte-identical (fullCalcOnLoad was set)


@pytest.mark.parametrize(
    ("rows", "lines"),
    [
        (  # each problem on its own line, naming the row; the good row is written
            [["bad", -3, -1, 2.5, "H100"], ["good", 4, 10, 1.25, "L4"]],
            [
                "xlcost: error: rows.csv row 2, train_gpus: must be ≥ 0, got -3",
                "xlcost: error: rows.csv row 2, train_hours: must be ≥ 0, got -1",
            ],
        ),
        (  # a rule among the template's own inputs applies ...
            [["zero", 0, "", 2.5, "H100"], ["good", 4, 10, 1.25, "L4"]],
            [
                "xlcost: error: rows.csv row 2, train_gpus: must be > 0 to estimate train_hours, "
                "got 0"
            ],
        ),
        (  # ... one needing inputs the template does not have (model_params …) does not
            [["blank hours", 4, "", 2.5, "H100"], ["good", 4, 10, 1.25, "L4"]],
            [],
        ),
        (  # text where a number belongs: its own domain, not a list of unrelated inputs
            [["text", "many", 3, 2.5, "H100"], ["good", 4, 10, 1.25, "L4"]],
            ["xlcost: error: rows.csv row 2, train_gpus: must be a number, got 'many'"],
        ),
    ],
)
def test_own_template_rows_checked_against_their_own_inputs(
    tmp_path: Path, rows: list[list[Any]], lines: list[str]
) -> None:
    template = _own_template(tmp_path / "own.xlsx")
    data = _csv(tmp_path / "rows.csv", HEADER, rows)
    code, _, err = run_cli("fill", template, data, "--out", tmp_path / "out")
    ok = 2 - bool(lines)
    assert err.splitlines() == [
        NOTE.format(book="own.xlsx"),
        *lines,
        f"xlcost: fill: {ok} workbook{'s' * (ok != 1)} OK, {int(bool(lines))} failed",
    ]
    assert code == int(bool(lines))
    assert "good.xlsx" in [p.name for p in (tmp_path / "out").iterdir()]


def test_own_template_names_matched_case_insensitively(tmp_path: Path) -> None:
    upper = {k.upper(): v for k, v in NAMES.items()}
    template = _own_template(tmp_path / "own.xlsx", upper)
    data = _csv(tmp_path / "rows.csv", ["name", "Train_Gpus", "gpu"], [["a", 12, "L4"]])
    code, _, err = run_cli("fill", template, data, "--out", tmp_path / "out")
    assert code == 0, err
    got = read_cells(
        tmp_path / "out" / "a.xlsx", [CellRef("Inputs", "B2"), CellRef("Inputs", "C2")]
    )
    assert [c.value for c in got.values()] == [12.0, "L4"]


def test_note_names_the_template_results_not_computed(tmp_path: Path) -> None:
    template = _own_template(tmp_path / "own.xlsx", {**NAMES, "train_cost": "B5"})
    data = _csv(tmp_path / "rows.csv", HEADER, [["a", 16, 3, 2.5, "H100"]])
    code, _, err = run_cli("fill", template, data, "--out", tmp_path / "out")
    assert code == 0, err
    assert err.splitlines()[0] == NOTE.format(book="own.xlsx").replace(
        "results not computed", "train_cost not computed"
    )
