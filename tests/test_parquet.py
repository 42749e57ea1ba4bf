"""Parquet scenario lists in (every command that reads scenario files) and ``calc -f parquet``
out, through pyarrow (the optional ``parquet`` extra; the test extra installs it)."""

from __future__ import annotations

import builtins
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from xlcost.cli import load_commands
from xlcost.reading import Limits, ReadError, parquet_rows

ROOT = Path(__file__).resolve().parents[1]
CSV = ROOT / "examples" / "ranker_options.csv"
APP = load_commands()


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(APP, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def options(tmp_path: Path) -> Path:
    """The shipped comparison as Parquet, written by pyarrow from its CSV twin."""
    path = tmp_path / "options.parquet"
    pq.write_table(pacsv.read_csv(CSV), path)
    return path


@pytest.mark.parametrize("command", [["calc", "-f", "json"], ["compare", "-f", "json"]])
def test_a_parquet_list_gives_what_its_csv_twin_gives(options: Path, command: list[str]) -> None:
    code, from_parquet, err = run(*command, options)
    assert code == 0, err
    code, from_csv, err = run(*command, CSV)
    assert code == 0, err
    assert json.loads(from_parquet) == json.loads(from_csv)


def test_generate_reads_parquet(options: Path, tmp_path: Path) -> None:
    code, _, err = run("generate", options, "--out", tmp_path / "books")
    assert code == 0, err
    assert len(list((tmp_path / "books").glob("*.xlsx"))) == 3


def test_a_bad_row_is_one_line_naming_file_row_and_field(tmp_path: Path) -> None:
    table = pacsv.read_csv(CSV)
    ctr = table.column("ctr").to_pylist()
    ctr[1] = 1.5
    path = tmp_path / "bad.parquet"
    pq.write_table(
        table.set_column(table.schema.get_field_index("ctr"), "ctr", pa.array(ctr)), path
    )
    code, out, err = run("calc", path, "-f", "json")
    assert code == 1
    assert "xlcost: error: bad.parquet row 3, ctr: must be ≤ 1, got 1.5" in err
    assert len(json.loads(out)) == 2  # the other rows go on


def test_calc_writes_parquet_readable_by_pyarrow(options: Path, tmp_path: Path) -> None:
    out = tmp_path / "results.parquet"
    with out.open("wb") as fh:  # a file, as `> results.parquet` gives
        done = subprocess.run(
            [sys.executable, "-m", "xlcost", "calc", str(options), "-f", "parquet"],
            stdout=fh,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    assert done.returncode == 0, done.stderr
    got = pq.read_table(out).to_pylist()
    code, text, err = run("calc", options, "-f", "json")
    assert code == 0, err
    want = json.loads(text)
    assert [r["name"] for r in got] == [r["name"] for r in want]
    for g, w in zip(got, want, strict=True):
        for key, value in w.items():
            if key == "warnings":
                assert g[key] == " | ".join(value)
            elif key != "name":
                assert g[key] == pytest.approx(value) if value is not None else g[key] is None


def test_parquet_output_to_a_terminal_is_refused(options: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    from xlcost.cli.engine_cmds import _binary_output_ok
    from xlcost.engine.errors import XlcostError

    with pytest.raises(XlcostError, match=r"redirect it, e\.g\. > results\.parquet"):
        _binary_output_ok()


def test_without_pyarrow_a_clear_error(options: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = builtins.__import__

    def no_pyarrow(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("pyarrow"):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    with pytest.raises(ReadError, match=r"options.parquet: reading Parquet needs pyarrow: pip"):
        parquet_rows(options)
    code, _, err = run("calc", CSV, "-f", "parquet")
    assert code != 0
    assert "-f parquet needs pyarrow: pip install 'xlcost[parquet]'" in err


def _nested(path: Path) -> Path:
    pq.write_table(pa.table({"name": ["a"], "volume": [[1, 2]]}), path)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_bytes(b"PAR1 this is not parquet"), "not a readable Parquet file"),
        (_nested, "column 'volume' holds list<element: int64>; scenario columns hold numbers"),
        (lambda p: pq.write_table(pa.table({"volume": [1.0]}), p), "row 1: no 'name' column"),
    ],
)
def test_a_bad_parquet_file_is_one_line(tmp_path: Path, make: Any, message: str) -> None:
    path = tmp_path / "s.parquet"
    make(path)
    code, _, err = run("calc", path)
    assert code == 1
    assert "xlcost: error: s.parquet" in err and message in err, err
    assert "Traceback" not in err


def test_the_footer_is_checked_before_anything_is_decoded(options: Path) -> None:
    with pytest.raises(
        ReadError, match=r"expands to .* \(set XLCOST_MAX_PARQUET_MB to allow more\)"
    ):
        parquet_rows(options, Limits(parquet_uncompressed_bytes=100))
    with pytest.raises(ReadError, match="more than 2 rows"):
        parquet_rows(options, Limits(rows=2))
    long_name = r"options\.parquet row 2: a field longer than 5 characters"
    with pytest.raises(ReadError, match=long_name):
        list(parquet_rows(options, Limits(field_chars=5)).blocks)


def test_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "s.parquet"
    os.mkfifo(fifo)
    code, _, err = run("calc", fifo)
    assert code == 1
    assert "s.parquet: is a pipe (FIFO), not a regular file; refused" in err, err
