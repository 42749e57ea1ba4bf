"""Batch benchmark: generate and calc N workbooks, against openpyxl and LibreOffice baselines.

Usage::

    python benchmarks/batch.py [--n 1000] [--workers 1 2] [--lo-files 50] [--baseline-n N]

Each phase runs in its own child process (one process tree, same machine, same run) and reports
its wall time and peak memory (``ru_maxrss`` of itself and, separately, of its own children,
i.e. the worker processes):

* generate: ``xlcost generate``'s code path (template built once per process, then one render
  and one atomic write per scenario), with 1 and with 2 worker processes;
* openpyxl baseline: load the template, set the inputs through the defined names, save;
* calc: ``xlcost calc``'s code path over the generated workbooks (inputs read by defined name
  from the sheet XML, validated, computed by the engine);
* LibreOffice: headless recalculation of a subset (``--lo-files``) in ONE ``soffice`` run
  (startup included), extrapolated to N at the measured per-file rate.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _scenarios(n: int) -> list[dict[str, Any]]:
    from xlcost.engine.examples import COMPARISON, SEED, load_example

    base = [s.model_dump() for s in load_example(SEED) + load_example(COMPARISON)]
    out = []
    for i in range(n):
        s = dict(base[i % len(base)])
        s["name"] = f"{s['name']} #{i}"
        if s.get("train_gpus"):
            s["train_gpus"] = s["train_gpus"] + i % 7
        out.append(s)
    return out


def _peak() -> dict[str, float]:
    mb = 1024.0  # ru_maxrss is in KiB on Linux
    return {
        "self_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / mb,
        "children_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / mb,
    }


def phase_generate(work: Path, n: int, workers: int) -> dict[str, Any]:
    from xlcost.batch import generate_one, generate_tasks, run

    data = work / "scenarios.json"
    out = work / f"gen-w{workers}"
    out.mkdir()
    t0 = time.perf_counter()
    _total, tasks = generate_tasks(data, out, mode="portable")
    ok = sum(o.ok for o in run(tasks, generate_one, workers=workers))
    dt = time.perf_counter() - t0
    return {"files": ok, "seconds": dt, **_peak()}


def phase_openpyxl(work: Path, n: int) -> dict[str, Any]:
    import warnings

    from openpyxl import load_workbook

    from xlcost.engine import INPUT_NAMES, parse_scenario

    template = work / "template.xlsx"
    out = work / "openpyxl"
    out.mkdir()
    scenarios = [parse_scenario(s) for s in json.loads((work / "scenarios.json").read_text())]
    t0 = time.perf_counter()
    for i, s in enumerate(scenarios[:n]):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = load_workbook(template)
        for name in INPUT_NAMES:
            dn = wb.defined_names.get(name)
            if dn is None:
                continue
            for sheet, cell in dn.destinations:
                wb[sheet][cell.replace("$", "")] = getattr(s, name)
        wb.save(out / f"{i}.xlsx")
    dt = time.perf_counter() - t0
    return {"files": min(n, len(scenarios)), "seconds": dt, **_peak()}


def phase_calc(work: Path, n: int, workers: int) -> dict[str, Any]:
    from xlcost.batch import CalcTask, calc_file, run

    books = sorted((work / "gen-w1").iterdir())[:n]
    t0 = time.perf_counter()
    results = 0
    for o in run((CalcTask(b) for b in books), calc_file, workers=workers):
        results += len(o.results)
    dt = time.perf_counter() - t0
    return {"files": results, "seconds": dt, **_peak()}


def phase_libreoffice(work: Path, n: int) -> dict[str, Any]:
    from xlcost.workbooks.libreoffice import convert

    books = sorted((work / "gen-w1").iterdir())[:n]
    t0 = time.perf_counter()
    convert(books, work / "lo")
    dt = time.perf_counter() - t0
    return {"files": len(books), "seconds": dt, **_peak()}


PHASES = {
    "generate": phase_generate,
    "openpyxl": phase_openpyxl,
    "calc": phase_calc,
    "libreoffice": phase_libreoffice,
}


def _child(work: Path, phase: str, n: int, workers: int | None = None) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--phase", phase, "--work", str(work), "--n", str(n)]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"phase {phase} failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _line(label: str, r: dict[str, Any], note: str = "") -> str:
    rate = r["files"] / r["seconds"]
    return (
        f"{label:<34} {r['files']:>6} files {r['seconds']:>8.2f} s {rate:>9.1f} files/s  "
        f"peak {r['self_mb']:>6.1f} MB (+ workers {r['children_mb']:.1f} MB){note}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    ap.add_argument("--lo-files", type=int, default=50, help="LibreOffice files (0: skip)")
    ap.add_argument(
        "--baseline-n", type=int, default=None, help="openpyxl files (default N; 0: skip)"
    )
    ap.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    ap.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.baseline_n is None:
        args.baseline_n = args.n

    if args.phase:
        fn = PHASES[args.phase]
        extra = {"workers": args.workers[0]} if args.phase in ("generate", "calc") else {}
        print(json.dumps(fn(args.work, args.n, **extra)))
        return

    from xlcost import __version__
    from xlcost.workbooks.template import build_template

    with tempfile.TemporaryDirectory(prefix="xlcost-bench-") as tmp:
        work = Path(tmp)
        (work / "scenarios.json").write_text(json.dumps(_scenarios(args.n)))
        build_template("portable", None, work / "template.xlsx")
        print(f"xlcost {__version__} batch benchmark: N={args.n}, {os.cpu_count()} CPUs, portable")
        gen = {w: _child(work, "generate", args.n, w) for w in sorted(set(args.workers) | {1})}
        for w, r in gen.items():
            print(_line(f"generate ({w} worker{'s' * (w > 1)})", r))
        base = _child(work, "openpyxl", args.baseline_n) if args.baseline_n else None
        if base is not None:
            print(_line("openpyxl load/set/save baseline", base))
        calc = {w: _child(work, "calc", args.n, w) for w in sorted(set(args.workers) | {1})}
        for w, r in calc.items():
            print(_line(f"calc ({w} worker{'s' * (w > 1)})", r))
        lo = _child(work, "libreoffice", min(args.lo_files, args.n)) if args.lo_files else None
        if lo is not None:
            note = f"  [{lo['files']} files, one soffice run, startup included]"
            print(_line("LibreOffice headless recalc", lo, note))
        print()
        for w, r in gen.items():
            rate = r["files"] / r["seconds"]
            vs = f" = {rate / (base['files'] / base['seconds']):.1f}x openpyxl" if base else ""
            print(f"generate, {w} worker(s): {rate:.0f} workbooks/s{vs}")
        for w, r in calc.items():
            rate = r["files"] / r["seconds"]
            if lo is None:
                print(f"calc, {w} worker(s): {rate:.0f} workbooks/s")
                continue
            lo_rate = lo["files"] / lo["seconds"]
            print(
                f"calc, {w} worker(s): {rate:.0f} workbooks/s = {rate / lo_rate:.1f}x LibreOffice "
                f"(LibreOffice extrapolated from {lo['files']} to {args.n} files: "
                f"{args.n / lo_rate:.0f} s vs {r['seconds']:.1f} s)"
            )


if __name__ == "__main__":
    main()
