"""CLI habits: fast start-up, -h, readable metavars, full summaries, examples, completion, init,
and one-line usage errors."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.main import get_command
from typer.testing import CliRunner

from xlcost.cli import COMMANDS, load_commands
from xlcost.cli._app import summary
from xlcost.engine import evaluate
from xlcost.engine.model import GROUPS, INPUT_NAMES
from xlcost.scenario_files import load_scenarios

APP = load_commands()
EXAMPLE = str(Path(__file__).resolve().parents[1] / "examples" / "seed_bert_ranker.yaml")
ROOT = get_command(APP)
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(APP, list(args))
    return result.exit_code, result.stdout, result.stderr


def _paths() -> list[list[str]]:
    """Every command path: the root, each command, each sub-command."""
    out: list[list[str]] = [[]]
    for name, cmd in ROOT.commands.items():  # type: ignore[attr-defined]
        out.append([name])
        out.extend([name, sub] for sub in getattr(cmd, "commands", {}))
    return out


PATHS = _paths()
IDS = [" ".join(p) or "xlcost" for p in PATHS]


def test_the_command_index_matches_the_commands() -> None:
    # `xlcost --help` lists COMMANDS without importing the modules: it must say what they say.
    found = {
        name: (cmd.callback.__module__.rsplit(".", 1)[-1] if cmd.callback else "", summary(cmd))
        for name, cmd in ROOT.commands.items()  # type: ignore[attr-defined]
    }
    found["addin"] = ("addin_cmds", found["addin"][1])  # a group: its callback is Typer's
    assert found == COMMANDS, "update COMMANDS in xlcost/cli/_app.py to match the commands"


def _modules_after_help(args: list[str]) -> set[str]:
    code = (
        "import sys\nfrom xlcost.cli import app\n"
        f"try:\n    app({args!r}, prog_name='xlcost')\nexcept SystemExit:\n    pass\n"
        "print('MODULES', ' '.join(sorted(sys.modules)))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(proc.stdout.split("MODULES", 1)[1].split())


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["--version"], []])
def test_help_and_version_import_no_command_module_nor_heavy_library(args: list[str]) -> None:
    loaded = _modules_after_help(args)
    heavy = {"numpy", "pydantic", "openpyxl", "yaml", "xlcost.engine"}
    assert not {m for m in loaded if m.split(".")[0] in heavy or m.startswith("xlcost.engine")}
    assert not {m for m in loaded if m.endswith("_cmds")}


def test_running_one_command_imports_only_its_module() -> None:
    loaded = _modules_after_help(["init", "--help"])
    assert {m for m in loaded if m.endswith("_cmds")} == {"xlcost.cli.init_cmds"}


def test_root_help_lists_every_command_with_its_whole_summary() -> None:
    code, out, _ = run("-h")
    assert code == 0
    listed = dict(re.findall(r"^  (\w+) +(.+)$", out.split("Commands:")[1], flags=re.M))
    assert listed == {name: text for name, (_, text) in COMMANDS.items()}
    assert "..." not in out.split("Commands:")[1]


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_every_command_has_short_help_readable_metavars_and_an_example(path: list[str]) -> None:
    code, out, _ = run(*path, "-h")
    assert code == 0
    assert out.startswith("Usage: xlcost")
    for unreadable in ("{", "<", "list[", "range"):
        assert unreadable not in out, unreadable
    if path:  # the root's help is the command list
        assert "Examples:\n    xlcost " in out


def test_every_summary_fits_one_line_of_the_listing() -> None:
    for group in [ROOT, ROOT.commands["addin"]]:  # type: ignore[attr-defined]
        width = max(map(len, group.commands))
        for cmd in group.commands.values():
            assert len(summary(cmd)) <= 80 - 6 - width, cmd.name  # click: 78 - indent - gap


def test_shell_completion_is_on() -> None:
    code, out, _ = run("--help")
    assert code == 0 and "--install-completion" in out and "--show-completion" in out


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["calc", "x.yaml", "-f", "xml"],
            "--format must be one of table, csv, json, parquet, got 'xml'",
        ),
        (["compare", "x.yaml", "-f", "xml"], "--format must be one of table, csv, json, got 'xml'"),
        (
            ["gpus", "--flops", "nan", "--deadline-hours", "1"],
            "--flops must be a number ≥ 0, got nan",
        ),
        (["gpus", "--flops", "abc"], "--flops must be a number ≥ 0, got 'abc'"),
        (["calc", "-j", "0", "x.yaml"], "--workers must be a whole number from 1 to 256, got 0"),
        (["compare", "x.yaml", "--budget", "-1"], "--budget must be a number ≥ 0, got -1"),
        (["compare", "x.yaml", "--by", "irr"], "--by must be one of npv, roi, got 'irr'"),
        (
            ["compare", EXAMPLE, "--budget", "1e400"],
            "--budget must be a finite number ≥ 0, got inf",
        ),
        (["gpus", "--flops", "inf"], "--flops must be a finite number ≥ 0, got inf"),
        (
            ["calc", "x.yaml", "-j", "9" * 20],
            f"--workers must be a whole number from 1 to 256, got {'9' * 20}",
        ),
        (["calc"], "missing argument 'FILE...'"),
        (["nosuch"], "no such command 'nosuch'"),
        (["calc", "--nope", "x.yaml"], "no such option: --nope"),
        (["validate"], "missing argument 'WORKBOOK...'"),
    ],
)
def test_usage_errors_are_one_line(args: list[str], line: str) -> None:
    code, out, err = run(*args)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith(f"xlcost: error: {line}; see 'xlcost"), err


def test_init_writes_a_starter_file_that_loads_and_evaluates(tmp_path: Path) -> None:
    path = tmp_path / "new.yaml"
    code, out, _ = run("init", str(path))
    assert code == 0 and str(path) in out
    text = path.read_text(encoding="utf-8")
    (scenario,) = load_scenarios(path)
    # The worked example (BERT ranker) of the cost-accounting method: 480 + 10 + 100 = 590.
    r = evaluate(scenario)
    assert (r.train_cost, r.deploy_cost, r.maintain_cost, r.benefit) == (480, 10, 100, 150)
    for name in INPUT_NAMES:  # every input, set or commented out, with its comment
        assert re.search(rf"^(    # |    |  - ){name}:", text, flags=re.M), name
    for group in GROUPS:
        assert f"# ---- {group} ----" in text
    assert text.count("# Where to find these numbers:") == len(GROUPS)
    assert yaml.safe_load(text)["scenarios"][0]["name"] == scenario.name


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("mine\n")
    code, _, err = run("init", str(path))
    assert code == 1
    assert err == f"xlcost: error: {path}: exists; use --force\n"
    assert path.read_text() == "mine\n"
    code, _, _ = run("init", str(path), "--force")
    assert code == 0 and load_scenarios(path)


def test_init_defaults_to_scenario_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, _ = run("init")
    assert code == 0 and load_scenarios(tmp_path / "scenario.yaml")
