"""Scenario lists from files: YAML, JSON, CSV and XLSX (one row or item per scenario).

Column headers and keys are the input names. Every problem names the file, the row
(CSV/XLSX, numbered as a spreadsheet shows them: the header is row 1) or the key path
(YAML/JSON, ``scenarios[2]``), and the field::

    scenarios.csv row 4, train_gpus: must be ≥ 0, got -3

Text cells such as ``"0.5%"`` are read as 0.005, as a finance user types them.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from xlcost.engine.errors import InputError, ScenarioErrors, XlcostError
from xlcost.engine.model import TEXT_INPUTS, Scenario
from xlcost.engine.risk import Ranges, parse_ranges, split_ranges
from xlcost.engine.validate import parse_scenario

__all__ = [
    "SCENARIO_SUFFIXES",
    "cell_value",
    "load_ranged_scenarios",
    "load_scenarios",
    "read_records",
]

SCENARIO_SUFFIXES = (".yaml", ".yml", ".json", ".csv", ".xlsx", ".xlsm")
_PERCENT = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*%\s*$")


def cell_value(value: Any, field: str) -> Any:
    """A raw cell value as the model expects it: ``"0.5%"`` → 0.005; blanks → ``None``."""
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return None
        m = _PERCENT.match(text)
        if m and field not in TEXT_INPUTS:
            return float(m.group(1)) / 100.0
        return text
    return value


def read_records(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``(location, record)`` for each scenario in ``path``, unvalidated.

    Raises :class:`XlcostError` naming the file when it cannot be read or has the wrong shape.
    """
    name = path.name
    suffix = path.suffix.lower()
    if suffix not in SCENARIO_SUFFIXES:
        raise XlcostError(f"{name}: unsupported file type; use {', '.join(SCENARIO_SUFFIXES)}")
    try:
        if suffix in (".csv",):
            yield from _csv_records(path)
            return
        if suffix in (".xlsx", ".xlsm"):
            from xlcost.workbooks.rows import read_table

            header, rows = read_table(path)
            yield from _table_records(name, header, rows)
            return
        text = path.read_text(encoding="utf-8-sig")
        data = json.loads(text) if suffix == ".json" else yaml.safe_load(text)
    except OSError as e:
        raise XlcostError(f"{name}: cannot read: {e.strerror or e}") from None
    except (json.JSONDecodeError, yaml.YAMLError) as e:
        raise XlcostError(
            f"{name}: not valid {suffix.lstrip('.').upper()}: {_first_line(e)}"
        ) from None
    except UnicodeDecodeError:
        raise XlcostError(f"{name}: not UTF-8 text") from None
    yield from _tree_records(name, data)


def _first_line(e: Exception) -> str:
    mark = getattr(e, "problem_mark", None)
    if isinstance(e, yaml.MarkedYAMLError) and e.problem and mark is not None:
        return f"{e.problem} (line {mark.line + 1}, column {mark.column + 1})"
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def _tree_records(name: str, data: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    items: Any
    prefix = ""
    if isinstance(data, Mapping) and "scenarios" in data:
        items, prefix = data["scenarios"], "scenarios"
    elif isinstance(data, Mapping):
        items = [data]
    else:
        items = data
    if not isinstance(items, list) or not items:
        raise XlcostError(f"{name}: expected a non-empty list of scenarios (or 'scenarios: [...]')")
    for i, item in enumerate(items):
        where = f"{name} {prefix}[{i}]"
        if not isinstance(item, Mapping):
            raise XlcostError(f"{where}: expected a mapping of input names to values")
        yield where, {str(k): cell_value(v, str(k)) for k, v in item.items()}


def _csv_records(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        try:
            rows = list(csv.reader(fh))
        except UnicodeDecodeError as e:
            raise XlcostError(
                f"{path.name}: not UTF-8 text (byte {e.start}); in Excel, save as 'CSV UTF-8'"
            ) from None
        except csv.Error as e:
            raise XlcostError(f"{path.name}: not a readable CSV file: {_first_line(e)}") from None
    if not rows:
        raise XlcostError(f"{path.name}: empty file")
    yield from _table_records(path.name, rows[0], rows[1:])


def _table_records(
    name: str, header: list[Any], rows: list[list[Any]]
) -> Iterator[tuple[str, dict[str, Any]]]:
    columns = [str(h).strip() if h is not None else "" for h in header]
    if "name" not in columns:
        raise XlcostError(f"{name} row 1: no 'name' column; the header row holds the input names")
    seen: set[str] = set()
    for c in columns:
        if c and c in seen:
            raise XlcostError(f"{name} row 1: column {c!r} appears twice")
        seen.add(c)
    count = 0
    for i, row in enumerate(rows, start=2):
        if all(v is None or str(v).strip() == "" for v in row):
            continue
        if len(row) > len(columns) and any(str(v).strip() for v in row[len(columns) :]):
            raise XlcostError(f"{name} row {i}: more values than header columns")
        record = {c: cell_value(v, c) for c, v in zip(columns, row, strict=False) if c}
        count += 1
        yield f"{name} row {i}", record
    if count == 0:
        raise XlcostError(f"{name}: no scenario rows under the header")


def load_scenarios(path: Path, *, ignore_unknown: bool = False) -> list[Scenario]:
    """Load and validate every scenario in ``path``.

    All problems in the file are collected and raised together as :class:`ScenarioErrors`
    (one line each), so a user fixes a file in one pass. Unknown columns are an error unless
    ``ignore_unknown``. Scenario names must be unique within a file. Input ranges
    (``NAME_low``/``NAME_high``/``NAME_dist``, ``{low, base, high}``) are checked and dropped;
    :func:`load_ranged_scenarios` keeps them.
    """
    return [s for s, _ in load_ranged_scenarios(path, ignore_unknown=ignore_unknown)]


def load_ranged_scenarios(
    path: Path, *, ignore_unknown: bool = False
) -> list[tuple[Scenario, Ranges]]:
    """:func:`load_scenarios`, each scenario with the ranges of its inputs."""
    scenarios: list[tuple[Scenario, Ranges]] = []
    problems: list[InputError] = []
    names: dict[str, str] = {}
    for where, raw_record in read_records(Path(path)):
        record, raw_ranges = split_ranges(raw_record)
        try:
            s = parse_scenario(record, where=where, ignore_unknown=ignore_unknown)
            ranges = parse_ranges(raw_ranges, s, where=where)
        except ScenarioErrors as e:
            problems.extend(e.problems)
            continue
        if s.name in names:
            problems.append(
                InputError("name", f"duplicate of {names[s.name]}", s.name, where=where)
            )
        names.setdefault(s.name, where)
        scenarios.append((s, ranges))
    if problems:
        raise ScenarioErrors(problems)
    return scenarios
