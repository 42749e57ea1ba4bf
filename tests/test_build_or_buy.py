"""examples/build_or_buy.yaml: every price is the catalogs', and the comparison is complete."""

from __future__ import annotations

from pathlib import Path

from xlcost.engine.catalog import default_catalog
from xlcost.engine.evaluate import evaluate, used_inputs
from xlcost.engine.prices import default_prices
from xlcost.scenario_files import load_scenarios

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "build_or_buy.yaml"


def test_four_ways_to_serve_one_ranker() -> None:
    options = {s.name: s for s in load_scenarios(EXAMPLE)}
    assert list(options) == ["On demand H100", "Reserved H100", "Owned L4", "Voyage API"]
    benefit = {evaluate(s).benefit for s in options.values()}
    assert len(benefit) == 1  # the same model, the same traffic, the same uplift
    api = evaluate(options["Voyage API"])
    assert api.api_cost > 0 and api.deploy_cost == api.api_cost
    owned = evaluate(options["Owned L4"])
    assert owned.hardware_cost > 0 and owned.power_cost > 0


def test_every_price_comes_from_the_catalogs() -> None:
    cat, prices = default_catalog(), default_prices()
    o = {s.name: s for s in load_scenarios(EXAMPLE)}
    assert o["On demand H100"].serve_price_per_gpu_hour == cat.get("H100").price_per_hour
    reserved = next(x for x in prices.offers if x.gpu == "H100" and x.term == "reserved_1y")
    assert o["Reserved H100"].serve_term == "reserved_1y"  # looked up, not typed
    assert used_inputs(o["Reserved H100"])["serve_price_per_gpu_hour"] == reserved.price_per_hour
    assert o["Owned L4"].gpu_purchase_price == prices.purchase("L4").purchase_price
    assert o["Owned L4"].power_kw_per_gpu == prices.purchase("L4").board_power_kw
    voyage = prices.api("rerank-2.5-lite")
    assert o["Voyage API"].api_model == "rerank-2.5-lite"
    used = used_inputs(o["Voyage API"])
    assert used["api_price_per_m_input_tokens"] == voyage.price_per_m_input_tokens
    assert used["api_price_per_m_output_tokens"] == voyage.price_per_m_output_tokens
    for name in ("On demand H100", "Reserved H100", "Owned L4"):
        assert o[name].train_price_per_gpu_hour == cat.get("A100-40GB").price_per_hour


def test_assumptions_are_sourced_in_comments() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    for source in ("catalog", "Devlin", "assumption", "EIA", "TensorRT", "MongoDB"):
        assert source in text
