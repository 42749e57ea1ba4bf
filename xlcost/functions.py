"""The Excel-visible functions, as plain Python: one registry, Excel errors as values.

This module is the single source for every function Excel users call (SPEC §3): its Excel name,
argument names and order, defaults, wizard descriptions, the Python implementation, and the
equivalent *native* Excel formula used by the portable template. :mod:`xlcost.udfs` wraps these
for xlwings and imports nothing else of substance; the workbook builder uses :func:`formula`.

It does not import xlwings or openpyxl.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["REGISTRY", "Arg", "ExcelFunction", "formula"]


@dataclass(frozen=True)
class Arg:
    """One argument of an Excel function.

    ``default`` is ``None`` for a required argument; ``domain`` names the check applied to it
    (see :data:`DOMAINS` once implemented): "nonneg", "positive", "rate", "util", "text", "any".
    """

    name: str
    description: str
    default: float | str | None = None
    domain: str = "nonneg"


@dataclass(frozen=True)
class ExcelFunction:
    """An Excel function: metadata, implementation and native-formula equivalent."""

    name: str
    description: str
    args: tuple[Arg, ...]
    native: Callable[..., str]
    """Native Excel formula text (no leading ``=``) from the argument expressions, e.g.
    ``native("B2", "B3", "B4")`` → ``"B2*B3*B4"``. Omitted optional arguments take defaults."""


def _opt(args: tuple[str, ...], i: int, default: str) -> str:
    return args[i] if len(args) > i and args[i] not in ("", None) else default


def _train_cost(*a: str) -> str:
    return f"{a[0]}*{a[1]}*{a[2]}*{_opt(a, 3, '1')}*(1+{_opt(a, 4, '0')})"


def _deploy_cost(*a: str) -> str:
    return f"{a[0]}*{a[1]}*{a[2]}*(1+{_opt(a, 3, '0')})"


def _maintain_cost(*a: str) -> str:
    return f"{a[0]}*({a[1]}*{a[2]}+{_opt(a, 3, '0')})"


def _roi(*a: str) -> str:
    basis = _opt(a, 2, '"net"').strip('"').lower()
    return f"{a[0]}/{a[1]}" if basis == "ratio" else f"({a[0]}-{a[1]})/{a[1]}"


def _benefit(*a: str) -> str:
    return f"{a[0]}*({a[1]}*{a[2]}-{_opt(a, 4, '0')}*{_opt(a, 5, '0')})*{a[3]}"


def _bcr(*a: str) -> str:
    return f"{a[0]}/{a[1]}"


def _train_flops(*a: str) -> str:
    return f"{_opt(a, 2, '6')}*{a[0]}*{a[1]}"


def _train_hours(*a: str) -> str:
    return f"{_opt(a, 5, '6')}*{a[0]}*{a[1]}/({a[2]}*{a[3]}*10^12*{_opt(a, 4, '0.4')})/3600"


def _replicas(*a: str) -> str:
    return f"MAX({_opt(a, 3, '1')},ROUNDUP(ROUND({a[0]}/({a[1]}*{_opt(a, 2, '0.7')}),9),0))"


def _gpu_spec(*a: str) -> str:
    # The workbook's Catalog sheet defines catalog_table (data), catalog_names (first column)
    # and catalog_fields (header row).
    return f"INDEX(catalog_table,MATCH({a[0]},catalog_names,0),MATCH({a[1]},catalog_fields,0))"


def _version(*a: str) -> str:
    from xlcost import __version__

    return f'"{__version__}"'


_P = "Price of one GPU-hour, in the workbook's currency"
REGISTRY: dict[str, ExcelFunction] = {
    f.name: f
    for f in (
        ExcelFunction(
            "TRAIN_COST",
            "Training cost: gpus × hours × price × runs × (1 + overhead)",
            (
                Arg("gpus", "GPUs used by one training run"),
                Arg("hours", "Wall-clock hours of one run"),
                Arg("price_per_gpu_hour", _P),
                Arg("runs", "Full training runs paid for (default 1)", 1.0),
                Arg("overhead_rate", "Overhead as a fraction of GPU spend (default 0)", 0.0),
            ),
            _train_cost,
        ),
        ExcelFunction(
            "DEPLOY_COST",
            "Deployment cost: gpus × hours × price × (1 + overhead)",
            (
                Arg("gpus", "GPUs serving"),
                Arg("hours", "Hours each GPU serves in the period (24/7 = 730 a month)"),
                Arg("price_per_gpu_hour", _P),
                Arg("overhead_rate", "Overhead as a fraction of GPU spend (default 0)", 0.0),
            ),
            _deploy_cost,
        ),
        ExcelFunction(
            "MAINTAIN_COST",
            "Maintenance cost: months × (units per month × price per unit + fixed per month)",
            (
                Arg("months", "Months of maintenance"),
                Arg("units_per_month", "Effort per month, e.g. engineer-hours"),
                Arg("price_per_unit", "Price of one unit of effort"),
                Arg("fixed_per_month", "Fixed fees per month (default 0)", 0.0),
            ),
            _maintain_cost,
        ),
        ExcelFunction(
            "ROI",
            'Return on investment: "net" (benefit − cost)/cost, or "ratio" benefit/cost',
            (
                Arg("benefit", "Benefit over the period", domain="any"),
                Arg("cost", "Total cost over the period (must be > 0)", domain="positive"),
                Arg("basis", '"net" (default) or "ratio"', "net", domain="text"),
            ),
            _roi,
        ),
        ExcelFunction(
            "BENEFIT",
            "Incremental benefit: volume × (ctr × cvr − baseline ctr × baseline cvr) × value",
            (
                Arg("volume", "Requests or impressions in the period"),
                Arg("ctr", "Click-through rate with the model (0–1)", domain="rate"),
                Arg("cvr", "Conversion rate with the model (0–1)", domain="rate"),
                Arg("value_per_conversion", "Value of one conversion"),
                Arg(
                    "baseline_ctr",
                    "Click-through rate of the system replaced (default 0)",
                    0.0,
                    domain="rate",
                ),
                Arg(
                    "baseline_cvr",
                    "Conversion rate of the system replaced (default 0)",
                    0.0,
                    domain="rate",
                ),
            ),
            _benefit,
        ),
        ExcelFunction(
            "BCR",
            "Benefit-cost ratio: benefit / cost",
            (
                Arg("benefit", "Benefit over the period", domain="any"),
                Arg("cost", "Total cost over the period (must be > 0)", domain="positive"),
            ),
            _bcr,
        ),
        ExcelFunction(
            "TRAIN_FLOPS",
            "Training compute in FLOP: factor × params × tokens",
            (
                Arg("params", "Model parameters", domain="positive"),
                Arg("tokens", "Training tokens", domain="positive"),
                Arg(
                    "flops_per_param_token",
                    "6, or 8 with activation recomputation (default 6)",
                    6.0,
                    domain="positive",
                ),
            ),
            _train_flops,
        ),
        ExcelFunction(
            "TRAIN_HOURS",
            "Wall-clock training hours from model size, tokens, GPUs, peak TFLOP/s and MFU",
            (
                Arg("params", "Model parameters", domain="positive"),
                Arg("tokens", "Training tokens", domain="positive"),
                Arg("gpus", "GPUs in the run", domain="positive"),
                Arg("peak_tflops", "Dense BF16 peak TFLOP/s of one GPU", domain="positive"),
                Arg("mfu", "Achieved fraction of peak, 0–1 (default 0.4)", 0.4, domain="util"),
                Arg(
                    "flops_per_param_token",
                    "6, or 8 with activation recomputation (default 6)",
                    6.0,
                    domain="positive",
                ),
            ),
            _train_hours,
        ),
        ExcelFunction(
            "REPLICAS",
            "Serving replicas: max(min, ceil(peak QPS / (QPS per replica × utilisation)))",
            (
                Arg("peak_qps", "Peak queries per second"),
                Arg(
                    "qps_per_replica", "Queries per second one replica sustains", domain="positive"
                ),
                Arg(
                    "target_utilization",
                    "Planned load at peak, 0–1 (default 0.7)",
                    0.7,
                    domain="util",
                ),
                Arg("min_replicas", "Minimum replicas (default 1)", 1.0),
            ),
            _replicas,
        ),
        ExcelFunction(
            "GPU_SPEC",
            'A value from the xlcost hardware catalog, e.g. GPU_SPEC("H100","price_per_hour")',
            (
                Arg("gpu", "GPU name, e.g. H100", domain="text"),
                Arg(
                    "field",
                    "price_per_hour, peak_tflops, memory_gb, memory_bandwidth_tbs, …",
                    domain="text",
                ),
            ),
            _gpu_spec,
        ),
        ExcelFunction("XLCOST_VERSION", "The xlcost engine version", (), _version),
    )
}


def formula(mode: str, name: str, *args: str) -> str:
    """Cell formula (with ``=``) calling function ``name`` in ``mode`` "udf" or "portable".

    >>> formula("udf", "TRAIN_COST", "B2", "B3", "B4")
    '=TRAIN_COST(B2,B3,B4)'
    >>> formula("portable", "TRAIN_COST", "B2", "B3", "B4")
    '=B2*B3*B4*1*(1+0)'
    """
    fn = REGISTRY[name]
    if mode == "udf":
        return f"={name}({','.join(args)})"
    if mode == "portable":
        return "=" + fn.native(*args)
    raise ValueError(f"mode must be 'udf' or 'portable', got {mode!r}")
