"""The shipped examples: the copies in examples/ match the package data; formats agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from xlcost.engine.examples import COMPARISON, SEED, example_path
from xlcost.scenario_files import load_scenarios

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", [SEED, COMPARISON])
def test_examples_folder_matches_package_data(name: str) -> None:
    assert (ROOT / "examples" / name).read_bytes() == example_path(name).read_bytes()


def test_csv_example_equals_yaml_example() -> None:
    assert load_scenarios(ROOT / "examples" / "ranker_options.csv") == load_scenarios(
        example_path(COMPARISON)
    )


def test_comparison_has_three_options_with_sources() -> None:
    text = example_path(COMPARISON).read_text(encoding="utf-8")
    assert len(load_scenarios(example_path(COMPARISON))) >= 3
    for source in ("catalog", "Devlin", "assumption"):
        assert source in text
