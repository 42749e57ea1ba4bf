"""A scenario CSV read column by column by pyarrow gives what :mod:`csv` gives.

``calc`` reads a comma-separated scenario file's plain pieces with pyarrow (when installed) and
everything else with :mod:`csv`. Each file below is computed both ways — with pyarrow and with
it hidden — and must give the same names, results, warnings, messages and errors; the table
also says which way each piece was read, so a case that should be fast cannot quietly fall back.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xlcost.csv_columns as csv_columns
from xlcost.csv_columns import ColumnBlock, _parsed, pyarrow_csv
from xlcost.reading import BLOCK_ROWS, ReadError
from xlcost.scenario_columns import _float_columns, calc_chunks
from xlcost.scenario_files import open_table

HEADER = (
    "name,horizon_months,train_gpus,train_hours,train_price_per_gpu_hour,serve_gpus,"
    "serve_hours,serve_price_per_gpu_hour,maintain_months,volume,ctr,cvr,value_per_conversion,"
    "discount_rate_annual,currency,maintain_units_per_month,maintain_price_per_unit"
)


def row(i: int, **change: str) -> str:
    values = {
        "name": f"option {i}",
        "horizon_months": "12",
        "train_gpus": str(8 + i % 57),
        "train_hours": "3.5",
        "train_price_per_gpu_hour": "2.25",
        "serve_gpus": "2",
        "serve_hours": "720",
        "serve_price_per_gpu_hour": "0.8",
        "maintain_months": "12",
        "volume": "1e8",
        "ctr": "0.02",
        "cvr": "0.01",
        "value_per_conversion": str(5 + i % 7),
        "discount_rate_annual": "0.1",
        "currency": "USD",
        "maintain_units_per_month": "10",
        "maintain_price_per_unit": "100",
    }
    values.update(change)
    return ",".join(values[k] for k in HEADER.split(","))


def lines(n: int, special: dict[int, str] | None = None) -> list[str]:
    """``n`` data rows; ``special`` replaces the text of some (by data row index)."""
    special = special or {}
    return [special.get(i, row(i)) for i in range(n)]


def text(rows: list[str], end: str = "\n", last: str = "\n") -> bytes:
    return (end.join([HEADER, *rows]) + last).encode("utf-8")


CASES: dict[str, tuple[bytes, str]] = {
    # name: (file bytes, how its blocks are read: "c" columns, "r" rows, one letter a block)
    "plain, three pieces": (text(lines(20_000)), "ccc"),
    "blank optional cells": (text(lines(50, {3: row(3, train_hours="", ctr="")})), "c"),
    "CRLF line ends": (text(lines(9_000), end="\r\n", last="\r\n"), "cc"),
    "no line end at the end": (text(lines(10), last=""), "c"),
    "BOM": (b"\xef\xbb\xbf" + text(lines(10)), "c"),
    "a quoted field later on": (
        text(lines(12_000, {9_000: row(9_000, name='"opt, 9000"'), 11_000: row(1, ctr="2")})),
        "cr",
    ),
    "an empty line": (text(lines(30, {5: ""})), "r"),
    "a fully blank row": (text(lines(30, {7: "," * 16})), "r"),
    "spaces around a number": (text(lines(30, {2: row(2, train_gpus=" 8 ")})), "c"),
    "nan, inf, 1e999": (
        text(lines(30, {1: row(1, ctr="nan"), 2: row(2, volume="inf"), 3: row(3, cvr="1e999")})),
        "r",
    ),
    "a number of 120 digits": (text(lines(30, {4: row(4, volume="1" * 120)})), "r"),
    "a short row and a long one": (
        text(lines(30, {1: row(1).rsplit(",", 1)[0], 2: row(2) + ",,"})),
        "r",
    ),
    "percent and currency cells": (
        text(lines(30, {1: row(1, ctr="2%"), 2: row(2, volume="$100")})),
        "r",
    ),
    "a value out of range": (text(lines(9_000, {8_500: row(8_500, ctr="2")})), "cc"),
    "a duplicate name in the next piece": (
        text(lines(9_000, {8_600: row(8_600, name="option 3")})),
        "cc",
    ),
    "a blank name": (text(lines(30, {6: row(6, name="  ")})), "r"),
    "control characters in a name": (text(lines(30, {6: row(6, name="a\x00b\x1bc")})), "c"),
    "NUL inside a number": (text(lines(30, {6: row(6, ctr="0.0\x002")})), "r"),
    "a tab before a number": (text(lines(30, {6: row(6, ctr="\t0.02")})), "c"),
    "a no-break space before a number": (text(lines(30, {6: row(6, ctr="\u00a00.02")})), "r"),
    "a long but plain number": (text(lines(30, {6: row(6, ctr="0." + "0" * 40 + "1")})), "c"),
    "a formula-looking name": (text(lines(30, {6: row(6, name="=1+1")})), "c"),
    "lone carriage returns": (text(lines(30), end="\r", last="\r"), "r"),
    "not UTF-8 in the second piece": (
        text(lines(9_000)).replace(b"option 8500,", b"option \xff8500,"),
        "cr",
    ),
    "a field of five megabytes": (text(lines(3, {1: row(1, name="x" * (5 << 20))})), "r"),
    "no rows": (text([]), ""),
}


def _hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_columns, "pyarrow_csv", lambda: None)


Outcome = tuple[list[str], dict[str, list[float]], list[str], list[list[str]], str]


def _outcome(path: Path, chunk_rows: int = 8_192) -> Outcome:
    names: list[str] = []
    results: dict[str, list[float]] = {}
    problems: list[str] = []
    warnings: list[list[str]] = []
    error = ""
    try:
        for c in calc_chunks(path, chunk_rows=chunk_rows):
            names += c.names
            for k, v in c.results.items():
                results.setdefault(k, []).extend(v.tolist())
            problems += c.problems
            warnings += c.warnings or []
    except ReadError as e:
        error = str(e)
    return names, results, problems, warnings, error


def _kinds(path: Path) -> str:
    try:
        blocks = list(open_table(path, floats=_float_columns, block_rows=BLOCK_ROWS).blocks)
    except ReadError:
        return "error"
    return "".join("c" if isinstance(b, ColumnBlock) else "r" for _, b in blocks if len(b))


def _same(a: Outcome, b: Outcome) -> bool:
    if a[0] != b[0] or a[2:] != b[2:] or a[1].keys() != b[1].keys():
        return False
    return all(np.array_equal(np.array(a[1][k]), np.array(b[1][k]), equal_nan=True) for k in a[1])


@pytest.mark.parametrize("case", list(CASES))
def test_pyarrow_and_csv_give_the_same(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, expected_kinds = CASES[case]
    path = tmp_path / "s.csv"
    path.write_bytes(data)
    fast = _outcome(path)
    kinds = _kinds(path)
    _hidden(monkeypatch)
    slow = _outcome(path)
    assert _same(fast, slow), (fast[2:], slow[2:])
    if expected_kinds and "error" not in kinds:
        # the header's block and the data blocks; "r" pieces may be several csv blocks
        assert re.sub("r+", "r", kinds) == expected_kinds
    assert fast[0] or fast[2] or fast[4]  # every case computes or says something


def test_chunks_smaller_than_a_piece(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A piece is cut into chunks (its rows and its text) when ``calc`` evaluates fewer rows
    at a time; a bad row's message still quotes its own text."""
    path = tmp_path / "s.csv"
    path.write_bytes(text(lines(5_000, {2_222: row(2_222, ctr="2"), 4_999: row(1)})))
    assert _kinds(path) == "c"
    fast = _outcome(path, chunk_rows=1_000)
    _hidden(monkeypatch)
    slow = _outcome(path, chunk_rows=1_000)
    assert _same(fast, slow)
    assert fast[2][0].startswith("s.csv row 2224, ctr:"), fast[2]
    assert "'option 1'" in fast[2][1] and "row 5001" in fast[2][1], fast[2]


def test_row_limit_is_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XLCOST_MAX_ROWS", "100")
    path = tmp_path / "s.csv"
    path.write_bytes(text(lines(150)))
    fast = _outcome(path)
    _hidden(monkeypatch)
    message = "s.csv: more than 100 rows (set XLCOST_MAX_ROWS to allow more)"
    assert fast[4] == _outcome(path)[4] == message


def test_other_files_are_read_by_csv(tmp_path: Path) -> None:
    """Semicolons (a decimal comma may follow), GPU names (the per-row path) and a quoted
    header are read by csv throughout."""
    cases: dict[str, Callable[[], bytes]] = {
        "semicolons": lambda: text(lines(10)).replace(b",", b";"),
        "GPU names": lambda: (HEADER + ",serve_gpu\n" + row(1) + ",L4\n").encode(),
        "quoted header": lambda: text(lines(10)).replace(b"name,", b'"name",', 1),
    }
    for case, make in cases.items():
        path = tmp_path / f"{case}.csv"
        path.write_bytes(make())
        assert set(_kinds(path)) == {"r"}, case


NUMBER_CHARS = st.text(alphabet="0123456789.eE+- \t", min_size=1, max_size=100)


@settings(max_examples=500, deadline=None, derandomize=True)
@given(st.lists(NUMBER_CHARS, min_size=1, max_size=20))
def test_pyarrow_reads_numbers_as_float_does(cells: list[str]) -> None:
    """Whatever pyarrow accepts as a finite number, Python's ``float`` reads the same
    (bit for bit); what it refuses sends the piece to csv, so it may refuse more."""
    piece = ("\n".join(f"{c},x" for c in cells) + "\n").encode()
    block = _parsed(pyarrow_csv(), piece, 2, [0], ",")
    if block is None:
        return
    for cell, value in zip(cells, block.floats(0).tolist(), strict=True):
        expected = float(cell)
        assert math.isfinite(expected)
        assert np.float64(value).tobytes() == np.float64(expected).tobytes(), cell


def test_pyarrow_is_the_installed_one() -> None:
    """CI installs pyarrow (the test extra), so the fast path is what these tests exercise."""
    assert pyarrow_csv() is not None and pa.__version__
