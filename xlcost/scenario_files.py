"""Scenario lists from files: YAML, JSON, CSV and XLSX (one row or item per scenario).

Column headers and keys are the input names. Every problem names the file, the row (CSV/XLSX,
numbered as a spreadsheet shows them: the header is row 1) or the key path (YAML/JSON,
``scenarios[2]``), and the field::

    scenarios.csv row 4, train_gpus: must be ≥ 0, got -3

Files are opened through :mod:`xlcost.reading` (regular files only, size, depth and number
limits, zip/XML-bomb checks). Numeric cells are read as a spreadsheet user types them
(:func:`parse_number`): ``"0.5%"`` is 0.005, ``"600,000,000"`` is 6e8, ``"$0.59"`` and
``"0,59 €"`` are 0.59; a semicolon-separated CSV with decimal commas (``1.234,56``) is
detected, or forced with ``decimal_comma=True``.

**The rule for bad rows and files** (one place, :func:`read_scenario_file`, row by row through
the pydantic model): a bad row is reported, one line per problem, and skipped; the other rows go
on. A file that cannot be read at all (missing, unsafe, wrong shape, an unknown column) is one
problem and contributes no rows. A second row with the same ``name`` as an earlier one is a
bad row whose message names the first. The commands read through
:mod:`xlcost.scenario_columns`, which applies the same rule a chunk of rows at a time and is
tested to give exactly what :func:`read_scenario_file` gives.
"""

from __future__ import annotations

import difflib
import functools
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlcost.csv_columns import ColumnBlock
from xlcost.engine.errors import InputError, ScenarioErrors, XlcostError
from xlcost.engine.evaluate import unknown_gpus
from xlcost.engine.model import INPUT_NAMES, NUMERIC_INPUTS, TEXT_INPUTS, Scenario
from xlcost.engine.risk import RANGE_SUFFIXES, Ranges, parse_ranges, split_ranges
from xlcost.engine.validate import parse_scenario
from xlcost.reading import (
    LIMITS,
    ReadError,
    csv_rows,
    json_file_items,
    json_list_file,
    limits,
    load_json,
    load_tree,
    number_too_long,
    parquet_rows,
    read_text,
)

__all__ = [
    "SCENARIO_SUFFIXES",
    "Duplicates",
    "Loaded",
    "Rows",
    "Table",
    "as_rows",
    "cell_value",
    "load_ranged_scenarios",
    "load_scenarios",
    "open_table",
    "parse_number",
    "read_records",
    "read_scenario_file",
    "unknown_columns",
]

Rows = list[list[Any]] | ColumnBlock
"""The rows of a block: lists of values, or a CSV file's plain rows as columns."""

RECORD_BLOCK_ROWS = 256
"""Rows a reader that takes them one by one (``generate``, ``compare``, ``fill`` …) holds at a
time: a block of 8,192 wide CSV rows is about 35 MB of strings, which set those commands' peak
memory; the array path of ``calc`` reads :data:`~xlcost.reading.BLOCK_ROWS` at a time."""

FloatColumns = Callable[[list[str]], Sequence[int] | None]
"""Given a CSV header, the columns to read as numbers (``None``: read rows of text)."""

SCENARIO_SUFFIXES = (".yaml", ".yml", ".json", ".csv", ".xlsx", ".xlsm", ".parquet")

# --------------------------------------------------------------------------- numbers as typed

# Every pattern below is linear: no two quantifiers can match the same characters.
_CURRENCY_SYMBOLS = "$€£¥"
_ISO_CODE = re.compile(r"[A-Z]{3}")
_PLAIN = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_GROUPED_DOT = re.compile(r"[-+]?\d{1,3}(?:[,\u00a0\u202f' ]\d{3})+(?:\.\d*)?")
_GROUPED_COMMA = re.compile(r"[-+]?\d{1,3}(?:[.\u00a0\u202f' ]\d{3})+(?:,\d*)?")
_PLAIN_COMMA = re.compile(r"[-+]?(?:\d+(?:,\d*)?|,\d+)(?:[eE][-+]?\d+)?")


def _strip_currency(text: str) -> str:
    """``text`` without one leading or trailing currency symbol or ISO code (``USD 5``)."""
    if text[:1] in _CURRENCY_SYMBOLS:
        return text[1:].strip()
    if text[-1:] in _CURRENCY_SYMBOLS:
        return text[:-1].strip()
    if len(text) > 3 and _ISO_CODE.fullmatch(text[:3]) and not text[3].isalpha():
        return text[3:].strip()
    if len(text) > 3 and _ISO_CODE.fullmatch(text[-3:]) and not text[-4].isalpha():
        return text[:-3].strip()
    return text


def parse_number(text: str, *, decimal_comma: bool = False) -> float | None:
    """A number as a spreadsheet user types it, or ``None`` if ``text`` is not one.

    Thousands separators (``,`` or with ``decimal_comma`` ``.``; also spaces and ``'``), one
    currency symbol ($ € £ ¥) or ISO code before or after, a trailing ``%`` (÷ 100) and
    accounting parentheses for negatives are accepted. Text longer than 100 characters is
    never a number (see :data:`xlcost.reading.Limits.number_chars`).

    >>> parse_number("600,000,000"), parse_number("$0.59"), parse_number("0.5%")
    (600000000.0, 0.59, 0.005)
    >>> parse_number("1.234,56", decimal_comma=True), parse_number("EUR 12"), parse_number("(5)")
    (1234.56, 12.0, -5.0)
    >>> parse_number("12abc"), parse_number("1,23,4")
    (None, None)
    """
    t = text.strip()
    if not t or len(t) > LIMITS.number_chars:  # a fixed limit (no variable overrides it)
        return None
    negative = t.startswith("(") and t.endswith(")")
    if negative:
        t = t[1:-1].strip()
    percent = t.endswith("%")
    if percent:
        t = t[:-1].strip()
    t = _strip_currency(t) if t else t
    if len(t) > 1 and t[0] in "-+" and t[1] in _CURRENCY_SYMBOLS:  # -$5
        t = t[0] + t[2:].strip()
    if not t:
        return None
    if decimal_comma:
        if _PLAIN_COMMA.fullmatch(t) or _GROUPED_COMMA.fullmatch(t):
            t = re.sub(r"[.\u00a0\u202f' ]", "", t).replace(",", ".")
        else:
            return None
    elif _GROUPED_DOT.fullmatch(t):
        t = re.sub(r"[,\u00a0\u202f' ]", "", t)
    elif not _PLAIN.fullmatch(t):
        return None
    value = float(t)
    if negative:
        value = -value
    return value / 100.0 if percent else value


_NUMERIC_COLUMNS = frozenset(
    [*NUMERIC_INPUTS, *(f"{n}{suffix}" for n in NUMERIC_INPUTS for suffix in ("_low", "_high"))]
)


class NumberTooLong:
    """A cell holding a number longer than the limit: validation reports it, unparsed.

    >>> NumberTooLong(40_000)
    a number of 40,000 characters (at most 100)
    """

    def __init__(self, chars: int) -> None:
        self.chars = chars

    def __repr__(self) -> str:
        return f"a number of {self.chars:,} characters (at most {LIMITS.number_chars})"


def cell_value(value: Any, field: str, *, decimal_comma: bool = False) -> Any:
    """A raw cell value as the model expects it: ``"0.5%"`` → 0.005; blanks → ``None``.

    Text in a numeric field that reads as a number (:func:`parse_number`) becomes that
    number; other text is left for validation to report.

    >>> cell_value(" 0.5 % ", "ctr"), cell_value("", "ctr"), cell_value("$1,200", "volume")
    (0.005, None, 1200.0)
    """
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return None
        if field in TEXT_INPUTS:
            return text
        if number_too_long(text):
            return NumberTooLong(len(text))  # reported as "must be a number", never parsed
        if field not in _NUMERIC_COLUMNS:  # a data column of `fill`: only a percentage is read
            if text.endswith("%") and (n := parse_number(text, decimal_comma=decimal_comma)):
                return n
            return text
        number = parse_number(text, decimal_comma=decimal_comma)
        return text if number is None else number
    return value


# --------------------------------------------------------------------------- tables

ABSENT: Any = type("Absent", (), {"__repr__": lambda self: "ABSENT"})()
"""A key a YAML/JSON item does not have (unlike an explicit blank)."""


@dataclass
class Table:
    """A scenario file as a table: a header of input names and rows of raw values.

    ``blocks`` yields the rows a block at a time (:data:`~xlcost.reading.Block`: positions and
    rows); :attr:`rows` one by one. :meth:`where` turns a position into the location a message
    names (``s.csv row 4`` or ``s.yaml scenarios[2]``). Rows are produced lazily, so a CSV of
    any length is read in constant memory.
    """

    name: str
    header: list[str]
    blocks: Iterator[tuple[list[int], Rows]]
    prefix: str | None = None
    """``None`` for spreadsheet rows; the key path (``"scenarios"``) of a YAML/JSON list."""
    decimal_comma: bool = False
    text_cells: bool = True
    """True when every value is text as typed (CSV); False when values are typed (YAML…)."""

    @property
    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        """The rows one by one, as ``(position, values)``."""
        for positions, rows in self.blocks:
            yield from zip(positions, as_rows(rows), strict=True)

    def where(self, position: int) -> str:
        """The location of the row at ``position`` for messages."""
        if self.prefix is None:
            return f"{self.name} row {position}"
        return f"{self.name} {self.prefix}[{position}]"


def as_rows(rows: Rows) -> list[list[Any]]:
    """The rows of a block as lists of values."""
    return rows.rows() if isinstance(rows, ColumnBlock) else rows


def _check_header(name: str, header: Sequence[Any]) -> list[str]:
    columns = [str(h).strip() if h is not None else "" for h in header]
    if "name" not in columns:
        raise ReadError(f"{name} row 1: no 'name' column; the header row holds the input names")
    seen: set[str] = set()
    for c in columns:
        if c and c in seen:
            raise ReadError(f"{name} row 1: column {c!r} appears twice")
        seen.add(c)
    return columns


def _blank(v: Any) -> bool:
    return v is None or v is ABSENT or (isinstance(v, str) and not v.strip())


def _blocks_of(
    rows: Iterator[tuple[int, list[Any]]], size: int
) -> Iterator[tuple[list[int], list[list[Any]]]]:
    """Group numbered rows into blocks."""
    while block := list(itertools.islice(rows, size)):
        yield [i for i, _ in block], [r for _, r in block]


def _data_blocks(
    name: str, columns: list[str], blocks: Iterator[tuple[list[int], Rows]]
) -> Iterator[tuple[list[int], Rows]]:
    """Blocks of rows under the header: blank rows dropped, rows wider than the header
    refused (checked a block at a time; a row is looked at alone only when it may be bad).

    A :class:`~xlcost.csv_columns.ColumnBlock` has rows exactly as wide as the header; it is
    passed on as it is unless a row has no name (it may be blank)."""
    width = len(columns)
    k = columns.index("name")
    count = 0
    for positions, block in blocks:
        if isinstance(block, ColumnBlock) and all(v.strip() for v in block.texts(k).tolist()):
            count += len(block)
            yield positions, block
            continue
        rows = as_rows(block)
        if rows and max(map(len, rows)) > width:
            for i, r in enumerate(rows):
                if len(r) > width:
                    if not all(map(_blank, r[width:])):
                        raise ReadError(
                            f"{name} row {positions[i]}: more values than header columns"
                        )
                    rows[i] = r[:width]
        unnamed = [i for i, r in enumerate(rows) if len(r) <= k or _blank(r[k])]
        blank = {i for i in unnamed if all(map(_blank, rows[i]))}
        if blank:
            positions = [p for i, p in enumerate(positions) if i not in blank]
            rows = [r for i, r in enumerate(rows) if i not in blank]
        if rows:
            count += len(rows)
            yield positions, rows
    if count == 0:
        raise ReadError(f"{name}: no scenario rows under the header")


_DECIMAL_COMMA_EVIDENCE = re.compile(r"\d,\d{1,2}(?:\D|$)|\d,\d{4}|\.\d{3},")
_DECIMAL_DOT_EVIDENCE = re.compile(r"\d\.\d{1,2}(?:\D|$)|\d\.\d{4}|,\d{3}\.")


def detect_decimal_comma(values: Sequence[str]) -> bool:
    """True if numeric text in ``values`` uses a decimal comma (``1.234,56``, ``0,5``).

    Each value counts as evidence for a decimal comma or a decimal point; the comma must
    have more. ``"1,234"`` alone is evidence for neither.

    >>> detect_decimal_comma(["0,5", "1.234,56", "7"]), detect_decimal_comma(["0.5", "1,234"])
    (True, False)
    """
    comma = dot = 0
    for v in values:
        if len(v) > 40:
            continue
        comma += bool(_DECIMAL_COMMA_EVIDENCE.search(v))
        dot += bool(_DECIMAL_DOT_EVIDENCE.search(v))
    return comma > dot


def _csv_table(
    path: Path, decimal_comma: bool | None, floats: FloatColumns | None, size: int
) -> Table:
    src = csv_rows(path, limits(), size, floats=None if decimal_comma else floats)
    blocks = src.blocks
    first = next(blocks, None)
    if first is None or not first[1]:
        raise ReadError(f"{src.name}: empty file")
    header, *rows = as_rows(first[1])
    columns = _check_header(src.name, header)
    rest = itertools.chain([(first[0][1:], rows)], blocks)
    data = _data_blocks(src.name, columns, rest)
    if decimal_comma is None:
        decimal_comma = False
        if src.delimiter != ",":  # judged on the first 1,000 rows
            heads: list[tuple[list[int], Rows]] = []
            while sum(len(b) for _, b in heads) < 1000 and (block := next(data, None)):
                heads.append(block)
            first_rows = [r for _, b in heads for r in as_rows(b)][:1000]
            numeric = [v for r in first_rows for c, v in zip(columns, r, strict=False) if c]
            decimal_comma = detect_decimal_comma(numeric)
            data = itertools.chain(heads, data)
    return Table(src.name, columns, data, decimal_comma=decimal_comma)


def _xlsx_table(path: Path, decimal_comma: bool | None, size: int) -> Table:
    from xlcost.workbooks.rows import read_table

    header, rows = read_table(path)
    columns = _check_header(path.name, header)
    numbered = ((i, list(r)) for i, r in enumerate(rows, start=2))
    return Table(
        path.name,
        columns,
        _data_blocks(path.name, columns, _blocks_of(numbered, size)),
        decimal_comma=bool(decimal_comma),
        text_cells=False,
    )


def _parquet_table(path: Path, decimal_comma: bool | None, size: int) -> Table:
    src = parquet_rows(path, limits(), size)
    columns = _check_header(src.name, src.header)
    return Table(
        src.name,
        columns,
        _data_blocks(src.name, columns, src.blocks),
        decimal_comma=bool(decimal_comma),
        text_cells=False,
    )


def _tree_table(path: Path, decimal_comma: bool | None, size: int) -> Table:
    """A YAML or JSON list as a table. A JSON file that is a list is read and parsed a piece
    at a time, twice (the header is every key of every item), so that neither its text nor
    its items are held whole; anything else is parsed whole."""
    name = path.name
    items: Callable[[], Iterable[Any]] | None = None
    prefix = ""
    lim = limits()
    if path.suffix.lower() == ".json":
        if json_file_items(path, lim) is not None:
            items = functools.partial(json_list_file, path, lim)
        else:
            data = load_json(read_text(path, lim.text_file_bytes, "YAML/JSON file"), name, lim)
    else:
        data = load_tree(path, lim)
    if items is None:
        whole: Any = data
        if isinstance(data, Mapping) and "scenarios" in data:
            whole, prefix = data["scenarios"], "scenarios"
        elif isinstance(data, Mapping):
            whole = [data]
        items = functools.partial(iter, whole if isinstance(whole, list) else [])
    keys: dict[str, None] = {}
    count = 0
    for count, item in enumerate(items(), start=1):
        if not isinstance(item, Mapping):
            where = f"{name} {prefix}[{count - 1}]"
            raise ReadError(f"{where}: expected a mapping of input names to values")
        keys.update(dict.fromkeys(str(k) for k in item))
    if not count:  # also a document that is not a list (or 'scenarios' that is not)
        raise ReadError(f"{name}: expected a non-empty list of scenarios (or 'scenarios: [...]')")
    header = list(keys)
    rows = (
        (i, [{str(k): v for k, v in item.items()}.get(c, ABSENT) for c in header])
        for i, item in enumerate(items())
    )
    return Table(
        name,
        header,
        _blocks_of(rows, size),
        prefix=prefix,
        decimal_comma=bool(decimal_comma),
        text_cells=False,
    )


def open_table(
    path: Path,
    *,
    decimal_comma: bool | None = None,
    floats: FloatColumns | None = None,
    block_rows: int = RECORD_BLOCK_ROWS,
) -> Table:
    """Open a scenario file as a :class:`Table` (CSV and Parquet streamed; the others read at
    once).

    ``decimal_comma``: ``True`` reads ``1.234,56`` as 1234.56; ``None`` detects it in
    semicolon- and tab-separated CSV files. ``floats``: see :func:`~xlcost.reading.csv_rows`
    (a CSV file's blocks may then be :class:`~xlcost.csv_columns.ColumnBlock` objects).
    ``block_rows``: rows read at a time (the default suits reading row by row).

    Raises :class:`ReadError` naming the file (and row) when it cannot be read safely or has
    the wrong shape.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SCENARIO_SUFFIXES:
        raise ReadError(f"{path.name}: unsupported file type; use {', '.join(SCENARIO_SUFFIXES)}")
    if suffix == ".csv":
        return _csv_table(path, decimal_comma, floats, block_rows)
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_table(path, decimal_comma, block_rows)
    if suffix == ".parquet":
        return _parquet_table(path, decimal_comma, block_rows)
    return _tree_table(path, decimal_comma, block_rows)


def table_records(table: Table) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(location, record)`` for each row of ``table``, cells read by :func:`cell_value`."""
    named = [(j, c) for j, c in enumerate(table.header) if c]
    dc = table.decimal_comma
    for pos, row in table.rows:
        record = {
            c: cell_value(row[j] if j < len(row) else None, c, decimal_comma=dc)
            for j, c in named
            if j >= len(row) or row[j] is not ABSENT
        }
        yield table.where(pos), record


def read_records(
    path: Path, *, decimal_comma: bool | None = None
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``(location, record)`` for each scenario in ``path``, unvalidated.

    Raises :class:`XlcostError` naming the file when it cannot be read or has the wrong shape.
    """
    yield from table_records(open_table(path, decimal_comma=decimal_comma))


# --------------------------------------------------------------------------- the rule


KNOWN_COLUMNS: tuple[str, ...] = (
    *INPUT_NAMES,
    *(f"{n}{suffix}" for n in NUMERIC_INPUTS for suffix in RANGE_SUFFIXES),
)
"""Column names a scenario file may have: the inputs and their ranges (``ctr_low`` …)."""


def parse_record(
    record: dict[str, Any], where: str, *, ignore_unknown: bool = False
) -> tuple[Scenario, Ranges]:
    """One record as a validated scenario and the ranges of its inputs (raises
    :class:`ScenarioErrors` naming ``where``)."""
    inputs, raw_ranges = split_ranges(record)
    s = parse_scenario(inputs, where=where, ignore_unknown=ignore_unknown)
    return s, parse_ranges(raw_ranges, s, where=where)


def unknown_columns(name: str, columns: Sequence[str], known: Sequence[str] = KNOWN_COLUMNS) -> str:
    """One line about the columns that are not input names ("" if none), with "did you mean".

    >>> unknown_columns("s.csv", ["name", "trian_gpus"])
    "s.csv row 1, trian_gpus: not an xlcost input name (did you mean 'train_gpus'?); ..."
    """
    bad = [c for c in columns if c and c not in known]
    if not bad:
        return ""
    parts = []
    for c in bad:
        guess = difflib.get_close_matches(c.lower(), INPUT_NAMES, n=1, cutoff=0.75)
        parts.append(
            f"{c}: not an xlcost input name" + (f" (did you mean {guess[0]!r}?)" if guess else "")
        )
    return (
        f"{name} row 1, "
        + "; ".join(parts)
        + "; fix the header or use --ignore-unknown to skip such columns"
    )


class Duplicates:
    """The duplicate-name rule: a second row with an earlier row's name is an error naming both.

    >>> d = Duplicates()
    >>> d.check("a", "s.csv row 2"), d.check("a", "s.csv row 5")
    (None, "s.csv row 5, name: duplicate of s.csv row 2, got 'a'")
    """

    def __init__(self) -> None:
        self._first: dict[Any, Any] = {}

    @staticmethod
    def message(name: str, first: str, where: str) -> str:
        """The problem line of a duplicate at ``where`` of the row at ``first``."""
        return str(InputError("name", f"duplicate of {first}", name, where=where))

    def first(self, name: str, where: str) -> str | None:
        """``None`` for a name not seen before (and remember it), else where it was first."""
        first = self._first.setdefault(name, where)
        return None if first == where else first

    def check(self, name: str, where: str) -> str | None:
        """``None`` for a name not seen before (and remember it), else the problem line."""
        first = self.first(name, where)
        return None if first is None else self.message(name, first, where)


@dataclass
class Loaded:
    """The good scenarios of one file and the problems of the others (see the module rule).

    ``problems`` are one-line messages; ``bad_rows`` counts the rows they are about (a row
    may have several problems); ``failed_file`` is True when the file could not be read.
    """

    name: str
    scenarios: list[Scenario] = field(default_factory=list)
    wheres: list[str] = field(default_factory=list)
    ranges: list[Ranges] = field(default_factory=list)
    """The ranges of each scenario's inputs (``NAME_low`` …), for ``risk`` and ``--risk``."""
    problems: list[str] = field(default_factory=list)
    bad_rows: int = 0
    failed_file: bool = False

    @property
    def failures(self) -> int:
        """Bad rows, or 1 for a file that could not be read."""
        return self.bad_rows + int(self.failed_file)

    def fail(self, problem: str) -> None:
        """The file could not be read (to its end): ``problem`` is said, and a file that
        fails part-way contributes no rows."""
        self.problems.append(problem)
        self.failed_file = True
        self.scenarios.clear()
        self.wheres.clear()
        self.ranges.clear()


def file_problem(path: Path, exc: BaseException) -> str:
    """The one line for a file that cannot be read (never a traceback)."""
    if isinstance(exc, ScenarioErrors):
        return "; ".join(str(p) for p in exc.problems)
    if isinstance(exc, XlcostError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{Path(path).name}: cannot read ({exc.strerror or exc})"
    return f"{Path(path).name}: internal error ({type(exc).__name__}: {exc})"


def read_scenario_file(
    path: Path,
    *,
    ignore_unknown: bool = False,
    decimal_comma: bool | None = None,
    max_rows: int | None = None,
) -> Loaded:
    """Read and validate every scenario of ``path`` under the one rule for bad rows and files.

    Never raises for a user's problem: everything wrong is in :attr:`Loaded.problems`.

    Parameters
    ----------
    path : Path
        A scenario file (YAML, JSON, CSV, XLSX).
    ignore_unknown : bool
        Drop columns that are not input names; otherwise they fail the file (one line, with
        "did you mean" for a near miss).
    decimal_comma : bool or None
        See :func:`open_table`.
    max_rows : int, optional
        Refuse the file (quickly, without reading on) when it has more rows than this.
    """
    path = Path(path)
    out = Loaded(path.name)
    dups = Duplicates()
    try:
        table = open_table(path, decimal_comma=decimal_comma)
        if not ignore_unknown and (line := unknown_columns(table.name, table.header)):
            raise ReadError(line)
        for n, (where, record) in enumerate(table_records(table), start=1):
            if max_rows is not None and n > max_rows:
                raise ReadError(f"{table.name}: more than {max_rows:,} scenarios; refused")
            try:
                s, ranges = parse_record(record, where, ignore_unknown=ignore_unknown)
            except ScenarioErrors as e:
                out.problems.extend(str(p) for p in e.problems)
                out.bad_rows += 1
                continue
            if (dup := dups.check(s.name, where)) is not None:
                out.problems.append(dup)
                out.bad_rows += 1
                continue
            out.scenarios.append(s)
            out.ranges.append(ranges)
            out.wheres.append(where)
    except Exception as exc:  # one line per unreadable file, never a traceback
        out.fail(file_problem(path, exc))
    return out


def load_scenarios(path: Path, *, ignore_unknown: bool = False) -> list[Scenario]:
    """Load and validate every scenario in ``path``, strictly: any problem raises.

    All problems in the file are collected and raised together as :class:`ScenarioErrors`
    (one line each), so a user fixes a file in one pass; an unreadable file raises
    :class:`XlcostError`. Commands that skip bad rows use
    :func:`xlcost.scenario_columns.read_scenarios`. Input
    ranges (``NAME_low``/``NAME_high``/``NAME_dist``, ``{low, base, high}``) are checked and
    dropped; :func:`load_ranged_scenarios` keeps them.
    """
    return [s for s, _ in load_ranged_scenarios(path, ignore_unknown=ignore_unknown)]


def load_ranged_scenarios(
    path: Path, *, ignore_unknown: bool = False
) -> list[tuple[Scenario, Ranges]]:
    """:func:`load_scenarios`, each scenario with the ranges of its inputs."""
    path = Path(path)
    table = open_table(path)
    if not ignore_unknown and (line := unknown_columns(table.name, table.header)):
        raise ReadError(line)
    scenarios: list[tuple[Scenario, Ranges]] = []
    problems: list[InputError] = []
    dups = Duplicates()
    for where, record in table_records(table):
        try:
            s, ranges = parse_record(record, where, ignore_unknown=ignore_unknown)
        except ScenarioErrors as e:
            problems.extend(e.problems)
            continue
        if (dup := dups.first(s.name, where)) is not None:
            problems.append(InputError("name", f"duplicate of {dup}", s.name, where=where))
            continue
        if unknown := unknown_gpus(s, where=where):  # the catalog in use: --catalog
            problems.extend(unknown)
            continue
        scenarios.append((s, ranges))
    if problems:
        raise ScenarioErrors(problems)
    return scenarios
