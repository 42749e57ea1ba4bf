"""Where everything sits in the template workbook: the cell map, shared by builder and fillers.

Pure Python (no openpyxl), cheap to import. Every input of :class:`~xlcost.engine.model.Scenario`
has one value cell on the Inputs sheet, and every result one cell on the Costs sheet; both carry a
workbook-scoped defined name equal to the input or result name, so a filler can work by names
alone. :data:`INPUT_CELLS` and :data:`RESULT_CELLS` give the same addresses for code that reads
cells directly.

The Cash flow sheet has one row per month 0..:data:`MAX_MONTHS`; months beyond the horizon are
zero, so the template supports horizons up to :data:`MAX_MONTHS` months.
"""

from __future__ import annotations

from xlcost.engine.checks import CHECKS as CHECKS_SPEC
from xlcost.engine.evaluate import CASH_FLOW_LINES, ESTIMATED_INPUTS
from xlcost.engine.model import GROUPS, INPUT_NAMES, NUMERIC_INPUTS, RESULT_NAMES, input_spec
from xlcost.engine.risk import BREAK_EVEN_INPUTS

__all__ = [
    "CASHFLOW",
    "CATALOG",
    "CF_FIRST_ROW",
    "CF_LAST_ROW",
    "CHECKS",
    "CHECK_ROWS",
    "CONF",
    "COSTS",
    "DEFAULTED",
    "DERIVED_CELLS",
    "ESTIMATED",
    "INPUTS",
    "INPUT_CELLS",
    "INPUT_ROWS",
    "MASTER_CHECK_CELL",
    "MAX_MONTHS",
    "RANGED_INPUTS",
    "RANGE_CELLS",
    "README",
    "RESULT_CELLS",
    "RESULT_ROWS",
    "RISK",
    "SCENARIOS",
    "USED_CELLS",
    "absolute",
]

README = "README"
INPUTS = "Inputs"
COSTS = "Costs"
CASHFLOW = "Cash flow"
SCENARIOS = "Scenarios"
CATALOG = "Catalog"
CHECKS = "Checks"
CONF = "xlwings.conf"
INTELLISENSE = "_IntelliSense_"
"""Hidden sheet of udf workbooks read by the ExcelDna.IntelliSense add-in (argument tooltips)."""

MAX_MONTHS = 120
"""Longest horizon the Cash flow sheet lays out (the Inputs sheet validates against it)."""


def absolute(sheet: str, cell: str) -> str:
    """``Inputs!$B$5`` from ``("Inputs", "B5")``; sheet names with spaces are quoted.

    >>> absolute("Cash flow", "D8")
    "'Cash flow'!$D$8"
    """
    col = cell.rstrip("0123456789")
    quoted = f"'{sheet}'" if " " in sheet else sheet
    return f"{quoted}!${col}${cell[len(col) :]}"


def _input_rows() -> tuple[dict[str, int], dict[str, int]]:
    """Rows of the inputs (grouped, in model order) and of the group headings."""
    rows: dict[str, int] = {}
    headings: dict[str, int] = {}
    row = 5
    for group in GROUPS:
        headings[group] = row
        row += 1
        for name in INPUT_NAMES:
            if input_spec(name)["group"] == group:
                rows[name] = row
                row += 1
        row += 1
    return rows, headings


INPUT_ROWS, GROUP_ROWS = _input_rows()
INPUT_VALUE_COL = "B"
INPUT_CELLS: dict[str, str] = {n: f"{INPUT_VALUE_COL}{r}" for n, r in INPUT_ROWS.items()}
"""Input name → cell on the Inputs sheet."""

DEFAULTED = tuple(n for n in INPUT_NAMES if input_spec(n)["default"] is not None)
"""Optional inputs with a default: formulas read them through ``used_<name>`` (blank = default)."""
ESTIMATED = ESTIMATED_INPUTS
"""Optional inputs filled when blank from the Catalog sheet (by ``train_gpu``/``serve_gpu``)
or by an estimator: formulas read them through ``used_<name>``."""
USED_COL = "F"
USED_CELLS: dict[str, str] = {
    f"used_{n}": f"{USED_COL}{INPUT_ROWS[n]}" for n in (*DEFAULTED, *ESTIMATED)
}
"""``used_<name>`` → cell on the Inputs sheet: the input, or its default / estimate when blank."""

DERIVED = (
    "used_train_hours",
    "used_serve_gpus",
    "used_maintain_months",
    "upfront_train_cost",
    "used_serve_hours",
    "serve_gpu_cost",
    "used_api_requests",
    "upfront_cost",
    "gpu_value_left",
)
"""Helper results on the Costs sheet, above the cost table (also defined names)."""
RESULT_ROWS: dict[str, int] = {
    name: row for row, name in enumerate((*DERIVED, *RESULT_NAMES), start=5)
}
COSTS_VALUE_COL = "C"
DERIVED_CELLS: dict[str, str] = {n: f"{COSTS_VALUE_COL}{RESULT_ROWS[n]}" for n in DERIVED}
RESULT_CELLS: dict[str, str] = {n: f"{COSTS_VALUE_COL}{RESULT_ROWS[n]}" for n in RESULT_NAMES}
"""Result name → cell on the Costs sheet."""

CF_HEADER_ROW = 7
CF_FIRST_ROW = CF_HEADER_ROW + 1
"""Row of month 0 on the Cash flow sheet; month t is on row ``CF_FIRST_ROW + t``."""
CF_LAST_ROW = CF_FIRST_ROW + MAX_MONTHS
"""Row of month :data:`MAX_MONTHS` in the template; a generated workbook ends at its horizon."""


def cf_last_row(months: int) -> int:
    """Row of the last month on the Cash flow sheet of a workbook laying out ``months`` months."""
    return CF_FIRST_ROW + months


CF_PRINT_LAST_COL = "V"
"""Last printed column of the Cash flow sheet (the table, its cost lines and its chart); helpers
sit right of it."""
CF_CHART_ROWS = 19
"""Rows the Cash flow chart covers below the header (the print area reaches at least there)."""
CF_COLUMNS = ("month", "cost", "benefit", "net", "cumulative", "paid_back")
CF_COL = {name: "ABCDEF"[i] for i, name in enumerate(CF_COLUMNS)}
CF_LINE_COL: dict[str, str] = {name: "GHIJKLMN"[i] for i, name in enumerate(CASH_FLOW_LINES)}
"""Each cost line's column on the Cash flow sheet; a month's cost is their sum."""
CF_SIDE_COL = 16
"""First column (P) of the chart, right of the schedule and its cost lines (G..N)."""
CF_CHART_WIDTH_CM = 11.5
"""The chart's width: columns P..V at their default width, left of the IRR search (W..Z)."""
CF_RATE_CELL = "C3"
CF_GUESS_CELL = "C4"
CF_SEARCH_ROW = CF_HEADER_ROW
"""Header row of the IRR search (bisection) on the Cash flow sheet, right of the print area."""
CF_SEARCH_STEPS = 40
CF_SEARCH_COL = {"step": "W", "low": "X", "high": "Y", "npv": "Z"}
CF_SEARCH_BRACKET = (0.01, 300.0)
"""1 + monthly rate searched: −99 % to +29,900 % a month (300^120 is still a finite double)."""
CF_SEARCH_SIGN_CELL = f"{CF_SEARCH_COL['npv']}{CF_SEARCH_ROW - 1}"

SCN_BUDGET_CELL = "C4"
SCN_HEADER_ROW = 6
SCN_FIRST_COL = 3
"""Column number of the first option on the Scenarios sheet (one column per option)."""
SCN_INPUT_ROWS: dict[str, int] = {n: SCN_HEADER_ROW + 1 + i for i, n in enumerate(INPUT_NAMES)}
SCN_CALCS = (
    *(f"used_{n}" for n in ESTIMATED),
    "used_train_hours",
    "used_serve_gpus",
    "used_maintain_months",
    "upfront_train_cost",
    "used_serve_hours",
    "serve_gpu_cost",
    "used_api_requests",
    "data_cost",
    "infra_cost",
    "incident_cost",
    "hardware_cost",
    "power_cost",
    "api_cost",
    "upfront_cost",
    "gpu_value_left",
    "train_cost",
    "deploy_cost",
    "maintain_cost",
    "benefit",
    "total_cost",
    "roi",
    "monthly_rate",
    "npv",
    "rank",
    "within_budget",
    "eligible_rank",
)
SCN_CALC_ROWS: dict[str, int] = {
    n: SCN_HEADER_ROW + len(INPUT_NAMES) + 3 + i for i, n in enumerate(SCN_CALCS)
}
SCN_RECOMMEND_ROW = SCN_CALC_ROWS["eligible_rank"] + 2
SCN_BREAKEVEN_ROW = SCN_RECOMMEND_ROW + 2
"""Heading of the break-even block on the Scenarios sheet, below the recommendation."""

MASTER_CHECK = "master_check"
"""Defined name of the Checks sheet's master check (TRUE when every check passes)."""

CAT_HEADER_ROW = 4
"""Row of the catalog's field names (what GPU_SPEC looks up); readable headers are above it."""
CAT_FIRST_ROW = CAT_HEADER_ROW + 1
CAT_SPARE_ROWS = 10
"""Blank rows at the end of ``catalog_table`` where a user adds GPUs that the formulas (and
``xlcost calc``) then look up."""

PRICE_TABLES: dict[str, dict[str, tuple[str, str]]] = {
    "purchases": {
        "gpu": ("A", "GPU"),
        "purchase_price": ("B", "Purchase price"),
        "price_as_of": ("C", "Price as of"),
        "board_power_kw": ("E", "Board power (kW)"),
        "price_source": ("F", "Price source"),
        "power_source": ("H", "Power source"),
    },
    "offers": {
        "gpu": ("A", "GPU"),
        "price_per_hour": ("B", "Per GPU-hour"),
        "price_as_of": ("C", "Price as of"),
        "term": ("E", "Term"),
        "price_source": ("F", "Price source"),
        "region": ("G", "Region"),
        "cloud": ("H", "Cloud or venue"),
    },
    "apis": {
        "model": ("A", "Model"),
        "price_per_m_input_tokens": ("B", "Input per M"),
        "price_as_of": ("C", "Price as of"),
        "price_per_m_output_tokens": ("E", "Output per M"),
        "price_source": ("F", "Price source"),
        "kind": ("G", "Kind"),
        "provider": ("H", "Provider"),
    },
}
"""The Catalog sheet's price tables (a section of the price catalog each): field → (column,
header). Defined names: ``<section>_table`` spans a table's rows (its blank rows at the end
included) and ``<section>_<field>`` one column of it; column D holds the age flag."""
PRICE_FLAG_COL = "D"

CHECK_HEADER_ROW = 4
CHECK_ROWS: dict[str, int] = {name: CHECK_HEADER_ROW + 1 + i for i, name in enumerate(CHECKS_SPEC)}
"""Check id → its row on the Checks sheet (value in C, limit in D, status in E)."""
CHECK_COL = {"value": "C", "limit": "D", "status": "E"}
CHECK_DATES_ROW = max(CHECK_ROWS.values()) + 2
"""Helper row: the age in days of the catalog prices in use, in :data:`CHECK_DATES_COLS`."""
CHECK_DATES_COLS = ("C", "D", "E", "F")
"""Columns of the ages of the serving, training, purchase and API prices in use."""
MASTER_CHECK_CELL = f"C{CHECK_DATES_ROW + 2}"
"""The master check (defined name ``master_check``), shown on the Costs and README sheets."""

# --------------------------------------------------------------------------- ranges and Risk
# The Inputs sheet's Low / High / Dist columns (defined names NAME_low, NAME_high, NAME_dist) and
# the Risk sheet: the Monte Carlo block (the engine's values, with a check that they match the
# current inputs), the tornado and the break-even table (native formulas), and hidden helper
# columns to the right of the print area.

RISK = "Risk"
RANGED_INPUTS: tuple[str, ...] = NUMERIC_INPUTS
"""Inputs that may carry a range: every numeric input."""
RANGE_COLS = {"low": "H", "high": "I", "dist": "J"}
RANGE_CELLS: dict[str, str] = {
    f"{n}_{side}": f"{col}{INPUT_ROWS[n]}"
    for n in RANGED_INPUTS
    for side, col in RANGE_COLS.items()
}
"""``NAME_low`` / ``NAME_high`` / ``NAME_dist`` → cell on the Inputs sheet."""

RISK_STATUS_CELL = "B4"
RISK_RANGES_CELL = "B5"
RISK_DRAWS_CELL = "B6"
RISK_SEED_CELL = "B7"
RISK_STATS_HEADER_ROW = 9
RISK_STATS_ROWS = {"total_cost": 10, "npv": 11, "roi": 12}
RISK_STATS_COLS = {"p10": "B", "p50": "C", "p90": "D", "mean": "E"}
RISK_PROB_CELL = "B13"
"""P(NPV > 0)."""
RISK_HIST_HEADER_ROW = 15
RISK_HIST_FIRST_ROW = 16
RISK_HIST_BINS = 20
RISK_HIST_COLS = {"from": "A", "to": "B", "draws": "C"}
RISK_TORNADO_HEADER_ROW = RISK_HIST_FIRST_ROW + RISK_HIST_BINS + 2
RISK_TORNADO_FIRST_ROW = RISK_TORNADO_HEADER_ROW + 1
RISK_TORNADO_BARS = 10
RISK_TORNADO_COLS = {
    "input": "A",
    "low": "B",
    "high": "C",
    "npv_low": "D",
    "npv_high": "E",
    "swing": "F",
    "delta_low": "G",
    "delta_high": "H",
}
RISK_BE_HEADER_ROW = RISK_TORNADO_FIRST_ROW + RISK_TORNADO_BARS + 2
RISK_BE_FIRST_ROW = RISK_BE_HEADER_ROW + 1
RISK_BE_COLS = {"input": "A", "base": "B", "value": "C", "how": "D"}
RISK_PRINT_LAST_COL = "Q"
"""The print area is A1 to this column (tables and charts); helpers lie beyond it."""

RISK_LINEAR_INPUTS: tuple[str, ...] = (
    *BREAK_EVEN_INPUTS,
    "train_hours",
    "serve_gpus",
    "maintain_units_per_month",
    "maintain_price_per_unit",
)
"""Tornado inputs in which the NPV is linear: one probe column each (the break-even inputs
first, whose probes also give the break-even); the NPV at Low and High is the line through the
NPV now and at the probe."""
RISK_NONLINEAR_INPUTS: tuple[str, ...] = (
    "mfu",
    "serve_mfu",
    "peak_qps",
    "qps_per_replica",
    "discount_rate_annual",
)
"""Tornado inputs in which the NPV is not linear: two what-if columns each (at Low, at High)."""
RISK_TORNADO_INPUTS: tuple[str, ...] = (*RISK_LINEAR_INPUTS, *RISK_NONLINEAR_INPUTS)
"""Inputs the Risk sheet's tornado evaluates with formulas; a range on any other input still
enters the Monte Carlo and ``xlcost sensitivity``."""
RISK_HELP_FIRST_COL = 20
"""Column number (T) of the first hidden helper column."""
RISK_WI_CALCS: tuple[str, ...] = tuple(
    k for k in SCN_CALCS if k not in ("roi", "rank", "within_budget", "eligible_rank")
)
"""What-if columns: the model of one option, with one input changed (as on Scenarios)."""
RISK_WI_LABEL_ROW = 4
RISK_WI_SIDE_ROW = 5
RISK_WI_VALUE_ROW = 6
RISK_WI_ROWS: dict[str, int] = {k: RISK_WI_VALUE_ROW + 1 + i for i, k in enumerate(RISK_WI_CALCS)}
RISK_WI_ROOT_ROW = max(RISK_WI_ROWS.values()) + 1
"""Break-even probe columns: the raw linear root of NPV = 0."""
RISK_WI_FIRST_COL = RISK_HELP_FIRST_COL + 1


def risk_probe_col(j: int) -> int:
    """Column number of the probe column of ``RISK_LINEAR_INPUTS[j]``."""
    return RISK_WI_FIRST_COL + j


def risk_wi_col(i: int, side: str) -> int:
    """Column number of the what-if column of ``RISK_NONLINEAR_INPUTS[i]`` at ``side``."""
    return RISK_WI_FIRST_COL + len(RISK_LINEAR_INPUTS) + 2 * i + (side == "high")


RISK_WI_LAST_COL = risk_wi_col(len(RISK_NONLINEAR_INPUTS) - 1, "high")
RISK_TT_FIRST_ROW = RISK_WI_ROOT_ROW + 3
"""Unsorted tornado table: one row per ranged input (name, low, high, NPVs, swing, rank)."""
RISK_TT_COLS = {
    "input": "T",
    "low": "U",
    "high": "V",
    "npv_low": "W",
    "npv_high": "X",
    "swing": "Y",
    "rank": "Z",
}
RISK_ST_FIRST_ROW = RISK_TT_FIRST_ROW + len(RISK_TORNADO_INPUTS) + 3
"""Computed-from values: one row per input (the value and range the Monte Carlo used)."""
RISK_ST_COLS = {
    "input": "T",
    "value": "U",
    "low": "V",
    "high": "W",
    "dist": "X",
    "changed": "Y",
    "bad_range": "Z",
}
RISK_ST_ROWS: dict[str, int] = {n: RISK_ST_FIRST_ROW + i for i, n in enumerate(INPUT_NAMES)}
