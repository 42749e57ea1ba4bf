"""The worked example of the cost-accounting method reproduced exactly, cell by cell."""

from __future__ import annotations

import pytest

from xlcost.engine import costs, evaluate, schedule, seed_scenario

# Numbers from the method's worked example — written out, not computed by xlcost.
SEED = {
    "train_cost": 480.0,
    "deploy_cost": 10.0,
    "maintain_cost": 100.0,
    "benefit": 150.0,
    "total_cost": 590.0,
    "roi": (150 - 590) / 590,
    "bcr": 150 / 590,
    "npv": 150 - 590,
    "cost_per_1k": 590 / 1e8 * 1000,
}


@pytest.mark.parametrize(("name", "expected"), SEED.items())
def test_seed_scenario_reproduces_the_seed(name: str, expected: float) -> None:
    assert getattr(evaluate(seed_scenario()), name) == pytest.approx(expected, rel=1e-12)


def test_seed_rounded_as_printed_in_the_spec() -> None:
    r = evaluate(seed_scenario())
    assert (round(r.roi, 3), round(r.bcr, 3)) == (-0.746, 0.254)
    assert r.payback_month is None  # cumulative net never reaches 0 within 2 months


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (costs.train_cost(32, 3, 5), 480.0),
        (costs.deploy_cost(1, 100, 0.1), 10.0),
        (costs.maintain_cost(2, 100, 0.5), 100.0),
        (costs.benefit(1e8, 0.005, 0.003, 0.1), 150.0),
        (costs.total_cost(480, 10, 100), 590.0),
        (costs.roi(150, 590), -0.7457627118644068),
        (costs.bcr(150, 590), 0.2542372881355932),
    ],
)
def test_seed_formulas(value: float, expected: float) -> None:
    assert float(value) == pytest.approx(expected, rel=1e-12)


def test_seed_cash_flow_follows_the_spec_convention() -> None:
    # Month 0: training 480. Months 1-2: deploy 10/2 + maintenance 100/2 = 55; benefit 150/2.
    rows = schedule(seed_scenario())
    assert [(r.month, r.cost, r.benefit, r.net) for r in rows] == [
        (0, 480.0, 0.0, -480.0),
        (1, 55.0, pytest.approx(75.0), pytest.approx(20.0)),
        (2, 55.0, pytest.approx(75.0), pytest.approx(20.0)),
    ]
    assert rows[-1].cumulative == pytest.approx(-440.0)
