"""Windows set-up of Excel for xlcost with classic xlwings: the logic behind ``xlcost addin``.

Three steps, each a list of files to write (:class:`Write`), reported before or after it runs
and undone from a record of what it did:

* ``config`` — by default the workbook's own ``xlwings.conf`` sheet (keys in column A from A1
  down, values in column B, as the add-in's ``GetConfigFromSheet`` reads them; a workbook's
  sheet overrides every config file, and only that workbook starts xlcost): sets
  ``Interpreter_Win`` (the frozen ``xlcost.exe``, or the Python running this) and
  ``UDF Modules`` (``xlcost.udfs``), keeps every other key. With ``--user`` instead the xlwings
  user config ``%USERPROFILE%\\.xlwings\\xlwings.conf`` (lines ``"KEY","VALUE"``, read by the
  add-in's VBA ``Input #``) — which every xlwings workbook on the PC reads.
* ``install`` — the xlwings add-in ``xlwings.xlam`` of the bundled xlwings, copied to Excel's
  user start-up folder ``%APPDATA%\\Microsoft\\Excel\\XLSTART`` (what ``xlwings addin install``
  does; the add-in must match the xlwings version the interpreter carries).
* ``import`` — a macro-enabled copy of the template with the VBA module of the functions
  (``workbook/xlcost_udfs.bas``) imported. Only Excel can add VBA to a workbook, so this step
  drives Excel through COM (pywin32) and needs Windows with Excel and "Trust access to the VBA
  project object model" enabled.

Every file a step overwrites is first copied to ``<file>.xlcost-backup``; the record
``%USERPROFILE%\\.xlwings\\xlcost-setup.json`` lists what each step wrote and where the backup is,
and :func:`undo` restores the backups and removes the files the steps created.

Paths come from a :class:`Target`: the real ones on Windows, a test folder (``home``) anywhere,
or — for a dry run off Windows — the Windows paths with their ``%VARIABLE%`` placeholders.
The file contents are pure Python and tested on Linux; running the steps against a real
Excel has not yet been done on Windows.
"""

from __future__ import annotations

import importlib.util
import json
import locale
import os
import re
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath, PureWindowsPath

from xlcost._files import atomic_write
from xlcost.engine.errors import XlcostError

__all__ = [
    "UDF_MODULE",
    "NeedsWindowsError",
    "Target",
    "Write",
    "apply",
    "config_text",
    "config_writes",
    "import_writes",
    "install_writes",
    "resolve_target",
    "shipped_workbook_dir",
    "undo",
]

UDF_MODULE = "xlcost.udfs"
CONF_SHEET = "xlwings.conf"
"""The workbook sheet xlwings reads its settings from (before any config file)."""
CONF_SHEET_ROWS = 200
"""Rows of the config sheet read when looking for existing keys."""
BACKUP_SUFFIX = ".xlcost-backup"
XLSTART_IN_APPDATA = ("Microsoft", "Excel", "XLSTART")
_KEY = re.compile(r'^\s*"([^"]*)"')


class NeedsWindowsError(XlcostError):
    """A step that changes Excel's set-up was asked for off Windows without a test folder."""


@dataclass(frozen=True)
class Target:
    """Where the set-up writes.

    Parameters
    ----------
    home
        The user profile (``%USERPROFILE%``); ``xlwings.conf`` and the undo record live in
        ``home/.xlwings``.
    xlstart
        Excel's user start-up folder, where the xlwings add-in goes.
    live
        False when the paths are placeholders for a dry run that cannot write.
    """

    home: PurePath
    xlstart: PurePath
    live: bool = True

    @property
    def config_file(self) -> PurePath:
        """The xlwings user config file."""
        return self.home / ".xlwings" / "xlwings.conf"

    @property
    def record(self) -> PurePath:
        """The record of what the steps wrote (for :func:`undo`)."""
        return self.home / ".xlwings" / "xlcost-setup.json"


def resolve_target(
    home: Path | None = None,
    xlstart: Path | None = None,
    *,
    dry_run: bool = False,
    platform: str = sys.platform,
    environ: Mapping[str, str] = os.environ,
) -> Target:
    """The paths to use: a test ``home``, the real ones on Windows, or placeholders for a dry run.

    Parameters
    ----------
    home
        A folder standing in for the user profile (for tests, or another user); ``xlstart``
        then defaults to ``home/AppData/Roaming/Microsoft/Excel/XLSTART``.
    xlstart
        Excel's start-up folder, if not the default ``%APPDATA%\\Microsoft\\Excel\\XLSTART``.
    dry_run
        Only report; off Windows without ``home`` the paths keep their ``%…%`` placeholders.
    platform, environ
        The platform and environment to resolve against (``sys.platform``, ``os.environ``).

    Raises
    ------
    NeedsWindowsError
        Off Windows with neither ``home`` nor ``dry_run``.

    Examples
    --------
    >>> t = resolve_target(dry_run=True, platform="linux")
    >>> str(t.config_file), str(t.xlstart)
    ('%USERPROFILE%\\\\.xlwings\\\\xlwings.conf', '%APPDATA%\\\\Microsoft\\\\Excel\\\\XLSTART')
    """
    if home is not None:
        default = home.joinpath("AppData", "Roaming", *XLSTART_IN_APPDATA)
        return Target(home, xlstart or default)
    if platform == "win32":
        appdata = Path(environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
        return Target(Path.home(), xlstart or appdata.joinpath(*XLSTART_IN_APPDATA))
    if dry_run:
        placeholder = PureWindowsPath("%APPDATA%").joinpath(*XLSTART_IN_APPDATA)
        return Target(PureWindowsPath("%USERPROFILE%"), xlstart or placeholder, live=False)
    raise NeedsWindowsError(
        "needs Windows (Excel's set-up lives there); use --dry-run to see what it would do, "
        "or --home DIR to write into a test folder"
    )


@dataclass(frozen=True)
class Write:
    """One file a step writes: where, what it is, and how to make its bytes (only when run)."""

    path: PurePath
    what: str
    content: Callable[[], bytes]


def config_text(existing: str | None, settings: Mapping[str, str]) -> str:
    """``xlwings.conf`` with ``settings`` set and every other non-blank line kept.

    Keys compare case-insensitively, as xlwings reads them. Lines end in CR LF (the file is read
    by VBA on Windows).

    Raises
    ------
    XlcostError
        A value holds a double quote or a line break, which the format cannot carry.

    Examples
    --------
    >>> old = '"CONDA PATH","C:\\\\conda"\\r\\n"interpreter_win","python"\\r\\n'
    >>> print(config_text(old, {"INTERPRETER_WIN": "C:\\\\xlcost\\\\xlcost.exe"}), end="")
    "CONDA PATH","C:\\conda"
    "INTERPRETER_WIN","C:\\xlcost\\xlcost.exe"
    """
    for key, value in settings.items():
        if any(c in value for c in '"\r\n'):
            raise XlcostError(f"{key}: {value!r} cannot go into xlwings.conf (quote or line break)")
    ours = {key.lower() for key in settings}
    kept = []
    for line in (existing or "").splitlines():
        match = _KEY.match(line)
        if line.strip() and not (match and match.group(1).lower() in ours):
            kept.append(line)
    lines = kept + [f'"{key}","{value}"' for key, value in settings.items()]
    return "".join(line + "\r\n" for line in lines)


def config_writes(target: Target, interpreter: str, udf_modules: str = UDF_MODULE) -> list[Write]:
    """The ``config`` step: ``xlwings.conf`` pointing xlwings at ``interpreter`` and the functions.

    Parameters
    ----------
    target
        Where to write.
    interpreter
        What xlwings starts: the frozen ``xlcost.exe`` or a ``python.exe`` with xlcost installed.
    udf_modules
        xlwings' ``UDF MODULES`` setting.
    """
    path = target.config_file
    settings = {"INTERPRETER_WIN": interpreter, "UDF MODULES": udf_modules}

    def content() -> bytes:
        existing = Path(path).read_bytes() if Path(path).is_file() else None
        encoding = locale.getpreferredencoding(False)  # as `xlwings config create` writes it
        old = None if existing is None else existing.decode(encoding, errors="replace")
        return config_text(old, settings).encode(encoding)

    what = ", ".join(f"{key}={value}" for key, value in settings.items())
    return [Write(path, f"xlwings user config: {what}", content)]


def sheet_config_cells(
    keys: Sequence[str | None], settings: Mapping[str, str]
) -> dict[int, tuple[str, str]]:
    """Row → (key, value) to write so that the ``xlwings.conf`` sheet holds ``settings``.

    ``keys`` are column A from A1 down. The add-in reads A1 to the last cell before the first
    blank (``Range("A1").End(xlDown)``), case-insensitively; a key already there keeps its row
    (and its spelling), a new one goes right below that block.

    Examples
    --------
    >>> sheet_config_cells(["UDF Modules", None, "stray"], {"Interpreter_Win": "x.exe"})
    {2: ('Interpreter_Win', 'x.exe')}
    >>> sheet_config_cells(["INTERPRETER_WIN"], {"Interpreter_Win": "x.exe"})
    {1: ('INTERPRETER_WIN', 'x.exe')}
    """
    block: list[str] = []
    for key in keys:
        if key is None or not str(key).strip():
            break
        block.append(str(key))
    rows = {key.upper(): (i, key) for i, key in enumerate(block, start=1)}
    out: dict[int, tuple[str, str]] = {}
    next_row = len(block) + 1
    for key, value in settings.items():
        if key.upper() in rows:
            row, spelled = rows[key.upper()]
            out[row] = (spelled, value)
        else:
            out[next_row] = (key, value)
            next_row += 1
    return out


def workbook_config_writes(
    workbook: Path, interpreter: str, udf_modules: str = UDF_MODULE
) -> list[Write]:
    """The ``config`` step for one workbook: its ``xlwings.conf`` sheet names the interpreter.

    Raises
    ------
    XlcostError
        The workbook does not exist, or (when the step runs) has no ``xlwings.conf`` sheet.
    """
    from xlcost.workbooks.package import CellRef, WorkbookError, fill_package, read_cells

    if not workbook.is_file():
        raise XlcostError(f"workbook not found: {workbook}")
    settings = {"Interpreter_Win": interpreter, "UDF Modules": udf_modules}
    for key, value in settings.items():
        if any(c in value for c in "\r\n"):
            raise XlcostError(f"{key}: {value!r} cannot go into a cell (line break)")

    def content() -> bytes:
        refs = [CellRef(CONF_SHEET, f"A{r}") for r in range(1, CONF_SHEET_ROWS + 1)]
        try:
            cells = read_cells(workbook, refs)
        except WorkbookError as e:
            raise XlcostError(
                f"{workbook.name}: no {CONF_SHEET!r} sheet to write to ({e}); the udf template "
                "has one, or add a sheet of that name"
            ) from None
        keys = [
            v if isinstance(v := cells[ref].value, str) else None if v is None else str(v)
            for ref in refs
        ]
        values: dict[CellRef, str] = {}
        for row, (key, value) in sheet_config_cells(keys, settings).items():
            values[CellRef(CONF_SHEET, f"A{row}")] = key
            values[CellRef(CONF_SHEET, f"B{row}")] = value
        with tempfile.TemporaryDirectory(prefix="xlcost-conf-") as tmp:
            out = Path(tmp) / workbook.name
            try:
                fill_package(workbook, out, values)
            except WorkbookError as e:
                raise XlcostError(f"{workbook.name}: {e}") from None
            return out.read_bytes()

    what = ", ".join(f"{key}={value}" for key, value in settings.items())
    return [Write(workbook, f"its {CONF_SHEET} sheet: {what}", content)]


def _xlwings_addin() -> Path:
    """``xlwings.xlam`` of the xlwings that xlcost runs with (found without importing xlwings)."""
    spec = importlib.util.find_spec("xlwings")
    if spec is None or not spec.submodule_search_locations:
        raise XlcostError("xlwings is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "addin" / "xlwings.xlam"


def install_writes(target: Target) -> list[Write]:
    """The ``install`` step: the xlwings add-in copied to Excel's start-up folder."""
    source = _xlwings_addin()
    if not source.is_file():
        raise XlcostError(f"the xlwings add-in is missing: {source}")
    return [
        Write(
            target.xlstart / source.name,
            f"xlwings add-in (copy of {source}); Excel loads it at start",
            source.read_bytes,
        )
    ]


def shipped_workbook_dir() -> Path:
    """The folder with the template artifacts: ``workbook/`` next to the frozen program, or the
    source checkout's ``workbook/`` (absent from a pip-installed xlcost)."""
    if getattr(sys, "frozen", False):
        return Path(sys.executable).resolve().parent / "workbook"
    return Path(__file__).resolve().parents[1] / "workbook"


def import_writes(target: Target, template: Path, out: Path, bas: Path) -> list[Write]:
    """The ``import`` step: ``out``, a macro-enabled copy of ``template`` with ``bas`` imported.

    Parameters
    ----------
    target
        Where the undo record lives.
    template
        The workbook to copy (``.xlsx`` or ``.xlsm``); it is not changed.
    out
        The ``.xlsm`` file to write.
    bas
        The VBA module declaring the functions for classic xlwings.

    Raises
    ------
    XlcostError
        A missing input file, or ``out`` not ending in ``.xlsm``.
    """
    for path, role in ((template, "template"), (bas, "VBA module")):
        if not path.is_file():
            raise XlcostError(f"{role} not found: {path}")
    if out.suffix.lower() != ".xlsm":
        raise XlcostError(f"--out must be a macro-enabled workbook (.xlsm), got {out.name}")
    return [
        Write(
            out,
            f"{template.name} with {bas.name} imported and a reference to the xlwings add-in "
            f"in {target.xlstart} (made by Excel)",
            lambda: _import_with_excel(template, bas, target.xlstart / "xlwings.xlam"),
        )
    ]


FUNCTION_CATEGORY = "xlcost"
"""The function wizard's category for the xlcost functions (instead of "User Defined")."""


def macro_options(book_name: str) -> list[dict[str, object]]:
    """``Application.MacroOptions`` arguments for every function, as xlwings' *Import Functions*
    sets them (``xlwings/udfs.py``, ``import_udfs``): the description and the argument
    descriptions (each cut to Excel's 255 characters) and the category, for the function
    wizard (Shift+F3) and the formula bar's function help.

    Examples
    --------
    >>> opts = {o["Macro"]: o for o in macro_options("xlcost.xlsm")}
    >>> opts["'xlcost.xlsm'!TRAIN_COST"]["Category"]
    'xlcost'
    """
    from xlcost.functions import REGISTRY

    return [
        {
            "Macro": f"'{book_name}'!{fn.name}",
            "Description": fn.description[:255],
            "HasMenu": False,
            "HasShortcutKey": False,
            "Category": FUNCTION_CATEGORY,
            "ArgumentDescriptions": [a.description[:255] for a in fn.args] or None,
        }
        for fn in REGISTRY.values()
    ]


def com_error_line(error: BaseException) -> str:
    """One line for a pywin32 ``com_error`` (``hresult, text, excepinfo, argerr``).

    Examples
    --------
    >>> class com_error(Exception): pass
    >>> e = com_error(-2147352567, "Exception occurred.",
    ...               (0, "Microsoft Excel", "Programmatic access to Visual Basic Project  "
    ...                "is not trusted", None, 0, -2146827284), None)
    >>> print(com_error_line(e))
    Excel: Programmatic access to Visual Basic Project is not trusted (0x80020009)
    """
    args = tuple(error.args) + (None,) * 4
    hresult, text, info = args[0], args[1], args[2]
    detail = info[2] if isinstance(info, tuple) and len(info) > 2 and info[2] else text
    code = f" (0x{hresult & 0xFFFFFFFF:08X})" if isinstance(hresult, int) else ""
    return f"Excel: {' '.join(str(detail or error).split())}{code}"


_TRUST_HINT = (
    "; Excel needs File > Options > Trust Center > Trust Center Settings > Macro Settings > "
    "Trust access to the VBA project object model"
)


def _import_with_excel(template: Path, bas: Path, addin: PurePath) -> bytes:
    """Have Excel import ``bas`` into a copy of ``template``; return the ``.xlsm`` bytes.

    Windows only: drives Excel through COM with pywin32 (which xlwings installs on Windows);
    xlwings itself is imported only by :mod:`xlcost.udfs`. After the import it sets every
    function's description, argument descriptions and category with ``MacroOptions``, as
    xlwings' own *Import Functions* does. A COM error becomes one line (:func:`com_error_line`).
    Tested here against a stand-in for Excel's COM objects; not yet run with a real Excel.
    """
    import win32com.client

    xl_open_xml_workbook_macro_enabled = 52
    excel = win32com.client.DispatchEx("Excel.Application")
    try:
        excel.Visible = False
        excel.DisplayAlerts = False
        with tempfile.TemporaryDirectory() as tmp:
            book = excel.Workbooks.Open(str(template.resolve()))
            project = book.VBProject  # fails unless Excel trusts access to the VBA project
            project.VBComponents.Import(str(bas.resolve()))
            project.References.AddFromFile(str(addin))
            for options in macro_options(book.Name):
                excel.MacroOptions(**options)
            saved = Path(tmp) / "imported.xlsm"
            book.SaveAs(str(saved), FileFormat=xl_open_xml_workbook_macro_enabled)
            book.Close(SaveChanges=False)
            return saved.read_bytes()
    except Exception as e:
        if type(e).__name__ != "com_error":
            raise
        hint = _TRUST_HINT if "trust" in com_error_line(e).lower() else ""
        raise XlcostError(com_error_line(e) + hint) from None
    finally:
        excel.Quit()


def _read_record(target: Target) -> list[dict[str, str | None]]:
    path = Path(target.record)
    if not path.is_file():
        return []
    entries: list[dict[str, str | None]] = json.loads(path.read_text(encoding="utf-8"))["entries"]
    return entries


def _write_record(target: Target, entries: list[dict[str, str | None]]) -> None:
    path = Path(target.record)
    if not entries:
        path.unlink(missing_ok=True)
        return
    _write_bytes(path, json.dumps({"entries": entries}, indent=2).encode("utf-8"))


def _write_bytes(path: Path, data: bytes) -> None:
    """Write (or replace) ``path`` atomically, creating its folder."""
    atomic_write(path, data, overwrite=True)


def _backup_path(path: Path) -> Path:
    backup = path.with_name(path.name + BACKUP_SUFFIX)
    n = 1
    while backup.exists():
        n += 1
        backup = path.with_name(f"{path.name}{BACKUP_SUFFIX}{n}")
    return backup


def apply(
    step: str, writes: Sequence[Write], target: Target, *, dry_run: bool = False
) -> list[str]:
    """Run (or with ``dry_run`` only describe) a step; return one report line per action.

    A file that exists and that no earlier step wrote is copied to ``<file>.xlcost-backup``
    first; the record in ``target.record`` remembers it, so :func:`undo` can put it back.
    """
    lines = []
    if not dry_run:
        entries = _read_record(target)
        ours = {e["path"] for e in entries}
    for w in writes:
        path = Path(w.path)
        if dry_run:
            verb = "would overwrite" if target.live and path.exists() else "would write"
            lines.append(f"{verb} {w.path}: {w.what}")
            continue
        data = w.content()
        backup = None
        if path.exists() and str(path) not in ours:
            backup = _backup_path(path)
            _write_bytes(backup, path.read_bytes())
            lines.append(f"backed up {path} to {backup}")
        _write_bytes(path, data)
        if str(path) not in ours:
            entries.append(
                {"step": step, "path": str(path), "backup": None if backup is None else str(backup)}
            )
            ours.add(str(path))
        lines.append(f"wrote {path}: {w.what}")
    if not dry_run:
        _write_record(target, entries)
        lines.append(f"recorded in {target.record} (undo: xlcost addin {step} --undo)")
    return lines


def undo(target: Target, step: str | None = None, *, dry_run: bool = False) -> list[str]:
    """Undo what ``step`` (every step when ``None``) wrote, newest first; return report lines.

    Files that had a backup get it back; files the steps created are removed.
    """
    if not target.live:
        return [f"would undo the steps recorded in {target.record}"]
    entries = _read_record(target)
    mine = [e for e in entries if step is None or e["step"] == step]
    lines = []
    for e in reversed(mine):
        path, backup = Path(str(e["path"])), e["backup"]
        if backup is not None:
            lines.append(f"{'would restore' if dry_run else 'restored'} {path} from {backup}")
            if not dry_run:
                os.replace(backup, path)
        else:
            lines.append(f"{'would remove' if dry_run else 'removed'} {path}")
            if not dry_run:
                path.unlink(missing_ok=True)
    if not dry_run:
        _write_record(target, [e for e in entries if e not in mine])
    return lines or [f"nothing to undo for {step or 'any step'} (no record in {target.record})"]
