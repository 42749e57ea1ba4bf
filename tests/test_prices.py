"""The price catalog beyond on-demand rental: validated, sourced, dated, overridable, flagged."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xlcost.cli import app
from xlcost.engine.catalog import default_catalog
from xlcost.engine.errors import XlcostError
from xlcost.engine.prices import default_prices, load_prices, stale


def test_every_price_has_a_source_and_a_date() -> None:
    p = default_prices()
    for row in (*p.offers, *p.apis):
        assert len(row.price_source) > 10 and row.price_as_of <= dt.date(2026, 12, 1)
    for row in p.purchases:
        if row.purchase_price is not None:
            assert row.price_source and row.price_as_of
        if row.board_power_kw is not None:
            assert row.power_source


def test_gpus_are_catalog_gpus_and_at_least_five_apis() -> None:
    names = {g.name for g in default_catalog().gpus}
    p = default_prices()
    assert {r.gpu for r in (*p.purchases, *p.offers)} <= names
    assert len({(a.provider, a.model) for a in p.apis}) >= 5
    assert len({a.provider for a in p.apis}) >= 3


def test_known_values_from_their_sources() -> None:
    p = default_prices()
    assert p.api("gpt-5-nano").price_per_m_input_tokens == 0.05  # OpenAI model page
    assert p.api("Anthropic/claude-haiku-4.5").price_per_m_output_tokens == 5.0
    assert p.purchase("l4").board_power_kw == 0.072  # NVIDIA L4 datasheet: 72 W
    with pytest.raises(KeyError, match="unknown API model"):
        p.api("no-such-model")


def test_stale_after_twelve_months() -> None:
    assert not stale(dt.date(2025, 12, 1), dt.date(2026, 12, 1))  # exactly 365 days
    assert stale(dt.date(2025, 11, 30), dt.date(2026, 12, 1))
    lines = default_prices().stale_prices(dt.date(2027, 12, 1))
    assert any("gpt-5-nano" in line for line in lines)
    assert default_prices().stale_prices(dt.date(2026, 12, 1)) == []


def test_a_user_file_overrides_and_extends(tmp_path: Path) -> None:
    f = tmp_path / "my_prices.yaml"
    f.write_text(
        "apis:\n"
        "  - {provider: OpenAI, model: gpt-5-nano, kind: llm, price_per_m_input_tokens: 0.04,\n"
        "     price_per_m_output_tokens: 0.3, price_source: our contract, "
        "price_as_of: 2024-01-01}\n"
        "  - {provider: Acme, model: rank-1, kind: reranker, price_per_m_input_tokens: 0.01,\n"
        "     price_per_m_output_tokens: 0, price_source: quote 42, price_as_of: 2026-11-01}\n",
        encoding="utf-8",
    )
    p = load_prices(f)
    assert p.api("gpt-5-nano").price_per_m_input_tokens == 0.04
    assert p.api("rank-1").provider == "Acme"
    assert len(p.apis) == len(default_prices().apis) + 1
    result = CliRunner().invoke(app, ["catalog", "--prices", str(f)])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if "gpt-5-nano" in x)
    assert "older than 12 months" in line  # read 2024-01-01
    data = json.loads(CliRunner().invoke(app, ["catalog", "--prices", str(f), "-f", "json"]).output)
    assert {"gpus", "purchases", "offers", "apis"} <= set(data)
    flagged = [a for a in data["apis"] if a["model"] == "gpt-5-nano"]
    assert flagged[0]["flag"] == "older than 12 months"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("apis:\n  - {provider: Xy, model: m, kind: llm}\n", "apis.0.price_per_m_input_tokens"),
        ("purchases:\n  - {gpu: L4, purchase_price: 100}\n", "needs price_source"),
        ("offers:\n  - {gpu: L4, cloud: cc, region: r, term: monthly, price_per_hour: 1,"
         " price_source: abc, price_as_of: 2026-01-01}\n", "offers.0.term"),
    ],
)  # fmt: skip
def test_a_bad_user_file_is_one_clear_line(tmp_path: Path, text: str, message: str) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(XlcostError, match=message) as e:
        load_prices(f)
    assert str(e.value).startswith("bad.yaml: ") and "\n" not in str(e.value)
