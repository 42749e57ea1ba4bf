"""The scenarios shipped with xlcost: the worked example (BERT ranker) and a realistic comparison.

The files live in ``xlcost/data/examples/`` (YAML, with the source of every assumption) so the
same scenarios serve the CLI, the template workbook, the tests and the installer.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from xlcost.engine.model import Scenario

if TYPE_CHECKING:
    from xlcost.engine.risk import Ranges

__all__ = [
    "COMPARISON",
    "SEED",
    "example_path",
    "load_example",
    "load_example_ranges",
    "seed_scenario",
]

SEED = "seed_bert_ranker.yaml"
COMPARISON = "ranker_options.yaml"


def example_path(filename: str) -> Path:
    """Path of a shipped example file."""
    return Path(str(resources.files("xlcost") / "data" / "examples" / filename))


def load_example(filename: str) -> list[Scenario]:
    """The scenarios in a shipped example file (their input ranges: :func:`load_example_ranges`)."""
    return [s for s, _ in load_example_ranges(filename)]


def load_example_ranges(filename: str) -> list[tuple[Scenario, Ranges]]:
    """The scenarios in a shipped example file, each with the ranges of its inputs."""
    from xlcost.engine.risk import parse_ranges, split_ranges

    data = yaml.safe_load(example_path(filename).read_text(encoding="utf-8"))
    out = []
    for item in data["scenarios"]:
        inputs, raw = split_ranges(item)
        s = Scenario.model_validate(inputs)
        out.append((s, parse_ranges(raw, s, where=filename)))
    return out


def seed_scenario() -> Scenario:
    """The worked example (BERT ranker) of the cost-accounting method for AI models in
    e-commerce search and recommendation."""
    return load_example(SEED)[0]
