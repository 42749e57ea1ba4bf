"""`xlcost addin`: the files the Windows set-up writes, their backups and undo — run on Linux
against a test folder standing in for the user profile (``--home``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path, PureWindowsPath

import pytest
import xlwings
import xlwings.utils
from typer.testing import CliRunner

from xlcost import addin
from xlcost.cli import load_commands
from xlcost.engine.errors import XlcostError

APP = load_commands()
runner = CliRunner()
EXE = "C:\\Program Files\\xlcost\\xlcost.exe"
off_windows = pytest.mark.skipif(sys.platform == "win32", reason="checks the refusal off Windows")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(APP, list(args))
    return result.exit_code, result.output


# --- paths ----------------------------------------------------------------------------------------


def test_target_in_a_test_home(home: Path) -> None:
    t = addin.resolve_target(home)
    assert t.config_file == home / ".xlwings" / "xlwings.conf"
    assert t.xlstart == home / "AppData" / "Roaming" / "Microsoft" / "Excel" / "XLSTART"
    assert addin.resolve_target(home, home / "start").xlstart == home / "start"


def test_target_on_windows_uses_appdata(tmp_path: Path) -> None:
    t = addin.resolve_target(platform="win32", environ={"APPDATA": str(tmp_path)})
    assert t.live
    assert t.xlstart == tmp_path / "Microsoft" / "Excel" / "XLSTART"
    assert t.config_file == Path.home() / ".xlwings" / "xlwings.conf"


def test_dry_run_off_windows_shows_windows_placeholders() -> None:
    t = addin.resolve_target(dry_run=True, platform="linux")
    assert not t.live
    assert t.config_file == PureWindowsPath(r"%USERPROFILE%\.xlwings\xlwings.conf")
    assert t.record == PureWindowsPath(r"%USERPROFILE%\.xlwings\xlcost-setup.json")


def test_off_windows_without_home_or_dry_run_needs_windows() -> None:
    with pytest.raises(addin.NeedsWindowsError, match="needs Windows"):
        addin.resolve_target(platform="linux")


# --- xlwings.conf ---------------------------------------------------------------------------------


def test_config_text_sets_our_keys_and_keeps_the_rest() -> None:
    old = '"CONDA PATH","C:\\conda"\n\n"Interpreter_Win","python"\n"udf modules","mine"\n'
    text = addin.config_text(old, {"INTERPRETER_WIN": EXE, "UDF MODULES": "xlcost.udfs"})
    assert text == (
        f'"CONDA PATH","C:\\conda"\r\n"INTERPRETER_WIN","{EXE}"\r\n"UDF MODULES","xlcost.udfs"\r\n'
    )


@pytest.mark.parametrize("value", ['C:\\a"b.exe', "C:\\a\nb.exe"])
def test_config_text_refuses_what_the_format_cannot_carry(value: str) -> None:
    with pytest.raises(XlcostError, match=r"cannot go into xlwings\.conf"):
        addin.config_text(None, {"INTERPRETER_WIN": value})


def test_xlwings_reads_the_config_we_write(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    t = addin.resolve_target(home)
    addin.apply("config", addin.config_writes(t, EXE), t)
    monkeypatch.setattr(xlwings, "USER_CONFIG_FILE", str(t.config_file))
    assert xlwings.utils.read_user_config() == {
        "interpreter_win": EXE,
        "udf modules": "xlcost.udfs",
    }


# --- apply and undo -------------------------------------------------------------------------------


def test_config_backs_up_an_existing_file_once_and_undo_restores_it(home: Path) -> None:
    t = addin.resolve_target(home)
    conf = Path(t.config_file)
    conf.parent.mkdir(parents=True)
    conf.write_bytes(b'"LICENSE_KEY","abc"\r\n')
    report = addin.apply("config", addin.config_writes(t, EXE), t)
    backup = conf.with_name("xlwings.conf.xlcost-backup")
    assert report[0] == f"backed up {conf} to {backup}"
    assert report[1].startswith(f"wrote {conf}: xlwings user config: INTERPRETER_WIN={EXE}")
    assert conf.read_bytes().startswith(b'"LICENSE_KEY","abc"\r\n"INTERPRETER_WIN"')
    addin.apply("config", addin.config_writes(t, "C:\\other.exe"), t)  # again: no new backup
    assert sorted(p.name for p in conf.parent.iterdir()) == [
        "xlcost-setup.json",
        "xlwings.conf",
        "xlwings.conf.xlcost-backup",
    ]
    assert addin.undo(t, "config") == [f"restored {conf} from {backup}"]
    assert conf.read_bytes() == b'"LICENSE_KEY","abc"\r\n'
    assert sorted(p.name for p in conf.parent.iterdir()) == ["xlwings.conf"]


def test_backup_does_not_overwrite_an_older_backup(home: Path) -> None:
    t = addin.resolve_target(home)
    conf = Path(t.config_file)
    conf.parent.mkdir(parents=True)
    conf.write_text("mine")
    conf.with_name("xlwings.conf.xlcost-backup").write_text("someone else's")
    addin.apply("config", addin.config_writes(t, EXE), t)
    assert conf.with_name("xlwings.conf.xlcost-backup2").read_text() == "mine"
    addin.undo(t)
    assert conf.read_text() == "mine"
    assert conf.with_name("xlwings.conf.xlcost-backup").read_text() == "someone else's"


def test_install_copies_the_xlwings_addin_and_undo_removes_it(home: Path) -> None:
    t = addin.resolve_target(home)
    addin.apply("install", addin.install_writes(t), t)
    xlam = Path(t.xlstart) / "xlwings.xlam"
    shipped = Path(xlwings.__file__).parent / "addin" / "xlwings.xlam"
    assert xlam.read_bytes() == shipped.read_bytes()
    assert json.loads(Path(t.record).read_text())["entries"] == [
        {"step": "install", "path": str(xlam), "backup": None}
    ]
    assert addin.undo(t, "config") == [f"nothing to undo for config (no record in {t.record})"]
    assert addin.undo(t, "install", dry_run=True) == [f"would remove {xlam}"]
    assert xlam.exists()
    assert addin.undo(t, "install") == [f"removed {xlam}"]
    assert not xlam.exists()
    assert not Path(t.record).exists()


def test_dry_run_writes_nothing(home: Path) -> None:
    t = addin.resolve_target(home)
    lines = addin.apply("install", addin.install_writes(t), t, dry_run=True)
    assert lines == [
        f"would write {Path(t.xlstart) / 'xlwings.xlam'}: xlwings add-in (copy of "
        f"{Path(xlwings.__file__).parent / 'addin' / 'xlwings.xlam'}); Excel loads it at start"
    ]
    assert not home.exists()


def test_import_checks_its_inputs(tmp_path: Path, home: Path) -> None:
    t = addin.resolve_target(home)
    template, bas = tmp_path / "t.xlsx", tmp_path / "f.bas"
    with pytest.raises(XlcostError, match="template not found"):
        addin.import_writes(t, template, tmp_path / "o.xlsm", bas)
    template.write_bytes(b"PK")
    with pytest.raises(XlcostError, match="VBA module not found"):
        addin.import_writes(t, template, tmp_path / "o.xlsm", bas)
    bas.write_text('Attribute VB_Name = "xlcost_udfs"\n')
    with pytest.raises(XlcostError, match=r"\.xlsm"):
        addin.import_writes(t, template, tmp_path / "o.xlsx", bas)
    (w,) = addin.import_writes(t, template, tmp_path / "o.xlsm", bas)
    assert w.path == tmp_path / "o.xlsm"
    assert "t.xlsx with f.bas imported" in w.what


# --- the commands ---------------------------------------------------------------------------------


@off_windows
def test_commands_need_windows_without_home_or_dry_run() -> None:
    for step in (["config", "--user"], ["install"], ["uninstall"]):
        code, out = cli("addin", *step)
        assert (code, out) == (
            1,
            "xlcost: error: needs Windows (Excel's set-up lives there); "
            "use --dry-run to see what it would do, or --home DIR to write "
            "into a test folder\n",
        )


@off_windows
def test_dry_run_prints_the_windows_paths() -> None:
    code, out = cli("addin", "config", "--user", "--dry-run", "--interpreter", EXE)
    assert (code, out) == (
        0,
        "would write %USERPROFILE%\\.xlwings\\xlwings.conf: xlwings user config: "
        f"INTERPRETER_WIN={EXE}, UDF MODULES=xlcost.udfs\n",
    )
    code, out = cli("addin", "install", "--dry-run")
    assert code == 0
    assert out.startswith("would write %APPDATA%\\Microsoft\\Excel\\XLSTART\\xlwings.xlam: ")
    assert cli("addin", "uninstall", "--dry-run") == (
        0,
        "would undo the steps recorded in %USERPROFILE%\\.xlwings\\xlcost-setup.json\n",
    )


def test_config_install_uninstall_in_a_test_home(home: Path) -> None:
    code, out = cli("addin", "config", "--user", "--home", str(home))
    assert code == 0, out
    conf = home / ".xlwings" / "xlwings.conf"
    assert f'"INTERPRETER_WIN","{sys.executable}"' in conf.read_text()
    assert cli("addin", "install", "--home", str(home))[0] == 0
    code, out = cli("addin", "config", "--undo", "--home", str(home))
    assert (code, out) == (0, f"removed {conf}\n")
    assert cli("addin", "uninstall", "--home", str(home))[0] == 0
    assert [p for p in home.rglob("*") if p.is_file()] == []


@off_windows
def test_import_needs_windows_unless_dry_run(tmp_path: Path, home: Path) -> None:
    template, bas = tmp_path / "t.xlsx", tmp_path / "f.bas"
    template.write_bytes(b"PK")
    bas.write_text("")
    args = ["--template", str(template), "--out", str(tmp_path / "o.xlsm"), "--bas", str(bas)]
    code, out = cli("addin", "import", "--home", str(home), *args)
    assert (code, out) == (1, "xlcost: error: needs Windows with Excel: only Excel can add VBA\n")
    code, out = cli("addin", "import", "--dry-run", *args)
    assert code == 0
    assert out.startswith(f"would write {tmp_path / 'o.xlsm'}: t.xlsx with f.bas imported")
    code, out = cli("addin", "import", "--dry-run")
    assert code == 2
    assert "--template and --out are required" in out


# --- config in the workbook's own xlwings.conf sheet ---------------------------------------------


def _conf_sheet(path: Path) -> dict[str, object]:
    """The workbook's xlwings.conf sheet as the add-in reads it: A1 down to the first blank."""
    from xlcost.workbooks.package import CellRef, read_cells

    refs = [CellRef("xlwings.conf", f"{c}{r}") for r in range(1, 11) for c in "AB"]
    cells = read_cells(path, refs)
    out: dict[str, object] = {}
    for r in range(1, 11):
        key = cells[CellRef("xlwings.conf", f"A{r}")].value
        if key in (None, ""):
            break
        out[str(key).upper()] = cells[CellRef("xlwings.conf", f"B{r}")].value
    return out


@pytest.fixture
def udf_book(tmp_path: Path) -> Path:
    from xlcost.workbooks.template import build_template

    path = tmp_path / "xlcost.xlsx"
    build_template("udf", None, path)
    return path


def test_config_needs_a_workbook_or_user() -> None:
    code, out = cli("addin", "config")
    assert code == 2
    assert "--workbook FILE.xlsm" in out and "--user" in out


def test_config_writes_the_workbooks_own_sheet_not_the_user_file(
    udf_book: Path, home: Path
) -> None:
    before = udf_book.read_bytes()
    assert _conf_sheet(udf_book) == {"UDF MODULES": "xlcost.udfs"}
    code, out = cli("addin", "config", "--workbook", str(udf_book), "--interpreter", EXE,
                    "--home", str(home))  # fmt: skip
    assert code == 0, out
    assert _conf_sheet(udf_book) == {"UDF MODULES": "xlcost.udfs", "INTERPRETER_WIN": EXE}
    assert not (home / ".xlwings" / "xlwings.conf").exists()  # nothing user-wide
    # again, another program: the same row is rewritten
    cli("addin", "config", "--workbook", str(udf_book), "--interpreter", "C:\\x.exe",
        "--home", str(home))  # fmt: skip
    assert _conf_sheet(udf_book) == {"UDF MODULES": "xlcost.udfs", "INTERPRETER_WIN": "C:\\x.exe"}
    code, out = cli("addin", "config", "--undo", "--home", str(home))
    assert code == 0, out
    assert udf_book.read_bytes() == before


def test_config_of_a_workbook_without_the_sheet_is_one_line(tmp_path: Path, home: Path) -> None:
    from xlcost.workbooks.template import build_template

    path = tmp_path / "portable.xlsx"
    build_template("portable", None, path)
    code, out = cli("addin", "config", "--workbook", str(path), "--home", str(home))
    assert code == 1
    assert out.startswith("xlcost: error: portable.xlsx: no 'xlwings.conf' sheet")
    assert out.count("\n") == 1
