"""Writing output files: missing folders, existing files, --force, suffixes, permissions."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xlcost._files import OutputError, atomic_write
from xlcost.cli import load_commands
from xlcost.engine.examples import COMPARISON, SEED, example_path

APP = load_commands()
ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(APP, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_027() -> Iterator[int]:
    """Run with umask 027 (so that 0o640 is expected, not mkstemp's 0o600 nor 0o644)."""
    old = os.umask(0o027)
    try:
        yield 0o640
    finally:
        os.umask(old)


def test_template_creates_a_missing_folder(tmp_path: Path) -> None:
    out = tmp_path / "missing" / "dir" / "t.xlsx"
    code, stdout, err = run_cli("template", "--mode", "portable", "--out", out)
    assert code == 0, err
    assert out.read_bytes()[:2] == b"PK"
    assert f"Wrote {out}" in stdout
    assert [p.name for p in out.parent.iterdir()] == ["t.xlsx"]  # no temporary file left


def test_template_refuses_an_existing_file_unless_forced(tmp_path: Path) -> None:
    out = tmp_path / "t.xlsx"
    out.write_bytes(b"mine")
    code, _, err = run_cli("template", "--out", out)
    assert (code, err) == (1, f"xlcost: error: --out {out}: exists; use --force\n")
    assert out.read_bytes() == b"mine"
    code, _, err = run_cli("template", "--out", out, "--force")
    assert code == 0, err
    assert out.read_bytes()[:2] == b"PK"


@pytest.mark.parametrize("name", ["t.csv", "t.xlsm", "t"])
def test_template_output_must_be_xlsx(tmp_path: Path, name: str) -> None:
    code, _, err = run_cli("template", "--out", tmp_path / name)
    assert code == 1
    assert err == f"xlcost: error: {name}: the template is an .xlsx workbook; name it *.xlsx\n"
    assert list(tmp_path.iterdir()) == []


def test_demo_reruns_but_keeps_edited_workbooks(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    assert run_cli("demo", "--out", out)[0] == 0
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    assert len(first) == 2
    assert run_cli("demo", "--out", out)[0] == 0  # unchanged files: fine
    edited = out / "xlcost_template.xlsx"
    edited.write_bytes(b"my edits")
    code, _, err = run_cli("demo", "--out", out)
    assert code == 1
    assert err == f"xlcost: error: {edited}: exists and differs from the template; use --force\n"
    assert edited.read_bytes() == b"my edits"
    assert run_cli("demo", "--out", out, "--force")[0] == 0
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first


def test_atomic_write_refuses_and_cleans_up(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b.txt"
    atomic_write(path, b"one")
    with pytest.raises(OutputError, match=r"^b.txt: exists; use --force$"):
        atomic_write(path, b"two")
    atomic_write(path, b"three", overwrite=True)
    assert path.read_bytes() == b"three"

    def boom(out: object) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(OutputError, match=r"^c.txt: cannot write \(No space left on device\)$"):
        atomic_write(tmp_path / "a" / "c.txt", boom)
    assert sorted(p.name for p in path.parent.iterdir()) == ["b.txt"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_outputs_get_the_umask_permissions(tmp_path: Path, umask_027: int) -> None:
    template = tmp_path / "t.xlsx"
    assert run_cli("template", "--mode", "portable", "--out", template)[0] == 0
    gen = tmp_path / "gen"
    assert run_cli("generate", example_path(COMPARISON), "--out", gen)[0] == 0
    single = tmp_path / "single.xlsx"
    assert run_cli("generate", example_path(SEED), "--single", single)[0] == 0
    filled = tmp_path / "filled"
    data = ROOT / "examples" / "ranker_options.csv"
    assert run_cli("fill", template, data, "--out", filled)[0] == 0
    demo = tmp_path / "demo"
    assert run_cli("demo", "--out", demo)[0] == 0
    files = [template, single, *gen.iterdir(), *filled.iterdir(), *demo.iterdir()]
    assert len(files) == 2 + 3 + 3 + 2
    assert {f.name: _mode(f) for f in files} == {f.name: umask_027 for f in files}
