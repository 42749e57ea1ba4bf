"""Monte Carlo benchmark: ``simulate`` against the floor, a plain ``evaluate_columns`` call over
the same number of rows, in the same run.

    python benchmarks/risk.py [--draws 10000] [--scenarios 1000] [--repeat 5]

1. One scenario (the shipped 7B LLM reranker with its ranges: six ranged inputs) ×
   ``--draws`` draws: median of ``--repeat`` runs (target ≤ 50 ms for 10,000 draws); the floor is
   ``evaluate_columns(validate=False, with_irr=False)`` of ``--draws`` rows (the call
   ``simulate`` makes).
2. ``--scenarios`` scenarios (the three shipped options with their ranges, volumes varied) ×
   ``--draws`` draws, in a child process that reports its wall time and peak memory
   (``ru_maxrss``; targets ≤ 30 s and ≤ 1 GB for 1,000 × 10,000); the floor is
   ``evaluate_columns`` over the same number of rows, in chunks of the same size
   (``CHUNK_ROWS``: one call over 10 million rows would itself need gigabytes).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np
from _timing import median_time

from xlcost.engine.evaluate import evaluate_columns
from xlcost.engine.examples import COMPARISON, load_example_ranges
from xlcost.engine.risk import CHUNK_ROWS, simulate


def _floor_columns(rows: int) -> dict[str, np.ndarray]:
    base = load_example_ranges(COMPARISON)[2][0].columns()
    rng = np.random.default_rng(0)
    cols = {k: np.full(rows, v) for k, v in base.items()}
    cols["ctr"] = rng.uniform(0.41, 0.455, rows)
    cols["volume"] = rng.uniform(5e8, 7e8, rows)
    return cols


def child(scenarios: int, draws: int) -> None:
    """Run the big simulation and its floor; print a JSON line with times and peak memory."""
    pairs = load_example_ranges(COMPARISON)
    many = [
        (s.model_copy(update={"name": f"{s.name} {i}", "volume": s.volume * (0.5 + i / scenarios)}),
         r)
        for i in range(scenarios)
        for s, r in [pairs[i % len(pairs)]]
    ]  # fmt: skip
    t = time.perf_counter()
    sim = simulate([s for s, _ in many], [r for _, r in many], draws=draws, seed=1)
    sim_s = time.perf_counter() - t
    assert len(sim.options) == scenarios
    peak_sim = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = scenarios * draws
    chunk = _floor_columns(CHUNK_ROWS)
    t = time.perf_counter()
    done = 0
    while done < rows:
        n = min(CHUNK_ROWS, rows - done)
        evaluate_columns(
            {k: v[:n] for k, v in chunk.items()} if n < CHUNK_ROWS else chunk,
            validate=False,
            with_irr=False,
        )
        done += n
    floor_s = time.perf_counter() - t
    print(json.dumps({"simulate_s": sim_s, "floor_s": floor_s, "peak_mb": peak_sim}))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--draws", type=int, default=10_000)
    p.add_argument("--scenarios", type=int, default=1_000)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        child(a.scenarios, a.draws)
        return

    s, r = load_example_ranges(COMPARISON)[2]
    one = median_time(lambda: simulate(s, r, draws=a.draws, seed=1), a.repeat)
    cols = _floor_columns(a.draws)
    floor = median_time(lambda: evaluate_columns(cols, validate=False, with_irr=False), a.repeat)
    print(f"one scenario × {a.draws:,} draws ({len(r.inputs) + 1} ranged inputs), "
          f"medians of {a.repeat} runs")  # fmt: skip
    print(f"  simulate:                 {one * 1e3:8.2f} ms   (target ≤ 50 ms for 10,000)")
    print(f"  evaluate_columns floor:   {floor * 1e3:8.2f} ms")
    print(f"  ratio simulate / floor:   {one / floor:8.2f} x")

    out = subprocess.run(
        [sys.executable, __file__, "--child", "--scenarios", str(a.scenarios),
         "--draws", str(a.draws)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    big = json.loads(out.stdout.strip().splitlines()[-1])
    rows = a.scenarios * a.draws
    print(f"{a.scenarios:,} scenarios × {a.draws:,} draws = {rows:,} rows (child process, once)")
    print(f"  simulate:                 {big['simulate_s']:8.2f} s    (target ≤ 30 s)")
    print(f"  peak memory (ru_maxrss):  {big['peak_mb']:8.0f} MB   (target ≤ 1,024 MB)")
    print(f"  evaluate_columns floor:   {big['floor_s']:8.2f} s    (same rows, same chunks)")
    print(f"  ratio simulate / floor:   {big['simulate_s'] / big['floor_s']:8.2f} x")


if __name__ == "__main__":
    main()
