"""Batch process hygiene: no temporary folders, no orphan workers, one sync per batch, chunks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xlcost.batch import CalcTask, calc_file, calc_files, run
from xlcost.cli import load_commands
from xlcost.engine import evaluate, seed_scenario

APP = load_commands()


def _scenarios(path: Path, n: int) -> Path:
    seed = seed_scenario().model_dump()
    path.write_text(json.dumps([{**seed, "name": f"s{i}", "train_gpus": i} for i in range(n)]))
    return path


def _xlcost(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "xlcost", *map(str, args)]
    return subprocess.Popen(
        cmd, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def _children(pid: int) -> set[int]:
    """The live child processes of ``pid`` (Linux /proc)."""
    out: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with open(task / "children") as fh:
            out |= {int(c) for c in fh.read().split()}
    return out


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status  # a zombie has ended; only its exit status is left


def test_generate_leaves_no_temporary_folder(tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    data = _scenarios(tmp_path / "s.json", 4)
    proc = _xlcost("generate", data, "--out", tmp_path / "out", "-j", "2", env={"TMPDIR": str(tmp)})
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert len(list((tmp_path / "out").iterdir())) == 4
    assert list(tmp.iterdir()) == []  # each worker used to leave an xlcost-template-* folder


def test_workers_end_when_the_batch_is_killed(tmp_path: Path) -> None:
    data = _scenarios(tmp_path / "s.json", 3000)
    out = tmp_path / "out"
    proc = _xlcost("generate", data, "--out", out, "--workers", "2")
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while time.monotonic() < deadline and not (len(workers) >= 2 and out.exists()):
        workers = _children(proc.pid)
        time.sleep(0.1)
    assert len(workers) >= 2, proc.communicate()[1]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(map(_alive, workers)):
        time.sleep(0.1)
    assert not any(map(_alive, workers))  # they used to stay, reparented and idle
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no half-written file


def test_a_batch_syncs_each_output_and_its_folder_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    real = os.fsync

    def counting(fd: int) -> None:
        synced.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", counting)
    data = _scenarios(tmp_path / "s.json", 3)
    result = CliRunner().invoke(APP, ["generate", str(data), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.stderr
    assert len(synced) == 3 + 1  # three files, one folder (it was two fsyncs a file)


def test_calc_of_a_chunk_matches_calc_of_each_file(tmp_path: Path) -> None:
    data = _scenarios(tmp_path / "s.json", 5)
    result = CliRunner().invoke(APP, ["generate", str(data), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.stderr
    books = sorted((tmp_path / "out").iterdir())
    (tmp_path / "out" / "bad.xlsx").write_bytes(b"PK\x03\x04 not a workbook")
    books.insert(2, tmp_path / "out" / "bad.xlsx")
    tasks = [CalcTask(b) for b in books]
    chunk = calc_files(tasks)
    assert chunk == [calc_file(t) for t in tasks] == list(run(tasks, calc_file))
    assert [o.ok for o in chunk] == [True, True, False, True, True, True]
    assert chunk[2].errors == ("bad.xlsx: truncated or damaged zip file",)
    seed = seed_scenario()
    want = [evaluate(seed.model_copy(update={"name": b.stem, "train_gpus": int(b.stem[1:])}))
            for b in books if b.stem != "bad"]  # fmt: skip
    assert [o.results[0] for o in chunk if o.ok] == want
