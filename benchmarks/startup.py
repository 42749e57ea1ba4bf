"""Start-up time of ``xlcost --help`` and ``--version`` against a bare ``python -c pass``.

Usage: python benchmarks/startup.py [--installed PATH] [--frozen PATH] [--runs 15]

Runs, in the same session and interleaved: ``python -c pass`` (the floor), the installed
``xlcost`` console script (next to this Python unless ``--installed``) with ``--version``,
``--help`` and ``calc --help``, and — if it exists — the frozen program (``--frozen``,
``$XLCOST_FROZEN`` or dist/xlcost/xlcost(.exe), installer/build.py's output) with
``--version``. Prints each median wall-clock time and its ratio to the floor; targets:
``xlcost --help`` ≤ 0.15 s, frozen ``--version`` ≤ 1.5 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXE = ".exe" if sys.platform == "win32" else ""
TARGETS = {"xlcost --help": 0.15, "frozen --version": 1.5}
"""Label → the most seconds its median may take."""


def commands(installed: Path, frozen: Path | None) -> dict[str, list[str]]:
    """Label → command line of every measured case, the floor first."""
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "xlcost --version": [str(installed), "--version"],
        "xlcost --help": [str(installed), "--help"],
        "xlcost calc --help": [str(installed), "calc", "--help"],
    }
    if frozen is not None:
        cases["frozen --version"] = [str(frozen), "--version"]
    return cases


def once(argv: list[str]) -> float:
    """Wall-clock seconds of one run of ``argv`` (which must succeed)."""
    t = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    return time.perf_counter() - t


def medians(cases: dict[str, list[str]], runs: int) -> dict[str, float]:
    """Median seconds of each case over ``runs`` rounds, the cases interleaved in each round
    (so that a busy moment on a shared machine slows all of them alike); one warm-up round."""
    times: dict[str, list[float]] = {label: [] for label in cases}
    for round_ in range(runs + 1):
        for label, argv in cases.items():
            seconds = once(argv)
            if round_:
                times[label].append(seconds)
    return {label: statistics.median(t) for label, t in times.items()}


def main() -> None:
    """Command-line entry of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_frozen = os.environ.get("XLCOST_FROZEN") or REPO / "dist" / "xlcost" / f"xlcost{EXE}"
    parser.add_argument("--frozen", type=Path, default=Path(default_frozen))
    parser.add_argument(
        "--installed", type=Path, default=Path(sys.executable).parent / f"xlcost{EXE}"
    )
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    if not args.installed.is_file():
        parser.error(f"{args.installed} not found (pip install the package first)")
    frozen = args.frozen if args.frozen.is_file() else None
    result = medians(commands(args.installed, frozen), args.runs)
    floor = result["python -c pass"]
    print(f"medians of {args.runs} interleaved runs")
    for label, seconds in result.items():
        target = TARGETS.get(label)
        verdict = (
            ""
            if target is None
            else f"  target ≤ {target} s: {'met' if seconds <= target else 'NOT met'}"
        )
        print(f"{label:20} {seconds:.3f} s  {seconds / floor:5.1f}× python -c pass{verdict}")
    if frozen is None:
        print(f"(no frozen program at {args.frozen}; build it with python installer/build.py)")


if __name__ == "__main__":
    main()
