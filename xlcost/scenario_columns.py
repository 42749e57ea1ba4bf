"""Scenario files through the array engine: rows read in chunks into columns, validated with
:func:`~xlcost.engine.evaluate.validate_columns` and evaluated with
:func:`~xlcost.engine.evaluate.evaluate_columns` — one vectorised call per chunk instead of a
pydantic model and an evaluation per row (:func:`calc_chunks`, for ``calc``). The commands that
need scenario objects (``compare``, ``risk``, ``sensitivity``, ``generate``) take them from the
same checked columns (:func:`scenario_chunks`, :func:`read_scenarios`). A file with inputs the
array checks do not take (GPU names, input ranges) is validated row by row by the model.

The rule for bad rows is the one of :func:`xlcost.scenario_files.read_scenario_file`: a bad row
is reported and skipped, the rest goes on, a second row with an earlier row's name is a bad row.
The pydantic model has the last word: a row the array checks refuse is validated again alone by
the model, which either takes it (it also reads cells the array checks leave to it, such as
``1_000`` or a Parquet decimal) or says why not, so every command says exactly the same about
it (``s.csv row 4, train_gpus: must be ≥ 0, got -3``).

Memory is bounded by the chunk size (:data:`CHUNK_ROWS` rows), whatever the file's length.
"""

from __future__ import annotations

import gc
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from xlcost.csv_columns import ColumnBlock
from xlcost.engine.checks import check_columns, check_scenario
from xlcost.engine.errors import ScenarioErrors, XlcostError
from xlcost.engine.evaluate import evaluate, evaluate_columns, invalid_rows
from xlcost.engine.model import NUMERIC_INPUTS, RESULT_NAMES, Results, Scenario
from xlcost.engine.risk import Ranges
from xlcost.engine.validate import scenarios_from_columns
from xlcost.reading import BLOCK_ROWS, LIMITS, ReadError
from xlcost.scenario_files import (
    ABSENT,
    KNOWN_COLUMNS,
    RECORD_BLOCK_ROWS,
    Duplicates,
    Loaded,
    Rows,
    Table,
    as_rows,
    cell_value,
    file_problem,
    open_table,
    parse_record,
    unknown_columns,
)

__all__ = [
    "CHUNK_ROWS",
    "ResultChunk",
    "calc_chunks",
    "chunk_from_results",
    "read_scenarios",
    "scenario_chunks",
]

Array = NDArray[np.float64]
_Block = tuple[list[int], Rows]

CHUNK_ROWS = 8_192
"""Rows read, validated and evaluated at a time (bounds memory: about 10 MB a chunk)."""

_ALWAYS_DEFINED = tuple(n for n in RESULT_NAMES if Results.model_fields[n].annotation is float)
_ARRAY_TEXT = ("name", "currency")
"""Text inputs the array path checks itself; any other text input takes the per-row path."""


@dataclass
class ResultChunk:
    """The results of some good rows and the problems of the bad ones, in file order.

    ``results`` maps each result name to an array over ``names`` (``nan``: the result does
    not exist); ``problems`` are one-line messages; ``bad_rows`` counts the rows they are about.
    """

    names: list[str]
    results: dict[str, Array]
    problems: list[str] = field(default_factory=list)
    bad_rows: int = 0
    warnings: list[list[str]] | None = None
    """The checks' warnings of each good row (:mod:`xlcost.engine.checks`); ``None``: none
    known."""

    def __len__(self) -> int:
        return len(self.names)

    def records(self) -> Iterator[Results]:
        """The rows as :class:`Results` (for tables and ranking)."""
        columns = {k: self.results[k].tolist() for k in RESULT_NAMES}
        for i, name in enumerate(self.names):
            values: dict[str, Any] = {
                k: (v if math.isfinite(v := columns[k][i]) else None) for k in RESULT_NAMES
            }
            if values["payback_month"] is not None:
                values["payback_month"] = int(values["payback_month"])
            yield Results(name=name, **values)


def chunk_from_results(
    results: Sequence[Results], warnings: Sequence[Sequence[str]] | None = None
) -> ResultChunk:
    """A :class:`ResultChunk` holding already computed results (filled workbooks), and their
    checks' ``warnings`` if known."""
    return ResultChunk(
        [r.name for r in results],
        {
            k: np.array(
                [math.nan if getattr(r, k) is None else getattr(r, k) for r in results],
                dtype=np.float64,
            )
            for k in RESULT_NAMES
        },
        warnings=None if warnings is None else [list(w) for w in warnings],
    )


# --------------------------------------------------------------------------- text → columns


def _text_rule(name: str) -> tuple[int, int, re.Pattern[str] | None]:
    """``(min length, max length, pattern)`` of a text input, from the model's field."""
    lo, hi, pattern = 0, 1 << 30, None
    for m in Scenario.model_fields[name].metadata:
        lo = getattr(m, "min_length", None) or lo
        hi = getattr(m, "max_length", None) or hi
        if getattr(m, "pattern", None):
            pattern = re.compile(m.pattern)
    return lo, hi, pattern


_TEXT_RULES = {name: _text_rule(name) for name in _ARRAY_TEXT}


def _text_column(
    name: str, raw: Sequence[Any] | NDArray[np.object_]
) -> tuple[list[str | None], NDArray[np.bool_]]:
    """Stripped text values (``None`` for blank) and the rows breaking the field's rule."""
    lo, hi, pattern = _TEXT_RULES[name]
    if all(type(v) is str for v in raw):  # CSV: one pass of C-level string methods
        stripped = [v.strip() for v in raw]
        lengths = np.fromiter(map(len, stripped), dtype=np.int64, count=len(stripped))
        bad = (lengths < lo) | (lengths > hi)
        if pattern is not None:
            bad |= np.array([pattern.search(t) is None for t in stripped], dtype=bool)
        bad &= lengths > 0  # a blank is the default (or, for a required text, the caller's)
        if not _unicode("".join(stripped)):  # a lone surrogate (a JSON escape): the model's
            bad |= np.array([not _unicode(t) for t in stripped], dtype=bool)
        return [t or None for t in stripped], bad
    values: list[str | None] = []
    bad = np.zeros(len(raw), dtype=bool)
    for i, v in enumerate(raw):
        if v is None or v is ABSENT or (isinstance(v, str) and not v.strip()):
            values.append(None)
            continue
        if not isinstance(v, str):
            values.append(None)
            bad[i] = True
            continue
        t = v.strip()
        values.append(t)
        broken = pattern is not None and not pattern.search(t)
        if not lo <= len(t) <= hi or broken or not _unicode(t):
            bad[i] = True
    return values, bad


def _unicode(text: str) -> bool:
    """True unless ``text`` holds a lone surrogate (which is not text; the model refuses it)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _float_slow(v: Any, field: str, decimal_comma: bool) -> float | None:
    """One cell as a float (``nan`` for a blank), or ``None`` if it is not a number."""
    if v is ABSENT:
        return math.nan
    v = cell_value(v, field, decimal_comma=decimal_comma)
    if v is None:
        return math.nan
    if not isinstance(v, int | float):  # a bool is a number (1 or 0), as for the model
        return None
    try:
        f = float(v)
    except OverflowError:
        return None
    return None if math.isnan(f) else f


_NOT_PLAIN = re.compile(r"[^0-9.eE+\-\s]")
"""A character no plain number has (``float`` reads ``nan``, ``inf`` and ``1_000`` too)."""


def _plain_numbers(cells: NDArray[np.object_]) -> Array | None:
    """CSV text cells (any shape) as floats in one numpy call, if every cell is a number in
    the plain form (``3``, ``0.25``, ``1e8``) no longer than the number limit; else ``None``.

    Text that ``float`` reads but a spreadsheet number is not (``nan``, ``inf``, ``1_000``)
    takes the cell rules.
    """
    flat = cells.ravel().tolist()
    try:
        if max(map(len, flat), default=0) > LIMITS.number_chars:
            return None
    except TypeError:  # a short row's missing cells (None)
        return None
    if _NOT_PLAIN.search("\n".join(flat)):
        return None
    try:
        return cells.astype(np.float64)  # float() of each str, in C
    except (ValueError, TypeError):
        return None


def _numeric_column(
    field: str, raw: list[Any], *, text_cells: bool, decimal_comma: bool
) -> tuple[Array, NDArray[np.bool_]]:
    """A column of cells as floats (blanks ``nan``) and the rows that are not numbers.

    CSV text in the plain form (``3``, ``0.25``, ``1e8``) is converted by numpy in one call;
    anything else (blanks, ``0.5%``, ``$1,200``, decimal commas) cell by cell.
    """
    n = len(raw)
    if text_cells and not decimal_comma and isinstance(raw, np.ndarray):
        arr = _plain_numbers(raw)
        if arr is not None:
            return arr, np.zeros(n, dtype=bool)
    out = np.empty(n, dtype=np.float64)
    bad = np.zeros(n, dtype=bool)
    for i, v in enumerate(raw):
        f = _float_slow(v, field, decimal_comma)
        if f is None:
            bad[i] = True
            out[i] = math.nan
        else:
            out[i] = f
    return out, bad


# --------------------------------------------------------------------------- validation


def _row_record(table: Table, columns: list[tuple[int, str]], row: list[Any]) -> dict[str, Any]:
    return {
        c: cell_value(row[j] if j < len(row) else None, c, decimal_comma=table.decimal_comma)
        for j, c in columns
        if j >= len(row) or row[j] is not ABSENT
    }


def _row_verdict(
    table: Table, columns: list[tuple[int, str]], pos: int, row: list[Any]
) -> tuple[Scenario, Ranges] | list[str]:
    """One row the array checks refuse, as the pydantic model takes it: its scenario and
    ranges, or its messages (the same as every other command's). The model has the last
    word: it also reads cells the array checks leave to it (``1_000``, a ``Decimal``)."""
    try:
        return parse_record(_row_record(table, columns, row), table.where(pos))
    except ScenarioErrors as e:
        return [str(p) for p in e.problems]


def _array_ready(columns: Sequence[str]) -> bool:
    """True if every column is one the array path checks (numeric inputs, name, currency);
    otherwise (GPU names, input ranges) the file takes the per-row path."""
    return all(c in NUMERIC_INPUTS or c in _ARRAY_TEXT for c in columns)


class NameIndex:
    """The names a file has had so far, for the duplicate rule over millions of rows.

    Names are kept as 64-bit hashes with the position of their first row, in sorted runs
    merged like a binary counter (16 bytes a row, a few ``searchsorted`` calls a chunk),
    instead of a dictionary of the names (about 150 bytes a row). Two different names with
    the same 64-bit hash (odds about 3·10⁻⁸ in a million rows) would be reported as
    duplicates.
    """

    def __init__(self) -> None:
        self.runs: list[tuple[NDArray[np.int64], NDArray[np.int64]]] = []

    def repeated(
        self, names: Sequence[str | None], positions: Sequence[int], mask: NDArray[np.bool_]
    ) -> list[tuple[int, int]]:
        """``(index, first position)`` of each name in ``names`` (where ``mask``) seen before,
        in this call or an earlier one; the others are remembered."""
        idx = np.flatnonzero(mask)
        if not idx.size:
            return []
        h = np.fromiter((hash(names[i]) for i in idx.tolist()), np.int64, idx.size)
        pos = np.asarray(positions, dtype=np.int64)[idx]
        first = np.full(idx.size, -1, dtype=np.int64)
        for keys, starts in self.runs:
            j = np.minimum(np.searchsorted(keys, h), len(keys) - 1)
            hit = (keys[j] == h) & (first < 0)
            first[hit] = starts[j[hit]]
        order = np.argsort(h, kind="stable")
        sorted_h = h[order]
        new_group = np.r_[True, sorted_h[1:] != sorted_h[:-1]]
        group_start = np.maximum.accumulate(np.where(new_group, np.arange(idx.size), 0))
        within = np.empty(idx.size, dtype=bool)
        within[order] = ~new_group
        chunk_first = np.empty(idx.size, dtype=np.int64)
        chunk_first[order] = pos[order][group_start]
        first = np.where(first >= 0, first, np.where(within, chunk_first, -1))
        fresh = first < 0
        self._add(h[fresh], pos[fresh])
        return [(int(idx[k]), int(first[k])) for k in np.flatnonzero(~fresh).tolist()]

    def _add(self, keys: NDArray[np.int64], starts: NDArray[np.int64]) -> None:
        if not keys.size:  # a chunk of repeats only: an empty run would break the lookups
            return
        order = np.argsort(keys, kind="stable")
        self.runs.append((keys[order], starts[order]))
        while len(self.runs) > 1 and len(self.runs[-1][0]) >= len(self.runs[-2][0]):
            (k2, s2), (k1, s1) = self.runs.pop(), self.runs.pop()
            k, st = np.concatenate([k1, k2]), np.concatenate([s1, s2])
            order = np.argsort(k, kind="stable")
            self.runs.append((k[order], st[order]))


_Texts = dict[str, list[str | None]]
"""Text input (``name``, ``currency``) → its stripped values (``None``: blank)."""


def _converted(
    table: Table, columns: list[tuple[int, str]], lines: list[list[Any]]
) -> tuple[dict[str, Array], _Texts, NDArray[np.bool_]]:
    """The chunk's numeric columns, its text inputs and the rows with a cell that is not
    valid."""
    n = len(lines)
    bad = np.zeros(n, dtype=bool)
    cols: dict[str, Array] = {}
    texts: _Texts = {}
    width = len(table.header)
    if min(map(len, lines)) < width:
        lines = [r if len(r) == width else [*r, *[None] * (width - len(r))] for r in lines]
    grid: Any = None
    transposed: list[tuple[Any, ...]] = []
    if table.text_cells:  # CSV: a grid of str (an object array slices columns for free)
        grid = np.empty((n, width), dtype=object)
        grid[:] = lines
    else:  # values may themselves be lists (YAML): transpose as Python tuples
        transposed = list(zip(*lines, strict=True))
    numeric = [(j, c) for j, c in columns if c not in _ARRAY_TEXT]
    plain = None
    if grid is not None and not table.decimal_comma and numeric:
        # the whole chunk's numbers at once; a chunk with any other cell goes column by column
        plain = _plain_numbers(grid[:, [j for j, _ in numeric]].T)
    if plain is not None:
        for row, (_, c) in zip(plain, numeric, strict=True):
            cols[c] = row
    rest = columns if plain is None else [(j, c) for j, c in columns if c in _ARRAY_TEXT]
    for j, c in rest:
        raw: Any = grid[:, j] if grid is not None else list(transposed[j])
        if c in _ARRAY_TEXT:
            texts[c], wrong = _text_input(c, raw)
            bad |= wrong
            continue
        cols[c], wrong = _numeric_column(
            c, raw, text_cells=table.text_cells, decimal_comma=table.decimal_comma
        )
        bad |= wrong
    return cols, texts, bad


def _converted_block(
    columns: list[tuple[int, str]], block: ColumnBlock
) -> tuple[dict[str, Array], _Texts, NDArray[np.bool_]]:
    """:func:`_converted` of a block pyarrow has read (its numbers already floats)."""
    bad = np.zeros(len(block), dtype=bool)
    cols: dict[str, Array] = {}
    texts: _Texts = {}
    for j, c in columns:
        if c not in _ARRAY_TEXT:
            cols[c] = block.floats(j)
            continue
        texts[c], wrong = _text_input(c, block.texts(j))
        bad |= wrong
    return cols, texts, bad


def _text_input(
    name: str, raw: Sequence[Any] | NDArray[np.object_]
) -> tuple[list[str | None], NDArray[np.bool_]]:
    """:func:`_text_column` of an array-path text input; a blank name is wrong too (every
    scenario needs one)."""
    values, wrong = _text_column(name, raw)
    if name == "name":
        wrong = wrong | np.array([v is None for v in values], dtype=bool)
    return values, wrong


@dataclass
class _Checked:
    """One chunk of rows after every check: its columns, and which rows are good."""

    full: dict[str, Array]
    """Every numeric input as a column, blanks filled with the defaults (:func:`_filled`)."""
    texts: _Texts
    rows: NDArray[np.intp]
    """The good rows, in file order."""
    problems: list[tuple[int, list[str]]]
    """``(row, its one-line messages)`` of each bad row."""
    by_model: dict[int, tuple[Scenario, Ranges]]
    """The good rows the array checks refused and the model took, with its scenarios (their
    columns hold the scenario's values)."""


def _checked(
    table: Table,
    columns: list[tuple[int, str]],
    positions: list[int],
    lines: Rows,
    dups: NameIndex,
) -> _Checked:
    """Convert and validate one chunk of rows with the array checks; a row they refuse is
    given to the pydantic model, which takes it or says why not; a repeated name makes a bad
    row."""
    n = len(lines)
    if isinstance(lines, ColumnBlock):
        cols, texts, bad = _converted_block(columns, lines)
    else:
        cols, texts, bad = _converted(table, columns, lines)
    full = _filled(cols, n)
    if "name" not in texts or any(name not in full for name in _REQUIRED):
        bad[:] = True  # a required column is missing: every row goes to the model
    else:
        bad |= invalid_rows(full)
    texts.setdefault("name", [None] * n)
    wrong = np.flatnonzero(bad).tolist()
    raw = as_rows(lines) if wrong else []  # a block's text only for the rows the model sees
    problems: list[tuple[int, list[str]]] = []
    by_model: dict[int, tuple[Scenario, Ranges]] = {}
    for i in wrong:
        verdict = _row_verdict(table, columns, positions[i], raw[i])
        if isinstance(verdict, list):
            problems.append((i, verdict))
            continue
        by_model[i] = verdict
        _put_row(full, texts, i, verdict[0])
        bad[i] = False
    keep = ~bad
    names = texts["name"]
    for i, earlier in dups.repeated(names, positions, keep):
        where = table.where(positions[i])
        problems.append((i, [Duplicates.message(names[i] or "", table.where(earlier), where)]))
        keep[i] = False
        by_model.pop(i, None)
    problems.sort(key=lambda p: p[0])
    return _Checked(full, texts, np.flatnonzero(keep), problems, by_model)


def _put_row(full: dict[str, Array], texts: _Texts, i: int, scenario: Scenario) -> None:
    """Row ``i`` of the columns set to ``scenario``'s values."""
    values = scenario.raw_columns()
    for k, col in full.items():
        if not col.flags.writeable:  # a column pyarrow read
            full[k] = col = col.copy()
        col[i] = values[k]
    texts["name"][i] = scenario.name
    if "currency" in texts:
        texts["currency"][i] = scenario.currency


def _chunk(
    table: Table,
    columns: list[tuple[int, str]],
    positions: list[int],
    lines: Rows,
    dups: NameIndex,
) -> ResultChunk:
    """Validate and evaluate one chunk of rows through the array engine."""
    checked = _checked(table, columns, positions, lines, dups)
    full, idx, problems = checked.full, checked.rows, checked.problems
    results = (
        evaluate_columns({k: v[idx] for k, v in full.items()}, validate=False)
        if idx.size
        else {k: np.empty(0) for k in RESULT_NAMES}
    )
    names = checked.texts["name"]
    kept_names = [names[i] or "" for i in idx.tolist()]
    overflow = np.zeros(idx.size, dtype=bool)
    for k in _ALWAYS_DEFINED:
        overflow |= ~np.isfinite(results[k])
    if overflow.any():
        for p in np.flatnonzero(overflow).tolist():
            result = next(k for k in _ALWAYS_DEFINED if not math.isfinite(results[k][p]))
            where = table.where(positions[int(idx[p])])
            problems.append(
                (int(idx[p]), [f"{where}, {result}: overflows; check the inputs' magnitudes"])
            )
        ok = ~overflow
        results = {k: v[ok] for k, v in results.items()}
        kept_names = [nm for nm, o in zip(kept_names, ok.tolist(), strict=True) if o]
    problems.sort(key=lambda p: p[0])
    kept = idx if not overflow.any() else idx[~overflow]
    warnings = check_columns({k: v[kept] for k, v in full.items()}) if kept.size else []
    return ResultChunk(
        kept_names,
        {k: np.asarray(results[k], dtype=np.float64) for k in RESULT_NAMES},
        [line for _, lines in problems for line in lines],
        len(problems),
        warnings,
    )


def _default(name: str) -> float | None:
    """The default of an optional numeric input (``nan`` for a blank default), else None."""
    f = Scenario.model_fields[name]
    if f.is_required():
        return None
    return math.nan if f.default is None else float(f.default)


_DEFAULTS = {name: d for name in NUMERIC_INPUTS if (d := _default(name)) is not None}
_REQUIRED = tuple(name for name in NUMERIC_INPUTS if name not in _DEFAULTS)


def _filled(cols: dict[str, Array], n: int) -> dict[str, Array]:
    """Every numeric input as a column: blanks and absent columns take the model's default
    (as a blank cell does for the pydantic model)."""
    out: dict[str, Array] = {}
    for name in NUMERIC_INPUTS:
        default = _DEFAULTS.get(name)
        col = cols.get(name)
        if col is None:
            if default is not None:
                out[name] = np.full(n, default)
            continue
        if default is not None and not math.isnan(default):
            col = np.where(np.isnan(col), default, col)
        out[name] = col
    return out


def _parsed_rows(
    table: Table,
    columns: list[tuple[int, str]],
    positions: list[int],
    lines: list[list[Any]],
    dups: NameIndex,
) -> tuple[list[tuple[int, Scenario, Ranges]], list[tuple[int, list[str]]]]:
    """The same chunk through the pydantic model, row by row: ``(row, scenario, ranges)`` of
    each good row and ``(row, messages)`` of each bad one (used for the inputs and the cells
    the array checks do not take: GPU names, input ranges)."""
    good: list[tuple[int, Scenario, Ranges]] = []
    problems: list[tuple[int, list[str]]] = []
    for i, (pos, row) in enumerate(zip(positions, lines, strict=True)):
        try:
            s, ranges = parse_record(_row_record(table, columns, row), table.where(pos))
        except ScenarioErrors as e:
            problems.append((i, [str(p) for p in e.problems]))
            continue
        good.append((i, s, ranges))
    names = [s.name for _, s, _ in good]
    at = [positions[i] for i, _, _ in good]
    repeated = dups.repeated(names, at, np.ones(len(good), dtype=bool))
    for k, earlier in repeated:
        where = table.where(at[k])
        problems.append((good[k][0], [Duplicates.message(names[k], table.where(earlier), where)]))
    if repeated:
        drop = {k for k, _ in repeated}
        good = [g for k, g in enumerate(good) if k not in drop]
    problems.sort(key=lambda p: p[0])
    return good, problems


def _chunk_per_row(
    table: Table,
    columns: list[tuple[int, str]],
    positions: list[int],
    lines: list[list[Any]],
    dups: NameIndex,
) -> ResultChunk:
    """:func:`_parsed_rows`, each good row computed by :func:`evaluate`."""
    good, problems = _parsed_rows(table, columns, positions, lines, dups)
    results: list[Results] = []
    warnings: list[list[str]] = []
    for i, s, _ in good:
        where = table.where(positions[i])
        try:
            results.append(evaluate(s))
        except ScenarioErrors as e:  # e.g. an unknown GPU name: say where
            problems.append((i, [f"{where}, {p}" for p in e.problems]))
            continue
        except XlcostError as e:
            problems.append((i, [f"{where}: {e}"]))
            continue
        warnings.append(check_scenario(s))
    problems.sort(key=lambda p: p[0])
    chunk = chunk_from_results(results, warnings)
    chunk.problems = [line for _, lines in problems for line in lines]
    chunk.bad_rows = len(problems)
    return chunk


@dataclass
class _Opened:
    """A scenario file opened for reading in chunks: its table and the columns it has."""

    table: Table
    columns: list[tuple[int, str]]
    array: bool
    """True when every column is one the array checks take (see :meth:`by_columns`)."""

    @classmethod
    def of(
        cls, path: Path, ignore_unknown: bool, decimal_comma: bool | None, block_rows: int
    ) -> _Opened:
        """Open ``path`` in blocks of ``block_rows`` rows; blocks of thousands of rows of a
        plain CSV are parsed by pyarrow where it is installed (a few hundred are not worth
        its import: about 25 MB)."""
        floats = _float_columns if block_rows >= BLOCK_ROWS else None
        table = open_table(
            Path(path), decimal_comma=decimal_comma, floats=floats, block_rows=block_rows
        )
        if not ignore_unknown and (line := unknown_columns(table.name, table.header)):
            raise ReadError(line)
        columns = _known(table.header)
        return cls(table, columns, _array_ready([c for _, c in columns]))

    def parts(self, chunk_rows: int) -> Iterator[tuple[list[int], Rows]]:
        """``(positions, rows)`` of each chunk of at most ``chunk_rows`` rows."""
        for positions, lines in _without_gc(self.table.blocks):
            for start in range(0, len(lines), chunk_rows):
                yield positions[start : start + chunk_rows], lines[start : start + chunk_rows]

    def by_columns(self, lines: Rows) -> bool:
        """True if this chunk takes the array checks: a file of numeric inputs, names and
        currencies, and (YAML/JSON) no input given as a range (``ctr: {low: …, high: …}``)."""
        if not self.array:
            return False
        if self.table.prefix is None or isinstance(lines, ColumnBlock):
            return True
        return not any(type(v) is dict for row in lines for v in row)


def calc_chunks(
    path: Path,
    *,
    ignore_unknown: bool = False,
    decimal_comma: bool | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> Iterator[ResultChunk]:
    """Compute every scenario of a scenario file, ``chunk_rows`` rows at a time.

    Raises :class:`~xlcost.reading.ReadError` (one line) when the file cannot be read; bad
    rows are in each chunk's ``problems``. A file that fails part-way raises after the
    chunks before the failure.
    """
    opened = _Opened.of(path, ignore_unknown, decimal_comma, BLOCK_ROWS)
    table, columns, index = opened.table, opened.columns, NameIndex()
    for positions, lines in opened.parts(chunk_rows):
        if opened.by_columns(lines):
            yield _chunk(table, columns, positions, lines, index)
        else:
            yield _chunk_per_row(table, columns, positions, as_rows(lines), index)


_Row = tuple[str, tuple[Scenario, Ranges] | list[str]]
"""One row of a scenario file: its location and either its scenario and ranges (a good row)
or its one-line messages (a bad row)."""


def scenario_chunks(
    path: Path,
    *,
    ignore_unknown: bool = False,
    decimal_comma: bool | None = None,
    chunk_rows: int = CHUNK_ROWS,
    max_rows: int | None = None,
) -> Iterator[list[_Row]]:
    """Validate every scenario of a scenario file, ``chunk_rows`` rows at a time, with the
    array checks (:func:`~xlcost.engine.evaluate.validate_columns`) wherever they apply;
    each chunk's rows in file order.

    The scenarios, ranges and messages are those of
    :func:`~xlcost.scenario_files.read_scenario_file`, which validates each row with the
    pydantic model (the file is read in blocks of the same size, so a file that fails
    part-way reports the same rows before the failure). Raises
    :class:`~xlcost.reading.ReadError` (one line) when the file cannot be read or has more
    than ``max_rows`` rows, after the chunks before the failure (up to the limit).
    """
    opened = _Opened.of(path, ignore_unknown, decimal_comma, RECORD_BLOCK_ROWS)
    index = NameIndex()
    seen, most = 0, math.inf if max_rows is None else max_rows
    for positions, lines in opened.parts(chunk_rows):
        over = seen + len(positions) > most
        if over:  # the rows up to the limit are read (and reported) first
            positions, lines = positions[: int(most) - seen], lines[: int(most) - seen]
        seen += len(positions)
        if positions:
            yield _scenario_rows(opened, positions, lines, index)
        if over:
            raise ReadError(f"{opened.table.name}: more than {most:,} scenarios; refused")


def _scenario_rows(
    opened: _Opened, positions: list[int], lines: Rows, index: NameIndex
) -> list[_Row]:
    """One chunk of :func:`scenario_chunks`."""
    table, columns = opened.table, opened.columns
    if opened.by_columns(lines):
        checked = _checked(table, columns, positions, lines, index)
        rows = checked.rows.tolist()
        plain = [i for i in rows if i not in checked.by_model]
        made = scenarios_from_columns(checked.full, checked.texts, plain)
        found = dict(zip(plain, ((s, Ranges()) for s in made), strict=True)) | checked.by_model
        good = [(i, *found[i]) for i in rows]
        problems = checked.problems
    else:
        good, problems = _parsed_rows(table, columns, positions, as_rows(lines), index)
    out: list[tuple[int, _Row]] = [(i, (table.where(positions[i]), (s, r))) for i, s, r in good]
    out += [(i, (table.where(positions[i]), lines)) for i, lines in problems]
    out.sort(key=lambda row: row[0])
    return [row for _, row in out]


def read_scenarios(
    path: Path,
    *,
    ignore_unknown: bool = False,
    decimal_comma: bool | None = None,
    max_rows: int | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> Loaded:
    """:func:`~xlcost.scenario_files.read_scenario_file` through :func:`scenario_chunks`:
    every good scenario of ``path`` and the problems of the rest, never raising for a
    user's problem."""
    out = Loaded(Path(path).name)
    try:
        for chunk in scenario_chunks(
            path,
            ignore_unknown=ignore_unknown,
            decimal_comma=decimal_comma,
            chunk_rows=chunk_rows,
            max_rows=max_rows,
        ):
            for where, got in chunk:
                if isinstance(got, list):
                    out.problems += got
                    out.bad_rows += 1
                    continue
                out.scenarios.append(got[0])
                out.ranges.append(got[1])
                out.wheres.append(where)
    except Exception as exc:  # one line per unreadable file, never a traceback
        out.fail(file_problem(Path(path), exc))
    return out


def _known(header: Sequence[str]) -> list[tuple[int, str]]:
    """The columns of ``header`` that are inputs or ranges, with their positions."""
    return [(j, c) for j, c in enumerate(header) if c and c in KNOWN_COLUMNS]


def _float_columns(header: list[str]) -> list[int] | None:
    """The columns a CSV file's blocks may hold as floats (see :func:`open_table`): the
    numeric inputs of a file the array path reads; ``None`` for any other file."""
    columns = _known([h.strip() for h in header])
    if not columns or not _array_ready([c for _, c in columns]):
        return None
    return [j for j, c in columns if c not in _ARRAY_TEXT]


def _without_gc(blocks: Iterator[_Block]) -> Iterator[_Block]:
    """The blocks, each read with the cyclic garbage collector paused.

    A block is thousands of small lists of strings (no reference cycles); collecting while
    they are built costs a third of the reading time and frees nothing.
    """
    while True:
        collecting = gc.isenabled()
        gc.disable()
        try:
            block = next(blocks, None)
        finally:
            if collecting:
                gc.enable()
        if block is None:
            return
        yield block
