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
from xlcost.engine.model import GROUPS, INPUT_NAMES, RESULT_NAMES, input_spec

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
    "README",
    "RESULT_CELLS",
    "RESULT_ROWS",
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

CHECK_HEADER_ROW = 4
CHECK_ROWS: dict[str, int] = {name: CHECK_HEADER_ROW + 1 + i for i, name in enumerate(CHECKS_SPEC)}
"""Check id → its row on the Checks sheet (value in C, limit in D, status in E)."""
CHECK_COL = {"value": "C", "limit": "D", "status": "E"}
CHECK_DATES_ROW = max(CHECK_ROWS.values()) + 2
"""Helper row: the as-of dates of the catalog prices in use (serving in C, training in D)."""
MASTER_CHECK_CELL = f"C{CHECK_DATES_ROW + 2}"
"""The master check (defined name ``master_check``), shown on the Costs and README sheets."""
