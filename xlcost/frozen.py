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

For xlwings' ``-B -c`` start, three things PyInstaller's defaults get wrong for Excel:

* PyInstaller's runtime hook for pywin32 points win32com's ``gen_py`` cache at a temporary folder
  deleted at exit, so every start would regenerate Excel's type library; :func:`persistent_gen_py`
  moves it to ``%LOCALAPPDATA%\\xlcost\\gen_py\\<python version>`` (:func:`gen_py_folder`).
* The console xlwings starts is hidden, so a crash of the start would be invisible while Excel
  waits: each start appends to a log (:func:`start_log_path`), and a failed start shows a
  message box naming the log (Windows, frozen only).
"""

from __future__ import annotations

import builtins
import contextlib
import datetime as dt
import io
import os
import sys
import traceback
import types
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "USAGE",
    "gen_py_folder",
    "main",
    "persistent_gen_py",
    "refusal",
    "run_code",
    "run_for_xlwings",
    "start_log_path",
]

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


def _local_appdata(environ: Mapping[str, str]) -> Path:
    base = environ.get("LOCALAPPDATA")
    return Path(base) if base else Path.home() / "AppData" / "Local"


def gen_py_folder(environ: Mapping[str, str] = os.environ) -> Path:
    """The persistent folder of win32com's generated type libraries (one per Python version).

    >>> gen_py_folder({"LOCALAPPDATA": "/u/AppData/Local"}).as_posix()[:36]
    '/u/AppData/Local/xlcost/gen_py/3.'
    """
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    return _local_appdata(environ) / "xlcost" / "gen_py" / version


def persistent_gen_py(folder: Path) -> None:
    """Point win32com's ``gen_py`` cache at ``folder`` (instead of PyInstaller's temporary one).

    Undoes what PyInstaller's ``pyi_rth_win32comgenpy`` runtime hook sets: ``win32com.__gen_path__``
    and the first entry of ``win32com.gen_py.__path__``. Needs pywin32 (Windows).
    """
    folder.mkdir(parents=True, exist_ok=True)
    import win32com
    import win32com.gen_py

    win32com.__gen_path__ = str(folder)
    paths = win32com.gen_py.__path__
    if str(folder) not in paths:
        paths.insert(0, str(folder))


def start_log_path(environ: Mapping[str, str] = os.environ) -> Path:
    """The log each xlwings start appends to: ``%LOCALAPPDATA%\\xlcost\\logs\\xlcost-start.log``."""
    return _local_appdata(environ) / "xlcost" / "logs" / "xlcost-start.log"


def _message_box(text: str) -> None:  # pragma: no cover - Windows only
    import ctypes

    ctypes.windll.user32.MessageBoxW(None, text, "xlcost", 0x10)  # type: ignore[attr-defined]


class _Tee(io.TextIOBase):
    def __init__(self, *streams: Any) -> None:
        self.streams = streams

    def write(self, s: str) -> int:
        for stream in self.streams:
            with contextlib.suppress(Exception):  # a missing console must not stop the start
                stream.write(s)
        return len(s)

    def flush(self) -> None:
        for stream in self.streams:
            with contextlib.suppress(Exception):
                stream.flush()


def run_for_xlwings(
    code: str,
    args: Sequence[str] = (),
    *,
    log: Path | None = None,
    notify: Callable[[str], None] | None = None,
) -> int:
    """:func:`run_code` for xlwings' ``-B -c`` start, logged, with a visible failure.

    The start, its exit status and anything written to stderr (a traceback) are appended to
    ``log``; a failed start (status ≠ 0) calls ``notify`` with one line naming the log.

    Examples
    --------
    >>> import tempfile
    >>> log = Path(tempfile.mkdtemp()) / "start.log"
    >>> shown = []
    >>> run_for_xlwings("raise ImportError('no xlwings')", log=log, notify=shown.append)
    1
    >>> shown[0].startswith("xlcost could not start the Excel functions (exit 1): ImportError")
    True
    >>> "ImportError: no xlwings" in log.read_text()
    True
    """
    captured = io.StringIO()
    stamp = dt.datetime.now().isoformat(timespec="seconds")
    saved = sys.stderr
    sys.stderr = _Tee(saved, captured)
    try:
        status = run_code(code, args)
    finally:
        sys.stderr = saved
    errors = captured.getvalue()
    if log is not None:
        with contextlib.suppress(OSError):  # logging must never stop the start
            log.parent.mkdir(parents=True, exist_ok=True)
            with log.open("a", encoding="utf-8") as f:
                f.write(f"{stamp} start {code[:200]!r} {list(args)!r}\n{errors}")
                f.write(f"{stamp} exit {status}\n")
    if status != 0 and notify is not None:
        last = next((line for line in reversed(errors.splitlines()) if line.strip()), "")
        where = f"; details in {log}" if log is not None else ""
        notify(f"xlcost could not start the Excel functions (exit {status}): {last}{where}")
    return status


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
        windows = sys.platform == "win32" and getattr(sys, "frozen", False)
        if windows:  # pragma: no cover - Windows only
            with contextlib.suppress(Exception):  # without pywin32 xlwings reports it itself
                persistent_gen_py(gen_py_folder())
        notify = _message_box if windows else None
        sys.exit(run_for_xlwings(args[2], args[3:], log=start_log_path(), notify=notify))
    message = refusal(args)
    if message is not None:
        print(message, file=sys.stderr)
        sys.exit(2)
    from xlcost.cli import main as cli_main

    sys.argv = ["xlcost", *args]
    cli_main()
