"""``xlcost calc`` of a large scenario CSV against the floor, in the same run.

Writes a CSV of N valid scenario rows (the worked example with varied names and GPU counts),
then, each in its own child process (peak memory is the child's own ``ru_maxrss``):

* ``calc``: ``xlcost calc FILE -f csv > /dev/null`` — the command as a user runs it, with
  pyarrow installed (the ``parquet`` extra: plain CSV text is parsed by pyarrow);
* ``calc-csv``: the same with pyarrow hidden (Python's :mod:`csv` reads the file);
* ``floor-arrow``: ``pyarrow.csv.read_csv`` of the whole file into float columns and one
  ``evaluate_columns`` call, no validation and no output — reading and computing at the least;
* ``floor-csv``: the same with ``csv.reader`` and ``float`` (the least without pyarrow).

Prints the median wall time of ``--repeat`` runs, the peak RSS of each, and the ratios of the
commands to their floors. Targets (issue: "fast and safe at scale"): N = 1,000,000 in
≤ 10 s and ≤ 300 MB.

    python benchmarks/calc_csv.py [--rows 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FLOOR_ARROW = r"""
import json, sys, time
import numpy as np
import pyarrow as pa, pyarrow.csv as pa_csv
from xlcost.engine.evaluate import evaluate_columns
start = time.perf_counter()
text = {"name", "currency"}
with open(sys.argv[1], encoding="utf-8") as fh:
    header = fh.readline().strip().split(",")
types = {h: pa.string() if h in text else pa.float64() for h in header}
table = pa_csv.read_csv(sys.argv[1], convert_options=pa_csv.ConvertOptions(column_types=types))
cols = {h: table.column(h).to_numpy() for h in header if h not in text}
out = evaluate_columns(cols, validate=False)
assert len(out["npv"]) == table.num_rows
print(json.dumps({"seconds": time.perf_counter() - start}))
"""

NO_PYARROW = "import sys; sys.modules['pyarrow'] = None; from xlcost.cli import main; main()"
"""``xlcost`` with pyarrow hidden (its import fails, as when it is not installed)."""

FLOOR = r"""
import csv, json, resource, sys, time
import numpy as np
from xlcost.engine.evaluate import evaluate_columns
start = time.perf_counter()
with open(sys.argv[1], newline="", encoding="utf-8") as fh:
    reader = csv.reader(fh)
    header = next(reader)
    rows = list(reader)
columns = list(zip(*rows))
cols = {}
for j, name in enumerate(header):
    if name in ("name", "currency"):
        continue
    cols[name] = np.fromiter(map(float, columns[j]), dtype=np.float64, count=len(rows))
out = evaluate_columns(cols, validate=False)
assert len(out["npv"]) == len(rows)
print(json.dumps({"seconds": time.perf_counter() - start}))
"""


def write_csv(path: Path, rows: int) -> None:
    """The worked example, ``rows`` times, with unique names (streamed to disk)."""
    sys.path.insert(0, str(ROOT))
    from xlcost.engine.examples import seed_scenario

    base = {k: v for k, v in seed_scenario().model_dump().items() if v is not None}
    header = list(base)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(",".join(header) + "\n")
        for start in range(0, rows, 10_000):
            lines = []
            for i in range(start, min(rows, start + 10_000)):
                values = {**base, "name": f"option {i}", "train_gpus": 8 + i % 57}
                lines.append(",".join(str(values[k]) for k in header))
            out.write("\n".join(lines) + "\n")


def child(args: list[str]) -> tuple[float, float]:
    """Run ``args`` in a child; its wall seconds and peak RSS (MB)."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, ru = os.wait4(proc.pid, 0)[1:]
    seconds = time.perf_counter() - start
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if "Traceback" in err or "error" in err.lower():
        raise SystemExit(f"child failed: {err[-2000:]}")
    return seconds, ru.ru_maxrss / 1024  # Linux: KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "scenarios.csv"
        write_csv(data, opts.rows)
        size = data.stat().st_size / 2**20
        args = ["calc", str(data), "-f", "csv"]
        commands = {
            "calc": [sys.executable, "-m", "xlcost", *args],
            "calc-csv": [sys.executable, "-c", NO_PYARROW, *args],
            "floor-arrow": [sys.executable, "-c", FLOOR_ARROW, str(data)],
            "floor-csv": [sys.executable, "-c", FLOOR, str(data)],
        }
        results: dict[str, list[tuple[float, float]]] = {k: [] for k in commands}
        for _ in range(opts.repeat):
            for k, command in commands.items():
                results[k].append(child(command))
    summary = {
        k: {
            "median_s": statistics.median(t for t, _ in v),
            "peak_rss_mb": max(m for _, m in v),
        }
        for k, v in results.items()
    }
    ratios = {
        "calc / floor-arrow": summary["calc"]["median_s"] / summary["floor-arrow"]["median_s"],
        "calc-csv / floor-csv": summary["calc-csv"]["median_s"] / summary["floor-csv"]["median_s"],
    }
    print(f"{opts.rows:,} rows, {size:.0f} MiB CSV, medians of {opts.repeat}")
    for k, v in summary.items():
        print(f"  {k:11}  {v['median_s']:6.2f} s  peak {v['peak_rss_mb']:6.0f} MB")
    for k, r in ratios.items():
        print(f"  {k}: {r:.2f}×")
    print("  targets: calc ≤ 10 s, ≤ 300 MB")
    print(json.dumps({"rows": opts.rows, **summary, "ratios": ratios}))


if __name__ == "__main__":
    main()
