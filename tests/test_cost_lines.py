"""Every cost line beyond the three core ones: by hand, in the schedule, and in NPV/IRR.

Expected numbers are worked by hand in the comments (never by the code under test); NPV and
IRR are checked against numpy-financial over the schedule (its ``npv`` discounts the first
value by zero periods, which is month 0 plus Excel's ``NPV`` of months 1..H).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from strategies import cost_lines, scenarios

from xlcost.engine import Scenario, evaluate, evaluate_columns, schedule
from xlcost.engine.errors import ScenarioErrors
from xlcost.engine.evaluate import COST_LINES, schedule_lines
from xlcost.engine.finance import excel_irr

# Nothing costs or earns anything, over 12 months; each case switches one line on.
ZERO: dict[str, Any] = {
    "name": "zero",
    "horizon_months": 12,
    "train_gpus": 0,
    "train_hours": 0,
    "train_price_per_gpu_hour": 0,
    "serve_gpus": 0,
    "serve_hours": 8760,
    "serve_price_per_gpu_hour": 0,
    "maintain_units_per_month": 0,
    "maintain_price_per_unit": 0,
    "volume": 1e6,
    "ctr": 0,
    "cvr": 0,
    "value_per_conversion": 0,
}

# (inputs, the line, its value by hand, the core result it is part of)
CASES = [
    ({"data_prep_cost": 5000}, "data_cost", 5000.0, "train_cost"),
    ({"data_refresh_per_month": 250}, "data_cost", 3000.0, "train_cost"),  # 250 × 12
    ({"data_prep_cost": 5000, "data_refresh_per_month": 250}, "data_cost", 8000.0, "train_cost"),
    ({"storage_gb": 1000, "storage_price_per_gb_month": 0.02}, "infra_cost", 240.0, "deploy_cost"),
    ({"egress_gb_per_month": 200, "egress_price_per_gb": 0.09}, "infra_cost", 216.0, "deploy_cost"),
    ({"software_per_month": 400}, "infra_cost", 4800.0, "deploy_cost"),
    ({"setup_cost": 7000}, "infra_cost", 7000.0, "deploy_cost"),
    ({"storage_gb": 1000}, "infra_cost", 0.0, "deploy_cost"),  # free storage
    (  # 12 × 2 × 3 h × $80
        {"incidents_per_month": 2, "incident_hours": 3, "incident_price_per_hour": 80},
        "incident_cost", 5760.0, "maintain_cost",
    ),
    (  # only within the 6 maintenance months: 6 × 2 × 3 × 80
        {"incidents_per_month": 2, "incident_hours": 3, "incident_price_per_hour": 80,
         "maintain_months": 6},
        "incident_cost", 2880.0, "maintain_cost",
    ),
    # 4 GPUs × $30,000 = 120,000; a 12-month third of a 36-month life
    ({"own_gpus": 4, "gpu_purchase_price": 30000}, "hardware_cost", 40000.0, "deploy_cost"),
    (  # salvage 10 %: 120,000 × 0.9 × 12/36
        {"own_gpus": 4, "gpu_purchase_price": 30000, "salvage_rate": 0.1},
        "hardware_cost", 36000.0, "deploy_cost",
    ),
    (  # a 6-month life, over before the 12 months end: down to salvage, 120,000 × 0.8
        {"own_gpus": 4, "gpu_purchase_price": 30000, "useful_life_months": 6,
         "salvage_rate": 0.2},
        "hardware_cost", 96000.0, "deploy_cost",
    ),
    (  # salvage 100 %: nothing lost
        {"own_gpus": 4, "gpu_purchase_price": 30000, "salvage_rate": 1},
        "hardware_cost", 0.0, "deploy_cost",
    ),
    (  # 4 × 0.7 kW × 1.3 × 8,760 h × $0.10 = 3,188.64
        {"own_gpus": 4, "power_kw_per_gpu": 0.7, "electricity_price_per_kwh": 0.10},
        "power_cost", 3188.64, "deploy_cost",
    ),
    (  # PUE 1.5: 4 × 0.7 × 1.5 × 8,760 × 0.10
        {"own_gpus": 4, "power_kw_per_gpu": 0.7, "electricity_price_per_kwh": 0.10, "pue": 1.5},
        "power_cost", 3679.2, "deploy_cost",
    ),
    ({"own_gpus": 4, "hosting_per_gpu_month": 150}, "power_cost", 7200.0, "deploy_cost"),
    (  # requests = volume 1e6: 1e6 × (500 × $0.15 + 20 × $0.60) / 1e6 = 87
        {"api_price_per_m_input_tokens": 0.15, "api_price_per_m_output_tokens": 0.6,
         "api_input_tokens_per_request": 500, "api_output_tokens_per_request": 20},
        "api_cost", 87.0, "deploy_cost",
    ),
    (  # 3e6 requests given: 3e6 × (1000 × $3) / 1e6
        {"api_price_per_m_input_tokens": 3, "api_input_tokens_per_request": 1000,
         "api_requests": 3e6},
        "api_cost", 9000.0, "deploy_cost",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("inputs", "line", "expected", "part_of"), CASES)
def test_each_cost_line_by_hand(
    inputs: dict[str, Any], line: str, expected: float, part_of: str
) -> None:
    r = evaluate(Scenario(**(ZERO | inputs)))
    assert getattr(r, line) == pytest.approx(expected, rel=1e-12, abs=1e-9)
    assert getattr(r, part_of) == pytest.approx(expected, rel=1e-12, abs=1e-9)
    assert r.total_cost == pytest.approx(expected, rel=1e-12, abs=1e-9)
    for other in COST_LINES:
        if other != line:
            assert getattr(r, other) == 0.0


def test_the_worked_example_keeps_its_numbers() -> None:
    from xlcost.engine.examples import seed_scenario

    r = evaluate(seed_scenario())
    assert (r.train_cost, r.deploy_cost, r.maintain_cost, r.total_cost) == (480, 10, 100, 590)
    assert [getattr(r, line) for line in COST_LINES] == [0.0] * len(COST_LINES)


BAD = [
    ({"useful_life_months": -12}, "useful_life_months", "greater than 0"),
    ({"useful_life_months": 0}, "useful_life_months", "greater than 0"),
    ({"salvage_rate": 1.5}, "salvage_rate", "less than or equal to 1"),
    ({"salvage_rate": -0.1}, "salvage_rate", "greater than or equal to 0"),
    ({"pue": 0.9}, "pue", "greater than or equal to 1"),
    ({"own_gpus": -1}, "own_gpus", "greater than or equal to 0"),
    ({"api_requests": -5}, "api_requests", "greater than or equal to 0"),
    ({"electricity_price_per_kwh": math.inf}, "electricity_price_per_kwh", "finite"),
]


@pytest.mark.parametrize(("inputs", "field", "message"), BAD)
def test_failure_rows_are_refused_by_both_paths(
    inputs: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as e:
        Scenario(**(ZERO | inputs))
    assert e.value.errors()[0]["loc"] == (field,)
    assert message in e.value.errors()[0]["msg"]
    columns = {k: v for k, v in (ZERO | inputs).items() if k != "name"}
    with pytest.raises(ScenarioErrors) as array_error:
        evaluate_columns(columns)
    assert field in str(array_error.value)


EVERY_LINE = ZERO | {
    "horizon_months": 24,
    "discount_rate_annual": 0.1,
    "train_gpus": 8, "train_hours": 10, "train_price_per_gpu_hour": 2, "retrains": 3,
    "serve_gpus": 1, "serve_price_per_gpu_hour": 0.5, "serve_hours": 730 * 24,
    "maintain_months": 18, "maintain_units_per_month": 10, "maintain_price_per_unit": 100,
    "volume": 4e8, "ctr": 0.05, "cvr": 0.04, "value_per_conversion": 3, "baseline_ctr": 0.045,
    "baseline_cvr": 0.04,
    "data_prep_cost": 9000, "data_refresh_per_month": 300, "storage_gb": 800,
    "storage_price_per_gb_month": 0.023, "egress_gb_per_month": 300, "egress_price_per_gb": 0.09,
    "software_per_month": 200, "setup_cost": 4000, "incidents_per_month": 1,
    "incident_hours": 5, "incident_price_per_hour": 100, "own_gpus": 2,
    "gpu_purchase_price": 12000, "useful_life_months": 36, "salvage_rate": 0.2,
    "power_kw_per_gpu": 0.4, "pue": 1.2, "electricity_price_per_kwh": 0.15,
    "hosting_per_gpu_month": 100, "api_price_per_m_input_tokens": 0.1,
    "api_price_per_m_output_tokens": 0.4, "api_input_tokens_per_request": 200,
    "api_output_tokens_per_request": 4, "api_requests": 1e7,
}  # fmt: skip


def test_schedule_by_hand_with_every_line() -> None:
    """Month 0, a middle month and month H of the schedule, each worked by hand."""
    s = Scenario(**EVERY_LINE)
    rows = schedule(s)
    lines = schedule_lines(s)
    # month 0: training 8 × 10 × 2 = 160, data preparation 9,000, set-up 4,000,
    # GPU purchase 2 × 12,000 = 24,000
    assert rows[0].cost == pytest.approx(160 + 9000 + 4000 + 24000)
    # value left after 24 of 36 months: 24,000 × (1 − 0.8 × 24/36) = 11,200, back in month 24
    assert lines["owned_gpus"][24] == pytest.approx(-11200)
    assert lines["owned_gpus"][0] == 24000 and not any(lines["owned_gpus"][1:24])
    # a middle month: retrains 3 × 160 / 24 = 20; data refresh 300; rented serving
    # 730 × 0.5 = 365; infrastructure 800 × 0.023 + 300 × 0.09 + 200 = 245.4; power
    # 2 × 0.4 × 1.2 × 730 × 0.15 + 2 × 100 = 305.12; API 1e7 × (200 × 0.1 + 4 × 0.4) / 1e6 / 24
    # = 9; maintenance 10 × 100 + incidents 5 × 100 = 1,500
    middle = 20 + 300 + 365 + 245.4 + 305.12 + 9 + 1500
    assert rows[12].cost == pytest.approx(middle)
    assert rows[24].cost == pytest.approx(middle - 1500 - 11200)  # no maintenance after 18
    # benefit 4e8 × (0.002 − 0.0018) × 3 = 240,000, 10,000 a month
    assert rows[12].benefit == pytest.approx(10000)
    for t, row in enumerate(rows):
        assert sum(lines[k][t] for k in lines) == pytest.approx(row.cost, rel=1e-12)


@settings(max_examples=150, deadline=None)
@given(scenarios(), st.data())
def test_schedule_sums_equal_totals_with_every_line_active(
    s: Scenario, data: st.DataObject
) -> None:
    s = s.model_copy(update=data.draw(cost_lines(s.horizon_months)))
    s = Scenario.model_validate(s.model_dump())
    r = evaluate(s)
    rows = schedule(s)
    lines = schedule_lines(s)
    scale = max(1.0, r.total_cost, abs(r.benefit), s.own_gpus * s.gpu_purchase_price)
    tol = 1e-9 * scale
    assert sum(x.cost for x in rows) == pytest.approx(r.total_cost, abs=tol)
    assert sum(x.benefit for x in rows) == pytest.approx(r.benefit, abs=tol)
    for t, row in enumerate(rows):
        assert sum(lines[k][t] for k in lines) == pytest.approx(row.cost, abs=tol)
    assert sum(lines["data"]) == pytest.approx(r.data_cost, abs=tol)
    assert sum(lines["owned_gpus"]) == pytest.approx(r.hardware_cost, abs=tol)
    assert sum(lines["power_hosting"]) == pytest.approx(r.power_cost, abs=tol)
    assert sum(lines["hosted_api"]) == pytest.approx(r.api_cost, abs=tol)
    assert r.total_cost == pytest.approx(r.train_cost + r.deploy_cost + r.maintain_cost, abs=tol)
    # NPV: numpy-financial over the schedule (first value undiscounted = month 0)
    nets = [x.net for x in rows]
    rate = (1 + s.discount_rate_annual) ** (1 / 12) - 1
    assert r.npv == pytest.approx(float(npf.npv(rate, nets)), rel=1e-9, abs=tol)
    # payback: the first month with cumulative net ≥ 0
    cumulative = np.cumsum(nets)
    if r.payback_month is None:
        assert all(c < tol for c in cumulative)
    else:
        assert cumulative[r.payback_month] >= -tol
        assert all(c < tol for c in cumulative[: r.payback_month])
    # IRR: the flows from month 1 on never decrease, so there is at most one root; the engine's
    # is a root of Excel's NPV over the schedule, and Excel's IRR started from a guess near it
    # (as the workbook's IRR search gives it) lands on it; numpy-financial (polynomial roots)
    # agrees where it finds a root in the range.
    assert all(b >= a - tol for a, b in itertools.pairwise(nets[1:]))
    changes_sign = any(x > 0 for x in nets) and any(x < 0 for x in nets)
    if r.irr is None:
        assert not changes_sign or excel_irr(nets) is None
    elif -0.99 < r.irr < 1e3:
        monthly = (1 + r.irr) ** (1 / 12) - 1
        assert abs(float(npf.npv(monthly, nets))) <= 1e-7 * scale
        reference = excel_irr(nets, monthly * (1 + 1e-6))
        assert reference is not None
        assert r.irr == pytest.approx((1 + reference) ** 12 - 1, rel=1e-6, abs=1e-9)
        try:
            npf_root = float(npf.irr(nets))
        except np.linalg.LinAlgError:
            npf_root = math.nan
        if math.isfinite(npf_root) and npf_root > -0.99:
            assert r.irr == pytest.approx((1 + npf_root) ** 12 - 1, rel=1e-6, abs=1e-9)


def test_irr_with_the_value_left_by_hand() -> None:
    """Buy for 1,000 and sell back for 600 after two months of +250: the only root of
    −1000 + 250/(1+r) + 850/(1+r)² = 0 is (1+r) = (250 + √(250² + 4·1000·850)) / 2000."""
    s = Scenario(
        **(ZERO | {"horizon_months": 2, "own_gpus": 1, "gpu_purchase_price": 1000,
                   "useful_life_months": 5, "volume": 500, "ctr": 1, "cvr": 1,
                   "value_per_conversion": 1})
    )  # fmt: skip
    # value left after 2 of 5 months: 1000 × 3/5 = 600; benefit 250 a month
    assert [x.net for x in schedule(s)] == pytest.approx([-1000, 250, 850])
    growth = (250 + math.sqrt(250**2 + 4 * 1000 * 850)) / 2000
    assert evaluate(s).irr == pytest.approx(growth**12 - 1, rel=1e-12)
    assert evaluate(s).payback_month == 2  # −1000, −750, +100
    assert evaluate(s).hardware_cost == pytest.approx(400)


# Each input and the line it enters; the line is affine in the input (f(k·x) − f(0) equals
# k·(f(x) − f(0))). Useful life is not (it enters as min(H, life)/life) and is left out.
LINEAR = {
    "data_prep_cost": "data_cost", "data_refresh_per_month": "data_cost",
    "storage_gb": "infra_cost", "storage_price_per_gb_month": "infra_cost",
    "egress_gb_per_month": "infra_cost", "egress_price_per_gb": "infra_cost",
    "software_per_month": "infra_cost", "setup_cost": "infra_cost",
    "incidents_per_month": "incident_cost", "incident_hours": "incident_cost",
    "incident_price_per_hour": "incident_cost", "own_gpus": "hardware_cost",
    "gpu_purchase_price": "hardware_cost", "salvage_rate": "hardware_cost",
    "power_kw_per_gpu": "power_cost", "pue": "power_cost",
    "electricity_price_per_kwh": "power_cost", "hosting_per_gpu_month": "power_cost",
    "api_price_per_m_input_tokens": "api_cost", "api_price_per_m_output_tokens": "api_cost",
    "api_input_tokens_per_request": "api_cost", "api_output_tokens_per_request": "api_cost",
    "api_requests": "api_cost",
}  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(sorted(LINEAR)),
    st.integers(1, 60),
    st.data(),
    st.floats(min_value=0, max_value=1),
)
def test_every_new_input_enters_its_cost_line_linearly(
    name: str, horizon: int, data: st.DataObject, k: float
) -> None:
    inputs = ZERO | {"horizon_months": horizon} | data.draw(cost_lines(horizon))
    line = LINEAR[name]
    low = 1.0 if name == "pue" else 0.0  # PUE's domain starts at 1: scale from there

    def at(x: float) -> float:
        return float(evaluate_columns({k_: v for k_, v in (inputs | {name: x}).items()
                                       if k_ != "name"})[line][0])  # fmt: skip

    x = float(inputs[name] if inputs[name] is not None else 1e6)
    y = low + k * (x - low)
    scale = max(1.0, abs(at(x)), abs(at(low)))
    assert at(y) - at(low) == pytest.approx(k * (at(x) - at(low)), rel=1e-9, abs=1e-9 * scale)
