"""docs/functions.md is the function reference generated from the registry: up to date, complete,
and the error messages it documents are the ones the functions give."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from xlcost.functions import REGISTRY, ExcelFunction

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "functions.md"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "generate_functions", DOC.with_name("generate_functions.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reference_is_up_to_date() -> None:
    assert DOC.read_text(encoding="utf-8") == _generator().generate(), (
        "docs/functions.md is stale: run python docs/generate_functions.py"
    )


def test_every_function_and_argument_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    sections = dict(re.findall(r"^## (\w+)\n(.*?)(?=^## |\Z)", text, re.M | re.S))
    assert list(sections) == list(REGISTRY)
    gen = _generator()
    for name, fn in REGISTRY.items():
        body = sections[name]
        assert f"`={fn.signature}`" in body
        assert fn.description in body
        assert name in gen.RESULTS, f"add what {name} returns to docs/generate_functions.py"
        for arg in fn.args:
            row = next(line for line in body.splitlines() if line.startswith(f"| `{arg.name}` |"))
            default = "required" if arg.default is None else gen._default(arg)
            assert row.split(" | ")[1] == default, (name, arg.name)


def _valid(fn: ExcelFunction) -> list[Any]:
    """Arguments every check accepts."""
    if fn.name == "GPU_SPEC":
        return ["H100", "price_per_hour"]
    if fn.name == "BREAK_EVEN":  # two different results: a root exists
        return [1.0, -1.0, 2.0, 1.0]
    return ["net" if a.domain == "text" else 1.0 for a in fn.args]


_BAD = {"nonneg": -1.0, "positive": -1.0, "rate": 2.0, "util": 0.0}


@pytest.mark.parametrize("name", list(REGISTRY))
def test_documented_argument_errors_are_the_real_ones(name: str) -> None:
    fn = REGISTRY[name]
    assert not str(fn(*_valid(fn))).startswith("#")
    documented = DOC.read_text(encoding="utf-8").split(f"## {name}\n")[1].split("\n## ")[0]
    for i, arg in enumerate(fn.args):
        if arg.domain not in _BAD:
            continue
        args = _valid(fn)
        args[i] = _BAD[arg.domain]
        got = str(fn(*args))
        message = got.rsplit(", got", 1)[0]  # the documented part
        assert f"`{message}, got …`" in documented, (name, got)
        if arg.domain == "positive" and arg.zero != "#NUM!":
            args[i] = 0.0
            assert str(fn(*args)).startswith(f"{arg.zero} {arg.name} must be > 0")
