"""Start-up time of ``xlcost --version``: the frozen program against the installed package.

Usage: python benchmarks/startup.py [--frozen PATH] [--installed PATH] [--runs 7]

``--frozen`` defaults to dist/xlcost/xlcost(.exe) (installer/build.py's output) or
``$XLCOST_FROZEN``; ``--installed`` to the ``xlcost`` console script next to this Python.
Prints the median wall-clock time of each and their ratio (target: frozen ≤ 1.5 s).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from _timing import median_time

REPO = Path(__file__).resolve().parents[1]
EXE = ".exe" if sys.platform == "win32" else ""


def median_seconds(program: Path, runs: int) -> float:
    """Median wall-clock seconds of ``program --version`` over ``runs`` runs (after one warm-up)."""

    def once() -> None:
        subprocess.run([str(program), "--version"], check=True, capture_output=True)

    once()
    return median_time(once, runs)


def main() -> None:
    """Command-line entry of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_frozen = os.environ.get("XLCOST_FROZEN") or REPO / "dist" / "xlcost" / f"xlcost{EXE}"
    parser.add_argument("--frozen", type=Path, default=Path(default_frozen))
    parser.add_argument(
        "--installed", type=Path, default=Path(sys.executable).parent / f"xlcost{EXE}"
    )
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    for program in (args.frozen, args.installed):
        if not program.is_file():
            parser.error(f"{program} not found (build it first: python installer/build.py)")
    frozen = median_seconds(args.frozen, args.runs)
    installed = median_seconds(args.installed, args.runs)
    print(f"frozen    {args.frozen}: median {frozen:.3f} s over {args.runs} runs")
    print(f"installed {args.installed}: median {installed:.3f} s over {args.runs} runs")
    print(
        f"ratio frozen/installed: {frozen / installed:.2f}; target frozen ≤ 1.5 s: "
        f"{'met' if frozen <= 1.5 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
