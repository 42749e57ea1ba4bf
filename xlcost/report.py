"""Results as text: aligned tables for people, CSV and JSON for programs.

JSON is a list with one object per scenario: ``name`` and the result names, ``null`` where a
result does not exist. CSV has the same columns. Output is deterministic.

Output hygiene: text that came from a file (scenario names) is never printed raw to a
terminal — control characters such as a newline or an ANSI/OSC escape are shown escaped
(:func:`printable`); in CSV output a name starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return gets a leading ``'`` so a spreadsheet does not run it as a formula (OWASP's
CSV-injection advice; :func:`csv_text`, switched off with ``--csv-raw``).
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from xlcost.engine.model import RESULT_NAMES, Results

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from xlcost.scenario_columns import ResultChunk

__all__ = [
    "DEFAULT_COLUMNS",
    "FORMATS",
    "ResultWriter",
    "compact",
    "csv_text",
    "printable",
    "render",
    "result_cell",
    "result_rows",
    "result_writer",
    "table",
]

FORMATS = ("table", "csv", "json")
_PERCENT = {"roi", "irr"}
DEFAULT_COLUMNS: tuple[str, ...] = ("total_cost", "benefit", "npv", "roi", "irr", "payback_month")
"""The results a table shows unless the user picks others (``--columns``); CSV and JSON have
every result."""
COMPACT_FROM = 1e15
"""Numbers this large (in absolute value) are shown in scientific notation: ``1.2e+308``."""
NAME_WIDTH = 40
"""Longer scenario names are cut (with "…") in tables, so that many rows stay readable."""


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """``text`` safe to print on a terminal: control and bidi/format characters escaped.

    A newline cannot forge a second message line and an ANSI/OSC escape sequence cannot
    recolour or retitle the terminal.

    >>> printable("a\\nxlcost: calc: 9 scenarios OK"), printable("\\x1b[31mred\\x1b[0m")
    ('a\\\\nxlcost: calc: 9 scenarios OK', '\\\\x1b[31mred\\\\x1b[0m')
    """
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch.isprintable() or ch == " ":
            out.append(ch)
        elif ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif unicodedata.category(ch) in ("Zs",):
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    return "".join(out)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(text: str, *, protect: bool = True) -> str:
    """A text field for CSV output: with ``protect``, a leading ``'`` if a spreadsheet would
    read it as a formula (starts with ``=``, ``+``, ``-``, ``@``, tab or carriage return).

    >>> csv_text("=HYPERLINK(1)"), csv_text("-x"), csv_text("BERT"), csv_text("=1", protect=False)
    ("'=HYPERLINK(1)", "'-x", 'BERT', '=1')
    """
    return "'" + text if protect and text.startswith(_FORMULA_START) else text


def _records(
    results: Sequence[Results], warnings: Sequence[Sequence[str]] | None = None
) -> list[dict[str, Any]]:
    records = [r.model_dump(include={"name", *RESULT_NAMES}) for r in results]
    if warnings is not None:
        for record, found in zip(records, warnings, strict=True):
            record["warnings"] = list(found)
    return records


def compact(value: float, spec: str = ",.2f") -> str:
    """``value`` formatted with ``spec``, or compactly when it is beyond a sane range.

    >>> compact(1234.5), compact(1.2e308), compact(-3e15, ",.4f"), compact(float("inf"))
    ('1,234.50', '1.2e+308', '-3e+15', 'inf')
    """
    if not abs(value) < COMPACT_FROM:
        return f"{value:.3g}"
    return format(value, spec)


def result_cell(key: str, value: Any) -> str:
    """One result as a table shows it: money with 2 decimals, ROI and IRR in %, "—" for none.

    >>> result_cell("roi", -0.7458), result_cell("npv", -440.0), result_cell("irr", None)
    ('-74.6%', '-440.00', '—')
    """
    if value is None:
        return "—"
    if key == "irr" and value > 10:
        # An IRR of 10^30 % (paid back within a month) is true but meaningless to a reader.
        return "> 1,000%"
    if key in _PERCENT:
        return compact(value * 100, ".1f") + "%"
    if key == "bcr":
        return compact(value, ".3f")
    if key == "payback_month":
        return str(value)
    if key == "cost_per_1k":
        return compact(value, ",.4f")
    return compact(value)


def name_cell(name: str) -> str:
    """A scenario name for a table, cut to :data:`NAME_WIDTH` characters."""
    return name if len(name) <= NAME_WIDTH else name[: NAME_WIDTH - 1] + "…"


def result_rows(
    results: Sequence[Results], columns: Sequence[str] = DEFAULT_COLUMNS
) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a results table: one row per scenario, its name then ``columns``."""
    header = ["name", *columns]
    rows = [
        [name_cell(printable(r.name)), *(result_cell(k, getattr(r, k)) for k in columns)]
        for r in results
    ]
    return header, rows


def table(rows: Sequence[Sequence[str]], header: Sequence[str], *, left: int = 1) -> str:
    """Plain aligned text table: the first ``left`` columns left-aligned, the others right."""
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    lines = []
    for i, row in enumerate([header, *rows]):
        cells = [
            str(c).ljust(w) if j < left else str(c).rjust(w)
            for j, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render(
    results: Sequence[Results],
    fmt: str,
    columns: Sequence[str] | None = None,
    *,
    csv_protect: bool = True,
    warnings: Sequence[Sequence[str]] | None = None,
) -> str:
    """``results`` as ``fmt`` ("table", "csv" or "json"), ending without a newline.

    ``columns`` picks the results shown (default: every result in CSV and JSON,
    :data:`DEFAULT_COLUMNS` in a table, one row per scenario). In CSV, names that a
    spreadsheet would run as formulas get a leading ``'`` unless not ``csv_protect``.
    ``warnings`` (one list per result, :mod:`xlcost.engine.checks`) adds a ``warnings``
    field to JSON (a list) and CSV (the messages joined by " | "); a table shows none.
    """
    records = _records(results, warnings)
    extra = ("warnings",) if warnings is not None else ()
    if columns is not None and fmt != "table":
        records = [{k: r[k] for k in ("name", *columns, *extra)} for r in records]
    if fmt == "json":
        return json.dumps(records, indent=2, ensure_ascii=False)
    if fmt == "csv":
        buf = io.StringIO()
        fields = ["name", *(RESULT_NAMES if columns is None else columns), *extra]
        writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(
            {
                k: (
                    ""
                    if v is None
                    else csv_text(v, protect=csv_protect)
                    if k == "name"
                    else csv_text(" | ".join(v), protect=csv_protect)
                    if k == "warnings"
                    else v
                )
                for k, v in r.items()
            }
            for r in records
        )
        return buf.getvalue().rstrip("\n")
    if fmt == "table":
        header, rows = result_rows(results, columns or DEFAULT_COLUMNS)
        return table(rows, header)
    raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")


# --------------------------------------------------------------------------- streamed output


class ResultWriter:
    """Results written as they are computed, chunk by chunk (:meth:`write`), then
    :meth:`close`; CSV and JSON are streamed, a table is laid out at the end."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.count = 0

    def write(self, chunk: ResultChunk) -> None:
        """Write the rows of one chunk."""
        raise NotImplementedError

    def close(self) -> None:
        """Finish the output (a table is printed here)."""


def _number(value: float) -> str:
    """A result as CSV/JSON text: ``repr`` of the float, as :func:`render` writes it."""
    return repr(value)


def _reprs(arr: NDArray[np.float64]) -> list[str]:
    """``repr`` of each value of a float array; a column with few distinct values (a cost that
    a sweep does not change) formats each distinct value once.

    Judged on the first 1,000 values: formatting costs about five times a dictionary look-up,
    and counting the distinct values of a column where each differs wastes two thirds of a
    plain pass. Values are told apart by their bits (``0.0`` and ``-0.0`` differ).

    >>> _reprs(np.array([1.0, -0.0, 1.0, 0.0, float("nan")]))
    ['1.0', '-0.0', '1.0', '0.0', 'nan']
    """
    bits = np.ascontiguousarray(arr, dtype=np.float64).view(np.int64).tolist()
    if len(set(bits[:1000])) * 2 > min(len(bits), 1000):
        return list(map(repr, arr.tolist()))
    distinct = list(dict.fromkeys(bits))
    values = np.array(distinct, dtype=np.int64).view(np.float64).tolist()
    texts = dict(zip(distinct, map(repr, values), strict=True))
    return list(map(texts.__getitem__, bits))


def _columns(chunk: ResultChunk, keys: Sequence[str], missing: str) -> list[list[str]]:
    """The chunk's result columns ``keys`` as text (``missing`` where a result does not
    exist)."""
    out: list[list[str]] = []
    for k in keys:
        arr = chunk.results[k]
        finite = np.isfinite(arr)
        if k == "payback_month":
            text = list(map(str, np.where(finite, arr, 0).astype(np.int64).tolist()))
        else:
            text = _reprs(arr)
        if not finite.all():
            for i in np.flatnonzero(~finite).tolist():
                text[i] = missing
        out.append(text)
    return out


_CSV_SPECIAL = re.compile(r'[,"\r\n]')
"""Characters that make :mod:`csv` quote a field (the writer's delimiter, quote and line
ends); numbers never have them."""


class _CsvWriter(ResultWriter):
    def __init__(self, stream: TextIO, protect: bool, keys: Sequence[str]) -> None:
        super().__init__(stream)
        self.protect = protect
        self.keys = keys
        self.writer = csv.writer(stream, lineterminator="\n")
        self.writer.writerow(["name", *keys, "warnings"])

    def write(self, chunk: ResultChunk) -> None:
        names = [csv_text(n, protect=self.protect) for n in chunk.names]
        cols = _columns(chunk, self.keys, "")
        found = chunk.warnings or [[] for _ in names]
        notes = [csv_text(" | ".join(w), protect=self.protect) for w in found]
        rows = zip(names, *cols, notes, strict=True)
        if _CSV_SPECIAL.search("".join(names)) or _CSV_SPECIAL.search("".join(notes)):
            self.writer.writerows(rows)
        elif names:  # no field needs quoting: the lines csv.writer would write, joined in C
            self.stream.write("\n".join(map(",".join, rows)) + "\n")
        self.count += len(names)


def _json_list(items: Sequence[str]) -> str:
    """A list of strings as :func:`json.dumps` with ``indent=2`` writes it inside an object."""
    if not items:
        return "[]"
    inner = ",\n".join(f"      {json.dumps(x, ensure_ascii=False)}" for x in items)
    return "[\n" + inner + "\n    ]"


class _JsonWriter(ResultWriter):
    """One JSON document (a list), written object by object, formatted as ``indent=2``."""

    def __init__(self, stream: TextIO, keys: Sequence[str]) -> None:
        super().__init__(stream)
        self.keys = keys

    def write(self, chunk: ResultChunk) -> None:
        cols = _columns(chunk, self.keys, "null")
        keys = [f'    "{k}": ' for k in self.keys]
        parts = []
        found = chunk.warnings or [[] for _ in chunk.names]
        for name, notes, *row in zip(chunk.names, found, *cols, strict=True):
            fields = [f'    "name": {json.dumps(name, ensure_ascii=False)}']
            fields += [k + v for k, v in zip(keys, row, strict=True)]
            fields.append('    "warnings": ' + _json_list(notes))
            parts.append("  {\n" + ",\n".join(fields) + "\n  }")
        if not parts:
            return
        self.stream.write(("[\n" if self.count == 0 else ",\n") + ",\n".join(parts))
        self.count += len(parts)

    def close(self) -> None:
        self.stream.write("\n]\n" if self.count else "[]\n")


class _TableWriter(ResultWriter):
    def __init__(self, stream: TextIO, columns: Sequence[str] | None) -> None:
        super().__init__(stream)
        self.columns = columns
        self.results: list[Results] = []

    def write(self, chunk: ResultChunk) -> None:
        self.results.extend(chunk.records())
        self.count += len(chunk)

    def close(self) -> None:
        if self.results:
            self.stream.write(render(self.results, "table", self.columns) + "\n")


class _ParquetWriter(ResultWriter):
    """One Parquet file, a row group per chunk, written to the binary buffer of ``stream``:
    ``name``, the results (float64, null where a result does not exist) and ``warnings``
    (the messages joined with " | ")."""

    def __init__(self, stream: TextIO, keys: Sequence[str]) -> None:
        import pyarrow as pa

        super().__init__(stream)
        self.keys = keys
        fields = [pa.field("name", pa.string())]
        fields += [pa.field(k, pa.float64()) for k in keys]
        self.schema = pa.schema([*fields, pa.field("warnings", pa.string())])
        self.writer: Any = None

    def write(self, chunk: ResultChunk) -> None:
        import pyarrow as pa

        if not chunk.names:
            return
        found = chunk.warnings or [[] for _ in chunk.names]
        arrays = [pa.array(list(chunk.names), pa.string())]
        for k in self.keys:
            arr = np.asarray(chunk.results[k], dtype=np.float64)
            arrays.append(pa.array(arr, pa.float64(), mask=~np.isfinite(arr)))
        arrays.append(pa.array([" | ".join(w) for w in found], pa.string()))
        self._file().write_table(pa.Table.from_arrays(arrays, schema=self.schema))
        self.count += len(chunk.names)

    def _file(self) -> Any:
        """The Parquet writer, opened on the stream's bytes at the first use."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self.writer is None:
            self.stream.flush()
            sink = pa.PythonFile(self.stream.buffer, mode="w")
            self.writer = pq.ParquetWriter(sink, self.schema)
        return self.writer

    def close(self) -> None:
        self._file().close()  # no rows: still a valid, empty file
        self.stream.buffer.flush()


def result_writer(
    fmt: str,
    stream: TextIO,
    columns: Sequence[str] | None = None,
    *,
    csv_protect: bool = True,
) -> ResultWriter:
    """A :class:`ResultWriter` for ``fmt`` ("table", "csv", "json" or "parquet": binary, to
    ``stream``'s buffer, needs pyarrow); ``columns`` as in :func:`render`."""
    keys = tuple(RESULT_NAMES if columns is None else columns)
    if fmt == "csv":
        return _CsvWriter(stream, csv_protect, keys)
    if fmt == "json":
        return _JsonWriter(stream, keys)
    if fmt == "table":
        return _TableWriter(stream, columns)
    if fmt == "parquet":
        return _ParquetWriter(stream, keys)
    raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
