"""A CSV file's rows column by column, parsed by pyarrow: the fast path of
:func:`xlcost.reading.csv_rows` when the optional pyarrow is installed.

The file is cut at line ends into pieces of at most ``size`` lines. A piece is parsed by
pyarrow only when it is plain — no quote character, no empty line, no carriage return other
than in ``\\r\\n``, no field longer than a number may be, every row as wide as the header,
every number finite — so that its lines are its rows and pyarrow reads exactly what
:mod:`csv` would. Anything else is read by :mod:`csv` as before, with the same checks and
messages: a piece that is not plain on its own, and, from the first quote character on (a
quoted field may hold a line end), the rest of the file.

Numbers are parsed by pyarrow's parser (correctly rounded, as Python's ``float``); the test
suite checks that it reads what ``float`` reads for the characters a plain number has.
``benchmarks/calc_csv.py`` measures ``calc`` of 1,000,000 rows of 54 columns both ways.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["ColumnBlock", "column_blocks", "pyarrow_csv"]

_PIECE_BYTES = 1 << 22
"""Bytes read from the file at a time (pieces are then cut at line ends)."""


def pyarrow_csv() -> Any:
    """pyarrow's CSV module, or ``None`` when pyarrow is not installed."""
    try:
        import pyarrow.csv as pa_csv
    except ImportError:
        return None
    return pa_csv


class ColumnBlock:
    """Consecutive rows of a CSV file as pyarrow columns: the ``floats`` columns as numbers
    (blank fields ``nan``), the others as text; :meth:`rows` gives them as :mod:`csv` rows."""

    def __init__(
        self, text: bytes, table: Any, numbers: dict[int, NDArray[np.float64]], delimiter: str
    ) -> None:
        self.text = text
        self.table = table
        self.numbers = numbers
        self.delimiter = delimiter
        self._texts: dict[int, NDArray[np.object_]] = {}

    def __len__(self) -> int:
        return int(self.table.num_rows)

    def __getitem__(self, part: slice) -> ColumnBlock:
        start, stop, _ = part.indices(len(self))
        ends = np.flatnonzero(np.frombuffer(self.text, np.uint8) == 10)
        lo = 0 if start == 0 else int(ends[start - 1]) + 1
        hi = 0 if stop == 0 else int(ends[stop - 1]) + 1
        table = self.table.slice(start, max(0, stop - start))
        numbers = {j: a[start:stop] for j, a in self.numbers.items()}
        return ColumnBlock(self.text[lo:hi], table, numbers, self.delimiter)

    def floats(self, j: int) -> NDArray[np.float64]:
        """Column ``j`` (read as numbers) as floats, ``nan`` where blank."""
        return self.numbers[j]

    def texts(self, j: int) -> NDArray[np.object_]:
        """Column ``j`` (read as text) as Python strings."""
        if j not in self._texts:
            out = np.empty(len(self), dtype=object)
            out[:] = self.table.column(j).to_pylist()
            self._texts[j] = out
        return self._texts[j]

    def rows(self) -> list[list[str]]:
        """The rows as :mod:`csv` reads them."""
        lines = io.StringIO(self.text.decode("utf-8"), newline="")
        return list(csv.reader(lines, delimiter=self.delimiter))


def _plain_text(piece: bytes, delimiter: int, longest: int) -> bool:
    """True if ``piece`` (whole lines) has no empty line, no lone carriage return and no field
    longer than ``longest`` bytes (quote characters are checked by the caller)."""
    if piece.startswith((b"\n", b"\r\n")) or b"\n\n" in piece or b"\n\r\n" in piece:
        return False
    if b"\r" in piece and piece.count(b"\r") != piece.count(b"\r\n"):
        return False
    a = np.frombuffer(piece, np.uint8)
    ends = np.flatnonzero((a == delimiter) | (a == 10))
    return int(np.diff(ends, prepend=-1).max(initial=0)) - 1 <= longest


def _parsed(
    pa_csv: Any, piece: bytes, width: int, floats: Sequence[int], delimiter: str
) -> ColumnBlock | None:
    """``piece`` parsed by pyarrow, or ``None`` if it is not what :mod:`csv` would read."""
    import pyarrow as pa

    names = [f"c{j}" for j in range(width)]
    numeric = set(floats)
    try:
        table = pa_csv.read_csv(
            pa.py_buffer(piece),
            read_options=pa_csv.ReadOptions(column_names=names, use_threads=False),
            parse_options=pa_csv.ParseOptions(
                delimiter=delimiter,
                quote_char=False,
                newlines_in_values=False,
                ignore_empty_lines=False,
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types={
                    n: pa.float64() if j in numeric else pa.string() for j, n in enumerate(names)
                },
                null_values=[""],
                strings_can_be_null=False,
                check_utf8=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    numbers: dict[int, NDArray[np.float64]] = {}
    for j in floats:
        col = table.column(j)
        values = np.asarray(col.to_numpy(), dtype=np.float64)  # nan where blank
        if np.count_nonzero(~np.isfinite(values)) != col.null_count:  # "nan", "inf", 1e999
            return None
        numbers[j] = values
    return ColumnBlock(piece, table, numbers, delimiter)


def column_blocks(
    fh: IO[bytes],
    start: int,
    width: int,
    floats: Sequence[int],
    delimiter: str,
    size: int,
    longest: int,
    max_rows: int,
    by_csv: Callable[[IO[str], int], Iterator[tuple[list[int], Any]]],
) -> Iterator[tuple[list[int], ColumnBlock | list[list[str]]]]:
    """The rows of ``fh`` from byte ``start`` (the line after the header, row 2 onwards) in
    the blocks :mod:`csv` reads (``size`` rows, the header counted in the first):
    :class:`ColumnBlock` where a piece is plain, else the rows of ``by_csv(text, rows read so
    far)`` (the :mod:`csv` reader with its checks).

    ``floats``: the columns read as numbers; ``longest``: the longest field (bytes) a plain
    piece may have; past ``max_rows`` rows (the header not counted) the rows go to ``by_csv``,
    which refuses them. Closes ``fh`` when done.
    """
    pa_csv = pyarrow_csv()
    done = 1  # rows read so far, the header included
    offset = start  # where ``buf`` starts in the file
    buf, ends, eof = b"", np.empty(0, dtype=np.int64), False
    mark = ord(delimiter)

    def rest_by_csv() -> Iterator[tuple[list[int], Any]]:
        """The file from ``offset`` on, read by csv."""
        fh.seek(offset)
        return by_csv(io.TextIOWrapper(fh, "utf-8", newline=""), done)

    try:
        fh.seek(start)
        while True:
            want = size - done % size  # pieces end where csv's blocks do (the header is one)
            while len(ends) < want and not eof:
                data = fh.read(_PIECE_BYTES)
                if data and not len(ends) and b"\n" not in data and len(buf) > _PIECE_BYTES:
                    yield from rest_by_csv()  # a line of megabytes: csv refuses it
                    return
                if not data:
                    eof = True
                    if buf and not buf.endswith(b"\n"):
                        data = b"\n"  # the last line has no line end
                more = np.flatnonzero(np.frombuffer(data, np.uint8) == 10) + len(buf)
                buf, ends = buf + data, np.concatenate([ends, more])
            if not len(ends):
                return
            n = min(want, len(ends))
            cut = int(ends[n - 1]) + 1
            piece, buf, ends = buf[:cut], buf[cut:], ends[n:] - cut
            if b'"' in piece:  # a quoted field may run on: csv reads the rest
                yield from rest_by_csv()
                return
            block = (
                _parsed(pa_csv, piece, width, floats, delimiter)
                if done + n <= max_rows + 1 and _plain_text(piece, mark, longest)
                else None
            )
            if block is None:
                alone = io.TextIOWrapper(io.BytesIO(piece), "utf-8", newline="")
                yield from by_csv(alone, done)
            else:
                yield list(range(done + 1, done + n + 1)), block
            done += n
            offset += cut
    finally:
        fh.close()
