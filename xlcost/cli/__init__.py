"""The ``xlcost`` command-line tool: thin, typed, ``--help`` on every command.

Exit codes: 0 success; 1 a problem with the input (one clear line per problem on stderr);
2 usage errors (from the argument parser). Commands live in sibling modules and register
themselves on :data:`app` and are imported only when needed (:data:`COMMANDS`).
"""

from __future__ import annotations

import sys

import typer

from xlcost.cli._app import COMMANDS, app, examples, fail

__all__ = ["COMMANDS", "app", "examples", "fail", "load_commands", "main"]


def load_commands() -> typer.Typer:
    """Import the command modules (each registers its commands on :data:`app`) and return it."""
    from xlcost.cli import (  # noqa: F401
        addin_cmds,
        batch_cmds,
        engine_cmds,
        init_cmds,
        risk_cmds,
        workbook_cmds,
    )

    return app


def main() -> None:
    """Entry point of the ``xlcost`` console script."""
    app(prog_name="xlcost")  # each command's module is imported when it runs (see COMMANDS)
    sys.exit(0)
