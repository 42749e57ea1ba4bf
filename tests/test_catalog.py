"""The hardware catalog: published anchor specs, sources and dates, overrides, clear errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from xlcost.engine import XlcostError, default_catalog, load_catalog

# The published anchor specs, written out.
ANCHORS = [
    ("A100-40GB", "peak_tflops", 312),
    ("A100-80GB", "peak_tflops", 312),
    ("H100", "peak_tflops", 989),
    ("A100-80GB", "memory_bandwidth_tbs", 2.0),
    ("H100", "memory_bandwidth_tbs", 3.35),
    ("H200", "memory_bandwidth_tbs", 4.8),
    ("H100", "price_per_hour", 3.78),
    ("A100-40GB", "price_per_hour", 1.48),
    ("T4", "price_per_hour", 0.59),
    ("A10G", "price_per_hour", 1.006),
]


@pytest.mark.parametrize(("gpu", "field", "value"), ANCHORS)
def test_spec_anchors(gpu: str, field: str, value: float) -> None:
    assert getattr(default_catalog().get(gpu), field) == value


def test_every_price_has_a_source_and_a_date() -> None:
    cat = default_catalog()
    assert {"T4", "L4", "A10G", "A100-40GB", "A100-80GB", "H100", "H200"} <= set(cat.names())
    for g in cat.gpus:
        assert len(g.price_source) > 10
        assert dt.date(2025, 1, 1) <= g.price_as_of <= dt.date(2026, 12, 31)


def test_lookup_is_case_insensitive_and_unknown_names_list_the_choices() -> None:
    assert default_catalog().get(" h100 ").name == "H100"
    with pytest.raises(KeyError, match="unknown GPU 'B300'; known: T4, L4"):
        default_catalog().get("B300")


def test_user_file_overrides_and_extends(tmp_path: Path) -> None:
    f = tmp_path / "prices.yaml"
    f.write_text(
        "gpus:\n"
        "  - {name: h100, memory_gb: 80, peak_tflops: 989, memory_bandwidth_tbs: 3.35,\n"
        "     price_per_hour: 2.5, price_source: our contract, price_as_of: 2026-11-01,\n"
        "     spec_source: datasheet}\n"
        "  - {name: B200, memory_gb: 192, peak_tflops: 2250, memory_bandwidth_tbs: 8,\n"
        "     price_per_hour: 6, price_source: quote, price_as_of: 2026-11-01,\n"
        "     spec_source: datasheet}\n"
    )
    cat = load_catalog(f)
    assert cat.get("H100").price_per_hour == 2.5
    assert cat.get("B200").peak_tflops == 2250
    assert len(cat.gpus) == len(default_catalog().gpus) + 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("gpus: [{name: X}]", "prices.yaml: gpus.0.memory_gb: Field required"),
        ("gpus: 3", "prices.yaml: gpus: Input should be a valid tuple"),
        (": :", "prices.yaml: not valid YAML"),
    ],
)
def test_bad_user_file_names_file_and_entry(tmp_path: Path, content: str, message: str) -> None:
    f = tmp_path / "prices.yaml"
    f.write_text(content)
    with pytest.raises(XlcostError, match=f"^{message}"):
        load_catalog(f)
