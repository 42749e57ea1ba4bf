"""Checks on typed numbers: each fires on a row built to trip it, and none on the shipped
examples; the CLI prints them (stderr) and carries them (JSON, CSV).

Each tripping row is worked by hand in its comment: the number the check must report.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from xlcost.cli import load_commands
from xlcost.engine.checks import CHECKS, check_columns, check_scenario
from xlcost.engine.evaluate import scenario_data
from xlcost.engine.examples import COMPARISON, SEED, load_example
from xlcost.scenario_files import load_scenarios

ROOT = Path(__file__).resolve().parents[1]
OLD = ROOT / "tests" / "data" / "ranker_options_v1.yaml"
TODAY = dt.date(2026, 12, 1)

QUIET: dict[str, Any] = {
    "horizon_months": 12,
    "train_gpus": 8,
    "train_hours": 10,
    "train_price_per_gpu_hour": 1.0,
    "serve_gpus": 2,
    "serve_hours": 8760,
    "serve_price_per_gpu_hour": 1.0,
    "maintain_units_per_month": 10,
    "maintain_price_per_unit": 100,
    "volume": 1e8,  # 1e8 / (12 × 730 × 3600) = 3.17 queries/s on average
    "ctr": 0.41,
    "cvr": 0.03,
    "value_per_conversion": 8,
    "baseline_ctr": 0.40,
    "baseline_cvr": 0.03,
}

# (check id, changes to QUIET, text the warning must contain)
TRIPS = [
    # 110e6 × 2 × 128 × 50 × 400 / 1e12 = 563.2 TFLOP/s on a 121 TFLOP/s L4: 4.65×
    (
        "qps_flops",
        {"model_params": 110e6, "tokens_per_item": 128, "items_per_request": 50,
         "serve_gpu": "L4", "qps_per_replica": 400},
        "qps_per_replica 400 implies 563 TFLOP/s per GPU, 4.7× the L4's dense peak of 121",
    ),
    # 0.85 of the peak: 0.85 × 121e12 / (2 × 110e6 × 6400) = 73.05 QPS
    (
        "qps_flops",
        {"model_params": 110e6, "tokens_per_item": 128, "items_per_request": 50,
         "serve_peak_tflops": 121, "qps_per_replica": 73.046875},
        "implies 103 TFLOP/s per GPU, 85% the serving GPU's dense peak of 121",
    ),
    # decode: 10 QPS × 100 tokens / batch 1 × 7e9 × 2 bytes = 14 TB/s on 3.35 TB/s: 4.2×
    (
        "qps_bandwidth",
        {"model_params": 7e9, "tokens_per_item": 10, "output_tokens_per_request": 100,
         "serve_gpu": "H100", "qps_per_replica": 10},
        "implies 14 TB/s of weight reads per GPU, 4.2× the H100's memory bandwidth of 3.35",
    ),
    # 6 × 7e9 × 2e9 / (8 GPUs × 1 h × 3600) = 2.917e15 FLOP/s per GPU = 2,917 TFLOP/s; 2.9× 989
    (
        "train_flops",
        {"model_params": 7e9, "train_tokens": 2e9, "train_hours": 1, "train_gpu": "H100"},
        "train_hours 1 implies 2,917 TFLOP/s per GPU (MFU 2.95), 2.9× the H100's dense peak",
    ),
    # 2 GPUs × 1 QPS × 8,760 h × 3,600 s = 63,072,000 requests < 1e8
    ("capacity", {"qps_per_replica": 1}, "serving capacity 6.307e+07 requests"),
    # 2,000 / 3.171 = 631× the average
    ("peak_traffic", {"peak_qps": 2000}, "peak_qps 2,000 is 631× the average rate of 3.171"),
    ("peak_traffic", {"peak_qps": 1}, "peak_qps 1 is below the average rate of 3.171"),
    # 12 months × 730 h = 8,760 h
    ("serve_hours", {"serve_hours": 9000}, "serve_hours 9,000 is above 24/7 for 12 months (8,760"),
    # 70e9 × 2 bytes × 1.2 = 168 GB on 2 × 80 GB: needs 3
    (
        "memory",
        {"model_params": 70e9, "serve_gpu": "H100", "gpus_per_replica": 2},
        "gpus_per_replica 2: model_params 7e+10 at 2 bytes needs 168 GB, more than 2 × the H100's",
    ),
    (
        "memory",
        {"model_params": 70e9, "serve_gpu": "H100", "serve_gpus": 1},
        "serve_gpus 1: model_params 7e+10 at 2 bytes needs 168 GB",
    ),
    # 2 × 110e6 × 6400 / (121e12 × 0.5) = 23.27 ms > 10 ms
    (
        "latency",
        {"model_params": 110e6, "tokens_per_item": 128, "items_per_request": 50,
         "serve_gpu": "L4", "latency_slo_ms": 10},
        "latency lower bound 23.27 ms (batch 1, 1 GPU per replica) is above latency_slo_ms 10",
    ),
    # 0.5 × 0.03 / (0.4 × 0.03) − 1 = +25 % is allowed; 0.52 gives +30 %
    ("uplift", {"ctr": 0.52}, "ctr × cvr 0.0156 is +30% conversions over the baseline's 0.012"),
    # the H200's catalog price is as of 2026-03-10: on 2027-03-11 it is 366 days old
    (
        "price_age",
        {"serve_gpu": "H200", "serve_price_per_gpu_hour": None},
        "serve_price_per_gpu_hour 6.35 from the catalog (H200, as of 2026-03-10) is 366 days "
        "old, more than 12 months (365 days)",
    ),
]  # fmt: skip


def _cols(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (float("nan") if v is None else v) for k, v in row.items()}


def test_the_quiet_row_is_quiet() -> None:
    assert check_columns(_cols(QUIET), today=TODAY) == [[]]


@pytest.mark.parametrize(("check", "changes", "text"), TRIPS, ids=[t[0] for t in TRIPS])
def test_each_check_fires_on_a_row_built_to_trip_it(
    check: str, changes: dict[str, Any], text: str
) -> None:
    today = dt.date(2027, 3, 11) if check == "price_age" else TODAY
    (found,) = check_columns(_cols(QUIET | changes), today=today)
    assert len(found) == 1 and text in found[0], found
    assert re.search(r"\(.*\d.*\)", found[0]) or "refresh" in found[0]  # the limit / source


def test_every_check_has_a_tripping_row() -> None:
    assert {c for c, _, _ in TRIPS} == set(CHECKS)


def test_a_typed_uplift_of_exactly_25pct_and_a_price_inside_12_months_pass() -> None:
    rows = [QUIET | {"ctr": 0.5}, QUIET | {"serve_gpu": "H200", "serve_price_per_gpu_hour": None}]
    cols = {k: [_cols(r).get(k, float("nan")) for r in rows] for k in rows[1]}
    cols["serve_gpu"] = [None, "H200"]
    assert check_columns(cols, today=dt.date(2027, 3, 9)) == [[], []]


def test_vectorised_rows_keep_their_own_warnings() -> None:
    rows = [QUIET, QUIET | {"serve_hours": 9000}, QUIET | {"peak_qps": 2000, "ctr": 0.6}]
    keys = sorted(set().union(*rows))
    cols = {k: [r.get(k, float("nan")) for r in rows] for k in keys}
    found = check_columns(cols, today=TODAY)
    assert [len(f) for f in found] == [0, 1, 2]


@pytest.mark.parametrize("name", [SEED, COMPARISON])
def test_quiet_on_the_shipped_examples(name: str) -> None:
    for s in load_example(name):
        assert check_scenario(s, today=TODAY) == [], s.name
    for path in (ROOT / "examples").glob("*.*"):
        if path.suffix in (".yaml", ".csv", ".json"):
            for s in load_scenarios(path):
                assert check_scenario(s, today=TODAY) == [], (path.name, s.name)


def test_the_first_release_example_trips_the_two_capacity_checks() -> None:
    found = {s.name: check_scenario(s, today=TODAY) for s in load_scenarios(OLD)}
    capacity = [w for ws in found.values() for w in ws if w.startswith("qps_per_replica")]
    assert [w.split(" (limit")[0] for w in capacity] == [
        # 110e6 × 2 × 128 × 50 × 400 = 563 TFLOP/s on an L4 (121): 4.65×
        "qps_per_replica 400 implies 563 TFLOP/s per GPU, 4.7× the L4's dense peak of 121",
        # 7e9 × 2 × 128 × 50 × 25 = 2,240 TFLOP/s on an H100 (989): 2.26×
        "qps_per_replica 25 implies 2,240 TFLOP/s per GPU, 2.3× the H100's dense peak of 989",
    ]


runner = CliRunner()


def test_calc_prints_warnings_on_stderr_and_carries_them_in_json_and_csv() -> None:
    app = load_commands()
    result = runner.invoke(app, ["calc", str(OLD), "-f", "json"])
    assert result.exit_code == 0
    lines = [line for line in result.stderr.splitlines() if "qps_per_replica" in line]
    assert [line.split(": qps_per_replica")[0] for line in lines] == [
        "xlcost: warning: BERT-base cross-encoder",
        "xlcost: warning: 7B LLM reranker",
    ]
    data = json.loads(result.stdout)
    assert [len(d["warnings"]) for d in data] == [0, 2, 2]
    csv_out = runner.invoke(app, ["calc", str(OLD), "-f", "csv"]).stdout
    assert csv_out.splitlines()[0].endswith(",warnings")
    assert "4.7× the L4's dense peak" in csv_out
    clean = runner.invoke(app, ["calc", str(ROOT / "examples" / "ranker_options.yaml")])
    assert "warning" not in clean.stderr


def test_readme_shows_the_warnings_the_old_example_prints() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = re.findall(r"^(xlcost: warning: .*qps_per_replica.*)$", readme, flags=re.M)
    result = runner.invoke(load_commands(), ["compare", str(OLD), "--budget", "1000000"])
    printed = [line for line in result.stderr.splitlines() if "qps_per_replica" in line]
    assert shown == printed and len(shown) == 2


def test_compare_json_has_warnings_beside_each_option() -> None:
    result = runner.invoke(load_commands(), ["compare", str(OLD), "-f", "json"])
    data = json.loads(result.stdout)
    by_name = {o["results"]["name"]: o["warnings"] for o in data["options"]}
    assert by_name["GBDT baseline (LambdaMART)"] == []
    assert len(by_name["7B LLM reranker"]) == 2


def test_scenario_data_round_trip_for_checks() -> None:
    s = load_scenarios(OLD)[1]
    assert scenario_data(s)["serve_gpu"] == "L4"
