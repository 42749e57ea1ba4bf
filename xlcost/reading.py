"""The one reading boundary: every file xlcost reads (scenario lists, data files, catalogs,
workbooks) is opened and parsed through here, with named limits checked *before* parsing.

* Only regular files are read: a FIFO, device (``/dev/zero``), socket or directory is refused
  at once (the file is opened with ``O_NONBLOCK`` and checked with ``fstat``, so nothing hangs).
* File sizes are checked before anything is parsed; XLSX files go through the workbook
  package checks (zip bombs, XML bombs, path traversal, encrypted or legacy files).
* YAML is parsed event by event first: custom tags are refused, aliases are counted and the
  size of their expansion bounded ("billion laughs"), depth and number length are bounded;
  then it is loaded with the safe loader, refusing duplicate keys.
* JSON refuses duplicate keys, deep nesting and over-long numbers; a list is read a piece
  and parsed an item at a time (:func:`json_file_items`).
* CSV fields are limited in length; the delimiter (comma, semicolon, tab) is sniffed.
* Parquet (optional, with pyarrow) is checked from its footer first: uncompressed size, rows,
  columns and flat column types; it is then read a batch of rows at a time.

Every failure is a :class:`ReadError`: one line starting with the file name (and the row or
part), never a traceback.  The limits below are the defaults; those a user may legitimately
need to raise can be set with environment variables (see the README, "Limits").
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import functools
import io
import itertools
import json
import os
import re
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from xlcost.engine.errors import XlcostError

if TYPE_CHECKING:
    from xlcost.csv_columns import ColumnBlock

__all__ = [
    "LIMITS",
    "Limits",
    "ReadError",
    "csv_rows",
    "json_file_items",
    "json_list_file",
    "json_list_items",
    "load_json",
    "load_tree",
    "load_yaml",
    "number_too_long",
    "open_regular",
    "parquet_rows",
    "read_text",
    "require_regular_file",
]

_MiB = 2**20


class ReadError(XlcostError):
    """A file cannot be read safely; ``str()`` is one line starting with the file's name."""


def _env_int(name: str, default: int, scale: int = 1) -> int:
    """An integer limit from the environment variable ``name`` (times ``scale``), else default."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise XlcostError(f"environment variable {name}: not a whole number, got {raw!r}") from None
    if value <= 0:
        raise XlcostError(f"environment variable {name}: must be > 0, got {value}")
    return value * scale


@dataclass(frozen=True)
class Limits:
    """The reading limits (bytes, characters, counts); see the README, "Limits".

    Parameters
    ----------
    text_file_bytes : int
        Largest YAML/JSON file (bytes); env ``XLCOST_MAX_TEXT_MB`` (MiB). Default 20 MiB.
    table_file_bytes : int
        Largest CSV file (bytes); env ``XLCOST_MAX_CSV_MB`` (MiB). Default 1 GiB (read in
        chunks, so memory stays flat).
    workbook_uncompressed_bytes : int
        Largest total uncompressed size of an XLSX scenario list (bytes); env
        ``XLCOST_MAX_XLSX_MB`` (MiB). Default 64 MiB.
    rows : int
        Most data rows in one scenario file; env ``XLCOST_MAX_ROWS``. Default 10,000,000.
    field_chars : int
        Longest CSV field or text cell (characters): Excel's own cell limit, 32,767.
    number_chars : int
        Longest text read as a number (characters), 100: no real input has more digits.
    columns : int
        Most columns in a table: Excel's limit, 16,384.
    depth : int
        Deepest nesting of YAML/JSON lists and mappings, 32 (a scenario file needs 3).
    yaml_aliases : int
        Most alias uses (``*name``) in one YAML file, 1,000.
    yaml_nodes : int
        Most nodes of a YAML file once its aliases are expanded, 1,000,000.
    parquet_uncompressed_bytes : int
        Largest uncompressed size of a Parquet scenario list (bytes), from its footer; env
        ``XLCOST_MAX_PARQUET_MB`` (MiB). Default 4 GiB (read a row group's batch at a time).
    """

    text_file_bytes: int = 20 * _MiB
    table_file_bytes: int = 1024 * _MiB
    workbook_uncompressed_bytes: int = 64 * _MiB
    rows: int = 10_000_000
    field_chars: int = 32_767
    number_chars: int = 100
    columns: int = 16_384
    depth: int = 32
    yaml_aliases: int = 1_000
    yaml_nodes: int = 1_000_000
    parquet_uncompressed_bytes: int = 4096 * _MiB

    @classmethod
    def from_env(cls) -> Limits:
        """The defaults, with the overridable ones taken from the environment when set."""
        base = cls()
        return cls(
            **{
                field: _env_int(env, getattr(base, field), scale)
                for field, (env, scale) in _ENV_LIMITS.items()
            }
        )


_ENV_LIMITS = {
    "text_file_bytes": ("XLCOST_MAX_TEXT_MB", _MiB),
    "table_file_bytes": ("XLCOST_MAX_CSV_MB", _MiB),
    "workbook_uncompressed_bytes": ("XLCOST_MAX_XLSX_MB", _MiB),
    "rows": ("XLCOST_MAX_ROWS", 1),
    "parquet_uncompressed_bytes": ("XLCOST_MAX_PARQUET_MB", _MiB),
}
"""The limits a user may raise: field → (environment variable, its unit in bytes or rows)."""


LIMITS = Limits()
"""The default limits (the environment is read by :func:`limits` when a file is opened)."""


def limits() -> Limits:
    """The limits in force: the defaults, overridden by the ``XLCOST_MAX_*`` variables (read
    each time; parsed again only when one of them has changed)."""
    return _limits_of(tuple(os.environ.get(env) for env, _ in _ENV_LIMITS.values()))


@functools.lru_cache(maxsize=4)
def _limits_of(_env: tuple[str | None, ...]) -> Limits:
    return Limits.from_env()


def _size(n: int) -> str:
    """``n`` bytes for a message: ``"20 MiB"`` or ``"512 bytes"``."""
    return f"{n / _MiB:,.0f} MiB" if n >= _MiB else f"{n:,} bytes"


# --------------------------------------------------------------------------- opening


def _kind(mode: int) -> str:
    """What a non-regular file is, for the message."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _open_fd(path: Path) -> tuple[int, os.stat_result]:
    """Open ``path`` read-only without blocking and return the descriptor and its ``fstat``.

    Raises :class:`ReadError` (and closes the descriptor) unless it is a regular file.
    """
    name = path.name or str(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise ReadError(f"{name}: file not found") from None
    except IsADirectoryError:
        raise ReadError(f"{name}: is a directory, not a file") from None
    except OSError as e:
        raise ReadError(f"{name}: cannot read ({e.strerror or e})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ReadError(f"{name}: is {_kind(st.st_mode)}, not a regular file; refused")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def require_regular_file(path: Path) -> int:
    """Check that ``path`` is a readable regular file without reading it; return its size.

    >>> require_regular_file(Path("/dev/null"))
    Traceback (most recent call last):
    ...
    xlcost.reading.ReadError: null: is a device, not a regular file; refused
    """
    fd, st = _open_fd(Path(path))
    os.close(fd)
    return st.st_size


def open_regular(path: Path, max_bytes: int, what: str = "file") -> IO[bytes]:
    """Open a regular file of at most ``max_bytes`` bytes for binary reading.

    Raises :class:`ReadError` naming the file: missing, unreadable, not a regular file, or
    larger than ``max_bytes`` (``what`` names the kind of file in that message).
    """
    fd, st = _open_fd(Path(path))
    if st.st_size > max_bytes:
        os.close(fd)
        raise ReadError(
            f"{Path(path).name}: {what} too large ({_size(st.st_size)} > {_size(max_bytes)})"
        )
    return os.fdopen(fd, "rb")


def _grew_too_large(name: str, what: str, max_bytes: int) -> ReadError:
    """The error for a file that grew past ``max_bytes`` while it was being read."""
    return ReadError(f"{name}: {what} too large (> {_size(max_bytes)})")


def read_text(path: Path, max_bytes: int, what: str = "file") -> str:
    """The whole text of a UTF-8 file (a BOM is dropped), at most ``max_bytes`` bytes."""
    with open_regular(path, max_bytes, what) as fh:
        size = os.fstat(fh.fileno()).st_size  # at most max_bytes (checked on opening)
        data = fh.read(size + 1)  # not read(max_bytes + 1): that allocates max_bytes at once
        if len(data) > size:  # it grew since: read on, to the limit
            data += fh.read(max_bytes + 1 - len(data))
    if len(data) > max_bytes:  # grew while being read
        raise _grew_too_large(Path(path).name, what, max_bytes)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ReadError(
            f"{Path(path).name}: not UTF-8 text (byte {e.start}); in Excel, save as 'CSV UTF-8'"
        ) from None


# --------------------------------------------------------------------------- numbers


_NUMBERISH = frozenset("0123456789+-.,eE_ '")


def number_too_long(text: str, lim: Limits = LIMITS) -> bool:
    """True if ``text`` looks like a number but has more than ``lim.number_chars`` characters.

    >>> number_too_long("1" * 101), number_too_long("1" * 100), number_too_long("x" * 200)
    (True, False, False)
    """
    if len(text) <= lim.number_chars:
        return False
    body = text.strip().lstrip("+-$€£¥(").rstrip("%) ")
    return bool(body) and body[0].isdigit() and set(body) <= _NUMBERISH


def _number_message(lim: Limits) -> str:
    return f"number longer than {lim.number_chars} characters; refused"


# --------------------------------------------------------------------------- JSON


def _refuse_duplicates(name: str) -> Any:
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in pairs:
            if k in out:
                raise ReadError(f"{name}: key {k!r} appears twice in one object")
            out[k] = v
        return out

    return hook


def _depth_ok(data: Any, max_depth: int) -> bool:
    """True if lists/mappings in ``data`` nest at most ``max_depth`` deep (iterative walk)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > max_depth:
                return False
            children = node.values() if isinstance(node, dict) else node
            stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return True


def _json_decoder(name: str, lim: Limits) -> json.JSONDecoder:
    """A decoder refusing duplicate keys and numbers longer than ``lim.number_chars``."""

    def number(kind: type) -> Any:
        def parse(s: str) -> Any:
            if len(s) > lim.number_chars:
                raise ReadError(f"{name}: {_number_message(lim)}")
            return kind(s)

        return parse

    return json.JSONDecoder(
        object_pairs_hook=_refuse_duplicates(name), parse_int=number(int), parse_float=number(float)
    )


def _json_problem(name: str, e: Exception | None, lim: Limits) -> ReadError:
    """The error for a JSON document ``json`` could not parse (``None``: nested too deep)."""
    if e is None or isinstance(e, RecursionError):
        return ReadError(f"{name}: nested deeper than {lim.depth} levels; refused")
    return ReadError(f"{name}: not valid JSON: {e}")


def load_json(text: str, name: str, lim: Limits = LIMITS) -> Any:
    """Parse JSON text: duplicate keys, nesting deeper than ``lim.depth`` and numbers longer
    than ``lim.number_chars`` are refused with one line naming ``name``.

    >>> load_json('{"a": 1, "a": 2}', "s.json")
    Traceback (most recent call last):
    ...
    xlcost.reading.ReadError: s.json: key 'a' appears twice in one object
    """
    try:
        data = _json_decoder(name, lim).decode(text)
    except (RecursionError, json.JSONDecodeError) as e:
        raise _json_problem(name, e, lim) from None
    if not _depth_ok(data, lim.depth):
        raise _json_problem(name, None, lim)
    return data


_SPACE = re.compile(r"[ \t\n\r]*")
"""JSON's white space (matches everywhere, possibly empty)."""


def json_list_items(text: str, name: str, lim: Limits = LIMITS) -> Iterator[Any] | None:
    """The items of a JSON document that is a list, parsed one at a time (each checked as
    :func:`load_json` checks a document), so that only one is in memory; ``None`` when the
    document is not a list. A problem past the first item is raised when it is reached.

    >>> list(json_list_items('[{"a": 1}, {"a": 2}]', "s.json")), json_list_items("{}", "s.json")
    ([{'a': 1}, {'a': 2}], None)
    >>> list(json_list_items('[1, 2', "s.json"))
    Traceback (most recent call last):
    ...
    xlcost.reading.ReadError: s.json: not valid JSON: Expecting ',' delimiter: line 1 ...
    """
    start = _SPACE.match(text).end()  # type: ignore[union-attr]
    if not text.startswith("[", start):
        return None
    return _json_items(text, start + 1, name, lim)


def _json_items(text: str, i: int, name: str, lim: Limits) -> Iterator[Any]:
    decoder = _json_decoder(name, lim)
    i = _SPACE.match(text, i).end()  # type: ignore[union-attr]
    if text.startswith("]", i):
        i += 1
    else:
        while True:
            try:
                item, i = decoder.raw_decode(text, i)
            except (RecursionError, json.JSONDecodeError) as e:
                raise _json_problem(name, e, lim) from None
            if not _depth_ok(item, lim.depth - 1):
                raise _json_problem(name, None, lim)
            yield item
            i = _SPACE.match(text, i).end()  # type: ignore[union-attr]
            if text.startswith(",", i):
                i = _SPACE.match(text, i + 1).end()  # type: ignore[union-attr]
            elif text.startswith("]", i):
                i += 1
                break
            else:
                bad = json.JSONDecodeError("Expecting ',' delimiter", text, i)
                raise _json_problem(name, bad, lim)
    end = _SPACE.match(text, i).end()  # type: ignore[union-attr]
    if end != len(text):
        raise _json_problem(name, json.JSONDecodeError("Extra data", text, end), lim)


_JSON_PIECE = _MiB
"""Bytes of a JSON file read at a time by :func:`json_file_items`."""


def json_file_items(path: Path, lim: Limits, what: str = "YAML/JSON file") -> Iterator[Any] | None:
    """The items of a JSON file that is a list, read and parsed a piece at a time, so that
    neither the file's bytes nor its text are held whole: the same items, checks and
    messages as :func:`json_list_items` over :func:`read_text`, except that a byte that is
    not UTF-8 is reported (with the same message) when the piece holding it is reached, not
    before the first item. ``None`` when the document is not a list (or its first piece is
    not UTF-8: :func:`read_text` then says where); once it is known to be one,
    :func:`json_list_file` reads it again without looking first.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = Path(d, "s.json")
    ...     _ = p.write_text('[{"a": 1}, {"a": 2}]')
    ...     list(json_file_items(p, LIMITS))
    [{'a': 1}, {'a': 2}]
    """
    with open_regular(path, lim.text_file_bytes, what) as fh:
        try:
            head = _JsonText(fh, lim.text_file_bytes, Path(path).name, what).peek()
        except UnicodeDecodeError:
            return None
    return json_list_file(Path(path), lim, what) if head == "[" else None


def json_list_file(path: Path, lim: Limits, what: str = "YAML/JSON file") -> Iterator[Any]:
    """The items of a JSON file known to be a list (:func:`json_file_items`), read a piece at
    a time. On any problem the whole text is parsed again, skipping the items already given,
    so that the message is the one :func:`json_list_items` gives; a file that is no longer a
    list says that it changed while it was being read."""
    name, done = path.name, 0
    try:
        with open_regular(path, lim.text_file_bytes, what) as fh:
            for item in _streamed_items(_JsonText(fh, lim.text_file_bytes, name, what), name, lim):
                yield item
                done += 1
        return
    except (ReadError, UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        pass
    whole = json_list_items(read_text(path, lim.text_file_bytes, what), name, lim)
    if whole is None:
        raise ReadError(f"{name}: the file changed while it was being read; try again")
    yield from itertools.islice(whole, done, None)


def _streamed_items(text: _JsonText, name: str, lim: Limits) -> Iterator[Any]:
    """The items of the list ``text`` holds; a problem raises ``json``'s own exception
    (:func:`json_list_file` turns it into the message)."""
    decoder = _json_decoder(name, lim)
    text.take("[")
    if text.peek() == "]":
        text.take("]")
    else:
        while True:
            item = text.value(decoder)
            if not _depth_ok(item, lim.depth - 1):
                raise RecursionError
            yield item
            if text.peek() == "]":
                text.take("]")
                break
            text.take(",")
    if text.peek():
        raise json.JSONDecodeError("Extra data", text.buf, text.pos)


class _JsonText:
    """A JSON file's text read a piece at a time: ``buf[pos:]`` is what is not parsed yet."""

    def __init__(self, fh: IO[bytes], max_bytes: int, name: str, what: str) -> None:
        self.fh, self.limit, self.name, self.what = fh, max_bytes, name, what
        self.read = 0  # bytes read so far
        self.decode = codecs.getincrementaldecoder("utf-8-sig")().decode
        self.buf, self.pos, self.eof = "", 0, False

    def more(self) -> bool:
        """Read the next piece (at least as long as what is not parsed yet, so that a long
        item is parsed again only a few times); ``False`` at the end of the file."""
        if self.eof:
            return False
        data = self.fh.read(max(_JSON_PIECE, len(self.buf) - self.pos))
        self.read += len(data)
        if self.read > self.limit:  # grew while being read
            raise _grew_too_large(self.name, self.what, self.limit)
        self.buf = self.buf[self.pos :] + self.decode(data, final=not data)
        self.pos, self.eof = 0, not data
        return True

    def peek(self) -> str:
        """The next character that is not white space (``""``: the end of the file)."""
        while True:
            self.pos = _SPACE.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.more():
                return ""

    def take(self, char: str) -> None:
        """Step over ``char``, the next character that is not white space."""
        if self.peek() != char:
            expected = "Expecting ',' delimiter" if char == "," else f"Expecting {char!r}"
            raise json.JSONDecodeError(expected, self.buf, self.pos)
        self.pos += 1

    def value(self, decoder: json.JSONDecoder) -> Any:
        """The next JSON value, read on until it is whole: a number cut after ``1.``,
        ``1e`` or ``1e+`` parses as ``1``, so a value is whole only when more than two
        characters follow it (or the file ends)."""
        self.peek()
        while True:
            try:
                item, end = decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError:
                if not self.more():
                    raise
                continue
            if end < len(self.buf) - 2 or not self.more():
                self.pos = end
                return item


# --------------------------------------------------------------------------- YAML

_STANDARD_TAGS = frozenset(
    f"tag:yaml.org,2002:{t}"
    for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
)


def _yaml_error(name: str, e: Exception) -> ReadError:
    import yaml

    mark = getattr(e, "problem_mark", None)
    if isinstance(e, yaml.MarkedYAMLError) and e.problem and mark is not None:
        where = f"{e.problem} (line {mark.line + 1}, column {mark.column + 1})"
    else:
        text = str(e).strip()
        where = text.splitlines()[0] if text else type(e).__name__
    return ReadError(f"{name}: not valid YAML: {where}")


def _check_yaml_events(text: str, name: str, lim: Limits) -> None:
    """Walk the YAML event stream (no objects built) and refuse what the limits forbid.

    Every anchored node's expanded size is recorded; an alias adds that size to each
    enclosing collection, so the expanded size of the whole document is known exactly
    before anything is constructed.
    """
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    sizes: dict[str, int] = {}
    # open collections: [anchor, expanded size so far]
    stack: list[list[Any]] = []
    total = 0
    aliases = 0

    def add(n: int) -> None:
        nonlocal total
        if stack:
            stack[-1][1] += n
        else:
            total += n
        if total + sum(s[1] for s in stack) > lim.yaml_nodes:
            raise ReadError(
                f"{name}: YAML expands to more than {lim.yaml_nodes:,} nodes (alias bomb); refused"
            )

    for event in yaml.parse(io.StringIO(text), Loader=loader):
        tag = getattr(event, "tag", None)
        if tag is not None and tag not in ("!", *_STANDARD_TAGS):
            raise ReadError(f"{name}: YAML tag {tag!r} refused (only plain data is read)")
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > lim.yaml_aliases:
                raise ReadError(f"{name}: more than {lim.yaml_aliases:,} YAML aliases; refused")
            add(sizes.get(event.anchor or "", 1))
        elif isinstance(event, yaml.ScalarEvent):
            value = event.value
            if len(value) > lim.field_chars:
                raise ReadError(
                    f"{name}: a value longer than {lim.field_chars:,} characters; refused"
                )
            if not event.style and number_too_long(value, lim):  # plain: None or ''
                raise ReadError(f"{name}: {_number_message(lim)}")
            if event.anchor:
                sizes[event.anchor] = 1
            add(1)
        elif isinstance(event, yaml.CollectionStartEvent):
            if len(stack) >= lim.depth:
                raise ReadError(f"{name}: nested deeper than {lim.depth} levels; refused")
            stack.append([event.anchor, 1])
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, size = stack.pop()
            if anchor:
                sizes[anchor] = size
            add(size)


def _yaml_loader() -> type:
    """The safe YAML loader (libyaml's when available) refusing duplicate mapping keys."""
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class _Loader(base):  # type: ignore[valid-type,misc]
        def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
            seen: set[Any] = set()
            for key_node, _value in node.value:
                key = self.construct_object(key_node, deep=True)
                with contextlib.suppress(TypeError):
                    if key in seen:
                        mark = key_node.start_mark
                        raise ReadError(
                            f"line {mark.line + 1}: key {key!r} appears twice in one mapping"
                        )
                    seen.add(key)
            return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]

    return _Loader


def load_yaml(text: str, name: str, lim: Limits = LIMITS) -> Any:
    """Parse YAML text safely (see the module docstring); one-line :class:`ReadError`.

    >>> load_yaml("a: &x [1, 2]\\nb: *x\\n", "s.yaml")
    {'a': [1, 2], 'b': [1, 2]}
    >>> load_yaml("a: !!python/object:os.system 1", "s.yaml")
    Traceback (most recent call last):
    ...
    xlcost.reading.ReadError: s.yaml: YAML tag 'tag:yaml.org,2002:python/object:os.system' ...
    """
    import yaml

    try:
        _check_yaml_events(text, name, lim)
        return yaml.load(text, Loader=_yaml_loader())
    except ReadError as e:
        msg = str(e)
        raise ReadError(msg if msg.startswith(name) else f"{name} {msg}") from None
    except yaml.YAMLError as e:
        raise _yaml_error(name, e) from None
    except (RecursionError, MemoryError):
        raise ReadError(f"{name}: nested too deeply or too large; refused") from None
    except ValueError as e:  # e.g. a date out of range
        raise ReadError(f"{name}: not valid YAML: {e}") from None


def load_tree(path: Path, lim: Limits | None = None) -> Any:
    """Read a YAML or JSON file (by suffix; ``.json`` is JSON, anything else YAML)."""
    lim = lim or limits()
    path = Path(path)
    text = read_text(path, lim.text_file_bytes, "YAML/JSON file")
    if path.suffix.lower() == ".json":
        return load_json(text, path.name, lim)
    return load_yaml(text, path.name, lim)


# --------------------------------------------------------------------------- CSV

_DELIMITERS = (",", ";", "\t")


def sniff_delimiter(sample: str) -> str:
    """The delimiter of a CSV from its first line(s): comma, semicolon or tab.

    The one that occurs most often outside quotes in the header line wins; comma on a tie.

    >>> sniff_delimiter("name;train_gpus;ctr\\n"), sniff_delimiter("name\\ttrain_gpus\\n")
    (';', '\\t')
    >>> sniff_delimiter('name,"a;b"\\n')
    ','
    """
    line = sample.split("\n", 1)[0]
    outside = "".join(part for i, part in enumerate(line.split('"')) if i % 2 == 0)
    counts = {d: outside.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


Block = tuple[list[int], list[list[str]]]
"""Rows read at a time: their row numbers (the header is row 1) and their fields."""

CsvBlock = tuple[list[int], "list[list[str]] | ColumnBlock"]
"""A :data:`Block` of a CSV file, whose rows may be columns read by pyarrow."""

BLOCK_ROWS = 8_192
"""Rows per :data:`Block`: bounds memory (about 15 MB of text for 30 columns) and is large
enough that the per-block costs of the array engine vanish."""


@dataclass
class CsvFile:
    """An open CSV file: its sniffed delimiter and its rows in blocks (see :data:`Block`)."""

    name: str
    delimiter: str
    blocks: Iterator[CsvBlock]


def csv_rows(
    path: Path,
    lim: Limits | None = None,
    block_rows: int = BLOCK_ROWS,
    floats: Callable[[list[str]], Sequence[int] | None] | None = None,
) -> CsvFile:
    """Open a CSV file for streaming: rows in blocks of ``block_rows``, header is row 1.

    The delimiter is sniffed from the first line; a UTF-8 BOM (Excel's "CSV UTF-8") is
    dropped; fields longer than ``lim.field_chars``, rows wider than ``lim.columns`` and files
    with more than ``lim.rows`` rows are refused with a :class:`ReadError` naming the row.

    ``floats``: given the header (row 1), the columns the caller reads as numbers, or
    ``None``. With it, a comma-separated file and pyarrow installed, the blocks after the
    header are :class:`~xlcost.csv_columns.ColumnBlock` objects wherever the text is plain
    (see :mod:`xlcost.csv_columns`); the header comes first, as a block of its own.
    """
    lim = lim or limits()
    path = Path(path)
    name = path.name
    fh = open_regular(path, lim.table_file_bytes, "CSV file")
    text = io.TextIOWrapper(fh, encoding="utf-8-sig", newline="")
    try:
        sample = text.read(64 * 1024)
    except UnicodeDecodeError:
        text.close()
        raise _not_utf8(path, lim) from None
    delimiter = sniff_delimiter(sample)
    text.seek(0)
    if floats is not None and delimiter == ",":
        columnar = _columnar(fh, text, sample, floats, path, lim, block_rows)
        if columnar is not None:
            return CsvFile(name, delimiter, columnar)
    return CsvFile(name, delimiter, _blocks(text, delimiter, path, lim, block_rows))


def _columnar(
    fh: IO[bytes],
    text: io.TextIOWrapper,
    sample: str,
    floats: Callable[[list[str]], Sequence[int] | None],
    path: Path,
    lim: Limits,
    size: int,
) -> Iterator[CsvBlock] | None:
    """The blocks of :func:`csv_rows` read by :func:`~xlcost.csv_columns.column_blocks`, or
    ``None`` (then :mod:`csv` reads the file) without pyarrow, with a quoted or unfinished
    header line, or when ``floats`` declines the header."""
    from xlcost.csv_columns import column_blocks, pyarrow_csv

    line, end, _ = sample.partition("\n")
    if not end or '"' in line or "\r" in line.removesuffix("\r") or pyarrow_csv() is None:
        return None
    header = next(csv.reader([line + end]))
    if len(header) > lim.columns or max(map(len, header)) > lim.field_chars:
        return None
    columns = floats(header)
    if columns is None:
        return None
    text.detach()  # the file is read as bytes from here on
    fh.seek(0)
    start = len((line + end).encode("utf-8")) + (3 if fh.read(3) == _BOM else 0)

    def by_csv(rest: IO[str], done: int) -> Iterator[Block]:
        return _blocks(rest, ",", path, lim, size, done)

    rows = column_blocks(
        fh, start, len(header), columns, ",", size, lim.number_chars, lim.rows, by_csv
    )
    head: CsvBlock = ([1], [header])
    return itertools.chain([head], rows)


_BOM = b"\xef\xbb\xbf"


def _not_utf8(path: Path, lim: Limits) -> ReadError:
    """The error for a CSV file that is not UTF-8, naming the line and the byte (from the
    start of the file) of its first byte that is not."""
    line, offset, pending = 1, 0, b""  # offset: where ``pending`` starts in the file
    with open_regular(path, lim.table_file_bytes, "CSV file") as fh:
        while chunk := fh.read(_MiB):
            data = pending + chunk
            try:
                data.decode("utf-8")
                good = len(data)
            except UnicodeDecodeError as e:
                if e.reason != "unexpected end of data":
                    line += data.count(b"\n", 0, e.start)
                    offset += e.start
                    break
                good = e.start  # a character split by the chunk: decoded with the next
            line += data.count(b"\n", 0, good)
            offset, pending = offset + good, data[good:]
    return ReadError(
        f"{path.name} row {line}: not UTF-8 text (byte {offset}); in Excel, save as 'CSV UTF-8'"
    )


def _csv_problem(path: Path, row_no: int, exc: Exception, lim: Limits) -> ReadError:
    if isinstance(exc, UnicodeDecodeError):
        return _not_utf8(path, lim)
    name = path.name
    reason = str(exc)
    if "field larger" in reason:
        reason = f"a field longer than {lim.field_chars:,} characters"
    return ReadError(f"{name} row {row_no}: not readable CSV: {reason}")


def _blocks(
    text: IO[str], delimiter: str, path: Path, lim: Limits, size: int, done: int = 0
) -> Iterator[Block]:
    """The rows of an opened CSV in blocks, checked in bulk; closes the file when done.

    ``done``: the rows of the file before ``text`` (its first row is row ``done + 1``)."""
    name = path.name
    old = csv.field_size_limit()
    reader = csv.reader(text, delimiter=delimiter)
    try:
        csv.field_size_limit(lim.field_chars)
        while True:
            block: list[list[str]] = []
            try:
                for row in reader:
                    block.append(row)
                    if len(block) >= size:
                        break
            except (csv.Error, UnicodeDecodeError) as e:
                raise _csv_problem(path, done + len(block) + 1, e, lim) from None
            if not block:
                return
            if done + len(block) > lim.rows + 1:
                raise ReadError(
                    f"{name}: more than {lim.rows:,} rows (set XLCOST_MAX_ROWS to allow more)"
                )
            if max(map(len, block)) > lim.columns:
                i = next(i for i, r in enumerate(block) if len(r) > lim.columns)
                raise ReadError(f"{name} row {done + i + 1}: more than {lim.columns:,} columns")
            yield list(range(done + 1, done + len(block) + 1)), block
            done += len(block)
    finally:
        csv.field_size_limit(old)
        text.close()


# --------------------------------------------------------------------------- Parquet

PARQUET_EXTRA = "pip install 'xlcost[parquet]'"
"""How to get the optional Parquet support (pyarrow)."""


@dataclass
class ParquetFile:
    """An open Parquet file: its column names and its rows in blocks (see :data:`Block`;
    row 1 is the header, as in a CSV file, so the first data row is row 2)."""

    name: str
    header: list[str]
    blocks: Iterator[Block]


def parquet_rows(
    path: Path, lim: Limits | None = None, block_rows: int = BLOCK_ROWS
) -> ParquetFile:
    """Open a Parquet file (needs the optional pyarrow) for streaming, a row group's batch of
    ``block_rows`` rows at a time.

    Checked before any data is decoded: a regular file of at most ``lim.table_file_bytes``;
    its footer's uncompressed size at most ``lim.parquet_uncompressed_bytes`` (a
    decompression bomb is refused), at most ``lim.rows`` rows and ``lim.columns`` columns,
    and only flat columns (numbers, text, booleans, nulls). Text cells longer than
    ``lim.field_chars`` are refused as they are read. Every problem is a :class:`ReadError`
    naming the file.
    """
    lim = lim or limits()
    name = Path(path).name
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ReadError(f"{name}: reading Parquet needs pyarrow: {PARQUET_EXTRA}") from None
    fh = open_regular(Path(path), lim.table_file_bytes, "Parquet file")
    try:
        pf = pq.ParquetFile(fh)
        meta = pf.metadata
        schema = pf.schema_arrow
    except (pa.ArrowException, OSError, ValueError) as e:
        fh.close()
        raise ReadError(f"{name}: not a readable Parquet file ({_first_line(e)})") from None
    try:
        expanded = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        if expanded > lim.parquet_uncompressed_bytes:
            raise ReadError(
                f"{name}: expands to {_size(expanded)} of data, more than "
                f"{_size(lim.parquet_uncompressed_bytes)} (set XLCOST_MAX_PARQUET_MB to allow more)"
            )
        if meta.num_rows > lim.rows:
            raise ReadError(
                f"{name}: more than {lim.rows:,} rows (set XLCOST_MAX_ROWS to allow more)"
            )
        if len(schema) > lim.columns:
            raise ReadError(f"{name}: more than {lim.columns:,} columns")
        t = pa.types
        flat = (t.is_integer, t.is_floating, t.is_decimal, t.is_string, t.is_large_string,
                t.is_boolean, t.is_null, t.is_dictionary)  # fmt: skip
        for f in schema:
            if not any(is_kind(f.type) for is_kind in flat):
                raise ReadError(
                    f"{name}: column {f.name!r} holds {f.type}; scenario columns hold numbers "
                    "or text"
                )
    except ReadError:
        fh.close()
        raise
    return ParquetFile(name, list(schema.names), _parquet_blocks(pf, fh, name, lim, block_rows))


def _parquet_blocks(pf: Any, fh: IO[bytes], name: str, lim: Limits, size: int) -> Iterator[Block]:
    """The rows of an opened Parquet file in blocks; closes the file when done."""
    import pyarrow as pa

    done = 1  # the header counts as row 1
    limit = lim.field_chars
    try:
        batches = pf.iter_batches(batch_size=size)
        while True:
            try:
                batch = next(batches, None)
            except (pa.ArrowException, OSError, ValueError) as e:
                raise ReadError(
                    f"{name} row {done + 1}: not readable Parquet ({_first_line(e)})"
                ) from None
            if batch is None:
                return
            columns = [c.to_pylist() for c in batch.columns]
            for values in columns:
                long = next(
                    (i for i, v in enumerate(values) if isinstance(v, str) and len(v) > limit),
                    None,
                )
                if long is not None:
                    too_long = f"a field longer than {limit:,} characters"
                    raise ReadError(f"{name} row {done + 1 + long}: {too_long}")
            rows = [list(r) for r in zip(*columns, strict=True)]
            yield list(range(done + 1, done + 1 + len(rows))), rows
            done += len(rows)
    finally:
        fh.close()


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


# --------------------------------------------------------------------------- workbooks


def check_workbook_file(path: Path, lim: Limits | None = None) -> None:
    """Refuse a workbook file that is not regular or not a safe ``.xlsx``/``.xlsm`` package.

    The package checks (zip bombs, path traversal, encrypted/legacy files) are the workbook
    reader's own (:func:`xlcost.workbooks.package.check_package`), with this module's
    size limit for the total uncompressed size.
    """
    from xlcost.workbooks.package import WorkbookError, check_package

    lim = lim or limits()
    require_regular_file(path)
    try:
        check_package(Path(path), max_total_uncompressed=lim.workbook_uncompressed_bytes)
    except WorkbookError as e:
        raise ReadError(str(e)) from None
