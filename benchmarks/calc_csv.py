"""``xlcost calc`` of a large scenario CSV against the floor, in the same run.

Writes a CSV of N valid scenario rows (the worked example with varied names and GPU counts),
then, each in its own child process (peak memory is the child's own ``ru_maxrss``):

* ``xlcost calc FILE -f csv > /dev/null`` — the command as a user runs it;
* the floor: ``csv.reader`` over the file into float columns and one ``evaluate_columns``
  call, no validation and no output — what reading and computing cost at the least.

Prints the median wall time of ``--repeat`` runs and the peak RSS of each, and their ratio.
Targets (issue: "fast and safe at scale"): N = 1,000,000 in ≤ 10 s and ≤ 300 MB.

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
        calc = [sys.executable, "-m", "xlcost", "calc", str(data), "-f", "csv"]
        floor = [sys.executable, "-c", FLOOR, str(data)]
        results: dict[str, list[tuple[float, float]]] = {"calc": [], "floor": []}
        for _ in range(opts.repeat):
            results["calc"].append(child(calc))
            results["floor"].append(child(floor))
    summary = {
        k: {
            "median_s": statistics.median(t for t, _ in v),
            "peak_rss_mb": max(m for _, m in v),
        }
        for k, v in results.items()
    }
    ratio = summary["calc"]["median_s"] / summary["floor"]["median_s"]
    print(f"{opts.rows:,} rows, {size:.0f} MiB CSV, medians of {opts.repeat}")
    for k, v in summary.items():
        print(f"  {k:5}  {v['median_s']:6.2f} s  peak {v['peak_rss_mb']:6.0f} MB")
    print(f"  calc / floor: {ratio:.2f}×  (targets: ≤ 10 s, ≤ 300 MB)")
    print(json.dumps({"rows": opts.rows, **summary, "ratio": ratio}))


if __name__ == "__main__":
    main()
