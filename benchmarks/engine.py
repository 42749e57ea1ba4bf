"""Engine benchmark: the array API vs the scalar path on the same rows, in the same run.

    python benchmarks/engine.py [--rows 1000000] [--scalar-rows 20000] [--repeat 5]

Prints medians over ``--repeat`` runs. The scalar path (one ``evaluate(Scenario)`` per row) is
timed on the first ``--scalar-rows`` rows and its per-row median is extrapolated to ``--rows``
(pass ``--scalar-rows`` equal to ``--rows`` to time every row; that takes minutes).
Also prints the median wall time of ``python -c "import xlcost"`` (target ≤ 0.3 s).
Target: array path ≤ 1 s for 1,000,000 rows on a 2-core machine.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

import numpy as np
from _timing import median_time

from xlcost.engine import Scenario, evaluate, evaluate_columns
from xlcost.engine.checks import check_columns
from xlcost.engine.examples import COMPARISON, load_example


def rows(n: int) -> dict[str, np.ndarray]:
    """``n`` varied scenario rows built around the shipped 7B example (both derived paths, and
    the serving estimator: candidates per request vary, GPUs per replica come from the model's
    memory, and a quarter of the rows generate tokens, so the bandwidth bound is computed
    too), with every cost line active."""
    base = load_example(COMPARISON)[2].columns()
    rng = np.random.default_rng(0)
    cols = {k: np.full(n, v) for k, v in base.items()}
    cols["train_gpus"] = rng.integers(1, 65, n).astype(float)
    cols["volume"] = rng.uniform(1e7, 1e9, n)
    cols["ctr"] = rng.uniform(0.40, 0.45, n)
    cols["horizon_months"] = rng.integers(1, 37, n).astype(float)
    cols["maintain_months"] = np.floor(cols["horizon_months"] * rng.uniform(0, 1, n))
    cols["discount_rate_annual"] = rng.uniform(0, 0.2, n)
    cols["items_per_request"] = rng.integers(10, 101, n).astype(float)
    cols["output_tokens_per_request"] = np.where(rng.uniform(0, 1, n) < 0.25, 64.0, 0.0)
    cols["gpus_per_replica"] = np.full(n, np.nan)  # FIT_GPUS from the model and GPU memory
    cols["qps_per_replica"] = np.full(n, np.nan)  # the estimate
    # every cost line active: data, infrastructure, incidents, owned GPUs, hosted API
    cols |= {
        "data_prep_cost": rng.uniform(0, 5e4, n),
        "data_refresh_per_month": rng.uniform(0, 2e3, n),
        "storage_gb": rng.uniform(0, 1e4, n),
        "storage_price_per_gb_month": np.full(n, 0.023),
        "egress_gb_per_month": rng.uniform(0, 1e4, n),
        "egress_price_per_gb": np.full(n, 0.09),
        "software_per_month": rng.uniform(0, 1e3, n),
        "setup_cost": rng.uniform(0, 2e4, n),
        "incidents_per_month": rng.uniform(0, 4, n),
        "incident_hours": rng.uniform(0, 8, n),
        "incident_price_per_hour": np.full(n, 100.0),
        "own_gpus": rng.integers(0, 16, n).astype(float),
        "gpu_purchase_price": rng.uniform(2e3, 3e4, n),
        "useful_life_months": rng.integers(12, 61, n).astype(float),
        "salvage_rate": rng.uniform(0, 0.3, n),
        "power_kw_per_gpu": rng.uniform(0.07, 0.7, n),
        "pue": rng.uniform(1.1, 1.6, n),
        "electricity_price_per_kwh": rng.uniform(0.05, 0.3, n),
        "hosting_per_gpu_month": rng.uniform(0, 200, n),
        "api_price_per_m_input_tokens": rng.uniform(0, 1, n),
        "api_price_per_m_output_tokens": rng.uniform(0, 4, n),
        "api_input_tokens_per_request": rng.uniform(0, 1e4, n),
        "api_output_tokens_per_request": rng.uniform(0, 100, n),
    }
    return cols


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--scalar-rows", type=int, default=20_000)
    p.add_argument("--repeat", type=int, default=5)
    a = p.parse_args()

    cols = rows(a.rows)
    array_s = median_time(lambda: evaluate_columns(cols), a.repeat)
    array_no_irr = median_time(lambda: evaluate_columns(cols, with_irr=False), a.repeat)
    checks_s = median_time(lambda: check_columns(cols), a.repeat)

    k = min(a.scalar_rows, a.rows)
    names = list(cols)
    scenarios = [
        Scenario.model_validate(
            {
                "name": f"r{i}",
                **{n: (None if np.isnan(cols[n][i]) else cols[n][i].item()) for n in names},
            }
        )
        for i in range(k)
    ]
    scalar_k = median_time(lambda: [evaluate(s) for s in scenarios], a.repeat)
    scalar_s = scalar_k / k * a.rows

    imports = []
    for _ in range(max(5, a.repeat)):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import xlcost"], check=True)
        imports.append(time.perf_counter() - t)

    print(f"rows: {a.rows:,}; medians of {a.repeat} runs")
    print(f"array API, all results:      {array_s:8.3f} s   (target ≤ 1 s)")
    print(f"array API, without IRR:      {array_no_irr:8.3f} s")
    print(f"checks (check_columns):      {checks_s:8.3f} s")
    extrapolated = "" if k == a.rows else f" (timed {k:,} rows, extrapolated)"
    print(f"scalar path, one by one:     {scalar_s:8.3f} s{extrapolated}")
    print(f"scalar / array ratio:        {scalar_s / array_s:8.1f} x")
    print(f"per row: array {array_s / a.rows * 1e6:.2f} µs, scalar {scalar_k / k * 1e6:.1f} µs")
    print(f"python -c 'import xlcost':   {statistics.median(imports):8.3f} s   (target ≤ 0.3 s)")


if __name__ == "__main__":
    main()
