"""Evaluate scenarios: costs, benefit, NPV, IRR, payback and the monthly cash-flow schedule.

Two entry points share one implementation:

* :func:`evaluate_columns` — the array API: a mapping of input name → column (numpy arrays of
  equal length, blanks as ``nan``) evaluated in a handful of vectorised numpy operations. This is
  what batch jobs and the benchmark use.
* :func:`evaluate` — one validated :class:`~xlcost.engine.model.Scenario` → :class:`Results`;
  it is :func:`evaluate_columns` on a single row.

Cash-flow convention: month 0 carries the up-front training cost (``train_runs``
runs); months 1..H each carry 1/H of the deployment cost, of the retraining cost and of the
benefit; maintenance is paid in equal parts in months 1..``maintain_months``. The schedule is
therefore two constant segments, and NPV, IRR and payback have closed forms over it:

    npv(r) = −c0 + a·A(r, H) − m·A(r, M),   A(r, n) = Σ_{t=1..n} (1+r)^−t

with ``c0`` the up-front training, ``a = (benefit − deploy − retrain)/H``, ``m = maintain/M``.
:func:`schedule` lays out the same numbers month by month; the tests check the closed forms
against Excel's ``NPV``/``IRR`` over that schedule.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any, get_args

import numpy as np
from numpy.typing import ArrayLike, NDArray

from xlcost.engine import compute, costs, finance
from xlcost.engine.catalog import Catalog, active_catalog
from xlcost.engine.errors import InputError, ScenarioErrors, XlcostError
from xlcost.engine.model import (
    CROSS_RULES,
    GPU_FILLS,
    NUMERIC_INPUTS,
    RESULT_NAMES,
    TEXT_INPUTS,
    WHOLE_INPUTS,
    CashFlowRow,
    Results,
    Scenario,
    field_domain,
)
from xlcost.engine.prices import Term

__all__ = [
    "CASH_FLOW_LINES",
    "COST_LINES",
    "ESTIMATED_INPUTS",
    "USED_NAMES",
    "derived_columns",
    "evaluate",
    "evaluate_columns",
    "evaluate_many",
    "evaluate_with_schedule",
    "flow_parts",
    "invalid_rows",
    "resolve_gpus",
    "scenario_data",
    "schedule",
    "schedule_lines",
    "unknown_gpus",
    "used_inputs",
]

COST_LINES = (
    "data_cost",
    "infra_cost",
    "incident_cost",
    "hardware_cost",
    "power_cost",
    "api_cost",
)
"""The cost lines reported on their own, each also part of train, deploy or maintain cost."""

CASH_FLOW_LINES = (
    "training_gpus",
    "data",
    "serving_gpus",
    "infrastructure",
    "owned_gpus",
    "power_hosting",
    "hosted_api",
    "maintenance",
)
"""The columns of the cash-flow schedule's cost, by line; each month's cost is their sum."""

Array = NDArray[np.float64]

PRICE_FILLS: dict[str, dict[str, str]] = {
    "serve_gpu": {"gpu_purchase_price": "purchase_price", "power_kw_per_gpu": "board_power_kw"},
    "api_model": {
        "api_price_per_m_input_tokens": "price_per_m_input_tokens",
        "api_price_per_m_output_tokens": "price_per_m_output_tokens",
    },
}
"""Name input → the inputs it fills when blank from the price catalog → the field they come
from (purchase entries by ``serve_gpu``, hosted APIs by ``api_model``); an input still blank
after the fills is 0. ``serve_term`` fills ``serve_price_per_gpu_hour`` from the offers."""
PRICE_NAMES = ("serve_gpu", "serve_term", "api_model")
NAMED_BY = ("train_gpu", *PRICE_NAMES)
"""The text inputs that name catalog entries, turned into numbers before evaluation."""
PRICE_FILLED = tuple(f for fills in PRICE_FILLS.values() for f in fills)
TERMS: tuple[str, ...] = get_args(Term)

_DEFAULTS: dict[str, float] = {
    name: (
        math.nan
        if Scenario.model_fields[name].default is None
        else float(Scenario.model_fields[name].default)
    )
    for name in NUMERIC_INPUTS
    if not Scenario.model_fields[name].is_required()
}
_MAY_BE_BLANK = frozenset(k for k, v in _DEFAULTS.items() if math.isnan(v))
"""Optional inputs whose blank means "estimate, look up or leave out", not a default."""
_DEFAULTS.update(dict.fromkeys(PRICE_FILLED, 0.0))  # a price no name fills is 0


def _gpu_names(value: Any) -> NDArray[Any]:
    """A GPU-name column as an object array; blanks (``None``, ``""``, nan) as ``""``."""
    a = np.asarray(value, dtype=object)
    flat = [
        "" if x is None or (isinstance(x, float) and math.isnan(x)) else str(x).strip()
        for x in a.ravel().tolist()
    ]
    out = np.empty(len(flat), dtype=object)
    out[:] = flat
    return out.reshape(a.shape)


def resolve_gpus(
    data: Mapping[str, Any], catalog: Catalog | None = None, *, row_offset: int = 1
) -> dict[str, Any]:
    """``data`` with the GPU names (``train_gpu``, ``serve_gpu``) turned into numbers.

    Each named GPU fills, where they are blank, the inputs of :data:`GPU_FILLS` from
    ``catalog`` (default: the packaged one); the names themselves are dropped, so the result
    is what :func:`evaluate_columns` computes with. An unknown name raises
    :class:`ScenarioErrors` naming the row and the known GPUs.

    Examples
    --------
    >>> out = resolve_gpus({"serve_gpu": ["L4", ""], "serve_peak_tflops": [float("nan"), 50]})
    >>> out["serve_peak_tflops"].tolist(), out["serve_memory_gb"].tolist()[0]
    ([121.0, 50.0], 24.0)
    >>> resolve_gpus({"serve_gpu": ["L4", "B300"]})
    Traceback (most recent call last):
    ...
    xlcost.engine.errors.ScenarioErrors: row 2, serve_gpu: unknown GPU 'B300'; known: T4, ...
    """
    cat = catalog or active_catalog()
    problems: list[InputError] = []
    if any(k in data for k in (*PRICE_NAMES, *PRICE_FILLED)):
        data = _resolve_prices(data, cat, problems, row_offset)
    if not any(k in data for k in GPU_FILLS):
        if problems:
            raise ScenarioErrors(problems)
        return dict(data)
    out = {k: v for k, v in data.items() if k not in GPU_FILLS}
    for gpu, fills in GPU_FILLS.items():
        if gpu not in data:
            continue
        if not any(_gpu_names(data[gpu]).ravel().tolist()):
            continue
        n = _row_count(data)
        names = _names_of(data, gpu, n)
        uniq, inverse = np.unique(names.astype(str), return_inverse=True)
        values = {field: np.full(len(uniq), np.nan) for field in fills}
        for j, name in enumerate(uniq.tolist()):
            if not name:
                continue
            try:
                spec = cat.get(name)
            except KeyError:
                row = int(np.flatnonzero(inverse == j)[0])
                known = ", ".join(cat.names())
                reason = f"unknown GPU {name!r}; known: {known}"
                where = f"row {row + row_offset}" if n > 1 else None
                problems.append(InputError(gpu, reason, where=where))
                continue
            for field, source in fills.items():
                values[field][j] = float(getattr(spec, source))
        for field in fills:
            typed = _typed(data, field, n)
            out[field] = np.where(np.isnan(typed), values[field][inverse], typed)
    if problems:
        raise ScenarioErrors(problems)
    return out


def _row_count(data: Mapping[str, Any]) -> int:
    """The number of rows of ``data``: its longest column (1 if every value is a scalar)."""
    n = 1
    for k, v in data.items():
        if v is None or isinstance(v, float | int | str):
            continue  # a scalar (the common case, checked without numpy)
        shape = np.shape(v)
        if shape:
            n = max(n, math.prod(shape) if k in TEXT_INPUTS else shape[0])
    return int(n)


def _rows(a: NDArray[Any], n: int) -> NDArray[Any]:
    """``a`` (one value, or a column of ``n`` or 1 rows) as a column of ``n`` rows: ``a`` itself
    when it already is one (:func:`numpy.broadcast_to` costs microseconds per call, and a
    scenario has seventy inputs)."""
    if a.shape == (n,):
        return a
    return np.full(n, a) if a.ndim == 0 else np.broadcast_to(a, (n,))


def _names_of(data: Mapping[str, Any], key: str, n: int) -> NDArray[Any]:
    """The name column ``key`` of ``data`` over ``n`` rows (blanks ``""``; absent: all blank)."""
    names = _gpu_names(data.get(key, ""))
    return np.broadcast_to(names, (n,)) if names.ndim else np.full(n, names.item(), object)


def _resolve_prices(
    data: Mapping[str, Any], cat: Catalog, problems: list[InputError], row_offset: int
) -> dict[str, Any]:
    """``data`` with the blanks of :data:`PRICE_FILLS` (and ``serve_price_per_gpu_hour`` on a
    ``serve_term``) filled from ``cat.prices``, the rest of those inputs 0 where blank, and
    ``serve_term``/``api_model`` dropped; an unknown name or term is added to ``problems``."""
    n = _row_count(data)
    out = {k: v for k, v in data.items() if k not in ("serve_term", "api_model")}

    def where(row: int) -> str | None:
        return f"row {row + row_offset}" if n > 1 else None

    if "serve_term" in data:
        keys = np.char.add(
            np.char.add(_names_of(data, "serve_gpu", n).astype(str), "\t"),
            _names_of(data, "serve_term", n).astype(str),
        )
        uniq, inverse = np.unique(keys, return_inverse=True)
        offer = np.full(len(uniq), np.nan)
        for j, key in enumerate(uniq.tolist()):
            gpu, term = key.split("\t")
            if not term:
                continue
            row = int(np.flatnonzero(inverse == j)[0])
            if term not in TERMS:
                reason = f"must be blank (on demand) or one of {', '.join(TERMS)}, got {term!r}"
                problems.append(InputError("serve_term", reason, where=where(row)))
            elif gpu:
                try:
                    offer[j] = cat.prices.offer_price(gpu, term)[0]
                except KeyError as e:
                    problems.append(InputError("serve_term", str(e.args[0]), where=where(row)))
        typed = _typed(data, "serve_price_per_gpu_hour", n)
        out["serve_price_per_gpu_hour"] = np.where(np.isnan(typed), offer[inverse], typed)
    for name, fills in PRICE_FILLS.items():
        if name not in data:
            for field in fills:
                if field in data:
                    out[field] = np.nan_to_num(np.asarray(data[field], np.float64), nan=0.0)
            continue
        uniq, inverse = np.unique(_names_of(data, name, n).astype(str), return_inverse=True)
        values = {field: np.full(len(uniq), np.nan) for field in fills}
        for j, key in enumerate(uniq.tolist()):
            if not key:
                continue
            try:
                entry: Any = (
                    cat.prices.purchase(key)
                    if name == "serve_gpu"
                    else cat.prices.api(key, model_only=True)
                )
            except KeyError as e:
                if name == "api_model":
                    row = int(np.flatnonzero(inverse == j)[0])
                    problems.append(InputError(name, str(e.args[0]), where=where(row)))
                continue  # a GPU with no purchase entry: its blanks are 0
            for field, source in fills.items():
                got = getattr(entry, source)
                values[field][j] = np.nan if got is None else float(got)
        for field in fills:
            given = _typed(data, field, n)
            out[field] = np.nan_to_num(np.where(np.isnan(given), values[field][inverse], given))
    return out


def _typed(data: Mapping[str, Any], field: str, n: int) -> Array:
    return _rows(np.asarray(data.get(field, np.nan), dtype=np.float64), n)


def unknown_gpus(
    scenario: Scenario,
    catalog: Catalog | None = None,
    *,
    where: Callable[[str], str | None] | str | None = None,
    known_from: str = "",
) -> list[InputError]:
    """The problems of ``scenario``'s GPU names that ``catalog`` (default: the one in use) does
    not know, each naming the known ones (``known_from``: where they come from, for the message).

    >>> from xlcost.engine.examples import seed_scenario
    >>> s = seed_scenario().model_copy(update={"serve_gpu": "B300"})
    >>> print(unknown_gpus(s, where="a.csv row 2")[0])
    a.csv row 2, serve_gpu: unknown GPU 'B300'; known: T4, L4, A10G, A100-40GB, A100-80GB, ...
    """
    cat = catalog or active_catalog()
    problems = []
    for field in GPU_FILLS:
        name = getattr(scenario, field)
        if not name:
            continue
        try:
            cat.get(name)
        except KeyError:
            known = f"known{known_from}: {', '.join(cat.names())}"
            at = where(field) if callable(where) else where
            problems.append(InputError(field, f"unknown GPU {name!r}; {known}", where=at))
    return problems


def scenario_data(scenario: Scenario) -> dict[str, Any]:
    """One scenario as :func:`evaluate_columns` input: its numeric inputs as typed and its
    names (GPUs, rental term, API model: resolved there, in the catalog in use)."""
    names = {k: getattr(scenario, k) for k in NAMED_BY}
    return {**scenario.raw_columns(), **names}


def _columns(
    data: Mapping[str, ArrayLike], catalog: Catalog | None = None
) -> tuple[dict[str, Array], int]:
    unknown = sorted(set(data) - set(NUMERIC_INPUTS) - set(TEXT_INPUTS))
    if unknown:
        raise InputError(unknown[0], "not an xlcost input name")
    data = resolve_gpus(data, catalog)
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in data.items() if k in NUMERIC_INPUTS}
    n = int(np.broadcast_shapes(*(a.shape for a in arrays.values()), (1,))[0]) if arrays else 1
    cols: dict[str, Array] = {}
    for name in NUMERIC_INPUTS:
        if name in arrays:
            cols[name] = _rows(arrays[name], n)
        elif name in _DEFAULTS:
            cols[name] = np.full(n, _DEFAULTS[name])
        else:
            raise InputError(name, "required")
    return cols, n


def _first_bad(mask: NDArray[np.bool_]) -> int | None:
    idx = np.flatnonzero(mask)
    return int(idx[0]) if idx.size else None


def _domain_violations(cols: Mapping[str, Array]) -> Iterator[tuple[str, str, NDArray[np.bool_]]]:
    """``(field, reason, rows breaking it)`` of each input's own domain (blank, finite,
    bounds, whole numbers)."""
    for name, col in cols.items():
        lower, inclusive, upper = field_domain(name)
        blank = np.isnan(col)
        if name not in _MAY_BE_BLANK:
            yield name, "required", blank
        yield name, "must be finite", np.isinf(col)
        if lower is not None:
            yield (
                name,
                f"must be {'≥' if inclusive else '>'} {lower:g}",
                (col < lower if inclusive else col <= lower),
            )
        if upper is not None:
            yield name, f"must be ≤ {upper:g}", col > upper
        if name in WHOLE_INPUTS:
            yield name, "must be a whole number", ~blank & (col != np.floor(col))


def _rule_violations(cols: Mapping[str, Array]) -> Iterator[tuple[str, str, NDArray[np.bool_]]]:
    """``(field, reason, rows breaking it)`` of each cross-input rule."""
    for rule in CROSS_RULES:
        with np.errstate(invalid="ignore"):
            yield rule.field, rule.reason, np.asarray(rule.bad(cols), dtype=bool)


def validate_columns(cols: Mapping[str, Array], *, row_offset: int = 1) -> None:
    """Check every input column against its domain and the cross-input rules.

    Raises :class:`ScenarioErrors` listing, per field, the first bad row (numbered from
    ``row_offset``) — cheap enough for a million rows (one vectorised comparison per field).
    The cross-input rules are checked when every input is within its own domain.
    """
    problems: list[InputError] = []

    def report(violations: Iterator[tuple[str, str, NDArray[np.bool_]]]) -> None:
        for field, reason, mask in violations:
            i = _first_bad(mask)
            if i is None:
                continue
            value = float(cols[field][i])
            more = int(mask.sum()) - 1
            where = f"row {i + row_offset}" + (f" (and {more} more rows)" if more else "")
            problems.append(
                InputError(field, reason, None if math.isnan(value) else value, where=where)
            )

    report(_domain_violations(cols))
    if not problems:
        report(_rule_violations(cols))
    if problems:
        raise ScenarioErrors(problems)


def invalid_rows(cols: Mapping[str, Array]) -> NDArray[np.bool_]:
    """The rows :func:`validate_columns` would refuse, each on its own: outside an input's
    domain or, within every domain, breaking a cross-input rule (one pass over the columns).

    >>> from xlcost.engine.examples import seed_scenario
    >>> cols = {k: np.array([v, v]) for k, v in seed_scenario().raw_columns().items()}
    >>> cols["ctr"][1] = 2.0
    >>> invalid_rows(cols).tolist()
    [False, True]
    """
    n = len(next(iter(cols.values()))) if cols else 0
    bad = np.zeros(n, dtype=bool)
    for _field, _reason, mask in _domain_violations(cols):
        bad |= mask
    for _field, _reason, mask in _rule_violations(cols):
        bad |= mask
    return bad


def _given(typed: Array, estimate: Any) -> Array:
    """The typed value where given, else the estimate."""
    return np.where(np.isnan(typed), estimate, typed)


def derived_columns(v: Mapping[str, Array], *, with_latency: bool = False) -> dict[str, Array]:
    """The estimated inputs in effect: training tokens, GPUs and QPS per replica.

    ``train_tokens`` (blank = examples × tokens per example × epochs), ``gpus_per_replica``
    (blank = :func:`~xlcost.engine.compute.fit_gpus`, or 1 when model size or GPU memory is not
    given), ``qps_per_replica`` (blank = the per-GPU estimate — compute-bound, and when tokens
    are generated also bandwidth-bound, the smaller — × GPUs per replica) and the per-GPU
    estimate itself (``qps_per_gpu``); with ``with_latency`` also the batch-1 latency bound
    (``latency_ms``). ``nan`` where an estimate lacks its inputs. Each estimate is computed
    only when some row needs it (a million rows with every value typed cost nothing here).
    """
    n = len(v["train_tokens"])
    nan = np.full(n, np.nan)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        blank_tokens = np.isnan(v["train_tokens"])
        tokens = (
            _given(v["train_tokens"], v["train_examples"] * v["tokens_per_example"] * v["epochs"])
            if blank_tokens.any()
            else v["train_tokens"]
        )
        blank_gpus = np.isnan(v["gpus_per_replica"])
        fit = (
            compute.fit_gpus(v["model_params"], v["serve_memory_gb"], v["bytes_per_param"])
            if blank_gpus.any() or with_latency
            else nan
        )
        gpus = (
            _given(v["gpus_per_replica"], np.where(np.isnan(fit), 1.0, np.maximum(fit, 1.0)))
            if blank_gpus.any()
            else v["gpus_per_replica"]
        )
        read = v["tokens_per_item"] * v["items_per_request"]
        out_tokens = v["output_tokens_per_request"]
        generating = out_tokens > 0
        per_gpu = compute.serve_qps(
            v["model_params"], read + out_tokens, v["serve_peak_tflops"], v["serve_mfu"]
        )
        if generating.any():
            decode_bound = compute.decode_qps(
                v["model_params"],
                out_tokens,
                v["serve_memory_bandwidth_tbs"],
                v["serve_batch"],
                v["bytes_per_param"],
                v["serve_mbu"],
            )
            per_gpu = np.where(generating, np.minimum(per_gpu, decode_bound), per_gpu)
        out = {
            "train_tokens": np.asarray(tokens),
            "gpus_per_replica": np.asarray(gpus),
            "qps_per_gpu": np.asarray(per_gpu),
            "qps_per_replica": _given(v["qps_per_replica"], per_gpu * gpus),
        }
        if with_latency:
            out["latency_ms"] = np.asarray(
                compute.latency_ms(
                    v["model_params"],
                    read,
                    out_tokens,
                    v["serve_peak_tflops"],
                    np.where(generating, v["serve_memory_bandwidth_tbs"], 1.0),
                    v["serve_mfu"],
                    v["bytes_per_param"],
                    v["serve_mbu"],
                )
            )
    return out


def _resolved(v: Mapping[str, Array], e: Mapping[str, Array] | None = None) -> dict[str, Array]:
    """Fill the derived inputs: estimated training hours, sized serving GPUs, maintenance months,
    API requests, serving hours (``e``: :func:`derived_columns` of ``v``, if already
    computed)."""
    if e is None:
        e = derived_columns(v)
    with np.errstate(invalid="ignore", divide="ignore"):
        est_hours = compute.train_hours(
            v["model_params"],
            e["train_tokens"],
            v["train_gpus"],
            v["gpu_peak_tflops"],
            v["mfu"],
            v["flops_per_param_token"],
        )
        sized = (
            compute.replicas(
                v["peak_qps"], e["qps_per_replica"], v["target_utilization"], v["min_replicas"]
            )
            * e["gpus_per_replica"]
        )
    return {
        "train_hours": np.where(np.isnan(v["train_hours"]), est_hours, v["train_hours"]),
        "serve_gpus": np.where(np.isnan(v["serve_gpus"]), sized, v["serve_gpus"]),
        "maintain_months": np.where(
            np.isnan(v["maintain_months"]), v["horizon_months"], v["maintain_months"]
        ),
        "api_requests": np.where(np.isnan(v["api_requests"]), v["volume"], v["api_requests"]),
        "serve_hours": np.nan_to_num(v["serve_hours"]),  # blank only with no GPUs: 0
    }


ESTIMATED_INPUTS: tuple[str, ...] = (
    "train_tokens",
    "gpu_peak_tflops",
    "train_price_per_gpu_hour",
    "serve_peak_tflops",
    "serve_memory_gb",
    "serve_memory_bandwidth_tbs",
    "serve_price_per_gpu_hour",
    "gpus_per_replica",
    "qps_per_replica",
    *PRICE_FILLED,
)
"""Optional inputs filled, when blank, from the catalog (by GPU or API name) or by an
estimator."""
USED_NAMES: tuple[str, ...] = (*ESTIMATED_INPUTS, "train_hours", "serve_gpus", "maintain_months")
"""The inputs whose value in effect can differ from the typed one (catalog, estimators)."""


def used_inputs(scenario: Scenario, catalog: Catalog | None = None) -> dict[str, float | None]:
    """The values in effect of :data:`USED_NAMES` for one scenario (``None``: not estimable).

    >>> from xlcost.engine.examples import seed_scenario
    >>> used = used_inputs(seed_scenario())
    >>> used["train_hours"], used["serve_gpus"], used["gpus_per_replica"], used["qps_per_replica"]
    (3.0, 1.0, 1.0, None)
    """
    cols, _ = _columns(scenario_data(scenario), catalog)
    merged = {**cols, **derived_columns(cols), **_resolved(cols)}
    return {k: _value(float(merged[k][0])) for k in USED_NAMES}


def _flows(v: Mapping[str, Array]) -> dict[str, Array]:
    """Totals, and the three constants of the two-segment monthly schedule (c0, a, m)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return _flows_unchecked(v)


def _flows_unchecked(v: Mapping[str, Array]) -> dict[str, Array]:
    d = _resolved(v)
    horizon = v["horizon_months"]
    months = d["maintain_months"]
    runs_now = v["train_runs"]
    args = (v["train_gpus"], d["train_hours"], v["train_price_per_gpu_hour"])
    up_front = costs.train_cost(*args, runs_now, v["train_overhead_rate"])
    gpu_train = costs.train_cost(*args, runs_now + v["retrains"], v["train_overhead_rate"])
    data = costs.data_cost(v["data_prep_cost"], v["data_refresh_per_month"], horizon)
    train = gpu_train + data
    infra = costs.infra_cost(
        horizon,
        v["storage_gb"],
        v["storage_price_per_gb_month"],
        v["egress_gb_per_month"],
        v["egress_price_per_gb"],
        v["software_per_month"],
        v["setup_cost"],
    )
    own = (v["own_gpus"], v["gpu_purchase_price"], horizon)
    life = (v["useful_life_months"], v["salvage_rate"])
    hardware = costs.own_gpu_cost(*own, *life)
    value_left = costs.gpu_value_left(*own, *life)
    power = (
        costs.power_cost(
            v["own_gpus"],
            v["power_kw_per_gpu"],
            d["serve_hours"],
            v["electricity_price_per_kwh"],
            v["pue"],
        )
        + v["own_gpus"] * v["hosting_per_gpu_month"] * horizon
    )
    api = costs.api_cost(
        d["api_requests"],
        v["api_input_tokens_per_request"],
        v["api_output_tokens_per_request"],
        v["api_price_per_m_input_tokens"],
        v["api_price_per_m_output_tokens"],
    )
    rented = costs.deploy_cost(
        d["serve_gpus"], d["serve_hours"], v["serve_price_per_gpu_hour"], v["serve_overhead_rate"]
    )
    deploy = rented + infra + hardware + power + api
    incidents = costs.incident_cost(
        months, v["incidents_per_month"], v["incident_hours"], v["incident_price_per_hour"]
    )
    maintain = (
        costs.maintain_cost(
            months,
            v["maintain_units_per_month"],
            v["maintain_price_per_unit"],
            v["maintain_fixed_per_month"],
        )
        + incidents
    )
    ben = costs.benefit(
        v["volume"],
        v["ctr"],
        v["cvr"],
        v["value_per_conversion"],
        v["baseline_ctr"],
        v["baseline_cvr"],
    )
    total = costs.total_cost(train, deploy, maintain)
    # Month 0: up-front training runs, data preparation, set-up and the GPU purchase.
    c0 = up_front + v["data_prep_cost"] + v["setup_cost"] + v["own_gpus"] * v["gpu_purchase_price"]
    with np.errstate(invalid="ignore", divide="ignore"):
        per_month_maintain = np.where(months > 0, maintain / months, 0.0)
    return {
        "train_cost": np.asarray(train),
        "deploy_cost": np.asarray(deploy),
        "maintain_cost": np.asarray(maintain),
        "benefit": np.asarray(ben),
        "total_cost": np.asarray(total),
        "data_cost": np.asarray(data),
        "infra_cost": np.asarray(infra),
        "incident_cost": np.asarray(incidents),
        "hardware_cost": np.asarray(hardware),
        "power_cost": np.asarray(power),
        "api_cost": np.asarray(api),
        "train_gpu_cost": np.asarray(gpu_train),
        "upfront_train_cost": np.asarray(up_front),
        "serve_gpu_cost": np.asarray(rented),
        "gpu_purchase": np.asarray(v["own_gpus"] * v["gpu_purchase_price"]),
        "data_prep_cost": np.asarray(v["data_prep_cost"]),
        "setup_cost": np.asarray(v["setup_cost"]),
        "api_requests": np.asarray(d["api_requests"]),
        "serve_hours": np.asarray(d["serve_hours"]),
        "c0": np.asarray(c0),
        # Months 1..H: everything not paid in month 0, not maintenance and not the value left
        # (which comes back in month H) is spread evenly, as is the benefit.
        "a": (ben - (total - maintain - c0 + value_left)) / horizon,
        "m": per_month_maintain,
        "s": np.asarray(value_left),
        "H": horizon,
        "M": months,
        "rate": np.asarray(finance.monthly_rate(v["discount_rate_annual"])),
    }


def _npv_at(f: Mapping[str, Array], r: Array) -> Array:
    return np.asarray(
        -f["c0"]
        + f["a"] * finance.annuity_factor(r, f["H"])
        - f["m"] * finance.annuity_factor(r, f["M"])
        + f["s"] * np.exp(-np.log1p(r) * f["H"])
    )


def _irr(f: Mapping[str, Array]) -> Array:
    """Annual IRR of the schedule; nan where the flows never change sign.

    The flows are −c0 ≤ 0 in month 0, then a − m for M months, then a ≥ a − m, and the value
    left s ≥ 0 is added in month H: from month 1 on they never decrease, so they change sign at
    most once, the root is unique (Descartes' rule of signs) and :func:`finance.solve_rate`
    finds it from Excel's guess of 10 %.
    """
    h, mm, a, m, s = f["H"], f["M"], f["a"], f["m"], f["s"]
    first = a - np.where(mm >= 1, m, 0.0) + np.where(h == 1, s, 0.0)  # the smallest month 1..H
    last = a - np.where(mm >= h, m, 0.0) + s  # the largest
    mask = (last > 0) & ((f["c0"] > 0) | (first < 0))
    out = np.full(f["c0"].shape, np.nan)
    sub = {k: f[k][mask] for k in ("c0", "a", "m", "s", "H", "M")}
    # Scale each row's money by a power of two (exact) so that its largest amount is about 1:
    # the root is unchanged, and tiny (subnormal) amounts keep their precision in the sums.
    money = ("c0", "a", "m", "s")
    _, exponent = np.frexp(np.maximum.reduce([np.abs(sub[k]) for k in money]))
    sub |= {k: np.ldexp(sub[k], -exponent) for k in money}

    # The flows in three runs of equal months: u = a − m in months 1..L1, a in the next L2
    # months, and w in month H; each run is all positive or all negative, and every negative
    # flow (with −c0 in month 0) comes before every positive one.
    hh, c0 = sub["H"], sub["c0"]
    l1 = np.minimum(sub["M"], hh - 1)
    l2 = hh - 1 - l1
    u = sub["a"] - sub["m"]
    w = np.where(sub["M"] >= hh, u, sub["a"]) + sub["s"]
    runs = [(u, l1), (sub["a"], l2), (w, hh)]
    gains = [np.maximum(v, 0.0) for v, _ in runs]
    costs_ = [np.maximum(-v, 0.0) for v, _ in runs]

    def log_ratio(x: Array, rows: NDArray[np.intp]) -> tuple[Array, Array]:
        """ln(P / N), P and N the present values of the positive and negative flows, and its
        slope: it has the sign of the NPV, and decreases with a slope between −H and −1."""
        n1, n_h = l1[rows], hh[rows]
        (s1, ds1, e1), (s2, ds2, e2) = finance.log_annuities(x, [n1, l2[rows]])
        e_h = e1 * e2 * np.exp(-x)  # H = L1 + L2 + 1
        # present value of 1 a month in each run, and its derivative in x
        pv = (s1, e1 * s2, e_h)
        dpv = (ds1, e1 * (ds2 - n1 * s2), -n_h * e_h)
        p = sum(g[rows] * v for g, v in zip(gains, pv, strict=True))
        dp = sum(g[rows] * d for g, d in zip(gains, dpv, strict=True))
        n = c0[rows] + sum(c[rows] * v for c, v in zip(costs_, pv, strict=True))
        dn = sum(c[rows] * d for c, d in zip(costs_, dpv, strict=True))
        return np.log(p) - np.log(n), dp / p - dn / n

    if mask.any():
        # Start from Excel's guess of 10 %, or from the perpetuity rate (a − m)/c0 when that is
        # higher: the root is unique, so the start changes only the number of steps.
        with np.errstate(all="ignore"):
            perpetuity = np.where(sub["c0"] > 0, (sub["a"] - sub["m"]) / sub["c0"], 0.0)
        guess = np.clip(np.nan_to_num(perpetuity), 0.1, 1e3)
        monthly = finance.solve_rate(log_ratio, guess, hh)
        with np.errstate(over="ignore"):
            out[mask] = finance.annualise(monthly)
    return out


PAYBACK_ROUNDING = 0.005
"""Payback counts a cumulative net as reached when it is ≥ 0 to the cent: ``ROUND(cum, 2) >= 0``,
i.e. ``cum > −0.005``. The workbook applies the same rule to its running cumulative."""


def _payback(f: Mapping[str, Array]) -> Array:
    """First month t in 0..H whose cumulative net C(t) = −c0 + a·t − m·min(t, M), plus the value
    left s in month H, rounded to the cent, is ≥ 0 (C(t) > −0.005); nan when there is none
    within the horizon."""
    c0, a, m, h, mm, s = f["c0"], f["a"], f["m"], f["H"], f["M"], f["s"]
    need = c0 - PAYBACK_ROUNDING  # C(t) > −0.005  ⇔  slope · t > need
    with np.errstate(all="ignore"):
        s1 = a - m
        t1 = np.where(s1 > 0, np.floor(need / s1) + 1.0, np.inf)
        t1 = np.where(t1 <= mm, np.maximum(t1, 1.0), np.inf)
        t2 = np.where(a > 0, np.maximum(mm + 1, np.floor((need + m * mm) / a) + 1.0), np.inf)
        t2 = np.where(t2 <= h, t2, np.inf)
        # The value left arrives in month H: paid back then if not before.
        at_end = (s > 0) & (a * h - m * mm + s > need)
        t = np.minimum(t1, t2)
        t = np.where(np.isinf(t) & at_end, h, t)
    t = np.where(need < 0, 0.0, t)
    return np.where(np.isfinite(t), t, np.nan)


def evaluate_columns(
    data: Mapping[str, ArrayLike],
    *,
    validate: bool = True,
    with_irr: bool = True,
    catalog: Catalog | None = None,
) -> dict[str, Array]:
    """Evaluate many scenarios at once.

    Parameters
    ----------
    data
        Input name → scalar or 1-D array (all arrays the same length); blanks are ``nan``.
        Missing optional inputs take their defaults; text inputs (``name``, ``currency``) are
        ignored here.
    validate
        Check domains and cross-input rules first (raises :class:`ScenarioErrors` naming the
        first bad row of each field). Pass ``False`` only for data already validated.
    with_irr
        Compute ``irr`` (an iterative solve; the rest is closed-form).
    catalog
        Where ``train_gpu`` / ``serve_gpu`` names are looked up (:func:`resolve_gpus`;
        default: the packaged catalog).

    Returns
    -------
    Result name → float array; ``nan`` where the result does not exist (``None`` in
    :class:`Results`), ``inf`` where it overflows (also ``None`` in :class:`Results`).

    Examples
    --------
    >>> out = evaluate_columns({"horizon_months": 2, "train_gpus": [32, 64],
    ...     "train_hours": 3, "train_price_per_gpu_hour": 5, "serve_gpus": 1, "serve_hours": 100,
    ...     "serve_price_per_gpu_hour": 0.1, "maintain_units_per_month": 100,
    ...     "maintain_price_per_unit": 0.5, "volume": 1e8, "ctr": 0.005, "cvr": 0.003,
    ...     "value_per_conversion": 0.1})
    >>> out["total_cost"].tolist()
    [590.0, 1070.0]
    """
    cols, _ = _columns(data, catalog)
    if validate:
        validate_columns(cols)
    return _result_columns(cols, _flows(cols), with_irr=with_irr)


def _result_columns(
    cols: Mapping[str, Array], f: Mapping[str, Array], *, with_irr: bool = True
) -> dict[str, Array]:
    """The results of :func:`evaluate_columns` from the inputs and their :func:`_flows`."""
    total = f["total_cost"]
    with np.errstate(all="ignore"):
        positive_cost = total > 0
        out: dict[str, Array] = {
            "train_cost": f["train_cost"],
            "deploy_cost": f["deploy_cost"],
            "maintain_cost": f["maintain_cost"],
            "benefit": f["benefit"],
            "total_cost": total,
            "roi": np.where(positive_cost, costs.roi(f["benefit"], total), np.nan),
            "bcr": np.where(positive_cost, costs.bcr(f["benefit"], total), np.nan),
            "npv": _npv_at(f, f["rate"]),
            "irr": _irr(f) if with_irr else np.full(total.shape, np.nan),
            "payback_month": _payback(f),
            "cost_per_1k": np.where(
                cols["volume"] > 0, costs.cost_per_1k(total, cols["volume"]), np.nan
            ),
        }
        out |= {k: f[k] for k in COST_LINES}
    return out


# Results that always exist (typed ``float``, not ``float | None``): an overflow is an error.
_ALWAYS_DEFINED = tuple(n for n in RESULT_NAMES if Results.model_fields[n].annotation is float)


def _value(x: float) -> float | None:
    return x if math.isfinite(x) else None


def evaluate(scenario: Scenario, catalog: Catalog | None = None) -> Results:
    """Evaluate one scenario (GPU names looked up in ``catalog``, default the packaged one).

    Raises :class:`XlcostError` when a total overflows a float (inputs around 1e300).

    Examples
    --------
    The worked example (BERT ranker) of the cost-accounting method:

    >>> from xlcost.engine.examples import seed_scenario
    >>> r = evaluate(seed_scenario())
    >>> r.train_cost, r.deploy_cost, r.maintain_cost, round(r.benefit, 9), r.total_cost
    (480.0, 10.0, 100.0, 150.0, 590.0)
    >>> round(r.roi, 3), round(r.bcr, 3), round(r.npv, 9)
    (-0.746, 0.254, -440.0)
    """
    data = scenario_data(scenario)
    return _results(scenario.name, evaluate_columns(data, validate=False, catalog=catalog))


def _results(name: str, out: Mapping[str, Array]) -> Results:
    """The first row of :func:`evaluate_columns`' output as :class:`Results`.

    Raises :class:`XlcostError` when a total overflows a float (inputs around 1e300).
    """
    for result in _ALWAYS_DEFINED:
        if not math.isfinite(out[result][0]):
            raise XlcostError(f"{name}: {result} overflows; check the inputs' magnitudes")
    values: dict[str, Any] = {k: _value(float(out[k][0])) for k in RESULT_NAMES}
    if values["payback_month"] is not None:
        values["payback_month"] = int(values["payback_month"])
    return Results(name=name, **values)


def evaluate_many(
    scenarios: list[Scenario], catalog: Catalog | None = None
) -> list[Results | XlcostError]:
    """Evaluate validated scenarios with one :func:`evaluate_columns` call (GPU names looked
    up in ``catalog``, default the packaged one).

    Returns, per scenario, its :class:`Results` or the :class:`XlcostError` that
    :func:`evaluate` would raise for it (a total that overflows).

    >>> from xlcost.engine.examples import seed_scenario
    >>> [r.total_cost for r in evaluate_many([seed_scenario()] * 2)]
    [590.0, 590.0]
    """
    if not scenarios:
        return []
    rows = [scenario_data(s) for s in scenarios]
    data = {k: [r[k] for r in rows] for k in rows[0]}
    out = evaluate_columns(data, validate=False, catalog=catalog)
    results: list[Results | XlcostError] = []
    for i, s in enumerate(scenarios):
        try:
            results.append(_results(s.name, {k: v[i : i + 1] for k, v in out.items()}))
        except XlcostError as e:
            results.append(e)
    return results


def schedule(scenario: Scenario, catalog: Catalog | None = None) -> list[CashFlowRow]:
    """The monthly cash-flow schedule, months 0..H; its sums equal the totals.

    Examples
    --------
    >>> from xlcost.engine.examples import seed_scenario
    >>> [(r.month, r.cost, round(r.benefit, 9), round(r.cumulative, 9))
    ...  for r in schedule(seed_scenario())]
    [(0, 480.0, 0.0, -480.0), (1, 55.0, 75.0, -460.0), (2, 55.0, 75.0, -440.0)]
    """
    cols, _ = _columns(scenario_data(scenario), catalog)
    return _schedule(_flows(cols))


def evaluate_with_schedule(
    scenario: Scenario, catalog: Catalog | None = None
) -> tuple[Results, list[CashFlowRow]]:
    """:func:`evaluate` and :func:`schedule` of one scenario from one pass over its inputs.

    Examples
    --------
    >>> from xlcost.engine.examples import seed_scenario
    >>> results, rows = evaluate_with_schedule(seed_scenario())
    >>> results == evaluate(seed_scenario()) and rows == schedule(seed_scenario())
    True
    """
    cols, _ = _columns(scenario_data(scenario), catalog)
    f = _flows(cols)
    return _results(scenario.name, _result_columns(cols, f)), _schedule(f)


def _schedule(flows: Mapping[str, Array]) -> list[CashFlowRow]:
    """The months of :func:`schedule` from the first row of :func:`_flows`."""
    f = {k: float(v[0]) for k, v in flows.items()}
    h, mm = int(f["H"]), int(f["M"])
    per_month_benefit = f["benefit"] / h
    per_month_cost = per_month_benefit - f["a"]
    rows = [CashFlowRow(month=0, cost=f["c0"], benefit=0.0, net=-f["c0"], cumulative=-f["c0"])]
    for t in range(1, h + 1):
        cost = per_month_cost + (f["m"] if t <= mm else 0.0) - (f["s"] if t == h else 0.0)
        cumulative = -f["c0"] + f["a"] * t - f["m"] * min(t, mm) + (f["s"] if t == h else 0.0)
        rows.append(
            CashFlowRow(
                month=t,
                cost=cost,
                benefit=per_month_benefit,
                net=per_month_benefit - cost,
                cumulative=cumulative,
            )
        )
    return rows


def schedule_lines(scenario: Scenario, catalog: Catalog | None = None) -> dict[str, list[float]]:
    """Each month's cost (months 0..H) by line of :data:`CASH_FLOW_LINES`; they add up to the
    schedule's cost column, and each line's sum is its total.

    Examples
    --------
    >>> from xlcost.engine.examples import seed_scenario
    >>> lines = schedule_lines(seed_scenario())
    >>> lines["training_gpus"], lines["serving_gpus"], lines["maintenance"]
    ([480.0, 0.0, 0.0], [0.0, 5.0, 5.0], [0.0, 50.0, 50.0])
    """
    cols, _ = _columns(scenario_data(scenario), catalog)
    return _schedule_lines(_flows(cols))


def _schedule_lines(flows: Mapping[str, Array]) -> dict[str, list[float]]:
    f = {k: float(v[0]) for k, v in flows.items()}
    h, mm = int(f["H"]), int(f["M"])
    spread = {
        "training_gpus": (f["upfront_train_cost"], f["train_gpu_cost"] - f["upfront_train_cost"]),
        "data": (f["data_prep_cost"], f["data_cost"] - f["data_prep_cost"]),
        "serving_gpus": (0.0, f["serve_gpu_cost"]),
        "infrastructure": (f["setup_cost"], f["infra_cost"] - f["setup_cost"]),
        "power_hosting": (0.0, f["power_cost"]),
        "hosted_api": (0.0, f["api_cost"]),
    }
    lines = {k: [now] + [later / h] * h for k, (now, later) in spread.items()}
    lines["owned_gpus"] = [f["gpu_purchase"]] + [0.0] * (h - 1) + [0.0 - f["s"]]  # never −0
    lines["maintenance"] = [0.0] + [f["m"] if t <= mm else 0.0 for t in range(1, h + 1)]
    return {k: lines[k] for k in CASH_FLOW_LINES}


def flow_parts(scenario: Scenario, catalog: Catalog | None = None) -> dict[str, float]:
    """The schedule's parts the workbook shows: month-0 cost ``c0``, the value left ``s``
    (month H), rented serving cost ``serve_gpu_cost``, and the API requests and serving hours
    used.

    >>> from xlcost.engine.examples import seed_scenario
    >>> p = flow_parts(seed_scenario())
    >>> p["c0"], p["s"], p["serve_gpu_cost"], p["api_requests"]
    (480.0, 0.0, 10.0, 100000000.0)
    """
    cols, _ = _columns(scenario_data(scenario), catalog)
    f = _flows(cols)
    keys = ("c0", "s", "serve_gpu_cost", "api_requests", "serve_hours")
    return {k: float(f[k][0]) for k in keys}
