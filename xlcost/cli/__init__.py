"""The ``xlcost`` command-line tool: thin, typed, ``--help`` on every command.

Exit codes: 0 success; 1 a problem with the input (one clear line per problem on stderr);
2 usage errors (from the argument parser). Commands live in sibling modules and register
themselves on :data:`app`.
"""

from __future__ import annotations

import sys

import typer

from xlcost.cli._app import app, fail

__all__ = ["app", "fail", "main", "register_commands"]


def register_commands() -> None:
    """Import the modules whose commands register themselves on :data:`app`."""
    from xlcost.cli import addin_cmds, engine_cmds  # noqa: F401


def main() -> None:
    """Entry point of the ``xlcost`` console script."""
    if sys.argv[1:] != ["--version"]:  # `--version` needs no command: keep it fast
        register_commands()
    app(prog_name="xlcost")
    sys.exit(0)


if __name__ == "__main__":  # pragma: no cover
    main()
    typer.Exit()
