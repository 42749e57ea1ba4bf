"""Checks on hand-typed numbers: warnings (never errors) for assumptions that are implausible.

A finance user types ``qps_per_replica = 400`` or ``train_hours = 3`` because someone said so;
these checks recompute what such a number implies from the model's size, the tokens and the
GPU, and say when it exceeds what hardware can do, or when traffic, hours or uplifts fall
outside what is physically or commercially plausible. Every warning names the input, the number
it implies, the limit and where the limit comes from.

:func:`check_columns` works on the same columns as
:func:`~xlcost.engine.evaluate.evaluate_columns` (vectorised: one numpy expression per check;
text is built only for the rows a check flags), so ``calc``, ``compare``, ``validate`` and the
batch paths share it. The workbook's Checks sheet evaluates the same rules as native formulas.

Limits and their sources
------------------------
* :data:`MFU_LIMIT` = 0.8 of the dense peak (FLOP/s) or of the memory bandwidth: vendor-tuned
  benchmarks reach about 0.73 (NVIDIA's TensorRT BERT-base, A100-40GB, 8,045 sequences/s) and
  0.76 (Pope et al., "Efficiently Scaling Transformer Inference", MLSys 2023, PaLM 540B
  prefill); large training runs 0.46 (Chowdhery et al., "PaLM", 2022). Above 1 is impossible.
* :data:`PEAK_TO_AVERAGE_LIMIT` = 50: the peak of a daily and weekly traffic cycle is a small
  multiple of the average; 50× the average is a flash sale, not a design point.
* :data:`HOURS_PER_MONTH` = 730 (8,760 h / 12): 24/7 serving.
* :data:`UPLIFT_LIMIT` = +25 % conversions (ctr × cvr) over the baseline: published online A/B
  tests of new ranking models report gains of a few percent.
* :data:`PRICE_AGE_DAYS` = 365: a cloud GPU list price older than a year is likely stale.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from xlcost.engine import compute
from xlcost.engine.catalog import Catalog, active_catalog
from xlcost.engine.evaluate import _columns, _resolved, derived_columns

__all__ = [
    "CHECKS",
    "HOURS_PER_MONTH",
    "MFU_LIMIT",
    "PEAK_TO_AVERAGE_LIMIT",
    "PRICE_AGE_DAYS",
    "UPLIFT_LIMIT",
    "check_columns",
    "check_many",
    "check_scenario",
    "measure_columns",
]

MFU_LIMIT = 0.8
PEAK_TO_AVERAGE_LIMIT = 50.0
HOURS_PER_MONTH = 730.0
UPLIFT_LIMIT = 0.25

Array = NDArray[np.float64]
V = Mapping[str, Any]

CHECKS: dict[str, str] = {
    "qps_flops": "typed qps_per_replica within 0.8 of the serving GPU's dense peak FLOP/s",
    "qps_bandwidth": "typed qps_per_replica within 0.8 of the serving GPU's memory bandwidth",
    "train_flops": "typed train_hours within 0.8 of the training GPUs' dense peak FLOP/s",
    "capacity": "serving capacity (replicas × QPS × hours) covers the period's volume",
    "peak_traffic": "peak_qps between the average rate and 50× it",
    "serve_hours": "serve_hours at most 24/7 (730 h × months)",
    "memory": "the model fits the memory of the GPUs of a replica",
    "latency": "latency lower bound within latency_slo_ms",
    "uplift": "conversions (ctr × cvr) at most +25 % over the baseline",
    "price_age": "catalog prices in use at most 12 months old",
}
"""Check id → what it requires (the Checks sheet's rows, in this order)."""


def _gpu(names: NDArray[Any] | None, i: int, fallback: str) -> str:
    raw = None if names is None else names[i]
    name = raw.strip() if isinstance(raw, str) else ""
    return f"the {name}'s" if name else fallback


def _times(ratio: float, limit: float) -> str:
    """``3.7×`` above 1, ``85 %`` between the limit and 1."""
    return f"{ratio:.1f}×" if ratio > 1 else f"{ratio:.0%}"


def _rows(mask: Any) -> list[int]:
    return [int(i) for i in np.flatnonzero(np.asarray(mask, dtype=bool))]


Found = tuple[Any, Any, Any, list[tuple[int, str]]]
"""A check's outcome over the rows: (value, limit, fired, [(row, message)]); ``nan`` values
where the check does not apply."""


def _qps_flops(v: V, e: V, names: Mapping[str, Any]) -> Found:
    per_gpu = v["qps_per_replica"] / e["gpus_per_replica"]
    tokens = v["tokens_per_item"] * v["items_per_request"] + v["output_tokens_per_request"]
    need = compute.infer_flops(v["model_params"], tokens) * per_gpu / 1e12
    ratio = need / v["serve_peak_tflops"]
    fired = ratio > MFU_LIMIT
    out = []
    for i in _rows(fired):
        gpu = _gpu(names.get("serve_gpu"), i, "the serving GPU's")
        out.append(
            (
                i,
                f"qps_per_replica {v['qps_per_replica'][i]:,.4g} implies {need[i]:,.0f} TFLOP/s "
                f"per GPU, {_times(ratio[i], MFU_LIMIT)} {gpu} dense peak of "
                f"{v['serve_peak_tflops'][i]:,.4g} (limit 0.8 of peak: tuned benchmarks reach "
                "0.73, NVIDIA TensorRT BERT-base on A100)",
            )
        )
    return ratio, MFU_LIMIT, fired, out


def _qps_bandwidth(v: V, e: V, names: Mapping[str, Any]) -> Found:
    per_gpu = v["qps_per_replica"] / e["gpus_per_replica"]
    steps = per_gpu * v["output_tokens_per_request"] / v["serve_batch"]
    need = steps * v["model_params"] * v["bytes_per_param"] / 1e12
    ratio = np.where(
        v["output_tokens_per_request"] > 0, need / v["serve_memory_bandwidth_tbs"], np.nan
    )
    fired = ratio > MFU_LIMIT
    out = []
    for i in _rows(fired):
        gpu = _gpu(names.get("serve_gpu"), i, "the serving GPU's")
        out.append(
            (
                i,
                f"qps_per_replica {v['qps_per_replica'][i]:,.4g} with "
                f"{v['output_tokens_per_request'][i]:g} output tokens implies {need[i]:,.3g} TB/s "
                f"of weight reads per GPU, {_times(ratio[i], MFU_LIMIT)} {gpu} memory bandwidth "
                f"of {v['serve_memory_bandwidth_tbs'][i]:g} TB/s (limit 0.8 of bandwidth)",
            )
        )
    return ratio, MFU_LIMIT, fired, out


def _train_flops(v: V, e: V, names: Mapping[str, Any]) -> Found:
    flops = compute.train_flops(v["model_params"], e["train_tokens"], v["flops_per_param_token"])
    per_gpu = flops / (v["train_gpus"] * v["train_hours"] * compute.SECONDS_PER_HOUR) / 1e12
    ratio = np.where(
        (v["train_hours"] > 0) & (v["train_gpus"] > 0), per_gpu / v["gpu_peak_tflops"], np.nan
    )
    fired = ratio > MFU_LIMIT
    out = []
    for i in _rows(fired):
        gpu = _gpu(names.get("train_gpu"), i, "the training GPU's")
        out.append(
            (
                i,
                f"train_hours {v['train_hours'][i]:,.4g} implies {per_gpu[i]:,.0f} TFLOP/s per "
                f"GPU (MFU {ratio[i]:.2f}), {_times(ratio[i], MFU_LIMIT)} {gpu} dense peak of "
                f"{v['gpu_peak_tflops'][i]:,.4g} (limit 0.8; PaLM 540B trained at 0.46)",
            )
        )
    return ratio, MFU_LIMIT, fired, out


def _capacity(v: V, e: V, d: V) -> Found:
    replicas = d["serve_gpus"] / e["gpus_per_replica"]
    capacity = replicas * e["qps_per_replica"] * d["serve_hours"] * compute.SECONDS_PER_HOUR
    fired = capacity < v["volume"]
    out = []
    for i in _rows(fired):
        out.append(
            (
                i,
                f"serving capacity {capacity[i]:,.4g} requests ({d['serve_gpus'][i]:g} GPUs / "
                f"{e['gpus_per_replica'][i]:g} per replica × {e['qps_per_replica'][i]:,.4g} QPS × "
                f"{d['serve_hours'][i]:,.4g} h) is below volume {v['volume'][i]:,.4g} "
                "(capacity must cover the period's requests)",
            )
        )
    return capacity, v["volume"], fired, out


def _peak_traffic(v: V) -> Found:
    seconds = v["horizon_months"] * HOURS_PER_MONTH * compute.SECONDS_PER_HOUR
    average = v["volume"] / seconds
    ratio = np.where(v["volume"] > 0, v["peak_qps"] / average, np.nan)
    low = ratio < 1
    high = ratio > PEAK_TO_AVERAGE_LIMIT
    out = []
    for i in _rows(low | high):
        where = (
            f"is below the average rate of {average[i]:,.4g} queries/s"
            if low[i]
            else f"is {ratio[i]:,.0f}× the average rate of {average[i]:,.4g} queries/s"
        )
        out.append(
            (
                i,
                f"peak_qps {v['peak_qps'][i]:,.4g} {where} (volume {v['volume'][i]:,.4g} over "
                f"{v['horizon_months'][i]:g} × 730 h; plausible: 1× to 50× the average)",
            )
        )
    return ratio, PEAK_TO_AVERAGE_LIMIT, low | high, out


def _serve_hours(v: V) -> Found:
    limit = HOURS_PER_MONTH * v["horizon_months"]
    fired = v["serve_hours"] > limit
    out = [
        (
            i,
            f"serve_hours {v['serve_hours'][i]:,.4g} is above 24/7 for "
            f"{v['horizon_months'][i]:g} months ({limit[i]:,.0f} h = 730 h × months)",
        )
        for i in _rows(fired)
    ]
    return v["serve_hours"], limit, fired, out


def _memory(v: V, e: V, names: Mapping[str, Any]) -> Found:
    fit = np.asarray(
        compute.fit_gpus(v["model_params"], v["serve_memory_gb"], v["bytes_per_param"])
    )
    need_gb = compute.MEMORY_OVERHEAD * v["model_params"] * v["bytes_per_param"] / 1e9
    typed = v["gpus_per_replica"]
    holding = np.where(
        np.isnan(fit),
        np.nan,
        np.where(np.isnan(typed), np.where(np.isnan(v["serve_gpus"]), fit, v["serve_gpus"]), typed),
    )
    fired = (holding > 0) & (holding < fit)
    out = []
    for i in _rows(fired):
        gpu = _gpu(names.get("serve_gpu"), i, "the serving GPU's")
        which = "gpus_per_replica" if not math.isnan(typed[i]) else "serve_gpus"
        out.append(
            (
                i,
                f"{which} {holding[i]:g}: model_params {v['model_params'][i]:,.4g} at "
                f"{v['bytes_per_param'][i]:g} bytes needs {need_gb[i]:,.4g} GB, more than "
                f"{holding[i]:g} × {gpu} {v['serve_memory_gb'][i]:g} GB (needs {fit[i]:g} GPUs; "
                "weights + 20 %, EleutherAI 'Transformer Math 101')",
            )
        )
    return holding, fit, fired, out


def _latency(v: V, e: V) -> Found:
    latency = np.where(
        np.isnan(v["latency_slo_ms"]), np.nan, e["latency_ms"] / e["gpus_per_replica"]
    )
    fired = latency > v["latency_slo_ms"]
    out = [
        (
            i,
            f"latency lower bound {latency[i]:,.4g} ms (batch 1, {e['gpus_per_replica'][i]:g} "
            f"GPU{'s' if e['gpus_per_replica'][i] != 1 else ''} per replica) is above "
            f"latency_slo_ms {v['latency_slo_ms'][i]:g}",
        )
        for i in _rows(fired)
    ]
    return latency, v["latency_slo_ms"], fired, out


def _uplift(v: V) -> Found:
    new = v["ctr"] * v["cvr"]
    base = v["baseline_ctr"] * v["baseline_cvr"]
    up = np.where(base > 0, new / base - 1, np.nan)
    fired = up > UPLIFT_LIMIT
    out = [
        (
            i,
            f"ctr × cvr {new[i]:.4g} is {up[i]:+.0%} conversions over the baseline's "
            f"{base[i]:.4g} (limit +25 %: online A/B tests of ranking models report a few percent)",
        )
        for i in _rows(fired)
    ]
    return up, UPLIFT_LIMIT, fired, out


PRICE_AGE_DAYS = 365


PRICE_KINDS = ("serving", "training", "purchase", "api")
"""The catalog prices a scenario can use, in the Checks sheet's order of their ages."""


def prices_in_use(
    data: Mapping[str, Any], catalog: Catalog, n: int
) -> dict[str, list[tuple[dt.date, str] | None]]:
    """Kind (:data:`PRICE_KINDS`) → per row, the as-of date and a description of the catalog
    price the row uses, or None: the on-demand price of a named GPU whose price is blank (or
    the mean of the offers on ``serve_term``), an owned GPU's purchase price by ``serve_gpu``
    when blank (with ``own_gpus`` > 0), and ``api_model``'s prices when one of them is blank.

    Each distinct name (or GPU and term) is looked up once, whatever the number of rows.

    >>> from xlcost.engine.catalog import default_catalog
    >>> found = prices_in_use({"serve_gpu": "H100", "serve_term": "reserved_1y"},
    ...     default_catalog(), 1)
    >>> found["serving"][0][0], found["serving"][0][1].endswith("(H100 reserved_1y")
    (datetime.date(2026, 4, 2), True)
    """

    def names(key: str) -> NDArray[np.object_]:
        raw = np.asarray(data.get(key, ""), dtype=object)
        values = raw.ravel().tolist()
        stripped = {v: v.strip() if isinstance(v, str) else "" for v in dict.fromkeys(values)}
        out = np.empty(len(values), dtype=object)
        out[:] = list(map(stripped.__getitem__, values))
        return np.broadcast_to(out.reshape(raw.shape), (n,))

    def blank(key: str) -> NDArray[np.bool_]:
        typed = np.asarray(data.get(key, np.nan), dtype=np.float64)
        return np.broadcast_to(np.isnan(typed), (n,))

    def on_demand(price: str, gpu: str) -> tuple[dt.date, str]:
        spec = catalog.get(gpu)
        return spec.price_as_of, f"{price} {spec.price_per_hour:g} from the catalog ({spec.name}"

    def on_term(gpu: str, term: str) -> tuple[dt.date, str]:
        if not term:
            return on_demand("serve_price_per_gpu_hour", gpu)
        mean, as_of = catalog.prices.offer_price(gpu, term)
        return as_of, f"serve_price_per_gpu_hour {mean:g} from the price catalog ({gpu} {term}"

    def bought(gpu: str) -> tuple[dt.date, str] | None:
        try:
            entry = catalog.prices.purchase(gpu)
        except KeyError:
            return None
        if entry.purchase_price is None or not entry.price_as_of:
            return None
        text = f"gpu_purchase_price {entry.purchase_price:g} from the price catalog ({entry.gpu}"
        return entry.price_as_of, text

    def api_prices(model: str) -> tuple[dt.date, str]:
        a = catalog.prices.api(model, model_only=True)
        text = (
            f"API prices {a.price_per_m_input_tokens:g} / {a.price_per_m_output_tokens:g} "
            f"per M tokens from the price catalog ({a.provider} {a.model}"
        )
        return a.price_as_of, text

    train, serve, term, api = (
        names(k) for k in ("train_gpu", "serve_gpu", "serve_term", "api_model")
    )
    own = np.broadcast_to(np.asarray(data.get("own_gpus", 0.0), dtype=np.float64), (n,))
    api_blank = blank("api_price_per_m_input_tokens") | blank("api_price_per_m_output_tokens")
    uses: dict[str, tuple[NDArray[np.bool_], Callable[..., Any], list[NDArray[np.object_]]]] = {
        "serving": (blank("serve_price_per_gpu_hour") & (serve != ""), on_term, [serve, term]),
        "training": (
            blank("train_price_per_gpu_hour") & (train != ""),
            functools.partial(on_demand, "train_price_per_gpu_hour"),
            [train],
        ),
        "purchase": (blank("gpu_purchase_price") & (serve != "") & (own > 0), bought, [serve]),
        "api": (api_blank & (api != ""), api_prices, [api]),
    }
    out: dict[str, list[tuple[dt.date, str] | None]] = {}
    for kind, (mask, look_up, keys) in uses.items():
        found: list[tuple[dt.date, str] | None] = [None] * n
        rows = np.flatnonzero(mask).tolist()
        if rows:
            known: dict[tuple[str, ...], tuple[dt.date, str] | None] = {}
            row_keys = zip(*(k[rows].tolist() for k in keys), strict=True)
            for i, key in zip(rows, row_keys, strict=True):
                if key not in known:
                    known[key] = look_up(*key)
                found[i] = known[key]
        out[kind] = found
    return {k: out[k] for k in PRICE_KINDS}


def _price_age(data: Mapping[str, Any], catalog: Catalog, today: dt.date, n: int) -> Found:
    oldest = np.full(n, np.nan)
    out = []
    for rows in prices_in_use(data, catalog, n).values():
        used = [(i, u) for i, u in enumerate(rows) if u is not None]
        if not used:
            continue
        age_of = {u: float((today - u[0]).days) for u in dict.fromkeys(u for _, u in used)}
        idx = np.array([i for i, _ in used])
        ages = np.array([age_of[u] for _, u in used])
        oldest[idx] = np.fmax(oldest[idx], ages)
        for i, (as_of, text) in used:
            if age_of[as_of, text] > PRICE_AGE_DAYS:
                out.append(
                    (
                        i,
                        f"{text}, as of {as_of.isoformat()}) is {age_of[as_of, text]:,.0f} days "
                        "old, more than 12 months (365 days); refresh it",
                    )
                )
    out.sort(key=lambda x: x[0])
    return oldest, float(PRICE_AGE_DAYS), oldest > PRICE_AGE_DAYS, out


def _all(
    data: Mapping[str, Any], catalog: Catalog | None, today: dt.date | None
) -> tuple[int, dict[str, Found]]:
    cat = catalog or active_catalog()
    cols, n = _columns(data, cat)
    names = {
        k: np.broadcast_to(np.asarray(data[k], dtype=object), (n,))
        for k in ("train_gpu", "serve_gpu")
        if k in data
    }
    with np.errstate(all="ignore"):
        e = derived_columns(cols, with_latency=True)
        d = _resolved(cols, e)
        found = {
            "qps_flops": _qps_flops(cols, e, names),
            "qps_bandwidth": _qps_bandwidth(cols, e, names),
            "train_flops": _train_flops(cols, e, names),
            "capacity": _capacity(cols, e, d),
            "peak_traffic": _peak_traffic(cols),
            "serve_hours": _serve_hours({**cols, "serve_hours": d["serve_hours"]}),
            "memory": _memory(cols, e, names),
            "latency": _latency(cols, e),
            "uplift": _uplift(cols),
            "price_age": _price_age(data, cat, today or dt.date.today(), n),
        }
    return n, found


def measure_columns(
    data: Mapping[str, Any],
    *,
    catalog: Catalog | None = None,
    today: dt.date | None = None,
) -> dict[str, tuple[Any, Any, Any]]:
    """Check id → (value, limit, fired) arrays over the rows, as the Checks sheet shows them.

    ``value`` is ``nan`` where the check does not apply. Values: a fraction of the peak
    (``qps_flops``, ``qps_bandwidth``, ``train_flops``), requests (``capacity``, limit the
    volume), the peak-to-average ratio (``peak_traffic``, fired below 1 or above 50), hours,
    GPUs holding a copy of the model (``memory``, limit the GPUs needed), milliseconds, the
    uplift fraction, the age in days of the oldest catalog price in use (``price_age``, limit
    365).
    """
    n, found = _all(data, catalog, today)
    return {
        k: (
            np.broadcast_to(np.asarray(v, dtype=np.float64), (n,)),
            np.broadcast_to(np.asarray(lim, dtype=np.float64), (n,)),
            np.broadcast_to(np.asarray(f, dtype=bool), (n,)),
        )
        for k, (v, lim, f, _) in found.items()
    }


def check_columns(
    data: Mapping[str, Any],
    *,
    catalog: Catalog | None = None,
    today: dt.date | None = None,
) -> list[list[str]]:
    """The warnings of every row: one list of messages per row (empty = all checks pass).

    Parameters
    ----------
    data
        The inputs, as :func:`~xlcost.engine.evaluate.evaluate_columns` takes them (GPU names
        included), already valid.
    catalog
        Where GPU names are looked up (default: the packaged catalog).
    today
        The date prices are aged against (default: today).

    Examples
    --------
    BERT-base at 400 QPS per L4 scoring 50 candidates of 128 tokens:

    >>> rows = check_columns({"horizon_months": 12, "train_gpus": 8, "train_hours": 6,
    ...     "train_price_per_gpu_hour": 1.48, "serve_hours": 8760, "serve_gpu": "L4",
    ...     "serve_price_per_gpu_hour": 0.7992, "peak_qps": 60, "qps_per_replica": 400,
    ...     "model_params": 110e6, "tokens_per_item": 128, "items_per_request": 50,
    ...     "maintain_units_per_month": 80, "maintain_price_per_unit": 100, "volume": 6e8,
    ...     "ctr": 0.42, "cvr": 0.031, "value_per_conversion": 8})
    >>> rows[0][0].split(" (limit")[0]
    "qps_per_replica 400 implies 563 TFLOP/s per GPU, 4.7× the L4's dense peak of 121"
    """
    n, found = _all(data, catalog, today)
    out: list[list[str]] = [[] for _ in range(n)]
    for _, _, _, messages in found.values():
        for i, message in messages:
            out[i].append(message)
    return out


def check_many(
    scenarios: list[Any], *, catalog: Catalog | None = None, today: dt.date | None = None
) -> list[list[str]]:
    """:func:`check_scenario` of many scenarios in one vectorised :func:`check_columns` call."""
    from xlcost.engine.evaluate import scenario_data

    if not scenarios:
        return []
    rows = [scenario_data(s) for s in scenarios]
    data = {k: [r[k] for r in rows] for k in rows[0]}
    return check_columns(data, catalog=catalog, today=today)


def check_scenario(
    scenario: Any, *, catalog: Catalog | None = None, today: dt.date | None = None
) -> list[str]:
    """The warnings of one :class:`~xlcost.engine.model.Scenario`."""
    from xlcost.engine.evaluate import scenario_data

    return check_columns(scenario_data(scenario), catalog=catalog, today=today)[0]
