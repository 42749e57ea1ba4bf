"""The xlcost engine: pure Python + numpy + pydantic. It imports neither xlwings nor openpyxl.

>>> from xlcost.engine import evaluate, seed_scenario
>>> evaluate(seed_scenario()).total_cost
590.0
"""

from xlcost.engine.allocate import cheapest_gpus, compare
from xlcost.engine.catalog import GPU, Catalog, default_catalog, load_catalog
from xlcost.engine.errors import InputError, ScenarioErrors, XlcostError
from xlcost.engine.evaluate import evaluate, evaluate_columns, schedule
from xlcost.engine.examples import load_example, seed_scenario
from xlcost.engine.model import INPUT_NAMES, RESULT_NAMES, CashFlowRow, Results, Scenario
from xlcost.engine.validate import parse_scenario

__all__ = [
    "GPU",
    "INPUT_NAMES",
    "RESULT_NAMES",
    "CashFlowRow",
    "Catalog",
    "InputError",
    "Results",
    "Scenario",
    "ScenarioErrors",
    "XlcostError",
    "cheapest_gpus",
    "compare",
    "default_catalog",
    "evaluate",
    "evaluate_columns",
    "load_catalog",
    "load_example",
    "parse_scenario",
    "schedule",
    "seed_scenario",
]
