"""Build the one-folder `xlcost` program with PyInstaller and check that it starts.

Usage: python installer/build.py [--dist DIR] [--work DIR]

Runs ``python -m PyInstaller installer/xlcost.spec`` with this checkout first on the import path,
then ``<dist>/xlcost/xlcost --version``, and prints the build time and the folder's size.
The same script builds on Linux, Windows and macOS (each builds for itself).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def program(dist: Path) -> Path:
    """The frozen program inside ``dist``."""
    return dist / "xlcost" / ("xlcost.exe" if sys.platform == "win32" else "xlcost")


def folder_size(path: Path) -> int:
    """Bytes in all files under ``path``."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def build(dist: Path, work: Path) -> Path:
    """Build into ``dist`` (intermediate files in ``work``) and return the program's path."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--clean",
            "--log-level=WARN",
            "--distpath",
            str(dist),
            "--workpath",
            str(work),
            str(HERE / "xlcost.spec"),
        ],
        check=True,
        env=env,
    )
    exe = program(dist)
    subprocess.run([str(exe), "--version"], check=True)
    return exe


def main() -> None:
    """Command-line entry of the build script."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=REPO / "dist", help="output folder")
    parser.add_argument("--work", type=Path, default=REPO / "build", help="intermediate files")
    args = parser.parse_args()
    start = time.perf_counter()
    exe = build(args.dist.resolve(), args.work.resolve())
    seconds = time.perf_counter() - start
    size = folder_size(exe.parent) / 2**20
    print(f"built {exe} in {seconds:.0f} s; {exe.parent} holds {size:.0f} MiB")


if __name__ == "__main__":
    main()
