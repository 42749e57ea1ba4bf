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
* :data:`PRICE_AGE_MONTHS` = 12: a cloud GPU list price older than a year is likely stale.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from xlcost.engine import compute
from xlcost.engine.catalog import Catalog, default_catalog
from xlcost.engine.evaluate import _columns, _resolved, derived_columns

__all__ = [
    "CHECKS",
    "HOURS_PER_MONTH",
    "MFU_LIMIT",
    "PEAK_TO_AVERAGE_LIMIT",
    "PRICE_AGE_MONTHS",
    "UPLIFT_LIMIT",
    "check_columns",
    "check_scenario",
]

MFU_LIMIT = 0.8
PEAK_TO_AVERAGE_LIMIT = 50.0
HOURS_PER_MONTH = 730.0
UPLIFT_LIMIT = 0.25
PRICE_AGE_MONTHS = 12

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
    name = "" if names is None else str(names[i])
    return f"the {name}'s" if name else fallback


def _times(ratio: float, limit: float) -> str:
    """``3.7×`` above 1, ``85 %`` between the limit and 1."""
    return f"{ratio:.1f}×" if ratio > 1 else f"{ratio:.0%}"


def _rows(mask: Any) -> list[int]:
    return [int(i) for i in np.flatnonzero(np.asarray(mask, dtype=bool))]


def _qps_flops(v: V, e: V, names: Mapping[str, Any]) -> list[tuple[int, str]]:
    per_gpu = v["qps_per_replica"] / e["gpus_per_replica"]
    tokens = v["tokens_per_item"] * v["items_per_request"] + v["output_tokens_per_request"]
    need = compute.infer_flops(v["model_params"], tokens) * per_gpu / 1e12
    ratio = need / v["serve_peak_tflops"]
    out = []
    for i in _rows(ratio > MFU_LIMIT):
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
    return out


def _qps_bandwidth(v: V, e: V, names: Mapping[str, Any]) -> list[tuple[int, str]]:
    per_gpu = v["qps_per_replica"] / e["gpus_per_replica"]
    steps = per_gpu * v["output_tokens_per_request"] / v["serve_batch"]
    need = steps * v["model_params"] * v["bytes_per_param"] / 1e12
    ratio = need / v["serve_memory_bandwidth_tbs"]
    out = []
    for i in _rows((v["output_tokens_per_request"] > 0) & (ratio > MFU_LIMIT)):
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
    return out


def _train_flops(v: V, e: V, names: Mapping[str, Any]) -> list[tuple[int, str]]:
    flops = compute.train_flops(v["model_params"], e["train_tokens"], v["flops_per_param_token"])
    per_gpu = flops / (v["train_gpus"] * v["train_hours"] * compute.SECONDS_PER_HOUR) / 1e12
    ratio = per_gpu / v["gpu_peak_tflops"]
    out = []
    for i in _rows((v["train_hours"] > 0) & (v["train_gpus"] > 0) & (ratio > MFU_LIMIT)):
        gpu = _gpu(names.get("train_gpu"), i, "the training GPU's")
        out.append(
            (
                i,
                f"train_hours {v['train_hours'][i]:,.4g} implies {per_gpu[i]:,.0f} TFLOP/s per "
                f"GPU (MFU {ratio[i]:.2f}), {_times(ratio[i], MFU_LIMIT)} {gpu} dense peak of "
                f"{v['gpu_peak_tflops'][i]:,.4g} (limit 0.8; PaLM 540B trained at 0.46)",
            )
        )
    return out


def _capacity(v: V, e: V, d: V) -> list[tuple[int, str]]:
    replicas = d["serve_gpus"] / e["gpus_per_replica"]
    capacity = replicas * e["qps_per_replica"] * v["serve_hours"] * compute.SECONDS_PER_HOUR
    out = []
    for i in _rows(capacity < v["volume"]):
        out.append(
            (
                i,
                f"serving capacity {capacity[i]:,.4g} requests ({d['serve_gpus'][i]:g} GPUs / "
                f"{e['gpus_per_replica'][i]:g} per replica × {e['qps_per_replica'][i]:,.4g} QPS × "
                f"{v['serve_hours'][i]:,.4g} h) is below volume {v['volume'][i]:,.4g} "
                "(capacity must cover the period's requests)",
            )
        )
    return out


def _peak_traffic(v: V) -> list[tuple[int, str]]:
    seconds = v["horizon_months"] * HOURS_PER_MONTH * compute.SECONDS_PER_HOUR
    average = v["volume"] / seconds
    ratio = v["peak_qps"] / average
    out = []
    low = (v["volume"] > 0) & (v["peak_qps"] < average)
    high = (v["volume"] > 0) & (ratio > PEAK_TO_AVERAGE_LIMIT)
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
    return out


def _serve_hours(v: V) -> list[tuple[int, str]]:
    limit = HOURS_PER_MONTH * v["horizon_months"]
    return [
        (
            i,
            f"serve_hours {v['serve_hours'][i]:,.4g} is above 24/7 for "
            f"{v['horizon_months'][i]:g} months ({limit[i]:,.0f} h = 730 h × months)",
        )
        for i in _rows(v["serve_hours"] > limit)
    ]


def _memory(v: V, e: V, names: Mapping[str, Any]) -> list[tuple[int, str]]:
    fit = np.asarray(
        compute.fit_gpus(v["model_params"], v["serve_memory_gb"], v["bytes_per_param"])
    )
    need_gb = compute.MEMORY_OVERHEAD * v["model_params"] * v["bytes_per_param"] / 1e9
    typed = v["gpus_per_replica"]
    holding = np.where(
        np.isnan(typed), np.where(np.isnan(v["serve_gpus"]), fit, v["serve_gpus"]), typed
    )
    short = (holding > 0) & (holding < fit)
    out = []
    for i in _rows(short):
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
    return out


def _latency(v: V, e: V) -> list[tuple[int, str]]:
    latency = e["latency_ms"] / e["gpus_per_replica"]
    return [
        (
            i,
            f"latency lower bound {latency[i]:,.4g} ms (batch 1, {e['gpus_per_replica'][i]:g} "
            f"GPU{'s' if e['gpus_per_replica'][i] != 1 else ''} per replica) is above "
            f"latency_slo_ms {v['latency_slo_ms'][i]:g}",
        )
        for i in _rows(latency > v["latency_slo_ms"])
    ]


def _uplift(v: V) -> list[tuple[int, str]]:
    new = v["ctr"] * v["cvr"]
    base = v["baseline_ctr"] * v["baseline_cvr"]
    up = new / base - 1
    return [
        (
            i,
            f"ctr × cvr {new[i]:.4g} is {up[i]:+.0%} conversions over the baseline's "
            f"{base[i]:.4g} (limit +25 %: online A/B tests of ranking models report a few percent)",
        )
        for i in _rows((base > 0) & (up > UPLIFT_LIMIT))
    ]


def _price_age(
    data: Mapping[str, Any], catalog: Catalog, today: dt.date, n: int
) -> list[tuple[int, str]]:
    limit = dt.date(today.year - 1, today.month, min(today.day, 28))
    out = []
    for gpu, price in (
        ("train_gpu", "train_price_per_gpu_hour"),
        ("serve_gpu", "serve_price_per_gpu_hour"),
    ):
        if gpu not in data:
            continue
        names = np.broadcast_to(np.asarray(data[gpu], dtype=object), (n,))
        typed = np.broadcast_to(np.asarray(data.get(price, np.nan), dtype=np.float64), (n,))
        for i in range(n):
            name = names[i]
            if not isinstance(name, str) or not name.strip() or not math.isnan(typed[i]):
                continue
            spec = catalog.get(name)
            if spec.price_as_of < limit:
                out.append(
                    (
                        i,
                        f"{price} {spec.price_per_hour:g} from the catalog ({spec.name}, as of "
                        f"{spec.price_as_of.isoformat()}) is more than 12 months old; refresh it",
                    )
                )
    return out


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
    cat = catalog or default_catalog()
    cols, n = _columns(data, cat)
    names = {
        k: np.broadcast_to(np.asarray(data[k], dtype=object), (n,))
        for k in ("train_gpu", "serve_gpu")
        if k in data
    }
    with np.errstate(all="ignore"):
        e = derived_columns(cols)
        d = _resolved(cols)
        found: list[tuple[int, str]] = []
        runs: list[Callable[[], list[tuple[int, str]]]] = [
            lambda: _qps_flops(cols, e, names),
            lambda: _qps_bandwidth(cols, e, names),
            lambda: _train_flops(cols, e, names),
            lambda: _capacity(cols, e, d),
            lambda: _peak_traffic(cols),
            lambda: _serve_hours(cols),
            lambda: _memory(cols, e, names),
            lambda: _latency(cols, e),
            lambda: _uplift(cols),
            lambda: _price_age(data, cat, today or dt.date.today(), n),
        ]
        for run in runs:
            found += run()
    out: list[list[str]] = [[] for _ in range(n)]
    for i, message in found:
        out[i].append(message)
    return out


def check_scenario(
    scenario: Any, *, catalog: Catalog | None = None, today: dt.date | None = None
) -> list[str]:
    """The warnings of one :class:`~xlcost.engine.model.Scenario`."""
    from xlcost.engine.evaluate import scenario_data

    return check_columns(scenario_data(scenario), catalog=catalog, today=today)[0]
