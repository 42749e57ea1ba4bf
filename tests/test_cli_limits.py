"""Absurd inputs are refused with the limit stated; outputs are checked before any work."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xlcost.cli import load_commands
from xlcost.engine import evaluate
from xlcost.engine.allocate import MAX_GPUS, TrainingRequirement, cheapest_gpus
from xlcost.engine.errors import XlcostError
from xlcost.engine.examples import seed_scenario
from xlcost.engine.model import NUMERIC_INPUTS, Scenario, field_domain

APP = load_commands()
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(APP, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_every_numeric_input_has_an_upper_limit() -> None:
    unbounded = [name for name in NUMERIC_INPUTS if field_domain(name)[2] is None]
    assert unbounded == [], "give these inputs a sane upper limit: _in(..., le=...)"


def test_every_input_at_its_upper_limit_still_gives_finite_results() -> None:
    top = {name: field_domain(name)[2] for name in NUMERIC_INPUTS}
    top["maintain_months"] = top["horizon_months"]
    s = Scenario.model_validate({**seed_scenario().model_dump(), **top})
    r = evaluate(s)
    for name, value in r.model_dump(exclude={"name"}).items():
        assert value is None or math.isfinite(value), name


def write_scenario(tmp_path: Path, **changes: object) -> Path:
    data = {**seed_scenario().model_dump(exclude_none=True), **changes}
    path = tmp_path / "s.yaml"
    lines = ["scenarios:"] + [
        f"  {'- ' if i == 0 else '  '}{k}: {v!r}" for i, (k, v) in enumerate(data.items())
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("field", "value", "limit"),
    [("volume", 1e308, "1e+15"), ("train_gpus", 1e300, "1e+07"), ("serve_hours", 1e6, "438000")],
)
def test_absurd_inputs_are_refused_with_the_limit(
    tmp_path: Path, field: str, value: float, limit: str
) -> None:
    code, out, err = run("calc", str(write_scenario(tmp_path, **{field: value})))
    assert code == 1 and out == ""
    assert f"s.yaml scenarios[0], {field}: must be ≤ {limit}, got {value:g}" in err
    assert "Traceback" not in err


def test_gpus_beyond_any_cluster_is_one_line_not_an_overflow() -> None:
    # Was: OverflowError: cannot convert float infinity to integer (allocate.py).
    code, out, err = run("gpus", "--flops", "1e308", "--deadline-hours", "1e-300")
    assert (code, out) == (1, "")
    assert err == (
        "xlcost: error: no catalog GPU meets the requirement with at most 10,000,000 GPUs "
        "(flops 1e+308, deadline_hours 1e-300, mfu 0.4)\n"
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--peak-qps", "1e308", "--flops-per-query", "1e9"],
        ["--peak-qps", "10", "--flops-per-query", "1e-300", "--model-memory-gb", "1e308"],
        ["--flops", "1e40", "--deadline-hours", "1"],
    ],
)
def test_gpus_serving_and_training_extremes_are_refused(args: list[str]) -> None:
    code, _, err = run("gpus", *args)
    assert code == 1
    assert err.startswith("xlcost: error: no catalog GPU meets the requirement")


def test_gpus_near_the_limit_leaves_out_the_gpus_that_would_need_more() -> None:
    # 1e26 FLOP in 24 h at 40 % of peak: a T4 (65 TFLOP/s) would need ≈ 4.5e7 > MAX_GPUS.
    options = cheapest_gpus(TrainingRequirement(flops=1e26, deadline_hours=24))
    assert options and all(o.gpus <= MAX_GPUS for o in options)
    assert "T4" not in {o.gpu for o in options}
    code, out, _ = run("gpus", "--flops", "1e26", "--deadline-hours", "24")
    assert code == 0
    assert max(len(line) for line in out.splitlines()) < 100


def test_the_engine_refuses_too_many_gpus_in_one_error() -> None:
    with pytest.raises(XlcostError, match="at most 10,000,000 GPUs"):
        cheapest_gpus(TrainingRequirement(flops=1e300, deadline_hours=1))


def test_demo_refuses_a_bad_out_before_printing(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    code, out, err = run("demo", "--out", str(afile))
    assert (code, out) == (2, "")
    assert err.startswith(f"xlcost: error: --out {afile}: is a file")
    code, out, err = run("demo", "--out", str(afile / "sub"))
    assert (code, out) == (1, "")
    assert err.startswith(f"xlcost: error: --out {afile / 'sub'}: cannot create directory (")


def test_an_output_file_in_a_folder_that_cannot_be_made_names_the_folder(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    out = afile / "nope" / "t.xlsx"
    code, _, err = run("template", "--out", str(out))
    assert code == 1
    assert err == f"xlcost: error: --out {out}: cannot create its directory {out.parent}\n"


def test_generate_single_refuses_an_existing_file_before_the_work(tmp_path: Path) -> None:
    single = tmp_path / "all.xlsx"
    single.write_bytes(b"mine")
    code, _, err = run("generate", str(write_scenario(tmp_path)), "--single", str(single))
    assert code == 1
    assert err == f"xlcost: error: --single {single}: exists; use --force\n"
    assert single.read_bytes() == b"mine"
