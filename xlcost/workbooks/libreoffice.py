"""Recalculate and convert workbooks with LibreOffice, headless (tests, rendering, CI).

LibreOffice is started once per call for all files (each start costs seconds), with a throwaway
user profile in which formulas are always recalculated on load (``OOXMLRecalcMode`` = 0), so the
converted files carry LibreOffice's own results, not the cached values they were written with.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from xlcost.engine.errors import XlcostError

__all__ = ["convert", "soffice"]

_RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
 <prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
 <prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def soffice() -> str | None:
    """Path of the LibreOffice program, or ``None`` when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(
    paths: Sequence[Path],
    outdir: Path,
    fmt: str = "xlsx",
    *,
    timeout: float = 300,
    recalc: bool = True,
) -> list[Path]:
    """Open ``paths`` in LibreOffice (recalculating every formula) and save them as ``fmt``.

    Parameters
    ----------
    paths
        Workbooks to convert, in one LibreOffice run.
    outdir
        Directory for the converted files (must differ from the sources' directory when
        ``fmt`` is their own format).
    fmt
        A ``--convert-to`` target: "xlsx", "ods", "pdf", "csv", …
    recalc
        Recalculate every formula on load (default). ``False`` keeps the cached values the
        files were written with: how a udf workbook looks once Excel has calculated it, since
        LibreOffice cannot call the xlcost functions.

    Returns
    -------
    The converted files, in the order of ``paths``.
    """
    program = soffice()
    if program is None:
        raise XlcostError("LibreOffice (soffice) is not installed")
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xlcost-lo-") as profile:
        user = Path(profile) / "user"
        user.mkdir()
        settings = (
            _RECALC_ALWAYS
            if recalc
            else _RECALC_ALWAYS.replace("<value>0</value>", "<value>1</value>")
        )
        (user / "registrymodifications.xcu").write_text(settings, encoding="utf-8")
        cmd = [
            program,
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            fmt,
            "--outdir",
            str(outdir),
            *(str(p) for p in paths),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    out = [outdir / f"{Path(p).stem}.{fmt.split(':')[0]}" for p in paths]
    missing = [p.name for p in out if not p.exists()]
    if done.returncode != 0 or missing:
        raise XlcostError(
            f"LibreOffice failed (exit {done.returncode}); missing {missing}: {done.stderr[-500:]}"
        )
    return out
