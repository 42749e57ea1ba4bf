"""Hypothesis strategies for valid scenarios (shared by the test modules)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from xlcost.engine import Scenario

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
    return Scenario.model_validate(data)
