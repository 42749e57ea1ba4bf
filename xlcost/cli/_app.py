"""The Typer application, shared options and the one place that turns errors into exit codes.

Start-up is kept cheap: the command modules (and with them numpy, pydantic, openpyxl and the
engine) are imported only when their command runs. :data:`COMMANDS` names each command's module
and one-line summary, so ``xlcost --help`` lists every command without importing any;
``tests/test_cli.py`` checks that it matches the commands' docstrings.

Conventions for a command (``@app.command(epilog=examples(...))``): the docstring's first
paragraph is its one-line summary (also in :data:`COMMANDS`), :func:`examples` gives the
"Examples" section of its help, and a problem with the input is an exception (or :func:`fail`)
that :func:`user_errors` turns into one ``xlcost: error: …`` line and exit code 1. Usage errors
from the argument parser become one line and exit code 2 (:func:`usage_line`).
"""

from __future__ import annotations

import functools
import importlib
import math
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
import typer.core
import typer.main
from typer._click import Context, HelpFormatter
from typer._click.exceptions import (
    BadParameter,
    MissingParameter,
    NoArgsIsHelpError,
    UsageError,
)
from typer._click.formatting import join_options

from xlcost import __version__

F = TypeVar("F", bound=Callable[..., Any])

COMMANDS: dict[str, tuple[str, str]] = {
    "demo": (
        "engine_cmds",
        "Show the worked example and write the two template workbooks.",
    ),
    "init": ("init_cmds", "Write a commented starter scenario file to fill in."),
    "calc": (
        "engine_cmds",
        "Compute costs, benefit, ROI, NPV, IRR and payback of scenarios.",
    ),
    "compare": (
        "engine_cmds",
        "Rank options, apply a budget and name the recommended one.",
    ),
    "risk": (
        "risk_cmds",
        "Monte Carlo over uncertain inputs: NPV P10/P50/P90 and P(best).",
    ),
    "sensitivity": (
        "risk_cmds",
        "Tornado of NPV swings and break-even values of key inputs.",
    ),
    "generate": (
        "batch_cmds",
        "Write one template workbook per scenario (or one for all).",
    ),
    "fill": (
        "batch_cmds",
        "Fill a workbook once per data row through its defined names.",
    ),
    "validate": (
        "batch_cmds",
        "Check the inputs of filled workbooks, naming file and cell.",
    ),
    "template": (
        "workbook_cmds",
        "Write the template workbook, pre-filled with one scenario.",
    ),
    "catalog": (
        "engine_cmds",
        "List GPU, reserved/spot, purchase and hosted-API prices.",
    ),
    "gpus": (
        "engine_cmds",
        "Find the cheapest catalog GPU for a training or serving job.",
    ),
    "schema": (
        "engine_cmds",
        "Print the JSON Schema of a scenario: inputs, units, limits.",
    ),
    "addin": (
        "addin_cmds",
        "Set up Excel on Windows: config, install, import (undoable).",
    ),
}
"""Command name → (module in :mod:`xlcost.cli`, its one-line summary), in the order listed."""


DecimalCommaOpt = Annotated[
    bool | None,
    typer.Option(
        "--decimal-comma/--decimal-point",
        help="Read numbers in CSV files as 1.234,56 (decimal comma) or 1,234.56 "
        "[default: detected in semicolon- and tab-separated files].",
    ),
]
"""``--decimal-comma/--decimal-point``, the same in every command that reads scenario rows."""


def summary(command: typer.core.TyperCommand | typer.core.TyperGroup | Any) -> str:
    """A command's one-line summary: the first paragraph of its help, on one line."""
    text = (command.help or "").strip().split("\n\n")[0]
    return " ".join(text.split())


def examples(*lines: str) -> str:
    """The "Examples" section of a command's help (its ``epilog``), one command line each.

    >>> print(examples("xlcost calc a.yaml", "xlcost calc b.csv -f json"))
    \b
    Examples:
      xlcost calc a.yaml
      xlcost calc b.csv -f json
    """
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


def metavar(param: Any) -> str:
    """The readable label of a parameter's value: ``FILE...``, ``[table|csv|json]``, ``N``.

    An explicit ``metavar=`` wins; otherwise it follows from the type (a choice lists its
    values; ``NUMBER``, ``N`` for whole numbers, ``FILE``, ``DIR``, ``PATH``, ``TEXT``), and
    an argument is named after itself (``FILES...``).
    """
    if param.metavar is not None:
        return str(param.metavar)
    descriptor = param.type_descriptor
    if param.param_type_name == "argument":
        return str(param.name).upper() + ("..." if param.nargs != 1 else "")
    if descriptor.choices:
        return "[" + "|".join(str(getattr(c, "value", c)) for c in descriptor.choices) + "]"
    annotation = descriptor.annotation
    if float is annotation or float in _union_args(annotation):
        return "NUMBER"
    if int is annotation or int in _union_args(annotation):
        return "N"
    if descriptor.is_path:
        return {"file": "FILE", "directory": "DIR"}.get(descriptor.path_type, "PATH")
    return "TEXT"


def readable_ranges(text: str) -> str:
    """Typer's range notes in words: ``x>=0`` → ``≥ 0``, ``0<=x<=1`` → ``0 to 1``.

    >>> readable_ranges("Workers.  [default: 1; x>=1]"), readable_ranges("[0<=x<=1]")
    ('Workers.  [default: 1; ≥ 1]', '[0 to 1]')
    """
    text = re.sub(r"([-\d.e+]+)<=x<=([-\d.e+]+)", r"\1 to \2", text)
    return re.sub(r"\bx([<>])=", lambda m: "≤ " if m[1] == "<" else "≥ ", text)


class XlcostCommand(typer.core.TyperCommand):
    """A command whose usage line and option list show readable metavars (:func:`metavar`)
    and whose number options refuse inf (``1e400``) as they refuse nan."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        """Parse ``args``; a number option given as inf is a usage error."""
        rest = super().parse_args(ctx, args)
        for param in self.params:
            value = ctx.params.get(param.name or "")
            if isinstance(value, float) and not math.isfinite(value):
                expected = (_expectation(param) or "a number").replace("number", "finite number")
                typed: Any = param  # a Typer parameter (click's Parameter in the stubs)
                raise BadParameter(f"must be {expected}, got {value:g}", ctx=ctx, param=typed)
        return rest

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        """``[OPTIONS] FILE...`` (optional arguments in brackets)."""
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                label = metavar(param)
                pieces.append(label if param.required or label.startswith("[") else f"[{label}]")
        return pieces

    def format_options(self, ctx: Context, formatter: HelpFormatter) -> None:
        """The "Arguments" and "Options" sections, each value labelled by :func:`metavar`."""
        sections: dict[str, list[tuple[str, str]]] = {"argument": [], "option": []}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None or param.param_type_name not in sections:
                continue
            if param.param_type_name == "argument":
                label = metavar(param).strip("[]")
            else:
                label = join_options(param.opts)[0]
                if param.secondary_opts:
                    label += " / " + join_options(param.secondary_opts)[0]
                if not (getattr(param, "is_flag", False) or getattr(param, "count", False)):
                    label += f" {metavar(param)}"
            sections[param.param_type_name].append((label, readable_ranges(record[1])))
        for title, key in (("Arguments", "argument"), ("Options", "option")):
            if sections[key]:
                with formatter.section(title):
                    formatter.write_dl(sections[key])


class SummaryGroup(typer.core.TyperGroup):
    """A group listing its commands with their full one-line summaries (never cut with "...")."""

    def command_summary(self, name: str) -> str | None:
        """The summary of command ``name``; ``None`` for a hidden one."""
        command = self.commands[name]
        return None if command.hidden else summary(command)

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        """The "Commands" section: each command with its summary."""
        rows = [(name, self.command_summary(name)) for name in self.list_commands(ctx)]
        shown = [(name, text) for name, text in rows if text is not None]
        if shown:
            with formatter.section("Commands"):
                formatter.write_dl(shown)


class XlcostTyper(typer.Typer):
    """A Typer whose commands are :class:`XlcostCommand` (readable metavars) and whose groups
    list full summaries (:class:`SummaryGroup`)."""

    def __init__(self, *args: Any, cls: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, cls=cls or SummaryGroup, **kwargs)

    def command(
        self, name: str | None = None, *, cls: Any = None, **kwargs: Any
    ) -> Callable[[F], F]:
        """Register a command (see :meth:`typer.Typer.command`)."""
        register: Callable[[F], F] = super().command(name, cls=cls or XlcostCommand, **kwargs)
        return register


class LazyGroup(SummaryGroup):
    """The ``xlcost`` group: imports a command's module only when that command is needed."""

    def list_commands(self, ctx: Context) -> list[str]:
        """Every command: those of :data:`COMMANDS` first, then any other registered one."""
        return [*COMMANDS, *(name for name in self.commands if name not in COMMANDS)]

    def get_command(self, ctx: Context, cmd_name: str) -> Any:
        """The command ``cmd_name``, importing its module first if it is not loaded yet."""
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            importlib.import_module(f"xlcost.cli.{COMMANDS[cmd_name][0]}")
            self.commands.update(typer.main.get_group(app).commands)
        return self.commands.get(cmd_name)

    def command_summary(self, name: str) -> str | None:
        """The summary of command ``name`` from :data:`COMMANDS` until its module is loaded."""
        return COMMANDS[name][1] if name not in self.commands else super().command_summary(name)

    def make_context(self, *args: Any, **kwargs: Any) -> Context:
        """Parse the group's own options; a usage error becomes one line (exit code 2)."""
        try:
            return super().make_context(*args, **kwargs)
        except NoArgsIsHelpError:
            raise
        except UsageError as e:
            raise OneLineUsageError(e) from e

    def invoke(self, ctx: Context) -> Any:
        """Run the command; its usage errors become one line each (exit code 2)."""
        try:
            return super().invoke(ctx)
        except NoArgsIsHelpError:
            raise
        except UsageError as e:
            raise OneLineUsageError(e) from e


app = XlcostTyper(
    name="xlcost",
    cls=LazyGroup,
    help="What an AI model for e-commerce search and recommendation costs, earns, and which "
    "option to pick. Run `xlcost demo` to see the worked example (BERT ranker) of the "
    "cost-accounting method.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"xlcost {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """xlcost command-line tool."""


def _option_name(param: Any) -> str:
    """How the user spelled ``param``: its long option (``--flops``) or argument's metavar."""
    opts = [o for o in getattr(param, "opts", []) if o.startswith("--")]
    if opts and param.param_type_name == "option":
        return str(opts[0])
    return str(param.metavar or param.name.upper())


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) and not _is_number_text(value) else str(value)


def _is_number_text(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _expectation(param: Any) -> str | None:
    """What ``param`` accepts, in words (``a number ≥ 0``, ``one of a, b``), if known."""
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is None:
        return None
    choices = descriptor.choices
    if choices:
        return "one of " + ", ".join(str(getattr(c, "value", c)) for c in choices)
    annotation = descriptor.annotation
    kinds = {float: "a number", int: "a whole number"}
    kind = next(
        (k for t, k in kinds.items() if annotation is t or t in _union_args(annotation)), None
    )
    if kind is None:
        return None
    low, high = param.min, param.max
    if low is not None and high is not None:
        return f"{kind} from {low:g} to {high:g}"
    if low is not None:
        return f"{kind} ≥ {low:g}"
    if high is not None:
        return f"{kind} ≤ {high:g}"
    return kind


def _union_args(annotation: Any) -> tuple[Any, ...]:
    return tuple(getattr(annotation, "__args__", ()))


_PATH_PROBLEM = re.compile(r"^(?:file|dir|directory|path) '(?P<path>.*)' (?P<problem>.*?)\.?$")


def usage_line(e: UsageError) -> str:
    """One readable line for a usage error of the argument parser.

    A bad value names the option, what it accepts and what it got
    (``--format must be one of table, csv, json, got 'xml'``); other usage errors keep the
    parser's text, without its ``Error:`` and ``Invalid value for`` decorations.
    """
    cause = e.__cause__
    param = getattr(e, "param", None)
    errors: list[Any] = getattr(cause, "errors", list)()
    if isinstance(e, BadParameter) and not isinstance(e, MissingParameter) and param is not None:
        expected = _expectation(param)
        if errors and expected is not None:
            return f"{_option_name(param)} must be {expected}, got {_shown(errors[0]['input'])}"
        path = _PATH_PROBLEM.match(e.message)  # "file 'x.csv' does not exist."
        if path is not None:
            where = f"{_option_name(param)} " if param.param_type_name == "option" else ""
            return f"{where}{path['path']}: {path['problem']}"
        joint = " " if e.message.startswith("must be ") else ": "
        return f"{_option_name(param)}{joint}{e.message.rstrip('.')}"
    if isinstance(e, BadParameter) and isinstance(e.param_hint, str):
        return f"{e.param_hint}: {e.message.rstrip('.')}"
    text = e.format_message().rstrip(".")
    return text[:1].lower() + text[1:]


class OneLineUsageError(UsageError):
    """A usage error shown as ``xlcost: error: …; see 'xlcost CMD -h'`` (exit code 2)."""

    def __init__(self, error: UsageError) -> None:
        super().__init__(usage_line(error), error.ctx)

    def show(self, file: Any = None) -> None:
        """Print the one line to stderr."""
        where = self.ctx.command_path if self.ctx is not None else "xlcost"
        typer.echo(f"xlcost: error: {self.message}; see '{where} -h'", err=True)


CatalogOpt = Annotated[
    Path | None,
    typer.Option(
        "--catalog",
        help="YAML/JSON file overriding or extending the GPU catalog that train_gpu and "
        "serve_gpu are looked up in. A workbook with its own Catalog sheet uses that sheet "
        "instead, as its formulas do.",
        exists=True,
        dir_okay=False,
    ),
]


@contextmanager
def catalog_from(path: Path | None) -> Iterator[None]:
    """Within the block, GPU names are looked up in the packaged catalog overridden and
    extended by ``path`` (a command's ``--catalog``), if given; worker processes get it too."""
    if path is None:
        yield
        return
    from xlcost.engine.catalog import load_catalog, use_catalog

    with use_catalog(load_catalog(path)):
        yield


def out_dir(path: Path, option: str = "--out") -> Path:
    """Create the output folder ``path`` (and its parents) before any work is done.

    Raises :class:`~xlcost.engine.errors.XlcostError` naming the option and the folder, e.g.
    ``--out /proc/nope: cannot create directory (No such file or directory)``.
    """
    from xlcost.engine.errors import XlcostError

    if path.exists() and not path.is_dir():
        raise XlcostError(f"{option} {path}: is a file, not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise XlcostError(f"{option} {path}: cannot create directory ({e.strerror or e})") from None
    return path


def new_file(path: Path, *, force: bool, option: str = "--out") -> Path:
    """Check an output file before any work: not a folder, not existing unless ``force``, and
    its folder created (:func:`out_dir`). ``option`` names it in messages (``""`` for an
    argument). Returns ``path``."""
    from xlcost.engine.errors import XlcostError

    named = f"{option} {path}" if option else str(path)
    if path.is_dir():
        raise XlcostError(f"{named}: is a directory; name a file")
    if path.exists() and not force:
        raise XlcostError(f"{named}: exists; use --force")
    parent = path.parent
    try:
        out_dir(parent, option)
    except XlcostError:
        raise XlcostError(f"{named}: cannot create its directory {parent}") from None
    return path


def fail(message: str) -> NoReturn:
    """Print ``xlcost: error: …`` (one line per problem) to stderr and exit with code 1."""
    from xlcost.report import printable  # escapes control characters: one message, one line

    for line in message.split("\n"):
        typer.echo(f"xlcost: error: {printable(line)}", err=True)
    raise typer.Exit(1)


def os_error_line(e: OSError) -> str:
    """An operating-system error as one line naming the path.

    >>> os_error_line(NotADirectoryError(20, "Not a directory", "h/.xlwings/setup.json"))
    'h/.xlwings/setup.json: not a directory'
    """
    reason = (e.strerror or str(e)).rstrip(".")
    reason = reason[:1].lower() + reason[1:]
    return f"{e.filename}: {reason}" if e.filename else reason


def user_errors(fn: F) -> F:
    """Run a command, turning xlcost's user-facing errors into one line each and exit code 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # imported here so that `xlcost --version` loads neither numpy nor pydantic
        from pydantic import ValidationError

        from xlcost.engine.errors import ScenarioErrors, XlcostError
        from xlcost.engine.validate import describe
        from xlcost.workbooks.package import WorkbookError

        try:
            return fn(*args, **kwargs)
        except ScenarioErrors as e:
            fail("\n".join(str(p) for p in e.problems))
        except (XlcostError, WorkbookError) as e:
            fail(str(e))
        except ValidationError as e:  # a model built from command-line values
            fail("\n".join(f"{'.'.join(map(str, x['loc']))}: {describe(x)}" for x in e.errors()))
        except OSError as e:  # a file or folder the user named (or one beside it)
            fail(os_error_line(e))
        except KeyboardInterrupt:
            typer.echo("xlcost: interrupted", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]
