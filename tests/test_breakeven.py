"""Break-even by volume: each returned volume checked by evaluating the options there.

The checks go through :func:`at_volume` and :func:`evaluate` (one scenario at a time), not the
vectorised path the solver uses: at a returned "equal" volume the two costs agree to 1e-9
relative, and one unit either side the order is the other way round.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlcost.engine import Scenario, evaluate
from xlcost.engine.breakeven import at_volume, volume_break_even
from xlcost.engine.errors import XlcostError

BASE: dict[str, Any] = {
    "horizon_months": 12,
    "train_gpus": 8,
    "train_hours": 10,
    "train_price_per_gpu_hour": 2,
    "serve_hours": 8760,
    "maintain_units_per_month": 10,
    "maintain_price_per_unit": 100,
    "volume": 1e9,
    "ctr": 0.05,
    "cvr": 0.03,
    "value_per_conversion": 0.5,
    "baseline_ctr": 0.048,
    "baseline_cvr": 0.03,
}
# 1,000 QPS at peak on 400-QPS replicas at 70 %: ceil(3.57) = 4 replicas at 1e9 requests,
# one more every 2.8e8 requests
RENTED = Scenario(
    **BASE,
    name="rented",
    serve_price_per_gpu_hour=0.8,
    peak_qps=1000,
    qps_per_replica=400,
)
OWNED = Scenario(
    **BASE,
    name="owned",
    serve_price_per_gpu_hour=0,
    peak_qps=1000,
    qps_per_replica=400,
    min_replicas=2,
    own_gpus=6,
    gpu_purchase_price=8000,
    power_kw_per_gpu=0.072,
    electricity_price_per_kwh=0.12,
    setup_cost=50000,
)
API = Scenario(
    **BASE,
    name="api",
    serve_gpus=0,
    serve_price_per_gpu_hour=0,
    api_price_per_m_input_tokens=0.1,
    api_input_tokens_per_request=400,
)


def _cost(s: Scenario, v: float) -> float:
    return evaluate(at_volume(s, v)).total_cost


def _npv(s: Scenario, v: float) -> float:
    return evaluate(at_volume(s, v)).npv


def _check_pair(a: Scenario, b: Scenario, max_volume: float) -> int:
    be = volume_break_even([a, b], max_volume=max_volume)
    (pair,) = be.pairs
    for c in pair.crossings:
        v = c.volume
        ca, cb = _cost(a, v), _cost(b, v)
        below = _cost(a, max(v - 1, 0)) - _cost(b, max(v - 1, 0))
        above = _cost(a, v + 1) - _cost(b, v + 1)
        if c.kind == "equal":
            assert ca == pytest.approx(cb, rel=1e-9), (a.name, b.name, v)
        else:  # at a step: at v itself the lower level still holds, one unit on it has jumped
            assert not math.isclose(ca, cb, rel_tol=1e-9)
        assert math.copysign(1, below) != math.copysign(1, above), (a.name, b.name, v)
    return len(pair.crossings)


def test_serving_on_demand_against_a_hosted_api() -> None:
    """API: 400 tokens × $0.10/M = $0.00004 a request; renting: $7,008 a replica-year for
    2.8e8 requests = $0.000025 a request at the margin, from a floor of one replica: the API is
    cheaper at low volume, renting at high volume."""
    assert _check_pair(RENTED, API, 1e11) >= 1
    be = volume_break_even([RENTED, API], max_volume=1e11)
    assert (be.pairs[0].cheaper_at_zero, be.pairs[0].cheaper_at_max) == ("api", "rented")


def test_owned_against_rented_steps_on_both_sides() -> None:
    """Owned: 6 GPUs at 1e9 requests, a fleet sized with the volume in whole GPUs (one more
    every 1.667e8 requests), each 8,000 × 12/36 + 98.40 of power (0.072 kW × 1.3 × 8,760 h ×
    $0.12) = 2,765.07 a GPU, after a 50,000 set-up; rented: 7,008 a replica, one more every
    2.8e8 requests (min 1). Renting is cheaper at low volume, owning at high volume."""
    be = volume_break_even([OWNED, RENTED], max_volume=1e11)
    (pair,) = be.pairs
    assert pair.crossings
    assert (pair.cheaper_at_zero, pair.cheaper_at_max) == ("rented", "owned")
    diff = _cost(OWNED, 1e9) - _cost(RENTED, 1e9)
    assert diff == pytest.approx(50000 + 6 * (8000 / 3 + 0.072 * 1.3 * 8760 * 0.12) - 4 * 7008)
    assert _check_pair(OWNED, RENTED, 1e11) == len(pair.crossings)


def test_owned_against_api() -> None:
    assert _check_pair(OWNED, API, 1e11) >= 1


def test_a_crossing_at_a_replica_step() -> None:
    """Rented: 1 replica ($7,008) up to 2.8e8 requests, then 2 ($14,016); a flat option costing
    $10,000 is dearer below the step and cheaper above it: they are never equal."""
    rented = Scenario(**(RENTED.model_dump() | {"train_gpus": 0, "maintain_units_per_month": 0}))
    flat = Scenario(
        **(API.model_dump() | {"name": "flat", "train_gpus": 0, "maintain_units_per_month": 0,
                                "api_price_per_m_input_tokens": 0, "setup_cost": 10000})
    )  # fmt: skip
    be = volume_break_even([rented, flat], max_volume=5e8)
    (pair,) = be.pairs
    assert [c.kind for c in pair.crossings] == ["step"]
    # 1,000 QPS per 1e9 requests: one 280-QPS replica carries 2.8e8 requests, and the count,
    # rounded to 9 decimals before the ceiling, is still 1 up to 2.8e8 × (1 + 5e-10)
    assert pair.crossings[0].volume == pytest.approx(2.8e8 * (1 + 5e-10), rel=1e-12)
    assert _cost(rented, 2.8e8 - 1) == pytest.approx(7008)
    assert _cost(rented, 2.8e8 + 1) == pytest.approx(14016)
    assert _check_pair(rented, flat, 5e8) == 1
    assert (pair.cheaper_at_zero, pair.cheaper_at_max) == ("rented", "flat")


def test_a_crossing_at_a_replica_step_rounded_as_the_engine_rounds() -> None:
    """10 QPS per 1e9 requests on 29-QPS replicas at 70 %: the step from 1 to 2 replicas is at
    2.03e9 requests, where the replica count is rounded to 9 decimals before the ceiling, so
    the count steps about one request above 2.03e9; the reported step is where it does."""
    rented = Scenario(
        **BASE, name="rented", serve_price_per_gpu_hour=2, peak_qps=10, qps_per_replica=29,
        min_replicas=0,
    )  # fmt: skip
    api = Scenario(
        **BASE, name="api", serve_gpus=0, serve_price_per_gpu_hour=0,
        api_price_per_m_input_tokens=0.1, api_input_tokens_per_request=10,
        setup_cost=25309.016918639783,
    )  # fmt: skip
    (pair,) = volume_break_even([rented, api], max_volume=1e10).pairs
    assert [c.kind for c in pair.crossings] == ["step"]
    assert pair.crossings[0].volume == pytest.approx(2.03e9, rel=1e-9)
    assert _check_pair(rented, api, 1e10) == 1


def test_never_within_the_range() -> None:
    dearer = Scenario(**(API.model_dump() | {"name": "dearer", "setup_cost": 1}))
    be = volume_break_even([API, dearer], max_volume=1e10)
    (pair,) = be.pairs
    assert pair.crossings == ()
    assert pair.cheaper_at_zero == pair.cheaper_at_max == "api"


@pytest.mark.parametrize("option", [RENTED, OWNED, API], ids=lambda s: s.name)
def test_npv_zero_volumes(option: Scenario) -> None:
    be = volume_break_even([option], max_volume=1e11)
    (zero,) = be.npv_zero
    if option is API:  # 0.00004 of cost against 0.00003 of benefit a request: never
        assert zero.crossings == () and zero.npv_at_max < 0
        return
    assert zero.crossings
    for c in zero.crossings:
        v = c.volume
        scale = max(1.0, evaluate(at_volume(option, v)).total_cost)
        if c.kind == "equal":
            assert abs(_npv(option, v)) <= 1e-9 * scale
        below, above = _npv(option, max(v - 1, 0)), _npv(option, v + 1)
        assert math.copysign(1, below) != math.copysign(1, above)


def test_api_npv_zero_by_hand() -> None:
    """Cost 160 (training) + 12,000 (maintenance) + 400 × $0.01/M = 0.000004 a request;
    benefit v × (0.05 × 0.03 − 0.048 × 0.03) × 0.5 = 0.00003 a request:
    NPV = 0 at v = 12,160 / 0.000026 = 467,692,307.69…"""
    cheap = Scenario(**(API.model_dump() | {"api_price_per_m_input_tokens": 0.01}))
    be = volume_break_even([cheap], max_volume=1e11)
    want = 12160 / 0.000026
    assert [c.volume for c in be.npv_zero[0].crossings] == [pytest.approx(want, rel=1e-12)]


params = st.fixed_dictionaries(
    {
        "serve_price_per_gpu_hour": st.floats(0.1, 5),
        "peak_qps": st.floats(10, 5000),
        "qps_per_replica": st.floats(20, 2000),
        "min_replicas": st.integers(0, 3),
        "api_price_per_m_input_tokens": st.floats(0.001, 1),
        "api_input_tokens_per_request": st.floats(10, 5000),
        "setup_cost": st.floats(0, 1e5),
    }
)


@settings(max_examples=25, deadline=None)
@given(params)
def test_random_pairs_every_crossing_checks_out(p: dict[str, Any]) -> None:
    rented = Scenario(
        **BASE, name="rented", serve_price_per_gpu_hour=p["serve_price_per_gpu_hour"],
        peak_qps=p["peak_qps"], qps_per_replica=p["qps_per_replica"],
        min_replicas=p["min_replicas"],
    )  # fmt: skip
    api = Scenario(
        **BASE, name="api", serve_gpus=0, serve_price_per_gpu_hour=0,
        api_price_per_m_input_tokens=p["api_price_per_m_input_tokens"],
        api_input_tokens_per_request=p["api_input_tokens_per_request"],
        setup_cost=p["setup_cost"],
    )  # fmt: skip
    _check_pair(rented, api, 1e10)


def test_too_many_steps_is_one_clear_error() -> None:
    tiny = Scenario(**(RENTED.model_dump() | {"qps_per_replica": 1e-3}))
    with pytest.raises(XlcostError, match="replica steps"):
        volume_break_even([tiny, API], max_volume=1e12)


def test_cli_compare_breakeven(tmp_path: Any) -> None:
    from typer.testing import CliRunner

    from xlcost.cli import app

    path = tmp_path / "options.json"
    path.write_text(
        json.dumps([s.model_dump(exclude_none=True) for s in (RENTED, OWNED, API)]),
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["compare", str(path), "--breakeven", "volume"])
    assert result.exit_code == 0, result.output
    assert "same cost at volume" in result.output and "NPV = 0 at volume" in result.output
    result = CliRunner().invoke(
        app, ["compare", str(path), "--breakeven", "volume", "-f", "json", "--max-volume", "1e10"]
    )
    data = json.loads(result.output)
    assert data["break_even"]["max_volume"] == 1e10
    assert len(data["break_even"]["pairs"]) == 3
    result = CliRunner().invoke(app, ["compare", str(path), "--breakeven", "volume", "-f", "csv"])
    assert result.exit_code != 0 and "--breakeven" in result.output
