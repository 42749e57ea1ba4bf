"""Batch commands end to end: fill, validate and calc of workbooks, bad files, names, workers."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from _package_corpus import INPUT_NAMES as CORPUS_NAMES
from _package_corpus import build_template, xlcost_cells
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_bad_files import CHECKED, PARSED, _expected
from typer.testing import CliRunner

from xlcost.batch import Outcome, OutputNames, Progress, fill_one, fill_tasks, run, safe_stem
from xlcost.cli import load_commands
from xlcost.engine import INPUT_NAMES, ScenarioErrors, evaluate, parse_scenario, seed_scenario
from xlcost.report import render
from xlcost.workbooks.package import CellRef, read_cells

APP = load_commands()
INPUTS_PART = "xl/worksheets/sheet1.xml"

pytestmark = pytest.mark.filterwarnings("ignore:.*extension is not supported:UserWarning")


def run_cli(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(APP, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _raw_members(path: Path) -> dict[str, bytes]:
    """Raw (compressed) bytes of each member, local header included."""
    out = {}
    data = path.read_bytes()
    with zipfile.ZipFile(path) as zf:
        for zi in zf.infolist():
            start = zi.header_offset
            nlen, elen = (
                int.from_bytes(data[start + 26 : start + 28], "little"),
                int.from_bytes(data[start + 28 : start + 30], "little"),
            )
            out[zi.filename] = data[
                start + 30 + nlen + elen : start + 30 + nlen + elen + zi.compress_size
            ]
    return out


def _strip_cells(xml: str, cells: list[str]) -> str:
    for cell in cells:
        xml = re.sub(rf'<c r="{cell}"[^>]*?(?:/>|>.*?</c>)', "", xml)
    return re.sub(r'<dimension ref="[^"]*"/>', "", xml)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_template(tmp_path_factory.mktemp("corpus"), xlcost=True)


# --------------------------------------------------------------------------- names


def test_safe_stem_examples() -> None:
    assert safe_stem("BERT ranker v2") == "BERT ranker v2"
    assert safe_stem('a/b\\c:d*e?f"g<h>i|j') == "a_b_c_d_e_f_g_h_i_j"
    assert safe_stem("..") == "scenario"
    assert safe_stem("lpt1") == "_lpt1"
    assert safe_stem("COM3.final") == "_COM3.final"
    assert safe_stem("tab\there\u202e") == "tab_here_"
    assert safe_stem("x" * 400) == "x" * 150
    assert len(safe_stem("é" * 400).encode()) <= 150


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=300), min_size=1, max_size=8))
def test_output_names_are_safe_and_unique(names: list[str]) -> None:
    claimed = OutputNames(Path("out"), ".xlsx")
    paths = [claimed.claim(n) for n in names]
    stems = [p.stem for p in paths]
    assert len({s.casefold() for s in stems}) == len(stems)
    for p in paths:
        assert p.parent == Path("out") and p.suffix == ".xlsx"
        stem = p.stem
        assert stem and not re.search(r'[<>:"/\\|?*\x00-\x1f]', stem)
        assert not stem.endswith((".", " ")) and not stem.startswith((".", " "))
        assert stem.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL", "COM1", "LPT1"}
        assert len(stem.encode("utf-8")) <= 160


# --------------------------------------------------------------------------- runner


def _double(x: int) -> Outcome:
    if x == 3:
        raise RuntimeError("boom")
    return Outcome(str(x), note=str(2 * x))


@pytest.mark.parametrize("workers", [1, 2])
def test_run_keeps_order_and_bounds_in_flight_tasks(workers: int) -> None:
    consumed = 0

    def items() -> Iterator[int | Outcome]:
        nonlocal consumed
        for i in range(60):
            consumed += 1
            yield Outcome("prepared", ("bad row",)) if i == 5 else i

    outcomes = run(items(), _double, workers=workers, chunksize=2)
    first = next(outcomes)
    assert consumed <= 2 * (2 * workers + 2) + 2  # lazily consumed: bounded in flight
    rest = [first, *outcomes]
    assert [o.note for o in rest if o.ok] == [str(2 * i) for i in range(60) if i not in (3, 5)]
    assert rest[3].errors == ("3: internal error (RuntimeError: boom)",)
    assert rest[5].errors == ("bad row",)


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal() -> None:
    quiet, tty = io.StringIO(), _Tty()
    for stream in (quiet, tty):
        p = Progress("fill", 2, stream)
        p.advance(Outcome("a"))
        p.advance(Outcome("b", ("x",)))
        p.clear()
    assert quiet.getvalue() == ""
    assert "\rfill: 2/2" in tty.getvalue() and "1 failed" in tty.getvalue()


# --------------------------------------------------------------------------- fill

HOSTILE = ["=cmd|' /C calc'!A0", '=HYPERLINK("http://evil","x")', "@SUM(1)", "+1-1", "ü\x07\ttab"]


def _csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    import csv

    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *rows])
    return path


def test_fill_end_to_end_is_lossless(template: Path, tmp_path: Path) -> None:
    data = _csv(
        tmp_path / "rows.csv",
        ["name", "train_gpus", "ctr", "model_name", "region"],
        [
            ["Alpha", "16", "1%", HOSTILE[0], "US"],
            ["../beta", "4", "0.5%", HOSTILE[1], "EU"],
        ],
    )
    before = (_sha(template), _sha(data))
    code, out, err = run_cli("fill", template, data, "--out", tmp_path / "out")
    assert (code, out) == (0, ""), err
    assert err.strip().splitlines()[-1] == "xlcost: fill: 2 workbooks OK, 0 failed"
    assert (_sha(template), _sha(data)) == before
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "Alpha.xlsm",
        "_beta.xlsm",
    ]

    alpha = tmp_path / "out" / "Alpha.xlsm"
    old, new = _raw_members(template), _raw_members(alpha)
    assert list(old) == list(new)
    for name in old:
        if name not in (INPUTS_PART, "xl/workbook.xml"):
            assert old[name] == new[name], name
    with zipfile.ZipFile(template) as a, zipfile.ZipFile(alpha) as b:
        sheet_old, sheet_new = a.read(INPUTS_PART).decode(), b.read(INPUTS_PART).decode()
    cells = xlcost_cells()
    filled = [cells["name"], cells["train_gpus"], cells["ctr"], CORPUS_NAMES["model_name"]]
    filled.append(CORPUS_NAMES["region"])
    assert _strip_cells(sheet_old, filled) == _strip_cells(sheet_new, filled)
    assert "<f>" not in sheet_new.split(f'r="{CORPUS_NAMES["model_name"]}"')[1].split("</c>")[0]

    got = read_cells(alpha, [CellRef("Inputs", CORPUS_NAMES["model_name"])])
    (value,) = got.values()
    assert value.value == HOSTILE[0] and value.formula is None

    code, out, err = run_cli("calc", alpha, "-f", "json")
    assert code == 0, err
    expected = seed_scenario().model_copy(update={"name": "Alpha", "train_gpus": 16, "ctr": 0.01})
    assert json.loads(out) == json.loads(render([evaluate(expected)], "json", warnings=[[]]))


def test_fill_refuses_unknown_columns_unless_asked(template: Path, tmp_path: Path) -> None:
    data = _csv(tmp_path / "rows.csv", ["name", "train_gpus", "colour", "size"], [["a", 1, 2, 3]])
    code, _, err = run_cli("fill", template, data, "--out", tmp_path / "out")
    assert code == 1
    assert err == (
        "xlcost: error: rows.csv: no defined name in xlcost_template.xlsm for column(s) "
        "colour, size (use --ignore-unknown to skip them)\n"
        "xlcost: fill: 0 workbooks OK, 1 failed\n"  # the refused file is the one failure
    )
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
    code, _, err = run_cli("fill", template, data, "--out", tmp_path / "out", "--ignore-unknown")
    assert code == 0, err
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["a.xlsm"]


def test_fill_bad_rows_skipped_existing_files_kept(template: Path, tmp_path: Path) -> None:
    data = tmp_path / "rows.yaml"
    data.write_text(
        "- {name: good, train_gpus: 2}\n"
        "- {name: negative, train_gpus: -3}\n"
        "- {name: listy, region: [1, 2]}\n"
        "- {name: fine, horizon_months: 3}\n"
    )
    out = tmp_path / "out"
    code, _, err = run_cli("fill", template, data, "--out", out, "--workers", "2")
    assert code == 1
    lines = err.strip().splitlines()
    assert lines == [
        "xlcost: error: rows.yaml [1], train_gpus: must be ≥ 0, got -3",
        "xlcost: error: rows.yaml [2]: xlcost_template.xlsm: Inputs!C7: cannot write a value "
        "of type list",
        "xlcost: fill: 2 workbooks OK, 2 failed",
    ]
    kept = _sha(out / "good.xlsm")
    code, _, err = run_cli("fill", template, data, "--out", out)
    assert code == 1
    assert "xlcost: error: rows.yaml [0]: good.xlsm: exists; use --force" in err
    assert _sha(out / "good.xlsm") == kept
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left
    code, _, err = run_cli("fill", template, data, "--out", out, "--force")
    assert err.strip().splitlines()[-1] == "xlcost: fill: 2 workbooks OK, 2 failed"


def _valid_name(name: str) -> bool:
    try:
        parse_scenario({**seed_scenario().model_dump(), "name": name.strip() or None})
    except ScenarioErrors:
        return False
    return True


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.text(max_size=40) | st.sampled_from([*HOSTILE, "CON", "a/../b", "x" * 300, ""]),
            st.text(st.characters(exclude_categories=["Cs"]), max_size=60)
            | st.sampled_from(HOSTILE),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_fill_property_names_sanitised_text_kept(
    template: Path, tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str, str]]
) -> None:
    tmp = tmp_path_factory.mktemp("prop")
    data = tmp / "rows.json"
    data.write_text(json.dumps([{"name": n, "model_name": t} for n, t in rows]))
    (tmp / "out").mkdir()
    total, tasks, _note = fill_tasks(template, data, tmp / "out")
    outcomes = list(run(tasks, fill_one))
    assert total == len(rows) == len(outcomes)
    written = [o for o in outcomes if o.ok]
    seen: set[str] = set()
    for (name, text), outcome in zip(rows, outcomes, strict=True):
        if not _valid_name(name):  # a validation problem, reported for its row
            assert not outcome.ok and outcome.errors[0].startswith("rows.json [")
            continue
        if name.strip() in seen:  # the one duplicate rule: an error naming the first row
            assert not outcome.ok and "name: duplicate of rows.json [" in outcome.errors[0]
            continue
        seen.add(name.strip())
        assert outcome.ok, outcome.errors
        path = Path(outcome.note)
        assert path.parent == tmp / "out"
        ref = CellRef("Inputs", CORPUS_NAMES["model_name"])
        cell = read_cells(path, [ref])[ref]
        assert cell.formula is None
        assert cell.value == (text.strip() or None)  # data cells are read stripped
    assert len({Path(o.note).name.casefold() for o in written}) == len(written)


# --------------------------------------------------------------------------- bad workbooks


def _workbook(
    path: Path,
    *,
    values: dict[str, Any] | None = None,
    formulas: dict[str, str] | None = None,
    names: bool | set[str] = True,
    error_cells: dict[str, str] | None = None,
    raw_cells: dict[str, str] | None = None,
) -> Path:
    """A minimal filled workbook: Inputs!C3.. hold the worked example's inputs (train_gpus at C7).

    ``error_cells`` puts an error value into an input cell, ``raw_cells`` the given content
    (the XML inside ``<c>``).
    """
    seed = {**seed_scenario().model_dump(), **(values or {})}
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Inputs")
    for row, name in enumerate(INPUT_NAMES, start=3):
        ws.write_string(f"B{row}", name)
        if formulas and name in formulas:
            ws.write_formula(f"C{row}", formulas[name], None, 0)
        elif seed[name] is not None:
            ws.write(f"C{row}", seed[name])
        if names is True or (isinstance(names, set) and name in names):
            wb.define_name(name, f"=Inputs!$C${row}")
    wb.close()
    raw = {k: f'<c r="C{{row}}" t="e"><v>{v}</v></c>' for k, v in (error_cells or {}).items()}
    raw |= {k: f'<c r="C{{row}}">{v}</c>' for k, v in (raw_cells or {}).items()}
    if raw:
        with zipfile.ZipFile(path) as zf:
            members = {zi.filename: zf.read(zi) for zi in zf.infolist()}
        xml = members[INPUTS_PART].decode()
        for name, cell in raw.items():
            row = INPUT_NAMES.index(name) + 3
            xml = re.sub(rf'<c r="C{row}"[^>]*?(?:/>|>.*?</c>)', cell.format(row=row), xml)
        members[INPUTS_PART] = xml.encode()
        with zipfile.ZipFile(path, "w") as zf:
            for name, data in members.items():
                zf.writestr(name, data)
    return path


WORKBOOK_CASES: list[tuple[str, Callable[[Path], object], str]] = [
    (
        "neg.xlsx",
        lambda p: _workbook(p, values={"train_gpus": -3}),
        "neg.xlsx Inputs!C7, train_gpus: must be ≥ 0, got -3",
    ),
    (
        "formula.xlsx",
        lambda p: _workbook(p, formulas={"train_gpus": "=2*16"}),
        "formula.xlsx Inputs!C7, train_gpus: holds a formula; inputs must be values",
    ),
    (  # a formula without a cached value, as openpyxl writes it
        "uncached.xlsx",
        lambda p: _workbook(p, raw_cells={"ctr": "<f>0.5%</f><v></v>"}),
        "uncached.xlsx Inputs!C32, ctr: holds a formula; inputs must be values",
    ),
    (
        "na.xlsx",
        lambda p: _workbook(p, error_cells={"train_gpus": "#N/A"}),
        "na.xlsx Inputs!C7, train_gpus: holds the error #N/A; inputs must be values",
    ),
    (
        "text.xlsx",
        lambda p: _workbook(p, values={"train_gpus": "lots", "ctr": True}),
        "text.xlsx Inputs!C32, ctr: must be a number, got 'TRUE'; "
        "text.xlsx Inputs!C7, train_gpus: must be a number, got 'lots'",
    ),
    (
        "partial.xlsx",
        lambda p: _workbook(p, names=set(INPUT_NAMES) - {"horizon_months"}),
        "partial.xlsx, horizon_months: required, but the workbook has no defined name for it",
    ),
]


@pytest.fixture(scope="module")
def bad_corpus(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, str]]:
    directory = tmp_path_factory.mktemp("bad")
    out = []
    for name, build, message in [*CHECKED, *PARSED, *WORKBOOK_CASES]:
        path = directory / name
        build(path)
        out.append((path, _expected(message, path)))
    return out


def test_validate_reports_each_bad_file_in_one_line(
    bad_corpus: list[tuple[Path, str]], tmp_path: Path
) -> None:
    good = _workbook(tmp_path / "good.xlsx")
    unnamed = _workbook(tmp_path / "plain.xlsx", names=False)
    files = [good, *(p for p, _ in bad_corpus), unnamed, good]
    before = {p: _sha(p) for p in files}
    code, out, err = run_cli("validate", *files)
    assert code == 1
    assert out.splitlines() == ["good.xlsx: OK (BERT ranker)"] * 2
    lines = err.strip().splitlines()
    expected = [f"xlcost: error: {m}" for _, m in bad_corpus]
    expected.append(
        "xlcost: error: plain.xlsx: no defined names for xlcost inputs (not a filled xlcost "
        "workbook)"
    )
    assert lines[:-1] == expected
    assert lines[-1] == f"xlcost: validate: 2 workbooks OK, {len(bad_corpus) + 1} failed"
    assert "Traceback" not in err
    assert {p: _sha(p) for p in files} == before


def test_calc_mixes_workbooks_and_scenario_files(
    bad_corpus: list[tuple[Path, str]], tmp_path: Path
) -> None:
    good = _workbook(tmp_path / "good.xlsx", values={"name": "from workbook"})
    yaml_file = tmp_path / "s.yaml"
    yaml_file.write_text(json.dumps([{**seed_scenario().model_dump(), "name": "from yaml"}]))
    files = [good, *(p for p, _ in bad_corpus), yaml_file]
    code, out, err = run_cli("calc", *files, "-f", "json", "--workers", "2")
    assert code == 1
    s = seed_scenario()
    expected = [evaluate(s.model_copy(update={"name": n})) for n in ("from workbook", "from yaml")]
    assert json.loads(out) == json.loads(render(expected, "json", warnings=[[], []]))
    lines = err.strip().splitlines()
    assert lines[:-1] == [f"xlcost: error: {m}" for _, m in bad_corpus]
    assert lines[-1] == f"xlcost: calc: 2 scenarios OK, {len(bad_corpus)} failed"


def test_calc_workbook_equals_calc_scenario_file(tmp_path: Path) -> None:
    s = parse_scenario({**seed_scenario().model_dump(), "retrains": 2, "discount_rate_annual": 0.1})
    book = _workbook(tmp_path / "q3.xlsx", values=s.model_dump())
    data = tmp_path / "q3.json"
    data.write_text(json.dumps([s.model_dump()]))
    for fmt in ("json", "csv", "table"):
        a = run_cli("calc", book, "-f", fmt)
        b = run_cli("calc", data, "-f", fmt)
        assert a[0] == b[0] == 0 and a[1] == b[1]
