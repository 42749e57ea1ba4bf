"""Spreadsheet-style scenario files, the one rule for bad rows and files, and output hygiene.

Expected values are the worked example (BERT ranker) of the cost-accounting method: train 480,
deploy 10, maintain 100, benefit 150, total 590 — typed here, not computed by the code under
test.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import WORKED_ROW as SEED
from typer.testing import CliRunner

from xlcost.cli import load_commands
from xlcost.engine.errors import XlcostError
from xlcost.reading import load_json, load_yaml, number_too_long, sniff_delimiter
from xlcost.scenario_columns import calc_chunks
from xlcost.scenario_files import parse_number, read_scenario_file

APP = load_commands()
WORKED = {"train_cost": 480.0, "deploy_cost": 10.0, "maintain_cost": 100.0, "total_cost": 590.0}


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(APP, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def _write(path: Path, rows: list[list[str]], delimiter: str = ",", bom: bool = False) -> Path:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_text(("\ufeff" if bom else "") + buf.getvalue(), encoding="utf-8")
    return path


def _rows(*changes: dict[str, Any]) -> list[list[str]]:
    header = list(SEED)
    return [header] + [[str({**SEED, **c}[k]) for k in header] for c in changes]


# --------------------------------------------------------------------------- numbers as typed


@pytest.mark.parametrize(
    ("text", "decimal_comma", "value"),
    [
        ("600,000,000", False, 600_000_000.0),
        ("$0.59", False, 0.59),
        ("0.59 $", False, 0.59),
        ("€1,234.50", False, 1234.5),
        ("£12", False, 12.0),
        ("¥1,000", False, 1000.0),
        ("USD 5", False, 5.0),
        ("5 EUR", False, 5.0),
        ("0.5%", False, 0.005),
        (" 0.3 % ", False, 0.003),
        ("(1,200)", False, -1200.0),
        ("-$5", False, -5.0),
        ("1e8", False, 1e8),
        ("1 000 000", False, 1e6),
        ("1.234,56", True, 1234.56),
        ("0,5%", True, 0.005),
        ("1 234,5 €", True, 1234.5),
        ("12", True, 12.0),
        # failure rows: not numbers, left for validation to report
        ("12abc", False, None),
        ("1,23,4", False, None),
        ("1.234,56", False, None),
        ("$", False, None),
        ("%", False, None),
        ("USD", False, None),
        ("1" * 101, False, None),
        ("1,5", False, None),
    ],
)
def test_numbers_are_read_as_a_spreadsheet_user_types_them(
    text: str, decimal_comma: bool, value: float | None
) -> None:
    assert parse_number(text, decimal_comma=decimal_comma) == value


def test_the_percent_pattern_does_not_backtrack() -> None:
    import time

    start = time.perf_counter()
    for n in (8_000, 20_000, 100_000):
        assert parse_number("1" * n + "x%") is None
        assert number_too_long("1" * n + "%")
    assert time.perf_counter() - start < 0.5  # was 2 s at 8,000 digits, 13 s at 20,000


@pytest.mark.parametrize(
    ("sample", "delimiter"),
    [("name,ctr\n", ","), ("name;ctr\n", ";"), ("name\tctr\n", "\t"), ('name,"a;b;c"\n', ",")],
)
def test_the_delimiter_is_sniffed(sample: str, delimiter: str) -> None:
    assert sniff_delimiter(sample) == delimiter


# --------------------------------------------------------------------------- spreadsheet files


def _european(tmp_path: Path) -> Path:
    """Excel's default export in much of Europe: semicolons, decimal commas, a BOM."""
    rows = _rows({})
    header, row = rows[0], rows[1]
    row = [
        v.replace(".", ",") if k in ("serve_price_per_gpu_hour", "maintain_price_per_unit") else v
        for k, v in zip(header, row, strict=True)
    ]
    row[header.index("volume")] = "100.000.000"
    row[header.index("ctr")] = "0,5%"
    row[header.index("cvr")] = "0,3 %"
    row[header.index("value_per_conversion")] = "0,10 €"
    return _write(tmp_path / "eu.csv", [header, row], delimiter=";", bom=True)


def _calc_json(*args: str | Path) -> list[dict[str, Any]]:
    code, out, err = run("calc", *args, "-f", "json")
    assert code == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


def test_semicolon_csv_with_decimal_commas_and_a_bom(tmp_path: Path) -> None:
    [r] = _calc_json(_european(tmp_path))
    assert {k: r[k] for k in WORKED} == WORKED
    assert r["benefit"] == pytest.approx(150.0)


def test_tab_separated_and_spreadsheet_numbers(tmp_path: Path) -> None:
    rows = _rows({})
    header = rows[0]
    rows[1][header.index("volume")] = "100,000,000"
    rows[1][header.index("train_price_per_gpu_hour")] = "$5.00"
    rows[1][header.index("ctr")] = "0.5%"
    [r] = _calc_json(_write(tmp_path / "tab.csv", rows, delimiter="\t"))
    assert {k: r[k] for k in WORKED} == WORKED


def _decimal_commas(tmp_path: Path) -> Path:
    """The worked example, comma-separated, with decimal commas (so those fields are quoted)."""
    rows = _rows({})
    header = rows[0]
    rows[1][header.index("serve_price_per_gpu_hour")] = "0,1"
    rows[1][header.index("maintain_price_per_unit")] = "0,5"
    rows[1][header.index("ctr")] = "0,5%"
    rows[1][header.index("cvr")] = "0,3%"
    rows[1][header.index("value_per_conversion")] = "0,1"
    return _write(tmp_path / "dc.csv", rows)


def test_decimal_comma_can_be_forced_and_refused(tmp_path: Path) -> None:
    path = _decimal_commas(tmp_path)
    [r] = _calc_json(path, "--decimal-comma")
    assert {k: r[k] for k in WORKED} == WORKED
    code, _, err = run("calc", path, "--decimal-point")
    assert code == 1
    assert "dc.csv row 2, serve_price_per_gpu_hour: must be a number, got '0,1'" in err


@pytest.mark.parametrize("command", ["compare", "generate", "fill", "risk", "sensitivity"])
def test_every_command_that_reads_rows_takes_decimal_comma(command: str, tmp_path: Path) -> None:
    path = _decimal_commas(tmp_path)
    template = Path(__file__).resolve().parents[1] / "workbook" / "xlcost_template_portable.xlsx"
    before = {"fill": [template], "generate": [], "risk": [], "sensitivity": [], "compare": []}
    after = {"fill": ["--out", tmp_path / "f"], "generate": ["--out", tmp_path / "g"],
             "risk": ["--draws", "100"]}.get(command, [])  # fmt: skip
    code, _, err = run(command, *before[command], path, *after, "--decimal-comma")
    assert code == 0, err
    code, _, err = run(command, *before[command], path, *after, "--decimal-point")
    assert code == 1
    assert "dc.csv row 2, serve_price_per_gpu_hour: must be a number, got '0,1'" in err


def test_an_unknown_column_is_one_line_with_did_you_mean(tmp_path: Path) -> None:
    rows = _rows({}, {"name": "b"}, {"name": "c"})
    rows[0][rows[0].index("train_gpus")] = "trian_gpus"
    path = _write(tmp_path / "typo.csv", rows)
    for command in ("calc", "compare"):
        code, out, err = run(command, path)
        assert code == 1 and out == ""
        assert err.splitlines()[0] == (
            "xlcost: error: typo.csv row 1, trian_gpus: not an xlcost input name (did you mean "
            "'train_gpus'?); fix the header or use --ignore-unknown to skip such columns"
        )
        assert err.count("did you mean") == 1


# --------------------------------------------------------------------------- the one rule


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("rule")
    out = {
        "good": _write(base / "good.csv", _rows({"name": "a"}, {"name": "b"})),
        "bad_row": _write(
            base / "bad_row.csv", _rows({"name": "a"}, {"name": "b", "ctr": 1.5}, {"name": "c"})
        ),
        "duplicate": _write(
            base / "duplicate.csv", _rows({"name": "a"}, {"name": "b"}, {"name": "a"})
        ),
        "missing": base / "nosuch.csv",
    }
    code, _, err = run("template", "--out", base / "template.xlsx")
    assert code == 0, err
    out["template"] = base / "template.xlsx"
    return out


EXPECTED = {
    "good": (0, []),
    "bad_row": (1, ["bad_row.csv row 3, ctr: must be ≤ 1, got 1.5"]),
    "duplicate": (1, ["duplicate.csv row 4, name: duplicate of duplicate.csv row 2, got 'a'"]),
    "missing": (1, ["nosuch.csv: file not found"]),
}
GOOD_ROWS = {"good": 2, "bad_row": 2, "duplicate": 2, "missing": 0}


def _command(command: str, data: Path, files: dict[str, Path], out: Path) -> list[str | Path]:
    return {
        "calc": ["calc", data, "-f", "csv"],
        "compare": ["compare", data, "-f", "csv"],
        "generate": ["generate", data, "--out", out],
        "fill": ["fill", files["template"], data, "--out", out],
    }[command]


@pytest.mark.parametrize("case", sorted(EXPECTED))
@pytest.mark.parametrize("command", ["calc", "compare", "generate", "fill"])
def test_every_command_reports_and_skips_the_same_way(
    command: str, case: str, files: dict[str, Path], tmp_path: Path
) -> None:
    code, out, err = run(*_command(command, files[case], files, tmp_path / "out"))
    want_code, want_lines = EXPECTED[case]
    assert code == want_code, err
    errors = [
        line.removeprefix("xlcost: error: ")
        for line in err.splitlines()
        if line.startswith("xlcost: error: ")
    ]
    assert errors == want_lines
    assert "Traceback" not in out + err
    if command in ("calc", "compare"):  # the good rows are computed and ranked
        assert len(out.splitlines()[1:]) == GOOD_ROWS[case]
    else:  # the good rows are written
        written = list((tmp_path / "out").glob("*.xlsx")) if (tmp_path / "out").exists() else []
        assert len(written) == GOOD_ROWS[case]
    if case != "missing" and command != "compare":  # the summary counts both
        assert err.splitlines()[-1].endswith(
            f" {GOOD_ROWS[case]} {_noun(command)} OK, {len(want_lines)} failed"
        )


def _noun(command: str) -> str:
    return "scenarios" if command == "calc" else "workbooks"


def test_compare_ranks_the_good_options_and_says_which_were_left_out(
    files: dict[str, Path],
) -> None:
    code, out, err = run("compare", files["bad_row"])
    assert code == 1
    assert "Recommended:" in out and " a " in out.replace("\n", " ") + " "
    assert err.splitlines()[-1] == (
        "xlcost: compare: 2 options ranked, 1 left out (see the errors above)"
    )


def test_validate_reports_a_missing_workbook_among_good_ones(
    files: dict[str, Path], tmp_path: Path
) -> None:
    code, _, err = run("validate", files["template"], tmp_path / "nosuch.xlsx")
    assert code == 1
    assert err.splitlines() == [
        "xlcost: error: nosuch.xlsx: file not found",
        "xlcost: validate: 1 workbook OK, 1 failed",
    ]


# --------------------------------------------------------------------------- the array path


row_values = st.fixed_dictionaries(
    {
        "train_gpus": st.sampled_from(["32", "-3", "", "abc", "1e400", "nan", "64"]),
        "ctr": st.sampled_from(["0.005", "0.5%", "1.5", "", "0,5"]),
        "volume": st.sampled_from(["1e8", "100,000,000", "$5", "0", "-1"]),
        "maintain_months": st.sampled_from(["", "1", "3", "1.5"]),
        "name": st.sampled_from(["a", "b", "", " a ", "x" * 121]),
    }
)


@settings(max_examples=40, deadline=None)
@given(st.lists(row_values, min_size=1, max_size=6))
def test_the_array_path_agrees_with_the_model_row_by_row(
    tmp_path_factory: pytest.TempPathFactory, rows: list[dict[str, str]]
) -> None:
    """calc (columns, one evaluate_columns call) == compare's reader (pydantic per row)."""
    path = tmp_path_factory.mktemp("agree") / "s.csv"
    header = list({**SEED, "maintain_months": ""})
    _write(path, [header] + [[str({**SEED, **r}.get(k, "")) for k in header] for r in rows])
    loaded = read_scenario_file(path)
    try:
        chunks = list(calc_chunks(path, chunk_rows=4))
    except XlcostError as e:
        assert loaded.failed_file and loaded.problems == [str(e)]
        return
    assert [p for c in chunks for p in c.problems] == loaded.problems
    names = [n for c in chunks for n in c.names]
    assert names == [s.name for s in loaded.scenarios]
    got = [r.total_cost for c in chunks for r in c.records()]
    from xlcost.engine import evaluate

    assert got == pytest.approx([evaluate(s).total_cost for s in loaded.scenarios])


# --------------------------------------------------------------------------- output hygiene


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x","y")', "+1+1", "-2", "@SUM(A1)"])
def test_csv_output_does_not_carry_formulas(name: str, tmp_path: Path) -> None:
    path = _write(tmp_path / "f.csv", _rows({"name": name}))
    for command in ("calc", "compare"):
        code, out, _ = run(command, path, "-f", "csv")
        assert code == 0
        [record] = [r for r in csv.DictReader(io.StringIO(out))]
        assert record["name"] == "'" + name
        code, out, _ = run(command, path, "-f", "csv", "--csv-raw")
        assert next(csv.DictReader(io.StringIO(out)))["name"] == name


@pytest.mark.parametrize(
    "name", ["a\nxlcost: calc: 9 scenarios OK, 0 failed", "\x1b[31mred\x1b[0m", "\x1b]0;pwned\x07"]
)
def test_names_with_newlines_or_escapes_are_never_printed_raw(name: str, tmp_path: Path) -> None:
    path = tmp_path / "n.json"
    path.write_text(json.dumps([{**SEED, "name": name}, {**SEED, "name": name, "ctr": 2}]))
    for command in ("calc", "compare", "generate"):
        extra = ["--out", tmp_path / "out"] if command == "generate" else []
        _, out, err = run(command, path, *extra)
        assert "\x1b" not in out + err
        assert not any(line.startswith("xlcost: calc: 9") for line in (out + err).splitlines())


# --------------------------------------------------------------------------- strict parsers


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": 1, "a": 2}', "s.json: key 'a' appears twice in one object"),
        ("[" * 50 + "]" * 50, "s.json: nested deeper than 32 levels; refused"),
        ('{"a": ' + "9" * 5000 + "}", "s.json: number longer than 100 characters; refused"),
    ],
)
def test_json_refusals(text: str, message: str) -> None:
    with pytest.raises(XlcostError) as e:
        load_json(text, "s.json")
    assert str(e.value) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1\na: 2\n", "s.yaml line 2: key 'a' appears twice in one mapping"),
        ("a: !!python/name:os.system x", "s.yaml: YAML tag 'tag:yaml.org,2002:python/name:"),
        ("a: !custom 1", "s.yaml: YAML tag '!custom' refused"),
        ("a: " + "1" * 200, "s.yaml: number longer than 100 characters; refused"),
        ("x: " + "[" * 40 + "]" * 40, "s.yaml: nested deeper than 32 levels; refused"),
    ],
)
def test_yaml_refusals(text: str, message: str) -> None:
    with pytest.raises(XlcostError) as e:
        load_yaml(text, "s.yaml")
    assert str(e.value).startswith(message)


def test_yaml_aliases_within_the_bound_are_read() -> None:
    assert load_yaml("a: &x {b: 1}\nc: *x\n", "s.yaml") == {"a": {"b": 1}, "c": {"b": 1}}


def test_the_readme_states_the_limits_the_code_uses() -> None:
    from xlcost.cli.engine_cmds import MAX_OPTIONS
    from xlcost.reading import LIMITS

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    mib = 2**20
    for row in (
        f"| YAML/JSON file size | {LIMITS.text_file_bytes // mib} MiB | `XLCOST_MAX_TEXT_MB` |",
        f"| CSV file size (also a Parquet file's) | {LIMITS.table_file_bytes // mib:,} MiB | "
        "`XLCOST_MAX_CSV_MB` |",
        "| Parquet scenario list, uncompressed (from its footer) | "
        f"{LIMITS.parquet_uncompressed_bytes // mib:,} MiB | `XLCOST_MAX_PARQUET_MB` |",
        f"| XLSX scenario list, total uncompressed | {LIMITS.workbook_uncompressed_bytes // mib}"
        " MiB | `XLCOST_MAX_XLSX_MB` |",
        f"| rows in one scenario file | {LIMITS.rows:,} | `XLCOST_MAX_ROWS` |",
        f"| characters in a field or text cell | {LIMITS.field_chars:,} (Excel's) | — |",
        f"| characters in a number | {LIMITS.number_chars} | — |",
        f"| columns | {LIMITS.columns:,} (Excel's) | — |",
        f"| nesting depth of YAML/JSON | {LIMITS.depth} | — |",
        f"| YAML aliases / nodes after expanding them | {LIMITS.yaml_aliases:,} / "
        f"{LIMITS.yaml_nodes:,} | — |",
        f"| options `compare` ranks | {MAX_OPTIONS:,} | — |",
    ):
        assert row in text


def test_a_limit_can_be_raised_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps([SEED]) + " " * (2 * 2**20))
    monkeypatch.setenv("XLCOST_MAX_TEXT_MB", "1")
    code, _, err = run("calc", path)
    assert code == 1 and "s.json: YAML/JSON file too large (2 MiB > 1 MiB)" in err
    monkeypatch.setenv("XLCOST_MAX_TEXT_MB", "3")
    assert run("calc", path)[0] == 0
    monkeypatch.setenv("XLCOST_MAX_TEXT_MB", "lots")
    code, _, err = run("calc", path)
    assert code == 1 and "XLCOST_MAX_TEXT_MB: not a whole number, got 'lots'" in err


def test_decimal_comma_is_judged_on_the_first_thousand_rows_whatever_the_block(
    tmp_path: Path,
) -> None:
    """Row-by-row readers read fewer rows at a time than calc; both judge the decimal comma
    on the same first 1,000 rows (here the evidence starts at row 302)."""
    from xlcost.reading import BLOCK_ROWS
    from xlcost.scenario_files import open_table

    header = ["name", "horizon_months", "train_gpus", "maintain_units_per_month",
              "maintain_price_per_unit", "volume", "ctr", "cvr",
              "value_per_conversion"]  # fmt: skip
    body = [[str(i), "12", "8", "1", "100", "1000", "0,5" if i >= 300 else "0", "0", "3"]
            for i in range(400)]  # fmt: skip
    path = _write(tmp_path / "late.csv", [header, *body], delimiter=";")
    assert open_table(path).decimal_comma is True
    assert open_table(path, block_rows=BLOCK_ROWS).decimal_comma is True
