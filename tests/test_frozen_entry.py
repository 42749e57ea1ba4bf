"""The frozen program's argument handling (xlcost/frozen.py), in-process.

The same cases run against the real PyInstaller build in tests/test_frozen.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from xlcost import __version__
from xlcost.frozen import USAGE, main, run_code

#: The code xlwings' VBA (XLPyCommand in xlwings.bas) passes to its interpreter for the UDF server,
#: as the program receives it after Windows' command-line parsing.
XLWINGS_UDF_SERVER = (
    "import sys, os;import xlwings.utils;xlwings.utils.prepare_sys_path("
    '"true;C:\\\\Users\\\\me\\\\xlcost.xlsm;C:\\\\Users\\\\me\\\\xlcost.xlsm;;;;");'
    "import xlwings; xlwings.serve('{506e67c3-55b5-48c3-a035-eed5deea7d6d}')"
)


def run_main(args: list[str]) -> int:
    """Run :func:`main` and return the exit status it ends with."""
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    code = exit_info.value.code
    assert isinstance(code, int)
    return code


def test_b_c_runs_code_with_cpython_argv_and_exit_status(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = "import sys; print(__name__, sys.argv); sys.exit(5)"
    assert run_main(["-B", "-c", code, "--wb=Book1.xlsm", "--from_xl=1"]) == 5
    assert capsys.readouterr().out == "__main__ ['-c', '--wb=Book1.xlsm', '--from_xl=1']\n"


def test_code_ending_normally_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_main(["-B", "-c", "print(6 * 7)"]) == 0
    assert capsys.readouterr().out == "42\n"


@pytest.mark.parametrize(
    ("code", "status", "stderr"),
    [
        ("raise SystemExit", 0, ""),
        ("raise SystemExit(None)", 0, ""),
        ("raise SystemExit(7)", 7, ""),
        ("raise SystemExit('bad luck')", 1, "bad luck\n"),
    ],
)
def test_system_exit_is_honoured(
    code: str, status: int, stderr: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_code(code) == status
    assert capsys.readouterr().err == stderr


def test_exception_prints_traceback_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_main(["-B", "-c", "x = 1\n1 / 0"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):")
    assert 'File "<string>", line 2' in err
    assert err.endswith("ZeroDivisionError: division by zero\n")


def test_syntax_error_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_code("def (") == 1
    assert "SyntaxError" in capsys.readouterr().err


def test_code_runs_in_a_fresh_main_and_state_is_restored() -> None:
    argv, main_module = sys.argv, sys.modules["__main__"]
    code = (
        "import sys\n"
        "assert sys.modules['__main__'].__dict__ is globals()\n"
        "assert __name__ == '__main__' and '__file__' not in globals()\n"
        "leak = 1"
    )
    assert run_code(code) == 0
    assert run_code("leak") == 1  # nothing survives from the previous run
    assert sys.argv is argv
    assert sys.modules["__main__"] is main_module


def test_xlwings_udf_server_command_reaches_xlwings(capsys: pytest.CaptureFixture[str]) -> None:
    """Off Windows xlwings has no COM server: the call fails after xlwings set up sys.path."""
    status = run_main(["-B", "-c", XLWINGS_UDF_SERVER])
    err = capsys.readouterr().err
    if sys.platform == "win32":  # pragma: no cover - the server would block here
        pytest.skip("needs Excel")
    assert status == 1
    assert "ModuleNotFoundError" not in err
    assert err.startswith('Traceback (most recent call last):\n  File "<string>", line 1')
    assert "pywin32" in err


@pytest.mark.parametrize(
    "args",
    [
        ["-c", "print(1)"],  # -c alone is not the xlwings form
        ["-B"],
        ["-B", "-c"],
        ["-B", "-m", "pip"],
        ["-m", "pip"],
        ["-i"],
        ["-"],
        ["-h"],
        ["-X", "dev", "-c", "1"],
        ["--no-such-option"],
    ],
)
def test_other_interpreter_forms_are_refused_with_one_line_and_exit_2(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_main(args) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == USAGE.format(arg=args[0]) + "\n"


def test_cli_options_and_commands_run_the_cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # demo writes xlcost-demo/ here
    monkeypatch.setattr(sys, "argv", ["xlcost"])  # main() sets sys.argv for the CLI
    assert run_main(["--version"]) == 0
    assert capsys.readouterr().out == f"xlcost {__version__}\n"
    assert run_main(["--help"]) == 0
    assert "demo" in capsys.readouterr().out
    assert run_main(["demo"]) == 0
    assert "590.00" in capsys.readouterr().out


@pytest.mark.parametrize("entry", ["xlcost.cli", "xlcost.frozen"])
def test_version_loads_no_heavy_module(entry: str) -> None:
    """`xlcost --version` stays fast: neither numpy, pydantic, yaml nor openpyxl is imported."""
    code = (
        "import sys\n"
        "sys.argv = ['xlcost', '--version']\n"
        f"from {entry} import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('numpy', 'pydantic', 'yaml', 'openpyxl') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout == f"xlcost {__version__}\n[]\n"
