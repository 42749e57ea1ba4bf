"""Batch commands over many workbooks: generate, fill, validate (and the workbook side of calc).

Each bad file or row is reported in one line on stderr and skipped; the batch goes on; a summary
line (stderr) counts successes and failures; the exit code is 1 if anything failed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from xlcost.batch import (
    Outcome,
    Progress,
    Syncer,
    fill_one,
    fill_tasks,
    generate_one,
    generate_tasks,
    run,
    validate_file,
)
from xlcost.cli._app import (
    CatalogOpt,
    DecimalCommaOpt,
    app,
    catalog_from,
    examples,
    new_file,
    out_dir,
    user_errors,
)
from xlcost.cli.workbook_cmds import Mode, ModeOpt
from xlcost.engine.errors import ScenarioErrors, XlcostError
from xlcost.report import printable

T = TypeVar("T")
J = TypeVar("J")

MAX_WORKERS = 256
"""The most worker processes a batch starts (more would only exhaust the machine)."""

WorkersOpt = Annotated[
    int, typer.Option("--workers", "-j", min=1, max=MAX_WORKERS, help="Worker processes.")
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite existing output files.")]
OutOpt = Annotated[
    Path,
    typer.Option("--out", "-o", help="Output directory (created if missing).", file_okay=False),
]


class Batch:
    """Drive a batch: progress on a terminal, one stderr line per problem, a summary.

    Parameters
    ----------
    command : str
        The command name, shown in the progress line and the summary.
    noun : str
        What a task is about, e.g. ``"workbook"`` (pluralised with ``s``).
    total : int
        Number of tasks (for the progress line).
    """

    def __init__(self, command: str, noun: str, total: int) -> None:
        self.command = command
        self.noun = noun
        self.progress = Progress(command, total)
        self.ok = 0
        self.failed = 0

    def successes(
        self, items: Iterable[T | Outcome], work: Callable[[T], Outcome], workers: int
    ) -> Iterator[Outcome]:
        """Run the tasks; report each failure as it happens; yield the successes in order."""
        try:
            for outcome in run(items, work, workers=workers, progress=self.progress):
                if outcome.ok:
                    self.ok += 1
                    yield outcome
                    continue
                self.failed += 1
                self.progress.clear()
                for line in outcome.errors:
                    typer.echo(f"xlcost: error: {printable(line)}", err=True)
        finally:
            self.progress.clear()

    def finish(self) -> None:
        """Print the summary line (stderr); exit with code 1 if anything failed."""
        noun = self.noun if self.ok == 1 else f"{self.noun}s"
        typer.echo(f"xlcost: {self.command}: {self.ok} {noun} OK, {self.failed} failed", err=True)
        if self.failed:
            raise typer.Exit(1)


def _unreadable_is_one_failure(command: str, make: Callable[[], J]) -> J:
    """``make()`` the batch's tasks; an input file that cannot be read at all is the batch's one
    failure, reported as a bad row is: its line, the summary (0 OK, 1 failed), exit code 1."""
    try:
        return make()
    except ScenarioErrors:
        raise
    except XlcostError as e:
        batch = Batch(command, "workbook", 0)
        batch.failed = 1
        for line in str(e).splitlines():
            typer.echo(f"xlcost: error: {printable(line)}", err=True)
        batch.finish()
        raise  # not reached: finish() exits with code 1


def _write(
    command: str,
    total: int,
    tasks: Iterable[T | Outcome],
    work: Callable[[T], Outcome],
    workers: int,
) -> None:
    batch = Batch(command, "workbook", total)
    syncer = Syncer()
    for outcome in batch.successes(tasks, work, workers):
        syncer.add(Path(outcome.note))
    syncer.close()  # every output on disk before the summary reports success
    batch.finish()


@app.command(
    epilog=examples(
        "xlcost generate examples/ranker_options.yaml --out books/",
        "xlcost generate options.csv --single all_options.xlsx --mode portable",
    )
)
@user_errors
def generate(
    scenario_file: Annotated[
        Path,
        typer.Argument(
            metavar="SCENARIO_FILE",
            help="Scenario list (CSV, XLSX, YAML, JSON).",
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Output directory for one workbook per scenario (created if missing).",
            file_okay=False,
        ),
    ] = None,
    mode: ModeOpt = Mode.udf,
    single: Annotated[
        Path | None,
        typer.Option(
            "--single",
            help="Write one .xlsx with all scenarios side by side on the Scenarios sheet.",
            dir_okay=False,
        ),
    ] = None,
    force: ForceOpt = False,
    workers: WorkersOpt = 1,
    budget: Annotated[
        float | None,
        typer.Option(
            help="Budget on the Scenarios sheet (maximum total cost) [default: blank, no limit].",
            min=0,
        ),
    ] = None,
    decimal_comma: DecimalCommaOpt = None,
    catalog_file: CatalogOpt = None,
) -> None:
    """Write one template workbook per scenario (or one for all).

    One workbook per scenario of SCENARIO_FILE into --out, or all of them side by side on
    the Scenarios sheet of one --single workbook. Their Catalog sheet lists the packaged
    catalog with the GPUs of --catalog, if given."""
    if (out is None) == (single is None):
        raise XlcostError("give --out DIR (one workbook per scenario) or --single FILE")
    if single is not None and single.suffix.lower() != ".xlsx":
        raise XlcostError(f"--single {single.name}: the workbook must be an .xlsx file")
    if single is not None:
        new_file(single, force=force, option="--single")
    directory = out_dir(out if out is not None else (single or Path()).parent)
    with catalog_from(catalog_file):
        total, tasks = _unreadable_is_one_failure(
            "generate",
            lambda: generate_tasks(
                scenario_file,
                directory,
                mode=mode.value,
                single=single,
                overwrite=force,
                budget=budget,
                sync=False,
                decimal_comma=decimal_comma,
            ),
        )
        _write("generate", total, tasks, generate_one, workers)


@app.command(
    epilog=examples(
        "xlcost fill my_template.xlsm rows.csv --out filled/",
        "xlcost fill my_template.xlsx rows.xlsx --out filled/ --workers 2 --force",
    )
)
@user_errors
def fill(
    template: Annotated[
        Path,
        typer.Argument(
            metavar="TEMPLATE",
            help="Workbook (.xlsx/.xlsm) whose defined names are the columns to fill; "
            "your own customised copy of the template works.",
        ),
    ],
    data_file: Annotated[
        Path,
        typer.Argument(
            metavar="DATA_FILE",
            help="Rows to fill in (CSV, XLSX, YAML, JSON); one output per row, named after "
            "its 'name'.",
        ),
    ],
    out: OutOpt,
    ignore_unknown: Annotated[
        bool,
        typer.Option("--ignore-unknown", help="Skip data columns with no defined name."),
    ] = False,
    force: ForceOpt = False,
    workers: WorkersOpt = 1,
    decimal_comma: DecimalCommaOpt = None,
    catalog_file: CatalogOpt = None,
) -> None:
    """Fill a workbook once per data row through its defined names.

    TEMPLATE is filled once per row of DATA_FILE, losslessly: every other part of the file
    stays byte-identical. The results cached in a whole scenario's result cells look GPU
    names up in TEMPLATE's own Catalog sheet, else in --catalog or the packaged catalog."""
    directory = out_dir(out)
    with catalog_from(catalog_file):
        job = _unreadable_is_one_failure(
            "fill",
            lambda: fill_tasks(
                template,
                data_file,
                directory,
                ignore_unknown=ignore_unknown,
                overwrite=force,
                sync=False,
                decimal_comma=decimal_comma,
            ),
        )
        if job.note is not None:
            typer.echo(f"xlcost: note: {job.note}", err=True)
        _write("fill", job.total, job.tasks, fill_one, workers)


@app.command(epilog=examples("xlcost validate filled/*.xlsm", "xlcost validate q3.xlsx -j 2"))
@user_errors
def validate(
    workbooks: Annotated[
        list[Path],
        typer.Argument(
            metavar="WORKBOOK...",
            help="Filled workbooks (.xlsx/.xlsm).",
        ),
    ],
    workers: WorkersOpt = 1,
    catalog_file: CatalogOpt = None,
) -> None:
    """Check the inputs of filled workbooks, naming file and cell.

    Each problem is one line naming the workbook, the cell and the input. GPU names are
    checked against the workbook's own Catalog sheet (and its cells validated), else against
    --catalog or the packaged catalog."""
    with catalog_from(catalog_file):
        batch = Batch("validate", "workbook", len(workbooks))
        for outcome in batch.successes(workbooks, validate_file, workers):
            typer.echo(outcome.note)
            for found in outcome.warnings:
                for w in found:
                    typer.echo(f"xlcost: warning: {outcome.label}: {w}", err=True)
        batch.finish()
