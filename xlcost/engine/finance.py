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

import math
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
    "log_annuities",
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

    When every element has the same rate and periods (a Monte Carlo of one scenario, a batch
    with one horizon) the factor is computed once.

    >>> float(annuity_factor(0.0, 24))
    24.0
    >>> round(float(annuity_factor(0.1, 3)), 6)   # 1/1.1 + 1/1.21 + 1/1.331
    2.486852
    """
    r, n = _f(rate), _f(periods)
    if r.size > 1 and r.shape == n.shape and r.min() == r.max() and n.min() == n.max():
        one = log_annuity(np.log1p(r.flat[0]), n.flat[0])[0]
        return np.full(r.shape, one)
    return log_annuity(np.log1p(r), n)[0]


def log_annuity(x: ArrayLike, periods: ArrayLike) -> tuple[Array, Array]:
    """``S(x, n) = Σ_{t=1..n} e^(−x·t)`` and ``dS/dx``, with ``x = ln(1 + rate)``.

    The annuity factor in the log-rate ``x``; IRR is solved in ``x``, where the NPV of a
    conventional cash flow is smooth and convex, so Newton's method converges in a few steps
    even for rates of thousands of percent a period.
    """
    s, ds, _ = log_annuities(_f(x), [_f(periods)])[0]
    return s, ds


def log_annuities(x: Array, periods: Sequence[Array]) -> list[tuple[Array, Array, Array]]:
    """:func:`log_annuity` for several ``periods`` at the same log-rates ``x``, each with the
    discount factor ``e^(−x·n)`` too; the exponentials of ``x`` are computed once."""
    # S uses expm1 and stays accurate down to tiny x; only x ≈ 0 itself needs the limit n.
    # dS/dx cancels badly for small x, so its series takes over earlier (it only steers Newton).
    tiny = np.abs(x) < 1e-12
    small = np.abs(x) < 1e-4
    em1 = np.expm1(-x)
    q = 1.0 + em1
    one_minus_q = np.where(tiny, 1.0, -em1)
    out = []
    for n in periods:
        emn = np.expm1(-x * n)
        qn = 1.0 + emn
        s = q * -emn / one_minus_q
        ds = -q * (1.0 - (n + 1.0) * qn + n * qn * q) / (one_minus_q * one_minus_q)
        if small.any():
            s = np.where(tiny, n - x * n * (n + 1.0) / 2.0, s)
            ds_series = -n * (n + 1.0) / 2.0 + x * n * (n + 1.0) * (2.0 * n + 1.0) / 6.0
            ds = np.where(small, ds_series, ds)
        out.append((s, ds, qn))
    return out


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


IRR_MAX_ITERATIONS = 20
"""Newton steps Excel's ``IRR`` takes before it gives up with ``#NUM!`` (Microsoft's IRR page:
"If IRR can't find a result that works after 20 tries, the #NUM! error value is returned")."""
IRR_TOLERANCE = 1e-7
"""Excel's ``IRR`` stops when the rate is "accurate within 0.00001 percent": a step below 1e-7."""


def excel_irr(values: Sequence[float] | NDArray[np.float64], guess: float = 0.1) -> float | None:
    """Excel's ``IRR(values, [guess])``: the rate Excel's own iteration lands on, or ``None``.

    The first value is at time 0 (undiscounted). Excel (and LibreOffice's ``IRR``, which follows
    it) runs Newton's method on ``NPV(r) = Σ v_t (1 + r)^−t`` starting from ``guess`` (default
    10 %) and returns the rate once a step is below :data:`IRR_TOLERANCE`, or ``#NUM!`` after
    :data:`IRR_MAX_ITERATIONS` steps. With several roots (flows that change sign more than once)
    the guess picks which one, exactly as in Excel. This function runs the same iteration; only
    when it has converged is the rate refined to full double precision, by a bracketed search
    confined to the 10⁻⁶-wide neighbourhood of the root Excel found — so it never returns a rate
    where Excel shows ``#NUM!``, and never a different root. ``None`` where Excel shows
    ``#NUM!``: no change of sign, or no convergence within 20 steps. Like Excel's and
    LibreOffice's, the iteration may land on a "rate" below −100 % (a root in 1 + r < 0).

    Examples
    --------
    Microsoft's documented example, ``IRR(-70000, 12000, 15000, 18000, 21000, 26000)``:

    >>> round(excel_irr([-70000, 12000, 15000, 18000, 21000, 26000]), 4)
    0.0866

    Flows with more than one root: Excel's root, and the guess steers as in Excel.

    >>> round(excel_irr([-100, 100, 0, -7]), 4)
    -0.0833
    >>> round(excel_irr([-5, 10.5, 1, -8, 1]), 4), round(excel_irr([-5, 10.5, 1, -8, 1], 0.5), 4)
    (0.0886, 0.7096)
    """
    v = np.asarray(values, dtype=np.float64)
    if not (np.any(v > 0) and np.any(v < 0)) or not np.all(np.isfinite(v)):
        return None
    t = np.arange(v.size, dtype=np.float64)

    def npv(r: float) -> tuple[float, float]:
        with np.errstate(all="ignore"):
            d = (1.0 + r) ** -t
            return float(np.sum(v * d)), float(np.sum(-t * v * d / (1.0 + r)))

    x, step = float(guess), math.inf
    for _ in range(IRR_MAX_ITERATIONS):
        y, dy = npv(x)
        if not (math.isfinite(y) and math.isfinite(dy)) or dy == 0.0:
            return None
        new = x - y / dy
        step, x = abs(new - x), new
        if step < IRR_TOLERANCE:
            break
    if not (step < IRR_TOLERANCE and math.isfinite(x)):
        return None
    return _refine(npv, x) if x > -1.0 else x


def _refine(npv: Callable[[float], tuple[float, float]], x: float) -> float:
    """The root next to ``x`` (within 10⁻⁶) to full precision: bisection with Newton steps."""
    width = 1e-6 * max(1.0, abs(x))
    lo, hi = max(x - width, 0.5 * (x - 1.0)), x + width
    f_lo, f_hi = npv(lo)[0], npv(hi)[0]
    if not f_lo * f_hi < 0:
        return x
    for _ in range(100):
        y, dy = npv(x)
        if y == 0.0:
            return x
        if (y > 0) == (f_lo > 0):
            lo = x
        else:
            hi = x
        newton = x - y / dy if dy else math.nan
        new = newton if lo < newton < hi else 0.5 * (lo + hi)
        if abs(new - x) <= 2e-16 * max(1.0, abs(x)):
            return new
        x = new
    return x


def solve_rate(
    f: _RateFunction,
    guess: Array,
    steepest: Array,
    *,
    lower: float = -0.99,
    upper: float = 1e9,
    max_iter: int = 100,
) -> Array:
    """Vectorised root of ``g(x) = 0`` in the log-rate ``x = ln(1 + r)``; returns the rates ``r``.

    ``f(x, rows)`` returns ``(g, dg / dx)`` of the elements ``rows`` at log-rates ``x`` (``x``
    and ``rows`` have the same length), where ``g`` decreases with a slope between
    ``−steepest`` and −1 everywhere: the log of the ratio of the present values of the positive
    and the negative flows, when every negative flow comes before every positive one (the slope
    is minus the difference of their mean times, which lies between 1 and the last month).
    One evaluation at the guess then brackets the root in closed form: with ``g0 = g(x0)`` it
    lies between ``x0 + g0 / steepest`` and ``x0 + g0``. Inside that bracket, intersected with
    ``[ln(1 + lower), ln(1 + upper)]``, the root is found by safeguarded Newton iteration
    ("rtsafe", Press et al., *Numerical Recipes*, section 9.4): a Newton step that leaves the
    bracket, or (after :data:`FREE_NEWTON_STEPS` steps) does not at least halve the previous
    step, is replaced by bisection. An element is done when its Newton step is below 1e-10 of
    ``max(1, |x|)`` — convergence is quadratic, so that last step leaves an error of the order
    of 1e-20 times the curvature, far below double precision — or when its bracket is a few
    units in the last place wide. Elements whose root lies outside ``[lower, upper]`` — or, in
    theory, still moving after ``max_iter`` steps — are NaN (Excel's ``#NUM!``). The default
    range, −99 % to 10⁹ a period, holds every rate a monthly business case produces. Only
    unconverged elements are iterated, in blocks of :data:`SOLVE_BLOCK`.
    """
    floor, ceiling = float(np.log1p(lower)), float(np.log1p(upper))
    out = np.full(guess.size, np.nan)
    for start in range(0, guess.size, SOLVE_BLOCK):
        rows = np.arange(start, min(start + SOLVE_BLOCK, guess.size))
        out[rows] = _solve_block(f, guess[rows], steepest[rows], rows, floor, ceiling, max_iter)
    return np.asarray(np.expm1(out), dtype=np.float64)


FREE_NEWTON_STEPS = 8
"""Newton steps that stay in the bracket are taken for this many iterations even when they do
not halve the previous one (Newton approaches a root from one side in shrinking steps, where
bisecting a wide bracket would throw the progress away); after that, rtsafe's rule applies."""

SOLVE_BLOCK = 1 << 15
"""Elements :func:`solve_rate` iterates on together: a block's temporaries stay in the cache."""


def _solve_block(
    f: _RateFunction,
    guess: Array,
    steepest: Array,
    rows: NDArray[np.intp],
    floor: float,
    ceiling: float,
    max_iter: int,
) -> Array:
    """:func:`solve_rate` on the elements ``rows``: their log-rates ``x``."""
    n = guess.size
    x0 = np.clip(np.log1p(guess), floor, ceiling)
    with np.errstate(all="ignore"):
        g0, dg0 = f(x0, rows)
        near, far = x0 + g0 / steepest, x0 + g0
    lo = np.where(g0 > 0, near, far)
    hi = np.where(g0 > 0, far, near)
    ok = np.isfinite(g0) & (lo <= ceiling) & (hi >= floor)
    lo, hi = np.maximum(lo, floor), np.minimum(hi, ceiling)
    out = np.full(n, np.nan)
    out[ok & (g0 == 0)] = x0[ok & (g0 == 0)]
    active = np.flatnonzero(ok & (g0 != 0))
    lo, hi = lo[active], hi[active]
    with np.errstate(all="ignore"):
        x = x0[active] - g0[active] / dg0[active]
    x = np.where((x > lo) & (x < hi), x, 0.5 * (lo + hi))
    step_before = hi - lo

    for step in range(max_iter):
        if active.size == 0:
            break
        with np.errstate(all="ignore"):
            y, dy = f(x, rows[active])
            positive = y > 0  # g decreases: left of the root
            lo = np.where(positive, x, lo)
            hi = np.where(positive, hi, x)
            newton_step = y / dy
        newton = x - newton_step
        done = (
            (y == 0)
            | (np.abs(newton_step) <= 1e-10 * np.maximum(1.0, np.abs(x)))
            | (hi - lo <= 4e-16 * np.maximum(1.0, np.abs(x)))
        )
        inside = (newton >= lo) & (newton <= hi)
        fast = inside & ((step < FREE_NEWTON_STEPS) | (2 * np.abs(newton_step) <= step_before))
        new = np.where(fast, newton, 0.5 * (lo + hi))
        # A Newton step past an end of the range tries that end (the root may lie beyond it).
        past_floor = ~fast & (newton < lo) & (lo == floor) & (x != lo)
        past_ceiling = ~fast & (newton > hi) & (hi == ceiling) & (x != hi)
        new = np.where(past_floor, floor, np.where(past_ceiling, ceiling, new))
        new = np.where(done, np.where((y == 0) | ~fast, x, newton), new)
        out[active[done]] = new[done]
        keep = ~done
        step_before = np.abs(new - x)[keep]
        active, x, lo, hi = active[keep], new[keep], lo[keep], hi[keep]
    # A root found at an end of the range is one only if g changes sign there (g > 0 at the
    # lower end, < 0 at the upper): otherwise the root lies outside the range.
    for end, sign in ((floor, 1.0), (ceiling, -1.0)):
        check = np.flatnonzero(np.abs(out - end) <= 1e-12 * max(1.0, abs(end)))
        if check.size:
            with np.errstate(all="ignore"):
                out[check[~(sign * f(np.full(check.size, end), rows[check])[0] >= 0)]] = np.nan
    return out
