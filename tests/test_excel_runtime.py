"""Defects of the Excel runtime found by reading xlwings' own code, each pinned by a test.

* Classic xlwings hands a Currency- or Accounting-formatted cell to Python as
  ``decimal.Decimal`` (pywin32 converts COM's VT_CY so); finance users format prices so.
* xlwings' own *Import Functions* (``xlwings/udfs.py``, ``import_udfs``) calls
  ``Application.MacroOptions`` for every function (description, argument descriptions,
  category); ``xlcost addin import`` must too, or the function wizard shows no help under
  "User Defined".
* A COM error from Excel (e.g. VBA project access not trusted) is one line, not a traceback.
"""

from __future__ import annotations

import re
import sys
import types
from decimal import Decimal
from pathlib import Path

import pytest

from xlcost import addin
from xlcost.engine.errors import XlcostError
from xlcost.functions import REGISTRY
from xlcost.udfs import BENEFIT, DEPLOY_COST, TRAIN_COST


def test_currency_cells_arrive_as_decimal_and_are_numbers() -> None:
    assert TRAIN_COST([[32]], [[3]], [[Decimal("5")]]) == 480.0  # 1×1 ranges give a scalar
    assert TRAIN_COST(32, 3, Decimal("5.00")) == 480.0
    assert DEPLOY_COST([[1, Decimal("2")]], 100, Decimal("0.1")) == [[10.0, 20.0]]
    assert BENEFIT(1e8, 0.005, 0.003, Decimal("0.1")) == 150.0


def test_decimal_domain_errors_still_name_the_argument() -> None:
    assert TRAIN_COST(32, 3, Decimal("-5")) == "#NUM! price_per_gpu_hour must be ≥ 0, got -5"
    nan = "#NUM! price_per_gpu_hour must be a finite number"
    assert TRAIN_COST(32, 3, [[Decimal("NaN")]]) == nan


# --- `xlcost addin import` against a stand-in for Excel's COM objects -------------------------


class _FakeExcel:
    """Records what ``_import_with_excel`` asks of Excel.Application."""

    def __init__(self, fail: BaseException | None = None) -> None:
        self.calls: list[tuple[str, object]] = []
        self.fail = fail
        self.Workbooks = self  # Workbooks.Open
        self.VBProject = self
        self.VBComponents = self
        self.References = self
        self.Name = "xlcost_template.xlsx"

    def Open(self, path: str) -> _FakeExcel:
        self.calls.append(("Open", path))
        return self

    def Import(self, path: str) -> None:
        if self.fail is not None:
            raise self.fail
        self.calls.append(("Import", path))

    def AddFromFile(self, path: str) -> None:
        self.calls.append(("AddFromFile", path))

    def MacroOptions(self, **options: object) -> None:
        self.calls.append(("MacroOptions", options))

    def SaveAs(self, path: str, FileFormat: int) -> None:
        Path(path).write_bytes(b"PK xlsm")

    def Close(self, SaveChanges: bool) -> None:
        self.calls.append(("Close", SaveChanges))

    def Quit(self) -> None:
        self.calls.append(("Quit", None))


class com_error(Exception):
    pass


def _with_fake_excel(monkeypatch: pytest.MonkeyPatch, excel: _FakeExcel) -> None:
    client = types.ModuleType("win32com.client")
    client.DispatchEx = lambda prog_id: excel  # type: ignore[attr-defined]
    package = types.ModuleType("win32com")
    package.client = client  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "win32com", package)
    monkeypatch.setitem(sys.modules, "win32com.client", client)


def test_import_sets_descriptions_and_category_like_xlwings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    excel = _FakeExcel()
    _with_fake_excel(monkeypatch, excel)
    template, bas = tmp_path / "t.xlsx", tmp_path / "f.bas"
    template.write_bytes(b"PK")
    bas.write_text("")
    assert addin._import_with_excel(template, bas, Path("xlwings.xlam")) == b"PK xlsm"
    options = [o for name, o in excel.calls if name == "MacroOptions"]
    assert [o["Macro"] for o in options] == [  # type: ignore[index]
        f"'xlcost_template.xlsx'!{name}" for name in REGISTRY
    ]
    for o, fn in zip(options, REGISTRY.values(), strict=True):
        assert o["Category"] == "xlcost"  # type: ignore[index]
        assert o["Description"] == fn.description  # type: ignore[index]
        args = [a.description for a in fn.args] or None
        assert o["ArgumentDescriptions"] == args  # type: ignore[index]
    names = [name for name, _ in excel.calls]
    assert names.index("Import") < names.index("MacroOptions") < names.index("Close")
    assert names[-1] == "Quit"


def test_a_com_error_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    info = (0, "Microsoft Excel", "Programmatic access to Visual Basic Project is not trusted\n",
            None, 0, -2146827284)  # fmt: skip
    excel = _FakeExcel(fail=com_error(-2147352567, "Exception occurred.", info, None))
    _with_fake_excel(monkeypatch, excel)
    template, bas = tmp_path / "t.xlsx", tmp_path / "f.bas"
    template.write_bytes(b"PK")
    bas.write_text("")
    with pytest.raises(XlcostError) as caught:
        addin._import_with_excel(template, bas, Path("xlwings.xlam"))
    message = str(caught.value)
    assert message.startswith(
        "Excel: Programmatic access to Visual Basic Project is not trusted (0x80020009); "
    )
    assert "Trust access to the VBA project object model" in message
    assert "\n" not in message
    assert excel.calls[-1] == ("Quit", None)


# --- the frozen program's start for xlwings ---------------------------------------------------


def test_gen_py_cache_moves_to_a_persistent_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What PyInstaller's pyi_rth_win32comgenpy hook leaves (a temporary folder, deleted at
    exit) is replaced by a folder under %LOCALAPPDATA% that survives between starts."""
    from xlcost import frozen

    temporary = str(tmp_path / "_MEI123" / "gen_py")
    win32com = types.ModuleType("win32com")
    win32com.__gen_path__ = temporary  # type: ignore[attr-defined]
    gen_py = types.ModuleType("win32com.gen_py")
    gen_py.__path__ = [temporary]
    win32com.gen_py = gen_py  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "win32com", win32com)
    monkeypatch.setitem(sys.modules, "win32com.gen_py", gen_py)
    folder = frozen.gen_py_folder({"LOCALAPPDATA": str(tmp_path / "Local")})
    assert folder.parent == tmp_path / "Local" / "xlcost" / "gen_py"
    frozen.persistent_gen_py(folder)
    assert folder.is_dir()
    assert win32com.__gen_path__ == str(folder)  # type: ignore[attr-defined]
    assert gen_py.__path__[0] == str(folder)


def test_a_failed_start_is_logged_and_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from xlcost import frozen

    log = frozen.start_log_path({"LOCALAPPDATA": str(tmp_path)})
    shown: list[str] = []
    status = frozen.run_for_xlwings("import no_such_module_xlcost", log=log, notify=shown.append)
    assert status == 1
    text = log.read_text(encoding="utf-8")
    assert "ModuleNotFoundError: No module named 'no_such_module_xlcost'" in text
    assert text.rstrip().endswith("exit 1")
    assert shown == [
        "xlcost could not start the Excel functions (exit 1): ModuleNotFoundError: No module "
        f"named 'no_such_module_xlcost'; details in {log}"
    ]
    assert "ModuleNotFoundError" in capsys.readouterr().err  # still on stderr, as before
    assert frozen.run_for_xlwings("pass", log=log, notify=shown.append) == 0
    assert len(shown) == 1  # a good start shows nothing


def test_main_logs_the_xlwings_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from xlcost import frozen

    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path))
    with pytest.raises(SystemExit) as done:
        frozen.main(["-B", "-c", "import sys; sys.exit(4)"])
    assert done.value.code == 4
    assert "exit 4" in (tmp_path / "xlcost" / "logs" / "xlcost-start.log").read_text()


# --- what the set-up guides tell a user ---------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]


def test_installer_readme_names_files_that_exist_and_says_errors_are_text() -> None:
    text = (ROOT / "installer" / "README.md").read_text(encoding="utf-8")
    for name in re.findall(r"workbook\\([\w.]+\.xlsx)", text):
        assert (ROOT / "workbook" / name).is_file(), name
    assert "TEMPLATE.xlsx" not in text
    flat = " ".join(text.split())
    assert "Errors of the functions show as Excel errors" not in flat
    assert "as the cell's **text**" in flat and "#776" in flat
    assert "xlcost addin config --workbook" in flat  # the workbook's own sheet, not user-wide
