"""Ranges, Monte Carlo, tornado and break-even, against references not computed by xlcost:
scipy.stats' distributions, closed forms of a uniform input, hand arithmetic on the worked
example (BERT ranker) of the cost-accounting method, and Megatron-LM's published GPT-3 run."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import stats

from xlcost.engine.errors import ScenarioErrors
from xlcost.engine.evaluate import evaluate
from xlcost.engine.examples import COMPARISON, SEED, example_path, load_example, seed_scenario
from xlcost.engine.model import Scenario
from xlcost.engine.risk import (
    BREAK_EVEN_INPUTS,
    InputRange,
    Ranges,
    break_even,
    parse_ranges,
    ppf,
    scenario_schema,
    simulate,
    split_ranges,
    tornado,
)
from xlcost.scenario_files import load_ranged_scenarios

N = 20_000
SEED_NPV_PER_REQUEST = 0.005 * 0.003 * 0.1  # benefit per request of the worked example: 1.5e-6


def _scipy(dist: str, low: float, base: float, high: float) -> stats.rv_continuous:
    width = high - low
    if dist == "uniform":
        return stats.uniform(loc=low, scale=width)
    if dist == "triangular":
        return stats.triang((base - low) / width, loc=low, scale=width)
    a = 1 + 4 * (base - low) / width
    b = 1 + 4 * (high - base) / width
    return stats.beta(a, b, loc=low, scale=width)


SHAPES = [
    ("uniform", 2.0, 3.0, 7.0),
    ("triangular", 2.0, 3.0, 7.0),
    ("triangular", 2.0, 2.0, 7.0),
    ("triangular", 2.0, 7.0, 7.0),
    ("pert", 2.0, 3.0, 7.0),
    ("pert", 2.0, 4.5, 7.0),
    ("pert", 2.0, 6.9, 7.0),
]


@pytest.mark.parametrize(("dist", "low", "base", "high"), SHAPES)
def test_inverse_distribution_matches_scipy(
    dist: str, low: float, base: float, high: float
) -> None:
    u = np.linspace(0.001, 0.999, 999)
    ours = ppf(u, low, base, high, dist)
    ref = _scipy(dist, low, base, high).ppf(u)
    assert np.max(np.abs(ours - ref)) <= 1e-5 * (high - low)


@pytest.mark.parametrize(("dist", "low", "base", "high"), SHAPES)
def test_simulated_quantiles_match_scipy_within_mc_error(
    dist: str, low: float, base: float, high: float
) -> None:
    """The worked example with volume ranged: NPV = 1.5e-6 × volume − 590, so the NPV's
    percentiles are the volume distribution's (scipy) mapped through that line."""
    scale = 1e8
    r = Ranges(
        inputs={"volume": InputRange(low=low * scale, high=high * scale, dist=dist)}  # type: ignore[arg-type]
    )
    s = seed_scenario().model_copy(update={"volume": base * scale})
    npv = simulate(s, r, draws=N, seed=3).options[0].stats["npv"]
    ref = _scipy(dist, low, base, high)
    for p, got in ((0.1, npv.p10), (0.5, npv.p50), (0.9, npv.p90)):
        x = ref.ppf(p)
        # standard error of a sample quantile: sqrt(p(1-p)/n) / density
        se = math.sqrt(p * (1 - p) / N) / ref.pdf(x)
        expected = SEED_NPV_PER_REQUEST * scale * x - 590
        assert got == pytest.approx(expected, abs=4 * se * SEED_NPV_PER_REQUEST * scale)
    se_mean = ref.std() / math.sqrt(N) * SEED_NPV_PER_REQUEST * scale
    assert npv.mean == pytest.approx(
        SEED_NPV_PER_REQUEST * scale * ref.mean() - 590, abs=4 * se_mean
    )


def test_uniform_volume_gives_uniform_npv_with_known_percentiles() -> None:
    """NPV is linear in volume: volume ~ U(0.5e8, 1.5e8) → NPV ~ U(−515, −365); P10/P50/P90
    = −500, −440, −380 exactly in the limit; within 3 standard errors here."""
    r = Ranges(inputs={"volume": InputRange(low=0.5e8, high=1.5e8, dist="uniform")})
    sim = simulate(seed_scenario(), r, draws=N, seed=11).options[0]
    lo, hi = -590 + 75.0, -590 + 225.0
    width = hi - lo
    for p, got in ((0.1, sim.stats["npv"].p10), (0.5, sim.stats["npv"].p50),
                   (0.9, sim.stats["npv"].p90)):  # fmt: skip
        se = math.sqrt(p * (1 - p) / N) * width  # density of U is 1/width
        assert abs(got - (lo + p * width)) <= 3 * se
    assert abs(sim.stats["npv"].mean - (lo + hi) / 2) <= 3 * width / math.sqrt(12 * N)
    assert sim.prob_npv_positive == 0.0
    assert sim.stats["total_cost"].p10 == sim.stats["total_cost"].p90 == 590.0


def test_same_seed_same_bytes_and_chunking_does_not_matter() -> None:
    pairs = _shipped()
    scns, rngs = [s for s, _ in pairs], [r for _, r in pairs]
    a = simulate(scns, rngs, draws=5_000, seed=7).model_dump_json()
    b = simulate(scns, rngs, draws=5_000, seed=7).model_dump_json()
    c = simulate(scns, rngs, draws=5_000, seed=7, chunk_rows=1_234).model_dump_json()
    d = simulate(scns, rngs, draws=5_000, seed=8).model_dump_json()
    assert a == b == c
    assert a != d


def test_zero_width_ranges_give_the_deterministic_result_exactly() -> None:
    for s, r in _shipped():
        zero = Ranges(
            inputs={n: InputRange(low=getattr(s, n), high=getattr(s, n), dist=rg.dist)
                    for n, rg in r.inputs.items()}
            | {"mfu": InputRange(low=s.mfu, high=s.mfu)}
        )  # fmt: skip
        o = simulate(s, zero, draws=1_000, seed=1).options[0]
        exact = evaluate(s)
        for name in ("total_cost", "npv", "roi"):
            st = o.stats[name]
            assert st.p10 == st.p50 == st.p90 == getattr(exact, name)
            assert st.mean == pytest.approx(getattr(exact, name), rel=1e-15)


def test_common_random_numbers_make_a_dominated_option_never_best() -> None:
    """Option B is option A plus 1 per conversion: with shared draws B wins every draw."""
    s = seed_scenario()
    r = Ranges(inputs={"volume": InputRange(low=0.5e8, high=1.5e8), "ctr": InputRange(low=0.004,
               high=0.006, dist="pert")})  # fmt: skip
    better = s.model_copy(update={"name": "B", "value_per_conversion": 1.1})
    sim = simulate([s, better], [r, r], draws=2_000, seed=5)
    assert [o.prob_best for o in sim.options] == [0.0, 1.0]


def test_tornado_on_the_worked_example_by_hand() -> None:
    """NPV = B − C = 150 − 590 = −440 (no discounting). By hand:
    training price 4..6 → training 384..576 → NPV −344..−536 (swing 192);
    ctr 0.4 %..0.6 % → B 120..180 → NPV −470..−410 (60);
    maintenance price 0.4..0.6 → maintenance 80..120 → NPV −420..−460 (40);
    volume 0.9e8..1.1e8 → B 135..165 → NPV −455..−425 (30)."""
    r = Ranges(
        inputs={
            "volume": InputRange(low=0.9e8, high=1.1e8),
            "maintain_price_per_unit": InputRange(low=0.4, high=0.6),
            "ctr": InputRange(low=0.004, high=0.006),
            "train_price_per_gpu_hour": InputRange(low=4, high=6),
        }
    )
    t = tornado(seed_scenario(), r)
    assert t.npv_base == pytest.approx(-440)
    got = [(b.input, round(b.npv_low, 6), round(b.npv_high, 6), round(b.swing, 6)) for b in t.bars]
    assert got == [
        ("train_price_per_gpu_hour", -344, -536, 192),
        ("ctr", -470, -410, 60),
        ("maintain_price_per_unit", -420, -460, 40),
        ("volume", -455, -425, 30),
    ]


@pytest.mark.parametrize("name", BREAK_EVEN_INPUTS)
@pytest.mark.parametrize("which", range(4))
def test_break_even_re_evaluated_is_zero(name: str, which: int) -> None:
    s = (load_example(SEED) + load_example(COMPARISON))[which]
    b = break_even(s, name)
    base = evaluate(s)
    scale = max(base.benefit, base.total_cost)
    if b.value is None:
        assert "none in range" in b.note
        return
    at = evaluate(Scenario.model_validate(s.model_dump() | {name: b.value}))
    assert abs(at.npv) <= 1e-6 * scale


def test_break_even_by_hand_and_none_in_range() -> None:
    s = seed_scenario()
    # benefit must reach 590: volume 590 / 1.5e-6, ctr 0.005 × 590/150, value 0.1 × 590/150
    assert break_even(s, "volume").value == pytest.approx(590 / 1.5e-6, rel=1e-12)
    assert break_even(s, "ctr").value == pytest.approx(0.005 * 590 / 150, rel=1e-12)
    assert break_even(s, "value_per_conversion").value == pytest.approx(0.1 * 590 / 150, rel=1e-12)
    # the training price that leaves 150 − 10 − 100 = 40 for 96 GPU-hours
    assert break_even(s, "train_price_per_gpu_hour").value == pytest.approx(40 / 96, rel=1e-12)
    # serving is 10 of 590: even free serving leaves NPV = −430 < 0
    none = break_even(s, "serve_price_per_gpu_hour")
    assert none.value is None and none.note.startswith("none in range")
    # not linear-listed: a bracketed search; by hand 32 × h × 5 = 40 → h = 0.25
    hours = break_even(s, "train_hours")
    assert hours.method == "bracketed" and hours.value == pytest.approx(0.25, rel=1e-10)


def test_megatron_gpt3_published_run_within_default_mfu_range() -> None:
    """Narayanan et al. (SC'21, sec. 5.1): GPT-3 175B on 300B tokens, 1,024 A100s, "about 34 days".
    With mfu left at its default (0.4) and the default MFU range 0.3–0.5, the P10–P90 of
    training GPU-hours contains 34 days × 24 h × 1,024 GPUs."""
    s = Scenario(
        name="GPT-3 175B", horizon_months=1, train_gpus=1024, train_price_per_gpu_hour=1,
        model_params=175e9, train_tokens=300e9, gpu_peak_tflops=312, flops_per_param_token=8,
        serve_gpus=0, serve_hours=0, serve_price_per_gpu_hour=0, maintain_units_per_month=0,
        maintain_price_per_unit=0, volume=0, ctr=0, cvr=0, value_per_conversion=0,
    )  # fmt: skip
    o = simulate(s, None, draws=N, seed=1, results=("train_cost",)).options[0]
    assert o.ranged == ("mfu",)
    gpu_hours = o.stats["train_cost"]  # price 1 per GPU-hour
    published = 34 * 24 * 1024
    assert gpu_hours.p10 is not None and gpu_hours.p90 is not None
    assert gpu_hours.p10 <= published <= gpu_hours.p90


# --------------------------------------------------------------------------- ranges in files


def _shipped() -> list[tuple[Scenario, Ranges]]:
    return load_ranged_scenarios(example_path(COMPARISON))


def test_shipped_comparison_has_ranges() -> None:
    pairs = _shipped()
    assert all(r.inputs["ctr"].low < s.ctr < r.inputs["ctr"].high for s, r in pairs)


def test_yaml_low_base_high_form_and_csv_columns(tmp_path: Path) -> None:
    rec = seed_scenario().model_dump()
    yaml_file = tmp_path / "a.yaml"
    yaml_file.write_text(
        yaml.safe_dump(
            {
                "scenarios": [
                    rec
                    | {
                        "ctr": {"low": 0.004, "base": 0.005, "high": 0.007},
                        "cvr_low": 0.002,
                        "cvr_dist": "pert",
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    csv_file = tmp_path / "a.csv"
    keys = [k for k, v in rec.items() if v is not None]
    header = [*keys, "ctr_low", "ctr_high", "cvr_low", "cvr_dist"]
    row = [str(rec[k]) for k in keys] + ["0.4%", "0.007", "0.002", "PERT"]
    csv_file.write_text(",".join(header) + "\n" + ",".join(row) + "\n", encoding="utf-8")
    ((sy, ry),) = load_ranged_scenarios(yaml_file)
    ((sc, rc),) = load_ranged_scenarios(csv_file)
    assert sy == sc == seed_scenario()
    assert ry == rc
    assert ry.inputs["ctr"] == InputRange(low=0.004, high=0.007)
    assert ry.inputs["cvr"] == InputRange(low=0.002, high=0.003, dist="pert")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"ctr_low": 0.006}, "a.csv row 2, ctr_low: must be ≤ ctr (0.005), got 0.006"),
        ({"ctr_high": 0.004}, "a.csv row 2, ctr_high: must be ≥ ctr (0.005), got 0.004"),
        ({"ctr_high": 1.5}, "a.csv row 2, ctr_high: must be ≤ 1, got 1.5"),
        ({"train_gpus_low": -1}, "a.csv row 2, train_gpus_low: must be ≥ 0, got -1"),
        (
            {"ctr_dist": "normal"},
            "a.csv row 2, ctr_dist: must be one of triangular, pert, uniform, got 'normal'",
        ),
        ({"ctr_low": "abc"}, "a.csv row 2, ctr_low: must be a number, got 'abc'"),
        ({"horizon_months_low": 1.5}, "a.csv row 2, horizon_months_low: must be a whole number"),
        ({"train_hours_low": 4}, "a.csv row 2, train_hours_low: must be ≤ train_hours (3), got 4"),
        (
            {"horizon_months_low": 1, "maintain_months": 2},
            "a.csv row 2, horizon_months_low: makes maintain_months invalid",
        ),
    ],
)
def test_range_errors_name_the_file_row_and_key(tmp_path: Path, extra: dict, message: str) -> None:
    rec = seed_scenario().model_dump() | extra
    path = tmp_path / "a.csv"
    keys = [k for k, v in rec.items() if v is not None]
    path.write_text(",".join(keys) + "\n" + ",".join(str(rec[k]) for k in keys) + "\n", "utf-8")
    with pytest.raises(ScenarioErrors) as e:
        load_ranged_scenarios(path)
    assert str(e.value).startswith(message)


def test_a_range_needs_a_base_value_typed_or_estimated() -> None:
    gbdt = load_example(COMPARISON)[0]  # no model size: nothing to range
    with pytest.raises(ScenarioErrors, match="model_params_low: model_params is blank"):
        parse_ranges({"model_params": {"low": 1}}, gbdt)
    s = load_example(COMPARISON)[2]  # train_hours blank: estimated from 7B params, 2B tokens
    r = parse_ranges({"train_hours": {"low": 5, "high": 10}}, s)
    bar = tornado(s, r).bars[0]
    assert (bar.input, bar.low, bar.high) == ("train_hours", 5, 10)
    # 6·N·D / (GPUs · H100 peak 989 TFLOP/s (catalog, by train_gpu) · mfu) in hours
    assert bar.base == pytest.approx(6 * 7e9 * 2e9 / (8 * 989e12 * 0.4) / 3600)
    assert bar.npv_low > tornado(s, Ranges()).npv_base > bar.npv_high


def test_split_ranges_leaves_other_keys() -> None:
    inputs, raw = split_ranges({"name": "x", "foo_low": 1, "ctr_high": 0.3, "cvr_dist": ""})
    assert inputs == {"name": "x", "foo_low": 1}
    assert raw == {"ctr": {"high": 0.3}}


def test_schema_lists_range_keys() -> None:
    props = scenario_schema()["properties"]
    assert props["ctr_low"]["maximum"] == 1 and props["ctr_high"]["minimum"] == 0
    assert props["mfu_dist"]["enum"] == ["triangular", "pert", "uniform"]
    assert "name_low" not in props
    json.dumps(scenario_schema())


# --------------------------------------------------------------------------- command line


def test_cli_risk_sensitivity_and_compare_risk() -> None:
    from typer.testing import CliRunner

    from xlcost.cli import load_commands

    app, runner = load_commands(), CliRunner()
    path = str(example_path(COMPARISON))

    def run(*args: str) -> tuple[int, str, str]:
        r = runner.invoke(app, list(args))
        return r.exit_code, r.stdout, r.stderr

    code, out, err = run("risk", path, "--draws", "2000", "--seed", "4", "-f", "json")
    assert code == 0
    data = json.loads(out)
    assert (data["draws"], data["seed"]) == (2000, 4)
    assert sum(o["prob_best"] for o in data["options"]) == pytest.approx(1.0)
    assert "mfu has no range" in err
    assert run("risk", path, "--draws", "2000", "--seed", "4", "-f", "json")[1] == out

    code, out, _ = run("risk", path, "-n", "500", "-f", "csv")
    assert code == 0 and out.splitlines()[0].startswith("name,result,p10,p50,p90,mean")
    assert len(out.splitlines()) == 1 + 3 * 3

    code, out, _ = run("sensitivity", path, "-f", "csv")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("name,kind,input,base,low,high,npv_low,npv_high,swing")
    assert sum(line.split(",")[1] == "break_even" for line in lines) == 3 * len(BREAK_EVEN_INPUTS)
    code, out, _ = run("sensitivity", path)
    assert code == 0 and "break-even (NPV = 0)" in out and "tornado" in out

    code, out, _ = run("compare", path, "--risk", "--draws", "1000", "-f", "csv")
    assert code == 0
    header = out.splitlines()[0].split(",")
    assert {"npv_p10", "npv_p90", "prob_best"} <= set(header)
    code, out, _ = run("compare", path, "--risk", "--draws", "1000")
    assert code == 0 and "P(best)" in out and "random seed 12345" in out


def test_cli_bad_range_is_one_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from xlcost.cli import load_commands

    bad = tmp_path / "bad.yaml"
    bad.write_text(
        yaml.safe_dump([seed_scenario().model_dump() | {"ctr": {"low": 0.9, "base": 0.005}}]),
        encoding="utf-8",
    )
    r = CliRunner().invoke(load_commands(), ["risk", str(bad)])
    assert r.exit_code == 1
    assert r.stderr == (
        "xlcost: error: bad.yaml [0], ctr_low: must be ≤ ctr (0.005), got 0.9\n"
        "xlcost: risk: 0 options OK, 1 failed\n"
    )


def test_csv_example_has_the_yaml_example_ranges() -> None:
    root = Path(__file__).resolve().parents[1]
    assert load_ranged_scenarios(root / "examples" / "ranker_options.csv") == _shipped()


def test_no_input_name_reads_as_another_inputs_range() -> None:
    """``split_ranges`` takes an input's value as it is: no input is called NAME_low,
    NAME_high or NAME_dist for another input NAME."""
    from xlcost.engine.model import NUMERIC_INPUTS
    from xlcost.engine.risk import RANGE_SUFFIXES

    clashes = [
        n
        for n in NUMERIC_INPUTS
        for s in RANGE_SUFFIXES
        if n.endswith(s) and n.removesuffix(s) in NUMERIC_INPUTS
    ]
    assert clashes == []
