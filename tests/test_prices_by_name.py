"""Prices looked up by name in the price catalog: a hosted API by ``api_model``, an owned GPU's
purchase price and board power by ``serve_gpu``, a reserved or spot rental by ``serve_term``;
in the engine, in files, through ``--catalog`` and from a workbook's Catalog sheet."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from xlcost.cli import load_commands
from xlcost.engine import Scenario, evaluate
from xlcost.engine.catalog import default_catalog, use_catalog
from xlcost.engine.checks import check_scenario
from xlcost.engine.errors import ScenarioErrors
from xlcost.engine.evaluate import evaluate_columns, used_inputs
from xlcost.engine.prices import Prices
from xlcost.workbooks import layout as L

APP = load_commands()
BASE: dict[str, Any] = {
    "name": "x",
    "horizon_months": 12,
    "train_gpus": 0,
    "train_hours": 0,
    "train_price_per_gpu_hour": 0,
    "serve_gpus": 2,
    "serve_hours": 1000,
    "maintain_units_per_month": 0,
    "maintain_price_per_unit": 0,
    "volume": 1e6,
    "ctr": 0.01,
    "cvr": 0.01,
    "value_per_conversion": 5,
}
PRICES = default_catalog().prices
L4 = PRICES.purchase("L4")  # $2,500, 0.072 kW (runlocalai.co; NVIDIA datasheet)
VOYAGE = PRICES.api("rerank-2.5-lite")  # $0.02 per M tokens (Voyage AI pricing)


def _scenario(**changes: Any) -> Scenario:
    """BASE with ``changes``; its serving price is 1 unless a named GPU gives it."""
    price = {} if "serve_gpu" in changes else {"serve_price_per_gpu_hour": 1.0}
    return Scenario(**BASE | price | changes)


def _used(**changes: Any) -> dict[str, float | None]:
    return used_inputs(_scenario(**changes))


# (changes, input, value in effect): the catalog fills a blank; a typed value wins; 0 else
CASES = [
    ({"api_model": "rerank-2.5-lite"}, "api_price_per_m_input_tokens", 0.02),
    ({"api_model": "RERANK-2.5-LITE"}, "api_price_per_m_output_tokens", 0.0),
    ({"api_model": "gpt-5-nano"}, "api_price_per_m_output_tokens", 0.4),
    ({"api_model": "gpt-5-nano", "api_price_per_m_input_tokens": 1},
     "api_price_per_m_input_tokens", 1.0),
    ({}, "api_price_per_m_input_tokens", 0.0),
    ({"serve_gpu": "L4", "own_gpus": 3}, "gpu_purchase_price", 2500.0),
    ({"serve_gpu": "L4", "own_gpus": 3}, "power_kw_per_gpu", 0.072),
    ({"serve_gpu": "L4", "gpu_purchase_price": 1800}, "gpu_purchase_price", 1800.0),
    ({"serve_gpu": "H100"}, "gpu_purchase_price", 0.0),  # listed for its power only
    ({"serve_gpu": "H100"}, "power_kw_per_gpu", 0.7),
    ({"serve_gpu": "A100-40GB"}, "power_kw_per_gpu", 0.0),  # no purchase entry at all
    ({"serve_gpu": "H100", "serve_term": "reserved_1y"}, "serve_price_per_gpu_hour", 2.35),
    ({"serve_gpu": "L4", "serve_term": "spot"}, "serve_price_per_gpu_hour", 0.2684),
    ({"serve_gpu": "L4"}, "serve_price_per_gpu_hour", 0.7992),  # on demand
    ({"serve_gpu": "L4", "serve_term": "spot", "serve_price_per_gpu_hour": 0.5},
     "serve_price_per_gpu_hour", 0.5),
]  # fmt: skip


@pytest.mark.parametrize(("changes", "name", "want"), CASES)
def test_prices_in_effect(changes: dict[str, Any], name: str, want: float) -> None:
    assert _used(**changes)[name] == pytest.approx(want, rel=1e-12)


def test_looked_up_prices_enter_the_cost_lines_by_hand() -> None:
    api = evaluate(_scenario(api_model="rerank-2.5-lite", api_input_tokens_per_request=6400))
    assert api.api_cost == pytest.approx(1e6 * 6400 * 0.02 / 1e6)  # requests × tokens × $/M
    own = evaluate(_scenario(serve_gpu="L4", own_gpus=3, electricity_price_per_kwh=0.1437))
    assert own.hardware_cost == pytest.approx(3 * 2500 * 12 / 36)  # 12 of 36 months, no salvage
    assert own.power_cost == pytest.approx(3 * 0.072 * 1.3 * 1000 * 0.1437)  # kW × PUE × h × $
    reserved = evaluate(_scenario(serve_gpu="H100", serve_term="reserved_1y"))
    assert reserved.deploy_cost == pytest.approx(2 * 1000 * 2.35)


BAD = [
    ({"api_model": "no-such-model"}, "api_model: unknown API model 'no-such-model'; known: gpt-5"),
    ({"api_model": "Voyage AI/rerank-2.5-lite"}, "api_model: unknown API model"),
    ({"serve_gpu": "T4", "serve_term": "spot"},
     "serve_term: no spot price for GPU 'T4' in the price catalog (it has none for this GPU)"),
    ({"serve_gpu": "H100", "serve_term": "spot"},
     "serve_term: no spot price for GPU 'H100' in the price catalog (it has reserved_1y)"),
]  # fmt: skip


@pytest.mark.parametrize(("changes", "message"), BAD)
def test_an_unknown_name_or_term_is_one_error(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ScenarioErrors) as e:
        evaluate(_scenario(**changes))
    assert message in str(e.value)


def test_a_bad_term_is_refused_by_the_model_and_the_array_path(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="serve_term"):
        _scenario(serve_gpu="L4", serve_term="monthly")
    path = tmp_path / "s.csv"
    row = BASE | {"serve_gpu": "L4", "serve_term": "monthly"}  # no price: the term gives it
    path.write_text(",".join(row) + "\n" + ",".join(str(v) for v in row.values()) + "\n")
    code, _, err = _cli("calc", path)
    assert code == 1
    assert "s.csv row 2, serve_term:" in err


def test_several_offers_give_their_mean_and_oldest_date() -> None:
    two = Prices.model_validate(
        {
            "offers": [
                {"gpu": "L4", "cloud": "Acme", "region": "x", "term": "reserved_3y",
                 "price_per_hour": 0.4, "price_source": "quote A", "price_as_of": "2026-10-01"},
                {"gpu": "L4", "cloud": "Bolt", "region": "x", "term": "reserved_3y",
                 "price_per_hour": 0.6, "price_source": "quote B", "price_as_of": "2026-09-01"},
            ]
        }
    )  # fmt: skip
    assert two.offer_price("l4", "reserved_3y") == (pytest.approx(0.5), dt.date(2026, 9, 1))
    with use_catalog(default_catalog().merged([], two)):
        got = _used(serve_gpu="L4", serve_term="reserved_3y")
    assert got["serve_price_per_gpu_hour"] == pytest.approx(0.5)


def test_a_stale_looked_up_price_is_a_warning_naming_it() -> None:
    old = VOYAGE.model_copy(update={"price_as_of": dt.date(2020, 1, 1)})
    with use_catalog(default_catalog().merged([], Prices(apis=(old,)))):
        found = check_scenario(_scenario(api_model="rerank-2.5-lite"))
        typed = check_scenario(
            _scenario(api_model="rerank-2.5-lite", api_price_per_m_input_tokens=0.02,
                      api_price_per_m_output_tokens=0)
        )  # fmt: skip
    assert any(
        "API prices 0.02 / 0 per M tokens from the price catalog (Voyage AI rerank-2.5-lite, "
        "as of 2020-01-01) is"
        in w
        and "more than 12 months" in w
        for w in found
    ), found
    assert not any("more than 12 months" in w for w in typed)


def _cli(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(APP, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def _total(stdout: str) -> float:
    return float(json.loads(stdout)[0]["total_cost"])


def test_catalog_option_prices_section_is_used(tmp_path: Path) -> None:
    scenario = BASE | {
        "api_model": "rerank-2.5-lite",
        "api_input_tokens_per_request": 6400,
        "serve_price_per_gpu_hour": 1.0,
    }
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"scenarios": [scenario]}), encoding="utf-8")
    mine = tmp_path / "mine.json"
    cheaper = VOYAGE.model_dump(mode="json") | {"price_per_m_input_tokens": 0.01}
    mine.write_text(json.dumps({"prices": {"apis": [cheaper]}}), encoding="utf-8")
    code, out, err = _cli("calc", path, "-f", "json")
    assert code == 0, err
    base_total = _total(out)
    code, out, err = _cli("calc", path, "-f", "json", "--catalog", mine)
    assert code == 0, err
    assert base_total - _total(out) == pytest.approx(1e6 * 6400 * 0.01 / 1e6)
    code, out, err = _cli("catalog", "-f", "json", "--catalog", mine)
    assert code == 0, err
    apis = {a["model"]: a for a in json.loads(out)["apis"]}
    assert apis["rerank-2.5-lite"]["price_per_m_input_tokens"] == 0.01


@pytest.fixture
def book(tmp_path: Path) -> Path:
    scenario = BASE | {
        "api_model": "rerank-2.5-lite",
        "api_input_tokens_per_request": 6400,
        "serve_gpu": "L4",
        "own_gpus": 3,
    }
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"scenarios": [scenario]}), encoding="utf-8")
    code, _, err = _cli("generate", path, "--out", tmp_path, "--mode", "portable")
    assert code == 0, err
    return tmp_path / "x.xlsx"


def _table_cell(book: Path, section: str, key: str, field: str) -> tuple[Any, str]:
    wb = openpyxl.load_workbook(book)
    ws = wb[L.CATALOG]
    dn = wb.defined_names[f"{section}_table"].attr_text
    first = int(dn.split("!")[1].split(":")[0].split("$")[2])
    key_col = next(iter(L.PRICE_TABLES[section].values()))[0]
    row = next(r for r in range(first, first + 50) if ws[f"{key_col}{r}"].value == key)
    return wb, f"{L.PRICE_TABLES[section][field][0]}{row}"


def test_calc_follows_an_edited_price_table(book: Path) -> None:
    code, out, err = _cli("calc", book, "-f", "json")
    assert code == 0, err
    before = json.loads(out)[0]
    wb, cell = _table_cell(book, "apis", "rerank-2.5-lite", "price_per_m_input_tokens")
    wb[L.CATALOG][cell] = 0.05
    wb2_cell = _table_cell(book, "purchases", "L4", "purchase_price")[1]
    wb[L.CATALOG][wb2_cell] = 3000
    wb.save(book)
    code, out, err = _cli("calc", book, "-f", "json")
    assert code == 0, err
    after = json.loads(out)[0]
    assert after["api_cost"] - before["api_cost"] == pytest.approx(1e6 * 6400 * 0.03 / 1e6)
    assert after["hardware_cost"] - before["hardware_cost"] == pytest.approx(3 * 500 * 12 / 36)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("purchase_price", -5, "purchase_price: must be > 0, got -5"),
        ("price_source", None, "gpu: purchase_price needs price_source and price_as_of"),
    ],
)
def test_a_bad_price_table_cell_is_one_line_naming_it(
    book: Path, field: str, value: Any, message: str
) -> None:
    wb, cell = _table_cell(book, "purchases", "L4", field)
    wb[L.CATALOG][cell] = value
    wb.save(book)
    code, _, err = _cli("calc", book)
    assert code == 1
    row = cell.lstrip("ABCDEFGH")
    where = cell if field != "price_source" else f"A{row}"
    assert f"x.xlsx Catalog!{where}, {message}" in err, err


@pytest.mark.parametrize(
    ("gpus", "ok"),
    [
        ({"serve_gpus": 0, "own_gpus": 0}, True),  # a hosted API option: no hours to serve
        ({"serve_gpus": 2}, False),
        ({"serve_gpus": 0, "own_gpus": 3}, False),  # owned GPUs draw power for serve_hours
        ({"serve_gpus": None, "peak_qps": 50, "qps_per_replica": 10}, False),  # sized
    ],
)
def test_serve_hours_may_be_blank_only_without_gpus(gpus: dict[str, Any], ok: bool) -> None:
    inputs = {k: v for k, v in BASE.items() if k != "serve_hours"} | gpus
    inputs |= {"serve_price_per_gpu_hour": 1.0, "api_model": "rerank-2.5-lite"}
    inputs |= {"api_input_tokens_per_request": 6400}
    columns = {k: v for k, v in inputs.items() if k != "name"}
    message = "serve_hours: required unless serve_gpus and own_gpus are both 0"
    if ok:
        r = evaluate(Scenario(**inputs))
        assert r.deploy_cost == pytest.approx(r.api_cost) and r.api_cost == pytest.approx(128)
        array = evaluate_columns({**columns, "api_model": ["rerank-2.5-lite"]})
        assert array["total_cost"][0] == pytest.approx(r.total_cost)
        return
    with pytest.raises(ValueError, match=message):
        Scenario(**inputs)
    with pytest.raises(ScenarioErrors, match=message):
        evaluate_columns(columns)
