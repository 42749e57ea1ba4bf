"""Turn raw input rows into scenarios, with messages that name where each problem is.

``parse_scenario({"train_gpus": -3, ...}, where="scenarios.csv row 4")`` raises
:class:`ScenarioErrors` whose text is ``scenarios.csv row 4, train_gpus: must be ≥ 0, got -3``.
The same messages serve scenario files, workbooks (``where`` is then a cell address per field)
and the command line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from xlcost.engine.errors import InputError, ScenarioErrors
from xlcost.engine.model import INPUT_NAMES, Scenario

__all__ = ["describe", "parse_scenario"]


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
