"""Batch work over many files: generate, fill, validate and compute workbooks.

Every file is one *task*, done by a small top-level function that returns an :class:`Outcome`
(a label, the error lines if it failed, and small results): a bad file is reported and skipped
and the batch goes on.  :func:`run` does the tasks in order, in this process or in a pool of
worker processes, with a bounded number of tasks in flight, so memory stays flat however many
files there are; workers receive paths and values and send back only outcomes.

Workbooks are written by :class:`~xlcost.workbooks.package.TemplateFiller`: the template is
checked and parsed once per process, then each output is the template's members copied raw with
the input cells spliced into the edited sheet (atomic write, text always as text, no macro ever
runs).  This module does not import openpyxl.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import itertools
import os
import re
import signal
import sys
import threading
import time
import unicodedata
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TextIO, TypeVar

from xlcost._files import OutputError, sync_files
from xlcost.engine.catalog import Catalog, catalog_set, set_catalog
from xlcost.engine.checks import check_many, check_scenario
from xlcost.engine.errors import ScenarioErrors, XlcostError
from xlcost.engine.evaluate import evaluate_many
from xlcost.engine.examples import seed_scenario
from xlcost.engine.model import Results, Scenario
from xlcost.engine.risk import Ranges
from xlcost.fill_rows import fill_row, plan_fill
from xlcost.scenario_columns import scenario_chunks
from xlcost.scenario_files import (
    Duplicates,
    load_scenarios,
    open_table,
    read_records,
    unknown_columns,
)
from xlcost.workbooks.inputs import WORKBOOK_SUFFIXES, input_cells, read_with_catalog
from xlcost.workbooks.layout import MAX_MONTHS
from xlcost.workbooks.package import CellRef, OpenWorkbook, TemplateFiller, WorkbookError

if TYPE_CHECKING:
    from xlcost.workbooks.template import Template

__all__ = [
    "FillJob",
    "FillTask",
    "GenerateTask",
    "Outcome",
    "OutputNames",
    "Progress",
    "Syncer",
    "calc_file",
    "calc_files",
    "fill_one",
    "fill_tasks",
    "generate_one",
    "generate_tasks",
    "run",
    "safe_stem",
    "validate_file",
]

T = TypeVar("T")
Value = float | int | str | bool | None


@dataclass(frozen=True)
class Outcome:
    """What became of one task: small enough to send back from a worker process.

    Parameters
    ----------
    label : str
        The file (or data row) the task was about.
    errors : tuple of str
        One-line problems; empty on success.
    results : tuple of Results
        Computed results (``calc``).
    warnings : tuple of tuple of str
        The checks' warnings of each result (``calc``; :mod:`xlcost.engine.checks`).
    note : str
        A line to show on success (``validate``).
    """

    label: str
    errors: tuple[str, ...] = ()
    results: tuple[Results, ...] = ()
    note: str = ""
    warnings: tuple[tuple[str, ...], ...] = ()

    @property
    def ok(self) -> bool:
        """True if the task succeeded."""
        return not self.errors


def _failed(label: str, exc: BaseException) -> Outcome:
    """The outcome of a task that raised: one line per problem, never a traceback."""
    if isinstance(exc, ScenarioErrors):
        return Outcome(label, tuple(str(p) for p in exc.problems))
    if isinstance(exc, XlcostError | WorkbookError):
        return Outcome(label, (str(exc),))
    if isinstance(exc, OSError):
        return Outcome(label, (f"{label}: {exc.strerror or exc}",))
    return Outcome(label, (f"{label}: internal error ({type(exc).__name__}: {exc})",))


# --------------------------------------------------------------------------- output names

_WINDOWS_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL"]
    + [f"{dev}{i}" for dev in ("COM", "LPT") for i in (*range(1, 10), "¹", "²", "³")]
)
_UNSAFE_CHARS = re.compile(r'[<>:"/\\|?*]')
_MAX_STEM_BYTES = 150


def safe_stem(name: str) -> str:
    """A file-name stem made from a scenario name, safe on Windows, macOS and Linux.

    Path separators, characters Windows forbids, control and invisible format characters
    become ``_``; leading dots and spaces and trailing dots and spaces go; reserved device
    names (``CON``, ``NUL``, ``COM1``, …) get a ``_`` prefix; the stem is limited to
    150 UTF-8 bytes.  An empty result becomes ``"scenario"``.

    Parameters
    ----------
    name : str
        Any text, e.g. the ``name`` of a scenario.

    Returns
    -------
    str
        The stem (no extension).

    Examples
    --------
    >>> safe_stem("../../etc/passwd")
    '_.._etc_passwd'
    >>> safe_stem("=cmd|' /C calc'!A0")
    "=cmd_' _C calc'!A0"
    >>> safe_stem("nul.txt "), safe_stem(" ... ")
    ('_nul.txt', 'scenario')
    """
    text = unicodedata.normalize("NFC", name)
    text = "".join(
        "_" if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp") else ch
        for ch in text
    )
    text = _UNSAFE_CHARS.sub("_", text).lstrip(". ").rstrip(". ")
    while len(text.encode("utf-8")) > _MAX_STEM_BYTES:
        text = text[:-1].rstrip(". ")
    if not text:
        return "scenario"
    if text.split(".")[0].rstrip(" ").upper() in _WINDOWS_RESERVED:
        text = "_" + text
    return text


class OutputNames:
    """Unique, safe output paths in one directory (case-insensitively unique).

    Parameters
    ----------
    directory : Path
        Where the outputs go.
    suffix : str
        Their extension, e.g. ``".xlsx"``.

    Examples
    --------
    >>> names = OutputNames(Path("out"), ".xlsx")
    >>> [names.claim(n).name for n in ("BERT", "bert", "a/b")]
    ['BERT.xlsx', 'bert-2.xlsx', 'a_b.xlsx']
    """

    def __init__(self, directory: Path, suffix: str) -> None:
        self.directory = directory
        self.suffix = suffix
        self._taken: set[str] = set()

    def claim(self, name: str) -> Path:
        """A path for ``name`` that no earlier :meth:`claim` returned."""
        base = safe_stem(name)
        stem, n = base, 1
        while stem.casefold() in self._taken:
            n += 1
            stem = f"{base}-{n}"
        self._taken.add(stem.casefold())
        return self.directory / f"{stem}{self.suffix}"


# --------------------------------------------------------------------------- progress


class Progress:
    """A one-line counter on stderr (``\\r``-updated), shown only on a terminal.

    Parameters
    ----------
    label : str
        The command, e.g. ``"generate"``.
    total : int or None
        Number of tasks, if known.
    stream : TextIO, optional
        Where to draw; default ``sys.stderr``.  Nothing is drawn unless it is a terminal.
    """

    def __init__(self, label: str, total: int | None, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty()
        self.label = label
        self.total = total
        self.done = 0
        self.failed = 0
        self._start = time.monotonic()
        self._shown = 0.0

    def advance(self, outcome: Outcome) -> None:
        """Count one finished task (redrawing at most ten times a second)."""
        self.done += 1
        self.failed += not outcome.ok
        now = time.monotonic()
        if self.enabled and (now - self._shown >= 0.1 or self.done == self.total):
            self._shown = now
            rate = self.done / max(now - self._start, 1e-9)
            of = f"/{self.total}" if self.total is not None else ""
            bad = f", {self.failed} failed" if self.failed else ""
            self.stream.write(f"\r{self.label}: {self.done}{of} ({rate:,.0f}/s{bad})  ")
            self.stream.flush()

    def clear(self) -> None:
        """Clear the counter line (before printing a message, and at the end)."""
        if self.enabled and self.done:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = 0.0


class Syncer:
    """Makes a batch's outputs durable: each file fsynced, then each folder once, in groups.

    Files are written and renamed into place atomically one by one; fsyncing each (and its
    folder) at once costs 1–11 ms a file under load, while syncing a group of already written
    files mostly finds their data on its way to disk.  :meth:`close` must run before the batch
    reports success.

    Parameters
    ----------
    group : int
        Files synced together (memory stays bounded however many there are).
    """

    def __init__(self, group: int = 256) -> None:
        self.group = group
        self._pending: list[Path] = []

    def add(self, path: Path) -> None:
        """Note a written output; sync the group once it is full."""
        self._pending.append(path)
        if len(self._pending) >= self.group:
            self.flush()

    def flush(self) -> None:
        """fsync the noted files and their folders now."""
        pending, self._pending = self._pending, []
        try:
            sync_files(pending)
        except OutputError as exc:
            raise XlcostError(f"{exc} (the outputs written so far may not be on disk)") from None

    close = flush


# --------------------------------------------------------------------------- runner


def _work_chunk(work: Callable[[T], Outcome], chunk: Sequence[T]) -> list[Outcome]:
    """Do a chunk of tasks in a worker: at once if ``work`` has a chunk version, else one by one."""
    at_once = _AT_ONCE.get(work)
    if at_once is not None:
        try:
            return at_once(chunk)
        except Exception:  # a bug in the chunk path: each task again on its own, to report it
            pass
    return [_safely(work, task) for task in chunk]


def _safely(work: Callable[[T], Outcome], task: T) -> Outcome:
    try:
        return work(task)
    except Exception as exc:  # reported like a bad file: a bug must not stop the batch either
        label = task.name if isinstance(task, Path) else getattr(task, "label", str(task))
        return _failed(str(label), exc)


def run(
    items: Iterable[T | Outcome],
    work: Callable[[T], Outcome],
    *,
    workers: int = 1,
    chunksize: int = 8,
    progress: Progress | None = None,
) -> Iterator[Outcome]:
    """Do ``work`` on every task, yielding the outcomes in input order.

    Parameters
    ----------
    items : iterable of tasks or Outcome
        Tasks, consumed lazily; an :class:`Outcome` (a task that already failed while
        being prepared) is passed through in its place.
    work : callable
        A picklable top-level function from a task to an :class:`Outcome`.
    workers : int
        Number of worker processes; 1 runs in this process.
    chunksize : int
        Tasks sent to a worker at a time.
    progress : Progress, optional
        Advanced once per outcome.

    Yields
    ------
    Outcome
        One per item, in order.  At most ``2 × workers`` chunks are in flight, so memory
        does not grow with the number of tasks.
    """

    def done(outcome: Outcome) -> Outcome:
        if progress is not None:
            progress.advance(outcome)
        return outcome

    if workers <= 1:
        if work not in _AT_ONCE:
            for item in items:
                yield done(item if isinstance(item, Outcome) else _safely(work, item))
            return
        for group in _chunks(items, max(chunksize, _LOCAL_CHUNK)):
            outcomes = [group] if isinstance(group, Outcome) else _work_chunk(work, group)
            yield from map(done, outcomes)
        return
    pending: deque[Future[list[Outcome]] | Outcome] = deque()
    in_flight = 0
    with ProcessPoolExecutor(
        max_workers=workers, initializer=_start_worker, initargs=(os.getpid(), catalog_set())
    ) as pool:
        try:
            for group in _chunks(items, chunksize):
                if isinstance(group, Outcome):
                    pending.append(group)
                else:
                    pending.append(pool.submit(_work_chunk, work, group))
                    in_flight += 1
                while pending and (in_flight > 2 * workers or isinstance(pending[0], Outcome)):
                    head = pending.popleft()
                    in_flight -= not isinstance(head, Outcome)
                    yield from map(done, _outcomes(head))
            for head in pending:
                yield from map(done, _outcomes(head))
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


_LOCAL_CHUNK = 64
"""Tasks done at once in this process by a work function that has a chunk version."""


def _start_worker(parent: int, catalog: Catalog | None) -> None:
    """Worker initializer: GPU names are looked up in the parent's catalog (``--catalog``: a
    worker started afresh, as on Windows and macOS, would otherwise have the packaged one), and
    the worker dies with the parent (:func:`_die_with_parent`)."""
    set_catalog(catalog)
    _die_with_parent(parent)


def _die_with_parent(parent: int) -> None:
    """The worker ends when the batch's process dies, even by ``kill -9``.

    On Linux the kernel sends SIGTERM at the parent's death (``PR_SET_PDEATHSIG``);
    everywhere a daemon thread also checks the parent every second.  SIGTERM raises
    :class:`SystemExit`, so a half-written output's temporary file is removed on the way out.
    """
    signal.signal(signal.SIGTERM, _exit_on_term)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before the death signal was asked for
        raise SystemExit(1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


_PR_SET_PDEATHSIG = 1


def _exit_on_term(_signum: int, _frame: object) -> None:
    raise SystemExit(128 + signal.SIGTERM)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    # Again every second: a SIGTERM that lands inside a task is caught by the process pool's
    # worker loop (it sends the SystemExit back as the task's result and waits for the next
    # task); one that lands while the worker waits ends it.
    while True:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1.0)


def _outcomes(head: Future[list[Outcome]] | Outcome) -> list[Outcome]:
    """The outcomes of a finished chunk (waiting for it), or a passed-through outcome."""
    return [head] if isinstance(head, Outcome) else head.result()


def _chunks(items: Iterable[T | Outcome], size: int) -> Iterator[list[T] | Outcome]:
    """Group tasks into lists of ``size``; outcomes end a group and pass through alone."""
    chunk: list[T] = []
    for item in items:
        if isinstance(item, Outcome):
            if chunk:
                yield chunk
                chunk = []
            yield item
            continue
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --------------------------------------------------------------------------- reading workbooks


@dataclass(frozen=True)
class CalcTask:
    """One file for ``calc``: a filled workbook or a scenario file."""

    path: Path
    ignore_unknown: bool = False

    @property
    def label(self) -> str:
        """The file name."""
        return self.path.name


def _filled_workbook(path: Path) -> tuple[OpenWorkbook, dict[str, CellRef]] | None:
    """``path`` opened, with its input cells, if it is a workbook with defined names for
    inputs; else None."""
    if path.suffix.lower() not in WORKBOOK_SUFFIXES:
        return None
    book = OpenWorkbook(path)
    cells = input_cells(book)
    return (book, cells) if set(cells) - {"name"} else None


def calc_file(task: CalcTask) -> Outcome:
    """Compute every scenario of one file: a filled workbook or a scenario file.

    A ``.xlsx``/``.xlsm`` with workbook-scoped defined names for the inputs is a filled
    workbook (all its problems in one line); anything else is a scenario list (one line per
    problem, as ``xlcost calc`` reports them).  :func:`run` does a chunk of files at once
    with :func:`calc_files`.
    """
    return calc_files([task])[0]


def calc_files(tasks: Sequence[CalcTask]) -> list[Outcome]:
    """:func:`calc_file` of a chunk of files: each file opened and checked once, its inputs
    read in one pass, and every scenario of the chunk evaluated with one array call."""
    read = [_scenarios_of(task) for task in tasks]
    # one array call per catalog: the catalog in use, and each distinct Catalog sheet
    by_catalog: dict[Catalog | None, list[Scenario]] = {}
    for r in read:
        if not isinstance(r, Outcome):
            by_catalog.setdefault(r[1], []).extend(r[0])
    results = {c: iter(evaluate_many(good, c)) for c, good in by_catalog.items()}
    warnings = {c: iter(check_many(good, catalog=c)) for c, good in by_catalog.items()}
    outcomes = []
    for task, got in zip(tasks, read, strict=True):
        if isinstance(got, Outcome):
            outcomes.append(got)
            continue
        scenarios, catalog = got
        computed = [next(results[catalog]) for _ in scenarios]
        found = tuple(tuple(next(warnings[catalog])) for _ in scenarios)
        errors = tuple(str(r) for r in computed if isinstance(r, XlcostError))
        done = tuple(r for r in computed if isinstance(r, Results))
        outcomes.append(
            Outcome(task.label, errors[:1])
            if errors
            else Outcome(task.label, results=done, warnings=found)
        )
    return outcomes


_AT_ONCE: dict[Callable[[Any], Outcome], Callable[[Sequence[Any]], list[Outcome]]] = {
    calc_file: calc_files,
}
"""Work functions with a version doing a whole chunk of tasks at once (used by :func:`run`)."""


def _scenarios_of(task: CalcTask) -> tuple[list[Scenario], Catalog | None] | Outcome:
    """The validated scenarios of one file for ``calc`` and the catalog their GPU names are
    looked up in (None: the one in use), or its failed :class:`Outcome`."""
    path = task.path
    try:
        filled = _filled_workbook(path)
        if filled is None:
            return load_scenarios(path, ignore_unknown=task.ignore_unknown), None
        try:
            scenario, catalog = read_with_catalog(*filled)
            return [scenario], catalog
        except ScenarioErrors as e:
            return Outcome(path.name, (str(e),))
    except Exception as exc:  # reported like a bad file: a bug must not stop the batch either
        return _failed(task.label, exc)


def validate_file(path: Path) -> Outcome:
    """Read and validate one filled workbook; the note names its scenario."""
    if path.suffix.lower() not in WORKBOOK_SUFFIXES:
        raise XlcostError(f"{path.name}: not a workbook; validate takes .xlsx/.xlsm files")
    try:
        scenario, catalog = read_with_catalog(path)
    except ScenarioErrors as e:
        return Outcome(path.name, (str(e),))
    return Outcome(
        path.name,
        note=f"{path.name}: OK ({scenario.name})",
        warnings=(tuple(check_scenario(scenario, catalog=catalog)),),
    )


# --------------------------------------------------------------------------- writing workbooks


@dataclass(frozen=True)
class FillTask:
    """One output workbook: the template, the cells it may set, and this output's values."""

    label: str
    template: Path
    cells: tuple[CellRef, ...]
    dst: Path
    values: Mapping[CellRef, Value] = field(default_factory=dict)
    overwrite: bool = False
    cached: Mapping[CellRef, Value] = field(default_factory=dict)
    """Formula cells (the named results) with their new cached values."""
    sync: bool = True
    """fsync the output now (``False``: the batch syncs its outputs once, see :class:`Syncer`)."""


def _filler(template: Path, cells: tuple[CellRef, ...]) -> TemplateFiller:
    """The template prepared once per process (and per set of cells)."""
    primed = _primed.get((template, cells))
    return primed if primed is not None else _opened_filler(template, cells)


@functools.lru_cache(maxsize=4)
def _opened_filler(template: Path, cells: tuple[CellRef, ...]) -> TemplateFiller:
    return TemplateFiller(template, cells)


def _prime_filler(book: OpenWorkbook, cells: tuple[CellRef, ...]) -> None:
    """Make the filler of ``cells`` from the workbook already opened (and checked), once."""
    key = (book.path, cells)
    if key not in _primed:
        _primed[key] = book.filler(cells)


_primed: dict[tuple[Path, tuple[CellRef, ...]], TemplateFiller] = {}


def fill_one(task: FillTask) -> Outcome:
    """Write one output workbook (atomically; never over an existing file unless asked)."""
    try:
        _filler(task.template, task.cells).fill(
            task.dst, task.values, cached=task.cached, overwrite=task.overwrite, sync=task.sync
        )
    except WorkbookError as e:
        return Outcome(task.label, (f"{task.label}: {e}",))
    return Outcome(task.label, note=str(task.dst))


@dataclass(frozen=True)
class GenerateTask:
    """One generated workbook: the template rendered with one scenario (or several)."""

    label: str
    dst: Path
    mode: str
    scenario: Scenario
    comparison: tuple[Scenario, ...]
    overwrite: bool = False
    budget: float | None = None
    """The Scenarios sheet's budget; ``None``: blank, no budget."""
    sync: bool = True
    """fsync the output now (``False``: the batch syncs its outputs once, see :class:`Syncer`)."""
    ranges: Ranges | None = None
    """The ranges of ``scenario``'s inputs (the Inputs sheet's Low / High, the Risk sheet)."""


@dataclass(frozen=True)
class _Skeleton:
    """The template of one (mode, number of options), on disk and prepared for filling."""

    template: Template
    filler: TemplateFiller
    # sheet -> cell -> (the value the file holds, the cell, whether it holds a formula)
    cells: dict[str, dict[str, tuple[Value, CellRef, bool]]]


def _skeleton(mode: str, n_options: int, months: int) -> _Skeleton:
    """The template of ``mode``, ``n_options`` and ``months`` listing the catalog in use on
    its Catalog sheet (see :func:`_built_skeleton`)."""
    return _built_skeleton(mode, n_options, months, catalog_set())


@functools.lru_cache(maxsize=16)
def _built_skeleton(mode: str, n_options: int, months: int, catalog: Catalog | None) -> _Skeleton:
    """Build the template once per process and number of months (a generated workbook's Cash
    flow sheet lays out exactly its horizon): openpyxl once, then only splices per workbook.

    The template stays in memory (no temporary file or folder is left anywhere).
    """
    from xlcost.workbooks.template import Template

    template = Template(mode, n_options, months)
    seed = seed_scenario()
    if seed.horizon_months > months:  # a 1-month workbook: the worked example over 1 month
        seed = seed.model_copy(update={"horizon_months": months, "maintain_months": months})
    book = OpenWorkbook(Path("template.xlsx"), template.render(seed, [seed] * n_options))
    values = template.cell_values(seed, [seed] * n_options)
    formulas = frozenset((c.sheet, c.cell) for c in template.calcs)
    cells = {
        sheet: {
            cell: (value, CellRef(sheet, cell), (sheet, cell) in formulas)
            for cell, value in by_cell.items()
        }
        for sheet, by_cell in values.items()
    }
    refs = [ref for by_cell in cells.values() for _value, ref, _formula in by_cell.values()]
    return _Skeleton(template, book.filler(refs), cells)


def generate_one(task: GenerateTask) -> Outcome:
    """Write the template filled with one scenario (atomically, never over a file unasked).

    The inputs are set and every formula keeps its formula and gets the engine's value as
    its cached result, so readers that do not calculate show the right numbers too (Excel
    and LibreOffice recalculate on open).  Only cells whose value differs from the
    template file's are spliced.
    """
    try:
        months = min(task.scenario.horizon_months, MAX_MONTHS)  # longer: one clear error
        skeleton = _skeleton(task.mode, len(task.comparison), months)
        plain: dict[CellRef, Value] = {}
        cached: dict[CellRef, Value] = {}
        values = skeleton.template.cell_values(
            task.scenario, task.comparison, task.budget, task.ranges
        )
        for sheet, by_cell in values.items():
            held = skeleton.cells[sheet]
            for cell, value in by_cell.items():
                old, ref, formula = held[cell]
                if value == old and type(value) is type(old):
                    continue
                (cached if formula else plain)[ref] = value
        skeleton.filler.fill(
            task.dst, plain, cached=cached, overwrite=task.overwrite, sync=task.sync
        )
    except (WorkbookError, XlcostError) as e:
        return Outcome(task.label, (f"{task.label}: {e}",))
    return Outcome(task.label, note=str(task.dst))


def generate_tasks(
    scenario_file: Path,
    out: Path,
    *,
    mode: str,
    single: Path | None = None,
    overwrite: bool = False,
    budget: float | None = None,
    sync: bool = True,
    decimal_comma: bool | None = None,
) -> tuple[int, Iterator[GenerateTask | Outcome]]:
    """The workbooks of ``xlcost generate``: one per scenario, or one with all (``single``).

    With ``sync=False`` the outputs are not fsynced one by one: the caller syncs them
    (:class:`Syncer`) before it reports success.

    A workbook of its own shows its scenario on the Inputs sheet and, alone, on the Scenarios
    sheet; the ``single`` workbook shows the first valid scenario on the Inputs sheet and all
    of them side by side on the Scenarios sheet.  An invalid scenario yields a failed
    :class:`Outcome` in its place (with ``single`` it is left out of the workbook).

    Returns
    -------
    tuple of int and iterator
        The number of tasks and the tasks (made lazily).

    Raises
    ------
    XlcostError
        An unreadable scenario file, or (``single``) no valid scenario in it.
    """
    if line := unknown_columns(
        scenario_file.name, open_table(scenario_file, decimal_comma=decimal_comma).header
    ):
        raise XlcostError(line)
    records = functools.partial(read_records, scenario_file, decimal_comma=decimal_comma)
    total = sum(1 for _ in records())  # counted, not kept: memory stays flat

    def parsed() -> Iterator[tuple[Scenario, Ranges] | Outcome]:
        for chunk in scenario_chunks(scenario_file, decimal_comma=decimal_comma):
            for where, got in chunk:
                yield Outcome(where, tuple(got)) if isinstance(got, list) else got

    if single is not None:
        items = list(parsed())
        pairs = [x for x in items if not isinstance(x, Outcome)]
        if not pairs:
            raise XlcostError(f"{scenario_file.name}: no valid scenario to write")
        scenarios = tuple(s for s, _ in pairs)
        task = GenerateTask(
            single.name,
            single,
            mode,
            scenarios[0],
            scenarios,
            overwrite,
            budget,
            sync,
            pairs[0][1],
        )
        failed = [o for o in items if isinstance(o, Outcome)]
        return len(failed) + 1, iter([*failed, task])

    # Built here once per horizon of the first records, inherited by forked workers.
    for months in _horizons(records()):
        _skeleton(mode, 1, months)
    outputs = OutputNames(out, ".xlsx")

    def tasks() -> Iterator[GenerateTask | Outcome]:
        for x in parsed():
            if isinstance(x, Outcome):
                yield x
            else:
                s, r = x
                dst = outputs.claim(s.name)
                yield GenerateTask(s.name, dst, mode, s, (s,), overwrite, budget, sync, r)

    return total, tasks()


def _horizons(
    records: Iterable[tuple[str, Mapping[str, Any]]], most: int = 4, scan: int = 1000
) -> list[int]:
    """The distinct horizons a workbook lays out among the first ``scan`` records (at most
    ``most`` of them); other horizons get their template when a task first needs it."""
    seen: list[int] = []
    for _where, record in itertools.islice(records, scan):
        try:
            months = int(float(record.get("horizon_months")))  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            continue
        if 1 <= months <= MAX_MONTHS and months not in seen and len(seen) < most:
            seen.append(months)
    return seen


class FillJob(NamedTuple):
    """The work of ``xlcost fill``: the number of tasks, the tasks, and a note to show once."""

    total: int
    tasks: Iterator[FillTask | Outcome]
    note: str | None = None
    """Which results are not computed and why (a template that is not a whole scenario)."""


def fill_tasks(
    template: Path,
    data_file: Path,
    out: Path,
    *,
    ignore_unknown: bool = False,
    overwrite: bool = False,
    sync: bool = True,
    decimal_comma: bool | None = None,
) -> FillJob:
    """One :class:`FillTask` per data row (``xlcost fill``), planned by
    :func:`~xlcost.fill_rows.plan_fill` (``sync``: as :func:`generate_tasks`).

    Every column whose name is a defined name of the template (case-insensitively) is written
    to its cell, xlcost input or not (CSV text that reads as a number as a number).  Each xlcost
    input that is written is validated against its own domain, and the cross-input rules among
    the inputs the template has; when the template holds a whole scenario (a defined name for
    every required input) each row is validated over the template's own values as one scenario
    and the template's named result cells that hold formulas get the engine's results as
    cached values.  Otherwise :attr:`FillJob.note` says which results are not computed and
    why.  Other formula cells keep the template's cached values (the lossless copy edits
    nothing else); ``fullCalcOnLoad`` is set, so Excel recalculates them on open.  An invalid
    row yields a failed :class:`Outcome` in its place, one line per problem.

    Raises
    ------
    XlcostError
        Data columns with no defined name in the template (unless ``ignore_unknown``),
        or an unreadable data file.
    WorkbookError
        A damaged template.
    """
    book = OpenWorkbook(template)
    records = list(read_records(data_file, decimal_comma=decimal_comma))
    columns = {k for _, record in records for k in record}
    unknown = sorted(c for c in columns - {"name"} if c not in book.names)
    if unknown and not ignore_unknown:
        raise XlcostError(
            f"{data_file.name}: no defined name in {template.name} for column(s) "
            f"{', '.join(unknown)} (use --ignore-unknown to skip them)"
        )
    plan = plan_fill(book, columns, from_csv=data_file.suffix.lower() == ".csv")
    _prime_filler(book, plan.cells)
    outputs = OutputNames(out, template.suffix)

    duplicates = Duplicates()  # the one duplicate rule (xlcost.scenario_files)

    def tasks() -> Iterator[FillTask | Outcome]:
        for i, (where, record) in enumerate(records, start=1):
            if record.get("name") and (dup := duplicates.check(str(record["name"]), where)):
                yield Outcome(where, (dup,))
                continue
            label = str(record.get("name") or f"{data_file.stem} row {i}")
            try:
                values, cached = fill_row(plan, record, where, label)
            except ScenarioErrors as e:
                yield Outcome(where, tuple(str(p) for p in e.problems))
                continue
            dst = outputs.claim(label)
            yield FillTask(where, template, plan.cells, dst, values, overwrite, cached, sync)

    return FillJob(len(records), tasks(), plan.note)
