"""xlcost.udfs: every specified function, good rows and failure rows with the exact Excel error.

Expected values are the worked example's numbers or computed by hand in the comments; they are never
produced by the code under test. Off Excel the classic-xlwings conventions apply: an error is
the text "<code> <message naming the argument>".
"""

from __future__ import annotations

import datetime as dt
import inspect
import math

import numpy as np
import pytest
from spec_functions import SPEC_SIGNATURES

import xlcost
from xlcost import udfs
from xlcost.functions import REGISTRY, ExcelError

NAN, INF = float("nan"), float("inf")

# (function, args, expected value) — the worked example's cells first.
GOOD = [
    ("TRAIN_COST", (32, 3, 5), 480.0),
    ("DEPLOY_COST", (1, 100, 0.1), 10.0),
    ("MAINTAIN_COST", (2, 100, 0.5), 100.0),
    ("BENEFIT", (1e8, 0.005, 0.003, 0.1), 150.0),
    ("ROI", (150, 590), -0.7458),
    ("ROI", (150, 590, "ratio"), 0.2542),
    ("BCR", (150, 590), 0.2542),
    ("GPU_SPEC", ("H100", "price_per_hour"), 3.78),
    # hand-computed
    ("TRAIN_COST", (32, 3, 5, 2, 0.1), 1056.0),  # 480 × 2 × 1.1
    ("TRAIN_COST", (32.0, 3.0, 5.0, None, None), 480.0),  # blank optionals → defaults
    ("TRAIN_COST", (32, 3, 5, "", ""), 480.0),
    ("TRAIN_COST", (0, 3, 5), 0.0),
    ("TRAIN_COST", (True, 3, 5), 15.0),  # TRUE is 1 in Excel arithmetic
    ("DEPLOY_COST", (2, 730, 1.006, 0.25), 1835.95),  # 2 × 730 × 1.006 × 1.25
    ("MAINTAIN_COST", (2, 100, 0.5, 50), 200.0),  # 2 × (50 + 50)
    ("BENEFIT", (1e6, 0.02, 0.05, 10, 0.01, 0.05), 5000.0),  # 1e6 × (0.001 − 0.0005) × 10
    ("BENEFIT", (1e6, 0.01, 0.05, 10, 0.02, 0.05), -5000.0),  # worse than the baseline
    ("ROI", (150, 590, "RATIO "), 0.2542),  # case and spaces ignored
    ("ROI", (150, 590, None), -0.7458),
    ("ROI", (-150, 590), -1.2542),  # a negative benefit is allowed
    ("BCR", (590, 590), 1.0),
    ("TRAIN_FLOPS", (7e9, 1e12), 4.2e22),  # 6 × 7e9 × 1e12
    ("TRAIN_FLOPS", (1e9, 1e9, 8), 8e18),
    ("TRAIN_HOURS", (1e9, 1e10, 8, 312, 0.5), 13.3547),  # 6e19 / (8 × 312e12 × 0.5) / 3600
    ("TRAIN_HOURS", (1e9, 1e10, 8, 312), 16.6934),  # mfu 0.4: 6e19 / 9.984e14 / 3600
    ("REPLICAS", (1000, 120), 12.0),  # ceil(1000 / 84) = ceil(11.9)
    ("REPLICAS", (84, 120), 1.0),  # exactly 1, despite 0.7 in binary
    ("REPLICAS", (0, 120, 0.7, 2), 2.0),
    ("REPLICAS", (1000, 100, 1), 10.0),
    ("GPU_SPEC", ("h100", "peak_tflops"), 989.0),  # published anchor; name case-insensitive
    ("GPU_SPEC", ("A100-80GB", "memory_bandwidth_tbs"), 2.0),
    ("GPU_SPEC", ("H200", "memory_bandwidth_tbs"), 4.8),
    ("GPU_SPEC", ("A100-40GB", "price_per_hour"), 1.48),
    ("GPU_SPEC", ("T4", "price_per_hour"), 0.59),
    ("GPU_SPEC", ("A10G", "price_per_hour"), 1.006),
    ("GPU_SPEC", ("H100", "name"), "H100"),
    ("GPU_SPEC", ("T4", "price_as_of"), "2026-05-07"),
    ("DEPLOY_COST", (1, dt.date(2024, 1, 1), 1), 45292.0),  # a date is its serial number
    # every cost line: hand-computed
    ("API_COST", (1e6, 500, 20, 0.15, 0.60), 87.0),  # 1e6 × (500 × 0.15 + 20 × 0.6) / 1e6
    ("API_COST", (2e8, 1000, 0, 3, 15), 600000.0),  # 2e8 × 3000 / 1e6
    ("API_COST", (0, 500, 20, 0.15, 0.60), 0.0),
    ("OWN_GPU_COST", (8, 30000, 12), 80000.0),  # 240,000 × 12/36
    ("OWN_GPU_COST", (8, 30000, 12, 24, 0.25), 90000.0),  # 240,000 × 0.75 × 12/24
    ("OWN_GPU_COST", (8, 30000, 48, 36, 0.1), 216000.0),  # past its life: 240,000 × 0.9
    ("OWN_GPU_COST", (8, 30000, 36, 36, 1), 0.0),  # salvage 100 %: nothing lost
    ("OWN_GPU_COST", (1, 1000, 6, None, None), 166.6667),  # blank optionals: 1000 × 6/36
    ("POWER_COST", (8, 0.7, 8760, 0.10), 6377.28),  # 8 × 0.7 × 1.3 × 8760 × 0.1
    ("POWER_COST", (8, 0.7, 8760, 0.10, 1), 4905.6),  # PUE 1: 8 × 0.7 × 8760 × 0.1
    ("POWER_COST", (1, 1, 100, 0.2, 1.5), 30.0),
    # the serving estimator, by hand
    ("INFER_FLOPS", (110e6, 128), 2.816e10),  # 2 × 110e6 × 128
    ("INFER_FLOPS", (7e9, 100, 6), 4.2e12),
    ("SERVE_QPS", (110e6, 128, 312), 5539.7727),  # 312e12 × 0.5 / 2.816e10
    ("SERVE_QPS", (110e6, 128, 312, 0.7261), 8044.8580),  # 2.265432e14 / 2.816e10
    ("SERVE_QPS", (110e6, 6400, 121, 0.5), 42.96875),  # 121e12 × 0.5 / (2 × 110e6 × 6400)
    ("DECODE_QPS", (7e9, 100, 3.35), 1.4357),  # 0.6 × 3.35e12 / 14e9 = 143.57 steps/s ÷ 100
    ("DECODE_QPS", (7e9, 100, 3.35, 8, 1, 0.5), 19.1429),  # 0.5 × 3.35e12 / 7e9 × 8 / 100
    ("FIT_GPUS", (70e9, 80), 3.0),  # 1.2 × 140 GB = 168 GB on 80 GB GPUs
    ("FIT_GPUS", (70e9, 80, 0.5), 1.0),  # INT4: 42 GB
    ("FIT_GPUS", (7e9, 24, 2, 1), 1.0),  # 14 GB, no overhead
    ("FIT_GPUS", (10e9, 24), 1.0),  # exactly 24 GB = 1 GPU (rounding before the ceiling)
    ("LATENCY_MS", (110e6, 12800, 0, 121, 0.3), 46.5455),  # 2.816e12 / 60.5e12 s
    ("LATENCY_MS", (7e9, 0, 100, 989, 3.35), 696.5174),  # 100 × 14e9 / (3.35e12 × 0.6)
    # the worked example's volume: NPV −440 at 1e8, +910 at 1e9 (1.5e-6 a request) → 590/1.5e-6
    ("BREAK_EVEN", (1e8, -440, 1e9, 910), 393333333.3333),
    ("BREAK_EVEN", (0.004, -470, 0.006, -410), 0.019667),  # ctr: −470 at 0.4 %, −410 at 0.6 %
]


@pytest.mark.parametrize(("name", "args", "expected"), GOOD)
def test_good(name: str, args: tuple[object, ...], expected: object) -> None:
    got = getattr(udfs, name)(*args)
    if isinstance(expected, str):
        assert got == expected
    else:
        assert isinstance(got, float)
        assert got == pytest.approx(expected, abs=5e-5, rel=1e-9)


def test_version() -> None:
    assert udfs.XLCOST_VERSION() == xlcost.__version__
    assert isinstance(xlcost.__version__, str) and xlcost.__version__.count(".") == 2


# (function, args, the error code, a word the message must contain — the argument's name)
BAD = [
    ("TRAIN_COST", ("abc", 3, 5), "#VALUE!", "gpus"),
    ("TRAIN_COST", (None, 3, 5), "#VALUE!", "gpus"),  # blank required
    ("TRAIN_COST", ("", 3, 5), "#VALUE!", "gpus"),
    ("TRAIN_COST", (32, 3), "#VALUE!", "price_per_gpu_hour"),  # missing required
    ("TRAIN_COST", ("5", 3, 5), "#VALUE!", "gpus"),  # numeric text is still text
    ("TRAIN_COST", (-1, 3, 5), "#NUM!", "gpus"),
    ("TRAIN_COST", (NAN, 3, 5), "#NUM!", "gpus"),
    ("TRAIN_COST", (INF, 3, 5), "#NUM!", "gpus"),
    ("TRAIN_COST", (10**400, 3, 5), "#NUM!", "gpus"),
    ("TRAIN_COST", (1, 3, 5, -1), "#NUM!", "runs"),
    ("OWN_GPU_COST", (8, 30000, 12, -36), "#NUM!", "life_months"),  # negative life
    ("OWN_GPU_COST", (8, 30000, 12, 0), "#DIV/0!", "life_months"),
    ("OWN_GPU_COST", (8, 30000, 12, 36, 1.5), "#NUM!", "salvage_rate"),  # salvage > 1
    ("OWN_GPU_COST", (8, -1, 12), "#NUM!", "price"),
    ("POWER_COST", (8, 0.7, 8760, 0.1, 0.9), "#NUM!", "pue"),  # PUE < 1
    ("POWER_COST", (8, 0.7, 8760, "x"), "#VALUE!", "price_per_kwh"),
    ("API_COST", (1e6, 500, 20, 0.15), "#VALUE!", "price_per_m_output"),  # missing required
    ("API_COST", (1e6, -1, 20, 0.15, 0.6), "#NUM!", "input_tokens"),
    ("TRAIN_COST", (1, 3, 5, 1, -0.5), "#NUM!", "overhead_rate"),
    ("TRAIN_COST", (1e200, 1e200, 5), "#NUM!", "result"),  # overflow
    ("TRAIN_COST", (1, 2, 3, 4, 5, 6), "#VALUE!", "too many"),
    ("TRAIN_COST", ("#N/A", 3, 5), "#N/A", "gpus"),  # an error passed in is passed through
    ("TRAIN_COST", (32, "#DIV/0!", 5), "#DIV/0!", "hours"),
    ("TRAIN_COST", (-2146826246, 3, 5), "#N/A", "gpus"),  # classic: #N/A as pywin32's int
    ("TRAIN_COST", ([[-2146826281]], 3, 5), "#DIV/0!", "gpus"),
    ("TRAIN_COST", ("#NUM! hours must be ≥ 0", 3, 5), "#NUM!", "hours"),  # classic error text
    ("TRAIN_COST", ({"type": "Error", "errorType": "NotAvailable"}, 3, 5), "#N/A", "gpus"),
    ("TRAIN_COST", ("#N/A", -1, "x"), "#N/A", "gpus"),  # the first argument's error wins
    ("TRAIN_COST", ([[1], [2]], [[1], [2], [3]], 5), "#VALUE!", "shapes"),
    ("TRAIN_COST", ([[1, 2], [3]], 3, 5), "#VALUE!", "gpus"),  # ragged
    ("TRAIN_COST", ([], 3, 5), "#VALUE!", "gpus"),
    ("TRAIN_COST", ([[[1]]], 3, 5), "#VALUE!", "gpus"),
    ("DEPLOY_COST", (1, -100, 0.1), "#NUM!", "hours"),
    ("DEPLOY_COST", (1, 100, "$0.10"), "#VALUE!", "price_per_gpu_hour"),
    ("MAINTAIN_COST", (2, 100, -0.5), "#NUM!", "price_per_unit"),
    ("MAINTAIN_COST", (2, 100, 0.5, NAN), "#NUM!", "fixed_per_month"),
    ("BENEFIT", (1e8, 1.5, 0.003, 0.1), "#NUM!", "ctr"),
    ("BENEFIT", (1e8, 0.005, -0.003, 0.1), "#NUM!", "cvr"),
    ("BENEFIT", (1e8, 0.005, 0.003, 0.1, 2), "#NUM!", "baseline_ctr"),
    ("BENEFIT", (-1, 0.005, 0.003, 0.1), "#NUM!", "volume"),
    ("ROI", (150, 0), "#DIV/0!", "cost"),
    ("ROI", (150, 0, "ratio"), "#DIV/0!", "cost"),
    ("ROI", (150, -590), "#NUM!", "cost"),
    ("ROI", (150, 590, "gross"), "#VALUE!", "basis"),
    ("ROI", (150, 590, 1), "#VALUE!", "basis"),
    ("ROI", ("x", 590), "#VALUE!", "benefit"),
    ("ROI", (INF, 590), "#NUM!", "benefit"),
    ("BCR", (150, 0), "#DIV/0!", "cost"),
    ("BCR", (150, None), "#VALUE!", "cost"),
    ("TRAIN_FLOPS", (0, 1e12), "#NUM!", "params"),
    ("TRAIN_FLOPS", (7e9, 1e12, 0), "#NUM!", "flops_per_param_token"),
    ("TRAIN_HOURS", (1e9, 1e10, 0, 312), "#DIV/0!", "gpus"),
    ("TRAIN_HOURS", (1e9, 1e10, 8, 312, 0), "#NUM!", "mfu"),
    ("TRAIN_HOURS", (1e9, 1e10, 8, 312, 1.5), "#NUM!", "mfu"),
    ("TRAIN_HOURS", (1e9, 1e10, 8, -312), "#NUM!", "peak_tflops"),
    ("REPLICAS", (100, 0), "#DIV/0!", "qps_per_replica"),
    ("REPLICAS", (100, 10, 0), "#NUM!", "target_utilization"),
    ("REPLICAS", (100, 10, 1.01), "#NUM!", "target_utilization"),
    ("REPLICAS", (-100, 10), "#NUM!", "peak_qps"),
    ("REPLICAS", (100, 10, 0.7, -1), "#NUM!", "min_replicas"),
    ("GPU_SPEC", ("X100", "price_per_hour"), "#N/A", "gpu"),
    ("GPU_SPEC", ("H100", "colour"), "#N/A", "field"),
    ("GPU_SPEC", (5, "price_per_hour"), "#VALUE!", "gpu"),
    ("GPU_SPEC", (None, "price_per_hour"), "#VALUE!", "gpu"),
    ("GPU_SPEC", ("#REF!", "price_per_hour"), "#REF!", "gpu"),
    ("XLCOST_VERSION", (1,), "#VALUE!", "too many"),
    ("INFER_FLOPS", (0, 128), "#NUM!", "params"),
    ("SERVE_QPS", (0, 128, 312), "#DIV/0!", "params"),
    ("SERVE_QPS", (110e6, 0, 312), "#DIV/0!", "tokens_per_request"),
    ("SERVE_QPS", (110e6, 128, -1), "#NUM!", "peak_tflops"),
    ("SERVE_QPS", (110e6, 128, 312, 1.5), "#NUM!", "mfu"),
    ("SERVE_QPS", (110e6, "128 tokens", 312), "#VALUE!", "tokens_per_request"),
    ("DECODE_QPS", (7e9, 0, 3.35), "#DIV/0!", "output_tokens"),
    ("DECODE_QPS", (7e9, 100, 3.35, 1, 2, 0), "#NUM!", "mbu"),
    ("FIT_GPUS", (70e9, 0), "#DIV/0!", "memory_gb"),
    ("FIT_GPUS", (70e9, None), "#VALUE!", "memory_gb"),
    ("BREAK_EVEN", (1, 5, 2, 5), "#NUM!", "finite"),  # the result does not depend on the input
    ("BREAK_EVEN", (1, "x", 2, 5), "#VALUE!", "result"),
    ("LATENCY_MS", (7e9, 128, 10, 0, 3.35), "#DIV/0!", "peak_tflops"),
    ("LATENCY_MS", (7e9, -1, 10, 989, 3.35), "#NUM!", "tokens_per_request"),
]


@pytest.mark.parametrize(("name", "args", "code", "word"), BAD)
def test_bad_classic_text(name: str, args: tuple[object, ...], code: str, word: str) -> None:
    """Classic xlwings cannot return an error value: the cell shows code + message."""
    got = getattr(udfs, name)(*args)
    assert isinstance(got, str)
    assert got.split(" ")[0] == code
    assert word in got


@pytest.mark.parametrize(("name", "args", "code", "word"), BAD)
def test_bad_lite_bare_code(name: str, args: tuple[object, ...], code: str, word: str) -> None:
    """In Lite the bare code is returned, which xlwings turns into a real error value."""
    fn = REGISTRY[name]
    got = udfs.to_excel(fn(*[udfs.from_excel(a, lite=False) for a in args]), lite=True)
    assert got == code


def test_lite_input_ints_are_numbers() -> None:
    assert udfs.from_excel(-2146826246, lite=True) == -2146826246
    assert REGISTRY["ROI"](udfs.from_excel(-2146826246, lite=True), 1) == -2146826247.0


def test_lite_conventions() -> None:
    """Lite: integers arrive as int, dates as serial numbers — same results as classic."""
    assert REGISTRY["TRAIN_COST"](32, 3, 5) == udfs.TRAIN_COST(32.0, 3.0, 5.0) == 480.0
    assert REGISTRY["DEPLOY_COST"](1, 45292, 1) == udfs.DEPLOY_COST(1, dt.date(2024, 1, 1), 1)


def test_array_rows_fail_alone() -> None:
    got = udfs.TRAIN_COST([[32.0], [-1.0], ["x"], [None], ["#N/A"], [64.0]], [[3.0]], [[5.0]])
    assert got[0] == [480.0] and got[5] == [960.0]
    assert [row[0].split(" ")[0] for row in got[1:5]] == ["#NUM!", "#VALUE!", "#VALUE!", "#N/A"]
    assert all("gpus" in row[0] for row in got[1:5])


def test_broadcasting_like_excel() -> None:
    col = [[1.0], [2.0], [3.0]]
    assert udfs.TRAIN_COST(col, 3.0, 5.0) == [[15.0], [30.0], [45.0]]  # column × cell
    assert udfs.TRAIN_COST(col, col, 1.0) == [[1.0], [4.0], [9.0]]  # column × column
    assert udfs.TRAIN_COST(col, [[1.0, 10.0]], 1.0) == [[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]]
    assert udfs.TRAIN_COST([[1.0, 2.0]], 3.0, 5.0) == [[15.0, 30.0]]  # a row stays a row
    assert udfs.TRAIN_COST([[32.0]], [[3.0]], [[5.0]]) == 480.0  # 1×1 ranges → a single value


def test_blank_optional_cells_take_defaults_cell_by_cell() -> None:
    got = udfs.TRAIN_COST([[1.0], [1.0], [1.0]], 1.0, 1.0, [[None], [2.0], [""]])
    assert got == [[1.0], [2.0], [1.0]]
    got = udfs.ROI([[150.0], [150.0]], 590.0, [["ratio"], [None]])
    assert got[0][0] == pytest.approx(0.2542, abs=5e-5)
    assert got[1][0] == pytest.approx(-0.7458, abs=5e-5)


def test_gpu_spec_spills_over_names() -> None:
    got = udfs.GPU_SPEC([["H100"], ["T4"], ["nope"]], "price_per_hour")
    assert got[:2] == [[3.78], [0.59]]
    assert got[2][0].startswith("#N/A ")


def test_numpy_arrays_accepted() -> None:
    got = REGISTRY["TRAIN_COST"](np.array([32.0, 64.0]), 3, np.array([5, 5]))
    assert isinstance(got, np.ndarray) and got.dtype == np.float64
    assert got.tolist() == [480.0, 960.0]
    bad = REGISTRY["TRAIN_COST"](np.array([32.0, -1.0]), 3, 5)
    assert bad[0] == 480.0 and bad[1] == ExcelError("#NUM!", "gpus must be ≥ 0")


@pytest.mark.parametrize("name", sorted(SPEC_SIGNATURES))
def test_signature_is_the_spec(name: str) -> None:
    """Exact names, argument order and optional arguments, as specified."""
    params = list(inspect.signature(getattr(udfs, name)).parameters.values())
    assert [p.name for p in params] == [a for a, _ in SPEC_SIGNATURES[name]]
    for p, (_, default) in zip(params, SPEC_SIGNATURES[name], strict=True):
        assert (p.default is inspect.Parameter.empty) == (default is None)
    registry_defaults = [a.default for a in REGISTRY[name].args]
    assert registry_defaults == [d for _, d in SPEC_SIGNATURES[name]]
    assert getattr(udfs, name).__doc__  # the wizard's description
    assert all(a.description for a in REGISTRY[name].args)


def test_module_exports_exactly_the_spec_functions() -> None:
    assert sorted(udfs.__all__) == sorted(SPEC_SIGNATURES)
    assert math.isclose(udfs.BCR(150, 590) + 1, udfs.ROI(150, 590, "ratio") + 1)
