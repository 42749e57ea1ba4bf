"""The vectorised paths of ``calc`` give what the cell-by-cell paths give.

* numbers: a CSV column (or a whole chunk) of plain numbers is converted by numpy in one call;
  any other cell sends it cell by cell through the spreadsheet rules — both give the same
  values and refuse the same cells;
* CSV output: a chunk whose text needs no quoting is joined directly; the lines are the ones
  :mod:`csv` writes.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from xlcost.report import result_writer
from xlcost.scenario_columns import ResultChunk, _numeric_column, calc_chunks

PLAIN = st.one_of(
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.floats(-1e6, 1e6, allow_nan=False).map(lambda f: f"{f:.3f}"),
    st.sampled_from(["0", "1e8", " 3 ", "0.25", "-0", "+7", "1_000"]),
)
SPREADSHEET = st.sampled_from(
    ["$1,200", "12%", "(5)", "€3", "1 000", "", "  ", "nan", "NaN", "abc", "1" * 101, "1.2.3"]
)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.one_of(PLAIN, PLAIN, SPREADSHEET), min_size=1, max_size=30))
def test_numeric_column_fast_equals_slow(cells: list[str]) -> None:
    fast, fast_bad = _numeric_column(
        "volume", np.array(cells, dtype=object), text_cells=True, decimal_comma=False
    )
    slow, slow_bad = _numeric_column("volume", cells, text_cells=False, decimal_comma=False)
    assert fast_bad.tolist() == slow_bad.tolist()
    assert np.array_equal(fast, slow, equal_nan=True)


HEADER = "name,train_gpus,train_hours,train_price_per_gpu_hour,volume,value_per_conversion"


def _outcome(path: Path) -> tuple[list[str], list[list[float]], list[str]]:
    chunks = list(calc_chunks(path, chunk_rows=4))
    names = [n for c in chunks for n in c.names]
    npv = [[float(v) for v in c.results["npv"]] for c in chunks]
    return names, npv, [p for c in chunks for p in c.problems]


@settings(max_examples=30, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(["8", "$8", "8.0", "nan", "-3", "x"]), min_size=1, max_size=9))
def test_chunk_fast_equals_per_column(tmp_path_factory: object, gpus: list[str]) -> None:
    """The same file with every cell plain (one numpy call a chunk) and with one spreadsheet
    number in each chunk (column by column) gives the same results and messages."""
    base = Path(tmp_path_factory.mktemp("chunks"))  # type: ignore[attr-defined]
    rows = [f"r{i},{g},100,2.5,1000,1" for i, g in enumerate(gpus)]
    plain, styled = base / "plain.csv", base / "styled.csv"
    plain.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    styled_rows = [
        r.replace(",1000,", ',"1,000",') if i % 4 == 0 else r for i, r in enumerate(rows)
    ]
    styled.write_text("\n".join([HEADER, *styled_rows]) + "\n", encoding="utf-8")
    a, b = _outcome(plain), _outcome(styled)
    assert a[0] == b[0] and a[2] == [p.replace("styled.csv", "plain.csv") for p in b[2]]
    assert all(
        len(x) == len(y) and all(math.isclose(p, q) for p, q in zip(x, y, strict=True))
        for x, y in zip(a[1], b[1], strict=True)
    )


def _chunk(names: list[str], notes: list[list[str]]) -> ResultChunk:
    n = len(names)
    values = {
        k: np.array([1.5 * i if i % 3 else math.nan for i in range(n)]) for k in ("npv", "roi")
    }
    values["payback_month"] = np.array([float(i) if i % 2 else math.nan for i in range(n)])
    return ResultChunk(names, values, warnings=notes)


TEXT = st.text(st.sampled_from(list("ab ,\"\r\n=-|'é")), max_size=6)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.tuples(TEXT, st.lists(TEXT, max_size=2)), max_size=6), st.booleans())
def test_csv_output_is_what_csv_writes(rows: list[tuple[str, list[str]]], protect: bool) -> None:
    keys = ("npv", "payback_month", "roi")
    out = io.StringIO()
    writer = result_writer("csv", out, keys, csv_protect=protect)
    chunk = _chunk([n for n, _ in rows], [w for _, w in rows])
    writer.write(chunk)
    writer.close()
    expected = io.StringIO()
    ref = csv.writer(expected, lineterminator="\n")
    ref.writerow(["name", *keys, "warnings"])
    for i, (name, notes) in enumerate(rows):
        cells = []
        for k in keys:
            v = float(chunk.results[k][i])
            cells.append("" if math.isnan(v) else str(int(v)) if k == "payback_month" else repr(v))
        lead = "'" if protect and name.startswith(("=", "+", "-", "@", "\t", "\r")) else ""
        note = " | ".join(notes)
        mark = "'" if protect and note.startswith(("=", "+", "-", "@", "\t", "\r")) else ""
        ref.writerow([lead + name, *cells, mark + note])
    assert out.getvalue() == expected.getvalue()


def test_short_row_is_blank_cells(tmp_path: Path) -> None:
    """A row with fewer values than the header: its missing cells are blanks, reported one
    line each like any missing input (was an internal error in the numpy path)."""
    path = tmp_path / "short.csv"
    path.write_text(
        "name,train_gpus,train_hours,train_price_per_gpu_hour,volume\na,8,100,2.5,1000\nb,8,100\n",
        encoding="utf-8",
    )
    problems = _outcome(path)[2]
    assert "short.csv row 3, volume: required" in problems
    assert not any("internal error" in p for p in problems)
