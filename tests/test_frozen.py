"""The PyInstaller build: the frozen program gives the same output as the package, and handles
the ``-B -c CODE`` form xlwings uses (and refuses other interpreter options).

The program is built once per session with installer/build.py into a temporary folder (about
half a minute to a few minutes), or taken from ``XLCOST_FROZEN`` (the dist folder, its
``xlcost`` folder, or the program). A failed build fails the tests; only without PyInstaller
and outside CI (``CI`` unset) are they skipped. The reference is this checkout's package run by
the test's Python (``python -c "from xlcost.cli import main; main()"``), the same code the build
freezes.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
import xlwings
from test_frozen_entry import XLWINGS_UDF_SERVER

from xlcost import __version__

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(str(p) for p in (REPO / "xlcost" / "data" / "examples").glob("*.yaml"))
PROGRAM = "xlcost.exe" if sys.platform == "win32" else "xlcost"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

pytestmark = pytest.mark.xdist_group("frozen")  # one worker builds the program once


def _given_build(value: str) -> Path:
    path = Path(value).resolve()
    for candidate in (path, path / PROGRAM, path / "xlcost" / PROGRAM):
        if candidate.is_file():
            return candidate
    pytest.fail(f"XLCOST_FROZEN={value} holds no {PROGRAM}")


@pytest.fixture(scope="session")
def frozen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The frozen program (built once per session unless XLCOST_FROZEN names one)."""
    if given := os.environ.get("XLCOST_FROZEN"):
        return _given_build(given)
    if importlib.util.find_spec("PyInstaller") is None:
        message = "PyInstaller is not installed (pip install -e .[installer])"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    tmp = tmp_path_factory.mktemp("frozen")
    start = time.perf_counter()
    script = str(REPO / "installer" / "build.py")
    build = subprocess.run(
        [sys.executable, script, "--dist", str(tmp / "dist"), "--work", str(tmp / "work")],
        capture_output=True,
        text=True,
    )
    if build.returncode != 0:
        pytest.fail(f"the build failed:\n{build.stdout[-4000:]}\n{build.stderr[-4000:]}")
    print(f"\nbuilt in {time.perf_counter() - start:.0f} s: {build.stdout.strip()}")
    return tmp / "dist" / "xlcost" / PROGRAM


def run(
    command: Sequence[str], args: Sequence[str], cwd: Path | None = None
) -> tuple[int, str, str]:
    result = subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO), "PYTHONIOENCODING": "utf-8"},
        timeout=120,
    )
    return result.returncode, result.stdout, result.stderr


INSTALLED = [sys.executable, "-c", "from xlcost.cli import main; main()"]


@pytest.mark.parametrize(
    "args",
    [
        ["--version"],
        ["demo"],
        *(["calc", "-f", "json", example] for example in EXAMPLES),
        ["calc", "-f", "csv", *EXAMPLES],
        ["compare", "-f", "json", EXAMPLES[0]],
        ["catalog"],
        ["catalog", "-f", "json"],
        ["gpus", "--flops", "1e21", "--deadline-hours", "24"],
        ["schema"],
        ["calc", "no-such-file.yaml"],  # a reported failure: same message, same exit code
    ],
    ids=lambda args: " ".join(Path(a).name for a in args),
)
def test_frozen_output_equals_the_package(frozen: Path, args: list[str], tmp_path: Path) -> None:
    # in a folder of their own: `demo` writes xlcost-demo/ and refuses to replace a stale one
    (tmp_path / "package").mkdir()
    (tmp_path / "frozen").mkdir()
    expected = run(INSTALLED, args, cwd=tmp_path / "package")
    assert expected[0] in {0, 1}, expected
    assert run([str(frozen)], args, cwd=tmp_path / "frozen") == expected


def _workbook_command(name: str, example: str) -> list[str]:
    """How to run ``template``/``generate`` into the current folder."""
    inputs = [] if name == "template" else [example]
    out = "template.xlsx" if name == "template" else "out"
    return [name, *inputs, "--out", out]


@pytest.mark.parametrize("name", ["template", "generate"])
def test_frozen_workbooks_are_byte_identical(frozen: Path, tmp_path: Path, name: str) -> None:
    args = _workbook_command(name, EXAMPLES[-1])
    results = {}
    for who, command in (("installed", INSTALLED), ("frozen", [str(frozen)])):
        cwd = tmp_path / who
        cwd.mkdir()
        code, out, err = run(command, args, cwd=cwd)
        files = {
            p.relative_to(cwd).as_posix(): p.read_bytes() for p in cwd.rglob("*") if p.is_file()
        }
        results[who] = (code, out.replace(str(cwd), "<cwd>"), err.replace(str(cwd), "<cwd>"), files)
    assert results["installed"][0] == 0, results["installed"][:3]
    assert results["installed"][3], "the command wrote no file"
    assert results["frozen"] == results["installed"]


# --- the -B -c form (xlwings) and refusals --------------------------------------------------------


def test_b_c_runs_code_with_argv_and_exit_status(frozen: Path) -> None:
    code = "import sys; print(__name__, sys.argv); sys.exit(5)"
    assert run([str(frozen)], ["-B", "-c", code, "--wb=Book1.xlsm", "--from_xl=1"]) == (
        5,
        "__main__ ['-c', '--wb=Book1.xlsm', '--from_xl=1']\n",
        "",
    )


def test_b_c_exception_gives_traceback_and_exit_1(frozen: Path) -> None:
    code, out, err = run([str(frozen)], ["-B", "-c", "1 / 0"])
    assert (code, out) == (1, "")
    assert err == (
        'Traceback (most recent call last):\n  File "<string>", line 1, in <module>\n'
        "ZeroDivisionError: division by zero\n"
    )


def test_xlwings_udf_server_command_reaches_xlwings(frozen: Path) -> None:
    """The command xlwings' add-in runs; off Windows the COM server is missing, nothing else."""
    code, _, err = run([str(frozen)], ["-B", "-c", XLWINGS_UDF_SERVER])
    assert code == 1
    assert "pywin32" in err
    assert "ModuleNotFoundError" not in err


def test_xlwings_path_setup_finds_code_next_to_the_workbook(frozen: Path, tmp_path: Path) -> None:
    (tmp_path / "helper.py").write_text("VALUE = 42\n")
    book = (tmp_path / "Book1.xlsm").as_posix()
    code = (
        "import xlwings.utils;"
        f'xlwings.utils.prepare_sys_path("true;{book};{book};;;;");'
        "import helper; print(helper.VALUE)"
    )
    assert run([str(frozen)], ["-B", "-c", code]) == (0, "42\n", "")


def test_udf_module_is_bundled_and_computes_like_the_package(frozen: Path) -> None:
    """The module xlwings imports (``UDF MODULES``), called as the UDF server would."""
    code = (
        "import xlcost.udfs as u; print(u.TRAIN_COST(32, 3, 5), u.ROI(150, 590), "
        "u.GPU_SPEC('H100', 'price_per_hour'), u.TRAIN_COST('x', 1, 1), u.XLCOST_VERSION())"
    )
    expected = run([sys.executable, "-c", code], [])
    assert expected[0] == 0, expected
    assert run([str(frozen)], ["-B", "-c", code]) == expected


@pytest.mark.parametrize(
    "args", [["-c", "print(1)"], ["-m", "pip"], ["-i"], ["-"], ["-B"], ["-X", "dev"]]
)
def test_other_interpreter_forms_are_refused(frozen: Path, args: list[str]) -> None:
    code, out, err = run([str(frozen)], args)
    assert (code, out) == (2, "")
    assert err.startswith(f"xlcost: unsupported option {args[0]!r}: ")
    assert err.count("\n") == 1


# --- what the frozen program carries --------------------------------------------------------------


def test_addin_config_points_xlwings_at_the_frozen_program(frozen: Path, tmp_path: Path) -> None:
    code, _, err = run([str(frozen)], ["addin", "config", "--user", "--home", str(tmp_path)])
    assert code == 0, err
    conf = (tmp_path / ".xlwings" / "xlwings.conf").read_text()
    assert conf == f'"INTERPRETER_WIN","{frozen}"\n"UDF MODULES","xlcost.udfs"\n'


def test_addin_install_copies_the_bundled_xlwings_addin(frozen: Path, tmp_path: Path) -> None:
    code, _, err = run([str(frozen)], ["addin", "install", "--home", str(tmp_path)])
    assert code == 0, err
    (installed,) = tmp_path.rglob("xlwings.xlam")
    assert installed.parent.name == "XLSTART"
    assert (
        installed.read_bytes()
        == (Path(xlwings.__file__).parent / "addin/xlwings.xlam").read_bytes()
    )


def test_template_artifacts_ship_next_to_the_program(frozen: Path) -> None:
    shipped = [p.name for p in (REPO / "workbook").glob("*.xls*") if not p.name.startswith("~$")]
    assert {"xlcost_template.xlsx", "xlcost_template_portable.xlsx"} <= set(shipped)
    folder = frozen.parent / "workbook"
    for name in shipped:
        assert (folder / name).read_bytes() == (REPO / "workbook" / name).read_bytes()


def test_version(frozen: Path) -> None:
    assert run([str(frozen)], ["--version"]) == (0, f"xlcost {__version__}\n", "")
