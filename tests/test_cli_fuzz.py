"""No traceback anywhere: every command, driven with generated options and small files.

Each command of the CLI (found by walking the command tree, so new commands are covered too) is
run in-process with hypothesis-generated arguments: numbers such as nan, inf, 1e308 and 400
digits, junk text, choices and non-choices, and paths to small files — good, bad-row, empty,
binary, a folder, a missing file. Every run must end with exit code 0, 1 or 2 and no uncaught
exception; every stderr line is an ``xlcost…`` message, and a usage error (exit code 2) is one
line. The budget is small unless ``CI=true``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.main import get_command
from typer.testing import CliRunner

from xlcost.cli import load_commands

ROOT = Path(__file__).resolve().parents[1]
APP = load_commands()
TREE = get_command(APP)
CI = os.environ.get("CI") == "true"
EXAMPLES = 300 if CI else 8

NUMBERS = [
    "0",
    "1",
    "-1",
    "0.5",
    "2",
    "nan",
    "inf",
    "-inf",
    "1e308",
    "1e400",
    "1e-300",
    "abc",
    "",
    "9" * 400,
]
TEXT = st.one_of(
    st.sampled_from(["", "x", "-", "--", "all", "npv,roi", "=1+1"]), st.text(max_size=12)
)


def _command_paths() -> list[tuple[str, ...]]:
    """Every runnable command (leaves of the tree), as its path of names."""
    out: list[tuple[str, ...]] = []
    for name, cmd in TREE.commands.items():  # type: ignore[attr-defined]
        subs = getattr(cmd, "commands", None)
        out.extend([(name, sub) for sub in subs] if subs else [(name,)])
    return out


def _command(path: tuple[str, ...]) -> Any:
    cmd: Any = TREE
    for name in path:
        cmd = cmd.commands[name]
    return cmd


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Small files of every kind a user may pass, good and bad."""
    d = tmp_path_factory.mktemp("inputs")
    shutil.copy(ROOT / "examples" / "seed_bert_ranker.yaml", d / "good.yaml")
    shutil.copy(ROOT / "examples" / "ranker_options.csv", d / "good.csv")
    shutil.copy(ROOT / "workbook" / "xlcost_template_portable.xlsx", d / "book.xlsx")
    good = (d / "good.csv").read_text(encoding="utf-8").splitlines()
    (d / "badrow.csv").write_text("\n".join([good[0], good[1].replace(",12,", ",-3,", 1)]))
    (d / "dup.csv").write_text("\n".join([good[0], good[1], good[1]]))
    (d / "empty.csv").write_bytes(b"")
    (d / "empty.yaml").write_bytes(b"")
    (d / "binary.xlsx").write_bytes(bytes(range(256)) * 4)
    (d / "binary.yaml").write_bytes(b"\x00\xff\xfe" * 100)
    (d / "text.xlsx").write_text("not a workbook")
    (d / "folder").mkdir()
    names = [p.name for p in sorted(d.iterdir())] + ["missing.csv", "out/new.xlsx", "out"]
    return [str(d / n) for n in names]


def _value(param: Any, files: list[str]) -> st.SearchStrategy[str]:
    """Values for one option or argument: by its type, plus paths and junk."""
    desc = param.type_descriptor
    junk = st.sampled_from(files) | TEXT
    if desc.choices:
        return st.sampled_from([str(getattr(c, "value", c)) for c in desc.choices]) | junk
    if desc.is_path:
        return st.sampled_from(files) | TEXT
    annotation = str(desc.annotation)
    if "float" in annotation or "int" in annotation:
        return st.sampled_from(NUMBERS) | junk
    return junk


@st.composite
def argv(draw: st.DrawFn, path: tuple[str, ...], files: list[str]) -> list[str]:
    """One command line for the command at ``path``."""
    cmd = _command(path)
    args: list[str] = list(path)
    for param in cmd.params:
        if param.param_type_name == "argument":
            count = (
                draw(st.integers(0, 3)) if param.nargs == -1 else draw(st.sampled_from([1, 1, 0]))
            )
            args += [draw(_value(param, files)) for _ in range(count)]
        elif param.name != "help" and draw(st.booleans()):
            opt = draw(st.sampled_from(param.opts))
            if getattr(param, "is_flag", False):
                args.append(opt)
            elif param.name == "workers":  # no worker processes: keep the test fast
                args += [opt, draw(st.sampled_from(["1", "0", "-1", "x", "1e308", "9" * 20]))]
            else:
                args += [opt, draw(_value(param, files))]
    if draw(st.integers(0, 9)) == 0:
        args.insert(draw(st.integers(1, len(args))), draw(st.sampled_from(["--nope", "-z", "--"])))
    return args


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Run where default outputs (xlcost-demo/, scenario.yaml, …) may land."""
    monkeypatch.chdir(tmp_path)
    yield tmp_path


@pytest.mark.parametrize("path", _command_paths(), ids=" ".join)
def test_no_traceback_from_any_command(
    path: tuple[str, ...], files: list[str], in_tmp: Path
) -> None:
    runner = CliRunner()

    @settings(
        max_examples=EXAMPLES,
        derandomize=not CI,  # the quick run is the same every time; CI explores
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(args=argv(path, files))
    def check(args: list[str]) -> None:
        result = runner.invoke(APP, args)
        shown = f"xlcost {' '.join(args)!r}\n{result.stdout}{result.stderr}"
        error = result.exception
        assert error is None or isinstance(error, SystemExit), (
            f"{shown}{type(error).__name__}: {str(error)[:200]}"
        )
        assert result.exit_code in (0, 1, 2), shown
        assert "Traceback" not in result.stdout + result.stderr, shown
        if result.exit_code == 2:  # a usage error: one line, naming what to fix
            assert result.stderr.startswith("xlcost: error: "), shown
            assert result.stderr.count("\n") == 1, shown
        for line in filter(None, result.stderr.split("\n")):  # every message is xlcost's own
            assert line.startswith("xlcost"), shown

    check()
