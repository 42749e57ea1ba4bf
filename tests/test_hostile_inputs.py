"""Hostile-input corpus: every case is refused (or processed) by every command that reads it.

The files are built at test time by :mod:`hostile_corpus` (nothing large is committed). Each
case goes through ``calc``, ``compare``, ``generate``, ``fill`` (as data and, for workbooks, as
template), ``validate`` and ``template --scenario``, in one driver process with a wall-clock
limit per command line. Each must end with exit code 1 or 2, print no traceback, name the
file in its error lines, take at most :data:`LIMIT` seconds, leave no output file and no
temporary file, and leave the input unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hostile_corpus as hc
import pytest

LIMIT = 5.0  # seconds per command line, for any input up to 100 MB
ROOT = Path(__file__).resolve().parent
Build = Callable[[Path, Path], None]

# name, builder(good.xlsx, destination), what an error line of the scenario-list commands
# must contain (the workbook commands must name the file)
CASES: list[tuple[str, Build, str]] = [
    ("bomb_dim.xlsx", lambda g, d: hc.bomb_sheet(g, d, dimension=True), "zip bomb refused"),
    ("bomb_nodim.xlsx", lambda g, d: hc.bomb_sheet(g, d, dimension=False), "zip bomb refused"),
    (
        "bomb_lying.xlsx",
        lambda g, d: hc.bomb_sheet(g, d, dimension=False, lie=True),
        "bomb_lying.xlsx",
    ),
    ("bomb_strings.xlsx", lambda g, d: hc.bomb_strings(g, d), "zip bomb refused"),
    ("damaged.xlsx", lambda g, d: hc.damaged_xlsx(g, d), "damaged"),
    ("digits5k.xlsx", lambda g, d: hc.long_number_cell(g, d, 5_000), "too many digits"),
    ("digits40k.xlsx", lambda g, d: hc.long_number_cell(g, d, 40_000), "digits"),
    ("xxe.xlsx", lambda g, d: hc.xxe_sheet(g, d), "xxe.xlsx"),
    ("slip.xlsx", lambda g, d: hc.zip_slip(g, d), "unsafe member path"),
    ("ole.xlsx", lambda g, d: hc.ole(d), "password-protected or legacy .xls"),
    ("legacy.xlsx", lambda g, d: hc.ole(d), "legacy .xls"),
    ("sheet.xlsx", lambda g, d: hc.ods(d), "not an Excel workbook"),
    ("fifo.xlsx", lambda g, d: hc.fifo(d), "pipe (FIFO)"),
    ("fifo.csv", lambda g, d: hc.fifo(d), "pipe (FIFO)"),
    ("fifo.yaml", lambda g, d: hc.fifo(d), "pipe (FIFO)"),
    ("zero.csv", lambda g, d: hc.dev_zero(d), "a device"),
    ("zero.yaml", lambda g, d: hc.dev_zero(d), "a device"),
    ("zero.xlsx", lambda g, d: hc.dev_zero(d), "a device"),
    ("folder.csv", lambda g, d: hc.directory(d), "directory"),
    ("loop.csv", lambda g, d: hc.symlink_loop(d), "loop.csv"),
    ("laughs.yaml", lambda g, d: hc.laughs_yaml(d), "alias"),
    ("deep.json", lambda g, d: hc.deep(d), "nested deeper"),
    ("deep.yaml", lambda g, d: hc.deep(d), "deep.yaml"),
    ("digits5k.json", lambda g, d: hc.long_number_tree(d, 5_000), "number longer than"),
    ("digits40k.json", lambda g, d: hc.long_number_tree(d, 40_000), "number longer than"),
    ("digits5k.yaml", lambda g, d: hc.long_number_tree(d, 5_000), "number longer than"),
    ("digits40k.yaml", lambda g, d: hc.long_number_tree(d, 40_000), "longer than"),
    ("digits5k.csv", lambda g, d: hc.long_number_csv(d, 5_000), "train_gpus: must be a number"),
    ("digits40k.csv", lambda g, d: hc.long_number_csv(d, 40_000), "longer than 32,767"),
    ("percent.csv", lambda g, d: hc.percent_run(d), "ctr: must be a number"),
    ("dupkeys.json", lambda g, d: hc.duplicate_keys(d), "appears twice"),
]
# every command line that reads a scenario-list-like file
COMMANDS: dict[str, Callable[[Path, Path, Path], list[str]]] = {
    "calc": lambda f, out, t: ["calc", str(f)],
    "compare": lambda f, out, t: ["compare", str(f)],
    "generate": lambda f, out, t: ["generate", str(f), "--out", str(out / "gen")],
    "fill": lambda f, out, t: ["fill", str(t), str(f), "--out", str(out / "fill")],
    "template": lambda f, out, t: ["template", "--scenario", str(f), "--out", str(out / "t.xlsx")],
}
# and the command lines that read a workbook
WORKBOOK_COMMANDS: dict[str, Callable[[Path, Path, Path], list[str]]] = {
    "validate": lambda f, out, t: ["validate", str(f)],
    "fill-template": lambda f, out, t: [
        "fill",
        str(f),
        str(t.with_suffix(".csv")),
        "--out",
        str(out / "ft"),
    ],
}


def _sha(path: Path) -> str | None:
    if path.is_symlink() or not path.is_file():
        return None
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(2**20), b""):
            h.update(block)
    return h.hexdigest()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Path]]:
    base = tmp_path_factory.mktemp("hostile")
    good = base / "good.xlsx"
    hc.good_xlsx(good)
    template = base / "template.xlsx"
    subprocess.run(
        [sys.executable, "-m", "xlcost", "template", "--out", str(template)],
        check=True,
        capture_output=True,
    )
    hc.good_csv(template.with_suffix(".csv"))
    cases = base / "cases"
    cases.mkdir()
    files = {}
    for name, build, _ in CASES:
        build(good, cases / name)
        files[name] = cases / name
    return base, template, files


def _run_driver(invocations: list[list[str]], tmpdir: Path) -> list[dict[str, object]]:
    spec = tmpdir.parent / "invocations.json"
    spec.write_text(json.dumps(invocations))
    env = {**os.environ, "TMPDIR": str(tmpdir), "TEMP": str(tmpdir), "TMP": str(tmpdir)}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "_hostile_driver.py"), str(spec), str(LIMIT)],
        capture_output=True,
        text=True,
        env=env,
        timeout=LIMIT * len(invocations) + 60,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def test_every_command_refuses_every_hostile_file(
    corpus: tuple[Path, Path, dict[str, Path]], tmp_path: Path
) -> None:
    _base, template, files = corpus
    before = {n: _sha(p) for n, p in files.items()}
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    out = tmp_path / "out"
    invocations, about = [], []
    for name, _build, expect in CASES:
        commands = dict(COMMANDS)
        if name.endswith(".xlsx"):
            commands |= WORKBOOK_COMMANDS
        for command, args in commands.items():
            invocations.append(args(files[name], out / command / name, template))
            about.append((name, command, expect))
    results = _run_driver(invocations, tmpdir)
    problems = []
    for (name, command, expect), r in zip(about, results, strict=True):
        err = str(r["stderr"])
        text = str(r["stdout"]) + err
        lines = [x for x in err.splitlines() if x.startswith("xlcost: error: ")]
        if r["timeout"] or float(r["seconds"]) > LIMIT:  # type: ignore[arg-type]
            problems.append(f"{name} {command}: took {r['seconds']:.1f} s")
        elif r["code"] not in (1, 2):
            problems.append(f"{name} {command}: exit {r['code']}: {text[:300]}")
        elif "Traceback" in text or "UNCAUGHT" in text:
            problems.append(f"{name} {command}: traceback: {text[-500:]}")
        elif not lines:
            problems.append(f"{name} {command}: no error line: {text[:300]}")
        elif name not in lines[0] or (command in COMMANDS and not any(expect in x for x in lines)):
            problems.append(f"{name} {command}: unexpected: {lines[:2]}")
    assert problems == [], "\n".join(problems)
    # the good rows of a file with one bad row are written; nothing half-written is left
    written = [p for p in out.rglob("*") if p.is_file()] if out.exists() else []
    assert [p for p in written if p.name.startswith(".") or p.suffix == ".tmp"] == []
    for p in written:
        with zipfile.ZipFile(p) as zf:
            assert zf.testzip() is None
    assert list(tmpdir.iterdir()) == []
    assert {n: _sha(p) for n, p in files.items()} == before


def test_fifo_does_not_hang_a_real_process(corpus: tuple[Path, Path, dict[str, Path]]) -> None:
    _, _, files = corpus
    for command in (["calc"], ["validate"]):
        start = time.perf_counter()
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "xlcost",
                *command,
                str(files["fifo.xlsx"]),
                str(files["fifo.csv"]),
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert time.perf_counter() - start < 10
        assert proc.returncode == 1
        assert "pipe (FIFO)" in proc.stderr and "Traceback" not in proc.stderr


def test_symlink_to_a_good_file_is_read(tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    hc.good_csv(good)
    link = tmp_path / "link.csv"
    link.symlink_to(good)
    proc = subprocess.run(
        [sys.executable, "-m", "xlcost", "calc", str(link), "-f", "csv"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 3


def test_good_rows_never_take_the_row_by_row_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """calc validates and evaluates good rows as columns, one array call per chunk: neither the
    per-row model (pydantic) nor the scalar engine sees them. (Speed itself is measured by
    benchmarks/calc_csv.py, not here.)"""
    import xlcost.scenario_columns as sc

    big = tmp_path / "rows.csv"
    hc.million_rows(big, rows=20_000)
    calls = {"rows": 0, "arrays": 0}
    real = sc.evaluate_columns

    def per_row(*args: object, **kwargs: object) -> None:
        calls["rows"] += 1
        raise AssertionError("a good row went through the row-by-row path")

    def arrays(*args: Any, **kwargs: Any) -> Any:
        calls["arrays"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(sc, "parse_record", per_row)
    monkeypatch.setattr(sc, "evaluate", per_row)
    monkeypatch.setattr(sc, "evaluate_columns", arrays)
    chunks = list(sc.calc_chunks(big, chunk_rows=8_192))
    assert sum(len(c.names) for c in chunks) == 20_000
    assert not [p for c in chunks for p in c.problems]
    assert calls == {"rows": 0, "arrays": 3}  # ⌈20,000 / 8,192⌉


def test_million_row_csv_is_processed_by_calc_and_refused_by_compare(tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    hc.million_rows(big)
    digest = _sha(big)
    proc = subprocess.run(
        [sys.executable, "-m", "xlcost", "calc", str(big), "-f", "csv"],
        capture_output=True,
        timeout=900,  # a hang guard only; benchmarks/calc_csv.py measures the speed
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.count(b"\n") == 1_000_001
    assert proc.stderr.decode().strip() == "xlcost: calc: 1000000 scenarios OK, 0 failed"
    proc = subprocess.run(
        [sys.executable, "-m", "xlcost", "compare", str(big)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1 and "more than" in proc.stderr and "Traceback" not in proc.stderr
    assert _sha(big) == digest
