"""Turn raw input rows into scenarios, with messages that name where each problem is.

``parse_scenario({"train_gpus": -3, ...}, where="scenarios.csv row 4")`` raises
:class:`ScenarioErrors` whose text is ``scenarios.csv row 4, train_gpus: must be ≥ 0, got -3``.
The same messages serve scenario files, workbooks (``where`` is then a cell address per field)
and the command line.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from xlcost.engine.errors import InputError, ScenarioErrors
from xlcost.engine.model import INPUT_NAMES, WHOLE_INPUTS, Scenario

__all__ = ["describe", "parse_scenario", "scenarios_from_columns"]


def _num(x: Any) -> Any:
    """A number as a user typed it: 0.0 → 0, "-3" → -3; anything else unchanged."""
    try:
        f = float(x)
    except (TypeError, ValueError):
        return x
    if isinstance(x, bool):
        return x
    return int(f) if f.is_integer() and abs(f) < 1e15 else f


def _limit(x: Any) -> str:
    """A bound as the array path prints it: 0, 600, 0.5, 1e+15."""
    return f"{float(x):g}"


_REASONS: dict[str, Callable[[dict[str, Any]], str]] = {
    "missing": lambda c: "required",
    "greater_than_equal": lambda c: f"must be ≥ {_limit(c['ge'])}",
    "greater_than": lambda c: f"must be > {_limit(c['gt'])}",
    "less_than_equal": lambda c: f"must be ≤ {_limit(c['le'])}",
    "less_than": lambda c: f"must be < {_limit(c['lt'])}",
    "finite_number": lambda c: "must be a finite number",
    "float_parsing": lambda c: "must be a number",
    "float_type": lambda c: "must be a number",
    "int_parsing": lambda c: "must be a whole number",
    "int_type": lambda c: "must be a whole number",
    "int_from_float": lambda c: "must be a whole number",
    "string_type": lambda c: "must be text",
    "string_too_short": lambda c: "must not be empty",
    "string_too_long": lambda c: f"must be at most {c['max_length']} characters",
    "string_pattern_mismatch": lambda c: "must be a 3-letter currency code such as USD",
    "extra_forbidden": lambda c: "not an xlcost input name",
}


def _problem(err: ErrorDetails, where: Callable[[str], str | None]) -> InputError:
    field = str(err["loc"][0]) if err["loc"] else ""
    ctx = dict(err.get("ctx") or {})
    if not field and err["type"] == "value_error":
        # A cross-input rule: its message is "field: reason[, got value]".
        text = str(ctx.get("error", err["msg"]))
        field, _, reason = text.partition(": ")
        return InputError(field, reason, where=where(field))
    value = None if err["type"] == "missing" else _num(err.get("input"))
    return InputError(field, describe(err), value, where=where(field))


def describe(err: ErrorDetails) -> str:
    """The reason in a pydantic error, in xlcost's words: ``"must be ≥ 0"``, ``"required"``…"""
    if err["type"] == "missing" or (err["type"] == "float_type" and err.get("input") is None):
        return "required"
    explain = _REASONS.get(err["type"])
    return explain(dict(err.get("ctx") or {})) if explain else err["msg"].lower()


def parse_scenario(
    data: Mapping[str, Any],
    *,
    where: str | Callable[[str], str | None] | None = None,
    ignore_unknown: bool = False,
) -> Scenario:
    """Validate one row of inputs into a :class:`Scenario`.

    Parameters
    ----------
    data
        Input name → value; ``None`` and ``""`` are blanks (the default applies).
    where
        Where the row came from: a fixed prefix (``"scenarios.csv row 4"``) or a function from
        field name to location (``"q3.xlsx Inputs!C7"``), used in every message.
    ignore_unknown
        Drop keys that are not input names instead of reporting them.

    Examples
    --------
    >>> parse_scenario({"name": "x", "train_gpus": -3}, where="scenarios.csv row 4")
    Traceback (most recent call last):
    ...
    xlcost.engine.errors.ScenarioErrors: scenarios.csv row 4, horizon_months: required; ...
    """

    def fixed(_field: str) -> str | None:
        return where if isinstance(where, str) else None

    locate: Callable[[str], str | None] = where if callable(where) else fixed
    if ignore_unknown:
        data = {k: v for k, v in data.items() if k in INPUT_NAMES}
    try:
        return Scenario.model_validate(dict(data))
    except ValidationError as e:
        raise ScenarioErrors([_problem(err, locate) for err in e.errors()]) from None


def scenarios_from_columns(
    cols: Mapping[str, NDArray[np.float64]],
    texts: Mapping[str, Sequence[str | None]],
    rows: Sequence[int],
) -> list[Scenario]:
    """The ``rows`` of columns that have passed the checks, as scenarios, without validating
    each one again.

    Each scenario equals, field by field and type by type, the one :func:`parse_scenario`
    makes of the same row: a whole-number input is an ``int``, every other number a
    ``float``; a blank (``nan``, or ``None`` text) takes the field's default.

    Parameters
    ----------
    cols
        Numeric input → float column, every input's blanks already filled with its default
        (``nan`` where the default is blank), every row of ``rows`` passed by
        :func:`~xlcost.engine.evaluate.validate_columns`.
    texts
        Text input → stripped values (``None``: blank), rows checked against the field.
    rows
        The rows to make scenarios of.

    Examples
    --------
    >>> from xlcost.engine.examples import seed_scenario
    >>> s = seed_scenario()
    >>> cols = {k: np.array([v]) for k, v in s.raw_columns().items()}
    >>> scenarios_from_columns(cols, {"name": [s.name]}, [0]) == [s]
    True
    """
    fields = Scenario.model_fields
    values: dict[str, list[Any]] = {}
    for k, col in cols.items():
        column = col[np.asarray(rows, dtype=np.intp)].tolist()
        blank = fields[k].default
        cast = int if k in WHOLE_INPUTS else float
        values[k] = [blank if math.isnan(v) else cast(v) for v in column]
    for k, given in texts.items():
        blank = fields[k].default
        values[k] = [blank if (v := given[i]) is None else v for i in rows]
    keys = list(values)
    return [
        Scenario.model_construct(**dict(zip(keys, row, strict=True)))
        for row in zip(*values.values(), strict=True)
    ]
