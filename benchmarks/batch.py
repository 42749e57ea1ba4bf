"""Batch benchmark: ``generate`` and ``calc`` of N workbooks beside their floors and baselines.

Usage::

    python benchmarks/batch.py [--n 1000] [--repeat 3] [--workers 1 2] [--baseline-n 100]
                               [--lo-files 20] [--memory-n 10000] [--only PHASE ...]

Every phase runs in its own child process (same machine, same run), ``--repeat`` times; the
median wall time is reported with the largest peak memory (``ru_maxrss`` of the child, and of
its worker processes).  Phases:

* ``generate`` — ``xlcost generate``'s code path (tasks, runner, one sync per batch), with 1 and
  with 2 worker processes;
* ``floor`` — the physical floor of ``generate``: deflate the parts ``generate`` edits and
  write each file (the template's other members as they are) atomically, synced once per
  batch; standard library only;
* ``openpyxl`` — load the template, set the inputs through the defined names, save
  (``--baseline-n`` files);
* ``calc`` — ``xlcost calc``'s code path over the generated workbooks (1 and 2 workers);
* ``calamine`` — the baseline of ``calc``: python-calamine reads each workbook's Inputs sheet,
  then one ``evaluate_columns`` call computes every workbook;
* ``libreoffice`` — headless recalculation of ``--lo-files`` workbooks in one ``soffice`` run,
  startup included (0: skipped);
* ``steps`` — where one generated workbook's time goes: each engine step of its cell values
  (the engine facts, its Monte Carlo, what-if, tornado and break-even tables) on its own,
  the cell values whole and the workbook whole, medians in ms, beside the floor's time a
  workbook;
* ``zip`` — writing one output with unchanged members copied raw against :mod:`zipfile`
  re-writing every member (the reason for the hand-written zip writer);
* ``memory`` — peak memory of ``generate`` and ``calc`` over ``--memory-n`` workbooks (0:
  skipped).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _timing import median_time

ROOT = Path(__file__).resolve().parents[1]
Result = dict[str, Any]


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


def _write_scenarios(work: Path, n: int) -> None:
    """The scenario list as JSON and as CSV (the CSV reader streams: memory stays flat)."""
    import csv

    rows = _scenarios(n)
    (work / f"scenarios-{n}.json").write_text(json.dumps(rows))
    with (work / f"scenarios-{n}.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, list(rows[0]))
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in r.items()} for r in rows)


def _peak() -> Result:
    """Peak memory of this process and of its worker processes, in MB.

    This process's peak is ``VmHWM`` (reset at ``exec``; ``ru_maxrss`` would also count the
    benchmark's parent, from which this child was forked), where the system has it.
    """
    mb = 1024.0  # both are in KiB on Linux
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / mb
    try:
        status = Path("/proc/self/status").read_text()
        own = (
            next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
            / mb
        )
    except (OSError, StopIteration):
        pass
    return {
        "self_mb": own,
        "workers_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / mb,
    }


def _timed(files: Callable[[], int]) -> Result:
    t0 = time.perf_counter()
    n = files()
    return {"files": n, "seconds": time.perf_counter() - t0, **_peak()}


def _fresh(directory: Path) -> Path:
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return directory


# --------------------------------------------------------------------------- phases (children)


def phase_generate(work: Path, n: int, workers: int, out: str, kind: str = "json") -> Result:
    from xlcost.batch import Syncer, generate_one, generate_tasks, run

    data = work / f"scenarios-{n}.{kind}"
    target = _fresh(work / out)
    build = 0.0

    def files() -> int:
        nonlocal build
        t0 = time.perf_counter()
        _total, tasks = generate_tasks(data, target, mode="portable", sync=False)
        build = time.perf_counter() - t0  # the templates, built once per process
        syncer = Syncer()
        ok = 0
        for outcome in run(tasks, generate_one, workers=workers):
            if outcome.ok:
                syncer.add(Path(outcome.note))
                ok += 1
        syncer.close()
        return ok

    return {**_timed(files), "build_s": build}


STEPS = ("engine facts", "Monte Carlo", "what-if", "tornado", "break-even block")
"""The steps of a workbook's cell values that ``phase_steps`` times one by one."""


def phase_steps(work: Path, n: int) -> Result:
    """Where one generated workbook's time goes, medians over the workbooks (ms): each engine
    step of its cell values on its own (a fresh :class:`Facts` each time), the cell values
    whole, and ``generate_one`` whole (filling and writing: the difference)."""
    from xlcost.batch import Outcome, _skeleton, generate_one, generate_tasks
    from xlcost.workbooks.layout import MAX_MONTHS
    from xlcost.workbooks.template import Facts, _breakeven_values

    _total, made = generate_tasks(
        work / f"scenarios-{n}.json", _fresh(work / "steps"), mode="portable", sync=False
    )
    tasks = [t for t in made if not isinstance(t, Outcome)]
    times: dict[str, list[float]] = {k: [] for k in (*STEPS, "cell values", "workbook")}

    def timed(key: str, step: Callable[..., Any], *args: Any) -> Any:
        t0 = time.perf_counter()
        out = step(*args)
        times[key].append((time.perf_counter() - t0) * 1e3)
        return out

    for task in tasks:
        months = min(task.scenario.horizon_months, MAX_MONTHS)
        template = _skeleton(task.mode, len(task.comparison), months).template
        inputs = (task.scenario, task.comparison, task.budget)
        facts = timed("engine facts", Facts.of, *inputs, template.months, task.ranges)
        timed("Monte Carlo", getattr, facts, "simulation")
        timed("what-if", getattr, facts, "what_if")
        timed("tornado", getattr, facts, "tornado_rows")
        timed("break-even block", _breakeven_values, facts.options)
        timed("cell values", template.cell_values, *inputs, task.ranges)
        timed("workbook", generate_one, task)
    return {k: statistics.median(v[5:] or v) for k, v in times.items()}  # after a warm-up


def _edited_parts(template: Path, sample: Path) -> dict[str, bytes]:
    """The members a generated workbook has changed, uncompressed (what generate deflates)."""
    with zipfile.ZipFile(template) as a, zipfile.ZipFile(sample) as b:
        return {n: b.read(n) for n in b.namelist() if b.read(n) != a.read(n)}


def phase_floor(work: Path, n: int) -> Result:
    """Deflate the edited parts and write each file atomically; one sync per batch."""
    template = work / "template.xlsx"
    edited = _edited_parts(template, sorted((work / "gen-w1").iterdir())[0])
    with zipfile.ZipFile(template) as zf:
        unchanged = sum(zi.compress_size for zi in zf.infolist() if zi.filename not in edited)
    raw = template.read_bytes()[:unchanged]  # as many raw bytes as the copied members have
    target = _fresh(work / "floor")

    def files() -> int:
        written = []
        for i in range(n):
            chunks = [raw]
            for data in edited.values():
                co = zlib.compressobj(6, zlib.DEFLATED, -15)
                chunks.append(co.compress(data) + co.flush())
            fd, tmp = tempfile.mkstemp(dir=target, prefix=".floor.", suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                fh.write(b"".join(chunks))
            dst = target / f"{i}.xlsx"
            os.link(tmp, dst)
            os.unlink(tmp)
            written.append(dst)
        for dst in written:
            fd = os.open(dst, os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)
        fd = os.open(target, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
        return len(written)

    return _timed(files)


def phase_openpyxl(work: Path, n: int, source: int) -> Result:
    import warnings

    from openpyxl import load_workbook

    from xlcost.engine import INPUT_NAMES, parse_scenario

    template = work / "template.xlsx"
    target = _fresh(work / "openpyxl")
    rows = json.loads((work / f"scenarios-{source}.json").read_text())[:n]
    scenarios = [parse_scenario(s) for s in rows]

    def files() -> int:
        for i, s in enumerate(scenarios):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                wb = load_workbook(template)
            for name in INPUT_NAMES:
                dn = wb.defined_names.get(name)
                for sheet, cell in dn.destinations if dn is not None else ():
                    wb[sheet][cell.replace("$", "")] = getattr(s, name)
            wb.save(target / f"{i}.xlsx")
        return len(scenarios)

    return _timed(files)


def phase_calc(work: Path, n: int, workers: int, books: str) -> Result:
    from xlcost.batch import CalcTask, calc_file, run

    paths = sorted((work / books).iterdir())[:n]

    def files() -> int:
        return sum(len(o.results) for o in run(map(CalcTask, paths), calc_file, workers=workers))

    return _timed(files)


def phase_calamine(work: Path, n: int) -> Result:
    """python-calamine reads each workbook's inputs; one evaluate_columns call computes all."""
    from python_calamine import CalamineWorkbook

    from xlcost.engine.evaluate import evaluate_columns
    from xlcost.engine.model import NUMERIC_INPUTS
    from xlcost.workbooks.inputs import input_cells

    paths = sorted((work / "gen-w1").iterdir())[:n]
    cells = {k: v for k, v in input_cells(paths[0]).items() if k not in ("name", "currency")}
    sheet = next(iter(cells.values())).sheet
    at = {k: (int(ref.cell[1:]) - 1, ord(ref.cell[0]) - 65) for k, ref in cells.items()}

    def value(name: str, x: object) -> object:
        """A cell as evaluate_columns takes it: GPU names as text, other inputs as numbers."""
        if name not in NUMERIC_INPUTS:
            return "" if x is None else str(x)
        return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else float("nan")

    def files() -> int:
        columns: dict[str, list[object]] = {k: [] for k in at}
        for p in paths:
            rows = CalamineWorkbook.from_path(str(p)).get_sheet_by_name(sheet).to_python()
            for k, (r, c) in at.items():
                columns[k].append(
                    value(k, rows[r][c] if r < len(rows) and c < len(rows[r]) else None)
                )
        out = evaluate_columns(columns)
        return len(out["total_cost"])

    return _timed(files)


def phase_libreoffice(work: Path, n: int) -> Result:
    from xlcost.workbooks.libreoffice import convert

    paths = sorted((work / "gen-w1").iterdir())[:n]
    target = _fresh(work / "lo")
    return _timed(lambda: (convert(paths, target), len(paths))[1])


def phase_zip(work: Path, n: int) -> Result:
    """One output written with raw copies (xlcost) and with zipfile re-writing every member."""
    import io

    from xlcost.workbooks.opened import OpenWorkbook
    from xlcost.workbooks.zipwrite import write_zip

    book = OpenWorkbook(work / "template.xlsx")
    assert book.raw is not None
    edited = _edited_parts(work / "template.xlsx", sorted((work / "gen-w1").iterdir())[0])

    unchanged = [zi for zi in book.infos if zi.filename not in edited]

    def raw_copy() -> None:  # the unchanged members only: what the two ways differ in
        with book.open_source() as fh:
            write_zip(fh, unchanged, book.comment, io.BytesIO(), {})

    def rewrite() -> None:
        with (
            zipfile.ZipFile(io.BytesIO(book.raw)) as src,
            zipfile.ZipFile(io.BytesIO(), "w") as dst,
        ):
            for zi in unchanged:
                member = zipfile.ZipInfo(zi.filename, zi.date_time)  # writestr changes its info
                dst.writestr(member, src.read(zi.filename), zi.compress_type)

    return {"raw_ms": median_time(raw_copy, n) * 1e3, "zipfile_ms": median_time(rewrite, n) * 1e3,
            "members": len(book.infos), "edited": len(edited), **_peak()}  # fmt: skip


PHASES: dict[str, Callable[..., Result]] = {
    "generate": phase_generate,
    "floor": phase_floor,
    "openpyxl": phase_openpyxl,
    "calc": phase_calc,
    "calamine": phase_calamine,
    "libreoffice": phase_libreoffice,
    "zip": phase_zip,
    "steps": phase_steps,
}


# --------------------------------------------------------------------------- parent


def _child(work: Path, phase: str, n: int, **extra: Any) -> Result:
    cmd = [sys.executable, __file__, "--phase", phase, "--work", str(work), "--n", str(n)]
    cmd += ["--extra", json.dumps(extra)]
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"phase {phase} failed:\n{done.stderr[-3000:]}")
    result: Result = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _median(runs: list[Result]) -> Result:
    """Median wall time and largest peaks of repeated runs of one phase."""
    out = dict(runs[0])
    out["seconds"] = statistics.median(r["seconds"] for r in runs)
    out["self_mb"] = max(r["self_mb"] for r in runs)
    out["workers_mb"] = max(r["workers_mb"] for r in runs)
    return out


def _paired(
    work: Path, repeat: int, phases: dict[str, tuple[str, int, dict[str, Any]]]
) -> tuple[dict[str, Result], dict[str, float]]:
    """Run the phases in turn, ``repeat`` rounds, so that a load on the machine falls on all
    of them alike; each phase's median, and the median per-round ratio of each phase's rate
    to the last phase's (its baseline)."""
    rounds = [
        {label: _child(work, phase, n, **extra) for label, (phase, n, extra) in phases.items()}
        for _ in range(repeat)
    ]
    labels = list(phases)
    base = labels[-1]
    medians = {label: _median([r[label] for r in rounds]) for label in labels}
    ratios = {
        label: statistics.median(_rate(r[label]) / _rate(r[base]) for r in rounds)
        for label in labels[:-1]
    }
    return medians, ratios


def _rate(r: Result) -> float:
    return float(r["files"] / r["seconds"])


def _line(label: str, r: Result, vs: str = "") -> str:
    peak = f"peak {r['self_mb']:.0f} MB" + (
        f" (+ workers {r['workers_mb']:.0f} MB)" if r["workers_mb"] else ""
    )
    if "build_s" in r:
        vs += f"  [templates built once: {r['build_s']:.2f} s, included]"
    return (
        f"{label:<30} {r['files']:>6} files {r['seconds']:>8.2f} s {_rate(r):>8.1f}/s  {peak}{vs}"
    )


def _vs(r: Result, base: Result, name: str) -> str:
    return f"  = {_rate(r) / _rate(base):.2f}x {name}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    ap.add_argument("--baseline-n", type=int, default=100, help="openpyxl files (0: skip)")
    ap.add_argument("--lo-files", type=int, default=20, help="LibreOffice files (0: skip)")
    ap.add_argument("--memory-n", type=int, default=0, help="workbooks for peak memory (0: skip)")
    ap.add_argument("--only", nargs="*", choices=[*PHASES, "memory"], default=None)
    ap.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    ap.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--extra", default="{}", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase:
        print(json.dumps(PHASES[args.phase](args.work, args.n, **json.loads(args.extra))))
        return
    run_benchmark(args)


def run_benchmark(args: argparse.Namespace) -> None:
    """Build the template and scenarios once, run the phases, print each beside its baseline."""
    from xlcost import __version__
    from xlcost.workbooks.template import build_template

    want = set(args.only or [*PHASES, "memory"])
    workers = sorted(set(args.workers) | {1})
    with tempfile.TemporaryDirectory(prefix="xlcost-bench-") as tmp:
        work = Path(tmp)
        for n in {args.n, args.memory_n} - {0}:
            _write_scenarios(work, n)
        build_template("portable", None, work / "template.xlsx")
        print(f"xlcost {__version__} batch benchmark: N={args.n}, {os.cpu_count()} CPUs, "
              f"portable template, medians of {args.repeat} runs")  # fmt: skip
        print(f"command: python benchmarks/batch.py {' '.join(sys.argv[1:])}".rstrip())
        n, rounds = args.n, args.repeat
        gen_phases = {
            f"generate ({w} worker{'s' * (w > 1)})": (
                "generate", n, {"workers": w, "out": f"gen-w{w}"}
            )
            for w in workers
        }  # fmt: skip
        if "floor" in want:
            gen_phases["floor (deflate + atomic write)"] = ("floor", n, {})
        gen, gen_vs = _paired(work, rounds, gen_phases)
        for label, r in gen.items():
            print(_line(label, r, f"  = {gen_vs[label]:.2f}x floor" if label in gen_vs else ""))
        if "steps" in want:
            st = _child(work, "steps", n)
            parts = ", ".join(f"{k} {st[k]:.1f}" for k in STEPS)
            line = (f"one workbook (medians, ms): {st['workbook']:.1f} = cell values "
                    f"{st['cell values']:.1f} ({parts}) + filling and writing "
                    f"{st['workbook'] - st['cell values']:.1f}")  # fmt: skip
            floor = gen.get("floor (deflate + atomic write)")
            if floor is not None:
                per = floor["seconds"] / floor["files"] * 1e3
                line += (f"; the floor {per:.1f} a workbook: its Monte Carlo alone is "
                         f"{st['Monte Carlo'] / per:.2f}x the floor")  # fmt: skip
            print(line)
        if "openpyxl" in want and args.baseline_n:
            base = _child(work, "openpyxl", args.baseline_n, source=n)
            one = next(iter(gen.values()))
            print(_line("openpyxl load/set/save", base, _vs(one, base, "(generate/openpyxl)")))
        if want & {"calc", "calamine"}:
            calc_phases = {
                f"calc ({w} worker{'s' * (w > 1)})": (
                    "calc", n, {"workers": w, "books": "gen-w1"}
                )
                for w in workers
            }  # fmt: skip
            calc_phases["calamine read + evaluate_columns"] = ("calamine", n, {})
            calc, calc_vs = _paired(work, rounds, calc_phases)
            for label, r in calc.items():
                vs = f"  = {calc_vs[label]:.2f}x calamine" if label in calc_vs else ""
                print(_line(label, r, vs))
        if "libreoffice" in want and args.lo_files:
            lo = _child(work, "libreoffice", min(args.lo_files, args.n))
            print(_line("LibreOffice headless recalc", lo, "  [one soffice run, startup included]"))
        if "zip" in want:
            z = _child(work, "zip", 200)
            print(f"zip writer, the {z['members'] - z['edited']} unchanged members of "
                  f"{z['members']}: copied raw {z['raw_ms']:.2f} ms a workbook, zipfile "
                  f"re-writing them {z['zipfile_ms']:.2f} ms")  # fmt: skip
        if "memory" in want and args.memory_n:
            m = args.memory_n
            g = _child(work, "generate", m, workers=1, out="gen-mem", kind="csv")
            print(_line(f"memory: generate N={m} (CSV)", g))
            j = _child(work, "generate", m, workers=1, out="gen-mem", kind="json")
            print(_line(f"memory: generate N={m} (JSON)", j))
            c = _child(work, "calc", m, workers=1, books="gen-mem")
            print(_line(f"memory: calc N={m}", c))


if __name__ == "__main__":
    main()
