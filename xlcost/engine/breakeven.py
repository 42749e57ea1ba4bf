"""Break-even by volume: where two options cost the same, and where an option's NPV is zero.

Volume moves more than the benefit. When an option's serving GPUs are sized from traffic
(``serve_gpus`` blank), its peak QPS scales in proportion to the volume, and so do the API
requests of a hosted-API option (``api_requests``, when given; blank already means "= volume")
and an owned fleet (``own_gpus``, in whole GPUs: the fleet is sized for the traffic). Every
other input stays as given. Total cost and NPV are then *piecewise linear* in the volume:
linear between the volumes at which the replica count or the fleet steps up (``ceil``), with a
jump at each.

The solver works segment by segment, exactly: it lists every step of every option in the range,
evaluates the engine at two points inside each segment (one vectorised call per option), and
solves the straight line there. A crossing that happens at a step (one option's cost jumps over
the other's) is reported as such, at the step's volume.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict

from xlcost.engine.compute import replicas
from xlcost.engine.errors import XlcostError
from xlcost.engine.evaluate import evaluate_columns, scenario_data, used_inputs
from xlcost.engine.model import Scenario

__all__ = [
    "MAX_STEPS",
    "Crossing",
    "NpvZero",
    "PairBreakEven",
    "VolumeBreakEven",
    "at_volume",
    "break_even_tables",
    "describe_crossings",
    "volume_break_even",
]

Array = NDArray[np.float64]

MAX_STEPS = 1_000_000
"""Most replica steps the solver walks through in one range (narrow the range beyond that)."""

DEFAULT_RANGE_FACTOR = 100.0
"""Default range: 0 to this many times the largest volume among the options."""


class Crossing(BaseModel):
    """One volume where an order changes: two options' costs, or an option's NPV and 0."""

    model_config = ConfigDict(frozen=True)

    volume: float
    kind: Literal["equal", "step"]
    """"equal": the two are equal at ``volume``; "step": a replica step at ``volume`` jumps one
    over the other (no volume has them exactly equal there)."""


class PairBreakEven(BaseModel):
    """Where options ``a`` and ``b`` cost the same within ``[0, max_volume]``."""

    model_config = ConfigDict(frozen=True)

    a: str
    b: str
    crossings: tuple[Crossing, ...]
    """In increasing volume; empty: the same one is cheaper (or they are equal) throughout."""
    cheaper_at_zero: str | None
    """The option cheaper just above volume 0 (``None``: equal)."""
    cheaper_at_max: str | None
    """The option cheaper at ``max_volume`` (``None``: equal)."""


class NpvZero(BaseModel):
    """Where one option's NPV is zero within ``[0, max_volume]``."""

    model_config = ConfigDict(frozen=True)

    option: str
    crossings: tuple[Crossing, ...]
    npv_at_max: float


class VolumeBreakEven(BaseModel):
    """Break-even volumes of a set of options (see :func:`volume_break_even`)."""

    model_config = ConfigDict(frozen=True)

    max_volume: float
    pairs: tuple[PairBreakEven, ...]
    npv_zero: tuple[NpvZero, ...]


def _scaled(s: Scenario) -> dict[str, float]:
    """Per unit of volume: the peak QPS and API requests that scale with it (0 = fixed)."""
    v0 = s.volume
    out = {"peak_qps": 0.0, "api_requests": 0.0, "own_gpus": 0.0}
    if v0 > 0:
        if s.peak_qps is not None:
            out["peak_qps"] = s.peak_qps / v0
        if s.api_requests is not None:
            out["api_requests"] = s.api_requests / v0
        out["own_gpus"] = s.own_gpus / v0
    return out


def _whole(x: Any) -> Any:
    """Whole GPUs for a fleet of ``x`` (rounded to 9 decimals first, as replicas are)."""
    return np.ceil(np.round(x, 9))


def at_volume(s: Scenario, volume: float) -> Scenario:
    """``s`` at another ``volume``, with its peak QPS and API requests scaled along.

    >>> from xlcost.engine.examples import seed_scenario
    >>> at_volume(seed_scenario(), 2e8).volume
    200000000.0
    """
    per_unit = _scaled(s)
    update: dict[str, float] = {"volume": float(volume)}
    for name, rate in per_unit.items():
        if rate:
            update[name] = rate * float(volume)
    if per_unit["own_gpus"]:
        update["own_gpus"] = float(_whole(update["own_gpus"]))
    return Scenario.model_validate(s.model_dump() | update)


def _results_at(s: Scenario, volumes: Array, result: str) -> Array:
    """One result of ``s`` at each of ``volumes`` (one vectorised evaluation)."""
    cols: dict[str, object] = dict(scenario_data(s))
    cols["volume"] = volumes
    per_unit = _scaled(s)
    for name, rate in per_unit.items():
        if rate:
            cols[name] = rate * volumes
    if per_unit["own_gpus"]:
        cols["own_gpus"] = _whole(cols["own_gpus"])
    return evaluate_columns(cols, validate=False, with_irr=False)[result]  # type: ignore[arg-type]


def _steps(s: Scenario, max_volume: float) -> Array:
    """Volumes in (0, max_volume) at which the replica count or the owned fleet of ``s`` may
    step up: each the largest volume still on the level below."""
    own = _scaled(s)["own_gpus"]
    out = [_unit_steps(s, own, max_volume, 0.0, lambda v: _whole(own * v))]
    if s.serve_gpus is not None or s.peak_qps is None:  # not sized from traffic: no steps
        return np.concatenate(out)
    qps = used_inputs(s)["qps_per_replica"]
    if qps:
        rate = _scaled(s)["peak_qps"]
        k = rate / (qps * s.target_utilization)  # replicas per unit volume

        def count(v: Array) -> Array:
            return np.asarray(replicas(rate * v, qps, s.target_utilization, s.min_replicas))

        out.append(_unit_steps(s, k, max_volume, s.min_replicas, count))
    return np.concatenate(out)


def _unit_steps(
    s: Scenario, k: float, max_volume: float, floor: float, count: Callable[[Array], Array]
) -> Array:
    """Where ``count(v)`` (≈ ``ceil(k·v)``, whole units as the engine rounds them) steps up
    from n to more, for whole n ≥ ``floor``, in (0, max_volume): the largest volume at which it
    is still n (the step itself is the next float)."""
    if not (k > 0 and math.isfinite(k)):
        return np.empty(0)
    count_max = math.floor(k * max_volume * (1 + 1e-7))
    if count_max > MAX_STEPS:
        raise XlcostError(
            f"{s.name}: {count_max:,} replica steps below volume {max_volume:g}; "
            "give a smaller --max-volume"
        )
    n = np.arange(1, count_max + 1, dtype=np.float64)
    n = n[n >= floor]
    steps = _last_below(count, n, n / k)
    return steps[(steps > 0) & (steps < max_volume)]


def _last_below(count: Callable[[Array], Array], n: Array, near: Array) -> Array:
    """For each level ``n``, the largest float ``v`` with ``count(v) ≤ n``, found next to
    ``near`` (within 1e-7 relative) by bisection on the floats themselves: exact, whatever the
    rounding of the count (``count`` is non-decreasing in ``v``)."""
    lo = (near * (1 - 1e-7)).view(np.int64)
    hi = (near * (1 + 1e-7)).view(np.int64)
    while np.any(hi - lo > 1):
        mid = lo + (hi - lo) // 2
        up = count(mid.view(np.float64)) > n
        hi = np.where(up, mid, hi)
        lo = np.where(up, lo, mid)
    return np.asarray(lo.view(np.float64))


def _crossings(
    f: Callable[[Array], Array], edges: Array
) -> tuple[tuple[Crossing, ...], float, float]:
    """Zeros of ``f``, linear inside each segment ``[edges[i], edges[i+1]]``.

    Returns the crossings in increasing volume, and ``f`` just above the first edge and at the
    last one.
    """
    lo, hi = edges[:-1], edges[1:]
    width = hi - lo
    x1, x2 = lo + width / 3.0, lo + 2.0 * width / 3.0
    y = f(np.concatenate([x1, x2]))
    y1, y2 = y[: lo.size], y[lo.size :]
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (y2 - y1) / (x2 - x1)
        start = y1 - slope * (x1 - lo)  # the segment's line at its left end (right limit)
        end = y2 + slope * (hi - x2)  # and at its right end (left limit)
        root = np.where(slope != 0, x1 - y1 / slope, np.nan)
    scale = np.maximum(np.abs(y1), np.abs(y2))
    found: list[Crossing] = []
    for i in range(lo.size):
        if i > 0:  # a jump at the step between segments i − 1 and i
            before, after = end[i - 1], start[i]
            flips = np.sign(before) != np.sign(after) and before != 0 and after != 0
            if flips and not (found and found[-1].volume == lo[i]):
                found.append(Crossing(volume=float(lo[i]), kind="step"))
        if slope[i] == 0:
            continue
        r = root[i]
        tol = 1e-12 * max(1.0, abs(hi[i]))
        if lo[i] - tol <= r <= hi[i] + tol and abs(start[i]) + abs(end[i]) > 1e-15 * scale[i]:
            r = float(min(max(r, lo[i]), hi[i]))
            if not (found and abs(found[-1].volume - r) <= tol):
                found.append(Crossing(volume=r, kind="equal"))
    return tuple(found), float(start[0]), float(end[-1])


def _segments(options: Sequence[Scenario], max_volume: float) -> Array:
    steps = [_steps(s, max_volume) for s in options]
    return np.unique(np.concatenate([[0.0, max_volume], *steps]))


def _cheaper(a: str, b: str, diff: float) -> str | None:
    return None if diff == 0 else (b if diff > 0 else a)


def volume_break_even(
    options: Sequence[Scenario], *, max_volume: float | None = None
) -> VolumeBreakEven:
    """For each pair of ``options`` the volumes at which they cost the same, and for each
    option the volumes at which its NPV is zero, within ``[0, max_volume]``.

    ``max_volume`` defaults to 100 × the largest volume among the options.

    Examples
    --------
    The worked example (BERT ranker) with a hosted API at 0.001 a request (1,000 tokens at 1 a
    million) against the same with a one-time set-up of 5,000: equal at 5,000,000 requests.

    >>> from xlcost.engine.examples import seed_scenario
    >>> base = seed_scenario().model_dump()
    >>> api = Scenario(**base | {"name": "api", "api_price_per_m_input_tokens": 1,
    ...                          "api_input_tokens_per_request": 1000})
    >>> own = Scenario(**base | {"name": "own", "setup_cost": 5000})
    >>> be = volume_break_even([api, own], max_volume=1e8)
    >>> [(round(c.volume, 6), c.kind) for c in be.pairs[0].crossings]
    [(5000000.0, 'equal')]
    >>> be.pairs[0].cheaper_at_zero, be.pairs[0].cheaper_at_max
    ('api', 'own')
    """
    if len(options) < 1:
        raise XlcostError("break-even needs at least one option")
    if max_volume is None:
        max_volume = DEFAULT_RANGE_FACTOR * max(s.volume for s in options)
    if not (math.isfinite(max_volume) and max_volume > 0):
        raise XlcostError(f"--max-volume must be a number > 0, got {max_volume:g}")
    pairs: list[PairBreakEven] = []
    for i, a in enumerate(options):
        for b in options[i + 1 :]:
            edges = _segments([a, b], max_volume)

            def diff(v: Array, a: Scenario = a, b: Scenario = b) -> Array:
                return _results_at(a, v, "total_cost") - _results_at(b, v, "total_cost")

            found, first, last = _crossings(diff, edges)
            pairs.append(
                PairBreakEven(
                    a=a.name,
                    b=b.name,
                    crossings=found,
                    cheaper_at_zero=_cheaper(a.name, b.name, first),
                    cheaper_at_max=_cheaper(a.name, b.name, last),
                )
            )
    zeros: list[NpvZero] = []
    for s in options:
        edges = _segments([s], max_volume)

        def npv(v: Array, s: Scenario = s) -> Array:
            return _results_at(s, v, "npv")

        found, _, last = _crossings(npv, edges)
        zeros.append(NpvZero(option=s.name, crossings=found, npv_at_max=last))
    return VolumeBreakEven(max_volume=max_volume, pairs=tuple(pairs), npv_zero=tuple(zeros))


def _volume(v: float) -> str:
    return f"{v:,.0f}"


def describe_crossings(crossings: Sequence[Crossing]) -> str:
    """The crossings in words: "never", or the first (and how many more, and the last).

    >>> describe_crossings(())
    'never'
    >>> describe_crossings((Crossing(volume=2.8e8, kind="step"),))
    '280,000,000 (at a capacity step)'
    """
    return _where(crossings)


def _where(crossings: Sequence[Crossing]) -> str:
    if not crossings:
        return "never"
    first = crossings[0]
    text = _volume(first.volume) + (" (at a capacity step)" if first.kind == "step" else "")
    if len(crossings) > 1:
        text += f"; {len(crossings) - 1} more, last {_volume(crossings[-1].volume)}"
    return text


def break_even_tables(
    be: VolumeBreakEven, table: Callable[[Sequence[Sequence[str]], Sequence[str]], str]
) -> str:
    """The break-even volumes as two text tables drawn by ``table(rows, header)``."""
    pairs = [
        [p.a, p.b, _where(p.crossings), p.cheaper_at_zero or "equal", p.cheaper_at_max or "equal"]
        for p in be.pairs
    ]
    zeros = [
        [z.option, _where(z.crossings), "positive" if z.npv_at_max > 0 else "negative"]
        for z in be.npv_zero
    ]
    head = (
        f"Break-even by volume, 0 to {_volume(be.max_volume)} (peak QPS, API requests and owned "
        "GPUs scale with volume)"
    )
    parts = [head]
    if pairs:
        header = ["option", "versus", "same cost at volume", "cheaper at 0", "cheaper at the top"]
        parts.append(table(pairs, header))
    parts.append("")
    parts.append(table(zeros, ["option", "NPV = 0 at volume", "NPV at the top"]))
    return "\n".join(parts)


def costs_at(options: Mapping[str, Scenario], volume: float) -> dict[str, float]:
    """Total cost of each option at ``volume`` (peak QPS and API requests scaled along)."""
    return {
        name: float(_results_at(s, np.array([float(volume)]), "total_cost")[0])
        for name, s in options.items()
    }
