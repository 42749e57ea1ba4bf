"""Results as text: aligned tables for people, CSV and JSON for programs.

JSON is a list with one object per scenario: ``name`` and the result names, ``null``
where a result does not exist. CSV has the same columns. Output is deterministic.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from xlcost.engine.model import RESULT_NAMES, Results

__all__ = ["DEFAULT_COLUMNS", "FORMATS", "compact", "render", "result_cell", "result_rows", "table"]

FORMATS = ("table", "csv", "json")
_PERCENT = {"roi", "irr"}
DEFAULT_COLUMNS: tuple[str, ...] = ("total_cost", "benefit", "npv", "roi", "irr", "payback_month")
"""The results a table shows unless the user picks others (``--columns``); CSV and JSON have
every result."""
COMPACT_FROM = 1e15
"""Numbers this large (in absolute value) are shown in scientific notation: ``1.2e+308``."""
NAME_WIDTH = 40
"""Longer scenario names are cut (with "…") in tables, so that many rows stay readable."""


def _records(results: Sequence[Results]) -> list[dict[str, Any]]:
    return [r.model_dump(include={"name", *RESULT_NAMES}) for r in results]


def compact(value: float, spec: str = ",.2f") -> str:
    """``value`` formatted with ``spec``, or compactly when it is beyond a sane range.

    >>> compact(1234.5), compact(1.2e308), compact(-3e15, ",.4f"), compact(float("inf"))
    ('1,234.50', '1.2e+308', '-3e+15', 'inf')
    """
    if not abs(value) < COMPACT_FROM:
        return f"{value:.3g}"
    return format(value, spec)


def result_cell(key: str, value: Any) -> str:
    """One result as a table shows it: money with 2 decimals, ROI and IRR in %, "—" for none.

    >>> result_cell("roi", -0.7458), result_cell("npv", -440.0), result_cell("irr", None)
    ('-74.6%', '-440.00', '—')
    """
    if value is None:
        return "—"
    if key == "irr" and value > 10:
        # An IRR of 10^30 % (paid back within a month) is true but meaningless to a reader.
        return "> 1,000%"
    if key in _PERCENT:
        return compact(value * 100, ".1f") + "%"
    if key == "bcr":
        return compact(value, ".3f")
    if key == "payback_month":
        return str(value)
    if key == "cost_per_1k":
        return compact(value, ",.4f")
    return compact(value)


def name_cell(name: str) -> str:
    """A scenario name for a table, cut to :data:`NAME_WIDTH` characters."""
    return name if len(name) <= NAME_WIDTH else name[: NAME_WIDTH - 1] + "…"


def result_rows(
    results: Sequence[Results], columns: Sequence[str] = DEFAULT_COLUMNS
) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a results table: one row per scenario, its name then ``columns``."""
    header = ["name", *columns]
    rows = [[name_cell(r.name), *(result_cell(k, getattr(r, k)) for k in columns)] for r in results]
    return header, rows


def table(rows: Sequence[Sequence[str]], header: Sequence[str], *, left: int = 1) -> str:
    """Plain aligned text table: the first ``left`` columns left-aligned, the others right."""
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    lines = []
    for i, row in enumerate([header, *rows]):
        cells = [
            str(c).ljust(w) if j < left else str(c).rjust(w)
            for j, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render(results: Sequence[Results], fmt: str, columns: Sequence[str] | None = None) -> str:
    """``results`` as ``fmt`` ("table", "csv" or "json"), ending without a newline.

    ``columns`` picks the results shown (default: every result in CSV and JSON,
    :data:`DEFAULT_COLUMNS` in a table, one row per scenario).
    """
    records = _records(results)
    if columns is not None and fmt != "table":
        records = [{k: r[k] for k in ("name", *columns)} for r in records]
    if fmt == "json":
        return json.dumps(records, indent=2, ensure_ascii=False)
    if fmt == "csv":
        buf = io.StringIO()
        fields = ["name", *(RESULT_NAMES if columns is None else columns)]
        writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in records)
        return buf.getvalue().rstrip("\n")
    if fmt == "table":
        header, rows = result_rows(results, columns or DEFAULT_COLUMNS)
        return table(rows, header)
    raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
