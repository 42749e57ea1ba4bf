"""The template's IRR, NPV and payback equal the engine's on schedules where IRR's Newton
iteration needs a good start: maintenance front-loaded (maintain_months < horizon), discounting,
retrains, strongly negative and high rates, both estimator paths.

The portable workbooks are recalculated by LibreOffice in one run (whose IRR iterates like
Excel's: Newton from the guess, 20 steps); a few udf workbooks are calculated by the `formulas`
package. ``None`` in the engine is the empty string in the workbook.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import pytest
from excel_engines import formulas_model, libreoffice_values
from openpyxl.utils import get_column_letter

from xlcost.engine import Scenario, compare, evaluate
from xlcost.engine.examples import COMPARISON, load_example
from xlcost.workbooks import layout as L
from xlcost.workbooks.template import build_template

N_SCENARIOS = 30
N_UDF = 4  # `formulas` takes about 3 s a workbook


def _scenario(i: int, rng: random.Random) -> Scenario:
    horizon = rng.randint(6, 120)
    data: dict[str, Any] = {
        "name": f"irr {i}",
        "horizon_months": horizon,
        "discount_rate_annual": rng.choice([0.0, 0.05, 0.1, 0.3]),
        "train_gpus": rng.choice([1, 8, 64]),
        "train_price_per_gpu_hour": rng.uniform(1, 5),
        "train_runs": rng.choice([1, 2]),
        "retrains": rng.choice([0, 1, 4]),
        "serve_hours": 730.0 * horizon,
        "serve_price_per_gpu_hour": rng.uniform(0.5, 3),
        "maintain_months": rng.randint(1, horizon - 1),
        "maintain_units_per_month": rng.uniform(0, 100),
        "maintain_price_per_unit": 10 ** rng.uniform(0, 3),
        "maintain_fixed_per_month": 10 ** rng.uniform(2, 5),
        "volume": 10 ** rng.uniform(6, 9),
        "ctr": 0.03,
        "cvr": 0.02,
        "value_per_conversion": 1.0,
        "baseline_ctr": 0.025,
        "baseline_cvr": 0.02,
    }
    if i % 2:
        data |= {
            "model_params": 10 ** rng.uniform(7, 10),
            "train_tokens": 10 ** rng.uniform(9, 12),
            "gpu_peak_tflops": 989,
            "mfu": 0.4,
        }
    else:
        data["train_hours"] = 10 ** rng.uniform(1, 4.5)
    if i % 3:
        data |= {"peak_qps": 10 ** rng.uniform(1, 4), "qps_per_replica": 200}
    else:
        data["serve_gpus"] = rng.choice([1, 2, 8])
    unit = evaluate(Scenario(**data))  # value_per_conversion = 1: scale it to B / C
    ratio = 10 ** rng.uniform(-0.5, 0.8)
    data["value_per_conversion"] = ratio * unit.total_cost / unit.benefit
    return Scenario(**data)


def _front_loaded() -> Scenario:
    """Like the reviewer's case: 1,000 up front, 36 months, maintenance in months 1..11 only
    (the net is negative there); the old guess, 10 % a month, left LibreOffice's IRR blank."""
    return Scenario(
        name="front-loaded", horizon_months=36, train_gpus=1, train_hours=1,
        train_price_per_gpu_hour=1000, serve_hours=0, serve_gpus=0, serve_price_per_gpu_hour=0,
        maintain_months=11, maintain_units_per_month=0, maintain_price_per_unit=0,
        maintain_fixed_per_month=150, volume=36 * 100, ctr=1, cvr=1, value_per_conversion=1,
        baseline_ctr=0, baseline_cvr=0,
    )  # fmt: skip


def _scenarios() -> list[Scenario]:
    rng = random.Random(20260101)
    return [_front_loaded(), *(_scenario(i, rng) for i in range(N_SCENARIOS - 1))]


SCENARIOS = _scenarios()
NAMES = ("npv", "irr", "payback_month")


def _check(scenario: Scenario, got: dict[str, Any]) -> list[tuple[str, str, Any, Any]]:
    results = evaluate(scenario)
    bad = []
    for name in NAMES:
        want, value = getattr(results, name), got[name]
        if want is None:
            ok = value in ("", None)
        elif name == "npv":
            scale = max(1.0, results.total_cost, results.benefit)
            ok = isinstance(value, float | int) and math.isclose(
                value, want, rel_tol=1e-9, abs_tol=1e-9 * scale
            )
        else:
            ok = isinstance(value, float | int) and math.isclose(value, want, rel_tol=1e-6)
        if not ok:
            bad.append((scenario.name, name, value, want))
    return bad


def test_the_scenarios_need_a_good_start() -> None:
    """The set has many real IRRs, negative and positive, and some without one."""
    irrs = [evaluate(s).irr for s in SCENARIOS]
    assert sum(r is not None for r in irrs) >= 20
    assert any(r is not None and r < -0.5 for r in irrs)
    assert any(r is not None and r > 0.5 for r in irrs)
    assert evaluate(SCENARIOS[0]).irr == pytest.approx(0.3071, abs=1e-4)


def test_portable_irr_npv_payback_recalculated_by_libreoffice(tmp_path: Path) -> None:
    paths = [tmp_path / f"irr_{i}.xlsx" for i in range(len(SCENARIOS))]
    for s, p in zip(SCENARIOS, paths, strict=True):
        build_template("portable", s, p, budget=None)  # blank budget: no limit
    bad = []
    for s, cells in zip(SCENARIOS, libreoffice_values(paths, tmp_path / "lo"), strict=True):
        got = {n: cells[(L.COSTS, L.RESULT_CELLS[n])] for n in NAMES}
        bad += _check(s, got)
        pick = cells[(L.SCENARIOS, f"{get_column_letter(L.SCN_FIRST_COL)}{L.SCN_RECOMMEND_ROW}")]
        assert pick == compare(load_example(COMPARISON)).recommended
    assert not bad, bad


@pytest.mark.parametrize("i", range(N_UDF))
def test_udf_irr_npv_payback_calculated_by_formulas(i: int, tmp_path: Path) -> None:
    scenario = SCENARIOS[i * (len(SCENARIOS) // N_UDF)]
    path = tmp_path / "udf.xlsx"
    build_template("udf", scenario, path)
    values = formulas_model(path)
    assert not _check(scenario, {n: values[n] for n in NAMES})
