"""Invariants of scenario evaluation (hypothesis), checked against independent computations."""

from __future__ import annotations

import math

import numpy as np
import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import scenarios

from xlcost.engine import Scenario, compare, evaluate, evaluate_columns, schedule
from xlcost.engine.allocate import comparability_warnings, rank_results
from xlcost.engine.costs import benefit, deploy_cost, maintain_cost, train_cost
from xlcost.engine.evaluate import evaluate_with_schedule
from xlcost.engine.finance import excel_irr, excel_npv, monthly_rate

factors = st.floats(min_value=0, max_value=1e4, allow_nan=False)
k_st = st.floats(min_value=0, max_value=100, allow_nan=False)


@settings(max_examples=200)
@given(st.lists(factors, min_size=5, max_size=5), st.integers(0, 3), k_st)
def test_train_cost_is_linear_in_each_factor(args: list[float], i: int, k: float) -> None:
    # gpus, hours, price, runs (overhead enters as 1 + overhead_rate)
    scaled = list(args)
    scaled[i] = args[i] * k
    assert float(train_cost(*scaled)) == pytest.approx(
        k * float(train_cost(*args)), rel=1e-9, abs=1e-9
    )


@settings(max_examples=200)
@given(st.lists(factors, min_size=3, max_size=3), st.integers(0, 2), k_st)
def test_deploy_and_maintain_costs_are_linear(args: list[float], i: int, k: float) -> None:
    scaled = list(args)
    scaled[i] = args[i] * k
    for fn in (deploy_cost, maintain_cost):
        assert float(fn(*scaled)) == pytest.approx(k * float(fn(*args)), rel=1e-9, abs=1e-9)


@settings(max_examples=200)
@given(factors, st.floats(0, 1), st.floats(0, 1), factors, k_st)
def test_benefit_is_linear_in_volume_and_value(
    v: float, c: float, r: float, p: float, k: float
) -> None:
    assert float(benefit(v * k, c, r, p)) == pytest.approx(
        k * float(benefit(v, c, r, p)), rel=1e-9, abs=1e-9
    )
    assert float(benefit(v, c, r, p * k)) == pytest.approx(
        k * float(benefit(v, c, r, p)), rel=1e-9, abs=1e-9
    )


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_costs_are_never_negative(s: Scenario) -> None:
    r = evaluate(s)
    for name in ("train_cost", "deploy_cost", "maintain_cost", "total_cost"):
        assert getattr(r, name) >= 0
    assert r.total_cost == pytest.approx(r.train_cost + r.deploy_cost + r.maintain_cost)


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_cash_flow_sums_equal_totals(s: Scenario) -> None:
    r = evaluate(s)
    rows = schedule(s)
    assert len(rows) == s.horizon_months + 1
    scale = max(1.0, r.total_cost, abs(r.benefit))
    assert sum(x.cost for x in rows) == pytest.approx(r.total_cost, rel=1e-9, abs=1e-9 * scale)
    assert sum(x.benefit for x in rows) == pytest.approx(r.benefit, rel=1e-9, abs=1e-9 * scale)
    running = np.cumsum([x.net for x in rows])
    assert [x.cumulative for x in rows] == pytest.approx(list(running), rel=1e-9, abs=1e-9 * scale)


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_npv_irr_payback_match_excel_functions_over_the_schedule(s: Scenario) -> None:
    r = evaluate(s)
    nets = [x.net for x in schedule(s)]
    scale = max(1.0, r.total_cost, abs(r.benefit))
    rate = float(monthly_rate(s.discount_rate_annual))
    assert r.npv == pytest.approx(nets[0] + excel_npv(rate, nets[1:]), rel=1e-9, abs=1e-9 * scale)
    if s.discount_rate_annual == 0:
        assert r.npv == pytest.approx(r.benefit - r.total_cost, rel=1e-9, abs=1e-9 * scale)
    cumulative = np.cumsum(nets)
    tol = 1e-9 * scale
    half_cent = -0.005  # the rule: the first month whose cumulative net, to the cent, is ≥ 0
    if r.payback_month is None:
        assert all(c < half_cent + tol for c in cumulative)
    else:
        assert cumulative[r.payback_month] > half_cent - tol
        assert all(c < half_cent + tol for c in cumulative[: r.payback_month])
    # IRR against numpy-financial (an independent solver: polynomial roots) over the schedule.
    reference = _npf_irr(nets)
    if math.isnan(reference):
        monthly = None if r.irr is None else (1 + r.irr) ** (1 / 12) - 1
        assert r.irr is None or excel_irr(nets, guess=monthly) == pytest.approx(monthly)
    elif -0.99 < reference < 10 and _is_root(nets, reference):
        # (numpy-financial's eigenvalue solver can return a "root" that is none, e.g. 0 for
        # 50 months of −1 then 1e-49: only a real root is a reference)
        assert r.irr == pytest.approx((1 + reference) ** 12 - 1, rel=1e-6, abs=1e-9)


def _is_root(nets: list[float], rate: float) -> bool:
    """The NPV at ``rate`` is 0 to 1e-9 of the size of its terms (relative: tiny flows too,
    scaled exactly by a power of two so that subnormal amounts keep their precision)."""
    v = np.ldexp(nets, -np.frexp(max(map(abs, nets)))[1])
    terms = v * (1.0 + rate) ** -np.arange(len(nets), dtype=float)
    return bool(abs(terms.sum()) <= 1e-9 * np.abs(terms).sum())


def _npf_irr(nets: list[float]) -> float:
    """numpy-financial's IRR, nan where it has none (or its eigen-solver gives up on subnormals)."""
    if not any(n > 0 for n in nets):
        return math.nan
    try:
        return float(npf.irr(nets))
    except np.linalg.LinAlgError:
        return math.nan


@pytest.mark.parametrize(
    ("c0", "a", "m", "horizon", "months"),
    [
        (2.061924e-318, 1.8484e-319, 0.0, 23, 23),  # +128 % a year (the engine said +128.3345 %)
        (0.0, 2.47578276e-316, 4.7866422e-316, 36, 24),  # −35 % a year (the engine said None)
        (8.8e-316, 1e-318, 0.0, 12, 0),  # −99.7 % a year
    ],
)
def test_irr_of_subnormal_flows(c0: float, a: float, m: float, horizon: int, months: int) -> None:
    """Amounts so small that they are subnormal floats have the same IRR as the same flows
    scaled up by a power of two (exactly): numpy-financial's root of the scaled flows."""
    s = Scenario(
        name="s", horizon_months=horizon, train_gpus=1, train_hours=1,
        train_price_per_gpu_hour=c0, serve_hours=0, serve_gpus=0, serve_price_per_gpu_hour=0,
        maintain_months=months, maintain_units_per_month=0, maintain_price_per_unit=0,
        maintain_fixed_per_month=m, volume=a * horizon, ctr=1, cvr=1, value_per_conversion=1,
        baseline_ctr=0, baseline_cvr=0,
    )  # fmt: skip
    nets = [x.net for x in schedule(s)]
    reference = float(npf.irr(np.ldexp(nets, 1000)))
    assert _is_root(nets, reference)
    assert evaluate(s).irr == pytest.approx((1 + reference) ** 12 - 1, rel=1e-9)


def test_a_schedule_worked_by_hand() -> None:
    """Discounted, with maintenance ending before the horizon; every number by hand."""
    s = Scenario(
        name="hand",
        horizon_months=3,
        discount_rate_annual=0.1,
        train_gpus=10,
        train_hours=1,
        train_price_per_gpu_hour=10,  # month 0: 100
        serve_gpus=1,
        serve_hours=30,
        serve_price_per_gpu_hour=1,  # 30 → 10 a month
        maintain_months=2,
        maintain_units_per_month=10,
        maintain_price_per_unit=1,  # 10, 10, 0
        volume=1000,
        ctr=1,
        cvr=0.5,
        value_per_conversion=0.6,  # 300 → 100 a month
    )
    nets = [-100.0, 80.0, 80.0, 90.0]
    assert [row.net for row in schedule(s)] == pytest.approx(nets)
    r = evaluate(s)
    m = 1.1 ** (1 / 12) - 1
    assert r.npv == pytest.approx(-100 + 80 / (1 + m) + 80 / (1 + m) ** 2 + 90 / (1 + m) ** 3)
    assert r.irr == pytest.approx((1 + npf.irr(nets)) ** 12 - 1, rel=1e-9)
    assert r.payback_month == 2  # cumulative −100, −20, 60
    assert (r.total_cost, r.benefit) == pytest.approx((150.0, 300.0))


@settings(max_examples=100, deadline=None)
@given(st.lists(scenarios(), min_size=1, max_size=8))
def test_array_api_equals_one_by_one(batch: list[Scenario]) -> None:
    columns = {k: np.array([s.columns()[k] for s in batch]) for k in batch[0].columns()}
    out = evaluate_columns(columns)
    for i, s in enumerate(batch):
        r = evaluate(s)
        for name, column in out.items():
            value = getattr(r, name)
            if value is None:  # does not exist (nan) or overflows (inf)
                assert not math.isfinite(column[i])
            else:
                assert column[i] == pytest.approx(value, rel=1e-12, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(st.lists(scenarios(), min_size=1, max_size=4), st.none() | st.floats(0, 1e7))
def test_one_pass_equals_evaluate_schedule_and_compare(
    batch: list[Scenario], budget: float | None
) -> None:
    """What the template uses (one pass per scenario) is exactly the separate functions."""
    for s in batch:
        assert evaluate_with_schedule(s) == (evaluate(s), schedule(s))
    warnings = comparability_warnings(batch)
    ranked = rank_results([evaluate(s) for s in batch], budget=budget, warnings=warnings)
    assert ranked == compare(batch, budget=budget)


def test_megatron_gpt3_estimate_within_10_percent() -> None:
    # Narayanan et al., SC'21 sec. 5.1: GPT-3 175B, 300B tokens, 1,024 A100 at 140 TFLOP/s each
    # (8 FLOPs per parameter-token, recomputation included): "about 34 days".
    s = Scenario(
        name="gpt3",
        horizon_months=2,
        train_gpus=1024,
        train_price_per_gpu_hour=1.48,
        model_params=175e9,
        train_tokens=300e9,
        gpu_peak_tflops=312,
        mfu=140 / 312,
        flops_per_param_token=8,
        serve_gpus=0,
        serve_hours=0,
        serve_price_per_gpu_hour=0,
        maintain_units_per_month=0,
        maintain_price_per_unit=0,
        volume=0,
        ctr=0,
        cvr=0,
        value_per_conversion=0,
    )
    days = evaluate(s).train_cost / (1024 * 1.48) / 24
    assert days == pytest.approx(34, rel=0.10)


def test_serving_is_sized_from_capacity_when_gpus_blank() -> None:
    s = Scenario(
        name="sized",
        horizon_months=1,
        train_gpus=0,
        train_hours=0,
        train_price_per_gpu_hour=0,
        serve_hours=730,
        serve_price_per_gpu_hour=1,
        peak_qps=1000,
        qps_per_replica=120,
        gpus_per_replica=2,
        target_utilization=0.7,
        maintain_units_per_month=0,
        maintain_price_per_unit=0,
        volume=1,
        ctr=0,
        cvr=0,
        value_per_conversion=0,
    )
    # ceil(1000 / (120 × 0.7)) = ceil(11.9) = 12 replicas × 2 GPUs × 730 h × $1
    assert evaluate(s).deploy_cost == 12 * 2 * 730


@pytest.mark.parametrize(
    ("c0", "benefit", "maintain", "horizon", "months", "monthly_irr"),
    [
        (2140.82, 11.792, 0.0, 66, 66, -0.10213),  # slow payback: −72.6 % a year
        (33195.5, 169.4 * 31, 6.6 * 13, 31, 13, -0.09028),
        (7.95, 2641.55, 11333.89, 67, 18, -0.04470),
    ],
)
def test_irr_is_a_root_for_strongly_negative_rates(
    c0: float, benefit: float, maintain: float, horizon: int, months: int, monthly_irr: float
) -> None:
    """Newton creeps towards such roots (about 1/n per step); the solver must still land on
    the root rather than report its last step (it once said −99.99999 % for the first)."""
    s = Scenario(
        name="s", horizon_months=horizon, train_gpus=1, train_hours=1,
        train_price_per_gpu_hour=c0, serve_hours=0, serve_gpus=0, serve_price_per_gpu_hour=0,
        maintain_months=months, maintain_units_per_month=0, maintain_price_per_unit=0,
        maintain_fixed_per_month=maintain / months, volume=benefit, ctr=1, cvr=1,
        value_per_conversion=1, baseline_ctr=0, baseline_cvr=0,
    )  # fmt: skip
    r = evaluate(s)
    assert r.irr is not None
    monthly = (1 + r.irr) ** (1 / 12) - 1
    assert monthly == pytest.approx(monthly_irr, abs=1e-5)
    nets = [x.net for x in schedule(s)]
    assert nets[0] + excel_npv(monthly, nets[1:]) == pytest.approx(0, abs=1e-6 * c0)
    assert excel_irr(nets, guess=monthly_irr) == pytest.approx(monthly, rel=1e-9)


@pytest.mark.parametrize(
    ("c0", "per_month", "months"),
    [
        (0.3, 0.1, 3),
        (4.6, 0.23, 20),
        # short by 4e-7: the old engine rule (months to 1e-9) said 4, the old workbook (money to
        # 1e-6) said 3; short by 1e-4 on millions: the old engine said 3, the old workbook 4
        (300.0000004, 100.0, 3),
        (3e6 + 1e-4, 1e6, 3),
    ],
)
def test_payback_at_an_exact_tie_is_the_same_in_engine_and_workbook_rule(
    c0: float, per_month: float, months: int
) -> None:
    """Cumulative net 0 in month ``months``, or short of it by less than half a cent: the rule —
    cumulative to the cent ≥ 0 — pays back there in the engine's closed form and on the
    workbook's running sum alike."""
    s = Scenario(
        name="tie", horizon_months=months + 5, train_gpus=10, train_hours=1,
        train_price_per_gpu_hour=c0 / 10, serve_hours=0, serve_gpus=0, serve_price_per_gpu_hour=0,
        maintain_months=0, maintain_units_per_month=0, maintain_price_per_unit=0,
        volume=per_month * (months + 5), ctr=1, cvr=1, value_per_conversion=1,
    )  # fmt: skip
    assert evaluate(s).payback_month == months
    running = np.cumsum([x.net for x in schedule(s)])
    workbook = next(t for t, c in enumerate(running) if round(c, 2) >= 0)  # ROUND(cum, 2) >= 0
    assert workbook == months
