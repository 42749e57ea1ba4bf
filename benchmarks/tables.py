"""The plain table formatter (xlcost.report.table) against rich.table on the same rows.

Usage: python benchmarks/tables.py [--rows 1000] [--runs 5]

Prints the median time of each to render a ``calc`` table of N result rows, their ratio, and
the time to import rich's console, table and progress modules in a fresh interpreter — the
measurements behind keeping the plain formatter (see the README's Benchmarks).
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys

from _timing import median_time

from xlcost.engine import evaluate, seed_scenario
from xlcost.report import result_rows, table


def rich_render(header: list[str], rows: list[list[str]]) -> str:
    """The same table through rich (no colour, no box), as text."""
    from rich.console import Console
    from rich.table import Table

    out = io.StringIO()
    t = Table(*header, box=None)
    for row in rows:
        t.add_row(*row)
    Console(file=out, width=200, color_system=None).print(t)
    return out.getvalue()


def rich_import_seconds() -> float:
    """Seconds ``import rich.console, rich.table, rich.progress`` adds to a fresh interpreter."""
    code = "import rich.console, rich.table, rich.progress"
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=True
    )
    cumulative = [
        int(line.split("|")[1])
        for line in proc.stderr.splitlines()
        if line.count("|") == 2 and line.split("|")[1].strip().isdigit()
    ]
    return max(cumulative) / 1e6


def main() -> None:
    """Command-line entry of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    r = evaluate(seed_scenario())
    results = [r.model_copy(update={"name": f"s{i}"}) for i in range(args.rows)]
    header, rows = result_rows(results)
    plain = median_time(lambda: table(rows, header), args.runs)
    rich = median_time(lambda: rich_render(header, rows), args.runs)
    print(f"{args.rows} rows, medians of {args.runs}:")
    print(f"plain formatter  {plain * 1e3:9.1f} ms")
    print(f"rich.table       {rich * 1e3:9.1f} ms  ({rich / plain:.0f}× the plain formatter)")
    print(f"import rich (console, table, progress): {rich_import_seconds():.3f} s")


if __name__ == "__main__":
    main()
