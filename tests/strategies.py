"""Hypothesis strategies for valid scenarios (shared by the test modules)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from xlcost.engine import Scenario

WORKED_ROW: dict[str, Any] = {
    "name": "seed",
    "horizon_months": 2,
    "train_gpus": 32,
    "train_hours": 3,
    "train_price_per_gpu_hour": 5,
    "serve_gpus": 1,
    "serve_hours": 100,
    "serve_price_per_gpu_hour": 0.1,
    "maintain_units_per_month": 100,
    "maintain_price_per_unit": 0.5,
    "volume": 100_000_000,
    "ctr": 0.005,
    "cvr": 0.003,
    "value_per_conversion": 0.1,
}
"""The inputs of the worked example (BERT ranker) of the cost-accounting method: train 480,
deploy 10, maintain 100, benefit 150, total 590."""

money = st.floats(min_value=0, max_value=1e4, allow_nan=False, allow_infinity=False)
count = st.floats(min_value=0, max_value=1e3, allow_nan=False, allow_infinity=False)
rate = st.floats(min_value=0, max_value=1, allow_nan=False)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """Valid scenarios covering both derived paths (estimated hours, sized serving)."""
    horizon = draw(st.integers(min_value=1, max_value=60))
    data: dict[str, Any] = {
        "name": "s",
        "horizon_months": horizon,
        "discount_rate_annual": draw(st.floats(min_value=0, max_value=0.5)),
        "train_gpus": draw(count),
        "train_price_per_gpu_hour": draw(money),
        "train_runs": draw(st.floats(min_value=0, max_value=20)),
        "train_overhead_rate": draw(st.floats(min_value=0, max_value=2)),
        "retrains": draw(st.floats(min_value=0, max_value=12)),
        "serve_hours": draw(st.floats(min_value=0, max_value=730.0 * horizon)),
        "serve_price_per_gpu_hour": draw(money),
        "serve_overhead_rate": draw(st.floats(min_value=0, max_value=2)),
        "maintain_months": draw(st.none() | st.integers(min_value=0, max_value=horizon)),
        "maintain_units_per_month": draw(count),
        "maintain_price_per_unit": draw(money),
        "maintain_fixed_per_month": draw(money),
        "volume": draw(st.floats(min_value=0, max_value=1e10)),
        "ctr": draw(rate),
        "cvr": draw(rate),
        "value_per_conversion": draw(money),
        "baseline_ctr": draw(rate),
        "baseline_cvr": draw(rate),
    }
    if draw(st.booleans()):
        data["train_hours"] = draw(count)
    else:
        data["train_gpus"] = draw(st.floats(min_value=1, max_value=1e3))
        data["model_params"] = draw(st.floats(min_value=1e6, max_value=1e11))
        data["train_tokens"] = draw(st.floats(min_value=1e6, max_value=1e12))
        data["gpu_peak_tflops"] = draw(st.floats(min_value=10, max_value=2000))
        data["mfu"] = draw(st.floats(min_value=0.05, max_value=1))
    if draw(st.booleans()):
        data["serve_gpus"] = draw(count)
    else:
        data["peak_qps"] = draw(st.floats(min_value=0, max_value=1e5))
        data["qps_per_replica"] = draw(st.floats(min_value=0.1, max_value=1e4))
        data["target_utilization"] = draw(st.floats(min_value=0.05, max_value=1))
        data["min_replicas"] = draw(st.floats(min_value=0, max_value=10))
    if draw(st.booleans()):
        data |= draw(cost_lines(horizon))
    return Scenario.model_validate(data)


@st.composite
def cost_lines(draw: st.DrawFn, horizon: int) -> dict[str, Any]:
    """The inputs of every cost line beyond the three core ones (data, infrastructure,
    incidents, owned GPUs, hosted API), each drawn in a plausible range."""
    return {
        "data_prep_cost": draw(money),
        "data_refresh_per_month": draw(money),
        "storage_gb": draw(count),
        "storage_price_per_gb_month": draw(st.floats(min_value=0, max_value=1)),
        "egress_gb_per_month": draw(count),
        "egress_price_per_gb": draw(st.floats(min_value=0, max_value=1)),
        "software_per_month": draw(money),
        "setup_cost": draw(money),
        "incidents_per_month": draw(st.floats(min_value=0, max_value=30)),
        "incident_hours": draw(st.floats(min_value=0, max_value=48)),
        "incident_price_per_hour": draw(st.floats(min_value=0, max_value=500)),
        "own_gpus": draw(st.floats(min_value=0, max_value=64)),
        "gpu_purchase_price": draw(st.floats(min_value=0, max_value=5e4)),
        "useful_life_months": draw(st.floats(min_value=1, max_value=120)),
        "salvage_rate": draw(rate),
        "power_kw_per_gpu": draw(st.floats(min_value=0, max_value=2)),
        "pue": draw(st.floats(min_value=1, max_value=3)),
        "electricity_price_per_kwh": draw(st.floats(min_value=0, max_value=1)),
        "hosting_per_gpu_month": draw(st.floats(min_value=0, max_value=500)),
        "api_price_per_m_input_tokens": draw(st.floats(min_value=0, max_value=20)),
        "api_price_per_m_output_tokens": draw(st.floats(min_value=0, max_value=80)),
        "api_input_tokens_per_request": draw(st.floats(min_value=0, max_value=1e4)),
        "api_output_tokens_per_request": draw(st.floats(min_value=0, max_value=1e3)),
        "api_requests": draw(st.none() | st.floats(min_value=0, max_value=1e10)),
    }
