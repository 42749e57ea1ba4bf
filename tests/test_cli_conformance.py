"""One rule set for bad input, the same in every command (conformance).

Every batch command × {good file, bad row, missing file, duplicate name} reports the same way:
one stderr line per problem, ``xlcost: error: FILE row N, FIELD: reason, got X`` (a workbook
names its cell instead of a row, a missing file is ``FILE: reason``); the bad row is skipped and
the rest goes on; a summary line counts what was OK and what failed
(``xlcost: CMD: 2 scenarios OK, 1 failed``; ``compare``: ``2 options ranked, 1 left out``); the
exit code is 1 when anything failed and 0 otherwise.
"""

from __future__ import annotations

import csv
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xlcost.cli import load_commands

ROOT = Path(__file__).resolve().parents[1]
APP = load_commands()
NAMES = ["GBDT baseline (LambdaMART)", "BERT-base cross-encoder", "7B LLM reranker"]

PROBLEM = re.compile(
    r"^xlcost: error: (?P<file>[^ ,:]+)(?: (?P<where>row \d+|\S+![A-Z]+\d+))?"
    r"(?:, (?P<field>\w+))?: (?P<reason>.+?)(?:, got (?P<got>.+))?$"
)
"""One problem line: file, where in it, field, reason, the value found."""


def summary(command: str) -> re.Pattern[str]:
    """The summary line of ``command``: how many were OK and how many failed."""
    return re.compile(
        rf"^xlcost: {command}: (?P<ok>\d+) \w+ (?:OK|ranked), (?P<failed>\d+) (?:failed|left out)"
    )


@dataclass(frozen=True)
class Case:
    """A scenario file of one kind, and the problem it must report (``None``: none)."""

    name: str
    file: str
    where: str | None = None
    field: str | None = None
    failed: int = 0


CASES = [
    Case("good", "good.csv"),
    Case("bad row", "bad.csv", "row 3", "ctr", failed=1),
    Case("duplicate name", "dup.csv", "row 4", "name", failed=1),
    Case("missing file", "nosuch.csv", failed=1),
]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped comparison as CSV: as it is, with a bad row 3, with row 4 named as row 2."""
    d = tmp_path_factory.mktemp("conformance")
    with (ROOT / "examples" / "ranker_options.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["name"] for r in rows] == NAMES

    def write(name: str, changed: list[dict[str, str]]) -> None:
        with (d / name).open("w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(changed)

    write("good.csv", rows)
    write("bad.csv", [rows[0], {**rows[1], "ctr": "1.5"}, rows[2]])
    write("dup.csv", [rows[0], rows[1], {**rows[2], "name": rows[0]["name"]}])
    shutil.copy(ROOT / "workbook" / "xlcost_template_portable.xlsx", d / "template.xlsx")
    return d


COMMANDS = ["calc", "compare", "generate", "fill", "risk", "sensitivity"]
"""The commands over scenario files: all follow the rule set."""


def argv(command: str, data: Path, out: Path) -> list[str]:
    """The command line that runs ``command`` over the scenario file ``data``."""
    if command == "calc":  # a missing file among many is one failure; the others go on
        return (
            ["calc", str(data)]
            if data.exists()
            else ["calc", str(data.parent / "good.csv"), str(data)]
        )
    if command == "generate":
        return ["generate", str(data), "--out", str(out)]
    if command == "fill":
        return ["fill", str(data.parent / "template.xlsx"), str(data), "--out", str(out)]
    if command == "risk":
        return ["risk", str(data), "--draws", "500"]
    return [command, str(data)]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_reports_bad_input_the_same_way(
    command: str, case: Case, inputs: Path, tmp_path: Path
) -> None:
    data = inputs / case.file
    out = tmp_path / "out"
    result = CliRunner().invoke(APP, argv(command, data, out))
    lines = result.stderr.splitlines()
    problems = [m for m in map(PROBLEM.match, lines) if m]
    counts = [m for m in map(summary(command).match, lines) if m]

    if case.failed == 0:
        assert result.exit_code == 0, result.stderr
        assert not [line for line in lines if line.startswith("xlcost: error:")]
        return
    assert result.exit_code == 1, result.stderr
    assert len(problems) == 1, result.stderr  # one line for the one problem
    (problem,) = problems
    assert (problem["file"], problem["where"], problem["field"]) == (
        case.file,
        case.where,
        case.field,
    )
    assert counts, f"no summary line:\n{result.stderr}"
    # The good rows (and, for calc, the good file beside the missing one) go on.
    kept = {"bad row": [NAMES[0], NAMES[2]], "duplicate name": NAMES[:2]}.get(
        case.name, NAMES if command == "calc" else []
    )
    assert (int(counts[-1]["ok"]), int(counts[-1]["failed"])) == (len(kept), case.failed)
    if command in ("generate", "fill"):
        assert sorted(p.stem for p in out.iterdir()) == sorted(kept)
    else:
        for name in kept:
            assert name in result.stdout


@pytest.fixture(scope="module")
def books(inputs: Path) -> Path:
    """Workbooks: the template as it is, and with ``ctr`` 1.5 in its input cell."""
    from xlcost.workbooks.inputs import input_cells
    from xlcost.workbooks.package import fill_package

    template = inputs / "template.xlsx"
    fill_package(template, inputs / "badcell.xlsx", {input_cells(template)["ctr"]: 1.5})
    return inputs


@pytest.mark.parametrize("command", ["validate", "calc"])
@pytest.mark.parametrize(
    ("second", "where"),
    [("badcell.xlsx", "Inputs!"), ("nosuch.xlsx", None)],
    ids=["bad cell", "missing"],
)
def test_workbook_commands_report_a_bad_workbook_the_same_way(
    command: str, second: str, where: str | None, books: Path
) -> None:
    result = CliRunner().invoke(APP, [command, str(books / "template.xlsx"), str(books / second)])
    lines = result.stderr.splitlines()
    problems = [m for m in map(PROBLEM.match, lines) if m]
    counts = [m for m in map(summary(command).match, lines) if m]
    assert result.exit_code == 1, result.stderr
    assert len(problems) == 1 and problems[0]["file"] == second, result.stderr
    assert (problems[0]["where"] or "").startswith(where or ""), result.stderr
    assert where is None or problems[0]["field"] == "ctr"
    assert [(int(m["ok"]), int(m["failed"])) for m in counts] == [(1, 1)], result.stderr
