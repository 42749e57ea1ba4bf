"""Resource allocation: ranking, budget, recommendation, cheapest GPU — numbers worked by hand."""

from __future__ import annotations

import math

import pytest

from xlcost.engine import Scenario
from xlcost.engine.allocate import (
    ServingRequirement,
    TrainingRequirement,
    cheapest_gpus,
    compare,
)
from xlcost.engine.catalog import Catalog, default_catalog


def option(name: str, train_price: float, benefit_value: float, horizon: int = 1) -> Scenario:
    """One month; cost = 1 GPU × 1 h × train_price; benefit = 1000 × 1 × 1 × value."""
    return Scenario(
        name=name,
        horizon_months=horizon,
        train_gpus=1,
        train_hours=1,
        train_price_per_gpu_hour=train_price,
        serve_gpus=0,
        serve_hours=0,
        serve_price_per_gpu_hour=0,
        maintain_units_per_month=0,
        maintain_price_per_unit=0,
        volume=1000,
        ctr=1,
        cvr=1,
        value_per_conversion=benefit_value,
    )


def test_rank_by_npv_budget_and_recommendation() -> None:
    a = option("a", 100, 0.5)  # NPV 400, ROI 4
    b = option("b", 10, 0.2)  # NPV 190, ROI 19
    c = option("c", 1000, 1.5)  # NPV 500, cost 1000
    result = compare([a, b, c], budget=500)
    assert [o.results.name for o in result.options] == ["c", "a", "b"]
    assert [o.within_budget for o in result.options] == [False, True, True]
    assert result.recommended == "a"
    assert result.warnings == ()
    assert [o.results.name for o in compare([a, b, c], by="roi").options] == ["b", "a", "c"]


@pytest.mark.parametrize(
    ("budget", "reason"),
    [
        (None, "No option has a positive NPV; doing nothing is cheaper."),
        (50, "No option fits the budget."),
        (1000, "No option within the budget has a positive NPV; doing nothing is cheaper."),
    ],
)
def test_nothing_recommended(budget: float | None, reason: str) -> None:
    result = compare([option("loss", 100, 0.01)], budget=budget)  # NPV −90
    assert (result.recommended, result.reason) == (None, reason)


def test_different_horizons_are_flagged() -> None:
    result = compare([option("a", 1, 1), option("b", 1, 1, horizon=12)])
    assert result.warnings == (
        "the options use different periods (horizon_months: 1, 12); their NPVs are not "
        "directly comparable",
    )


def test_cheapest_training_gpu_worked_by_hand() -> None:
    cat = Catalog.model_validate(
        {
            "gpus": [
                {
                    **default_catalog().get("T4").model_dump(),
                    "name": "slow",
                    "peak_tflops": 100,
                    "price_per_hour": 1.0,
                },
                {
                    **default_catalog().get("T4").model_dump(),
                    "name": "fast",
                    "peak_tflops": 1000,
                    "price_per_hour": 5.0,
                },
            ]
        }
    )
    # 3.6e18 FLOP at 50 % of 100 TFLOP/s = 20 GPU-hours; in 4 h: 5 GPUs × 4 h × $1 = $20.
    # On "fast": 2 GPU-hours → 1 GPU × 2 h × $5 = $10.
    options = cheapest_gpus(TrainingRequirement(flops=3.6e18, deadline_hours=4, mfu=0.5), cat)
    assert [(o.gpu, o.gpus, o.hours, o.cost) for o in options] == [
        ("fast", 1, pytest.approx(2.0), pytest.approx(10.0)),
        ("slow", 5, pytest.approx(4.0), pytest.approx(20.0)),
    ]


def test_cheapest_serving_gpu_worked_by_hand() -> None:
    # H100: 989e12 × 0.3 / 1e12 FLOP per query = 296.7 queries/s per GPU; 2 GPUs per replica
    # (100 GB / 80 GB); 1000 qps / (593.4 × 0.7) → 3 replicas → 6 GPUs × 730 h × $3.78.
    req = ServingRequirement(peak_qps=1000, flops_per_query=1e12, hours=730, model_memory_gb=100)
    h100 = next(o for o in cheapest_gpus(req) if o.gpu == "H100")
    assert h100.gpus == 2 * math.ceil(1000 / (2 * 296.7 * 0.7))
    assert h100.cost == pytest.approx(6 * 730 * 3.78)
