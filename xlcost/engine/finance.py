"""Discounting with Excel's conventions: monthly rates, NPV, IRR, annuities.

Which library, and why none
---------------------------
numpy-financial's ``npv`` discounts the first value by zero periods, Excel's ``NPV`` by one, so
it cannot be used as is; its ``irr`` solves the polynomial through eigenvalues and returns the
root closest to zero, which can differ from the root Excel's iteration lands on. The Excel
definitions are short, so they are implemented here exactly as Microsoft documents them, and the
test suite checks them against Microsoft's published examples, against the ``formulas`` package
(an independent Excel engine) and against numpy-financial:

* ``NPV(rate, v1..vn) = Σ v_i / (1 + rate)^i`` for i = 1..n (the first value is discounted once).
* ``IRR(values)`` is the rate at which the NPV of ``values``, the first one undiscounted, is 0.
  Excel iterates from ``guess = 10 %``; for the cash flows xlcost produces (costs first, then
  at most one change of sign) the root is unique, and this module finds it by safeguarded
  Newton iteration to full double precision.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from xlcost.engine.costs import Float, _f

Array = NDArray[np.float64]
_RateFunction = Callable[[Array, NDArray[np.intp]], tuple[Array, Array]]

__all__ = [
    "annualise",
    "annuity_factor",
    "excel_irr",
    "excel_npv",
    "log_annuity",
    "monthly_rate",
    "solve_rate",
]


def monthly_rate(annual_rate: ArrayLike) -> Float:
    """Monthly rate equivalent to an annual effective rate: ``(1 + annual)^(1/12) − 1``.

    >>> round(float(monthly_rate(0.12)), 6)
    0.009489
    """
    return np.expm1(np.log1p(_f(annual_rate)) / 12.0)


def annualise(monthly: ArrayLike) -> Float:
    """Annual effective rate from a monthly one: ``(1 + monthly)^12 − 1``.

    >>> round(float(annualise(monthly_rate(0.08))), 12)
    0.08
    """
    return np.expm1(12.0 * np.log1p(_f(monthly)))


def annuity_factor(rate: ArrayLike, periods: ArrayLike) -> Float:
    """Present value of 1 paid at the end of each of ``periods`` periods: ``Σ_{t=1..n} (1+r)^−t``.

    Equals ``(1 − (1 + r)^−n) / r``, and ``n`` when ``r = 0``. ``rate`` > −1, ``periods`` ≥ 0.

    >>> float(annuity_factor(0.0, 24))
    24.0
    >>> round(float(annuity_factor(0.1, 3)), 6)   # 1/1.1 + 1/1.21 + 1/1.331
    2.486852
    """
    return log_annuity(np.log1p(_f(rate)), _f(periods))[0]


def log_annuity(x: ArrayLike, periods: ArrayLike) -> tuple[Array, Array]:
    """``S(x, n) = Σ_{t=1..n} e^(−x·t)`` and ``dS/dx``, with ``x = ln(1 + rate)``.

    The annuity factor in the log-rate ``x``; IRR is solved in ``x``, where the NPV of a
    conventional cash flow is smooth and convex, so Newton's method converges in a few steps
    even for rates of thousands of percent a period.
    """
    x_ = _f(x)
    n = _f(periods)
    # S uses expm1 and stays accurate down to tiny x; only x ≈ 0 itself needs the limit n.
    # dS/dx cancels badly for small x, so its series takes over earlier (it only steers Newton).
    tiny = np.abs(x_) < 1e-12
    small = np.abs(x_) < 1e-4
    xs = np.where(tiny, 1.0, x_)
    q = np.exp(-xs)
    qn = np.exp(-xs * n)
    one_minus_q = -np.expm1(-xs)
    s = q * (-np.expm1(-xs * n)) / one_minus_q
    ds = -q * (1.0 - (n + 1.0) * qn + n * qn * q) / (one_minus_q * one_minus_q)
    s_series = n - x_ * n * (n + 1.0) / 2.0
    ds_series = -n * (n + 1.0) / 2.0 + x_ * n * (n + 1.0) * (2.0 * n + 1.0) / 6.0
    return np.where(tiny, s_series, s), np.where(small, ds_series, ds)


def excel_npv(rate: float, values: Sequence[float] | NDArray[np.float64]) -> float:
    """Excel's ``NPV(rate, value1, …)``: every value is discounted, the first by one period.

    Examples
    --------
    Microsoft's documented example, ``NPV(10%, -10000, 3000, 4200, 6800)``:

    >>> round(excel_npv(0.10, [-10000, 3000, 4200, 6800]), 2)
    1188.44
    """
    v = np.asarray(values, dtype=np.float64)
    t = np.arange(1, v.size + 1, dtype=np.float64)
    return float(np.sum(v / (1.0 + rate) ** t))


def excel_irr(values: Sequence[float] | NDArray[np.float64], guess: float = 0.1) -> float | None:
    """Excel's ``IRR(values, [guess])``: the per-period rate where the NPV is zero.

    The first value is at time 0 (undiscounted). Returns ``None`` where Excel shows ``#NUM!``:
    no change of sign in the values, or no root found.

    Examples
    --------
    Microsoft's documented example, ``IRR(-70000, 12000, 15000, 18000, 21000, 26000)``:

    >>> round(excel_irr([-70000, 12000, 15000, 18000, 21000, 26000]), 4)
    0.0866
    """
    v = np.asarray(values, dtype=np.float64)
    if not (np.any(v > 0) and np.any(v < 0)):
        return None
    t = np.arange(v.size, dtype=np.float64)

    def f(x: Array, _rows: NDArray[np.intp]) -> tuple[Array, Array]:
        d = np.exp(-x[..., None] * t)
        return (v * d).sum(-1), (-t * v * d).sum(-1)

    root = solve_rate(f, np.array([guess]))
    return None if np.isnan(root[0]) else float(root[0])


def solve_rate(
    f: _RateFunction,
    guess: Array,
    *,
    lower: float = -0.99,
    upper: float = 1e9,
    max_iter: int = 60,
) -> Array:
    """Vectorised root of NPV = 0 in the log-rate ``x = ln(1 + r)``; returns the rates ``r``.

    ``f(x, rows)`` returns ``(npv, d npv / d x)`` of the elements ``rows`` at log-rates ``x``
    (``x`` and ``rows`` have the same length). Each element is bracketed
    in ``[ln(1 + lower), ln(1 + upper)]``; a Newton step that leaves the bracket is replaced by
    bisection, and an element Newton has not settled after ``max_iter`` steps is bisected to
    double precision, so each element converges when its bracket holds a change of sign.
    Elements without one are NaN (Excel's ``#NUM!``). The default bracket, −99 % to 10⁹ a
    period, holds every rate a monthly business case produces. Only unconverged elements are
    iterated.
    """
    n = guess.size
    lo = np.full(n, np.log1p(lower))
    hi = np.full(n, np.log1p(upper))
    every = np.arange(n)
    with np.errstate(all="ignore"):
        f_lo = f(lo, every)[0]
        f_hi = f(hi, every)[0]
    ok = np.sign(f_lo) * np.sign(f_hi) < 0
    out = np.full(n, np.nan)
    active = np.flatnonzero(ok)
    x = np.log1p(guess[active])
    lo, hi, lo_positive = lo[active], hi[active], f_lo[active] > 0

    for _ in range(max_iter):
        if active.size == 0:
            break
        with np.errstate(all="ignore"):
            y, dy = f(x, active)
            same_as_lo = (y > 0) == lo_positive
            lo = np.where(same_as_lo, x, lo)
            hi = np.where(same_as_lo, hi, x)
            newton = x - y / dy
        done = (y == 0) | (np.abs(newton - x) <= 1e-13 * np.maximum(1.0, np.abs(x)))
        inside = (newton >= lo) & (newton <= hi)
        new = np.where(done | inside, newton, 0.5 * (lo + hi))
        new = np.where(y == 0, x, new)
        out[active[done]] = new[done]
        keep = ~done
        active, x, lo, hi, lo_positive = (
            active[keep],
            new[keep],
            lo[keep],
            hi[keep],
            lo_positive[keep],
        )
    if active.size:
        # Newton crept (e.g. from far left of a strongly negative rate, where the NPV grows
        # like e^(−n·x) and each step gains about 1/n): finish those elements by bisection of
        # their brackets, which still hold the change of sign, to double precision.
        out[active] = _bisect(f, active, lo, hi, lo_positive)
    return np.asarray(np.expm1(out), dtype=np.float64)


def _bisect(
    f: _RateFunction, rows: NDArray[np.intp], lo: Array, hi: Array, lo_positive: NDArray[np.bool_]
) -> Array:
    """Midpoints of the brackets ``[lo, hi]`` of ``rows`` after bisecting them to ≤ 1 ulp."""
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if np.all((mid == lo) | (mid == hi)):
            break
        with np.errstate(all="ignore"):
            y = f(mid, rows)[0]
        same_as_lo = (y > 0) == lo_positive
        lo = np.where(same_as_lo, mid, lo)
        hi = np.where(same_as_lo, hi, mid)
    return 0.5 * (lo + hi)
