"""The command-line tool: outputs, exit codes, one-line errors, --help everywhere."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from xlcost.cli import load_commands
from xlcost.engine.examples import COMPARISON, SEED, example_path

APP = load_commands()
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(APP, list(args))
    return result.exit_code, result.stdout, result.stderr


def _commands() -> list[list[str]]:
    root = get_command(APP)
    out: list[list[str]] = [[]]
    for name, cmd in root.commands.items():  # type: ignore[attr-defined]
        out.append([name])
        out.extend([name, sub] for sub in getattr(cmd, "commands", {}))
    return out


@pytest.mark.parametrize("path", _commands(), ids=lambda p: " ".join(p) or "xlcost")
def test_every_command_has_help(path: list[str]) -> None:
    code, out, _ = run(*path, "--help")
    assert code == 0
    assert "Usage:" in out


def test_demo_prints_the_seed_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = run("demo")
    assert code == 0
    for needle in ("480.00", "10.00", "100.00", "150.00", "590.00", "0.254", "-0.746"):
        assert needle in out


def test_calc_json_is_a_list_with_result_names() -> None:
    code, out, _ = run(
        "calc", str(example_path(SEED)), str(example_path(COMPARISON)), "--format", "json"
    )
    assert code == 0
    data = json.loads(out)
    assert next(d["name"] for d in data) == "BERT ranker"
    assert len(data) == 4
    assert data[0]["total_cost"] == 590.0 and data[0]["payback_month"] is None
    assert all(d["warnings"] == [] for d in data)  # the shipped examples pass every check
    assert set(data[0]) == {
        "name",
        "warnings",
        "train_cost",
        "deploy_cost",
        "maintain_cost",
        "benefit",
        "total_cost",
        "roi",
        "bcr",
        "npv",
        "irr",
        "payback_month",
        "cost_per_1k",
        "data_cost",
        "infra_cost",
        "incident_cost",
        "hardware_cost",
        "power_cost",
        "api_cost",
    }


def test_calc_csv_has_header_and_rows() -> None:
    code, out, _ = run("calc", str(example_path(SEED)), "-f", "csv")
    assert code == 0
    header, row = out.strip().splitlines()
    assert header.startswith("name,train_cost,deploy_cost")
    assert row.startswith("BERT ranker,480.0,10.0,100.0,")


def test_compare_recommends_within_budget() -> None:
    code, out, _ = run("compare", str(example_path(COMPARISON)), "--budget", "1000000")
    assert code == 0
    assert "Recommended: BERT-base cross-encoder" in out


def test_bad_scenario_file_is_one_line_per_problem_and_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "scenarios.csv"
    bad.write_text("name,train_gpus\nx,-3\n")
    code, out, err = run("calc", str(bad))
    assert code == 1
    assert out == ""
    lines = err.strip().splitlines()
    assert lines[0] == "xlcost: error: scenarios.csv row 2, horizon_months: required"
    assert "xlcost: error: scenarios.csv row 2, train_gpus: must be ≥ 0, got -3" in lines
    assert "Traceback" not in err


def test_missing_file_among_many_is_one_reported_failure() -> None:
    code, out, err = run("calc", "nope.csv", str(example_path(SEED)), "-f", "csv")
    assert code == 1
    assert out.startswith("name,train_cost")
    assert err.splitlines() == [
        "xlcost: error: nope.csv: file not found",
        "xlcost: calc: 1 scenario OK, 1 failed",
    ]


def test_gpus_needs_a_requirement() -> None:
    code, _, err = run("gpus")
    assert code == 1
    assert err.startswith("xlcost: error: give --flops")


def test_gpus_training() -> None:
    code, out, _ = run("gpus", "--flops", "1e21", "--deadline-hours", "24")
    assert code == 0 and "Cheapest:" in out


def test_schema_lists_every_input() -> None:
    from xlcost.engine import INPUT_NAMES
    from xlcost.engine.model import NUMERIC_INPUTS

    code, out, _ = run("schema")
    assert code == 0
    ranges = {f"{n}_{s}" for n in NUMERIC_INPUTS for s in ("low", "high", "dist")}
    assert set(json.loads(out)["properties"]) == set(INPUT_NAMES) | ranges


def test_catalog_json_has_sources_and_dates() -> None:
    code, out, _ = run("catalog", "-f", "json")
    assert code == 0
    gpus = json.loads(out)["gpus"]
    assert {g["name"] for g in gpus} >= {
        "T4",
        "L4",
        "A10G",
        "A100-40GB",
        "A100-80GB",
        "H100",
        "H200",
    }
    assert all(g["price_source"] and g["price_as_of"] for g in gpus)


def test_console_script_runs() -> None:
    # The installed entry point, as a user runs it.
    proc = subprocess.run(
        [sys.executable, "-m", "xlcost", "--version"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0
    assert proc.stdout.startswith("xlcost ")


def test_table_shows_roi_in_full_and_caps_only_a_meaningless_irr() -> None:
    code, out, _ = run("calc", str(example_path(COMPARISON)), "--columns", "roi,irr")
    assert code == 0
    rows = [[c.strip() for c in line.split("  ") if c.strip()] for line in out.splitlines()[2:]]
    assert [r[1] for r in rows] == ["4083.4%", "1880.8%", "222.9%"]  # (benefit − cost) / cost
    assert [r[2] for r in rows] == ["> 1,000%", "> 1,000%", "> 1,000%"]
