"""Build the xlcost template workbook, in "udf" or "portable" mode, reproducibly.

Design
------
* **One layout, two modes.** Every cell that calls an xlcost function gets its text from
  :func:`xlcost.functions.formula`: ``=TRAIN_COST(...)`` in udf mode, the native Excel equivalent
  in portable mode. Everything else (layout, names, styles, native finance formulas) is shared.
* **Formula and cached value side by side.** Each formula cell is declared once as a
  :class:`Calc`: its address, its formula and a function giving its value from the engine
  (:class:`Facts`: :func:`~xlcost.engine.evaluate.evaluate_with_schedule`, i.e. ``evaluate`` and
  ``schedule`` in one pass, and :func:`~xlcost.engine.allocate.rank_results`, i.e. ``compare``
  of the evaluated options; each scenario is evaluated once). The values
  are written into the sheet XML as the formulas' cached results, so readers that do not
  calculate (pandas, calamine, previewers) show the engine's numbers; ``fullCalcOnLoad`` makes
  Excel and LibreOffice recalculate on open.
* **Skeleton once, values per scenario.** openpyxl builds the workbook once per (mode, number of
  options) with the input cells styled but empty (:class:`Template`). Rendering a scenario only
  splices input values and cached values into the sheet XML and re-zips: cheap enough for batch
  generation, and the same code path as a single build.
* **Deterministic bytes.** Fixed document dates in ``docProps/core.xml`` and fixed zip entry dates,
  permissions and compression, members in openpyxl's (stable) order.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache, partial
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from xlcost import __version__
from xlcost._files import atomic_write
from xlcost.engine import costs, finance
from xlcost.engine.allocate import rank_results
from xlcost.engine.breakeven import PairBreakEven
from xlcost.engine.catalog import (
    GPU_FIELDS,
    Catalog,
    active_catalog,
    catalog_set,
    default_catalog,
)
from xlcost.engine.checks import (
    CHECKS,
    MFU_LIMIT,
    PEAK_TO_AVERAGE_LIMIT,
    PRICE_AGE_DAYS,
    PRICE_KINDS,
    UPLIFT_LIMIT,
    measure_columns,
    prices_in_use,
)
from xlcost.engine.errors import XlcostError
from xlcost.engine.evaluate import (
    CASH_FLOW_LINES,
    PRICE_FILLS,
    TERMS,
    _columns,
    _flows,
    _resolved,
    derived_columns,
    evaluate,
    evaluate_columns,
    evaluate_with_schedule,
    flow_parts,
    scenario_data,
    schedule_lines,
    used_inputs,
)
from xlcost.engine.examples import COMPARISON, load_example, seed_scenario
from xlcost.engine.model import (
    GPU_FILLS,
    INPUT_NAMES,
    RESULT_NAMES,
    TEXT_INPUTS,
    CashFlowRow,
    Results,
    Scenario,
    field_domain,
    input_spec,
)
from xlcost.engine.prices import STALE_AFTER_DAYS
from xlcost.engine.risk import (
    BREAK_EVEN_INPUTS,
    DEFAULT_DRAWS,
    DEFAULT_SEED,
    OptionRisk,
    Ranges,
    base_columns,
    base_value,
    effective_ranges,
    linear_break_even,
    probe_value,
    simulate,
    tornado,
)
from xlcost.functions import formula
from xlcost.workbooks import layout as L
from xlcost.workbooks import styles as S

__all__ = [
    "DEFAULT_BUDGET",
    "MODES",
    "NO_FIT",
    "NO_GAIN",
    "Calc",
    "Facts",
    "Template",
    "build_template",
    "template_bytes",
]

MODES = ("udf", "portable")
DEFAULT_BUDGET = 1_000_000.0
"""Budget of the shipped template's Scenarios sheet (``xlcost template``; the shipped comparison
example's, as in ``xlcost compare --budget 1000000``). Elsewhere the budget cell is blank = no
budget unless one is given."""
NO_FIT = "None: no option fits the budget."
NO_GAIN = "None: no option within the budget has a positive NPV; doing nothing is cheaper."
FIXED_DATE = dt.datetime(2026, 1, 1)
"""Document dates written into every template (so that builds are byte-identical)."""
_ZIP_DATE = (2026, 1, 1, 0, 0, 0)

Value = float | int | str | bool | None


# --------------------------------------------------------------------------- engine facts


@dataclass(frozen=True)
class Option:
    """One scenario with its results and the derived inputs the workbook shows."""

    scenario: Scenario
    results: Results
    used_train_hours: float
    used_serve_gpus: float
    used_maintain_months: float
    upfront_train_cost: float
    monthly_rate: float
    used: dict[str, float | None]
    """The engine's values in effect (:func:`~xlcost.engine.evaluate.used_inputs`)."""
    checks: dict[str, tuple[float | None, float | None, str]]
    """Check id → (value, limit, status) as the Checks sheet shows them
    (:func:`~xlcost.engine.checks.measure_columns`); ``None`` = blank."""
    price_dates: tuple[float | None, ...]
    """Age in days of the catalog prices in use (serving, training, purchase, API); ``None``
    = none."""
    used_serve_hours: float
    serve_gpu_cost: float
    used_api_requests: float
    upfront_cost: float
    gpu_value_left: float

    @classmethod
    def of(cls, s: Scenario, results: Results | None = None) -> Option:
        """Evaluate ``s`` with the engine (``results``: its :func:`evaluate`, if known)."""
        used = used_inputs(s)
        hours = float(used["train_hours"])  # type: ignore[arg-type]  # the rules guarantee it
        upfront = costs.train_cost(
            s.train_gpus,
            hours,
            used["train_price_per_gpu_hour"],  # type: ignore[arg-type]
            s.train_runs,
            s.train_overhead_rate,
        )
        parts = flow_parts(s)
        return cls(
            scenario=s,
            results=evaluate(s) if results is None else results,
            used_train_hours=hours,
            used_serve_gpus=float(used["serve_gpus"]),  # type: ignore[arg-type]
            used_maintain_months=float(used["maintain_months"]),  # type: ignore[arg-type]
            upfront_train_cost=float(upfront),
            monthly_rate=float(finance.monthly_rate(s.discount_rate_annual)),
            used=used,
            checks=_check_table(s),
            price_dates=_price_dates(s),
            used_serve_hours=parts["serve_hours"],
            serve_gpu_cost=parts["serve_gpu_cost"],
            used_api_requests=parts["api_requests"],
            upfront_cost=parts["c0"],
            gpu_value_left=parts["s"],
        )

    def value(self, name: str) -> Value:
        """An input, derived input or result by name; ``None`` results are blank text."""
        if name.startswith("used_") and name[5:] in L.ESTIMATED:
            return self.used[name[5:]]
        if name in INPUT_NAMES:
            v: Value = getattr(self.scenario, name)
        elif name in RESULT_NAMES:
            v = getattr(self.results, name)
        else:
            v = getattr(self, name)
        return "" if v is None and name in RESULT_NAMES else v


def _check_table(s: Scenario) -> dict[str, tuple[float | None, float | None, str]]:
    measures = measure_columns(scenario_data(s))
    out: dict[str, tuple[float | None, float | None, str]] = {}
    for name, (value, limit, fired) in measures.items():
        v, lim = float(value[0]), float(limit[0])
        status = "n/a" if math.isnan(v) else ("WARNING" if bool(fired[0]) else "OK")
        out[name] = (
            None if math.isnan(v) else v,
            None if math.isnan(lim) else lim,
            status,
        )
    return out


def _price_dates(s: Scenario) -> tuple[float | None, ...]:
    """Age in days of each catalog price ``s`` uses (:data:`~xlcost.engine.checks.PRICE_KINDS`
    order; ``None``: none of that kind)."""
    today = dt.date.today()
    used = prices_in_use(scenario_data(s), active_catalog(), 1)
    return tuple(
        None if (u := used[kind][0]) is None else float((today - u[0]).days) for kind in PRICE_KINDS
    )


@dataclass(frozen=True)
class Facts:
    """Everything the engine says about one template: the main scenario and the comparison."""

    main: Option
    months: tuple[CashFlowRow, ...]
    options: tuple[Option, ...]
    ranks: tuple[int, ...]
    within_budget: tuple[bool, ...]
    recommendation: str
    lines: dict[str, list[float]]
    rows: int = L.MAX_MONTHS
    """Months the Cash flow sheet lays out (months 0..rows)."""
    ranges: Ranges = Ranges()  # noqa: RUF009  (frozen, immutable)
    """The main scenario's input ranges, with the defaults (the Inputs sheet's Low / High)."""
    seed: int = DEFAULT_SEED
    simulation_draws: int = DEFAULT_DRAWS

    @classmethod
    def of(
        cls,
        scenario: Scenario,
        comparison: Sequence[Scenario],
        budget: float | None,
        rows: int = L.MAX_MONTHS,
        ranges: Ranges | None = None,
    ) -> Facts:
        """Evaluate the scenario, its schedule and the comparison with the engine.

        Each scenario is evaluated once: the main one together with its schedule, and an
        option equal to it shares its evaluation. ``rows``: months the Cash flow sheet lays out.
        """
        if scenario.horizon_months > rows:
            raise XlcostError(
                f"horizon_months: the template lays out at most {rows} months, "
                f"got {scenario.horizon_months}"
            )
        results, months = evaluate_with_schedule(scenario)
        main = Option.of(scenario, results)
        options = tuple(main if s == scenario else Option.of(s) for s in comparison)
        c = rank_results([opt.results for opt in options], budget=budget, by="npv")
        ranked = [next(o for o in c.options if o.results == opt.results) for opt in options]
        if c.recommended is not None:
            recommendation = c.recommended
        else:
            recommendation = NO_GAIN if any(o.within_budget for o in c.options) else NO_FIT
        return cls(
            main,
            tuple(months),
            options,
            tuple(o.rank for o in ranked),
            tuple(o.within_budget for o in ranked),
            recommendation,
            schedule_lines(scenario),
            rows,
            effective_ranges(scenario, ranges),
        )

    @cached_property
    def simulation(self) -> OptionRisk:
        """The Monte Carlo of the main scenario over its ranges (the Risk sheet's block)."""
        sim = simulate(self.main.scenario, self.ranges, draws=self.simulation_draws,
                       seed=self.seed, histogram_bins=L.RISK_HIST_BINS)  # fmt: skip
        return sim.options[0]

    @cached_property
    def what_if(self) -> tuple[dict[str, Value], ...]:
        """The Risk sheet's what-if columns (:func:`_what_if_columns`), evaluated in one call."""
        s, used = self.main.scenario, self.main.used
        changes: list[tuple[str, float | None]] = []
        for _, n, side in _what_if_columns():
            x0 = base_value(s, n, used)
            r = self.ranges.inputs.get(n)
            if side == "probe":
                changes.append((n, None if x0 is None else probe_value(x0)))
            else:
                changes.append((n, x0 if r is None else getattr(r, side)))
        return _what_if_rows(s, changes)

    @cached_property
    def tornado_rows(self) -> tuple[dict[str, Value], ...]:
        """The unsorted tornado: per tornado input its Low, High, the NPVs there (the engine's
        :func:`~xlcost.engine.risk.tornado`), swing and rank."""
        s, npv = self.main.scenario, self.main.results.npv
        bars = {b.input: b for b in tornado(s, self.ranges).bars}
        rows: list[dict[str, Value]] = []
        swings: list[float] = []
        for n in L.RISK_TORNADO_INPUTS:
            b = bars.get(n)
            x0 = base_value(s, n, self.main.used)
            low = high = x0
            npv_low = npv_high = npv
            if b is not None:
                low, high, npv_low, npv_high = b.low, b.high, b.npv_low, b.npv_high
            swings.append(abs(npv_high - npv_low))
            rows.append({"input": n, "low": low, "high": high,
                         "npv_low": npv_low, "npv_high": npv_high,
                         "swing": swings[-1]})  # fmt: skip
        for i, r in enumerate(rows):
            r["rank"] = sum(x > swings[i] for x in swings) + swings[: i + 1].count(swings[i])
        return tuple(rows)

    @cached_property
    def tornado_bars(self) -> tuple[dict[str, Value], ...]:
        """The sorted tornado: the inputs with a swing, largest first (ties: input order)."""
        npv = self.main.results.npv
        bars = sorted((r for r in self.tornado_rows if _num(r["swing"]) > 0),
                      key=lambda r: _num(r["rank"]))  # fmt: skip
        return tuple(
            r | {"delta_low": _num(r["npv_low"]) - npv, "delta_high": _num(r["npv_high"]) - npv}
            for r in bars[: L.RISK_TORNADO_BARS]
        )

    @cached_property
    def break_even(self) -> dict[str, _BreakEvenCells]:
        """Break-even of each break-even input: the raw linear root and the engine's value."""
        out: dict[str, _BreakEvenCells] = {}
        for j, n in enumerate(BREAK_EVEN_INPUTS):
            x0 = base_value(self.main.scenario, n, self.main.used)
            probe = self.what_if[j]  # the probe columns come first, in this order
            y0, y1 = self.main.results.npv, probe["npv"]
            raw = value = None
            if x0 is not None and isinstance(y1, float):
                x1 = float(probe["value"])  # type: ignore[arg-type]
                raw = x0 - y0 * (x1 - x0) / (y1 - y0) if y1 != y0 else None
                value = linear_break_even(n, x0, y0, x1, y1).value
            out[n] = _BreakEvenCells(raw, value)
        return out

    @cached_property
    def irr_search_sign(self) -> int:
        """Sign of the NPV at the search's low end (the Cash flow sheet's IRR search)."""
        return int(np.sign(self._npv_at(L.CF_SEARCH_BRACKET[0])))

    @cached_property
    def irr_search(self) -> tuple[tuple[float, float, float], ...]:
        """The IRR search's steps as the workbook computes them: (low, high, NPV at midpoint)."""
        low, high = L.CF_SEARCH_BRACKET
        steps: list[tuple[float, float, float]] = []
        for _ in range(L.CF_SEARCH_STEPS):
            if steps:
                same = np.sign(steps[-1][2]) == self.irr_search_sign
                mid = math.sqrt(low * high)
                low, high = (mid, high) if same else (low, mid)
            steps.append((low, high, self._npv_at(math.sqrt(low * high))))
        return tuple(steps)

    @property
    def irr_guess(self) -> float:
        """IRR's starting guess: the geometric midpoint of the search's last bracket, − 1."""
        low, high, _ = self.irr_search[-1]
        return math.sqrt(low * high) - 1

    def _npv_at(self, growth: float) -> float:
        """Month-0 net plus Excel's NPV of months 1..rows at rate ``growth`` − 1.

        Summed in closed form over the runs of equal nets (a geometric series each), from
        the nets laid out once: the IRR search evaluates it at each of its 41 steps.
        """
        first, runs = self._net_runs
        q = 1.0 / growth
        total = first
        for value, start, count in runs:
            if q == 1.0:
                total += value * count
            else:
                total += value * q**start * (1.0 - q**count) / (1.0 - q)
        return total

    @cached_property
    def _net_runs(self) -> tuple[float, tuple[tuple[float, int, int], ...]]:
        """Month 0's net, and months 1..rows as runs (net, first month, months) of
        equal nonzero nets."""
        nets = [row.net for row in self._laid_out]
        runs: list[tuple[float, int, int]] = []
        for month, net in enumerate(nets[1:], start=1):
            if runs and runs[-1][0] == net and runs[-1][1] + runs[-1][2] == month:
                runs[-1] = (net, runs[-1][1], runs[-1][2] + 1)
            elif net != 0.0:
                runs.append((net, month, 1))
        return nets[0], tuple(runs)

    def line(self, name: str, t: int) -> float:
        """Month ``t``'s cost of one cash-flow line; 0 beyond the horizon."""
        amounts = self.lines[name]
        return amounts[t] if t < len(amounts) else 0.0

    def month(self, t: int) -> CashFlowRow:
        """Month ``t`` of the schedule; beyond the horizon nothing flows (cumulative stays)."""
        rows = self._laid_out
        return rows[t] if t < len(rows) else self._after(t)

    def _after(self, t: int) -> CashFlowRow:
        last = self.months[-1]
        return CashFlowRow(month=t, cost=0.0, benefit=0.0, net=0.0, cumulative=last.cumulative)

    @cached_property
    def _laid_out(self) -> tuple[CashFlowRow, ...]:
        """Months 0..rows, the Cash flow sheet's rows, made once."""
        after = map(self._after, range(len(self.months), self.rows + 1))
        return (*self.months, *after)


def _num(v: Value) -> float:
    """A cell value known to be a number, as a float."""
    return float(v) if isinstance(v, int | float) else math.nan


@dataclass(frozen=True)
class _BreakEvenCells:
    raw: float | None
    """The linear root of NPV = 0 (any value), ``None`` when the NPV does not depend on it."""
    value: float | None
    """The engine's break-even (:func:`~xlcost.engine.risk.break_even`); ``None``: none in range."""


_FLOW_KEYS = {
    "upfront_train_cost": "upfront_train_cost",
    "serve_gpu_cost": "serve_gpu_cost",
    "upfront_cost": "c0",
    "gpu_value_left": "s",
    "monthly_rate": "rate",
}
"""What-if cells read from the engine's schedule (:func:`~xlcost.engine.evaluate.flow_parts`
names them as :class:`Option` does); ``used_*`` cells are the inputs in effect, the others
results."""


def _what_if_rows(
    scenario: Scenario, changes: Sequence[tuple[str, float | None]]
) -> tuple[dict[str, Value], ...]:
    """The what-if cells of the Risk sheet: ``scenario`` with one input changed per row
    (``None``: unchanged), every row evaluated by the engine in one call. Keys: ``value`` (the
    changed input) and :data:`~xlcost.workbooks.layout.RISK_WI_CALCS`."""
    base = base_columns(scenario)
    m = len(changes)
    cols = {k: np.full(m, v) for k, v in base.items()}
    for i, (n, v) in enumerate(changes):
        if v is not None:
            cols[n][i] = v
    full, _ = _columns(cols)
    merged = {**full, **derived_columns(full), **_resolved(full)}
    flows = _flows(full)
    out = evaluate_columns(cols, validate=False, with_irr=False)

    def cell(x: float) -> float | None:
        return float(x) if math.isfinite(x) else None

    rows: list[dict[str, Value]] = []
    for i, (_, v) in enumerate(changes):
        row: dict[str, Value] = {"value": v}
        for key in L.RISK_WI_CALCS:
            if key.startswith("used_"):
                row[key] = cell(merged[key[5:]][i])
            elif key in _FLOW_KEYS:
                row[key] = float(flows[_FLOW_KEYS[key]][i])
            else:
                row[key] = "" if (x := cell(out[key][i])) is None else x
        rows.append(row)
    return tuple(rows)


@dataclass(frozen=True)
class Calc:
    """A formula cell: where it is, its formula, and its value according to the engine."""

    sheet: str
    cell: str
    formula: str
    value: Callable[[Facts], Value]
    exact: bool = True
    """False for the IRR search's cells: near the root a calculator's rounding may take the
    other half of a bracket, so only the result they lead to is comparable."""


# --------------------------------------------------------------------------- formulas


def _model_formulas(mode: str, r: Callable[[str], str]) -> dict[str, str]:
    """Formulas of the derived inputs and the cost table, with ``r(name)`` referencing a value.

    The Costs sheet references defined names (``r`` = identity); the Scenarios sheet references
    the cells of one option's column. One definition serves both.
    """
    f = partial(formula, mode)
    hours_estimate = f(
        "TRAIN_HOURS",
        r("model_params"),
        r("used_train_tokens"),
        r("train_gpus"),
        r("used_gpu_peak_tflops"),
        r("mfu"),
        r("flops_per_param_token"),
    )[1:]
    replicas = f(
        "REPLICAS",
        r("peak_qps"),
        r("used_qps_per_replica"),
        r("target_utilization"),
        r("min_replicas"),
    )[1:]
    train = (r("train_gpus"), r("used_train_hours"), r("used_train_price_per_gpu_hour"))
    h = r("horizon_months")
    return {
        **_sizing_formulas(mode, r),
        "used_train_hours": (
            f"=IF(ISBLANK({r('train_hours')}),{hours_estimate},{r('train_hours')})"
        ),
        "used_serve_gpus": (
            f"=IF(ISBLANK({r('serve_gpus')}),{replicas}*{r('used_gpus_per_replica')},"
            f"{r('serve_gpus')})"
        ),
        "used_maintain_months": (  # #N/A beyond the horizon: the engine refuses it
            f"=IF(ISBLANK({r('maintain_months')}),{r('horizon_months')},"
            f"IF({r('maintain_months')}>{r('horizon_months')},NA(),{r('maintain_months')}))"
        ),
        "upfront_train_cost": f("TRAIN_COST", *train, r("train_runs"), r("train_overhead_rate")),
        "serve_gpu_cost": f(
            "DEPLOY_COST",
            r("used_serve_gpus"),
            r("used_serve_hours"),
            r("used_serve_price_per_gpu_hour"),
            r("serve_overhead_rate"),
        ),
        "used_api_requests": f"=IF(ISBLANK({r('api_requests')}),{r('volume')},{r('api_requests')})",
        "used_serve_hours": f"=IF(ISBLANK({r('serve_hours')}),0,{r('serve_hours')})",
        "data_cost": f"={r('data_prep_cost')}+{r('data_refresh_per_month')}*{h}",
        "infra_cost": f"={h}*({r('storage_gb')}*{r('storage_price_per_gb_month')}+"
        f"{r('egress_gb_per_month')}*{r('egress_price_per_gb')}+{r('software_per_month')})"
        f"+{r('setup_cost')}",
        "incident_cost": f"={r('used_maintain_months')}*{r('incidents_per_month')}*"
        f"{r('incident_hours')}*{r('incident_price_per_hour')}",
        "hardware_cost": f(
            "OWN_GPU_COST",
            r("own_gpus"),
            r("used_gpu_purchase_price"),
            h,
            r("useful_life_months"),
            r("salvage_rate"),
        ),
        "power_cost": f(
            "POWER_COST",
            r("own_gpus"),
            r("used_power_kw_per_gpu"),
            r("used_serve_hours"),
            r("electricity_price_per_kwh"),
            r("pue"),
        )
        + f"+{r('own_gpus')}*{r('hosting_per_gpu_month')}*{h}",
        "api_cost": f(
            "API_COST",
            r("used_api_requests"),
            r("api_input_tokens_per_request"),
            r("api_output_tokens_per_request"),
            r("used_api_price_per_m_input_tokens"),
            r("used_api_price_per_m_output_tokens"),
        ),
        "upfront_cost": f"={r('upfront_train_cost')}+{r('data_prep_cost')}+{r('setup_cost')}"
        f"+{r('own_gpus')}*{r('used_gpu_purchase_price')}",
        "gpu_value_left": f"={r('own_gpus')}*{r('used_gpu_purchase_price')}-{r('hardware_cost')}",
        "train_cost": f(
            "TRAIN_COST",
            *train,
            f"({r('train_runs')}+{r('retrains')})",
            r("train_overhead_rate"),
        )
        + f"+{r('data_cost')}",
        "deploy_cost": f"={r('serve_gpu_cost')}+{r('infra_cost')}+{r('hardware_cost')}"
        f"+{r('power_cost')}+{r('api_cost')}",
        "maintain_cost": f(
            "MAINTAIN_COST",
            r("used_maintain_months"),
            r("maintain_units_per_month"),
            r("maintain_price_per_unit"),
            r("maintain_fixed_per_month"),
        )
        + f"+{r('incident_cost')}",
        "benefit": f(
            "BENEFIT",
            r("volume"),
            r("ctr"),
            r("cvr"),
            r("value_per_conversion"),
            r("baseline_ctr"),
            r("baseline_cvr"),
        ),
        "total_cost": f"={r('train_cost')}+{r('deploy_cost')}+{r('maintain_cost')}",
        "roi": f'=IF({r("total_cost")}>0,{f("ROI", r("benefit"), r("total_cost"))[1:]},"")',
        "bcr": f'=IF({r("total_cost")}>0,{f("BCR", r("benefit"), r("total_cost"))[1:]},"")',
        "monthly_rate": f"=(1+{r('discount_rate_annual')})^(1/12)-1",
    }


def catalog_lookup(gpu: str, field: str) -> str:
    """Native formula text of one catalog value of GPU ``gpu`` from the Catalog sheet."""
    return f'INDEX(catalog_table,MATCH({gpu},catalog_names,0),MATCH("{field}",catalog_fields,0))'


def _sizing_formulas(mode: str, r: Callable[[str], str]) -> dict[str, str]:
    """``used_<name>`` of :data:`~xlcost.workbooks.layout.ESTIMATED`: the input, else the Catalog
    sheet's value for the named GPU, else the estimator; ``""`` where nothing is known (the
    engine's blank). ``r(name)`` references the typed input, ``r("used_" + name)`` the result."""
    f = partial(formula, mode)
    out: dict[str, str] = {}
    term = r("serve_term")
    for gpu, fills in GPU_FILLS.items():
        for name, field in fills.items():
            found = catalog_lookup(r(gpu), field)
            if name == "serve_price_per_gpu_hour":  # on a serve_term: the mean of its offers
                offers = f"offers_gpu,{r(gpu)},offers_term,{term}"
                found = (
                    f"IF(ISBLANK({term}),{found},"
                    f"SUMIFS(offers_price_per_hour,{offers})/COUNTIFS({offers}))"
                )
            out[f"used_{name}"] = (
                f'=IF(ISBLANK({r(name)}),IF(ISBLANK({r(gpu)}),"",{found}),{r(name)})'
            )
    for named, fills in PRICE_FILLS.items():
        section, key = ("purchases", "gpu") if named == "serve_gpu" else ("apis", "model")
        for name, field in fills.items():
            found = f"INDEX({section}_{field},MATCH({r(named)},{section}_{key},0))"
            if named == "serve_gpu":  # a GPU without a purchase entry leaves its blanks 0
                found = f"IFERROR({found},0)"
            out[f"used_{name}"] = (
                f"=IF(ISBLANK({r(name)}),IF(ISBLANK({r(named)}),0,N({found})),{r(name)})"
            )

    def known(*names: str) -> str:
        return f"AND({','.join(f'ISNUMBER({r(n)})' for n in names)})"

    out["used_train_tokens"] = (
        f"=IF(ISBLANK({r('train_tokens')}),IF({known('train_examples', 'tokens_per_example')},"
        f'{r("train_examples")}*{r("tokens_per_example")}*{r("epochs")},""),{r("train_tokens")})'
    )
    fit = f("FIT_GPUS", r("model_params"), r("used_serve_memory_gb"), r("bytes_per_param"))[1:]
    out["used_gpus_per_replica"] = (
        f"=IF(ISBLANK({r('gpus_per_replica')}),IF({known('model_params', 'used_serve_memory_gb')},"
        f"MAX(1,{fit}),1),{r('gpus_per_replica')})"
    )
    out_tokens = r("output_tokens_per_request")
    serve = f(
        "SERVE_QPS",
        r("model_params"),
        f"({r('tokens_per_item')}*{r('items_per_request')}+{out_tokens})",
        r("used_serve_peak_tflops"),
        r("serve_mfu"),
    )[1:]
    decode = f(
        "DECODE_QPS",
        r("model_params"),
        out_tokens,
        r("used_serve_memory_bandwidth_tbs"),
        r("serve_batch"),
        r("bytes_per_param"),
        r("serve_mbu"),
    )[1:]
    per_gpu = (
        f"IF({out_tokens}>0,IF(ISNUMBER({r('used_serve_memory_bandwidth_tbs')}),"
        f'MIN({serve},{decode}),""),{serve})'
    )
    out["used_qps_per_replica"] = (
        f"=IF(ISBLANK({r('qps_per_replica')}),"
        f"IF({known('model_params', 'tokens_per_item', 'used_serve_peak_tflops')},"
        f'IFERROR({per_gpu}*{r("used_gpus_per_replica")},""),""),{r("qps_per_replica")})'
    )
    return out


def _costs_ref(name: str) -> str:
    """A value by defined name, as the Costs and Inputs sheets reference it."""
    return f"used_{name}" if name in L.DEFAULTED else name


def _npv_formula(ref: Callable[[str], str]) -> str:
    """NPV of one option in closed form (two constant monthly segments and the value of owned
    GPUs left at the end), as on Scenarios."""
    a = (
        f"({ref('benefit')}-({ref('total_cost')}-{ref('maintain_cost')}-"
        f"{ref('upfront_cost')}+{ref('gpu_value_left')}))/{ref('horizon_months')}"
    )
    m = (
        f"IF({ref('used_maintain_months')}>0,{ref('maintain_cost')}/"
        f"{ref('used_maintain_months')},0)"
    )
    rate = ref("monthly_rate")
    return (
        f"=-{ref('upfront_cost')}+PV({rate},{ref('horizon_months')},-{a})"
        f"-PV({rate},{ref('used_maintain_months')},-{m})"
        f"+{ref('gpu_value_left')}/(1+{rate})^{ref('horizon_months')}"
    )


def _text(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _main_value(name: str, f: Facts) -> Value:
    return f.main.value(name)


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


# --------------------------------------------------------------------------- sheets


def _title(ws: Worksheet, title: str, note: str, widths: dict[str, float]) -> None:
    """Title in A1; the note in A2, wrapped across the sheet's columns so it prints in full."""
    ws["A1"] = title
    ws["A1"].style = S.TITLE
    ws["A2"] = note
    ws["A2"].style = S.SUBTITLE
    ws["A2"].alignment = Alignment(wrap_text=True, vertical="top")
    for col, width in widths.items():
        ws.column_dimensions[col].width = width
    last = max(widths, key=lambda c: (len(c), c))
    ws.merge_cells(f"A2:{last}2")
    _fit_height(ws, 2, note, sum(widths.values()))


def _fit_height(ws: Worksheet, row: int, text: str, width: float) -> None:
    """Give a row with wrapped ``text`` in a column of ``width`` room for all its lines.

    Spreadsheet programs do not grow rows for wrapped text in a file they open, so the height
    is set here (about 1.1 characters per width unit at 10-11 pt, 15 points a line).
    """
    lines = max(1, math.ceil(len(text) / (width * 1.1)))
    current = ws.row_dimensions[row].height or 15
    ws.row_dimensions[row].height = max(current, 15 * lines)


_NOTE_CHARS = 1.15
"""Notes are 10 pt italic: about 15 % more characters per width unit than 11 pt text."""


def _header(ws: Worksheet, row: int, labels: Sequence[str], first_col: int = 1) -> None:
    for i, label in enumerate(labels):
        cell = ws.cell(row, first_col + i, label)
        cell.style = S.HEADER


def _finish(ws: Worksheet, freeze: str, last_col: str, last_row: int) -> None:
    """Freeze panes, print setup (landscape, fit to width) and protection without password."""
    ws.freeze_panes = freeze
    ws.print_area = f"A1:{last_col}{last_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = None
    ws.protection.sheet = True


def _validation(name: str, cell: str, months: int = L.MAX_MONTHS) -> DataValidation:
    """Data validation of one input cell, derived from the model's constraints."""
    spec = input_spec(name)
    title = spec["label"][:32]
    prompt = f"{spec['description']} Unit: {spec['unit']}."
    if spec["default"] is not None:
        prompt += f" Blank = default ({_text(spec['default'])})."
    elif not spec["required"]:
        prompt += " May be left blank."
    common: dict[str, Any] = {
        "allow_blank": not spec["required"],
        "showInputMessage": True,
        "showErrorMessage": True,
        "promptTitle": title,
        "prompt": prompt[:255],
        "errorTitle": f"Invalid {name}"[:32],
        "errorStyle": "stop",
    }
    if name == "maintain_months":  # the engine's cross-rule: at most the horizon
        return DataValidation(
            type="whole", operator="between", formula1="0", formula2="horizon_months",
            error="maintain_months must be a whole number from 0 to horizon_months.", **common,
        )  # fmt: skip
    if name == "serve_term":
        return DataValidation(
            type="list", formula1=f'"{",".join(TERMS)}"',
            error=f"serve_term must be blank (on demand) or one of {', '.join(TERMS)}.", **common,
        )  # fmt: skip
    if name in TEXT_INPUTS and name != "currency":  # a name: the model's length limits
        meta = Scenario.model_fields[name].metadata
        longest = next(m.max_length for m in meta if hasattr(m, "max_length"))
        return DataValidation(
            type="textLength", operator="between", formula1="1", formula2=f"{longest}",
            error=f"{name} must be 1 to {longest} characters.", **common,
        )  # fmt: skip
    if name == "currency":
        return DataValidation(
            type="custom", formula1=f"AND(LEN({cell})=3,EXACT({cell},UPPER({cell})))",
            error="currency must be a 3-letter ISO code in capitals, e.g. USD.", **common,
        )  # fmt: skip
    lower, inclusive, upper = field_domain(name)
    if name == "horizon_months":
        upper = months if upper is None else min(upper, months)
    kind = "whole" if Scenario.model_fields[name].annotation in (int, int | None) else "decimal"
    low = "≥" if inclusive else ">"
    bounds = [f"{low} {lower:g}"] if lower is not None else []
    bounds += [f"≤ {upper:g}"] if upper is not None else []
    error = f"{name} must be a {'whole ' if kind == 'whole' else ''}number {' and '.join(bounds)}."
    if lower is not None and upper is not None and inclusive:
        return DataValidation(
            type=kind, operator="between", formula1=f"{lower:g}", formula2=f"{upper:g}",
            error=error, **common,
        )  # fmt: skip
    if lower is not None and upper is not None:
        return DataValidation(
            type="custom", formula1=f"AND(ISNUMBER({cell}),{cell}>{lower:g},{cell}<={upper:g})",
            error=error, **common,
        )  # fmt: skip
    operator = "greaterThanOrEqual" if inclusive else "greaterThan"
    return DataValidation(
        type=kind, operator=operator, formula1=f"{lower or 0:g}", error=error, **common
    )


_GROUP_LABELS = {
    "identity": "Identity",
    "finance": "Finance",
    "owned_gpus": "Owned GPUs (instead of renting)",
    "hosted_api": "Hosted API (instead of serving)",
}
"""Headings of the Inputs sheet's groups that are not just the group name capitalised."""


def _inputs_sheet(wb: Workbook, mode: str = "udf", months: int = L.MAX_MONTHS) -> list[Calc]:
    ws = wb.create_sheet(L.INPUTS)
    _title(
        ws,
        "Inputs: one option under evaluation",
        "Type your assumptions into the yellow cells (quantities are totals over the evaluation "
        "period). Blank optional cells take the default shown; Used is the value in effect. "
        "Each value cell is named after its input (Formulas > Name Manager), so your own "
        "formulas can say =train_gpus.",
        {"A": 30, "B": 26, "C": 16, "D": 30, "E": 10, "F": 12, "G": 80},
    )
    _header(ws, 4, ["Input", "Value", "Unit", "Defined name", "Default", "Used", "Notes"])
    for group, row in L.GROUP_ROWS.items():
        label = _GROUP_LABELS.get(group, group.capitalize())
        for col in range(1, 8):
            ws.cell(row, col).style = S.GROUP
        ws.cell(row, 1, label)
    calcs: list[Calc] = []
    sizing = _sizing_formulas(mode, _costs_ref)
    for name, row in L.INPUT_ROWS.items():
        spec = input_spec(name)
        cell = L.INPUT_CELLS[name]
        ws.cell(row, 1, spec["label"])
        ws[cell].style = S.INPUT
        ws[cell].number_format = S.number_format(spec["unit"])
        ws.cell(row, 3, spec["unit"])
        ws.cell(row, 4, name)
        default = spec["default"]
        ws.cell(
            row, 5, "required" if spec["required"] else ("blank" if default is None else default)
        )
        if isinstance(default, float):
            ws.cell(row, 5).number_format = S.number_format(spec["unit"])
        ws.cell(row, 7, spec["description"]).style = S.NOTE
        _fit_height(ws, row, spec["description"], 80 * _NOTE_CHARS)
        if (ws.row_dimensions[row].height or 15) > 15:  # a wrapped note: the row reads from the top
            for col in range(1, 7):
                ws.cell(row, col).alignment = Alignment(vertical="top")
        dv = _validation(name, cell, months)
        ws.add_data_validation(dv)
        dv.add(cell)
        wb.defined_names[name] = DefinedName(name, attr_text=L.absolute(L.INPUTS, cell))
        if name in L.DEFAULTED or name in L.ESTIMATED:
            used = f"used_{name}"
            calcs.append(
                Calc(
                    L.INPUTS,
                    L.USED_CELLS[used],
                    "=" + _used(name, name) if name in L.DEFAULTED else sizing[used],
                    partial(_input_value, name)
                    if name in L.DEFAULTED
                    else partial(_main_value, used),
                )
            )
            ws[L.USED_CELLS[used]].style = S.CALC
            ws[L.USED_CELLS[used]].number_format = S.number_format(spec["unit"])
            wb.defined_names[used] = DefinedName(
                used, attr_text=L.absolute(L.INPUTS, L.USED_CELLS[used])
            )
    _finish(ws, "A5", "G", max(L.INPUT_ROWS.values()))
    return calcs


def _used(name: str, ref: str) -> str:
    """Formula text reading input ``name`` at ``ref`` through its default when blank."""
    default = input_spec(name)["default"]
    literal = _quoted(default) if isinstance(default, str) else _number(default)
    return f"IF(ISBLANK({ref}),{literal},{ref})"


def _input_value(name: str, f: Facts) -> Value:
    value: Value = getattr(f.main.scenario, name)
    return value


_COST_ROWS: dict[str, tuple[str, str, str]] = {
    "used_train_hours": (
        "Training hours per run (used)",
        "train_hours, or TRAIN_HOURS(model_params, train_tokens, …) when blank",
        "hours",
    ),
    "used_serve_gpus": (
        "Serving GPUs (used)",
        "serve_gpus, or REPLICAS(peak_qps, …) × gpus_per_replica when blank",
        "GPUs",
    ),
    "used_maintain_months": (
        "Maintenance months (used)",
        "maintain_months (N/A > horizon), or horizon_months when blank",
        "months",
    ),
    "upfront_train_cost": (
        "Up-front training (month 0)",
        "TRAIN_COST(train_gpus, hours, price, train_runs, overhead)",
        "money",
    ),
    "train_cost": (
        "Training cost (C_train)",
        "TRAIN_COST(train_gpus, hours, price, train_runs + retrains, overhead)",
        "money",
    ),
    "deploy_cost": (
        "Deployment cost (C_deploy)",
        "DEPLOY_COST(serving GPUs, serve_hours, price, overhead)",
        "money",
    ),
    "maintain_cost": (
        "Maintenance cost (C_maintain)",
        "MAINTAIN_COST(months, units per month, price per unit, fixed per month)",
        "money",
    ),
    "benefit": (
        "Benefit (B)",
        "BENEFIT(volume, ctr, cvr, value, baseline_ctr, baseline_cvr)",
        "money",
    ),
    "total_cost": ("Total cost (C)", "C_train + C_deploy + C_maintain", "money"),
    "roi": ("ROI", "ROI(B, C) = (B − C) / C", "percent"),
    "bcr": ("BCR (benefit-cost ratio)", "BCR(B, C) = B / C", "ratio"),
    "npv": ("NPV", "month-0 net + NPV(monthly rate, months 1..horizon) on Cash flow", "money"),
    "irr": (
        "IRR (annual)",
        "(1 + IRR(monthly nets, guess))^12 − 1; over 1,000 % a year says so",
        "irr",
    ),
    "payback_month": (
        "Payback month",
        "first month whose cumulative net, to the cent, is ≥ 0",
        "month",
    ),
    "cost_per_1k": ("Cost per 1,000 requests", "1000 × C / volume", "money4"),
    "serve_gpu_cost": (
        "Rented serving GPUs",
        "DEPLOY_COST(serving GPUs, serve_hours, price, overhead)",
        "money",
    ),
    "used_api_requests": ("API requests (used)", "api_requests, or volume when blank", "requests"),
    "used_serve_hours": (
        "Serving hours (used)",
        "serve_hours, or 0 when blank (an option with no GPUs)",
        "hours",
    ),
    "upfront_cost": (
        "Paid in month 0",
        "up-front training + data preparation + set-up + GPU purchase",
        "money",
    ),
    "gpu_value_left": (
        "Owned GPUs' value left (month H)",
        "own_gpus × purchase price − hardware cost",
        "money",
    ),
    "data_cost": (
        "in C_train: data",
        "data_prep_cost + data_refresh_per_month × horizon",
        "money",
    ),
    "infra_cost": (
        "in C_deploy: infrastructure",
        "horizon × (storage × price + egress × price + software) + set-up",
        "money",
    ),
    "incident_cost": (
        "in C_maintain: incidents",
        "maintenance months × incidents × hours × price per hour",
        "money",
    ),
    "hardware_cost": (
        "in C_deploy: owned GPUs",
        "OWN_GPU_COST(own_gpus, price, horizon, life, salvage): purchase − value left",
        "money",
    ),
    "power_cost": (
        "in C_deploy: power, hosting",
        "POWER_COST(own_gpus, kW, serve_hours, price, PUE) + hosting",
        "money",
    ),
    "api_cost": (
        "in C_deploy: hosted API",
        "API_COST(requests, input tokens, output tokens, input price, output price)",
        "money",
    ),
}
_FORMATS = {
    "money": S.MONEY,
    "irr": S.IRR,
    "money4": "#,##0.0000",
    "percent": S.PERCENT,
    "ratio": "0.000",
    "month": "0",
}


def _costs_sheet(wb: Workbook, mode: str, months: int = L.MAX_MONTHS) -> list[Calc]:
    ws = wb.create_sheet(L.COSTS)
    _title(
        ws,
        "Costs: the cost table",
        "Training, deployment and maintenance cost, benefit, ROI and BCR over the evaluation "
        "period, from the Inputs sheet. Green cells are named results.",
        {"A": 30, "B": 66, "C": 18, "D": 10, "E": 22},
    )
    _header(ws, 4, ["Item", "How it is calculated", "Amount", "Unit", "Defined name"])
    cf = partial(L.absolute, L.CASHFLOW)
    first, last = L.CF_FIRST_ROW, L.cf_last_row(months)
    net = L.CF_COL["net"]
    # A horizon longer than the laid-out months (typed into a generated workbook) gives #N/A.
    laid_out = f"ROWS({cf(f'{net}{first}')}:${net}${last})-1"
    formulas = _model_formulas(mode, _costs_ref)
    formulas |= {
        "npv": f"=IF(horizon_months>{laid_out},NA(),{cf(f'{net}{first}')}"
        f"+NPV(monthly_rate,{cf(f'{net}{first + 1}')}:${net}${last}))",
        "irr": f"=IF(horizon_months>{laid_out},NA(),"
        f"IFERROR((1+IRR({cf(f'{net}{first}')}:${net}${last},"
        f"{cf(L.CF_GUESS_CELL)}))^12-1,IFERROR((1+IRR({cf(f'{net}{first}')}:${net}${last}))"
        '^12-1,"")))',
        "payback_month": f"=IF(horizon_months>{laid_out},NA(),"
        f"IFERROR(MATCH(1,{cf(L.CF_COL['paid_back'] + str(first))}:"
        f'${L.CF_COL["paid_back"]}${last},0)-1,""))',
        "cost_per_1k": '=IF(volume>0,1000*total_cost/volume,"")',
    }
    calcs: list[Calc] = []
    for name, row in L.RESULT_ROWS.items():
        label, how, unit = _COST_ROWS[name]
        cell = f"{L.COSTS_VALUE_COL}{row}"
        ws.cell(row, 1, label)
        ws.cell(row, 2, how).style = S.NOTE
        ws[cell].style = S.RESULT if name in RESULT_NAMES else S.CALC
        ws[cell].number_format = _FORMATS.get(unit, "#,##0.00")
        ws.cell(row, 5, name)
        calcs.append(Calc(L.COSTS, cell, formulas[name], partial(_main_value, name)))
        if unit.startswith("money"):
            calcs.append(
                Calc(L.COSTS, f"D{row}", "=used_currency", lambda f: f.main.scenario.currency)
            )
        else:
            ws.cell(row, 4, {"percent": "%", "irr": "% a year", "ratio": "×"}.get(unit, unit))
        wb.defined_names[name] = DefinedName(name, attr_text=L.absolute(L.COSTS, cell))
    last_row = max(L.RESULT_ROWS.values())
    ws.cell(last_row + 2, 1, "Scenario").style = S.GROUP
    calcs.append(Calc(L.COSTS, f"B{last_row + 2}", "=name", lambda f: f.main.scenario.name))

    chart = BarChart()
    chart.type = "col"
    chart.title = "Cost breakdown and benefit"
    chart.y_axis.title = "Amount"
    chart.y_axis.numFmt = "#,##0"
    chart.legend = None
    rows = [L.RESULT_ROWS[n] for n in ("train_cost", "deploy_cost", "maintain_cost", "benefit")]
    chart.add_data(Reference(ws, min_col=3, min_row=rows[0], max_row=rows[-1]))
    chart.set_categories(Reference(ws, min_col=1, min_row=rows[0], max_row=rows[-1]))
    chart.width, chart.height = 16, 8
    ws.add_chart(chart, f"A{last_row + 5}")  # row last_row + 3: the master check, if any
    _finish(ws, "A5", "E", last_row + 20)
    return calcs


_CF_LINE_LABELS = {
    "training_gpus": "Training GPUs",
    "data": "Data",
    "serving_gpus": "Rented serving GPUs",
    "infrastructure": "Infra-structure",
    "owned_gpus": "Owned GPUs (value left back)",
    "power_hosting": "Power and hosting",
    "hosted_api": "Hosted API",
    "maintenance": "Maintenance, incidents",
}


def _cashflow_sheet(wb: Workbook, months: int = L.MAX_MONTHS) -> list[Calc]:
    ws = wb.create_sheet(L.CASHFLOW)
    rows_note = (
        f"Rows beyond the horizon (up to month {months}) are zero, in grey."
        if months == L.MAX_MONTHS
        else f"This workbook lays out months 0..{months}, its horizon: for a longer one, make a "
        "new workbook (NPV, IRR and payback show an error here)."
    )
    _title(
        ws,
        "Cash flow: monthly schedule",
        "Month 0 pays the up-front training, data preparation, set-up and any GPU purchase; "
        "months 1..horizon each carry 1/horizon of the other costs and of the benefit; "
        "maintenance is paid in months 1..maintenance months; owned GPUs' value left comes "
        f"back in the last month. {rows_note}",
        {"A": 10, "B": 26, "C": 16, "D": 16, "E": 16, "F": 12},
    )
    calcs = [
        Calc(
            L.CASHFLOW,
            L.CF_RATE_CELL,
            "=(1+used_discount_rate_annual)^(1/12)-1",
            lambda f: f.main.monthly_rate,
        ),
    ]
    c = L.CF_COL
    first = L.CF_FIRST_ROW
    last = L.CF_SEARCH_ROW + L.CF_SEARCH_STEPS
    low, high = L.CF_SEARCH_COL["low"], L.CF_SEARCH_COL["high"]
    calcs.append(
        Calc(
            L.CASHFLOW,
            L.CF_GUESS_CELL,
            f"=SQRT({low}{last}*{high}{last})-1",
            lambda f: f.irr_guess,
            exact=False,
        )
    )
    calcs += _irr_search(ws, months)
    ws["B3"], ws["B4"] = "Monthly discount rate", f"IRR guess (search in {L.CF_SEARCH_COL['step']})"
    for cell in (L.CF_RATE_CELL, L.CF_GUESS_CELL):
        ws[cell].style = S.CALC
    ws[L.CF_RATE_CELL].number_format = "0.0000%"
    ws[L.CF_GUESS_CELL].number_format = "0.0000"
    wb.defined_names["monthly_rate"] = DefinedName(
        "monthly_rate", attr_text=L.absolute(L.CASHFLOW, L.CF_RATE_CELL)
    )
    for i, (name, label) in enumerate((("npv", "NPV"), ("irr", "IRR (annual)"))):
        ws[f"D{3 + i}"] = label
        calcs.append(Calc(L.CASHFLOW, f"E{3 + i}", f"={name}", partial(_main_value, name)))
        ws[f"E{3 + i}"].style = S.RESULT
        ws[f"E{3 + i}"].number_format = S.MONEY if name == "npv" else S.IRR
    ws["B5"] = "Amounts in"
    calcs.append(Calc(L.CASHFLOW, "C5", "=used_currency", lambda f: f.main.scenario.currency))
    ws["C5"].style = S.CALC
    ws["D5"] = "Payback month"
    calcs.append(Calc(L.CASHFLOW, "E5", "=payback_month", lambda f: f.main.value("payback_month")))
    ws["E5"].style = S.RESULT
    ws["E5"].number_format = "0"
    _header(ws, L.CF_HEADER_ROW, ["Month", "Cost", "Benefit", "Net", "Cumulative", "Paid back"])
    _header(
        ws,
        L.CF_HEADER_ROW,
        [_CF_LINE_LABELS[k] for k in CASH_FLOW_LINES],
        first_col=column_index_from_string(L.CF_LINE_COL[CASH_FLOW_LINES[0]]),
    )
    ws.cell(L.CF_HEADER_ROW - 1, column_index_from_string(L.CF_LINE_COL[CASH_FLOW_LINES[0]]),
            "Cost by line (they add up to Cost)").style = S.GROUP  # fmt: skip
    for k in CASH_FLOW_LINES:
        ws.column_dimensions[L.CF_LINE_COL[k]].width = 16
        ws[f"{L.CF_LINE_COL[k]}{L.CF_HEADER_ROW}"].alignment = Alignment(wrap_text=True)
    ws.row_dimensions[L.CF_HEADER_ROW].height = 30
    for t in range(months + 1):
        row = first + t
        ws.cell(row, 1, t)
        for key in ("cost", "benefit", "net", "cumulative", "paid_back"):
            ws[f"{c[key]}{row}"].style = S.CALC
            ws[f"{c[key]}{row}"].number_format = "0" if key == "paid_back" else S.MONEY
        for k in CASH_FLOW_LINES:
            ws[f"{L.CF_LINE_COL[k]}{row}"].style = S.CALC
            ws[f"{L.CF_LINE_COL[k]}{row}"].number_format = S.MONEY
        calcs.extend(_month_calcs(t, row))
    if months > 0:  # rows beyond the horizon (template only: zeros) are greyed out
        area = f"A{first}:{c['paid_back']}{L.cf_last_row(months)}"
        beyond = f"${c['month']}{first}>horizon_months"
        ws.conditional_formatting.add(
            area, FormulaRule(formula=[beyond], font=Font(color="A6A6A6"), stopIfTrue=False)
        )
    chart = LineChart()
    chart.title = "Cumulative cash flow"
    chart.y_axis.title = "Cumulative net"
    chart.x_axis.title = "Month"
    chart.y_axis.numFmt = "#,##0"
    chart.legend = None
    last_row = L.cf_last_row(months)
    cum = Reference(ws, min_col=5, min_row=first, max_row=last_row)
    chart.add_data(cum)
    chart.set_categories(Reference(ws, min_col=1, min_row=first, max_row=last_row))
    chart.x_axis.tickLblSkip = max(1, months // 10)
    chart.x_axis.tickLblPos = "low"
    chart.width, chart.height = 18, 9
    chart.width = L.CF_CHART_WIDTH_CM
    ws.add_chart(chart, f"{get_column_letter(L.CF_SIDE_COL)}{L.CF_HEADER_ROW}")
    _finish(ws, f"A{first}", L.CF_PRINT_LAST_COL, max(last_row, L.CF_HEADER_ROW + L.CF_CHART_ROWS))
    return calcs


def _irr_search(ws: Worksheet, months: int = L.MAX_MONTHS) -> list[Calc]:
    """The IRR search right of the print area: bisection of 1 + monthly rate, giving IRR its guess.

    Excel's IRR is Newton's method from its guess (20 steps); from the default 10 % it misses
    the root of many schedules (the worked example's −77 % a month among them), so the sheet
    finds a start next to the root first.

    The monthly nets change sign at most once (costs first), so their NPV changes sign at
    most once between the bracket's ends; each step keeps the half whose ends differ in
    sign. After 40 steps the geometric midpoint is within 10⁻¹¹ of the root, and IRR's
    Newton steps (Excel: 20) start there. A guess away from the root fails for, e.g.,
    front-loaded maintenance or strongly negative rates over long horizons.
    """
    col, top = L.CF_SEARCH_COL, L.CF_SEARCH_ROW
    net = L.CF_COL["net"]
    first, last = L.CF_FIRST_ROW, L.cf_last_row(months)
    nets = f"${net}${first}+NPV({{}}-1,${net}${first + 1}:${net}${last})"
    sign = f"${L.CF_SEARCH_SIGN_CELL[0]}${L.CF_SEARCH_SIGN_CELL[1:]}"
    c0 = ord(col["step"]) - ord("A") + 1
    ws.cell(top - 3, c0, "IRR search (helper, not printed)").style = S.GROUP
    ws.cell(top - 2, c0, "Bisection of 1 + r; last midpoint = guess")
    ws.cell(top - 2, c0).style = S.NOTE
    ws.cell(top - 1, c0, "Sign of NPV at the low end")
    _header(ws, top, ["Step", "Low (1 + r)", "High (1 + r)", "NPV at midpoint"], first_col=c0)
    for key, width in (("step", 26), ("low", 16), ("high", 16), ("npv", 18)):
        ws.column_dimensions[col[key]].width = width
    calcs = [
        Calc(
            L.CASHFLOW,
            L.CF_SEARCH_SIGN_CELL,
            "=SIGN(" + nets.format(f"{col['low']}{top + 1}") + ")",
            lambda f: f.irr_search_sign,
            exact=False,
        )
    ]
    ws[L.CF_SEARCH_SIGN_CELL].style = S.CALC
    for k in range(L.CF_SEARCH_STEPS):
        row = top + 1 + k
        ws.cell(row, c0, k)
        lo, hi = f"{col['low']}{row}", f"{col['high']}{row}"
        mid = f"SQRT({lo}*{hi})"
        if k == 0:
            low, high = (f"={_number(x)}" for x in L.CF_SEARCH_BRACKET)
        else:
            above, below = f"{col['low']}{row - 1}", f"{col['high']}{row - 1}"
            prev = f"SQRT({above}*{below})"
            same = f"SIGN({col['npv']}{row - 1})={sign}"
            low, high = f"=IF({same},{prev},{above})", f"=IF({same},{below},{prev})"
        for i, (key, text) in enumerate(
            (("low", low), ("high", high), ("npv", "=" + nets.format(mid)))
        ):
            ws[f"{col[key]}{row}"].style = S.CALC
            ws[f"{col[key]}{row}"].number_format = S.MONEY if key == "npv" else "0.000000000"
            calcs.append(
                Calc(
                    L.CASHFLOW,
                    f"{col[key]}{row}",
                    text,
                    partial(_search_value, k, i),
                    exact=False,
                )
            )
    return calcs


def _search_value(step: int, i: int, f: Facts) -> float:
    return f.irr_search[step][i]


def _line_value(name: str, t: int, f: Facts) -> float:
    return f.line(name, t)


def _month_calcs(t: int, row: int) -> list[Calc]:
    c = L.CF_COL
    m = f"{c['month']}{row}"
    lc = L.CF_LINE_COL
    cost = f"=SUM({lc[CASH_FLOW_LINES[0]]}{row}:{lc[CASH_FLOW_LINES[-1]]}{row})"
    if t == 0:
        benefit, cumulative = "=0", f"={c['net']}{row}"
        lines = {
            "training_gpus": "=upfront_train_cost",
            "data": "=used_data_prep_cost",
            "serving_gpus": "=0",
            "infrastructure": "=used_setup_cost",
            "owned_gpus": "=used_own_gpus*used_gpu_purchase_price",
            "power_hosting": "=0",
            "hosted_api": "=0",
            "maintenance": "=0",
        }
    else:
        benefit = f"=IF({m}>horizon_months,0,benefit/horizon_months)"
        cumulative = f"={c['cumulative']}{row - 1}+{c['net']}{row}"
        monthly = {
            "training_gpus": "(train_cost-data_cost-upfront_train_cost)/horizon_months",
            "data": "(data_cost-used_data_prep_cost)/horizon_months",
            "serving_gpus": "serve_gpu_cost/horizon_months",
            "infrastructure": "(infra_cost-used_setup_cost)/horizon_months",
            "owned_gpus": f"IF({m}=horizon_months,-gpu_value_left,0)",
            "power_hosting": "power_cost/horizon_months",
            "hosted_api": "api_cost/horizon_months",
            "maintenance": f"IF({m}<=used_maintain_months,maintain_cost/used_maintain_months,0)",
        }
        lines = {k: f"=IF({m}>horizon_months,0,{v})" for k, v in monthly.items()}
    # Paid back from the first month whose cumulative net, to the cent, is ≥ 0 (the engine's
    # payback rule), and from then on.
    reached = f"ROUND({c['cumulative']}{row},2)>=0"
    if t == 0:
        paid = f"=IF({reached},1,0)"
    else:
        paid = f"=IF(OR({c['paid_back']}{row - 1}=1,{reached}),1,0)"
    line_calcs = [
        Calc(L.CASHFLOW, f"{lc[k]}{row}", lines[k], partial(_line_value, k, t))
        for k in CASH_FLOW_LINES
    ]
    return [
        *line_calcs,
        Calc(L.CASHFLOW, f"{c['cost']}{row}", cost, lambda f: f.month(t).cost),
        Calc(L.CASHFLOW, f"{c['benefit']}{row}", benefit, lambda f: f.month(t).benefit),
        Calc(
            L.CASHFLOW,
            f"{c['net']}{row}",
            f"={c['benefit']}{row}-{c['cost']}{row}",
            lambda f: f.month(t).net,
        ),
        Calc(L.CASHFLOW, f"{c['cumulative']}{row}", cumulative, lambda f: f.month(t).cumulative),
        Calc(
            L.CASHFLOW,
            f"{c['paid_back']}{row}",
            paid,
            lambda f: int(
                f.main.results.payback_month is not None and t >= f.main.results.payback_month
            ),
        ),
    ]


_SCN_LABELS = {
    **{f"used_{n}": f"{input_spec(n)['label']} (used)" for n in L.ESTIMATED},
    "used_train_hours": "Training hours per run (used)",
    "used_serve_gpus": "Serving GPUs (used)",
    "used_maintain_months": "Maintenance months (used)",
    "upfront_train_cost": "Up-front training (month 0)",
    "used_serve_hours": "Serving hours per GPU (used)",
    "serve_gpu_cost": "Rented serving GPUs",
    "used_api_requests": "API requests (used)",
    "data_cost": "of which data",
    "infra_cost": "of which infrastructure",
    "incident_cost": "of which incidents",
    "hardware_cost": "of which owned GPUs",
    "power_cost": "of which power and hosting",
    "api_cost": "of which hosted API",
    "upfront_cost": "Paid in month 0",
    "gpu_value_left": "Owned GPUs' value left (month H)",
    "train_cost": "Training cost",
    "deploy_cost": "Deployment cost",
    "maintain_cost": "Maintenance cost",
    "benefit": "Benefit",
    "total_cost": "Total cost",
    "roi": "ROI",
    "monthly_rate": "Monthly discount rate",
    "npv": "NPV",
    "rank": "Rank by NPV (ties: ROI)",
    "within_budget": "Within budget?",
    "eligible_rank": "Rank if within budget and NPV > 0",
}


_SCN_UNITS = {
    "used_train_hours": "hours",
    "used_serve_gpus": "GPUs",
    "used_maintain_months": "months",
    "roi": "%",
    "monthly_rate": "%/month",
    "rank": "rank",
    "within_budget": "yes/no",
    "eligible_rank": "rank",
}
"""Units of the Scenarios sheet's results (the rest are amounts in the option's currency)."""


def _scenarios_sheet(wb: Workbook, mode: str, n: int) -> list[Calc]:
    ws = wb.create_sheet(L.SCENARIOS)
    last_col = get_column_letter(L.SCN_FIRST_COL + n - 1)
    _title(
        ws,
        "Scenarios: options side by side",
        "Each column is one option (the shipped comparison example; type over it). Options are "
        "ranked by NPV; the recommendation is the best-ranked option within the budget with a "
        "positive NPV.",
        {"A": 34, "B": 14} | {get_column_letter(L.SCN_FIRST_COL + i): 30 for i in range(n)},
    )
    ws["A4"] = "Budget (maximum total cost; blank = none)"
    ws[L.SCN_BUDGET_CELL].style = S.INPUT
    ws[L.SCN_BUDGET_CELL].number_format = S.MONEY
    ws["D4"] = "An option whose total cost is above the budget is not recommended."
    ws["D4"].style = S.NOTE
    ws["D4"].alignment = Alignment(wrap_text=False, vertical="center")  # runs on to the right
    _header(ws, L.SCN_HEADER_ROW, ["Input", "Unit", *(f"Option {i + 1}" for i in range(n))])
    for name, row in L.SCN_INPUT_ROWS.items():
        spec = input_spec(name)
        ws.cell(row, 1, spec["label"])
        ws.cell(row, 2, spec["unit"])
        for i in range(n):
            cell = ws.cell(row, L.SCN_FIRST_COL + i)
            cell.style = S.INPUT
            cell.number_format = S.number_format(spec["unit"])
    ws.cell(min(L.SCN_CALC_ROWS.values()) - 1, 1, "Results").style = S.GROUP
    calc_rows = L.SCN_CALC_ROWS

    def span(key: str) -> str:
        return (
            f"${get_column_letter(L.SCN_FIRST_COL)}${calc_rows[key]}:${last_col}${calc_rows[key]}"
        )

    calcs: list[Calc] = []
    for i in range(n):
        col = get_column_letter(L.SCN_FIRST_COL + i)

        def ref(name: str, col: str = col) -> str:
            row = L.SCN_INPUT_ROWS.get(name) or calc_rows[name]
            return _used(name, f"{col}{row}") if name in L.DEFAULTED else f"{col}{row}"

        formulas = _model_formulas(mode, ref)
        formulas |= {
            "npv": _npv_formula(ref),
            "rank": f"=RANK({ref('npv')},{span('npv')})+SUMPRODUCT(({span('npv')}="
            f"{ref('npv')})*({span('roi')}>{ref('roi')}))",
            "within_budget": f"=IF(OR(ISBLANK(${L.SCN_BUDGET_CELL[0]}${L.SCN_BUDGET_CELL[1:]}),"
            f"{ref('total_cost')}<=${L.SCN_BUDGET_CELL[0]}${L.SCN_BUDGET_CELL[1:]}),"
            '"yes","no")',
            "eligible_rank": f'=IF(AND({ref("within_budget")}="yes",{ref("npv")}>0),'
            f'{ref("rank")},"")',
        }
        for key, row in calc_rows.items():
            calcs.append(
                Calc(L.SCENARIOS, f"{col}{row}", formulas[key], partial(_option_value, i, key))
            )
            cell = ws[f"{col}{row}"]
            cell.style = S.RESULT if key in ("npv", "rank") else S.CALC
            cell.number_format = {
                "roi": S.PERCENT,
                "monthly_rate": "0.0000%",
                **{f"used_{n}": "#,##0.00" for n in L.ESTIMATED},
                "used_train_tokens": "#,##0",
                "used_train_hours": "#,##0.00",
                "used_serve_gpus": "#,##0",
                "used_maintain_months": "0",
                "used_api_requests": "#,##0",
                "used_serve_hours": "#,##0",
                "rank": "0",
                "within_budget": "General",
                "eligible_rank": "0",
            }.get(key, S.MONEY)
    for key, row in calc_rows.items():
        ws.cell(row, 1, _SCN_LABELS[key])
        ws.cell(row, 2, _SCN_UNITS.get(key, "currency"))
    rec = L.SCN_RECOMMEND_ROW
    ws.cell(rec, 1, "Recommended option").style = S.GROUP
    first_col = get_column_letter(L.SCN_FIRST_COL)
    names = f"${first_col}${L.SCN_INPUT_ROWS['name']}:${last_col}${L.SCN_INPUT_ROWS['name']}"
    elig = span("eligible_rank")
    calcs.append(
        Calc(
            L.SCENARIOS,
            f"{first_col}{rec}",
            f'=IF(COUNTIF({span("within_budget")},"yes")=0,{_quoted(NO_FIT)},'
            f"IF(COUNT({elig})=0,{_quoted(NO_GAIN)},"
            f"INDEX({names},MATCH(MIN({elig}),{elig},0))))",
            lambda f: f.recommendation,
        )
    )
    ws[f"{first_col}{rec}"].style = S.RESULT
    ws[f"{first_col}{rec}"].alignment = Alignment(wrap_text=True, vertical="top")
    _fit_height(ws, rec, max(NO_FIT, NO_GAIN, key=len), 30 / 1.1)  # one option's column
    last = _breakeven_block(ws, n, calcs, span("total_cost"))
    _finish(ws, f"{first_col}{L.SCN_HEADER_ROW + 1}", last_col, last)
    ws.print_title_rows = f"{L.SCN_HEADER_ROW}:{L.SCN_HEADER_ROW}"  # every page: the options
    ws.print_title_cols = "A:B"
    ws.page_setup.orientation = "portrait"  # a tall table: inputs, then results
    return calcs


def breakeven_rows(n: int) -> tuple[int, int, int, int]:
    """Rows of the Scenarios sheet's break-even block for ``n`` options: the first "versus
    option j" row, the NPV = 0 row, the "computed for" row of total costs and the check row."""
    first = L.SCN_BREAKEVEN_ROW + 2
    return first, first + n, first + n + 1, first + n + 2


def _breakeven_block(ws: Worksheet, n: int, calcs: list[Calc], totals: str) -> int:
    """Break-even by volume in each option's column, computed by the engine when the workbook
    is built (a workbook cannot solve it), with the total costs it was computed for and a check
    cell that says whether the options above still have those totals; returns the last row."""
    top = L.SCN_BREAKEVEN_ROW
    ws.cell(top, 1, "Break-even by volume").style = S.GROUP
    ws.cell(top + 1, 1, BREAKEVEN_NOTE).style = S.NOTE
    ws.cell(top + 1, 1).alignment = Alignment(wrap_text=False, vertical="center")
    first, zero, computed, check = breakeven_rows(n)
    for j in range(n):
        ws.cell(first + j, 1, f"Versus option {j + 1}")
    ws.cell(zero, 1, "NPV = 0 at volume")
    ws.cell(computed, 1, "Computed for total costs")
    ws.cell(check, 1, "Still current?")
    for i in range(n):
        for row in range(first, computed + 1):
            cell = ws.cell(row, L.SCN_FIRST_COL + i)
            cell.style = S.CALC
        ws.cell(computed, L.SCN_FIRST_COL + i).number_format = S.MONEY
    col0 = get_column_letter(L.SCN_FIRST_COL)
    col1 = get_column_letter(L.SCN_FIRST_COL + n - 1)
    built = f"${col0}${computed}:${col1}${computed}"
    calcs.append(
        Calc(
            L.SCENARIOS,
            f"{col0}{check}",
            f"=IF(SUMPRODUCT(ABS({totals}-{built}))<=1E-9*MAX(1,SUMPRODUCT(ABS({built}))),"
            f'"yes",{_quoted(BREAKEVEN_STALE)})',
            lambda f: "yes",
        )
    )
    ws[f"{col0}{check}"].style = S.RESULT
    return check


BREAKEVEN_NOTE = (
    "Computed when the workbook was built; xlcost compare FILE --breakeven volume recomputes it."
)
BREAKEVEN_STALE = "NO: the options changed; rebuild"


def _versus(own: str, other: str, p: PairBreakEven) -> str:
    """Option ``own``'s cell against ``other`` in words: where it is the cheaper one."""
    from xlcost.engine.breakeven import describe_crossings

    first, top = p.cheaper_at_zero, p.cheaper_at_max
    if not p.crossings:
        return "equal" if first is None else ("always cheaper" if first == own else "always dearer")
    where = describe_crossings(p.crossings[:1]).replace(" (at a capacity step)", "")
    more = f" (+{len(p.crossings) - 1})" if len(p.crossings) > 1 else ""
    if first == own or (first is None and top != own):
        return f"cheaper below {where}{more}"
    return f"cheaper above {where}{more}"


def _breakeven_values(options: Sequence[Option]) -> dict[str, Value]:
    """The static cells of the break-even block for the compared ``options`` (see
    :func:`_breakeven_block`)."""
    from xlcost.engine.breakeven import describe_crossings, volume_break_even

    comparison = [o.scenario for o in options]
    n = len(comparison)
    first, zero, computed, _ = breakeven_rows(n)
    out: dict[str, Value] = {}
    col = [get_column_letter(L.SCN_FIRST_COL + i) for i in range(n)]
    try:
        be = volume_break_even(comparison)
    except XlcostError as e:
        out[f"{col[0]}{zero}"] = f"not computed: {e}"[:255]
        return out
    pairs = iter(be.pairs)
    for i in range(n):
        out[f"{col[i]}{first + i}"] = "—"
        for j in range(i + 1, n):
            p = next(pairs)
            out[f"{col[i]}{first + j}"] = _versus(p.a, p.b, p)
            out[f"{col[j]}{first + i}"] = _versus(p.b, p.a, p)
    for i, z in enumerate(be.npv_zero):
        sign = "NPV > 0 throughout" if z.npv_at_max > 0 else "NPV < 0 throughout"
        more = f" (+{len(z.crossings) - 1})" if len(z.crossings) > 1 else ""
        text = describe_crossings(z.crossings[:1]).replace(" (at a capacity step)", "")
        out[f"{col[i]}{zero}"] = text + more if z.crossings else sign
    for i, o in enumerate(options):
        out[f"{col[i]}{computed}"] = o.results.total_cost
    return out


def _option_value(i: int, key: str, f: Facts) -> Value:
    opt = f.options[i]
    if key == "rank":
        return f.ranks[i]
    if key == "within_budget":
        return "yes" if f.within_budget[i] else "no"
    if key == "eligible_rank":
        return f.ranks[i] if f.within_budget[i] and opt.results.npv > 0 else ""
    return opt.value(key)


_CATALOG_LABELS = {
    "name": "GPU",
    "memory_gb": "Memory (GB)",
    "peak_tflops": "Peak TFLOP/s",
    "memory_bandwidth_tbs": "Bandwidth (TB/s)",
    "price_per_hour": "Price per GPU-hour",
    "price_source": "Price source",
    "price_as_of": "Price as of",
    "spec_source": "Spec source",
}
_CATALOG_FORMATS = {
    "memory_gb": "#,##0",
    "peak_tflops": "#,##0",
    "memory_bandwidth_tbs": "0.000",
    "price_per_hour": "#,##0.0000",
}


def _catalog_label(field: str) -> str:
    """The Catalog sheet's header for a catalog field (snake_case made readable otherwise)."""
    return _CATALOG_LABELS.get(field) or field.replace("_", " ").capitalize()


def _catalog_sheet(wb: Workbook, mode: str) -> list[Calc]:
    ws = wb.create_sheet(L.CATALOG)
    cat = active_catalog()
    origin = "xlcost's packaged catalog" + (
        "" if catalog_set() is None else " with the GPUs of the --catalog file it was built with"
    )
    _title(
        ws,
        "Catalog: GPUs and on-demand prices",
        f"From {origin} ({cat.currency}; each price with its source and date — refresh them "
        "before relying on them). Portable mode looks GPUs up here, so you can edit the table "
        f"or add GPUs in its {L.CAT_SPARE_ROWS} blank rows; udf mode's GPU_SPEC reads the "
        "packaged catalog.",
        {"A": 22, "B": 14, "C": 14, "D": 18, "E": 19, "F": 60, "G": 12, "H": 60},
    )
    _header(ws, L.CAT_HEADER_ROW - 1, [_catalog_label(f) for f in GPU_FIELDS])
    for c, field in enumerate(GPU_FIELDS, start=1):  # the field names GPU_SPEC looks up
        ws.cell(L.CAT_HEADER_ROW, c, field).style = S.NOTE
    for r, gpu in enumerate(cat.gpus, start=L.CAT_FIRST_ROW):
        for c, field in enumerate(GPU_FIELDS, start=1):
            value = getattr(gpu, field)
            cell = ws.cell(r, c, value.isoformat() if isinstance(value, dt.date) else value)
            cell.style = S.INPUT
            cell.alignment = Alignment(wrap_text=isinstance(value, str), vertical="top")
            if isinstance(value, float | int) and not isinstance(value, bool):
                cell.number_format = _CATALOG_FORMATS.get(field, S.COUNT)
            if field in ("price_source", "spec_source"):
                _fit_height(ws, r, value, 60 / 1.1)  # one character a width unit
    for r in range(
        L.CAT_FIRST_ROW + len(cat.gpus), L.CAT_FIRST_ROW + len(cat.gpus) + L.CAT_SPARE_ROWS
    ):
        for c in range(1, len(GPU_FIELDS) + 1):
            ws.cell(r, c).style = S.INPUT
    last_row = L.CAT_FIRST_ROW + len(cat.gpus) + L.CAT_SPARE_ROWS - 1
    last_col = get_column_letter(len(GPU_FIELDS))
    for name, ref in (
        ("catalog_table", f"A{L.CAT_FIRST_ROW}:{last_col}{last_row}"),
        ("catalog_names", f"A{L.CAT_FIRST_ROW}:A{last_row}"),
        ("catalog_fields", f"A{L.CAT_HEADER_ROW}:{last_col}{L.CAT_HEADER_ROW}"),
    ):
        start, end = ref.split(":")
        text = f"{L.absolute(L.CATALOG, start)}:{L.absolute(L.CATALOG, end).split('!')[1]}"
        wb.defined_names[name] = DefinedName(name, attr_text=text)
    look = last_row + 2
    # udf mode's GPU_SPEC reads the packaged catalog, portable mode's look-up this sheet
    h100 = (cat if mode == "portable" else default_catalog()).get("H100").price_per_hour
    ws.cell(look, 1, "Look up").style = S.GROUP
    ws.cell(look + 1, 1, "GPU")
    ws.cell(look + 1, 2, "H100").style = S.INPUT
    ws.cell(look + 2, 1, "Field")
    ws.cell(look + 2, 2, "price_per_hour").style = S.INPUT
    ws.cell(look + 3, 1, "Value")
    ws.cell(look + 3, 2).style = S.RESULT
    calcs = [
        Calc(
            L.CATALOG,
            f"B{look + 3}",
            formula(mode, "GPU_SPEC", f"B{look + 1}", f"B{look + 2}"),
            lambda f: h100,
        )
    ]
    last = _prices_tables(ws, look + 5, calcs)
    _finish(ws, f"B{L.CAT_FIRST_ROW}", last_col, last)
    return calcs


STALE_FLAG = '=IF(AND(ISNUMBER({cell}),TODAY()-{cell}>{days}),"older than 12 months","")'
"""The Catalog sheet's flag of a price read on the date in ``cell`` (blank: no date)."""

_PRICE_TITLES = {
    "purchases": "GPUs to buy (owned GPUs look up serve_gpu here)",
    "offers": "GPUs reserved and spot (serve_term looks up serve_gpu and the term here; "
    "several offers: their mean)",
    "apis": "Hosted model APIs, per million tokens (api_model looks up the model here)",
}


_PRICE_FORMATS = {
    "price_as_of": "yyyy-mm-dd",
    "purchase_price": "#,##0",
    "board_power_kw": "0.000",
    "price_per_hour": _CATALOG_FORMATS["price_per_hour"],
    "price_per_m_input_tokens": _CATALOG_FORMATS["price_per_hour"],
    "price_per_m_output_tokens": _CATALOG_FORMATS["price_per_hour"],
}
"""Number formats of the price tables' columns: one per kind of number, as in the GPU table."""


def _prices_tables(ws: Worksheet, row: int, calcs: list[Calc]) -> int:
    """The price catalog (purchase, reserved/spot, hosted API) below the GPU table, each price
    with its source, date and a flag that turns on when the date is more than 12 months before
    today, and blank rows to add prices in; returns the last row used. The flags have no
    cached value (they depend on the day the workbook is opened), so a build stays
    byte-identical. The formulas of the Inputs sheet look prices up through the defined names
    of :data:`~xlcost.workbooks.layout.PRICE_TABLES`, and ``xlcost calc`` reads the same cells."""
    prices = active_catalog().prices
    ws.cell(row, 1, "Prices beyond on-demand rental").style = S.GROUP
    note = (
        "xlcost's price catalog: edit the rows or add prices in the blank rows; the flag says "
        "when a price is older than 12 months."
    )
    ws.cell(row + 1, 1, note).style = S.NOTE
    ws.cell(row + 1, 1).alignment = Alignment(wrap_text=False, vertical="center")
    row += 3
    for section, columns in L.PRICE_TABLES.items():
        ws.cell(row, 1, _PRICE_TITLES[section]).style = S.GROUP
        ws.cell(row, 1).alignment = Alignment(wrap_text=False)
        header = {col: label for col, label in columns.values()} | {L.PRICE_FLAG_COL: "Flag"}
        _header(ws, row + 1, [header.get(col, "") for col in "ABCDEFGH"])
        entries = getattr(prices, section)
        first = row + 2
        last = first + len(entries) + L.CAT_SPARE_ROWS - 1
        for r in range(first, last + 1):
            entry = entries[r - first] if r - first < len(entries) else None
            for field, (col, _label) in columns.items():
                value = getattr(entry, field) if entry is not None else None
                cell = ws[f"{col}{r}"]
                cell.value = value
                cell.style = S.INPUT
                if field in _PRICE_FORMATS:
                    cell.number_format = _PRICE_FORMATS[field]
                if isinstance(value, str) and len(value) > 20:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
                    _fit_height(ws, r, value, 55)
            flag = STALE_FLAG.format(cell=f"{columns['price_as_of'][0]}{r}", days=STALE_AFTER_DAYS)
            ws[f"{L.PRICE_FLAG_COL}{r}"].style = S.CALC
            calcs.append(Calc(L.CATALOG, f"{L.PRICE_FLAG_COL}{r}", flag, _no_cache, exact=False))
        names = {f"{section}_table": ("A", "H")} | {
            f"{section}_{field}": (col, col) for field, (col, _label) in columns.items()
        }
        for name, (left, right) in names.items():
            text = f"{L.absolute(L.CATALOG, f'{left}{first}')}:${right}${last}"
            ws.parent.defined_names[name] = DefinedName(name, attr_text=text)
        row = last + 3
    return row - 2


def _no_cache(f: Facts) -> Value:
    return None


def _iso_date(text: str) -> str:
    """Native formula: the date serial of ISO text such as "2026-05-07" (no DATEVALUE: its
    parsing depends on the locale)."""
    return f"DATE(VALUE(LEFT({text},4)),VALUE(MID({text},6,2)),VALUE(RIGHT({text},2)))"


_CHECK_NOTES: dict[str, tuple[str, str]] = {
    "qps_flops": (
        "fraction of peak",
        "typed qps_per_replica × 2 × params × tokens per request ÷ peak; tuned benchmarks reach "
        "0.73 (NVIDIA TensorRT BERT-base on A100), above 1 is impossible",
    ),
    "qps_bandwidth": (
        "fraction of bandwidth",
        "typed qps_per_replica × output tokens ÷ batch × weight bytes ÷ memory bandwidth",
    ),
    "train_flops": (
        "MFU",
        "6 × params × tokens ÷ (GPUs × typed train_hours × peak); PaLM 540B trained at 0.46",
    ),
    "capacity": ("requests", "replicas × QPS per replica × serve_hours × 3600 vs volume"),
    "peak_traffic": ("× average", "peak_qps ÷ (volume ÷ (months × 730 h)); plausible 1 to 50"),
    "serve_hours": ("hours", "serve_hours vs 24/7 = 730 h × months"),
    "memory": (
        "GPUs",
        "GPUs holding one copy vs FIT_GPUS (weights + 20 %, EleutherAI 'Transformer Math 101')",
    ),
    "latency": ("ms", "LATENCY_MS (batch-1 lower bound) ÷ GPUs per replica vs latency_slo_ms"),
    "uplift": ("uplift", "ctr × cvr over baseline ctr × cvr − 1; ranking A/B tests: a few %"),
    "price_age": ("days old", "age of the oldest catalog price in use (TODAY − as-of) vs 365"),
}


def _check_formulas(mode: str, r: Callable[[str], str]) -> dict[str, tuple[str, str, str]]:
    """Check id → (value, limit, fired condition with {v} and {lim}) as native formula text."""
    f = partial(formula, mode)
    out_tokens = r("output_tokens_per_request")
    tokens = f"({r('tokens_per_item')}*{r('items_per_request')}+{out_tokens})"

    def known(*names: str) -> str:
        return f"AND({','.join(f'ISNUMBER({r(n)})' for n in names)})"

    fit = f("FIT_GPUS", r("model_params"), r("used_serve_memory_gb"), r("bytes_per_param"))[1:]
    latency = f(
        "LATENCY_MS",
        r("model_params"),
        f"{r('tokens_per_item')}*{r('items_per_request')}",
        out_tokens,
        r("used_serve_peak_tflops"),
        f"IF({out_tokens}>0,{r('used_serve_memory_bandwidth_tbs')},1)",
        r("serve_mfu"),
        r("bytes_per_param"),
        r("serve_mbu"),
    )[1:]
    seconds = f"({r('horizon_months')}*730*3600)"
    base = f"({r('baseline_ctr')}*{r('baseline_cvr')})"
    dates = L.CHECK_DATES_ROW
    ages = f"{L.CHECK_DATES_COLS[0]}{dates}:{L.CHECK_DATES_COLS[-1]}{dates}"
    serving = ("model_params", "tokens_per_item", "used_serve_peak_tflops")
    training = ("model_params", "used_train_tokens", "used_gpu_peak_tflops")
    return {
        "qps_flops": (
            f"IF({known('qps_per_replica', *serving)},"
            f"{r('qps_per_replica')}/{r('used_gpus_per_replica')}*2*{r('model_params')}*{tokens}"
            f'/10^12/{r("used_serve_peak_tflops")},"")',
            _number(MFU_LIMIT),
            "{v}>{lim}",
        ),
        "qps_bandwidth": (
            f"IF(AND({known('qps_per_replica', 'model_params', 'used_serve_memory_bandwidth_tbs')},"
            f"{out_tokens}>0),{r('qps_per_replica')}/{r('used_gpus_per_replica')}*{out_tokens}"
            f"/{r('serve_batch')}*{r('model_params')}*{r('bytes_per_param')}/10^12"
            f'/{r("used_serve_memory_bandwidth_tbs")},"")',
            _number(MFU_LIMIT),
            "{v}>{lim}",
        ),
        "train_flops": (
            f"IF({known('train_hours', *training)},"
            f"IF(AND({r('train_hours')}>0,{r('train_gpus')}>0),{r('flops_per_param_token')}"
            f"*{r('model_params')}*{r('used_train_tokens')}/({r('train_gpus')}*{r('train_hours')}"
            f'*3600)/10^12/{r("used_gpu_peak_tflops")},""),"")',
            _number(MFU_LIMIT),
            "{v}>{lim}",
        ),
        "capacity": (
            f"IF(ISNUMBER({r('used_qps_per_replica')}),{r('used_serve_gpus')}"
            f'/{r("used_gpus_per_replica")}*{r("used_qps_per_replica")}*{r("used_serve_hours")}*3600,"")',
            r("volume"),
            "{v}<{lim}",
        ),
        "peak_traffic": (
            f"IF(AND(ISNUMBER({r('peak_qps')}),{r('volume')}>0),"
            f'{r("peak_qps")}/({r("volume")}/{seconds}),"")',
            _number(PEAK_TO_AVERAGE_LIMIT),
            "OR({v}<1,{v}>{lim})",
        ),
        "serve_hours": (r("used_serve_hours"), f"730*{r('horizon_months')}", "{v}>{lim}"),
        "memory": (
            f'IF({{lim}}="","",IF(ISNUMBER({r("gpus_per_replica")}),{r("gpus_per_replica")},'
            f"IF(ISNUMBER({r('serve_gpus')}),{r('serve_gpus')},{{lim}})))",
            f'IF({known("model_params", "used_serve_memory_gb")},{fit},"")',
            "AND({v}>0,{v}<{lim})",
        ),
        "latency": (
            f"IF(AND({known('latency_slo_ms', *serving)},"
            f"OR({out_tokens}=0,ISNUMBER({r('used_serve_memory_bandwidth_tbs')}))),"
            f'{latency}/{r("used_gpus_per_replica")},"")',
            f'IF(ISNUMBER({r("latency_slo_ms")}),{r("latency_slo_ms")},"")',
            "{v}>{lim}",
        ),
        "uplift": (
            f'IF({base}>0,{r("ctr")}*{r("cvr")}/{base}-1,"")',
            _number(UPLIFT_LIMIT),
            "{v}>{lim}",
        ),
        "price_age": (
            f'IF(COUNT({ages})=0,"",MAX({ages}))',
            _number(PRICE_AGE_DAYS),
            "{v}>{lim}",
        ),
    }


def _checks_sheet(wb: Workbook, mode: str) -> list[Calc]:
    ws = wb.create_sheet(L.CHECKS)
    _title(
        ws,
        "Checks: are the typed numbers physically and commercially plausible?",
        "What each typed number implies (from model size, tokens, GPU, traffic) against a limit "
        "and its source. Warnings never change the results; they say what to revisit.",
        {"A": 70, "B": 20, "C": 16, "D": 16, "E": 12, "F": 90},
    )
    _header(ws, L.CHECK_HEADER_ROW, ["Check", "Measure", "Value", "Limit", "Status", "How"])
    c = L.CHECK_COL
    formulas = _check_formulas(mode, _costs_ref)
    calcs: list[Calc] = []
    for name, row in L.CHECK_ROWS.items():
        unit, how = _CHECK_NOTES[name]
        value, limit, cond = formulas[name]
        v, lim = f"{c['value']}{row}", f"{c['limit']}{row}"
        ws.cell(row, 1, CHECKS[name])
        ws.cell(row, 2, unit)
        ws.cell(row, 6, how).style = S.NOTE
        ws.cell(row, 6).alignment = Alignment(wrap_text=True, vertical="top")
        _fit_height(ws, row, how, 90)
        status = f'=IF({v}="","n/a",IF({cond.format(v=v, lim=lim)},"WARNING","OK"))'
        texts = {
            "value": "=" + value.replace("{lim}", lim),
            "limit": "=" + limit,
            "status": status,
        }
        for i, key in enumerate(("value", "limit", "status")):
            cell = f"{c[key]}{row}"
            ws[cell].style = S.CALC
            if key != "status":
                ws[cell].number_format = (
                    "0.00%" if name == "uplift"
                    else "#,##0" if name in ("capacity", "price_age") else "#,##0.000"
                )  # fmt: skip
            calcs.append(Calc(L.CHECKS, cell, texts[key], partial(_check_value, name, i)))
    dates = L.CHECK_DATES_ROW
    ws.cell(dates, 1, "Age in days of catalog prices in use (serving, training, purchase, API)")
    ws.cell(dates, 1).style = S.NOTE
    for i, text in enumerate(_price_age_formulas()):
        cell = f"{L.CHECK_DATES_COLS[i]}{dates}"
        ws[cell].style = S.CALC
        ws[cell].number_format = "#,##0"
        calcs.append(Calc(L.CHECKS, cell, text, partial(_price_date, i)))
    master = L.MASTER_CHECK_CELL
    statuses = (
        f"{c['status']}{min(L.CHECK_ROWS.values())}:{c['status']}{max(L.CHECK_ROWS.values())}"
    )
    ws.cell(int(master[1:]), 1, "Master check (TRUE: every check passes)").style = S.GROUP
    ws[master].style = S.RESULT
    calcs.append(
        Calc(
            L.CHECKS,
            master,
            f'=COUNTIF({statuses},"WARNING")=0',
            lambda f: all(x[2] != "WARNING" for x in f.main.checks.values()),
        )
    )
    wb.defined_names[L.MASTER_CHECK] = DefinedName(
        L.MASTER_CHECK, attr_text=L.absolute(L.CHECKS, master)
    )
    _finish(ws, f"A{L.CHECK_HEADER_ROW + 1}", "F", int(master[1:]))
    return calcs


def _check_value(name: str, i: int, f: Facts) -> Value:
    return f.main.checks[name][i]


def _price_age_formulas() -> tuple[str, str, str, str]:
    """Native formulas of the age in days of each catalog price in use, in
    :data:`~xlcost.engine.checks.PRICE_KINDS` order ("" where none is used)."""
    gpu, term = "serve_gpu", "serve_term"
    offers = f"offers_gpu,{gpu},offers_term,{term}"
    on_demand = _iso_date(catalog_lookup(gpu, "price_as_of"))
    serving = (
        f"=IF(AND(ISBLANK(serve_price_per_gpu_hour),NOT(ISBLANK({gpu}))),"
        f'TODAY()-IF(ISBLANK({term}),{on_demand},_xlfn.MINIFS(offers_price_as_of,{offers})),"")'
    )
    training = (
        "=IF(AND(ISBLANK(train_price_per_gpu_hour),NOT(ISBLANK(train_gpu))),"
        f'TODAY()-{_iso_date(catalog_lookup("train_gpu", "price_as_of"))},"")'
    )
    row = f"MATCH({gpu},purchases_gpu,0)"
    purchase = (
        f"=IF(AND(ISBLANK(gpu_purchase_price),NOT(ISBLANK({gpu})),used_own_gpus>0),"
        f"IFERROR(IF(ISNUMBER(INDEX(purchases_purchase_price,{row})),"
        f'TODAY()-INDEX(purchases_price_as_of,{row}),""),""),"")'
    )
    api = (
        "=IF(AND(NOT(ISBLANK(api_model)),OR(ISBLANK(api_price_per_m_input_tokens),"
        "ISBLANK(api_price_per_m_output_tokens))),"
        'TODAY()-INDEX(apis_price_as_of,MATCH(api_model,apis_model,0)),"")'
    )
    return serving, training, purchase, api


def _price_date(i: int, f: Facts) -> Value:
    return f.main.price_dates[i]


LIMITATIONS: tuple[tuple[str, str], ...] = (
    ("Even spreading", "Deployment, retraining and benefit are spread evenly over the horizon and "
     "maintenance over its months: no ramp-up, seasonality or growth."),
    ("Not accounted", "No taxes, depreciation, inflation, financing or working capital; all "
     "amounts are nominal, in one currency."),
    ("Benefit", "The benefit is the modelled uplift (click rate × conversion rate × value × "
     "volume, over an optional baseline), not measured revenue."),
    ("Rates", "One discount rate for the whole horizon. IRR is Excel's IRR of the monthly nets, "
     "annualised; above 1,000 % a year it is shown as such."),
    ("Payback", "The first month (0 = start) whose cumulative net, to the cent, is ≥ 0; blank "
     "when that does not happen within the horizon."),
    ("Horizon", f"At most {L.MAX_MONTHS} months. Prices in the Catalog are dated list prices: "
     "refresh them before relying on them."),
)  # fmt: skip
"""The model's limitations, listed on the README sheet (and in workbook/README.md)."""


def _readme_sheet(wb: Workbook, mode: str) -> list[Calc]:
    ws = wb.active
    assert ws is not None
    ws.title = L.README
    _title(
        ws,
        "xlcost: what an AI model for search and recommendation costs and earns",
        "Cost, benefit, ROI, NPV, payback and a recommendation for e-commerce search and "
        "recommendation models, following the five-step cost-accounting method for AI models in "
        "e-commerce search and recommendation.",
        {"A": 26, "B": 96},
    )
    steps = [
        ("1. Inputs", "Type your assumptions into the yellow cells of the Inputs sheet. Each "
         "input has a unit, a note and a validation rule; blank optional inputs take defaults."),
        ("2. Costs", "Read training, deployment and maintenance cost, benefit, ROI and BCR "
         "(the cost table) and the key results NPV, IRR, payback, cost per 1,000."),
        ("3. Cash flow", "The monthly schedule over the horizon, with NPV, IRR and payback."),
        ("4. Scenarios", "Several options side by side, ranked by NPV, with the recommendation "
         "within your budget."),
        ("5. Catalog", "GPU specs and on-demand prices, with sources and dates."),
        ("Protection", "Sheets are protected without a password so formulas are not overwritten "
         "by accident: Review > Unprotect Sheet to change them."),
    ]  # fmt: skip
    row = 4
    ws.cell(row, 1, "How to use it").style = S.GROUP
    for label, text in steps:
        row += 1
        ws.cell(row, 1, label).alignment = Alignment(vertical="top")
        ws.cell(row, 2, text).style = S.NOTE
        _fit_height(ws, row, text, 96 * _NOTE_CHARS)
    row += 2
    ws.cell(row, 1, "Limitations").style = S.GROUP
    for label, text in LIMITATIONS:
        row += 1
        ws.cell(row, 1, label).alignment = Alignment(vertical="top")
        ws.cell(row, 2, text).style = S.NOTE
        _fit_height(ws, row, text, 96 * _NOTE_CHARS)
    row += 2
    ws.cell(row, 1, "Colour legend").style = S.GROUP
    for style, text in S.LEGEND:
        row += 1
        ws.cell(row, 1, "example").style = style
        ws.cell(row, 2, text)
    row += 2
    ws.cell(row, 1, "Version").style = S.GROUP
    row += 1
    ws.cell(row, 1, "Mode")
    ws.cell(row, 2, mode)
    row += 1
    ws.cell(row, 1, "xlcost version")
    calcs: list[Calc] = []
    if mode == "udf":
        version = f"B{row}"
        calcs.append(
            Calc(L.README, version, formula(mode, "XLCOST_VERSION"), lambda f: __version__)
        )
        row += 1
        ws.cell(row, 1, "Functions loaded?")
        live = formula(mode, "XLCOST_VERSION")[1:]
        calcs.append(
            Calc(
                L.README,
                f"B{row}",
                f'=IF(ISERROR({live}),"NO: the xlcost functions are not loaded (see '
                f'workbook/README.md); every xlcost cell shows an error","yes")',
                lambda f: "not checked yet: Excel checks when it calculates (F9)",
                exact=False,
            )
        )
        ws[f"B{row}"].style = S.RESULT
        ws[version].style = S.RESULT
    else:
        ws.cell(row, 2, __version__)
        row += 1
        ws.cell(row, 1, "Functions loaded?")
        ws.cell(row, 2, "not needed: this portable workbook uses native Excel formulas only")
    _finish(ws, "A4", "B", row)
    return calcs


def _master_check_hook(wb: Workbook) -> list[Calc]:
    """Show the Checks sheet's master check on README and Costs, once a sheet defines it.

    The master check is the defined name :data:`~xlcost.workbooks.layout.MASTER_CHECK` (TRUE
    when every check passes); until a sheet defines it, nothing is shown.
    """
    if L.MASTER_CHECK not in wb.defined_names:
        return []
    calcs: list[Calc] = []
    text = f'=IF({L.MASTER_CHECK},"OK: every check passes","CHECK: see the Checks sheet")'
    for sheet in (L.README, L.COSTS):
        ws = wb[sheet]
        # Costs: between the Scenario row and the chart; README: under the title (page 1)
        row = max(L.RESULT_ROWS.values()) + 3 if sheet == L.COSTS else 3
        ws.cell(row, 1, "Checks").style = S.GROUP
        ws[f"B{row}"].style = S.RESULT
        calcs.append(Calc(sheet, f"B{row}", text, _master_check_value))
    return calcs


def _master_check_value(f: Facts) -> Value:
    passed = all(status != "WARNING" for _, _, status in f.main.checks.values())
    return "OK: every check passes" if passed else "CHECK: see the Checks sheet"


INTELLISENSE_ID = "FunctionInfo"
"""What A1 of the IntelliSense sheet must say (ExcelDna.IntelliSense's WorkbookIntelliSenseProvider
checks it, case-insensitively, before it reads the rows below)."""


def intellisense_rows() -> list[list[str]]:
    """The ``_IntelliSense_`` sheet's rows, from the function registry.

    ExcelDna.IntelliSense reads the sheet's used range: A1 ``FunctionInfo`` (B1 the format
    version, ``1.0``); then one row per function: name, description, help topic (none), then
    each argument's name (optional ones in brackets, as Excel shows them) and description.
    """
    from xlcost.functions import REGISTRY

    rows = [[INTELLISENSE_ID, "1.0"]]
    for fn in REGISTRY.values():
        row = [fn.name, fn.description, ""]
        for arg in fn.args:
            row += [arg.name if arg.default is None else f"[{arg.name}]", arg.description]
        rows.append(row)
    return rows


def _intellisense_sheet(wb: Workbook) -> None:
    """Function and argument descriptions for the ExcelDna.IntelliSense add-in (hidden sheet)."""
    ws = wb.create_sheet(L.INTELLISENSE)
    for r, row in enumerate(intellisense_rows(), start=1):
        for c, text in enumerate(row, start=1):
            if text:
                ws.cell(r, c).value = text
                ws.cell(r, c).data_type = "s"  # text, never a formula
    ws.sheet_state = "hidden"


def _conf_sheet(wb: Workbook) -> None:
    """xlwings' workbook settings: keys in column A from A1 down, values in column B."""
    ws = wb.create_sheet(L.CONF)
    ws["A1"], ws["B1"] = "UDF Modules", "xlcost.udfs"
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 16


# --------------------------------------------------------------------------- ranges and Risk

_RISK_LABELS = {"total_cost": "Total cost", "npv": "NPV", "roi": "ROI"}
_UP_TO_DATE = "up to date: computed from the current inputs and ranges"
_STALE = (
    "out of date — regenerate: an input or range differs from the ones these numbers were "
    "computed from (xlcost generate or xlcost risk)"
)
_RANGES_OK = "ok: every Low ≤ value ≤ High"
_RANGES_BAD = "check the Inputs sheet: a Low is above its value or a High below it"
_NONE_IN_RANGE = "none in range"


def _base_ref(name: str) -> str | None:
    """The defined name of an input's value in effect (``used_<name>``), if it has one."""
    if name in L.DEFAULTED or name in L.ESTIMATED or f"used_{name}" in L.DERIVED:
        return f"used_{name}"
    return None


def _side_formula(name: str, side: str) -> str:
    """An input at its Low or High, or at its value when that bound is blank ("" when it has
    none). ``+0`` makes each branch a value, not a reference to the input's cell."""
    bound = f"{name}_{side}"
    base = _base_ref(name)
    if base is None:
        return f'=IF(ISBLANK({bound}),IF(ISBLANK({name}),"",{name}+0),{bound}+0)'
    if name in L.ESTIMATED:  # its used value is "" when nothing is known
        return f'=IF(ISBLANK({bound}),IF(ISNUMBER({base}),{base}+0,""),{bound}+0)'
    return f"=IF(ISBLANK({bound}),{base}+0,{bound}+0)"


def _cell_of(name: str) -> str:
    """The absolute address of a named input cell or result (``Inputs!$B$7``), else the name."""
    for sheet, cells in (
        (L.INPUTS, L.INPUT_CELLS),
        (L.INPUTS, L.USED_CELLS),
        (L.COSTS, L.DERIVED_CELLS),
        (L.COSTS, L.RESULT_CELLS),
    ):
        if name in cells:
            return L.absolute(sheet, cells[name])
    return name


def _base_formula(name: str) -> str:
    return "=" + (_base_ref(name) or name)


def _same(a: str, b: str) -> str:
    """1 when cells ``a`` and ``b`` differ (blank vs not, or any other value), else 0."""
    return f"IF(ISBLANK({a}),IF(ISBLANK({b}),0,1),IF(ISBLANK({b}),1,IF(EXACT({a},{b}),0,1)))"


def _range_columns(wb: Workbook) -> list[Calc]:
    """Low / High / Dist beside every numeric input on the Inputs sheet, named NAME_low …"""
    ws = wb[L.INPUTS]
    cols = L.RANGE_COLS
    for key, label in (("low", "Low"), ("high", "High"), ("dist", "Dist")):
        cell = ws[f"{cols[key]}4"]
        cell.value, cell.style = label, S.HEADER
        ws.column_dimensions[cols[key]].width = 14 if key != "dist" else 12
    ws[f"{cols['low']}3"] = (
        "Uncertain inputs: Low and High around the value (blank = no range); Dist triangular "
        "(blank), pert or uniform. The Risk sheet uses them."
    )
    ws[f"{cols['low']}3"].style = S.NOTE
    ws[f"{cols['low']}3"].alignment = Alignment(wrap_text=False, vertical="center")
    for name in L.RANGED_INPUTS:
        spec = input_spec(name)
        lower, inclusive, upper = field_domain(name)
        base = _base_ref(name) or name
        for side in ("low", "high", "dist"):
            key = f"{name}_{side}"
            cell = L.RANGE_CELLS[key]
            ws[cell].style = S.INPUT
            wb.defined_names[key] = DefinedName(key, attr_text=L.absolute(L.INPUTS, cell))
            common: dict[str, Any] = {
                "allow_blank": True,
                "showErrorMessage": True,
                "showInputMessage": True,
                "errorTitle": f"Invalid {key}"[:32],
                "promptTitle": f"{spec['label']} ({side})"[:32],
            }
            if side == "dist":
                dv = DataValidation(
                    type="list", formula1='"triangular,pert,uniform"',
                    error="Dist is triangular (blank), pert or uniform.",
                    prompt="Shape of the range: triangular (blank; the value is the most "
                    "likely), pert (a smoother triangular) or uniform.", **common,
                )  # fmt: skip
            else:
                ws[cell].number_format = S.number_format(spec["unit"])
                cond = [f"ISNUMBER({cell})", f"{cell}{'<=' if side == 'low' else '>='}{base}"]
                if lower is not None:
                    cond.append(f"{cell}{'>=' if inclusive else '>'}{lower:g}")
                if upper is not None:
                    cond.append(f"{cell}<={upper:g}")
                word = "≤" if side == "low" else "≥"
                dv = DataValidation(
                    type="custom", formula1=f"AND({','.join(cond)})",
                    error=f"{key} must be a number {word} {name} and within its limits.",
                    prompt=f"{'Lowest' if side == 'low' else 'Highest'} plausible {name} "
                    f"({spec['unit']}); blank = no range on this side.", **common,
                )  # fmt: skip
            ws.add_data_validation(dv)
            dv.add(cell)
    return []


def _risk_sheet(wb: Workbook, mode: str) -> list[Calc]:
    ws = wb.create_sheet(L.RISK)
    _title(
        ws,
        "Risk: what the ranges of the inputs do to the result",
        "Monte Carlo percentiles and NPV histogram (computed by xlcost from the Low / High "
        "columns of the Inputs sheet), tornado and break-even (formulas: they follow your "
        "edits).",
        {"A": 30, "B": 16, "C": 16, "D": 16, "E": 16, "F": 16, "G": 14, "H": 14},
    )
    calcs: list[Calc] = []
    st, tt = L.RISK_ST_COLS, L.RISK_TT_COLS
    st_first, st_last = L.RISK_ST_FIRST_ROW, max(L.RISK_ST_ROWS.values())

    # status and the Monte Carlo block (the engine's values)
    for cell, label in (
        (L.RISK_STATUS_CELL, "Monte Carlo numbers"),
        (L.RISK_RANGES_CELL, "Ranges"),
        (L.RISK_DRAWS_CELL, "Draws"),
        (L.RISK_SEED_CELL, "Random seed"),
    ):
        ws[f"A{cell[1:]}"] = label
    changed = f"{st['changed']}{st_first}:{st['changed']}{st_last}"
    bad = f"{st['bad_range']}{st_first}:{st['bad_range']}{st_last}"
    calcs.append(
        Calc(L.RISK, L.RISK_STATUS_CELL,
             f'=IF(SUM({changed})=0,"{_UP_TO_DATE}","{_STALE}")', lambda f: _UP_TO_DATE)
    )  # fmt: skip
    calcs.append(
        Calc(L.RISK, L.RISK_RANGES_CELL,
             f'=IF(SUM({bad})=0,"{_RANGES_OK}","{_RANGES_BAD}")', lambda f: _RANGES_OK)
    )  # fmt: skip
    for cell in (L.RISK_STATUS_CELL, L.RISK_RANGES_CELL):
        ws[cell].style = S.RESULT
        ws[cell].alignment = Alignment(wrap_text=False, vertical="center")
    for cell in (L.RISK_DRAWS_CELL, L.RISK_SEED_CELL):
        ws[cell].style = S.CALC
        ws[cell].number_format = "#,##0" if cell == L.RISK_DRAWS_CELL else "0"
    hdr = L.RISK_STATS_HEADER_ROW
    ws[f"A{hdr - 1}"] = (
        f"Monte Carlo: {DEFAULT_DRAWS:,} draws, random seed {DEFAULT_SEED} "
        "(values computed by xlcost; the status above says whether they match the inputs)"
    )
    ws[f"A{hdr - 1}"].style = S.GROUP
    _header(ws, hdr, ["Result", "P10", "P50", "P90", "Mean"])
    for name, row in L.RISK_STATS_ROWS.items():
        ws[f"A{row}"] = _RISK_LABELS[name]
        for col in L.RISK_STATS_COLS.values():
            ws[f"{col}{row}"].style = S.RESULT
            ws[f"{col}{row}"].number_format = S.PERCENT if name == "roi" else S.MONEY
    ws[f"A{L.RISK_PROB_CELL[1:]}"] = "Probability NPV > 0"
    ws[L.RISK_PROB_CELL].style = S.RESULT
    ws[L.RISK_PROB_CELL].number_format = "0.0%"
    hist = L.RISK_HIST_COLS
    _header(ws, L.RISK_HIST_HEADER_ROW, ["NPV from", "NPV to", "Draws"])
    last_bin = L.RISK_HIST_FIRST_ROW + L.RISK_HIST_BINS - 1
    for row in range(L.RISK_HIST_FIRST_ROW, last_bin + 1):
        for col in hist.values():
            ws[f"{col}{row}"].style = S.CALC
            ws[f"{col}{row}"].number_format = "#,##0"
    chart = BarChart()
    chart.type = "col"
    chart.title = f"NPV histogram ({DEFAULT_DRAWS:,} draws, random seed {DEFAULT_SEED})"
    chart.y_axis.title = "Draws"
    chart.x_axis.title = "NPV up to"
    chart.x_axis.number_format = "#,##0"
    chart.legend = None
    chart.gapWidth = 10
    col_of = {c: i + 1 for i, c in enumerate("ABCDEFGH")}
    chart.add_data(Reference(ws, min_col=col_of[hist["draws"]], min_row=L.RISK_HIST_FIRST_ROW,
                             max_row=last_bin))  # fmt: skip
    chart.set_categories(Reference(ws, min_col=col_of[hist["to"]],
                                   min_row=L.RISK_HIST_FIRST_ROW, max_row=last_bin))  # fmt: skip
    chart.width, chart.height = _RISK_CHART_SIZE
    ws.add_chart(chart, f"I{L.RISK_STATS_HEADER_ROW}")

    # what-if columns (hidden): the model with one input changed — a probe for each linear
    # input (its tornado and break-even follow from two NPVs), Low and High for the others
    names = L.RISK_TORNADO_INPUTS
    ws.cell(L.RISK_WI_LABEL_ROW, L.RISK_HELP_FIRST_COL, "What-if: input")
    ws.cell(L.RISK_WI_SIDE_ROW, L.RISK_HELP_FIRST_COL, "at")
    ws.cell(L.RISK_WI_VALUE_ROW, L.RISK_HELP_FIRST_COL, "value")
    for key, row in L.RISK_WI_ROWS.items():
        ws.cell(row, L.RISK_HELP_FIRST_COL, key)
    ws.cell(L.RISK_WI_ROOT_ROW, L.RISK_HELP_FIRST_COL, "NPV = 0 at")
    for k, (c, varied, side) in enumerate(_what_if_columns()):
        col = get_column_letter(c)
        value_cell = f"{col}{L.RISK_WI_VALUE_ROW}"
        ws[f"{col}{L.RISK_WI_LABEL_ROW}"] = varied
        ws[f"{col}{L.RISK_WI_SIDE_ROW}"] = side

        def ref(
            name: str, col: str = col, varied: str = varied, value_cell: str = value_cell
        ) -> str:
            if name == varied:
                return value_cell
            if name in L.RISK_WI_ROWS:
                return f"{col}{L.RISK_WI_ROWS[name]}"
            return _cell_of(_costs_ref(name))

        base = _cell_of(_base_ref(varied) or varied)
        # a probe is xlcost.engine.risk.probe_value: half the value, 1 when it is 0
        value = f"=IF({base}=0,1,{base}/2)" if side == "probe" else _side_formula(varied, side)
        calcs.append(Calc(L.RISK, value_cell, value, partial(_what_if_value, k, "value")))
        formulas = _model_formulas(mode, ref) | {"npv": _npv_formula(ref)}
        for key, row in L.RISK_WI_ROWS.items():
            calcs.append(
                Calc(L.RISK, f"{col}{row}", formulas[key], partial(_what_if_value, k, key))
            )
        if side == "probe" and varied in BREAK_EVEN_INPUTS:
            npv1 = f"{col}{L.RISK_WI_ROWS['npv']}"
            root = formula(mode, "BREAK_EVEN", base, _cell_of("npv"), value_cell, npv1)[1:]
            calcs.append(
                Calc(L.RISK, f"{col}{L.RISK_WI_ROOT_ROW}", f'=IFERROR({root},"")',
                     partial(_break_even_root, varied))
            )  # fmt: skip

    # the unsorted tornado (hidden): one row per input, its NPVs at Low and High, swing, rank
    first_tt = L.RISK_TT_FIRST_ROW
    last_tt = first_tt + len(names) - 1
    swing = f"${tt['swing']}${first_tt}:${tt['swing']}${last_tt}"
    rank = f"${tt['rank']}${first_tt}:${tt['rank']}${last_tt}"
    for key, col in tt.items():
        ws[f"{col}{first_tt - 1}"] = key
    npv_row = L.RISK_WI_ROWS["npv"]
    npv = _cell_of("npv")
    for i, n in enumerate(names):
        row = first_tt + i
        ws[f"{tt['input']}{row}"] = n
        cells: dict[str, str] = {}
        if n in L.RISK_LINEAR_INPUTS:
            probe = get_column_letter(L.risk_probe_col(L.RISK_LINEAR_INPUTS.index(n)))
            x0 = _cell_of(_base_ref(n) or n)
            slope = f"({probe}{npv_row}-{npv})/({probe}{L.RISK_WI_VALUE_ROW}-{x0})"
            for side in ("low", "high"):
                cells[side] = _side_formula(n, side)
                cells[f"npv_{side}"] = (
                    f"=IF(ISBLANK({n}_{side}),{npv},{npv}+({tt[side]}{row}-{x0})*{slope})"
                )
        else:
            j = L.RISK_NONLINEAR_INPUTS.index(n)
            for side in ("low", "high"):
                wi = get_column_letter(L.risk_wi_col(j, side))
                cells[side] = f"={wi}{L.RISK_WI_VALUE_ROW}"
                cells[f"npv_{side}"] = f"=IF(ISBLANK({n}_{side}),{npv},{wi}{npv_row})"
        cells["swing"] = f"=ABS({tt['npv_high']}{row}-{tt['npv_low']}{row})"
        cells["rank"] = (
            f"=SUMPRODUCT(({swing}>{tt['swing']}{row})*1)"
            f"+SUMPRODUCT((${tt['swing']}${first_tt}:{tt['swing']}{row}={tt['swing']}{row})*1)"
        )
        for key, text in cells.items():
            calcs.append(Calc(L.RISK, f"{tt[key]}{row}", text, partial(_tornado_row_value, i, key)))

    # the sorted tornado (visible) and its chart
    tc = L.RISK_TORNADO_COLS
    _header(ws, L.RISK_TORNADO_HEADER_ROW, ["Tornado: input", "Low", "High", "NPV at low",
            "NPV at high", "Swing", "Δ NPV at low", "Δ NPV at high"])  # fmt: skip
    ws[f"A{L.RISK_TORNADO_HEADER_ROW - 1}"] = (
        "Tornado: the NPV with one input at its Low or High, the others at their values "
        "(largest swing first; formulas)"
    )
    ws[f"A{L.RISK_TORNADO_HEADER_ROW - 1}"].style = S.GROUP
    source = {k: f"${tt[k]}${first_tt}:${tt[k]}${last_tt}" for k in tt}
    for k in range(1, L.RISK_TORNADO_BARS + 1):
        row = L.RISK_TORNADO_FIRST_ROW + k - 1
        at = f"MATCH({k},{rank},0)"
        shown = f"INDEX({swing},{at})>0"
        for key, col in tc.items():
            if key.startswith("delta"):
                side = key.split("_")[1]
                text = f'=IF({tc["swing"]}{row}="","",{tc["npv_" + side]}{row}-npv)'
            else:
                text = f'=IFERROR(IF({shown},INDEX({source[key]},{at}),""),"")'
            calcs.append(Calc(L.RISK, f"{col}{row}", text, partial(_tornado_bar_value, k, key)))
            ws[f"{col}{row}"].style = S.CALC
            ws[f"{col}{row}"].number_format = {"input": S.GENERAL, "low": S.MAGNITUDE,
                                               "high": S.MAGNITUDE}.get(key, S.MONEY)  # fmt: skip
    last_bar = L.RISK_TORNADO_FIRST_ROW + L.RISK_TORNADO_BARS - 1
    chart = BarChart()
    chart.type = "bar"
    chart.grouping = "clustered"
    chart.overlap = 100
    chart.title = "Tornado: change in NPV at each input's Low and High"
    chart.y_axis.title = "Change in NPV"
    chart.y_axis.numFmt = "#,##0"
    chart.x_axis.scaling.orientation = "maxMin"
    chart.x_axis.tickLblPos = "low"
    chart.legend.position = "b"
    chart.x_axis.tickLblSkip = 1  # every input's name, not every other one
    for key in ("delta_low", "delta_high"):
        data = Reference(ws, min_col=col_of[tc[key]], min_row=L.RISK_TORNADO_HEADER_ROW,
                         max_row=last_bar)  # fmt: skip
        chart.add_data(data, titles_from_data=True)
    chart.set_categories(
        Reference(ws, min_col=1, min_row=L.RISK_TORNADO_FIRST_ROW, max_row=last_bar)
    )
    chart.width, chart.height = _RISK_CHART_SIZE
    ws.add_chart(chart, f"I{L.RISK_TORNADO_HEADER_ROW}")

    # break-even (visible)
    bc = L.RISK_BE_COLS
    ws[f"A{L.RISK_BE_HEADER_ROW - 1}"] = (
        "Break-even: the value of one input at which NPV = 0, the others at their values "
        "(the NPV is linear in each of these inputs: closed form, formulas)"
    )
    ws[f"A{L.RISK_BE_HEADER_ROW - 1}"].style = S.GROUP
    _header(ws, L.RISK_BE_HEADER_ROW, ["Break-even: input", "Value now", "NPV = 0 at", "How"])
    for j, n in enumerate(BREAK_EVEN_INPUTS):
        row = L.RISK_BE_FIRST_ROW + j
        probe = get_column_letter(L.risk_probe_col(j))
        raw = f"{probe}{L.RISK_WI_ROOT_ROW}"
        lower, inclusive, upper = field_domain(n)
        cond = []
        if lower is not None:
            cond.append(f"{raw}{'>=' if inclusive else '>'}{lower:g}")
        if upper is not None:
            cond.append(f"{raw}<={upper:g}")
        inside = f"AND({','.join(cond)})" if cond else "TRUE"
        ws[f"{bc['input']}{row}"] = n
        ws[f"{bc['how']}{row}"] = (
            "BREAK_EVEN of two NPVs" if mode == "udf" else "linear root of two NPVs"
        )
        calcs.append(Calc(L.RISK, f"{bc['base']}{row}", _base_formula(n),
                          partial(_break_even_base, n)))  # fmt: skip
        calcs.append(
            Calc(L.RISK, f"{bc['value']}{row}",
                 f'=IF({raw}="","{_NONE_IN_RANGE}",IF({inside},{raw},"{_NONE_IN_RANGE}"))',
                 partial(_break_even_value, n))
        )  # fmt: skip
        for key in ("base", "value"):
            ws[f"{bc[key]}{row}"].style = S.RESULT if key == "value" else S.CALC
            ws[f"{bc[key]}{row}"].number_format = S.number_format(input_spec(n)["unit"])

    # computed-from values (hidden) and the flags the status reads
    ws[f"{st['input']}{st_first - 1}"] = "computed from"
    for key, col in st.items():
        if key != "input":
            ws[f"{col}{st_first - 1}"] = key
    for name, row in L.RISK_ST_ROWS.items():
        ws[f"{st['input']}{row}"] = name
        for key in ("value", "low", "high", "dist"):  # present in the sheet XML, values per file
            ws[f"{st[key]}{row}"].style = S.CALC
        here = L.INPUT_ROWS[name]
        parts = [_same(L.absolute(L.INPUTS, f"{L.INPUT_VALUE_COL}{here}"), f"{st['value']}{row}")]
        check = "0"
        if name in L.RANGED_INPUTS:
            for side in ("low", "high", "dist"):
                parts.append(
                    _same(L.absolute(L.INPUTS, L.RANGE_CELLS[f"{name}_{side}"]), f"{st[side]}{row}")
                )
            base = _base_ref(name) or name
            lo, hi = f"{name}_low", f"{name}_high"
            check = (
                f"IF(OR(AND(ISNUMBER({lo}),ISNUMBER({base}),{lo}>{base}),"
                f"AND(ISNUMBER({hi}),ISNUMBER({base}),{hi}<{base})),1,0)"
            )
        calcs.append(Calc(L.RISK, f"{st['changed']}{row}", "=" + "+".join(parts), lambda f: 0))
        calcs.append(Calc(L.RISK, f"{st['bad_range']}{row}", "=" + check, lambda f: 0))

    first_help = get_column_letter(L.RISK_HELP_FIRST_COL)
    last_help = get_column_letter(L.RISK_WI_LAST_COL)
    ws.column_dimensions.group(first_help, last_help, hidden=True)
    _finish(ws, "A4", L.RISK_PRINT_LAST_COL, L.RISK_BE_FIRST_ROW + len(BREAK_EVEN_INPUTS) - 1)
    return calcs


_RISK_CHART_SIZE = (15.0, 9.0)
"""Width and height (cm) of the Risk sheet's charts: columns I to Q of the print area."""


def _what_if_columns() -> list[tuple[int, str, str]]:
    """The what-if columns in order: (column number, input, "probe" / "low" / "high")."""
    out = [(L.risk_probe_col(j), n, "probe") for j, n in enumerate(L.RISK_LINEAR_INPUTS)]
    for i, n in enumerate(L.RISK_NONLINEAR_INPUTS):
        out += [(L.risk_wi_col(i, side), n, side) for side in ("low", "high")]
    return out


def _what_if_value(k: int, key: str, f: Facts) -> Value:
    return f.what_if[k][key]


def _tornado_row_value(i: int, key: str, f: Facts) -> Value:
    return f.tornado_rows[i][key]


def _tornado_bar_value(k: int, key: str, f: Facts) -> Value:
    bars = f.tornado_bars
    return bars[k - 1][key] if k <= len(bars) else ""


def _break_even_base(name: str, f: Facts) -> Value:
    return base_value(f.main.scenario, name, f.main.used)


def _break_even_root(name: str, f: Facts) -> Value:
    b = f.break_even[name]
    return "" if b.raw is None else b.raw


def _break_even_value(name: str, f: Facts) -> Value:
    b = f.break_even[name]
    return _NONE_IN_RANGE if b.value is None else b.value


def _risk_values(f: Facts) -> dict[str, dict[str, Value]]:
    """The Risk sheet's and the Inputs sheet's plain values (not formulas) for one scenario."""
    risk: dict[str, Value] = {L.RISK_DRAWS_CELL: f.simulation_draws, L.RISK_SEED_CELL: f.seed}
    mc = f.simulation
    for name, row in L.RISK_STATS_ROWS.items():
        p = mc.stats[name]
        for key, col in L.RISK_STATS_COLS.items():
            v = getattr(p, key)
            risk[f"{col}{row}"] = "" if v is None else v
    risk[L.RISK_PROB_CELL] = mc.prob_npv_positive
    hist = mc.histogram
    for b in range(L.RISK_HIST_BINS):
        row = L.RISK_HIST_FIRST_ROW + b
        has = hist is not None and b < len(hist.counts)
        risk[f"{L.RISK_HIST_COLS['from']}{row}"] = hist.edges[b] if has and hist else None
        risk[f"{L.RISK_HIST_COLS['to']}{row}"] = hist.edges[b + 1] if has and hist else None
        risk[f"{L.RISK_HIST_COLS['draws']}{row}"] = hist.counts[b] if has and hist else None
    inputs: dict[str, Value] = {}
    st = L.RISK_ST_COLS
    for name in L.RANGED_INPUTS:
        r = f.ranges.inputs.get(name)
        values: dict[str, Value] = {"low": None, "high": None, "dist": None}
        if r is not None:
            values = {"low": r.low, "high": r.high, "dist": r.dist}
        for side, v in values.items():
            inputs[L.RANGE_CELLS[f"{name}_{side}"]] = v
            risk[f"{st[side]}{L.RISK_ST_ROWS[name]}"] = v
    for name, row in L.RISK_ST_ROWS.items():
        risk[f"{st['value']}{row}"] = getattr(f.main.scenario, name)
    return {L.RISK: risk, L.INPUTS: inputs}


# --------------------------------------------------------------------------- the template


_CELL_RE = re.compile(r'<c r="([A-Z]+[0-9]+)"([^>]*?)(?:/>|>(.*?)</c>)', re.S)
_T_ATTR = re.compile(r'\s+t="[^"]*"')


def _number(v: float | int) -> str:
    if isinstance(v, float) and not math.isfinite(v):
        raise XlcostError(f"cannot write {v} into a workbook cell")
    return repr(float(v)) if isinstance(v, float) else str(v)


def _cell_xml(ref: str, attrs: str, inner: str | None, value: Value) -> str:
    """The ``<c>`` element for ``value``, keeping its style and (for formulas) its ``<f>``."""
    attrs = _T_ATTR.sub("", attrs).rstrip()
    f = ""
    if inner and "<f" in inner:
        f = inner[: inner.index("</f>") + 4] if "</f>" in inner else re.sub(r"<v>.*", "", inner)
    if value is None:
        return f'<c r="{ref}"{attrs}>{f}</c>' if f else f'<c r="{ref}"{attrs}/>'
    if isinstance(value, bool):
        return f'<c r="{ref}"{attrs} t="b">{f}<v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{ref}"{attrs}>{f}<v>{_number(value)}</v></c>'
    if f:
        return f'<c r="{ref}"{attrs} t="str">{f}<v>{escape(value)}</v></c>'
    text = f'<is><t xml:space="preserve">{escape(value)}</t></is>'
    return f'<c r="{ref}"{attrs} t="inlineStr">{text}</c>'


def _inject(xml: str, values: dict[str, Value]) -> str:
    def sub(m: re.Match[str]) -> str:
        ref = m.group(1)
        if ref not in values:
            return m.group(0)
        return _cell_xml(ref, m.group(2), m.group(3), values[ref])

    return _CELL_RE.sub(sub, xml)


def _fixed_core(xml: str) -> str:
    stamp = FIXED_DATE.strftime("%Y-%m-%dT%H:%M:%SZ")
    return re.sub(
        r"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)",
        lambda m: m.group(1) + stamp + m.group(2),
        xml,
    )


class Template:
    """The template for one mode and number of options, built once, rendered per scenario.

    Parameters
    ----------
    mode
        "udf" (cells call the xlcost functions) or "portable" (native Excel formulas).
    n_options
        Columns of the Scenarios sheet.

    Examples
    --------
    >>> t = Template("portable", 3)
    >>> data = t.render(seed_scenario(), load_example(COMPARISON))
    >>> data[:2]
    b'PK'
    """

    def __init__(self, mode: str, n_options: int, months: int = L.MAX_MONTHS) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be 'udf' or 'portable', got {mode!r}")
        if n_options < 1:
            raise ValueError("the Scenarios sheet needs at least one option")
        if not 1 <= months <= L.MAX_MONTHS:
            raise ValueError(f"months must be 1..{L.MAX_MONTHS}, got {months}")
        self.mode = mode
        self.n_options = n_options
        self.months = months
        wb = Workbook()
        S.register(wb)
        calcs = _readme_sheet(wb, mode)
        calcs += _inputs_sheet(wb, mode, months)
        calcs += _costs_sheet(wb, mode, months)
        calcs += _cashflow_sheet(wb, months)
        calcs += _scenarios_sheet(wb, mode, n_options)
        calcs += _catalog_sheet(wb, mode)
        calcs += _checks_sheet(wb, mode)
        calcs += _range_columns(wb)
        calcs += _risk_sheet(wb, mode)
        if mode == "udf":
            _conf_sheet(wb)
            _intellisense_sheet(wb)
        calcs += _master_check_hook(wb)
        for c in calcs:
            wb[c.sheet][c.cell] = c.formula
        wb.calculation.fullCalcOnLoad = True
        wb.properties.creator = "xlcost"
        wb.properties.created = FIXED_DATE
        self.calcs: tuple[Calc, ...] = tuple(calcs)
        self.sheet_parts = {ws.title: f"xl/worksheets/sheet{i}.xml" for i, ws in
                            enumerate(wb.worksheets, start=1)}  # fmt: skip
        buf = io.BytesIO()
        wb.save(buf)
        with zipfile.ZipFile(buf) as zf:
            self.parts: dict[str, bytes] = {n: zf.read(n) for n in zf.namelist()}
        self.parts["docProps/core.xml"] = _fixed_core(
            self.parts["docProps/core.xml"].decode("utf-8")
        ).encode("utf-8")

    def cell_values(
        self,
        scenario: Scenario,
        comparison: Sequence[Scenario],
        budget: float | None = None,
        ranges: Ranges | None = None,
    ) -> dict[str, dict[str, Value]]:
        """Sheet → cell → value: the inputs (and the Scenarios sheet's ``budget``, ``None`` =
        blank = no budget), and every formula's cached value from the engine."""
        if len(comparison) != self.n_options:
            raise ValueError(f"this template has {self.n_options} options, got {len(comparison)}")
        if budget is not None and not (math.isfinite(budget) and budget >= 0):
            raise XlcostError(f"budget must be a number ≥ 0, got {budget}")
        facts = Facts.of(scenario, comparison, budget, self.months, ranges)
        values: dict[str, dict[str, Value]] = {ws: {} for ws in self.sheet_parts}
        for sheet, by_cell in _risk_values(facts).items():
            values[sheet].update(by_cell)
        values[L.SCENARIOS][L.SCN_BUDGET_CELL] = budget
        for name, cell in L.INPUT_CELLS.items():
            values[L.INPUTS][cell] = getattr(scenario, name)
        for i, s in enumerate(comparison):
            col = get_column_letter(L.SCN_FIRST_COL + i)
            for name, row in L.SCN_INPUT_ROWS.items():
                values[L.SCENARIOS][f"{col}{row}"] = getattr(s, name)
        for c in self.calcs:
            values[c.sheet][c.cell] = c.value(facts)
        values[L.SCENARIOS] |= _breakeven_values(facts.options)
        return values

    def render(
        self,
        scenario: Scenario,
        comparison: Sequence[Scenario],
        budget: float | None = None,
        ranges: Ranges | None = None,
    ) -> bytes:
        """The workbook's bytes, filled with ``scenario`` (and its input ``ranges``), the
        ``comparison`` options and the ``budget`` (``None``: blank, no budget)."""
        values = self.cell_values(scenario, comparison, budget, ranges)
        parts = dict(self.parts)
        for sheet, part in self.sheet_parts.items():
            if values[sheet]:
                parts[part] = _inject(parts[part].decode("utf-8"), values[sheet]).encode("utf-8")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for name, data in parts.items():
                info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, data, compresslevel=6)
        return buf.getvalue()


@lru_cache(maxsize=1)
def _default_comparison() -> list[Scenario]:
    return load_example(COMPARISON)


@lru_cache(maxsize=8)
def _template(mode: str, n_options: int, months: int, catalog: Catalog | None) -> Template:
    """The template of ``catalog`` (:func:`~xlcost.engine.catalog.catalog_set`: the one its
    Catalog sheet lists), built once per process."""
    return Template(mode, n_options, months)


def template_bytes(
    mode: str,
    scenario: Scenario | None = None,
    *,
    comparison: Sequence[Scenario] | None = None,
    budget: float | None = DEFAULT_BUDGET,
    months: int = L.MAX_MONTHS,
    ranges: Ranges | None = None,
) -> bytes:
    """The template workbook as bytes (see :func:`build_template`); the skeleton is cached.

    ``months``: months the Cash flow sheet lays out (the template: all 120, so any horizon
    can be typed in; a generated workbook: exactly its horizon).

    Examples
    --------
    >>> template_bytes("udf") == template_bytes("udf")
    True
    """
    options = list(comparison) if comparison is not None else _default_comparison()
    template = _template(mode, len(options), months, catalog_set())
    return template.render(scenario or seed_scenario(), options, budget, ranges)


def build_template(
    mode: str,
    scenario: Scenario | None,
    path: Path,
    *,
    comparison: list[Scenario] | None = None,
    overwrite: bool = False,
    budget: float | None = DEFAULT_BUDGET,
    ranges: Ranges | None = None,
) -> None:
    """Write the template workbook to ``path``.

    Parameters
    ----------
    mode
        "udf" (cells call the xlcost functions; needs the add-in) or "portable" (native Excel
        formulas; recalculates in any spreadsheet program).
    scenario
        The option pre-filled on the Inputs sheet (default: the worked example, BERT ranker). Its
        horizon must be at most :data:`~xlcost.workbooks.layout.MAX_MONTHS` months.
    path
        Output ``.xlsx`` file, written with :func:`xlcost._files.atomic_write` (its folder is
        created; a temporary file, fsynced, then renamed).
    comparison
        The options of the Scenarios sheet (default: the shipped comparison example).
    overwrite
        Replace an existing ``path``.
    budget
        The Scenarios sheet's budget; ``None`` leaves it blank (no budget). Default: the
        shipped template's :data:`DEFAULT_BUDGET`.
    ranges
        The ranges of ``scenario``'s inputs (the Inputs sheet's Low / High / Dist, and the
        Risk sheet's Monte Carlo); default none (the default MFU range when training hours
        are estimated).

    Raises
    ------
    XlcostError
        ``path`` does not end in ``.xlsx``, exists (without ``overwrite``) or cannot be
        written; a horizon longer than the template lays out.
    """
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise XlcostError(f"{path.name}: the template is an .xlsx workbook; name it *.xlsx")
    data = template_bytes(mode, scenario, comparison=comparison, budget=budget, ranges=ranges)
    atomic_write(path, data, overwrite=overwrite)
