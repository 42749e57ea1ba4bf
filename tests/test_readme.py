"""The README's console examples are real: each ``$ xlcost …`` block prints what it shows."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xlcost.cli import load_commands

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = re.findall(
    r"```console\n\$ (xlcost [^\n]*)\n(.*?)```",
    (ROOT / "README.md").read_text(encoding="utf-8"),
    flags=re.S,
)


def test_readme_has_console_examples() -> None:
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize(("command", "expected"), BLOCKS, ids=[c for c, _ in BLOCKS])
def test_readme_console_block(
    command: str, expected: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Run where outputs may land (demo writes xlcost-demo/), with the repository's examples.
    monkeypatch.chdir(tmp_path)
    args = [
        str(ROOT / a) if a.startswith(("examples/", "tests/data/")) else a
        for a in shlex.split(command)[1:]
    ]
    result = CliRunner().invoke(load_commands(), args)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.rstrip() == expected.rstrip()
