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

__all__ = ["FORMATS", "render"]

FORMATS = ("table", "csv", "json")
_PERCENT = {"roi", "irr"}


def _records(results: Sequence[Results]) -> list[dict[str, Any]]:
    return [r.model_dump(include={"name", *RESULT_NAMES}) for r in results]


def _cell(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if key == "irr" and value > 10:
        # An IRR of 10^30 % (paid back within a month) is true but meaningless to a reader.
        return "> 1,000%"
    if key in _PERCENT:
        return f"{value:.1%}"
    if key == "bcr":
        return f"{value:.3f}"
    if key == "payback_month":
        return str(value)
    if key == "cost_per_1k":
        return f"{value:,.4f}"
    return f"{value:,.2f}"


def table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    """Plain aligned text table: first column left-aligned, the others right-aligned."""
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    lines = []
    for i, row in enumerate([header, *rows]):
        cells = [
            str(c).ljust(w) if j == 0 else str(c).rjust(w)
            for j, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render(results: Sequence[Results], fmt: str) -> str:
    """``results`` as ``fmt`` ("table", "csv" or "json"), ending without a newline."""
    records = _records(results)
    if fmt == "json":
        return json.dumps(records, indent=2, ensure_ascii=False)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=["name", *RESULT_NAMES], lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in records)
        return buf.getvalue().rstrip("\n")
    if fmt == "table":
        # One column per scenario, one row per result: reads like the worked example's cost table.
        header = ["", *(r["name"] for r in records)]
        rows = [[k, *(_cell(k, r[k]) for r in records)] for k in RESULT_NAMES]
        return table(rows, header)
    raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
