"""Resource allocation (step 5 of the cost-accounting method): rank the options, respect a
budget, name the pick; and find the cheapest catalog GPU for a training or serving requirement.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from xlcost.engine import compute, costs
from xlcost.engine.catalog import Catalog, default_catalog
from xlcost.engine.errors import XlcostError
from xlcost.engine.evaluate import evaluate_many
from xlcost.engine.model import Results, Scenario

__all__ = [
    "MAX_GPUS",
    "Comparison",
    "GpuOption",
    "RankedOption",
    "ServingRequirement",
    "TrainingRequirement",
    "cheapest_gpus",
    "comparability_warnings",
    "compare",
    "rank_results",
]


class RankedOption(BaseModel):
    """One option in a comparison, with its rank (1 = best NPV, ties broken by ROI)."""

    model_config = ConfigDict(frozen=True)

    rank: int
    within_budget: bool
    results: Results


class Comparison(BaseModel):
    """Options ranked best first, and the recommendation with its reason."""

    model_config = ConfigDict(frozen=True)

    by: Literal["npv", "roi"]
    budget: float | None
    options: tuple[RankedOption, ...]
    recommended: str | None
    reason: str
    warnings: tuple[str, ...] = ()
    """Why the ranking may mislead, e.g. options evaluated over different periods."""


def comparability_warnings(scenarios: Sequence[Scenario]) -> tuple[str, ...]:
    """Why NPVs of ``scenarios`` may not compare: different periods, discount rates, currencies."""
    out = []
    for field, what in (
        ("horizon_months", "periods"),
        ("discount_rate_annual", "discount rates"),
        ("currency", "currencies"),
    ):
        values = sorted({getattr(s, field) for s in scenarios})
        if len(values) > 1:
            shown = ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)
            out.append(
                f"the options use different {what} ({field}: {shown}); "
                "their NPVs are not directly comparable"
            )
    return tuple(out)


def _key(r: Results, by: str) -> tuple[float, float]:
    roi = -math.inf if r.roi is None else r.roi
    return (r.npv, roi) if by == "npv" else (roi, r.npv)


def compare(
    scenarios: Sequence[Scenario], *, budget: float | None = None, by: Literal["npv", "roi"] = "npv"
) -> Comparison:
    """Rank scenarios by NPV (ties by ROI) or by ROI (ties by NPV) and recommend one.

    The recommendation is the best-ranked option whose total cost is within ``budget`` (if
    given) and whose NPV is positive; if none qualifies, nothing is recommended and the reason
    says why — "do nothing" is a valid answer.

    Examples
    --------
    >>> from xlcost.engine.examples import load_example, COMPARISON
    >>> c = compare(load_example(COMPARISON), budget=1_000_000)
    >>> [o.results.name for o in c.options]
    ['BERT-base cross-encoder', '7B LLM reranker', 'GBDT baseline (LambdaMART)']
    >>> c.recommended
    'BERT-base cross-encoder'
    """
    if not scenarios:
        raise ValueError("compare needs at least one scenario")
    results: list[Results] = []
    for r in evaluate_many(list(scenarios)):  # one array evaluation of every option
        if isinstance(r, XlcostError):
            raise r
        results.append(r)
    return rank_results(results, budget=budget, by=by, warnings=comparability_warnings(scenarios))


def rank_results(
    results: Sequence[Results],
    *,
    budget: float | None = None,
    by: Literal["npv", "roi"] = "npv",
    warnings: tuple[str, ...] = (),
) -> Comparison:
    """:func:`compare` of scenarios already evaluated (``results``: their :func:`evaluate`)."""
    if not results:
        raise ValueError("compare needs at least one scenario")
    order = sorted(results, key=lambda r: _key(r, by), reverse=True)
    options = tuple(
        RankedOption(rank=i + 1, within_budget=budget is None or r.total_cost <= budget, results=r)
        for i, r in enumerate(order)
    )
    for o in options:
        if o.within_budget and o.results.npv > 0:
            cap = "" if budget is None else f" within the budget of {budget:,.2f}"
            best = "highest NPV" if by == "npv" else "highest ROI"
            reason = f"{o.results.name} has the {best}{cap} (NPV {o.results.npv:,.2f})."
            return Comparison(
                by=by,
                budget=budget,
                options=options,
                recommended=o.results.name,
                reason=reason,
                warnings=warnings,
            )
    affordable = [o for o in options if o.within_budget]
    if not affordable:
        reason = "No option fits the budget."
    elif budget is None:
        reason = "No option has a positive NPV; doing nothing is cheaper."
    else:
        reason = "No option within the budget has a positive NPV; doing nothing is cheaper."
    return Comparison(
        by=by,
        budget=budget,
        options=options,
        recommended=None,
        reason=reason,
        warnings=warnings,
    )


class TrainingRequirement(BaseModel):
    """Train ``flops`` of compute within ``deadline_hours``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    flops: float = Field(gt=0, allow_inf_nan=False, description="Training compute (FLOP).")
    deadline_hours: float = Field(gt=0, allow_inf_nan=False, description="Wall-clock limit (h).")
    mfu: float = Field(0.4, gt=0, le=1, description="Achieved fraction of peak.")


class ServingRequirement(BaseModel):
    """Serve ``peak_qps`` queries of ``flops_per_query`` each, for ``hours`` per GPU."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    peak_qps: float = Field(ge=0, allow_inf_nan=False, description="Peak queries per second.")
    flops_per_query: float = Field(gt=0, allow_inf_nan=False, description="FLOP per query.")
    hours: float = Field(ge=0, allow_inf_nan=False, description="Serving hours per GPU.")
    mfu: float = Field(0.3, gt=0, le=1, description="Achieved fraction of peak when serving.")
    target_utilization: float = Field(0.7, gt=0, le=1, description="Planned load at peak.")
    min_replicas: int = Field(1, ge=0, description="Floor on replicas.")
    model_memory_gb: float | None = Field(None, gt=0, description="Weights + cache per replica.")


class GpuOption(BaseModel):
    """One catalog GPU sized for a requirement, and what it costs."""

    model_config = ConfigDict(frozen=True)

    gpu: str
    gpus: int
    hours: float
    cost: float
    price_per_hour: float


MAX_GPUS = 10_000_000
"""The most GPUs :func:`cheapest_gpus` sizes a job for (far beyond any cluster built); a GPU
that would need more is left out, and a requirement no catalog GPU meets is refused."""


def _within_limit(gpus: float) -> bool:
    """Whether ``gpus`` is a number of GPUs :func:`cheapest_gpus` sizes for (not nan or inf)."""
    return gpus <= MAX_GPUS


def _ratio(a: float, b: float) -> float:
    """``a / b`` for positive numbers, ``inf`` where it overflows or ``b`` underflowed to 0."""
    try:
        return a / b
    except (OverflowError, ZeroDivisionError):
        return math.inf


def _training_option(
    req: TrainingRequirement, name: str, peak: float, price: float
) -> GpuOption | None:
    per_gpu = peak * 1e12 * req.mfu * compute.SECONDS_PER_HOUR  # FLOP one GPU does in an hour
    needed = _ratio(req.flops, per_gpu * req.deadline_hours)
    if not _within_limit(needed):
        return None
    gpus = max(1, math.ceil(round(needed, 9)))
    hours = req.flops / (gpus * per_gpu)
    return GpuOption(
        gpu=name,
        gpus=gpus,
        hours=hours,
        price_per_hour=price,
        cost=float(costs.train_cost(gpus, hours, price)),
    )


def _serving_option(
    req: ServingRequirement, name: str, peak: float, memory: float, price: float
) -> GpuOption | None:
    per_replica = 1.0 if req.model_memory_gb is None else req.model_memory_gb / memory
    if not _within_limit(per_replica):
        return None
    per_replica = math.ceil(per_replica)
    qps_per_replica = _ratio(per_replica * peak * 1e12 * req.mfu, req.flops_per_query)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        replicas = compute.replicas(
            req.peak_qps, qps_per_replica, req.target_utilization, req.min_replicas
        )
    total = float(np.asarray(replicas).item()) * per_replica
    if not _within_limit(total):
        return None
    gpus = int(total)
    return GpuOption(
        gpu=name,
        gpus=gpus,
        hours=req.hours,
        price_per_hour=price,
        cost=float(costs.deploy_cost(gpus, req.hours, price)),
    )


def cheapest_gpus(
    requirement: TrainingRequirement | ServingRequirement, catalog: Catalog | None = None
) -> list[GpuOption]:
    """Every catalog GPU sized to meet ``requirement``, cheapest first.

    Training: the fewest GPUs that finish ``flops`` by the deadline at ``mfu`` of peak.
    Serving: compute-bound replicas (``peak × mfu / flops_per_query`` queries/s per GPU), as many
    GPUs per replica as the model's memory needs, sized by :func:`compute.replicas`.
    A GPU that would need more than :data:`MAX_GPUS` is left out; if every one would, the
    requirement is refused with an :class:`~xlcost.engine.errors.XlcostError`.

    Examples
    --------
    BERT-base fine-tuning, 6·110e6·2e9 FLOP within 8 hours:

    >>> best = cheapest_gpus(TrainingRequirement(flops=6 * 110e6 * 2e9, deadline_hours=8))[0]
    >>> best.gpu, best.gpus, round(best.cost, 2)
    ('H100', 1, 3.5)
    """
    cat = catalog or default_catalog()
    if isinstance(requirement, TrainingRequirement):
        sized = [
            _training_option(requirement, g.name, g.peak_tflops, g.price_per_hour) for g in cat.gpus
        ]
    else:
        sized = [
            _serving_option(requirement, g.name, g.peak_tflops, g.memory_gb, g.price_per_hour)
            for g in cat.gpus
        ]
    options = [o for o in sized if o is not None]
    if not options:
        given = ", ".join(
            f"{k} {v:g}" for k, v in requirement.model_dump(exclude_none=True).items()
        )
        raise XlcostError(
            f"no catalog GPU meets the requirement with at most {MAX_GPUS:,} GPUs ({given})"
        )
    return sorted(options, key=lambda o: (o.cost, o.gpus))
