"""Sizing from first principles: the serving estimator, GPUs by name, training examples.

Expected values are worked by hand from the formulas (in the comments) or are published
figures (NVIDIA's TensorRT BERT-base throughput); none is produced by the code under test.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlcost.engine import compute
from xlcost.engine.catalog import load_catalog
from xlcost.engine.errors import ScenarioErrors
from xlcost.engine.evaluate import evaluate, evaluate_columns, used_inputs
from xlcost.engine.model import Scenario
from xlcost.engine.validate import parse_scenario

BASE: dict[str, Any] = {
    "name": "x",
    "horizon_months": 12,
    "train_gpus": 1,
    "train_hours": 1,
    "train_price_per_gpu_hour": 1,
    "serve_gpus": 1,
    "serve_hours": 8760,
    "serve_price_per_gpu_hour": 1,
    "maintain_units_per_month": 0,
    "maintain_price_per_unit": 0,
    "volume": 0,
    "ctr": 0,
    "cvr": 0,
    "value_per_conversion": 0,
}
BUDGET = int(os.environ.get("HYPOTHESIS_EXAMPLES", "300" if os.environ.get("CI") else "40"))


def _used(**changes: Any) -> dict[str, float | None]:
    return used_inputs(Scenario(**(BASE | changes)))


# (inputs, expected qps_per_replica, expected gpus_per_replica, how)
CASES = [
    # BERT-base, 50 candidates × 128 tokens on an L4: 121e12 × 0.5 / (2 × 110e6 × 6400) = 42.96875
    (
        {"model_params": 110e6, "tokens_per_item": 128, "items_per_request": 50, "serve_gpu": "L4"},
        42.96875,
        1.0,
    ),
    # the same, typed peak, mfu 0.7: 121e12 × 0.7 / 1.408e12 = 60.15625
    (
        {
            "model_params": 110e6,
            "tokens_per_item": 128,
            "items_per_request": 50,
            "serve_peak_tflops": 121,
            "serve_mfu": 0.7,
        },
        60.15625,
        1.0,
    ),
    # 7B on H100, 20 candidates × 100 tokens: 989e12 × 0.5 / (2 × 7e9 × 2000) = 17.6607142857
    (
        {"model_params": 7e9, "tokens_per_item": 100, "items_per_request": 20, "serve_gpu": "H100"},
        989e12 * 0.5 / (2 * 7e9 * 2000),
        1.0,
    ),
    # 70B at 2 bytes on H100 (80 GB): ceil(1.2 × 140 / 80) = 3 GPUs; compute-bound per GPU
    # 989e12 × 0.5 / (2 × 70e9 × 500) = 7.0642857 → × 3 = 21.192857
    (
        {"model_params": 70e9, "tokens_per_item": 500, "serve_gpu": "H100"},
        3 * 989e12 * 0.5 / (2 * 70e9 * 500),
        3.0,
    ),
    # generation: 7B writing 200 tokens after a 300-token prompt on an H100, batch 16:
    # compute 989e12 × 0.5 / (2 × 7e9 × 500) = 70.64; decode 0.6 × 3.35e12 / 14e9 × 16 / 200
    # = 11.4857 → the smaller
    (
        {
            "model_params": 7e9,
            "tokens_per_item": 300,
            "output_tokens_per_request": 200,
            "serve_batch": 16,
            "serve_gpu": "H100",
        },
        0.6 * 3.35e12 / 14e9 * 16 / 200,
        1.0,
    ),
    # a typed qps_per_replica wins over the estimate; typed gpus_per_replica wins over FIT_GPUS
    (
        {
            "model_params": 70e9,
            "tokens_per_item": 500,
            "serve_gpu": "H100",
            "qps_per_replica": 5,
            "gpus_per_replica": 4,
        },
        5.0,
        4.0,
    ),
    # no model size: nothing to estimate, one GPU per replica
    ({"serve_gpu": "L4"}, None, 1.0),
]


@pytest.mark.parametrize(("inputs", "qps", "gpus"), CASES)
def test_estimator_by_hand(inputs: dict[str, Any], qps: float | None, gpus: float) -> None:
    used = _used(**inputs)
    if qps is None:
        assert used["qps_per_replica"] is None
    else:
        assert used["qps_per_replica"] == pytest.approx(qps, rel=1e-12)
    assert used["gpus_per_replica"] == gpus


def test_serving_gpus_from_the_estimate() -> None:
    """peak 2,000 QPS, BERT-base on L4s at 42.96875 QPS each: ceil(2000 / (42.97 × 0.7)) = 67."""
    s = Scenario(
        **BASE
        | {
            "serve_price_per_gpu_hour": None,
            "serve_gpus": None,
            "peak_qps": 2000,
            "model_params": 110e6,
            "tokens_per_item": 128,
            "items_per_request": 50,
            "serve_gpu": "L4",
        }
    )
    used = used_inputs(s)
    assert used["serve_gpus"] == 67
    assert used["serve_price_per_gpu_hour"] == 0.7992  # the catalog's L4 price
    assert evaluate(s).deploy_cost == pytest.approx(67 * 8760 * 0.7992, rel=1e-12)


FAILURES = [
    # (inputs, message start)
    (
        {"serve_gpus": None, "peak_qps": 100, "model_params": 1e8},
        "serve_gpus: required unless peak_qps and either qps_per_replica",
    ),
    (
        {
            "serve_gpus": None,
            "peak_qps": 100,
            "model_params": 7e9,
            "tokens_per_item": 100,
            "serve_peak_tflops": 989,
            "output_tokens_per_request": 10,
        },
        "serve_memory_bandwidth_tbs: required (or serve_gpu)",
    ),
    ({"serve_price_per_gpu_hour": None}, "serve_price_per_gpu_hour: required unless serve_gpu"),
    ({"train_price_per_gpu_hour": None}, "train_price_per_gpu_hour: required unless train_gpu"),
    ({"train_hours": None, "model_params": 1e9, "train_examples": 1e6}, "train_hours: required"),
    ({"tokens_per_item": 0}, "tokens_per_item: must be > 0"),
    ({"serve_mfu": 1.5}, "serve_mfu: must be ≤ 1"),
    ({"bytes_per_param": 0}, "bytes_per_param: must be > 0"),
    ({"output_tokens_per_request": -1}, "output_tokens_per_request: must be ≥ 0"),
]


@pytest.mark.parametrize(("inputs", "message"), FAILURES)
def test_failure_rows(inputs: dict[str, Any], message: str) -> None:
    with pytest.raises(ScenarioErrors) as e:
        parse_scenario(BASE | inputs)
    assert message in str(e.value)


def test_unknown_gpu_names_the_known_ones() -> None:
    s = Scenario(**(BASE | {"serve_gpu": "B300", "serve_price_per_gpu_hour": None}))
    with pytest.raises(ScenarioErrors) as e:
        evaluate(s)
    text = str(e.value)
    assert "serve_gpu: unknown GPU 'B300'" in text
    assert "known: T4, L4, A10G, A100-40GB, A100-80GB, H100, H200" in text


def test_array_path_row_of_an_unknown_gpu() -> None:
    cols = {k: v for k, v in BASE.items() if k != "name"}
    with pytest.raises(ScenarioErrors) as e:
        evaluate_columns(cols | {"train_gpu": ["H100", "H100", "Z9"]})
    assert "row 3, train_gpu: unknown GPU 'Z9'" in str(e.value)


def test_gpu_names_fill_only_blanks_and_follow_a_user_catalog(tmp_path: Path) -> None:
    used = _used(serve_gpu="h100", serve_peak_tflops=500, serve_price_per_gpu_hour=None)
    assert used["serve_peak_tflops"] == 500  # typed wins
    assert used["serve_memory_gb"] == 80 and used["serve_memory_bandwidth_tbs"] == 3.35
    assert used["serve_price_per_gpu_hour"] == 3.78
    f = tmp_path / "mine.yaml"
    f.write_text(
        "gpus:\n  - {name: MI300X, memory_gb: 192, peak_tflops: 1307, memory_bandwidth_tbs: 5.3,"
        " price_per_hour: 4.0, price_source: my quote, price_as_of: 2026-06-01,"
        " spec_source: AMD datasheet}\n"
    )
    s = Scenario(**(BASE | {"train_gpu": "MI300X", "train_price_per_gpu_hour": None}))
    r = evaluate(s, load_catalog(f))
    assert r.train_cost == 4.0  # 1 GPU × 1 h × 4.0
    with pytest.raises(ScenarioErrors):
        evaluate(s)  # not in the packaged catalog


def test_training_tokens_from_examples() -> None:
    """10 M examples × 256 tokens × 3 epochs = 7.68e9 tokens; 6 × 110e6 × 7.68e9 FLOP on
    8 A100s (312 TFLOP/s) at MFU 0.4 = 5.0688e18 / 9.984e14 / 3600 = 1.41026 h."""
    used = _used(
        train_hours=None,
        train_gpus=8,
        train_gpu="A100-40GB",
        model_params=110e6,
        train_examples=10e6,
        tokens_per_example=256,
        epochs=3,
    )
    assert used["train_tokens"] == pytest.approx(7.68e9, rel=1e-12)
    assert used["train_hours"] == pytest.approx(6 * 110e6 * 7.68e9 / (8 * 312e12 * 0.4) / 3600)


# --- published anchors ------------------------------------------------------------------------

TENSORRT_SEQ_PER_S = 8045.0
"""NVIDIA TensorRT BERT demo: BERT-base (110 M), sequence 128, batch 128, FP16, A100-40GB."""


def test_tensorrt_bert_base_reproduced_at_its_implied_mfu_and_within_40pct_by_default() -> None:
    implied = TENSORRT_SEQ_PER_S * 2 * 110e6 * 128 / 312e12
    assert round(implied, 2) == 0.73
    assert float(compute.serve_qps(110e6, 128, 312, implied)) == pytest.approx(
        TENSORRT_SEQ_PER_S, rel=1e-12
    )
    default = _used(model_params=110e6, tokens_per_item=128, serve_gpu="A100-40GB")
    assert default["qps_per_replica"] is not None
    assert abs(default["qps_per_replica"] / TENSORRT_SEQ_PER_S - 1) <= 0.40


def test_70b_at_two_bytes_on_80gb_needs_three_gpus_per_replica() -> None:
    assert float(compute.fit_gpus(70e9, 80, 2)) == 3.0
    assert _used(model_params=70e9, serve_gpu="A100-80GB")["gpus_per_replica"] == 3.0


def test_decode_bound_by_hand() -> None:
    """13B in INT8 (1 byte) on an A100-80GB (2.0 TB/s), MBU 0.6, batch 4, 50 output tokens:
    0.6 × 2.0e12 / 13e9 = 92.3077 steps/s × 4 / 50 = 7.38462 requests/s."""
    got = float(compute.decode_qps(13e9, 50, 2.0, 4, 1, 0.6))
    assert got == pytest.approx(0.6 * 2.0e12 / 13e9 * 4 / 50, rel=1e-12)
    assert round(got, 5) == 7.38462


# --- properties -------------------------------------------------------------------------------

positive = st.floats(1e-3, 1e3)


@settings(max_examples=BUDGET, deadline=None)
@given(
    params=st.floats(1e6, 1e12),
    tokens=st.floats(1, 1e4),
    items=st.floats(1, 1e3),
    peak=st.floats(1, 5000),
    mfu=st.floats(0.01, 1),
    k=st.floats(1.01, 10),
)
def test_qps_falls_with_items_tokens_params_and_rises_with_peak_and_mfu(
    params: float, tokens: float, items: float, peak: float, mfu: float, k: float
) -> None:
    def qps(p: float = params, t: float = tokens, n: float = items, pk: float = peak,
            m: float = mfu) -> float:  # fmt: skip
        return float(compute.serve_qps(p, t * n, pk, m))

    base = qps()
    assert qps(n=items * k) < base
    assert qps(t=tokens * k) < base
    assert qps(p=params * k) < base
    assert qps(pk=peak * k) > base
    assert qps(m=min(1.0, mfu * k)) >= base
    assert math.isclose(qps(n=items * k) * k, base, rel_tol=1e-9)  # exactly inverse


@settings(max_examples=BUDGET, deadline=None)
@given(params=st.floats(1e6, 1e12), memory=st.floats(1, 200), bytes_=st.sampled_from([0.5, 1, 2]))
def test_fit_gpus_hold_the_model(params: float, memory: float, bytes_: float) -> None:
    n = float(compute.fit_gpus(params, memory, bytes_))
    need = 1.2 * params * bytes_ / 1e9
    assert n * memory >= need * (1 - 1e-9)
    assert (n - 1) * memory < need * (1 + 1e-9)


def test_array_and_scalar_paths_agree() -> None:
    rows = [BASE | {"model_params": p, "tokens_per_item": 128, "serve_gpu": g,
                    "serve_gpus": None, "peak_qps": 500, "serve_price_per_gpu_hour": None}
            for p, g in ((110e6, "L4"), (7e9, "H100"), (70e9, "A100-80GB"))]  # fmt: skip
    cols: dict[str, Any] = {k: [r[k] for r in rows] for k in rows[0] if k != "name"}
    out = evaluate_columns(cols)
    for i, r in enumerate(rows):
        assert out["deploy_cost"][i] == evaluate(Scenario(**r)).deploy_cost
    assert np.all(out["deploy_cost"] > 0)


def test_cli_catalog_option_fills_gpu_names_and_unknown_names_are_one_line(tmp_path: Path) -> None:
    """``--catalog`` on calc and compare: a user's GPU and a user's price for a known one.

    BERT-base, 50 × 128 tokens: on an L4 (121 TFLOP/s) 42.97 QPS per GPU → ceil(60 / (42.97 ×
    0.7)) = 2 GPUs; on an MI300X (1,307 TFLOP/s) 464 QPS → 1 GPU. 8,760 h × (2 × 0.5) = 8,760
    and 8,760 h × 1 × 4.0 = 35,040.
    """
    from typer.testing import CliRunner

    from xlcost.cli import load_commands

    mine = tmp_path / "mine.yaml"
    mine.write_text(
        "gpus:\n"
        "  - {name: L4, memory_gb: 24, peak_tflops: 121, memory_bandwidth_tbs: 0.3,"
        " price_per_hour: 0.5, price_source: my quote, price_as_of: 2026-11-01,"
        " spec_source: NVIDIA L4 datasheet}\n"
        "  - {name: MI300X, memory_gb: 192, peak_tflops: 1307, memory_bandwidth_tbs: 5.3,"
        " price_per_hour: 4.0, price_source: my quote, price_as_of: 2026-11-01,"
        " spec_source: AMD datasheet}\n"
    )
    data = tmp_path / "s.csv"
    head = (
        "name,horizon_months,train_gpus,train_hours,train_price_per_gpu_hour,serve_gpu,"
        "serve_hours,peak_qps,model_params,tokens_per_item,items_per_request,"
        "maintain_units_per_month,maintain_price_per_unit,volume,ctr,cvr,value_per_conversion"
    )
    row = "12,1,1,1,{},8760,60,110000000,128,50,0,0,600000000,0.41,0.03,8"
    data.write_text(f"{head}\nx,{row.format('MI300X')}\ny,{row.format('L4')}\n")
    app, runner = load_commands(), CliRunner()
    args = ["calc", str(data), "-f", "json", "--catalog", str(mine)]
    out = runner.invoke(app, args)
    assert out.exit_code == 0, out.stderr
    assert [r["deploy_cost"] for r in json.loads(out.stdout)] == [35040.0, 8760.0]
    plain = runner.invoke(app, ["calc", str(data), "-f", "json"])
    assert plain.exit_code == 1
    assert plain.stderr.splitlines()[0] == (
        "xlcost: error: s.csv row 2, serve_gpu: unknown GPU 'MI300X'; known: T4, L4, A10G, "
        "A100-40GB, A100-80GB, H100, H200"
    )
    ranked = runner.invoke(app, ["compare", str(data), "-f", "json", "--catalog", str(mine)])
    assert ranked.exit_code == 0
    assert [o["results"]["name"] for o in json.loads(ranked.stdout)["options"]] == ["y", "x"]
