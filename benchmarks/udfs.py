"""Cost of the Excel boundary (coercion, broadcasting, domain checks, error values).

Run: ``python benchmarks/udfs.py``. Same run, medians of repeated timings:

* one call over 100,000 rows — the function layer on numpy arrays, and the xlwings UDF on the
  lists of rows xlwings passes for a range (result converted back to lists) — against the bare
  numpy arithmetic on the same arrays (target: the array call ≤ 50 ms);
* 100,000 single-cell calls against a bare Python function (target: ≤ 20 µs overhead a call).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from _timing import median_time

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from xlcost import udfs
from xlcost.functions import REGISTRY

ROWS = 100_000


def bare_train_cost(gpus: float, hours: float, price: float, runs: float = 1.0,
                    overhead_rate: float = 0.0) -> float:  # fmt: skip
    return gpus * hours * price * runs * (1.0 + overhead_rate)


def main() -> None:
    rng = np.random.default_rng(0)
    gpus = rng.integers(1, 64, ROWS).astype(float)
    hours = rng.uniform(1, 100, ROWS)
    price = rng.uniform(0.5, 5, ROWS)
    cols = [a.reshape(-1, 1) for a in (gpus, hours, price)]
    lists = [c.tolist() for c in cols]
    fn = REGISTRY["TRAIN_COST"]

    bare = median_time(lambda: cols[0] * cols[1] * cols[2] * 1.0 * (1.0 + 0.0), 21)
    layer = median_time(lambda: fn(*cols), 21)
    udf = median_time(lambda: udfs.TRAIN_COST(*lists), 7)
    assert np.array_equal(fn(*cols), cols[0] * cols[1] * cols[2])
    print(f"100,000 rows, one call (median): bare numpy {bare * 1e3:.2f} ms | "
          f"xlcost.functions {layer * 1e3:.2f} ms ({layer / bare:.1f}×) | "
          f"xlcost.udfs on lists of rows {udf * 1e3:.2f} ms ({udf / bare:.1f}×)")  # fmt: skip

    args = list(zip(gpus.tolist(), hours.tolist(), price.tolist(), strict=True))

    def scalar_loop(f: Callable[..., object]) -> Callable[[], None]:
        def run() -> None:
            for a in args:
                f(*a)

        return run

    n = len(args)
    t_bare = median_time(scalar_loop(bare_train_cost), 5) / n
    t_layer = median_time(scalar_loop(fn), 5) / n
    t_udf = median_time(scalar_loop(udfs.TRAIN_COST), 5) / n
    print(f"100,000 single-cell calls (median per call): bare Python {t_bare * 1e6:.2f} µs | "
          f"xlcost.functions {t_layer * 1e6:.2f} µs (+{(t_layer - t_bare) * 1e6:.2f} µs, "
          f"{t_layer / t_bare:.0f}×) | xlcost.udfs {t_udf * 1e6:.2f} µs "
          f"(+{(t_udf - t_bare) * 1e6:.2f} µs)")  # fmt: skip
    ok = udf <= 0.050 and layer <= 0.050 and (t_udf - t_bare) <= 20e-6
    print("targets (array call ≤ 50 ms, scalar overhead ≤ 20 µs):", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
