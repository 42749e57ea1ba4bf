"""The scenarios shipped with xlcost: the worked example (BERT ranker) and a realistic comparison.

The files live in ``xlcost/data/examples/`` (YAML, with the source of every assumption) so the
same scenarios serve the CLI, the template workbook, the tests and the installer.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml

from xlcost.engine.model import Scenario

__all__ = ["COMPARISON", "SEED", "example_path", "load_example", "seed_scenario"]

SEED = "seed_bert_ranker.yaml"
COMPARISON = "ranker_options.yaml"


def example_path(filename: str) -> Path:
    """Path of a shipped example file."""
    return Path(str(resources.files("xlcost") / "data" / "examples" / filename))


def load_example(filename: str) -> list[Scenario]:
    """The scenarios in a shipped example file."""
    data = yaml.safe_load(example_path(filename).read_text(encoding="utf-8"))
    return [Scenario.model_validate(item) for item in data["scenarios"]]


def seed_scenario() -> Scenario:
    """The worked example (BERT ranker) of the cost-accounting method for AI models in
    e-commerce search and recommendation."""
    return load_example(SEED)[0]
