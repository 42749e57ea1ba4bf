"""``xlcost addin …``: set up Windows Excel for the xlcost functions (logic in :mod:`xlcost.addin`).

Every step prints what it did (or, with ``--dry-run``, what it would do) and can be undone with
``--undo``; ``xlcost addin uninstall`` undoes all of them. Off Windows the steps run only with
``--dry-run`` or ``--home DIR`` (a test folder standing in for the user profile).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from xlcost import addin
from xlcost.cli._app import XlcostTyper, app, examples, user_errors

addin_app = XlcostTyper(
    help="Set up Excel on Windows: config, install, import (undoable).\n\n"
    "Classic xlwings: each step prints what it did and --undo reverts it.",
    epilog=examples("xlcost addin config --dry-run", "xlcost addin uninstall"),
    no_args_is_help=True,
)
app.add_typer(addin_app, name="addin")

HomeOpt = Annotated[
    Path | None,
    typer.Option(
        "--home",
        help="Folder standing in for the user profile (%USERPROFILE%), e.g. for a test.",
        file_okay=False,
    ),
]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Print the files it would write.")]
UndoOpt = Annotated[bool, typer.Option("--undo", help="Undo this step (restore backups).")]


def _run(
    step: str,
    target: addin.Target,
    make: Callable[[], list[addin.Write]],
    *,
    dry_run: bool,
    undo: bool,
) -> None:
    """Undo ``step``, or make its writes and apply them; print the report."""
    lines = (
        addin.undo(target, step, dry_run=dry_run)
        if undo
        else addin.apply(step, make(), target, dry_run=dry_run)
    )
    typer.echo("\n".join(lines))


@addin_app.command(
    epilog=examples(
        "xlcost addin config --workbook xlcost.xlsm",
        "xlcost addin config --workbook xlcost.xlsm --undo",
    )
)
@user_errors
def config(
    workbook: Annotated[
        Path | None,
        typer.Option(
            help="Workbook whose xlwings.conf sheet gets the settings (only it starts xlcost).",
            dir_okay=False,
        ),
    ] = None,
    user: Annotated[
        bool,
        typer.Option(
            "--user",
            help="Write the user-wide .xlwings\\xlwings.conf instead (every xlwings workbook).",
        ),
    ] = False,
    interpreter: Annotated[
        str | None,
        typer.Option(help="What xlwings starts [default: this program, or this Python]."),
    ] = None,
    home: HomeOpt = None,
    dry_run: DryRunOpt = False,
    undo: UndoOpt = False,
) -> None:
    """Point xlwings at xlcost in a workbook's xlwings.conf sheet.

    Sets Interpreter_Win and UDF Modules. The workbook's own sheet scopes them to it; the
    user-wide file (--user) would make every xlwings workbook on the PC start xlcost."""
    program = interpreter or sys.executable
    if workbook is not None and user:
        raise typer.BadParameter("--workbook and --user exclude each other")
    if workbook is None and not (user or undo):
        raise typer.BadParameter(
            "name the workbook (--workbook FILE.xlsm: its xlwings.conf sheet), "
            "or --user for the user-wide xlwings.conf"
        )
    target = addin.resolve_target(home, dry_run=dry_run) if user else _record_target(home, dry_run)

    def make() -> list[addin.Write]:
        if workbook is not None:
            return addin.workbook_config_writes(workbook, program)
        return addin.config_writes(target, program)

    _run("config", target, make, dry_run=dry_run, undo=undo)


def _record_target(home: Path | None, dry_run: bool) -> addin.Target:
    """Where the undo record of a workbook edit lives: the user profile on any platform (a
    workbook's sheet can be written anywhere; only Excel's own set-up needs Windows)."""
    if home is not None or dry_run or sys.platform == "win32":
        return addin.resolve_target(home, dry_run=dry_run)
    return addin.Target(Path.home(), Path.home())


@addin_app.command(epilog=examples("xlcost addin install --dry-run", "xlcost addin install"))
@user_errors
def install(
    xlstart: Annotated[
        Path | None,
        typer.Option(
            help="Excel's start-up folder [default: %APPDATA%\\Microsoft\\Excel\\XLSTART]."
        ),
    ] = None,
    home: HomeOpt = None,
    dry_run: DryRunOpt = False,
    undo: UndoOpt = False,
) -> None:
    """Install the xlwings add-in into Excel's start-up folder.

    The add-in is xlwings.xlam. Quit Excel first."""
    target = addin.resolve_target(home, xlstart, dry_run=dry_run)
    _run("install", target, lambda: addin.install_writes(target), dry_run=dry_run, undo=undo)


@addin_app.command(
    "import",
    epilog=examples(
        "xlcost addin import --template workbook/xlcost_template.xlsx --out xlcost.xlsm"
    ),
)
@user_errors
def import_cmd(
    template: Annotated[
        Path | None, typer.Option(help="The template workbook to copy (not changed).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="The .xlsm file to write.")] = None,
    bas: Annotated[
        Path | None,
        typer.Option(help="VBA module of the functions [default: workbook/xlcost_udfs.bas]."),
    ] = None,
    home: HomeOpt = None,
    dry_run: DryRunOpt = False,
    undo: UndoOpt = False,
) -> None:
    """Copy the template as an .xlsm with the functions' VBA module.

    Excel does the import (Windows, with "Trust access to the VBA project object model").
    """
    target = addin.resolve_target(home, dry_run=dry_run)

    def make() -> list[addin.Write]:
        if template is None or out is None:
            raise typer.BadParameter("--template and --out are required (unless --undo)")
        if not (dry_run or sys.platform == "win32"):
            raise addin.NeedsWindowsError("needs Windows with Excel: only Excel can add VBA")
        vba = bas or addin.shipped_workbook_dir() / "xlcost_udfs.bas"
        return addin.import_writes(target, template, out, vba)

    _run("import", target, make, dry_run=dry_run, undo=undo)


@addin_app.command(epilog=examples("xlcost addin uninstall --dry-run", "xlcost addin uninstall"))
@user_errors
def uninstall(home: HomeOpt = None, dry_run: DryRunOpt = False) -> None:
    """Undo every step: restore backed-up files, remove created ones."""
    typer.echo("\n".join(addin.undo(addin.resolve_target(home, dry_run=dry_run), dry_run=dry_run)))
