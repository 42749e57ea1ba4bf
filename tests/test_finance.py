"""NPV and IRR with Excel's conventions, against Microsoft's examples and independent engines."""

from __future__ import annotations

import math

import formulas
import numpy as np
import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlcost.engine.finance import annualise, annuity_factor, excel_irr, excel_npv, monthly_rate


def _excel(expr: str) -> float:
    """Evaluate an Excel formula with the ``formulas`` package (an independent Excel engine)."""
    value = formulas.Parser().ast(expr)[1].compile()()
    return float(np.asarray(value).ravel()[0])


def test_npv_microsoft_example() -> None:
    # support.microsoft.com, NPV function, example 1: 1,188.44
    assert round(excel_npv(0.10, [-10000, 3000, 4200, 6800]), 2) == 1188.44


def test_irr_microsoft_example() -> None:
    # support.microsoft.com, IRR function: IRR(A2:A7) = 8.66 %, IRR(A2:A6) = 7.1 % on a
    # 5-year loan, IRR(A2:A4,-10%) = -44.4 %
    flows = [-70000, 12000, 15000, 18000, 21000, 26000]
    assert round(excel_irr(flows) or 0, 4) == 0.0866
    assert round(excel_irr(flows[:5]) or 0, 4) == -0.0212
    assert round(excel_irr(flows[:3], guess=-0.1) or 0, 3) == -0.444


@pytest.mark.parametrize(
    "flows",
    [[1, 2, 3], [-1, -2], [0, 0, 0], []],
    ids=["all positive", "all negative", "zeros", "empty"],
)
def test_irr_without_sign_change_is_none(flows: list[float]) -> None:
    assert excel_irr(flows) is None


flows_st = st.lists(
    st.floats(min_value=1, max_value=1e6, allow_nan=False), min_size=1, max_size=24
).map(lambda pos: [-(sum(pos) * 0.8), *pos])


@settings(max_examples=60, deadline=None)
@given(flows_st, st.floats(min_value=0, max_value=0.5))
def test_npv_matches_formulas_and_numpy_financial(flows: list[float], rate: float) -> None:
    ours = excel_npv(rate, flows)
    args = ",".join(repr(v) for v in flows)
    assert ours == pytest.approx(_excel(f"=NPV({rate!r},{args})"), rel=1e-9, abs=1e-6)
    # numpy-financial discounts the first value by 0 periods: shift by one period.
    assert ours == pytest.approx(npf.npv(rate, [0.0, *flows]), rel=1e-9, abs=1e-6)


# The shape xlcost's schedules have: an up-front cost, months with a negative net (maintenance
# before the benefit covers it), then months with a positive net.
front_loaded_st = st.tuples(
    st.floats(min_value=0, max_value=1e5),
    st.lists(st.floats(min_value=-1e4, max_value=-1), max_size=24),
    st.lists(st.floats(min_value=1, max_value=1e5), min_size=1, max_size=60),
).map(lambda t: [-t[0], *t[1], *t[2]])


@settings(max_examples=200, deadline=None)
@given(front_loaded_st)
def test_irr_of_front_loaded_flows_matches_numpy_financial(flows: list[float]) -> None:
    """One change of sign: one root above −100 %. Where Excel's iteration from 10 % converges
    it is that root; from a guess next to the root it always converges."""
    reference = float(npf.irr(flows))
    if math.isnan(reference) or not -0.99 < reference < 1e3:
        return  # numpy-financial finds no real root, or one no business case has
    ours = excel_irr(flows)
    if ours is not None and ours > -1:
        assert ours == pytest.approx(reference, rel=1e-7, abs=1e-9)
    near = excel_irr(flows, guess=reference * (1 + 1e-3) + 1e-4)
    assert near == pytest.approx(reference, rel=1e-7, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(flows_st)
def test_irr_matches_formulas_and_numpy_financial(flows: list[float]) -> None:
    ours = excel_irr(flows)
    assert ours is not None
    reference = npf.irr(flows)
    assert ours == pytest.approx(reference, rel=1e-7, abs=1e-9)
    args = ",".join(repr(v) for v in flows)
    excel = _excel(f"=IRR({{{args}}})")
    assert ours == pytest.approx(excel, rel=1e-6, abs=1e-8)


def test_rates_round_trip() -> None:
    assert float(annualise(monthly_rate(0.1))) == pytest.approx(0.1, rel=1e-14)
    assert float(monthly_rate(0.0)) == 0.0


@pytest.mark.parametrize("rate", [0.0, 1e-12, 1e-7, 1e-3, 0.05, 2.0])
@pytest.mark.parametrize("n", [0, 1, 2, 12, 120])
def test_annuity_factor_equals_the_sum(rate: float, n: int) -> None:
    direct = sum((1 + rate) ** -t for t in range(1, n + 1))
    assert float(annuity_factor(rate, n)) == pytest.approx(direct, rel=1e-12, abs=1e-12)
