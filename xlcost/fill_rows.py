"""How ``xlcost fill`` turns data rows into cell values for any workbook, the user's own too.

A template is any ``.xlsx``/``.xlsm`` with workbook-scoped defined names.  :func:`plan_fill`
looks at it once and decides:

* every data column whose name is a defined name (case-insensitively, as Excel matches names)
  is written to that cell, whether it is an xlcost input or not (``gpu`` → a drop-down cell);
* each xlcost input that is written is validated against its own domain, and the cross-input
  rules are checked only among the inputs the template has (a template of three training
  inputs is not asked for a horizon);
* results are computed and cached in the template's named result cells only when the template
  holds a whole scenario — a defined name for every required input, so its own values plus a
  row make a complete scenario, validated as one; otherwise :attr:`FillPlan.note` says once
  which results are not computed and why.

:func:`fill_row` applies the plan to one row; every problem is one line.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import ConfigDict, TypeAdapter, ValidationError

from xlcost.engine.catalog import Catalog
from xlcost.engine.errors import InputError, ScenarioErrors
from xlcost.engine.evaluate import evaluate
from xlcost.engine.model import (
    CROSS_RULES,
    INPUT_NAMES,
    NUMERIC_INPUTS,
    RESULT_NAMES,
    TEXT_INPUTS,
    CrossRule,
    Scenario,
)
from xlcost.engine.validate import describe, parse_scenario
from xlcost.workbooks.catalog_sheet import sheet_catalog
from xlcost.workbooks.cells import CellRef, Value
from xlcost.workbooks.opened import OpenWorkbook

__all__ = ["FillPlan", "fill_row", "numeric_text", "plan_fill", "rule_fields", "validate_input"]


def numeric_text(value: Any) -> Any:
    """Text that reads as a finite number becomes the number (as Excel opens a CSV).

    >>> numeric_text("16"), numeric_text("2.5"), numeric_text("A100"), numeric_text("nan")
    (16, 2.5, 'A100', 'nan')
    """
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        if math.isfinite(number):
            return int(number) if number.is_integer() and abs(number) < 1e15 else number
    return value


@cache
def _adapter(name: str) -> TypeAdapter[Any]:
    """A validator of one input alone: its type and domain, as the scenario model has them."""
    field = Scenario.model_fields[name]
    return TypeAdapter(
        Annotated[field.annotation, field],  # type: ignore[arg-type]
        config=ConfigDict(str_strip_whitespace=True),
    )


def validate_input(name: str, value: Any, where: str) -> Any:
    """One xlcost input validated on its own: the value to write (blank → its default).

    Raises
    ------
    InputError
        The value is outside the input's domain (or blank and the input has no default).

    Examples
    --------
    >>> validate_input("train_gpus", "16", "r.csv row 1"), validate_input("mfu", None, "x")
    (16.0, 0.4)
    >>> validate_input("train_gpus", -3, "r.csv row 1")
    Traceback (most recent call last):
    ...
    xlcost.engine.errors.InputError: r.csv row 1, train_gpus: must be ≥ 0, got -3
    """
    field = Scenario.model_fields[name]
    if value is None or value == "":
        if field.is_required():
            raise InputError(name, "required", where=where)
        return field.default
    try:
        return _adapter(name).validate_python(value)
    except ValidationError as e:
        err = e.errors()[0]
        got = value if not isinstance(value, str) else numeric_text(value)
        raise InputError(name, describe(err), got, where=where) from None


class _Recorder(dict[str, Any]):
    """Columns that remember which inputs a rule looks at (each a blank)."""

    def __missing__(self, key: str) -> Any:
        self[key] = np.array([math.nan])
        return self[key]


@cache
def rule_fields(rule: CrossRule) -> frozenset[str]:
    """The inputs a cross-input rule depends on.

    >>> sorted(rule_fields(next(r for r in CROSS_RULES if r.field == "maintain_months")))
    ['horizon_months', 'maintain_months']
    """
    seen = _Recorder()
    with np.errstate(invalid="ignore"):
        rule.bad(seen)
    return frozenset(seen)


@dataclass(frozen=True)
class FillPlan:
    """What :func:`fill_row` does with every row of one data file for one template."""

    template: Path
    columns: dict[str, CellRef]
    """Data column (as the data spells it) → the cell of its defined name."""
    inputs: dict[str, CellRef]
    """The xlcost inputs the template has a defined name for → their cells."""
    own: dict[str, Any]
    """The template's own values of those inputs (what a row does not give)."""
    results: dict[str, CellRef]
    """Named result cells holding formulas, whose cached values are set (whole scenario)."""
    missing: tuple[str, ...]
    """Required inputs the template has no defined name for (empty: a whole scenario)."""
    rules: tuple[CrossRule, ...]
    """The cross-input rules among the template's inputs (checked when not whole)."""
    named_results: frozenset[str]
    """The results the template has a defined name for (formula or not)."""
    from_csv: bool
    catalog: Catalog | None = None
    """The template's own Catalog sheet (what its formulas look GPUs up in), for the cached
    results; None: the catalog in use (``--catalog`` or the packaged one)."""

    @property
    def whole(self) -> bool:
        """True if the template holds a whole scenario (results are computed and cached)."""
        return not self.missing

    @property
    def cells(self) -> tuple[CellRef, ...]:
        """Every cell a fill may set: the columns' cells, then the result cells."""
        written = tuple(self.columns.values())
        return written + tuple(r for r in self.results.values() if r not in written)

    @property
    def note(self) -> str | None:
        """The one line saying which results are not computed and why, or None."""
        if self.whole or not (self.inputs.keys() - {"name"}):
            return None
        named = [k for k in RESULT_NAMES if k in self.named_results]
        which = ", ".join(named) if named else "results"
        missing = ", ".join(self.missing[:4]) + (", …" if len(self.missing) > 4 else "")
        return (
            f"{self.template.name}: {which} not computed (not a whole scenario: no defined "
            f"name for {missing}); Excel recalculates the outputs' formulas on open"
        )


def _own_values(book: OpenWorkbook, inputs: Mapping[str, CellRef]) -> dict[str, Any]:
    """The template's own input values (cached values of formulas)."""
    cells = book.read(inputs.values())
    return {k: cells[ref].value for k, ref in inputs.items()}


def _result_formulas(book: OpenWorkbook) -> dict[str, CellRef]:
    """The template's named result cells that hold formulas."""
    refs = book.names.among(RESULT_NAMES)
    cells = book.read(refs.values())
    return {k: ref for k, ref in refs.items() if cells[ref].formula is not None}


def plan_fill(book: OpenWorkbook, columns: Iterable[str], *, from_csv: bool) -> FillPlan:
    """Look at the template once: which columns go where, what is validated, what computed.

    ``columns`` are the data file's columns that have a defined name (the caller decides what
    to do with the others).
    """
    names = book.names
    used = names.among(columns)
    inputs = names.among(INPUT_NAMES)
    missing = tuple(
        n
        for n in INPUT_NAMES
        if Scenario.model_fields[n].is_required() and n not in inputs and n != "name"
    )
    whole = not missing
    results = _result_formulas(book) if whole else {}
    rules = tuple(r for r in CROSS_RULES if rule_fields(r) <= inputs.keys())
    named = frozenset(names.among(RESULT_NAMES))
    own = _own_values(book, inputs)
    catalog = sheet_catalog(book) if whole else None
    return FillPlan(book.path, used, inputs, own, results, missing, rules, named, from_csv, catalog)


def _canonical(column: str) -> str | None:
    """The xlcost input a data column names (case-insensitively), or None."""
    key = column.casefold()
    return next((n for n in INPUT_NAMES if n == key), None)


def fill_row(
    plan: FillPlan, record: Mapping[str, Any], where: str, label: str
) -> tuple[dict[CellRef, Value], dict[CellRef, Value]]:
    """The cell values (and cached results) of one data row (``label``: its scenario name,
    when the template has no cell for it).

    Returns
    -------
    tuple of dict
        The values to write (every column with a defined name) and, for a whole scenario,
        the named result cells' new cached values.

    Raises
    ------
    ScenarioErrors
        Invalid xlcost inputs; one problem per field, each naming the row (or the template's
        cell, for a template value that the row makes invalid).
    """
    row = {k: v for k, v in record.items() if k in plan.columns}
    if plan.from_csv:
        row = {k: v if _canonical(k) in TEXT_INPUTS else numeric_text(v) for k, v in row.items()}
    given = {n: row[k] for k in row if (n := _canonical(k)) is not None}
    if plan.whole:
        scenario = _whole_scenario(plan, {"name": label, **given}, where)
        checked = {n: getattr(scenario, n) for n in given if n in plan.inputs}
        cached = _cached_results(scenario, plan, where)
    else:
        checked = _checked_inputs(plan, given, where)
        cached = {}
    values: dict[CellRef, Value] = {}
    for column, value in row.items():
        name = _canonical(column)
        values[plan.columns[column]] = checked[name] if name is not None else value
    return values, cached


def _whole_scenario(plan: FillPlan, given: Mapping[str, Any], where: str) -> Scenario:
    """The row over the template's own values, validated as one scenario."""

    def locate(field: str) -> str:
        if field in given or field not in plan.inputs:
            return where
        return f"{plan.template.name} {plan.inputs[field]}"

    return parse_scenario({**plan.own, **given}, where=locate)


def _checked_inputs(plan: FillPlan, given: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Each given input against its own domain, then the rules among the template's inputs."""
    checked: dict[str, Any] = {}
    problems: list[InputError] = []
    for name, value in given.items():
        try:
            checked[name] = validate_input(name, value, where)
        except InputError as e:
            problems.append(e)
    if not problems:
        problems = _broken_rules(plan, checked, where)
    if problems:
        raise ScenarioErrors(problems)
    return checked


def _broken_rules(plan: FillPlan, checked: Mapping[str, Any], where: str) -> list[InputError]:
    """The cross-input rules (among the template's inputs) that the row breaks."""
    if not plan.rules:
        return []
    values = {**plan.own, **checked}
    cols = {k: np.array([_number(values.get(k))]) for k in NUMERIC_INPUTS}
    problems = []
    for rule in plan.rules:
        with np.errstate(invalid="ignore"):
            if bool(np.asarray(rule.bad(cols)).any()):
                got = values.get(rule.field)
                problems.append(InputError(rule.field, rule.reason, got, where=where))
    return problems


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _cached_results(scenario: Scenario, plan: FillPlan, where: str) -> dict[CellRef, Value]:
    """The engine's results as the result cells' cached values (a missing one is blank text);
    an unknown GPU name is a problem of the row ``where``."""
    try:
        computed = evaluate(scenario, plan.catalog)
    except ScenarioErrors as e:
        raise ScenarioErrors(
            [InputError(p.field, p.reason, p.value, where=p.where or where) for p in e.problems]
        ) from None
    written = set(plan.columns.values())
    out: dict[CellRef, Value] = {}
    for k, ref in plan.results.items():
        if ref in written:
            continue
        value = getattr(computed, k)
        out[ref] = "" if value is None else value
    return out
