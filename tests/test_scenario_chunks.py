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
from strategies import WORKED_ROW as SEED

from xlcost.engine.evaluate import evaluate
from xlcost.scenario_columns import ResultChunk, calc_chunks, read_scenarios
from xlcost.scenario_files import Loaded, read_scenario_file

NUMBERS = st.one_of(
    st.sampled_from([32, 0, -3, 2.5, 1e400, 10**30, True, "32", "-3", "", "abc", "0.5%"]),
    st.sampled_from(["$5", " 7 ", "1e400", "nan", None, [1], {"low": 30, "high": 40}, "1_0"]),
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
    _assert_same(read_scenarios(path, chunk_rows=chunk_rows), want)
    if want.failed_file:
        return
    computed = list(calc_chunks(path, chunk_rows=chunk_rows))  # and calc says the same
    if not any("overflows" in p for c in computed for p in c.problems):  # (calc refuses that)
        _assert_calc_same(computed, want)


def _assert_calc_same(computed: list[ResultChunk], want: Loaded) -> None:
    """calc reports the model's problems and computes its good scenarios, in file order."""
    assert [p for c in computed for p in c.problems] == want.problems
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
    rows = [{**SEED, "name": f"n{i}"} for i in range(5)]
    path = _write(tmp_path / "s.csv", [*rows[:2], {**rows[2], "ctr": 2}, *rows[3:]])
    loaded = read_scenarios(path, max_rows=4)
    assert loaded.problems == [  # the rows up to the limit are reported first
        "s.csv row 4, ctr: must be ≤ 1, got 2",
        "s.csv: more than 4 scenarios; refused",
    ]
    assert loaded.failed_file and not loaded.scenarios
    _assert_same(loaded, read_scenario_file(path, max_rows=4))
    assert len(read_scenarios(path, max_rows=5).scenarios) == 4


def _parquet(path: Path, items: list[dict[str, Any]]) -> Path:
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = {k: [i[k] for i in items] for k in items[0]}
    table = pa.table(
        {
            k: pa.array([decimal.Decimal(str(x)) for x in v], pa.decimal128(5, 1))
            if k == "train_gpus"
            else v
            for k, v in columns.items()
        }
    )
    pq.write_table(table, path)
    return path


def _semicolons(path: Path, items: list[dict[str, Any]]) -> Path:
    """A CSV as a decimal-comma spreadsheet saves it: ';' between fields, ',' in numbers
    (text is written as it is)."""
    lines = [";".join(items[0])]
    lines += [
        ";".join(v if isinstance(v, str) else str(v).replace(".", ",") for v in item.values())
        for item in items
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _late_bad_line(path: Path, items: list[dict[str, Any]]) -> Path:
    """400 rows, row 2 out of its domain, row 352 with one value too many."""
    rows = [[str(v) for v in {**SEED, "name": f"n{i}"}.values()] for i in range(400)]
    rows[0][list(SEED).index("ctr")] = "2"
    rows[350].append("extra")
    buf = io.StringIO()
    csv.writer(buf).writerows([list(SEED), *rows])
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "items", "write"),
    [
        # 1_000 is a number to the model (Python's float reads it)
        ("u.csv", [SEED, {**SEED, "name": "u", "train_gpus": "1_000"}], _write),
        # 0.25 in a decimal-comma file: a number to the model
        ("dc.csv", [SEED, {**SEED, "name": "d", "cvr": "0.25"}], _semicolons),
        # a Parquet decimal column: numbers to the model
        ("dec.parquet", [{**SEED, "train_gpus": 32.5}], _parquet),
        # a lone surrogate (a JSON escape) is not text: the model refuses it
        ("s.json", [{**SEED, "name": "\ud800"}, SEED], _write),
        # a row past the first 256 that cannot be read: the rows before it are reported
        ("late.csv", [], _late_bad_line),
    ],
    ids=["underscores", "dot-decimal", "parquet-decimal", "surrogate", "late-bad-line"],
)
def test_the_model_has_the_last_word(
    name: str, items: list[dict[str, Any]], write: Any, tmp_path: Path
) -> None:
    """Cells the array checks leave to the model (found by a differential fuzz): the
    scenarios and messages are the model's, in calc too."""
    path = write(tmp_path / name, items)
    want = read_scenario_file(path)
    _assert_same(read_scenarios(path), want)
    if not want.failed_file:
        _assert_calc_same(list(calc_chunks(path)), want)


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
