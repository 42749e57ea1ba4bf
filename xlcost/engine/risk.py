"""Decisions under uncertainty: input ranges, Monte Carlo percentiles, tornado and break-even.

Every numeric input may carry a range: ``NAME_low`` and ``NAME_high`` around the input itself
(the base value) and ``NAME_dist``, the shape of the range: ``triangular`` (the default; the base
is the most likely value), ``pert`` (a beta distribution with the base as its mode, weight 4) or
``uniform`` (the base does not matter). One missing side means that side is the base.

* :func:`simulate` draws every ranged input ``draws`` times and evaluates all draws through
  :func:`~xlcost.engine.evaluate.evaluate_columns` — the one array implementation of the model —
  in chunks of at most :data:`CHUNK_ROWS` rows, so memory stays bounded whatever the number of
  scenarios. Each input name has its own stream of uniform numbers (from a PCG64 generator keyed by
  the random seed and the name), turned into values by the inverse distribution function: the same
  random seed gives the same bytes, and several options share their draws of a shared input
  (common random numbers), so "the probability that option A is best" compares like with like.
* :func:`tornado` evaluates each ranged input at its low and at its high with the others at base.
* :func:`break_even` finds the value of one input at which the NPV is zero.

Whole-number inputs (``horizon_months``, ``maintain_months``) are drawn and then rounded to the
nearest whole number.

When the training hours are estimated (``train_hours`` blank) and ``mfu`` has no range of its own,
``mfu`` gets :data:`DEFAULT_MFU_RANGE` (0.3 to 0.5, triangular around the base; widened to include
the base): achieved MFU of large dense training runs is typically 0.3–0.5 (Chowdhery et al.,
"PaLM", 2022, appendix B), and an estimate of training time is only as good as that guess.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from xlcost.engine.errors import InputError, ScenarioErrors, XlcostError
from xlcost.engine.evaluate import evaluate_columns, resolve_gpus, scenario_data, used_inputs
from xlcost.engine.model import NUMERIC_INPUTS, WHOLE_INPUTS, Scenario, field_domain
from xlcost.engine.validate import parse_scenario

__all__ = [
    "BREAK_EVEN_INPUTS",
    "CHUNK_ROWS",
    "DEFAULT_DRAWS",
    "DEFAULT_MFU_RANGE",
    "DEFAULT_SEED",
    "DISTS",
    "LINEAR_INPUTS",
    "RANGE_SUFFIXES",
    "BreakEven",
    "Histogram",
    "InputRange",
    "OptionRisk",
    "Percentiles",
    "Ranges",
    "Simulation",
    "Tornado",
    "TornadoBar",
    "break_even",
    "break_evens",
    "effective_ranges",
    "linear_break_even",
    "parse_ranges",
    "ppf",
    "probe_value",
    "scenario_schema",
    "simulate",
    "solve_zero",
    "split_ranges",
    "tornado",
    "uniforms",
]

Dist = Literal["triangular", "pert", "uniform"]
DISTS: tuple[str, ...] = ("triangular", "pert", "uniform")
RANGE_SUFFIXES = ("_low", "_high", "_dist")
DEFAULT_DRAWS = 10_000
DEFAULT_SEED = 12345
MAX_DRAWS = 10_000_000
CHUNK_ROWS = 1 << 18
"""Rows evaluated at once (262,144): a few tens of MB of columns, whatever the run's size."""
SIM_RESULTS: tuple[str, ...] = ("total_cost", "npv", "roi")
DEFAULT_MFU_RANGE = (0.3, 0.5)
"""Range of ``mfu`` when the training hours are estimated and ``mfu`` has no range of its own."""
BREAK_EVEN_INPUTS: tuple[str, ...] = (
    "volume",
    "ctr",
    "cvr",
    "value_per_conversion",
    "train_price_per_gpu_hour",
    "serve_price_per_gpu_hour",
)
"""Inputs whose break-even (NPV = 0) value ``xlcost sensitivity`` reports."""
LINEAR_INPUTS: frozenset[str] = frozenset(BREAK_EVEN_INPUTS)
"""Inputs in which the NPV is affine (the others fixed): their break-even has a closed form."""
_HIST_BINS = 20


# --------------------------------------------------------------------------- ranges


class InputRange(BaseModel):
    """The range of one input: ``low ≤ base ≤ high`` and the shape of the distribution."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    low: float = Field(allow_inf_nan=False)
    high: float = Field(allow_inf_nan=False)
    dist: Dist = "triangular"

    @field_validator("dist", mode="before")
    @classmethod
    def _lower(cls, v: Any) -> Any:
        return v.strip().lower() if isinstance(v, str) else v

    @model_validator(mode="after")
    def _ordered(self) -> InputRange:
        if self.low > self.high:
            raise ValueError(f"low ({self.low:g}) must be ≤ high ({self.high:g})")
        return self


class Ranges(BaseModel):
    """The ranges of one scenario's inputs (input name → :class:`InputRange`).

    >>> Ranges(inputs={"ctr": InputRange(low=0.40, high=0.45)}).inputs["ctr"].dist
    'triangular'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    inputs: dict[str, InputRange] = Field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.inputs)


_NUMERIC = frozenset(NUMERIC_INPUTS)


def split_ranges(record: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Separate a raw scenario record into its inputs and its raw ranges.

    ``NAME_low``/``NAME_high``/``NAME_dist`` keys (NAME a numeric input) and mappings such as
    ``ctr: {low: 0.40, base: 0.42, high: 0.45}`` become ``{"ctr": {"low": 0.40, "high": 0.45}}``;
    the base stays the input. Blank values are dropped. Other keys are left to the scenario's
    own validation.

    >>> inputs, raw = split_ranges({"name": "x", "ctr": {"low": 0.4, "base": 0.42, "high": 0.45},
    ...                             "cvr_low": 0.02, "cvr_dist": "pert", "volume_high": None})
    >>> inputs
    {'name': 'x', 'ctr': 0.42}
    >>> raw
    {'ctr': {'low': 0.4, 'high': 0.45}, 'cvr': {'low': 0.02, 'dist': 'pert'}}
    """
    inputs: dict[str, Any] = {}
    raw: dict[str, dict[str, Any]] = {}
    for key, value in record.items():
        if key in _NUMERIC and not isinstance(value, Mapping):
            inputs[key] = value  # the common case: an input's value
            continue
        if isinstance(value, Mapping) and key in _NUMERIC:
            parts = {str(k).strip().lower(): v for k, v in value.items()}
            inputs[key] = parts.pop("base", None)
            kept = {k: v for k, v in parts.items() if v is not None and v != ""}
            if kept:
                raw.setdefault(key, {}).update(kept)
            continue
        for suffix in RANGE_SUFFIXES:
            name = key[: -len(suffix)] if key.endswith(suffix) else ""
            if name in _NUMERIC:
                if value is not None and value != "":
                    raw.setdefault(name, {})[suffix[1:]] = value
                break
        else:
            inputs[key] = value
    return inputs, raw


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def base_columns(scenario: Scenario) -> dict[str, float]:
    """The scenario's numeric inputs as :func:`evaluate_columns` takes them, GPU names resolved
    (catalog values filled in where blank); other blanks are ``nan``."""
    data = resolve_gpus(scenario_data(scenario))
    return {k: float(np.ravel(v)[0]) for k, v in data.items() if k in NUMERIC_INPUTS}


def base_value(
    scenario: Scenario, name: str, used: Mapping[str, float | None] | None = None
) -> float | None:
    """The value in effect of one input: typed, from the catalog, estimated or defaulted
    (``used``: :func:`~xlcost.engine.evaluate.used_inputs` of ``scenario``, if known);
    ``None`` when there is none."""
    return base_values(scenario, [name], used)[name]


def base_values(
    scenario: Scenario, names: Iterable[str], used: Mapping[str, float | None] | None = None
) -> dict[str, float | None]:
    """:func:`base_value` of several inputs; the scenario is evaluated (``used_inputs``) at
    most once, and only when one of them is not typed."""
    out = {n: None if (t := getattr(scenario, n)) is None else float(t) for n in names}
    if any(v is None for v in out.values()):
        known = used_inputs(scenario) if used is None else used
        out |= {n: known.get(n) for n, v in out.items() if v is None}
    return out


def parse_ranges(
    raw: Mapping[str, Mapping[str, Any]], scenario: Scenario, *, where: str | None = None
) -> Ranges:
    """Validate raw ranges (from :func:`split_ranges`) against their scenario.

    Each bound must be a number within the input's domain (the scenario with the input at that
    bound must be valid), ``low ≤ base ≤ high``, ``dist`` one of :data:`DISTS`; the input must
    have a base value. Every problem names ``NAME_low``, ``NAME_high`` or ``NAME_dist``.

    >>> from xlcost.engine.examples import seed_scenario
    >>> parse_ranges({"ctr": {"low": 0.006}}, seed_scenario(), where="a.csv row 2")
    Traceback (most recent call last):
    ...
    xlcost.engine.errors.ScenarioErrors: a.csv row 2, ctr_low: must be ≤ ctr (0.005), got 0.006
    """
    problems: list[InputError] = []
    out: dict[str, InputRange] = {}
    dumped = scenario.model_dump()
    bases = base_values(scenario, raw)
    for name, parts in raw.items():
        unknown = sorted(set(parts) - {"low", "high", "dist"})
        if unknown:
            problems.append(
                InputError(f"{name}.{unknown[0]}", "expected low, base, high or dist", where=where)
            )
            continue
        base = bases[name]
        if base is None:
            key = f"{name}_{next(iter(parts))}"
            problems.append(
                InputError(key, f"{name} is blank; a range needs a base value", where=where)
            )
            continue
        dist = parts.get("dist", "triangular")
        if not isinstance(dist, str) or dist.strip().lower() not in DISTS:
            problems.append(
                InputError(f"{name}_dist", f"must be one of {', '.join(DISTS)}", dist, where=where)
            )
            continue
        bounds: dict[str, float] = {}
        for side in ("low", "high"):
            if side not in parts:
                bounds[side] = float(base)
                continue
            x = _as_number(parts[side])
            if x is None:
                problems.append(
                    InputError(f"{name}_{side}", "must be a number", parts[side], where=where)
                )
                continue
            if side == "low" and x > base:
                problems.append(
                    InputError(f"{name}_low", f"must be ≤ {name} ({base:g})", x, where=where)
                )
                continue
            if side == "high" and x < base:
                problems.append(
                    InputError(f"{name}_high", f"must be ≥ {name} ({base:g})", x, where=where)
                )
                continue
            try:
                parse_scenario({**dumped, name: x})
            except ScenarioErrors as e:
                p = e.problems[0]
                reason = p.reason if p.field == name else f"makes {p.field} invalid: {p.reason}"
                problems.append(InputError(f"{name}_{side}", reason, x, where=where))
                continue
            bounds[side] = x
        if len(bounds) == 2:
            out[name] = InputRange(low=bounds["low"], high=bounds["high"], dist=dist)
    both = not problems and "maintain_months" in out and "horizon_months" in out
    if both and out["maintain_months"].high > out["horizon_months"].low:
        problems.append(
            InputError(
                "maintain_months_high",
                f"must be ≤ horizon_months_low ({out['horizon_months'].low:g})",
                out["maintain_months"].high,
                where=where,
            )
        )
    if problems:
        raise ScenarioErrors(problems)
    return Ranges(inputs=out)


def effective_ranges(scenario: Scenario, ranges: Ranges | None = None) -> Ranges:
    """``ranges`` plus the defaults: :data:`DEFAULT_MFU_RANGE` when the training hours are
    estimated and ``mfu`` has no range.

    >>> from xlcost.engine.examples import seed_scenario
    >>> effective_ranges(seed_scenario()).inputs   # train_hours given: no default
    {}
    """
    inputs = dict(ranges.inputs) if ranges is not None else {}
    if scenario.train_hours is None and "mfu" not in inputs:
        low, high = DEFAULT_MFU_RANGE
        inputs["mfu"] = InputRange(low=min(low, scenario.mfu), high=max(high, scenario.mfu))
    return Ranges(inputs=inputs)


# --------------------------------------------------------------------------- distributions


def uniforms(seed: int, name: str, start: int, count: int) -> NDArray[np.float64]:
    """Uniform numbers ``start .. start + count − 1`` of input ``name``'s stream for ``seed``.

    The stream is PCG64 keyed by ``(seed, crc32(name))``; one double uses one 64-bit output, so
    any chunk of the stream can be produced on its own and chunks join up exactly.

    >>> a = uniforms(1, "ctr", 0, 6)
    >>> bool((np.concatenate([uniforms(1, "ctr", 0, 2), uniforms(1, "ctr", 2, 4)]) == a).all())
    True
    """
    bits = np.random.PCG64(np.random.SeedSequence([int(seed), zlib.crc32(name.encode())]))
    if start:
        bits.advance(start)
    return np.random.Generator(bits).random(count)


_BETA_T = np.linspace(0.0, 1.0, (1 << 14) + 1)
_BETA_X = 0.5 * (1.0 - np.cos(np.pi * _BETA_T))
"""Grid of the beta tabulation: x = (1 − cos πt)/2, dense near 0 and 1 where the density of a
PERT range with its base near one end is steep."""


def _beta_ppf(u: NDArray[np.float64], a: float, b: float) -> NDArray[np.float64]:
    """Inverse of the beta(a, b) distribution function for a, b ≥ 1, by tabulation.

    The density is integrated over t on 16,385 points of the grid x = (1 − cos πt)/2
    (trapezoid rule, dx = (π/2) sin πt dt), and the inverse interpolated linearly; the tests
    hold it to scipy's beta within 1e-5 of the range's width.
    """
    x = _BETA_X
    with np.errstate(divide="ignore", invalid="ignore"):
        log_pdf = (a - 1.0) * np.log(x) + (b - 1.0) * np.log1p(-x)
    pdf = np.exp(np.nan_to_num(log_pdf, nan=-np.inf)) * np.sin(np.pi * _BETA_T)
    cdf = np.concatenate([[0.0], np.cumsum((pdf[1:] + pdf[:-1]) * 0.5)])
    cdf /= cdf[-1]
    return np.interp(u, cdf, x)


def ppf(
    u: NDArray[np.float64], low: float, base: float, high: float, dist: str = "triangular"
) -> NDArray[np.float64]:
    """Values of a ranged input at the probabilities ``u`` (the inverse distribution function).

    * ``uniform``: ``low + u (high − low)``;
    * ``triangular``: mode ``base``;
    * ``pert``: ``low + (high − low) · Beta(α, β)`` with ``α = 1 + 4 (base − low)/(high − low)``,
      ``β = 1 + 4 (high − base)/(high − low)`` (mean ``(low + 4 base + high) / 6``).

    A zero-width range gives the base exactly.

    >>> ppf(np.array([0.0, 0.5, 1.0]), 1.0, 2.0, 3.0).tolist()
    [1.0, 2.0, 3.0]
    """
    u = np.asarray(u, dtype=np.float64)
    width = high - low
    if width <= 0:
        return np.full(u.shape, float(base))
    if dist == "uniform":
        return np.minimum(low + u * width, high)
    if dist == "pert":
        alpha = 1.0 + 4.0 * (base - low) / width
        beta = 1.0 + 4.0 * (high - base) / width
        return np.clip(low + width * _beta_ppf(u, alpha, beta), low, high)
    if dist != "triangular":
        raise ValueError(f"dist must be one of {DISTS}, got {dist!r}")
    fc = (base - low) / width
    with np.errstate(invalid="ignore"):
        left = low + np.sqrt(u * width * (base - low))
        right = high - np.sqrt((1.0 - u) * width * (high - base))
    return np.clip(np.where(u < fc, left, right), low, high)


# --------------------------------------------------------------------------- Monte Carlo


class Percentiles(BaseModel):
    """P10, P50, P90 and mean of one result over the draws."""

    model_config = ConfigDict(frozen=True)

    p10: float | None
    p50: float | None
    p90: float | None
    mean: float | None


class Histogram(BaseModel):
    """Counts of the draws' NPV in equal bins between ``edges[0]`` and ``edges[-1]``."""

    model_config = ConfigDict(frozen=True)

    edges: tuple[float, ...]
    counts: tuple[int, ...]


class OptionRisk(BaseModel):
    """The Monte Carlo summary of one option."""

    model_config = ConfigDict(frozen=True)

    name: str
    stats: dict[str, Percentiles]
    prob_npv_positive: float
    prob_best: float | None = None
    """Probability that this option has the highest NPV of all options (``None``: one option).
    A tie goes to the option listed first."""
    ranged: tuple[str, ...] = ()
    """The inputs that were drawn (with the defaults of :func:`effective_ranges`)."""
    histogram: Histogram | None = None


class Simulation(BaseModel):
    """The result of :func:`simulate`."""

    model_config = ConfigDict(frozen=True)

    draws: int
    seed: int
    options: tuple[OptionRisk, ...]


def _block_stats(x: NDArray[np.float64]) -> list[Percentiles]:
    """:func:`_stats` of each row of ``x`` (one vectorised pass when every value is finite)."""
    if not np.isfinite(x).all():
        return [_stats(row) for row in x]
    p10, p50, p90 = np.percentile(x, [10.0, 50.0, 90.0], axis=1)
    mean = x.mean(axis=1)
    return [
        Percentiles(p10=float(a), p50=float(b), p90=float(c), mean=float(m))
        for a, b, c, m in zip(p10, p50, p90, mean, strict=True)
    ]


def _stats(x: NDArray[np.float64]) -> Percentiles:
    finite = x[np.isfinite(x)]
    if finite.size == 0:
        return Percentiles(p10=None, p50=None, p90=None, mean=None)
    p10, p50, p90 = np.percentile(finite, [10.0, 50.0, 90.0])
    return Percentiles(p10=float(p10), p50=float(p50), p90=float(p90), mean=float(finite.mean()))


def _histogram(x: NDArray[np.float64], bins: int) -> Histogram:
    finite = x[np.isfinite(x)]
    if finite.size == 0:
        return Histogram(edges=(), counts=())
    lo, hi = float(finite.min()), float(finite.max())
    if hi <= lo:
        hi = lo + max(abs(lo), 1.0) * 1e-9
    counts, edges = np.histogram(finite, bins=bins, range=(lo, hi))
    return Histogram(edges=tuple(map(float, edges)), counts=tuple(map(int, counts)))


def _blocks(n: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, n, size):
        yield start, min(n, start + size)


def simulate(
    scenarios: Scenario | Sequence[Scenario],
    ranges: Ranges | Sequence[Ranges | None] | None = None,
    *,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    results: Sequence[str] = SIM_RESULTS,
    chunk_rows: int = CHUNK_ROWS,
    histogram_bins: int = _HIST_BINS,
    progress: Callable[[int, int], None] | None = None,
) -> Simulation:
    """Monte Carlo over the inputs' ranges, through :func:`evaluate_columns`.

    Parameters
    ----------
    scenarios
        One scenario or several options.
    ranges
        Their ranges (one :class:`Ranges` per scenario, or one for a single scenario); the
        defaults of :func:`effective_ranges` are added.
    draws, seed
        Number of draws per scenario (1 to 10,000,000) and the random seed (≥ 0).
    results
        The results summarised (P10, P50, P90, mean); ``npv`` is always evaluated.
    chunk_rows
        At most this many rows are evaluated at once (memory bound).
    progress
        Called as ``progress(rows_done, rows_total)`` after each chunk.

    Examples
    --------
    >>> from xlcost.engine.examples import seed_scenario
    >>> s = seed_scenario()
    >>> r = Ranges(inputs={"volume": InputRange(low=0.5e8, high=1.5e8, dist="uniform")})
    >>> sim = simulate(s, r, draws=10_000, seed=1)
    >>> round(sim.options[0].stats["npv"].p50, -1)   # NPV = 1.5e-6 × volume − 590, volume ~ U
    -440.0
    """
    scns: list[Scenario] = [scenarios] if isinstance(scenarios, Scenario) else list(scenarios)
    if not scns:
        raise ValueError("simulate needs at least one scenario")
    if ranges is None or isinstance(ranges, Ranges):
        rngs: list[Ranges | None] = [ranges] * len(scns)
    else:
        rngs = list(ranges)
        if len(rngs) != len(scns):
            raise ValueError("one Ranges per scenario")
    if not (isinstance(draws, int) and 1 <= draws <= MAX_DRAWS):
        raise XlcostError(f"draws: must be a whole number from 1 to {MAX_DRAWS:,}, got {draws}")
    if not (isinstance(seed, int) and seed >= 0):
        raise XlcostError(f"seed: must be a whole number ≥ 0, got {seed}")
    wanted = tuple(dict.fromkeys([*results, "npv"]))
    eff = [effective_ranges(s, r) for s, r in zip(scns, rngs, strict=True)]
    bases = [base_columns(s) for s in scns]
    for b, e, s in zip(bases, eff, scns, strict=True):
        # a ranged input that was estimated: its estimate is the base
        estimated = base_values(s, [name for name in e.inputs if math.isnan(b[name])])
        b |= {name: v or 0.0 for name, v in estimated.items()}
    n = len(scns)
    d_chunk = max(1, min(draws, chunk_rows))
    k_block = max(1, chunk_rows // d_chunk)
    total_rows, done = n * draws, 0
    best_npv = np.full(draws, -np.inf) if n > 1 else None
    best_idx = np.zeros(draws, dtype=np.int64) if n > 1 else None
    summaries: list[OptionRisk] = []
    for b0, b1 in _blocks(n, k_block):
        k = b1 - b0
        ranged_names = sorted({name for e in eff[b0:b1] for name in e.inputs})
        samples = {r: np.empty((k, draws)) for r in wanted}
        for d0, d1 in _blocks(draws, d_chunk):
            m = d1 - d0
            cols: dict[str, Any] = {}
            for name in NUMERIC_INPUTS:
                base = np.array([bases[i][name] for i in range(b0, b1)])
                if name not in ranged_names:
                    cols[name] = np.repeat(base, m) if k > 1 else base
                    continue
                u = uniforms(seed, name, d0, m)
                col = np.empty((k, m))
                for j in range(k):
                    rng = eff[b0 + j].inputs.get(name)
                    if rng is None:
                        col[j] = base[j]
                    else:
                        col[j] = ppf(u, rng.low, base[j], rng.high, rng.dist)
                if name in WHOLE_INPUTS:
                    col = np.rint(col)
                cols[name] = col.reshape(-1)
            out = evaluate_columns(cols, validate=False, with_irr=False)
            for r in wanted:
                samples[r][:, d0:d1] = np.broadcast_to(out[r], (k * m,)).reshape(k, m)
            done += k * m
            if progress is not None:
                progress(done, total_rows)
        block_stats = {r: _block_stats(samples[r]) for r in results}
        for j in range(k):
            i = b0 + j
            npv = samples["npv"][j]
            if best_npv is not None and best_idx is not None:
                better = npv > best_npv
                best_npv = np.where(better, npv, best_npv)
                best_idx = np.where(better, i, best_idx)
            summaries.append(
                OptionRisk(
                    name=scns[i].name,
                    stats={r: block_stats[r][j] for r in results},
                    prob_npv_positive=float(np.mean(npv > 0)),
                    ranged=tuple(eff[i].inputs),
                    histogram=_histogram(npv, histogram_bins) if histogram_bins else None,
                )
            )
    if best_idx is not None:
        share = np.bincount(best_idx, minlength=n) / draws
        summaries = [o.model_copy(update={"prob_best": float(share[i])}) for i, o in
                     enumerate(summaries)]  # fmt: skip
    return Simulation(draws=draws, seed=seed, options=tuple(summaries))


# --------------------------------------------------------------------------- tornado


class TornadoBar(BaseModel):
    """One input of the tornado: the NPV at its low and at its high, the others at base."""

    model_config = ConfigDict(frozen=True)

    input: str
    low: float
    base: float
    high: float
    npv_low: float
    npv_high: float
    swing: float
    """``|npv_high − npv_low|``."""


class Tornado(BaseModel):
    """The tornado of one scenario: bars sorted by swing, largest first (ties: input order)."""

    model_config = ConfigDict(frozen=True)

    name: str
    npv_base: float
    bars: tuple[TornadoBar, ...]


def _npv_rows(scenario: Scenario, changes: Sequence[tuple[str, float]]) -> NDArray[np.float64]:
    """NPV of ``scenario`` with one input changed per row (``(name, value)``), in one call."""
    base = base_columns(scenario)
    n = len(changes)
    cols = {k: np.full(n, v) for k, v in base.items()}
    for i, (name, value) in enumerate(changes):
        cols[name][i] = value
    return evaluate_columns(cols, validate=False, with_irr=False)["npv"]


def tornado(scenario: Scenario, ranges: Ranges | None = None) -> Tornado:
    """Each ranged input at its low and its high, the others at base, sorted by NPV swing.

    Examples
    --------
    >>> from xlcost.engine.examples import seed_scenario
    >>> r = Ranges(inputs={"ctr": InputRange(low=0.004, high=0.006),
    ...                    "train_price_per_gpu_hour": InputRange(low=4, high=6)})
    >>> [(b.input, round(b.npv_low), round(b.npv_high)) for b in tornado(seed_scenario(), r).bars]
    [('train_price_per_gpu_hour', -344, -536), ('ctr', -470, -410)]
    """
    eff = effective_ranges(scenario, ranges)
    names = list(eff.inputs)
    bases = base_values(scenario, names)
    changes = [(n, v) for n in names for v in (eff.inputs[n].low, eff.inputs[n].high)]
    npv = _npv_rows(scenario, [("horizon_months", float(scenario.horizon_months)), *changes])
    bars = [
        TornadoBar(
            input=n,
            low=eff.inputs[n].low,
            base=float(bases[n]),  # type: ignore[arg-type]  # parse_ranges
            high=eff.inputs[n].high,
            npv_low=float(npv[1 + 2 * i]),
            npv_high=float(npv[2 + 2 * i]),
            swing=abs(float(npv[2 + 2 * i] - npv[1 + 2 * i])),
        )
        for i, n in enumerate(names)
    ]
    bars.sort(key=lambda b: -b.swing)  # stable: ties keep the input order
    return Tornado(name=scenario.name, npv_base=float(npv[0]), bars=tuple(bars))


# --------------------------------------------------------------------------- break-even

XTOL = 1e-12
"""Relative tolerance of the bracketed solver on the input (``|Δx| ≤ 1e-12 · max(1, |x|)``)."""


def solve_zero(
    f: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    lo: float,
    hi: float,
    *,
    xtol: float = XTOL,
    points: int = 64,
    max_iter: int = 60,
) -> float | None:
    """A root of ``f`` in ``[lo, hi]`` (``f`` vectorised), or ``None`` when ``f`` has the same
    strict sign at both ends.

    Each step evaluates ``f`` at ``points`` evenly spaced points of the bracket in one call and
    keeps the first sub-interval with a change of sign, so the bracket shrinks by a factor
    ``points − 1`` per step until it is narrower than ``xtol · max(1, |x|)``.

    >>> round(solve_zero(lambda x: x * x - 2.0, 0.0, 2.0), 12)
    1.414213562373
    """
    ends = f(np.array([lo, hi], dtype=np.float64))
    if ends[0] == 0:
        return lo
    if ends[1] == 0:
        return hi
    if not (np.isfinite(ends).all() and np.sign(ends[0]) != np.sign(ends[1])):
        return None
    for _ in range(max_iter):
        if hi - lo <= xtol * max(1.0, abs(lo), abs(hi)):
            break
        x = np.linspace(lo, hi, points)
        y = f(x)
        sign = np.sign(y)
        zero = np.flatnonzero(y == 0)
        if zero.size:
            return float(x[zero[0]])
        change = np.flatnonzero(sign[:-1] != sign[1:])
        if change.size == 0:  # not a continuous function on this bracket
            return None
        lo, hi = float(x[change[0]]), float(x[change[0] + 1])
    return 0.5 * (lo + hi)


class BreakEven(BaseModel):
    """The value of one input at which the NPV is zero (the others at base)."""

    model_config = ConfigDict(frozen=True)

    input: str
    base: float
    value: float | None
    """``None``: no value in the input's domain makes the NPV zero (see ``note``)."""
    method: Literal["closed form", "bracketed"]
    note: str


def _domain(name: str) -> tuple[float, float]:
    lower, _, upper = field_domain(name)
    return (-math.inf if lower is None else float(lower)), (
        math.inf if upper is None else float(upper)
    )


def _describe_domain(name: str) -> str:
    lower, inclusive, upper = field_domain(name)
    lo = "−∞" if lower is None else f"{lower:g}"
    hi = "∞" if upper is None else f"{upper:g}"
    return f"{'[' if inclusive else '('}{lo}, {hi}{']' if upper is not None else ')'}"


def probe_value(x0: float) -> float:
    """The second point of a closed-form break-even: ``x0 / 2`` (1 when ``x0`` is 0), inside
    the domain of every break-even input (all ≥ 0, rates ≤ 1), so a workbook's functions
    accept it too."""
    return x0 / 2 if x0 != 0 else 1.0


def linear_break_even(name: str, x0: float, y0: float, x1: float, y1: float) -> BreakEven:
    """The break-even of an input in which the NPV is affine, from the NPV at two values:
    ``x* = x0 − y0 (x1 − x0) / (y1 − y0)``, or "none in range" outside the input's domain."""
    lower, upper = _domain(name)
    slope = (y1 - y0) / (x1 - x0)
    if slope == 0 or not math.isfinite(slope):
        return BreakEven(
            input=name, base=x0, value=None, method="closed form",
            note=f"none in range: the NPV does not depend on {name}",
        )  # fmt: skip
    x = x0 - y0 / slope
    if lower <= x <= upper:
        return BreakEven(input=name, base=x0, value=float(x), method="closed form", note="")
    sign = "positive" if y0 > 0 else "negative"
    return BreakEven(
        input=name, base=x0, value=None, method="closed form",
        note=f"none in range: the NPV is {sign} for every {name} in {_describe_domain(name)}",
    )  # fmt: skip


def break_even(scenario: Scenario, name: str) -> BreakEven:
    """The value of ``name`` at which the NPV is zero, the other inputs at base.

    For :data:`LINEAR_INPUTS` (NPV affine in the input) the root is the closed form
    ``x* = x₀ − NPV(x₀) / slope`` with the slope from two evaluations; otherwise a bracketed
    search over the input's domain (:func:`solve_zero`, tolerance :data:`XTOL`). When the root
    lies outside the input's domain, or the NPV does not depend on the input, ``value`` is
    ``None`` and ``note`` says "none in range".

    Examples
    --------
    >>> from xlcost.engine.examples import seed_scenario
    >>> b = break_even(seed_scenario(), "volume")   # benefit 1.5e-6 per request, cost 590
    >>> round(b.value), b.method
    (393333333, 'closed form')
    """
    if name not in NUMERIC_INPUTS:
        raise XlcostError(f"{name}: not a numeric xlcost input")
    x0 = base_value(scenario, name)
    if x0 is None:
        raise XlcostError(f"{name}: blank in {scenario.name}; no break-even without a value")
    lower, upper = _domain(name)

    def npv(x: NDArray[np.float64]) -> NDArray[np.float64]:
        return _npv_rows(scenario, [(name, float(v)) for v in x])

    what = _describe_domain(name)
    if name in LINEAR_INPUTS:
        x1 = probe_value(x0)
        y0, y1 = npv(np.array([x0, x1]))
        return linear_break_even(name, x0, float(y0), x1, float(y1))
    lo = lower if math.isfinite(lower) else -1e12 * max(abs(x0), 1.0)
    hi = upper if math.isfinite(upper) else 1e12 * max(abs(x0), 1.0)
    if name in WHOLE_INPUTS:
        candidates = np.arange(max(lo, 0.0), min(hi, 600.0) + 1)
        y = npv(candidates)
        idx = np.flatnonzero(np.sign(y[:-1]) != np.sign(y[1:]))
        value = float(candidates[idx[0] + 1]) if idx.size else None
        note = "first whole number with the NPV's other sign" if value is not None else ""
        if value is None:
            note = f"none in range: the NPV keeps its sign for every {name} in {what}"
        return BreakEven(input=name, base=x0, value=value, method="bracketed", note=note)
    if field_domain(name)[1] is False:  # an open lower end: stay just inside it
        lo = lo + 1e-12 * max(1.0, abs(hi - lo))
    root = solve_zero(npv, lo, hi)
    if root is None:
        return BreakEven(
            input=name, base=x0, value=None, method="bracketed",
            note=f"none in range: the NPV keeps its sign for every {name} in {what}",
        )  # fmt: skip
    return BreakEven(
        input=name, base=x0, value=root, method="bracketed", note=f"tolerance {XTOL:g} relative"
    )


def break_evens(
    scenario: Scenario, names: Sequence[str] = BREAK_EVEN_INPUTS
) -> tuple[BreakEven, ...]:
    """:func:`break_even` for each of ``names`` (default :data:`BREAK_EVEN_INPUTS`); the closed
    forms of the :data:`LINEAR_INPUTS` among them from one evaluation of every input's two
    points (each row is evaluated on its own, so the values are :func:`break_even`'s).

    >>> from xlcost.engine.examples import seed_scenario
    >>> s = seed_scenario()
    >>> break_evens(s, ["volume", "ctr"]) == (break_even(s, "volume"), break_even(s, "ctr"))
    True
    """
    bases = base_values(scenario, [n for n in names if n in LINEAR_INPUTS])
    linear = [(n, x0, probe_value(x0)) for n, x0 in bases.items() if x0 is not None]
    points = [(n, x) for n, x0, x1 in linear for x in (x0, x1)]
    npv = _npv_rows(scenario, points) if points else np.empty(0)
    found = {
        n: linear_break_even(n, x0, float(npv[2 * i]), x1, float(npv[2 * i + 1]))
        for i, (n, x0, x1) in enumerate(linear)
    }
    return tuple(found[n] if n in found else break_even(scenario, n) for n in names)


# --------------------------------------------------------------------------- schema


def scenario_schema() -> dict[str, Any]:
    """The JSON Schema of one scenario record in a file: the inputs, and for each numeric input
    its range keys ``NAME_low``, ``NAME_high``, ``NAME_dist`` and the ``{low, base, high}`` form.

    >>> s = scenario_schema()["properties"]
    >>> s["ctr_dist"]["enum"], "anyOf" in s["ctr"]
    (['triangular', 'pert', 'uniform'], True)
    """
    schema = Scenario.model_json_schema()
    props: dict[str, Any] = schema["properties"]
    out: dict[str, Any] = {}
    for name, prop in props.items():
        if name not in NUMERIC_INPUTS:
            out[name] = prop
            continue
        plain = {k: v for k, v in prop.items() if k in ("type", "minimum", "maximum",
                 "exclusiveMinimum", "exclusiveMaximum", "anyOf")}  # fmt: skip
        label = prop.get("label", name)
        ranged = {
            "type": "object",
            "description": f"{label} as a range: base (the value), low, high and dist.",
            "properties": {
                "base": plain,
                "low": plain,
                "high": plain,
                "dist": {"enum": list(DISTS)},
            },
            "additionalProperties": False,
        }
        out[name] = {**prop, "anyOf": [*prop.get("anyOf", [plain]), ranged]}
        for key in ("type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            out[name].pop(key, None)
        for side in ("low", "high"):
            out[f"{name}_{side}"] = {
                **plain,
                "description": f"{side.capitalize()} end of the range of {name} "
                f"({'≤' if side == 'low' else '≥'} {name}).",
            }
        out[f"{name}_dist"] = {
            "enum": list(DISTS),
            "default": "triangular",
            "description": f"Distribution of {name} between its low and high.",
        }
    schema["properties"] = out
    return schema
