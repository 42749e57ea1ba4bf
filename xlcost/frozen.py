"""Entry point of the frozen (PyInstaller) ``xlcost`` program.

The frozen program is two things at once:

* the ``xlcost`` command-line tool (``xlcost demo``, ``xlcost calc …``), and
* on Windows, the "interpreter" classic xlwings starts for Excel (``INTERPRETER_WIN`` in
  ``xlwings.conf``). xlwings runs its interpreter as ``<interpreter> -B -c "<code>"``: the UDF
  server as ``-B -c "import sys, os;import xlwings.utils;xlwings.utils.prepare_sys_path(…);
  import xlwings; xlwings.serve('{CLSID}')"``; ``RunPython`` appends ``--wb=… --from_xl=1
  --app=… --hwnd=…`` after the code, which the code reads from :data:`sys.argv` as under Python.

:func:`main` accepts exactly that form: ``-B -c CODE [ARG …]`` runs CODE like ``python -B -c``
(in a fresh ``__main__`` module, ``sys.argv == ["-c", ARG, …]``) and exits with its status. Any
other first argument that starts with ``-`` and is not an option of the xlcost CLI (``--help``,
``--version``) is refused with one line on stderr and exit code 2 — that includes ``-c`` without
``-B``, ``-m``, ``-i`` and a bare ``-``: the program is not a general Python interpreter. Everything
else is the normal CLI. Helper processes of :mod:`multiprocessing` are diverted first by
:func:`multiprocessing.freeze_support` (patched by PyInstaller's runtime hook).
"""

from __future__ import annotations

import builtins
import sys
import traceback
import types
from collections.abc import Sequence

__all__ = ["USAGE", "main", "refusal", "run_code"]

#: The one interpreter form accepted; xlwings builds it in ``XLPyCommand``/``ExecuteWindows``.
XLWINGS_FLAGS = ("-B", "-c")

USAGE = (
    "xlcost: unsupported option {arg!r}: this program runs xlcost commands "
    "(see 'xlcost --help') and, for xlwings, Python code as '-B -c CODE'"
)


def run_code(code: str, args: Sequence[str] = ()) -> int:
    """Run ``code`` as ``python -B -c code args…`` would and return the exit status.

    Parameters
    ----------
    code
        Python source, compiled with the file name ``"<string>"`` as CPython does for ``-c``.
    args
        The arguments after the code; the code sees ``sys.argv == ["-c", *args]``.

    Returns
    -------
    int
        0 when the code ends normally; the ``SystemExit`` status when it exits (``None`` → 0,
        an integer as is, anything else printed to stderr → 1); 1 after any other exception,
        whose traceback is printed to stderr.

    Examples
    --------
    >>> run_code("import sys; print(sys.argv)", ["--wb=a.xlsx"])
    ['-c', '--wb=a.xlsx']
    0
    >>> run_code("raise SystemExit(3)")
    3
    """
    main_module = types.ModuleType("__main__")
    main_module.__dict__.update(__builtins__=builtins, __spec__=None, __loader__=None)
    saved_main, saved_argv = sys.modules.get("__main__"), sys.argv
    sys.modules["__main__"], sys.argv = main_module, ["-c", *args]
    sys.dont_write_bytecode = True  # what -B asks for
    try:
        exec(compile(code, "<string>", "exec"), main_module.__dict__)
    except SystemExit as e:
        return _exit_status(e.code)
    except BaseException as e:  # like the interpreter: report it (without this frame), exit 1
        tb = e.__traceback__
        traceback.print_exception(type(e), e, tb and tb.tb_next)
        return 1
    finally:
        sys.argv = saved_argv
        if saved_main is not None:
            sys.modules["__main__"] = saved_main
    return 0


def _exit_status(code: object) -> int:
    """The process exit status for ``SystemExit(code)``, following CPython."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def refusal(argv: Sequence[str]) -> str | None:
    """The one-line message refusing ``argv``, or ``None`` when it is not to be refused.

    Parameters
    ----------
    argv
        The arguments after the program name.

    Examples
    --------
    >>> refusal(["-m", "pip"])
    "xlcost: unsupported option '-m': this program runs xlcost commands (see 'xlcost --help') \
and, for xlwings, Python code as '-B -c CODE'"
    >>> refusal(["--version"]) is None, refusal(["demo"]) is None, refusal([]) is None
    (True, True, True)
    """
    if not argv or not argv[0].startswith("-"):
        return None
    if argv[0].split("=")[0] in _cli_root_options():
        return None
    return USAGE.format(arg=argv[0])


def _cli_root_options() -> set[str]:
    """The options of the ``xlcost`` command itself (``--help``, ``--version``, …)."""
    import typer
    import typer.main

    from xlcost.cli import app

    command = typer.main.get_command(app)
    ctx = typer.Context(command, info_name="xlcost")  # no parsing: that would load pydantic
    return {opt for param in command.get_params(ctx) for opt in param.opts}


def main(argv: Sequence[str] | None = None) -> None:
    """Run the frozen program: the ``-B -c`` form for xlwings, a refusal, or the xlcost CLI.

    Parameters
    ----------
    argv
        The arguments after the program name; :data:`sys.argv` ``[1:]`` when ``None``.
    """
    import multiprocessing

    multiprocessing.freeze_support()
    args = list(sys.argv[1:] if argv is None else argv)
    if tuple(args[:2]) == XLWINGS_FLAGS and len(args) > 2:
        sys.exit(run_code(args[2], args[3:]))
    message = refusal(args)
    if message is not None:
        print(message, file=sys.stderr)
        sys.exit(2)
    from xlcost.cli import main as cli_main

    sys.argv = ["xlcost", *args]
    cli_main()
