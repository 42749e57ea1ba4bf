"""The Typer application, shared options and the one place that turns errors into exit codes."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from xlcost import __version__

F = TypeVar("F", bound=Callable[..., Any])

app = typer.Typer(
    name="xlcost",
    help="What an AI model for e-commerce search and recommendation costs, earns, and which "
    "option to pick. Run `xlcost demo` to see the worked example (BERT ranker).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
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


def fail(message: str) -> NoReturn:
    """Print ``xlcost: error: …`` (one line per problem) to stderr and exit with code 1."""
    for line in message.splitlines() or [""]:
        typer.echo(f"xlcost: error: {line}", err=True)
    raise typer.Exit(1)


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
        except KeyboardInterrupt:
            typer.echo("xlcost: interrupted", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]
