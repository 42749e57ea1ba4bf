"""Tables: one row per scenario, --columns picks results, huge numbers stay compact."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xlcost.cli import load_commands
from xlcost.engine.examples import COMPARISON, example_path, seed_scenario
from xlcost.engine.model import RESULT_NAMES
from xlcost.report import DEFAULT_COLUMNS

APP = load_commands()
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(APP, list(args))
    return result.exit_code, result.stdout, result.stderr


def scenario_csv(tmp_path: Path, n: int, **changes: object) -> Path:
    """``n`` copies of the worked example, named s1..sn, with ``changes``."""
    row = {**seed_scenario().model_dump(exclude_none=True), **changes}
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(row), lineterminator="\n")
    writer.writeheader()
    writer.writerows({**row, "name": f"s{i + 1}"} for i in range(n))
    path = tmp_path / "many.csv"
    path.write_text(buf.getvalue())
    return path


def cells(line: str) -> list[str]:
    return [c.strip() for c in line.split("  ") if c.strip()]


def test_calc_table_is_one_row_per_scenario_and_stays_narrow(tmp_path: Path) -> None:
    code, out, _ = run("calc", str(scenario_csv(tmp_path, 40)))
    assert code == 0
    lines = out.splitlines()
    assert cells(lines[0]) == ["name", *DEFAULT_COLUMNS]
    assert [cells(line)[0] for line in lines[2:]] == [f"s{i + 1}" for i in range(40)]
    assert cells(lines[2]) == ["s1", "590.00", "150.00", "-440.00", "-74.6%", "-100.0%", "—"]
    assert len({len(line) for line in lines[:3]}) == 1 and len(lines[0]) < 110


def test_columns_pick_results_in_the_given_order(tmp_path: Path) -> None:
    path = str(scenario_csv(tmp_path, 2))
    code, out, _ = run("calc", path, "--columns", "train_cost,maintain_cost")
    assert code == 0
    assert [cells(line) for line in out.splitlines()[::2]] == [
        ["name", "train_cost", "maintain_cost"],
        ["s1", "480.00", "100.00"],
    ]
    code, out, _ = run("calc", path, "-c", "npv", "-f", "json")
    assert json.loads(out) == [  # with the checks' warnings (none here)
        {"name": "s1", "npv": -440.0, "warnings": []},
        {"name": "s2", "npv": -440.0, "warnings": []},
    ]
    code, out, _ = run("calc", path, "-c", "all")
    assert cells(out.splitlines()[0]) == ["name", *RESULT_NAMES]


def test_csv_and_json_keep_every_result_by_default(tmp_path: Path) -> None:
    code, out, _ = run("calc", str(scenario_csv(tmp_path, 1)), "-f", "csv")
    assert code == 0 and out.splitlines()[0] == ",".join(["name", *RESULT_NAMES, "warnings"])


@pytest.mark.parametrize("value", ["bogus", "npv,,bogus", ","])
def test_unknown_columns_are_one_usage_line(tmp_path: Path, value: str) -> None:
    code, out, err = run("calc", str(scenario_csv(tmp_path, 1)), "--columns", value)
    assert (code, out) == (2, "")
    assert err.startswith("xlcost: error: --columns: ") and err.count("\n") == 1
    assert "train_cost, deploy_cost" in err


def test_compare_table_is_one_row_per_option_with_columns() -> None:
    code, out, _ = run("compare", str(example_path(COMPARISON)), "-c", "benefit,bcr")
    assert code == 0
    lines = out.splitlines()
    assert cells(lines[0]) == ["rank", "name", "benefit", "bcr", "within_budget", "checks"]
    row = ["1", "BERT-base cross-encoder", "2,321,280.00", "19.808", "yes", "ok"]
    assert cells(lines[2]) == row


def test_numbers_beyond_a_sane_range_are_compact(tmp_path: Path) -> None:
    # Benefit at the inputs' limits: 10^15 requests × 1 × 1 × 10^9 = 10^24.
    path = scenario_csv(tmp_path, 1, volume=1e15, ctr=1, cvr=1, value_per_conversion=1e9)
    code, out, _ = run("calc", str(path), "-c", "benefit,npv,roi,bcr,cost_per_1k")
    assert code == 0
    row = cells(out.splitlines()[2])
    assert row[:2] == ["s1", "1e+24"]
    assert row[3].endswith("e+23%") and row[4].startswith("1.69e+21")
    assert max(len(line) for line in out.splitlines()) < 80


def test_table_output_is_plain_text_when_not_a_terminal(tmp_path: Path) -> None:
    code, out, err = run("calc", str(scenario_csv(tmp_path, 3)))
    assert code == 0 and "\x1b" not in out + err and "\r" not in err
