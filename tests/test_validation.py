"""Bad input gives one clear line naming where, which field, what is wrong and what was given."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from xlcost.engine import ScenarioErrors, XlcostError, evaluate_columns, parse_scenario
from xlcost.engine.examples import SEED, example_path
from xlcost.scenario_files import load_scenarios

SEED_ROW: dict[str, Any] = yaml.safe_load(example_path(SEED).read_text())["scenarios"][0]


def _with(**changes: Any) -> dict[str, Any]:
    row = dict(SEED_ROW)
    for k, v in changes.items():
        if v is _DROP:
            row.pop(k)
        else:
            row[k] = v
    return row


_DROP = object()

BAD_ROWS = [
    ({"train_gpus": -3}, "train_gpus: must be ≥ 0, got -3"),
    ({"train_gpus": "x"}, "train_gpus: must be a number, got 'x'"),
    ({"train_gpus": float("nan")}, "train_gpus: must be a finite number, got nan"),
    (
        {"serve_price_per_gpu_hour": float("inf")},
        "serve_price_per_gpu_hour: must be a finite number, got inf",
    ),
    ({"ctr": 1.5}, "ctr: must be ≤ 1, got 1.5"),
    ({"mfu": 0}, "mfu: must be > 0, got 0"),
    ({"target_utilization": 1.2}, "target_utilization: must be ≤ 1, got 1.2"),
    ({"horizon_months": 2.5}, "horizon_months: must be a whole number, got 2.5"),
    ({"horizon_months": 0}, "horizon_months: must be ≥ 1, got 0"),
    ({"volume": _DROP}, "volume: required"),
    (
        {"currency": "dollars"},
        "currency: must be a 3-letter currency code such as USD, got 'dollars'",
    ),
    ({"colour": "blue"}, "colour: not an xlcost input name, got 'blue'"),
    (
        {"train_hours": None},
        "train_hours: required unless model_params, train_tokens (or train_examples and "
        "tokens_per_example) and gpu_peak_tflops (or train_gpu) are all given",
    ),
    (
        {"serve_gpus": ""},
        "serve_gpus: required unless peak_qps and either qps_per_replica or model_params, "
        "tokens_per_item and serve_peak_tflops (or serve_gpu) are given",
    ),
    ({"maintain_months": 3}, "maintain_months: must be ≤ horizon_months"),
    ({"name": ""}, "name: required"),
]


@pytest.mark.parametrize(("changes", "message"), BAD_ROWS, ids=[m for _, m in BAD_ROWS])
def test_bad_rows_name_the_row_and_field(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ScenarioErrors) as e:
        parse_scenario(_with(**changes), where="scenarios.csv row 4")
    assert str(e.value).startswith(f"scenarios.csv row 4, {message}")


def test_unknown_columns_can_be_ignored() -> None:
    assert parse_scenario(_with(colour="blue"), ignore_unknown=True).name == SEED_ROW["name"]


def test_where_can_be_a_cell_per_field() -> None:
    with pytest.raises(ScenarioErrors) as e:
        parse_scenario(_with(train_gpus=-3), where=lambda f: f"q3.xlsx Inputs!C{len(f)}")
    assert str(e.value) == "q3.xlsx Inputs!C10, train_gpus: must be ≥ 0, got -3"


def _csv(tmp_path: Path, rows: list[dict[str, Any]], name: str = "scenarios.csv") -> Path:
    header = list(dict.fromkeys(k for r in rows for k in r))
    lines = [",".join(header)] + [",".join(str(r.get(k, "")) for k in header) for r in rows]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_csv_errors_count_rows_like_a_spreadsheet(tmp_path: Path) -> None:
    rows = [_with(name="a"), _with(name="b"), _with(name="c", train_gpus=-3)]
    with pytest.raises(ScenarioErrors) as e:
        load_scenarios(_csv(tmp_path, rows))
    assert str(e.value) == "scenarios.csv row 4, train_gpus: must be ≥ 0, got -3"


def test_all_problems_in_a_file_are_reported(tmp_path: Path) -> None:
    rows = [_with(name="a", ctr=2), _with(name="b"), _with(name="b")]
    with pytest.raises(ScenarioErrors) as e:
        load_scenarios(_csv(tmp_path, rows))
    assert [str(p) for p in e.value.problems] == [
        "scenarios.csv row 2, ctr: must be ≤ 1, got 2",
        "scenarios.csv row 4, name: duplicate of scenarios.csv row 3, got 'b'",
    ]


def test_percent_text_is_read_as_a_fraction(tmp_path: Path) -> None:
    [s] = load_scenarios(_csv(tmp_path, [_with(ctr="0.5%", cvr=" 0.3 % ")]))
    assert (s.ctr, s.cvr) == (0.005, 0.003)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "s.json",
            "{not json",
            "s.json: not valid JSON: Expecting property name enclosed in "
            "double quotes: line 1 column 2 (char 1)",
        ),
        (
            "s.yaml",
            "- [",
            "s.yaml: not valid YAML: did not find expected node content (line 2, column 1)",
        ),
        ("s.yaml", "42", "s.yaml: expected a non-empty list of scenarios"),
        ("s.json", "[1]", "s.json [0]: expected a mapping of input names to values"),
        ("s.csv", "", "s.csv: empty file"),
        ("s.csv", "train_gpus\n1\n", "s.csv row 1: no 'name' column"),
        ("s.csv", "name,name\na,b\n", "s.csv row 1: column 'name' appears twice"),
        ("s.csv", "name\n\n", "s.csv: no scenario rows under the header"),
        ("s.txt", "", "s.txt: unsupported file type"),
        (
            "s.csv",
            "name\n\udce9t\udce9\n",
            "s.csv row 2: not UTF-8 text (byte 5); in Excel, save as 'CSV UTF-8'",
        ),
        ("s.xlsx", "not a zip", "s.xlsx: not a zip file"),
    ],
)
def test_unreadable_files_name_the_file(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8", errors="surrogateescape")
    with pytest.raises(XlcostError) as e:
        load_scenarios(path)
    assert str(e.value).startswith(message)


def test_all_formats_load_the_same_scenarios(tmp_path: Path) -> None:
    from openpyxl import Workbook

    rows = [_with(name="a"), _with(name="b", train_gpus=64)]
    (tmp_path / "s.json").write_text(json.dumps(rows))
    (tmp_path / "s.yaml").write_text(yaml.safe_dump({"scenarios": rows}))
    wb = Workbook()
    header = list(rows[0])
    wb.active.append(header)
    for r in rows:
        wb.active.append([r[k] for k in header])
    wb.save(tmp_path / "s.xlsx")
    loaded = [load_scenarios(tmp_path / f"s.{ext}") for ext in ("json", "yaml", "xlsx")]
    loaded.append(load_scenarios(_csv(tmp_path, rows)))
    assert all(x == loaded[0] for x in loaded)
    assert [s.train_gpus for s in loaded[0]] == [32, 64]


def test_array_api_reports_first_bad_row_per_field() -> None:
    cols = {k: v for k, v in SEED_ROW.items() if k not in ("name", "currency")}
    cols["train_gpus"] = np.array([1.0, -1.0, -2.0])
    with pytest.raises(ScenarioErrors) as e:
        evaluate_columns(cols)
    assert str(e.value) == "row 2 (and 1 more rows), train_gpus: must be ≥ 0, got -1"


junk = st.one_of(
    st.none(),
    st.text(max_size=8),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from([*sorted(SEED_ROW), "bogus"]), junk, max_size=6))
def test_any_junk_gives_a_scenario_or_a_clear_error(changes: dict[str, Any]) -> None:
    try:
        parse_scenario(_with(**changes), where="x")
    except ScenarioErrors as e:
        for p in e.problems:
            assert str(p).startswith("x, ") and "\n" not in str(p)


def test_overflowing_totals_are_one_clear_error() -> None:
    from xlcost.engine import evaluate

    with pytest.raises(ScenarioErrors, match=r"train_gpus: must be ≤ 1e\+07, got 1e\+300"):
        parse_scenario(_with(train_gpus=1e300, train_hours=1e300), where="x")
    # Within the inputs' upper limits no total overflows; unvalidated values still fail clearly.
    s = parse_scenario(_with()).model_copy(update={"train_gpus": 1e300, "train_hours": 1e300})
    with pytest.raises(XlcostError, match=r"^BERT ranker: train_cost overflows"):
        evaluate(s)
