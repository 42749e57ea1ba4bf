"""Scenario files validated a chunk at a time by the array checks give what the pydantic
model gives row by row: the same scenarios (field by field, type by type), ranges, locations
and messages.

The reference is :func:`xlcost.scenario_files.read_scenario_file`, which validates each row
with the pydantic model; ``compare``, ``risk``, ``sensitivity`` and ``generate`` read through
:func:`xlcost.scenario_columns.scenario_chunks`.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlcost.engine.evaluate import evaluate
from xlcost.scenario_columns import calc_chunks, read_scenarios, scenario_chunks
from xlcost.scenario_files import Loaded, read_scenario_file

SEED: dict[str, Any] = {
    "name": "seed",
    "horizon_months": 2,
    "train_gpus": 32,
    "train_hours": 3,
    "train_price_per_gpu_hour": 5,
    "serve_gpus": 1,
    "serve_hours": 100,
    "serve_price_per_gpu_hour": 0.1,
    "maintain_units_per_month": 100,
    "maintain_price_per_unit": 0.5,
    "volume": 100_000_000,
    "ctr": 0.005,
    "cvr": 0.003,
    "value_per_conversion": 0.1,
}
"""The worked example of the cost-accounting method (total cost 590)."""

NUMBERS = st.one_of(
    st.sampled_from([32, 0, -3, 2.5, 1e400, 10**30, True, "32", "-3", "", "abc", "0.5%"]),
    st.sampled_from(["$5", " 7 ", "1e400", "nan", None, [1], {"low": 30, "high": 40}]),
    st.sampled_from([{"base": 32, "high": 40}, {"low": 40}, {"low": "x"}, {"mid": 1}]),
    st.floats(allow_nan=False, allow_infinity=False),
)
CHANGES = st.fixed_dictionaries(
    {},
    optional={
        "name": st.sampled_from(["a", "b", " a ", "", None, 5, "x" * 121, "seed"]),
        "currency": st.sampled_from(["USD", " eur ", "EURO", "", None, 3, "US1"]),
        "horizon_months": st.sampled_from([2, 2.0, 2.5, "2", 0, -1, True, None, "x"]),
        "maintain_months": st.sampled_from(["", 1, 3, 1.5, None, 1.0]),
        "train_gpus": NUMBERS,
        "ctr": NUMBERS,
        "mfu": NUMBERS,
        "volume": NUMBERS,
        "train_gpu": st.sampled_from(["H100", "", None]),
    },
)
DROP = st.sets(st.sampled_from(["train_hours", "ctr", "currency", "name"]), max_size=2)


def _items(rows: list[tuple[dict[str, Any], set[str]]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in {**SEED, **c}.items() if k not in drop} for c, drop in rows]


def _write(path: Path, items: list[dict[str, Any]]) -> Path:
    if path.suffix == ".csv":
        header = list(dict.fromkeys(k for item in items for k in item))
        buf = io.StringIO()
        out = csv.writer(buf)
        out.writerow(header)
        out.writerows(["" if (v := i.get(k)) is None else str(v) for k in header] for i in items)
        path.write_text(buf.getvalue(), encoding="utf-8")
    elif path.suffix == ".json":
        path.write_text(json.dumps(items, default=str), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(items), encoding="utf-8")
    return path


def _typed(loaded: Loaded) -> list[list[tuple[str, type, Any]]]:
    """Each scenario's fields with the types of their values (``1 == 1.0`` hides a type)."""
    return [[(k, type(v), v) for k, v in s.__dict__.items()] for s in loaded.scenarios]


def _assert_same(got: Loaded, want: Loaded) -> None:
    assert got.problems == want.problems
    assert (got.bad_rows, got.failed_file) == (want.bad_rows, want.failed_file)
    assert got.wheres == want.wheres
    assert _typed(got) == _typed(want)
    assert got.ranges == want.ranges


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(CHANGES, DROP), min_size=1, max_size=7),
    st.sampled_from([".csv", ".json", ".yaml"]),
    st.integers(1, 4),
)
def test_the_array_checks_make_what_the_model_makes(
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[tuple[dict[str, Any], set[str]]],
    suffix: str,
    chunk_rows: int,
) -> None:
    path = _write(tmp_path_factory.mktemp("same") / f"s{suffix}", _items(rows))
    want = read_scenario_file(path)
    _assert_same(read_scenarios(path), want)
    got = Loaded(path.name)
    try:
        for chunk in scenario_chunks(path, chunk_rows=chunk_rows):
            got.scenarios += chunk.scenarios
            got.ranges += chunk.ranges
            got.wheres += chunk.wheres
            got.problems += chunk.problems
            got.bad_rows += len(chunk.bad)
    except Exception:
        assert want.failed_file
        return
    _assert_same(got, want)
    computed = list(calc_chunks(path, chunk_rows=chunk_rows))  # and calc says the same
    problems = [p for c in computed for p in c.problems]
    if not any("overflows" in p for p in problems):  # calc also refuses an infinite result
        assert problems == want.problems
        assert [n for c in computed for n in c.names] == [s.name for s in want.scenarios]


@pytest.mark.parametrize(
    ("items", "problems"),
    [
        ([{**SEED, "ctr": {"low": 0.004, "base": 0.005, "high": 0.006}}], []),
        (
            [SEED, {**SEED, "name": "r", "ctr": {"low": 0.006, "base": 0.005}}],
            ["s.yaml [1], ctr_low: must be ≤ ctr (0.005), got 0.006"],
        ),
    ],
    ids=["a range", "a bad range"],
)
def test_calc_takes_an_input_given_as_a_range_in_yaml(
    items: list[dict[str, Any]], problems: list[str], tmp_path: Path
) -> None:
    """``ctr: {low, base, high}`` is the base value to calc (it was refused as 'inputs
    outside their domain together')."""
    path = _write(tmp_path / "s.yaml", items)
    chunks = list(calc_chunks(path))
    assert [p for c in chunks for p in c.problems] == problems
    assert [r.total_cost for c in chunks for r in c.records()] == [590.0]


def test_max_rows_refuses_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "s.csv", [{**SEED, "name": f"n{i}"} for i in range(5)])
    loaded = read_scenarios(path, max_rows=4)
    assert loaded.failed_file and loaded.problems == ["s.csv: more than 4 scenarios; refused"]
    assert not loaded.scenarios
    assert len(read_scenarios(path, max_rows=5).scenarios) == 5


def test_scenarios_made_from_columns_compute_as_the_model_s(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "s.csv", [{**SEED, "name": f"n{i}", "train_gpus": i} for i in range(3)]
    )
    got = read_scenarios(path).scenarios
    assert [evaluate(s).train_cost for s in got] == [0.0, 15.0, 30.0]  # gpus × 3 h × $5


def test_calc_refuses_a_list_without_names(tmp_path: Path) -> None:
    """No item has a name: each is a bad row, as for the model (calc computed them unnamed)."""
    path = _write(tmp_path / "s.json", [{k: v for k, v in SEED.items() if k != "name"}] * 2)
    chunks = list(calc_chunks(path))
    assert [p for c in chunks for p in c.problems] == [
        "s.json [0], name: required",
        "s.json [1], name: required",
    ]
    assert sum(len(c) for c in chunks) == 0


def test_a_chunk_of_repeated_names_only(tmp_path: Path) -> None:
    """The second chunk holds only names seen in the first (it broke the name index)."""
    names = ["a", "b", "a", "b", "c", "a"]
    path = _write(tmp_path / "s.csv", [{**SEED, "name": n} for n in names])
    chunks = list(calc_chunks(path, chunk_rows=2))
    assert [n for c in chunks for n in c.names] == ["a", "b", "c"]
    assert [p for c in chunks for p in c.problems] == [
        f"s.csv row {r}, name: duplicate of s.csv row {f}, got '{n}'"
        for r, f, n in [(4, 2, "a"), (5, 3, "b"), (7, 2, "a")]
    ]
