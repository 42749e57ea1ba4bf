"""Nothing a user sees names the team's internal documents: no "SPEC", "§" or "seed" wording.

Users read the README files, the workbooks, the CLI's output, the data files' sources and the
docstrings; the product stands alone and calls its source "the worked example (BERT ranker) of
the cost-accounting method for AI models in e-commerce search and recommendation".
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xlcost.cli import load_commands

ROOT = Path(__file__).resolve().parents[1]
INTERNAL = re.compile(r"\bSPEC\b|§|(?i:\bthe seed\b|\bseed's|\bseed document)")
"""Internal wording (a random-number generator's "seed" parameter is fine, so only these)."""
USER_FACING = ("xlcost", "workbook", "examples", "installer", "docs", "README.md")
TEXT_SUFFIXES = {".py", ".md", ".yaml", ".yml", ".json", ".csv", ".txt", ".bas", ".toml", ".spec"}


def _text_files() -> list[Path]:
    files: list[Path] = []
    for top in USER_FACING:
        path = ROOT / top
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files += [p for p in sorted(path.rglob("*")) if p.suffix in TEXT_SUFFIXES]
    return [p for p in files if ".venv" not in p.parts and "__pycache__" not in p.parts]


def test_the_scan_covers_the_user_facing_files() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in _text_files()}
    assert {"README.md", "workbook/README.md", "xlcost/data/catalog.yaml"} <= names
    assert {"xlcost/engine/costs.py", "installer/README.md", "workbook/lite/main.py"} <= names


def test_the_pattern_catches_internal_wording() -> None:
    for bad in ("as restated in SPEC §5", "BCR (the seed's R)", "Seed §4.2", "the seed document"):
        assert INTERNAL.search(bad), bad
    assert not INTERNAL.search("random_state: the RNG seed for the simulation")


@pytest.mark.parametrize("path", _text_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_internal_wording_in(path: Path) -> None:
    hits = [
        f"{path.relative_to(ROOT)}:{i}: {line.strip()}"
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if INTERNAL.search(line)
    ]
    assert hits == []


@pytest.mark.parametrize("name", ["xlcost_template.xlsx", "xlcost_template_portable.xlsx"])
def test_no_internal_wording_in_the_shipped_workbooks(name: str) -> None:
    with zipfile.ZipFile(ROOT / "workbook" / name) as zf:
        for member in zf.namelist():
            if member.endswith(".xml"):
                text = zf.read(member).decode("utf-8")
                assert not INTERNAL.search(text), member
                rng = re.sub(r"(?i)random seed", "", text)  # the Risk sheet's Monte Carlo label
                assert not re.search(r"\bseed\b", rng, re.I), member


def test_no_internal_wording_in_the_demo_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(load_commands(), ["demo"])
    assert result.exit_code == 0, result.stderr
    assert "worked example" in result.stdout
    assert not INTERNAL.search(result.stdout)
    assert not re.search(r"\bseed\b", result.stdout, re.I)
