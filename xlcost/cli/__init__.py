"""The ``xlcost`` command-line tool: thin, typed, ``--help`` on every command.

Exit codes: 0 success; 1 a problem with the input (one clear line per problem on stderr);
2 usage errors (from the argument parser). Commands live in sibling modules and register
themselves on :data:`app`.
"""

from __future__ import annotations

import sys

import typer

from xlcost.cli._app import app, fail

__all__ = ["app", "fail", "load_commands", "main"]


def load_commands() -> typer.Typer:
    """Import the command modules (each registers its commands on :data:`app`) and return it."""
    from xlcost.cli import (  # noqa: F401
        addin_cmds,
        batch_cmds,
        engine_cmds,
        risk_cmds,
        workbook_cmds,
    )

    return app


def main() -> None:
    """Entry point of the ``xlcost`` console script."""
    cli = app if sys.argv[1:] == ["--version"] else load_commands()  # --version needs none
    cli(prog_name="xlcost")
    sys.exit(0)
