"""The cost model of the cost-accounting method for AI models in e-commerce search and
recommendation, as small, broadcasting functions.

Every function takes scalars or numpy arrays (any shapes numpy can broadcast) and returns a
numpy float64 scalar or array. Money is in the caller's currency; all amounts are totals over the
evaluation period unless a name says otherwise. Costs are positive numbers (a cost of 480 means
480 is spent); only :func:`roi` and cash-flow *nets* carry a sign.

These functions do arithmetic only. Domain checks (non-negative counts and prices, rates in
[0, 1]) belong to the caller: the scenario model (:mod:`xlcost.engine.model`) and the Excel
boundary (:mod:`xlcost.functions`) both check before calling, so a check is never paid twice.

Source: "电商搜索推荐场景下的AI大模型模型部署成本核算模型应用实践"
(applying a cost-accounting model to AI model deployment in e-commerce search and
recommendation), sections 4.2 (formulas) and 4.3 (worked example).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

Float = np.float64 | NDArray[np.float64]

__all__ = [
    "api_cost",
    "bcr",
    "benefit",
    "cost_per_1k",
    "data_cost",
    "deploy_cost",
    "gpu_value_left",
    "incident_cost",
    "infra_cost",
    "maintain_cost",
    "own_gpu_cost",
    "power_cost",
    "roi",
    "total_cost",
    "train_cost",
]


def _f(x: ArrayLike) -> NDArray[np.float64]:
    return np.asarray(x, dtype=np.float64)


def train_cost(
    gpus: ArrayLike,
    hours: ArrayLike,
    price_per_gpu_hour: ArrayLike,
    runs: ArrayLike = 1,
    overhead_rate: ArrayLike = 0,
) -> Float:
    """Training cost: ``C_train = gpus × hours × price × runs × (1 + overhead_rate)``.

    Parameters
    ----------
    gpus : GPUs used by one training run (count, ≥ 0).
    hours : wall-clock hours of one run (h, ≥ 0).
    price_per_gpu_hour : price of one GPU-hour (currency/GPU-h, ≥ 0).
    runs : full training runs paid for (count, ≥ 0; default 1).
    overhead_rate : storage, networking, failed jobs… as a fraction of GPU spend (≥ 0; default 0).

    Returns
    -------
    Cost in currency. Source, section 4.2: ``C_train = R_train × T_train × P_train``.

    Examples
    --------
    The worked example (BERT ranker), 32 GPUs × 3 h × $5:

    >>> float(train_cost(32, 3, 5))
    480.0
    >>> train_cost([32, 64], 3, 5, runs=2, overhead_rate=0.1).tolist()
    [1056.0, 2112.0]
    """
    return _f(gpus) * _f(hours) * _f(price_per_gpu_hour) * _f(runs) * (1.0 + _f(overhead_rate))


def deploy_cost(
    gpus: ArrayLike,
    hours: ArrayLike,
    price_per_gpu_hour: ArrayLike,
    overhead_rate: ArrayLike = 0,
) -> Float:
    """Deployment (serving) cost: ``C_deploy = gpus × hours × price × (1 + overhead_rate)``.

    Parameters
    ----------
    gpus : GPUs serving (count, ≥ 0).
    hours : hours each GPU serves in the period (h, ≥ 0; 24/7 is 730 h a month).
    price_per_gpu_hour : price of one GPU-hour (currency/GPU-h, ≥ 0).
    overhead_rate : load balancers, egress, … as a fraction of GPU spend (≥ 0; default 0).

    Returns
    -------
    Cost in currency. Source, section 4.2: ``C_deploy = R_deploy × C_deploy × P_deploy``.

    Examples
    --------
    >>> float(deploy_cost(1, 100, 0.1))
    10.0
    """
    return _f(gpus) * _f(hours) * _f(price_per_gpu_hour) * (1.0 + _f(overhead_rate))


def maintain_cost(
    months: ArrayLike,
    units_per_month: ArrayLike,
    price_per_unit: ArrayLike,
    fixed_per_month: ArrayLike = 0,
) -> Float:
    """Maintenance cost: ``C_maintain = months × (units_per_month × price_per_unit + fixed)``.

    Parameters
    ----------
    months : months of maintenance (≥ 0).
    units_per_month : effort per month, e.g. engineer-hours (units/month, ≥ 0).
    price_per_unit : price of one unit of effort (currency/unit, ≥ 0).
    fixed_per_month : fixed monthly fees, e.g. monitoring licences (currency/month, ≥ 0).

    Returns
    -------
    Cost in currency. Source, section 4.2: ``C_maintain = T_maintain × C_maintain × P_maintain``.

    Examples
    --------
    >>> float(maintain_cost(2, 100, 0.5))
    100.0
    """
    return _f(months) * (_f(units_per_month) * _f(price_per_unit) + _f(fixed_per_month))


def benefit(
    volume: ArrayLike,
    ctr: ArrayLike,
    cvr: ArrayLike,
    value_per_conversion: ArrayLike,
    baseline_ctr: ArrayLike = 0,
    baseline_cvr: ArrayLike = 0,
) -> Float:
    """Incremental benefit: ``B = volume × (ctr × cvr − baseline_ctr × baseline_cvr) × value``.

    With no baseline this is the source's ``B = r × c × P_recommend × N``. With a baseline it is the
    benefit *over the system the model replaces*, and is negative when the model is worse.

    Parameters
    ----------
    volume : requests or impressions in the period (count, ≥ 0).
    ctr, cvr : click-through and conversion rates of the new model (fractions in [0, 1]).
    value_per_conversion : value of one conversion (currency, ≥ 0).
    baseline_ctr, baseline_cvr : rates of the system it replaces (fractions in [0, 1]; default 0).

    Returns
    -------
    Benefit in currency over the period.

    Examples
    --------
    >>> round(float(benefit(1e8, 0.005, 0.003, 0.1)), 9)
    150.0
    """
    uplift = _f(ctr) * _f(cvr) - _f(baseline_ctr) * _f(baseline_cvr)
    return _f(volume) * uplift * _f(value_per_conversion)


def total_cost(train: ArrayLike, deploy: ArrayLike, maintain: ArrayLike) -> Float:
    """Total cost ``C = C_train + C_deploy + C_maintain`` (source, section 4.3).

    >>> float(total_cost(480, 10, 100))
    590.0
    """
    return _f(train) + _f(deploy) + _f(maintain)


def roi(benefit: ArrayLike, cost: ArrayLike) -> Float:
    """Return on investment ``ROI = (benefit − cost) / cost`` (a fraction; −0.746 is −74.6 %).

    The source calls ``B / C`` "ROI"; that ratio is :func:`bcr`. Cost must be > 0 (the caller
    checks); numpy gives ``inf``/``nan`` otherwise.

    >>> round(float(roi(150, 590)), 4)
    -0.7458
    """
    c = _f(cost)
    return (_f(benefit) - c) / c


def bcr(benefit: ArrayLike, cost: ArrayLike) -> Float:
    """Benefit-cost ratio ``BCR = benefit / cost``: the source's "cost-benefit ratio" R (4.3).

    >>> round(float(bcr(150, 590)), 4)
    0.2542
    """
    return _f(benefit) / _f(cost)


def cost_per_1k(total: ArrayLike, volume: ArrayLike) -> Float:
    """Total cost per 1,000 units of volume: ``1000 × total / volume`` (currency per 1k requests).

    >>> float(cost_per_1k(590, 1e8))
    0.0059
    """
    return 1000.0 * _f(total) / _f(volume)


# --- Every cost the method names, and the alternatives to renting GPUs ------------------------
# The cost-accounting method's steps name data collection and preparation (step 1); storage,
# network bandwidth, hardware purchase and software installation (step 2); update frequency and
# incident response and recovery (step 3). Each is one line below, linear in every input.

HOURS_PER_MONTH = 730.0
"""Average hours in a month (8,760 / 12): 24/7 serving for one month."""


def data_cost(prep: ArrayLike, refresh_per_month: ArrayLike, months: ArrayLike) -> Float:
    """Data cost: ``prep + refresh_per_month × months`` (one-time preparation plus refreshes).

    >>> float(data_cost(5000, 200, 12))
    7400.0
    """
    return _f(prep) + _f(refresh_per_month) * _f(months)


def infra_cost(
    months: ArrayLike,
    storage_gb: ArrayLike,
    storage_price_per_gb_month: ArrayLike,
    egress_gb_per_month: ArrayLike,
    egress_price_per_gb: ArrayLike,
    software_per_month: ArrayLike,
    setup: ArrayLike,
) -> Float:
    """Infrastructure: ``months × (storage × price + egress × price + software) + setup``.

    >>> round(float(infra_cost(12, 500, 0.023, 100, 0.09, 50, 2000)), 9)
    2846.0
    """
    per_month = (
        _f(storage_gb) * _f(storage_price_per_gb_month)
        + _f(egress_gb_per_month) * _f(egress_price_per_gb)
        + _f(software_per_month)
    )
    return _f(months) * per_month + _f(setup)


def incident_cost(
    months: ArrayLike,
    incidents_per_month: ArrayLike,
    hours_per_incident: ArrayLike,
    price_per_hour: ArrayLike,
) -> Float:
    """Incident response: ``months × incidents per month × hours each × price per hour``.

    >>> float(incident_cost(12, 2, 4, 100))
    9600.0
    """
    return _f(months) * _f(incidents_per_month) * _f(hours_per_incident) * _f(price_per_hour)


def gpu_value_left(
    gpus: ArrayLike,
    price: ArrayLike,
    months: ArrayLike,
    life_months: ArrayLike = 36,
    salvage_rate: ArrayLike = 0,
) -> Float:
    """Book value of owned GPUs after ``months``: straight-line from ``price`` to the salvage
    value ``salvage_rate × price`` over ``life_months``, then the salvage value.

    It is the purchase ``gpus × price`` less :func:`own_gpu_cost`, so purchase − value left
    is the cost exactly; ``life_months`` > 0 and ``salvage_rate`` in [0, 1] (the caller checks).

    >>> round(float(gpu_value_left(8, 30000, 12, 36)), 6)
    160000.0
    >>> round(float(gpu_value_left(8, 30000, 48, 36, 0.1)), 6)
    24000.0
    """
    cost = own_gpu_cost(gpus, price, months, life_months, salvage_rate)
    return _f(gpus) * _f(price) - cost


def own_gpu_cost(
    gpus: ArrayLike,
    price: ArrayLike,
    months: ArrayLike,
    life_months: ArrayLike = 36,
    salvage_rate: ArrayLike = 0,
) -> Float:
    """Cost of owning GPUs for ``months``: the purchase less the value left at the end
    (straight-line depreciation to salvage) —
    ``gpus × price × (1 − salvage_rate) × min(months, life_months) / life_months``.

    >>> float(own_gpu_cost(8, 30000, 12))   # a third of a 36-month life
    80000.0
    >>> float(own_gpu_cost(8, 30000, 48, 36, 0.1))   # past its life: down to salvage
    216000.0
    """
    used = np.minimum(_f(months), _f(life_months)) / _f(life_months)
    return _f(gpus) * _f(price) * (1.0 - _f(salvage_rate)) * used


def power_cost(
    gpus: ArrayLike,
    kw_per_gpu: ArrayLike,
    hours: ArrayLike,
    price_per_kwh: ArrayLike,
    pue: ArrayLike = 1.3,
) -> Float:
    """Electricity of owned GPUs: ``gpus × kW per GPU × PUE × hours × price per kWh``.

    PUE (power usage effectiveness) is the facility's power over the IT power, ≥ 1.

    >>> round(float(power_cost(8, 0.7, 8760, 0.10, 1.3)), 6)
    6377.28
    """
    return _f(gpus) * _f(kw_per_gpu) * _f(pue) * _f(hours) * _f(price_per_kwh)


def api_cost(
    requests: ArrayLike,
    input_tokens: ArrayLike,
    output_tokens: ArrayLike,
    price_per_m_input: ArrayLike,
    price_per_m_output: ArrayLike,
) -> Float:
    """Hosted model API: ``requests × (input tokens × input price + output tokens × output
    price) / 10⁶`` (prices per million tokens).

    >>> float(api_cost(1e6, 500, 20, 0.15, 0.60))
    87.0
    """
    per_request = _f(input_tokens) * _f(price_per_m_input) + _f(output_tokens) * _f(
        price_per_m_output
    )
    return _f(requests) * per_request / 1e6
